/*
 * The per-host state machine shared by every transport. The transport
 * reports data, EOFs, the exit status and failures; the session joins them
 * (finished only when stdout EOF, stderr EOF and the exit status have all
 * arrived, in any order), then asks the transport to close, from the loop
 * and never from inside the transport's own call. Start, port waits, the
 * close and the end are decided here too; the run (run.c) only keeps the
 * queues and counters they move between.
 */
#include "config.h"

#include <sys/time.h>

#include <event2/event.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mrsh/hostlist.h"
#include "mrsh/log.h"
#include "mrsh/portpool.h"
#include "mrsh/options.h"
#include "mrsh/output.h"
#include "mrsh/run.h"
#include "run_internal.h"
#include "mrsh/session.h"
#include "mrsh/transport.h"
#include "mrsh/xmalloc.h"

static const char *session_state_names[S_COUNT] = {
	"NEW", "PENDING", "RESOLVING", "CONNECTING", "SETUP", "RUNNING",
	"CLOSING", "DONE", "FAILED"
};

static const char *session_close_names[SC_COUNT] = {
	"OPEN", "DUE", "DUE_ABORT", "CALLED", "CLOSED", "FREED"
};

static const char *session_fail_names[] = {
	"none", "unreachable", "auth", "timeout", "protocol", "aborted",
	"local", "copy"
};

/*
 * The allowed transitions, derived from what the code does: run.c starts a
 * session (NEW -> PENDING) or fails one it never started (NEW -> FAILED);
 * a transport resolves, connects, parks for a source port (CONNECTING ->
 * PENDING, then on to CONNECTING again), sets up and runs; the session goes
 * to CLOSING from any started state (the join, a failure, a timeout) and
 * only from CLOSING to its end. ssh refuses a host whose ssh_config is bad
 * in SETUP, so PENDING and RESOLVING (CanonicalizeHostname) may go there.
 * Anything else is a bug.
 */
#define SESSION_TO(st)	(1u << (st))
static const unsigned int session_next[S_COUNT] = {
	[S_NEW] =	 SESSION_TO(S_PENDING) | SESSION_TO(S_FAILED),
	[S_PENDING] =	 SESSION_TO(S_RESOLVING) | SESSION_TO(S_CONNECTING) |
			 SESSION_TO(S_SETUP) | SESSION_TO(S_CLOSING),
	[S_RESOLVING] =	 SESSION_TO(S_CONNECTING) | SESSION_TO(S_SETUP) |
			 SESSION_TO(S_CLOSING),
	[S_CONNECTING] = SESSION_TO(S_PENDING) | SESSION_TO(S_SETUP) |
			 SESSION_TO(S_CLOSING),
	[S_SETUP] =	 SESSION_TO(S_RUNNING) | SESSION_TO(S_CLOSING),
	[S_RUNNING] =	 SESSION_TO(S_CLOSING),
	[S_CLOSING] =	 SESSION_TO(S_DONE) | SESSION_TO(S_FAILED),
	[S_DONE] =	 0,
	[S_FAILED] =	 0
};

/*
 * What each transport event means for the session: its state from then on.
 * A lookup, a connect and the setup may each be skipped (numeric
 * addresses, exec), so the table above allows the jumps.
 */
static const struct {
	const char		*name;
	enum session_state	 state;
} session_events[SEV_COUNT] = {
	[SEV_STARTED] =		{ "started", S_PENDING },
	[SEV_LOOKUP] =		{ "lookup", S_RESOLVING },
	[SEV_DIALING] =		{ "dialing", S_CONNECTING },
	[SEV_CONNECTED] =	{ "connected", S_SETUP },
	[SEV_SPAWNING] =	{ "spawning", S_SETUP },
	[SEV_REFUSED] =		{ "refused", S_SETUP },
	[SEV_COMMAND_STARTED] =	{ "command started", S_RUNNING },
};

static void	session_schedule_close(struct session *, int);
static void	session_arm(struct session *, double);

const char *
session_state_name(enum session_state st)
{
	if ((unsigned)st >= S_COUNT)
		return "?";
	return session_state_names[st];
}

const char *
session_fail_kind_name(enum fail_kind k)
{
	if ((unsigned)k >= sizeof session_fail_names /
	    sizeof session_fail_names[0])
		return "?";
	return session_fail_names[k];
}

int
session_transition_ok(enum session_state from, enum session_state to)
{
	if ((unsigned)from >= S_COUNT || (unsigned)to >= S_COUNT)
		return 0;
	return (session_next[from] & SESSION_TO(to)) != 0;
}

/*
 * A state-machine bug: one error line with the host and the caller, and in
 * a debug build (--enable-sanitizers) an abort(), as OpenSSH's
 * chan_set_istate. A release build goes on, so that a path the tables
 * missed cannot leave a host unfinished.
 */
static void	session_bug(const struct session *, const char *, int,
		    const char *, ...) __attribute__((format(printf, 4, 5)));

static void
session_bug(const struct session *s, const char *func, int line,
    const char *fmt, ...)
{
	char	buf[256];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	log_msg(LOG_ERROR, NULL, 0, "%s: bug: %s (from %s:%d)",
	    s->host->label, buf, func != NULL ? func : "?", line);
#ifdef MRSH_DEBUG
	abort();
#endif
}

/*
 * The one state setter: checks the transition against the table, then
 * time stamp, timers that belong to a state, trace. A transition not in the
 * table is a bug: said at error level with the caller, and fatal (abort) in
 * a debug build (--enable-sanitizers), as OpenSSH's chan_set_istate. A
 * release build still makes it, as mrsh always did, so that a path the table
 * missed cannot leave a host unfinished.
 */
void
session_set_state_at(struct session *s, enum session_state st,
    const char *func, int line)
{
	const struct options *opt = s->run->opt;
	struct timespec ts;

	if (s->state == st)
		return;
	/*
	 * A failed session only goes on towards its end: a transport that
	 * has not yet heard of the failure (the session's own timer fired)
	 * cannot take it back to work.
	 */
	if (s->fail_kind != FAIL_NONE && st < S_CLOSING) {
		log_msg(LOG_DEBUG, func, line, "%s: %s -> %s refused: failed "
		    "in %s", s->host->label, session_state_name(s->state),
		    session_state_name(st), session_state_name(s->fail_stage));
		return;
	}
	/*
	 * Checked after that refusal: a transport that has not heard of the
	 * failure yet may ask for any step of its own, which is no bug.
	 */
	if (!session_transition_ok(s->state, st)) {
		session_bug(s, func, line, "%s -> %s is not an allowed "
		    "transition", session_state_name(s->state),
		    session_state_name(st));
	}
	log_msg(LOG_DEBUG, func, line, "%s: %s -> %s", s->host->label,
	    session_state_name(s->state), session_state_name(st));
	s->state = st;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	s->t[st].tv_sec = ts.tv_sec;
	s->t[st].tv_usec = ts.tv_nsec / 1000;

	switch (st) {
	case S_RUNNING:
		/* The command timeout replaces the connect timeout. */
		session_arm(s, opt->command_timeout);
		break;
	case S_CLOSING:
	case S_DONE:
	case S_FAILED:
		if (!session_close_due(s) && s->timer != NULL)
			event_del(s->timer);
		break;
	default:
		break;
	}
}

const char *
session_event_name(enum session_event ev)
{
	if ((unsigned)ev >= SEV_COUNT)
		return "?";
	return session_events[ev].name;
}

enum session_state
session_event_state(enum session_event ev)
{
	if ((unsigned)ev >= SEV_COUNT)
		return S_COUNT;
	return session_events[ev].state;
}

/*
 * A transport's event: the session moves to the state it means, through
 * the one setter (traced with the transport's function and line).
 */
void
session_event_at(struct session *s, enum session_event ev, const char *func,
    int line)
{
	if ((unsigned)ev >= SEV_COUNT) {
		session_bug(s, func, line, "unknown event %d", (int)ev);
		return;
	}
	session_set_state_at(s, session_events[ev].state, func, line);
}

const char *
session_close_name(enum session_close cs)
{
	if ((unsigned)cs >= SC_COUNT)
		return "?";
	return session_close_names[cs];
}

/*
 * The one setter of the close sub-state. It only moves forward (OPEN, due,
 * called, closed, freed; a due close may turn into an abort): a step back
 * is a bug, said with the caller and fatal in a debug build, as a state
 * transition not in the table.
 */
void
session_set_close_at(struct session *s, enum session_close cs,
    const char *func, int line)
{
	if (s->close_step == cs)
		return;
	if (cs < s->close_step) {
		session_bug(s, func, line, "close %s -> %s goes back",
		    session_close_name(s->close_step), session_close_name(cs));
	}
	log_msg(LOG_DEBUG2, func, line, "%s: close %s -> %s", s->host->label,
	    session_close_name(s->close_step), session_close_name(cs));
	s->close_step = cs;
}

int
session_close_due(const struct session *s)
{
	return s->close_step == SC_DUE || s->close_step == SC_DUE_ABORT;
}

int
session_started(const struct session *s)
{
	/* run.c failed it before its turn: NEW -> FAILED. */
	if (s->fail_kind != FAIL_NONE && s->fail_stage == S_NEW)
		return 0;
	return s->state != S_NEW;
}

/* Given a fanout slot by the run: PENDING, the connect timeout, go. */
void
session_start(struct session *s)
{
	session_set_state(s, S_PENDING);
	session_set_timeout(s, s->run->opt->connect_timeout);
	s->ops->start(s);
}

/* A source port was released: a parked session tries again. */
void
session_resume(struct session *s)
{
	if (s->fail_kind == FAIL_NONE && s->close_step < SC_CALLED)
		s->ops->start(s);
}

/*
 * The transport has closed: DONE, or FAILED if it failed; the run takes it
 * off its queues, counts and reports it.
 */
void
session_closed(struct session *s, enum close_how how)
{
	if (session_is_finished(s))
		return;
	s->close_how = how;
	session_set_close(s, SC_CLOSED);
	session_set_state(s, s->fail_kind != FAIL_NONE ? S_FAILED : S_DONE);
	if (s->timer != NULL)
		event_del(s->timer);
	run_session_finished(s->run, s);
}

/* No source port: park in PENDING (keeping the fanout slot) until one frees. */
void
session_wait_port_for(struct session *s, const struct sockaddr *dst,
    socklen_t dstlen)
{
	if (s->queue == SQ_PORTWAIT || session_is_finished(s) ||
	    s->fail_kind != FAIL_NONE)
		return;
	if (dst != NULL && dstlen <= sizeof s->wait_dst) {
		memcpy(&s->wait_dst, dst, dstlen);
		s->wait_dstlen = dstlen;
	}
	session_set_state(s, S_PENDING);
	run_park_for_port(s->run, s);
}

struct session_outcome
session_outcome(const struct session *s)
{
	struct session_outcome o;

	o.has_status = s->exit_how == SX_STATUS;
	o.status = o.has_status ? (unsigned int)s->exit_code : 0;
	o.signal = s->exit_signal;
	o.signame = s->exit_signame;
	if (s->state == S_FAILED || s->fail_kind != FAIL_NONE) {
		o.end = SESSION_FAILED;
		o.code = 255;
	} else if (s->exit_signal != 0 || s->exit_signame != NULL) {
		o.end = SESSION_SIGNAL;
		o.code = 128 + s->exit_signal;
	} else if (s->exit_how == SX_UNKNOWN || s->exit_how == SX_NONE) {
		o.end = SESSION_UNKNOWN;
		o.code = 255;
	} else {
		o.code = session_exit_code_mapped(s->exit_code);
		o.end = s->exit_code == 0 ? SESSION_OK : SESSION_EXIT;
	}
	return o;
}

/* DONE or FAILED: session_closed() has run. */
int
session_is_finished(const struct session *s)
{
	return s->state >= S_DONE;
}

/* All three parts in: schedule the close. */
static void
session_check_join(struct session *s)
{
	if (s->fail_kind != FAIL_NONE || s->close_step != SC_OPEN)
		return;
	if (s->eof[STREAM_STDOUT] && s->eof[STREAM_STDERR] &&
	    session_exit_known(s))
		session_schedule_close(s, 0);
}

void
session_output(struct session *s, enum stream st, const char *buf, size_t len)
{
	if (session_is_finished(s) || len == 0)
		return;
	/* Failed before the command ran: whatever comes is not its output. */
	if (s->fail_kind != FAIL_NONE && s->fail_stage < S_RUNNING)
		return;
	output_data(s->run->out, s, st, buf, len);
}

void
session_eof(struct session *s, enum stream st)
{
	if (session_is_finished(s) || s->eof[st])
		return;
	s->eof[st] = 1;
	output_eof(s->run->out, s, st);
	session_check_join(s);
}

void
session_exit_status(struct session *s, int code)
{
	if (session_is_finished(s) || session_exit_known(s))
		return;
	s->exit_how = SX_STATUS;
	s->exit_code = code;
	if (code != session_exit_code_mapped(code))
		log_msg(LOG_INFO, NULL, 0, "%s: exited with exit code %u "
		    "(out of range: counts as %d)", s->host->label,
		    (unsigned int)code, session_exit_code_mapped(code));
	else if (code != 0)
		log_msg(LOG_INFO, NULL, 0, "%s: exited with exit code %d",
		    s->host->label, code);
	session_check_join(s);
}

int
session_exit_known(const struct session *s)
{
	return s->exit_how != SX_NONE;
}

int
session_exit_code_mapped(int code)
{
	return code >= 0 && code <= 255 ? code : 255;
}

void
session_exit_signal(struct session *s, int signo, const char *name)
{
	if (session_is_finished(s) || session_exit_known(s))
		return;
	s->exit_how = SX_SIGNAL;
	s->exit_signal = signo > 0 ? signo : 255 - 128;
	if (name != NULL)
		s->exit_signame = xstrdup(name);
	log_msg(LOG_INFO, NULL, 0, "%s: killed by signal %s", s->host->label,
	    name != NULL ? name : "?");
	session_check_join(s);
}

void
session_exit_unknown(struct session *s, const char *why)
{
	if (session_is_finished(s) || session_exit_known(s))
		return;
	s->exit_how = SX_UNKNOWN;
	log_msg(LOG_WARN, NULL, 0, "%s: exit status unknown%s%s",
	    s->host->label, why != NULL ? ": " : "", why != NULL ? why : "");
	session_check_join(s);
}

void
session_fail_at(struct session *s, const char *func, int line,
    enum fail_kind kind, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (session_is_finished(s) || s->fail_kind != FAIL_NONE)
		return;
	/* Kept as the server said it: every place it is shown makes it safe. */
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	s->fail_kind = kind;
	s->fail_stage = s->state;
	s->fail_reason = xstrdup(buf);
	s->fail_func = func;
	s->fail_line = line;
	/* Where it came from, at -vv, as the state trace. */
	log_msg(LOG_DEBUG, func, line, "%s: %s fails (%s)", s->host->label,
	    session_state_name(s->state), session_fail_kind_name(kind));
	if (kind != FAIL_ABORTED || !s->run->stdout_broken)
		log_msg(kind == FAIL_ABORTED ? LOG_INFO : LOG_WARN, NULL, 0,
		    "%s: %s: %s", s->host->label,
		    session_state_name(s->state), buf);
	if (!session_started(s)) {
		/* Never given to the transport: nothing to close. */
		session_closed(s, CLOSED_NONE);
		return;
	}
	if (s->close_step < SC_CALLED)
		session_schedule_close(s, 1);
}

/* Which setting the connect timeout came from, for its error. */
static const char *
session_timeout_source(const struct session *s)
{
	return s->connect_timeout_what != NULL ? s->connect_timeout_what :
	    "-t";
}

/* Timed out waiting for a source port: say why no port was usable. */
static void
session_fail_port(struct session *s)
{
	char why[512];

	if (s->run->pool == NULL || s->wait_dstlen == 0) {
		session_fail(s, FAIL_TIMEOUT, "connect timeout after %gs (%s) "
		    "waiting for a source port", s->connect_timeout_used,
		    session_timeout_source(s));
		return;
	}
	portpool_explain(s->run->pool, (struct sockaddr *)&s->wait_dst,
	    s->wait_dstlen, run_now(), why, sizeof why);
	session_fail(s, FAIL_TIMEOUT, "connect timeout after %gs (%s) waiting "
	    "for a source port: %s", s->connect_timeout_used,
	    session_timeout_source(s), why);
}

/* Timer: a deferred ops->close, or a connect/command timeout. */
static void
session_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	const struct options *opt = s->run->opt;
	int abort_it;

	if (session_is_finished(s))
		return;
	if (session_close_due(s)) {
		abort_it = s->close_step == SC_DUE_ABORT;
		session_set_close(s, SC_CALLED);
		session_set_state(s, S_CLOSING);
		s->ops->close(s, abort_it);
		return;
	}
	if (s->state >= S_CLOSING)
		return;
	if (s->state == S_RUNNING)
		session_fail(s, FAIL_TIMEOUT, "command timeout after %gs",
		    opt->command_timeout);
	else if (s->state == S_PENDING && s->queue == SQ_PORTWAIT)
		session_fail_port(s);
	else if (s->state == S_SETUP && s->awaiting_banner)
		/* ssh: "Connection timed out during banner exchange". */
		session_fail(s, FAIL_TIMEOUT, "timed out during banner "
		    "exchange after %gs (%s)", s->connect_timeout_used,
		    session_timeout_source(s));
	else if (s->state == S_SETUP && s->awaiting != NULL)
		session_fail(s, FAIL_TIMEOUT, "timed out waiting for %s after "
		    "%gs (%s)", s->awaiting, s->connect_timeout_used,
		    session_timeout_source(s));
	else
		session_fail(s, FAIL_TIMEOUT, "connect timeout after %gs (%s)",
		    s->connect_timeout_used, session_timeout_source(s));
	/*
	 * The timeout ends the state it belongs to now, not on the next
	 * loop iteration: a read already queued in this iteration would
	 * otherwise finish the exec and print output of a host that is
	 * reported timed out. We are on top of the loop here, not inside a
	 * transport call, so the close may run at once.
	 */
	if (session_close_due(s) && !session_is_finished(s)) {
		event_del(s->timer);
		session_set_close(s, SC_CALLED);
		session_set_state(s, S_CLOSING);
		s->ops->close(s, 1);
	}
}

static void
session_arm(struct session *s, double secs)
{
	struct timeval tv;

	if (s->timer == NULL)
		s->timer = evtimer_new(s->run->base, session_timer_cb, s);
	if (session_close_due(s))
		return;
	if (secs <= 0) {
		event_del(s->timer);
		return;
	}
	tv.tv_sec = (time_t)secs;
	tv.tv_usec = (suseconds_t)((secs - (double)tv.tv_sec) * 1e6);
	evtimer_add(s->timer, &tv);
}

void
session_set_timeout(struct session *s, double secs)
{
	if (s->state < S_RUNNING)
		s->connect_timeout_used = secs;
	session_arm(s, secs);
}

/* Ask for ops->close on the next loop iteration. */
static void
session_schedule_close(struct session *s, int abort_it)
{
	struct timeval zero = { 0, 0 };

	if (s->close_step >= SC_CALLED)
		return;
	if (session_close_due(s)) {
		if (abort_it)
			session_set_close(s, SC_DUE_ABORT);
		return;
	}
	session_set_close(s, abort_it ? SC_DUE_ABORT : SC_DUE);
	if (s->timer == NULL)
		s->timer = evtimer_new(s->run->base, session_timer_cb, s);
	evtimer_add(s->timer, &zero);
}

int
session_output_blocked(const struct session *s)
{
	return s->run->output_paused;
}
