/*
 * The run: one event loop, the session table, the fanout window, signals
 * and the pieces every transport shares (DNS, port pool, output, stats).
 */
#ifndef MRSH_RUN_H
#define MRSH_RUN_H

#include <sys/types.h>
#include <sys/queue.h>
#include <stddef.h>

#include "mrsh/session.h"

struct event_base;
struct evdns_base;
struct event;
struct options;
struct output;
struct portpool;
struct stats;
struct transport_ops;
struct children;

/*
 * The run is opaque outside the scheduler: its fields live in
 * src/run_internal.h (run.c, session.c); transports, the dialer, output and
 * stats read what they need through the accessors below.
 */
struct run;

/*
 * A run for opt->hosts with transport ops: event base, sessions, output,
 * stats, port pool, fd limit, signals; then ops->init. Returns the run, or
 * NULL after printing a one-line error (the caller exits EXIT_USAGE).
 */
struct run *run_new(const struct options *, const struct transport_ops *);
/* Run the loop until every session is finished; returns the exit status. */
int	run_loop(struct run *);
/* Free the run and everything it holds (NULL is fine). */
void	run_free(struct run *);
/* Exit status from the finished sessions (documented in mrsh(1)). */
int	run_exit_status(const struct run *);

/* For transports and the dialer: the run's loop, options, port pool. */
struct event_base *run_base(const struct run *);
const struct options *run_options(const struct run *);
/* NULL with --ports ephemeral (the kernel picks). */
struct portpool	*run_pool(const struct run *);
/* For stats: the run's output (gather counters). */
struct output	*run_output(const struct run *);
/* The transport's per-run state (ops->init sets it, ops->cleanup clears). */
void	*run_tpriv(const struct run *);
void	 run_set_tpriv(struct run *, void *);
/* How many hosts the run has; have all of them been started? */
size_t	 run_nsessions(const struct run *);
int	 run_all_started(const struct run *);
/* Is the run aborting (ctrl-c twice, SIGTERM, stdout gone)? */
int	 run_aborting(const struct run *);

/* Lazily create the evdns base (honours /etc/hosts, /etc/resolv.conf). */
struct evdns_base *run_dns(struct run *);

/*
 * Session -> run (session.c decides the state, the run keeps the queues):
 * a finished session (DONE or FAILED) leaves the fanout window, is counted,
 * reported (stats, output) and freed on the next loop iteration; a session
 * that waits for a source port moves to the port-wait queue, keeping its
 * slot, and the run wakes it when a port frees or cools down.
 */
void	run_session_finished(struct run *, struct session *);
void	run_park_for_port(struct run *, struct session *);

/*
 * A source port was released: resume sessions parked by
 * session_wait_port_for() (on the next loop iteration, not recursively).
 */
void	run_port_released(struct run *);

/* Register a child pid for the SIGCHLD reaper (exec transport). */
typedef void (*run_child_cb)(pid_t, int status, void *arg);
void	run_watch_child(struct run *, pid_t, run_child_cb, void *arg);

/* Monotonic clock in seconds. */
double	run_now(void);

#endif
