/*
 * The tracked source-port pool (DESIGN.md "Source ports"). Each port is
 * free, in use, or cooling towards a destination until a time. A port that
 * cools towards host A can still serve host B. Seeded from the kernel's
 * view (sockdiag.h) so back-to-back runs do not collide.
 *
 * With --ports ephemeral there is no pool (run->pool == NULL) and the kernel
 * picks.
 */
#ifndef MRSH_PORTPOOL_H
#define MRSH_PORTPOOL_H

#include <sys/socket.h>
#include <stddef.h>

struct portpool;

struct portpool_stats {
	size_t	ports;		/* size of the range */
	size_t	in_use;		/* now */
	size_t	cooling;	/* entries not yet expired, all destinations */
	size_t	used;		/* distinct ports handed out this run */
	size_t	retries;	/* bind/connect address errors retried */
	size_t	waits;		/* times a session had to wait for a port */
	size_t	foreign;	/* ports found held by others (seeding, bind) */
};

struct portpool *portpool_new(int lo, int hi);
void	portpool_free(struct portpool *);

/* Seed from the kernel (TIME_WAIT per destination, ports in use). */
int	portpool_seed_kernel(struct portpool *, double now);

/*
 * Bind fd to a free port of the range usable towards dst (SO_REUSEADDR is
 * set so a port cooling towards another destination can be reused).
 * Returns the port, or -1 with errno EAGAIN when no port is usable now
 * (the caller waits: session_wait_port_for()), or another errno on real errors.
 * Ports that fail bind with EADDRINUSE are marked and skipped.
 */
int	portpool_bind(struct portpool *, int fd, const struct sockaddr *dst,
	    socklen_t dstlen, double now);

/*
 * connect() said EADDRNOTAVAIL/EADDRINUSE: mark (port, dst) cooling for
 * 60 s, count a retry. The port goes back to the pool (no longer in use);
 * a later portpool_release() of it is harmless.
 */
void	portpool_conflict(struct portpool *, int port,
	    const struct sockaddr *dst, socklen_t dstlen, double now);

/*
 * Port no longer in use. cool_secs > 0: it cools towards dst until
 * now + cool_secs (we closed first; TIME_WAIT is ours); 0: free at once.
 */
void	portpool_release(struct portpool *, int port,
	    const struct sockaddr *dst, socklen_t dstlen, double cool_secs,
	    double now);

/*
 * Counts for an error message: in use (by this run or by other programs),
 * cooling towards dst (and not in use).
 */
void	portpool_describe(struct portpool *, const struct sockaddr *dst,
	    socklen_t dstlen, double now, size_t *total, size_t *in_use,
	    size_t *cooling_dst);
/*
 * The whole explanatory error, e.g. "no source port free in 40000-40015:
 * 16 ports, 10 in use, 6 cooling towards 127.0.1.3:22". Returns its length.
 */
size_t	portpool_explain(struct portpool *, const struct sockaddr *dst,
	    socklen_t dstlen, double now, char *buf, size_t len);
void	portpool_get_stats(struct portpool *, struct portpool_stats *);
void	portpool_count_wait(struct portpool *);

/* Seconds until the next cooling entry expires (-1 if none). */
double	portpool_next_expiry(struct portpool *, double now);

/* For unit tests: seed a known state without the kernel. */
void	portpool_mark_inuse_foreign(struct portpool *, int port);
void	portpool_mark_cooling(struct portpool *, int port,
	    const struct sockaddr *dst, socklen_t dstlen, double until);

/* May this process bind ports < 1024? (root or CAP_NET_BIND_SERVICE) */
int	portpool_can_bind_reserved(void);

#endif
