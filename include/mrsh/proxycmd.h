/*
 * ProxyCommand: the command ssh_config names runs under /bin/sh -c with
 * its stdin and stdout on one end of a socketpair; the session speaks SSH
 * over the other end. The command's stderr is shown on mrsh's stderr, one
 * line at a time, prefixed with the host. The child is reaped by the run's
 * SIGCHLD table like an exec child, and killed on abort or when it outlives
 * the close.
 */
#ifndef MRSH_PROXYCMD_H
#define MRSH_PROXYCMD_H

#include <stddef.h>

#include "mrsh/session.h"

struct run;
struct proxycmd;

/*
 * Expand %h %p %r %n %% in cmd as ssh does for ProxyCommand. Returns the
 * string, or NULL with a one-line reason in err (an unknown %x).
 */
char	*proxycmd_expand(const char *cmd, const char *host, int port,
	    const char *user, const char *name, char *err, size_t errlen);

/*
 * Start "exec CMD" under /bin/sh -c. Returns the handle and the
 * non-blocking socket in *fd (owned by the handle), or NULL with errno.
 */
struct proxycmd *proxycmd_start(struct run *, const char *label,
	    const char *cmd, int *fd);

/*
 * Close: the command's end first (wait for EOF on the socket up to
 * --close-wait, as netconn does), then wait for the child, killing it
 * with SIGTERM, then SIGKILL, when it lingers. abort_now: kill at once.
 * cb runs once the socket is closed and the child reaped.
 */
void	proxycmd_close(struct proxycmd *, int abort_now,
	    void (*cb)(enum close_how, void *), void *arg);

/* Free; a child still alive is killed and waited for. */
void	proxycmd_free(struct proxycmd *);

#endif
