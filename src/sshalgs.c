/*
 * Algorithm lists as OpenSSH 9.2 builds its proposal (readconf.c checks,
 * kex.c kex_assemble_names, sshconnect2.c order_hostkeyalgs), then cut down
 * to what the linked libssh2 implements (libssh2_session_supported_algs,
 * so 1.10 and 1.11 each offer what they have) and handed to it with
 * libssh2_session_method_pref. Host certificate types are never handed to
 * libssh2: it lists them but cannot verify them (see knownhosts.c).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libssh2.h>

#include "mrsh/log.h"
#include "mrsh/match.h"
#include "mrsh/sshalgs.h"
#include "mrsh/sshconfig.h"
#include "mrsh/xmalloc.h"

#define SSHALGS_CERT_SUFFIX	"-cert-v01@openssh.com"

/* ssh -Q key (host key and public key algorithms), OpenSSH 9.2. */
#define SSHALGS_ALL_KEYS \
	"ssh-ed25519,ssh-ed25519-cert-v01@openssh.com," \
	"sk-ssh-ed25519@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com," \
	"ecdsa-sha2-nistp256,ecdsa-sha2-nistp256-cert-v01@openssh.com," \
	"ecdsa-sha2-nistp384,ecdsa-sha2-nistp384-cert-v01@openssh.com," \
	"ecdsa-sha2-nistp521,ecdsa-sha2-nistp521-cert-v01@openssh.com," \
	"sk-ecdsa-sha2-nistp256@openssh.com," \
	"sk-ecdsa-sha2-nistp256-cert-v01@openssh.com," \
	"webauthn-sk-ecdsa-sha2-nistp256@openssh.com," \
	"ssh-dss,ssh-dss-cert-v01@openssh.com," \
	"ssh-rsa,ssh-rsa-cert-v01@openssh.com," \
	"rsa-sha2-256,rsa-sha2-256-cert-v01@openssh.com," \
	"rsa-sha2-512,rsa-sha2-512-cert-v01@openssh.com"
/* ssh -G: the default HostKeyAlgorithms and PubkeyAcceptedAlgorithms. */
#define SSHALGS_DEFAULT_KEYS \
	"ssh-ed25519-cert-v01@openssh.com," \
	"ecdsa-sha2-nistp256-cert-v01@openssh.com," \
	"ecdsa-sha2-nistp384-cert-v01@openssh.com," \
	"ecdsa-sha2-nistp521-cert-v01@openssh.com," \
	"sk-ssh-ed25519-cert-v01@openssh.com," \
	"sk-ecdsa-sha2-nistp256-cert-v01@openssh.com," \
	"rsa-sha2-512-cert-v01@openssh.com," \
	"rsa-sha2-256-cert-v01@openssh.com," \
	"ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384," \
	"ecdsa-sha2-nistp521,sk-ssh-ed25519@openssh.com," \
	"sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256"

static const struct {
	const char	*keyword;
	const char	*dump;
	const char	*bad;		/* ssh's load-time complaint */
	int		 wildcards;	/* allowed outside - lists */
	const char	*def;
	const char	*all;
	const char	*nomatch;	/* ssh's "no matching %s found" */
} sshalgs_kinds[ALGS_NKINDS] = {
	{ "KexAlgorithms", "kexalgorithms", "Bad SSH2 KexAlgorithms", 0,
	    "sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com,"
	    "curve25519-sha256,curve25519-sha256@libssh.org,"
	    "ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,"
	    "diffie-hellman-group-exchange-sha256,"
	    "diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,"
	    "diffie-hellman-group14-sha256",
	    "diffie-hellman-group1-sha1,diffie-hellman-group14-sha1,"
	    "diffie-hellman-group14-sha256,diffie-hellman-group16-sha512,"
	    "diffie-hellman-group18-sha512,"
	    "diffie-hellman-group-exchange-sha1,"
	    "diffie-hellman-group-exchange-sha256,"
	    "ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,"
	    "curve25519-sha256,curve25519-sha256@libssh.org,"
	    "sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com",
	    "key exchange method" },
	{ "HostKeyAlgorithms", "hostkeyalgorithms", "Bad key types", 1,
	    SSHALGS_DEFAULT_KEYS, SSHALGS_ALL_KEYS, "host key type" },
	{ "Ciphers", "ciphers", "Bad SSH2 cipher spec", 0,
	    "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,"
	    "aes128-gcm@openssh.com,aes256-gcm@openssh.com",
	    "3des-cbc,aes128-cbc,aes192-cbc,aes256-cbc,aes128-ctr,aes192-ctr,"
	    "aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com,"
	    "chacha20-poly1305@openssh.com",
	    "cipher" },
	{ "MACs", "macs", "Bad SSH2 MAC spec", 0,
	    "umac-64-etm@openssh.com,umac-128-etm@openssh.com,"
	    "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,"
	    "hmac-sha1-etm@openssh.com,umac-64@openssh.com,"
	    "umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1",
	    "hmac-sha1,hmac-sha1-96,hmac-sha2-256,hmac-sha2-512,hmac-md5,"
	    "hmac-md5-96,umac-64@openssh.com,umac-128@openssh.com,"
	    "hmac-sha1-etm@openssh.com,hmac-sha1-96-etm@openssh.com,"
	    "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,"
	    "hmac-md5-etm@openssh.com,hmac-md5-96-etm@openssh.com,"
	    "umac-64-etm@openssh.com,umac-128-etm@openssh.com",
	    "MAC" },
	{ "PubkeyAcceptedAlgorithms", "pubkeyacceptedalgorithms",
	    "Bad key types", 1,
	    SSHALGS_DEFAULT_KEYS, SSHALGS_ALL_KEYS, "public key algorithm" },
};

/* libssh2 method types for each kind (client to server); -1: none. */
static const int sshalgs_methods[ALGS_NKINDS] = {
	LIBSSH2_METHOD_KEX, LIBSSH2_METHOD_HOSTKEY, LIBSSH2_METHOD_CRYPT_CS,
	LIBSSH2_METHOD_MAC_CS, -1
};

const char *
sshalgs_keyword(enum sshalgs_kind k)
{
	return (sshalgs_kinds[k].keyword);
}

const char *
sshalgs_dump_name(enum sshalgs_kind k)
{
	return (sshalgs_kinds[k].dump);
}

/* Append name to *list (a growing string) unless it is there already. */
static void
sshalgs_add(char **list, const char *name, size_t n)
{
	char	*tmp, *one;

	one = xstrndup(name, n);
	if (*one != '\0' && !match_list_has(one, *list)) {
		xasprintf(&tmp, "%s%s%s", *list, **list != '\0' ? "," : "",
		    one);
		free(*list);
		*list = tmp;
	}
	free(one);
}

/* kex_names_cat: a, then the names of b not in a. */
static char *
sshalgs_cat(const char *a, const char *b)
{
	char		*out = xstrdup("");
	const char	*p;
	size_t		 n;

	for (p = a; *p != '\0'; p += n + (p[n] == ',')) {
		n = strcspn(p, ",");
		sshalgs_add(&out, p, n);
	}
	/* As ssh, b ends at its first empty name ("+a,,b" adds a only). */
	for (p = b; *p != '\0' && *p != ','; p += n + (p[n] == ',')) {
		n = strcspn(p, ",");
		sshalgs_add(&out, p, n);
	}
	return (out);
}

/* The names of list matching (allow) or not matching the pattern list. */
static char *
sshalgs_filter(const char *list, const char *patterns, int allow)
{
	char		*out = xstrdup(""), *one;
	const char	*p;
	size_t		 n;
	int		 m;

	for (p = list; *p != '\0'; p += n + (p[n] == ',')) {
		n = strcspn(p, ",");
		one = xstrndup(p, n);
		m = match_pattern_list(one, patterns, 0) == 1;
		if (m == allow)
			sshalgs_add(&out, one, n);
		free(one);
	}
	return (out);
}

const char *
sshalgs_check(enum sshalgs_kind k, const char *spec, char *buf, size_t len)
{
	const char	*p, *list = spec;
	char		*one, *m;
	size_t		 n;
	int		 bad = 0;

	if (*spec == '-')
		return (NULL);
	if (*spec == '+' || *spec == '^')
		list++;
	/*
	 * As ssh (ciphers_valid() and the like): the names up to the first
	 * empty one are checked, the rest not; "a,,b" and "a," are fine.
	 * A negated name is refused here although ssh takes one in a key
	 * type list, to fail when it builds the list.
	 */
	for (p = list; !bad && *p != '\0' && *p != ','; p += n +
	    (p[n] == ',')) {
		n = strcspn(p, ",");
		one = xstrndup(p, n);
		if (*one == '!')
			bad = 1;
		else if (sshalgs_kinds[k].wildcards) {
			m = sshalgs_filter(sshalgs_kinds[k].all, one, 1);
			bad = *m == '\0';
			free(m);
		} else
			bad = !match_list_has(one, sshalgs_kinds[k].all);
		free(one);
	}
	if (*list == '\0')
		bad = 1;
	if (!bad)
		return (NULL);
	snprintf(buf, len, "%s '%s'.", sshalgs_kinds[k].bad, spec);
	return (buf);
}

char *
sshalgs_assemble(enum sshalgs_kind k, const char *spec)
{
	const char	*def = sshalgs_kinds[k].def;
	char		*list, *out, *m, *tmp, *pat;
	const char	*p;
	size_t		 n;

	if (spec == NULL || *spec == '\0')
		return (xstrdup(def));
	if (*spec == '-')
		return (sshalgs_filter(def, spec + 1, 0));
	if (*spec == '+')
		list = sshalgs_cat(def, spec + 1);
	else if (*spec == '^')
		list = sshalgs_cat(spec + 1, def);
	else
		list = xstrdup(spec);
	/* Each name may be a pattern: what it matches, in ssh's order. */
	out = xstrdup("");
	for (p = list; *p != '\0'; p += n + (p[n] == ',')) {
		n = strcspn(p, ",");
		pat = xstrndup(p, n);
		m = sshalgs_filter(sshalgs_kinds[k].all, pat, 1);
		tmp = sshalgs_cat(out, m);
		free(out);
		free(m);
		free(pat);
		out = tmp;
	}
	free(list);
	return (out);
}

/*
 * What libssh2 implements per kind: the same for every session, so asked
 * once per run (issue 14: a tenth of the session setup outside libssh2).
 */
static char *sshalgs_have[ALGS_NKINDS];

/* What this libssh2 implements for a method type, as a comma list. */
static char *
sshalgs_supported_new(LIBSSH2_SESSION *ssh, int method)
{
	const char	**algs = NULL;
	char		 *out = xstrdup("");
	int		  i, n;

	if ((n = libssh2_session_supported_algs(ssh, method, &algs)) <= 0)
		return (out);
	for (i = 0; i < n; i++) {
		/* Listed, but libssh2 cannot verify a host certificate. */
		if (method == LIBSSH2_METHOD_HOSTKEY &&
		    strstr(algs[i], SSHALGS_CERT_SUFFIX) != NULL)
			continue;
		sshalgs_add(&out, algs[i], strlen(algs[i]));
	}
	libssh2_free(ssh, algs);
	return (out);
}

/* sshalgs_supported_new() for kind k, asked of libssh2 once per run. */
static const char *
sshalgs_supported(LIBSSH2_SESSION *ssh, enum sshalgs_kind k)
{
	if (sshalgs_have[k] == NULL)
		sshalgs_have[k] = sshalgs_supported_new(ssh,
		    sshalgs_methods[k]);
	return (sshalgs_have[k]);
}

void
sshalgs_cache_free(void)
{
	int	k;

	for (k = 0; k < ALGS_NKINDS; k++) {
		free(sshalgs_have[k]);
		sshalgs_have[k] = NULL;
	}
}

/* The names of list that are in have, in list's order. */
static char *
sshalgs_intersect(const char *list, const char *have)
{
	char		*out = xstrdup(""), *one;
	const char	*p;
	size_t		 n;

	for (p = list; *p != '\0'; p += n + (p[n] == ',')) {
		n = strcspn(p, ",");
		one = xstrndup(p, n);
		if (match_list_has(one, have))
			sshalgs_add(&out, one, n);
		free(one);
	}
	return (out);
}

/* The list offered for kind k to this host: ssh's, cut to libssh2's. */
static char *
sshalgs_for_host(LIBSSH2_SESSION *ssh, const struct ssh_host_config *hc,
    enum sshalgs_kind k, char **full, double timeout, char *err,
    size_t errlen)
{
	const char	*spec = hc->algs[k];
	char		*list, *ordered, *out;

	list = sshalgs_assemble(k, spec);
	/* ssh reorders for known_hosts unless the list is explicit. */
	if (k == ALGS_HOSTKEY && (spec == NULL || *spec == '+' ||
	    *spec == '-') && *list != '\0') {
		ordered = knownhosts_order_hostkeyalgs(hc, list, timeout, err,
		    errlen);
		free(list);
		if (ordered == NULL) {
			*full = NULL;
			return (NULL);
		}
		list = ordered;
	}
	out = sshalgs_intersect(list, sshalgs_supported(ssh, k));
	*full = list;
	return (out);
}

int
sshalgs_apply(LIBSSH2_SESSION *ssh, const struct ssh_host_config *hc,
    double timeout, char **offered, char *err, size_t errlen)
{
	static const int both[] = { -1, -1, LIBSSH2_METHOD_CRYPT_SC,
	    LIBSSH2_METHOD_MAC_SC };
	char	*list, *full, *all = xstrdup(""), *tmp;
	int	 k, rc = 0;

	*offered = NULL;
	for (k = ALGS_KEX; k <= ALGS_MAC && rc == 0; k++) {
		list = sshalgs_for_host(ssh, hc, k, &full, timeout, err,
		    errlen);
		if (list == NULL) {
			rc = -1;
			break;
		}
		if (*full == '\0') {
			snprintf(err, errlen, "%s: the list is empty (%s)",
			    sshalgs_kinds[k].keyword, hc->algs[k] != NULL ?
			    hc->algs[k] : "");
			rc = -1;
		} else if (*list == '\0') {
			snprintf(err, errlen, "%s: nothing in common between "
			    "the list \"%s\" and what this libssh2 implements "
			    "(%s)", sshalgs_kinds[k].keyword, full,
			    sshalgs_supported(ssh, k));
			rc = -1;
		} else if (libssh2_session_method_pref(ssh, sshalgs_methods[k],
		    list) != 0 || (both[k] != -1 &&
		    libssh2_session_method_pref(ssh, both[k], list) != 0)) {
			snprintf(err, errlen, "%s: libssh2 refused the list "
			    "\"%s\"", sshalgs_kinds[k].keyword, list);
			rc = -1;
		} else {
			xasprintf(&tmp, "%s%s%s %s", all, *all != '\0' ?
			    "; " : "", sshalgs_kinds[k].dump, list);
			free(all);
			all = tmp;
		}
		free(list);
		free(full);
	}
	if (rc == 0)
		*offered = all;
	else
		free(all);
	return (rc);
}

int
sshalgs_mismatch(LIBSSH2_SESSION *ssh, const struct ssh_host_config *hc,
    const char *const srv[4], char *out, size_t outlen)
{
	char	*list, *full, *common;
	int	 k, found = 0;

	for (k = ALGS_KEX; k <= ALGS_MAC && !found; k++) {
		if (srv[k] == NULL)
			continue;
		/* No KnownHostsCommand again (timeout -1): a diagnosis. */
		list = sshalgs_for_host(ssh, hc, k, &full, -1, NULL, 0);
		common = sshalgs_intersect(list, srv[k]);
		if (*common == '\0') {
			snprintf(out, outlen, "no matching %s found. Their "
			    "offer: %s (we offer %s: %s)",
			    sshalgs_kinds[k].nomatch, srv[k],
			    sshalgs_kinds[k].keyword, list);
			found = 1;
		}
		free(common);
		free(list);
		free(full);
	}
	return (found ? 0 : -1);
}

int
sshalgs_pubkey_ok(const struct ssh_host_config *hc, const char *keytype)
{
	char	*list;
	int	 ok;

	list = sshalgs_assemble(ALGS_PUBKEY, hc->algs[ALGS_PUBKEY]);
	if (strcmp(keytype, "ssh-rsa") == 0)
		ok = match_list_has("rsa-sha2-256", list) ||
		    match_list_has("rsa-sha2-512", list) ||
		    match_list_has("ssh-rsa", list);
	else
		ok = match_list_has(keytype, list);
	free(list);
	return (ok);
}
