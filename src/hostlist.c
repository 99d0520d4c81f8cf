/*
 * Host lists: turns -w expressions, -f host files and -x exclusions into an
 * ordered array of struct host, and compresses names back into pdsh range
 * form for output headers and summaries.
 *
 * An entry is [user@]host[:port]. The host part may hold bracket groups of
 * numeric ranges (node[01-10,15], r[1-2]n[1-3], n[1-3]-ib); a range a-b is
 * zero padded to the width of a. A '[' that starts the host part and whose
 * contents hold a ':' is an IPv6 literal ([::1]:2222); any other '[' opens a
 * range. A host part with two or more ':' and no brackets is a bare IPv6
 * address and has no port. "^FILE" in an expression reads a host file, whose
 * lines use the same syntax; "@NAME" is a node group, expanded by the
 * resolver the groups module installs. Errors are one line in the caller's buffer,
 * naming the offending text; on error nothing is added to the list.
 *
 * hostlist_compress() groups names on prefix and suffix around their last
 * run of digits and is built so that expanding its result gives back exactly
 * the set of names it was given. uniq, exclude and compress use htab.c,
 * so 100,000 hosts cost O(n) or O(n log n).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrsh/hostlist.h"
#include "mrsh/htab.h"
#include "mrsh/log.h"
#include "mrsh/xmalloc.h"

/* How deep ^FILE may nest inside host files (a file naming itself). */
#define HOSTLIST_MAX_DEPTH	8
/* Longest run of digits in a range bound or a compressed number. */
#define HOSTLIST_MAX_DIGITS	18

/* One range a-b of a bracket group; width is the zero padding. */
struct hl_range {
	unsigned long long	 lo;
	unsigned long long	 hi;
	int			 width;
};

/* A bracket group: the ranges of one [...]. */
struct hl_group {
	struct hl_range		*ranges;
	size_t			 n;
};

/* A host part split into literal text around bracket groups. */
struct hl_pattern {
	char			**lits;	/* ngroups + 1 pieces */
	struct hl_group		*groups;
	size_t			 ngroups;
	size_t			 maxlen;	/* longest name */
};

/* An entry split into its parts; host is a pattern unless v6. */
struct hl_entry {
	char			*user;
	char			*host;
	int			 port;
	int			 v6;
};

static int	hostlist_add_expr_depth(struct hostlist *, const char *,
		    char *, size_t, int);

/* Resolves "@group" entries; NULL: groups are not available. */
static hostlist_group_fn hostlist_group_resolver;
static int	hostlist_add_file_depth(struct hostlist *, const char *,
		    char *, size_t, int);

void
hostlist_init(struct hostlist *hl)
{
	hl->hosts = NULL;
	hl->n = 0;
	hl->cap = 0;
}

void
hostlist_free_host(struct host *h)
{
	free(h->name);
	free(h->user);
	free(h->label);
	h->name = h->user = h->label = NULL;
	h->port = 0;
}

/* Free the hosts from index n on, leaving the first n. */
static void
hostlist_truncate(struct hostlist *hl, size_t n)
{
	size_t i;

	for (i = n; i < hl->n; i++)
		hostlist_free_host(&hl->hosts[i]);
	hl->n = n;
}

void
hostlist_free(struct hostlist *hl)
{
	hostlist_truncate(hl, 0);
	free(hl->hosts);
	hostlist_init(hl);
}

/* The label output shows: host, host:port or [v6]:port. */
static char *
hostlist_make_label(const char *name, int port)
{
	char *label;

	if (port == 0)
		return xstrdup(name);
	if (strchr(name, ':') != NULL)
		xasprintf(&label, "[%s]:%d", name, port);
	else
		xasprintf(&label, "%s:%d", name, port);
	return label;
}

/* Append a host; copies name and user. */
static void
hostlist_push(struct hostlist *hl, const char *name, const char *user,
    int port)
{
	struct host *h;

	if (hl->n == hl->cap) {
		hl->cap = hl->cap == 0 ? 16 : hl->cap * 2;
		hl->hosts = xreallocarray(hl->hosts, hl->cap,
		    sizeof *hl->hosts);
	}
	h = &hl->hosts[hl->n++];
	h->name = xstrdup(name);
	h->user = user != NULL ? xstrdup(user) : NULL;
	h->port = port;
	h->label = hostlist_make_label(name, port);
}

/* Characters allowed in a host name (and in range literals). */
static int
hostlist_namechar(int c)
{
	return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_';
}

/* Characters allowed in a user name. */
static int
hostlist_userchar(int c)
{
	return isgraph((unsigned char)c) && strchr("[]:,#^", c) == NULL;
}

/*
 * A user name ssh takes from its command line (OpenSSH's valid_ruser(),
 * since 9.6 and in Debian 12's 9.2p1-2+deb12u2): nothing a shell reads as
 * syntax when a ProxyCommand or Match exec expands %r, no leading '-', no
 * '-' after a blank, no '\\' at the end; and no control characters.
 */
int
hostlist_valid_user(const char *s)
{
	if (*s == '-')
		return 0;
	for (; *s != '\0'; s++) {
		if (iscntrl((unsigned char)*s) ||
		    strchr("'`\";&<>|(){}", *s) != NULL)
			return 0;
		if (isspace((unsigned char)*s) && s[1] == '-')
			return 0;
		if (*s == '\\' && s[1] == '\0')
			return 0;
	}
	return 1;
}

/* Check a v6 literal: an address inet_pton accepts, then %zone if any. */
static int
hostlist_check_v6(const char *addr, const char *entry, char *err,
    size_t errlen)
{
	struct in6_addr in6;
	const char *pct, *p;
	char buf[INET6_ADDRSTRLEN + 1];
	size_t len;

	pct = strchr(addr, '%');
	len = pct != NULL ? (size_t)(pct - addr) : strlen(addr);
	if (len == 0 || len >= sizeof buf)
		goto bad;
	memcpy(buf, addr, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET6, buf, &in6) != 1)
		goto bad;
	if (pct != NULL) {
		if (pct[1] == '\0')
			goto bad;
		for (p = pct + 1; *p != '\0'; p++) {
			if (!hostlist_namechar(*p))
				goto bad;
		}
	}
	return 0;
bad:
	return log_errf(err, errlen, "bad IPv6 address \"%s\" in \"%s\"",
	    addr, entry);
}

/* Parse the digits of a port; 1..65535. */
static int
hostlist_parse_port(const char *s, const char *entry, int *port, char *err,
    size_t errlen)
{
	const char *p;
	long v = 0;

	if (*s == '\0')
		return log_errf(err, errlen, "bad port in \"%s\": "
		    "port is empty", entry);
	for (p = s; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p))
			return log_errf(err, errlen, "bad port \"%s\" in "
			    "\"%s\": not a number", s, entry);
		if (v <= 65535)
			v = v * 10 + (*p - '0');
	}
	if (v < 1 || v > 65535)
		return log_errf(err, errlen, "bad port \"%s\" in \"%s\": "
		    "must be 1..65535", s, entry);
	*port = (int)v;
	return 0;
}

static void
hostlist_entry_free(struct hl_entry *e)
{
	free(e->user);
	free(e->host);
	memset(e, 0, sizeof *e);
}

/*
 * Split a trimmed entry into user, host part and port. The host part of a
 * v6 entry is the bare address; otherwise it may still hold range brackets.
 */
static int
hostlist_split_entry(const char *entry, struct hl_entry *e, char *err,
    size_t errlen)
{
	const char *rest, *at = NULL, *close, *colon = NULL, *p;
	int depth = 0, ncolon = 0;
	char *hostpart = NULL;

	memset(e, 0, sizeof *e);

	/* The last '@' outside brackets ends the user part. */
	for (p = entry; *p != '\0'; p++) {
		if (*p == '[')
			depth++;
		else if (*p == ']')
			depth--;
		else if (*p == '@' && depth == 0)
			at = p;
	}
	rest = entry;
	if (at != NULL) {
		if (at == entry)
			return log_errf(err, errlen,
			    "empty user name in \"%s\"", entry);
		for (p = entry; p < at; p++) {
			if (!hostlist_userchar(*p))
				return log_errf(err, errlen, "bad "
				    "character '%c' in user name in \"%s\"",
				    *p, entry);
		}
		e->user = xstrndup(entry, at - entry);
		rest = at + 1;
		if (!hostlist_valid_user(e->user)) {
			log_errf(err, errlen, "user name \"%s\" contains "
			    "characters ssh refuses, in \"%s\"", e->user,
			    entry);
			goto fail;
		}
	}
	if (*rest == '\0') {
		log_errf(err, errlen, "empty host name in \"%s\"", entry);
		goto fail;
	}

	/* A leading [...] holding a ':' is an IPv6 literal. */
	close = rest[0] == '[' ? strchr(rest, ']') : NULL;
	if (close != NULL && memchr(rest, ':', close - rest) != NULL) {
		e->v6 = 1;
		e->host = xstrndup(rest + 1, close - rest - 1);
		if (strchr(e->host, '[') != NULL) {
			log_errf(err, errlen, "unbalanced bracket in "
			    "\"%s\"", entry);
			goto fail;
		}
		if (hostlist_check_v6(e->host, entry, err, errlen) != 0)
			goto fail;
		if (close[1] == '\0')
			return 0;
		if (close[1] != ':') {
			log_errf(err, errlen, "unexpected \"%s\" after "
			    "IPv6 address in \"%s\"", close + 1, entry);
			goto fail;
		}
		if (hostlist_parse_port(close + 2, entry, &e->port, err,
		    errlen) != 0)
			goto fail;
		return 0;
	}

	depth = 0;
	for (p = rest; *p != '\0'; p++) {
		if (*p == '[')
			depth++;
		else if (*p == ']')
			depth--;
		else if (*p == ':' && depth == 0) {
			ncolon++;
			colon = p;
		}
	}
	if (ncolon >= 2) {
		/* A bare IPv6 address: no port, no ranges. */
		e->v6 = 1;
		e->host = xstrdup(rest);
		if (strpbrk(e->host, "[]") != NULL) {
			log_errf(err, errlen, "bad IPv6 address \"%s\" "
			    "in \"%s\" (write [addr]:port for a port)", rest,
			    entry);
			goto fail;
		}
		if (hostlist_check_v6(e->host, entry, err, errlen) != 0)
			goto fail;
		return 0;
	}
	if (ncolon == 1) {
		hostpart = xstrndup(rest, colon - rest);
		if (hostlist_parse_port(colon + 1, entry, &e->port, err,
		    errlen) != 0)
			goto fail;
	} else
		hostpart = xstrdup(rest);
	if (*hostpart == '\0') {
		log_errf(err, errlen, "empty host name in \"%s\"", entry);
		goto fail;
	}
	/* As ssh's valid_hostname(): never an option to a proxy's %h. */
	if (*hostpart == '-') {
		log_errf(err, errlen, "host name \"%s\" starts with '-'",
		    entry);
		goto fail;
	}
	e->host = hostpart;
	return 0;

fail:
	free(hostpart);
	hostlist_entry_free(e);
	return -1;
}

int
hostlist_parse_entry(const char *entry, struct host *out, char *err,
    size_t errlen)
{
	struct hl_entry e;
	const char *p;

	memset(out, 0, sizeof *out);
	if (hostlist_split_entry(entry, &e, err, errlen) != 0)
		return -1;
	if (!e.v6) {
		for (p = e.host; *p != '\0'; p++) {
			if (*p == '[' || *p == ']') {
				hostlist_entry_free(&e);
				return log_errf(err, errlen, "ranges are "
				    "not allowed here: \"%s\"", entry);
			}
			if (!hostlist_namechar(*p)) {
				hostlist_entry_free(&e);
				return log_errf(err, errlen, "bad "
				    "character '%c' in host name \"%s\"", *p,
				    entry);
			}
		}
	}
	out->name = e.host;
	out->user = e.user;
	out->port = e.port;
	out->label = hostlist_make_label(out->name, out->port);
	return 0;
}

static void
hostlist_pattern_free(struct hl_pattern *pat)
{
	size_t i;

	if (pat->lits != NULL) {
		for (i = 0; i <= pat->ngroups; i++)
			free(pat->lits[i]);
	}
	for (i = 0; i < pat->ngroups; i++)
		free(pat->groups[i].ranges);
	free(pat->lits);
	free(pat->groups);
	memset(pat, 0, sizeof *pat);
}

/* Parse one bound of a range item; returns its digit count or -1. */
static int
hostlist_parse_bound(const char *s, size_t len, unsigned long long *v)
{
	size_t i;

	if (len == 0 || len > HOSTLIST_MAX_DIGITS)
		return -1;
	*v = 0;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		*v = *v * 10 + (unsigned long long)(s[i] - '0');
	}
	return (int)len;
}

/* Number of decimal digits of v. */
static int
hostlist_ndigits(unsigned long long v)
{
	int n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

/* Parse the inside of one bracket group ("01-10,15") into g. */
static int
hostlist_parse_group(const char *s, size_t len, const char *entry,
    struct hl_group *g, char *err, size_t errlen)
{
	const char *item, *end, *dash;
	unsigned long long lo, hi;
	size_t ilen;
	int w;

	item = s;
	for (;;) {
		end = memchr(item, ',', s + len - item);
		if (end == NULL)
			end = s + len;
		ilen = end - item;
		if (ilen == 0)
			return log_errf(err, errlen, "bad range \"%s\": "
			    "empty item", entry);
		dash = memchr(item, '-', ilen);
		if (dash == NULL) {
			if ((w = hostlist_parse_bound(item, ilen, &lo)) < 0)
				goto notnum;
			hi = lo;
		} else {
			if ((w = hostlist_parse_bound(item, dash - item,
			    &lo)) < 0 || hostlist_parse_bound(dash + 1,
			    end - dash - 1, &hi) < 0)
				goto notnum;
			if (lo > hi)
				return log_errf(err, errlen, "bad range "
				    "\"%s\": start %llu is greater than end "
				    "%llu", entry, lo, hi);
		}
		g->ranges = xreallocarray(g->ranges, g->n + 1,
		    sizeof *g->ranges);
		g->ranges[g->n].lo = lo;
		g->ranges[g->n].hi = hi;
		g->ranges[g->n].width = w;
		g->n++;
		if (end == s + len)
			return 0;
		item = end + 1;
	}

notnum:
	return log_errf(err, errlen, "bad range \"%s\": \"%.*s\" is not "
	    "a number or a range of numbers", entry, (int)ilen, item);
}

/* Split a host part into literals and bracket groups. */
static int
hostlist_parse_pattern(const char *host, const char *entry,
    struct hl_pattern *pat, char *err, size_t errlen)
{
	const char *p, *lit, *close;
	struct hl_group *g;
	size_t i, r;
	int w;

	memset(pat, 0, sizeof *pat);
	pat->lits = xcalloc(1, sizeof *pat->lits);
	lit = host;
	for (p = host; *p != '\0'; p++) {
		if (*p == ']')
			goto unbalanced;
		if (*p != '[') {
			if (!hostlist_namechar(*p)) {
				log_errf(err, errlen, "bad character "
				    "'%c' in host name \"%s\"", *p, entry);
				goto fail;
			}
			continue;
		}
		close = strchr(p + 1, ']');
		if (close == NULL || memchr(p + 1, '[', close - p - 1) != NULL)
			goto unbalanced;
		pat->lits[pat->ngroups] = xstrndup(lit, p - lit);
		pat->groups = xreallocarray(pat->groups, pat->ngroups + 1,
		    sizeof *pat->groups);
		g = &pat->groups[pat->ngroups];
		g->ranges = NULL;
		g->n = 0;
		pat->ngroups++;
		pat->lits = xreallocarray(pat->lits, pat->ngroups + 1,
		    sizeof *pat->lits);
		pat->lits[pat->ngroups] = NULL;
		if (hostlist_parse_group(p + 1, close - p - 1, entry, g, err,
		    errlen) != 0)
			goto fail;
		p = close;
		lit = close + 1;
	}
	pat->lits[pat->ngroups] = xstrdup(lit);

	pat->maxlen = 0;
	for (i = 0; i <= pat->ngroups; i++)
		pat->maxlen += strlen(pat->lits[i]);
	for (i = 0; i < pat->ngroups; i++) {
		w = 0;
		for (r = 0; r < pat->groups[i].n; r++) {
			if (pat->groups[i].ranges[r].width > w)
				w = pat->groups[i].ranges[r].width;
			if (hostlist_ndigits(pat->groups[i].ranges[r].hi) > w)
				w = hostlist_ndigits(
				    pat->groups[i].ranges[r].hi);
		}
		pat->maxlen += w;
	}
	return 0;

unbalanced:
	log_errf(err, errlen, "unbalanced bracket in \"%s\"", entry);
fail:
	hostlist_pattern_free(pat);
	return -1;
}

/* How many names a pattern gives, or HOSTLIST_MAX_EXPAND + 1 if too many. */
static size_t
hostlist_pattern_count(const struct hl_pattern *pat)
{
	const size_t too_many = HOSTLIST_MAX_EXPAND + 1;
	unsigned long long total = 1, sum, span;
	size_t i, r;

	for (i = 0; i < pat->ngroups; i++) {
		sum = 0;
		for (r = 0; r < pat->groups[i].n; r++) {
			span = pat->groups[i].ranges[r].hi -
			    pat->groups[i].ranges[r].lo + 1;
			if (span > too_many || sum + span > too_many)
				return too_many;
			sum += span;
		}
		/* Both are at most too_many, so the product cannot wrap. */
		total *= sum;
		if (total > too_many)
			return too_many;
	}
	return (size_t)total;
}

/* Expand groups g.. of a pattern into buf at len, appending each name. */
static void
hostlist_expand(struct hostlist *hl, const struct hl_pattern *pat, size_t g,
    char *buf, size_t len, const struct hl_entry *e)
{
	const struct hl_range *r;
	unsigned long long v;
	size_t i, llen;
	int n;

	llen = strlen(pat->lits[g]);
	memcpy(buf + len, pat->lits[g], llen);
	len += llen;
	if (g == pat->ngroups) {
		buf[len] = '\0';
		hostlist_push(hl, buf, e->user, e->port);
		return;
	}
	for (i = 0; i < pat->groups[g].n; i++) {
		r = &pat->groups[g].ranges[i];
		for (v = r->lo; v <= r->hi; v++) {
			n = snprintf(buf + len, pat->maxlen + 1 - len, "%0*llu",
			    r->width, v);
			hostlist_expand(hl, pat, g + 1, buf, len + n, e);
		}
	}
}

/* Add one trimmed, non-empty entry of an expression; *total counts hosts. */
static int
hostlist_add_entry(struct hostlist *hl, const char *entry, size_t *total,
    char *err, size_t errlen, int depth)
{
	struct hl_entry e;
	struct hl_pattern pat;
	size_t count, n0;
	char *buf;

	if (entry[0] == '@') {
		if (hostlist_group_resolver == NULL)
			return log_errf(err, errlen, "node groups are "
			    "not available here: \"%s\"", entry);
		if (depth > HOSTLIST_MAX_DEPTH)
			return log_errf(err, errlen, "group \"%s\": "
			    "nested more than %d deep", entry,
			    HOSTLIST_MAX_DEPTH);
		n0 = hl->n;
		if (hostlist_group_resolver(entry + 1, hl, err, errlen) != 0)
			return -1;
		*total += hl->n - n0;
		if (*total > HOSTLIST_MAX_EXPAND)
			return log_errf(err, errlen, "group \"%s\" is "
			    "too large: more than %d hosts", entry,
			    HOSTLIST_MAX_EXPAND);
		return 0;
	}
	if (entry[0] == '^') {
		entry++;
		while (isspace((unsigned char)*entry))
			entry++;
		if (*entry == '\0')
			return log_errf(err, errlen, "empty file name "
			    "after '^'");
		return hostlist_add_file_depth(hl, entry, err, errlen,
		    depth + 1);
	}

	if (hostlist_split_entry(entry, &e, err, errlen) != 0)
		return -1;
	if (e.v6) {
		hostlist_push(hl, e.host, e.user, e.port);
		hostlist_entry_free(&e);
		(*total)++;
		return 0;
	}
	if (hostlist_parse_pattern(e.host, entry, &pat, err, errlen) != 0) {
		hostlist_entry_free(&e);
		return -1;
	}
	count = hostlist_pattern_count(&pat);
	if (count > HOSTLIST_MAX_EXPAND ||
	    *total + count > HOSTLIST_MAX_EXPAND) {
		hostlist_pattern_free(&pat);
		hostlist_entry_free(&e);
		return log_errf(err, errlen, "range \"%s\" is too "
		    "large: more than %d hosts", entry, HOSTLIST_MAX_EXPAND);
	}
	*total += count;
	buf = xmalloc(pat.maxlen + 1);
	hostlist_expand(hl, &pat, 0, buf, 0, &e);
	free(buf);
	hostlist_pattern_free(&pat);
	hostlist_entry_free(&e);
	return 0;
}

static int
hostlist_add_expr_depth(struct hostlist *hl, const char *expr, char *err,
    size_t errlen, int depth)
{
	const char *p, *start, *end;
	size_t total = 0, n0 = hl->n;
	char *entry;
	int bracket = 0, r;

	start = expr;
	for (p = expr;; p++) {
		if (*p == '[')
			bracket++;
		else if (*p == ']' && bracket > 0)
			bracket--;
		else if ((*p != ',' || bracket > 0) && *p != '\0')
			continue;
		else {
			/* An entry ends here: trim it and add it. */
			end = p;
			while (start < end && isspace((unsigned char)*start))
				start++;
			while (end > start &&
			    isspace((unsigned char)end[-1]))
				end--;
			if (end > start) {
				entry = xstrndup(start, end - start);
				r = hostlist_add_entry(hl, entry, &total, err,
				    errlen, depth);
				free(entry);
				if (r != 0) {
					hostlist_truncate(hl, n0);
					return -1;
				}
			}
			if (*p == '\0')
				break;
			start = p + 1;
		}
	}
	return 0;
}

void
hostlist_set_group_resolver(hostlist_group_fn fn)
{
	hostlist_group_resolver = fn;
}

int
hostlist_add_expr(struct hostlist *hl, const char *expr, char *err,
    size_t errlen)
{
	return hostlist_add_expr_depth(hl, expr, err, errlen, 0);
}

static int
hostlist_add_file_depth(struct hostlist *hl, const char *path, char *err,
    size_t errlen, int depth)
{
	FILE *f;
	const char *name;
	char *line = NULL, *p, *end, lerr[1024];
	size_t cap = 0, lineno = 0, n0 = hl->n;
	ssize_t len;
	int ret = -1, is_stdin;

	if (depth > HOSTLIST_MAX_DEPTH)
		return log_errf(err, errlen, "host file \"%s\": ^FILE "
		    "nested more than %d deep", path, HOSTLIST_MAX_DEPTH);
	is_stdin = strcmp(path, "-") == 0;
	name = is_stdin ? "(stdin)" : path;
	if (is_stdin)
		f = stdin;
	else if ((f = fopen(path, "r")) == NULL)
		return log_errf(err, errlen, "cannot open host file "
		    "\"%s\": %s", path, strerror(errno));

	errno = 0;
	while ((len = getline(&line, &cap, f)) != -1) {
		lineno++;
		/* A NUL would silently cut the entry short: refuse it. */
		if (memchr(line, '\0', (size_t)len) != NULL) {
			log_errf(err, errlen, "%s:%zu: NUL byte in the "
			    "line", name, lineno);
			goto out;
		}
		for (p = line; *p != '\0'; p++) {
			if (iscntrl((unsigned char)*p) &&
			    !isspace((unsigned char)*p)) {
				log_errf(err, errlen, "%s:%zu: control "
				    "character in the line", name, lineno);
				goto out;
			}
		}
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		p = line;
		while (isspace((unsigned char)*p))
			p++;
		end = p + strlen(p);
		while (end > p && isspace((unsigned char)end[-1]))
			end--;
		*end = '\0';
		if (*p == '\0')
			continue;
		if (hostlist_add_expr_depth(hl, p, lerr, sizeof lerr,
		    depth) != 0) {
			log_errf(err, errlen, "%s:%zu: %s", name, lineno,
			    lerr);
			goto out;
		}
		errno = 0;
	}
	if (ferror(f)) {
		log_errf(err, errlen, "cannot read host file \"%s\": %s",
		    name, strerror(errno != 0 ? errno : EIO));
		goto out;
	}
	ret = 0;

out:
	if (ret != 0)
		hostlist_truncate(hl, n0);
	free(line);
	if (is_stdin)
		clearerr(stdin);
	else
		fclose(f);
	return ret;
}

int
hostlist_add_file(struct hostlist *hl, const char *path, char *err,
    size_t errlen)
{
	return hostlist_add_file_depth(hl, path, err, errlen, 0);
}

static uint64_t
hostlist_hash_host(const struct host *h)
{
	uint64_t hash = HTAB_HASH_INIT;

	hash = htab_hash(hash, h->name, strlen(h->name) + 1);
	if (h->user != NULL)
		hash = htab_hash(hash, h->user, strlen(h->user) + 1);
	hash = htab_hash(hash, &h->port, sizeof h->port);
	return hash;
}

static int
hostlist_same_user(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static int
hostlist_uniq_eq(const void *entry, const void *key)
{
	const struct host *o = entry, *h = key;

	return h->port == o->port && strcmp(h->name, o->name) == 0 &&
	    hostlist_same_user(h->user, o->user);
}

void
hostlist_uniq(struct hostlist *hl)
{
	struct htab t;
	uint64_t hash;
	size_t i, kept = 0;

	htab_init(&t, hl->n);
	for (i = 0; i < hl->n; i++) {
		hash = hostlist_hash_host(&hl->hosts[i]);
		if (htab_find(&t, hash, hostlist_uniq_eq,
		    &hl->hosts[i]) != NULL) {
			hostlist_free_host(&hl->hosts[i]);
			continue;
		}
		/* Kept hosts move down; the table holds their new place. */
		if (kept != i)
			hl->hosts[kept] = hl->hosts[i];
		htab_insert(&t, hash, &hl->hosts[kept]);
		kept++;
	}
	hl->n = kept;
	htab_free(&t);
}

static int
hostlist_name_eq(const void *entry, const void *key)
{
	return strcmp(((const struct host *)entry)->name, key) == 0;
}

void
hostlist_exclude(struct hostlist *hl, const struct hostlist *excl)
{
	struct htab t;
	const struct host *x, *first;
	size_t i, j, kept = 0, *next;
	uint64_t hash;
	int drop;

	if (excl->n == 0)
		return;

	/*
	 * The first entry of each distinct name in the table; next[] chains
	 * the others of that name after it (index + 1, 0 ends).
	 */
	htab_init(&t, excl->n);
	next = xcalloc(excl->n, sizeof *next);
	for (j = 0; j < excl->n; j++) {
		x = &excl->hosts[j];
		hash = htab_hash_str(x->name);
		if ((first = htab_find(&t, hash, hostlist_name_eq,
		    x->name)) == NULL) {
			htab_insert(&t, hash, (void *)x);
			continue;
		}
		i = (size_t)(first - excl->hosts);
		next[j] = next[i];
		next[i] = j + 1;
	}

	for (i = 0; i < hl->n; i++) {
		first = htab_find(&t, htab_hash_str(hl->hosts[i].name),
		    hostlist_name_eq, hl->hosts[i].name);
		drop = 0;
		j = first == NULL ? 0 : (size_t)(first - excl->hosts) + 1;
		for (; j != 0 && !drop; j = next[j - 1]) {
			x = &excl->hosts[j - 1];
			drop = (x->user == NULL ||
			    hostlist_same_user(x->user, hl->hosts[i].user)) &&
			    (x->port == 0 || x->port == hl->hosts[i].port);
		}
		if (drop) {
			hostlist_free_host(&hl->hosts[i]);
			continue;
		}
		if (kept != i)
			hl->hosts[kept] = hl->hosts[i];
		kept++;
	}
	hl->n = kept;
	free(next);
	htab_free(&t);
}

/*
 * One name for hostlist_compress: prefix is name[0..plen), the number is
 * name[plen..plen+dlen) and the suffix the rest. dlen 0: kept as written.
 */
struct hl_cname {
	const char		*name;
	size_t			 plen;
	size_t			 dlen;
	unsigned long long	 val;
	size_t			 group;
};

static void
hostlist_buf_addnum(struct evbuffer *b, const struct hl_cname *c)
{
	xevbuffer_add(b, c->name + c->plen, c->dlen);
}

/*
 * Find the number to compress on: the last run of digits of the host part,
 * where a ":port" tail counts as suffix. Names that would not expand back
 * to themselves (IPv6, odd characters, a non-canonical port) keep dlen 0.
 */
static void
hostlist_compress_split(struct hl_cname *c)
{
	const char *name = c->name, *colon, *p;
	size_t hlen, i, end;

	c->plen = c->dlen = 0;
	c->val = 0;
	colon = strchr(name, ':');
	if (colon != NULL) {
		/* Only a canonical port, as hostlist labels write it. */
		if (strchr(colon + 1, ':') != NULL || colon[1] < '1' ||
		    colon[1] > '9' || strlen(colon + 1) > 5 ||
		    atoi(colon + 1) > 65535)
			return;
		for (p = colon + 1; *p != '\0'; p++) {
			if (!isdigit((unsigned char)*p))
				return;
		}
		hlen = colon - name;
	} else
		hlen = strlen(name);
	for (i = 0; i < hlen; i++) {
		if (!hostlist_namechar(name[i]))
			return;
	}
	for (end = hlen; end > 0; end--) {
		if (isdigit((unsigned char)name[end - 1]))
			break;
	}
	if (end == 0)
		return;
	for (i = end; i > 0 && isdigit((unsigned char)name[i - 1]); i--)
		;
	if (end - i > HOSTLIST_MAX_DIGITS)
		return;
	c->plen = i;
	c->dlen = end - i;
	for (; i < end; i++)
		c->val = c->val * 10 + (unsigned long long)(name[i] - '0');
}

/* Group key of a name: its text without the number (and where it was). */
static uint64_t
hostlist_compress_hash(const struct hl_cname *c)
{
	uint64_t h = HTAB_HASH_INIT;

	if (c->dlen == 0)
		return htab_hash(h ^ 1, c->name, strlen(c->name));
	h = htab_hash(h, c->name, c->plen);
	h = htab_hash(h, "[]", 2);
	return htab_hash(h, c->name + c->plen + c->dlen,
	    strlen(c->name + c->plen + c->dlen));
}

static int
hostlist_compress_eq(const void *entry, const void *key)
{
	const struct hl_cname *a = key, *b = entry;

	if ((a->dlen == 0) != (b->dlen == 0))
		return 0;
	if (a->dlen == 0)
		return strcmp(a->name, b->name) == 0;
	return a->plen == b->plen &&
	    memcmp(a->name, b->name, a->plen) == 0 &&
	    strcmp(a->name + a->plen + a->dlen,
	    b->name + b->plen + b->dlen) == 0;
}

/* Order: group (first appearance), then number, then width. */
static int
hostlist_compress_cmp(const void *va, const void *vb)
{
	const struct hl_cname *a = va, *b = vb;

	if (a->group != b->group)
		return a->group < b->group ? -1 : 1;
	if (a->val != b->val)
		return a->val < b->val ? -1 : 1;
	if (a->dlen != b->dlen)
		return a->dlen < b->dlen ? -1 : 1;
	return 0;
}

/*
 * Can number c follow the range that starts at s and ends at last? It must
 * be the next value and print the same as the range's expansion (padded to
 * the width of s) would print it.
 */
static int
hostlist_compress_extends(const struct hl_cname *s,
    const struct hl_cname *last, const struct hl_cname *c)
{
	size_t want;

	if (c->val != last->val + 1)
		return 0;
	want = (size_t)hostlist_ndigits(c->val);
	if (want < s->dlen)
		want = s->dlen;
	return c->dlen == want;
}

/* Write one group, c[0..n) sorted, into b. */
static void
hostlist_compress_group(struct evbuffer *b, const struct hl_cname *c, size_t n)
{
	const struct hl_cname *s, *last;
	size_t i, distinct = 1;

	if (c[0].dlen == 0) {
		xevbuffer_add(b, c[0].name, strlen(c[0].name));
		return;
	}
	for (i = 1; i < n; i++) {
		if (hostlist_compress_cmp(&c[i - 1], &c[i]) != 0)
			distinct++;
	}
	if (distinct == 1) {
		xevbuffer_add(b, c[0].name, strlen(c[0].name));
		return;
	}
	xevbuffer_add(b, c[0].name, c[0].plen);
	xevbuffer_add(b, "[", 1);
	s = last = &c[0];
	for (i = 1; i <= n; i++) {
		if (i < n && hostlist_compress_cmp(last, &c[i]) == 0)
			continue;
		if (i < n && hostlist_compress_extends(s, last, &c[i])) {
			last = &c[i];
			continue;
		}
		/* The range s..last ends here. */
		hostlist_buf_addnum(b, s);
		if (last != s) {
			xevbuffer_add(b, "-", 1);
			hostlist_buf_addnum(b, last);
		}
		if (i < n) {
			xevbuffer_add(b, ",", 1);
			s = last = &c[i];
		}
	}
	xevbuffer_add(b, "]", 1);
	xevbuffer_add(b, c[0].name + c[0].plen + c[0].dlen,
	    strlen(c[0].name + c[0].plen + c[0].dlen));
}

char *
hostlist_compress(const char *const *names, size_t n)
{
	struct hl_cname *c, *first;
	struct htab t;
	struct evbuffer *b;
	uint64_t hash;
	size_t i, j, ngroups = 0;

	b = xevbuffer_new();
	if (n == 0)
		return xevbuffer_take(b, NULL);

	c = xcalloc(n, sizeof *c);
	htab_init(&t, n);
	for (i = 0; i < n; i++) {
		c[i].name = names[i];
		hostlist_compress_split(&c[i]);
		hash = hostlist_compress_hash(&c[i]);
		if ((first = htab_find(&t, hash, hostlist_compress_eq,
		    &c[i])) == NULL) {
			htab_insert(&t, hash, &c[i]);
			c[i].group = ngroups++;
		} else
			c[i].group = first->group;
	}
	htab_free(&t);

	qsort(c, n, sizeof *c, hostlist_compress_cmp);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && c[j].group == c[i].group; j++)
			;
		if (i != 0)
			xevbuffer_add(b, ",", 1);
		hostlist_compress_group(b, &c[i], j - i);
	}
	free(c);
	return xevbuffer_take(b, NULL);
}
