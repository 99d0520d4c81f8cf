/*
 * Unit tests for the rsh exit status marker filter (src/rsh_marker.c):
 * the output comes out byte for byte without the marker and the newline
 * before it, whatever the reads are -- the stream is cut at every
 * position, at every pair of positions, and fed a byte at a time --;
 * fake markers (another run's, a prefix of ours, a marker without its
 * newline) pass through; binary data with newlines, NULs and marker
 * prefixes passes through; malformed, empty, out of range and overlong
 * statuses are reported as malformed; output after the marker is relayed;
 * a held-back tail comes out at EOF; a stop from the owner stops it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrsh/rsh_marker.h"
#include "tap.h"

#define PAT	"\n__MRSH_00112233445566778899aabb:"

/* What the filter gave its owner. */
struct sink {
	char	*out;
	size_t	 len;
	size_t	 cap;
	int	 status;	/* -2: none reported */
	int	 nstatus;
	int	 ntrans;	/* state changes seen */
	size_t	 stop_after;	/* out says stop past this many bytes */
};

static int
sink_out(void *arg, const char *buf, size_t len)
{
	struct sink	*k = arg;

	if (k->len + len + 1 > k->cap) {
		k->cap = (k->len + len + 1) * 2;
		if ((k->out = realloc(k->out, k->cap)) == NULL)
			abort();
	}
	memcpy(k->out + k->len, buf, len);
	k->len += len;
	k->out[k->len] = '\0';
	return (k->stop_after > 0 && k->len >= k->stop_after ? -1 : 0);
}

static int
sink_status(void *arg, int code)
{
	struct sink	*k = arg;

	k->status = code;
	k->nstatus++;
	return (0);
}

static void
sink_state(void *arg, enum rsh_mk from, enum rsh_mk to, const char *func,
    int line)
{
	struct sink	*k = arg;

	if (to != from + 1)
		abort();	/* the filter only moves forward */
	k->ntrans++;
}

static const struct rsh_marker_ops ops = {
	.out = sink_out,
	.status = sink_status,
	.state = sink_state,
};

static struct rsh_marker	m;
static struct sink		k;

static void
start(void)
{
	free(k.out);
	memset(&k, 0, sizeof k);
	k.status = -2;
	rsh_marker_init(&m, PAT, strlen(PAT), &ops, &k);
}

/* Feed data cut at the given positions (ascending, ncut of them), EOF. */
static int
feed_cuts(const char *data, size_t len, const size_t *cuts, int ncut)
{
	size_t	off = 0, end;
	int	i;

	for (i = 0; i <= ncut; i++) {
		end = i < ncut ? cuts[i] : len;
		if (end > off && rsh_marker_feed(&m, data + off,
		    end - off) == -1)
			return (-1);
		off = end;
	}
	return (rsh_marker_eof(&m));
}

/* Feed data in reads of chunk bytes (through the read buffer), EOF. */
static int
feed_chunks(const char *data, size_t len, size_t chunk)
{
	size_t	off, n;
	char	*rb;

	for (off = 0; off < len; off += n) {
		n = len - off < chunk ? len - off : chunk;
		rb = rsh_marker_readbuf(&m);
		memcpy(rb, data + off, n);
		if (rsh_marker_feed(&m, rb, n) == -1)
			return (-1);
	}
	return (rsh_marker_eof(&m));
}

/* Does the sink hold exactly want (wlen bytes) and status code? */
static int
got(const char *want, size_t wlen, int code)
{
	return (k.len == wlen && (wlen == 0 || memcmp(k.out, want,
	    wlen) == 0) && k.status == code && k.nstatus == (code == -2 ?
	    0 : 1));
}

/* One stream, whole: output out (the marker at its end), status want. */
static void
whole(const char *stream, const char *out, int code, const char *name)
{
	start();
	feed_cuts(stream, strlen(stream), NULL, 0);
	if (!ok(got(out, strlen(out), code), name))
		diag("got %zu bytes \"%s\", status %d", k.len,
		    k.out != NULL ? k.out : "", k.status);
}

int
main(void)
{
	const char	*s, *want;
	char		*bin, *stream;
	size_t		 len, wlen, i, j, cuts[2], chunk;
	int		 bad;

	/* The marker ends the output; the newline before it goes too. */
	whole("hello\n" PAT "0\n", "hello\n", 0,
	    "output with a final newline: byte-exact, status 0");
	whole("no newline" PAT "3\n", "no newline", 3,
	    "output without a final newline: byte-exact, status 3");
	whole(PAT "255\n", "", 255, "no output, status 255");
	whole("x" PAT "7\nlate output\n", "xlate output\n", 7,
	    "output after the marker (a background job) is relayed");
	whole("x" PAT "7\n" PAT "9\n", "x" PAT "9\n", 7,
	    "a second marker after the first is output");

	/* Malformed statuses. */
	whole("x" PAT "abc\n", "x", -1, "letters for a status: malformed");
	whole("x" PAT "\n", "x", -1, "an empty status: malformed");
	whole("x" PAT "256\n", "x", -1, "status 256: malformed");
	whole("x" PAT "-1\n", "x", -1, "status -1: malformed");
	whole("x" PAT "00000000000000000000007\n", "x", -1,
	    "an overlong status: malformed");

	/* Fake markers pass through. */
	s = "a\n__MRSH_ffffffffffffffffffffffff:5\nb\n__MRSH_\n__MRSH_0011zz:1\n"
	    "x__MRSH_00112233445566778899aabb:6\nc";
	start();
	feed_cuts(s, strlen(s), NULL, 0);
	ok(got(s, strlen(s), -2), "another run's marker, prefixes of ours "
	    "and ours without its newline: all output, no status");
	start();
	feed_cuts("x\n__MRSH_0011", 13, NULL, 0);
	ok(got("x\n__MRSH_0011", 13, -2),
	    "a prefix of the marker at EOF: held back, then output");
	ok(m.mk == MK_SCAN, "... still looking for the marker");
	start();
	feed_cuts("x" PAT "12", strlen("x" PAT "12"), NULL, 0);
	ok(got("x", 1, -2) && m.mk == MK_CODE,
	    "EOF inside the status: no status, the owner sees MK_CODE");

	/* Every cut, every pair of cuts, and a byte at a time. */
	stream = NULL;
	if (asprintf(&stream, "out\nput\n\n__MRSH_0011\n%s42\nafter",
	    PAT) == -1)
		abort();
	len = strlen(stream);
	want = "out\nput\n\n__MRSH_0011\nafter";
	wlen = strlen(want);
	bad = 0;
	for (i = 1; i < len; i++) {
		start();
		cuts[0] = i;
		feed_cuts(stream, len, cuts, 1);
		if (!got(want, wlen, 42) || k.ntrans != 2) {
			if (bad++ == 0)
				diag("cut at %zu: got \"%s\" status %d", i,
				    k.out != NULL ? k.out : "", k.status);
		}
	}
	ok(bad == 0, "the stream cut in two at every position");
	bad = 0;
	for (i = 1; i < len; i++) {
		for (j = i + 1; j < len; j++) {
			start();
			cuts[0] = i;
			cuts[1] = j;
			feed_cuts(stream, len, cuts, 2);
			if (!got(want, wlen, 42) && bad++ == 0)
				diag("cuts at %zu, %zu: got \"%s\" status %d",
				    i, j, k.out != NULL ? k.out : "",
				    k.status);
		}
	}
	ok(bad == 0, "the stream cut in three at every pair of positions");
	start();
	feed_chunks(stream, len, 1);
	ok(got(want, wlen, 42), "the stream a byte at a time");
	free(stream);

	/* Binary data: newlines, NULs, marker prefixes, in odd reads. */
	len = 300000;
	if ((bin = malloc(len + 64)) == NULL)
		abort();
	srandom(11);
	for (i = 0; i < len; i++)
		bin[i] = (char)(random() & 0xff);
	for (i = 1000; i + 40 < len; i += 7919)	/* a prefix of ours */
		memcpy(bin + i, PAT, 5 + i % 25);
	bin[len - 1] = '\n';
	memcpy(bin + len, PAT "0\n", strlen(PAT "0\n"));
	bad = 0;
	for (chunk = 1; chunk <= RSH_MARKER_READ_MAX; chunk = chunk * 3 + 1) {
		start();
		feed_chunks(bin, len + strlen(PAT "0\n"), chunk);
		if (!got(bin, len, 0) && bad++ == 0)
			diag("reads of %zu: %zu bytes out, status %d", chunk,
			    k.len, k.status);
	}
	ok(bad == 0, "300 kB of binary data in reads of 1 .. 16 kB: "
	    "byte for byte, status 0");
	start();
	feed_chunks(bin, len, RSH_MARKER_READ_MAX);
	ok(got(bin, len, -2), "binary data without a marker: all of it at EOF");

	/* The owner says stop (the session closes): nothing more. */
	start();
	k.stop_after = 3;
	ok(feed_cuts("abcdef" PAT "1\n", strlen("abcdef" PAT "1\n"), NULL,
	    0) == -1 && k.nstatus == 0, "out says stop: the filter stops");
	free(bin);
	free(k.out);
	return (done_testing());
}
