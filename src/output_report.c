/*
 * What output says about the run rather than the hosts' bytes: at the end,
 * the one-line failure summary on stderr (hosts grouped by reason, their
 * own names and key fingerprints taken out of the reason so that 30 hosts
 * with one problem share one group) and the line counting the hosts whose
 * output was lost; during the run, the --progress line on a terminal
 * stderr, drawn with the scheduler's counts and erased before anything
 * else is written there.
 */
#include "config.h"

#include <sys/types.h>

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "mrsh/log.h"
#include "mrsh/options.h"
#include "mrsh/output.h"
#include "mrsh/session.h"
#include "mrsh/xmalloc.h"

#include "output_internal.h"

/* The summary is one line: bounded, whatever servers say and however many. */
#define OUTPUT_SUMMARY_MAX	1024	/* the whole line, about */
#define OUTPUT_REASON_MAX	200	/* one reason */
#define OUTPUT_HOSTS_MAX	200	/* one group's host range */

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
char *
output_status_key(const char *status, const struct session *s)
{
	struct evbuffer *b = xevbuffer_new();
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
			xevbuffer_addstr(b, "<host>");
			continue;
		}
		if (strncmp(p, "SHA256:", 7) == 0) {
			for (q = p + 7; isalnum((unsigned char)*q) ||
			    *q == '+' || *q == '/' || *q == '='; q++)
				;
			if (q > p + 7) {
				xevbuffer_addstr(b, "SHA256:<key>");
				n = (size_t)(q - p);
				continue;
			}
		}
		xevbuffer_add(b, p, 1);
		n = 1;
	}
	return xevbuffer_take(b, NULL);
}

/* Summary key: failures before non-zero exits, then the status text. */
static int
output_key_status(const struct output_rec *ra, const struct output_rec *rb)
{
	if (ra->failed != rb->failed)
		return rb->failed - ra->failed;
	return strcmp(ra->skey, rb->skey);
}

/* Append str to b, cut to at most max bytes with "..." marking the cut. */
static void
output_add_cut(struct evbuffer *b, const char *str, size_t max)
{
	size_t n = strlen(str), m, k;

	if (n <= max) {
		xevbuffer_add(b, str, n);
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
	xevbuffer_add(b, str, m);
	xevbuffer_addstr(b, "...");
}

/*
 * The one-line summary of what failed, on stderr: "reason: hosts" per
 * reason. It stays one readable line: each reason and host range is cut
 * to a bound, and once the line is long, the remaining reasons (often
 * host-specific ones; a failed host also has its own line above) go into
 * one last group, "N other reasons: hosts".
 */
void
output_print_summary(struct output *out)
{
	struct output_rec **v, **rest;
	struct output_group *g, og = { NULL, 0 };
	struct evbuffer *b;
	size_t i, j, n = 0, ng, nfailed = 0, nbad = 0, total, nrest = 0, len;
	char tmp[128], *hosts;
	const char *line;

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
	b = xevbuffer_new();
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
	xevbuffer_addstr(b, tmp);

	g = output_groups(v, n, output_key_status, &ng);
	rest = xreallocarray(NULL, n, sizeof *rest);
	for (i = 0; i < ng; i++) {
		/* Room left for this group and a last "other reasons" one? */
		if (i > 0 && ng - i > 1 && evbuffer_get_length(b) + OUTPUT_REASON_MAX +
		    OUTPUT_HOSTS_MAX > OUTPUT_SUMMARY_MAX - OUTPUT_HOSTS_MAX -
		    64) {
			for (; i < ng; i++, nrest++)
				for (j = 0; j < g[i].n; j++)
					rest[og.n++] = g[i].first[j];
			break;
		}
		if (i > 0)
			xevbuffer_addstr(b, "; ");
		/* One host: its own words; more: what they share. */
		output_add_cut(b, g[i].n == 1 ? g[i].first[0]->status :
		    g[i].first[0]->skey,
		    OUTPUT_REASON_MAX);
		xevbuffer_addstr(b, ": ");
		hosts = output_group_hosts(&g[i], 0);
		output_add_cut(b, hosts, OUTPUT_HOSTS_MAX);
		free(hosts);
	}
	if (nrest > 0) {
		og.first = rest;
		output_sort_recs(rest, og.n, NULL);
		snprintf(tmp, sizeof tmp, "; %zu other reasons: ",
		    nrest);
		xevbuffer_addstr(b, tmp);
		hosts = output_group_hosts(&og, 0);
		output_add_cut(b, hosts, OUTPUT_HOSTS_MAX);
		free(hosts);
	}
	xevbuffer_add(b, "\n", 1);
	line = xevbuffer_bytes(b, &len);
	output_fd_add(out, STREAM_STDERR, line, len);
	evbuffer_free(b);
	free(rest);
	free(g);
	free(v);
}

/* Output that could not be written: how many hosts, and the first why. */
void
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
