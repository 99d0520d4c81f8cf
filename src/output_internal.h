/*
 * Private to the output module (src/output*.c): its state and what its
 * files share. output.c routes the hosts' streams, output_fd.c writes fd 1
 * and 2, output_json.c the --json objects, output_gather.c the -b / -L
 * output, output_diff.c --diff, output_report.c the summary and the
 * progress line. Everything outside the module uses mrsh/output.h.
 */
#ifndef MRSH_OUTPUT_INTERNAL_H
#define MRSH_OUTPUT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "mrsh/htab.h"
#include "mrsh/output.h"
#include "mrsh/session.h"

struct evbuffer;
struct event;
struct event_base;
struct options;

/* clush's colors: labels and headers, stderr labels, diff parts. */
#define COLOR_OUT		"\033[94m"
#define COLOR_ERR		"\033[91m"
#define COLOR_DIFFHDR		"\033[1m"
#define COLOR_DIFFHNK		"\033[96m"
#define COLOR_DIFFADD		"\033[92m"
#define COLOR_DIFFDEL		"\033[91m"
#define COLOR_RESET		"\033[0m"

/* Where one stream of a host goes (besides an optional file). */
enum output_sink {
	SINK_NONE = 0,
	SINK_PRINT,		/* prefixed lines to fd 1 / fd 2 */
	SINK_HOLD		/* kept for -b or --json, bounded */
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
	struct evbuffer		*line[2];	/* partial line; NULL: none */
	struct evbuffer		*hold[2];	/* -b / --json; NULL: none */
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
	char			*data;
	size_t			 len;
	int			 cut;
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
	struct htab		 blobs;		/* output_blob by hash */
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

/* One line of held output. */
struct output_line {
	const char	*p;
	size_t		 n;
};

/* A run of records with the same key inside a sorted array. */
struct output_group {
	struct output_rec	**first;
	size_t			  n;
};

/* output.c */
const char *output_label(const struct session *);
char	*output_session_signal(const struct session_outcome *);
const char *output_status_word(const struct session *);
void	output_lost_why(struct output *, const char *, int);

/* output_fd.c: fd 1 and fd 2 */
void	output_fds_init(struct output *);
void	output_fds_free(struct output *);
void	output_fd_add(struct output *, int, const void *, size_t);
void	output_fd_add_host(struct output *, struct output_host *, int,
	    const void *, size_t);
void	output_fd_kick(struct output *, int);
void	output_fd_drain(struct output *, int);
void	output_watermark(struct output *);

/* output_json.c */
int	output_tv_set(const struct timeval *);
void	output_json_host(struct output *, struct session *,
	    struct output_host *);

/* output_gather.c: -b, -L, -b -L */
void	output_blobs_free(struct output *);
struct output_blob *output_blob_fold(struct output *, uint64_t, char *,
	    size_t, int);
void	output_bl_event(struct output *, size_t);
/* Sort records by a key (NULL: none), then host order. */
void	output_sort_recs(struct output_rec **, size_t,
	    int (*)(const struct output_rec *, const struct output_rec *));
struct output_group *output_groups(struct output_rec **, size_t,
	    int (*)(const struct output_rec *, const struct output_rec *),
	    size_t *);
char	*output_group_hosts(const struct output_group *, int);
void	output_colored(struct output *, const char *, const char *, size_t);
int	output_line_eq(const struct output_line *, const struct output_line *);
void	output_print_gathered(struct output *);
void	output_print_by_host(struct output *);
void	output_print_by_line(struct output *);

/* output_diff.c: --diff */
void	output_unified_diff(struct output *, const struct output_line *,
	    size_t, const char *, const struct output_line *, size_t,
	    const char *);

/* output_report.c: the summary, lost output, the progress line */
char	*output_status_key(const char *, const struct session *);
void	output_print_summary(struct output *);
void	output_print_lost(struct output *);

#endif
