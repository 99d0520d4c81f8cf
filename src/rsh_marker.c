/*
 * The rsh exit status marker filter (rsh_marker.h), apart from the
 * transport so that the unit tests can feed it any split of any bytes.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mrsh/log.h"
#include "mrsh/rsh_marker.h"

const char *rsh_marker_names[] = {
	"SCAN", "CODE", "AFTER"
};

/* The one setter of the filter's state: the owner traces it. */
#define rsh_marker_set(m, st) rsh_marker_set_at((m), (st), __func__, __LINE__)
static void
rsh_marker_set_at(struct rsh_marker *m, enum rsh_mk mk, const char *func,
    int line)
{
	if (m->mk == mk)
		return;
	if (m->ops->state != NULL)
		m->ops->state(m->arg, m->mk, mk, func, line);
	m->mk = mk;
}

void
rsh_marker_init(struct rsh_marker *m, const char *pattern, size_t patlen,
    const struct rsh_marker_ops *ops, void *arg)
{
	if (patlen == 0 || patlen >= RSH_MARKER_PATTERN_MAX ||
	    pattern[0] != '\n')
		fatalx("bad marker pattern");
	memset(m, 0, sizeof *m);
	m->ops = ops;
	m->arg = arg;
	m->pattern = pattern;
	m->patlen = patlen;
	m->mk = MK_SCAN;
}

char *
rsh_marker_readbuf(struct rsh_marker *m)
{
	return (m->hold + m->holdlen);
}

/* The marker's digits are complete: report the status. */
static int
rsh_marker_done(struct rsh_marker *m)
{
	long	 code = -1;
	char	*end;

	rsh_marker_set(m, MK_AFTER);
	m->code[m->codelen] = '\0';
	if (m->codelen > 0) {
		errno = 0;
		code = strtol(m->code, &end, 10);
		if (*end != '\0' || errno != 0 || code < 0 || code > 255)
			code = -1;
	}
	return (m->ops->status(m->arg, (int)code));
}

int
rsh_marker_feed(struct rsh_marker *m, const char *buf, size_t len)
{
	const char	*pat = m->pattern, *p, *nl;
	size_t		 patlen = m->patlen, total, start, j, i;

	if (len > RSH_MARKER_READ_MAX)
		fatalx("marker filter fed %zu bytes", len);
	while (len > 0) {
		switch (m->mk) {
		case MK_AFTER:
			return (m->ops->out(m->arg, buf, len));
		case MK_CODE:
			for (i = 0; i < len; i++) {
				if (buf[i] == '\n')
					break;
				if (m->codelen < sizeof m->code - 1)
					m->code[m->codelen++] = buf[i];
				else
					m->code[0] = 'x';	/* too long */
			}
			if (i == len)
				return (0);
			if (rsh_marker_done(m) == -1)
				return (-1);
			buf += i + 1;
			len -= i + 1;
			continue;
		case MK_SCAN:
			break;
		}

		/* Append to the held-back tail and search the whole. */
		if (buf != m->hold + m->holdlen)
			memmove(m->hold + m->holdlen, buf, len);
		total = m->holdlen + len;
		m->holdlen = 0;
		p = memmem(m->hold, total, pat, patlen);
		if (p != NULL) {
			if (m->ops->out(m->arg, m->hold, p - m->hold) == -1)
				return (-1);
			rsh_marker_set(m, MK_CODE);
			m->codelen = 0;
			j = (p - m->hold) + patlen;
			buf = m->hold + j;
			len = total - j;
			/* buf aliases hold: fine, the other states copy out. */
			continue;
		}

		/*
		 * Hold back a tail that may be the start of the marker. The
		 * marker has one newline, at its start, so only the last
		 * newline of the last patlen - 1 bytes can begin it.
		 */
		start = total > patlen - 1 ? total - (patlen - 1) : 0;
		nl = NULL;
		for (j = total; j > start; j--) {
			if (m->hold[j - 1] == '\n') {
				nl = m->hold + j - 1;
				break;
			}
		}
		if (nl != NULL && memcmp(nl, pat, total - (nl - m->hold)) == 0) {
			j = nl - m->hold;
			if (m->ops->out(m->arg, m->hold, j) == -1)
				return (-1);
			memmove(m->hold, nl, total - j);
			m->holdlen = total - j;
		} else if (m->ops->out(m->arg, m->hold, total) == -1)
			return (-1);
		return (0);
	}
	return (0);
}

int
rsh_marker_eof(struct rsh_marker *m)
{
	size_t	n;

	if (m->mk != MK_SCAN || m->holdlen == 0)
		return (0);
	n = m->holdlen;
	m->holdlen = 0;
	return (m->ops->out(m->arg, m->hold, n));
}
