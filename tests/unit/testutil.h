/*
 * Scaffolding shared by the unit tests that use real sockets on loopback:
 * a private network namespace, 127.0.0.1 addresses, listeners and bound
 * client connections, and writing and reading back temporary files. Include after "config.h" (for _GNU_SOURCE: unshare()).
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
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Write string s to file path: 0, or -1. */
static int __attribute__((unused))
write_file(const char *path, const char *s)
{
	FILE	*f;
	int	 r;

	if ((f = fopen(path, "w")) == NULL)
		return -1;
	r = fputs(s, f) < 0;
	return (fclose(f) != 0 || r) ? -1 : 0;
}

/* A whole file, NUL-terminated (malloc'd), its length in *len; or NULL. */
static __attribute__((unused)) char *
read_file(const char *path, size_t *len)
{
	FILE	*fp;
	char	*buf;
	long	 n;

	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	if (fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 ||
	    (buf = calloc(1, (size_t)n + 1)) == NULL) {
		fclose(fp);
		return NULL;
	}
	rewind(fp);
	*len = fread(buf, 1, (size_t)n, fp);
	fclose(fp);
	return buf;
}

/*
 * Enter a private network namespace with lo up: 0, or -1. Root makes one
 * directly; anyone else through a user namespace of their own (uid and
 * gid mapped to 0 in it), where the kernel allows that.
 */
static int __attribute__((unused))
netns_enter(void)
{
	struct ifreq	ifr;
	char		map[64];
	uid_t		uid = geteuid();
	gid_t		gid = getegid();
	int		fd, r;

	if (unshare(CLONE_NEWNET) != 0) {
		if (unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0)
			return -1;
		snprintf(map, sizeof map, "0 %lu 1\n", (unsigned long)uid);
		if (write_file("/proc/self/uid_map", map) != 0)
			return -1;
		if (write_file("/proc/self/setgroups", "deny") != 0)
			return -1;
		snprintf(map, sizeof map, "0 %lu 1\n", (unsigned long)gid);
		if (write_file("/proc/self/gid_map", map) != 0)
			return -1;
	}
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

/*
 * Two consecutive TCP ports that nobody holds on 127.0.0.1 right now (the
 * first from the kernel's choice for port 0): the first, or -1.
 */
static int __attribute__((unused))
free_port_pair(void)
{
	int	fd, fd2, p, tries;

	for (tries = 0; tries < 100; tries++) {
		if ((fd = listen4(0, &p)) == -1)
			return -1;
		close(fd);
		if (p >= 65535)
			continue;
		if ((fd = listen4(p, NULL)) == -1)
			continue;
		fd2 = listen4(p + 1, NULL);
		close(fd);
		if (fd2 != -1) {
			close(fd2);
			return p;
		}
	}
	return -1;
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
