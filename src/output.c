/*
 * Output: everything the hosts send ends up here, and leaves in one of four
 * shapes chosen by the options:
 *
 * - lines as they arrive, "label: line", stdout to fd 1 and stderr to fd 2
 *   (-N drops the label);
 * - gathered (-b): stdout is held per host and printed at the end, hosts
 *   with the same output and exit status once under a compressed range
 *   header (clush -b / dshbak -c); stderr lines still go out as they come;
 * - per-host files (--outdir / --errdir), raw bytes, one file per label;
 * - one JSON object per host (--json) on stdout when the host is done.
 *
 * Lines are reassembled per host and per stream. A partial line is held up
 * to OUTPUT_LINE_MAX bytes; past that the held bytes are printed (labelled:
 * as a line of their own, label and newline added; with -N: as they are)
 * so that a host that never sends a newline cannot make us hold unbounded
 * memory. Apart from that and the label, bytes pass through unchanged
 * (binary data included); a last line without a newline is printed once at
 * EOF, labelled with a newline added, with -N as it is: -N output is
 * byte-exact.
 *
 * Writes go to an evbuffer per fd. When fd 1 or 2 is a pipe or a socket it
 * is made non-blocking for the run (the original flags are restored by
 * output_flush, output_free and at exit) and drained by a write event;
 * terminals and regular files are written at once, blocking. Past
 * OUTPUT_HIWAT buffered bytes the scheduler is told to pause (its
 * backpressure hook), and to resume below OUTPUT_LOWAT. Output never calls
 * into the scheduler otherwise: the hooks it installed at output_new are
 * the only way back, and the progress line gets its counts as arguments.
 * Gathered and JSON data keep at most opt->gather_max bytes per host per
 * stream and record the cut.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "mrsh/hostlist.h"
#include "mrsh/log.h"
#include "mrsh/options.h"
#include "mrsh/output.h"
#include "mrsh/session.h"
#include "mrsh/xmalloc.h"

#define OUTPUT_LINE_MAX		(64 * 1024)	/* longest partial line held */
#define OUTPUT_HIWAT		(4 * 1024 * 1024) /* pause the run above */
#define OUTPUT_LOWAT		(1024 * 1024)	/* resume below */
#define OUTPUT_GATHER_DEFAULT	(1024 * 1024)	/* if gather_max is 0 */
#define OUTPUT_RULE		"---------------"
/* clush's colors: labels and headers, stderr labels, diff parts. */
#define COLOR_OUT		"\033[94m"
#define COLOR_ERR		"\033[91m"
#define COLOR_DIFFHDR		"\033[1m"
#define COLOR_DIFFHNK		"\033[96m"
#define COLOR_DIFFADD		"\033[92m"
#define COLOR_DIFFDEL		"\033[91m"
#define COLOR_RESET		"\033[0m"
#define OUTPUT_DIFF_CONTEXT	3	/* lines around a change, as diff -u */
/* The summary is one line: bounded, whatever servers say and however many. */
#define OUTPUT_SUMMARY_MAX	1024	/* the whole line, about */
#define OUTPUT_REASON_MAX	200	/* one reason */
#define OUTPUT_HOSTS_MAX	200	/* one group's host range */

/* Where one stream of a host goes (besides an optional file). */
enum output_sink {
	SINK_NONE = 0,
	SINK_PRINT,		/* prefixed lines to fd 1 / fd 2 */
	SINK_HOLD		/* kept for -b or --json, bounded */
};

/* A growable byte buffer. */
struct output_buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

/* One of fd 1 / fd 2. */
struct output_fd {
	int			 fd;
	int			 stream;	/* pipe or socket: non-blocking */
	int			 saved_flags;	/* -1: unchanged */
	int			 dead;		/* EPIPE or error: discard */
	int			 dead_err;	/* errno that killed it */
	int			 busy;		/* inside output_fd_kick */
	uint64_t		 added;		/* bytes ever queued */
	uint64_t		 written;	/* bytes ever written */
	struct evbuffer		*buf;
	struct event		*ev;		/* EV_WRITE, added while buf */
};

/* Per-host state, stored in session->out. */
struct output_host {
	struct output_buf	 line[2];	/* partial line per stream */
	struct output_buf	 hold[2];	/* -b / --json */
	int			 cut[2];	/* hold reached gather_max */
	int			 fd[2];		/* --outdir / --errdir file */
	int			 fd_failed[2];
	uint64_t		 qend[2];	/* fd's "added" after our last */
	int			 lost;		/* some output not written */
	int			 done;
};

/* A finished host as remembered for the gathered output and summary. */
struct output_rec {
	size_t		 idx;
	char		*label;
	int		 failed;	/* FAILED (not just a non-zero exit) */
	char		*status;	/* NULL when it ran and exited 0 */
	char		*skey;		/* status without host names: summary */
	int		 rc;		/* exit code as clush shows it */
	char		*data;		/* -b: held stdout, an output_blob's */
	size_t		 len;
	int		 cut;
	uint64_t	 hash;
	uint64_t	 qend[2];	/* as in output_host */
	int		 lost;
};

/*
 * One distinct gathered output (-b). Hosts fold into it as they finish,
 * so a run holds one copy of each distinct output, not one per host.
 */
struct output_blob {
	uint64_t		 hash;
	char			*data;
	size_t			 len;
	int			 cut;
	struct output_blob	*next;		/* same bucket */
};

struct output {
	const struct options	*opt;
	struct event_base	*base;		/* NULL: write blocking */
	struct session		*sessions;	/* the run's, host order */
	size_t			 nsessions;
	struct output_hooks	 hooks;		/* the scheduler's */
	struct output_fd	 fds[2];
	enum output_sink	 sink[2];
	const char		*dir[2];	/* outdir, errdir */
	size_t			 hold_max;
	int			 same_tty;	/* stdout is stderr's terminal */
	int			 color[2];	/* --color, per fd */
	int			 progress_shown;
	char			 progress_last[256];	/* as drawn */
	int			 paused;

	struct output_rec	*recs;
	size_t			 nrecs;
	size_t			 caprecs;
	struct output_blob	**blobs;	/* hash table, nbuckets */
	size_t			 nbuckets;
	size_t			 nblobs;
	char			 lost_why[256];	/* first write error */

	/* -b -L as the lines come (clush -bL): per session index. */
	int			 bl_live;
	struct output_bl	*bl;
	size_t			 bl_k;		/* the line index printed next */
	size_t			 bl_waiting;	/* hosts line bl_k waits for */
};

/* -b -L: where one host is in its held output. */
struct output_bl {
	size_t	pos;	/* start of its line bl_k in the held data */
	size_t	scan;	/* scanned up to here, no newline yet */
	size_t	ready;	/* bl_k + 1 once counted ready for line bl_k */
	size_t	rec;	/* its index in recs + 1 once it ended */
};

/* What to put back at exit if output_free is never reached. */
static struct {
	int	registered;
	int	active;
	int	flags[2];
} output_restore;

static void	output_fd_kick(struct output *, int);
static void	output_blobs_free(struct output *);
static void	output_bl_event(struct output *, size_t);

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

static void
output_buf_add(struct output_buf *b, const void *p, size_t n)
{
	size_t cap;

	if (n == 0)
		return;
	if (b->len + n > b->cap) {
		cap = b->cap == 0 ? 256 : b->cap;
		while (cap < b->len + n)
			cap *= 2;
		b->p = xreallocarray(b->p, 1, cap);
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
output_buf_addstr(struct output_buf *b, const char *s)
{
	output_buf_add(b, s, strlen(s));
}

static void
output_buf_free(struct output_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* Append to a held stream, keeping at most max bytes. */
static void
output_hold_add(struct output_buf *b, int *cut, size_t max, const char *p,
    size_t n)
{
	size_t room, cap;

	room = max - b->len;
	if (n > room) {
		n = room;
		*cut = 1;
	}
	if (n == 0)
		return;
	if (b->len + n > b->cap) {
		cap = b->cap == 0 ? 4096 : b->cap;
		while (cap < b->len + n)
			cap *= 2;
		if (cap > max)
			cap = max;
		b->p = xreallocarray(b->p, 1, cap);
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static const char *
output_label(const struct session *s)
{
	if (s->host == NULL)
		return "?";
	if (s->host->label != NULL)
		return s->host->label;
	return s->host->name != NULL ? s->host->name : "?";
}

/* Signal number to name without "SIG"; NULL if unknown. */
static const char *
output_signame(int sig)
{
	static const struct {
		int		 sig;
		const char	*name;
	} names[] = {
		{ SIGHUP, "HUP" }, { SIGINT, "INT" }, { SIGQUIT, "QUIT" },
		{ SIGILL, "ILL" }, { SIGTRAP, "TRAP" }, { SIGABRT, "ABRT" },
		{ SIGBUS, "BUS" }, { SIGFPE, "FPE" }, { SIGKILL, "KILL" },
		{ SIGUSR1, "USR1" }, { SIGSEGV, "SEGV" }, { SIGUSR2, "USR2" },
		{ SIGPIPE, "PIPE" }, { SIGALRM, "ALRM" }, { SIGTERM, "TERM" },
		{ SIGCHLD, "CHLD" }, { SIGCONT, "CONT" }, { SIGSTOP, "STOP" },
		{ SIGTSTP, "TSTP" }, { SIGTTIN, "TTIN" }, { SIGTTOU, "TTOU" },
		{ SIGURG, "URG" }, { SIGXCPU, "XCPU" }, { SIGXFSZ, "XFSZ" },
		{ SIGVTALRM, "VTALRM" }, { SIGPROF, "PROF" },
		{ SIGWINCH, "WINCH" }, { SIGSYS, "SYS" },
	};
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (names[i].sig == sig)
			return names[i].name;
	}
	return NULL;
}

/* The signal a session died of, as "KILL" (allocated), or NULL. */
static char *
output_session_signal(const struct session *s)
{
	const char *name;
	char *r;

	if (s->exit_signame != NULL) {
		/* The server's word: made safe for every place it goes. */
		name = s->exit_signame;
		if (strncmp(name, "SIG", 3) == 0)
			name += 3;
		return log_safe_dup(name, strlen(name));
	}
	if (s->exit_signal == 0)
		return NULL;
	if ((name = output_signame(s->exit_signal)) != NULL)
		return xstrdup(name);
	xasprintf(&r, "%d", s->exit_signal);
	return r;
}

/*
 * How a finished session ended, as text for headers and the summary:
 * NULL for exit 0, otherwise the failure reason, "exit N", "signal NAME" or
 * "exit status unknown". Server text is made safe (log_safe).
 */
static char *
output_status_text(const struct session *s)
{
	char *r, *sig;

	if (s->state == S_FAILED) {
		if (s->fail_reason != NULL && *s->fail_reason != '\0')
			r = log_safe_dup(s->fail_reason,
			    strlen(s->fail_reason));
		else
			r = xstrdup(session_fail_kind_name(s->fail_kind));
	} else if ((sig = output_session_signal(s)) != NULL) {
		xasprintf(&r, "signal %s", sig);
		free(sig);
	} else if (s->exit_unknown || !s->have_exit)
		r = xstrdup("exit status unknown");
	else if (s->exit_code != 0)
		xasprintf(&r, "exit %u", (unsigned int)s->exit_code);
	else
		return NULL;
	return r;
}

/* The --json "status" word. */
static const char *
output_status_word(const struct session *s)
{
	if (s->state == S_FAILED)
		return s->fail_kind == FAIL_TIMEOUT ? "timeout" : "failed";
	if (s->exit_signal != 0 || s->exit_signame != NULL)
		return "signal";
	if (s->exit_unknown || !s->have_exit)
		return "unknown";
	return s->exit_code == 0 ? "ok" : "exit";
}

/* ---- writing to fd 1 / fd 2 ------------------------------------------ */

/* Note the first reason output was lost, for the summary. */
static void
output_lost_why(struct output *out, const char *what, int err)
{
	if (out->lost_why[0] == '\0')
		snprintf(out->lost_why, sizeof out->lost_why, "%s: %s", what,
		    strerror(err));
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
static void
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
static void
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
static void
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

static void
output_fd_add(struct output *out, int which, const void *p, size_t n)
{
	if (out->fds[which].dead || n == 0)
		return;
	output_before_write(out, which);
	evbuffer_add(out->fds[which].buf, p, n);
	out->fds[which].added += n;
}

/* Queue bytes of host h (NULL: not a host's): its loss is then counted. */
static void
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

/* ---- per-host files ----------------------------------------------------- */

/* mkdir -p, 0755; then check we can create files there. */
static int
output_mkdirs(const char *dir)
{
	char *path, *p;
	struct stat st;
	int r = -1, saved;
	char c;

	if (*dir == '\0') {
		errno = ENOENT;
		return -1;
	}
	path = xstrdup(dir);
	for (p = path + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		if (p[-1] != '/') {
			c = *p;
			*p = '\0';
			if (mkdir(path, 0755) == -1 && errno != EEXIST) {
				saved = errno;
				if (stat(path, &st) == -1 ||
				    !S_ISDIR(st.st_mode)) {
					errno = saved;
					goto out;
				}
			}
			*p = c;
		}
		if (*p == '\0')
			break;
	}
	if (stat(dir, &st) == -1)
		goto out;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		goto out;
	}
	if (access(dir, W_OK | X_OK) == -1)
		goto out;
	r = 0;
out:
	free(path);
	return r;
}

/* DIR/label with '/' in the label made '_' (and "." / ".." avoided). */
static char *
output_file_path(const char *dir, const char *label)
{
	char *name, *p, *path;

	name = xstrdup(label);
	for (p = name; *p != '\0'; p++) {
		if (*p == '/')
			*p = '_';
	}
	if (*name == '\0' || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0) {
		for (p = name; *p != '\0'; p++)
			*p = '_';
		if (*name == '\0') {
			free(name);
			name = xstrdup("_");
		}
	}
	xasprintf(&path, "%s/%s", dir, name);
	free(name);
	return path;
}

/* Open (create, truncate) the file of one stream of a host. */
static int
output_file_open(struct output *out, struct session *s,
    struct output_host *h, int stream)
{
	char *path;

	if (h->fd[stream] != -1 || h->fd_failed[stream])
		return h->fd[stream];
	path = output_file_path(out->dir[stream], output_label(s));
	h->fd[stream] = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644);
	if (h->fd[stream] == -1) {
		error("%s: %s", path, strerror(errno));
		output_lost_why(out, path, errno);
		h->fd_failed[stream] = 1;
		h->lost = 1;
	}
	free(path);
	return h->fd[stream];
}

static void
output_file_write(struct output *out, struct session *s,
    struct output_host *h, int stream, const char *p, size_t n)
{
	ssize_t w;
	char *path;
	int fd;

	if ((fd = output_file_open(out, s, h, stream)) == -1) {
		h->lost = 1;
		return;
	}
	while (n > 0) {
		w = write(fd, p, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1) {
			path = output_file_path(out->dir[stream],
			    output_label(s));
			error("%s: %s", path, strerror(errno));
			output_lost_why(out, path, errno);
			free(path);
			close(fd);
			h->fd[stream] = -1;
			h->fd_failed[stream] = 1;
			h->lost = 1;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

/* ---- lines --------------------------------------------------------------- */

/*
 * Queue one line (without its newline) of a host, labelled. With -N the
 * bytes go out exactly as they came: a piece of a line longer than
 * OUTPUT_LINE_MAX, or a last line without a newline, gets none added
 * (nl = 0); labelled, every piece is a line of its own.
 */
static void
output_piece(struct output *out, struct session *s, int stream, const char *p,
    size_t n, int nl)
{
	struct output_host *h = s->out;
	const char *label;

	if (!out->opt->nolabel) {
		label = output_label(s);
		if (out->color[stream])
			output_fd_add_host(out, h, stream, stream ==
			    STREAM_STDOUT ? COLOR_OUT : COLOR_ERR,
			    strlen(COLOR_OUT));
		output_fd_add_host(out, h, stream, label, strlen(label));
		output_fd_add_host(out, h, stream, ": ", 2);
		if (out->color[stream])
			output_fd_add_host(out, h, stream, COLOR_RESET,
			    strlen(COLOR_RESET));
	}
	output_fd_add_host(out, h, stream, p, n);
	if (nl || !out->opt->nolabel)
		output_fd_add_host(out, h, stream, "\n", 1);
}

static void
output_line(struct output *out, struct session *s, int stream, const char *p,
    size_t n)
{
	output_piece(out, s, stream, p, n, 1);
}

/* Split a chunk into lines, holding a partial last line (bounded). */
static void
output_lines(struct output *out, struct session *s, struct output_host *h,
    int stream, const char *p, size_t n)
{
	struct output_buf *pl = &h->line[stream];
	const char *nl;
	size_t take;

	while (n > 0) {
		nl = memchr(p, '\n', n);
		if (nl != NULL) {
			take = (size_t)(nl - p);
			if (pl->len > 0) {
				output_buf_add(pl, p, take);
				output_line(out, s, stream, pl->p, pl->len);
				pl->len = 0;
			} else
				output_line(out, s, stream, p, take);
			p += take + 1;
			n -= take + 1;
			continue;
		}
		take = OUTPUT_LINE_MAX - pl->len;
		if (take > n)
			take = n;
		output_buf_add(pl, p, take);
		p += take;
		n -= take;
		if (pl->len >= OUTPUT_LINE_MAX) {
			output_piece(out, s, stream, pl->p, pl->len, 0);
			pl->len = 0;
		}
	}
	/* A line longer than the cap does not keep its big buffer. */
	if (pl->len == 0 && pl->cap > 4096)
		output_buf_free(pl);
}

/* Print a held partial line, once. */
static void
output_line_flush(struct output *out, struct session *s,
    struct output_host *h, int stream)
{
	struct output_buf *pl = &h->line[stream];

	if (pl->len > 0) {
		output_piece(out, s, stream, pl->p, pl->len, 0);
		output_fd_kick(out, stream);
	}
	output_buf_free(pl);
}

static struct output_host *
output_host_get(struct session *s)
{
	struct output_host *h;

	if ((h = s->out) == NULL) {
		h = xcalloc(1, sizeof *h);
		h->fd[0] = h->fd[1] = -1;
		s->out = h;
	}
	return h;
}

/* ---- JSON --------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (1-4), or 0 if invalid. */
static size_t
output_utf8_len(const unsigned char *p, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;	/* no overlong forms */
		else if (p[0] == 0xed)
			hi = 0x9f;	/* no surrogates */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;	/* nothing above U+10FFFF */
	} else
		return 0;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++) {
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	}
	return len;
}

/*
 * Append s as a quoted JSON string. Valid UTF-8 passes through; ", \ and
 * control characters are escaped; every byte that is not part of a valid
 * UTF-8 sequence becomes \u00XX, i.e. it is read as Latin-1 (lossy: such a
 * byte and the character U+00XX look the same in the result).
 */
static void
output_json_add(struct output_buf *b, const char *str, size_t n)
{
	const unsigned char *p = (const unsigned char *)str;
	const unsigned char *run;
	char esc[8];
	size_t len;

	output_buf_add(b, "\"", 1);
	run = p;
	while (n > 0) {
		if (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') {
			p++;
			n--;
			continue;
		}
		if (*p >= 0x80 && (len = output_utf8_len(p, n)) != 0) {
			p += len;
			n -= len;
			continue;
		}
		output_buf_add(b, run, (size_t)(p - run));
		switch (*p) {
		case '"':
			output_buf_add(b, "\\\"", 2);
			break;
		case '\\':
			output_buf_add(b, "\\\\", 2);
			break;
		case '\n':
			output_buf_add(b, "\\n", 2);
			break;
		case '\r':
			output_buf_add(b, "\\r", 2);
			break;
		case '\t':
			output_buf_add(b, "\\t", 2);
			break;
		case '\b':
			output_buf_add(b, "\\b", 2);
			break;
		case '\f':
			output_buf_add(b, "\\f", 2);
			break;
		default:
			snprintf(esc, sizeof esc, "\\u%04x", *p);
			output_buf_add(b, esc, 6);
			break;
		}
		p++;
		n--;
		run = p;
	}
	output_buf_add(b, run, (size_t)(p - run));
	output_buf_add(b, "\"", 1);
}

char *
output_json_string(const char *s, size_t n)
{
	struct output_buf b = { NULL, 0, 0 };

	output_json_add(&b, s, n);
	output_buf_add(&b, "", 1);
	return b.p;
}

static void
output_json_str_or_null(struct output_buf *b, const char *s)
{
	if (s == NULL)
		output_buf_addstr(b, "null");
	else
		output_json_add(b, s, strlen(s));
}

static int
output_tv_set(const struct timeval *tv)
{
	return tv->tv_sec != 0 || tv->tv_usec != 0;
}

static double
output_tv_diff(const struct timeval *a, const struct timeval *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	    (double)(b->tv_usec - a->tv_usec) / 1e6;
}

/*
 * Time spent in states first..last: from the first of them entered to the
 * next state entered after last. -1 if none of them was entered (or, which
 * output_session_done does not see, no later state yet).
 */
static double
output_phase(const struct session *s, int first, int last)
{
	const struct timeval *start = NULL;
	double d;
	int i;

	for (i = first; i <= last && start == NULL; i++) {
		if (output_tv_set(&s->t[i]))
			start = &s->t[i];
	}
	if (start == NULL)
		return -1;
	for (i = last + 1; i < S_COUNT; i++) {
		if (output_tv_set(&s->t[i])) {
			d = output_tv_diff(start, &s->t[i]);
			return d < 0 ? 0 : d;
		}
	}
	return -1;
}

static void
output_json_time(struct output_buf *b, const char *name, double t, int comma)
{
	char tmp[64];

	if (t < 0)
		snprintf(tmp, sizeof tmp, "\"%s\":null", name);
	else
		snprintf(tmp, sizeof tmp, "\"%s\":%.6f", name, t);
	output_buf_addstr(b, tmp);
	if (comma)
		output_buf_add(b, ",", 1);
}

/* One host as one JSON line on stdout. */
static void
output_json_host(struct output *out, struct session *s, struct output_host *h)
{
	struct output_buf b = { NULL, 0, 0 };
	char tmp[64], *sig, *reason, stage[32];
	const char *name;
	size_t i;

	output_buf_addstr(&b, "{\"host\":");
	output_json_str_or_null(&b, output_label(s));
	output_buf_addstr(&b, ",\"name\":");
	output_json_str_or_null(&b, s->host != NULL ? s->host->name : NULL);
	output_buf_addstr(&b, ",\"user\":");
	/* ssh: the user and port ssh_config decided on. */
	output_json_str_or_null(&b, s->cfg_user != NULL ? s->cfg_user :
	    s->user);
	if (s->cfg_port != 0)
		snprintf(tmp, sizeof tmp, ",\"port\":%d", s->cfg_port);
	else if (s->host != NULL && s->host->port != 0)
		snprintf(tmp, sizeof tmp, ",\"port\":%d", s->host->port);
	else
		snprintf(tmp, sizeof tmp, ",\"port\":null");
	output_buf_addstr(&b, tmp);
	if (s->via != NULL) {
		/* The jump host (or proxy command) that carried it. */
		output_buf_addstr(&b, ",\"via\":");
		output_json_str_or_null(&b, s->via);
	}
	output_buf_addstr(&b, ",\"status\":");
	output_json_str_or_null(&b, output_status_word(s));

	sig = output_session_signal(s);
	if (s->have_exit && !s->exit_unknown && sig == NULL)
		snprintf(tmp, sizeof tmp, ",\"exit_code\":%u",
		    (unsigned int)s->exit_code);
	else
		snprintf(tmp, sizeof tmp, ",\"exit_code\":null");
	output_buf_addstr(&b, tmp);
	output_buf_addstr(&b, ",\"signal\":");
	output_json_str_or_null(&b, sig);
	free(sig);

	if (out->opt->copy != COPY_NONE) {
		snprintf(tmp, sizeof tmp, ",\"bytes\":%llu",
		    (unsigned long long)s->copy_bytes);
		output_buf_addstr(&b, tmp);
	}

	output_buf_addstr(&b, ",\"stage\":");
	if (s->state == S_FAILED) {
		name = session_state_name(s->fail_stage);
		for (i = 0; name != NULL && name[i] != '\0' &&
		    i < sizeof stage - 1; i++) {
			stage[i] = name[i];
			if (stage[i] >= 'A' && stage[i] <= 'Z')
				stage[i] += 'a' - 'A';
		}
		stage[i] = '\0';
		output_json_str_or_null(&b, stage);
		output_buf_addstr(&b, ",\"reason\":");
		reason = s->fail_reason != NULL ? log_safe_dup(s->fail_reason,
		    strlen(s->fail_reason)) : NULL;
		output_json_str_or_null(&b, reason);
		free(reason);
	} else
		output_buf_addstr(&b, "null,\"reason\":null");

	output_buf_addstr(&b, ",\"timings\":{");
	output_json_time(&b, "connect", output_phase(s, S_RESOLVING,
	    S_CONNECTING), 1);
	output_json_time(&b, "setup", output_phase(s, S_SETUP, S_SETUP), 1);
	output_json_time(&b, "command", output_phase(s, S_RUNNING,
	    S_RUNNING), 1);
	output_json_time(&b, "close", output_phase(s, S_CLOSING, S_CLOSING),
	    1);
	output_json_time(&b, "total", output_phase(s, S_RESOLVING,
	    S_CLOSING), 0);
	output_buf_addstr(&b, "},\"stdout\":");
	output_json_add(&b, h->hold[0].p, h->hold[0].len);
	output_buf_addstr(&b, h->cut[0] ? ",\"stdout_truncated\":true" :
	    ",\"stdout_truncated\":false");
	output_buf_addstr(&b, ",\"stderr\":");
	output_json_add(&b, h->hold[1].p, h->hold[1].len);
	output_buf_addstr(&b, h->cut[1] ? ",\"stderr_truncated\":true" :
	    ",\"stderr_truncated\":false");
	output_buf_addstr(&b, "}\n");

	output_fd_add_host(out, h, STREAM_STDOUT, b.p, b.len);
	output_buf_free(&b);
	output_fd_kick(out, STREAM_STDOUT);
}

/* log.c hands diagnostics here: queued with host stderr, in order. */
static void
output_log_write(const char *line, size_t len, void *arg)
{
	struct output *out = arg;

	output_fd_add(out, STREAM_STDERR, line, len);
	output_fd_kick(out, STREAM_STDERR);
}

/* ---- the module interface ---------------------------------------------- */

struct output *
output_new(const struct options *opt, struct event_base *base,
    struct session *sessions, size_t nsessions,
    const struct output_hooks *hooks)
{
	struct output *out;
	int flags[2], i;

	out = xcalloc(1, sizeof *out);
	out->opt = opt;
	out->base = base;
	out->sessions = sessions;
	out->nsessions = nsessions;
	if (hooks != NULL)
		out->hooks = *hooks;
	out->dir[STREAM_STDOUT] = opt->outdir;
	out->dir[STREAM_STDERR] = opt->errdir;
	for (i = 0; i < 2; i++) {
		if (out->dir[i] != NULL && output_mkdirs(out->dir[i]) == -1) {
			error("cannot use %s %s: %s",
			    i == 0 ? "--outdir" : "--errdir", out->dir[i],
			    strerror(errno));
			free(out);
			return NULL;
		}
	}
	out->hold_max = opt->gather_max != 0 ? opt->gather_max :
	    OUTPUT_GATHER_DEFAULT;
	if (opt->json) {
		out->sink[STREAM_STDOUT] = SINK_HOLD;
		out->sink[STREAM_STDERR] = SINK_HOLD;
	} else {
		if (out->dir[STREAM_STDOUT] != NULL)
			out->sink[STREAM_STDOUT] = SINK_NONE;
		else if (opt->gather || opt->by_host)
			out->sink[STREAM_STDOUT] = SINK_HOLD;
		else
			out->sink[STREAM_STDOUT] = SINK_PRINT;
		if (out->dir[STREAM_STDERR] != NULL)
			out->sink[STREAM_STDERR] = SINK_NONE;
		else if (opt->gather_all &&
		    out->sink[STREAM_STDOUT] == SINK_HOLD)
			/* -B: into the stdout hold, in arrival order. */
			out->sink[STREAM_STDERR] = SINK_HOLD;
		else
			out->sink[STREAM_STDERR] = SINK_PRINT;
	}
	out->bl_live = opt->gather && opt->by_host && !opt->json &&
	    out->sink[STREAM_STDOUT] == SINK_HOLD;
	for (i = 0; i < 2; i++)
		out->color[i] = opt->color == COLOR_ALWAYS ||
		    (opt->color == COLOR_AUTO && isatty(i + 1));

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
	log_set_writer(output_log_write, out);
	return out;
}

void
output_free(struct output *out)
{
	size_t i;
	int j;

	if (out == NULL)
		return;
	log_set_writer(NULL, NULL);
	output_flush(out);
	for (j = 0; j < 2; j++) {
		if (out->fds[j].ev != NULL)
			event_free(out->fds[j].ev);
		evbuffer_free(out->fds[j].buf);
	}
	for (i = 0; i < out->nrecs; i++) {
		free(out->recs[i].label);
		free(out->recs[i].status);
		free(out->recs[i].skey);
	}
	free(out->recs);
	output_blobs_free(out);
	free(out->bl);
	free(out);
}

void
output_data(struct output *out, struct session *s, enum stream stream,
    const char *buf, size_t len)
{
	struct output_host *h;

	if (out == NULL || len == 0)
		return;
	h = output_host_get(s);
	if (h->done)
		return;
	if (out->dir[stream] != NULL)
		output_file_write(out, s, h, stream, buf, len);
	switch (out->sink[stream]) {
	case SINK_PRINT:
		output_lines(out, s, h, stream, buf, len);
		output_fd_kick(out, stream);
		break;
	case SINK_HOLD:
		if (out->opt->gather_all && !out->opt->json)
			stream = STREAM_STDOUT;
		output_hold_add(&h->hold[stream], &h->cut[stream],
		    out->hold_max, buf, len);
		if (out->bl_live && stream == STREAM_STDOUT)
			output_bl_event(out, s->idx);
		break;
	case SINK_NONE:
		break;
	}
}

void
output_eof(struct output *out, struct session *s, enum stream stream)
{
	struct output_host *h;

	if (out == NULL || (h = s->out) == NULL || h->done)
		return;
	output_line_flush(out, s, h, stream);
}

/* A byte that may be part of a host name or an address. */
static int
output_name_byte(int c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.';
}

/* Does name stand at p as a word of its own (not inside a longer name)? */
static size_t
output_name_at(const char *start, const char *p, const char *name)
{
	size_t n;

	if (name == NULL || (n = strlen(name)) == 0 ||
	    strncmp(p, name, n) != 0)
		return 0;
	if (p > start && output_name_byte(p[-1]) && p[-1] != '.')
		return 0;
	/* A name may end a sentence: "name." is still the name. */
	if (output_name_byte(p[n]) && !(p[n] == '.' &&
	    !output_name_byte(p[n + 1])))
		return 0;
	return n;
}

/* A dotted IPv4 address at p: its length, or 0. */
static size_t
output_ipv4_at(const char *start, const char *p)
{
	size_t n = 0;
	int part, digits;

	if (p > start && output_name_byte(p[-1]))
		return 0;
	for (part = 0; part < 4; part++) {
		if (part > 0 && p[n++] != '.')
			return 0;
		for (digits = 0; isdigit((unsigned char)p[n]); n++)
			digits++;
		if (digits == 0 || digits > 3)
			return 0;
	}
	if (isalnum((unsigned char)p[n]))
		return 0;
	return n;
}

/*
 * The summary's grouping key of a failure reason: the host's own names
 * (its label, its name, the HostName it was reached at, addresses) made
 * "<host>", and key fingerprints "SHA256:<key>", so that 30 hosts with
 * an unknown host key share one line rather than make one each.
 */
static char *
output_status_key(const char *status, const struct session *s)
{
	struct output_buf b = { NULL, 0, 0 };
	const char *names[3], *p, *q;
	size_t n, i;

	names[0] = output_label(s);
	names[1] = s->cfg_hostname;
	names[2] = s->host != NULL ? s->host->name : NULL;
	for (p = status; *p != '\0'; p += n) {
		n = 0;
		for (i = 0; i < 3 && n == 0; i++)
			n = output_name_at(status, p, names[i]);
		if (n == 0)
			n = output_ipv4_at(status, p);
		if (n > 0) {
			output_buf_addstr(&b, "<host>");
			continue;
		}
		if (strncmp(p, "SHA256:", 7) == 0) {
			for (q = p + 7; isalnum((unsigned char)*q) ||
			    *q == '+' || *q == '/' || *q == '='; q++)
				;
			if (q > p + 7) {
				output_buf_addstr(&b, "SHA256:<key>");
				n = (size_t)(q - p);
				continue;
			}
		}
		output_buf_add(&b, p, 1);
		n = 1;
	}
	output_buf_add(&b, "", 1);
	return b.p;
}

int
output_gather_stats(const struct output *out, size_t *hosts,
    size_t *distinct, size_t *bytes)
{
	const struct output_blob *b;
	size_t i;

	if (out == NULL || !out->opt->gather || out->opt->json)
		return 0;
	*hosts = out->nrecs;
	*distinct = *bytes = 0;
	for (i = 0; i < out->nbuckets; i++) {
		for (b = out->blobs[i]; b != NULL; b = b->next) {
			(*distinct)++;
			*bytes += b->len;
		}
	}
	return 1;
}

static void
output_blobs_free(struct output *out)
{
	struct output_blob *b, *next;
	size_t i;

	for (i = 0; i < out->nbuckets; i++) {
		for (b = out->blobs[i]; b != NULL; b = next) {
			next = b->next;
			free(b->data);
			free(b);
		}
	}
	free(out->blobs);
	out->blobs = NULL;
	out->nbuckets = out->nblobs = 0;
}

/*
 * The one copy of this output: an existing blob with the same bytes (the
 * host's buffer is freed), or a new one that takes the buffer over.
 */
static struct output_blob *
output_blob_fold(struct output *out, uint64_t hash, char *data, size_t len,
    int cut)
{
	struct output_blob *b, *next, **nb;
	size_t i, n;

	if (out->nbuckets != 0) {
		for (b = out->blobs[hash % out->nbuckets]; b != NULL;
		    b = b->next) {
			if (b->hash == hash && b->len == len && b->cut == cut &&
			    (len == 0 || memcmp(b->data, data, len) == 0)) {
				free(data);
				return b;
			}
		}
	}
	if (out->nblobs >= out->nbuckets) {
		n = out->nbuckets == 0 ? 64 : out->nbuckets * 2;
		nb = xcalloc(n, sizeof *nb);
		for (i = 0; i < out->nbuckets; i++) {
			for (b = out->blobs[i]; b != NULL; b = next) {
				next = b->next;
				b->next = nb[b->hash % n];
				nb[b->hash % n] = b;
			}
		}
		free(out->blobs);
		out->blobs = nb;
		out->nbuckets = n;
	}
	b = xcalloc(1, sizeof *b);
	b->hash = hash;
	b->data = data;
	b->len = len;
	b->cut = cut;
	b->next = out->blobs[hash % out->nbuckets];
	out->blobs[hash % out->nbuckets] = b;
	out->nblobs++;
	return b;
}

/* Remember a finished host for -b and the summary. */
static void
output_record(struct output *out, struct session *s, struct output_host *h)
{
	struct output_rec *r;
	struct output_blob *b;
	uint64_t hash = 1469598103934665603ULL;	/* FNV-1a */
	size_t i;

	if (out->nrecs == out->caprecs) {
		out->caprecs = out->caprecs == 0 ? 64 : out->caprecs * 2;
		out->recs = xreallocarray(out->recs, out->caprecs,
		    sizeof *out->recs);
	}
	r = &out->recs[out->nrecs++];
	memset(r, 0, sizeof *r);
	r->idx = s->idx;
	r->label = xstrdup(output_label(s));
	r->failed = s->state == S_FAILED;
	r->status = output_status_text(s);
	if (r->status != NULL)
		r->skey = output_status_key(r->status, s);
	if (s->state == S_FAILED)
		r->rc = EXIT_UNREACHABLE;
	else if (s->have_exit && s->exit_signal != 0)
		r->rc = 128 + s->exit_signal;
	else if (s->have_exit && !s->exit_unknown)
		r->rc = session_exit_code_mapped(s->exit_code);
	r->qend[0] = h->qend[0];
	r->qend[1] = h->qend[1];
	r->lost = h->lost;
	if ((out->opt->gather || out->opt->by_host) && !out->opt->json &&
	    out->sink[STREAM_STDOUT] == SINK_HOLD) {
		for (i = 0; i < h->hold[0].len; i++) {
			hash ^= (unsigned char)h->hold[0].p[i];
			hash *= 1099511628211ULL;
		}
		b = output_blob_fold(out, hash, h->hold[0].p, h->hold[0].len,
		    h->cut[0]);
		h->hold[0].p = NULL;
		h->hold[0].len = h->hold[0].cap = 0;
		r->data = b->data;
		r->len = b->len;
		r->cut = b->cut;
		r->hash = hash;
	}
}

void
output_session_done(struct output *out, struct session *s)
{
	struct output_host *h;
	int i;

	if (out == NULL)
		return;
	h = output_host_get(s);
	if (h->done)
		return;
	for (i = 0; i < 2; i++) {
		if (out->sink[i] == SINK_PRINT)
			output_line_flush(out, s, h, i);
		/*
		 * A host whose command ran gets its file even if it printed
		 * nothing; one that never got that far (unreachable, not
		 * started) does not: the summary tells about it.
		 */
		if (out->dir[i] != NULL && (s->state == S_DONE ||
		    output_tv_set(&s->t[S_RUNNING])))
			(void)output_file_open(out, s, h, i);
		if (out->dir[i] != NULL) {
			/* NFS and quotas report a failed write at close. */
			if (h->fd[i] != -1 && close(h->fd[i]) == -1) {
				char *path = output_file_path(out->dir[i],
				    output_label(s));

				error("%s: %s", path, strerror(errno));
				output_lost_why(out, path, errno);
				free(path);
				h->lost = 1;
			}
			h->fd[i] = -1;
		}
	}
	if (out->opt->json)
		output_json_host(out, s, h);
	output_record(out, s, h);
	for (i = 0; i < 2; i++) {
		output_buf_free(&h->hold[i]);
		output_buf_free(&h->line[i]);
	}
	h->done = 1;
	if (out->bl_live) {
		output_bl_event(out, SIZE_MAX);		/* set up */
		out->bl[s->idx].rec = out->nrecs;
		output_bl_event(out, s->idx);
	}
}

void
output_session_free(struct session *s)
{
	struct output_host *h = s->out;
	int i;

	if (h == NULL)
		return;
	for (i = 0; i < 2; i++) {
		output_buf_free(&h->line[i]);
		output_buf_free(&h->hold[i]);
		if (h->fd[i] != -1)
			close(h->fd[i]);
	}
	free(h);
	s->out = NULL;
}

/* Gather key: same stdout, same cut, same status. */
static int
output_key_data(const struct output_rec *ra, const struct output_rec *rb)
{
	int c;

	if (ra->hash != rb->hash)
		return ra->hash < rb->hash ? -1 : 1;
	if (ra->len != rb->len)
		return ra->len < rb->len ? -1 : 1;
	if (ra->cut != rb->cut)
		return ra->cut - rb->cut;
	if ((ra->status == NULL) != (rb->status == NULL))
		return ra->status == NULL ? -1 : 1;
	if (ra->status != NULL && (c = strcmp(ra->status, rb->status)) != 0)
		return c;
	/* Equal outputs share one blob. */
	if (ra->len != 0 && ra->data != rb->data)
		return memcmp(ra->data, rb->data, ra->len);
	return 0;
}

/* Summary key: failures before non-zero exits, then the status text. */
static int
output_key_status(const struct output_rec *ra, const struct output_rec *rb)
{
	if (ra->failed != rb->failed)
		return rb->failed - ra->failed;
	return strcmp(ra->skey, rb->skey);
}

static int
output_idx_cmp(const struct output_rec *ra, const struct output_rec *rb)
{
	if (ra->idx != rb->idx)
		return ra->idx < rb->idx ? -1 : 1;
	return 0;
}

/* qsort orders: by key, then host order. */
static int
output_sort_data(const void *a, const void *b)
{
	const struct output_rec *ra = *(struct output_rec *const *)a;
	const struct output_rec *rb = *(struct output_rec *const *)b;
	int c;

	if ((c = output_key_data(ra, rb)) != 0)
		return c;
	return output_idx_cmp(ra, rb);
}

/* qsort order: host order only. */
static int
output_sort_idx(const void *a, const void *b)
{
	return output_idx_cmp(*(struct output_rec *const *)a,
	    *(struct output_rec *const *)b);
}

static int
output_sort_status(const void *a, const void *b)
{
	const struct output_rec *ra = *(struct output_rec *const *)a;
	const struct output_rec *rb = *(struct output_rec *const *)b;
	int c;

	if ((c = output_key_status(ra, rb)) != 0)
		return c;
	return output_idx_cmp(ra, rb);
}

/* A run of records with the same key inside a sorted array. */
struct output_group {
	struct output_rec	**first;
	size_t			  n;
};

static int
output_group_cmp(const void *a, const void *b)
{
	const struct output_group *ga = a, *gb = b;
	const struct output_rec *ra = ga->first[0], *rb = gb->first[0];

	if (ra->failed != rb->failed)
		return rb->failed - ra->failed;
	return output_idx_cmp(ra, rb);
}

/*
 * Sort v and cut it into groups of records with the same key, hosts in
 * host order inside each group; groups come back ordered by first host
 * (failures first, for the summary).
 */
static struct output_group *
output_groups(struct output_rec **v, size_t n,
    int (*sort)(const void *, const void *),
    int (*key)(const struct output_rec *, const struct output_rec *),
    size_t *ngroups)
{
	struct output_group *g;
	size_t i, ng = 0;

	qsort(v, n, sizeof *v, sort);
	g = xreallocarray(NULL, n == 0 ? 1 : n, sizeof *g);
	for (i = 0; i < n; i++) {
		if (ng > 0 && key(g[ng - 1].first[0], v[i]) == 0) {
			g[ng - 1].n++;
			continue;
		}
		g[ng].first = &v[i];
		g[ng].n = 1;
		ng++;
	}
	qsort(g, ng, sizeof *g, output_group_cmp);
	*ngroups = ng;
	return g;
}

static int
output_key_rc(const struct output_rec *ra, const struct output_rec *rb)
{
	return ra->rc < rb->rc ? -1 : ra->rc > rb->rc;
}

static int
output_sort_rc(const void *a, const void *b)
{
	const struct output_rec *ra = *(struct output_rec *const *)a;
	const struct output_rec *rb = *(struct output_rec *const *)b;
	int c;

	if ((c = output_key_rc(ra, rb)) != 0)
		return c;
	return output_idx_cmp(ra, rb);
}

/*
 * Natural order of host labels, as ClusterShell sorts a node set: the
 * text before a number, then the number's value, then its width.
 */
static int
output_label_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	const char *xs, *ys;
	size_t xl, yl;

	while (*x != '\0' && *y != '\0') {
		if (isdigit((unsigned char)*x) && isdigit((unsigned char)*y)) {
			for (xs = x; *xs == '0'; xs++)
				;
			for (ys = y; *ys == '0'; ys++)
				;
			for (xl = 0; isdigit((unsigned char)xs[xl]); xl++)
				;
			for (yl = 0; isdigit((unsigned char)ys[yl]); yl++)
				;
			if (xl != yl)
				return xl < yl ? -1 : 1;
			if (memcmp(xs, ys, xl) != 0)
				return memcmp(xs, ys, xl);
			if (xs - x != ys - y)
				return (xs - x) < (ys - y) ? -1 : 1;
			x = xs + xl;
			y = ys + yl;
			continue;
		}
		if (*x != *y)
			return (unsigned char)*x - (unsigned char)*y;
		x++;
		y++;
	}
	return (unsigned char)*x - (unsigned char)*y;
}

/* A group's hosts as clush names them: sorted, folded, " (N)" if N > 1. */
static char *
output_group_nodeset(const struct output_group *g)
{
	const char **names;
	char *folded, *r;
	size_t i;

	names = xreallocarray(NULL, g->n, sizeof *names);
	for (i = 0; i < g->n; i++)
		names[i] = g->first[i]->label;
	qsort(names, g->n, sizeof *names, output_label_cmp);
	folded = hostlist_compress(names, g->n);
	free(names);
	if (g->n == 1)
		return folded;
	xasprintf(&r, "%s (%zu)", folded, g->n);
	free(folded);
	return r;
}

/* clush's node set order: the larger group, then the first host. */
static int
output_group_size_cmp(const void *a, const void *b)
{
	const struct output_group *ga = a, *gb = b;
	const struct output_rec *ra = ga->first[0], *rb = gb->first[0];
	const char *la, *lb;
	size_t i;

	if (ga->n != gb->n)
		return ga->n > gb->n ? -1 : 1;
	la = ra->label;
	for (i = 1; i < ga->n; i++)
		if (output_label_cmp(&ga->first[i]->label, &la) < 0)
			la = ga->first[i]->label;
	lb = rb->label;
	for (i = 1; i < gb->n; i++)
		if (output_label_cmp(&gb->first[i]->label, &lb) < 0)
			lb = gb->first[i]->label;
	return output_label_cmp(&la, &lb);
}

/* clush -b's order: exit code, then as output_group_size_cmp. */
static int
output_group_clush_cmp(const void *a, const void *b)
{
	const struct output_group *ga = a, *gb = b;

	if (ga->first[0]->rc != gb->first[0]->rc)
		return ga->first[0]->rc < gb->first[0]->rc ? -1 : 1;
	return output_group_size_cmp(a, b);
}

/*
 * A group's hosts as a compressed range, in host order, or sorted as
 * clush sorts a node set; no count.
 */
static char *
output_group_hosts(const struct output_group *g, int sorted)
{
	const char **names;
	char *folded;
	size_t i;

	names = xreallocarray(NULL, g->n, sizeof *names);
	for (i = 0; i < g->n; i++)
		names[i] = g->first[i]->label;
	if (sorted)
		qsort(names, g->n, sizeof *names, output_label_cmp);
	folded = hostlist_compress(names, g->n);
	free(names);
	return folded;
}

/* Queue s on stdout, wrapped in color if stdout has colors. */
static void
output_colored(struct output *out, const char *color, const char *s,
    size_t n)
{
	if (out->color[STREAM_STDOUT])
		output_fd_add(out, STREAM_STDOUT, color, strlen(color));
	output_fd_add(out, STREAM_STDOUT, s, n);
	if (out->color[STREAM_STDOUT])
		output_fd_add(out, STREAM_STDOUT, COLOR_RESET,
		    strlen(COLOR_RESET));
}

/* Drain stdout; if it died, the output of these hosts was lost. */
static void
output_drain_group(struct output *out, struct output_rec **v, size_t n)
{
	size_t j;

	output_fd_drain(out, STREAM_STDOUT);
	if (out->fds[STREAM_STDOUT].dead &&
	    out->fds[STREAM_STDOUT].dead_err != EPIPE &&
	    out->fds[STREAM_STDOUT].dead_err != EBADF) {
		for (j = 0; j < n; j++)
			v[j]->lost = 1;
	}
}

/* One line of held output. */
struct output_line {
	const char	*p;
	size_t		 n;
};

/* The lines of a held output, as clush splits them (no final ""). */
static struct output_line *
output_rec_lines(const struct output_rec *r, size_t *nlines)
{
	struct output_line *l = NULL;
	const char *p = r->data, *end = r->data + r->len, *nl;
	size_t n = 0, cap = 0;

	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			l = xreallocarray(l, cap, sizeof *l);
		}
		l[n].p = p;
		l[n++].n = (size_t)(nl - p);
		p = nl + 1;
	}
	*nlines = n;
	return l;
}

static int
output_line_eq(const struct output_line *a, const struct output_line *b)
{
	return a->n == b->n && memcmp(a->p, b->p, a->n) == 0;
}

/* "label: line" (clush's -L line), label colored; -N: the line. */
static void
output_labelled_line(struct output *out, const char *label,
    const struct output_line *l)
{
	char *prefix;

	if (!out->opt->nolabel) {
		xasprintf(&prefix, "%s: ", label);
		output_colored(out, COLOR_OUT, prefix, strlen(prefix));
		free(prefix);
	}
	output_fd_add(out, STREAM_STDOUT, l->p, l->n);
	output_fd_add(out, STREAM_STDOUT, "\n", 1);
}

/*
 * clush's line for each non-zero exit code, on stderr:
 * "clush: node[1-2] (2): exited with exit code 3".
 */
static void
output_print_rc_lines(struct output *out, struct output_rec **v)
{
	struct output_group *g;
	size_t i, n = 0, ng;
	char *hosts, *line;

	for (i = 0; i < out->nrecs; i++) {
		if (out->recs[i].rc != 0 && !out->recs[i].failed)
			v[n++] = &out->recs[i];
	}
	g = output_groups(v, n, output_sort_rc, output_key_rc, &ng);
	qsort(g, ng, sizeof *g, output_group_clush_cmp);
	for (i = 0; i < ng; i++) {
		hosts = output_group_nodeset(&g[i]);
		xasprintf(&line, "%s: %s: exited with exit code %d\n",
		    log_progname(), hosts, g[i].first[0]->rc);
		output_fd_add(out, STREAM_STDERR, line, strlen(line));
		free(line);
		free(hosts);
	}
	output_fd_drain(out, STREAM_STDERR);
	free(g);
}

/* clush -L's order: exit code, then host (natural order). */
static int
output_sort_rc_label(const void *a, const void *b)
{
	const struct output_rec *ra = *(struct output_rec *const *)a;
	const struct output_rec *rb = *(struct output_rec *const *)b;

	if (ra->rc != rb->rc)
		return ra->rc < rb->rc ? -1 : 1;
	return output_label_cmp(&ra->label, &rb->label);
}

/*
 * -L: each host's output together, "host: line", after the run; hosts by
 * exit code, then sorted (clush -L). Hosts without output print nothing.
 */
static void
output_print_by_host(struct output *out)
{
	struct output_rec **v;
	struct output_line *l;
	size_t i, j, n = 0, nl;

	v = xreallocarray(NULL, out->nrecs == 0 ? 1 : out->nrecs, sizeof *v);
	for (i = 0; i < out->nrecs; i++) {
		if (out->recs[i].len > 0)
			v[n++] = &out->recs[i];
	}
	qsort(v, n, sizeof *v, output_sort_rc_label);
	for (i = 0; i < n; i++) {
		l = output_rec_lines(v[i], &nl);
		for (j = 0; j < nl; j++)
			output_labelled_line(out, v[i]->label, &l[j]);
		free(l);
		output_drain_group(out, &v[i], 1);
	}
	output_print_rc_lines(out, v);
	free(v);
}

/* A host's line k, for -b -L's grouping. */
struct output_kline {
	struct output_rec	*r;
	struct output_line	 l;
};

static int
output_kline_cmp(const void *a, const void *b)
{
	const struct output_kline *x = a, *y = b;
	size_t n = x->l.n < y->l.n ? x->l.n : y->l.n;
	int c;

	if ((c = memcmp(x->l.p, y->l.p, n)) != 0)
		return c;
	if (x->l.n != y->l.n)
		return x->l.n < y->l.n ? -1 : 1;
	return output_label_cmp(&x->r->label, &y->r->label);
}

/*
 * One line index of -b -L: the hosts' k-th lines (kl, nk) sorted and
 * grouped, each group once as "node[1-3]: line", larger groups first.
 * v and g are scratch arrays of nk entries.
 */
static void
output_print_kline(struct output *out, struct output_kline *kl, size_t nk,
    struct output_rec **v, struct output_group *g)
{
	size_t i, j, ng;
	char *hosts;

	qsort(kl, nk, sizeof *kl, output_kline_cmp);
	for (i = 0, ng = 0; i < nk; i++) {
		v[i] = kl[i].r;
		if (ng > 0 && output_line_eq(&kl[i - 1].l, &kl[i].l)) {
			g[ng - 1].n++;
			continue;
		}
		g[ng].first = &v[i];
		g[ng++].n = 1;
	}
	qsort(g, ng, sizeof *g, output_group_size_cmp);
	for (i = 0; i < ng; i++) {
		hosts = output_group_hosts(&g[i], 1);
		j = (size_t)(g[i].first - v);
		output_labelled_line(out, hosts, &kl[j].l);
		free(hosts);
	}
}

/*
 * -b -L at the end: line by line from the first one not yet printed as
 * the lines came (output_bl_event), the hosts that sent the same k-th line
 * once, "node[1-3]: line", larger groups first (clush -bL).
 */
static void
output_print_by_line(struct output *out)
{
	struct output_rec **v, **sv;
	struct output_line **lines;
	struct output_kline *kl;
	struct output_group *g;
	size_t *nlines, i, k, n = 0, nk, maxl = 0, alloc;

	alloc = out->nrecs == 0 ? 1 : out->nrecs;
	v = xreallocarray(NULL, alloc, sizeof *v);
	sv = xreallocarray(NULL, alloc, sizeof *sv);
	lines = xreallocarray(NULL, alloc, sizeof *lines);
	nlines = xreallocarray(NULL, alloc, sizeof *nlines);
	for (i = 0; i < out->nrecs; i++) {
		if (out->recs[i].len == 0)
			continue;
		lines[n] = output_rec_lines(&out->recs[i], &nlines[n]);
		if (nlines[n] > maxl)
			maxl = nlines[n];
		v[n++] = &out->recs[i];
	}
	kl = xreallocarray(NULL, n == 0 ? 1 : n, sizeof *kl);
	g = xreallocarray(NULL, n == 0 ? 1 : n, sizeof *g);
	for (k = out->bl_k; k < maxl; k++) {
		for (i = 0, nk = 0; i < n; i++) {
			if (k < nlines[i]) {
				kl[nk].r = v[i];
				kl[nk++].l = lines[i][k];
			}
		}
		output_print_kline(out, kl, nk, sv, g);
		output_drain_group(out, v, n);
	}
	for (i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
	free(nlines);
	free(kl);
	free(g);
	free(sv);
	output_print_rc_lines(out, v);
	free(v);
}

/*
 * -b -L as the lines come, as clush -bL: line k of every host is printed
 * (grouped as above) once every host has sent its line k or has ended; a
 * host that has not started yet holds the line back. Each host's held
 * output stays whole for the exit-code lines and the end; only a position
 * per host moves.
 */

/* Host i's held output; 1 if it ended (then from its record). */
static int
output_bl_data(struct output *out, size_t i, const char **p, size_t *len)
{
	struct output_host *h;
	struct output_rec *r;

	*p = NULL;
	*len = 0;
	if (out->bl[i].rec != 0) {
		r = &out->recs[out->bl[i].rec - 1];
		*p = r->data;
		*len = r->len;
		return 1;
	}
	if ((h = out->sessions[i].out) != NULL) {
		*p = h->hold[STREAM_STDOUT].p;
		*len = h->hold[STREAM_STDOUT].len;
	}
	return 0;
}

/* Has host i sent its line bl_k (or ended)? */
static int
output_bl_ready(struct output *out, size_t i)
{
	struct output_bl *b = &out->bl[i];
	const char *p;
	size_t len;

	if (output_bl_data(out, i, &p, &len))
		return 1;
	if (b->scan < b->pos)
		b->scan = b->pos;
	if (b->scan >= len)
		return 0;
	if (memchr(p + b->scan, '\n', len - b->scan) != NULL)
		return 1;
	b->scan = len;
	return 0;
}

/* Count the hosts line bl_k waits for. */
static void
output_bl_count(struct output *out)
{
	size_t i;

	out->bl_waiting = 0;
	for (i = 0; i < out->nsessions; i++) {
		if (output_bl_ready(out, i))
			out->bl[i].ready = out->bl_k + 1;
		else
			out->bl_waiting++;
	}
}

/* Print line bl_k of every host that has one; 0 if none had. */
static int
output_bl_print(struct output *out)
{
	struct output_kline *kl;
	struct output_rec *tmp, **v;
	struct output_group *g;
	struct output_host *h;
	const char *p, *nl;
	size_t i, n = out->nsessions, nk = 0, len;
	int lost;

	kl = xreallocarray(NULL, n == 0 ? 1 : n, sizeof *kl);
	tmp = xcalloc(n == 0 ? 1 : n, sizeof *tmp);
	for (i = 0; i < n; i++) {
		if (output_bl_data(out, i, &p, &len))
			kl[nk].r = &out->recs[out->bl[i].rec - 1];
		else {
			tmp[i].label = (char *)output_label(&out->sessions[i]);
			kl[nk].r = &tmp[i];
		}
		if (out->bl[i].pos >= len)
			continue;
		if ((nl = memchr(p + out->bl[i].pos, '\n',
		    len - out->bl[i].pos)) == NULL)
			nl = p + len;	/* an ended host's last line */
		kl[nk].l.p = p + out->bl[i].pos;
		kl[nk].l.n = (size_t)(nl - kl[nk].l.p);
		out->bl[i].pos = (size_t)(nl - p) + (nl < p + len);
		kl[nk++].r->idx = i;
	}
	if (nk > 0) {
		v = xreallocarray(NULL, nk, sizeof *v);
		g = xreallocarray(NULL, nk, sizeof *g);
		output_print_kline(out, kl, nk, v, g);
		free(v);
		free(g);
		output_fd_kick(out, STREAM_STDOUT);
		lost = out->fds[STREAM_STDOUT].dead &&
		    out->fds[STREAM_STDOUT].dead_err != EPIPE &&
		    out->fds[STREAM_STDOUT].dead_err != EBADF;
		for (i = 0; lost && i < nk; i++) {
			if (kl[i].r != &tmp[kl[i].r->idx])
				kl[i].r->lost = 1;
			else if ((h = out->sessions[kl[i].r->idx].out) != NULL)
				h->lost = 1;
		}
	}
	free(tmp);
	free(kl);
	return nk > 0;
}

/*
 * Host i got output or ended (SIZE_MAX: only set up): print the lines
 * that no host holds back any more.
 */
static void
output_bl_event(struct output *out, size_t i)
{
	if (out->bl == NULL) {
		out->bl = xcalloc(out->nsessions == 0 ? 1 : out->nsessions,
		    sizeof *out->bl);
		output_bl_count(out);
	}
	if (i == SIZE_MAX || out->bl[i].ready == out->bl_k + 1 ||
	    !output_bl_ready(out, i))
		return;
	out->bl[i].ready = out->bl_k + 1;
	if (--out->bl_waiting > 0)
		return;
	while (out->bl_waiting == 0 && output_bl_print(out)) {
		out->bl_k++;
		output_bl_count(out);
	}
}

/* ---- --diff: difflib's SequenceMatcher and unified_diff, as clush ---- */

struct output_match {
	size_t	 a, b, size;
};

/* b's lines indexed by content (difflib's b2j, popular lines dropped). */
struct output_b2j {
	size_t	 *slot;		/* hash table of distinct lines: first index */
	size_t	  nslot;
	size_t	 *next;		/* b index -> next index of the same line */
	size_t	 *head;		/* b index -> first index of its line */
	int	 *popular;	/* b index: its line is junk (autojunk) */
};

#define OUTPUT_NONE	((size_t)-1)

static uint64_t
output_line_hash(const struct output_line *l)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < l->n; i++) {
		h ^= (unsigned char)l->p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* The first index in b of a line equal to l, or OUTPUT_NONE. */
static size_t
output_b2j_find(const struct output_b2j *t, const struct output_line *b,
    const struct output_line *l)
{
	size_t i = output_line_hash(l) % t->nslot;

	for (; t->slot[i] != OUTPUT_NONE; i = (i + 1) % t->nslot)
		if (output_line_eq(&b[t->slot[i]], l))
			return t->slot[i];
	return OUTPUT_NONE;
}

static void
output_b2j_init(struct output_b2j *t, const struct output_line *b, size_t nb)
{
	size_t i, j, *last, *count;

	t->nslot = 2 * nb + 1;
	t->slot = xreallocarray(NULL, t->nslot, sizeof *t->slot);
	for (i = 0; i < t->nslot; i++)
		t->slot[i] = OUTPUT_NONE;
	t->next = xreallocarray(NULL, nb + 1, sizeof *t->next);
	t->head = xreallocarray(NULL, nb + 1, sizeof *t->head);
	t->popular = xcalloc(nb + 1, sizeof *t->popular);
	last = xreallocarray(NULL, nb + 1, sizeof *last);
	count = xcalloc(nb + 1, sizeof *count);
	for (i = 0; i < nb; i++) {
		t->next[i] = OUTPUT_NONE;
		if ((j = output_b2j_find(t, b, &b[i])) == OUTPUT_NONE) {
			j = output_line_hash(&b[i]) % t->nslot;
			while (t->slot[j] != OUTPUT_NONE)
				j = (j + 1) % t->nslot;
			t->slot[j] = i;
			t->head[i] = i;
		} else {
			t->head[i] = j;
			t->next[last[j]] = i;
		}
		last[t->head[i]] = i;
		count[t->head[i]]++;
	}
	/* autojunk: in 200 lines or more, one on more than 1% + 1 is junk. */
	if (nb >= 200)
		for (i = 0; i < nb; i++)
			t->popular[i] = count[t->head[i]] > nb / 100 + 1;
	free(last);
	free(count);
}

static void
output_b2j_free(struct output_b2j *t)
{
	free(t->slot);
	free(t->next);
	free(t->head);
	free(t->popular);
}

/* difflib's find_longest_match (no isjunk; popular lines not indexed). */
static struct output_match
output_longest(const struct output_line *a, const struct output_line *b,
    const struct output_b2j *t, size_t *j2len, size_t *new, size_t *touched,
    size_t alo, size_t ahi, size_t blo, size_t bhi)
{
	struct output_match m = { alo, blo, 0 };
	size_t i, j, k, nt = 0, nnew, *tn = touched + (bhi + 1), first;

	for (i = alo; i < ahi; i++) {
		nnew = 0;
		first = output_b2j_find(t, b, &a[i]);
		if (first != OUTPUT_NONE && t->popular[first])
			first = OUTPUT_NONE;
		for (j = first; j != OUTPUT_NONE; j = t->next[j]) {
			if (j < blo)
				continue;
			if (j >= bhi)
				break;
			k = (j > 0 ? j2len[j - 1] : 0) + 1;
			new[j] = k;
			tn[nnew++] = j;
			if (k > m.size) {
				m.a = i - k + 1;
				m.b = j - k + 1;
				m.size = k;
			}
		}
		/* j2len = newj2len */
		for (j = 0; j < nt; j++)
			j2len[touched[j]] = 0;
		for (j = 0; j < nnew; j++) {
			j2len[tn[j]] = new[tn[j]];
			new[tn[j]] = 0;
			touched[j] = tn[j];
		}
		nt = nnew;
	}
	for (j = 0; j < nt; j++)
		j2len[touched[j]] = 0;
	while (m.a > alo && m.b > blo &&
	    output_line_eq(&a[m.a - 1], &b[m.b - 1])) {
		m.a--;
		m.b--;
		m.size++;
	}
	while (m.a + m.size < ahi && m.b + m.size < bhi &&
	    output_line_eq(&a[m.a + m.size], &b[m.b + m.size]))
		m.size++;
	return m;
}

static int
output_match_cmp(const void *x, const void *y)
{
	const struct output_match *p = x, *q = y;

	if (p->a != q->a)
		return p->a < q->a ? -1 : 1;
	if (p->b != q->b)
		return p->b < q->b ? -1 : 1;
	return p->size < q->size ? -1 : p->size > q->size;
}

/* A part of a and b still to match (difflib's queue entries). */
struct output_span {
	size_t	 alo, ahi, blo, bhi;
};

/* difflib's get_matching_blocks: sorted, adjacent ones merged, sentinel. */
static struct output_match *
output_matching_blocks(const struct output_line *a, size_t na,
    const struct output_line *b, size_t nb, size_t *nm)
{
	struct output_b2j t;
	struct output_span *q, sp;
	struct output_match *mb, m, cur;
	size_t nq = 0, n = 0, k, nraw, *j2len, *new, *touched, cap;

	output_b2j_init(&t, b, nb);
	j2len = xcalloc(nb + 1, sizeof *j2len);
	new = xcalloc(nb + 1, sizeof *new);
	touched = xcalloc(2 * (nb + 1), sizeof *touched);
	cap = na + nb + 2;
	q = xreallocarray(NULL, cap, sizeof *q);
	mb = xreallocarray(NULL, cap, sizeof *mb);
	q[nq].alo = 0;
	q[nq].ahi = na;
	q[nq].blo = 0;
	q[nq++].bhi = nb;
	while (nq > 0) {
		sp = q[--nq];
		m = output_longest(a, b, &t, j2len, new, touched, sp.alo,
		    sp.ahi, sp.blo, sp.bhi);
		if (m.size == 0)
			continue;
		mb[n++] = m;
		if (sp.alo < m.a && sp.blo < m.b) {
			q[nq].alo = sp.alo;
			q[nq].ahi = m.a;
			q[nq].blo = sp.blo;
			q[nq++].bhi = m.b;
		}
		if (m.a + m.size < sp.ahi && m.b + m.size < sp.bhi) {
			q[nq].alo = m.a + m.size;
			q[nq].ahi = sp.ahi;
			q[nq].blo = m.b + m.size;
			q[nq++].bhi = sp.bhi;
		}
	}
	qsort(mb, n, sizeof *mb, output_match_cmp);
	cur.a = cur.b = cur.size = 0;
	for (k = 0, nraw = n, n = 0; k < nraw; k++) {
		if (cur.a + cur.size == mb[k].a && cur.b + cur.size == mb[k].b)
			cur.size += mb[k].size;
		else {
			if (cur.size > 0)
				mb[n++] = cur;
			cur = mb[k];
		}
	}
	if (cur.size > 0)
		mb[n++] = cur;
	mb[n].a = na;
	mb[n].b = nb;
	mb[n++].size = 0;
	*nm = n;
	free(q);
	free(j2len);
	free(new);
	free(touched);
	output_b2j_free(&t);
	return mb;
}

/* difflib's opcodes. */
struct output_op {
	char	 tag;		/* 'e'qual, 'r'eplace, 'd'elete, 'i'nsert */
	size_t	 i1, i2, j1, j2;
};

static struct output_op *
output_opcodes(const struct output_match *mb, size_t nm, size_t *nops)
{
	struct output_op *ops;
	size_t k, i = 0, j = 0, n = 0;
	char tag;

	ops = xreallocarray(NULL, 2 * nm + 1, sizeof *ops);
	for (k = 0; k < nm; k++) {
		tag = 0;
		if (i < mb[k].a && j < mb[k].b)
			tag = 'r';
		else if (i < mb[k].a)
			tag = 'd';
		else if (j < mb[k].b)
			tag = 'i';
		if (tag != 0) {
			ops[n].tag = tag;
			ops[n].i1 = i;
			ops[n].i2 = mb[k].a;
			ops[n].j1 = j;
			ops[n++].j2 = mb[k].b;
		}
		i = mb[k].a + mb[k].size;
		j = mb[k].b + mb[k].size;
		if (mb[k].size > 0) {
			ops[n].tag = 'e';
			ops[n].i1 = mb[k].a;
			ops[n].i2 = i;
			ops[n].j1 = mb[k].b;
			ops[n++].j2 = j;
		}
	}
	*nops = n;
	return ops;
}

/* difflib's _format_range_unified. */
static void
output_diff_range(char *buf, size_t len, size_t start, size_t stop)
{
	size_t beginning = start + 1, length = stop - start;

	if (length == 1)
		snprintf(buf, len, "%zu", beginning);
	else
		snprintf(buf, len, "%zu,%zu", length == 0 ? beginning - 1 :
		    beginning, length);
}

/* One diff line: a sign, the line, colored as clush colors it. */
static void
output_diff_line(struct output *out, const char *color, char sign,
    const struct output_line *l)
{
	if (out->color[STREAM_STDOUT])
		output_fd_add(out, STREAM_STDOUT, color, strlen(color));
	output_fd_add(out, STREAM_STDOUT, &sign, 1);
	output_fd_add(out, STREAM_STDOUT, l->p, l->n);
	if (out->color[STREAM_STDOUT])
		output_fd_add(out, STREAM_STDOUT, COLOR_RESET,
		    strlen(COLOR_RESET));
	output_fd_add(out, STREAM_STDOUT, "\n", 1);
}

/* One hunk of difflib's unified_diff: ops[0..n). */
static void
output_diff_hunk(struct output *out, const struct output_op *ops, size_t n,
    const struct output_line *a, const struct output_line *b)
{
	char r1[64], r2[64], *hdr;
	size_t k, i;

	output_diff_range(r1, sizeof r1, ops[0].i1, ops[n - 1].i2);
	output_diff_range(r2, sizeof r2, ops[0].j1, ops[n - 1].j2);
	xasprintf(&hdr, "@@ -%s +%s @@", r1, r2);
	output_colored(out, COLOR_DIFFHNK, hdr, strlen(hdr));
	output_fd_add(out, STREAM_STDOUT, "\n", 1);
	free(hdr);
	for (k = 0; k < n; k++) {
		if (ops[k].tag == 'e') {
			for (i = ops[k].i1; i < ops[k].i2; i++) {
				output_fd_add(out, STREAM_STDOUT, " ", 1);
				output_fd_add(out, STREAM_STDOUT, a[i].p,
				    a[i].n);
				output_fd_add(out, STREAM_STDOUT, "\n", 1);
			}
			continue;
		}
		if (ops[k].tag != 'i')
			for (i = ops[k].i1; i < ops[k].i2; i++)
				output_diff_line(out, COLOR_DIFFDEL, '-',
				    &a[i]);
		if (ops[k].tag != 'd')
			for (i = ops[k].j1; i < ops[k].j2; i++)
				output_diff_line(out, COLOR_DIFFADD, '+',
				    &b[i]);
	}
}

/*
 * difflib.unified_diff(a, b, afile, bfile, lineterm=''), printed as clush
 * --diff prints it (three lines of context, no dates).
 */
static void
output_unified_diff(struct output *out, const struct output_line *a,
    size_t na, const char *afile, const struct output_line *b, size_t nb,
    const char *bfile)
{
	const size_t c = OUTPUT_DIFF_CONTEXT;
	struct output_match *mb;
	struct output_op *ops, *grp;
	size_t nm, nops, k, ng = 0, started = 0;
	char *hdr;

	mb = output_matching_blocks(a, na, b, nb, &nm);
	ops = output_opcodes(mb, nm, &nops);
	free(mb);
	if (nops == 0) {
		ops[0].tag = 'e';
		ops[0].i1 = ops[0].j1 = 0;
		ops[0].i2 = ops[0].j2 = 1;
		nops = 1;
	}
	if (ops[0].tag == 'e') {
		if (ops[0].i2 > c && ops[0].i2 - c > ops[0].i1)
			ops[0].i1 = ops[0].i2 - c;
		if (ops[0].j2 > c && ops[0].j2 - c > ops[0].j1)
			ops[0].j1 = ops[0].j2 - c;
	}
	if (ops[nops - 1].tag == 'e') {
		if (ops[nops - 1].i1 + c < ops[nops - 1].i2)
			ops[nops - 1].i2 = ops[nops - 1].i1 + c;
		if (ops[nops - 1].j1 + c < ops[nops - 1].j2)
			ops[nops - 1].j2 = ops[nops - 1].j1 + c;
	}
	grp = xreallocarray(NULL, nops + 1, sizeof *grp);
	for (k = 0; k < nops; k++) {
		struct output_op op = ops[k];

		if (op.tag == 'e' && op.i2 - op.i1 > 2 * c) {
			grp[ng] = op;
			grp[ng].i2 = op.i1 + c < op.i2 ? op.i1 + c : op.i2;
			grp[ng].j2 = op.j1 + c < op.j2 ? op.j1 + c : op.j2;
			ng++;
			if (!started++) {
				xasprintf(&hdr, "--- %s", afile);
				output_colored(out, COLOR_DIFFHDR, hdr,
				    strlen(hdr));
				output_fd_add(out, STREAM_STDOUT, "\n", 1);
				free(hdr);
				xasprintf(&hdr, "+++ %s", bfile);
				output_colored(out, COLOR_DIFFHDR, hdr,
				    strlen(hdr));
				output_fd_add(out, STREAM_STDOUT, "\n", 1);
				free(hdr);
			}
			output_diff_hunk(out, grp, ng, a, b);
			ng = 0;
			op.i1 = op.i2 > c && op.i2 - c > op.i1 ? op.i2 - c :
			    op.i1;
			op.j1 = op.j2 > c && op.j2 - c > op.j1 ? op.j2 - c :
			    op.j1;
		}
		grp[ng++] = op;
	}
	if (ng > 0 && !(ng == 1 && grp[0].tag == 'e')) {
		if (!started++) {
			xasprintf(&hdr, "--- %s", afile);
			output_colored(out, COLOR_DIFFHDR, hdr, strlen(hdr));
			output_fd_add(out, STREAM_STDOUT, "\n", 1);
			free(hdr);
			xasprintf(&hdr, "+++ %s", bfile);
			output_colored(out, COLOR_DIFFHDR, hdr, strlen(hdr));
			output_fd_add(out, STREAM_STDOUT, "\n", 1);
			free(hdr);
		}
		output_diff_hunk(out, grp, ng, a, b);
	}
	free(grp);
	free(ops);
}

/*
 * One group of -b: its header and output; with --diff, the first group
 * becomes the reference (*ref) and every later one a diff against it.
 */
static void
output_print_group(struct output *out, struct output_group *g,
    struct output_line **ref, size_t *nref, char **refhosts)
{
	struct output_rec *r = g->first[0];
	struct output_line *cur;
	char *hosts, *hdr, cut[64];
	size_t ncur;

	hosts = output_group_nodeset(g);
	if (out->opt->diff) {
		cur = output_rec_lines(r, &ncur);
		if (*refhosts == NULL) {
			*ref = cur;
			*nref = ncur;
			*refhosts = hosts;
			hosts = NULL;
		} else {
			output_unified_diff(out, *ref, *nref, *refhosts,
			    cur, ncur, hosts);
			free(cur);
		}
	} else {
		cut[0] = '\0';
		if (r->cut)
			snprintf(cut, sizeof cut, " (output cut at %zu bytes)",
			    out->hold_max);
		xasprintf(&hdr, "%s\n%s%s\n%s", OUTPUT_RULE, hosts, cut,
		    OUTPUT_RULE);
		output_colored(out, COLOR_OUT, hdr, strlen(hdr));
		output_fd_add(out, STREAM_STDOUT, "\n", 1);
		output_fd_add(out, STREAM_STDOUT, r->data, r->len);
		if (r->data[r->len - 1] != '\n')
			output_fd_add(out, STREAM_STDOUT, "\n", 1);
		free(hdr);
	}
	free(hosts);
	output_drain_group(out, g->first, g->n);
}

/*
 * -b: every distinct output once, under its hosts, byte for byte as
 * clush -b prints it (clush's node set, " (N)" only for N > 1, the largest
 * group first within an exit code); then, on stderr, clush's line for
 * each non-zero exit code. A cut output says so in its header.
 * --diff: the first output so ordered is the reference, and every other
 * one (and, after each exit code's outputs, its hosts that printed
 * nothing) is a unified diff against it, as clush --diff prints them.
 */
static void
output_print_gathered(struct output *out)
{
	struct output_rec **v, **quiet;
	struct output_group *g, qg;
	struct output_line *ref = NULL;
	size_t i, j, n = 0, ng, nref = 0, nq;
	char *hosts, *refhosts = NULL;
	int rc, nextrc;

	v = xreallocarray(NULL, out->nrecs == 0 ? 1 : out->nrecs, sizeof *v);
	quiet = xreallocarray(NULL, out->nrecs == 0 ? 1 : out->nrecs,
	    sizeof *quiet);
	for (i = 0; i < out->nrecs; i++) {
		if (out->recs[i].len > 0)
			v[n++] = &out->recs[i];
	}
	g = output_groups(v, n, output_sort_data, output_key_data, &ng);
	qsort(g, ng, sizeof *g, output_group_clush_cmp);
	/* Exit codes in order (clush goes through them), groups in each. */
	for (i = 0, rc = -1; ; rc = nextrc) {
		for (j = 0, nextrc = INT_MAX; j < out->nrecs; j++)
			if (out->recs[j].rc > rc && out->recs[j].rc < nextrc)
				nextrc = out->recs[j].rc;
		if (nextrc == INT_MAX)
			break;
		for (; i < ng && g[i].first[0]->rc == nextrc; i++)
			output_print_group(out, &g[i], &ref, &nref,
			    &refhosts);
		/* --diff: after an exit code's outputs, its silent hosts. */
		if (refhosts == NULL)
			continue;
		for (j = 0, nq = 0; j < out->nrecs; j++)
			if (out->recs[j].len == 0 && out->recs[j].rc == nextrc)
				quiet[nq++] = &out->recs[j];
		if (nq == 0)
			continue;
		qg.first = quiet;
		qg.n = nq;
		hosts = output_group_nodeset(&qg);
		output_unified_diff(out, ref, nref, refhosts, NULL, 0, hosts);
		free(hosts);
		output_drain_group(out, quiet, nq);
	}
	free(ref);
	free(refhosts);
	free(g);
	free(quiet);
	output_print_rc_lines(out, v);
	free(v);
}

/* Append str to b, cut to at most max bytes with "..." marking the cut. */
static void
output_buf_add_cut(struct output_buf *b, const char *str, size_t max)
{
	size_t n = strlen(str), m, k;

	if (n <= max) {
		output_buf_add(b, str, n);
		return;
	}
	/* Not inside an octal escape ("\\033") that log_safe made. */
	m = max - 3;
	for (k = m > 3 ? m - 3 : 0; k < m; k++) {
		if (str[k] == '\\' && k + 4 > m) {
			m = k;
			break;
		}
	}
	output_buf_add(b, str, m);
	output_buf_addstr(b, "...");
}

/*
 * The one-line summary of what failed, on stderr: "reason: hosts" per
 * reason. It stays one readable line: each reason and host range is cut
 * to a bound, and once the line is long, the remaining reasons (often
 * host-specific ones; a failed host also has its own line above) go into
 * one last group, "N other reasons: hosts".
 */
static void
output_print_summary(struct output *out)
{
	struct output_rec **v, **rest;
	struct output_group *g, og = { NULL, 0 };
	struct output_buf b = { NULL, 0, 0 };
	size_t i, j, n = 0, ng, nfailed = 0, nbad = 0, total, nrest = 0;
	char tmp[128], *hosts;

	v = xreallocarray(NULL, out->nrecs == 0 ? 1 : out->nrecs, sizeof *v);
	for (i = 0; i < out->nrecs; i++) {
		if (out->recs[i].status == NULL)
			continue;
		v[n++] = &out->recs[i];
		if (out->recs[i].failed)
			nfailed++;
		else
			nbad++;
	}
	if (n == 0) {
		free(v);
		return;
	}
	total = out->nrecs;
	if (out->nsessions > total)
		total = out->nsessions;
	if (nfailed > 0)
		snprintf(tmp, sizeof tmp, "%s: %zu of %zu host%s failed: ",
		    log_progname(), nfailed, total, total == 1 ? "" : "s");
	else
		snprintf(tmp, sizeof tmp, "%s: %zu of %zu host%s exited "
		    "non-zero: ", log_progname(), nbad, total,
		    total == 1 ? "" : "s");
	output_buf_addstr(&b, tmp);

	g = output_groups(v, n, output_sort_status, output_key_status, &ng);
	rest = xreallocarray(NULL, n, sizeof *rest);
	for (i = 0; i < ng; i++) {
		/* Room left for this group and a last "other reasons" one? */
		if (i > 0 && ng - i > 1 && b.len + OUTPUT_REASON_MAX +
		    OUTPUT_HOSTS_MAX > OUTPUT_SUMMARY_MAX - OUTPUT_HOSTS_MAX -
		    64) {
			for (; i < ng; i++, nrest++)
				for (j = 0; j < g[i].n; j++)
					rest[og.n++] = g[i].first[j];
			break;
		}
		if (i > 0)
			output_buf_addstr(&b, "; ");
		/* One host: its own words; more: what they share. */
		output_buf_add_cut(&b, g[i].n == 1 ? g[i].first[0]->status :
		    g[i].first[0]->skey,
		    OUTPUT_REASON_MAX);
		output_buf_addstr(&b, ": ");
		hosts = output_group_hosts(&g[i], 0);
		output_buf_add_cut(&b, hosts, OUTPUT_HOSTS_MAX);
		free(hosts);
	}
	if (nrest > 0) {
		og.first = rest;
		qsort(rest, og.n, sizeof *rest, output_sort_idx);
		snprintf(tmp, sizeof tmp, "; %zu other reasons: ",
		    nrest);
		output_buf_addstr(&b, tmp);
		hosts = output_group_hosts(&og, 0);
		output_buf_add_cut(&b, hosts, OUTPUT_HOSTS_MAX);
		free(hosts);
	}
	output_buf_add(&b, "\n", 1);
	output_fd_add(out, STREAM_STDERR, b.p, b.len);
	output_buf_free(&b);
	free(rest);
	free(g);
	free(v);
}

size_t
output_lost_hosts(const struct output *out)
{
	size_t i, n = 0;

	for (i = 0; out != NULL && i < out->nrecs; i++) {
		if (out->recs[i].lost)
			n++;
	}
	return n;
}

/* Output that could not be written: how many hosts, and the first why. */
static void
output_print_lost(struct output *out)
{
	size_t n, total;
	char *line;

	if ((n = output_lost_hosts(out)) == 0)
		return;
	total = out->nrecs;
	if (out->nsessions > total)
		total = out->nsessions;
	xasprintf(&line, "%s: output of %zu of %zu host%s lost (%s)\n",
	    log_progname(), n, total, total == 1 ? "" : "s", out->lost_why);
	output_fd_add(out, STREAM_STDERR, line, strlen(line));
	free(line);
}

void
output_finish(struct output *out)
{
	if (out == NULL)
		return;
	output_progress_erase(out);
	if (out->opt->json)
		;
	else if (out->opt->by_host && out->opt->gather)
		output_print_by_line(out);
	else if (out->opt->by_host)
		output_print_by_host(out);
	else if (out->opt->gather)
		output_print_gathered(out);
	output_fd_drain(out, STREAM_STDOUT);
	output_print_summary(out);
	output_print_lost(out);
	output_fd_drain(out, STREAM_STDOUT);
	output_fd_drain(out, STREAM_STDERR);
	output_watermark(out);
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

/* "1.5M": bytes for the progress line. */
static void
output_progress_size(char *buf, size_t len, uint64_t n)
{
	const char	*u = "KMGT";
	double		 d = (double)n;
	int		 i = -1;

	while (d >= 1024 && i < 3) {
		d /= 1024;
		i++;
	}
	if (i < 0)
		snprintf(buf, len, "%llu", (unsigned long long)n);
	else
		snprintf(buf, len, "%.1f%c", d, u[i]);
}

/*
 * --copy/--rcopy progress: bytes moved, hosts done, and the three hosts
 * furthest behind among those copying.
 */
static int
output_progress_copy(const struct output *out, const struct output_counts *c,
    char *line, size_t len)
{
	const struct session	*s, *slow[3] = { NULL, NULL, NULL };
	uint64_t		 bytes = 0;
	char			 b1[16], b2[16], tail[160];
	size_t			 i, j, k, off;

	for (i = 0; i < out->nsessions; i++) {
		s = &out->sessions[i];
		bytes += s->copy_bytes;
		if (s->state != S_RUNNING)
			continue;
		for (j = 0; j < 3; j++) {
			if (slow[j] == NULL ||
			    s->copy_bytes < slow[j]->copy_bytes) {
				for (k = 2; k > j; k--)
					slow[k] = slow[k - 1];
				slow[j] = s;
				break;
			}
		}
	}
	tail[0] = '\0';
	for (j = 0, off = 0; j < 3 && slow[j] != NULL && off < sizeof tail;
	    j++) {
		output_progress_size(b1, sizeof b1, slow[j]->copy_bytes);
		output_progress_size(b2, sizeof b2, slow[j]->copy_total);
		off += (size_t)snprintf(tail + off, sizeof tail - off,
		    "%s%s %s%s%s", j == 0 ? ", slowest: " : ", ",
		    slow[j]->host->label, b1, slow[j]->copy_total > 0 ?
		    "/" : "", slow[j]->copy_total > 0 ? b2 : "");
	}
	output_progress_size(b1, sizeof b1, bytes);
	return (snprintf(line, len, "\r[%sB copied, hosts done %zu/%zu, "
	    "failed %zu%s]\033[K", b1, c->done, out->nsessions, c->failed,
	    tail));
}

void
output_progress(struct output *out, const struct output_counts *c)
{
	char line[256];
	int n;

	if (out == NULL || !out->opt->progress || out->fds[1].dead)
		return;
	if (evbuffer_get_length(out->fds[1].buf) > 0)
		return;
	if (out->opt->copy != COPY_NONE)
		n = output_progress_copy(out, c, line, sizeof line);
	else
		n = snprintf(line, sizeof line,
		    "\r[done %zu, running %zu, failed %zu, total %zu]\033[K",
		    c->done, c->running, c->failed, out->nsessions);
	if (n <= 0 || (size_t)n >= sizeof line)
		return;
	/* Redraw only what changed: a terminal over ssh is slow. */
	if (out->progress_shown && strcmp(line, out->progress_last) == 0)
		return;
	if (write(STDERR_FILENO, line, (size_t)n) == n) {
		out->progress_shown = 1;
		memcpy(out->progress_last, line, (size_t)n + 1);
	}
}

void
output_progress_erase(struct output *out)
{
	if (out == NULL || !out->opt->progress || out->fds[1].dead ||
	    !out->progress_shown)
		return;
	out->progress_shown = 0;
	if (write(STDERR_FILENO, "\r\033[K", 4) != 4)
		debug2("progress: erase failed");
}
