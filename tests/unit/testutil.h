/*
 * Scaffolding shared by the unit tests that use real sockets on loopback:
 * a private network namespace, 127.0.0.1 addresses, listeners and bound
 * client connections, and reading back what was written to a temporary
 * file. Include after "config.h" (for _GNU_SOURCE: unshare()).
 */
#ifndef MRSH_TESTUTIL_H
#define MRSH_TESTUTIL_H

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Enter a private network namespace with lo up: 0, or -1 (not root). */
static int __attribute__((unused))
netns_enter(void)
{
	struct ifreq	ifr;
	int		fd, r;

	if (unshare(CLONE_NEWNET) != 0)
		return -1;
	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		return -1;
	memset(&ifr, 0, sizeof ifr);
	strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
	r = ioctl(fd, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (r == 0)
		r = ioctl(fd, SIOCSIFFLAGS, &ifr);
	close(fd);
	return r;
}

/* The address 127.0.0.1:port. */
static struct sockaddr_in __attribute__((unused))
loaddr(int port)
{
	struct sockaddr_in	sin;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sin;
}

/* Listener on 127.0.0.1:port (0: any, no SO_REUSEADDR); fd, port in *out. */
static int __attribute__((unused))
listen4(int port, int *out)
{
	struct sockaddr_in	sin = loaddr(port);
	socklen_t		len = sizeof sin;
	int			fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
	    listen(fd, 16) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) != 0) {
		close(fd);
		return -1;
	}
	if (out != NULL)
		*out = ntohs(sin.sin_port);
	return fd;
}

/* Client bound to 127.0.0.1:cport (SO_REUSEADDR) connected to sport. */
static int __attribute__((unused))
loconnect(int cport, int sport)
{
	struct sockaddr_in	from = loaddr(cport), to = loaddr(sport);
	int			fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&from, sizeof from) != 0 ||
	    connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The port of an IPv4 or IPv6 socket address, in host order. */
static int __attribute__((unused))
port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* Read temporary file f from its start into buf (NUL-terminated), close. */
static void __attribute__((unused))
tmpfile_read(FILE *f, char *buf, size_t len)
{
	size_t	n;

	rewind(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

#endif
