/*
 * The suite's sanitizer net: proves that a report cannot go unnoticed.
 * The tests run with ASAN_OPTIONS, UBSAN_OPTIONS and LSAN_OPTIONS naming a
 * log_path in the build tree (AM_TESTS_ENVIRONMENT in Makefile.am), and
 * tests/sanitizer-reports.sh fails the suite for every file found there.
 * This test checks that wiring, then runs itself again with a deliberate
 * signed overflow, heap overflow and leak (log_path pointed at a directory
 * of its own) and checks that each leaves exactly one report the collector
 * counts, that a clean run leaves none, and that a leak named in
 * tests/lsan.supp is suppressed. The faults exist only in this test
 * program; it skips in a build without --enable-sanitizers.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"

#ifdef __SANITIZE_ADDRESS__

void	*volatile sancheck_sink;
void	 sancheck_leak(size_t);
void	 mrsh_test_suppressed_leak(void);

/* Allocate and lose the pointer: a leak LeakSanitizer reports at exit. */
__attribute__((noinline)) void
sancheck_leak(size_t n)
{
	char	*p;

	p = malloc(n);
	if (p != NULL)
		memset(p, 'x', n);
	sancheck_sink = p;
	sancheck_sink = NULL;
}

/* The same leak, under the name tests/lsan.supp suppresses. */
__attribute__((noinline)) void
mrsh_test_suppressed_leak(void)
{
	sancheck_sink = malloc(33);
	sancheck_sink = NULL;
}

/* The child's side: commit the fault MODE names, then exit 0. */
static int
fault(const char *mode)
{
	volatile int	 big = INT_MAX, one = 1;
	volatile size_t	 len = 8;
	volatile char	*p;
	int		 r = 0;

	if (strcmp(mode, "ub") == 0)
		r = big + one;			/* signed overflow */
	else if (strcmp(mode, "heap") == 0) {
		p = malloc(len);
		r = p[len];			/* one past the end */
		free((void *)p);
	} else if (strcmp(mode, "leak") == 0)
		sancheck_leak(41);
	else if (strcmp(mode, "suppressed") == 0)
		mrsh_test_suppressed_leak();
	return r == 12345 ? 3 : 0;
}

/* NAME=VALUE of the environment with ":log_path=DIR/r" appended. */
static void
redirect(const char *name, const char *dir)
{
	const char	*old = getenv(name);
	char		 buf[8192];

	snprintf(buf, sizeof buf, "%s%slog_path=%s/r", old ? old : "",
	    old && *old ? ":" : "", dir);
	setenv(name, buf, 1);
}

/* The number of files in DIR; the first one's name in first. */
static int
count_files(const char *dir, char *first, size_t len)
{
	DIR		*d;
	struct dirent	*e;
	int		 n = 0;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n++ == 0)
			snprintf(first, len, "%s/%s", dir, e->d_name);
	}
	closedir(d);
	return n;
}

/* Whether file PATH contains NEEDLE. */
static int
file_has(const char *path, const char *needle)
{
	FILE	*f;
	char	 buf[65536];
	size_t	 n;

	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return strstr(buf, needle) != NULL;
}

/*
 * Run this program with fault MODE and its reports sent to a fresh
 * directory; check the exit status, the number of report files, what the
 * report says, and the collector's verdict on the directory.
 */
static void
check_mode(const char *mode, int nreports, const char *says)
{
	char	 dir[] = "/tmp/mrsh-sancheck.XXXXXX", first[4096] = "";
	char	 cmd[8192], name[256];
	pid_t	 pid;
	int	 st, n, rc;

	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	if ((pid = fork()) == 0) {
		redirect("ASAN_OPTIONS", dir);
		redirect("UBSAN_OPTIONS", dir);
		redirect("LSAN_OPTIONS", dir);
		/* UBSan's own copy on stderr is not what is checked. */
		if (freopen("/dev/null", "w", stderr) == NULL)
			_exit(126);
		execl("/proc/self/exe", "test_sanitizer", mode, (char *)NULL);
		_exit(127);
	}
	st = -1;
	if (pid > 0)
		waitpid(pid, &st, 0);
	snprintf(name, sizeof name, "%s: the run %s", mode,
	    nreports ? "fails" : "exits 0");
	ok(WIFEXITED(st) && (WEXITSTATUS(st) == 0) == (nreports == 0), name);

	n = count_files(dir, first, sizeof first);
	snprintf(name, sizeof name, "%s: %d report file(s)", mode, nreports);
	is_int(n, nreports, name);
	if (says != NULL) {
		snprintf(name, sizeof name, "%s: the report says \"%s\"", mode,
		    says);
		ok(file_has(first, says), name);
	}

	snprintf(cmd, sizeof cmd, "sh '%s/tests/sanitizer-reports.sh' '%s' "
	    ">'%s.out' 2>&1", getenv("top_srcdir"), dir, dir);
	rc = system(cmd);
	snprintf(name, sizeof name, "%s: the collector %s", mode,
	    nreports ? "fails the suite" : "passes");
	is_int(WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, nreports ? 1 : 0, name);
	snprintf(cmd, sizeof cmd, "%s.out", dir);
	snprintf(name, sizeof name, "%d sanitizer report(s)", nreports);
	ok(file_has(cmd, name), "  and counts them");

	snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s.out'", dir, dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
}

/* Whether environment variable NAME holds a log_path under builddir. */
static int
env_logs_to_build(const char *name, const char *builddir)
{
	const char	*v = getenv(name), *p;

	if (v == NULL || (p = strstr(v, "log_path=")) == NULL)
		return 0;
	return strncmp(p + 9, builddir, strlen(builddir)) == 0;
}

int
main(int argc, char **argv)
{
	const char	*builddir = getenv("top_builddir");
	const char	*lsan = getenv("LSAN_OPTIONS"), *p;
	char		 supp[4096];

	if (argc > 1)
		return fault(argv[1]);
	if (builddir == NULL || getenv("top_srcdir") == NULL) {
		printf("1..0 # SKIP run by make check (needs top_srcdir, "
		    "top_builddir)\n");
		return 0;
	}

	ok(env_logs_to_build("ASAN_OPTIONS", builddir),
	    "ASAN_OPTIONS logs to the build tree");
	ok(env_logs_to_build("UBSAN_OPTIONS", builddir),
	    "UBSAN_OPTIONS logs to the build tree");
	ok(env_logs_to_build("LSAN_OPTIONS", builddir),
	    "LSAN_OPTIONS logs to the build tree");
	supp[0] = '\0';
	if (lsan != NULL && (p = strstr(lsan, "suppressions=")) != NULL)
		snprintf(supp, sizeof supp, "%.*s", (int)strcspn(p + 13, ":"),
		    p + 13);
	ok(supp[0] != '\0' && access(supp, R_OK) == 0,
	    "LSAN_OPTIONS names a readable suppressions file");

	check_mode("clean", 0, NULL);
	check_mode("ub", 1, "signed-integer-overflow");
	check_mode("heap", 1, "heap-buffer-overflow");
	check_mode("leak", 1, "detected memory leaks");
	check_mode("suppressed", 0, NULL);
	return done_testing();
}

#else

int
main(void)
{
	printf("1..0 # SKIP not built with --enable-sanitizers\n");
	return 0;
}

#endif
