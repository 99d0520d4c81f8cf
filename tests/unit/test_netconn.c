/*
 * Unit tests for netconn.c on loopback: numeric and /etc/hosts resolution,
 * address formatting, connect with a port pool (and the EAGAIN that parks
 * a session), and the four ways net_close() ends a connection.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/dns.h>
#include <event2/util.h>

#include "mrsh/netconn.h"
#include "mrsh/options.h"
#include "mrsh/portpool.h"
#include "mrsh/run.h"
#include "../../src/run_internal.h"

#include "tap.h"
#include "testutil.h"

static int	resolved;
static char	resolved_addr[128];
static int	closed;
static enum close_how closed_how;

static void
test_resolve_cb(struct evutil_addrinfo *ai, const char *err, void *arg)
{
	resolved++;
	if (ai != NULL)
		net_addr_str(ai->ai_addr, resolved_addr, sizeof resolved_addr);
	else
		snprintf(resolved_addr, sizeof resolved_addr, "error: %s",
		    err);
}

static void
test_closed_cb(enum close_how how, void *arg)
{
	closed++;
	closed_how = how;
}

/* Connect through net_connect and accept the other end. */
static int
test_pair(struct run *run, int lfd, struct sockaddr_in *sin, int *sfd,
    int *port)
{
	fd_set	wfds;
	int	fd;

	fd = net_connect(run, (struct sockaddr *)sin, sizeof *sin, port);
	if (fd == -1)
		return (-1);
	FD_ZERO(&wfds);
	FD_SET(fd, &wfds);
	select(fd + 1, NULL, &wfds, NULL, NULL);
	*sfd = accept(lfd, NULL, NULL);
	return (fd);
}

static void
test_server_close_cb(evutil_socket_t fd, short what, void *arg)
{
	close(*(int *)arg);
}

static void
test_server_chatter_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)write(*(int *)arg, "x", 1);
}

/* Run the loop until a close callback or max seconds. */
static void
test_loop(struct run *run, double max)
{
	struct timeval	tv = { 0, 10000 };
	double		end = run_now() + max;

	while (!closed && run_now() < end) {
		event_base_loopexit(run->base, &tv);
		event_base_dispatch(run->base);
	}
}

int
main(void)
{
	struct options		 opt;
	struct run		 run;
	struct sockaddr_in	 sin, sin6ish;
	struct event		*ev;
	struct timeval		 tv;
	struct net_resolve	*nr;
	char			 buf[128];
	double			 t0;
	int			 lfd, fd, fd2, sfd, sfd2, port, port2, plo;

	/* Our own loopback when we may: no other program's ports in it. */
	if (netns_enter() != 0)
		diag("no private network namespace: using the host's loopback");
	memset(&opt, 0, sizeof opt);
	memset(&run, 0, sizeof run);
	opt.close_mode = CLOSE_REMOTE;
	opt.close_wait = 0.5;
	run.opt = &opt;
	run.base = event_base_new();
	TAILQ_INIT(&run.active);
	TAILQ_INIT(&run.portwait);

	/* numeric: answered before net_resolve returns */
	nr = net_resolve(&run, "127.0.0.1", 2222, test_resolve_cb, NULL);
	ok(nr == NULL && resolved == 1, "numeric address answers at once");
	is_str(resolved_addr, "127.0.0.1:2222", "numeric address and port");
	resolved = 0;
	nr = net_resolve(&run, "::1", 22, test_resolve_cb, NULL);
	is_str(resolved_addr, "[::1]:22", "IPv6 formatted with brackets");

	/* /etc/hosts: localhost */
	resolved = 0;
	nr = net_resolve(&run, "localhost", 22, test_resolve_cb, NULL);
	t0 = run_now();
	while (resolved == 0 && run_now() - t0 < 5)
		event_base_loop(run.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	ok(resolved == 1 && (strcmp(resolved_addr, "127.0.0.1:22") == 0 ||
	    strcmp(resolved_addr, "[::1]:22") == 0),
	    "localhost from /etc/hosts");
	diag("localhost -> %s", resolved_addr);

	memset(&sin6ish, 0, sizeof sin6ish);
	sin6ish.sin_family = AF_INET;
	sin6ish.sin_port = htons(7);
	inet_pton(AF_INET, "10.1.2.3", &sin6ish.sin_addr);
	is_str(net_addr_str((struct sockaddr *)&sin6ish, buf, sizeof buf),
	    "10.1.2.3:7", "net_addr_str IPv4");

	/* A listener on 127.0.0.1, port chosen by the kernel. */
	if ((lfd = listen4(0, &port)) == -1) {
		perror("listener");
		exit(1);
	}
	sin = loaddr(port);

	/* remote first: the server closes 100 ms after we start closing */
	fd = test_pair(&run, lfd, &sin, &sfd, &port);
	ok(fd >= 0 && sfd >= 0, "connected (ephemeral port)");
	is_int(port, 0, "no pool: the kernel picks the port");
	ev = evtimer_new(run.base, test_server_close_cb, &sfd);
	tv.tv_sec = 0;
	tv.tv_usec = 100000;
	evtimer_add(ev, &tv);
	closed = 0;
	net_close(&run, fd, 0, (struct sockaddr *)&sin, sizeof sin, 0,
	    test_closed_cb, NULL);
	is_int(closed, 0, "remote: waits for the server's FIN");
	test_loop(&run, 3);
	is_int(closed, 1, "remote: closed once");
	is_int(closed_how, CLOSED_REMOTE_FIRST, "remote: server's FIN first");
	event_free(ev);

	/* remote, but the server never closes: RST at --close-wait */
	fd = test_pair(&run, lfd, &sin, &sfd, &port);
	closed = 0;
	t0 = run_now();
	net_close(&run, fd, 0, (struct sockaddr *)&sin, sizeof sin, 0,
	    test_closed_cb, NULL);
	test_loop(&run, 3);
	is_int(closed_how, CLOSED_RESET, "silent server: reset");
	ok(run_now() - t0 >= 0.45 && run_now() - t0 < 2,
	    "silent server: reset at --close-wait");
	ok(read(sfd, buf, 1) == -1 && errno == ECONNRESET,
	    "the server saw an RST, not a FIN");
	close(sfd);

	/* a server that keeps sending and never closes: still --close-wait */
	fd = test_pair(&run, lfd, &sin, &sfd, &port);
	ev = event_new(run.base, -1, EV_PERSIST, test_server_chatter_cb, &sfd);
	tv.tv_sec = 0;
	tv.tv_usec = 100000;
	event_add(ev, &tv);
	closed = 0;
	t0 = run_now();
	net_close(&run, fd, 0, (struct sockaddr *)&sin, sizeof sin, 0,
	    test_closed_cb, NULL);
	test_loop(&run, 3);
	ok(closed == 1 && closed_how == CLOSED_RESET,
	    "chatty server: reset all the same");
	ok(run_now() - t0 >= 0.45 && run_now() - t0 < 1.5,
	    "chatty server: data does not push the --close-wait deadline");
	event_free(ev);
	close(sfd);

	/* the FIN is already there when net_close is called */
	fd = test_pair(&run, lfd, &sin, &sfd, &port);
	close(sfd);
	usleep(50000);
	closed = 0;
	net_close(&run, fd, 0, (struct sockaddr *)&sin, sizeof sin, 0,
	    test_closed_cb, NULL);
	ok(closed == 1 && closed_how == CLOSED_REMOTE_FIRST,
	    "FIN already in: closed at once, remote first");

	/* abort_now: RST whatever the mode */
	fd = test_pair(&run, lfd, &sin, &sfd, &port);
	closed = 0;
	net_close(&run, fd, 0, (struct sockaddr *)&sin, sizeof sin, 1,
	    test_closed_cb, NULL);
	ok(closed == 1 && closed_how == CLOSED_RESET, "abort: reset at once");
	close(sfd);

	/* --close local */
	opt.close_mode = CLOSE_LOCAL;
	fd = test_pair(&run, lfd, &sin, &sfd, &port);
	closed = 0;
	net_close(&run, fd, 0, (struct sockaddr *)&sin, sizeof sin, 0,
	    test_closed_cb, NULL);
	ok(closed == 1 && closed_how == CLOSED_LOCAL_FIRST,
	    "--close local: our FIN first, at once");
	ok(read(sfd, buf, 1) == 0, "the server saw a FIN");
	close(sfd);
	opt.close_mode = CLOSE_REMOTE;

	/* a pool of two free ports: the third connect must wait (EAGAIN) */
	if ((plo = free_port_pair()) == -1) {
		perror("two free ports");
		exit(1);
	}
	run.pool = portpool_new(plo, plo + 1);
	fd = test_pair(&run, lfd, &sin, &sfd, &port);
	fd2 = test_pair(&run, lfd, &sin, &sfd2, &port2);
	ok(fd >= 0 && fd2 >= 0, "pool: two connections");
	ok(port >= plo && port <= plo + 1 && port2 >= plo &&
	    port2 <= plo + 1 && port != port2, "pool: ports from the range");
	errno = 0;
	ok(net_connect(&run, (struct sockaddr *)&sin, sizeof sin, &port) ==
	    -1 && errno == EAGAIN, "pool exhausted: -1/EAGAIN (wait)");
	closed = 0;
	net_close(&run, fd2, port2, (struct sockaddr *)&sin, sizeof sin, 1,
	    test_closed_cb, NULL);
	fd2 = test_pair(&run, lfd, &sin, &sfd2, &port2);
	ok(fd2 >= 0, "an RST-closed port serves the same host again at once");
	net_close(&run, fd, port, (struct sockaddr *)&sin, sizeof sin, 1,
	    NULL, NULL);
	net_close(&run, fd2, port2, (struct sockaddr *)&sin, sizeof sin, 1,
	    NULL, NULL);
	close(sfd);
	close(sfd2);
	portpool_free(run.pool);
	run.pool = NULL;

	close(lfd);
	if (run.dns != NULL)
		evdns_base_free(run.dns, 0);
	event_base_free(run.base);
	return (done_testing());
}
