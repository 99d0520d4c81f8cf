/*
 * The rsh transport: a non-blocking rcmd(3) client driven by the run's
 * event loop. Per session: resolve, take a reserved port from the pool for
 * a listening socket (rshd connects back to it for stderr) and another for
 * the main connection, send "stderr-port\0locuser\0remuser\0command\0",
 * read the status byte, accept rshd's stderr connection (same host, reserved
 * source port, otherwise refused with an RST), then relay both streams.
 * "Same host" is the address we connected to; for a loopback server any
 * loopback address counts, since it connects back from 127.0.0.1 whatever
 * 127.x address it was reached on (a multi-homed server connecting back
 * from another interface's address is refused). Ctrl-C is forwarded as one
 * signal byte on the stderr connection, as rsh does.
 *
 * rsh carries no exit status and has no in-band EOF, so the command is sent
 * as
 *	( CMD
 *	) </dev/null; printf '\n%s%s:%d\n' __MRSH_ HEX "$?"
 * The subshell cannot wait for input, so mrsh never half-closes (that would
 * put TIME_WAIT on this machine). The marker "\n__MRSH_HEX:" (random per run,
 * never spelled out whole in the command line, so ps output cannot fake it)
 * ends the command's output: the newline before it is stripped with it, so
 * output without a trailing newline comes out byte-exact. Up to one marker
 * length of stdout is held back while it might be the start of the marker
 * (rsh_marker.c).
 * Output after the marker (a background job) is still relayed; if the
 * connections are still open --close-wait seconds after the marker, the
 * streams are declared finished and both sockets are reset. The marker needs
 * a Bourne-compatible login shell on the server; without one the output
 * still arrives and the exit status is reported unknown.
 *
 * Closing follows DESIGN.md: both sockets are read to EOF and closed after
 * rshd's FIN (net_close), so TIME_WAIT lands on the server. --close local
 * half-closes the main connection once the command started, as "rsh -n"
 * does, to reproduce the classic failure (TIME_WAIT here) in benchmarks.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/random.h>

#include <netinet/in.h>

#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/util.h>

#include "mrsh/dialer.h"
#include "mrsh/hostlist.h"
#include "mrsh/log.h"
#include "mrsh/netconn.h"
#include "mrsh/options.h"
#include "mrsh/portpool.h"
#include "mrsh/rsh_marker.h"
#include "mrsh/run.h"
#include "mrsh/session.h"
#include "mrsh/transport.h"
#include "mrsh/xmalloc.h"

#define RSH_DEFAULT_PORT	514
#define RSH_READ_SIZE		RSH_MARKER_READ_MAX
#define RSH_ERRTEXT_MAX		256
#define RSH_MARKER_RANDOM	12	/* bytes of randomness, hex encoded */

/* Per-run state: who we are and this run's exit status marker. */
struct rsh_run {
	char	*locuser;
	char	 hex[RSH_MARKER_RANDOM * 2 + 1];
	char	 pattern[RSH_MARKER_PATTERN_MAX];	/* "\n__MRSH_HEX:" */
	size_t	 patlen;
};

/* Where the rcmd handshake is. */
enum rsh_hs {
	HS_CONNECTING = 0, /* the main connect is in progress (or not begun) */
	HS_WRITING,	/* sending the request */
	HS_STATUS,	/* waiting for the status byte */
	HS_ERRTEXT,	/* status 1: reading the error text */
	HS_OK		/* status 0 seen */
};

static const char *rsh_hs_names[] = {
	"CONNECTING", "WRITING", "STATUS", "ERRTEXT", "OK"
};

struct rsh_conn {
	struct session		*s;
	struct rsh_run		*rr;
	int			 closing;	/* ops->close called */
	int			 failed;	/* we called session_fail */
	int			 paused;

	/* The address being connected to (dialer's before_connect). */
	struct sockaddr_storage	 dst;
	socklen_t		 dstlen;	/* 0 until the first address */
	struct dial		*dial;		/* the main connection */

	/* Main connection (dial_fd once connected). */
	int			 fd;
	struct event		*ev_read;
	struct event		*ev_write;
	enum rsh_hs		 hs;
	char			*req;
	size_t			 reqlen;
	size_t			 reqoff;
	char			 errtext[RSH_ERRTEXT_MAX];
	size_t			 errlen;
	int			 main_eof;

	/* stderr: listener, then the accepted connection. */
	int			 lfd;
	int			 lport;
	struct event		*ev_accept;
	int			 efd;
	struct sockaddr_storage	 epeer;
	socklen_t		 epeerlen;
	struct event		*ev_eread;
	int			 err_eof;

	/* Marker filter on stdout (rsh_marker.h). */
	struct rsh_marker	 mk;

	/* --close-wait after the marker. */
	struct event		*ev_linger;
	int			 overdue;

	/* Closing. */
	int			 close_pending;
	int			 close_issuing;
	enum close_how		 how;
};

static void	rsh_read_cb(evutil_socket_t, short, void *);
static void	rsh_eread_cb(evutil_socket_t, short, void *);
static void	rsh_finish_closed(struct rsh_conn *);
static void	rsh_update_reads(struct rsh_conn *);
static const struct rsh_marker_ops rsh_marker_ops;
static void	rsh_fail_at(struct rsh_conn *, const char *, int,
		    enum fail_kind, const char *, ...)
		    __attribute__((format(printf, 5, 6)));
#define rsh_fail(c, kind, ...) \
	rsh_fail_at((c), __func__, __LINE__, (kind), __VA_ARGS__)

/*
 * The one setter of the handshake's sub-state: traces "FROM -> TO" at -vvv
 * with the caller's function and line, as session_set_state().
 */
#define rsh_set_hs(c, st) rsh_set_hs_at((c), (st), __func__, __LINE__)
static void
rsh_set_hs_at(struct rsh_conn *c, enum rsh_hs hs, const char *func, int line)
{
	if (c->hs == hs)
		return;
	log_msg(LOG_DEBUG2, func, line, "%s: rcmd %s -> %s", c->s->host->label,
	    rsh_hs_names[c->hs], rsh_hs_names[hs]);
	c->hs = hs;
}

/* The marker filter's sub-state changes (its one setter): traced. */
static void
rsh_marker_state(void *arg, enum rsh_mk from, enum rsh_mk to,
    const char *func, int line)
{
	struct rsh_conn	*c = arg;

	log_msg(LOG_DEBUG2, func, line, "%s: marker %s -> %s",
	    c->s->host->label, rsh_marker_names[from], rsh_marker_names[to]);
}

/* Address part of a sockaddr (v4-mapped v6 as v4), for comparisons. */
static int
rsh_addr_bytes(const struct sockaddr *sa, uint8_t *out)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	if (sa->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)sa;
		memcpy(out, &sin->sin_addr, 4);
		return (4);
	}
	if (sa->sa_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			memcpy(out, sin6->sin6_addr.s6_addr + 12, 4);
			return (4);
		}
		memcpy(out, &sin6->sin6_addr, 16);
		return (16);
	}
	return (0);
}

static int
rsh_addr_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohs(((const struct sockaddr_in *)sa)->sin_port));
	if (sa->sa_family == AF_INET6)
		return (ntohs(((const struct sockaddr_in6 *)sa)->sin6_port));
	return (-1);
}

/*
 * May this stderr connection be rshd's? Same host as the server (any
 * loopback address counts as the same host: a loopback server connects back
 * from 127.0.0.1 whatever address it was reached on) and a reserved source
 * port, as rcmd(3) requires.
 */
static int
rsh_peer_ok(const struct sockaddr *server, const struct sockaddr *peer,
    char *why, size_t whylen)
{
	uint8_t	a[16], b[16];
	int	alen, blen, port;
	char	pbuf[64], sbuf[64];

	net_addr_str(peer, pbuf, sizeof pbuf);
	net_addr_str(server, sbuf, sizeof sbuf);
	port = rsh_addr_port(peer);
	if (port < 512 || port > 1023) {
		snprintf(why, whylen, "stderr connection from %s: source port "
		    "not reserved (512-1023); refused", pbuf);
		return (0);
	}
	if (net_addr_is_loopback(server) && net_addr_is_loopback(peer))
		return (1);
	alen = rsh_addr_bytes(server, a);
	blen = rsh_addr_bytes(peer, b);
	if (alen == 0 || alen != blen || memcmp(a, b, alen) != 0) {
		snprintf(why, whylen, "stderr connection from %s, not from the "
		    "server's address (%s); refused", pbuf, sbuf);
		return (0);
	}
	return (1);
}

/*
 * Fail the session and stop reading: the engine closes on its next turn.
 * The caller's function and line go to session_fail_at().
 */
static void
rsh_fail_at(struct rsh_conn *c, const char *func, int line,
    enum fail_kind kind, const char *fmt, ...)
{
	char	buf[512];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	c->failed = 1;
	if (c->ev_accept != NULL)
		event_del(c->ev_accept);
	rsh_update_reads(c);
	session_fail_at(c->s, func, line, kind, "%s", buf);
}

/* Once per run: the local user name and this run's random marker. */
static int
rsh_init(struct run *run)
{
	const struct options	*opt = run_options(run);
	struct rsh_run		*rr;
	struct passwd		*pw;
	unsigned char		 rnd[RSH_MARKER_RANDOM];
	const char		*name;
	size_t			 i, got;
	ssize_t			 n;

	rr = xcalloc(1, sizeof *rr);
	if ((pw = getpwuid(getuid())) != NULL)
		name = pw->pw_name;
	else if ((name = getenv("USER")) == NULL || *name == '\0') {
		error("rsh: cannot find the local user name (uid %u)",
		    (unsigned)getuid());
		free(rr);
		return (-1);
	}
	rr->locuser = xstrdup(name);

	for (got = 0; got < sizeof rnd; got += n) {
		n = getrandom(rnd + got, sizeof rnd - got, 0);
		if (n == -1) {
			if (errno == EINTR) {
				n = 0;
				continue;
			}
			fatal("getrandom");
		}
	}
	for (i = 0; i < sizeof rnd; i++)
		snprintf(rr->hex + 2 * i, 3, "%02x", rnd[i]);
	rr->patlen = (size_t)snprintf(rr->pattern, sizeof rr->pattern,
	    "\n%s%s:", RSH_MARKER_PREFIX, rr->hex);

	if (opt->ports_mode == PORTS_RANGE &&
	    (opt->ports_lo < 512 || opt->ports_hi > 1023))
		info("rsh: rshd accepts only source ports 512-1023; "
		    "--ports %d-%d goes beyond", opt->ports_lo, opt->ports_hi);
	if (opt->ports_mode == PORTS_EPHEMERAL)
		info("rsh: --ports ephemeral: rshd will refuse non-reserved "
		    "source ports");

	if (run_pool(run) != NULL && opt->rsh_stderr != RSH_STDERR_MERGE &&
	    opt->ports_hi - opt->ports_lo < 1) {
		error("rsh: each session needs two source ports (main and "
		    "stderr); --ports %d-%d has one (or use --rsh-stderr merge)",
		    opt->ports_lo, opt->ports_hi);
		free(rr->locuser);
		free(rr);
		return (-1);
	}

	run_set_tpriv(run, rr);
	return (0);
}

static void
rsh_cleanup(struct run *run)
{
	struct rsh_run	*rr = run_tpriv(run);

	if (rr == NULL)
		return;
	free(rr->locuser);
	free(rr);
	run_set_tpriv(run, NULL);
}

/* The session's transport state, made on the first start. */
static struct rsh_conn *
rsh_conn_get(struct session *s)
{
	struct rsh_conn	*c = s->tdata;

	if (c == NULL) {
		c = xcalloc(1, sizeof *c);
		c->s = s;
		c->rr = run_tpriv(s->run);
		c->fd = c->lfd = c->efd = -1;
		c->lport = 0;
		rsh_marker_init(&c->mk, c->rr->pattern, c->rr->patlen,
		    &rsh_marker_ops, c);
		s->tdata = c;
	}
	return (c);
}

static void
rsh_event_free(struct event **evp)
{
	if (*evp != NULL) {
		event_free(*evp);
		*evp = NULL;
	}
}

/* The request: "port\0locuser\0remuser\0wrapped command\0". */
static void
rsh_build_request(struct rsh_conn *c)
{
	struct session		*s = c->s;
	const struct options	*opt = run_options(s->run);
	const char		*cmd, *remuser;
	char			*wrapped, *req;
	char			 port[16];
	size_t			 lp, ll, lr, lw;

	cmd = opt->cmdline;
	if (cmd == NULL || *cmd == '\0')
		cmd = ":";
	xasprintf(&wrapped, "( %s\n) </dev/null; printf '\\n%%s%%s:%%d\\n' "
	    "%s %s \"$?\"", cmd, RSH_MARKER_PREFIX, c->rr->hex);
	if (opt->rsh_stderr == RSH_STDERR_MERGE)
		snprintf(port, sizeof port, "0");
	else
		snprintf(port, sizeof port, "%d", c->lport);
	remuser = s->user != NULL ? s->user : c->rr->locuser;

	lp = strlen(port) + 1;
	ll = strlen(c->rr->locuser) + 1;
	lr = strlen(remuser) + 1;
	lw = strlen(wrapped) + 1;
	req = xmalloc(lp + ll + lr + lw);
	memcpy(req, port, lp);
	memcpy(req + lp, c->rr->locuser, ll);
	memcpy(req + lp + ll, remuser, lr);
	memcpy(req + lp + ll + lr, wrapped, lw);
	free(wrapped);

	free(c->req);
	c->req = req;
	c->reqlen = lp + ll + lr + lw;
	c->reqoff = 0;
}

/* Enable or disable the read events per the pause flag and the state. */
static void
rsh_update_reads(struct rsh_conn *c)
{
	if (c->closing)
		return;
	if (c->ev_read != NULL) {
		if (c->failed || c->paused || c->main_eof || c->hs == HS_CONNECTING ||
		    c->hs == HS_WRITING)
			event_del(c->ev_read);
		else
			event_add(c->ev_read, NULL);
	}
	if (c->ev_eread != NULL) {
		if (c->failed || c->paused || c->err_eof)
			event_del(c->ev_eread);
		else
			event_add(c->ev_eread, NULL);
	}
}

/* Both the status byte and (unless merged) the stderr connection: RUNNING. */
static void
rsh_maybe_running(struct rsh_conn *c)
{
	struct session	*s = c->s;

	if (c->closing || c->hs != HS_OK)
		return;
	if (run_options(s->run)->rsh_stderr != RSH_STDERR_MERGE && c->efd == -1)
		return;
	session_event(s, SEV_COMMAND_STARTED);
}

/* --close-wait after the marker ran out: finish the streams, then RST. */
static void
rsh_linger_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rsh_conn	*c = arg;
	struct session	*s = c->s;

	if (c->closing)
		return;
	debug("%s: connection still open %.1fs after the exit status; "
	    "resetting", s->host->label, run_options(s->run)->close_wait);
	c->overdue = 1;
	if (!s->eof[STREAM_STDOUT]) {
		c->main_eof = 1;
		session_eof(s, STREAM_STDOUT);
	}
	if (c->closing)
		return;
	if (!s->eof[STREAM_STDERR]) {
		c->err_eof = 1;
		session_eof(s, STREAM_STDERR);
	}
	if (!c->closing)
		rsh_update_reads(c);
}

/* The marker filter's output on stdout, unless closing started meanwhile. */
static int
rsh_out(void *arg, const char *buf, size_t len)
{
	struct rsh_conn	*c = arg;

	if (len > 0 && !c->closing)
		session_output(c->s, STREAM_STDOUT, buf, len);
	return (c->closing ? -1 : 0);
}

/* The marker's digits are complete: report the exit status (-1: bad). */
static int
rsh_marker_status(void *arg, int code)
{
	struct rsh_conn	*c = arg;
	struct session	*s = c->s;
	struct timeval	 tv;
	double		 w;

	if (code < 0)
		session_exit_unknown(s, "exit status marker is malformed");
	else
		session_exit_status(s, code);
	if (c->closing)
		return (-1);
	if (c->ev_linger == NULL) {
		w = run_options(s->run)->close_wait;
		if (w < 0)
			w = 0;
		c->ev_linger = evtimer_new(run_base(s->run), rsh_linger_cb, c);
		tv.tv_sec = (time_t)w;
		tv.tv_usec = (suseconds_t)((w - (double)tv.tv_sec) * 1e6);
		evtimer_add(c->ev_linger, &tv);
	}
	return (0);
}

static const struct rsh_marker_ops rsh_marker_ops = {
	.out = rsh_out,
	.status = rsh_marker_status,
	.state = rsh_marker_state,
};

/* The main connection reached EOF: flush, settle the exit status. */
static void
rsh_main_eof(struct rsh_conn *c)
{
	struct session	*s = c->s;

	c->main_eof = 1;
	if (rsh_marker_eof(&c->mk) == -1)
		return;
	if (!session_exit_known(s)) {
		if (c->mk.mk == MK_CODE)
			session_exit_unknown(s, "exit status marker cut short");
		else
			session_exit_unknown(s, "no exit status marker (is the "
			    "remote login shell a Bourne shell?)");
		if (c->closing)
			return;
	}
	if (run_options(s->run)->rsh_stderr == RSH_STDERR_MERGE &&
	    !c->err_eof) {
		c->err_eof = 1;
		session_eof(s, STREAM_STDERR);
		if (c->closing)
			return;
	}
	if (!s->eof[STREAM_STDOUT])
		session_eof(s, STREAM_STDOUT);
	if (!c->closing)
		rsh_update_reads(c);
}

/* Status 1: the rest of the line is rshd's reason. */
static void
rsh_fail_errtext(struct rsh_conn *c)
{
	enum fail_kind	 kind = FAIL_PROTOCOL;

	c->errtext[c->errlen] = '\0';
	while (c->errlen > 0 && (c->errtext[c->errlen - 1] == '\r' ||
	    c->errtext[c->errlen - 1] == ' '))
		c->errtext[--c->errlen] = '\0';
	if (strstr(c->errtext, "denied") != NULL ||
	    strstr(c->errtext, "mismatch") != NULL ||
	    strstr(c->errtext, "too long") != NULL)
		kind = FAIL_AUTH;
	rsh_fail(c, kind, "rshd: %s", c->errlen > 0 ? c->errtext :
	    "(no reason given)");
}

/* Handshake bytes; returns how many of buf were consumed. */
static size_t
rsh_handshake_input(struct rsh_conn *c, const char *buf, size_t len)
{
	size_t	i;

	if (c->hs == HS_STATUS) {
		if (buf[0] == 0) {
			rsh_set_hs(c, HS_OK);
			/*
			 * --close local reproduces the classic "rsh -n":
			 * stdin EOF as a TCP half-close, our FIN first, so
			 * TIME_WAIT lands here. Never done otherwise.
			 */
			if (run_options(c->s->run)->close_mode == CLOSE_LOCAL &&
			    shutdown(c->fd, SHUT_WR) == -1)
				debug("%s: shutdown: %s", c->s->host->label,
				    strerror(errno));
			if (run_options(c->s->run)->rsh_stderr ==
			    RSH_STDERR_MERGE && !c->err_eof) {
				c->err_eof = 1;
				session_eof(c->s, STREAM_STDERR);
				if (c->closing)
					return (len);
			}
			rsh_maybe_running(c);
			return (1);
		}
		if (buf[0] != 1) {
			rsh_fail(c, FAIL_PROTOCOL, "bad rcmd status "
			    "byte 0x%02x from rshd", (unsigned char)buf[0]);
			return (len);
		}
		rsh_set_hs(c, HS_ERRTEXT);
		c->errlen = 0;
		return (1);
	}
	/* HS_ERRTEXT */
	for (i = 0; i < len; i++) {
		if (buf[i] == '\n') {
			rsh_fail_errtext(c);
			return (len);
		}
		if (c->errlen < sizeof c->errtext - 1)
			c->errtext[c->errlen++] = buf[i];
	}
	return (len);
}

/* Main connection readable: the status byte (and reason), then stdout. */
static void
rsh_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rsh_conn	*c = arg;
	char		*buf;
	ssize_t		 n;
	size_t		 used;

	if (c->closing || c->failed)
		return;
	/* Read straight behind the held-back tail. */
	buf = rsh_marker_readbuf(&c->mk);
	n = recv(c->fd, buf, RSH_READ_SIZE, 0);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		rsh_fail(c, c->hs == HS_OK ? FAIL_PROTOCOL :
		    FAIL_UNREACHABLE, "read: %s", strerror(errno));
		return;
	}
	if (n == 0) {
		if (c->hs == HS_STATUS) {
			rsh_fail(c, FAIL_PROTOCOL, "rshd closed the "
			    "connection before the status byte");
			return;
		}
		if (c->hs == HS_ERRTEXT) {
			rsh_fail_errtext(c);
			return;
		}
		event_del(c->ev_read);
		rsh_main_eof(c);
		return;
	}

	used = 0;
	while (used < (size_t)n && c->hs != HS_OK) {
		used += rsh_handshake_input(c, buf + used, n - used);
		if (c->closing || c->failed)
			return;
	}
	if (used < (size_t)n)
		rsh_marker_feed(&c->mk, buf + used, n - used);
}

/* stderr connection readable. */
static void
rsh_eread_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rsh_conn	*c = arg;
	char		 buf[RSH_READ_SIZE];
	ssize_t		 n;

	if (c->closing || c->failed)
		return;
	n = recv(c->efd, buf, sizeof buf, 0);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		rsh_fail(c, FAIL_PROTOCOL, "read stderr connection: %s",
		    strerror(errno));
		return;
	}
	if (n == 0) {
		event_del(c->ev_eread);
		c->err_eof = 1;
		if (!c->s->eof[STREAM_STDERR])
			session_eof(c->s, STREAM_STDERR);
		return;
	}
	session_output(c->s, STREAM_STDERR, buf, (size_t)n);
}

/* rshd connected back for stderr: check it, then stop listening. */
static void
rsh_accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct rsh_conn		*c = arg;
	struct session		*s = c->s;
	struct sockaddr_storage	 peer;
	socklen_t		 plen = sizeof peer;
	char			 why[256];
	int			 fd;

	if (c->closing)
		return;
	fd = accept4(c->lfd, (struct sockaddr *)&peer, &plen,
	    SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
		    errno == ECONNABORTED)
			return;
		rsh_fail(c, FAIL_LOCAL, "accept stderr connection: %s",
		    strerror(errno));
		return;
	}
	if (!rsh_peer_ok((struct sockaddr *)&c->dst, (struct sockaddr *)&peer,
	    why, sizeof why)) {
		net_close_rst(fd);
		rsh_fail(c, FAIL_PROTOCOL, "%s", why);
		return;
	}

	/*
	 * The accepted socket keeps the listener's port; the listener goes
	 * now (nothing pending on it: no TIME_WAIT).
	 */
	rsh_event_free(&c->ev_accept);
	close(c->lfd);
	c->lfd = -1;
	c->efd = fd;
	memcpy(&c->epeer, &peer, plen);
	c->epeerlen = plen;
	debug2("%s: stderr connection from %s", s->host->label,
	    net_addr_str((struct sockaddr *)&peer, why, sizeof why));
	c->ev_eread = event_new(run_base(s->run), fd, EV_READ | EV_PERSIST,
	    rsh_eread_cb, c);
	rsh_update_reads(c);
	rsh_maybe_running(c);
}

/* Connect finished, or the request can be written further. */
static void
rsh_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rsh_conn	*c = arg;
	ssize_t		 n;

	if (c->closing)
		return;
	while (c->reqoff < c->reqlen) {
		n = send(c->fd, c->req + c->reqoff, c->reqlen - c->reqoff,
		    MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR) {
				event_add(c->ev_write, NULL);
				return;
			}
			rsh_fail(c, FAIL_UNREACHABLE, "send rcmd request: %s",
			    strerror(errno));
			return;
		}
		c->reqoff += (size_t)n;
	}
	free(c->req);
	c->req = NULL;
	rsh_set_hs(c, HS_STATUS);
	rsh_update_reads(c);
}

/*
 * Give back the listener's port (it never carried a connection of its own).
 * wake = 0 when this very session is about to wait for a port anyway:
 * waking the parked sessions for a port that cannot make a pair would only
 * spin the loop.
 */
static void
rsh_listener_release(struct rsh_conn *c, int wake)
{
	struct run	*run = c->s->run;

	rsh_event_free(&c->ev_accept);
	if (c->lfd != -1) {
		close(c->lfd);
		c->lfd = -1;
	}
	if (c->lport > 0 && run_pool(run) != NULL && c->efd == -1) {
		portpool_release(run_pool(run), c->lport,
		    (struct sockaddr *)&c->dst, c->dstlen, 0, run_now());
		c->lport = 0;
		if (wake)
			run_port_released(run);
	}
}

/*
 * Listen for the stderr connection on a pool port (any address): 0, 1 when
 * no port is free, -1 failed.
 */
static int
rsh_listen(struct rsh_conn *c)
{
	struct session		*s = c->s;
	struct run		*run = s->run;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	int			 fd, port, on = 1;

	fd = socket(c->dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		rsh_fail(c, FAIL_LOCAL, NET_LOCAL_ERR_FMT, strerror(errno));
		return (-1);
	}
	if (run_pool(run) != NULL) {
		port = portpool_bind(run_pool(run), fd,
		    (struct sockaddr *)&c->dst, c->dstlen, run_now());
		if (port == -1) {
			close(fd);
			if (errno == EAGAIN)
				return (1);	/* the dialer parks */
			rsh_fail(c, FAIL_LOCAL, "bind stderr listener: %s",
			    strerror(errno));
			return (-1);
		}
	} else {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
		memset(&ss, 0, sizeof ss);
		ss.ss_family = c->dst.ss_family;
		sslen = ss.ss_family == AF_INET6 ?
		    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
		if (bind(fd, (struct sockaddr *)&ss, sslen) == -1) {
			rsh_fail(c, FAIL_LOCAL, "bind stderr listener: %s",
			    strerror(errno));
			close(fd);
			return (-1);
		}
		sslen = sizeof ss;
		if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == -1) {
			rsh_fail(c, FAIL_LOCAL, "getsockname: %s",
			    strerror(errno));
			close(fd);
			return (-1);
		}
		port = rsh_addr_port((struct sockaddr *)&ss);
	}
	c->lfd = fd;
	c->lport = port;
	if (listen(fd, 1) == -1) {
		rsh_fail(c, FAIL_LOCAL, "listen: %s", strerror(errno));
		return (-1);
	}
	c->ev_accept = event_new(run_base(run), fd, EV_READ | EV_PERSIST,
	    rsh_accept_cb, c);
	event_add(c->ev_accept, NULL);
	return (0);
}

/*
 * Dialer: about to connect to dst. The stderr listener comes first, on a
 * pool port towards the same destination (its failures are part of
 * connecting). 0: go on; 1: no port, park; -1: failed.
 */
static int
rsh_before_connect(void *arg, const struct sockaddr *dst, socklen_t dstlen)
{
	struct rsh_conn	*c = arg;

	if (c->closing)
		return (-1);
	rsh_listener_release(c, 0);
	memcpy(&c->dst, dst, dstlen);
	c->dstlen = dstlen;
	if (run_options(c->s->run)->rsh_stderr == RSH_STDERR_MERGE)
		return (0);
	return (rsh_listen(c));
}

/* Dialer: parked for a port; the listener's port is no use alone. */
static void
rsh_parked(void *arg)
{
	rsh_listener_release(arg, 0);
}

static void
rsh_dial_failed(void *arg, enum fail_kind kind, const char *reason)
{
	rsh_fail(arg, kind, "%s", reason);
}

/* Dialer: the main connection is up; send the rcmd request. */
static void
rsh_dial_ready(void *arg)
{
	struct rsh_conn	*c = arg;
	struct session	*s = c->s;
	struct run	*run = s->run;

	if (c->closing)
		return;
	c->fd = dial_fd(c->dial);
	debug2("%s: connected from port %d (stderr port %d)", s->host->label,
	    dial_src_port(c->dial), c->lport);
	c->ev_read = event_new(run_base(run), c->fd, EV_READ | EV_PERSIST,
	    rsh_read_cb, c);
	c->ev_write = event_new(run_base(run), c->fd, EV_WRITE, rsh_write_cb,
	    c);
	if (c->ev_read == NULL || c->ev_write == NULL)
		fatalx("event_new failed");
	session_event(s, SEV_CONNECTED);
	rsh_set_hs(c, HS_WRITING);
	rsh_build_request(c);
	rsh_write_cb(c->fd, EV_WRITE, c);
}

static const struct dial_ops rsh_dial_ops = {
	.ready = rsh_dial_ready,
	.failed = rsh_dial_failed,
	.before_connect = rsh_before_connect,
	.parked = rsh_parked,
};

/* Start, or resume after waiting for a port (the dialer keeps its place). */
static void
rsh_start(struct session *s)
{
	struct rsh_conn		*c = rsh_conn_get(s);
	const struct options	*opt = run_options(s->run);
	int			 port;

	if (c->closing)
		return;
	if (c->dial != NULL) {
		dial_resume(c->dial);
		return;
	}
	port = s->host->port;
	if (port == 0)
		port = opt->port;
	if (port == 0)
		port = RSH_DEFAULT_PORT;
	c->dial = dial_new(s, &rsh_dial_ops, c);
	dial_tcp(c->dial, s->host->name, port);
}

/* One socket is gone; when all are, report how. */
static void
rsh_net_closed_cb(enum close_how how, void *arg)
{
	struct rsh_conn	*c = arg;

	/* Worst of the connections: RESET > LOCAL_FIRST > REMOTE_FIRST. */
	if (how == CLOSED_RESET || (how == CLOSED_LOCAL_FIRST &&
	    c->how != CLOSED_RESET) || (how == CLOSED_REMOTE_FIRST &&
	    c->how == CLOSED_NONE))
		c->how = how;
	c->close_pending--;
	if (c->close_pending == 0 && !c->close_issuing)
		rsh_finish_closed(c);
}

static void
rsh_finish_closed(struct rsh_conn *c)
{
	session_closed(c->s, c->how);
}

/*
 * Release everything: the listener, then both connections through
 * net_close (remote first, or RST when aborting or overdue).
 */
static void
rsh_close(struct session *s, int abort_now)
{
	struct rsh_conn	*c = s->tdata;
	struct run	*run = s->run;
	int		 efd, rst;

	if (c == NULL) {
		session_closed(s, CLOSED_NONE);
		return;
	}
	if (c->closing)
		return;
	c->closing = 1;
	rsh_event_free(&c->ev_linger);
	rsh_event_free(&c->ev_read);
	rsh_event_free(&c->ev_write);
	rsh_event_free(&c->ev_eread);
	rsh_listener_release(c, 1);
	free(c->req);
	c->req = NULL;

	rst = abort_now || c->overdue;
	efd = c->efd;
	c->fd = c->efd = -1;
	c->how = CLOSED_NONE;
	c->close_issuing = 1;
	c->close_pending = 1 + (efd != -1);
	/*
	 * The stderr socket shares the listener's port; net_close gives it
	 * back to the pool with the cooling its close calls for.
	 */
	if (efd != -1)
		net_close(run, efd, c->lport, (struct sockaddr *)&c->epeer,
		    c->epeerlen, rst, rsh_net_closed_cb, c);
	/* The main connection: the dialer knows whether it ever connected. */
	if (c->dial != NULL)
		dial_close(c->dial, rst, rsh_net_closed_cb, c);
	else
		c->close_pending--;
	c->close_issuing = 0;
	if (c->close_pending == 0)
		rsh_finish_closed(c);
}

static void
rsh_set_paused(struct session *s, int paused)
{
	struct rsh_conn	*c = s->tdata;

	if (c == NULL)
		return;
	debug2("%s: output %s", s->host->label, paused ? "paused" : "resumed");
	c->paused = paused;
	rsh_update_reads(c);
}

/* Ctrl-C: rshd reads one byte on the stderr connection and signals. */
static void
rsh_signal(struct session *s, int signo)
{
	struct rsh_conn	*c = s->tdata;
	unsigned char	 b = (unsigned char)signo;

	if (c == NULL || c->closing || c->efd == -1)
		return;
	if (send(c->efd, &b, 1, MSG_NOSIGNAL) != 1)
		debug("%s: cannot forward signal %d: %s", s->host->label,
		    signo, strerror(errno));
}

static void
rsh_free(struct session *s)
{
	struct rsh_conn	*c = s->tdata;

	if (c == NULL)
		return;
	rsh_event_free(&c->ev_linger);
	rsh_event_free(&c->ev_read);
	rsh_event_free(&c->ev_write);
	rsh_event_free(&c->ev_eread);
	rsh_event_free(&c->ev_accept);
	free(c->req);
	dial_free(c->dial);
	free(c);
	s->tdata = NULL;
}

const struct transport_ops transport_rsh = {
	.name = "rsh",
	.fds_per_session = 3,
	.ports_per_session = 2,
	.init = rsh_init,
	.start = rsh_start,
	.close = rsh_close,
	.set_paused = rsh_set_paused,
	.signal = rsh_signal,
	.free = rsh_free,
	.cleanup = rsh_cleanup,
};
