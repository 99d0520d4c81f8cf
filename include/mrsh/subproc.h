/*
 * Run a local command for its output, the loop waiting: ClusterShell group
 * upcalls and KnownHostsCommand. See subproc.c.
 */
#ifndef MRSH_SUBPROC_H
#define MRSH_SUBPROC_H

#include <stddef.h>

struct subproc_result {
	char	*out;		/* stdout, NUL-terminated (free it) */
	size_t	 len;
	int	 status;	/* waitpid status */
	int	 timedout;	/* killed at the timeout */
	int	 toolong;	/* killed past max bytes */
};

/*
 * Run path with argv (in dir if not NULL) in its own process group, with
 * default signals, input /dev/null, mrsh's stderr and no other
 * descriptor; read its stdout to the end, at most max bytes and timeout
 * seconds (<= 0: none), killing the group past either; then reap it.
 * 0 with res filled, or -1 with errno (pipe, fork, poll; the command is
 * killed and reaped after a poll failure). what names the
 * command in the message of a failed exec (exit status 127).
 */
int	subproc_capture(const char *what, const char *path,
	    char *const argv[], const char *dir, double timeout, size_t max,
	    struct subproc_result *res);

#endif
