/*
 * Private to the ssh transport: user key files read once per run into
 * memory (with their .pub when present), the passphrase of an encrypted key
 * asked once on /dev/tty and the key decrypted once with it for every
 * host, and the tty prompt.
 */
#ifndef MRSH_SSH_KEYS_H
#define MRSH_SSH_KEYS_H

#include <stddef.h>

struct ssh_signer;

struct ssh_key {
	char		*path;
	char		*priv;		/* file contents, NUL-terminated */
	size_t		 privlen;
	char		*pub;		/* PATH.pub contents or NULL */
	char		*pubpath;	/* PATH.pub if it exists */
	size_t		 publen;
	int		 encrypted;
	int		 rsa;		/* an ssh-rsa key (libssh2 1.10: SHA-1) */
	unsigned char	*blob;		/* public key blob, or NULL */
	size_t		 bloblen;
	char		 desc[128];	/* "ED25519 SHA256:...", or "" */
	int		 pubonly;	/* a public key only: agent only */
	char		*passphrase;	/* NULL if not encrypted, decrypted */
	int		 decrypted;	/* priv is the decrypted key now */
	int		 unusable;	/* missing, unreadable, no passphrase */
	int		 priv_errno;	/* why PATH could not be read, or 0 */
	int		 warned;
	struct ssh_signer *signer;	/* parsed once (ssh_sign.c), or NULL */
	int		 signer_checked;
	struct ssh_key	*next;
};

struct ssh_keyring {
	struct ssh_key	*keys;
	int		 prompt_ok;	/* may ask on /dev/tty now */
	int		 batch;		/* this host has BatchMode yes */
};

/*
 * The key for path, read on first use. Never NULL; check ->unusable.
 * explicit = named by -i or IdentityFile (a missing file is reported).
 */
struct ssh_key *ssh_key_get(struct ssh_keyring *, const char *path,
	    int explicit);
/* An encrypted key whose passphrase was not asked (BatchMode). */
int	ssh_key_locked(const struct ssh_key *);
void	ssh_keyring_free(struct ssh_keyring *);

/* Why a key file could not be read, for an errno of ssh_key_peek's. */
const char *ssh_key_readerr(int);

/* As ssh_key_get, but never asks for a passphrase. */
struct ssh_key *ssh_key_peek(struct ssh_keyring *, const char *path,
	    int explicit);

/*
 * A public key blob as ssh -v names it: "ED25519 SHA256:base64" (type,
 * then the SHA-256 fingerprint), into buf.
 */
void	ssh_key_describe(const unsigned char *blob, size_t len, char *buf,
	    size_t buflen);

/* Ask on /dev/tty without echo; NULL if there is no terminal. */
char	*ssh_prompt_secret(const char *prompt);

/* Overwrite and free a secret. */
void	ssh_secret_free(char *);

#endif
