/*
 * ProxyJump channels: direct-tcpip channels of one jump session, each
 * bridged to a socketpair that a target's SSH session uses as its stream.
 * See jumptun.h for the flow control and libssh2's one-at-a-time rules.
 *
 * A channel closes when its target is done with it: the target's end
 * reaches EOF (its session closed the socketpair after the server's EOF,
 * which the bridge passed on as a shutdown), the pump sends the channel
 * EOF and frees the channel. No TCP connection of ours is involved: the
 * jump session's own connection is closed by its owner, last.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <libssh2.h>

#include "mrsh/jumptun.h"
#include "mrsh/log.h"
#include "mrsh/xmalloc.h"

#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif

/* Bytes held per channel and direction (one SSH packet's worth). */
#define JT_BUF		(32 * 1024)
/* Bytes moved for one channel per run before the others get a turn. */
#define JT_FAIR		(256 * 1024)
/*
 * Seconds an open may go unanswered (the jump host's connect to the
 * target hangs) before the channels queued behind it are offered to
 * another session: libssh2 opens one channel at a time per session.
 */
#define JT_STALL	1.0

enum jt_state {
	JT_QUEUED = 0,
	JT_OPENING,
	JT_OPEN,
	JT_DONE
};

/* The call that left a packet half-sent: repeated alone. */
enum jt_pend {
	JP_NONE = 0,
	JP_OPEN,
	JP_PULL,
	JP_READ,
	JP_WRITE,
	JP_EOF,
	JP_FREE,
	JP_KEEPALIVE
};

struct jump_tun {
	TAILQ_ENTRY(jump_tun)	 entry;
	struct jump_pump	*p;
	char			*host;
	int			 port;
	enum jt_state		 st;
	LIBSSH2_CHANNEL		*ch;
	int			 fd;		/* our end of the socketpair */
	struct event		*ev_rd;
	struct event		*ev_wr;
	int			 rd_ready;
	int			 wr_ready;
	char			*up;		/* target -> channel */
	size_t			 uplen, upoff;
	char			*down;		/* channel -> target */
	size_t			 downlen, downoff;
	int			 fd_eof;	/* target's end closed */
	int			 eof_sent;	/* channel EOF sent */
	int			 chan_eof;	/* channel EOF received */
	int			 shut_wr;	/* passed on to the target */
	int			 released;
	jump_tun_cb		 cb;
	void			*arg;
	double			 opening_at;	/* when its open began */
};

TAILQ_HEAD(jump_tun_q, jump_tun);

struct jump_pump {
	struct event_base	*base;
	char			*name;
	LIBSSH2_SESSION		*ssh;
	struct jump_tun_q	 tuns;
	struct jump_tun		*opening;
	enum jt_pend		 pend;
	struct jump_tun		*pend_tun;
	int			 again;		/* fairness: run once more */
	struct event		*ev_tick;	/* see jump_pump_run */
	int			 failed;
	void			(*wake)(void *);
	void			*warg;
	void			(*stalled)(void *);
	int			 stall_told;	/* for the open in progress */
};

static double
jt_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + ts.tv_nsec / 1e9);
}

static const char *jt_pend_names[] = {
	"NONE", "OPEN", "PULL", "READ", "WRITE", "EOF", "FREE", "KEEPALIVE"
};

static void
jt_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct jump_pump	*p = arg;

	p->wake(p->warg);
}

struct jump_pump *
jump_pump_new(struct event_base *base, const char *name,
    void (*wake)(void *), void *arg)
{
	struct jump_pump	*p;

	p = xcalloc(1, sizeof *p);
	p->base = base;
	p->name = xstrdup(name);
	TAILQ_INIT(&p->tuns);
	p->wake = wake;
	p->warg = arg;
	p->ev_tick = evtimer_new(base, jt_tick_cb, p);
	if (p->ev_tick == NULL)
		fatalx("event_new failed");
	return (p);
}

void
jump_pump_attach(struct jump_pump *p, LIBSSH2_SESSION *ssh)
{
	p->ssh = ssh;
}

static int
jt_blocked_out(struct jump_pump *p)
{
	return ((libssh2_session_block_directions(p->ssh) &
	    LIBSSH2_SESSION_BLOCK_OUTBOUND) != 0);
}

/* An error that ends one channel, not the whole session. */
static int
jt_channel_error(int rc)
{
	switch (rc) {
	case LIBSSH2_ERROR_CHANNEL_CLOSED:
	case LIBSSH2_ERROR_CHANNEL_EOF_SENT:
	case LIBSSH2_ERROR_CHANNEL_FAILURE:
	case LIBSSH2_ERROR_CHANNEL_UNKNOWN:
	case LIBSSH2_ERROR_CHANNEL_WINDOW_EXCEEDED:
	case LIBSSH2_ERROR_CHANNEL_PACKET_EXCEEDED:
	case LIBSSH2_ERROR_CHANNEL_OUTOFORDER:
		return (1);
	default:
		return (0);
	}
}

/* EAGAIN from a call: remember it when it left a packet half-sent. */
static void
jt_eagain(struct jump_pump *p, struct jump_tun *t, enum jt_pend what)
{
	if (jt_blocked_out(p)) {
		p->pend = what;
		p->pend_tun = t;
	} else if (p->pend_tun == t && p->pend == what)
		p->pend = JP_NONE;
}

static void
jt_done_pend(struct jump_pump *p, struct jump_tun *t, enum jt_pend what)
{
	if (p->pend == what && p->pend_tun == t) {
		p->pend = JP_NONE;
		p->pend_tun = NULL;
	}
}

static void
jt_tun_free(struct jump_tun *t)
{
	if (t->ev_rd != NULL)
		event_free(t->ev_rd);
	if (t->ev_wr != NULL)
		event_free(t->ev_wr);
	if (t->fd >= 0)
		close(t->fd);
	free(t->up);
	free(t->down);
	free(t->host);
	free(t);
}

/* The channel is finished: off the pump once its owner let it go. */
static void
jt_finish(struct jump_tun *t)
{
	struct jump_pump	*p = t->p;

	if (t->ev_rd != NULL)
		event_del(t->ev_rd);
	if (t->ev_wr != NULL)
		event_del(t->ev_wr);
	if (t->fd >= 0) {
		close(t->fd);
		t->fd = -1;
	}
	t->st = JT_DONE;
	t->ch = NULL;
	if (p->pend_tun == t) {
		p->pend = JP_NONE;
		p->pend_tun = NULL;
	}
	if (t->released) {
		TAILQ_REMOVE(&p->tuns, t, entry);
		jt_tun_free(t);
	}
}

static void
jt_fd_cb(evutil_socket_t fd, short what, void *arg)
{
	struct jump_tun	*t = arg;

	if (what & EV_READ)
		t->rd_ready = 1;
	if (what & EV_WRITE)
		t->wr_ready = 1;
	t->p->wake(t->p->warg);
}

/* The forward was refused: say so for this target, in the server's words. */
static void
jt_refused(struct jump_tun *t)
{
	char	*msg = NULL, *lp, *rp, *why, *safe;
	int	 len = 0;

	libssh2_session_last_error(t->p->ssh, &msg, &len, 0);
	why = xstrdup(msg != NULL ? msg : "refused");
	/* libssh2: "Channel open failure (administratively prohibited)" */
	if ((lp = strchr(why, '(')) != NULL &&
	    (rp = strrchr(lp, ')')) != NULL) {
		*rp = '\0';
		memmove(why, lp + 1, strlen(lp + 1) + 1);
	}
	safe = log_safe_dup(why, strlen(why));
	xasprintf(&msg, "%s refused the forward to %s:%d (%s)", t->p->name,
	    t->host, t->port, safe);
	free(safe);
	free(why);
	t->st = JT_DONE;
	if (!t->released)
		t->cb(t->arg, -1, FAIL_UNREACHABLE, msg);
	free(msg);
	jt_finish(t);
}

/* The channel is open: make the bridge and hand the other end over. */
static void
jt_up(struct jump_tun *t, LIBSSH2_CHANNEL *ch)
{
	int	sv[2];
	char	buf[256];

	t->ch = ch;
	t->st = JT_OPEN;
	t->up = xmalloc(JT_BUF);
	t->down = xmalloc(JT_BUF);
	if (t->released) {
		t->fd_eof = 1;	/* nobody wants it: close it at once */
		return;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, sv) == -1) {
		snprintf(buf, sizeof buf, "cannot make a socketpair: %s",
		    strerror(errno));
		t->fd_eof = 1;
		t->cb(t->arg, -1, FAIL_LOCAL, buf);
		return;
	}
	t->fd = sv[1];
	t->ev_rd = event_new(t->p->base, t->fd, EV_READ, jt_fd_cb, t);
	t->ev_wr = event_new(t->p->base, t->fd, EV_WRITE, jt_fd_cb, t);
	if (t->ev_rd == NULL || t->ev_wr == NULL)
		fatalx("event_new failed");
	t->rd_ready = t->wr_ready = 1;
	debug("%s: channel to %s:%d open", t->p->name, t->host, t->port);
	t->cb(t->arg, sv[0], FAIL_NONE, NULL);
}

/* Open the queued channels, one at a time. 0, or -1: session failed. */
static int
jt_open(struct jump_pump *p)
{
	struct jump_tun	*t;
	LIBSSH2_CHANNEL	*ch;
	int		 rc;

	for (;;) {
		if (p->pend != JP_NONE && p->pend != JP_OPEN)
			return (0);
		if ((t = p->opening) == NULL) {
			TAILQ_FOREACH(t, &p->tuns, entry) {
				if (t->st == JT_QUEUED)
					break;
			}
			if (t == NULL)
				return (0);
			t->st = JT_OPENING;
			t->opening_at = jt_now();
			p->opening = t;
			p->stall_told = 0;
		}
		/* As ssh -W: the originator is 127.0.0.1:65535. */
		ch = libssh2_channel_direct_tcpip_ex(p->ssh, t->host, t->port,
		    "127.0.0.1", 65535);
		if (ch == NULL) {
			rc = libssh2_session_last_errno(p->ssh);
			if (rc == LIBSSH2_ERROR_EAGAIN) {
				jt_eagain(p, t, JP_OPEN);
				return (0);
			}
			jt_done_pend(p, t, JP_OPEN);
			p->opening = NULL;
			if (rc != LIBSSH2_ERROR_CHANNEL_FAILURE)
				return (-1);
			jt_refused(t);
			continue;
		}
		jt_done_pend(p, t, JP_OPEN);
		p->opening = NULL;
		jt_up(t, ch);
	}
}

/*
 * Pull what the server sent into libssh2's queues (a read of no bytes
 * reads the socket and takes no channel data), so that each channel's
 * queue can be looked at without touching the socket again.
 */
static int
jt_pull(struct jump_pump *p)
{
	struct jump_tun	*t;
	char		 dummy[1];
	ssize_t		 n;

	struct jump_tun	*any = NULL;

	/*
	 * A read may widen that channel's window: use one whose target
	 * takes data, so that a slow target's window stays shut.
	 */
	if (p->pend == JP_PULL)
		t = p->pend_tun;
	else {
		TAILQ_FOREACH(t, &p->tuns, entry) {
			if (t->st != JT_OPEN || t->ch == NULL)
				continue;
			if (any == NULL)
				any = t;
			if (t->downlen == 0 && t->wr_ready)
				break;
		}
		if (t == NULL)
			t = any;
	}
	if (t == NULL)
		return (0);
	n = libssh2_channel_read_ex(t->ch, 0, dummy, 0);
	if (n == LIBSSH2_ERROR_EAGAIN) {
		jt_eagain(p, t, JP_PULL);
		return (0);
	}
	jt_done_pend(p, t, JP_PULL);
	if (n < 0 && !jt_channel_error((int)n))
		return (-1);
	return (0);
}

/* Channel -> target. 0, or -1: session failed. */
static int
jt_down(struct jump_tun *t, size_t *moved)
{
	struct jump_pump	*p = t->p;
	unsigned long		 avail;
	ssize_t			 n;

	for (;;) {
		if (t->downlen > t->downoff) {
			if (t->fd < 0 || t->fd_eof) {
				t->downlen = t->downoff = 0;	/* nobody */
				continue;
			}
			if (!t->wr_ready)
				return (0);
			n = send(t->fd, t->down + t->downoff,
			    t->downlen - t->downoff, MSG_NOSIGNAL);
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1 && errno == EAGAIN) {
				t->wr_ready = 0;
				event_add(t->ev_wr, NULL);
				return (0);
			}
			if (n == -1) {
				/* The target's end is gone. */
				t->fd_eof = 1;
				continue;
			}
			t->downoff += (size_t)n;
			if (t->downoff == t->downlen)
				t->downoff = t->downlen = 0;
			continue;
		}
		if (t->chan_eof)
			return (0);
		if (*moved >= JT_FAIR) {
			p->again = 1;
			return (0);
		}
		if (p->pend != JP_READ) {
			avail = 0;
			libssh2_channel_window_read_ex(t->ch, &avail, NULL);
			if (avail == 0) {
				if (libssh2_channel_eof(t->ch) == 1)
					t->chan_eof = 1;
				return (0);
			}
		}
		n = libssh2_channel_read_ex(t->ch, 0, t->down, JT_BUF);
		if (n == LIBSSH2_ERROR_EAGAIN) {
			jt_eagain(p, t, JP_READ);
			return (0);
		}
		jt_done_pend(p, t, JP_READ);
		if (n < 0) {
			if (!jt_channel_error((int)n))
				return (-1);
			t->chan_eof = 1;
			return (0);
		}
		if (n == 0) {
			if (libssh2_channel_eof(t->ch) == 1)
				t->chan_eof = 1;
			return (0);
		}
		t->downlen = (size_t)n;
		t->downoff = 0;
		*moved += (size_t)n;
	}
}

/* Target -> channel. 0, or -1: session failed. */
static int
jt_up_data(struct jump_tun *t, size_t *moved)
{
	struct jump_pump	*p = t->p;
	ssize_t			 n;
	int			 rc;

	for (;;) {
		if (t->uplen > t->upoff) {
			if (t->eof_sent) {
				t->uplen = t->upoff = 0;
				continue;
			}
			n = libssh2_channel_write_ex(t->ch, 0,
			    t->up + t->upoff, t->uplen - t->upoff);
			if (n == LIBSSH2_ERROR_EAGAIN) {
				/* Half-sent, or the server's window is full. */
				jt_eagain(p, t, JP_WRITE);
				return (0);
			}
			jt_done_pend(p, t, JP_WRITE);
			if (n < 0) {
				if (!jt_channel_error((int)n))
					return (-1);
				/* The server closed it: stop sending. */
				t->uplen = t->upoff = 0;
				t->fd_eof = t->eof_sent = 1;
				continue;
			}
			if (n == 0)
				return (0);	/* window full */
			t->upoff += (size_t)n;
			*moved += (size_t)n;
			if (t->upoff == t->uplen)
				t->uplen = t->upoff = 0;
			continue;
		}
		if (t->fd_eof || t->fd < 0)
			break;
		if (!t->rd_ready)
			return (0);
		if (*moved >= JT_FAIR) {
			p->again = 1;
			return (0);
		}
		n = recv(t->fd, t->up, JT_BUF, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			t->rd_ready = 0;
			event_add(t->ev_rd, NULL);
			return (0);
		}
		if (n <= 0) {
			t->fd_eof = 1;
			break;
		}
		t->uplen = (size_t)n;
		t->upoff = 0;
	}
	if (!t->eof_sent) {
		rc = libssh2_channel_send_eof(t->ch);
		if (rc == LIBSSH2_ERROR_EAGAIN) {
			jt_eagain(p, t, JP_EOF);
			return (0);
		}
		jt_done_pend(p, t, JP_EOF);
		if (rc < 0 && !jt_channel_error(rc))
			return (-1);
		t->eof_sent = 1;
	}
	return (0);
}

/* Move what one channel can move; close it when its target is done. */
static int
jt_service(struct jump_tun *t)
{
	struct jump_pump	*p = t->p;
	size_t			 moved = 0;
	int			 rc;

	/* A half-sent call of this channel is the first one made. */
	if (p->pend == JP_WRITE || p->pend == JP_EOF) {
		if (jt_up_data(t, &moved) == -1)
			return (-1);
		if (p->pend != JP_NONE)
			return (0);
	}
	if (p->pend == JP_FREE)
		goto close;
	if (jt_down(t, &moved) == -1)
		return (-1);
	if (p->pend != JP_NONE)
		return (0);
	if (t->chan_eof && t->downlen == 0 && !t->shut_wr && t->fd >= 0) {
		/* The server's EOF, passed on: the target closes first. */
		(void)shutdown(t->fd, SHUT_WR);
		t->shut_wr = 1;
	}
	moved = 0;
	if (jt_up_data(t, &moved) == -1)
		return (-1);
	if (p->pend != JP_NONE)
		return (0);
	if (!t->fd_eof || !t->eof_sent)
		return (0);
close:
	rc = libssh2_channel_free(t->ch);
	if (rc == LIBSSH2_ERROR_EAGAIN) {
		jt_eagain(p, t, JP_FREE);
		return (0);
	}
	jt_done_pend(p, t, JP_FREE);
	if (rc < 0 && !jt_channel_error(rc))
		return (-1);
	debug("%s: channel to %s:%d closed", p->name, t->host, t->port);
	jt_finish(t);
	return (0);
}

/* Something for this channel waits in libssh2's queues. */
static int
jt_has_news(struct jump_tun *t)
{
	unsigned long	avail = 0;

	if (t->st != JT_OPEN || t->ch == NULL)
		return (0);
	if (t->downlen == 0 && !t->chan_eof) {
		libssh2_channel_window_read_ex(t->ch, &avail, NULL);
		if (avail > 0 || libssh2_channel_eof(t->ch) == 1)
			return (1);
	}
	if (t->uplen > t->upoff && !t->eof_sent &&
	    libssh2_channel_window_write_ex(t->ch, NULL) > 0)
		return (1);
	return (0);
}

int
jump_pump_run(struct jump_pump *p)
{
	struct jump_tun	*t, *next;

	if (p->ssh == NULL || p->failed)
		return (0);
	p->again = 0;
	if (p->pend == JP_KEEPALIVE)
		return (0);	/* the keepalive timer finishes it */
	if (p->pend != JP_NONE) {
		/* The half-sent packet first, by the call that began it. */
		t = p->pend_tun;
		debug2("%s: repeating %s", p->name, jt_pend_names[p->pend]);
		switch (p->pend) {
		case JP_OPEN:
			if (jt_open(p) == -1)
				return (-1);
			break;
		case JP_PULL:
			if (jt_pull(p) == -1)
				return (-1);
			break;
		default:
			if (jt_service(t) == -1)
				return (-1);
			break;
		}
		if (p->pend != JP_NONE)
			return (0);
	}
	if (jt_open(p) == -1)
		return (-1);
	if (p->pend == JP_NONE && jt_pull(p) == -1)
		return (-1);
	TAILQ_FOREACH_SAFE(t, &p->tuns, entry, next) {
		if (p->pend != JP_NONE)
			break;
		if (t->st != JT_OPEN)
			continue;
		if (jt_service(t) == -1)
			return (-1);
	}
	/* Opening may wait on a reply the reads above took in. */
	if (p->pend == JP_NONE && p->opening != NULL && jt_open(p) == -1)
		return (-1);
	/*
	 * Some libssh2 calls (a channel open's reply, a channel close) read
	 * one packet and return, leaving the rest of what came in read from
	 * the socket but not yet parsed: the socket would not wake us for
	 * it. The last call of a run is therefore a read to EAGAIN.
	 */
	if (p->pend == JP_NONE && jt_pull(p) == -1)
		return (-1);
	/*
	 * Every read pulls the socket: a channel served before a later
	 * read may have data, an EOF or a wider window waiting in libssh2
	 * that no socket event will announce. Run again for those.
	 */
	if (p->pend == JP_NONE && !p->again) {
		TAILQ_FOREACH(t, &p->tuns, entry) {
			if (jt_has_news(t)) {
				p->again = 1;
				break;
			}
		}
	}
	if (p->opening != NULL && !p->stall_told && p->stalled != NULL &&
	    jt_now() - p->opening->opening_at >= JT_STALL) {
		TAILQ_FOREACH(t, &p->tuns, entry) {
			if (t->st == JT_QUEUED)
				break;
		}
		if (t != NULL) {
			p->stall_told = 1;
			debug("%s: the forward to %s:%d is unanswered after "
			    "%g s, with channels queued behind it", p->name,
			    p->opening->host, p->opening->port, JT_STALL);
			p->stalled(p->warg);
		}
	}
	if (p->again)
		p->wake(p->warg);
	else if (p->opening != NULL || jump_pump_count(p) > 0) {
		/*
		 * Seen with libssh2 1.10 under load: an open's reply (or
		 * other input) is taken in during another call and no
		 * socket event follows. While channels are active, look
		 * again now and then: every 20 ms during an open, 100 ms
		 * otherwise.
		 */
		struct timeval tv = { 0, p->opening != NULL ? 20000 : 100000 };

		evtimer_add(p->ev_tick, &tv);
	}
	return (0);
}

void
jump_pump_on_stall(struct jump_pump *p, void (*stalled)(void *))
{
	p->stalled = stalled;
}

int
jump_pump_stalled(const struct jump_pump *p)
{
	return (p->opening != NULL && p->stall_told);
}

int
jump_pump_queued(const struct jump_pump *p)
{
	struct jump_tun	*t;
	int		 n = 0;

	TAILQ_FOREACH(t, &p->tuns, entry) {
		if (t->st == JT_QUEUED)
			n++;
	}
	return (n);
}

int
jump_pump_move_queued(struct jump_pump *from, struct jump_pump *to)
{
	struct jump_tun	*t, *next;
	int		 n = 0;

	if (to->failed)
		return (0);	/* they would never open, nor hear why */

	TAILQ_FOREACH_SAFE(t, &from->tuns, entry, next) {
		if (t->st != JT_QUEUED)
			continue;
		TAILQ_REMOVE(&from->tuns, t, entry);
		t->p = to;
		TAILQ_INSERT_TAIL(&to->tuns, t, entry);
		n++;
	}
	if (n > 0)
		to->wake(to->warg);
	return (n);
}

int
jump_pump_busy(const struct jump_pump *p)
{
	return (p->ssh != NULL && !p->failed && p->pend != JP_KEEPALIVE &&
	    (p->pend != JP_NONE || jump_pump_count(p) > 0));
}

int
jump_pump_keepalive(struct jump_pump *p, int fd, int *next)
{
	struct pollfd	pfd;
	int		rc;

	*next = 0;
	if (p->ssh == NULL || p->failed)
		return (0);
	if (p->pend == JP_NONE && jump_pump_count(p) == 0)
		return (0);	/* idle: nothing reads the answer */
	/*
	 * Output the socket has not taken yet (another call's packet
	 * half-sent, or a full send buffer): ssh would queue its keepalive
	 * behind it, and so it counts as sent. Not sent here: a keepalive
	 * left half-sent would stop every channel until the next one is due.
	 */
	if (p->pend != JP_NONE && p->pend != JP_KEEPALIVE)
		return (1);
	pfd.fd = fd;
	pfd.events = POLLOUT;
	pfd.revents = 0;
	if (p->pend == JP_NONE && poll(&pfd, 1, 0) == 0)
		return (1);	/* not writable */
	/* A half-sent keepalive is finished by the next due one. */
	rc = libssh2_keepalive_send(p->ssh, next);
	if (rc < 0)
		return (-1);
	if (jt_blocked_out(p)) {
		p->pend = JP_KEEPALIVE;
		p->pend_tun = NULL;
	} else if (p->pend == JP_KEEPALIVE) {
		p->pend = JP_NONE;
		p->wake(p->warg);
	}
	return (0);
}

int
jump_pump_count(const struct jump_pump *p)
{
	const struct jump_tun	*t;
	int			 n = 0;

	TAILQ_FOREACH(t, &p->tuns, entry) {
		if (t->st != JT_DONE)
			n++;
	}
	return (n);
}

void
jump_pump_fail(struct jump_pump *p, enum fail_kind kind, const char *reason)
{
	struct jump_tun	*t, *next;

	if (p->failed)
		return;
	p->failed = 1;
	/* First every owner hears why, then the bridges close. */
	TAILQ_FOREACH(t, &p->tuns, entry) {
		if (t->st != JT_DONE && !t->released)
			t->cb(t->arg, -1, kind, reason);
	}
	TAILQ_FOREACH_SAFE(t, &p->tuns, entry, next) {
		if (t->st != JT_DONE)
			jt_finish(t);
	}
	p->opening = NULL;
	p->pend = JP_NONE;
	p->pend_tun = NULL;
	p->ssh = NULL;
}

void
jump_pump_free(struct jump_pump *p)
{
	struct jump_tun	*t;

	if (p == NULL)
		return;
	while ((t = TAILQ_FIRST(&p->tuns)) != NULL) {
		TAILQ_REMOVE(&p->tuns, t, entry);
		if (t->released)
			jt_tun_free(t);
		else {
			/* The owner frees it on release. */
			if (t->ev_rd != NULL)
				event_del(t->ev_rd);
			if (t->ev_wr != NULL)
				event_del(t->ev_wr);
			t->p = NULL;
		}
	}
	event_free(p->ev_tick);
	free(p->name);
	free(p);
}

struct jump_tun *
jump_tun_open(struct jump_pump *p, const char *host, int port,
    jump_tun_cb cb, void *arg)
{
	struct jump_tun	*t;

	t = xcalloc(1, sizeof *t);
	t->p = p;
	t->host = xstrdup(host);
	t->port = port;
	t->fd = -1;
	t->cb = cb;
	t->arg = arg;
	t->st = JT_QUEUED;
	TAILQ_INSERT_TAIL(&p->tuns, t, entry);
	p->wake(p->warg);
	return (t);
}

void
jump_tun_release(struct jump_tun *t)
{
	struct jump_pump	*p;

	if (t == NULL)
		return;
	t->released = 1;
	if ((p = t->p) == NULL) {
		jt_tun_free(t);
		return;
	}
	switch (t->st) {
	case JT_QUEUED:
		TAILQ_REMOVE(&p->tuns, t, entry);
		jt_tun_free(t);
		return;
	case JT_OPENING:
		return;		/* closed as soon as it opens */
	case JT_OPEN:
		/* Our end may still hold data: the target is gone. */
		t->fd_eof = 1;
		p->wake(p->warg);
		return;
	case JT_DONE:
		TAILQ_REMOVE(&p->tuns, t, entry);
		jt_tun_free(t);
		return;
	}
}
