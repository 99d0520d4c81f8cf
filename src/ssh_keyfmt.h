/*
 * Private to the ssh transport: OpenSSH's private key file format
 * ("openssh-key-v1", PROTOCOL.key in OpenSSH): the armour (its fields
 * are read with mrsh/sshwire.h), and decryption of an encrypted key once
 * per run (bcrypt KDF; AES, 3DES or chacha20-poly1305 through libcrypto)
 * into the same key unencrypted, which ssh_sign.c parses or libssh2 reads
 * without a passphrase (so no KDF runs per host).
 */
#ifndef MRSH_SSH_KEYFMT_H
#define MRSH_SSH_KEYFMT_H

#include <stddef.h>
#include <stdint.h>

struct sshwire;

/*
 * The binary "openssh-key-v1" key between the armour lines of priv
 * (malloc'd, *rawlen bytes: zero and free it), with b just after its
 * magic; NULL if priv holds no such key.
 */
unsigned char *ssh_keyfmt_open(const char *priv, size_t privlen,
	    size_t *rawlen, struct sshwire *b);

enum ssh_keyfmt_status {
	SSH_KEYFMT_OK,
	SSH_KEYFMT_WRONG_PASSPHRASE,	/* check bytes or GCM tag differ */
	SSH_KEYFMT_UNSUPPORTED,		/* a KDF or cipher we do not do */
	SSH_KEYFMT_INVALID		/* not an encrypted openssh-key-v1 */
};

/*
 * Decrypt an encrypted openssh-key-v1 key text with passphrase. On
 * SSH_KEYFMT_OK, *out is the same key with cipher and KDF "none", as
 * armoured text (malloc'd, NUL-terminated, *outlen bytes) and what says
 * how it was encrypted ("bcrypt, 16 rounds, aes256-ctr"); otherwise what
 * says why not.
 */
enum ssh_keyfmt_status ssh_keyfmt_decrypt(const char *priv, size_t privlen,
	    const char *passphrase, char **out, size_t *outlen, char *what,
	    size_t whatlen);

#endif
