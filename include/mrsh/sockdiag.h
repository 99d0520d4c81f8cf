/*
 * The kernel's view of TCP sockets (NETLINK_SOCK_DIAG / inet_diag, the
 * interface ss(8) uses): used to seed the port pool, to count TIME_WAIT left
 * by a run (--stats), and for --ports-report.
 */
#ifndef MRSH_SOCKDIAG_H
#define MRSH_SOCKDIAG_H

#include <sys/socket.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

struct sockdiag_entry {
	int			family;		/* AF_INET / AF_INET6 */
	int			state;		/* TCP_ESTABLISHED, TCP_TIME_WAIT... */
	struct sockaddr_storage	local;
	struct sockaddr_storage	remote;
	uint32_t		inode;		/* 0 for TIME_WAIT */
	uint32_t		timer_ms;	/* TIME_WAIT remaining, if known */
};

/* Call cb for every IPv4 and IPv6 TCP socket. Returns 0 or -1 (errno). */
int	sockdiag_foreach(int (*cb)(const struct sockdiag_entry *, void *),
	    void *arg);

/* Count TIME_WAIT sockets with local port in [lo, hi] (0,65535 = all). */
int	sockdiag_count_timewait(int lo, int hi, size_t *count);

const char *sockdiag_state_name(int state);

/* The port of an entry's local or remote address, host order. */
int	sockdiag_port(const struct sockaddr_storage *);

/*
 * mrsh --ports-report [RANGE]: print the report, return exit status.
 * lo 0 means no range given: the ephemeral range and 512-1023.
 */
int	portsreport_run(int lo, int hi);

#endif
