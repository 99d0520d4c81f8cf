/*
 * ProxyCommand for the dialer: expand the tokens, run "exec CMD" under
 * /bin/sh -c (as ssh does) in its own process group with stdin and stdout
 * on a socketpair, relay its stderr line by line to ours, prefixed with the
 * host and stripped of control characters, and finish only when both the
 * socket is closed and the child is reaped, whichever comes last.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "mrsh/log.h"
#include "mrsh/netconn.h"
#include "mrsh/options.h"
#include "mrsh/pctok.h"
#include "mrsh/proxycmd.h"
#include "mrsh/run.h"
#include "mrsh/xmalloc.h"

/* Longest stderr line relayed whole; longer ones are cut. */
#define PROXYCMD_LINE_MAX	1024

struct proxycmd {
	struct run	*run;
	char		*label;
	pid_t		 pid;		/* 0 once reaped */
	int		 status;
	int		 fd;		/* our end of the socketpair */
	int		 errfd;		/* the command's stderr */
	struct event	*ev_err;
	char		 line[PROXYCMD_LINE_MAX];
	size_t		 linelen;

	int		 closing;
	int		 fd_closed;
	enum close_how	 how;
	struct event	*ev_kill;
	int		 killed;	/* 1: SIGTERM sent, 2: SIGKILL */
	void		(*cb)(enum close_how, void *);
	void		*arg;
};

char *
proxycmd_expand(const char *cmd, const char *host, int port,
    const char *user, const char *name, char *err, size_t errlen)
{
	char		 num[16], bad;
	char		*out;
	struct pctok	 toks[] = {
		{ 'h', host }, { 'n', name }, { 'r', user }, { 'p', num },
		{ '\0', NULL }
	};

	snprintf(num, sizeof num, "%d", port);
	if ((out = pctok_expand(cmd, toks, 0, &bad)) == NULL)
		snprintf(err, errlen, "ProxyCommand: unknown token %%%c",
		    bad != '\0' ? bad : ' ');
	return (out);
}

/* One line of the command's stderr, made printable. */
static void
proxycmd_emit(struct proxycmd *pc)
{
	size_t	i;

	for (i = 0; i < pc->linelen; i++) {
		if ((unsigned char)pc->line[i] < 0x20 || pc->line[i] == 0x7f)
			pc->line[i] = '?';
	}
	pc->line[pc->linelen] = '\0';
	warnx_m("%s: ProxyCommand: %s", pc->label, pc->line);
	pc->linelen = 0;
}

static void
proxycmd_err_close(struct proxycmd *pc)
{
	if (pc->linelen > 0)
		proxycmd_emit(pc);
	if (pc->ev_err != NULL) {
		event_free(pc->ev_err);
		pc->ev_err = NULL;
	}
	if (pc->errfd != -1) {
		close(pc->errfd);
		pc->errfd = -1;
	}
}

static void
proxycmd_err_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxycmd	*pc = arg;
	char		 buf[512];
	ssize_t		 n, i;

	n = read(pc->errfd, buf, sizeof buf);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		proxycmd_err_close(pc);
		return;
	}
	for (i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			/* CR LF (ssh's own messages) ends a line too. */
			if (pc->linelen > 0 && pc->line[pc->linelen - 1] == '\r')
				pc->linelen--;
			proxycmd_emit(pc);
			continue;
		}
		if (pc->linelen < sizeof pc->line - 1)
			pc->line[pc->linelen++] = buf[i];
	}
}

/* Both the socket closed and the child reaped: done. */
static void
proxycmd_maybe_done(struct proxycmd *pc)
{
	void	(*cb)(enum close_how, void *);

	if (!pc->closing || !pc->fd_closed || pc->pid != 0 || pc->cb == NULL)
		return;
	if (pc->ev_kill != NULL) {
		event_free(pc->ev_kill);
		pc->ev_kill = NULL;
	}
	proxycmd_err_close(pc);
	cb = pc->cb;
	pc->cb = NULL;
	cb(pc->how, pc->arg);
}

static void
proxycmd_child_cb(pid_t pid, int status, void *arg)
{
	struct proxycmd	*pc = arg;

	pc->pid = 0;
	pc->status = status;
	/* Drain what it said last before the session reports. */
	if (pc->errfd != -1)
		proxycmd_err_cb(pc->errfd, EV_READ, pc);
	proxycmd_maybe_done(pc);
}

struct proxycmd *
proxycmd_start(struct run *run, const char *label, const char *cmd, int *fd)
{
	struct proxycmd	*pc;
	char		*shcmd;
	sigset_t	 none;
	int		 sp[2], ep[2], save;
	pid_t		 pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1)
		return (NULL);
	if (pipe2(ep, O_CLOEXEC) == -1) {
		save = errno;
		close(sp[0]);
		close(sp[1]);
		errno = save;
		return (NULL);
	}
	xasprintf(&shcmd, "exec %s", cmd);
	switch ((pid = fork())) {
	case -1:
		save = errno;
		close(sp[0]);
		close(sp[1]);
		close(ep[0]);
		close(ep[1]);
		free(shcmd);
		errno = save;
		return (NULL);
	case 0:
		setpgid(0, 0);
		if (dup2(sp[1], STDIN_FILENO) == -1 ||
		    dup2(sp[1], STDOUT_FILENO) == -1 ||
		    dup2(ep[1], STDERR_FILENO) == -1)
			_exit(127);
		/* Default dispositions and no blocked signals, as exec does. */
		signal(SIGPIPE, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execl("/bin/sh", "sh", "-c", shcmd, (char *)NULL);
		_exit(127);
	default:
		break;
	}
	free(shcmd);
	setpgid(pid, pid);	/* either side may win the race */
	close(sp[1]);
	close(ep[1]);
	pc = xcalloc(1, sizeof *pc);
	pc->run = run;
	pc->label = xstrdup(label);
	pc->pid = pid;
	pc->fd = sp[0];
	pc->errfd = ep[0];
	(void)net_set_nonblock(pc->fd);
	(void)net_set_nonblock(pc->errfd);
	pc->ev_err = event_new(run_base(run), pc->errfd, EV_READ | EV_PERSIST,
	    proxycmd_err_cb, pc);
	if (pc->ev_err == NULL)
		fatalx("event_new failed");
	event_add(pc->ev_err, NULL);
	run_watch_child(run, pid, proxycmd_child_cb, pc);
	*fd = pc->fd;
	return (pc);
}

/* The child outlived the close: SIGTERM, then SIGKILL. */
static void
proxycmd_kill_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxycmd	*pc = arg;
	struct timeval	 tv = { 1, 0 };

	if (pc->pid <= 0)
		return;
	debug("%s: ProxyCommand still running after the close: %s",
	    pc->label, pc->killed == 0 ? "SIGTERM" : "SIGKILL");
	kill(-pc->pid, pc->killed == 0 ? SIGTERM : SIGKILL);
	pc->killed++;
	if (pc->killed < 2)
		evtimer_add(pc->ev_kill, &tv);
}

static void
proxycmd_fd_closed(enum close_how how, void *arg)
{
	struct proxycmd	*pc = arg;

	pc->fd_closed = 1;
	pc->how = how;
	proxycmd_maybe_done(pc);
}

void
proxycmd_close(struct proxycmd *pc, int abort_now,
    void (*cb)(enum close_how, void *), void *arg)
{
	struct timeval	 tv;
	double		 wait;
	int		 fd = pc->fd;

	pc->closing = 1;
	pc->cb = cb;
	pc->arg = arg;
	pc->fd = -1;
	pc->ev_kill = evtimer_new(run_base(pc->run), proxycmd_kill_cb, pc);
	if (abort_now) {
		if (pc->pid > 0) {
			kill(-pc->pid, SIGKILL);
			pc->killed = 2;
		}
		net_close_rst(fd);
		proxycmd_fd_closed(CLOSED_RESET, pc);
		return;
	}
	/* Give the command --close-wait (and a second more) to exit. */
	wait = run_options(pc->run)->close_wait;
	if (wait <= 0)
		wait = 1;
	wait += 1;
	tv.tv_sec = (time_t)wait;
	tv.tv_usec = (suseconds_t)((wait - (double)tv.tv_sec) * 1e6);
	if (pc->pid > 0)
		evtimer_add(pc->ev_kill, &tv);
	net_close(pc->run, fd, 0, NULL, 0, 0, proxycmd_fd_closed, pc);
}

void
proxycmd_free(struct proxycmd *pc)
{
	if (pc == NULL)
		return;
	if (pc->ev_kill != NULL)
		event_free(pc->ev_kill);
	if (pc->fd != -1)
		net_close_rst(pc->fd);
	proxycmd_err_close(pc);
	if (pc->pid > 0) {
		/* Still alive at the very end: do not leave it behind. */
		kill(-pc->pid, SIGKILL);
		waitpid(pc->pid, NULL, 0);
	}
	free(pc->label);
	free(pc);
}
