/*
 * Gathered output, byte for byte as ClusterShell's clush prints it: -b
 * (every distinct output once under its hosts' folded node set, by exit
 * code, the largest group first), -L (each host's lines together,
 * labelled, after the run), -b -L (line by line, the hosts that sent the
 * same line once, printed as the lines come), and clush's exit-code lines
 * on stderr. A finished host's held stdout is folded into one copy per
 * distinct output, so 300 hosts with one output hold it once. The
 * grouping of records and the natural order of host names serve the
 * summary (output_report.c) too.
 */
#include "config.h"

#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrsh/hostlist.h"
#include "mrsh/log.h"
#include "mrsh/options.h"
#include "mrsh/output.h"
#include "mrsh/session.h"
#include "mrsh/xmalloc.h"

#include "output_internal.h"

#define OUTPUT_RULE		"---------------"

int
output_gather_stats(const struct output *out, size_t *hosts,
    size_t *distinct, size_t *bytes)
{
	const struct output_blob *b;
	size_t i = 0;

	if (out == NULL || !out->opt->gather || out->opt->json)
		return 0;
	*hosts = out->nrecs;
	*distinct = *bytes = 0;
	while ((b = htab_next(&out->blobs, &i)) != NULL) {
		(*distinct)++;
		*bytes += b->len;
	}
	return 1;
}

void
output_blobs_free(struct output *out)
{
	struct output_blob *b;
	size_t i = 0;

	while ((b = htab_next(&out->blobs, &i)) != NULL) {
		free(b->data);
		free(b);
	}
	htab_free(&out->blobs);
}

/* The bytes a blob is looked up by. */
struct output_blob_key {
	const char	*data;
	size_t		 len;
	int		 cut;
};

static int
output_blob_eq(const void *entry, const void *key)
{
	const struct output_blob *b = entry;
	const struct output_blob_key *k = key;

	return b->len == k->len && b->cut == k->cut &&
	    (k->len == 0 || memcmp(b->data, k->data, k->len) == 0);
}

/*
 * The one copy of this output: an existing blob with the same bytes (the
 * host's buffer is freed), or a new one that takes the buffer over.
 */
struct output_blob *
output_blob_fold(struct output *out, uint64_t hash, char *data, size_t len,
    int cut)
{
	struct output_blob *b;
	struct output_blob_key k = { data, len, cut };

	if ((b = htab_find(&out->blobs, hash, output_blob_eq, &k)) != NULL) {
		free(data);
		return b;
	}
	b = xcalloc(1, sizeof *b);
	b->data = data;
	b->len = len;
	b->cut = cut;
	htab_insert(&out->blobs, hash, b);
	return b;
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

static int
output_idx_cmp(const struct output_rec *ra, const struct output_rec *rb)
{
	if (ra->idx != rb->idx)
		return ra->idx < rb->idx ? -1 : 1;
	return 0;
}

/* A key function for output_sort_recs, as qsort_r's argument. */
struct output_sort_key {
	int	(*key)(const struct output_rec *, const struct output_rec *);
};

/* The one qsort order of records: by key (if any), then host order. */
static int
output_sort_cmp(const void *a, const void *b, void *arg)
{
	const struct output_sort_key *k = arg;
	const struct output_rec *ra = *(struct output_rec *const *)a;
	const struct output_rec *rb = *(struct output_rec *const *)b;
	int c;

	if (k->key != NULL && (c = k->key(ra, rb)) != 0)
		return c;
	return output_idx_cmp(ra, rb);
}

void
output_sort_recs(struct output_rec **v, size_t n,
    int (*key)(const struct output_rec *, const struct output_rec *))
{
	struct output_sort_key k = { key };

	qsort_r(v, n, sizeof *v, output_sort_cmp, &k);
}

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
struct output_group *
output_groups(struct output_rec **v, size_t n,
    int (*key)(const struct output_rec *, const struct output_rec *),
    size_t *ngroups)
{
	struct output_group *g;
	size_t i, ng = 0;

	output_sort_recs(v, n, key);
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

/*
 * The order of ClusterShell's NodeSet: by pattern first (the name with
 * each run of digits read as "%s", compared as a string, so "a10" comes
 * before "a9b" and "n1" before "n-1"), then by the numbers' values, run
 * by run, then by their zero padding (fewer zeros first).
 */
static int
output_label_cmp(const void *a, const void *b)
{
	const char *x0 = *(const char *const *)a, *y0 = *(const char *const *)b;
	const char *x = x0, *y = y0, *xs, *ys;
	size_t xl, yl;
	int dx, dy, pad = 0;

	/* The patterns. */
	while (*x != '\0' && *y != '\0') {
		dx = isdigit((unsigned char)*x);
		dy = isdigit((unsigned char)*y);
		if (dx && dy) {
			while (isdigit((unsigned char)*x))
				x++;
			while (isdigit((unsigned char)*y))
				y++;
			continue;
		}
		if (dx || dy)
			return dx ? '%' - (unsigned char)*y :
			    (unsigned char)*x - '%';
		if (*x != *y)
			return (unsigned char)*x - (unsigned char)*y;
		x++;
		y++;
	}
	if (*x != '\0' || *y != '\0')
		return *x == '\0' ? -1 : 1;
	/* The same pattern: the numbers, then their padding. */
	for (x = x0, y = y0; *x != '\0'; ) {
		if (!isdigit((unsigned char)*x)) {
			x++;
			y++;
			continue;
		}
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
		if (pad == 0 && xs - x != ys - y)
			pad = (xs - x) < (ys - y) ? -1 : 1;
		x = xs + xl;
		y = ys + yl;
	}
	return pad;
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

/*
 * clush's order of groups: the larger group, then the group's first host
 * (in node set order) compared as a plain string, as clush's
 * nodeset_cmpkey() does: "a10,n1" comes before "a2,b1".
 */
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
	return strcmp(la, lb);
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
char *
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
void
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

int
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
	g = output_groups(v, n, output_key_rc, &ng);
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
	int c;

	if ((c = output_key_rc(ra, rb)) != 0)
		return c;
	return output_label_cmp(&ra->label, &rb->label);
}

/*
 * -L: each host's output together, "host: line", after the run; hosts by
 * exit code, then sorted (clush -L). Hosts without output print nothing.
 */
void
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
void
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
	if ((h = out->sessions[i].out) != NULL &&
	    h->hold[STREAM_STDOUT] != NULL)
		*p = xevbuffer_bytes(h->hold[STREAM_STDOUT], len);
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
	uint64_t q;
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
		/*
		 * The line is queued for each of its hosts: if stdout dies
		 * before it is written (a reader that stalls, then resets),
		 * output_fd_lost counts them, as for line mode.
		 */
		q = out->fds[STREAM_STDOUT].added;
		for (i = 0; i < nk; i++) {
			if (kl[i].r != &tmp[kl[i].r->idx])
				kl[i].r->qend[STREAM_STDOUT] = q;
			else if ((h = out->sessions[kl[i].r->idx].out) != NULL)
				h->qend[STREAM_STDOUT] = q;
		}
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
void
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
void
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
	g = output_groups(v, n, output_key_data, &ng);
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
