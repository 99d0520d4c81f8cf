/*
 * known_hosts checking for the ssh transport, as OpenSSH does it: the user
 * files then the global files, plain and hashed entries, [host]:port for a
 * port other than 22, and StrictHostKeyChecking yes / no / accept-new.
 *
 * A run may reach thousands of hosts, so each file is parsed once and kept
 * in a cache keyed by its path. libssh2 ties a LIBSSH2_KNOWNHOSTS collection
 * to a session for its allocator (every check base64-encodes the key with
 * it), so the cached collections belong to a private session that is never
 * connected and lives as long as the cache, not to any host's session.
 *
 * With HashKnownHosts, accept-new writes |1|salt|HMAC-SHA1(salt, name) as
 * OpenSSH does; libssh2 has no public HMAC, so a small SHA-1 lives here.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh2.h>

#include "mrsh/log.h"
#include "mrsh/sshconfig.h"
#include "mrsh/xmalloc.h"

#define KNOWNHOSTS_BUCKETS	256
#define KNOWNHOSTS_LINE_MAX	16384
#define KNOWNHOSTS_SHA1_LEN	20

/* One known_hosts file, parsed. */
struct knownhosts_file {
	char			*path;
	LIBSSH2_KNOWNHOSTS	*hosts;		/* empty if no file */
	struct knownhosts_file	*next;
};

static LIBSSH2_SESSION		*knownhosts_owner;
static struct knownhosts_file	*knownhosts_table[KNOWNHOSTS_BUCKETS];

/* FNV-1a, to spread paths over the buckets. */
static unsigned int
knownhosts_hash(const char *s)
{
	unsigned int h = 2166136261u;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h % KNOWNHOSTS_BUCKETS;
}

/*
 * Parse a file line by line into hosts. libssh2_knownhost_readfile() stops
 * at the first line it does not understand (a @cert-authority marker, a key
 * type it lacks), so lines are fed one at a time and bad ones skipped.
 */
static void
knownhosts_read(LIBSSH2_KNOWNHOSTS *hosts, const char *path)
{
	FILE *fp;
	char *buf = NULL, *p;
	size_t bufsz = 0;
	ssize_t len;
	int lineno = 0, nread = 0;

	if ((fp = fopen(path, "r")) == NULL) {
		if (errno != ENOENT)
			debug("%s: %s", path, strerror(errno));
		return;
	}
	while ((len = getline(&buf, &bufsz, fp)) != -1) {
		lineno++;
		p = buf + strspn(buf, " \t");
		if (*p == '\0' || *p == '\n' || *p == '#')
			continue;
		if (*p == '@') {
			debug2("%s:%d: markers are not supported; line "
			    "skipped", path, lineno);
			continue;
		}
		if (libssh2_knownhost_readline(hosts, p, strlen(p),
		    LIBSSH2_KNOWNHOST_FILE_OPENSSH) != 0) {
			debug2("%s:%d: line not understood by libssh2; "
			    "skipped", path, lineno);
			continue;
		}
		nread++;
	}
	free(buf);
	fclose(fp);
	debug("%s: %d known host entries", path, nread);
}

/* The parsed file for path, read on first use; NULL if out of memory. */
static struct knownhosts_file *
knownhosts_get(const char *path)
{
	struct knownhosts_file *kf;
	unsigned int h;

	h = knownhosts_hash(path);
	for (kf = knownhosts_table[h]; kf != NULL; kf = kf->next) {
		if (strcmp(kf->path, path) == 0)
			return kf;
	}
	if (knownhosts_owner == NULL &&
	    (knownhosts_owner = libssh2_session_init()) == NULL)
		return NULL;
	kf = xcalloc(1, sizeof *kf);
	if ((kf->hosts = libssh2_knownhost_init(knownhosts_owner)) == NULL) {
		free(kf);
		return NULL;
	}
	kf->path = xstrdup(path);
	knownhosts_read(kf->hosts, path);
	kf->next = knownhosts_table[h];
	knownhosts_table[h] = kf;
	return kf;
}

void
knownhosts_cache_free(void)
{
	struct knownhosts_file *kf, *next;
	size_t i;

	for (i = 0; i < KNOWNHOSTS_BUCKETS; i++) {
		for (kf = knownhosts_table[i]; kf != NULL; kf = next) {
			next = kf->next;
			libssh2_knownhost_free(kf->hosts);
			free(kf->path);
			free(kf);
		}
		knownhosts_table[i] = NULL;
	}
	if (knownhosts_owner != NULL) {
		libssh2_session_free(knownhosts_owner);
		knownhosts_owner = NULL;
	}
}

/* libssh2 host key type to known_hosts type bits and name. */
static int
knownhosts_keytype(int type, const char **name)
{
	switch (type) {
	case LIBSSH2_HOSTKEY_TYPE_RSA:
		*name = "ssh-rsa";
		return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
	case LIBSSH2_HOSTKEY_TYPE_DSS:
		*name = "ssh-dss";
		return LIBSSH2_KNOWNHOST_KEY_SSHDSS;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_256:
		*name = "ecdsa-sha2-nistp256";
		return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_384:
		*name = "ecdsa-sha2-nistp384";
		return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_521:
		*name = "ecdsa-sha2-nistp521";
		return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
	case LIBSSH2_HOSTKEY_TYPE_ED25519:
		*name = "ssh-ed25519";
		return LIBSSH2_KNOWNHOST_KEY_ED25519;
	default:
		*name = "unknown";
		return -1;
	}
}

/* Base64 of n bytes into out (4 * ((n + 2) / 3) + 1 bytes), '=' if pad. */
static void
knownhosts_base64(const unsigned char *in, size_t n, int pad, char *out)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;
	unsigned int v;

	for (i = 0; i < n; i += 3) {
		v = (unsigned int)in[i] << 16;
		if (i + 1 < n)
			v |= (unsigned int)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = b64[(v >> 6) & 63];
		else if (pad)
			out[o++] = '=';
		if (i + 2 < n)
			out[o++] = b64[v & 63];
		else if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
}

/* "SHA256:" and unpadded base64 of the key's SHA-256, as OpenSSH shows. */
static void
knownhosts_fingerprint(LIBSSH2_SESSION *session, char *out, size_t outlen)
{
	const unsigned char *h;
	char buf[64];

	h = (const unsigned char *)libssh2_hostkey_hash(session,
	    LIBSSH2_HOSTKEY_HASH_SHA256);
	if (h == NULL) {
		snprintf(out, outlen, "SHA256:?");
		return;
	}
	knownhosts_base64(h, 32, 0, buf);
	snprintf(out, outlen, "SHA256:%s", buf);
}

struct knownhosts_sha1 {
	uint32_t	h[5];
	uint64_t	len;
	unsigned char	buf[64];
	size_t		nbuf;
};

#define KNOWNHOSTS_ROL(x, n)	(((x) << (n)) | ((x) >> (32 - (n))))

/* One SHA-1 compression of a 64-byte block (RFC 3174). */
static void
knownhosts_sha1_block(uint32_t h[5], const unsigned char *p)
{
	uint32_t w[80], a, b, c, d, e, f, k, t;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 |
		    (uint32_t)p[4 * i + 1] << 16 |
		    (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (i = 16; i < 80; i++)
		w[i] = KNOWNHOSTS_ROL(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^
		    w[i - 16], 1);
	a = h[0];
	b = h[1];
	c = h[2];
	d = h[3];
	e = h[4];
	for (i = 0; i < 80; i++) {
		if (i < 20) {
			f = (b & c) | (~b & d);
			k = 0x5a827999;
		} else if (i < 40) {
			f = b ^ c ^ d;
			k = 0x6ed9eba1;
		} else if (i < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8f1bbcdc;
		} else {
			f = b ^ c ^ d;
			k = 0xca62c1d6;
		}
		t = KNOWNHOSTS_ROL(a, 5) + f + e + k + w[i];
		e = d;
		d = c;
		c = KNOWNHOSTS_ROL(b, 30);
		b = a;
		a = t;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
}

static void
knownhosts_sha1_init(struct knownhosts_sha1 *ctx)
{
	ctx->h[0] = 0x67452301;
	ctx->h[1] = 0xefcdab89;
	ctx->h[2] = 0x98badcfe;
	ctx->h[3] = 0x10325476;
	ctx->h[4] = 0xc3d2e1f0;
	ctx->len = 0;
	ctx->nbuf = 0;
}

static void
knownhosts_sha1_update(struct knownhosts_sha1 *ctx, const void *data,
    size_t n)
{
	const unsigned char *p = data;

	ctx->len += n;
	while (n > 0) {
		ctx->buf[ctx->nbuf++] = *p++;
		n--;
		if (ctx->nbuf == 64) {
			knownhosts_sha1_block(ctx->h, ctx->buf);
			ctx->nbuf = 0;
		}
	}
}

static void
knownhosts_sha1_final(struct knownhosts_sha1 *ctx,
    unsigned char out[KNOWNHOSTS_SHA1_LEN])
{
	uint64_t bits = ctx->len * 8;
	unsigned char lenbuf[8], zero = 0, one = 0x80;
	int i;

	knownhosts_sha1_update(ctx, &one, 1);
	while (ctx->nbuf != 56)
		knownhosts_sha1_update(ctx, &zero, 1);
	for (i = 0; i < 8; i++)
		lenbuf[i] = (unsigned char)(bits >> (56 - 8 * i));
	knownhosts_sha1_update(ctx, lenbuf, 8);
	for (i = 0; i < 5; i++) {
		out[4 * i] = (unsigned char)(ctx->h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(ctx->h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(ctx->h[i] >> 8);
		out[4 * i + 3] = (unsigned char)ctx->h[i];
	}
}

/* HMAC-SHA1 (RFC 2104) with a key of at most 64 bytes. */
static void
knownhosts_hmac_sha1(const unsigned char *key, size_t keylen,
    const char *msg, unsigned char out[KNOWNHOSTS_SHA1_LEN])
{
	struct knownhosts_sha1 ctx;
	unsigned char pad[64], inner[KNOWNHOSTS_SHA1_LEN];
	size_t i;

	memset(pad, 0, sizeof pad);
	memcpy(pad, key, keylen);
	for (i = 0; i < sizeof pad; i++)
		pad[i] ^= 0x36;
	knownhosts_sha1_init(&ctx);
	knownhosts_sha1_update(&ctx, pad, sizeof pad);
	knownhosts_sha1_update(&ctx, msg, strlen(msg));
	knownhosts_sha1_final(&ctx, inner);
	for (i = 0; i < sizeof pad; i++)
		pad[i] ^= 0x36 ^ 0x5c;
	knownhosts_sha1_init(&ctx);
	knownhosts_sha1_update(&ctx, pad, sizeof pad);
	knownhosts_sha1_update(&ctx, inner, sizeof inner);
	knownhosts_sha1_final(&ctx, out);
}

/*
 * Add name's key to the collection, hashed as "|1|salt|hash" if hash is
 * set. Returns the entry or NULL.
 */
static struct libssh2_knownhost *
knownhosts_add(struct knownhosts_file *kf, const char *name, int hash,
    const char *key, size_t keylen, int keybits)
{
	struct libssh2_knownhost *entry;
	unsigned char salt[KNOWNHOSTS_SHA1_LEN], mac[KNOWNHOSTS_SHA1_LEN];
	char salt64[32], mac64[32];
	ssize_t n;
	int fd;

	if (!hash) {
		if (libssh2_knownhost_addc(kf->hosts, name, NULL, key, keylen,
		    NULL, 0, LIBSSH2_KNOWNHOST_TYPE_PLAIN |
		    LIBSSH2_KNOWNHOST_KEYENC_RAW | keybits, &entry) != 0)
			return NULL;
		return entry;
	}
	n = getrandom(salt, sizeof salt, 0);
	if (n != (ssize_t)sizeof salt) {
		if ((fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)) == -1)
			return NULL;
		n = read(fd, salt, sizeof salt);
		close(fd);
		if (n != (ssize_t)sizeof salt)
			return NULL;
	}
	knownhosts_hmac_sha1(salt, sizeof salt, name, mac);
	knownhosts_base64(salt, sizeof salt, 1, salt64);
	knownhosts_base64(mac, sizeof mac, 1, mac64);
	if (libssh2_knownhost_addc(kf->hosts, mac64, salt64, key, keylen,
	    NULL, 0, LIBSSH2_KNOWNHOST_TYPE_SHA1 |
	    LIBSSH2_KNOWNHOST_KEYENC_RAW | keybits, &entry) != 0)
		return NULL;
	return entry;
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

/*
 * accept-new: add the key to the cached file and append its line to the
 * file with one O_APPEND write, so that other writers do not interleave.
 */
static int
knownhosts_append(struct knownhosts_file *kf, const char *name, int hash,
    const char *key, size_t keylen, int keybits, char *err, size_t errlen)
{
	struct libssh2_knownhost *entry;
	struct stat sb;
	char *line, last;
	size_t len = 0;
	ssize_t n;
	int fd;

	if ((entry = knownhosts_add(kf, name, hash, key, keylen,
	    keybits)) == NULL) {
		snprintf(err, errlen, "cannot add host key for %s", name);
		return -1;
	}
	line = xmalloc(KNOWNHOSTS_LINE_MAX);
	if (libssh2_knownhost_writeline(kf->hosts, entry, line,
	    KNOWNHOSTS_LINE_MAX - 2, &len,
	    LIBSSH2_KNOWNHOST_FILE_OPENSSH) != 0) {
		snprintf(err, errlen, "cannot format host key for %s", name);
		goto fail;
	}
	if (len == 0 || line[len - 1] != '\n')
		line[len++] = '\n';

	knownhosts_mkdir(kf->path);
	fd = open(kf->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1) {
		snprintf(err, errlen, "cannot add host key for %s to %s: %s",
		    name, kf->path, strerror(errno));
		goto fail;
	}
	/* A file whose last line lacks its newline must not swallow ours. */
	if (fstat(fd, &sb) == 0 && sb.st_size > 0 &&
	    pread(fd, &last, 1, sb.st_size - 1) == 1 && last != '\n') {
		memmove(line + 1, line, len);
		line[0] = '\n';
		len++;
	}
	n = write(fd, line, len);
	if (n != (ssize_t)len) {
		snprintf(err, errlen, "cannot add host key for %s to %s: %s",
		    name, kf->path, n == -1 ? strerror(errno) : "short write");
		close(fd);
		goto fail;
	}
	if (close(fd) == -1) {
		snprintf(err, errlen, "cannot add host key for %s to %s: %s",
		    name, kf->path, strerror(errno));
		goto fail;
	}
	free(line);
	return 0;
fail:
	libssh2_knownhost_del(kf->hosts, entry);
	free(line);
	return -1;
}

int
knownhosts_check(LIBSSH2_SESSION *session, const char *host, int port,
    const struct ssh_host_config *hc, char *err, size_t errlen)
{
	struct knownhosts_file *kf;
	const char *files[2 * SSHCFG_MAX_FILES];
	const char *key, *keyname, *changed = NULL;
	char *name, fp[96];
	size_t keylen;
	int i, nfiles = 0, keytype, keybits, r, rc = -1;

	if ((key = libssh2_session_hostkey(session, &keylen, &keytype)) ==
	    NULL) {
		snprintf(err, errlen, "no host key from %s", host);
		return -1;
	}
	keybits = knownhosts_keytype(keytype, &keyname);
	knownhosts_fingerprint(session, fp, sizeof fp);
	if (keybits == -1) {
		if (hc->strict == STRICT_NO)
			return 0;
		snprintf(err, errlen, "host key for %s has a type mrsh cannot "
		    "check (%s)", host, fp);
		return -1;
	}
	/* OpenSSH writes and looks up [host]:port for any port but 22. */
	if (port <= 0 || port == 22)
		name = xstrdup(host);
	else
		xasprintf(&name, "[%s]:%d", host, port);

	for (i = 0; i < hc->nuser_known_hosts; i++)
		files[nfiles++] = hc->user_known_hosts[i];
	for (i = 0; i < hc->nglobal_known_hosts; i++)
		files[nfiles++] = hc->global_known_hosts[i];
	for (i = 0; i < nfiles; i++) {
		if ((kf = knownhosts_get(files[i])) == NULL) {
			snprintf(err, errlen, "cannot read %s", files[i]);
			goto out;
		}
		/* Port -1: name already has the [host]:port form if needed. */
		r = libssh2_knownhost_checkp(kf->hosts, name, -1, key, keylen,
		    LIBSSH2_KNOWNHOST_TYPE_PLAIN |
		    LIBSSH2_KNOWNHOST_KEYENC_RAW | keybits, NULL);
		if (r == LIBSSH2_KNOWNHOST_CHECK_MATCH) {
			debug("%s: host key %s %s found in %s", name, keyname,
			    fp, files[i]);
			rc = 0;
			goto out;
		}
		if (r == LIBSSH2_KNOWNHOST_CHECK_MISMATCH && changed == NULL)
			changed = files[i];
	}

	if (changed != NULL) {
		if (hc->strict == STRICT_NO) {
			warnx_m("host key for %s has CHANGED (%s %s); "
			    "connecting anyway (StrictHostKeyChecking no)",
			    host, keyname, fp);
			rc = 0;
			goto out;
		}
		if (port <= 0 || port == 22)
			snprintf(err, errlen, "host key for %s has CHANGED "
			    "(%s %s) \xe2\x80\x94 possible man-in-the-middle; "
			    "remove the old key with: ssh-keygen -R '%s' -f %s",
			    host, keyname, fp, host, changed);
		else
			snprintf(err, errlen, "host key for %s has CHANGED "
			    "(%s %s) \xe2\x80\x94 possible man-in-the-middle; "
			    "remove the old key with: ssh-keygen -R '[%s]:%d' "
			    "-f %s", host, keyname, fp, host, port, changed);
		goto out;
	}

	switch (hc->strict) {
	case STRICT_NO:
		rc = 0;
		break;
	case STRICT_ACCEPT_NEW:
		if (hc->nuser_known_hosts == 0) {
			snprintf(err, errlen, "host key for %s not known (%s "
			    "%s) and UserKnownHostsFile is none; cannot "
			    "accept it", host, keyname, fp);
			break;
		}
		if ((kf = knownhosts_get(hc->user_known_hosts[0])) == NULL) {
			snprintf(err, errlen, "cannot read %s",
			    hc->user_known_hosts[0]);
			break;
		}
		if (knownhosts_append(kf, name, hc->hash_known_hosts, key,
		    keylen, keybits, err, errlen) != 0)
			break;
		info("%s: added host key %s %s to %s", name, keyname, fp,
		    kf->path);
		rc = 0;
		break;
	default:
		snprintf(err, errlen, "host key for %s not known (%s %s); "
		    "accept it with -o StrictHostKeyChecking=accept-new or add "
		    "it to %s (ssh-keyscan -p %d %s)", host, keyname, fp,
		    hc->nuser_known_hosts > 0 ? hc->user_known_hosts[0] :
		    "~/.ssh/known_hosts", port > 0 ? port : 22, host);
		break;
	}
out:
	free(name);
	return rc;
}
