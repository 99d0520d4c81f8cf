/*
 * Allocation wrappers: out of memory is fatal, so callers never check.
 * Growable byte buffers are libevent's evbuffer, wrapped here the same way.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "mrsh/log.h"
#include "mrsh/xmalloc.h"

void *
xmalloc(size_t size)
{
	void *p;

	if (size == 0)
		size = 1;
	if ((p = malloc(size)) == NULL)
		fatal("xmalloc %zu bytes", size);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p;

	if (n == 0 || size == 0)
		n = size = 1;
	if ((p = calloc(n, size)) == NULL)
		fatal("xcalloc %zu * %zu bytes", n, size);
	return p;
}

void *
xreallocarray(void *ptr, size_t n, size_t size)
{
	void *p;

	if (size != 0 && n > SIZE_MAX / size)
		fatalx("xreallocarray: %zu * %zu overflows", n, size);
	if (n == 0 || size == 0)
		n = size = 1;
	if ((p = realloc(ptr, n * size)) == NULL)
		fatal("xreallocarray %zu * %zu bytes", n, size);
	return p;
}

char *
xstrdup(const char *s)
{
	char *p;

	if ((p = strdup(s)) == NULL)
		fatal("xstrdup");
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char *p;

	if ((p = strndup(s, n)) == NULL)
		fatal("xstrndup");
	return p;
}

int
xvasprintf(char **ret, const char *fmt, va_list ap)
{
	int n;

	n = vasprintf(ret, fmt, ap);
	if (n < 0 || *ret == NULL)
		fatal("xvasprintf");
	return n;
}

int
xasprintf(char **ret, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = xvasprintf(ret, fmt, ap);
	va_end(ap);
	return n;
}

size_t
mrsh_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size > 0) {
		size_t n = len >= size ? size - 1 : len;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

struct evbuffer *
xevbuffer_new(void)
{
	struct evbuffer *b;

	if ((b = evbuffer_new()) == NULL)
		fatal("evbuffer_new");
	return b;
}

void
xevbuffer_add(struct evbuffer *b, const void *p, size_t n)
{
	if (n != 0 && evbuffer_add(b, p, n) == -1)
		fatal("evbuffer_add %zu bytes", n);
}

void
xevbuffer_addstr(struct evbuffer *b, const char *s)
{
	xevbuffer_add(b, s, strlen(s));
}

void
xevbuffer_add_shquoted(struct evbuffer *b, const char *s)
{
	const char *q;

	xevbuffer_add(b, "'", 1);
	while ((q = strchr(s, '\'')) != NULL) {
		xevbuffer_add(b, s, (size_t)(q - s));
		xevbuffer_addstr(b, "'\\''");
		s = q + 1;
	}
	xevbuffer_addstr(b, s);
	xevbuffer_add(b, "'", 1);
}

const char *
xevbuffer_bytes(struct evbuffer *b, size_t *len)
{
	const char *p;

	if (b == NULL || (*len = evbuffer_get_length(b)) == 0) {
		*len = 0;
		return "";
	}
	if ((p = (const char *)evbuffer_pullup(b, -1)) == NULL)
		fatal("evbuffer_pullup %zu bytes", *len);
	return p;
}

char *
xevbuffer_take(struct evbuffer *b, size_t *len)
{
	size_t n = evbuffer_get_length(b);
	char *s;

	s = xmalloc(n + 1);
	if (evbuffer_remove(b, s, n) != (int)n)
		fatalx("evbuffer_remove: short read");
	s[n] = '\0';
	if (len != NULL)
		*len = n;
	evbuffer_free(b);
	return s;
}
