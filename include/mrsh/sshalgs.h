/*
 * The algorithm lists of ssh_config (KexAlgorithms, HostKeyAlgorithms,
 * Ciphers, MACs, PubkeyAcceptedAlgorithms) as OpenSSH 9.2 resolves them:
 * its defaults, + to append, - to remove (wildcards allowed), ^ to put
 * first, explicit lists with wildcards where ssh allows them; then cut
 * down to what the linked libssh2 implements and handed to it.
 */
#ifndef MRSH_SSHALGS_H
#define MRSH_SSHALGS_H

#include <stddef.h>

enum sshalgs_kind {
	ALGS_KEX = 0,
	ALGS_HOSTKEY,
	ALGS_CIPHER,
	ALGS_MAC,
	ALGS_PUBKEY,
	ALGS_NKINDS
};

struct ssh_host_config;
struct _LIBSSH2_SESSION;

/* The keyword ("KexAlgorithms") and the -G name ("kexalgorithms"). */
const char *sshalgs_keyword(enum sshalgs_kind);
const char *sshalgs_dump_name(enum sshalgs_kind);

/*
 * Check a value at load time as ssh does; NULL if it is valid, else ssh's
 * complaint without the file and line ("Bad SSH2 cipher spec 'x'.").
 */
const char *sshalgs_check(enum sshalgs_kind, const char *spec, char *buf,
	    size_t len);

/* ssh's list for spec (NULL: the default); a new string, maybe "". */
char	*sshalgs_assemble(enum sshalgs_kind, const char *spec);

/*
 * Give libssh2 the host's lists (host key algorithms reordered for what
 * known_hosts holds, as ssh does), each cut down to what this libssh2
 * implements. -1 with a one-line reason naming the keyword and both lists
 * when nothing is left of one. *offered gets a summary of what was
 * offered, for a failed key exchange (free it). timeout bounds the
 * KnownHostsCommand run for the reordering.
 */
int	sshalgs_apply(struct _LIBSSH2_SESSION *, const struct ssh_host_config *,
	    double timeout, char **offered, char *err, size_t errlen);

/*
 * A failed key exchange: which list had nothing in common with the
 * server's, worded as ssh words it ("no matching host key type found.
 * Their offer: ..."). srv holds the server's KEXINIT lists in kind order
 * (kex, host key, cipher c2s, mac c2s); NULL entries are unknown. Returns
 * 0 and fills out if one is found.
 */
int	sshalgs_mismatch(struct _LIBSSH2_SESSION *,
	    const struct ssh_host_config *, const char *const srv[4],
	    char *out, size_t outlen);

/* Forget what libssh2 implements (asked once per run); at the end. */
void	sshalgs_cache_free(void);

/* May a user key of this type be offered (PubkeyAcceptedAlgorithms)? */
int	sshalgs_pubkey_ok(const struct ssh_host_config *, const char *keytype);

#endif
