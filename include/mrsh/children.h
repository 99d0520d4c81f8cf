/*
 * The child-process table: the pids of the local children a run started
 * (-R exec commands, ProxyCommand), each with the callback that wants its
 * wait status. The run reaps on SIGCHLD through children_reap().
 */
#ifndef MRSH_CHILDREN_H
#define MRSH_CHILDREN_H

#include <sys/types.h>

struct children;

typedef void (*children_cb)(pid_t, int status, void *arg);

struct children *children_new(void);
void	children_free(struct children *);
/* Watch pid: cb gets its wait status once it has exited. */
void	children_watch(struct children *, pid_t, children_cb, void *arg);
/* Reap every exited child (waitpid, WNOHANG) and tell its owner. */
void	children_reap(struct children *);

#endif
