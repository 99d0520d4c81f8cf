/*
 * The kernel's view of TCP sockets through NETLINK_SOCK_DIAG (inet_diag, the
 * interface ss(8) uses): a dump of every IPv4 and IPv6 TCP socket in every
 * state, TIME_WAIT included with its remaining timer. The port pool seeds
 * itself from it, --stats counts the TIME_WAIT a run left, and
 * `mrsh --ports-report` (portsreport.c) explains what holds the ports of a
 * range.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/inet_diag.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mrsh/sockdiag.h"
#include "mrsh/xmalloc.h"

#define SOCKDIAG_BUFSIZE	32768

static const char *sockdiag_states[] = {
	"UNKNOWN", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1",
	"FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK",
	"LISTEN", "CLOSING", "NEW_SYN_RECV"
};
_Static_assert(sizeof sockdiag_states / sizeof sockdiag_states[0] ==
    SOCKDIAG_NSTATES, "one name per state");

const char *
sockdiag_state_name(int state)
{
	if (state < 0 || state >= SOCKDIAG_NSTATES)
		return "UNKNOWN";
	return sockdiag_states[state];
}

/* Fill a sockaddr from an inet_diag address and port (network order). */
static void
sockdiag_addr(struct sockaddr_storage *ss, int family, const uint32_t *a,
    uint16_t port)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof *ss);
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = port;
		memcpy(&sin->sin_addr, a, 4);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = port;
		memcpy(&sin6->sin6_addr, a, 16);
	}
}

/* One dump request for one address family; cb per socket. */
static int
sockdiag_dump(int family, int (*cb)(const struct sockdiag_entry *, void *),
    void *arg)
{
	struct {
		struct nlmsghdr		nlh;
		struct inet_diag_req_v2	req;
	} rq;
	struct sockaddr_nl	 sa;
	struct nlmsghdr		*h;
	struct inet_diag_msg	*m;
	struct nlmsgerr		*err;
	struct sockdiag_entry	 se;
	char			*buf = NULL;
	ssize_t			 n;
	int			 fd, r = -1, done = 0, saved;

	if ((fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
	    NETLINK_SOCK_DIAG)) == -1)
		return -1;
	memset(&sa, 0, sizeof sa);
	sa.nl_family = AF_NETLINK;
	memset(&rq, 0, sizeof rq);
	rq.nlh.nlmsg_len = sizeof rq;
	rq.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	rq.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	rq.nlh.nlmsg_seq = 1;
	rq.req.sdiag_family = (uint8_t)family;
	rq.req.sdiag_protocol = IPPROTO_TCP;
	rq.req.idiag_states = ~0U;
	if (sendto(fd, &rq, sizeof rq, 0, (struct sockaddr *)&sa,
	    sizeof sa) == -1)
		goto out_close;

	buf = xmalloc(SOCKDIAG_BUFSIZE);
	while (!done) {
		n = recv(fd, buf, SOCKDIAG_BUFSIZE, 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		if (n == 0) {
			errno = EPROTO;
			goto out;
		}
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
		    h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				done = 1;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				err = NLMSG_DATA(h);
				errno = err->error != 0 ? -err->error : EPROTO;
				goto out;
			}
			if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
			    h->nlmsg_len < NLMSG_LENGTH(sizeof *m))
				continue;
			m = NLMSG_DATA(h);
			memset(&se, 0, sizeof se);
			se.family = m->idiag_family;
			se.state = m->idiag_state;
			sockdiag_addr(&se.local, m->idiag_family,
			    m->id.idiag_src, m->id.idiag_sport);
			sockdiag_addr(&se.remote, m->idiag_family,
			    m->id.idiag_dst, m->id.idiag_dport);
			se.inode = m->idiag_inode;
			if (m->idiag_state == TCP_TIME_WAIT)
				se.timer_ms = m->idiag_expires;
			if (cb(&se, arg) != 0) {
				/* The caller stopped early: not an error. */
				r = 0;
				goto out;
			}
		}
	}
	r = 0;
out:
	saved = errno;
	free(buf);
	errno = saved;
out_close:
	saved = errno;
	close(fd);
	errno = saved;
	return r;
}

int
sockdiag_foreach(int (*cb)(const struct sockdiag_entry *, void *), void *arg)
{
	if (sockdiag_dump(AF_INET, cb, arg) != 0)
		return -1;
	/* Without IPv6 in the kernel there is simply nothing to list. */
	if (sockdiag_dump(AF_INET6, cb, arg) != 0 && errno != ENOENT &&
	    errno != EAFNOSUPPORT)
		return -1;
	return 0;
}

int
sockdiag_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

struct sockdiag_count {
	int	lo;
	int	hi;
	size_t	n;
};

static int
sockdiag_count_cb(const struct sockdiag_entry *se, void *arg)
{
	struct sockdiag_count	*sc = arg;
	int			 port = sockdiag_port(&se->local);

	if (se->state == TCP_TIME_WAIT && port >= sc->lo && port <= sc->hi)
		sc->n++;
	return 0;
}

int
sockdiag_count_timewait(int lo, int hi, size_t *count)
{
	struct sockdiag_count	sc = { lo, hi, 0 };

	if (sockdiag_foreach(sockdiag_count_cb, &sc) != 0)
		return -1;
	*count = sc.n;
	return 0;
}
