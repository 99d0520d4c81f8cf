/*
 * Unit tests for the diagnostics (log.c): the "mrsh: " prefix and the
 * function:line that -vv adds, the verbosity filter, server text made
 * safe (octal escapes, never cut in half), a line too long for the buffer
 * still ending in a newline, log_errf's contract, and the fatal path: the
 * cleanup hook runs, one line on stderr (with errno's text for fatal()),
 * exit status 255.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mrsh/log.h"
#include "tap.h"

static char	captured[4096];
static size_t	captured_len;

static void
capture(const char *s, size_t len, void *arg)
{
	int *calls = arg;

	(*calls)++;
	if (len > sizeof captured - 1)
		len = sizeof captured - 1;
	memcpy(captured, s, len);
	captured[len] = '\0';
	captured_len = len;
}

static void
cleanup_hook(void)
{
	fputs("cleanup ran\n", stderr);
}

/* Run fn in a child with stderr on a pipe: its stderr and exit status. */
static int
run_child(void (*fn)(void), char *out, size_t outlen, int *status)
{
	int	 p[2];
	pid_t	 pid;
	ssize_t	 n;
	size_t	 got = 0;

	if (pipe(p) == -1)
		return (-1);
	fflush(stdout);
	if ((pid = fork()) == -1)
		return (-1);
	if (pid == 0) {
		close(p[0]);
		dup2(p[1], STDERR_FILENO);
		fn();
		_exit(0);
	}
	close(p[1]);
	while (got < outlen - 1 &&
	    (n = read(p[0], out + got, outlen - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(p[0]);
	while (waitpid(pid, status, 0) == -1 && errno == EINTR)
		;
	return (0);
}

static void
child_fatalx(void)
{
	log_init("mrsh", 0);
	log_set_fatal_cleanup(cleanup_hook);
	fatal_at("somefunc", 42, 0, "broken %s \033[2J", "state");
}

static void
child_fatal_errno(void)
{
	log_init("mrsh", 0);
	log_set_fatal_cleanup(NULL);
	errno = ENOENT;
	fatal_at("openit", 7, 1, "open %s", "/x");
}

/* stderr without a writer: direct fputs. */
static void
child_plain(void)
{
	log_init("/usr/bin/pdsh", 0);
	log_set_writer(NULL, NULL);
	log_msg(LOG_WARN, NULL, 0, "plain %d", 1);
	log_msg(LOG_INFO, NULL, 0, "not shown");
	fflush(stderr);
}

int
main(void)
{
	char	 buf[64], big[3000], name[300], out[4096];
	char	*d;
	int	 calls = 0, status;
	size_t	 n;

	/* log_safe */
	n = log_safe(buf, 0, "abc", 3);
	is_int(n, 0, "log_safe: dstlen 0 takes nothing");
	n = log_safe(buf, sizeof buf, "a\tb\033c\\", 6);
	is_str(buf, "a\\011b\\033c\\", "log_safe: control bytes as octal, "
	    "backslash as is");
	is_int(n, 6, "log_safe: every byte taken");
	n = log_safe(buf, 5, "ab\033cd", 5);
	is_str(buf, "ab", "log_safe: an escape that does not fit is left out "
	    "whole");
	is_int(n, 2, "log_safe: returns the bytes taken");
	n = log_safe(buf, 4, "abcdef", 6);
	is_str(buf, "abc", "log_safe: plain text cut at dstlen - 1");
	d = log_safe_dup("x\ny\377", 4);
	is_str(d, "x\\012y\\377", "log_safe_dup: all bytes, made safe");
	free(d);

	/* log_errf */
	is_int(log_errf(NULL, 10, "x"), -1, "log_errf: NULL buffer: -1");
	buf[0] = 'Z';
	is_int(log_errf(buf, 0, "x"), -1, "log_errf: size 0: -1");
	is_int(buf[0], 'Z', "log_errf: size 0 writes nothing");
	is_int(log_errf(buf, sizeof buf, "%s: line %d", "f\033", 3), -1,
	    "log_errf: returns -1");
	is_str(buf, "f\\033: line 3", "log_errf: formatted and made safe");

	/* Levels, prefix, the writer. */
	log_init("/usr/local/bin/mrsh", 1);
	is_int(log_level(), 1, "log_level: as set");
	is_str(log_progname(), "mrsh", "log_progname: the basename");
	log_set_writer(capture, &calls);
	log_msg(LOG_DEBUG, "f", 1, "hidden");
	is_int(calls, 0, "a debug message at -v: not written");
	log_msg(LOG_INFO, "f", 1, "hello %s", "w\007orld");
	is_str(captured, "mrsh: hello w\\007orld\n",
	    "-v: 'mrsh: message', server text escaped, no function");
	log_init(NULL, 2);
	is_str(log_progname(), "mrsh", "log_init(NULL): the name stays");
	log_msg(LOG_DEBUG, "ssh_start", 99, "dialing %d", 5);
	is_str(captured, "mrsh: ssh_start:99: dialing 5\n",
	    "-vv: function and line after the name");
	log_msg(LOG_WARN, NULL, 0, "no site");
	is_str(captured, "mrsh: no site\n",
	    "-vv: a message without a call site has none");
	log_init(NULL, -1);
	calls = 0;
	log_msg(LOG_WARN, NULL, 0, "quiet");
	is_int(calls, 0, "-q: a warning is not written");
	log_msg(LOG_ERROR, NULL, 0, "err");
	is_str(captured, "mrsh: err\n", "-q: an error still is");

	/* A line longer than the output buffer still ends the line. */
	memset(name, 'n', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	memset(big, 'b', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	log_init(name, 2);
	log_msg(LOG_DEBUG, "func", 1, "%s", big);
	is_int(captured_len, 2199, "an over-long line is cut to the buffer");
	is_int(captured[captured_len - 1], '\n', "and still ends in a newline");
	ok(strncmp(captured, name, 20) == 0, "and starts with the name");

	/* Without a writer: stderr. */
	log_set_writer(NULL, NULL);
	if (run_child(child_plain, out, sizeof out, &status) == 0) {
		is_str(out, "pdsh: plain 1\n",
		    "no writer: the line goes to stderr, named after argv[0]");
		ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "no writer: the child exits normally");
	} else
		skip_n(2, "pipe/fork failed");

	/* fatal: cleanup hook, one line, exit 255. */
	if (run_child(child_fatalx, out, sizeof out, &status) == 0) {
		is_str(out, "cleanup ran\nmrsh: fatal: somefunc:42: broken "
		    "state \\033[2J\n", "fatalx: the cleanup runs first, then "
		    "one safe line with the call site");
		ok(WIFEXITED(status) && WEXITSTATUS(status) == 255,
		    "fatalx: exit status 255");
	} else
		skip_n(2, "pipe/fork failed");
	if (run_child(child_fatal_errno, out, sizeof out, &status) == 0) {
		is_str(out, "mrsh: fatal: openit:7: open /x: No such file or "
		    "directory\n", "fatal: errno's text at the end");
		ok(WIFEXITED(status) && WEXITSTATUS(status) == 255,
		    "fatal: exit status 255");
	} else
		skip_n(2, "pipe/fork failed");
	return (done_testing());
}
