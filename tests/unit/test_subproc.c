/*
 * Unit tests for subproc_capture() (subproc.c), the fork/pipe/poll/reap
 * that group upcalls and KnownHostsCommand share: output and exit status,
 * the working directory, the one-line message and exit 127 of a failed
 * chdir or exec, the size limit and the timeout (each kills the whole
 * process group, a background grandchild included), and -1 with errno
 * when no pipe can be made (descriptor limit) or no process forked
 * (RLIMIT_NPROC).
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mrsh/subproc.h"
#include "tap.h"

static char	errtext[1024];

/* subproc_capture with stderr to a file, read back into errtext. */
static int
capture(const char *path, char *const argv[], const char *dir,
    double timeout, size_t max, struct subproc_result *res)
{
	char	 tmpl[] = "/tmp/test_subproc.XXXXXX";
	int	 fd, saved, r, e;
	ssize_t	 n;

	errtext[0] = '\0';
	if ((fd = mkstemp(tmpl)) == -1)
		return (-2);
	unlink(tmpl);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	r = subproc_capture("test upcall", path, argv, dir, timeout, max, res);
	e = errno;
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	if ((n = pread(fd, errtext, sizeof errtext - 1, 0)) > 0)
		errtext[n] = '\0';
	close(fd);
	errno = e;
	return (r);
}

/* Is pid gone or a zombie (dead, not yet reaped by its new parent)? */
static int
dead(pid_t pid)
{
	char	 path[64], line[512], *p;
	FILE	*f;
	int	 i, z;

	for (i = 0; i < 1000; i++) {	/* bounded: 10 s */
		if (kill(pid, 0) == -1 && errno == ESRCH)
			return (1);
		snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
		if ((f = fopen(path, "r")) == NULL)
			return (1);
		z = 0;
		if (fgets(line, sizeof line, f) != NULL &&
		    (p = strrchr(line, ')')) != NULL)
			z = p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
		fclose(f);
		if (z)
			return (1);
		usleep(10000);
	}
	return (0);
}

int
main(void)
{
	struct subproc_result	 res;
	struct rlimit		 rl, low, zero = { 0, 0 };
	char			 dir[] = "/tmp/test_subproc_d.XXXXXX", want[256];
	char			*av_out[] = { "sh", "-c",
				    "printf 'a\\nb'; echo oops >&2; exit 3", NULL };
	char			*av_pwd[] = { "pwd", NULL };
	char			*av_none[] = { "nothere", NULL };
	char			*av_bg[] = { "sh", "-c",
				    "sleep 60 & echo $!; exec yes", NULL };
	char			*av_sleep[] = { "sleep", "60", NULL };
	int			 fds[200], nfd, i, r, e, p[2], st;
	pid_t			 bg, pid;
	char			 got[64] = "";

	/* Output, exit status, our stderr. */
	r = capture("/bin/sh", av_out, NULL, 10, 1024, &res);
	is_int(r, 0, "runs: 0");
	is_str(res.out, "a\nb", "stdout captured byte-exact");
	is_int(res.len, 3, "its length");
	ok(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 3,
	    "the exit status (3)");
	is_str(errtext, "oops\n", "the command's stderr is mrsh's stderr");
	ok(!res.timedout && !res.toolong, "neither timed out nor too long");
	free(res.out);

	/* The working directory. */
	if (mkdtemp(dir) == NULL) {
		skip_n(2, "mkdtemp failed");
	} else {
		r = capture("/bin/pwd", av_pwd, dir, 0, 1024, &res);
		snprintf(want, sizeof want, "%s\n", dir);
		is_str(res.out, want, "runs in dir (no timeout)");
		ok(r == 0 && WIFEXITED(res.status) &&
		    WEXITSTATUS(res.status) == 0, "pwd: exit 0");
		free(res.out);
		rmdir(dir);
	}

	/* chdir fails: one line, exit 127, nothing run. */
	r = capture("/bin/pwd", av_pwd, "/nonexistent.mrsh", 10, 1024, &res);
	ok(r == 0 && WIFEXITED(res.status) && WEXITSTATUS(res.status) == 127,
	    "missing dir: exit status 127");
	is_str(errtext, "mrsh: test upcall: /nonexistent.mrsh: No such file "
	    "or directory\n", "missing dir: one line naming it");
	is_int(res.len, 0, "missing dir: no output");
	free(res.out);

	/* exec fails. */
	r = capture("/nonexistent.mrsh/cmd", av_none, NULL, 10, 1024, &res);
	ok(r == 0 && WIFEXITED(res.status) && WEXITSTATUS(res.status) == 127,
	    "missing program: exit status 127");
	is_str(errtext, "mrsh: test upcall: /nonexistent.mrsh/cmd: No such "
	    "file or directory\n", "missing program: one line naming it");
	free(res.out);

	/* Endless output: killed past max, its process group too. */
	r = capture("/bin/sh", av_bg, NULL, 60, 1000, &res);
	is_int(r, 0, "endless output: 0");
	ok(res.toolong && !res.timedout, "endless output: too long");
	ok(res.len > 1000, "endless output: what was read is kept");
	ok(WIFSIGNALED(res.status), "endless output: the command was killed");
	bg = res.out != NULL ? (pid_t)atoi(res.out) : 0;
	if (bg > 1)
		ok(dead(bg), "endless output: the background grandchild was "
		    "killed with its process group");
	else
		ok(0, "endless output: the grandchild's pid was read");
	free(res.out);

	/* No output, never ends: killed at the timeout. */
	r = capture("/bin/sleep", av_sleep, NULL, 0.3, 1024, &res);
	is_int(r, 0, "timeout: 0");
	ok(res.timedout && !res.toolong, "timeout: timed out");
	ok(WIFSIGNALED(res.status) && WTERMSIG(res.status) == SIGKILL,
	    "timeout: the command was killed (SIGKILL)");
	is_int(res.len, 0, "timeout: no output");
	free(res.out);

	/* No descriptor left for the pipe: -1 with errno. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		skip_n(2, "getrlimit failed");
	} else {
		low = rl;
		low.rlim_cur = 64;
		nfd = 0;
		if (setrlimit(RLIMIT_NOFILE, &low) == 0) {
			while (nfd < 200 &&
			    (fds[nfd] = open("/dev/null", O_RDONLY)) != -1)
				nfd++;
			r = subproc_capture("x", "/bin/true", av_none, NULL, 1,
			    10, &res);
			e = errno;
			for (i = 0; i < nfd; i++)
				close(fds[i]);
			setrlimit(RLIMIT_NOFILE, &rl);
			is_int(r, -1, "no descriptors: -1");
			is_int(e, EMFILE, "no descriptors: errno EMFILE");
		} else
			skip_n(2, "setrlimit failed");
	}
	/*
	 * No process left to fork: as an ordinary user (root is not held to
	 * RLIMIT_NPROC) with a limit of 0, in a child of ours.
	 */
	if (geteuid() != 0) {
		skip_n(2, "needs root to become an ordinary user");
	} else {
		fflush(stdout);
		if (pipe(p) == -1 || (pid = fork()) == -1) {
			skip_n(2, "pipe/fork failed");
			return (done_testing());
		}
		if (pid == 0) {
			close(p[0]);
			/* Only the soft limit: raised again before exit(). */
			if (getrlimit(RLIMIT_NPROC, &rl) == -1 ||
			    setgid(65534) == -1 || setuid(65534) == -1)
				_exit(2);
			zero.rlim_max = rl.rlim_max;
			if (setrlimit(RLIMIT_NPROC, &zero) == -1)
				_exit(2);
			r = subproc_capture("x", "/bin/true", av_none, NULL, 1,
			    10, &res);
			e = errno;
			setrlimit(RLIMIT_NPROC, &rl);
			dprintf(p[1], "%d %d", r, e);
			/*
			 * exit, not _exit: a coverage build writes its
			 * counters, LeakSanitizer (which needs a thread)
			 * checks.
			 */
			exit(0);
		}
		close(p[1]);
		if (read(p[0], got, sizeof got - 1) < 0)
			got[0] = '\0';
		close(p[0]);
		waitpid(pid, &st, 0);
		snprintf(want, sizeof want, "-1 %d", EAGAIN);
		is_str(got, want, "no process left: -1 with errno EAGAIN");
		ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		    "no process left: the caller goes on");
	}
	return (done_testing());
}
