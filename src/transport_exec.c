/*
 * The exec transport (-R exec): per host, run a local command with %h, %u,
 * %p and %% substituted, stdin from /dev/null, stdout and stderr on separate
 * pipes. It wraps any tool (ssh, docker exec, ...) and it is how the engine
 * is tested without a network. Children run in their own process group so
 * a terminal's ctrl-c reaches mrsh only, and mrsh decides what to kill.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <event2/event.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mrsh/hostlist.h"
#include "mrsh/log.h"
#include "mrsh/options.h"
#include "mrsh/pctok.h"
#include "mrsh/run.h"
#include "mrsh/session.h"
#include "mrsh/transport.h"
#include "mrsh/xmalloc.h"

extern char **environ;

#define EXEC_READ_SIZE		65536
#define EXEC_READS_PER_EVENT	4	/* fairness between hosts */
#define EXEC_KILL_GRACE		1	/* seconds from SIGTERM to SIGKILL */

struct exec_state {
	struct session	*s;
	pid_t		 pid;		/* 0 once reaped */
	int		 fd[2];		/* stdout, stderr read ends; -1 closed */
	struct event	*ev[2];
	struct event	*killer;	/* SIGKILL after the grace period */
	int		 closing;
};

static char	 exec_buf[EXEC_READ_SIZE];
static char	*exec_local_user;

static int
exec_init(struct run *run)
{
	struct passwd *pw;

	if ((pw = getpwuid(getuid())) != NULL)
		exec_local_user = xstrdup(pw->pw_name);
	else
		exec_local_user = xstrdup("");
	return 0;
}

static void
exec_cleanup(struct run *run)
{
	free(exec_local_user);
	exec_local_user = NULL;
}

/* Replace %h %u %p %% in one argument; any other % stays as written. */
static char *
exec_subst(const char *arg, struct session *s)
{
	char		 portbuf[16];
	int		 port;
	struct pctok	 toks[] = {
		{ 'h', s->host->name },
		{ 'u', s->user != NULL ? s->user : exec_local_user },
		{ 'p', portbuf },
		{ '\0', NULL }
	};

	if ((port = s->host->port) == 0)
		port = run_options(s->run)->port;
	/* As ssh's %p: the default port when none is given. */
	snprintf(portbuf, sizeof portbuf, "%d", port != 0 ? port : 22);
	return pctok_expand(arg, toks, PCTOK_KEEP_UNKNOWN, NULL);
}

static void
exec_close_fd(struct exec_state *es, int i)
{
	if (es->ev[i] != NULL) {
		event_free(es->ev[i]);
		es->ev[i] = NULL;
	}
	if (es->fd[i] != -1) {
		close(es->fd[i]);
		es->fd[i] = -1;
	}
}

/* Everything released and the child reaped: the session is closed. */
static void
exec_maybe_closed(struct exec_state *es)
{
	if (!es->closing || es->pid != 0 || es->fd[0] != -1 || es->fd[1] != -1)
		return;
	if (es->killer != NULL) {
		event_free(es->killer);
		es->killer = NULL;
	}
	es->closing = 0;
	session_closed(es->s, CLOSED_NONE);
}

static void
exec_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct exec_state *es = arg;
	enum stream st = fd == es->fd[0] ? STREAM_STDOUT : STREAM_STDERR;
	ssize_t n;
	int i;

	for (i = 0; i < EXEC_READS_PER_EVENT; i++) {
		n = read(fd, exec_buf, sizeof exec_buf);
		if (n > 0) {
			session_output(es->s, st, exec_buf, (size_t)n);
			if (session_output_blocked(es->s))
				return;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n < 0)
			warnx_m("%s: read from command: %s",
			    es->s->host->label, strerror(errno));
		exec_close_fd(es, st);
		session_eof(es->s, st);
		exec_maybe_closed(es);
		return;
	}
}

static void
exec_child_cb(pid_t pid, int status, void *arg)
{
	struct exec_state *es = arg;

	es->pid = 0;
	if (WIFEXITED(status))
		session_exit_status(es->s, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		session_exit_signal(es->s, WTERMSIG(status),
		    sigabbrev_np(WTERMSIG(status)));
	else
		session_exit_unknown(es->s, "unexpected wait status");
	exec_maybe_closed(es);
}

static void
exec_start(struct session *s)
{
	const struct options *opt = run_options(s->run);
	struct exec_state *es;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, def;
	char **argv;
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, i, r;

	es = xcalloc(1, sizeof *es);
	es->s = s;
	es->fd[0] = es->fd[1] = -1;
	s->tdata = es;
	session_event(s, SEV_SPAWNING);

	if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
		r = errno;
		for (i = 0; i < 2; i++) {
			if (out[i] != -1)
				close(out[i]);
			if (err[i] != -1)
				close(err[i]);
		}
		session_fail(s, FAIL_LOCAL, "cannot create pipes: %s",
		    strerror(r));
		return;
	}
	argv = xcalloc(opt->cmd_argc + 1, sizeof *argv);
	for (i = 0; i < opt->cmd_argc; i++)
		argv[i] = exec_subst(opt->cmd_argv[i], s);

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGTERM);
	sigaddset(&def, SIGCHLD);
	sigaddset(&def, SIGQUIT);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	r = posix_spawnp(&es->pid, argv[0], &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(out[1]);
	close(err[1]);
	if (r != 0) {
		close(out[0]);
		close(err[0]);
		es->pid = 0;
		session_fail(s, FAIL_LOCAL, "cannot run %s: %s", argv[0],
		    strerror(r));
		goto out;
	}
	run_watch_child(s->run, es->pid, exec_child_cb, es);
	es->fd[0] = out[0];
	es->fd[1] = err[0];
	for (i = 0; i < 2; i++) {
		fcntl(es->fd[i], F_SETFL, fcntl(es->fd[i], F_GETFL) |
		    O_NONBLOCK);
		es->ev[i] = event_new(run_base(s->run), es->fd[i],
		    EV_READ | EV_PERSIST, exec_read_cb, es);
		if (!s->paused)
			event_add(es->ev[i], NULL);
	}
	session_event(s, SEV_COMMAND_STARTED);
out:
	for (i = 0; i < opt->cmd_argc; i++)
		free(argv[i]);
	free(argv);
}

static void
exec_kill_cb(evutil_socket_t fd, short what, void *arg)
{
	struct exec_state *es = arg;

	if (es->pid > 0)
		kill(-es->pid, SIGKILL);
}

static void
exec_close(struct session *s, int abort_it)
{
	struct exec_state *es = s->tdata;
	struct timeval tv = { EXEC_KILL_GRACE, 0 };

	if (es == NULL) {
		session_closed(s, CLOSED_NONE);
		return;
	}
	es->closing = 1;
	if (abort_it) {
		exec_close_fd(es, 0);
		exec_close_fd(es, 1);
		if (es->pid > 0) {
			kill(-es->pid, SIGTERM);
			es->killer = evtimer_new(run_base(s->run), exec_kill_cb,
			    es);
			evtimer_add(es->killer, &tv);
		}
	}
	exec_maybe_closed(es);
}

static void
exec_set_paused(struct session *s, int paused)
{
	struct exec_state *es = s->tdata;
	int i;

	if (es == NULL)
		return;
	for (i = 0; i < 2; i++) {
		if (es->ev[i] == NULL)
			continue;
		if (paused)
			event_del(es->ev[i]);
		else
			event_add(es->ev[i], NULL);
	}
}

static void
exec_signal(struct session *s, int signo)
{
	struct exec_state *es = s->tdata;

	if (es != NULL && es->pid > 0)
		kill(-es->pid, signo);
}

static void
exec_free(struct session *s)
{
	struct exec_state *es = s->tdata;

	if (es == NULL)
		return;
	exec_close_fd(es, 0);
	exec_close_fd(es, 1);
	if (es->killer != NULL)
		event_free(es->killer);
	if (es->pid > 0) {
		/* Still alive at the very end: do not leave it behind. */
		kill(-es->pid, SIGKILL);
		waitpid(es->pid, NULL, 0);
	}
	free(es);
	s->tdata = NULL;
}

const struct transport_ops transport_exec = {
	.name = "exec",
	.fds_per_session = 4,
	.ports_per_session = 0,
	.init = exec_init,
	.start = exec_start,
	.close = exec_close,
	.set_paused = exec_set_paused,
	.signal = exec_signal,
	.free = exec_free,
	.cleanup = exec_cleanup,
};
