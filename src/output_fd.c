/*
 * Output's writer of fd 1 and fd 2. Bytes are queued in an evbuffer per
 * fd. When fd 1 or 2 is a pipe or a socket it is made non-blocking for the
 * run (the original flags are restored by output_flush, output_free and at
 * exit) and drained by a write event; terminals and regular files are
 * written at once, blocking. Past OUTPUT_HIWAT queued bytes the scheduler
 * is told to pause (its backpressure hook), and to resume below
 * OUTPUT_LOWAT. A fd that dies drops what it holds: the hosts whose bytes
 * were still queued lost output (counted for the summary), except on a
 * closed pipe, which on stdout ends the run quietly (the stdout_broken
 * hook).
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "mrsh/log.h"
#include "mrsh/output.h"
#include "mrsh/session.h"

#include "output_internal.h"

#define OUTPUT_HIWAT		(4 * 1024 * 1024) /* pause the hosts above */
#define OUTPUT_LOWAT		(1024 * 1024)	/* resume below */

/* What to put back at exit if output_free is never reached. */
static struct {
	int	registered;
	int	active;
	int	flags[2];
} output_restore;

/* Restore the original fd 1 / fd 2 flags (atexit and explicit paths). */
static void
output_restore_flags(void)
{
	int i;

	if (!output_restore.active)
		return;
	for (i = 0; i < 2; i++) {
		if (output_restore.flags[i] != -1)
			(void)fcntl(i + 1, F_SETFL, output_restore.flags[i]);
	}
	output_restore.active = 0;
}

/*
 * fd 1 or 2 died (not a closed pipe): every host with bytes still queued
 * there, and every host that sends more, lost output.
 */
static void
output_fd_lost(struct output *out, int which)
{
	struct output_fd *ofd = &out->fds[which];
	struct output_host *h;
	size_t i;

	if (ofd->dead_err == EPIPE || ofd->dead_err == EBADF)
		return;
	for (i = 0; i < out->nrecs; i++) {
		if (out->recs[i].qend[which] > ofd->written)
			out->recs[i].lost = 1;
	}
	for (i = 0; i < out->nsessions; i++) {
		h = out->sessions[i].out;
		if (h != NULL && h->qend[which] > ofd->written)
			h->lost = 1;
	}
}

/* fd 1 or 2 can no longer be written: drop what is queued. */
static void
output_fd_dead(struct output *out, int which, int err)
{
	struct output_fd *ofd = &out->fds[which];

	if (ofd->dead)
		return;
	ofd->dead = 1;
	ofd->dead_err = err;
	if (err != EPIPE && err != EBADF)
		output_lost_why(out, which == STREAM_STDOUT ? "stdout" :
		    "stderr", err);
	output_fd_lost(out, which);
	evbuffer_drain(ofd->buf, evbuffer_get_length(ofd->buf));
	if (ofd->ev != NULL)
		event_del(ofd->ev);
	if (which == STREAM_STDOUT && err == EPIPE) {
		if (out->hooks.stdout_broken != NULL)
			out->hooks.stdout_broken(out->hooks.arg);
	} else if (which == STREAM_STDOUT && err != EBADF)
		error("stdout: %s", strerror(err));
}

/* Tell the scheduler to pause or resume, by how much is queued. */
void
output_watermark(struct output *out)
{
	size_t queued;

	queued = evbuffer_get_length(out->fds[0].buf) +
	    evbuffer_get_length(out->fds[1].buf);
	if (!out->paused && queued > OUTPUT_HIWAT) {
		out->paused = 1;
		if (out->hooks.backpressure != NULL)
			out->hooks.backpressure(1, out->hooks.arg);
	} else if (out->paused && queued < OUTPUT_LOWAT) {
		out->paused = 0;
		if (out->hooks.backpressure != NULL)
			out->hooks.backpressure(0, out->hooks.arg);
	}
}

/*
 * Write what the fd can take now. Returns 0 when the buffer is empty, 1 if
 * the fd would block, -1 if the fd is dead.
 */
static int
output_fd_write(struct output *out, int which)
{
	struct output_fd *ofd = &out->fds[which];
	int n;

	while (evbuffer_get_length(ofd->buf) > 0) {
		if (ofd->dead)
			return -1;
		n = evbuffer_write(ofd->buf, ofd->fd);
		if (n >= 0) {
			ofd->written += (uint64_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 1;
		output_fd_dead(out, which, errno);
		return -1;
	}
	return 0;
}

/* Drain one fd completely, waiting in poll() when it would block. */
void
output_fd_drain(struct output *out, int which)
{
	struct output_fd *ofd = &out->fds[which];
	struct pollfd pfd;

	while (output_fd_write(out, which) == 1) {
		pfd.fd = ofd->fd;
		pfd.events = POLLOUT;
		pfd.revents = 0;
		(void)poll(&pfd, 1, -1);
	}
	if (ofd->ev != NULL)
		event_del(ofd->ev);
}

/* The write event: fd is writable again. */
static void
output_fd_cb(evutil_socket_t fd, short what, void *arg)
{
	struct output *out = arg;
	int which = (fd == 1) ? STREAM_STDOUT : STREAM_STDERR;

	if (output_fd_write(out, which) != 1 && out->fds[which].ev != NULL)
		event_del(out->fds[which].ev);
	output_watermark(out);
}

/*
 * Push queued data out: at once and blocking for terminals and files; as
 * far as it goes for pipes and sockets, the rest from the write event.
 */
void
output_fd_kick(struct output *out, int which)
{
	struct output_fd *ofd = &out->fds[which];

	if (ofd->busy)
		return;
	ofd->busy = 1;
	if (ofd->dead)
		evbuffer_drain(ofd->buf, evbuffer_get_length(ofd->buf));
	else if (!ofd->stream || ofd->ev == NULL)
		output_fd_drain(out, which);
	else if (output_fd_write(out, which) == 1)
		event_add(ofd->ev, NULL);
	ofd->busy = 0;
	output_watermark(out);
}

/* Before anything goes to the terminal under the progress line: erase it. */
static void
output_before_write(struct output *out, int which)
{
	if (!out->progress_shown)
		return;
	if (which == STREAM_STDERR || out->same_tty)
		output_progress_erase(out);
}

void
output_fd_add(struct output *out, int which, const void *p, size_t n)
{
	if (out->fds[which].dead || n == 0)
		return;
	output_before_write(out, which);
	evbuffer_add(out->fds[which].buf, p, n);
	out->fds[which].added += n;
}

/* Queue bytes of host h (NULL: not a host's): its loss is then counted. */
void
output_fd_add_host(struct output *out, struct output_host *h, int which,
    const void *p, size_t n)
{
	if (n == 0)
		return;
	if (out->fds[which].dead) {
		if (h != NULL && out->fds[which].dead_err != EPIPE &&
		    out->fds[which].dead_err != EBADF)
			h->lost = 1;
		return;
	}
	output_fd_add(out, which, p, n);
	if (h != NULL)
		h->qend[which] = out->fds[which].added;
}

/* Look at fd 1 or 2 and prepare it for the run. */
static void
output_fd_init(struct output *out, int which, int flags)
{
	struct output_fd *ofd = &out->fds[which];
	struct stat st;

	ofd->fd = which + 1;
	ofd->saved_flags = -1;
	ofd->buf = evbuffer_new();
	if (ofd->buf == NULL)
		fatalx("evbuffer_new");
	if (fstat(ofd->fd, &st) == -1 || flags == -1) {
		ofd->dead = 1;
		return;
	}
	ofd->stream = S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode);
	if (!ofd->stream || out->base == NULL)
		return;
	ofd->ev = event_new(out->base, ofd->fd, EV_WRITE | EV_PERSIST,
	    output_fd_cb, out);
	if (ofd->ev == NULL)
		fatalx("event_new");
	if ((flags & O_NONBLOCK) == 0) {
		ofd->saved_flags = flags;
		if (fcntl(ofd->fd, F_SETFL, flags | O_NONBLOCK) == -1)
			fatal("fcntl O_NONBLOCK on fd %d", ofd->fd);
	}
}

/* Are fd 1 and fd 2 the same terminal? */
static int
output_same_tty(void)
{
	struct stat st1, st2;

	if (!isatty(1) || !isatty(2))
		return 0;
	if (fstat(1, &st1) == -1 || fstat(2, &st2) == -1)
		return 0;
	return st1.st_rdev == st2.st_rdev;
}

/*
 * Look at fd 1 and 2 and prepare them for the run; their flags are put
 * back by output_flush, output_free or at exit.
 */
void
output_fds_init(struct output *out)
{
	int flags[2], i;

	/* Both flags first: fd 1 and 2 may share one open file description. */
	for (i = 0; i < 2; i++)
		flags[i] = fcntl(i + 1, F_GETFL);
	for (i = 0; i < 2; i++)
		output_fd_init(out, i, flags[i]);
	out->same_tty = output_same_tty();
	output_restore.flags[0] = out->fds[0].saved_flags;
	output_restore.flags[1] = out->fds[1].saved_flags;
	output_restore.active = 1;
	if (!output_restore.registered) {
		output_restore.registered = 1;
		atexit(output_restore_flags);
	}
}

/* The write events and queues (after output_flush). */
void
output_fds_free(struct output *out)
{
	int j;

	for (j = 0; j < 2; j++) {
		if (out->fds[j].ev != NULL)
			event_free(out->fds[j].ev);
		evbuffer_free(out->fds[j].buf);
	}
}

int
output_blocked(const struct output *out)
{
	return out != NULL && out->paused;
}

void
output_flush(struct output *out)
{
	if (out == NULL)
		return;
	output_fd_drain(out, STREAM_STDOUT);
	output_fd_drain(out, STREAM_STDERR);
	output_restore_flags();
	out->fds[0].saved_flags = out->fds[1].saved_flags = -1;
	if (out->paused)
		output_watermark(out);
}
