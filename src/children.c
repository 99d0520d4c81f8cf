/*
 * The child-process table: pid -> callback for every local child the run
 * started (-R exec commands, ProxyCommand). children_reap() collects every
 * exited child with waitpid(WNOHANG) and hands each status to its owner;
 * a pid nobody watches (a subprocess reaped elsewhere) is passed over.
 * The pids are in a hash table (htab.c): thousands may run at once.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "mrsh/children.h"
#include "mrsh/htab.h"
#include "mrsh/xmalloc.h"

struct childent {
	pid_t		 pid;
	children_cb	 cb;
	void		*arg;
};

struct children {
	struct htab	 pids;		/* childent by pid */
};

struct children *
children_new(void)
{
	return xcalloc(1, sizeof (struct children));
}

void
children_free(struct children *m)
{
	struct childent *e;
	size_t i = 0;

	if (m == NULL)
		return;
	while ((e = htab_next(&m->pids, &i)) != NULL)
		free(e);
	htab_free(&m->pids);
	free(m);
}

static uint64_t
children_hash(pid_t pid)
{
	return htab_hash(HTAB_HASH_INIT, &pid, sizeof pid);
}

static int
children_eq(const void *entry, const void *key)
{
	return ((const struct childent *)entry)->pid == *(const pid_t *)key;
}

void
children_watch(struct children *m, pid_t pid, children_cb cb, void *arg)
{
	struct childent *e;

	e = xmalloc(sizeof *e);
	e->pid = pid;
	e->cb = cb;
	e->arg = arg;
	htab_insert(&m->pids, children_hash(pid), e);
}

void
children_reap(struct children *m)
{
	struct childent *e;
	children_cb cb;
	void *cbarg;
	uint64_t hash;
	pid_t pid;
	int status;

	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid <= 0) {
			if (pid < 0 && errno == EINTR)
				continue;
			break;
		}
		hash = children_hash(pid);
		if ((e = htab_find(&m->pids, hash, children_eq, &pid)) == NULL)
			continue;
		cb = e->cb;
		cbarg = e->arg;
		htab_remove(&m->pids, hash, e);
		free(e);
		cb(pid, status, cbarg);
	}
}
