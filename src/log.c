/*
 * Diagnostics: everything goes to stderr as "mrsh: message", filtered by the
 * verbosity chosen with -v / -q. Debug levels add the function and line.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrsh/log.h"
#include "mrsh/xmalloc.h"

static const char *log_name = "mrsh";
static int log_verbosity;
static void (*log_fatal_cleanup)(void);
static void (*log_writer)(const char *, size_t, void *);
static void *log_writer_arg;

void
log_set_writer(void (*fn)(const char *, size_t, void *), void *arg)
{
	log_writer = fn;
	log_writer_arg = arg;
}

/* Set the program name shown in front of messages and the verbosity. */
void
log_init(const char *progname, int verbosity)
{
	const char *p;

	if (progname != NULL) {
		p = strrchr(progname, '/');
		log_name = p != NULL ? p + 1 : progname;
	}
	log_verbosity = verbosity;
}

int
log_level(void)
{
	return log_verbosity;
}

const char *
log_progname(void)
{
	return log_name;
}

void
log_set_fatal_cleanup(void (*fn)(void))
{
	log_fatal_cleanup = fn;
}

/* The length of byte c made safe: 1 (as is) or 4 (an octal escape). */
static size_t
log_safe_len(unsigned char c)
{
	return c >= 0x20 && c < 0x7f ? 1 : 4;
}

size_t
log_safe(char *dst, size_t dstlen, const char *src, size_t n)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t i, o = 0, l;

	if (dstlen == 0)
		return 0;
	for (i = 0; i < n; i++) {
		l = log_safe_len(p[i]);
		if (o + l >= dstlen)
			break;
		if (l == 1)
			dst[o] = (char)p[i];
		else
			snprintf(dst + o, 5, "\\%03o", p[i]);
		o += l;
	}
	dst[o] = '\0';
	return i;
}

int
log_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	char *raw;
	int n;

	if (err == NULL || errlen == 0)
		return -1;
	va_start(ap, fmt);
	n = xvasprintf(&raw, fmt, ap);
	va_end(ap);
	log_safe(err, errlen, raw, (size_t)n);
	free(raw);
	return -1;
}

char *
log_safe_dup(const char *src, size_t n)
{
	size_t i, len = 1;
	char *r;

	for (i = 0; i < n; i++)
		len += log_safe_len((unsigned char)src[i]);
	r = xmalloc(len);
	log_safe(r, len, src, n);
	return r;
}

void
log_vmsg(int level, const char *func, int line, const char *fmt, va_list ap)
{
	char raw[2048], buf[2048], out[2200];
	int n;

	if (level > log_verbosity)
		return;
	/* Server and file text in the arguments: one safe line. */
	n = vsnprintf(raw, sizeof raw, fmt, ap);
	if (n < 0)
		return;
	log_safe(buf, sizeof buf, raw, (size_t)n < sizeof raw ? (size_t)n :
	    sizeof raw - 1);
	if (func != NULL && log_verbosity >= LOG_DEBUG)
		n = snprintf(out, sizeof out, "%s: %s:%d: %s\n", log_name,
		    func, line, buf);
	else
		n = snprintf(out, sizeof out, "%s: %s\n", log_name, buf);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof out) {
		n = sizeof out - 1;
		out[n - 1] = '\n';
	}
	if (log_writer != NULL)
		log_writer(out, (size_t)n, log_writer_arg);
	else
		fputs(out, stderr);
}

void
log_msg(int level, const char *func, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, func, line, fmt, ap);
	va_end(ap);
}

void
fatal_at(const char *func, int line, int with_errno, const char *fmt, ...)
{
	char raw[2048], buf[2048];
	int saved = errno, n;
	va_list ap;

	va_start(ap, fmt);
	n = vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	log_safe(buf, sizeof buf, raw, (size_t)n < sizeof raw ? (size_t)n :
	    sizeof raw - 1);
	if (log_fatal_cleanup != NULL)
		log_fatal_cleanup();
	if (with_errno)
		fprintf(stderr, "%s: fatal: %s:%d: %s: %s\n", log_name, func,
		    line, buf, strerror(saved));
	else
		fprintf(stderr, "%s: fatal: %s:%d: %s\n", log_name, func, line,
		    buf);
	exit(255);
}
