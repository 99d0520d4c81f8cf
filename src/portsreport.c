/*
 * mrsh --ports-report: what holds the TCP ports of a range, read from the
 * kernel through sockdiag.c. Counts per TCP state, TIME_WAIT split into
 * the client side (by destination) and the server side (by listening
 * port), the programs that own the other sockets (found through
 * /proc/PID/fd), and a hint on what to do about it. With no range: the
 * ephemeral range and the reserved ports 512-1023.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mrsh/log.h"
#include "mrsh/portsreport.h"
#include "mrsh/sockdiag.h"
#include "mrsh/xmalloc.h"

#define PORTSREPORT_TOP	10
#define PORTSREPORT_PROGS	20

/* A TIME_WAIT socket in the range: its local port and its peer. */
struct portsreport_tw {
	uint16_t	family;
	uint16_t	rport;
	uint8_t		raddr[16];
	uint16_t	lport;
};

/* A destination (or a listening port) and its TIME_WAIT count. */
struct portsreport_dst {
	struct portsreport_tw	tw;
	size_t			n;
};

/* A socket inode in the range, later mapped to its process. */
struct portsreport_sock {
	uint32_t	inode;
	int		port;
	int		state;
	pid_t		pid;
	char		comm[32];
};

struct portsreport {
	int			 lo;
	int			 hi;
	size_t			 states[SOCKDIAG_NSTATES];
	size_t			 total;
	struct portsreport_tw	*tws;
	size_t			 ntws;
	size_t			 twalloc;
	size_t			 tw_client;	/* local port not listening */
	size_t			 tw_server;	/* on a listening port */
	struct portsreport_dst	*dsts;		/* client side, by peer */
	size_t			 ndsts;
	struct portsreport_dst	*lports;	/* server side, by port */
	size_t			 nlports;
	uint8_t			 listening[65536 / 8];
	struct portsreport_sock	*socks;
	size_t			 nsocks;
	size_t			 sockalloc;
};

/* "a.b.c.d:port" or "[v6]:port" of a TIME_WAIT's peer. */
static const char *
portsreport_peer_str(const struct portsreport_tw *tw, char *buf, size_t len)
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
portsreport_add_tw(struct portsreport *rp, const struct sockdiag_entry *se,
    int lport)
{
	struct portsreport_tw	*tw;

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
portsreport_tw_peer_cmp(const void *a, const void *b)
{
	const struct portsreport_tw	*x = a, *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	if (x->rport != y->rport)
		return x->rport < y->rport ? -1 : 1;
	return memcmp(x->raddr, y->raddr, sizeof x->raddr);
}

static int
portsreport_tw_lport_cmp(const void *a, const void *b)
{
	const struct portsreport_tw	*x = a, *y = b;

	return (int)x->lport - (int)y->lport;
}

/*
 * Count runs of equal keys of a sorted array of TIME_WAIT into (key, n)
 * pairs.
 */
static struct portsreport_dst *
portsreport_runs(struct portsreport_tw *tw, size_t n, int (*cmp)(const void *,
    const void *), size_t *nruns)
{
	struct portsreport_dst	*d;
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
portsreport_dst_cmp(const void *a, const void *b)
{
	const struct portsreport_dst	*x = a, *y = b;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return portsreport_tw_peer_cmp(&x->tw, &y->tw);
}

/*
 * Split the TIME_WAIT into server side (the local port is listening: the
 * server closed first) and client side, and count each by peer / by port.
 */
static void
portsreport_classify(struct portsreport *rp)
{
	struct portsreport_tw	*client, *server;
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
	rp->dsts = portsreport_runs(client, nc, portsreport_tw_peer_cmp,
	    &rp->ndsts);
	if (rp->ndsts > 0)
		qsort(rp->dsts, rp->ndsts, sizeof *rp->dsts,
		    portsreport_dst_cmp);
	rp->lports = portsreport_runs(server, ns, portsreport_tw_lport_cmp,
	    &rp->nlports);
	free(client);
	free(server);
}

static int
portsreport_cb(const struct sockdiag_entry *se, void *arg)
{
	struct portsreport		*rp = arg;
	struct portsreport_sock	*s;
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
		portsreport_add_tw(rp, se, port);
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
portsreport_sock_cmp(const void *a, const void *b)
{
	const struct portsreport_sock	*x = a, *y = b;

	if (x->inode != y->inode)
		return x->inode < y->inode ? -1 : 1;
	return 0;
}

/* Sort by pid, then port, for the per-program listing. */
static int
portsreport_prog_cmp(const void *a, const void *b)
{
	const struct portsreport_sock	*x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return 0;
}

/* Read /proc/PID/comm into buf. */
static void
portsreport_comm(pid_t pid, char *buf, size_t len)
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
portsreport_map_pids(struct portsreport *rp)
{
	DIR			*proc, *fds;
	struct dirent		*pe, *fe;
	struct portsreport_sock	 key, *s;
	char			 path[600], link[64];
	unsigned long		 ino;
	ssize_t			 n;
	pid_t			 pid;

	if (rp->nsocks == 0)
		return;
	qsort(rp->socks, rp->nsocks, sizeof *rp->socks, portsreport_sock_cmp);
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
			    sizeof *rp->socks, portsreport_sock_cmp);
			if (s == NULL || s->pid != 0)
				continue;
			/* A socket shared after fork(): the lowest pid wins. */
			s->pid = pid;
			portsreport_comm(pid, s->comm, sizeof s->comm);
		}
		closedir(fds);
	}
	closedir(proc);
}

/* Print "512-515,600" style lists of the ports of one program. */
static void
portsreport_print_ports(const struct portsreport_sock *s, size_t n)
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
portsreport_print_programs(struct portsreport *rp)
{
	struct portsreport_sock	*s = rp->socks;
	size_t			 i, j, nlisten, shown = 0, unknown = 0;

	qsort(s, rp->nsocks, sizeof *s, portsreport_prog_cmp);
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
		if (shown++ >= PORTSREPORT_PROGS) {
			printf("    ... more programs not shown\n");
			break;
		}
		printf("    %-8ld %-16s %7zu %7zu  ", (long)s[i].pid, s[i].comm,
		    j - i, nlisten);
		portsreport_print_ports(&s[i], j - i);
		printf("\n");
	}
	if (unknown > 0)
		printf("    (%zu sockets without a visible process: another "
		    "namespace, or the kernel)\n", unknown);
}

/* What the numbers mean, in one or two lines. */
static void
portsreport_print_hint(struct portsreport *rp)
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
portsreport_range(int lo, int hi, const char *what)
{
	struct portsreport	rp;
	char		buf[INET6_ADDRSTRLEN + 16];
	size_t		i;
	int		st;

	memset(&rp, 0, sizeof rp);
	rp.lo = lo;
	rp.hi = hi;
	if (sockdiag_foreach(portsreport_cb, &rp) != 0) {
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
	portsreport_classify(&rp);
	if (rp.ndsts > 0) {
		printf("  TIME_WAIT client side (this machine closed first): "
		    "%zu; destinations with most:\n", rp.tw_client);
		for (i = 0; i < rp.ndsts && i < PORTSREPORT_TOP; i++)
			printf("    %-46s %7zu\n", portsreport_peer_str(
			    &rp.dsts[i].tw, buf, sizeof buf), rp.dsts[i].n);
		if (rp.ndsts > PORTSREPORT_TOP)
			printf("    ... %zu more destinations\n",
			    rp.ndsts - PORTSREPORT_TOP);
	}
	if (rp.nlports > 0) {
		printf("  TIME_WAIT server side (on a listening port, this "
		    "machine's server closed first): %zu\n", rp.tw_server);
		for (i = 0; i < rp.nlports && i < PORTSREPORT_TOP; i++)
			printf("    port %-41u %7zu\n", rp.lports[i].tw.lport,
			    rp.lports[i].n);
		if (rp.nlports > PORTSREPORT_TOP)
			printf("    ... %zu more ports\n",
			    rp.nlports - PORTSREPORT_TOP);
	}
	portsreport_map_pids(&rp);
	if (rp.nsocks > 0)
		portsreport_print_programs(&rp);
	portsreport_print_hint(&rp);
	free(rp.tws);
	free(rp.dsts);
	free(rp.lports);
	free(rp.socks);
	return 0;
}

/* The kernel's ephemeral range (net.ipv4.ip_local_port_range). */
static int
portsreport_ephemeral(int *lo, int *hi)
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
		if (portsreport_range(lo, hi, NULL) != 0)
			return 1;
		fflush(stdout);
		return 0;
	}
	/* No range given: the ephemeral range and the reserved ports. */
	if (portsreport_ephemeral(&elo, &ehi) == 0) {
		if (portsreport_range(elo, ehi, "ephemeral, "
		    "net.ipv4.ip_local_port_range") != 0)
			r = 1;
		printf("\n");
	}
	if (r == 0 && portsreport_range(512, 1023,
	    "reserved, --ports reserved") != 0)
		r = 1;
	fflush(stdout);
	return r;
}
