/*
 * known_hosts checking for the ssh transport, as OpenSSH 9.2 does it
 * (hostfile.c, sshconnect.c check_host_key): the user files then the global
 * files; host fields that are pattern lists (* ? and !negation) or hashed
 * |1|salt|HMAC-SHA1 names; [host]:port for a port other than 22, retried as
 * the bare host when that finds nothing; HostKeyAlias looked up and written
 * instead of the host; @revoked keys refused whatever else matches; and
 * StrictHostKeyChecking yes / accept-new / no.
 *
 * Host certificates: libssh2 (1.10 and 1.11.1) lists the *-cert-v01 host
 * key types but cannot use them (no init/verify for the ECDSA and RSA ones,
 * and the ed25519 one parses a plain key), so mrsh never offers them and a
 * host known only through a @cert-authority line is refused: accepting its
 * plain key instead (accept-new) would trust on first use what ssh trusts
 * through the CA.
 *
 * A run may reach thousands of hosts, so each file is parsed once and kept
 * in a cache keyed by its path.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <libssh2.h>

#include "mrsh/htab.h"
#include "mrsh/log.h"
#include "mrsh/match.h"
#include "mrsh/netconn.h"
#include "mrsh/pctok.h"
#include "mrsh/sshconfig.h"
#include "mrsh/sshwire.h"
#include "mrsh/subproc.h"
#include "mrsh/xmalloc.h"

#define KNOWNHOSTS_SHA1_LEN	20
#define KNOWNHOSTS_B64_MAX	65536	/* longest base64 field read */

enum knownhosts_marker {
	KH_PLAIN = 0,
	KH_CA,			/* @cert-authority */
	KH_REVOKED		/* @revoked */
};

/* One line of a known_hosts file. */
struct knownhosts_entry {
	enum knownhosts_marker	 marker;
	char			*hosts;		/* pattern list; NULL if hashed */
	unsigned char		 salt[KNOWNHOSTS_SHA1_LEN];
	unsigned char		 mac[KNOWNHOSTS_SHA1_LEN];
	char			*type;		/* from the key blob */
	unsigned char		*blob;
	size_t			 bloblen;
	int			 line;
};

/* One known_hosts file, parsed. */
struct knownhosts_file {
	char			*path;
	struct knownhosts_entry	*e;
	size_t			 n;
};

/* The files read so far, by path. */
static struct htab		 knownhosts_cache;

static struct knownhosts_file *knownhosts_command(
    const struct ssh_host_config *, const char *, const char *,
    const char *, const char *, const unsigned char *, size_t, double,
    char *, size_t);
static void	knownhosts_file_free(struct knownhosts_file *);

static int
knownhosts_file_eq(const void *entry, const void *path)
{
	return strcmp(((const struct knownhosts_file *)entry)->path,
	    path) == 0;
}

/* The key type string at the head of an SSH key blob, or NULL. */
static char *
knownhosts_blob_type(const unsigned char *blob, size_t len)
{
	struct sshwire w;
	const unsigned char *t;
	size_t l;

	sshwire_init(&w, blob, len);
	if (sshwire_string(&w, &t, &l) == -1 || l == 0 || l > 64)
		return NULL;
	return xstrndup((const char *)t, l);
}

/* Split off the next whitespace-separated field of *p. */
static char *
knownhosts_field(char **p)
{
	char *s = *p + strspn(*p, " \t"), *e;

	if (*s == '\0')
		return NULL;
	e = s + strcspn(s, " \t");
	if (*e != '\0')
		*e++ = '\0';
	*p = e;
	return s;
}

/* Parse one line into e; 0 if it is an entry. */
static int
knownhosts_parse(char *buf, struct knownhosts_entry *e)
{
	char *p = buf, *f, *key, *bar;
	unsigned char *v;
	size_t vlen;

	memset(e, 0, sizeof *e);
	buf[strcspn(buf, "\r\n")] = '\0';
	if ((f = knownhosts_field(&p)) == NULL || *f == '#')
		return -1;
	if (*f == '@') {
		if (strcasecmp(f, "@cert-authority") == 0)
			e->marker = KH_CA;
		else if (strcasecmp(f, "@revoked") == 0)
			e->marker = KH_REVOKED;
		else
			return -1;
		if ((f = knownhosts_field(&p)) == NULL)
			return -1;
	}
	if (knownhosts_field(&p) == NULL ||	/* key type name */
	    (key = knownhosts_field(&p)) == NULL)
		return -1;
	if (strncmp(f, "|1|", 3) == 0) {
		if ((bar = strchr(f + 3, '|')) == NULL)
			return -1;
		v = sshwire_unbase64(f + 3, (size_t)(bar - f - 3),
		    KNOWNHOSTS_B64_MAX, &vlen);
		if (v == NULL || vlen != KNOWNHOSTS_SHA1_LEN) {
			free(v);
			return -1;
		}
		memcpy(e->salt, v, vlen);
		free(v);
		v = sshwire_unbase64(bar + 1, strlen(bar + 1),
		    KNOWNHOSTS_B64_MAX, &vlen);
		if (v == NULL || vlen != KNOWNHOSTS_SHA1_LEN) {
			free(v);
			return -1;
		}
		memcpy(e->mac, v, vlen);
		free(v);
	} else if (*f == '|')
		return -1;
	if ((e->blob = sshwire_unbase64(key, strlen(key), KNOWNHOSTS_B64_MAX,
	    &e->bloblen)) == NULL)
		return -1;
	if ((e->type = knownhosts_blob_type(e->blob, e->bloblen)) == NULL) {
		free(e->blob);
		e->blob = NULL;
		return -1;
	}
	if (*f != '|')
		e->hosts = xstrdup(f);
	return 0;
}

/* Parse the lines of fp into kf. */
static void
knownhosts_read_fp(struct knownhosts_file *kf, FILE *fp, const char *what)
{
	struct knownhosts_entry e;
	char *buf = NULL;
	size_t bufsz = 0;
	int lineno = 0;

	while (getline(&buf, &bufsz, fp) != -1) {
		lineno++;
		if (knownhosts_parse(buf, &e) != 0) {
			if (buf[strspn(buf, " \t")] != '\0' &&
			    buf[strspn(buf, " \t")] != '#')
				debug2("%s:%d: line not understood; skipped",
				    what, lineno);
			continue;
		}
		e.line = lineno;
		kf->e = xreallocarray(kf->e, kf->n + 1, sizeof *kf->e);
		kf->e[kf->n++] = e;
	}
	free(buf);
}

/* The parsed file for path, read on first use. */
static struct knownhosts_file *
knownhosts_get(const char *path)
{
	struct knownhosts_file *kf;
	uint64_t h;
	FILE *fp;

	h = htab_hash_str(path);
	if ((kf = htab_find(&knownhosts_cache, h, knownhosts_file_eq,
	    path)) != NULL)
		return kf;
	kf = xcalloc(1, sizeof *kf);
	kf->path = xstrdup(path);
	if ((fp = fopen(path, "r")) != NULL) {
		knownhosts_read_fp(kf, fp, path);
		fclose(fp);
	} else if (errno != ENOENT)
		debug("%s: %s", path, strerror(errno));
	debug("%s: %zu known host entries", path, kf->n);
	htab_insert(&knownhosts_cache, h, kf);
	return kf;
}

static void
knownhosts_file_free(struct knownhosts_file *kf)
{
	size_t i;

	for (i = 0; i < kf->n; i++) {
		free(kf->e[i].hosts);
		free(kf->e[i].type);
		free(kf->e[i].blob);
	}
	free(kf->e);
	free(kf->path);
	free(kf);
}

void
knownhosts_cache_free(void)
{
	struct knownhosts_file *kf;
	size_t i = 0;

	while ((kf = htab_next(&knownhosts_cache, &i)) != NULL)
		knownhosts_file_free(kf);
	htab_free(&knownhosts_cache);
}

/* Does the entry's host field name host (lowercase), as ssh matches? */
static int
knownhosts_match_name(const struct knownhosts_entry *e, const char *host)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;

	if (e->hosts != NULL)
		return match_pattern_list(host, e->hosts, 1) == 1;
	if (HMAC(EVP_sha1(), e->salt, sizeof e->salt,
	    (const unsigned char *)host, strlen(host), mac, &maclen) == NULL ||
	    maclen != KNOWNHOSTS_SHA1_LEN)
		return 0;
	return memcmp(mac, e->mac, KNOWNHOSTS_SHA1_LEN) == 0;
}

/* The name known_hosts holds for hc: HostKeyAlias, host or [host]:port. */
static char *
knownhosts_name(const struct ssh_host_config *hc, int withport)
{
	char *name, *p;

	if (hc->host_key_alias != NULL)
		return xstrdup(hc->host_key_alias);
	if (!withport || hc->port <= 0 || hc->port == 22)
		name = xstrdup(hc->hostname);
	else
		xasprintf(&name, "[%s]:%d", hc->hostname, hc->port);
	for (p = name; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return name;
}

/* The files to read for hc, user files first; returns how many. */
static int
knownhosts_files(const struct ssh_host_config *hc,
    struct knownhosts_file **kf)
{
	int i, n = 0;

	for (i = 0; i < hc->nuser_known_hosts; i++)
		kf[n++] = knownhosts_get(hc->user_known_hosts[i]);
	for (i = 0; i < hc->nglobal_known_hosts; i++)
		kf[n++] = knownhosts_get(hc->global_known_hosts[i]);
	return n;
}

/* " (HostKeyAlias x)" after a host name in messages, when there is one. */
#define ALIAS_FMT(hc) \
	(hc)->host_key_alias != NULL ? " (HostKeyAlias " : "", \
	(hc)->host_key_alias != NULL ? (hc)->host_key_alias : "", \
	(hc)->host_key_alias != NULL ? ")" : ""

enum knownhosts_status {
	KH_NEW = 0,
	KH_OK,
	KH_CHANGED,
	KH_IS_REVOKED
};

/* One lookup of name: what ssh's check_key_in_hostkeys answers. */
static enum knownhosts_status
knownhosts_lookup(struct knownhosts_file **kf, int nkf, const char *name,
    const unsigned char *key, size_t keylen, const char **file, int *line,
    int *have_ca, const struct knownhosts_entry **found)
{
	enum knownhosts_status st = KH_NEW;
	const struct knownhosts_entry *e;
	int i, done = 0;
	size_t j;

	*have_ca = 0;
	*file = NULL;
	*found = NULL;
	for (i = 0; i < nkf; i++) {
		for (j = 0; j < kf[i]->n; j++) {
			e = &kf[i]->e[j];
			if (!knownhosts_match_name(e, name))
				continue;
			if (e->marker == KH_REVOKED) {
				if (e->bloblen == keylen &&
				    memcmp(e->blob, key, keylen) == 0) {
					*file = kf[i]->path;
					*line = e->line;
					*found = e;
					return KH_IS_REVOKED;
				}
				continue;
			}
			if (e->marker == KH_CA) {
				*have_ca = 1;
				continue;
			}
			if (done)
				continue;
			if (e->bloblen == keylen &&
			    memcmp(e->blob, key, keylen) == 0) {
				st = KH_OK;
				*file = kf[i]->path;
				*line = e->line;
				*found = e;
				done = 1;	/* keep looking for @revoked */
				continue;
			}
			st = KH_CHANGED;
			*file = kf[i]->path;
			*line = e->line;
			*found = e;
		}
	}
	return st;
}

/* "SHA256:" and unpadded base64 of the key's SHA-256, as OpenSSH shows. */
static void
knownhosts_fingerprint(const unsigned char *key, size_t keylen, char *out,
    size_t outlen)
{
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hlen = 0;
	char *b64;
	size_t n;

	if (EVP_Digest(key, keylen, h, &hlen, EVP_sha256(), NULL) != 1) {
		snprintf(out, outlen, "SHA256:?");
		return;
	}
	b64 = sshwire_base64(h, hlen, NULL);
	n = strlen(b64);
	while (n > 0 && b64[n - 1] == '=')
		b64[--n] = '\0';
	snprintf(out, outlen, "SHA256:%s", b64);
	free(b64);
}

/* Create the directory holding path (mode 0700) if it is missing. */
static void
knownhosts_mkdir(const char *path)
{
	struct stat sb;
	char *dir, *slash;

	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (stat(dir, &sb) == -1 && errno == ENOENT &&
		    mkdir(dir, 0700) == -1)
			debug("mkdir %s: %s", dir, strerror(errno));
	}
	free(dir);
}

/* The host field for name: itself, or |1|salt|hash with HashKnownHosts. */
static char *
knownhosts_host_field(const char *name, int hash)
{
	unsigned char salt[KNOWNHOSTS_SHA1_LEN], mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	char *s64, *m64, *out;
	ssize_t n;
	int fd;

	if (!hash)
		return xstrdup(name);
	n = getrandom(salt, sizeof salt, 0);
	if (n != (ssize_t)sizeof salt) {
		if ((fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)) == -1)
			return NULL;
		n = read(fd, salt, sizeof salt);
		close(fd);
		if (n != (ssize_t)sizeof salt)
			return NULL;
	}
	if (HMAC(EVP_sha1(), salt, sizeof salt, (const unsigned char *)name,
	    strlen(name), mac, &maclen) == NULL)
		return NULL;
	s64 = sshwire_base64(salt, sizeof salt, NULL);
	m64 = sshwire_base64(mac, maclen, NULL);
	xasprintf(&out, "|1|%s|%s", s64, m64);
	free(s64);
	free(m64);
	return out;
}

/*
 * accept-new / no: add the key to the cached file and append its line to
 * the file with one O_APPEND write, so that other writers do not
 * interleave.
 */
static int
knownhosts_append(struct knownhosts_file *kf, const char *name, int hash,
    const char *type, const unsigned char *key, size_t keylen, char *err,
    size_t errlen)
{
	struct knownhosts_entry e;
	struct stat sb;
	char *field, *b64, *line;
	char last;
	size_t len;
	ssize_t n;
	int fd;

	if ((field = knownhosts_host_field(name, hash)) == NULL) {
		snprintf(err, errlen, "cannot hash the name %s", name);
		return -1;
	}
	b64 = sshwire_base64(key, keylen, NULL);
	xasprintf(&line, "\n%s %s %s\n", field, type, b64);
	free(field);
	free(b64);

	knownhosts_mkdir(kf->path);
	fd = open(kf->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1) {
		snprintf(err, errlen, "cannot add host key for %s to %s: %s",
		    name, kf->path, strerror(errno));
		free(line);
		return -1;
	}
	/* A file whose last line lacks its newline must not swallow ours. */
	len = strlen(line);
	if (!(fstat(fd, &sb) == 0 && sb.st_size > 0 &&
	    pread(fd, &last, 1, sb.st_size - 1) == 1 && last != '\n')) {
		memmove(line, line + 1, len);
		len--;
	}
	n = write(fd, line, len);
	if (n != (ssize_t)len || close(fd) == -1) {
		snprintf(err, errlen, "cannot add host key for %s to %s: %s",
		    name, kf->path, n == -1 || n == (ssize_t)len ?
		    strerror(errno) : "short write");
		if (n != (ssize_t)len)
			close(fd);
		free(line);
		return -1;
	}
	if (knownhosts_parse(line, &e) == 0) {
		e.line = 0;
		kf->e = xreallocarray(kf->e, kf->n + 1, sizeof *kf->e);
		kf->e[kf->n++] = e;
	}
	free(line);
	return 0;
}

/* The key type of a host key algorithm name, as known_hosts holds it. */
static const char *
knownhosts_alg_keytype(const char *alg)
{
	static const struct {
		const char *alg, *type;
	} map[] = {
		{ "rsa-sha2-256", "ssh-rsa" },
		{ "rsa-sha2-512", "ssh-rsa" },
		{ "rsa-sha2-256-cert-v01@openssh.com", "ssh-rsa" },
		{ "rsa-sha2-512-cert-v01@openssh.com", "ssh-rsa" },
		{ "ssh-rsa-cert-v01@openssh.com", "ssh-rsa" },
		{ "ssh-dss-cert-v01@openssh.com", "ssh-dss" },
		{ "ssh-ed25519-cert-v01@openssh.com", "ssh-ed25519" },
		{ "ecdsa-sha2-nistp256-cert-v01@openssh.com",
		    "ecdsa-sha2-nistp256" },
		{ "ecdsa-sha2-nistp384-cert-v01@openssh.com",
		    "ecdsa-sha2-nistp384" },
		{ "ecdsa-sha2-nistp521-cert-v01@openssh.com",
		    "ecdsa-sha2-nistp521" },
		{ "sk-ssh-ed25519-cert-v01@openssh.com",
		    "sk-ssh-ed25519@openssh.com" },
		{ "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
		    "sk-ecdsa-sha2-nistp256@openssh.com" },
	};
	size_t i;

	for (i = 0; i < sizeof map / sizeof map[0]; i++) {
		if (strcmp(alg, map[i].alg) == 0)
			return map[i].type;
	}
	return alg;
}

/* Is there a plain (unmarked) entry for name with a key of type? */
static int
knownhosts_have_type(struct knownhosts_file **kf, int nkf, const char *name,
    const char *type)
{
	const struct knownhosts_entry *e;
	size_t j;
	int i;

	for (i = 0; i < nkf; i++) {
		for (j = 0; j < kf[i]->n; j++) {
			e = &kf[i]->e[j];
			if (e->marker == KH_PLAIN &&
			    strcmp(e->type, type) == 0 &&
			    knownhosts_match_name(e, name))
				return 1;
		}
	}
	return 0;
}

char *
knownhosts_order_hostkeyalgs(const struct ssh_host_config *hc,
    const char *algs, double timeout, char *err, size_t errlen)
{
	struct knownhosts_file *kf[2 * SSHCFG_MAX_FILES], *cmdkf = NULL;
	char *name, *host, *copy, *alg, *p, *first, *last, *out;
	size_t cap;
	int nkf;

	nkf = knownhosts_files(hc, kf);
	name = knownhosts_name(hc, 1);
	host = xstrdup(hc->hostname);
	for (p = host; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	/*
	 * As ssh (sshconnect2.c order_hostkeyalgs): KnownHostsCommand too,
	 * "ORDER" with no key (%t %f %K are NONE), its lines matched against
	 * the bare host name; one that fails stops the host. timeout < 0:
	 * not run (sshalgs_mismatch's diagnosis after a failed exchange).
	 */
	if (hc->kh_command != NULL && timeout >= 0 &&
	    (cmdkf = knownhosts_command(hc,
	    "ORDER", host, "NONE", "NONE", NULL, 0, timeout <= 0 ? 3600 :
	    timeout, err, errlen)) == NULL) {
		free(host);
		free(name);
		return NULL;
	}
	copy = xstrdup(algs);
	/* The best preference has a known key: the list as it is. */
	alg = xstrndup(copy, strcspn(copy, ","));
	if (knownhosts_have_type(kf, nkf, name,
	    knownhosts_alg_keytype(alg)) || (cmdkf != NULL &&
	    knownhosts_have_type(&cmdkf, 1, host,
	    knownhosts_alg_keytype(alg)))) {
		free(alg);
		free(name);
		free(host);
		if (cmdkf != NULL)
			knownhosts_file_free(cmdkf);
		return copy;
	}
	free(alg);
	cap = strlen(algs) + 2;
	first = xcalloc(1, cap);
	last = xcalloc(1, cap);
	for (p = copy; (alg = strsep(&p, ",")) != NULL;) {
		if (*alg == '\0')
			continue;
		if (knownhosts_have_type(kf, nkf, name,
		    knownhosts_alg_keytype(alg)) || (cmdkf != NULL &&
		    knownhosts_have_type(&cmdkf, 1, host,
		    knownhosts_alg_keytype(alg)))) {
			if (*first != '\0')
				strcat(first, ",");
			strcat(first, alg);
		} else {
			if (*last != '\0')
				strcat(last, ",");
			strcat(last, alg);
		}
	}
	xasprintf(&out, "%s%s%s", first, *first != '\0' && *last != '\0' ?
	    "," : "", last);
	if (*first != '\0')
		debug("%s: prefer host key algorithms %s", name, first);
	free(first);
	free(last);
	free(copy);
	free(name);
	free(host);
	if (cmdkf != NULL)
		knownhosts_file_free(cmdkf);
	return out;
}

/*
 * RevokedHostKeys as ssh's sshkey_check_revoked() reads a file of public
 * keys (one "type base64 [comment]" a line): 1 if key is in it, 0 if
 * not, -1 with the reason when the file cannot be checked (missing, as
 * ssh fails then; a binary KRL or certificate lines, which mrsh does not
 * read). The path is used as written, as ssh 9.2 does.
 */
static int
knownhosts_revoked(const char *path, const unsigned char *key, size_t keylen,
    char *why, size_t whylen)
{
	static const char krl_magic[] = "SSHKRL\n";
	static const char cert_sfx[] = "-cert-v01@openssh.com";
	FILE *fp;
	char *buf = NULL, *p, *b64;
	unsigned char *blob;
	size_t bufsz = 0, n, bloblen;
	int found = 0, rc = 0;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	while (!found && getline(&buf, &bufsz, fp) != -1) {
		if (strncmp(buf, krl_magic, sizeof krl_magic - 1) == 0) {
			snprintf(why, whylen, "a binary KRL, which mrsh "
			    "cannot read");
			rc = -1;
			break;
		}
		p = buf + strspn(buf, " \t");
		if (*p == '#' || *p == '\n' || *p == '\0')
			continue;
		n = strcspn(p, " \t\r\n");
		if (n > sizeof cert_sfx - 1 && strncmp(p + n -
		    (sizeof cert_sfx - 1), cert_sfx, sizeof cert_sfx - 1) ==
		    0) {
			snprintf(why, whylen, "a certificate line, which mrsh "
			    "cannot check");
			rc = -1;
			break;
		}
		b64 = p + n;
		b64 += strspn(b64, " \t");
		n = strcspn(b64, " \t\r\n");
		if ((blob = sshwire_unbase64(b64, n, KNOWNHOSTS_B64_MAX,
		    &bloblen)) == NULL)
			continue;
		found = bloblen == keylen && memcmp(blob, key, keylen) == 0;
		free(blob);
	}
	if (ferror(fp) && rc == 0) {
		snprintf(why, whylen, "%s", strerror(errno));
		rc = -1;
	}
	free(buf);
	fclose(fp);
	return rc == -1 ? -1 : found;
}

/* ---- KnownHostsCommand ----------------------------------------------- */

#define KH_COMMAND_MAX	(16 * 1024 * 1024)	/* output read, at most */

/*
 * Run KnownHostsCommand as sshconnect.c load_hostkeys_command does: no
 * shell, input /dev/null, its standard error mrsh's, the words of
 * hc->kh_command with the second-pass tokens; its output read as
 * known_hosts lines into a new file named "KnownHostsCommand-INVOCATION"
 * (as ssh names it in messages). A command that does not exit 0 refuses
 * the host (ssh: fatal). The loop waits meanwhile (as for Match exec), at
 * most timeout seconds; then the command is killed and the host refused.
 */
static struct knownhosts_file *
knownhosts_command(const struct ssh_host_config *hc, const char *invocation,
    const char *hostfile_name, const char *type, const char *fp,
    const unsigned char *key, size_t keylen, double timeout, char *err,
    size_t errlen)
{
	struct knownhosts_file *kf = NULL;
	struct subproc_result res;
	struct pctok toks[6];
	char **av, *keytext, bad = 0;
	int ac, i;
	FILE *f;

	for (ac = 0; hc->kh_command[ac] != NULL; ac++)
		;
	keytext = key != NULL ? sshwire_base64(key, keylen, NULL) :
	    xstrdup("NONE");
	/*
	 * The second pass (sshconfig.c made the first): %H the name looked
	 * up, %I HOSTNAME or ADDRESS, %t the key type, %f its fingerprint,
	 * %K its base64, %%. Any other token is an error, as in ssh.
	 */
	toks[0] = (struct pctok){ 'H', hostfile_name };
	toks[1] = (struct pctok){ 'I', invocation };
	toks[2] = (struct pctok){ 't', type };
	toks[3] = (struct pctok){ 'f', fp };
	toks[4] = (struct pctok){ 'K', keytext };
	toks[5] = (struct pctok){ '\0', NULL };
	av = xcalloc((size_t)ac + 1, sizeof *av);
	av[0] = xstrdup(hc->kh_command[0]);
	for (i = 1; i < ac; i++) {
		if ((av[i] = pctok_expand(hc->kh_command[i], toks, 0,
		    &bad)) == NULL) {
			snprintf(err, errlen, "KnownHostsCommand %s: unknown "
			    "token %%%c", hc->kh_command_raw,
			    bad != '\0' ? bad : '%');
			goto out;
		}
	}
	debug("KnownHostsCommand-%s: running %s", invocation, av[0]);
	if (subproc_capture("KnownHostsCommand", av[0], av, NULL, timeout,
	    KH_COMMAND_MAX, &res) == -1) {
		snprintf(err, errlen, "KnownHostsCommand %s: %s", av[0],
		    strerror(errno));
		goto out;
	}
	if (res.timedout)
		snprintf(err, errlen, "KnownHostsCommand %s did not finish "
		    "within %g s (the connect timeout)", av[0], timeout);
	else if (res.toolong)
		snprintf(err, errlen, "KnownHostsCommand %s printed more than "
		    "%d MB", av[0], KH_COMMAND_MAX / (1024 * 1024));
	else if (!WIFEXITED(res.status))
		snprintf(err, errlen, "KnownHostsCommand %s exited on signal "
		    "%d; not connecting", av[0], WIFSIGNALED(res.status) ?
		    WTERMSIG(res.status) : 0);
	else if (WEXITSTATUS(res.status) != 0)
		snprintf(err, errlen, "KnownHostsCommand %s failed, status "
		    "%d; not connecting", av[0], WEXITSTATUS(res.status));
	else {
		kf = xcalloc(1, sizeof *kf);
		xasprintf(&kf->path, "KnownHostsCommand-%s", invocation);
		if (res.len > 0 &&
		    (f = fmemopen(res.out, res.len, "r")) != NULL) {
			knownhosts_read_fp(kf, f, kf->path);
			fclose(f);
		}
		debug("%s: %zu known host entries", kf->path, kf->n);
	}
	free(res.out);
out:
	for (i = 0; i < ac; i++)
		free(av[i]);
	free(av);
	free(keytext);
	return kf;
}

/*
 * CheckHostIP (sshconnect.c get_hostfile_hostname_ipaddr): the address
 * connected to as known_hosts names it, [addr]:port for a port other than
 * 22; NULL when ssh would not check it: no TCP peer (ProxyCommand,
 * ProxyJump), a loopback address, or a host name that is that address.
 */
static char *
knownhosts_ip_name(const struct ssh_host_config *hc,
    const struct sockaddr *peer, int withport)
{
	char ntop[NI_MAXHOST], *ip;
	socklen_t len;

	if (!hc->check_host_ip || peer == NULL)
		return NULL;
	if (net_addr_is_loopback(peer))
		return NULL;
	switch (peer->sa_family) {
	case AF_INET:
		len = sizeof(struct sockaddr_in);
		break;
	case AF_INET6:
		len = sizeof(struct sockaddr_in6);
		break;
	default:
		return NULL;
	}
	if (getnameinfo(peer, len, ntop, sizeof ntop, NULL, 0,
	    NI_NUMERICHOST) != 0)
		return NULL;
	if (!withport || hc->port <= 0 || hc->port == 22)
		ip = xstrdup(ntop);
	else
		xasprintf(&ip, "[%s]:%d", ntop, hc->port);
	if (strcmp(hc->hostname, ip) == 0) {
		free(ip);
		return NULL;
	}
	return ip;
}

int
knownhosts_check(LIBSSH2_SESSION *session, const struct ssh_host_config *hc,
    const struct sockaddr *peer, double timeout, char *err, size_t errlen)
{
	const unsigned char *key;
	size_t keylen;
	int keytype;

	key = (const unsigned char *)libssh2_session_hostkey(session, &keylen,
	    &keytype);
	if (key == NULL) {
		snprintf(err, errlen, "no host key from %s", hc->hostname);
		return -1;
	}
	return knownhosts_check_key(key, keylen, hc, peer, timeout, err,
	    errlen);
}

int
knownhosts_check_key(const unsigned char *key, size_t keylen,
    const struct ssh_host_config *hc, const struct sockaddr *peer,
    double timeout, char *err, size_t errlen)
{
	struct knownhosts_file *kf[2 * SSHCFG_MAX_FILES + 1];
	struct knownhosts_file *cmdkf = NULL, *ipcmdkf = NULL;
	enum knownhosts_status st, ipst = KH_NEW;
	const struct knownhosts_entry *found = NULL, *found2, *ipfound = NULL;
	const char *file = NULL, *file2, *ipfile = NULL, *ipwhy;
	char *name = NULL, *bare, *type = NULL, *ip, *both, fp[96], why[256];
	char spoof[512];
	int nkf, line = 0, line2, ipline = 0, have_ca, have_ca2, ipca;
	int rc = -1, readonly = 0, readonly_bare = 0;

	if ((type = knownhosts_blob_type(key, keylen)) == NULL) {
		snprintf(err, errlen, "no host key from %s", hc->hostname);
		return -1;
	}
	knownhosts_fingerprint(key, keylen, fp, sizeof fp);
	/* As ssh: RevokedHostKeys first, whatever StrictHostKeyChecking. */
	if (hc->revoked_host_keys != NULL) {
		switch (knownhosts_revoked(hc->revoked_host_keys, key, keylen,
		    why, sizeof why)) {
		case 1:
			snprintf(err, errlen, "Host key %s %s revoked by file "
			    "%s", type, fp, hc->revoked_host_keys);
			free(type);
			return -1;
		case -1:
			snprintf(err, errlen, "Error checking host key %s %s in "
			    "revoked keys file %s: %s", type, fp,
			    hc->revoked_host_keys, why);
			free(type);
			return -1;
		}
	}
	nkf = knownhosts_files(hc, kf);
	name = knownhosts_name(hc, 1);
	ip = knownhosts_ip_name(hc, peer, 1);
	if (timeout <= 0)
		timeout = 3600;
	if (hc->kh_command != NULL) {
		/* As ssh: its keys after the files', for the host name. */
		if ((cmdkf = knownhosts_command(hc, "HOSTNAME", name, type, fp,
		    key, keylen, timeout, err, errlen)) == NULL)
			goto out;
		kf[nkf] = cmdkf;
	}

	st = knownhosts_lookup(kf, nkf + (cmdkf != NULL), name, key, keylen,
	    &file, &line, &have_ca, &found);
	/* ssh: a port other than 22 with nothing known: try the bare host. */
	if (st == KH_NEW && hc->host_key_alias == NULL && hc->port > 0 &&
	    hc->port != 22) {
		bare = knownhosts_name(hc, 0);
		if (knownhosts_lookup(kf, nkf, bare, key, keylen, &file2,
		    &line2, &have_ca2, &found2) == KH_OK) {
			st = KH_OK;
			file = file2;
			line = line2;
			found = found2;
			/* ssh checks again without the port, read-only. */
			free(ip);
			ip = knownhosts_ip_name(hc, peer, 0);
			readonly = readonly_bare = 1;
		}
		/* ssh would have found the CA for a certificate this way. */
		have_ca |= have_ca2;
		free(bare);
	}
	if (hc->nuser_known_hosts == 0 ||
	    strcspn(hc->hostname, "@?*#[]|'\"\\") != strlen(hc->hostname) ||
	    (st == KH_OK && cmdkf != NULL && file == cmdkf->path))
		readonly = 1;	/* ssh: nor when the command vouched for it */
	if (ip != NULL && hc->kh_command != NULL && !readonly_bare) {
		if ((ipcmdkf = knownhosts_command(hc, "ADDRESS", ip, type, fp,
		    key, keylen, timeout, err, errlen)) == NULL)
			goto out;
		kf[nkf] = ipcmdkf;
	}
	if (ip != NULL)
		ipst = knownhosts_lookup(kf, nkf + (ipcmdkf != NULL), ip, key,
		    keylen, &ipfile, &ipline, &ipca, &ipfound);

	switch (st) {
	case KH_OK:
		debug("%s: host key %s %s found in %s:%d", name, type, fp,
		    file, line);
		rc = 0;
		if (ip == NULL || ipst != KH_NEW)
			break;
		/* CheckHostIP: record the address's key too, as ssh. */
		if (readonly) {
			info("%s host key for IP address '%s' not in list of "
			    "known hosts.", type, ip);
			break;
		}
		if (knownhosts_append(kf[0], ip, hc->hash_known_hosts,
		    type, key, keylen, why, sizeof why) != 0)
			warnx_m("Failed to add the %s host key for IP address "
			    "'%s' to the list of known hosts (%s).", type, ip,
			    kf[0]->path);
		else
			info("Warning: Permanently added the %s host key for "
			    "IP address '%s' to the list of known hosts.",
			    type, ip);
		break;
	case KH_IS_REVOKED:
		if (hc->strict == STRICT_NO) {
			warnx_m("%s: the %s host key %s is marked as revoked "
			    "in %s:%d; connecting anyway without password "
			    "authentication (StrictHostKeyChecking no)", name,
			    type, fp, file, line);
			rc = 1;
			break;
		}
		snprintf(err, errlen, "the %s host key for %s (%s) is marked "
		    "as REVOKED in %s:%d \xe2\x80\x94 possibly a stolen key "
		    "impersonating the host", type, name, fp, file, line);
		break;
	case KH_CHANGED:
		/* CheckHostIP: ssh's "POSSIBLE DNS SPOOFING DETECTED". */
		spoof[0] = '\0';
		if (ip != NULL && (ipst != KH_CHANGED || (ipfound != NULL &&
		    found != NULL && (ipfound->bloblen != found->bloblen ||
		    memcmp(ipfound->blob, found->blob, found->bloblen) !=
		    0)))) {
			ipwhy = ipst == KH_NEW ? "is unknown" : ipst == KH_OK ?
			    "is unchanged" : "has a different value";
			snprintf(spoof, sizeof spoof, "POSSIBLE DNS SPOOFING: "
			    "the key for the IP address %s %s; ", ip, ipwhy);
		}
		if (hc->strict == STRICT_NO) {
			warnx_m("%shost key for %s has CHANGED (%s %s); "
			    "connecting anyway without password "
			    "authentication (StrictHostKeyChecking no)", spoof,
			    name, type, fp);
			rc = 1;
			break;
		}
		snprintf(err, errlen, "%shost key for %s%s%s%s has CHANGED (%s "
		    "%s) \xe2\x80\x94 possible man-in-the-middle; remove the "
		    "old key with: ssh-keygen -R '%s' -f %s (line %d)", spoof,
		    hc->hostname, ALIAS_FMT(hc), type, fp, name, file, line);
		break;
	case KH_NEW:
		if (have_ca && hc->strict != STRICT_NO) {
			snprintf(err, errlen, "%s is known only through "
			    "@cert-authority, and libssh2 cannot verify host "
			    "certificates; refusing its plain %s key %s "
			    "(add that key to known_hosts to trust it)", name,
			    type, fp);
			break;
		}
		if (hc->strict != STRICT_ACCEPT_NEW &&
		    hc->strict != STRICT_NO) {
			snprintf(err, errlen, "host key for %s%s%s%s not known "
			    "(%s %s); accept it with -o "
			    "StrictHostKeyChecking=accept-new or add it to %s "
			    "(ssh-keyscan -p %d %s)", hc->hostname,
			    ALIAS_FMT(hc), type, fp,
			    hc->nuser_known_hosts > 0 ?
			    hc->user_known_hosts[0] : "~/.ssh/known_hosts",
			    hc->port > 0 ? hc->port : 22, hc->hostname);
			break;
		}
		/*
		 * As ssh: with no user file, or a name that could not be
		 * read back, nothing is recorded, and accept-new refuses.
		 */
		if (readonly) {
			if (hc->strict == STRICT_NO) {
				rc = 0;
				break;
			}
			snprintf(err, errlen, "host key for %s not known (%s "
			    "%s) and %s; cannot accept it", name, type, fp,
			    hc->nuser_known_hosts == 0 ? "UserKnownHostsFile "
			    "is none" : "the name cannot be recorded");
			break;
		}
		rc = 0;
		if (ip != NULL && ipst == KH_NEW && !hc->hash_known_hosts) {
			/* CheckHostIP: "host,ip" on one line, as ssh. */
			xasprintf(&both, "%s,%s", name, ip);
			if (knownhosts_append(kf[0], both, 0, type, key,
			    keylen, err, errlen) != 0)
				warnx_m("%s", err);
			else
				info("%s: added host key %s %s to %s", both,
				    type, fp, kf[0]->path);
			free(both);
			break;
		}
		if (knownhosts_append(kf[0], name, hc->hash_known_hosts,
		    type, key, keylen, err, errlen) != 0 ||
		    (ip != NULL && ipst == KH_NEW &&
		    knownhosts_append(kf[0], ip, 1, type, key, keylen, err,
		    errlen) != 0)) {
			/* ssh: "Failed to add the host", and goes on. */
			warnx_m("%s", err);
			break;
		}
		info("%s: added host key %s %s to %s", name, type, fp,
		    kf[0]->path);
		break;
	}
	/*
	 * CheckHostIP: a host key that is fine (or accepted) but differs
	 * from the address's refuses the host, as ssh does with strict
	 * checking (and with "ask", which mrsh never asks).
	 */
	if (rc >= 0 && ip != NULL && st != KH_CHANGED && ipst == KH_CHANGED) {
		if (hc->strict == STRICT_NO)
			warnx_m("the %s host key for '%s' differs from the key "
			    "for the IP address '%s' (offending key for IP in "
			    "%s:%d)", type, name, ip, ipfile, ipline);
		else {
			why[0] = '\0';
			if (st == KH_OK)
				snprintf(why, sizeof why, "; matching host key "
				    "in %s:%d", file, line);
			snprintf(err, errlen, "the %s host key for '%s' differs "
			    "from the key for the IP address '%s' (offending "
			    "key for IP in %s:%d%s) and CheckHostIP is on: "
			    "refusing, as ssh with strict checking", type,
			    name, ip, ipfile, ipline, why);
			rc = -1;
		}
	}
out:
	if (cmdkf != NULL)
		knownhosts_file_free(cmdkf);
	if (ipcmdkf != NULL)
		knownhosts_file_free(ipcmdkf);
	free(ip);
	free(type);
	free(name);
	return rc;
}
