/*
 * Diagnostics for mrsh: levels, call-site recording macros in the style of
 * OpenSSH's log.h, and the fatal paths reserved for bugs and out-of-memory.
 * Host failures are data (see session.h), never a call to fatal().
 */
#ifndef MRSH_LOG_H
#define MRSH_LOG_H

#include <stdarg.h>

/* Verbosity: -q = -1, default 0, -v = 1, -vv = 2, -vvv = 3. */
void	log_init(const char *progname, int verbosity);
int	log_level(void);
const char *log_progname(void);

/* Printed to stderr as "mrsh: message" when level <= verbosity. */
void	log_msg(int level, const char *func, int line, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
void	log_vmsg(int level, const char *func, int line, const char *fmt,
	    va_list ap) __attribute__((format(printf, 4, 0)));
void	fatal_at(const char *func, int line, int with_errno, const char *fmt,
	    ...) __attribute__((format(printf, 4, 5), noreturn));

/*
 * Send formatted lines ("mrsh: ...\n") to fn instead of stderr: the output
 * module queues them with host output so that order is kept and nothing is
 * lost on a non-blocking stderr pipe. NULL restores direct writes.
 */
void	log_set_writer(void (*fn)(const char *, size_t, void *), void *arg);

/*
 * Make bytes that came from a server or a file safe to show in one line of
 * our own text (a diagnostic, the summary, a -b header, a --json reason):
 * printable ASCII passes as is (a backslash too, as ssh shows it), every
 * other byte
 * (escape sequences, newlines, NUL, non-ASCII) becomes a three-digit octal
 * escape as ssh prints it ("\033"). Every message log_msg() prints goes
 * through it; the command's own output never does.
 *
 * log_safe() writes at most dstlen bytes including the NUL and never cuts
 * an escape in half; it returns how many input bytes it took.
 * log_safe_dup() returns an allocated copy of all n bytes made safe.
 */
size_t	log_safe(char *dst, size_t dstlen, const char *src, size_t n);
char	*log_safe_dup(const char *src, size_t n);

/*
 * A module's one-line error into a caller's buffer (hostlist, groups):
 * formatted, then made safe as above, since it often quotes what a file,
 * a group upcall or the command line said. Writes nothing if err is NULL
 * or errlen 0; returns -1, so that "return log_errf(...)" fails.
 */
int	log_errf(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* Called before the process exits on a fatal path (restores the terminal). */
void	log_set_fatal_cleanup(void (*fn)(void));

#define LOG_ERROR	-1	/* shown even with -q */
#define LOG_WARN	0
#define LOG_INFO	1
#define LOG_DEBUG	2
#define LOG_DEBUG2	3

#define error(...)	log_msg(LOG_ERROR, NULL, 0, __VA_ARGS__)
#define warnx_m(...)	log_msg(LOG_WARN, NULL, 0, __VA_ARGS__)
#define info(...)	log_msg(LOG_INFO, NULL, 0, __VA_ARGS__)
#define debug(...)	log_msg(LOG_DEBUG, __func__, __LINE__, __VA_ARGS__)
#define debug2(...)	log_msg(LOG_DEBUG2, __func__, __LINE__, __VA_ARGS__)
#define fatal(...)	fatal_at(__func__, __LINE__, 1, __VA_ARGS__)
#define fatalx(...)	fatal_at(__func__, __LINE__, 0, __VA_ARGS__)

#endif
