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

#define SSH_RSA_HINT \
	"libssh2 1.10 cannot do rsa-sha2-256/512 (OpenSSH >= 8.8 refuses " \
	"ssh-rsa): use an ed25519 key, or build mrsh with libssh2 >= 1.11"

struct _LIBSSH2_SESSION;
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
 * and label (the host, for messages) must outlive it.
 */
struct ssh_auth *ssh_auth_new(struct _LIBSSH2_SESSION *,
	    const struct ssh_host_config *hc, struct ssh_keyring *keys,
	    const char *password, const char *label);

/* Go as far as possible without blocking; repeat on SSH_AUTH_AGAIN. */
enum ssh_auth_status ssh_auth_step(struct ssh_auth *, enum fail_kind *kind,
	    char *why, size_t whylen);

/* Free it (and close the agent); before the libssh2 session is freed. */
void	ssh_auth_free(struct ssh_auth *);

#endif
