/*
 * Unit tests for sockdiag (the kernel's TCP socket table through
 * NETLINK_SOCK_DIAG) and --ports-report. The test runs in a network
 * namespace of its own (unshare(CLONE_NEWNET), lo brought up) so that the
 * sockets it lists and the TIME_WAIT it makes on 127.0.0.1 are only its own.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mrsh/portpool.h"
#include "mrsh/portsreport.h"
#include "mrsh/sockdiag.h"
#include "tap.h"
#include "testutil.h"

/*
 * The test points that need the private network namespace (all but the
 * first three): skipped one by one when it cannot be made.
 */
#define NS_POINTS	39

struct find {
	uint32_t	inode;
	int		port;
	int		family;
	int		found;
	int		state;
	uint32_t	timer_ms;
	int		rport;
};

static int
find_cb(const struct sockdiag_entry *se, void *arg)
{
	struct find	*f = arg;

	if (port_of(&se->local) != f->port || se->family != f->family)
		return 0;
	if (f->inode != 0 && se->inode != f->inode)
		return 0;
	f->found++;
	f->state = se->state;
	f->timer_ms = se->timer_ms;
	f->rport = port_of(&se->remote);
	return 0;
}

/* Run portsreport_run with stdout captured into buf. */
static int
report(int lo, int hi, char *buf, size_t len)
{
	FILE	*tmp = tmpfile();
	int	 saved, r;

	fflush(stdout);
	saved = dup(1);
	dup2(fileno(tmp), 1);
	r = portsreport_run(lo, hi);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	tmpfile_read(tmp, buf, len);
	return r;
}

/*
 * Client on cport connects to 127.0.0.1:sport; the client closes first
 * (TIME_WAIT on cport), or with server_first the server does (TIME_WAIT on
 * the listening port sport).
 */
static int
make_timewait2(int lfd, int cport, int sport, int server_first)
{
	int	c, a, i;
	char	ch;
	size_t	n;

	if ((c = loconnect(cport, sport)) == -1)
		return -1;
	if ((a = accept(lfd, NULL, NULL)) == -1)
		return -1;
	if (server_first) {
		close(a);
		if (read(c, &ch, 1) != 0)
			return -1;
		close(c);
	} else {
		close(c);			/* client FIN first */
		if (read(a, &ch, 1) != 0)	/* server sees EOF */
			return -1;
		close(a);			/* server FIN */
	}
	/* Wait (bounded) for the closing side to reach TIME_WAIT. */
	for (i = 0; i < 200; i++) {
		if (server_first) {
			if (sockdiag_count_timewait(sport, sport, &n) == 0 &&
			    n >= 1)
				return 0;
		} else if (sockdiag_count_timewait(cport, cport, &n) == 0 &&
		    n == 1)
			return 0;
		usleep(10000);
	}
	return -1;
}

static int
make_timewait(int lfd, int cport, int sport)
{
	return make_timewait2(lfd, cport, sport, 0);
}

int
main(void)
{
	struct stat		 sb;
	struct find		 f;
	struct sockaddr_in6	 sin6;
	struct sockaddr_in	 other;
	struct portpool		*pp;
	size_t			 n, cool;
	char			 buf[16384], want[128];
	int			 lfd, l6, lr, port, p6, rport, fd, i, ok6;
	int			 fds[16], nfds = 0, held = -1, first;

	is_str(sockdiag_state_name(TCP_TIME_WAIT), "TIME_WAIT", "state name");
	is_str(sockdiag_state_name(TCP_LISTEN), "LISTEN", "state name");
	is_str(sockdiag_state_name(99), "UNKNOWN", "unknown state");

	if (netns_enter() != 0) {
		skip_n(NS_POINTS, "no private network namespace (needs root "
		    "or user namespaces)");
		return done_testing();
	}
	first = tap_n;

	/* A listener of ours is in the dump, with its inode. */
	lfd = listen4(0, &port);
	ok(lfd >= 0, "listener on 127.0.0.1");
	fstat(lfd, &sb);
	memset(&f, 0, sizeof f);
	f.inode = (uint32_t)sb.st_ino;
	f.port = port;
	f.family = AF_INET;
	ok(sockdiag_foreach(find_cb, &f) == 0, "sockdiag_foreach");
	is_int(f.found, 1, "our listener found by port and inode");
	is_int(f.state, TCP_LISTEN, "in state LISTEN");

	/* IPv6 too. */
	ok6 = 0;
	if ((l6 = socket(AF_INET6, SOCK_STREAM, 0)) != -1) {
		memset(&sin6, 0, sizeof sin6);
		sin6.sin6_family = AF_INET6;
		sin6.sin6_addr = in6addr_loopback;
		socklen_t len = sizeof sin6;
		if (bind(l6, (struct sockaddr *)&sin6, sizeof sin6) == 0 &&
		    listen(l6, 1) == 0 && getsockname(l6,
		    (struct sockaddr *)&sin6, &len) == 0)
			ok6 = 1;
	}
	if (ok6) {
		p6 = ntohs(sin6.sin6_port);
		memset(&f, 0, sizeof f);
		f.port = p6;
		f.family = AF_INET6;
		sockdiag_foreach(find_cb, &f);
		is_int(f.found, 1, "IPv6 listener on ::1 found");
	} else
		skip("IPv6 listener on ::1 found", "no IPv6 loopback here");

	/* A real TIME_WAIT on the client side, local port 40005. */
	ok(make_timewait(lfd, 40005, port) == 0,
	    "client closed first: TIME_WAIT on 40005");
	memset(&f, 0, sizeof f);
	f.port = 40005;
	f.family = AF_INET;
	sockdiag_foreach(find_cb, &f);
	is_int(f.state, TCP_TIME_WAIT, "listed in TIME_WAIT");
	ok(f.timer_ms > 0 && f.timer_ms <= 60000, "with its remaining timer");
	is_int(f.rport, port, "towards the listener's port");
	ok(sockdiag_count_timewait(40000, 40015, &n) == 0 && n == 1,
	    "count_timewait in the range: 1");
	ok(sockdiag_count_timewait(40006, 40015, &n) == 0 && n == 0,
	    "count_timewait outside: 0");
	ok(sockdiag_count_timewait(0, 65535, &n) == 0 && n == 1,
	    "count_timewait everywhere: 1");

	/*
	 * An orphan on its way to TIME_WAIT: the client on 40007 closed, the
	 * server (still holding its end) has not: FIN_WAIT2, no process.
	 */
	{
		int	c;

		c = loconnect(40007, port);
		ok(c >= 0 && (held = accept(lfd, NULL, NULL)) >= 0,
		    "connection from 40007 whose server keeps its end");
		close(c);
		memset(&f, 0, sizeof f);
		f.port = 40007;
		f.family = AF_INET;
		for (i = 0; i < 200; i++) {
			f.found = 0;
			sockdiag_foreach(find_cb, &f);
			if (f.found && f.state == TCP_FIN_WAIT2)
				break;
			usleep(10000);
		}
		is_int(f.state, TCP_FIN_WAIT2, "40007: orphan in FIN_WAIT2");
	}

	/* The pool, seeded from the kernel, avoids 40005 for that host. */
	lr = listen4(40010, &rport);
	pp = portpool_new(40000, 40015);
	ok(portpool_seed_kernel(pp, 1000) == 0, "pool seeded");
	{
		struct portpool_stats	st;

		portpool_get_stats(pp, &st);
		is_int(st.foreign, 1, "seeded: only the listener is foreign");
		is_int(st.cooling, 2, "seeded: TIME_WAIT and the orphan cool");
	}
	{
		struct sockaddr_in to = loaddr(port);

		portpool_describe(pp, (struct sockaddr *)&to, sizeof to, 1000,
		    NULL, NULL, &cool);
		is_int(cool, 2, "seeded: 40005, 40007 cool towards the listener");
		for (i = 40000; i <= 40004; i++) {
			fds[nfds++] = fd = socket(AF_INET, SOCK_STREAM, 0);
			if (portpool_bind(pp, fd, (struct sockaddr *)&to,
			    sizeof to, 1000) != i)
				break;
		}
		is_int(i, 40005, "ports before it handed out in order");
		fds[nfds++] = fd = socket(AF_INET, SOCK_STREAM, 0);
		is_int(portpool_bind(pp, fd, (struct sockaddr *)&to, sizeof to,
		    1000), 40006, "40005 skipped towards the TIME_WAIT host");
		other = loaddr(port);
		other.sin_addr.s_addr = htonl(0x7f000002);
		fds[nfds++] = fd = socket(AF_INET, SOCK_STREAM, 0);
		is_int(portpool_bind(pp, fd, (struct sockaddr *)&other,
		    sizeof other, 1000), 40005,
		    "40005 really bound towards another host");
		for (i = 0; i < 3; i++) {
			fds[nfds++] = fd = socket(AF_INET, SOCK_STREAM, 0);
			portpool_bind(pp, fd, (struct sockaddr *)&other,
			    sizeof other, 1000);
		}
		fds[nfds++] = fd = socket(AF_INET, SOCK_STREAM, 0);
		is_int(portpool_bind(pp, fd, (struct sockaddr *)&other,
		    sizeof other, 1000), 40011,
		    "40010 (our listener) skipped");
	}
	portpool_free(pp);
	while (nfds > 0)
		close(fds[--nfds]);

	/* Our listener on 40010 closes first: server-side TIME_WAIT. */
	ok(make_timewait2(lr, 40012, 40010, 1) == 0,
	    "server closed first: TIME_WAIT on the listening port 40010");

	/* --ports-report on the range. */
	is_int(report(40000, 40015, buf, sizeof buf), 0, "report runs");
	diag("report:\n%s", buf);
	ok(strstr(buf, "local port in 40000-40015") != NULL,
	    "report names the range");
	ok(strstr(buf, "  TIME_WAIT            2\n") != NULL,
	    "report counts TIME_WAIT");
	snprintf(want, sizeof want, "127.0.0.1:%d ", port);
	ok(strstr(buf, want) != NULL, "report lists the TIME_WAIT destination");
	ok(strstr(buf, "LISTEN ") != NULL, "report counts LISTEN");
	snprintf(want, sizeof want, "%ld ", (long)getpid());
	ok(strstr(buf, want) != NULL && strstr(buf, "test_sockdiag") != NULL,
	    "report names our process as holder");
	ok(strstr(buf, " 40010\n") != NULL, "report shows the held port");
	ok(strstr(buf, "closed first") != NULL, "report explains TIME_WAIT");
	ok(strstr(buf, "TIME_WAIT client side (this machine closed first): "
	    "1;") != NULL, "one client-side TIME_WAIT");
	ok(strstr(buf, "server closed first): 1\n") != NULL &&
	    strstr(buf, "    port 40010 ") != NULL,
	    "one server-side TIME_WAIT, on the listening port");
	ok(strstr(buf, "127.0.0.1:40012") == NULL,
	    "the server side's peer is not listed as a destination");
	is_int(report(41000, 41010, buf, sizeof buf), 0, "empty range report");
	ok(strstr(buf, ": 0\n") != NULL && strstr(buf, "free to bind") != NULL,
	    "empty range: nothing held");
	is_int(report(0, 0, buf, sizeof buf), 0, "default report");
	ok(strstr(buf, "512-1023") != NULL && strstr(buf, "ephemeral") != NULL,
	    "default: reserved and ephemeral ranges");
	close(held);
	close(lr);
	close(lfd);
	is_int(tap_n + 1 - first, NS_POINTS,
	    "NS_POINTS is the number of test points in the namespace");
	return done_testing();
}
