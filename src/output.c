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
 * This file is the module's interface and its router: each stream of each
 * host goes to its sink (printed as lines, held, or nowhere) and to its
 * --outdir/--errdir file, and a finished host is recorded for what is
 * printed at the end. The writer of fd 1 and 2 is output_fd.c, the shapes
 * are output_json.c, output_gather.c (with output_diff.c) and
 * output_report.c (the summary and the progress line).
 *
 * Lines are reassembled per host and per stream. A partial line is held up
 * to OUTPUT_LINE_MAX bytes; past that the held bytes are printed (labelled:
 * as a line of their own, label and newline added; with -N: as they are)
 * so that a host that never sends a newline cannot make us hold unbounded
 * memory. Apart from that and the label, bytes pass through unchanged
 * (binary data included); a last line without a newline is printed once at
 * EOF, labelled with a newline added, with -N as it is: -N output is
 * byte-exact. Gathered and JSON data keep at most opt->gather_max bytes
 * per host per stream and record the cut.
 *
 * Output never calls into the scheduler: the hooks it installed at
 * output_new are the only way back, and the progress line gets its counts
 * as arguments.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "mrsh/htab.h"
#include "mrsh/log.h"
#include "mrsh/options.h"
#include "mrsh/output.h"
#include "mrsh/session.h"
#include "mrsh/signame.h"
#include "mrsh/xmalloc.h"

#include "output_internal.h"

#define OUTPUT_LINE_MAX		(64 * 1024)	/* longest partial line held */
#define OUTPUT_GATHER_DEFAULT	(1024 * 1024)	/* if gather_max is 0 */

/* Free a host's buffer, if it has one. */
static void
output_evbuffer_free(struct evbuffer **b)
{
	if (*b != NULL)
		evbuffer_free(*b);
	*b = NULL;
}

static size_t
output_held(const struct evbuffer *b)
{
	return b == NULL ? 0 : evbuffer_get_length(b);
}

/* Append to a held stream, keeping at most max bytes. */
static void
output_hold_add(struct evbuffer **b, int *cut, size_t max, const char *p,
    size_t n)
{
	size_t room;

	room = max - output_held(*b);
	if (n > room) {
		n = room;
		*cut = 1;
	}
	if (n == 0)
		return;
	if (*b == NULL)
		*b = xevbuffer_new();
	xevbuffer_add(*b, p, n);
}

const char *
output_label(const struct session *s)
{
	if (s->host == NULL)
		return "?";
	if (s->host->label != NULL)
		return s->host->label;
	return s->host->name != NULL ? s->host->name : "?";
}

/* The signal a session died of, as "KILL" (allocated), or NULL. */
char *
output_session_signal(const struct session_outcome *o)
{
	const char *name;
	char *r;

	if (o->signame != NULL) {
		/* The server's word: made safe for every place it goes. */
		name = o->signame;
		if (strncmp(name, "SIG", 3) == 0)
			name += 3;
		return log_safe_dup(name, strlen(name));
	}
	if (o->signal == 0)
		return NULL;
	if ((name = signame_name(o->signal)) != NULL)
		return xstrdup(name);
	xasprintf(&r, "%d", o->signal);
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
	struct session_outcome o = session_outcome(s);
	char *r, *sig;

	switch (o.end) {
	case SESSION_FAILED:
		if (s->fail_reason != NULL && *s->fail_reason != '\0')
			return log_safe_dup(s->fail_reason,
			    strlen(s->fail_reason));
		return xstrdup(session_fail_kind_name(s->fail_kind));
	case SESSION_SIGNAL:
		sig = output_session_signal(&o);
		xasprintf(&r, "signal %s", sig);
		free(sig);
		return r;
	case SESSION_UNKNOWN:
		return xstrdup("exit status unknown");
	case SESSION_EXIT:
		xasprintf(&r, "exit %u", o.status);
		return r;
	case SESSION_OK:
		break;
	}
	return NULL;
}

/* The --json "status" word. */
const char *
output_status_word(const struct session *s)
{
	switch (session_outcome(s).end) {
	case SESSION_FAILED:
		return s->fail_kind == FAIL_TIMEOUT ? "timeout" : "failed";
	case SESSION_SIGNAL:
		return "signal";
	case SESSION_UNKNOWN:
		return "unknown";
	case SESSION_EXIT:
		return "exit";
	case SESSION_OK:
		break;
	}
	return "ok";
}

/* Note the first reason output was lost, for the summary. */
void
output_lost_why(struct output *out, const char *what, int err)
{
	if (out->lost_why[0] == '\0')
		snprintf(out->lost_why, sizeof out->lost_why, "%s: %s", what,
		    strerror(err));
}

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
	struct evbuffer **pl = &h->line[stream];
	const char *nl, *lp;
	size_t take, len;

	while (n > 0) {
		nl = memchr(p, '\n', n);
		if (nl != NULL) {
			take = (size_t)(nl - p);
			if (output_held(*pl) > 0) {
				xevbuffer_add(*pl, p, take);
				lp = xevbuffer_bytes(*pl, &len);
				output_line(out, s, stream, lp, len);
				evbuffer_drain(*pl, len);
			} else
				output_line(out, s, stream, p, take);
			p += take + 1;
			n -= take + 1;
			continue;
		}
		take = OUTPUT_LINE_MAX - output_held(*pl);
		if (take > n)
			take = n;
		if (*pl == NULL)
			*pl = xevbuffer_new();
		xevbuffer_add(*pl, p, take);
		p += take;
		n -= take;
		if (output_held(*pl) >= OUTPUT_LINE_MAX) {
			lp = xevbuffer_bytes(*pl, &len);
			output_piece(out, s, stream, lp, len, 0);
			evbuffer_drain(*pl, len);
		}
	}
}

/* Print a held partial line, once. */
static void
output_line_flush(struct output *out, struct session *s,
    struct output_host *h, int stream)
{
	const char *lp;
	size_t len;

	if (output_held(h->line[stream]) > 0) {
		lp = xevbuffer_bytes(h->line[stream], &len);
		output_piece(out, s, stream, lp, len, 0);
		output_fd_kick(out, stream);
	}
	output_evbuffer_free(&h->line[stream]);
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

/* log.c hands diagnostics here: queued with host stderr, in order. */
static void
output_log_write(const char *line, size_t len, void *arg)
{
	struct output *out = arg;

	output_fd_add(out, STREAM_STDERR, line, len);
	output_fd_kick(out, STREAM_STDERR);
}

struct output *
output_new(const struct options *opt, struct event_base *base,
    struct session *sessions, size_t nsessions,
    const struct output_hooks *hooks)
{
	struct output *out;
	int i;

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
	output_fds_init(out);
	log_set_writer(output_log_write, out);
	return out;
}

void
output_free(struct output *out)
{
	size_t i;

	if (out == NULL)
		return;
	log_set_writer(NULL, NULL);
	output_flush(out);
	output_fds_free(out);
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

/* Remember a finished host for -b and the summary. */
static void
output_record(struct output *out, struct session *s, struct output_host *h)
{
	struct session_outcome o;
	struct output_rec *r;
	struct output_blob *b;
	uint64_t hash;
	char *data = NULL;
	size_t len = 0;

	if (out->nrecs == out->caprecs) {
		out->caprecs = out->caprecs == 0 ? 64 : out->caprecs * 2;
		out->recs = xreallocarray(out->recs, out->caprecs,
		    sizeof *out->recs);
	}
	r = &out->recs[out->nrecs++];
	memset(r, 0, sizeof *r);
	r->idx = s->idx;
	r->label = xstrdup(output_label(s));
	o = session_outcome(s);
	r->failed = o.end == SESSION_FAILED;
	r->status = output_status_text(s);
	if (r->status != NULL)
		r->skey = output_status_key(r->status, s);
	/* Grouped by what the host adds to the exit status; unknown as 0. */
	r->rc = o.end == SESSION_UNKNOWN ? 0 : o.code;
	r->qend[0] = h->qend[0];
	r->qend[1] = h->qend[1];
	r->lost = h->lost;
	if ((out->opt->gather || out->opt->by_host) && !out->opt->json &&
	    out->sink[STREAM_STDOUT] == SINK_HOLD) {
		/* The blob keeps exactly the bytes, not the buffer. */
		if (output_held(h->hold[0]) > 0)
			data = xevbuffer_take(h->hold[0], &len);
		else
			output_evbuffer_free(&h->hold[0]);
		h->hold[0] = NULL;
		hash = htab_hash(HTAB_HASH_INIT, data, len);
		b = output_blob_fold(out, hash, data, len, h->cut[0]);
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
		output_evbuffer_free(&h->hold[i]);
		output_evbuffer_free(&h->line[i]);
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
		output_evbuffer_free(&h->line[i]);
		output_evbuffer_free(&h->hold[i]);
		if (h->fd[i] != -1)
			close(h->fd[i]);
	}
	free(h);
	s->out = NULL;
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
