/*
 * Unit tests for the source-port pool: allocation order (least recently
 * released first), cooling per destination, expiry, exhaustion, release
 * with cooling, connect conflicts, the explanatory counts, seeding from a
 * given view and from the kernel, and real binds on a free high range of
 * 127.0.0.1 / the wildcard address (bind and listen only, no traffic), in
 * a private network namespace when running as root.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mrsh/portpool.h"
#include "tap.h"
#include "testutil.h"

#define NPORTS	16

static int	lo, hi;
static int	fds[65536];

/* A destination 127.0.1.N:22. */
static struct sockaddr_in *
dst(int n)
{
	static struct sockaddr_in	sin[8];

	memset(&sin[n], 0, sizeof sin[n]);
	sin[n].sin_family = AF_INET;
	sin[n].sin_port = htons(22);
	sin[n].sin_addr.s_addr = htonl(0x7f000100 + n);
	return &sin[n];
}
#define SA(x)	((struct sockaddr *)(x)), sizeof(struct sockaddr_in)

/* Can port be bound right now (no SO_REUSEADDR, so nothing holds it)? */
static int
port_free(int port)
{
	struct sockaddr_in	sin;
	int			fd, r;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return 0;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	r = bind(fd, (struct sockaddr *)&sin, sizeof sin) == 0;
	close(fd);
	return r;
}

/* Find NPORTS consecutive free ports below the ephemeral range. */
static int
pick_range(void)
{
	int	base, p, tries;

	for (tries = 0; tries < 200; tries++) {
		base = 20000 + ((getpid() * 7 + tries * 101) % 10000);
		for (p = base; p < base + NPORTS; p++) {
			if (!port_free(p))
				break;
		}
		if (p == base + NPORTS) {
			lo = base;
			hi = base + NPORTS - 1;
			return 0;
		}
	}
	return -1;
}

/* Take a port from the pool for destination d with a fresh socket. */
static int
take(struct portpool *pp, struct sockaddr_in *d, double now)
{
	int	fd, port;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -2;
	port = portpool_bind(pp, fd, SA(d), now);
	if (port < 0) {
		close(fd);
		return -1;
	}
	fds[port] = fd;
	return port;
}

/* Give a port back: close its socket, release it (cooling if secs > 0). */
static void
give(struct portpool *pp, int port, struct sockaddr_in *d, double secs,
    double now)
{
	close(fds[port]);
	fds[port] = -1;
	portpool_release(pp, port, SA(d), secs, now);
}

static void
give_all(struct portpool *pp, double now)
{
	int	p;

	for (p = lo; p <= hi; p++) {
		if (fds[p] >= 0)
			give(pp, p, dst(0), 0, now);
	}
}

static void
test_order(void)
{
	struct portpool		*pp = portpool_new(lo, hi);
	struct portpool_stats	 st;
	int			 p, ordered = 1, port;

	ok(pp != NULL, "pool created");
	for (p = lo; p <= hi; p++) {
		if (take(pp, dst(1), 1000) != p)
			ordered = 0;
	}
	ok(ordered, "a fresh pool hands out ports in order");
	port = take(pp, dst(1), 1000);
	is_int(port, -1, "full pool: no port");
	give(pp, lo + 5, dst(1), 0, 1000);
	give(pp, lo + 2, dst(1), 0, 1000);
	is_int(take(pp, dst(1), 1000), lo + 5,
	    "least recently released port first");
	is_int(take(pp, dst(1), 1000), lo + 2, "then the next one");
	give(pp, lo + 7, dst(1), 0, 1000);
	give(pp, lo + 3, dst(1), 0, 1000);
	give(pp, lo, dst(1), 0, 1000);
	is_int(take(pp, dst(2), 1000), lo + 7, "LRU: first released (a)");
	is_int(take(pp, dst(2), 1000), lo + 3, "LRU: first released (b)");
	is_int(take(pp, dst(2), 1000), lo, "LRU: first released (c)");
	portpool_get_stats(pp, &st);
	is_int(st.ports, NPORTS, "stats: range size");
	is_int(st.in_use, NPORTS, "stats: all in use");
	is_int(st.used, NPORTS, "stats: distinct ports used");
	is_int(st.retries, 0, "stats: no retries");
	give_all(pp, 1000);
	portpool_get_stats(pp, &st);
	is_int(st.in_use, 0, "stats: none in use after release");
	portpool_free(pp);
}

static void
test_exhaustion(void)
{
	struct portpool		*pp = portpool_new(lo, hi);
	struct portpool_stats	 st;
	int			 fd, p, r;

	for (p = lo; p <= hi; p++)
		take(pp, dst(1), 1000);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	errno = 0;
	r = portpool_bind(pp, fd, SA(dst(1)), 1000);
	ok(r == -1 && errno == EAGAIN, "exhausted: -1 with EAGAIN");
	close(fd);
	portpool_count_wait(pp);
	portpool_count_wait(pp);
	portpool_get_stats(pp, &st);
	is_int(st.waits, 2, "waits counted");
	give_all(pp, 1000);
	portpool_free(pp);
}

static void
test_cooling(void)
{
	struct portpool		*pp = portpool_new(lo, hi);
	struct portpool_stats	 st;
	size_t			 total, used, cool;
	int			 p;

	for (p = lo; p <= hi; p++)
		take(pp, dst(1), 1000);
	/* lo+4 cools towards host 1 for 60 s: we closed first. */
	give(pp, lo + 4, dst(1), 60, 1000);
	is_int(take(pp, dst(1), 1001), -1,
	    "a port cooling towards A is not handed out for A");
	is_int(take(pp, dst(2), 1001), lo + 4,
	    "a port cooling towards A is handed out for B");
	portpool_get_stats(pp, &st);
	is_int(st.cooling, 1, "one cooling entry");
	give(pp, lo + 4, dst(2), 0, 1002);
	is_int(take(pp, dst(1), 1059.9), -1, "still cooling before expiry");
	ok(portpool_next_expiry(pp, 1030) > 29.9 &&
	    portpool_next_expiry(pp, 1030) < 30.1,
	    "next expiry: 30 s from now");
	is_int(take(pp, dst(1), 1060), lo + 4, "usable for A after expiry");
	portpool_get_stats(pp, &st);
	is_int(st.cooling, 0, "expired entry dropped");
	ok(portpool_next_expiry(pp, 1060) < 0, "no expiry left");

	/* Describe: 10 in use, 6 cooling towards host 3. */
	give_all(pp, 2000);
	for (p = lo; p <= hi; p++)
		take(pp, dst(3), 2000);
	for (p = lo + 10; p <= hi; p++)
		give(pp, p, dst(3), 60, 2000);
	portpool_describe(pp, SA(dst(3)), 2001, &total, &used, &cool);
	is_int(total, NPORTS, "describe: total");
	is_int(used, 10, "describe: in use");
	is_int(cool, 6, "describe: cooling towards the host");
	portpool_describe(pp, SA(dst(4)), 2001, &total, &used, &cool);
	is_int(cool, 0, "describe: nothing cooling towards another host");
	{
		char	buf[256], want[256];

		portpool_explain(pp, SA(dst(3)), 2001, buf, sizeof buf);
		snprintf(want, sizeof want, "no source port free in %d-%d: "
		    "16 ports, 10 in use, 6 cooling towards 127.0.1.3:22",
		    lo, hi);
		is_str(buf, want, "explanatory error");
		{
			struct sockaddr_in6	m6;

			/* ::ffff:127.0.1.3 is host 3: the same cooling. */
			memset(&m6, 0, sizeof m6);
			m6.sin6_family = AF_INET6;
			m6.sin6_port = htons(22);
			m6.sin6_addr.s6_addr[10] = 0xff;
			m6.sin6_addr.s6_addr[11] = 0xff;
			memcpy(&m6.sin6_addr.s6_addr[12],
			    &dst(3)->sin_addr, 4);
			portpool_explain(pp, (struct sockaddr *)&m6,
			    sizeof m6, 2001, buf, sizeof buf);
			is_str(buf, want, "a v4-mapped address is its IPv4 "
			    "host");
			memset(&m6.sin6_addr, 0, sizeof m6.sin6_addr);
			m6.sin6_addr.s6_addr[15] = 1;	/* ::1 */
			portpool_explain(pp, (struct sockaddr *)&m6,
			    sizeof m6, 2001, buf, sizeof buf);
			snprintf(want, sizeof want, "no source port free in "
			    "%d-%d: 16 ports, 10 in use, 0 cooling towards "
			    "[::1]:22", lo, hi);
			is_str(buf, want, "an IPv6 destination in brackets");
		}
	}
	is_int(take(pp, dst(3), 2001), -1, "host 3 must wait");
	is_int(take(pp, dst(4), 2001), lo + 10, "host 4 gets a port");
	give_all(pp, 3000);
	portpool_free(pp);
}

static void
test_conflict(void)
{
	struct portpool		*pp = portpool_new(lo, hi);
	struct portpool_stats	 st;
	size_t			 used, cool;
	int			 p, port;

	port = take(pp, dst(1), 1000);
	is_int(port, lo, "first port");
	/* connect() said EADDRNOTAVAIL: the 4-tuple is in TIME_WAIT. */
	close(fds[port]);
	fds[port] = -1;
	portpool_conflict(pp, port, SA(dst(1)), 1000);
	portpool_get_stats(pp, &st);
	is_int(st.retries, 1, "conflict counts a retry");
	is_int(st.in_use, 0, "conflict returns the port to the pool");
	portpool_describe(pp, SA(dst(1)), 1000, NULL, &used, &cool);
	is_int(cool, 1, "the port cools towards that host");
	/* A late release of the same port changes nothing. */
	portpool_release(pp, port, SA(dst(1)), 0, 1000);
	portpool_get_stats(pp, &st);
	is_int(st.in_use, 0, "release after conflict is harmless");
	for (p = lo + 1; p <= hi; p++) {
		if (take(pp, dst(1), 1001) != p)
			break;
	}
	is_int(p, hi + 1, "A gets every other port");
	is_int(take(pp, dst(1), 1001), -1, "but not the conflicting one");
	is_int(take(pp, dst(2), 1001), lo, "which still serves B");
	give_all(pp, 1001);
	portpool_free(pp);
	pp = portpool_new(lo, hi);
	portpool_conflict(pp, lo, SA(dst(1)), 1000);
	is_int(take(pp, dst(1), 1059), lo + 1, "A skips it for 60 s");
	give_all(pp, 1059);
	is_int(take(pp, dst(1), 1061), lo, "A may use it after 60 s");
	give_all(pp, 1061);
	portpool_free(pp);
}

static void
test_seed_view(void)
{
	struct portpool		*pp = portpool_new(lo, hi);
	struct portpool_stats	 st;
	size_t			 used, cool;
	double			 next;
	int			 p, port, bad;

	portpool_mark_inuse_foreign(pp, lo + 1);
	portpool_mark_inuse_foreign(pp, lo + 1);
	portpool_mark_cooling(pp, lo, SA(dst(1)), 1030);
	portpool_mark_inuse_foreign(pp, hi + 1);	/* outside: ignored */
	portpool_get_stats(pp, &st);
	is_int(st.foreign, 1, "one foreign port counted once");
	portpool_describe(pp, SA(dst(1)), 1000, NULL, &used, &cool);
	is_int(used, 1, "describe: foreign port counts as in use");
	is_int(cool, 1, "describe: seeded cooling entry");
	is_int(take(pp, dst(1), 1000), lo + 2,
	    "skips the foreign port and the port cooling towards A");
	is_int(take(pp, dst(2), 1000), lo, "B may use the port cooling to A");
	next = portpool_next_expiry(pp, 1000);
	ok(next > 4.9 && next < 5.1, "foreign port re-checked after 5 s");
	bad = 0;
	for (p = lo + 3; p <= hi; p++) {
		port = take(pp, dst(1), 1001);
		if (port != p)
			bad++;
	}
	is_int(bad, 0, "the rest in order");
	is_int(take(pp, dst(1), 1004), -1, "foreign port still resting");
	is_int(take(pp, dst(1), 1006), lo + 1,
	    "foreign port tried again after the re-check delay");
	give_all(pp, 1006);
	portpool_free(pp);
	ok(portpool_new(10, 9) == NULL && portpool_new(0, 10) == NULL &&
	    portpool_new(1, 65536) == NULL, "bad ranges refused");
}

/* Many destinations: every entry expires, counts stay consistent. */
static void
test_scale(void)
{
	struct portpool		*pp = portpool_new(40000, 40511);
	struct portpool_stats	 st;
	struct sockaddr_in	 sin;
	size_t			 used, cool;
	int			 i;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(22);
	for (i = 0; i < 20000; i++) {
		sin.sin_addr.s_addr = htonl(0x0a000000 + i % 4000);
		portpool_mark_cooling(pp, 40000 + i % 512, SA(&sin),
		    1000 + i % 60);
		/* The same entry again, later: extends it. */
		if (i % 7 == 0)
			portpool_mark_cooling(pp, 40000 + i % 512, SA(&sin),
			    1070);
	}
	portpool_get_stats(pp, &st);
	is_int(st.cooling, 20000, "20000 distinct (port, host) entries");
	sin.sin_addr.s_addr = htonl(0x0a000000);
	portpool_describe(pp, SA(&sin), 999, NULL, &used, &cool);
	is_int(cool, 5, "host 0 cools on 5 ports");
	ok(portpool_next_expiry(pp, 999) > 0.99 &&
	    portpool_next_expiry(pp, 999) < 1.01, "next expiry in order");
	ok(portpool_next_expiry(pp, 1065) > 4.9, "extended ones expire last");
	portpool_get_stats(pp, &st);
	ok(st.cooling > 0 && st.cooling < 20000, "only extended ones left");
	ok(portpool_next_expiry(pp, 1070) < 0, "all expired at the end");
	portpool_get_stats(pp, &st);
	is_int(st.cooling, 0, "no entry left");
	portpool_free(pp);
}

static void
test_real_bind(void)
{
	struct portpool		*pp = portpool_new(lo, hi);
	struct portpool_stats	 st;
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof sin;
	int			 lfd, port;

	lfd = listen4(lo + 1, NULL);
	ok(lfd >= 0, "test listener on 127.0.0.1 in the range");
	is_int(take(pp, dst(1), 1000), lo, "first port bound");
	getsockname(fds[lo], (struct sockaddr *)&sin, &len);
	is_int(ntohs(sin.sin_port), lo, "the socket really is bound to it");
	port = take(pp, dst(1), 1000);
	is_int(port, lo + 2, "the port held by a listener is skipped");
	portpool_get_stats(pp, &st);
	is_int(st.retries, 1, "bind EADDRINUSE counted as a retry");
	is_int(st.foreign, 1, "and the port marked as held by others");
	give_all(pp, 1000);
	is_int(take(pp, dst(1), 1001), lo + 3, "still skipped (resting)");
	give_all(pp, 1001);
	portpool_free(pp);

	/* Seeded from the kernel: skipped without even trying. */
	pp = portpool_new(lo, hi);
	ok(portpool_seed_kernel(pp, 1000) == 0, "seeded from the kernel");
	portpool_get_stats(pp, &st);
	is_int(st.foreign, 1, "the listener is seen at seeding");
	is_int(take(pp, dst(1), 1000), lo, "first port");
	is_int(take(pp, dst(1), 1000), lo + 2, "listener's port skipped");
	portpool_get_stats(pp, &st);
	is_int(st.retries, 0, "without a bind retry");
	give_all(pp, 1000);
	/* Re-checked after it rested: still held, still not a retry. */
	is_int(take(pp, dst(1), 1010), lo + 3,
	    "re-checked, still held: the next port");
	portpool_get_stats(pp, &st);
	is_int(st.retries, 0, "a re-check of a held port is no retry");
	is_int(st.foreign, 1, "nor a second foreign port");
	give_all(pp, 1010);
	portpool_free(pp);
	close(lfd);
}

/* Without CAP_NET_BIND_SERVICE in the effective set, the answer is no. */
static void
test_reserved(void)
{
	struct __user_cap_header_struct	hdr;
	struct __user_cap_data_struct	data[2];
	FILE				*f;
	int				 start = 1024, status, pipefd[2];
	char				 c = '?';
	pid_t				 pid;

	if ((f = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start",
	    "r")) != NULL) {
		if (fscanf(f, "%d", &start) != 1)
			start = 1024;
		fclose(f);
	}
	if (geteuid() == 0)
		ok(portpool_can_bind_reserved(), "root may bind reserved ports");
	if (pipe(pipefd) != 0 || (pid = fork()) == -1) {
		ok(0, "fork");
		return;
	}
	if (pid == 0) {
		memset(&hdr, 0, sizeof hdr);
		memset(data, 0, sizeof data);
		hdr.version = _LINUX_CAPABILITY_VERSION_3;
		if (syscall(SYS_capget, &hdr, data) == 0) {
			data[0].effective = 0;
			data[1].effective = 0;
			if (syscall(SYS_capset, &hdr, data) == 0)
				c = portpool_can_bind_reserved() ? 'y' : 'n';
		}
		if (write(pipefd[1], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	close(pipefd[1]);
	if (read(pipefd[0], &c, 1) != 1)
		c = '?';
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	if (start <= 512)
		is_int(c, 'y', "unprivileged ports start low: allowed anyway");
	else
		is_int(c, 'n', "no CAP_NET_BIND_SERVICE: not allowed");
}

int
main(void)
{
	int	i;

	for (i = 0; i < 65536; i++)
		fds[i] = -1;
	/*
	 * Work in a private network namespace when we may (root), so no
	 * other program's socket can land in the range while the test runs.
	 */
	if (netns_enter() != 0)
		diag("no private network namespace: using the host's");
	if (pick_range() != 0) {
		ok(0, "found 16 free ports");
		return done_testing();
	}
	diag("range %d-%d", lo, hi);
	test_order();
	test_exhaustion();
	test_cooling();
	test_conflict();
	test_seed_view();
	test_scale();
	test_real_bind();
	test_reserved();
	return done_testing();
}
