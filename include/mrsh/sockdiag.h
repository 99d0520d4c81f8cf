/*
 * The kernel's view of TCP sockets (NETLINK_SOCK_DIAG / inet_diag, the
 * interface ss(8) uses): used to seed the port pool, to count TIME_WAIT left
 * by a run (--stats), and for --ports-report (mrsh/portsreport.h).
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

/* TCP states as inet_diag numbers them: 0 (unknown) to NEW_SYN_RECV. */
#define SOCKDIAG_NSTATES	13
const char *sockdiag_state_name(int state);

/* The port of an entry's local or remote address, host order. */
int	sockdiag_port(const struct sockaddr_storage *);

#endif
