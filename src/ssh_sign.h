/*
 * Private to the ssh transport: a user key parsed once per run that signs
 * for libssh2_userauth_publickey(), instead of handing the key file to
 * libssh2_userauth_publickey_frommemory() for every host (which re-parses
 * it through OpenSSL's PEM decoders each time: measured at 44% of mrsh's
 * CPU per host). OpenSSH-format ed25519 and ECDSA keys, unencrypted (an
 * encrypted one is decrypted first, ssh_keyfmt.h); anything else falls
 * back to libssh2's parser.
 */
#ifndef MRSH_SSH_SIGN_H
#define MRSH_SSH_SIGN_H

#include <stddef.h>

#include <libssh2.h>

struct ssh_signer;

/* Parse an OpenSSH private key; NULL if it is not one we can sign with. */
struct ssh_signer *ssh_signer_new(const char *priv, size_t privlen);
void	ssh_signer_free(struct ssh_signer *);

/* The public key blob (string type, string key) for the userauth request. */
const unsigned char *ssh_signer_pubkey(const struct ssh_signer *,
	    size_t *len);

/* The libssh2 sign callback; *abstract is the struct ssh_signer. */
int	ssh_signer_sign(LIBSSH2_SESSION *, unsigned char **sig,
	    size_t *sig_len, const unsigned char *data, size_t data_len,
	    void **abstract);

#endif
