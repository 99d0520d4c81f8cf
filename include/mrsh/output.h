/*
 * Output: lines as they arrive ("host: line"), gathered (-b, identical
 * outputs once, dshbak -c style), per-host files (--outdir/--errdir), or
 * one JSON object per host (--json); and the final failure summary.
 *
 * Memory stays bounded: stdout writes are buffered and, past a high
 * watermark, the scheduler is asked to pause (the backpressure hook it
 * installed) until they drain; gather/json keep at most opt->gather_max
 * bytes per host per stream and note the cut.
 *
 * Output talks one way: the scheduler calls these functions, and output
 * answers only through the hooks the scheduler installed.
 */
#ifndef MRSH_OUTPUT_H
#define MRSH_OUTPUT_H

#include <stddef.h>

#include "mrsh/session.h"

struct event_base;
struct options;
struct output;

/* What output tells the scheduler; installed by it at output_new. */
struct output_hooks {
	/*
	 * fd 1 and 2 hold more than the high watermark queued (paused 1):
	 * stop reading from hosts; below the low watermark again (paused 0):
	 * read again. Called on changes only.
	 */
	void	(*backpressure)(int paused, void *arg);
	/* stdout is gone (EPIPE, e.g. "| head"): end the run quietly. */
	void	(*stdout_broken)(void *arg);
	void	 *arg;
};

/* The scheduler's counts, for the progress line. */
struct output_counts {
	size_t	done;		/* finished, not failed */
	size_t	running;	/* started, not finished */
	size_t	failed;
};

/*
 * Output for the sessions[0..nsessions) (host order; read, and each one's
 * ->out owned by output). base NULL: fd 1 and 2 are written blocking.
 * hooks may be NULL. Returns NULL after printing a one-line error (e.g.
 * --outdir unusable).
 */
struct output *output_new(const struct options *, struct event_base *base,
	    struct session *sessions, size_t nsessions,
	    const struct output_hooks *hooks);
void	output_free(struct output *);

/* Per-session state (stored in session->out); created on first data. */
void	output_data(struct output *, struct session *, enum stream,
	    const char *, size_t);
/* Stream EOF: flush a last line without newline, once. */
void	output_eof(struct output *, struct session *, enum stream);
/* Session finished (DONE or FAILED): json line, close files, etc. */
void	output_session_done(struct output *, struct session *);
void	output_session_free(struct session *);

/*
 * After the loop: print gathered output (-b), then the failure summary on
 * stderr (one line per reason with compressed host ranges) when anything
 * failed. Flushes everything (blocking).
 */
void	output_finish(struct output *);

/*
 * Hosts some of whose output could not be written (stdout or stderr failed
 * other than by a closed pipe, or a --outdir/--errdir file could not be
 * created, written or closed). Final after output_finish().
 */
size_t	output_lost_hosts(const struct output *);

/*
 * -b: hosts recorded, distinct outputs held (each once) and their bytes.
 * Returns 0 when the run does not gather.
 */
int	output_gather_stats(const struct output *, size_t *, size_t *,
	    size_t *);

/* Is stdout congested above the high watermark? */
int	output_blocked(const struct output *);

/* Write what is buffered, blocking; used on exit paths. */
void	output_flush(struct output *);

/* --progress: draw the line on stderr with these counts, if changed. */
void	output_progress(struct output *, const struct output_counts *);
/* Erase the progress line if it is shown. */
void	output_progress_erase(struct output *);

/*
 * JSON string escaping (valid UTF-8 out; invalid bytes as \u00XX). Returns
 * an allocated string with the surrounding double quotes.
 */
char	*output_json_string(const char *, size_t);

#endif
