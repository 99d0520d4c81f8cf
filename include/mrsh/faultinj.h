/*
 * Fault injection under libssh2, for the tests only: the socket calls
 * libssh2 makes for a session (its recv and send callbacks) say EAGAIN or
 * move fewer bytes than asked, on a schedule the environment variable
 * MRSH_FAULT gives, so that the paths a loopback sshd never takes do run
 * in the suite (src/faultinj.c has the syntax; tests/integration/
 * t0604-fault-injection.sh uses it).
 *
 * Compiled in only with configure --enable-fault-injection, which
 * --enable-sanitizers turns on; a release build has neither the code nor
 * the variable's name, and these calls are empty there.
 */
#ifndef MRSH_FAULTINJ_H
#define MRSH_FAULTINJ_H

#ifdef MRSH_FAULT_INJECTION

#include <sys/types.h>

#include <libssh2.h>

/* The transport's own recv callback, which the injector calls on. */
typedef ssize_t faultinj_recv_fn(libssh2_socket_t, void *, size_t, int,
    void **);

/*
 * After the transport set its callbacks on a new session whose abstract
 * pointer is arg: when MRSH_FAULT is set, put the injector in front of
 * recv (calling recv_cb for the bytes it lets through) and send.
 */
void	faultinj_install(LIBSSH2_SESSION *, void *arg, faultinj_recv_fn *);
/* The session of abstract pointer arg began its graceful cleanup. */
void	faultinj_closing(void *arg);

#else

#define faultinj_install(ssh, arg, recv_cb)	do { } while (0)
#define faultinj_closing(arg)			do { } while (0)

#endif

#endif
