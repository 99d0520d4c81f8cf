/*
 * The run's fields: private to the scheduler (run.c, and session.c's
 * per-host machine). Everything else sees an opaque struct run and uses the
 * accessors in mrsh/run.h; unit tests that build a run by hand include this.
 */
#ifndef MRSH_RUN_INTERNAL_H
#define MRSH_RUN_INTERNAL_H

#include <sys/queue.h>
#include <stddef.h>

#include "mrsh/run.h"

TAILQ_HEAD(session_q, session);

struct run {
	const struct options	*opt;
	struct event_base	*base;
	struct evdns_base	*dns;		/* created on first use */
	const struct transport_ops *ops;

	struct session		*sessions;	/* one per host, host order */
	size_t			 nsessions;
	size_t			 next;		/* next session to start */
	struct session_q	 active;	/* started, not finished */
	size_t			 nactive;
	struct session_q	 portwait;	/* PENDING for a source port */
	size_t			 ndone;
	size_t			 nfailed;
	int			 fanout;	/* after the fd-limit check */

	struct portpool		*pool;		/* NULL with --ports ephemeral */
	struct output		*out;
	struct stats		*stats;

	int			 interrupted;	/* ctrl-c count */
	int			 aborting;
	int			 output_paused;
	void			*tpriv;		/* transport's per-run state */

	struct event		*ev_sigint;
	struct event		*ev_sigterm;
	struct event		*ev_sigchld;
	struct event		*ev_progress;
	struct event		*ev_kick;	/* deferred scheduling work */
	struct event		*ev_portwake;	/* first cooling port expires */
	struct session_q	 freeq;		/* finished, tdata to free */
	double			 last_sigint;
	int			 stdout_broken;
	int			 port_released;
	int			 exit_override;	/* 130, 141, 143 or 0 */
	struct children		*children;
};

/*
 * For a run the caller holds (unit tests build one on the stack): set it up
 * as run_new does (0, or -1 after a one-line error; run_clear it either
 * way), and release what it holds without freeing the struct itself.
 */
int	run_init(struct run *, const struct options *,
	    const struct transport_ops *);
void	run_clear(struct run *);

#endif
