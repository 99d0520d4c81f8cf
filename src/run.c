/*
 * The run: one libevent loop, no threads. It owns the session table and the
 * fanout window, starts sessions as slots free up, parks sessions that wait
 * for a source port, reaps children on SIGCHLD (children.c), handles ctrl-c
 * (first: status, second within a second: abort) and computes the exit
 * status.
 *
 * Scheduling work (starting sessions, resuming port waiters, freeing
 * finished sessions) is done from one "kick" event on the next loop
 * iteration, never recursively from a transport callback.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/types.h>

#include <event2/dns.h>
#include <event2/event.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mrsh/children.h"
#include "mrsh/hostlist.h"
#include "mrsh/log.h"
#include "mrsh/options.h"
#include "mrsh/output.h"
#include "mrsh/portpool.h"
#include "mrsh/run.h"
#include "run_internal.h"
#include "mrsh/session.h"
#include "mrsh/stats.h"
#include "mrsh/transport.h"
#include "mrsh/xmalloc.h"

#define RUN_FD_RESERVE	64	/* fds kept for the loop, DNS, stdio */

static void	run_kick(struct run *);
static void	run_abort(struct run *, const char *);

double
run_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
run_watch_child(struct run *run, pid_t pid, run_child_cb cb, void *arg)
{
	children_watch(run->children, pid, cb, arg);
}

/* SIGCHLD: reap every exited child and tell its owner. */
static void
run_sigchld_cb(evutil_socket_t sig, short what, void *arg)
{
	struct run *run = arg;

	children_reap(run->children);
}

struct event_base *
run_base(const struct run *run)
{
	return run->base;
}

const struct options *
run_options(const struct run *run)
{
	return run->opt;
}

struct portpool *
run_pool(const struct run *run)
{
	return run->pool;
}

struct output *
run_output(const struct run *run)
{
	return run->out;
}

void *
run_tpriv(const struct run *run)
{
	return run->tpriv;
}

void
run_set_tpriv(struct run *run, void *tpriv)
{
	run->tpriv = tpriv;
}

size_t
run_nsessions(const struct run *run)
{
	return run->nsessions;
}

int
run_all_started(const struct run *run)
{
	return run->next >= run->nsessions;
}

int
run_aborting(const struct run *run)
{
	return run->aborting;
}

/* evdns talks on its own; keep it to -vv. */
static void
run_dns_log(int is_warn, const char *msg)
{
	debug("evdns: %s", msg);
}

struct evdns_base *
run_dns(struct run *run)
{
	if (run->dns != NULL)
		return run->dns;
	run->dns = evdns_base_new(run->base,
	    EVDNS_BASE_INITIALIZE_NAMESERVERS);
	if (run->dns == NULL) {
		/* No usable resolv.conf: /etc/hosts still works. */
		run->dns = evdns_base_new(run->base, 0);
		if (run->dns == NULL)
			fatalx("evdns_base_new failed");
		evdns_base_load_hosts(run->dns, NULL);
	}
	evdns_set_log_fn(run_dns_log);
	/* Unreachable servers: say "name not found" in seconds, not minutes. */
	evdns_base_set_option(run->dns, "timeout:", "2");
	evdns_base_set_option(run->dns, "attempts:", "2");
	return run->dns;
}

/* Start the next session: take a fanout slot; the session goes on. */
static void
run_start_session(struct run *run, struct session *s)
{
	s->queue = SQ_ACTIVE;
	TAILQ_INSERT_TAIL(&run->active, s, entry);
	run->nactive++;
	session_start(s);
}

static void
run_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run *run = arg;
	struct session *s;
	struct session_q resume;

	/* Free transport state of finished sessions. */
	while ((s = TAILQ_FIRST(&run->freeq)) != NULL) {
		TAILQ_REMOVE(&run->freeq, s, entry);
		s->queue = SQ_NONE;
		if (s->close_step != SC_FREED && session_started(s) &&
		    s->ops->free != NULL)
			s->ops->free(s);
		session_set_close(s, SC_FREED);
		if (s->timer != NULL) {
			event_free(s->timer);
			s->timer = NULL;
		}
	}

	/* A port was released: every parked session tries again. */
	if (run->port_released) {
		run->port_released = 0;
		TAILQ_INIT(&resume);
		TAILQ_CONCAT(&resume, &run->portwait, entry);
		while ((s = TAILQ_FIRST(&resume)) != NULL) {
			TAILQ_REMOVE(&resume, s, entry);
			s->queue = SQ_ACTIVE;
			TAILQ_INSERT_TAIL(&run->active, s, entry);
			session_resume(s);
		}
	}

	/* Fill the fanout window. */
	while (!run->aborting && !run->output_paused &&
	    run->nactive < (size_t)run->fanout && run->next < run->nsessions)
		run_start_session(run, &run->sessions[run->next++]);

	if (run->ndone + run->nfailed == run->nsessions &&
	    TAILQ_EMPTY(&run->freeq))
		event_base_loopbreak(run->base);
}

static void
run_kick(struct run *run)
{
	event_active(run->ev_kick, 0, 0);
}

void
run_session_finished(struct run *run, struct session *s)
{
	/* A session parked for a port is on portwait but keeps its slot. */
	if (s->queue == SQ_PORTWAIT)
		TAILQ_REMOVE(&run->portwait, s, entry);
	else if (s->queue == SQ_ACTIVE)
		TAILQ_REMOVE(&run->active, s, entry);
	if (s->queue == SQ_PORTWAIT || s->queue == SQ_ACTIVE)
		run->nactive--;
	if (s->state == S_FAILED)
		run->nfailed++;
	else
		run->ndone++;
	stats_session(run->stats, s);
	output_session_done(run->out, s);
	s->queue = SQ_FREE;
	TAILQ_INSERT_TAIL(&run->freeq, s, entry);
	run_kick(run);
}

static void
run_portwake_cb(evutil_socket_t fd, short what, void *arg)
{
	run_port_released(arg);
}

void
run_park_for_port(struct run *run, struct session *s)
{
	struct timeval tv;
	double next;

	TAILQ_REMOVE(&run->active, s, entry);
	TAILQ_INSERT_TAIL(&run->portwait, s, entry);
	s->queue = SQ_PORTWAIT;	/* keeps its fanout slot */
	if (run->pool == NULL)
		return;
	portpool_count_wait(run->pool);
	/* Cooling ports free themselves: wake up when the first expires. */
	next = portpool_next_expiry(run->pool, run_now());
	if (next >= 0 && !evtimer_pending(run->ev_portwake, NULL)) {
		if (next < 0.01)
			next = 0.01;
		tv.tv_sec = (time_t)next;
		tv.tv_usec = (suseconds_t)((next - (double)tv.tv_sec) * 1e6);
		evtimer_add(run->ev_portwake, &tv);
	}
}

void
run_port_released(struct run *run)
{
	if (TAILQ_EMPTY(&run->portwait))
		return;
	run->port_released = 1;
	run_kick(run);
}

/* Output's backpressure hook: pause / resume every session. */
static void
run_output_backpressure(int paused, void *arg)
{
	struct run *run = arg;
	struct session *s;

	paused = !!paused;
	if (run->output_paused == paused)
		return;
	run->output_paused = paused;
	debug("output %s", paused ? "congested: pausing hosts" : "drained");
	TAILQ_FOREACH(s, &run->active, entry) {
		if (s->paused == paused || s->ops->set_paused == NULL)
			continue;
		s->paused = paused;
		s->ops->set_paused(s, paused);
	}
	if (!paused)
		run_kick(run);
}

/*
 * Output's hook when stdout is gone (EPIPE, e.g. "| head"): abort every
 * session at once and end quietly with status 141 (128 + SIGPIPE).
 */
static void
run_stdout_broken(void *arg)
{
	struct run *run = arg;

	if (run->stdout_broken)
		return;
	run->stdout_broken = 1;
	run->exit_override = 128 + SIGPIPE;
	run_abort(run, NULL);
}

/* Abort everything: running sessions fail, unstarted ones never start. */
static void
run_abort(struct run *run, const char *why)
{
	struct session *s, *next;

	run->aborting = 1;
	for (s = TAILQ_FIRST(&run->active); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		if (s->ops->signal != NULL && !run->stdout_broken)
			s->ops->signal(s, SIGINT);
		session_fail(s, FAIL_ABORTED, "%s", why ? why : "aborted");
	}
	for (s = TAILQ_FIRST(&run->portwait); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		session_fail(s, FAIL_ABORTED, "%s", why ? why : "aborted");
	}
	while (run->next < run->nsessions) {
		s = &run->sessions[run->next++];
		session_fail(s, FAIL_ABORTED, "not started: %s",
		    why ? why : "aborted");
	}
	run_kick(run);
}

/* First ctrl-c: say who is still running; second within 1 s: abort. */
static void
run_sigint_cb(evutil_socket_t sig, short what, void *arg)
{
	struct run *run = arg;
	struct session *s;
	const char **names;
	char *list;
	double now = run_now();
	size_t n, total;
	int st;

	if (sig == SIGTERM) {
		run->exit_override = 128 + SIGTERM;
		run_abort(run, "terminated");
		return;
	}
	if (run->interrupted > 0 && now - run->last_sigint <= 1.0) {
		run->interrupted++;
		run->exit_override = EXIT_INTERRUPT;
		output_progress_erase(run->out);
		error("interrupted: aborting %zu running host%s", run->nactive,
		    run->nactive == 1 ? "" : "s");
		run_abort(run, "interrupted");
		return;
	}
	run->interrupted++;
	run->last_sigint = now;
	output_progress_erase(run->out);
	total = run->nactive;
	names = xcalloc(total + 1, sizeof *names);
	for (st = S_PENDING; st <= S_CLOSING; st++) {
		n = 0;
		TAILQ_FOREACH(s, &run->active, entry) {
			if ((int)s->state == st)
				names[n++] = s->host->label;
		}
		TAILQ_FOREACH(s, &run->portwait, entry) {
			if ((int)s->state == st)
				names[n++] = s->host->label;
		}
		if (n == 0)
			continue;
		list = hostlist_compress(names, n);
		error("interrupt: %zu %s: %s", n,
		    session_state_name((enum session_state)st), list);
		free(list);
	}
	free(names);
	error("interrupt: %zu done, %zu failed, %zu running, %zu not "
	    "started; ctrl-c again within 1s to abort", run->ndone,
	    run->nfailed, total, run->nsessions - run->next);
}

static void
run_progress_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run *run = arg;
	struct output_counts c;

	c.done = run->ndone;
	c.running = run->nactive;
	c.failed = run->nfailed;
	output_progress(run->out, &c);
}

/* Raise the open-file limit; lower the fanout if it still cannot fit. */
static void
run_fit_fanout(struct run *run)
{
	const struct options *opt = run->opt;
	struct rlimit rl;
	int per, fit;
	long nr_open = 0;
	FILE *fp;

	per = run->ops->fds_per_session > 0 ? run->ops->fds_per_session : 1;
	if (opt->outdir != NULL)
		per++;
	if (opt->errdir != NULL)
		per++;
	run->fanout = opt->fanout;
	if ((size_t)run->fanout > run->nsessions)
		run->fanout = (int)run->nsessions;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		if (rl.rlim_max == RLIM_INFINITY) {
			if ((fp = fopen("/proc/sys/fs/nr_open", "r")) != NULL) {
				if (fscanf(fp, "%ld", &nr_open) != 1)
					nr_open = 0;
				fclose(fp);
			}
			rl.rlim_cur = nr_open > 0 ? (rlim_t)nr_open : 65536;
		} else
			rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	fit = (int)(((long)rl.rlim_cur - RUN_FD_RESERVE) / per);
	if (fit < 1)
		fit = 1;
	if (run->fanout > fit) {
		warnx_m("fanout lowered from %d to %d: the open-file limit is "
		    "%ld (ulimit -n)", run->fanout, fit, (long)rl.rlim_cur);
		run->fanout = fit;
	}
}

int
run_init(struct run *run, const struct options *opt,
    const struct transport_ops *ops)
{
	struct output_hooks hooks;
	struct session *s;
	size_t i;

	memset(run, 0, sizeof *run);
	run->opt = opt;
	run->ops = ops;
	TAILQ_INIT(&run->active);
	TAILQ_INIT(&run->portwait);
	TAILQ_INIT(&run->freeq);
	signal(SIGPIPE, SIG_IGN);

	if ((run->base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	run->children = children_new();

	run->nsessions = opt->hosts.n;
	run->sessions = xcalloc(run->nsessions, sizeof *run->sessions);
	for (i = 0; i < run->nsessions; i++) {
		s = &run->sessions[i];
		s->run = run;
		s->idx = i;
		s->host = &opt->hosts.hosts[i];
		s->user = s->host->user != NULL ? s->host->user : opt->user;
		s->ops = ops;
		s->state = S_NEW;
	}

	if (opt->ports_mode == PORTS_RANGE && ops->ports_per_session > 0) {
		if (opt->ports_lo < 1024 && !portpool_can_bind_reserved()) {
			error("--ports %d-%d: ports below 1024 need root or "
			    "CAP_NET_BIND_SERVICE; run as root or use --ports "
			    "LO-HI above 1023", opt->ports_lo, opt->ports_hi);
			return -1;
		}
		run->pool = portpool_new(opt->ports_lo, opt->ports_hi);
		if (portpool_seed_kernel(run->pool, run_now()) != 0)
			info("cannot read the kernel's sockets (%s); ports in "
			    "use are found by trying", strerror(errno));
	}
	run_fit_fanout(run);

	hooks.backpressure = run_output_backpressure;
	hooks.stdout_broken = run_stdout_broken;
	hooks.arg = run;
	if ((run->out = output_new(opt, run->base, run->sessions,
	    run->nsessions, &hooks)) == NULL)
		return -1;
	run->stats = stats_new();
	if (ops->init != NULL && ops->init(run) != 0)
		return -1;
	stats_start(run->stats, run);

	run->ev_kick = event_new(run->base, -1, 0, run_kick_cb, run);
	run->ev_portwake = evtimer_new(run->base, run_portwake_cb, run);
	run->ev_sigint = evsignal_new(run->base, SIGINT, run_sigint_cb, run);
	run->ev_sigterm = evsignal_new(run->base, SIGTERM, run_sigint_cb, run);
	run->ev_sigchld = evsignal_new(run->base, SIGCHLD, run_sigchld_cb,
	    run);
	event_add(run->ev_sigint, NULL);
	event_add(run->ev_sigterm, NULL);
	event_add(run->ev_sigchld, NULL);
	if (opt->progress) {
		struct timeval tv = { 0, 200000 };

		run->ev_progress = event_new(run->base, -1, EV_PERSIST,
		    run_progress_cb, run);
		event_add(run->ev_progress, &tv);
	}
	return 0;
}

int
run_loop(struct run *run)
{
	if (run->nsessions > 0) {
		run_kick(run);
		event_base_dispatch(run->base);
	}
	if (run->ev_progress != NULL)
		event_del(run->ev_progress);
	output_progress_erase(run->out);
	if (!run->stdout_broken) {
		output_finish(run->out);
		if (run->opt->stats)
			stats_print(run->stats, run, stderr);
	}
	return run_exit_status(run);
}

int
run_exit_status(const struct run *run)
{
	const struct session *s;
	struct session_outcome o;
	int status = 0;
	size_t i;

	if (run->exit_override != 0)
		return run->exit_override;
	/* Output that could not be written is a failure, like a host's. */
	if (output_lost_hosts(run->out) > 0)
		return EXIT_UNREACHABLE;
	for (i = 0; i < run->nsessions; i++) {
		s = &run->sessions[i];
		o = session_outcome(s);
		if (o.end == SESSION_FAILED)
			return EXIT_UNREACHABLE;
		if (o.code > status)
			status = o.code;
	}
	return status;
}

struct run *
run_new(const struct options *opt, const struct transport_ops *ops)
{
	struct run *run;

	run = xcalloc(1, sizeof *run);
	if (run_init(run, opt, ops) != 0) {
		run_free(run);
		return NULL;
	}
	return run;
}

void
run_free(struct run *run)
{
	if (run == NULL)
		return;
	run_clear(run);
	free(run);
}

void
run_clear(struct run *run)
{
	struct session *s;
	size_t i;

	for (i = 0; i < run->nsessions; i++) {
		s = &run->sessions[i];
		if (session_started(s) && s->close_step != SC_FREED &&
		    s->ops->free != NULL)
			s->ops->free(s);
		session_set_close(s, SC_FREED);
		if (s->timer != NULL)
			event_free(s->timer);
		output_session_free(s);
		free(s->fail_reason);
		free(s->via);
		free(s->cfg_user);
		free(s->cfg_hostname);
		free(s->exit_signame);
	}
	if (run->ops != NULL && run->ops->cleanup != NULL)
		run->ops->cleanup(run);
	if (run->out != NULL)
		output_free(run->out);
	if (run->stats != NULL)
		stats_free(run->stats);
	if (run->pool != NULL)
		portpool_free(run->pool);
	if (run->dns != NULL)
		evdns_base_free(run->dns, 0);
	if (run->ev_kick != NULL)
		event_free(run->ev_kick);
	if (run->ev_portwake != NULL)
		event_free(run->ev_portwake);
	if (run->ev_sigint != NULL)
		event_free(run->ev_sigint);
	if (run->ev_sigterm != NULL)
		event_free(run->ev_sigterm);
	if (run->ev_sigchld != NULL)
		event_free(run->ev_sigchld);
	if (run->ev_progress != NULL)
		event_free(run->ev_progress);
	children_free(run->children);
	free(run->sessions);
	if (run->base != NULL)
		event_base_free(run->base);
	memset(run, 0, sizeof *run);
}
