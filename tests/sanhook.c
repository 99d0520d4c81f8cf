/*
 * Linked into every program of a --enable-sanitizers build (mrsh and the
 * unit tests) so that an UndefinedBehaviorSanitizer report reaches a file
 * as AddressSanitizer's do. With GCC, libubsan.so ignores log_path when
 * libasan.so is loaded too (its __sanitizer_set_report_path call binds to
 * libasan's copy), so its reports only go to stderr, which a test may
 * discard. libubsan calls __ubsan_on_report() for each error; this one
 * appends the report to LOG_PATH.EXE.ubsan.PID, LOG_PATH taken from the
 * last log_path= in UBSAN_OPTIONS, where tests/sanitizer-reports.sh finds
 * it. Nothing of it exists in a build without sanitizers.
 */
#include "config.h"

#if defined(__SANITIZE_ADDRESS__)

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void	__ubsan_on_report(void);
void	__ubsan_get_current_report_data(const char **, const char **,
	    const char **, unsigned *, unsigned *, char **);

void
__ubsan_on_report(void)
{
	const char	*opts = getenv("UBSAN_OPTIONS"), *p, *q;
	const char	*kind, *msg, *file;
	unsigned	 line, col;
	char		*addr, path[4096], buf[8192];
	size_t		 len;
	int		 fd, n, saved = errno;

	if (opts == NULL)
		return;
	for (p = NULL, q = opts; (q = strstr(q, "log_path=")) != NULL; q++)
		p = q + 9;
	if (p == NULL || (len = strcspn(p, ":")) == 0 ||
	    strncmp(p, "stderr", len) == 0 || strncmp(p, "stdout", len) == 0)
		return;
	snprintf(path, sizeof path, "%.*s.%s.ubsan.%ld", (int)len, p,
	    program_invocation_short_name, (long)getpid());
	__ubsan_get_current_report_data(&kind, &msg, &file, &line, &col,
	    &addr);
	n = snprintf(buf, sizeof buf, "UndefinedBehaviorSanitizer: %s\n"
	    "%s:%u:%u: runtime error: %s\n(the full report with its stack "
	    "went to the program's stderr)\n", kind, file ? file : "?", line,
	    col, msg);
	if ((fd = open(path, O_WRONLY|O_CREAT|O_APPEND|O_CLOEXEC, 0644)) != -1) {
		if (n > 0 && write(fd, buf, (size_t)n) == -1)
			n = -1;
		close(fd);
	}
	errno = saved;
}

#endif
