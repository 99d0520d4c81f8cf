/*
 * Socket plumbing for the network transports (ssh, rsh): name resolution
 * through evdns (numeric addresses and /etc/hosts answer at once), a
 * non-blocking connect from a source port of the run's pool, and the close
 * discipline of DESIGN.md. With --close remote (the default) mrsh never
 * sends the first FIN: it waits for the server's FIN (recv() == 0) until
 * --close-wait, and at the deadline resets the connection (SO_LINGER {1,0})
 * so that no TIME_WAIT is left on either side. Every path that gives a
 * socket back releases its pool port and wakes sessions waiting for one.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/dns.h>
#include <event2/util.h>

#include "mrsh/log.h"
#include "mrsh/netconn.h"
#include "mrsh/options.h"
#include "mrsh/portpool.h"
#include "mrsh/run.h"
#include "mrsh/xmalloc.h"

/* connect() address conflicts retried with another pool port. */
#define NET_CONNECT_TRIES	16
/* How long a port we closed first cools towards its destination. */
#define NET_COOL_SECS		60.0
/* recv() calls per wake-up while draining a closing socket. */
#define NET_DRAIN_ROUNDS	64

struct net_resolve {
	struct evdns_getaddrinfo_request *req;
	struct event		*deadline;
	net_resolve_cb		 cb;
	void			*arg;
	int			 in_call;	/* inside net_resolve() */
	int			 cancelled;
};

struct net_closer {
	struct run		*run;
	int			 fd;
	int			 src_port;
	struct sockaddr_storage	 dst;
	socklen_t		 dstlen;
	struct event		*ev;
	double			 deadline;	/* run_now() + --close-wait */
	net_closed_cb		 cb;
	void			*arg;
};

int
net_set_nonblock(int fd)
{
	int	flags;

	if ((flags = fcntl(fd, F_GETFL)) == -1)
		return (-1);
	if (flags & O_NONBLOCK)
		return (0);
	return (fcntl(fd, F_SETFL, flags | O_NONBLOCK));
}

void
net_close_rst(int fd)
{
	struct linger	l;

	if (fd < 0)
		return;
	l.l_onoff = 1;
	l.l_linger = 0;
	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
	close(fd);
}

/* Is this address this host's loopback (127/8, ::1, v4-mapped 127/8)? */
int
net_addr_is_loopback(const struct sockaddr *sa)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	const uint8_t			*b;

	if (sa->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)sa;
		return ((ntohl(sin->sin_addr.s_addr) >> 24) == 127);
	}
	if (sa->sa_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)sa;
		b = sin6->sin6_addr.s6_addr;
		if (IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
			return (1);
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
			return (b[12] == 127);
	}
	return (0);
}

const char *
net_addr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char	a[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, a, sizeof a);
		snprintf(buf, len, "%s:%d", a, ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 =
		    (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof a);
		snprintf(buf, len, "[%s]:%d", a, ntohs(sin6->sin6_port));
	} else
		snprintf(buf, len, "(family %d)", sa->sa_family);
	return (buf);
}

/* One line for an evdns/getaddrinfo error. */
static const char *
net_resolve_errstr(int result)
{
	switch (result) {
	case EVUTIL_EAI_NONAME:
	case EVUTIL_EAI_NODATA:
		return ("name not found");
	case EVUTIL_EAI_AGAIN:
	case EVUTIL_EAI_FAIL:
		return ("name not found (no answer from the DNS servers)");
	case EVUTIL_EAI_FAMILY:
		return ("name not found (no usable address family)");
	default:
		return (evutil_gai_strerror(result));
	}
}

static void
net_resolve_free(struct net_resolve *nr)
{
	if (nr->deadline != NULL)
		event_free(nr->deadline);
	free(nr);
}

/* evdns answered (or the request was cancelled). */
static void
net_resolve_done(int result, struct evutil_addrinfo *res, void *arg)
{
	struct net_resolve	*nr = arg;

	if (result == EVUTIL_EAI_CANCEL || nr->cancelled) {
		if (res != NULL)
			evutil_freeaddrinfo(res);
		if (nr->cancelled == 2)		/* our deadline */
			nr->cb(NULL, net_resolve_errstr(EVUTIL_EAI_AGAIN),
			    nr->arg);
		if (!nr->in_call)
			net_resolve_free(nr);
		return;
	}
	nr->req = NULL;
	if (result != 0 || res == NULL)
		nr->cb(NULL, net_resolve_errstr(result != 0 ? result :
		    EVUTIL_EAI_NONAME), nr->arg);
	else
		nr->cb(res, NULL, nr->arg);
	if (res != NULL)
		evutil_freeaddrinfo(res);
	if (!nr->in_call)
		net_resolve_free(nr);
}

/*
 * No answer before most of the connect timeout has gone (a resolv.conf
 * server that cannot be reached): report "name not found" ourselves
 * rather than let the session die as a plain connect timeout.
 */
static void
net_resolve_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct net_resolve	*nr = arg;

	nr->cancelled = 2;
	if (nr->req != NULL)
		evdns_getaddrinfo_cancel(nr->req);	/* frees nr */
}

struct net_resolve *
net_resolve(struct run *run, const char *host, int port, net_resolve_cb cb,
    void *arg)
{
	struct evutil_addrinfo	 hints, *ai = NULL;
	struct evdns_base	*dns;
	struct net_resolve	*nr;
	char			 portstr[16];

	snprintf(portstr, sizeof portstr, "%d", port);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = EVUTIL_AI_NUMERICHOST | EVUTIL_AI_NUMERICSERV;

	/* Numeric addresses never go near evdns. */
	if (evutil_getaddrinfo(host, portstr, &hints, &ai) == 0) {
		cb(ai, NULL, arg);
		evutil_freeaddrinfo(ai);
		return (NULL);
	}

	if ((dns = run_dns(run)) == NULL) {
		cb(NULL, "name not found (no resolver)", arg);
		return (NULL);
	}
	hints.ai_flags = EVUTIL_AI_NUMERICSERV;
	nr = xcalloc(1, sizeof *nr);
	nr->cb = cb;
	nr->arg = arg;
	nr->in_call = 1;
	nr->req = evdns_getaddrinfo(dns, host, portstr, &hints,
	    net_resolve_done, nr);
	nr->in_call = 0;
	if (nr->req == NULL) {
		/* Answered at once (/etc/hosts) or failed: cb has run. */
		net_resolve_free(nr);
		return (NULL);
	}
	if (run_options(run)->connect_timeout > 0) {
		struct timeval	tv;
		double		secs = run_options(run)->connect_timeout * 0.9;

		nr->deadline = evtimer_new(run_base(run),
		    net_resolve_deadline_cb, nr);
		tv.tv_sec = (time_t)secs;
		tv.tv_usec = (suseconds_t)((secs - (double)tv.tv_sec) * 1e6);
		evtimer_add(nr->deadline, &tv);
	}
	return (nr);
}

void
net_resolve_cancel(struct net_resolve *nr)
{
	if (nr == NULL)
		return;
	nr->cancelled = 1;
	if (nr->req != NULL)
		evdns_getaddrinfo_cancel(nr->req);	/* frees nr */
}

int
net_errno_is_local(int err)
{
	return (err == EMFILE || err == ENFILE || err == ENOBUFS ||
	    err == ENOMEM);
}

int
net_connect(struct run *run, const struct sockaddr *sa, socklen_t salen,
    int *src_port)
{
	int	fd, port = 0, tries, save;

	*src_port = 0;
	for (tries = 0; tries < NET_CONNECT_TRIES; tries++) {
		fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (fd == -1)
			return (-1);
		if (run_pool(run) != NULL) {
			port = portpool_bind(run_pool(run), fd, sa, salen,
			    run_now());
			if (port == -1) {
				save = errno;
				close(fd);
				errno = save;
				return (-1);
			}
		}
		if (connect(fd, sa, salen) == 0 || errno == EINPROGRESS) {
			*src_port = port;
			return (fd);
		}
		save = errno;
		close(fd);	/* never connected: no FIN, no TIME_WAIT */
		if (run_pool(run) == NULL) {
			errno = save;
			return (-1);
		}
		if (save == EADDRNOTAVAIL || save == EADDRINUSE) {
			portpool_conflict(run_pool(run), port, sa, salen,
			    run_now());
			continue;
		}
		portpool_release(run_pool(run), port, sa, salen, 0, run_now());
		run_port_released(run);
		errno = save;
		return (-1);
	}
	/* Every port tried conflicts with this destination: wait. */
	errno = EAGAIN;
	return (-1);
}

/* The fd is gone: give the pool port back, then tell the caller. */
static void
net_close_finish(struct run *run, int src_port, const struct sockaddr *dst,
    socklen_t dstlen, double cool, enum close_how how, net_closed_cb cb,
    void *arg)
{
	if (run_pool(run) != NULL && src_port > 0) {
		portpool_release(run_pool(run), src_port, dst, dstlen, cool,
		    run_now());
		run_port_released(run);
	}
	if (cb != NULL)
		cb(how, arg);
}

/*
 * Read and discard what the peer still sends. Returns 1 on EOF (the
 * peer's FIN), 0 if nothing more for now, -1 on error (reset).
 */
static int
net_drain(int fd)
{
	char	buf[4096];
	ssize_t	n;
	int	i;

	for (i = 0; i < NET_DRAIN_ROUNDS; i++) {
		n = recv(fd, buf, sizeof buf, 0);
		if (n > 0)
			continue;
		if (n == 0)
			return (1);
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return (0);
		return (-1);
	}
	return (0);
}

int
net_connect_error(int fd)
{
	socklen_t	len = sizeof(int);
	int		err = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	return (err == EALREADY ? EINPROGRESS : err);
}

void
net_close_unconnected(struct run *run, int fd, int src_port,
    const struct sockaddr *dst, socklen_t dstlen)
{
	net_close_rst(fd);
	net_close_finish(run, src_port, dst, dstlen, 0, CLOSED_NONE, NULL,
	    NULL);
}

/* Readable or deadline while waiting for the peer's FIN. */
static void
net_closer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct net_closer	*nc = arg;
	struct timeval		 tv;
	enum close_how		 how;
	double			 left;
	int			 r;

	r = (what & EV_TIMEOUT) ? 0 : net_drain(nc->fd);
	left = nc->deadline - run_now();
	if (r == 0 && left > 0) {
		/*
		 * A persistent event restarts its whole timeout on every
		 * wake-up: a server that keeps sending would hold the close
		 * forever. Re-arm with what is left of --close-wait.
		 */
		tv.tv_sec = (time_t)left;
		tv.tv_usec = (suseconds_t)((left - (double)tv.tv_sec) * 1e6);
		event_add(nc->ev, &tv);
		return;
	}
	/* Out of the loop before close(): no EPOLL_CTL_DEL on a closed fd. */
	event_free(nc->ev);
	if (r == 0) {
		debug("fd %d: no FIN from the server within --close-wait, "
		    "reset", (int)fd);
		net_close_rst(nc->fd);
		how = CLOSED_RESET;
	} else {
		if (r == 1) {
			close(nc->fd);
			how = CLOSED_REMOTE_FIRST;
		} else {
			net_close_rst(nc->fd);
			how = CLOSED_RESET;
		}
	}
	net_close_finish(nc->run, nc->src_port, (struct sockaddr *)&nc->dst,
	    nc->dstlen, 0, how, nc->cb, nc->arg);
	free(nc);
}

void
net_close(struct run *run, int fd, int src_port, const struct sockaddr *dst,
    socklen_t dstlen, int abort_now, net_closed_cb cb, void *arg)
{
	struct net_closer	*nc;
	struct timeval		 tv;
	double			 wait;
	int			 r;

	if (fd < 0) {
		net_close_finish(run, src_port, dst, dstlen, 0, CLOSED_NONE,
		    cb, arg);
		return;
	}
	if (abort_now || run_options(run)->close_mode == CLOSE_ABORT) {
		net_close_rst(fd);
		net_close_finish(run, src_port, dst, dstlen, 0, CLOSED_RESET,
		    cb, arg);
		return;
	}
	if (run_options(run)->close_mode == CLOSE_LOCAL) {
		close(fd);	/* the classic first FIN: TIME_WAIT is ours */
		net_close_finish(run, src_port, dst, dstlen, NET_COOL_SECS,
		    CLOSED_LOCAL_FIRST, cb, arg);
		return;
	}

	/* Remote first: the FIN may already be here. */
	r = net_drain(fd);
	wait = run_options(run)->close_wait;
	if (r == 1 || r == -1 || wait <= 0) {
		if (r == 1)
			close(fd);
		else
			net_close_rst(fd);
		net_close_finish(run, src_port, dst, dstlen, 0,
		    r == 1 ? CLOSED_REMOTE_FIRST : CLOSED_RESET, cb, arg);
		return;
	}

	nc = xcalloc(1, sizeof *nc);
	nc->run = run;
	nc->fd = fd;
	nc->src_port = src_port;
	if (dst != NULL && dstlen <= sizeof nc->dst) {
		memcpy(&nc->dst, dst, dstlen);
		nc->dstlen = dstlen;
	}
	nc->cb = cb;
	nc->arg = arg;
	nc->deadline = run_now() + wait;
	nc->ev = event_new(run_base(run), fd, EV_READ | EV_PERSIST,
	    net_closer_cb, nc);
	if (nc->ev == NULL)
		fatalx("event_new failed");
	tv.tv_sec = (time_t)wait;
	tv.tv_usec = (suseconds_t)((wait - (double)tv.tv_sec) * 1e6);
	event_add(nc->ev, &tv);
}
