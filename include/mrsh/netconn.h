/*
 * Socket plumbing shared by the network transports (ssh, rsh): asynchronous
 * name resolution (evdns; numeric addresses skip it), non-blocking connect
 * from a source port taken from the pool, and the close discipline of
 * DESIGN.md: never the first FIN on a live connection unless --close local;
 * wait for the peer's FIN (recv() == 0) until --close-wait, then RST.
 */
#ifndef MRSH_NETCONN_H
#define MRSH_NETCONN_H

#include <sys/socket.h>
#include <stddef.h>

#include "mrsh/session.h"

struct run;
struct evutil_addrinfo;

int	net_set_nonblock(int fd);
/* SO_LINGER {1,0} + close(): an RST, no TIME_WAIT on either side. */
void	net_close_rst(int fd);

/*
 * Resolve host:port (numeric addresses answer at once, before returning).
 * cb gets the address list (owned by the callee, freed after cb returns) or
 * NULL with a one-line error. Returns a handle for net_resolve_cancel(),
 * or NULL when cb has already run (numeric address, /etc/hosts, error).
 */
typedef void (*net_resolve_cb)(struct evutil_addrinfo *, const char *err,
    void *arg);
struct net_resolve *net_resolve(struct run *, const char *host, int port,
    net_resolve_cb, void *arg);
void	net_resolve_cancel(struct net_resolve *);

/*
 * Start a non-blocking TCP connect to addr. With a port pool, binds a
 * source port from it first (lo/hi of the run's --ports). Returns the fd
 * (connect in progress or done) and stores the bound port (0 if the kernel
 * picked); -1 with errno EAGAIN when the pool has no usable port (the caller
 * parks with session_wait_port_for()), other errno on failure.
 */
int	net_connect(struct run *, const struct sockaddr *, socklen_t,
	    int *src_port);

/*
 * Outcome of a connect started by net_connect(), once its fd is writable:
 * 0 connected, EINPROGRESS still under way (wait for writable again), or
 * the errno it failed with.
 */
int	net_connect_error(int fd);

/*
 * Close a socket whose connect never completed (failed, or given up while
 * in progress): there is no connection, so no close discipline. An RST in
 * case the kernel finished the handshake behind our back; the pool port is
 * free at once (no cooling) and sessions waiting for one are woken.
 */
void	net_close_unconnected(struct run *, int fd, int src_port,
	    const struct sockaddr *dst, socklen_t dstlen);

/*
 * 1 when a net_connect() errno means this machine ran out of something
 * (descriptors, socket buffers, memory) rather than that the host cannot
 * be reached: every transport reports it as FAIL_LOCAL, with
 * NET_LOCAL_ERR_FMT, not as an unreachable host.
 */
int	net_errno_is_local(int err);
#define NET_LOCAL_ERR_FMT	"cannot open a socket: %s"

/*
 * Close a connection according to the run's --close mode and call cb when
 * the fd is gone:
 *   remote: wait for recv() == 0 (discard data) up to --close-wait, then
 *           close() -> CLOSED_REMOTE_FIRST; at the deadline RST ->
 *           CLOSED_RESET;
 *   local:  close() at once -> CLOSED_LOCAL_FIRST;
 *   abort:  RST at once -> CLOSED_RESET.
 * abort_now = 1 forces an RST whatever the mode (failures, timeouts).
 * src_port/dst return the pool port (if any) with the right cooling.
 */
typedef void (*net_closed_cb)(enum close_how, void *arg);
void	net_close(struct run *, int fd, int src_port,
	    const struct sockaddr *dst, socklen_t dstlen, int abort_now,
	    net_closed_cb, void *arg);

/* Is this address this host's loopback (127/8, ::1, v4-mapped 127/8)? */
int	net_addr_is_loopback(const struct sockaddr *);

/* Format an address as "a.b.c.d:port" / "[v6]:port" into buf. */
const char *net_addr_str(const struct sockaddr *, char *buf, size_t len);

#endif
