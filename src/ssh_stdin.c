/*
 * -I for the ssh transport: mrsh's stdin read once and fanned out to every
 * host, each at its own pace. One buffer for the run, read ahead of the
 * slowest attached host by at most SSH_STDIN_AHEAD; what every host has
 * sent is forgotten once no host can start from the beginning any more.
 * Each host writes its part to its channel (after the --sudo password),
 * then the in-band EOF: never a TCP half-close. --copy --tar writes each
 * host's tar stream (copy_tar.c) the same way, instead of stdin.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/util.h>
#include <libssh2.h>

#include "mrsh/copy_tar.h"
#include "mrsh/hostlist.h"
#include "mrsh/log.h"
#include "mrsh/options.h"
#include "mrsh/run.h"
#include "mrsh/session.h"
#include "mrsh/xmalloc.h"
#include "ssh_internal.h"

/* Read ahead of the slowest host by at most this much. */
#define SSH_STDIN_AHEAD		(1024 * 1024)
#define SSH_STDIN_READ		(64 * 1024)

static void	ssh_stdin_update(struct ssh_run *);

/* The host takes no more stdin (sent its EOF, closing, freed). */
void
ssh_stdin_detach(struct ssh_conn *c)
{
	if (!c->in_attached)
		return;
	TAILQ_REMOVE(&c->r->inq, c, in_entry);
	c->in_attached = 0;
	c->in_waiting = 0;
	ssh_stdin_update(c->r);
}

/*
 * Read stdin again: wait for a pipe or terminal; a file or device that
 * epoll cannot watch is read on the next loop iteration, after the loop
 * polled (a zero timer, not event_active(), which would run it again in
 * the same pass and starve every other event).
 */
static void
ssh_stdin_resume(struct ssh_run *r)
{
	struct timeval	zero = { 0, 0 };

	if (r->in_poll)
		event_add(r->ev_in, NULL);
	else
		evtimer_add(r->ev_in, &zero);
	r->in_reading = 1;
}

/* mrsh's stdin is readable: append one read, wake the hosts waiting. */
static void
ssh_stdin_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ssh_run	*r = arg;
	struct ssh_conn	*c;
	struct timeval	 retry = { 0, 10000 };
	ssize_t		 n;

	if (!r->in_poll)
		r->in_reading = 0;	/* one read per activation */
	if (r->incap - r->inlen < SSH_STDIN_READ) {
		r->incap = r->inlen + SSH_STDIN_READ * 2;
		r->in = xreallocarray(r->in, 1, r->incap);
	}
	n = read(STDIN_FILENO, r->in + r->inlen, SSH_STDIN_READ);
	if (n == -1 && (errno == EINTR || errno == EAGAIN)) {
		if (!r->in_poll && errno == EAGAIN) {
			/* A non-blocking device with nothing yet: poll it. */
			evtimer_add(r->ev_in, &retry);
			r->in_reading = 1;
		} else if (errno == EINTR)
			ssh_stdin_update(r);
		return;
	}
	if (n <= 0) {
		if (n == -1)
			warnx_m("reading stdin: %s", strerror(errno));
		r->in_eof = 1;
		event_del(r->ev_in);
		r->in_reading = 0;
	} else
		r->inlen += (size_t)n;
	TAILQ_FOREACH(c, &r->inq, in_entry) {
		if (c->in_waiting)
			ssh_kick(c);
	}
	ssh_stdin_update(r);
}

/*
 * Flow control for -I: read stdin while the slowest attached host is less
 * than SSH_STDIN_AHEAD behind; forget what every host has sent once no
 * host can start from the beginning any more.
 */
static void
ssh_stdin_update(struct ssh_run *r)
{
	struct ssh_conn	*c;
	uint64_t	 end, min;
	size_t		 drop;

	if (r->ev_in == NULL)
		return;
	end = r->in_base + r->inlen;
	min = end;
	TAILQ_FOREACH(c, &r->inq, in_entry) {
		if (c->in_off < min)
			min = c->in_off;
	}
	if (run_all_started(r->run) && min > r->in_base) {
		drop = (size_t)(min - r->in_base);
		memmove(r->in, r->in + drop, r->inlen - drop);
		r->inlen -= drop;
		r->in_base = min;
	}
	if (r->in_eof)
		return;
	if (TAILQ_EMPTY(&r->inq) && run_all_started(r->run)) {
		/* Every host has all it wants: /dev/zero is not read on. */
		if (r->in_reading) {
			event_del(r->ev_in);
			r->in_reading = 0;
		}
	} else if (end - min < SSH_STDIN_AHEAD) {
		if (!r->in_reading)
			ssh_stdin_resume(r);
	} else if (r->in_reading) {
		event_del(r->ev_in);
		r->in_reading = 0;
	}
}

/*
 * Start reading stdin for -I. epoll cannot watch a file or a device like
 * /dev/zero: read those one chunk per loop iteration (a zero timer), under
 * the same flow control as a pipe, never whole.
 */
void
ssh_stdin_init(struct ssh_run *r)
{
	struct stat	st;

	r->in_poll = !(fstat(STDIN_FILENO, &st) == 0 &&
	    (S_ISREG(st.st_mode) || (S_ISCHR(st.st_mode) &&
	    !isatty(STDIN_FILENO))));
	if (r->in_poll)
		r->ev_in = event_new(run_base(r->run), STDIN_FILENO,
		    EV_READ | EV_PERSIST, ssh_stdin_cb, r);
	else
		r->ev_in = evtimer_new(run_base(r->run), ssh_stdin_cb, r);
	if (r->ev_in == NULL)
		fatalx("event_new failed");
	ssh_stdin_resume(r);
}

void
ssh_stdin_free(struct ssh_run *r)
{
	if (r->ev_tar != NULL)
		event_free(r->ev_tar);
	r->ev_tar = NULL;
	if (r->ev_in != NULL)
		event_free(r->ev_in);
	r->ev_in = NULL;
	free(r->in);
	r->in = NULL;
}

/*
 * --tar: hosts send their streams in step, none more than SSH_STDIN_AHEAD
 * ahead of the slowest host sending, as -I's do (the cache serves them
 * all from the same chunks, and the hosts unpack, fsync and install at
 * about the same time: fsyncs spread over a run cost a shared disk more).
 * A host whose stream has not moved for SSH_TAR_STALLED seconds (its
 * server stopped reading) holds nobody back.
 */
#define SSH_TAR_STALLED		1.0

/* The host's stream, its remote command, its place among the senders. */
void
ssh_tar_start(struct ssh_conn *c)
{
	const struct options	*opt = run_options(c->s->run);
	char			*dest;

	c->tar = xcalloc(1, sizeof *c->tar);
	copy_tar_init(c->tar, c->r->copy);
	dest = copy_expand(opt->copy_dest, c->s->host->label);
	c->tar_cmd = copy_tar_command(dest, opt->preserve);
	free(dest);
	c->s->copy_total = c->r->copy->total;
	c->s->copy_via = "tar";
	c->tar_moved = run_now();
	TAILQ_INSERT_TAIL(&c->r->tarq, c, tar_entry);
}

/* The slowest stream's offset, of those that moved lately. */
static uint64_t
ssh_tar_min(struct ssh_run *r)
{
	struct ssh_conn	*o;
	uint64_t	 min = UINT64_MAX;
	double		 now = run_now();

	TAILQ_FOREACH(o, &r->tarq, tar_entry) {
		if (o->tar->sent < min && !o->tar_waiting &&
		    now - o->tar_moved < SSH_TAR_STALLED)
			min = o->tar->sent;
	}
	return (min);
}

static void	ssh_tar_wake(struct ssh_run *);

static void
ssh_tar_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	ssh_tar_wake(arg);
}

/* Wake the hosts that waited and may go on now. */
static void
ssh_tar_wake(struct ssh_run *r)
{
	struct ssh_conn	*o;
	struct timeval	 again = { 1, 0 };
	uint64_t	 min = ssh_tar_min(r);
	int		 waiting = 0;

	TAILQ_FOREACH(o, &r->tarq, tar_entry) {
		if (!o->tar_waiting)
			continue;
		if (min == UINT64_MAX || o->tar->sent < min + SSH_STDIN_AHEAD) {
			o->tar_waiting = 0;
			o->tar_moved = run_now();
			ssh_kick(o);
		} else
			waiting = 1;
	}
	if (waiting) {
		/* look again when a slow host may count as stalled */
		if (r->ev_tar == NULL &&
		    (r->ev_tar = evtimer_new(run_base(r->run),
		    ssh_tar_timer_cb, r)) == NULL)
			fatalx("evtimer_new failed");
		if (!evtimer_pending(r->ev_tar, NULL))
			evtimer_add(r->ev_tar, &again);
	} else if (r->ev_tar != NULL)
		evtimer_del(r->ev_tar);
}

/* The host sends no more of its stream (all sent, failed, freed). */
static void
ssh_tar_detach(struct ssh_conn *c)
{
	if (c->tar == NULL || c->tar_sent)
		return;
	TAILQ_REMOVE(&c->r->tarq, c, tar_entry);
	c->tar_sent = 1;
	ssh_tar_wake(c->r);
}

/*
 * The next packet's worth of the stream into tar_buf (none at its end, or
 * while the host is too far ahead: tar_waiting). -1 if the session failed.
 */
static int
ssh_tar_fill(struct ssh_conn *c)
{
	const char	*d;
	char		 err[1024];
	size_t		 n;
	uint64_t	 was = c->tar->sent, min;

	min = ssh_tar_min(c->r);
	if (min != UINT64_MAX && c->tar->sent >= min + SSH_STDIN_AHEAD) {
		c->tar_waiting = 1;
		ssh_tar_wake(c->r);	/* arms the stall timer */
		return (0);
	}
	if (c->tar_buf == NULL)
		c->tar_buf = xmalloc(SSH_PACKET);
	while (c->tar_len < SSH_PACKET) {
		if ((d = copy_tar_data(c->tar, SSH_PACKET - c->tar_len, &n,
		    err, sizeof err)) == NULL) {
			ssh_fail(c, FAIL_LOCAL, "%s", err);
			return (-1);
		}
		if (n == 0)
			break;
		memcpy(c->tar_buf + c->tar_len, d, n);
		c->tar_len += n;
		copy_tar_advance(c->tar, n);
	}
	c->s->copy_bytes = c->tar->file_bytes;
	c->tar_moved = run_now();
	if (was == min || c->tar_len == 0)
		ssh_tar_wake(c->r);
	return (0);
}

/* --tar: the host's stream is done with (sent, failed or freed). */
void
ssh_tar_free(struct ssh_conn *c)
{
	if (c->tar == NULL)
		return;
	ssh_tar_detach(c);
	copy_tar_free(c->tar);
	free(c->tar);
	c->tar = NULL;
	free(c->tar_buf);
	c->tar_buf = NULL;
	free(c->tar_cmd);
	c->tar_cmd = NULL;
}

/* The host takes stdin, from its beginning. */
void
ssh_stdin_attach(struct ssh_conn *c)
{
	TAILQ_INSERT_TAIL(&c->r->inq, c, in_entry);
	c->in_attached = 1;
	c->in_off = 0;
	ssh_stdin_update(c->r);
}

/*
 * The server closed the channel (the command exited without reading all
 * of its input, "head -1"): stop sending, keep reading. 1 if so.
 */
static int
ssh_stdin_unwanted(struct ssh_conn *c, int rc)
{
	if (rc != LIBSSH2_ERROR_CHANNEL_CLOSED &&
	    rc != LIBSSH2_ERROR_CHANNEL_EOF_SENT &&
	    libssh2_channel_eof(c->ch) != 1)
		return (0);
	debug("%s: the command does not read its input any more",
	    c->s->host->label);
	c->eof_sent = 1;
	c->wblocked = 0;
	ssh_stdin_detach(c);
	return (1);
}

/*
 * Bookkeeping after a stdin write or send_eof that returned rc (< 0: an
 * error, or EAGAIN, to repeat as pend when libssh2 waits to send). Returns
 * 0 (done or blocked, or the server no longer wants input) or -1 if the
 * session failed (what names the call).
 */
static int
ssh_stdin_sent(struct ssh_conn *c, int rc, enum ssh_pending pend,
    const char *what)
{
	if (rc == LIBSSH2_ERROR_EAGAIN) {
		c->pending = ssh_blocked_out(c) ? pend : PEND_NONE;
		c->wblocked = 1;
		return (0);
	}
	c->pending = PEND_NONE;
	c->wblocked = 0;
	if (rc >= 0 || ssh_stdin_unwanted(c, rc))
		return (0);
	ssh_fail(c, FAIL_PROTOCOL, "%s: %s", what, ssh_lost(c));
	return (-1);
}

/*
 * One channel write of what goes to the command's input (the --sudo
 * password, then -I's stdin). Returns the bytes taken, or -1 with *rc
 * what ssh_write_stdin returns: 0 when the server's window is full or the
 * write would block, -1 when the session failed.
 */
static ssize_t
ssh_stdin_write(struct ssh_conn *c, const char *buf, size_t n,
    const char *what, int *rc)
{
	ssize_t	w;

	w = libssh2_channel_write_ex(c->ch, 0, buf, n);
	if (w == 0) {
		/* the server's window is full */
		c->pending = PEND_NONE;
		c->wblocked = 1;
		*rc = 0;
		return (-1);
	}
	if (w < 0) {
		*rc = ssh_stdin_sent(c, (int)w, PEND_WRITE, what);
		return (-1);
	}
	ssh_stdin_sent(c, 0, PEND_WRITE, NULL);
	return (w);
}

/*
 * Send stdin (with -I) and then the in-band EOF. Returns -1 if the
 * session failed, 0 otherwise (done, blocked or waiting for stdin).
 */
int
ssh_write_stdin(struct ssh_conn *c)
{
	struct ssh_run	*r = c->r;
	ssize_t		 w;
	size_t		 n;
	int		 rc;

	while (!c->eof_sent) {
		if (c->pending != PEND_NONE && c->pending != PEND_WRITE &&
		    c->pending != PEND_SENDEOF)
			return (0);
		c->in_waiting = 0;
		c->wblocked = 0;
		if (c->pending != PEND_SENDEOF && r->sudo_pw != NULL &&
		    c->sudo_off < strlen(r->sudo_pw)) {
			/* --sudo: the password first, for sudo -S. */
			if ((w = ssh_stdin_write(c, r->sudo_pw + c->sudo_off,
			    strlen(r->sudo_pw) - c->sudo_off,
			    "sending the sudo password", &rc)) < 0)
				return (rc);
			c->sudo_off += (size_t)w;
			continue;
		}
		if (c->pending != PEND_SENDEOF && c->tar != NULL &&
		    !c->tar_sent) {
			/*
			 * --tar: the stream, from the shared file cache,
			 * gathered into whole packets (a header is 512 bytes:
			 * one packet each would cost the server a wakeup).
			 */
			if (c->tar_off == c->tar_len) {
				c->tar_off = c->tar_len = 0;
				if (ssh_tar_fill(c) == -1)
					return (-1);
				if (c->tar_waiting)
					return (0);
				if (c->tar_len == 0) {
					ssh_tar_detach(c);
					continue;
				}
			}
			if ((w = ssh_stdin_write(c, c->tar_buf + c->tar_off,
			    c->tar_len - c->tar_off, "sending the tar stream",
			    &rc)) < 0)
				return (rc);
			c->tar_off += (size_t)w;
			continue;
		}
		if (c->pending != PEND_SENDEOF && c->in_attached &&
		    c->in_off < r->in_base + r->inlen) {
			n = (size_t)(r->in_base + r->inlen - c->in_off);
			if (n > SSH_PACKET)
				n = SSH_PACKET;
			if ((w = ssh_stdin_write(c,
			    r->in + (c->in_off - r->in_base), n,
			    "sending stdin", &rc)) < 0)
				return (rc);
			c->in_off += (uint64_t)w;
			ssh_stdin_update(r);
			continue;
		}
		if (c->in_attached && !r->in_eof) {
			c->in_waiting = 1;
			return (0);
		}
		rc = libssh2_channel_send_eof(c->ch);
		if (rc < 0)
			return (ssh_stdin_sent(c, rc, PEND_SENDEOF,
			    "sending EOF"));
		ssh_stdin_sent(c, 0, PEND_SENDEOF, NULL);
		c->eof_sent = 1;
		ssh_stdin_detach(c);
	}
	return (0);
}
