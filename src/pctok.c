/*
 * %-token expansion, as OpenSSH's percent_expand (and, with PCTOK_ENV, its
 * dollar expansion in the same pass): the callers differ only in the token
 * table they pass and in what an unknown token does.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "mrsh/pctok.h"
#include "mrsh/xmalloc.h"

/* The value of %key, or NULL when toks does not offer it. */
static const char *
pctok_lookup(const struct pctok *toks, char key)
{
	for (; toks->key != '\0'; toks++) {
		if (toks->key == key)
			return toks->value;
	}
	return NULL;
}

/* Append v; with again, its % doubled so a second pass keeps them. */
static void
pctok_append(struct evbuffer *out, const char *v, int again)
{
	const char *pc;

	while (again && (pc = strchr(v, '%')) != NULL) {
		xevbuffer_add(out, v, (size_t)(pc - v) + 1);
		xevbuffer_add(out, "%", 1);
		v = pc + 1;
	}
	xevbuffer_addstr(out, v);
}

char *
pctok_expand(const char *s, const struct pctok *toks, int flags, char *bad)
{
	struct evbuffer	*out = xevbuffer_new();
	int		 env = flags & PCTOK_ENV, again = flags & PCTOK_AGAIN;
	int		 keep = again || (flags & PCTOK_KEEP_UNKNOWN);
	const char	*p, *v, *end;
	char		*name;
	size_t		 n;

	for (p = s; *p != '\0'; p++) {
		if (env && p[0] == '$' && p[1] == '{' &&
		    (end = strchr(p + 2, '}')) != NULL) {
			name = xstrndup(p + 2, end - p - 2);
			if ((v = getenv(name)) != NULL)
				pctok_append(out, v, again);
			free(name);
			p = end;
			continue;
		}
		if (p[0] != '%') {
			/* Plain text up to the next token, in one piece. */
			n = strcspn(p + 1, env ? "%$" : "%") + 1;
			xevbuffer_add(out, p, n);
			p += n - 1;
			continue;
		}
		if (p[1] == '%') {
			xevbuffer_addstr(out, again ? "%%" : "%");
			p++;
			continue;
		}
		if (p[1] == '\0' || (v = pctok_lookup(toks, p[1])) == NULL) {
			if (!keep) {
				if (bad != NULL)
					*bad = p[1];
				evbuffer_free(out);
				return (NULL);
			}
			/* As written: the % and its letter. */
			n = p[1] == '\0' ? 1 : 2;
			xevbuffer_add(out, p, n);
			p += n - 1;
			continue;
		}
		pctok_append(out, v, again);
		p++;
	}
	return (xevbuffer_take(out, NULL));
}

int
pctok_check(const char *s, const char *keys)
{
	for (; *s != '\0'; s++) {
		if (*s != '%')
			continue;
		s++;
		if (*s == '\0' || strchr(keys, *s) == NULL)
			return (-1);
	}
	return (0);
}
