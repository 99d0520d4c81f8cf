/*
 * A local command run for its output while the event loop waits: the one
 * fork / pipe / poll-with-deadline / reap sequence that the group upcalls
 * (groups.c) and KnownHostsCommand (knownhosts.c) share. Callers bound it
 * with a timeout; the child cannot outlive it (its process group is
 * killed at the timeout or past the size limit).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "mrsh/subproc.h"
#include "mrsh/xmalloc.h"

static double
subproc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
subproc_capture(const char *what, const char *path, char *const argv[],
    const char *dir, double timeout, size_t max, struct subproc_result *res)
{
	struct pollfd pfd;
	struct evbuffer *buf;
	double deadline;
	int r;
	pid_t pid;
	int fds[2], fd, i, ms;

	memset(res, 0, sizeof *res);
	if (pipe2(fds, O_CLOEXEC) == -1)
		return (-1);
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		i = errno;
		close(fds[0]);
		close(fds[1]);
		errno = i;
		return (-1);
	}
	if (pid == 0) {
		setpgid(0, 0);
		for (i = 1; i < NSIG; i++)
			signal(i, SIG_DFL);
		if ((fd = open("/dev/null", O_RDONLY)) != -1)
			dup2(fd, STDIN_FILENO);
		dup2(fds[1], STDOUT_FILENO);
		close_range(STDERR_FILENO + 1, ~0U, 0);
		if (dir != NULL && chdir(dir) == -1) {
			fprintf(stderr, "mrsh: %s: %s: %s\n", what, dir,
			    strerror(errno));
			_exit(127);
		}
		execv(path, argv);
		fprintf(stderr, "mrsh: %s: %s: %s\n", what, path,
		    strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	close(fds[1]);
	buf = xevbuffer_new();
	deadline = subproc_now() + timeout;
	for (;;) {
		ms = -1;
		if (timeout > 0) {
			if ((ms = (int)((deadline - subproc_now()) * 1000)) <=
			    0) {
				res->timedout = 1;
				break;
			}
		}
		pfd.fd = fds[0];
		pfd.events = POLLIN;
		if ((r = poll(&pfd, 1, ms)) == -1 && errno != EINTR) {
			/* Ours, not the command's: not its exit status. */
			i = errno;
			close(fds[0]);
			kill(-pid, SIGKILL);
			while (waitpid(pid, &res->status, 0) == -1 &&
			    errno == EINTR)
				;
			evbuffer_free(buf);
			errno = i;
			return (-1);
		}
		if (r <= 0)
			continue;
		if ((r = evbuffer_read(buf, fds[0], 65536)) == -1 &&
		    errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (evbuffer_get_length(buf) > max) {
			res->toolong = 1;
			break;
		}
	}
	close(fds[0]);
	if (res->timedout || res->toolong)
		kill(-pid, SIGKILL);
	while (waitpid(pid, &res->status, 0) == -1 && errno == EINTR)
		;
	res->out = xevbuffer_take(buf, &res->len);
	return (0);
}
