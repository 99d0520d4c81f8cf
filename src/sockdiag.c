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

/*
 * --ports-report.
 */

#define REPORT_TOP	10
#define REPORT_PROGS	20

/* A TIME_WAIT socket in the range: its local port and its peer. */
struct report_tw {
	uint16_t	family;
	uint16_t	rport;
	uint8_t		raddr[16];
	uint16_t	lport;
};

/* A destination (or a listening port) and its TIME_WAIT count. */
struct report_dst {
	struct report_tw	tw;
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
	struct report_tw	*tws;
	size_t			 ntws;
	size_t			 twalloc;
	size_t			 tw_client;	/* local port not listening */
	size_t			 tw_server;	/* on a listening port */
	struct report_dst	*dsts;		/* client side, by peer */
	size_t			 ndsts;
	struct report_dst	*lports;	/* server side, by port */
	size_t			 nlports;
	uint8_t			 listening[65536 / 8];
	struct report_sock	*socks;
	size_t			 nsocks;
	size_t			 sockalloc;
};

/* "a.b.c.d:port" or "[v6]:port" of a TIME_WAIT's peer. */
static const char *
report_peer_str(const struct report_tw *tw, char *buf, size_t len)
{
	char	a[INET6_ADDRSTRLEN];

	if (tw->family == AF_INET) {
		inet_ntop(AF_INET, tw->raddr, a, sizeof a);
		snprintf(buf, len, "%s:%u", a, tw->rport);
	} else {
		inet_ntop(AF_INET6, tw->raddr, a, sizeof a);
		snprintf(buf, len, "[%s]:%u", a, tw->rport);
	}
	return buf;
}

static void
report_add_tw(struct report *rp, const struct sockdiag_entry *se, int lport)
{
	struct report_tw	*tw;

	if (rp->ntws == rp->twalloc) {
		rp->twalloc = rp->twalloc ? rp->twalloc * 2 : 256;
		rp->tws = xreallocarray(rp->tws, rp->twalloc, sizeof *rp->tws);
	}
	tw = &rp->tws[rp->ntws++];
	memset(tw, 0, sizeof *tw);
	tw->family = (uint16_t)se->remote.ss_family;
	tw->rport = (uint16_t)sockdiag_port(&se->remote);
	tw->lport = (uint16_t)lport;
	if (se->remote.ss_family == AF_INET)
		memcpy(tw->raddr, &((const struct sockaddr_in *)&se->remote)->
		    sin_addr, 4);
	else
		memcpy(tw->raddr, &((const struct sockaddr_in6 *)&se->remote)->
		    sin6_addr, 16);
}

/* Order by peer (family, address, port), local port ignored. */
static int
report_tw_peer_cmp(const void *a, const void *b)
{
	const struct report_tw	*x = a, *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	if (x->rport != y->rport)
		return x->rport < y->rport ? -1 : 1;
	return memcmp(x->raddr, y->raddr, sizeof x->raddr);
}

static int
report_tw_lport_cmp(const void *a, const void *b)
{
	const struct report_tw	*x = a, *y = b;

	return (int)x->lport - (int)y->lport;
}

/*
 * Count runs of equal keys of a sorted array of TIME_WAIT into (key, n)
 * pairs.
 */
static struct report_dst *
report_runs(struct report_tw *tw, size_t n, int (*cmp)(const void *,
    const void *), size_t *nruns)
{
	struct report_dst	*d;
	size_t			 i, k = 0;

	*nruns = 0;
	if (n == 0)
		return NULL;
	qsort(tw, n, sizeof *tw, cmp);
	d = xcalloc(n, sizeof *d);
	for (i = 0; i < n; i++) {
		if (i == 0 || cmp(&tw[i], &tw[i - 1]) != 0) {
			d[k].tw = tw[i];
			k++;
		}
		d[k - 1].n++;
	}
	*nruns = k;
	return d;
}

static int
report_dst_cmp(const void *a, const void *b)
{
	const struct report_dst	*x = a, *y = b;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return report_tw_peer_cmp(&x->tw, &y->tw);
}

/*
 * Split the TIME_WAIT into server side (the local port is listening: the
 * server closed first) and client side, and count each by peer / by port.
 */
static void
report_classify(struct report *rp)
{
	struct report_tw	*client, *server;
	size_t			 i, nc = 0, ns = 0;
	int			 p;

	if (rp->ntws == 0)
		return;
	client = xcalloc(rp->ntws, sizeof *client);
	server = xcalloc(rp->ntws, sizeof *server);
	for (i = 0; i < rp->ntws; i++) {
		p = rp->tws[i].lport;
		if (rp->listening[p / 8] & (1 << (p % 8)))
			server[ns++] = rp->tws[i];
		else
			client[nc++] = rp->tws[i];
	}
	rp->tw_client = nc;
	rp->tw_server = ns;
	rp->dsts = report_runs(client, nc, report_tw_peer_cmp, &rp->ndsts);
	if (rp->ndsts > 0)
		qsort(rp->dsts, rp->ndsts, sizeof *rp->dsts, report_dst_cmp);
	rp->lports = report_runs(server, ns, report_tw_lport_cmp,
	    &rp->nlports);
	free(client);
	free(server);
}

static int
report_cb(const struct sockdiag_entry *se, void *arg)
{
	struct report		*rp = arg;
	struct report_sock	*s;
	int			 port = sockdiag_port(&se->local);

	/* Every listening port, in the range or not, marks a server. */
	if (se->state == TCP_LISTEN)
		rp->listening[port / 8] |= 1 << (port % 8);
	if (port < rp->lo || port > rp->hi)
		return 0;
	rp->total++;
	if (se->state >= 0 && se->state < SOCKDIAG_NSTATES)
		rp->states[se->state]++;
	if (se->state == TCP_TIME_WAIT)
		report_add_tw(rp, se, port);
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
	if (rp->tw_client > 0)
		printf("  hint: client-side TIME_WAIT means this machine closed "
		    "first; each blocks only its own destination for up to "
		    "60 s (other hosts can still use the port with "
		    "SO_REUSEADDR); let the remote end close first (mrsh "
		    "--close remote) to leave none\n");
	if (rp->tw_server > 0)
		printf("  hint: server-side TIME_WAIT does not block the "
		    "listening port (clients come from other ports); it "
		    "lands here because the server closed first\n");
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
		free(rp.tws);
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
	report_classify(&rp);
	if (rp.ndsts > 0) {
		printf("  TIME_WAIT client side (this machine closed first): "
		    "%zu; destinations with most:\n", rp.tw_client);
		for (i = 0; i < rp.ndsts && i < REPORT_TOP; i++)
			printf("    %-46s %7zu\n", report_peer_str(
			    &rp.dsts[i].tw, buf, sizeof buf), rp.dsts[i].n);
		if (rp.ndsts > REPORT_TOP)
			printf("    ... %zu more destinations\n",
			    rp.ndsts - REPORT_TOP);
	}
	if (rp.nlports > 0) {
		printf("  TIME_WAIT server side (on a listening port, this "
		    "machine's server closed first): %zu\n", rp.tw_server);
		for (i = 0; i < rp.nlports && i < REPORT_TOP; i++)
			printf("    port %-41u %7zu\n", rp.lports[i].tw.lport,
			    rp.lports[i].n);
		if (rp.nlports > REPORT_TOP)
			printf("    ... %zu more ports\n",
			    rp.nlports - REPORT_TOP);
	}
	report_map_pids(&rp);
	if (rp.nsocks > 0)
		report_print_programs(&rp);
	report_print_hint(&rp);
	free(rp.tws);
	free(rp.dsts);
	free(rp.lports);
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
