/*
 * --stats: what a run did, printed on stderr at the end, one greppable
 * "mrsh: stats: key value, key value" line per topic: sessions, how each
 * connection was closed, the TIME_WAIT sockets this run left on this machine
 * (4-tuples the kernel holds at the end in TIME_WAIT, or on the way to it
 * in FIN_WAIT1/2 or CLOSING, that it did not hold at the start; client and
 * server side), p50/p95/max of the connect, setup, command and close
 * phases, and the port pool's counters.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrsh/log.h"
#include "mrsh/options.h"
#include "mrsh/output.h"
#include "mrsh/portpool.h"
#include "mrsh/run.h"
#include "mrsh/session.h"
#include "mrsh/sockdiag.h"
#include "mrsh/stats.h"
#include "mrsh/xmalloc.h"

enum stats_phase {
	PHASE_CONNECT = 0,	/* CONNECTING -> SETUP */
	PHASE_SETUP,		/* SETUP -> RUNNING */
	PHASE_COMMAND,		/* RUNNING -> CLOSING */
	PHASE_CLOSE,		/* CLOSING -> DONE / FAILED */
	PHASE_COUNT
};
static const char *stats_phase_names[PHASE_COUNT] = {
	"connect", "setup", "command", "close"
};

/* A growing array of durations in milliseconds. */
struct stats_series {
	double	*v;
	size_t	 n;
	size_t	 alloc;
};

/* A TIME_WAIT 4-tuple, compact and comparable with memcmp. */
struct stats_tw {
	uint8_t		local[16];
	uint8_t		remote[16];
	uint16_t	lport;
	uint16_t	rport;
	uint16_t	family;
};

/* Which TIME_WAIT sockets count, and on which side. */
struct stats_tw_set {
	int		 lo;		/* client side: local port in lo..hi */
	int		 hi;
	struct stats_tw	*tw;
	size_t		 n;
	size_t		 alloc;
	uint8_t		 listening[65536 / 8];	/* ports with a LISTEN */
};

struct stats {
	size_t			 sessions;
	size_t			 ok;
	size_t			 failed;
	size_t			 nonzero;
	size_t			 closed[4];	/* enum close_how */
	struct stats_series	 phase[PHASE_COUNT];

	int			 started;
	int			 tw_ok;		/* the start snapshot worked */
	struct stats_tw_set	 tw_start;
	size_t			 pool_foreign;
	char			**via;		/* jump hosts, proxycommand */
	size_t			*via_n;
	size_t			 nvia;
};

struct stats *
stats_new(void)
{
	return xcalloc(1, sizeof(struct stats));
}

void
stats_free(struct stats *st)
{
	int	i;

	if (st == NULL)
		return;
	for (i = 0; i < PHASE_COUNT; i++)
		free(st->phase[i].v);
	free(st->tw_start.tw);
	for (i = 0; i < (int)st->nvia; i++)
		free(st->via[i]);
	free(st->via);
	free(st->via_n);
	free(st);
}

static int
stats_tv_set(const struct timeval *tv)
{
	return tv->tv_sec != 0 || tv->tv_usec != 0;
}

/* Milliseconds from a to b, or -1 if either time was never recorded. */
static double
stats_ms(const struct timeval *a, const struct timeval *b)
{
	if (!stats_tv_set(a) || !stats_tv_set(b))
		return -1;
	return (double)(b->tv_sec - a->tv_sec) * 1000.0 +
	    (double)(b->tv_usec - a->tv_usec) / 1000.0;
}

static void
stats_add(struct stats_series *s, double ms)
{
	if (ms < 0)
		return;
	if (s->n == s->alloc) {
		s->alloc = s->alloc ? s->alloc * 2 : 64;
		s->v = xreallocarray(s->v, s->alloc, sizeof *s->v);
	}
	s->v[s->n++] = ms;
}

void
stats_session(struct stats *st, const struct session *s)
{
	const struct timeval	*end;
	size_t			 i;

	st->sessions++;
	switch (session_outcome(s).end) {
	case SESSION_FAILED:
		st->failed++;
		break;
	case SESSION_EXIT:
	case SESSION_SIGNAL:
		st->nonzero++;
		/* FALLTHROUGH */
	case SESSION_OK:
	case SESSION_UNKNOWN:
		st->ok++;
		break;
	}
	if ((unsigned)s->close_how < 4)
		st->closed[s->close_how]++;
	if (s->via != NULL) {
		for (i = 0; i < st->nvia; i++) {
			if (strcmp(st->via[i], s->via) == 0)
				break;
		}
		if (i == st->nvia) {
			st->via = xreallocarray(st->via, i + 1,
			    sizeof *st->via);
			st->via_n = xreallocarray(st->via_n, i + 1,
			    sizeof *st->via_n);
			st->via[i] = xstrdup(s->via);
			st->via_n[i] = 0;
			st->nvia++;
		}
		st->via_n[i]++;
	}
	stats_add(&st->phase[PHASE_CONNECT],
	    stats_ms(&s->t[S_CONNECTING], &s->t[S_SETUP]));
	stats_add(&st->phase[PHASE_SETUP],
	    stats_ms(&s->t[S_SETUP], &s->t[S_RUNNING]));
	stats_add(&st->phase[PHASE_COMMAND],
	    stats_ms(&s->t[S_RUNNING], &s->t[S_CLOSING]));
	/* Closing something that never got past connect is no close. */
	if (stats_tv_set(&s->t[S_SETUP])) {
		end = stats_tv_set(&s->t[S_DONE]) ? &s->t[S_DONE] :
		    &s->t[S_FAILED];
		stats_add(&st->phase[PHASE_CLOSE],
		    stats_ms(&s->t[S_CLOSING], end));
	}
}

static int
stats_tw_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct stats_tw));
}

/* Compact key of a socket's 4-tuple. */
static void
stats_tw_make(struct stats_tw *k, const struct sockdiag_entry *se)
{
	const struct sockaddr_in	*l4, *r4;
	const struct sockaddr_in6	*l6, *r6;

	memset(k, 0, sizeof *k);
	k->family = (uint16_t)se->family;
	if (se->local.ss_family == AF_INET) {
		l4 = (const struct sockaddr_in *)&se->local;
		r4 = (const struct sockaddr_in *)&se->remote;
		memcpy(k->local, &l4->sin_addr, 4);
		memcpy(k->remote, &r4->sin_addr, 4);
		k->lport = ntohs(l4->sin_port);
		k->rport = ntohs(r4->sin_port);
	} else {
		l6 = (const struct sockaddr_in6 *)&se->local;
		r6 = (const struct sockaddr_in6 *)&se->remote;
		memcpy(k->local, &l6->sin6_addr, 16);
		memcpy(k->remote, &r6->sin6_addr, 16);
		k->lport = ntohs(l6->sin6_port);
		k->rport = ntohs(r6->sin6_port);
	}
}

/* Client side: our local port is in the range; server: the remote one. */
static int
stats_tw_relevant(const struct stats_tw_set *set, const struct stats_tw *k)
{
	return (k->lport >= set->lo && k->lport <= set->hi) ||
	    (k->rport >= set->lo && k->rport <= set->hi);
}

static int
stats_tw_cb(const struct sockdiag_entry *se, void *arg)
{
	struct stats_tw_set	*set = arg;
	struct stats_tw		 k;

	stats_tw_make(&k, se);
	if (se->state == TCP_LISTEN) {
		set->listening[k.lport / 8] |= 1 << (k.lport % 8);
		return 0;
	}
	/*
	 * The closer's side is on its way to TIME_WAIT while the peer's FIN
	 * is still in flight: a run that has just closed must count those.
	 */
	if (se->state != TCP_TIME_WAIT && se->state != TCP_FIN_WAIT1 &&
	    se->state != TCP_FIN_WAIT2 && se->state != TCP_CLOSING)
		return 0;
	if (!stats_tw_relevant(set, &k))
		return 0;
	if (set->n == set->alloc) {
		set->alloc = set->alloc ? set->alloc * 2 : 256;
		set->tw = xreallocarray(set->tw, set->alloc, sizeof *set->tw);
	}
	set->tw[set->n++] = k;
	return 0;
}

/*
 * The run's client port range: --ports LO-HI, or else the kernel's
 * ephemeral range (where the kernel picks client ports from).
 */
static void
stats_range(struct run *run, int *lo, int *hi)
{
	const struct options	*opt;
	FILE			*f;

	*lo = 32768;
	*hi = 60999;
	opt = run != NULL ? run_options(run) : NULL;
	if (opt != NULL && opt->ports_mode == PORTS_RANGE) {
		*lo = opt->ports_lo;
		*hi = opt->ports_hi;
		return;
	}
	if ((f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) ==
	    NULL)
		return;
	if (fscanf(f, "%d %d", lo, hi) != 2) {
		*lo = 32768;
		*hi = 60999;
	}
	fclose(f);
}

static int
stats_tw_snapshot(struct stats_tw_set *set, int lo, int hi)
{
	memset(set, 0, sizeof *set);
	set->lo = lo;
	set->hi = hi;
	if (sockdiag_foreach(stats_tw_cb, set) != 0)
		return -1;
	if (set->n > 0)
		qsort(set->tw, set->n, sizeof *set->tw, stats_tw_cmp);
	return 0;
}

void
stats_start(struct stats *st, struct run *run)
{
	struct portpool_stats	ps;
	int			lo, hi;

	st->started = 1;
	stats_range(run, &lo, &hi);
	if (stats_tw_snapshot(&st->tw_start, lo, hi) == 0)
		st->tw_ok = 1;
	else
		debug("stats: cannot read sockets from the kernel");
	if (run != NULL && run_pool(run) != NULL) {
		portpool_get_stats(run_pool(run), &ps);
		st->pool_foreign = ps.foreign;
	}
}

static int
stats_dbl_cmp(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted series. */
static double
stats_pct(const struct stats_series *s, double pct)
{
	size_t	rank;

	rank = (size_t)(pct / 100.0 * (double)s->n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > s->n)
		rank = s->n;
	return s->v[rank - 1];
}

/*
 * Client side: the local port is in the run's range and is not a port
 * something listens on (a local server's port may fall in the ephemeral
 * range too, and its TIME_WAIT is the server's).
 */
static int
stats_tw_client(const struct stats_tw_set *now,
    const struct stats_tw_set *start, const struct stats_tw *k)
{
	int	p = k->lport;

	if (p < now->lo || p > now->hi)
		return 0;
	return !(now->listening[p / 8] & (1 << (p % 8))) &&
	    !(start->listening[p / 8] & (1 << (p % 8)));
}

static void
stats_print_tw(struct stats *st, FILE *f)
{
	struct stats_tw_set	 now;
	size_t			 i, client = 0, server = 0;

	if (!st->started || !st->tw_ok ||
	    stats_tw_snapshot(&now, st->tw_start.lo, st->tw_start.hi) != 0) {
		fprintf(f, "%s: stats: time-wait unknown\n", log_progname());
		return;
	}
	for (i = 0; i < now.n; i++) {
		/* Present at the start: not this run's. */
		if (st->tw_start.n > 0 && bsearch(&now.tw[i], st->tw_start.tw,
		    st->tw_start.n, sizeof *now.tw, stats_tw_cmp) != NULL)
			continue;
		if (stats_tw_client(&now, &st->tw_start, &now.tw[i]))
			client++;
		else
			server++;
	}
	fprintf(f, "%s: stats: time-wait client %zu, server %zu "
	    "(new since start, ports %d-%d)\n", log_progname(), client, server,
	    now.lo, now.hi);
	free(now.tw);
}

void
stats_print(struct stats *st, struct run *run, FILE *f)
{
	struct portpool_stats	 ps;
	struct stats_series	*s;
	const char		*p = log_progname();
	size_t			 total, hosts, distinct, bytes;
	int			 i;

	total = run != NULL && run_nsessions(run) > st->sessions ?
	    run_nsessions(run) : st->sessions;
	fprintf(f, "%s: stats: sessions %zu, ok %zu, failed %zu, "
	    "exit-nonzero %zu, not-finished %zu\n", p, total, st->ok,
	    st->failed, st->nonzero, total - st->sessions);
	fprintf(f, "%s: stats: closed remote-first %zu, local-first %zu, "
	    "reset %zu, no-socket %zu\n", p, st->closed[CLOSED_REMOTE_FIRST],
	    st->closed[CLOSED_LOCAL_FIRST], st->closed[CLOSED_RESET],
	    st->closed[CLOSED_NONE]);
	/* Which jump host (or proxy command) carried how many targets. */
	for (i = 0; i < (int)st->nvia; i++)
		fprintf(f, "%s: stats: via %s %zu\n", p, st->via[i],
		    st->via_n[i]);
	stats_print_tw(st, f);
	for (i = 0; i < PHASE_COUNT; i++) {
		s = &st->phase[i];
		if (s->n == 0) {
			fprintf(f, "%s: stats: %s-ms none\n", p,
			    stats_phase_names[i]);
			continue;
		}
		qsort(s->v, s->n, sizeof *s->v, stats_dbl_cmp);
		fprintf(f, "%s: stats: %s-ms p50 %.1f, p95 %.1f, max %.1f, "
		    "n %zu\n", p, stats_phase_names[i], stats_pct(s, 50),
		    stats_pct(s, 95), s->v[s->n - 1], s->n);
	}
	if (run != NULL && output_gather_stats(run_output(run), &hosts, &distinct,
	    &bytes))
		fprintf(f, "%s: stats: gather hosts %zu, distinct %zu, "
		    "held %zu bytes\n", p, hosts, distinct, bytes);
	if (run != NULL && run_pool(run) != NULL) {
		portpool_get_stats(run_pool(run), &ps);
		fprintf(f, "%s: stats: ports range %zu, used %zu, retries %zu, "
		    "waits %zu, foreign-at-start %zu\n", p, ps.ports, ps.used,
		    ps.retries, ps.waits, st->started ? st->pool_foreign :
		    ps.foreign);
	}
	fflush(f);
}
