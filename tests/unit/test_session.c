/*
 * Unit tests for the session state machine and the run's scheduler, with a
 * scripted fake transport: every join order of stdout EOF, stderr EOF and
 * exit status; failures; connect and command timeouts; the fanout window;
 * waiting for a port; deferred close.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>

#include <event2/event.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mrsh/hostlist.h"
#include "mrsh/options.h"
#include "mrsh/run.h"
#include "../../src/run_internal.h"
#include "mrsh/session.h"
#include "mrsh/transport.h"
#include "mrsh/xmalloc.h"
#include "tap.h"

/* A script: one character per step, run 1 ms apart. */
struct fake {
	struct session	*s;
	const char	*script;
	size_t		 pos;
	struct event	*ev;
	int		 closes;
	int		 close_abort;
	int		 in_call;	/* inside a session_* call */
	int		 close_in_call;	/* close arrived re-entrantly */
	int		 starts;
	int		 async_close;
	/* the close sub-state and the queue, as the fake saw them */
	enum session_close close_at_close;	/* in ops->close */
	enum session_close close_at_free;	/* in ops->free */
	enum session_close close_joined;	/* 'X': after the join */
	enum session_close close_failed;	/* 'X': after the failure */
	enum session_queue queue_parked;	/* 'W': after parking */
	enum session_queue queue_restarted;	/* second ops->start */
};

static const char *scripts[64];
static struct sockaddr_in wait_dst;	/* what 'W' waits to reach */
static struct fake fakes[64];
static int concurrent, max_concurrent;

static void
fake_step(evutil_socket_t fd, short what, void *arg)
{
	struct fake *f = arg;
	struct timeval ms = { 0, 1000 };
	char c;

	if (f->script[f->pos] == '\0')
		return;
	c = f->script[f->pos++];
	f->in_call = 1;
	switch (c) {
	case 'c':
		session_event(f->s, SEV_DIALING);
		break;
	case 's':
		session_event(f->s, SEV_CONNECTED);
		break;
	case 'r':
		session_event(f->s, SEV_COMMAND_STARTED);
		break;
	case 'O':
		session_output(f->s, STREAM_STDOUT, "out\n", 4);
		break;
	case 'E':
		session_output(f->s, STREAM_STDERR, "err\n", 4);
		break;
	case 'o':
		session_eof(f->s, STREAM_STDOUT);
		break;
	case 'e':
		session_eof(f->s, STREAM_STDERR);
		break;
	case '0':
	case '3':
	case '7':
		session_exit_status(f->s, c - '0');
		break;
	case 'K':
		session_exit_signal(f->s, 9, "KILL");
		break;
	case 'F':
		session_fail(f->s, FAIL_PROTOCOL, "scripted failure");
		break;
	case 'X':	/* exit 0 (the join), then fail in the same call */
		session_exit_status(f->s, 0);
		f->close_joined = f->s->close_step;
		session_fail(f->s, FAIL_PROTOCOL, "failed after the join");
		f->close_failed = f->s->close_step;
		break;
	case 'W':	/* wait for a port (towards 127.0.0.1:22), once */
		f->in_call = 0;
		session_wait_port_for(f->s, (struct sockaddr *)&wait_dst,
		    sizeof wait_dst);
		f->queue_parked = f->s->queue;
		return;
	case 'P':	/* release a port for everyone */
		run_port_released(f->s->run);
		break;
	case 'H':	/* hang: stop the script */
		f->in_call = 0;
		return;
	}
	f->in_call = 0;
	evtimer_add(f->ev, &ms);
}

static void
fake_start(struct session *s)
{
	struct fake *f = &fakes[s->idx];
	struct timeval ms = { 0, 1000 };

	f->starts++;
	if (f->starts == 2)
		f->queue_restarted = s->queue;
	if (f->starts == 1) {
		f->s = s;
		f->script = scripts[s->idx];
		f->ev = evtimer_new(s->run->base, fake_step, f);
		concurrent++;
		if (concurrent > max_concurrent)
			max_concurrent = concurrent;
	}
	s->tdata = f;
	evtimer_add(f->ev, &ms);
}

static void
fake_closed_later(evutil_socket_t fd, short what, void *arg)
{
	struct fake *f = arg;

	session_closed(f->s, CLOSED_REMOTE_FIRST);
}

static void
fake_close(struct session *s, int abort_it)
{
	struct fake *f = s->tdata;
	struct timeval ms = { 0, 2000 };

	f->closes++;
	f->close_abort = abort_it;
	f->close_at_close = s->close_step;
	if (f->in_call)
		f->close_in_call = 1;
	event_del(f->ev);
	concurrent--;
	if (f->async_close) {
		event_free(f->ev);
		f->ev = evtimer_new(s->run->base, fake_closed_later, f);
		evtimer_add(f->ev, &ms);
		return;
	}
	session_closed(s, CLOSED_NONE);
}

static void
fake_free(struct session *s)
{
	struct fake *f = s->tdata;

	if (f != NULL)
		f->close_at_free = s->close_step;
	if (f != NULL && f->ev != NULL) {
		event_free(f->ev);
		f->ev = NULL;
	}
	s->tdata = NULL;
}

static const struct transport_ops fake_ops = {
	.name = "fake",
	.fds_per_session = 1,
	.start = fake_start,
	.close = fake_close,
	.free = fake_free,
};

/* The same, for a transport that binds a source port (--ports applies). */
static const struct transport_ops fake_port_ops = {
	.name = "fake",
	.fds_per_session = 1,
	.ports_per_session = 1,
	.start = fake_start,
	.close = fake_close,
	.free = fake_free,
};

static char tmpdir[64];

static void
opts_init(struct options *o, size_t nhosts)
{
	size_t i;
	char *name;

	memset(o, 0, sizeof *o);
	hostlist_init(&o->hosts);
	o->hosts.hosts = xcalloc(nhosts, sizeof *o->hosts.hosts);
	o->hosts.n = o->hosts.cap = nhosts;
	for (i = 0; i < nhosts; i++) {
		xasprintf(&name, "h%zu", i);
		o->hosts.hosts[i].name = name;
		o->hosts.hosts[i].label = xstrdup(name);
	}
	o->transport = "fake";
	o->fanout = 64;
	o->connect_timeout = 5;
	o->close_wait = 1;
	o->gather_max = 1 << 20;
	o->outdir = tmpdir;	/* keep host output off TAP's stdout */
	o->errdir = tmpdir;
	o->verbose = -1;
}

/* Run the scripts; returns the exit status. */
static int
run_scripts(struct options *o, struct run *run, int async_close)
{
	size_t i;

	memset(fakes, 0, sizeof fakes);
	concurrent = max_concurrent = 0;
	for (i = 0; i < o->hosts.n; i++)
		fakes[i].async_close = async_close;
	if (run_init(run, o, o->ports_mode == PORTS_RANGE ? &fake_port_ops :
	    &fake_ops) != 0)
		return -1;
	return run_loop(run);
}

static void
test_join_orders(void)
{
	static const char *orders[] = {
		"csrOEoe0", "csrOE0oe", "csrOEeo0", "csrOE0eo", "csrOEe0o",
		"csrOEo0e"
	};
	struct options o;
	struct run run;
	size_t i;
	int st, ok_all = 1, once = 1, reent = 0, done_ok = 1, steps_ok = 1;

	opts_init(&o, 6);
	for (i = 0; i < 6; i++)
		scripts[i] = orders[i];
	st = run_scripts(&o, &run, 0);
	is_int(st, 0, "all join orders: exit status 0");
	for (i = 0; i < 6; i++) {
		if (run.sessions[i].state != S_DONE)
			done_ok = 0;
		if (fakes[i].closes != 1)
			once = 0;
		if (fakes[i].close_in_call)
			reent = 1;
		if (fakes[i].close_abort)
			ok_all = 0;
		if (run.sessions[i].t[S_CLOSING].tv_sec == 0)
			ok_all = 0;
		if (fakes[i].close_at_close != SC_CALLED ||
		    fakes[i].close_at_free != SC_CLOSED ||
		    run.sessions[i].close_step != SC_FREED ||
		    run.sessions[i].queue != SQ_NONE)
			steps_ok = 0;
	}
	ok(done_ok, "every join order ends DONE");
	ok(once, "close called exactly once per session");
	ok(!reent, "close never called from inside a session_* call");
	ok(ok_all, "normal close (not abort) after CLOSING");
	ok(steps_ok, "close: CALLED in ops->close, CLOSED in ops->free, then "
	    "FREED and on no queue");
	is_int(run.ndone, 6, "ndone counts all");
	run_clear(&run);
	hostlist_free(&o.hosts);
}

static void
test_not_joined(void)
{
	struct options o;
	struct run run;
	int st;

	/* Exit status but stderr EOF never comes: must not finish early. */
	opts_init(&o, 1);
	o.command_timeout = 0.2;
	scripts[0] = "csrOo0H";
	st = run_scripts(&o, &run, 0);
	is_int(run.sessions[0].state, S_FAILED,
	    "missing stderr EOF: not DONE, times out");
	is_int(run.sessions[0].fail_kind, FAIL_TIMEOUT, "fail kind timeout");
	is_int(run.sessions[0].fail_stage, S_RUNNING, "failed in RUNNING");
	is_int(st, 255, "timeout -> exit 255");
	ok(fakes[0].close_abort == 1, "timeout closes with abort");
	run_clear(&run);
	hostlist_free(&o.hosts);
}

static void
test_exit_codes(void)
{
	struct options o;
	struct run run;
	int st;

	opts_init(&o, 3);
	scripts[0] = "csroe0";
	scripts[1] = "csroe3";
	scripts[2] = "csroe7";
	st = run_scripts(&o, &run, 0);
	is_int(st, 7, "exit status is the largest remote status");
	is_int(run.sessions[1].exit_code, 3, "exit code recorded");
	run_clear(&run);
	hostlist_free(&o.hosts);

	opts_init(&o, 2);
	scripts[0] = "csroe3";
	scripts[1] = "csroeK";
	st = run_scripts(&o, &run, 0);
	is_int(st, 128 + 9, "signal -> 128 + signal number");
	is_str(run.sessions[1].exit_signame, "KILL", "signal name kept");
	run_clear(&run);
	hostlist_free(&o.hosts);

	opts_init(&o, 2);
	scripts[0] = "csroe3";
	scripts[1] = "csF";
	st = run_scripts(&o, &run, 0);
	is_int(st, 255, "a failed host -> 255 even if another exited 3");
	is_int(run.sessions[1].fail_stage, S_SETUP, "failure records stage");
	is_str(run.sessions[1].fail_reason, "scripted failure",
	    "failure records reason");
	is_int(run.nfailed, 1, "nfailed counts it");
	run_clear(&run);
	hostlist_free(&o.hosts);
}

static void
test_timeouts(void)
{
	struct options o;
	struct run run;

	/*
	 * Long enough for host 1's six steps on a loaded machine (1 s was
	 * not, once, under nice 19 at load 14).
	 */
	opts_init(&o, 2);
	o.connect_timeout = 3;
	scripts[0] = "cH";		/* stuck connecting */
	scripts[1] = "csroe0";
	run_scripts(&o, &run, 0);
	is_int(run.sessions[0].fail_kind, FAIL_TIMEOUT, "connect timeout");
	is_int(run.sessions[0].fail_stage, S_CONNECTING,
	    "connect timeout in CONNECTING");
	ok(strstr(run.sessions[0].fail_reason, "connect timeout") != NULL,
	    "reason says connect timeout");
	is_int(run.sessions[1].state, S_DONE,
	    "a stuck host does not stop another");
	run_clear(&run);
	hostlist_free(&o.hosts);

	/*
	 * The connect timeout is shorter than the command timeout, so it
	 * would fire first if RUNNING did not replace it; it is long enough
	 * for the script to reach RUNNING on a loaded machine.
	 */
	opts_init(&o, 1);
	o.connect_timeout = 3;
	scripts[0] = "csrOoe";	/* no exit status ever */
	o.command_timeout = 4.5;
	run_scripts(&o, &run, 0);
	ok(strstr(run.sessions[0].fail_reason, "command timeout") != NULL,
	    "command timeout replaces the connect timeout in RUNNING");
	run_clear(&run);
	hostlist_free(&o.hosts);
}

static void
test_fanout(void)
{
	struct options o;
	struct run run;
	size_t i;
	int st;

	opts_init(&o, 20);
	o.fanout = 3;
	for (i = 0; i < 20; i++)
		scripts[i] = "csrOoe0";
	st = run_scripts(&o, &run, 1);
	is_int(st, 0, "fanout run succeeds");
	is_int(max_concurrent, 3, "never more than -j sessions at once");
	is_int(run.ndone, 20, "all 20 done");
	ok(run.sessions[19].close_how == CLOSED_REMOTE_FIRST,
	    "asynchronous close recorded");
	run_clear(&run);
	hostlist_free(&o.hosts);
}

static void
test_port_wait(void)
{
	struct options o;
	struct run run;

	opts_init(&o, 2);
	scripts[0] = "W";		/* parks; resumed by host 1 */
	scripts[1] = "csrPoe0";
	/* After resume host 0's script continues from its next step. */
	scripts[0] = "Wcsroe0";
	run_scripts(&o, &run, 0);
	is_int(fakes[0].starts, 2, "parked session started again");
	is_int(fakes[0].queue_parked, SQ_PORTWAIT, "parked: on portwait");
	is_int(fakes[0].queue_restarted, SQ_ACTIVE,
	    "resumed: back on active");
	is_int(run.sessions[0].queue, SQ_NONE, "freed: on no queue");
	is_int(run.sessions[0].state, S_DONE, "resumed session finishes");
	ok(run.sessions[0].t[S_PENDING].tv_sec != 0, "went through PENDING");
	run_clear(&run);
	hostlist_free(&o.hosts);

	opts_init(&o, 1);
	o.connect_timeout = 0.1;
	scripts[0] = "W";
	run_scripts(&o, &run, 0);
	is_int(run.sessions[0].fail_kind, FAIL_TIMEOUT,
	    "waiting for a port ends at the connect timeout");
	is_str(run.sessions[0].fail_reason, "connect timeout after 0.1s (-t) "
	    "waiting for a source port", "the reason, without a pool");
	run_clear(&run);
	hostlist_free(&o.hosts);

	/* With a pool the reason names the destination it waited for. */
	opts_init(&o, 1);
	o.connect_timeout = 0.1;
	o.ports_mode = PORTS_RANGE;
	o.ports_lo = 40000;
	o.ports_hi = 40015;
	scripts[0] = "W";
	run_scripts(&o, &run, 0);
	is_int(run.sessions[0].fail_kind, FAIL_TIMEOUT,
	    "pool: waiting for a port ends at the connect timeout");
	ok(strstr(run.sessions[0].fail_reason, "connect timeout after 0.1s (-t) "
	    "waiting for a source port: no source port free in 40000-40015: "
	    "16 ports, ") != NULL &&
	    strstr(run.sessions[0].fail_reason, " cooling towards "
	    "127.0.0.1:22") != NULL,
	    "pool: the reason explains the range towards 127.0.0.1:22");
	diag("%s", run.sessions[0].fail_reason);
	run_clear(&run);
	hostlist_free(&o.hosts);
}

/*
 * The transitions table, written out again: every one the code makes is
 * accepted, every other is a bug (fatal in a debug build).
 */
static const char *allowed[] = {
	"NEW PENDING", "NEW FAILED",
	"PENDING RESOLVING", "PENDING CONNECTING", "PENDING SETUP",
	"PENDING CLOSING",
	"RESOLVING CONNECTING", "RESOLVING SETUP", "RESOLVING CLOSING",
	"CONNECTING PENDING", "CONNECTING SETUP", "CONNECTING CLOSING",
	"SETUP RUNNING", "SETUP CLOSING",
	"RUNNING CLOSING",
	"CLOSING DONE", "CLOSING FAILED",
};

static int
expect_allowed(int from, int to)
{
	char pair[64];
	size_t i;

	snprintf(pair, sizeof pair, "%s %s",
	    session_state_name((enum session_state)from),
	    session_state_name((enum session_state)to));
	for (i = 0; i < sizeof allowed / sizeof allowed[0]; i++) {
		if (strcmp(allowed[i], pair) == 0)
			return 1;
	}
	return 0;
}

/*
 * An illegal transition in a child: 0 if the setter returned and left the
 * state alone, 1 if it returned and made it, -SIGNO if it died. The
 * child's stderr (the error line) comes back in msg.
 */
static int
illegal_in_child(struct session *s, enum session_state from,
    enum session_state to, char *msg, size_t msglen)
{
	int p[2], status;
	ssize_t n;
	size_t got = 0;
	pid_t pid;

	msg[0] = '\0';
	if (pipe(p) != 0)
		return -1000;
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1)
		return -1000;
	if (pid == 0) {
		struct rlimit nocore = { 0, 0 };

		setrlimit(RLIMIT_CORE, &nocore);	/* abort: no core file */
		close(p[0]);
		dup2(p[1], 2);
		s->state = from;
		session_set_state(s, to);
		_exit(s->state == to ? 1 : 0);
	}
	close(p[1]);
	while (got + 1 < msglen &&
	    (n = read(p[0], msg + got, msglen - 1 - got)) > 0)
		got += (size_t)n;
	msg[got] = '\0';
	close(p[0]);
	if (waitpid(pid, &status, 0) != pid)
		return -1000;
	if (WIFSIGNALED(status))
		return -WTERMSIG(status);
	return WEXITSTATUS(status);
}

static void
test_transitions(void)
{
	static const int bad[][2] = {
		{ S_NEW, S_RUNNING }, { S_RUNNING, S_PENDING },
		{ S_SETUP, S_CONNECTING }, { S_DONE, S_RUNNING },
		{ S_FAILED, S_DONE }, { S_RUNNING, S_DONE },
		{ S_NEW, S_CLOSING }, { S_CLOSING, S_RUNNING },
	};
	struct options o;
	struct run run;
	struct session *s;
	char msg[1024], want[128];
	size_t i;
	int from, to, table_ok = 1, set_ok = 1, n = 0, r;

	for (from = 0; from < S_COUNT; from++) {
		for (to = 0; to < S_COUNT; to++) {
			if (from == to)
				continue;
			if (session_transition_ok((enum session_state)from,
			    (enum session_state)to) != expect_allowed(from,
			    to)) {
				diag("table: %s -> %s",
				    session_state_name((enum session_state)from),
				    session_state_name((enum session_state)to));
				table_ok = 0;
			}
		}
	}
	ok(table_ok, "the table is exactly the transitions the code makes");
	ok(!session_transition_ok(S_COUNT, S_NEW) &&
	    !session_transition_ok(S_NEW, S_COUNT), "out of range: refused");

	opts_init(&o, 1);
	if (run_init(&run, &o, &fake_ops) != 0) {
		skip_n(2 + 4 + (int)(sizeof bad / sizeof bad[0]) * 2,
		    "run_init failed");
		return;
	}
	s = &run.sessions[0];
	for (from = 0; from < S_COUNT; from++) {
		for (to = 0; to < S_COUNT; to++) {
			if (from == to || !expect_allowed(from, to))
				continue;
			s->state = (enum session_state)from;
			session_set_state(s, (enum session_state)to);
			if ((int)s->state != to)
				set_ok = 0;
			n++;
		}
	}
	ok(set_ok, "the setter makes every allowed transition");
	is_int(n, (int)(sizeof allowed / sizeof allowed[0]),
	    "every allowed transition tried");

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = illegal_in_child(s, (enum session_state)bad[i][0],
		    (enum session_state)bad[i][1], msg, sizeof msg);
		snprintf(want, sizeof want, "h0: bug: %s -> %s is not an "
		    "allowed transition (from illegal_in_child:",
		    session_state_name((enum session_state)bad[i][0]),
		    session_state_name((enum session_state)bad[i][1]));
#ifdef MRSH_DEBUG
		is_int(r, -SIGABRT, "illegal transition aborts (debug build)");
#else
		is_int(r, 1, "illegal transition is made (release build)");
#endif
		if (!ok(strstr(msg, want) != NULL,
		    "illegal transition: error names it and its caller"))
			diag("stderr: %s", msg);
	}

	/*
	 * A failed session whose transport has not heard of the failure yet
	 * asks for a step the table does not allow from where the failure
	 * left it: refused quietly, never the "bug" line or an abort().
	 */
	s->fail_kind = FAIL_TIMEOUT;
	s->fail_stage = S_RUNNING;
	for (i = 0; i < 2; i++) {
		enum session_state f = i == 0 ? S_CLOSING : S_RUNNING;
		enum session_state t = i == 0 ? S_SETUP : S_PENDING;

		r = illegal_in_child(s, f, t, msg, sizeof msg);
		snprintf(want, sizeof want, "failed session: %s -> %s "
		    "refused, no abort", session_state_name(f),
		    session_state_name(t));
		is_int(r, 0, want);
		if (!ok(strstr(msg, "bug:") == NULL,
		    "failed session: no bug line for its late step"))
			diag("stderr: %s", msg);
	}
	s->fail_kind = FAIL_NONE;
	s->state = S_DONE;
	run_clear(&run);
	hostlist_free(&o.hosts);
}

/* Transport events: each moves the session to the state it means. */
static void
test_events(void)
{
	static const struct {
		enum session_event	 ev;
		enum session_state	 from, to;
		const char		*name;
	} evs[] = {
		{ SEV_STARTED, S_NEW, S_PENDING, "started" },
		{ SEV_LOOKUP, S_PENDING, S_RESOLVING, "lookup" },
		{ SEV_DIALING, S_RESOLVING, S_CONNECTING, "dialing" },
		{ SEV_CONNECTED, S_CONNECTING, S_SETUP, "connected" },
		{ SEV_SPAWNING, S_PENDING, S_SETUP, "spawning" },
		{ SEV_REFUSED, S_RESOLVING, S_SETUP, "refused" },
		{ SEV_COMMAND_STARTED, S_SETUP, S_RUNNING, "command started" },
	};
	struct options o;
	struct run run;
	struct session *s;
	char name[128];
	size_t i;

	is_int(SEV_COUNT, (int)(sizeof evs / sizeof evs[0]),
	    "every event is tested");
	opts_init(&o, 1);
	if (run_init(&run, &o, &fake_ops) != 0) {
		skip_n(3 * (int)(sizeof evs / sizeof evs[0]) + 2,
		    "run_init failed");
		return;
	}
	s = &run.sessions[0];
	for (i = 0; i < sizeof evs / sizeof evs[0]; i++) {
		snprintf(name, sizeof name, "event %s: %s -> %s", evs[i].name,
		    session_state_name(evs[i].from),
		    session_state_name(evs[i].to));
		is_str(session_event_name(evs[i].ev), evs[i].name, name);
		ok(session_event_state(evs[i].ev) == evs[i].to, name);
		s->state = evs[i].from;
		session_event(s, evs[i].ev);
		is_int(s->state, evs[i].to, name);
	}
	is_str(session_event_name(SEV_COUNT), "?", "unknown event: no name");
	ok(session_event_state(SEV_COUNT) == S_COUNT,
	    "unknown event: no state");
	s->state = S_DONE;
	run_clear(&run);
	hostlist_free(&o.hosts);
}

/*
 * The close sub-state: named, moved only forward by its setter, a due
 * close turned into an abort by a failure before it runs; and "started"
 * derived from the state.
 */
static void
test_close_steps(void)
{
	static const char *names[SC_COUNT] = {
		"OPEN", "DUE", "DUE_ABORT", "CALLED", "CLOSED", "FREED"
	};
	struct options o;
	struct run run;
	struct session *s;
	char msg[1024];
	int i, p[2], status, names_ok = 1;
	ssize_t n;
	size_t got = 0;
	pid_t pid;

	for (i = 0; i < SC_COUNT; i++) {
		if (strcmp(session_close_name((enum session_close)i),
		    names[i]) != 0)
			names_ok = 0;
	}
	ok(names_ok && strcmp(session_close_name(SC_COUNT), "?") == 0,
	    "every close step has its name");

	/* The join makes the close due; a failure then makes it an abort. */
	opts_init(&o, 1);
	scripts[0] = "csroeX";
	run_scripts(&o, &run, 0);
	is_int(fakes[0].close_joined, SC_DUE, "the join: close due");
	is_int(fakes[0].close_failed, SC_DUE_ABORT,
	    "a failure before it runs: an abort");
	is_int(fakes[0].closes, 1, "ops->close called once");
	is_int(fakes[0].close_abort, 1, "... to abort");
	is_int(run.sessions[0].state, S_FAILED, "the session failed");
	is_int(run.sessions[0].close_step, SC_FREED, "and was freed");
	run_clear(&run);
	hostlist_free(&o.hosts);

	opts_init(&o, 1);
	if (run_init(&run, &o, &fake_ops) != 0) {
		skip_n(6, "run_init failed");
		hostlist_free(&o.hosts);
		return;
	}
	s = &run.sessions[0];
	ok(!session_started(s), "NEW: not started");
	s->state = S_PENDING;
	ok(session_started(s), "PENDING: started");
	s->state = S_FAILED;
	s->fail_kind = FAIL_ABORTED;
	s->fail_stage = S_NEW;
	ok(!session_started(s), "failed in NEW: never started");
	s->fail_stage = S_RUNNING;
	ok(session_started(s), "failed in RUNNING: started");

	/* A step back, in a child: the bug line with the caller. */
	msg[0] = '\0';
	status = -1;
	if (pipe(p) == 0) {
		fflush(stdout);
		fflush(stderr);
		if ((pid = fork()) == 0) {
			struct rlimit nocore = { 0, 0 };

			setrlimit(RLIMIT_CORE, &nocore);
			close(p[0]);
			dup2(p[1], 2);
			s->close_step = SC_CLOSED;
			session_set_close(s, SC_DUE);
			_exit(s->close_step == SC_DUE ? 1 : 0);
		}
		close(p[1]);
		while (got + 1 < sizeof msg && (n = read(p[0], msg + got,
		    sizeof msg - 1 - got)) > 0)
			got += (size_t)n;
		msg[got] = '\0';
		close(p[0]);
		if (pid > 0)
			waitpid(pid, &status, 0);
	}
#ifdef MRSH_DEBUG
	ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
	    "a close step back aborts (debug build)");
#else
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 1,
	    "a close step back is made (release build)");
#endif
	if (!ok(strstr(msg, "h0: bug: close CLOSED -> DUE goes back (from "
	    "test_close_steps:") != NULL, "a close step back names its caller"))
		diag("stderr: %s", msg);
	s->fail_kind = FAIL_NONE;
	s->state = S_DONE;
	run_clear(&run);
	hostlist_free(&o.hosts);
}

/* The one reading of how a session ended. */
static void
test_outcome(void)
{
	struct session s;
	struct session_outcome o;

	memset(&s, 0, sizeof s);
	s.state = S_DONE;
	s.exit_how = SX_STATUS;
	o = session_outcome(&s);
	ok(o.end == SESSION_OK && o.code == 0, "exit 0: ok, 0");
	s.exit_code = 300;
	o = session_outcome(&s);
	ok(o.end == SESSION_EXIT && o.code == 255, "exit 300: exit, 255");
	ok(o.has_status && o.status == 300 && o.signal == 0 &&
	    o.signame == NULL, "exit 300: the status as sent");
	s.exit_code = -1;
	o = session_outcome(&s);
	ok(o.has_status && o.status == 4294967295U && o.code == 255,
	    "ssh's uint32 status: as sent, counts as 255");
	s.exit_code = 0;
	s.exit_how = SX_SIGNAL;
	s.exit_signal = 15;
	s.exit_signame = "TERM";
	o = session_outcome(&s);
	ok(o.end == SESSION_SIGNAL && o.code == 143, "signal 15: signal, 143");
	ok(!o.has_status && o.signal == 15 && o.signame != NULL &&
	    strcmp(o.signame, "TERM") == 0, "signal 15: number and name");
	s.exit_signame = NULL;
	s.exit_signal = 0;
	s.exit_how = SX_UNKNOWN;
	o = session_outcome(&s);
	ok(o.end == SESSION_UNKNOWN && o.code == 255, "unknown: 255");
	s.exit_how = SX_NONE;
	o = session_outcome(&s);
	ok(o.end == SESSION_UNKNOWN && o.code == 255, "no exit status: 255");
	s.exit_how = SX_STATUS;
	s.state = S_FAILED;
	s.fail_kind = FAIL_TIMEOUT;
	o = session_outcome(&s);
	ok(o.end == SESSION_FAILED && o.code == 255, "failed: failed, 255");
	ok(o.has_status && o.status == 0,
	    "failed after its exit status: the status still there");
}

int
main(void)
{
	wait_dst.sin_family = AF_INET;
	wait_dst.sin_port = htons(22);
	wait_dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	snprintf(tmpdir, sizeof tmpdir, "/tmp/mrsh-test-session.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	test_join_orders();
	test_not_joined();
	test_exit_codes();
	test_timeouts();
	test_fanout();
	test_port_wait();
	test_transitions();
	test_events();
	test_close_steps();
	test_outcome();
	{
		char cmd[128];

		snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
		if (system(cmd) != 0)
			diag("cleanup of %s failed", tmpdir);
	}
	return done_testing();
}
