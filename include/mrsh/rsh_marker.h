/*
 * The rsh transport's exit status marker filter (see transport_rsh.c):
 * the command's stdout ends with "\n__MRSH_HEX:STATUS\n", HEX random per
 * run. The filter passes the output on without the marker (and without
 * the newline before it, so output that lacks a final newline comes out
 * byte-exact), holds back at most one marker length while it might be the
 * start of the marker, reads the status digits, and passes on as is
 * whatever comes after (a background job's output).
 */
#ifndef MRSH_RSH_MARKER_H
#define MRSH_RSH_MARKER_H

#include <stddef.h>

#define RSH_MARKER_PREFIX	"__MRSH_"
#define RSH_MARKER_PATTERN_MAX	64
#define RSH_MARKER_CODE_MAX	12
/* The most bytes one rsh_marker_feed() takes. */
#define RSH_MARKER_READ_MAX	16384

/* Where the filter is. */
enum rsh_mk {
	MK_SCAN = 0,	/* looking for the marker */
	MK_CODE,	/* marker seen, reading the digits */
	MK_AFTER	/* status known; relay the rest as is */
};

struct rsh_marker_ops {
	/* Bytes of the command's stdout; -1 to stop (the session closes). */
	int	(*out)(void *arg, const char *buf, size_t len);
	/* The status: 0-255, or -1 if malformed; -1 to stop. */
	int	(*status)(void *arg, int code);
	/* The state goes from one to the other (for the trace). */
	void	(*state)(void *arg, enum rsh_mk from, enum rsh_mk to,
		    const char *func, int line);
};

struct rsh_marker {
	const struct rsh_marker_ops *ops;
	void		*arg;
	const char	*pattern;	/* "\n__MRSH_HEX:", the run's */
	size_t		 patlen;
	enum rsh_mk	 mk;
	char		 hold[RSH_MARKER_PATTERN_MAX + RSH_MARKER_READ_MAX];
	size_t		 holdlen;
	char		 code[RSH_MARKER_CODE_MAX];
	size_t		 codelen;
};

extern const char *rsh_marker_names[];

/* Start a filter for pattern (of patlen < RSH_MARKER_PATTERN_MAX bytes). */
void	rsh_marker_init(struct rsh_marker *, const char *pattern,
	    size_t patlen, const struct rsh_marker_ops *, void *arg);
/*
 * Where to read the next at most RSH_MARKER_READ_MAX bytes of stdout so
 * that rsh_marker_feed() need not copy them (behind the held-back tail).
 */
char	*rsh_marker_readbuf(struct rsh_marker *);
/*
 * Feed len (<= RSH_MARKER_READ_MAX) bytes of stdout, which may be at
 * rsh_marker_readbuf(). Returns -1 if a callback said stop, else 0.
 */
int	rsh_marker_feed(struct rsh_marker *, const char *buf, size_t len);
/* stdout ended: pass on the held-back tail. -1 if out said stop. */
int	rsh_marker_eof(struct rsh_marker *);

#endif
