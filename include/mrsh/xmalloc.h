/*
 * Allocation wrappers that never return NULL: running out of memory is one of
 * the few things mrsh treats as fatal.
 */
#ifndef MRSH_XMALLOC_H
#define MRSH_XMALLOC_H

#include <stdarg.h>
#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	 xvasprintf(char **, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));

struct evbuffer;

/* Growable byte buffers: libevent's evbuffer, allocation failure fatal. */
struct evbuffer *xevbuffer_new(void);
void	 xevbuffer_add(struct evbuffer *, const void *, size_t);
void	 xevbuffer_addstr(struct evbuffer *, const char *);
/* s in single quotes for a POSIX shell ('\'' for each quote in it). */
void	 xevbuffer_add_shquoted(struct evbuffer *, const char *);
/* The contents in one piece, *len bytes ("" if b is NULL or empty). */
const char *xevbuffer_bytes(struct evbuffer *, size_t *len);
/* The contents as a malloc'd NUL-terminated string; b is freed. */
char	*xevbuffer_take(struct evbuffer *, size_t *len);

/* Copy with truncation, always NUL-terminated; returns strlen(src). */
size_t	 mrsh_strlcpy(char *, const char *, size_t);

#endif
