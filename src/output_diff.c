/*
 * --diff, as clush --diff prints it: the first gathered output is the
 * reference and every other one a unified diff against it. The matching
 * is Python difflib's (SequenceMatcher: longest matching blocks, lines
 * that are too common in b not indexed; then unified_diff's hunks with
 * OUTPUT_DIFF_CONTEXT lines of context), so that the bytes are clush's.
 */
#include "config.h"

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrsh/htab.h"
#include "mrsh/output.h"
#include "mrsh/xmalloc.h"

#include "output_internal.h"

#define OUTPUT_DIFF_CONTEXT	3	/* lines around a change, as diff -u */

struct output_match {
	size_t	 a, b, size;
};

/* b's lines indexed by content (difflib's b2j, popular lines dropped). */
struct output_b2j {
	const struct output_line *b;
	struct htab	  lines;	/* distinct lines: the first in b */
	size_t	 *next;		/* b index -> next index of the same line */
	size_t	 *head;		/* b index -> first index of its line */
	int	 *popular;	/* b index: its line is junk (autojunk) */
};

#define OUTPUT_NONE	((size_t)-1)

static int
output_line_same(const void *entry, const void *key)
{
	return output_line_eq(entry, key);
}

/* The first index in b of a line equal to l, or OUTPUT_NONE. */
static size_t
output_b2j_find(const struct output_b2j *t, const struct output_line *l)
{
	const struct output_line *first;

	first = htab_find(&t->lines, htab_hash(HTAB_HASH_INIT, l->p, l->n),
	    output_line_same, l);
	return first == NULL ? OUTPUT_NONE : (size_t)(first - t->b);
}

static void
output_b2j_init(struct output_b2j *t, const struct output_line *b, size_t nb)
{
	size_t i, j, *last, *count;

	t->b = b;
	htab_init(&t->lines, nb);
	t->next = xreallocarray(NULL, nb + 1, sizeof *t->next);
	t->head = xreallocarray(NULL, nb + 1, sizeof *t->head);
	t->popular = xcalloc(nb + 1, sizeof *t->popular);
	last = xreallocarray(NULL, nb + 1, sizeof *last);
	count = xcalloc(nb + 1, sizeof *count);
	for (i = 0; i < nb; i++) {
		t->next[i] = OUTPUT_NONE;
		if ((j = output_b2j_find(t, &b[i])) == OUTPUT_NONE) {
			htab_insert(&t->lines, htab_hash(HTAB_HASH_INIT,
			    b[i].p, b[i].n), (void *)&b[i]);
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
	htab_free(&t->lines);
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
		first = output_b2j_find(t, &a[i]);
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
void
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
