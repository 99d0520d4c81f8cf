/*
 * ProxyJump channels (DESIGN.md, "Reaching a host: one dialer"): every
 * target behind a jump host is a direct-tcpip channel of that host's one
 * authenticated SSH session. A channel is bridged to a socketpair; the
 * target's own SSH session reads and writes the other end as it would a
 * TCP connection. The pump moves bytes both ways inside the run's event
 * loop, with both flow controls: it reads a channel only while that
 * target's socket takes the data (libssh2 then holds at most the channel's
 * window), and writes to a channel only what the server's window admits.
 * One slow target stops only its own channel.
 *
 * libssh2 keeps one channel open and one half-sent packet per session: the
 * pump opens one channel at a time, and a call that left a packet
 * half-sent is repeated alone before any other call on the session.
 */
#ifndef MRSH_JUMPTUN_H
#define MRSH_JUMPTUN_H

#include <stddef.h>

#include <libssh2.h>

#include "mrsh/session.h"

struct event_base;
struct jump_pump;
struct jump_tun;

/*
 * A channel's news for its owner: fd >= 0 once open (the target's end of
 * the socketpair, non-blocking; the owner closes it); fd == -1 with kind
 * and a one-line reason when the jump host refused the forward, or later
 * when the jump session broke.
 */
typedef void (*jump_tun_cb)(void *arg, int fd, enum fail_kind,
    const char *reason);

/*
 * name: the jump host for messages; wake(arg) asks the session's owner to
 * call jump_pump_run() soon (never from inside it).
 */
struct jump_pump *jump_pump_new(struct event_base *, const char *name,
	    void (*wake)(void *), void *arg);
/* The session is authenticated: channels may open. */
void	jump_pump_attach(struct jump_pump *, LIBSSH2_SESSION *);
/*
 * Open, move and close what can be without blocking. 0, or -1 when the
 * session itself failed (libssh2's last error says why).
 */
int	jump_pump_run(struct jump_pump *);
/*
 * stalled(arg) (the wake's arg), called at the end of a jump_pump_run()
 * once per open: the jump host has not answered an open for a second
 * while other channels wait behind it (libssh2 opens one at a time).
 */
void	jump_pump_on_stall(struct jump_pump *, void (*stalled)(void *));
/* 1 while an open it told of as stalled is still unanswered. */
int	jump_pump_stalled(const struct jump_pump *);
/* Channels waiting for their open to begin. */
int	jump_pump_queued(const struct jump_pump *);
/*
 * Hand the channels still queued (not yet opening) to another pump, one of
 * another session to the same host; their owners see no difference.
 * Returns how many moved (none to a pump that failed).
 */
int	jump_pump_move_queued(struct jump_pump *from, struct jump_pump *to);
/* 1 when the session's socket should be watched for reading. */
int	jump_pump_busy(const struct jump_pump *);
/*
 * ServerAliveInterval (the owner's timer): send libssh2's keepalive on
 * the session, whose socket is fd, unless that could leave it half-sent
 * among the channels' packets. 1: output is waiting that the socket has
 * not taken, a keepalive counts as queued behind it (as ssh queues it);
 * 0: *next as libssh2_keepalive_send() says (a keepalive went out now
 * when it is the whole interval), or 0 with no channel to answer for;
 * -1: the session failed.
 */
int	jump_pump_keepalive(struct jump_pump *, int fd, int *next);
/* Channels not yet closed (opening, open or closing). */
int	jump_pump_count(const struct jump_pump *);
/*
 * The session is gone: every channel's owner hears reason (once), the
 * bridges close, and the pump forgets the session (libssh2 frees the
 * channels with it).
 */
void	jump_pump_fail(struct jump_pump *, enum fail_kind, const char *reason);
void	jump_pump_free(struct jump_pump *);

/* Ask for a channel to host:port (queued until the session is up). */
struct jump_tun *jump_tun_open(struct jump_pump *, const char *host,
	    int port, jump_tun_cb, void *arg);
/* The owner is done with it: no more callbacks; closed, then freed. */
void	jump_tun_release(struct jump_tun *);

#endif
