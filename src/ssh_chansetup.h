/*
 * Private to the ssh transport: the channel requests ssh makes between
 * opening the session channel and "exec", in ssh's order: a pseudo-terminal
 * (pty-req) when RequestTTY or --tty/--no-tty ask for one, then the
 * variables SendEnv selects from mrsh's environment, then SetEnv's.
 */
#ifndef MRSH_SSH_CHANSETUP_H
#define MRSH_SSH_CHANSETUP_H

#include <stddef.h>

struct _LIBSSH2_CHANNEL;
struct ssh_host_config;

/* Where one channel is in its requests; zeroed before the first call. */
struct ssh_chansetup {
	int	phase;		/* 0 pty, 1 SendEnv, 2 SetEnv, 3 done */
	int	i;		/* index in environ or SetEnv */
};

/*
 * Whether a pty is requested: opt_tty is --tty (1), --no-tty (0) or
 * neither (-1, RequestTTY decides as in ssh: yes = if stdin is a
 * terminal, force = always, auto = no, since mrsh always has a command).
 */
int	ssh_chansetup_want_tty(int opt_tty, const struct ssh_host_config *);

/*
 * Make the next requests. Returns 0 when all are made, LIBSSH2_ERROR_EAGAIN
 * to be called again (same arguments) when the socket is ready, or -1 with
 * a one-line reason in err. An env request the server refuses (AcceptEnv)
 * is not an error, as in ssh; a refused pty is. With noecho the pty is
 * made with ECHO off in its terminal modes (--sudo: the password written
 * to it is never echoed back, whenever sudo gets to read it).
 */
int	ssh_chansetup_step(struct _LIBSSH2_CHANNEL *, struct ssh_chansetup *,
	    const struct ssh_host_config *, int want_tty, int noecho,
	    char *err, size_t errlen);

#endif
