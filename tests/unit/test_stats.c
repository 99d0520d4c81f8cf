/*
 * Unit tests for --stats: session counts, close kinds, phase percentiles
 * from the state times, the pool counters, and the TIME_WAIT left by the
 * run on each side, read from the kernel. Runs in a private network
 * namespace (unshare(CLONE_NEWNET)) so the TIME_WAIT it counts is its own.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mrsh/options.h"
#include "mrsh/portpool.h"
#include "mrsh/run.h"
#include "../../src/run_internal.h"
#include "mrsh/session.h"
#include "mrsh/sockdiag.h"
#include "mrsh/stats.h"
#include "tap.h"
#include "testutil.h"

/*
 * The number of test points, all in the private network namespace: each
 * is skipped when it cannot be made.
 */
#define NS_POINTS	22

/*
 * Connect from cport to the listener; client_first: the client closes
 * first (TIME_WAIT on the client side), else the server does.
 */
static int
connection(int lfd, int cport, int sport, int client_first)
{
	int	c, a, first, second, i;
	size_t	n, before;
	char	ch;

	if (sockdiag_count_timewait(0, 65535, &before) != 0)
		return -1;
	if ((c = loconnect(cport, sport)) == -1)
		return -1;
	if ((a = accept(lfd, NULL, NULL)) == -1)
		return -1;
	first = client_first ? c : a;
	second = client_first ? a : c;
	close(first);
	if (read(second, &ch, 1) != 0)
		return -1;
	close(second);
	for (i = 0; i < 200; i++) {
		if (sockdiag_count_timewait(0, 65535, &n) == 0 &&
		    n == before + 1)
			return 0;
		usleep(10000);
	}
	return -1;
}

/* Is there a FIN_WAIT2 socket on local port port? */
static int
fin_wait2_cb(const struct sockdiag_entry *se, void *arg)
{
	int	*want = arg;

	if (se->state == TCP_FIN_WAIT2 && port_of(&se->local) == *want)
		*want = -1;
	return 0;
}

static int
fin_wait2(int port)
{
	int	want = port;

	sockdiag_foreach(fin_wait2_cb, &want);
	return want == -1;
}

/* A finished session with state times at the given milliseconds. */
static void
fake(struct session *s, enum session_state end, enum close_how how,
    int connect_ms, int setup_ms, int command_ms, int close_ms, int code)
{
	long	t = 1000000;	/* microseconds from a base second */

	memset(s, 0, sizeof *s);
#define AT(st, us)	do { s->t[st].tv_sec = 100 + (us) / 1000000; \
	s->t[st].tv_usec = (us) % 1000000; } while (0)
	AT(S_CONNECTING, t);
	if (connect_ms >= 0) {
		t += connect_ms * 1000L;
		AT(S_SETUP, t);
	}
	if (setup_ms >= 0) {
		t += setup_ms * 1000L;
		AT(S_RUNNING, t);
	}
	if (command_ms >= 0) {
		t += command_ms * 1000L;
		AT(S_CLOSING, t);
	}
	t += close_ms * 1000L;
	AT(end, t);
#undef AT
	s->state = end;
	s->close_how = how;
	s->exit_how = end == S_DONE ? SX_STATUS : SX_NONE;
	s->exit_code = code;
}

/* stats_print into buf. */
static void
print(struct stats *st, struct run *run, char *buf, size_t len)
{
	FILE	*f = tmpfile();

	stats_print(st, run, f);
	tmpfile_read(f, buf, len);
}

int
main(void)
{
	struct options		 opt;
	struct run		 run;
	struct session		 s;
	struct stats		*st;
	struct sockaddr_in	 sin;
	char			 buf[4096];
	int			 lfd, lfd2, sport, i, fd, held = -1;

	if (netns_enter() != 0) {
		skip_n(NS_POINTS, "no private network namespace (needs root "
		    "or user namespaces)");
		return done_testing();
	}
	memset(&opt, 0, sizeof opt);
	opt.ports_mode = PORTS_RANGE;
	opt.ports_lo = 40000;
	opt.ports_hi = 40015;
	memset(&run, 0, sizeof run);
	run.opt = &opt;
	run.nsessions = 12;
	run.pool = portpool_new(40000, 40015);

	lfd = listen4(0, &sport);

	/* TIME_WAIT from before the run: not counted. */
	ok(connection(lfd, 40001, sport, 1) == 0, "old client TIME_WAIT");
	portpool_mark_inuse_foreign(run.pool, 40015);
	st = stats_new();
	stats_start(st, &run);

	/* During the run: 2 client-side, 1 server-side TIME_WAIT. */
	ok(connection(lfd, 40002, sport, 1) == 0, "client TIME_WAIT");
	ok(connection(lfd, 40003, sport, 1) == 0, "client TIME_WAIT");
	ok(connection(lfd, 40004, sport, 0) == 0, "server TIME_WAIT");
	/* Closed first, the peer's FIN not there yet: FIN_WAIT2 counts. */
	{
		int	c;

		c = loconnect(40005, sport);
		ok(c >= 0 && (held = accept(lfd, NULL, NULL)) >= 0,
		    "a connection whose server will not close");
		close(c);
		for (i = 0; i < 200 && !fin_wait2(40005); i++)
			usleep(10000);
		ok(fin_wait2(40005), "client side in FIN_WAIT2");
	}
	/* A server listening inside the range closes first: server side. */
	lfd2 = listen4(40010, NULL);
	ok(connection(lfd2, 40500, 40010, 0) == 0,
	    "server TIME_WAIT on a listening port in the range");
	/* Outside the range: ignored. */
	ok(connection(lfd, 41000, sport, 1) == 0, "TIME_WAIT out of range");

	/* Ten good sessions: connect 1..10 ms, setup 20, command 100. */
	for (i = 1; i <= 10; i++) {
		fake(&s, S_DONE, i <= 8 ? CLOSED_REMOTE_FIRST :
		    CLOSED_RESET, i, 20, 100, 2, i == 10 ? 3 : 0);
		stats_session(st, &s);
	}
	/* One failed at connect (closed after 5 s: not a close time). */
	fake(&s, S_FAILED, CLOSED_NONE, -1, -1, -1, 5000, 0);
	s.t[S_CLOSING] = s.t[S_CONNECTING];
	stats_session(st, &s);

	fd = socket(AF_INET, SOCK_STREAM, 0);
	sin = loaddr(40010);
	portpool_bind(run.pool, fd, (struct sockaddr *)&sin, sizeof sin, 1);
	portpool_count_wait(run.pool);

	print(st, &run, buf, sizeof buf);
	diag("stats:\n%s", buf);
	ok(strstr(buf, "mrsh: stats: sessions 12, ok 10, failed 1, "
	    "exit-nonzero 1, not-finished 1\n") != NULL, "sessions line");
	ok(strstr(buf, "mrsh: stats: closed remote-first 8, local-first 0, "
	    "reset 2, no-socket 1\n") != NULL, "closed line");
	ok(strstr(buf, "mrsh: stats: time-wait client 3, server 2 ") != NULL,
	    "TIME_WAIT left by the run, per side");
	ok(strstr(buf, "mrsh: stats: connect-ms p50 5.0, p95 10.0, "
	    "max 10.0, n 10\n") != NULL, "connect percentiles");
	ok(strstr(buf, "mrsh: stats: setup-ms p50 20.0, p95 20.0, max 20.0, "
	    "n 10\n") != NULL, "setup percentiles");
	ok(strstr(buf, "mrsh: stats: command-ms p50 100.0, p95 100.0, "
	    "max 100.0, n 10\n") != NULL, "command percentiles");
	ok(strstr(buf, "mrsh: stats: close-ms p50 2.0, p95 2.0, "
	    "max 2.0, n 10\n") != NULL, "close percentiles");
	ok(strstr(buf, "mrsh: stats: ports range 16, used 1, retries 0, "
	    "waits 1, foreign-at-start 1\n") != NULL, "pool line");

	/* Without a pool: no pool line. */
	portpool_free(run.pool);
	run.pool = NULL;
	print(st, &run, buf, sizeof buf);
	ok(strstr(buf, "stats: ports") == NULL, "no pool: no ports line");
	stats_free(st);

	/* A session that failed while closing: CLOSING -> FAILED. */
	st = stats_new();
	fake(&s, S_FAILED, CLOSED_LOCAL_FIRST, 3, 20, 100, 7, 0);
	stats_session(st, &s);
	print(st, &run, buf, sizeof buf);
	ok(strstr(buf, "close-ms p50 7.0, p95 7.0, max 7.0, n 1\n") != NULL,
	    "close time ends at FAILED");
	ok(strstr(buf, "local-first 1,") != NULL, "local-first counted");
	stats_free(st);

	/* Nothing recorded. */
	st = stats_new();
	run.nsessions = 0;
	print(st, &run, buf, sizeof buf);
	ok(strstr(buf, "connect-ms none\n") != NULL, "no timings: none");
	ok(strstr(buf, "time-wait unknown\n") != NULL,
	    "not started: TIME_WAIT unknown");
	stats_free(st);
	close(fd);
	close(held);
	close(lfd2);
	close(lfd);
	is_int(tap_n + 1, NS_POINTS,
	    "NS_POINTS is the number of test points in the namespace");
	return done_testing();
}
