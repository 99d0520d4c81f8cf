/*
 * --stats: per-run counters and timing percentiles, printed on stderr at
 * the end: sessions, how connections were closed, TIME_WAIT left on this
 * machine (read from the kernel), p50/p95/max of connect, setup, command and
 * close times, and the port pool's counters.
 */
#ifndef MRSH_STATS_H
#define MRSH_STATS_H

#include <stdio.h>

struct run;
struct session;

struct stats *stats_new(void);
void	stats_free(struct stats *);
/* Record a finished session's timings and close kind. */
void	stats_session(struct stats *, const struct session *);
/* Count TIME_WAIT in the kernel at start (to subtract later). */
void	stats_start(struct stats *, struct run *);
void	stats_print(struct stats *, struct run *, FILE *);

#endif
