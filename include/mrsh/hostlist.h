/*
 * Host lists: the pdsh/clush range syntax (node[01-10,15], r[1-2]n[1-3],
 * n[1-3]-ib, ^FILE), host files, exclusion and range compression for output.
 *
 * An entry is [user@]host[:port]; an IPv6 address with a port is written
 * [v6addr]:port (a bare v6 address without brackets has no port).
 */
#ifndef MRSH_HOSTLIST_H
#define MRSH_HOSTLIST_H

#include <stddef.h>

/* Largest number of hosts one range expression may produce. */
#define HOSTLIST_MAX_EXPAND	1000000

struct host {
	char	*name;		/* host name or address, no brackets */
	char	*user;		/* NULL: default user */
	int	 port;		/* 0: transport default */
	char	*label;		/* what output shows: the entry as written
				   without user@ (host or host:port) */
};

struct hostlist {
	struct host	*hosts;
	size_t		 n;
	size_t		 cap;
};

void	hostlist_init(struct hostlist *);
void	hostlist_free(struct hostlist *);

/*
 * Add the entries of a -w style expression (comma separated, ranges,
 * ^FILE). Returns 0, or -1 with a one-line message in err (naming the
 * offending text, or file:line) on bad input.
 */
int	hostlist_add_expr(struct hostlist *, const char *expr, char *err,
	    size_t errlen);
/*
 * "@NAME" entries are node groups: the resolver appends NAME's hosts to the
 * list, or returns -1 with a one-line message in err. Set by the groups
 * module; without one, "@NAME" is an error.
 */
typedef int (*hostlist_group_fn)(const char *name, struct hostlist *,
	    char *err, size_t errlen);
void	hostlist_set_group_resolver(hostlist_group_fn);

/* Add a host file (one entry per line, # comments, blank lines); "-" = stdin. */
int	hostlist_add_file(struct hostlist *, const char *path, char *err,
	    size_t errlen);
/* Parse one [user@]host[:port] entry (no ranges). */
int	hostlist_parse_entry(const char *entry, struct host *out, char *err,
	    size_t errlen);
/* 1 if ssh would take s as a user name on its command line. */
int	hostlist_valid_user(const char *s);
/* Free the strings of one host (as filled by hostlist_parse_entry). */
void	hostlist_free_host(struct host *);
/* Remove every host of excl (matched on name, and on user/port if given). */
void	hostlist_exclude(struct hostlist *, const struct hostlist *excl);
/* Remove duplicates (same user, name and port), keeping the first. */
void	hostlist_uniq(struct hostlist *);

/*
 * Compress names into pdsh range form: node01,node02,node03,node05 ->
 * "node[01-03,05]". Names are grouped by prefix/suffix around the last run of
 * digits; zero padding is kept; order of first appearance of each group.
 * Returns an allocated string.
 */
char	*hostlist_compress(const char *const *names, size_t n);

#endif
