/*
 * The dialer: one way for every transport to get a connected stream to a
 * target. Direct TCP resolves the name (netconn's evdns front), tries every
 * address in order as ssh does (a refused or unreachable address is
 * remembered and the next one tried; the last error is the one reported),
 * takes a source port from the pool and parks the session in PENDING when
 * none is free. Closing goes through netconn's discipline (remote first).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/util.h>

#include "mrsh/dialer.h"
#include "mrsh/hostlist.h"
#include "mrsh/jumptun.h"
#include "mrsh/log.h"
#include "mrsh/netconn.h"
#include "mrsh/proxycmd.h"
#include "mrsh/run.h"
#include "mrsh/session.h"
#include "mrsh/xmalloc.h"

enum dial_step {
	DIAL_NEW = 0,
	DIAL_RESOLVING,
	DIAL_CONNECTING,	/* a connect in progress, or the next address */
	DIAL_PARKED,		/* waiting for a source port */
	DIAL_READY,
	DIAL_FAILED,
	DIAL_CLOSED
};

static const char *dial_step_names[] = {
	"NEW", "RESOLVING", "CONNECTING", "PARKED", "READY", "FAILED",
	"CLOSED"
};

enum dial_kind {
	DIAL_KIND_TCP = 0,
	DIAL_KIND_COMMAND,
	DIAL_KIND_TUNNEL
};

struct dial {
	struct session		*s;
	enum dial_kind		 kind;
	struct proxycmd		*pc;		/* DIAL_KIND_COMMAND */
	struct jump_tun		*tun;		/* DIAL_KIND_TUNNEL */
	int			 no_park;	/* a jump host: never PENDING */
	char			*route;		/* the jump host, or NULL */
	struct run		*run;
	const struct dial_ops	*ops;
	void			*arg;
	enum dial_step		 step;

	struct net_resolve	*resolve;
	struct sockaddr_storage	*addr;
	socklen_t		*addrlen;
	int			 naddr;
	int			 iaddr;
	char			*err;		/* the last address's error */

	int			 fd;
	int			 src_port;
	struct event		*ev;		/* connect finished */
};

static void	dial_connect_next(struct dial *);

/*
 * The one setter of the sub-step: traces "FROM -> TO" at -vvv with the
 * caller's function and line, as session_set_state().
 */
#define dial_set_step(d, st) dial_set_step_at((d), (st), __func__, __LINE__)
static void
dial_set_step_at(struct dial *d, enum dial_step step, const char *func,
    int line)
{
	if (d->step == step)
		return;
	log_msg(LOG_DEBUG2, func, line, "%s: dial %s -> %s",
	    d->s->host->label, dial_step_names[d->step],
	    dial_step_names[step]);
	d->step = step;
}

const char *
dial_strerror(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return ("connection refused");
	case EHOSTUNREACH:
		return ("no route to host");
	case ENETUNREACH:
		return ("network is unreachable");
	case ETIMEDOUT:
		return ("connection timed out");
	case ECONNRESET:
		return ("connection reset by peer");
	case EADDRNOTAVAIL:
		return ("no free local port (cannot assign requested "
		    "address)");
	default:
		return (strerror(err));
	}
}

/* The dial failed: the trace names dial_fail()'s caller. */
#define dial_fail(d, kind, reason) \
	dial_fail_at((d), (kind), (reason), __func__, __LINE__)
static void
dial_fail_at(struct dial *d, enum fail_kind kind, const char *reason,
    const char *func, int line)
{
	dial_set_step_at(d, DIAL_FAILED, func, line);
	d->ops->failed(d->arg, kind, reason);
}

struct dial *
dial_new(struct session *s, const struct dial_ops *ops, void *arg)
{
	struct dial	*d;

	d = xcalloc(1, sizeof *d);
	d->s = s;
	d->run = s->run;
	d->ops = ops;
	d->arg = arg;
	d->fd = -1;
	return (d);
}

/* evdns answered: keep every address, in order. */
static void
dial_resolved(struct evutil_addrinfo *ai, const char *err, void *arg)
{
	struct dial		*d = arg;
	struct evutil_addrinfo	*a;
	int			 n;

	d->resolve = NULL;
	if (d->step != DIAL_RESOLVING)
		return;
	if (ai == NULL) {
		dial_fail(d, FAIL_UNREACHABLE, err != NULL ? err :
		    "name not found");
		return;
	}
	for (n = 0, a = ai; a != NULL; a = a->ai_next)
		n++;
	d->addr = xcalloc((size_t)n, sizeof *d->addr);
	d->addrlen = xcalloc((size_t)n, sizeof *d->addrlen);
	for (n = 0, a = ai; a != NULL; a = a->ai_next) {
		if (a->ai_addrlen > sizeof *d->addr)
			continue;
		memcpy(&d->addr[n], a->ai_addr, a->ai_addrlen);
		d->addrlen[n] = (socklen_t)a->ai_addrlen;
		n++;
	}
	d->naddr = n;
	d->iaddr = 0;
	dial_set_step(d, DIAL_CONNECTING);
	dial_connect_next(d);
}

void
dial_tcp(struct dial *d, const char *host, int port)
{
	dial_set_step(d, DIAL_RESOLVING);
	session_event(d->s, SEV_LOOKUP);
	/* NULL when dial_resolved has already run (numeric, /etc/hosts). */
	d->resolve = net_resolve(d->run, host, port, dial_resolved, d);
}

void
dial_tcp_addrs(struct dial *d, const struct sockaddr_storage *addrs,
    int naddr, int port)
{
	int	i;

	dial_set_step(d, DIAL_RESOLVING);
	session_event(d->s, SEV_LOOKUP);
	d->addr = xcalloc((size_t)naddr, sizeof *d->addr);
	d->addrlen = xcalloc((size_t)naddr, sizeof *d->addrlen);
	for (i = 0; i < naddr; i++) {
		d->addr[i] = addrs[i];
		if (addrs[i].ss_family == AF_INET) {
			((struct sockaddr_in *)&d->addr[i])->sin_port =
			    htons((uint16_t)port);
			d->addrlen[i] = sizeof (struct sockaddr_in);
		} else {
			((struct sockaddr_in6 *)&d->addr[i])->sin6_port =
			    htons((uint16_t)port);
			d->addrlen[i] = sizeof (struct sockaddr_in6);
		}
	}
	d->naddr = naddr;
	d->iaddr = 0;
	dial_set_step(d, DIAL_CONNECTING);
	dial_connect_next(d);
}

/* Remember why the current address failed, and move to the next one. */
static void
dial_addr_failed(struct dial *d, int err)
{
	char	a[128];

	net_addr_str((struct sockaddr *)&d->addr[d->iaddr], a, sizeof a);
	free(d->err);
	xasprintf(&d->err, "connect to %s: %s", a, dial_strerror(err));
	debug("%s: %s", d->s->host->label, d->err);
	d->iaddr++;
}

/* The connect finished (writable): next address, or ready. */
static void
dial_connect_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dial	*d = arg;
	int		 err;

	err = net_connect_error(d->fd);
	if (err == EINPROGRESS) {
		event_add(d->ev, NULL);
		return;
	}
	event_free(d->ev);
	d->ev = NULL;
	if (err != 0) {
		net_close_unconnected(d->run, d->fd, d->src_port,
		    (struct sockaddr *)&d->addr[d->iaddr],
		    d->addrlen[d->iaddr]);
		d->fd = -1;
		d->src_port = 0;
		dial_addr_failed(d, err);
		dial_connect_next(d);
		return;
	}
	dial_set_step(d, DIAL_READY);
	d->ops->ready(d->arg);
}

/* Try the current address, then the next ones, until one connects. */
static void
dial_connect_next(struct dial *d)
{
	struct session		*s = d->s;
	const struct sockaddr	*sa;
	socklen_t		 salen;
	char			 a[128], buf[256];
	int			 fd = -1, port = 0, r;

	while (d->iaddr < d->naddr) {
		sa = (struct sockaddr *)&d->addr[d->iaddr];
		salen = d->addrlen[d->iaddr];
		dial_set_step(d, DIAL_CONNECTING);
		session_event(s, SEV_DIALING);
		r = 0;
		if (d->ops->before_connect != NULL &&
		    (r = d->ops->before_connect(d->arg, sa, salen)) == -1)
			return;
		if (r == 0)
			fd = net_connect(d->run, sa, salen, &port);
		if (d->no_park && r == 0 && fd == -1 && errno == EAGAIN) {
			dial_fail(d, FAIL_LOCAL, "no free source port in the "
			    "--ports range");
			return;
		}
		if (r == 1 || (fd == -1 && errno == EAGAIN)) {
			/* start() resumes here (dial_resume). */
			dial_set_step(d, DIAL_PARKED);
			if (d->ops->parked != NULL)
				d->ops->parked(d->arg);
			session_wait_port_for(s, sa, salen);
			return;
		}
		if (fd == -1 && net_errno_is_local(errno)) {
			/* Our resource, not the host's: say so. */
			snprintf(buf, sizeof buf, NET_LOCAL_ERR_FMT,
			    strerror(errno));
			dial_fail(d, FAIL_LOCAL, buf);
			return;
		}
		if (fd == -1) {
			dial_addr_failed(d, errno);
			continue;
		}
		d->fd = fd;
		d->src_port = port;
		debug2("%s: connecting to %s from port %d", s->host->label,
		    net_addr_str(sa, a, sizeof a), port);
		d->ev = event_new(run_base(d->run), fd, EV_WRITE,
		    dial_connect_cb, d);
		if (d->ev == NULL)
			fatalx("event_new failed");
		event_add(d->ev, NULL);
		return;
	}
	dial_fail(d, FAIL_UNREACHABLE, d->err != NULL ? d->err :
	    "no address to connect to");
}

void
dial_command(struct dial *d, const char *cmd)
{
	char	buf[256];
	int	fd;

	d->kind = DIAL_KIND_COMMAND;
	dial_set_step(d, DIAL_CONNECTING);
	session_event(d->s, SEV_DIALING);
	debug("%s: ProxyCommand %s", d->s->host->label, cmd);
	if ((d->pc = proxycmd_start(d->run, d->s->host->label, cmd,
	    &fd)) == NULL) {
		snprintf(buf, sizeof buf, "ProxyCommand: cannot start: %s",
		    strerror(errno));
		dial_fail(d, FAIL_LOCAL, buf);
		return;
	}
	d->fd = fd;
	dial_set_step(d, DIAL_READY);
	d->ops->ready(d->arg);
}

/* The jump session's news about our channel. */
static void
dial_tun_cb(void *arg, int fd, enum fail_kind kind, const char *reason)
{
	struct dial	*d = arg;

	if (fd >= 0) {
		d->fd = fd;
		dial_set_step(d, DIAL_READY);
		d->ops->ready(d->arg);
		return;
	}
	if (d->step == DIAL_READY) {
		/* The jump session broke under a running target. */
		d->ops->failed(d->arg, kind, reason);
		return;
	}
	dial_fail(d, kind, reason);
}

void
dial_tunnel(struct dial *d, struct jump_pump *pump, const char *host,
    int port, const char *via)
{
	d->kind = DIAL_KIND_TUNNEL;
	dial_set_route(d, via);
	dial_set_step(d, DIAL_CONNECTING);
	session_event(d->s, SEV_DIALING);
	debug("%s: direct-tcpip channel via %s to %s:%d", d->s->host->label,
	    via, host, port);
	d->tun = jump_tun_open(pump, host, port, dial_tun_cb, d);
}

void
dial_set_no_park(struct dial *d)
{
	d->no_park = 1;
}

int
dial_explain_eof(struct dial *d, char *buf, size_t len)
{
	/*
	 * Not the exit status: the command may close its output a moment
	 * before it exits, and the message must not depend on that race.
	 * Its own stderr, shown above, says why.
	 */
	if (d->kind == DIAL_KIND_TUNNEL) {
		snprintf(buf, len, "jump host %s: the channel closed before "
		    "the target's SSH banner", d->route);
		return (1);
	}
	if (d->kind != DIAL_KIND_COMMAND)
		return (0);
	if (d->route != NULL)
		snprintf(buf, len, "jump host %s: connection closed before "
		    "the target's SSH banner", d->route);
	else
		snprintf(buf, len, "the ProxyCommand closed the connection "
		    "before the SSH banner");
	return (1);
}

void
dial_resume(struct dial *d)
{
	if (d->step == DIAL_PARKED)
		dial_connect_next(d);
}

int
dial_busy(const struct dial *d)
{
	return (d->step >= DIAL_RESOLVING && d->step <= DIAL_PARKED);
}

int
dial_fd(const struct dial *d)
{
	return (d->step == DIAL_READY ? d->fd : -1);
}

const struct sockaddr *
dial_peer(const struct dial *d, socklen_t *len)
{
	if (d->naddr == 0 || d->iaddr >= d->naddr) {
		*len = 0;
		return (NULL);
	}
	*len = d->addrlen[d->iaddr];
	return ((struct sockaddr *)&d->addr[d->iaddr]);
}

int
dial_src_port(const struct dial *d)
{
	return (d->src_port);
}

const char *
dial_route(const struct dial *d)
{
	if (d->route != NULL)
		return (d->route);
	return (d->kind == DIAL_KIND_COMMAND ? "proxycommand" : "direct");
}

void
dial_set_route(struct dial *d, const char *via)
{
	free(d->route);
	d->route = xstrdup(via);
}

void
dial_close(struct dial *d, int abort_now, net_closed_cb cb, void *arg)
{
	const struct sockaddr	*peer;
	socklen_t		 peerlen;
	enum dial_step		 was = d->step;
	int			 fd = d->fd;

	net_resolve_cancel(d->resolve);
	d->resolve = NULL;
	if (d->ev != NULL) {
		event_free(d->ev);
		d->ev = NULL;
	}
	peer = dial_peer(d, &peerlen);
	d->fd = -1;
	dial_set_step(d, DIAL_CLOSED);
	if (d->kind == DIAL_KIND_COMMAND && d->pc != NULL) {
		/* The proxycmd owns its socket: it closes and reaps. */
		proxycmd_close(d->pc, abort_now, cb, arg);
		return;
	}
	if (fd == -1) {
		cb(CLOSED_NONE, arg);
		return;
	}
	if (d->kind == DIAL_KIND_TUNNEL) {
		/*
		 * Our end of the bridge: the target's FIN comes through the
		 * jump session as the channel's EOF; wait for it as for TCP.
		 */
		net_close(d->run, fd, 0, NULL, 0, abort_now || was != DIAL_READY,
		    cb, arg);
		return;
	}
	if (was != DIAL_READY) {
		/* A connect given up while in progress: no connection. */
		net_close_unconnected(d->run, fd, d->src_port, peer, peerlen);
		d->src_port = 0;
		cb(CLOSED_NONE, arg);
		return;
	}
	net_close(d->run, fd, d->src_port, peer, peerlen, abort_now, cb, arg);
	d->src_port = 0;
}

void
dial_free(struct dial *d)
{
	if (d == NULL)
		return;
	net_resolve_cancel(d->resolve);
	if (d->ev != NULL)
		event_free(d->ev);
	jump_tun_release(d->tun);
	if (d->pc != NULL)
		proxycmd_free(d->pc);	/* closes the socket too */
	else if (d->fd >= 0)
		net_close_rst(d->fd);
	free(d->addr);
	free(d->addrlen);
	free(d->err);
	free(d->route);
	free(d);
}
