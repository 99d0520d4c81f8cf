/*
 * The dialer: how a session gets its byte stream to a target (DESIGN.md,
 * "Reaching a host: one dialer"). Every transport asks it for one connected,
 * non-blocking fd and gives it back through dial_close(), which closes it by
 * the rules of the way it was made:
 *   direct TCP: resolve (evdns; numeric addresses skip it), try every
 *     address in order as ssh does, bind a source port from the run's pool,
 *     park the session in PENDING when no port is free; one error wording
 *     for every transport ("connect to ADDR: connection refused");
 *   proxy command (ProxyCommand, ssh only): /bin/sh -c, the session runs
 *     over a socketpair to the command's stdin/stdout (proxycmd.h);
 *   jump channel (ProxyJump, ssh only): a direct-tcpip channel of the
 *     jump host's one shared session, bridged to a socketpair
 *     (jumptun.h).
 * The dialer moves the session through RESOLVING and CONNECTING; the
 * transport takes it on from SETUP when ready() is called.
 */
#ifndef MRSH_DIALER_H
#define MRSH_DIALER_H

#include <sys/socket.h>

#include "mrsh/netconn.h"
#include "mrsh/session.h"

struct dial;
struct jump_pump;

struct dial_ops {
	/* The stream is up: dial_fd() is connected (non-blocking). */
	void	(*ready)(void *arg);
	/* The host cannot be reached: kind and a one-line reason. */
	void	(*failed)(void *arg, enum fail_kind, const char *reason);
	/*
	 * Optional (rsh): called before each TCP connect to dst. Returns 0
	 * to go on, 1 when no source port is free (the dialer parks the
	 * session; start() resumes), -1 when the transport failed it.
	 */
	int	(*before_connect)(void *arg, const struct sockaddr *dst,
		    socklen_t dstlen);
	/*
	 * Optional (rsh): the dialer parks the session for a source port;
	 * give back the ports you hold so another session can pair them.
	 */
	void	(*parked)(void *arg);
};

struct dial *dial_new(struct session *, const struct dial_ops *, void *arg);

/* Direct TCP to host:port. */
void	dial_tcp(struct dial *, const char *host, int port);
/* Direct TCP to addresses already resolved (their port is replaced). */
void	dial_tcp_addrs(struct dial *, const struct sockaddr_storage *,
	    int naddr, int port);

/* ProxyCommand: cmd is already expanded; run with /bin/sh -c. */
void	dial_command(struct dial *, const char *cmd);
/*
 * ProxyJump: a channel to host:port of the jump session pump; via names
 * the jump host (the route). A refusal or a jump session that breaks
 * later comes as ops->failed with the hop named.
 */
void	dial_tunnel(struct dial *, struct jump_pump *, const char *host,
	    int port, const char *via);
/* A jump host's own connection: no port -> fail, never PENDING. */
void	dial_set_no_park(struct dial *);
/*
 * The stream ended before the protocol started: a better reason than
 * "connection closed" when there is one (the proxy command or the jump
 * host, by name, closed it). Returns 1 and fills buf, or 0.
 */
int	dial_explain_eof(struct dial *, char *buf, size_t len);

/* Resume after the session waited for a source port (ops->start again). */
void	dial_resume(struct dial *);
/* 1 while the dialer still works (resolving, connecting, parked). */
int	dial_busy(const struct dial *);

/* The stream once ready (-1 before). The dial owns it: never close it. */
int	dial_fd(const struct dial *);
/* The TCP peer (NULL / 0 for a proxy command), and the pool port (0). */
const struct sockaddr *dial_peer(const struct dial *, socklen_t *);
int	dial_src_port(const struct dial *);
/*
 * What carried the stream: "direct", "proxycommand", or the jump host's
 * name for a ProxyJump (dial_set_route): --stats, --json.
 */
const char *dial_route(const struct dial *);
void	dial_set_route(struct dial *, const char *via);

/*
 * Close the stream by the rules of its kind (remote first for TCP, as
 * netconn does; the proxy command's end closes first and the child is
 * reaped, or killed at --close-wait), then cb. abort_now: RST / SIGKILL
 * at once. A dial that never connected closes at once with CLOSED_NONE.
 */
void	dial_close(struct dial *, int abort_now, net_closed_cb, void *arg);
/* Free what is left (the fd, if dial_close was never called, is reset). */
void	dial_free(struct dial *);

/* Lower-case text for the common connect errors ("connection refused"). */
const char *dial_strerror(int err);

#endif
