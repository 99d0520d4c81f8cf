/*
 * The kernel's view of TCP sockets through NETLINK_SOCK_DIAG (inet_diag, the
 * interface ss(8) uses): a dump of every IPv4 and IPv6 TCP socket in every
 * state, TIME_WAIT included with its remaining timer. The port pool seeds
 * itself from it, --stats counts the TIME_WAIT a run left, and
 * `mrsh --ports-report` explains what holds the ports of a range.
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

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mrsh/log.h"
#include "mrsh/sockdiag.h"
#include "mrsh/xmalloc.h"

#define SOCKDIAG_BUFSIZE	32768

static const char *sockdiag_states[] = {
	"UNKNOWN", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1",
	"FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK",
	"LISTEN", "CLOSING", "NEW_SYN_RECV"
};
#define SOCKDIAG_NSTATES \
	(int)(sizeof sockdiag_states / sizeof sockdiag_states[0])

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

/* Local or remote port of an entry, host order. */
static int
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

/*
 * --ports-report.
 */

#define REPORT_TOP	10
#define REPORT_PROGS	20

/* A destination and its TIME_WAIT count. */
struct report_dst {
	struct sockaddr_storage	addr;
	size_t			n;
};

/* A socket inode in the range, later mapped to its process. */
struct report_sock {
	uint32_t	inode;
	int		port;
	int		state;
	pid_t		pid;
	char		comm[32];
};

struct report {
	int			 lo;
	int			 hi;
	size_t			 states[SOCKDIAG_NSTATES];
	size_t			 total;
	struct report_dst	*dsts;
	size_t			 ndsts;
	size_t			 dstalloc;
	struct report_sock	*socks;
	size_t			 nsocks;
	size_t			 sockalloc;
};

/* Equal addresses (family, address, port)? */
static int
report_addr_eq(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b)
{
	const struct sockaddr_in	*a4, *b4;
	const struct sockaddr_in6	*a6, *b6;

	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET) {
		a4 = (const struct sockaddr_in *)a;
		b4 = (const struct sockaddr_in *)b;
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	}
	a6 = (const struct sockaddr_in6 *)a;
	b6 = (const struct sockaddr_in6 *)b;
	return a6->sin6_port == b6->sin6_port &&
	    memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) == 0;
}

/* "a.b.c.d:port" or "[v6]:port". */
static const char *
report_addr_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char	a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr,
		    a, sizeof a);
		snprintf(buf, len, "%s:%d", a, sockdiag_port(ss));
	} else {
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)ss)->sin6_addr, a, sizeof a);
		snprintf(buf, len, "[%s]:%d", a, sockdiag_port(ss));
	}
	return buf;
}

static void
report_add_dst(struct report *rp, const struct sockaddr_storage *addr)
{
	size_t	i;

	/* Linear: TIME_WAIT destinations are few compared with sockets. */
	for (i = 0; i < rp->ndsts; i++) {
		if (report_addr_eq(&rp->dsts[i].addr, addr)) {
			rp->dsts[i].n++;
			return;
		}
	}
	if (rp->ndsts == rp->dstalloc) {
		rp->dstalloc = rp->dstalloc ? rp->dstalloc * 2 : 64;
		rp->dsts = xreallocarray(rp->dsts, rp->dstalloc,
		    sizeof *rp->dsts);
	}
	rp->dsts[rp->ndsts].addr = *addr;
	rp->dsts[rp->ndsts].n = 1;
	rp->ndsts++;
}

static int
report_cb(const struct sockdiag_entry *se, void *arg)
{
	struct report		*rp = arg;
	struct report_sock	*s;
	int			 port = sockdiag_port(&se->local);

	if (port < rp->lo || port > rp->hi)
		return 0;
	rp->total++;
	if (se->state >= 0 && se->state < SOCKDIAG_NSTATES)
		rp->states[se->state]++;
	if (se->state == TCP_TIME_WAIT)
		report_add_dst(rp, &se->remote);
	if (se->inode == 0)
		return 0;
	if (rp->nsocks == rp->sockalloc) {
		rp->sockalloc = rp->sockalloc ? rp->sockalloc * 2 : 64;
		rp->socks = xreallocarray(rp->socks, rp->sockalloc,
		    sizeof *rp->socks);
	}
	s = &rp->socks[rp->nsocks++];
	memset(s, 0, sizeof *s);
	s->inode = se->inode;
	s->port = port;
	s->state = se->state;
	return 0;
}

static int
report_sock_cmp(const void *a, const void *b)
{
	const struct report_sock	*x = a, *y = b;

	if (x->inode != y->inode)
		return x->inode < y->inode ? -1 : 1;
	return 0;
}

static int
report_dst_cmp(const void *a, const void *b)
{
	const struct report_dst	*x = a, *y = b;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return 0;
}

/* Sort by pid, then port, for the per-program listing. */
static int
report_prog_cmp(const void *a, const void *b)
{
	const struct report_sock	*x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return 0;
}

/* Read /proc/PID/comm into buf. */
static void
report_comm(pid_t pid, char *buf, size_t len)
{
	char	 path[64];
	FILE	*f;

	snprintf(path, sizeof path, "/proc/%ld/comm", (long)pid);
	mrsh_strlcpy(buf, "?", len);
	if ((f = fopen(path, "r")) == NULL)
		return;
	if (fgets(buf, (int)len, f) != NULL)
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* Map socket inodes to processes by reading /proc/PID/fd links, like ss -p. */
static void
report_map_pids(struct report *rp)
{
	DIR			*proc, *fds;
	struct dirent		*pe, *fe;
	struct report_sock	 key, *s;
	char			 path[600], link[64];
	unsigned long		 ino;
	ssize_t			 n;
	pid_t			 pid;

	if (rp->nsocks == 0)
		return;
	qsort(rp->socks, rp->nsocks, sizeof *rp->socks, report_sock_cmp);
	if ((proc = opendir("/proc")) == NULL)
		return;
	while ((pe = readdir(proc)) != NULL) {
		if (!isdigit((unsigned char)pe->d_name[0]))
			continue;
		pid = (pid_t)strtol(pe->d_name, NULL, 10);
		snprintf(path, sizeof path, "/proc/%s/fd", pe->d_name);
		if ((fds = opendir(path)) == NULL)
			continue;
		while ((fe = readdir(fds)) != NULL) {
			if (fe->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "/proc/%s/fd/%s",
			    pe->d_name, fe->d_name);
			n = readlink(path, link, sizeof link - 1);
			if (n <= 0)
				continue;
			link[n] = '\0';
			if (sscanf(link, "socket:[%lu]", &ino) != 1)
				continue;
			key.inode = (uint32_t)ino;
			s = bsearch(&key, rp->socks, rp->nsocks,
			    sizeof *rp->socks, report_sock_cmp);
			if (s == NULL || s->pid != 0)
				continue;
			/* A socket shared after fork(): the lowest pid wins. */
			s->pid = pid;
			report_comm(pid, s->comm, sizeof s->comm);
		}
		closedir(fds);
	}
	closedir(proc);
}

/* Print "512-515,600" style lists of the ports of one program. */
static void
report_print_ports(const struct report_sock *s, size_t n)
{
	size_t	i, j, shown = 0;

	for (i = 0; i < n; i = j) {
		j = i + 1;
		while (j < n && (s[j].port == s[j - 1].port ||
		    s[j].port == s[j - 1].port + 1))
			j++;
		if (shown++ >= 8) {
			printf(",...");
			break;
		}
		printf("%s%d", i == 0 ? "" : ",", s[i].port);
		if (s[j - 1].port != s[i].port)
			printf("-%d", s[j - 1].port);
	}
}

/* The per-program listing: pid, name, sockets by state, ports. */
static void
report_print_programs(struct report *rp)
{
	struct report_sock	*s = rp->socks;
	size_t			 i, j, nlisten, shown = 0, unknown = 0;

	qsort(s, rp->nsocks, sizeof *s, report_prog_cmp);
	for (i = 0; i < rp->nsocks && s[i].pid == 0; i++)
		unknown++;
	if (i == rp->nsocks) {
		printf("  programs holding ports in the range: none found");
		if (unknown > 0)
			printf(" (%zu sockets without a visible process)",
			    unknown);
		printf("\n");
		return;
	}
	printf("  programs holding ports in the range:\n");
	printf("    %-8s %-16s %7s %7s  %s\n", "PID", "PROGRAM", "SOCKETS",
	    "LISTEN", "PORTS");
	for (; i < rp->nsocks; i = j) {
		nlisten = 0;
		for (j = i; j < rp->nsocks && s[j].pid == s[i].pid; j++) {
			if (s[j].state == TCP_LISTEN)
				nlisten++;
		}
		if (shown++ >= REPORT_PROGS) {
			printf("    ... more programs not shown\n");
			break;
		}
		printf("    %-8ld %-16s %7zu %7zu  ", (long)s[i].pid, s[i].comm,
		    j - i, nlisten);
		report_print_ports(&s[i], j - i);
		printf("\n");
	}
	if (unknown > 0)
		printf("    (%zu sockets without a visible process: another "
		    "namespace, or the kernel)\n", unknown);
}

/* What the numbers mean, in one or two lines. */
static void
report_print_hint(struct report *rp)
{
	if (rp->total == 0) {
		printf("  hint: the kernel holds no TCP socket in this range: "
		    "every port is free to bind\n");
		return;
	}
	if (rp->states[TCP_LISTEN] > 0)
		printf("  hint: a LISTEN socket holds its port for every "
		    "destination: bind() fails with \"Address already in "
		    "use\" until its program closes it\n");
	if (rp->states[TCP_TIME_WAIT] > 0)
		printf("  hint: TIME_WAIT on these local ports means this "
		    "machine closed first; each blocks only its own "
		    "destination for up to 60 s (other hosts can still use "
		    "the port with SO_REUSEADDR); let the remote end close "
		    "first (mrsh --close remote) to leave none\n");
	if (rp->states[TCP_ESTABLISHED] > 0 || rp->states[TCP_CLOSE_WAIT] > 0)
		printf("  hint: ESTABLISHED / CLOSE_WAIT sockets are live "
		    "connections; their programs hold the ports until they "
		    "close them\n");
}

/* One report for one range. */
static int
report_range(int lo, int hi, const char *what)
{
	struct report	rp;
	char		buf[INET6_ADDRSTRLEN + 16];
	size_t		i;
	int		st;

	memset(&rp, 0, sizeof rp);
	rp.lo = lo;
	rp.hi = hi;
	if (sockdiag_foreach(report_cb, &rp) != 0) {
		error("ports-report: reading sockets from the kernel "
		    "(NETLINK_SOCK_DIAG): %s", strerror(errno));
		free(rp.dsts);
		free(rp.socks);
		return -1;
	}
	printf("TCP sockets with a local port in %d-%d%s%s%s: %zu\n", lo, hi,
	    what != NULL ? " (" : "", what != NULL ? what : "",
	    what != NULL ? ")" : "", rp.total);
	for (st = 1; st < SOCKDIAG_NSTATES; st++) {
		if (rp.states[st] > 0)
			printf("  %-14s %7zu\n", sockdiag_state_name(st),
			    rp.states[st]);
	}
	if (rp.ndsts > 0) {
		qsort(rp.dsts, rp.ndsts, sizeof *rp.dsts, report_dst_cmp);
		printf("  destinations with most TIME_WAIT:\n");
		for (i = 0; i < rp.ndsts && i < REPORT_TOP; i++)
			printf("    %-46s %7zu\n", report_addr_str(
			    &rp.dsts[i].addr, buf, sizeof buf), rp.dsts[i].n);
		if (rp.ndsts > REPORT_TOP)
			printf("    ... %zu more destinations\n",
			    rp.ndsts - REPORT_TOP);
	}
	report_map_pids(&rp);
	if (rp.nsocks > 0)
		report_print_programs(&rp);
	report_print_hint(&rp);
	free(rp.dsts);
	free(rp.socks);
	return 0;
}

/* The kernel's ephemeral range (net.ipv4.ip_local_port_range). */
static int
report_ephemeral(int *lo, int *hi)
{
	FILE	*f;
	int	 r = -1;

	if ((f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) == NULL)
		return -1;
	if (fscanf(f, "%d %d", lo, hi) == 2 && *lo > 0 && *lo <= *hi)
		r = 0;
	fclose(f);
	return r;
}

int
portsreport_run(int lo, int hi)
{
	int	elo, ehi, r = 0;

	/* lo 0 (0-0 or 0-65535): no range given. */
	if (lo > 0) {
		if (report_range(lo, hi, NULL) != 0)
			return 1;
		fflush(stdout);
		return 0;
	}
	/* No range given: the ephemeral range and the reserved ports. */
	if (report_ephemeral(&elo, &ehi) == 0) {
		if (report_range(elo, ehi, "ephemeral, "
		    "net.ipv4.ip_local_port_range") != 0)
			r = 1;
		printf("\n");
	}
	if (r == 0 && report_range(512, 1023, "reserved, --ports reserved") !=
	    0)
		r = 1;
	fflush(stdout);
	return r;
}
