/*
 * User authentication for the ssh transport, once the handshake is done
 * and the host key trusted: the server's accepted methods, then agent
 * keys, key files, and with --askpass password and keyboard-interactive.
 * Each attempt is a non-blocking libssh2 call repeated on EAGAIN; a
 * refusal ends in one line that says what was tried.
 */
#ifndef MRSH_SSH_AUTH_H
#define MRSH_SSH_AUTH_H

#include <stddef.h>

#include "mrsh/session.h"

#include <libssh2.h>

/*
 * libssh2 >= 1.11 signs and verifies RSA with SHA-2 (rsa-sha2-512/256), as
 * OpenSSH >= 8.8 requires; 1.10 has only ssh-rsa (SHA-1).
 */
#if LIBSSH2_VERSION_NUM >= 0x010b00
#define SSH_HAVE_RSA_SHA2	1
#endif
#define SSH_RSA_HINT \
	"libssh2 1.10 cannot do rsa-sha2-256/512 (OpenSSH >= 8.8 refuses " \
	"ssh-rsa): use an ed25519 key, or build mrsh with libssh2 >= 1.11 " \
	"(contrib/build-libssh2.sh)"

struct _LIBSSH2_SESSION;
struct event_base;
struct ssh_host_config;
struct ssh_keyring;
struct ssh_auth;

enum ssh_auth_status {
	SSH_AUTH_AGAIN = 0,	/* wait for libssh2's block directions */
	SSH_AUTH_DONE,		/* authenticated */
	SSH_AUTH_FAILED		/* *kind and why say how */
};

/*
 * Authentication for one session. hc, keys, password (--askpass or NULL)
 * and label (the host, for messages) must outlive it. The ssh-agent is
 * asked on base without blocking (ssh_agent.h), and must answer within
 * SSH_AGENT_TIMEOUT or half the session's connect_timeout (0: none);
 * kick(kick_arg) is called when it answered: call ssh_auth_step again.
 */
struct ssh_auth *ssh_auth_new(struct _LIBSSH2_SESSION *,
	    const struct ssh_host_config *hc, struct ssh_keyring *keys,
	    const char *password, const char *label, struct event_base *base,
	    double connect_timeout, void (*kick)(void *), void *kick_arg);

/* Go as far as possible without blocking; repeat on SSH_AUTH_AGAIN. */
enum ssh_auth_status ssh_auth_step(struct ssh_auth *, enum fail_kind *kind,
	    char *why, size_t whylen);

/*
 * Waiting for the agent, not for the server: the session's fd need not be
 * watched (a read there would find nothing for libssh2 to do).
 */
int	ssh_auth_waiting(const struct ssh_auth *);

/* Free it (and close the agent); before the libssh2 session is freed. */
void	ssh_auth_free(struct ssh_auth *);

#endif
