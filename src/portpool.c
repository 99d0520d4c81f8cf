/*
 * The tracked source-port pool (DESIGN.md "Source ports").
 *
 * Every port of the range is free, in use by this run, held by another
 * program (found at seeding or by a bind() EADDRINUSE; re-checked after
 * POOL_FOREIGN_RECHECK seconds), and independently of that may cool towards
 * any number of destinations until a time. A TIME_WAIT 4-tuple blocks only
 * its own destination, so a port cooling towards host A still serves host B
 * (we bind with SO_REUSEADDR).
 *
 * Free ports sit on a queue in least-recently-released order: a released
 * port goes to the tail, so recently used ports rest the longest. Cooling
 * entries live in the program's hash table (htab.c) keyed by (port,
 * destination), so "may port P go to D?" is O(1); a min-heap of expiry times drops them lazily at the
 * start of every operation and answers portpool_next_expiry() at once.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mrsh/htab.h"
#include "mrsh/log.h"
#include "mrsh/portpool.h"
#include "mrsh/sockdiag.h"
#include "mrsh/xmalloc.h"

/* Seconds a port held by another program rests before it is tried again. */
#define POOL_FOREIGN_RECHECK	5.0
/* TIME_WAIT length on Linux (2 * MSL, fixed at 60 s). */
#define POOL_TIME_WAIT		60.0
/* foreign_until of a port marked without a clock; stamped on next use. */
#define POOL_UNSTAMPED		(-1.0)

/* A destination, address family + address + port, ready to hash. */
struct pool_dst {
	uint16_t	family;
	uint16_t	port;
	uint8_t		addr[16];
};

/* One (port, destination) cooling entry. */
struct pool_cool {
	struct pool_dst		 dst;
	int			 port;
	double			 until;
	uint64_t		 hash;		/* of (port, dst) */
	u_int			 refs;		/* heap items pointing here */
	int			 live;		/* still in the hash table */
};

/* Heap item: a cooling entry's or a foreign port's expiry. */
struct pool_expiry {
	double			 until;
	struct pool_cool	*cool;		/* NULL: foreign port */
	int			 port;
};

struct pool_port {
	TAILQ_ENTRY(pool_port)	 entry;		/* free queue */
	int			 on_free;
	int			 in_use;
	int			 ever_used;
	int			 seen_foreign;
	double			 foreign_until;	/* 0: not held by others */
};
TAILQ_HEAD(pool_free_q, pool_port);

struct portpool {
	int			 lo;
	int			 hi;
	size_t			 nports;
	struct pool_port	*ports;
	struct pool_free_q	 freeq;
	size_t			 in_use;
	size_t			 unstamped;	/* ports at POOL_UNSTAMPED */

	struct htab		 cool;		/* live pool_cool entries */
	size_t			 ncool;

	struct pool_expiry	*heap;
	size_t			 nheap;
	size_t			 heapalloc;

	struct portpool_stats	 st;
};

static int
pool_has(struct portpool *pp, int port)
{
	return port >= pp->lo && port <= pp->hi;
}

static struct pool_port *
pool_get(struct portpool *pp, int port)
{
	return &pp->ports[port - pp->lo];
}

/* Fill a destination key; IPv4-mapped IPv6 addresses become IPv4. */
static void
pool_dst_make(struct pool_dst *d, const struct sockaddr *sa, socklen_t len)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	memset(d, 0, sizeof *d);
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET && len >= sizeof *sin) {
		sin = (const struct sockaddr_in *)sa;
		d->family = AF_INET;
		d->port = ntohs(sin->sin_port);
		memcpy(d->addr, &sin->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6 && len >= sizeof *sin6) {
		sin6 = (const struct sockaddr_in6 *)sa;
		d->port = ntohs(sin6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			d->family = AF_INET;
			memcpy(d->addr, &sin6->sin6_addr.s6_addr[12], 4);
		} else {
			d->family = AF_INET6;
			memcpy(d->addr, &sin6->sin6_addr, 16);
		}
	}
}

static int
pool_dst_eq(const struct pool_dst *a, const struct pool_dst *b)
{
	return memcmp(a, b, sizeof *a) == 0;
}

/* The hash of (port, destination). */
static uint64_t
pool_hash(int port, const struct pool_dst *d)
{
	uint8_t	pb[2] = { (uint8_t)(port & 0xff), (uint8_t)(port >> 8) };

	return htab_hash(htab_hash(HTAB_HASH_INIT, pb, sizeof pb), d,
	    sizeof *d);
}

static int
pool_cool_eq(const void *entry, const void *key)
{
	const struct pool_cool	*c = entry, *k = key;

	return c->port == k->port && pool_dst_eq(&c->dst, &k->dst);
}

static struct pool_cool *
pool_cool_find(struct portpool *pp, int port, const struct pool_dst *d)
{
	struct pool_cool	key;

	key.port = port;
	key.dst = *d;
	return htab_find(&pp->cool, pool_hash(port, d), pool_cool_eq, &key);
}

static void
pool_heap_push(struct portpool *pp, double until, struct pool_cool *c,
    int port)
{
	struct pool_expiry	 e = { until, c, port };
	size_t			 i, parent;

	if (pp->nheap == pp->heapalloc) {
		pp->heapalloc = pp->heapalloc ? pp->heapalloc * 2 : 64;
		pp->heap = xreallocarray(pp->heap, pp->heapalloc,
		    sizeof *pp->heap);
	}
	i = pp->nheap++;
	while (i > 0) {
		parent = (i - 1) / 2;
		if (pp->heap[parent].until <= until)
			break;
		pp->heap[i] = pp->heap[parent];
		i = parent;
	}
	pp->heap[i] = e;
	if (c != NULL)
		c->refs++;
}

static struct pool_expiry
pool_heap_pop(struct portpool *pp)
{
	struct pool_expiry	 top = pp->heap[0], last;
	size_t			 i = 0, child;

	last = pp->heap[--pp->nheap];
	for (;;) {
		child = 2 * i + 1;
		if (child >= pp->nheap)
			break;
		if (child + 1 < pp->nheap &&
		    pp->heap[child + 1].until < pp->heap[child].until)
			child++;
		if (pp->heap[child].until >= last.until)
			break;
		pp->heap[i] = pp->heap[child];
		i = child;
	}
	if (pp->nheap > 0)
		pp->heap[i] = last;
	return top;
}

/* Give ports marked without a clock their re-check time. */
static void
pool_stamp(struct portpool *pp, double now)
{
	size_t	i;

	if (pp->unstamped == 0)
		return;
	for (i = 0; i < pp->nports; i++) {
		if (pp->ports[i].foreign_until == POOL_UNSTAMPED) {
			pp->ports[i].foreign_until = now + POOL_FOREIGN_RECHECK;
			pool_heap_push(pp, pp->ports[i].foreign_until, NULL,
			    pp->lo + (int)i);
		}
	}
	pp->unstamped = 0;
}

/* Drop every cooling entry and foreign mark whose time has come. */
static void
pool_expire(struct portpool *pp, double now)
{
	struct pool_expiry	 e;
	struct pool_port	*p;
	struct pool_cool	*c;

	pool_stamp(pp, now);
	while (pp->nheap > 0 && pp->heap[0].until <= now) {
		e = pool_heap_pop(pp);
		if ((c = e.cool) == NULL) {
			p = pool_get(pp, e.port);
			if (p->foreign_until > 0 && p->foreign_until <= now)
				p->foreign_until = 0;
			continue;
		}
		c->refs--;
		if (c->live && c->until <= now) {
			htab_remove(&pp->cool, c->hash, c);
			c->live = 0;
			pp->ncool--;
		}
		if (!c->live && c->refs == 0)
			free(c);
	}
}

/* Port cools towards d until the given time (later times win). */
static void
pool_cool_add(struct portpool *pp, int port, const struct pool_dst *d,
    double until)
{
	struct pool_cool	*c;

	if ((c = pool_cool_find(pp, port, d)) != NULL) {
		if (until > c->until) {
			c->until = until;
			pool_heap_push(pp, until, c, port);
		}
		return;
	}
	c = xcalloc(1, sizeof *c);
	c->dst = *d;
	c->port = port;
	c->until = until;
	c->hash = pool_hash(port, d);
	c->live = 1;
	htab_insert(&pp->cool, c->hash, c);
	pp->ncool++;
	pool_heap_push(pp, until, c, port);
}

static int
pool_cooling(struct portpool *pp, int port, const struct pool_dst *d,
    double now)
{
	struct pool_cool	*c;

	c = pool_cool_find(pp, port, d);
	return c != NULL && c->until > now;
}

static int
pool_foreign(struct pool_port *p, double now)
{
	return p->foreign_until == POOL_UNSTAMPED || p->foreign_until > now;
}

static void
pool_mark_foreign(struct portpool *pp, int port, double until)
{
	struct pool_port	*p = pool_get(pp, port);

	if (until > p->foreign_until) {
		p->foreign_until = until;
		pool_heap_push(pp, until, NULL, port);
	}
}

struct portpool *
portpool_new(int lo, int hi)
{
	struct portpool	*pp;
	size_t		 i;

	if (lo < 1 || hi > 65535 || lo > hi) {
		errno = EINVAL;
		return NULL;
	}
	pp = xcalloc(1, sizeof *pp);
	pp->lo = lo;
	pp->hi = hi;
	pp->nports = (size_t)(hi - lo + 1);
	pp->ports = xcalloc(pp->nports, sizeof *pp->ports);
	TAILQ_INIT(&pp->freeq);
	for (i = 0; i < pp->nports; i++) {
		TAILQ_INSERT_TAIL(&pp->freeq, &pp->ports[i], entry);
		pp->ports[i].on_free = 1;
	}
	htab_init(&pp->cool, 256);
	pp->st.ports = pp->nports;
	return pp;
}

void
portpool_free(struct portpool *pp)
{
	struct pool_cool	*c;
	size_t			 i;

	if (pp == NULL)
		return;
	for (i = 0; (c = htab_next(&pp->cool, &i)) != NULL; ) {
		c->live = 0;
		if (c->refs == 0)
			free(c);
	}
	htab_free(&pp->cool);
	/* Entries still referenced by the heap: free each on its last item. */
	for (i = 0; i < pp->nheap; i++) {
		if ((c = pp->heap[i].cool) != NULL && --c->refs == 0)
			free(c);
	}
	free(pp->heap);
	free(pp->ports);
	free(pp);
}

/* sockdiag callback for portpool_seed_kernel. */
struct pool_seed {
	struct portpool	*pp;
	double		 now;
	size_t		 timewait;
	size_t		 held;
};

static int
pool_seed_cb(const struct sockdiag_entry *se, void *arg)
{
	struct pool_seed	*ps = arg;
	struct portpool		*pp = ps->pp;
	struct pool_port	*p;
	struct pool_dst		 d;
	socklen_t		 len;
	double			 secs;
	int			 port;

	port = sockdiag_port(&se->local);
	if (!pool_has(pp, port))
		return 0;
	/*
	 * TIME_WAIT, or an orphan (no process holds it: inode 0) closing on
	 * its way there, blocks only its own 4-tuple.
	 */
	if (se->state == TCP_TIME_WAIT ||
	    (se->inode == 0 && se->state != TCP_LISTEN)) {
		len = se->remote.ss_family == AF_INET ?
		    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
		pool_dst_make(&d, (const struct sockaddr *)&se->remote, len);
		secs = se->state == TCP_TIME_WAIT && se->timer_ms > 0 ?
		    se->timer_ms / 1000.0 : POOL_TIME_WAIT;
		pool_cool_add(pp, port, &d, ps->now + secs);
		ps->timewait++;
		return 0;
	}
	/* Listening, connected, closing: held by another program. */
	p = pool_get(pp, port);
	if (!p->seen_foreign) {
		p->seen_foreign = 1;
		pp->st.foreign++;
	}
	pool_mark_foreign(pp, port, ps->now + POOL_FOREIGN_RECHECK);
	ps->held++;
	return 0;
}

int
portpool_seed_kernel(struct portpool *pp, double now)
{
	struct pool_seed	ps = { pp, now, 0, 0 };

	pool_expire(pp, now);
	if (sockdiag_foreach(pool_seed_cb, &ps) != 0)
		return -1;
	debug("ports %d-%d: %zu TIME_WAIT, %zu sockets of other programs",
	    pp->lo, pp->hi, ps.timewait, ps.held);
	return 0;
}

static void
pool_take(struct portpool *pp, struct pool_port *p)
{
	TAILQ_REMOVE(&pp->freeq, p, entry);
	p->on_free = 0;
	p->in_use = 1;
	pp->in_use++;
	if (!p->ever_used) {
		p->ever_used = 1;
		pp->st.used++;
	}
}

/* Bind fd to port on the wildcard address of dst's family. */
static int
pool_bind_one(int fd, int family, int port)
{
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;

	if (family == AF_INET6) {
		memset(&sin6, 0, sizeof sin6);
		sin6.sin6_family = AF_INET6;
		sin6.sin6_addr = in6addr_any;
		sin6.sin6_port = htons((uint16_t)port);
		return bind(fd, (struct sockaddr *)&sin6, sizeof sin6);
	}
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	sin.sin_port = htons((uint16_t)port);
	return bind(fd, (struct sockaddr *)&sin, sizeof sin);
}

int
portpool_bind(struct portpool *pp, int fd, const struct sockaddr *dst,
    socklen_t dstlen, double now)
{
	struct pool_port	*p, *next;
	struct pool_dst		 d;
	int			 one = 1, port;

	pool_expire(pp, now);
	pool_dst_make(&d, dst, dstlen);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
		return -1;
	for (p = TAILQ_FIRST(&pp->freeq); p != NULL; p = next) {
		next = TAILQ_NEXT(p, entry);
		port = pp->lo + (int)(p - pp->ports);
		if (pool_foreign(p, now) || pool_cooling(pp, port, &d, now))
			continue;
		if (pool_bind_one(fd, dst->sa_family, port) == 0) {
			pool_take(pp, p);
			debug2("port %d bound", port);
			return port;
		}
		if (errno != EADDRINUSE)
			return -1;
		debug("port %d: bind: address in use, skipping it", port);
		/*
		 * A port already known to be held (seen at start, re-checked
		 * now) costs a failed bind(), not a connection: not a retry.
		 */
		if (!p->seen_foreign) {
			p->seen_foreign = 1;
			pp->st.foreign++;
			pp->st.retries++;
		}
		pool_mark_foreign(pp, port, now + POOL_FOREIGN_RECHECK);
	}
	errno = EAGAIN;
	return -1;
}

/* Back on the free queue (tail: least recently used first). */
static void
pool_put(struct portpool *pp, struct pool_port *p)
{
	if (p->in_use) {
		p->in_use = 0;
		pp->in_use--;
	}
	if (!p->on_free) {
		TAILQ_INSERT_TAIL(&pp->freeq, p, entry);
		p->on_free = 1;
	}
}

void
portpool_conflict(struct portpool *pp, int port, const struct sockaddr *dst,
    socklen_t dstlen, double now)
{
	struct pool_dst	d;

	if (!pool_has(pp, port))
		return;
	pool_expire(pp, now);
	pool_dst_make(&d, dst, dstlen);
	pool_cool_add(pp, port, &d, now + POOL_TIME_WAIT);
	pool_put(pp, pool_get(pp, port));
	pp->st.retries++;
	debug("port %d busy towards that destination, trying another", port);
}

void
portpool_release(struct portpool *pp, int port, const struct sockaddr *dst,
    socklen_t dstlen, double cool_secs, double now)
{
	struct pool_dst	d;

	if (!pool_has(pp, port))
		return;
	pool_expire(pp, now);
	if (cool_secs > 0 && dst != NULL) {
		pool_dst_make(&d, dst, dstlen);
		pool_cool_add(pp, port, &d, now + cool_secs);
	}
	pool_put(pp, pool_get(pp, port));
}

void
portpool_describe(struct portpool *pp, const struct sockaddr *dst,
    socklen_t dstlen, double now, size_t *total, size_t *in_use,
    size_t *cooling_dst)
{
	struct pool_dst	d;
	size_t		i, busy = 0, cool = 0;
	int		port;

	pool_expire(pp, now);
	pool_dst_make(&d, dst, dstlen);
	for (i = 0; i < pp->nports; i++) {
		port = pp->lo + (int)i;
		if (pp->ports[i].in_use || pool_foreign(&pp->ports[i], now))
			busy++;
		else if (pool_cooling(pp, port, &d, now))
			cool++;
	}
	if (total != NULL)
		*total = pp->nports;
	if (in_use != NULL)
		*in_use = busy;
	if (cooling_dst != NULL)
		*cooling_dst = cool;
}

size_t
portpool_explain(struct portpool *pp, const struct sockaddr *dst,
    socklen_t dstlen, double now, char *buf, size_t len)
{
	struct pool_dst	d;
	char		addr[INET6_ADDRSTRLEN], where[INET6_ADDRSTRLEN + 16];
	size_t		i, total, busy, cool, foreign = 0;
	int		n;

	portpool_describe(pp, dst, dstlen, now, &total, &busy, &cool);
	for (i = 0; i < pp->nports; i++) {
		if (!pp->ports[i].in_use && pool_foreign(&pp->ports[i], now))
			foreign++;
	}
	pool_dst_make(&d, dst, dstlen);
	if (d.family == AF_INET6) {
		inet_ntop(AF_INET6, d.addr, addr, sizeof addr);
		snprintf(where, sizeof where, "[%s]:%u", addr, d.port);
	} else if (d.family == AF_INET) {
		inet_ntop(AF_INET, d.addr, addr, sizeof addr);
		snprintf(where, sizeof where, "%s:%u", addr, d.port);
	} else
		snprintf(where, sizeof where, "the destination");
	if (foreign > 0) {
		n = snprintf(buf, len, "no source port free in %d-%d: "
		    "%zu ports, %zu in use (%zu by other programs), "
		    "%zu cooling towards %s", pp->lo, pp->hi, total, busy,
		    foreign, cool, where);
	} else {
		n = snprintf(buf, len, "no source port free in %d-%d: "
		    "%zu ports, %zu in use, %zu cooling towards %s",
		    pp->lo, pp->hi, total, busy, cool, where);
	}
	return n < 0 ? 0 : (size_t)n;
}

void
portpool_get_stats(struct portpool *pp, struct portpool_stats *st)
{
	*st = pp->st;
	st->in_use = pp->in_use;
	st->cooling = pp->ncool;
}

void
portpool_count_wait(struct portpool *pp)
{
	pp->st.waits++;
}

double
portpool_next_expiry(struct portpool *pp, double now)
{
	struct pool_expiry	*top, e;

	pool_expire(pp, now);
	/* Skip heap items already superseded (extended marks). */
	while (pp->nheap > 0) {
		top = &pp->heap[0];
		if (top->cool != NULL ? (top->cool->live &&
		    top->cool->until == top->until) :
		    pool_get(pp, top->port)->foreign_until == top->until)
			return top->until - now;
		e = pool_heap_pop(pp);
		if (e.cool != NULL && --e.cool->refs == 0 && !e.cool->live)
			free(e.cool);
	}
	return -1;
}

void
portpool_mark_inuse_foreign(struct portpool *pp, int port)
{
	struct pool_port	*p;

	if (!pool_has(pp, port))
		return;
	p = pool_get(pp, port);
	if (!p->seen_foreign) {
		p->seen_foreign = 1;
		pp->st.foreign++;
	}
	if (p->foreign_until != POOL_UNSTAMPED) {
		p->foreign_until = POOL_UNSTAMPED;
		pp->unstamped++;
	}
}

void
portpool_mark_cooling(struct portpool *pp, int port,
    const struct sockaddr *dst, socklen_t dstlen, double until)
{
	struct pool_dst	d;

	if (!pool_has(pp, port))
		return;
	pool_dst_make(&d, dst, dstlen);
	pool_cool_add(pp, port, &d, until);
}

/* Lowest port an unprivileged process may bind in this network namespace. */
static int
pool_unprivileged_start(void)
{
	FILE	*f;
	int	 v = 1024;

	if ((f = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start",
	    "r")) == NULL)
		return 1024;
	if (fscanf(f, "%d", &v) != 1)
		v = 1024;
	fclose(f);
	return v;
}

int
portpool_can_bind_reserved(void)
{
	FILE			*f;
	char			 line[256];
	unsigned long long	 caps;
	int			 found = 0, can = 0;

	if (pool_unprivileged_start() <= 512)
		return 1;
	if ((f = fopen("/proc/self/status", "r")) == NULL)
		return geteuid() == 0;
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "CapEff: %llx", &caps) == 1) {
			found = 1;
			/* CAP_NET_BIND_SERVICE is capability 10. */
			can = (caps >> 10) & 1;
			break;
		}
	}
	fclose(f);
	if (!found)
		return geteuid() == 0;
	return can;
}
