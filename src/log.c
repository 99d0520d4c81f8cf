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

void
log_vmsg(int level, const char *func, int line, const char *fmt, va_list ap)
{
	char buf[2048], out[2200];
	int n;

	if (level > log_verbosity)
		return;
	vsnprintf(buf, sizeof buf, fmt, ap);
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
	char buf[2048];
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
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
