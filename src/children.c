/*
 * The child-process table: pid -> callback for every local child the run
 * started (-R exec commands, ProxyCommand). children_reap() collects every
 * exited child with waitpid(WNOHANG) and hands each status to its owner;
 * a pid nobody watches (a subprocess reaped elsewhere) is passed over.
 * Open addressing, as thousands of children may run at once.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdlib.h>

#include "mrsh/children.h"
#include "mrsh/xmalloc.h"

struct childent {
	pid_t		 pid;	/* 0 empty, -1 deleted */
	children_cb	 cb;
	void		*arg;
};

struct children {
	struct childent	*v;
	size_t		 cap;
	size_t		 used;	/* live + deleted */
};

struct children *
children_new(void)
{
	return xcalloc(1, sizeof (struct children));
}

void
children_free(struct children *m)
{
	if (m == NULL)
		return;
	free(m->v);
	free(m);
}

static size_t
children_slot(const struct children *m, pid_t pid)
{
	return ((size_t)pid * 2654435761u) & (m->cap - 1);
}

void
children_watch(struct children *m, pid_t pid, children_cb cb, void *arg)
{
	struct childent *old;
	size_t i, oldcap;

	if ((m->used + 1) * 2 > m->cap) {
		old = m->v;
		oldcap = m->cap;
		m->cap = m->cap == 0 ? 64 : m->cap * 2;
		m->v = xcalloc(m->cap, sizeof *m->v);
		m->used = 0;
		for (i = 0; i < oldcap; i++) {
			if (old[i].pid > 0)
				children_watch(m, old[i].pid, old[i].cb,
				    old[i].arg);
		}
		free(old);
	}
	i = children_slot(m, pid);
	while (m->v[i].pid > 0)
		i = (i + 1) & (m->cap - 1);
	if (m->v[i].pid == 0)
		m->used++;
	m->v[i].pid = pid;
	m->v[i].cb = cb;
	m->v[i].arg = arg;
}

static struct childent *
children_get(struct children *m, pid_t pid)
{
	size_t i;

	if (m->cap == 0)
		return NULL;
	i = children_slot(m, pid);
	while (m->v[i].pid != 0) {
		if (m->v[i].pid == pid)
			return &m->v[i];
		i = (i + 1) & (m->cap - 1);
	}
	return NULL;
}

void
children_reap(struct children *m)
{
	struct childent *e;
	children_cb cb;
	void *cbarg;
	pid_t pid;
	int status;

	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid <= 0) {
			if (pid < 0 && errno == EINTR)
				continue;
			break;
		}
		if ((e = children_get(m, pid)) == NULL)
			continue;
		cb = e->cb;
		cbarg = e->arg;
		e->pid = -1;
		cb(pid, status, cbarg);
	}
}
