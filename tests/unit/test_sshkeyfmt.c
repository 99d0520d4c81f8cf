/*
 * Unit tests for decrypting an OpenSSH private key once per run
 * (src/ssh_keyfmt.c, src/bcrypt_pbkdf.c): bcrypt_pbkdf against the
 * published vectors (OpenBSD's regress test, also in golang.org/x/crypto
 * and RustCrypto's bcrypt-pbkdf); keys made by ssh-keygen -N -a -Z with
 * every cipher we decrypt, whose decrypted form ssh-keygen -y reads back
 * to the same public key as the .pub file (and ssh_sign.c can sign with);
 * a wrong passphrase, a key with nothing to decrypt and garbage told
 * apart; hand-made keys with a bad armour, magic, cipher, KDF parameters
 * or an empty passphrase; corrupt .pub lines and certificate blobs
 * (src/ssh_keys.c) named as ssh names them, or not read as keys.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrsh/bcrypt_pbkdf.h"

#include "mrsh/sshwire.h"

#include "../../src/ssh_keyfmt.h"
#include "../../src/ssh_keys.h"
#include "../../src/ssh_sign.h"
#include "tap.h"
#include "testutil.h"

static char dir[64];

/* The first two fields of a public key line ("type base64"). */
static char *
pubfields(char *line)
{
	char *sp;

	if (line == NULL || (sp = strchr(line, ' ')) == NULL ||
	    (sp = strpbrk(sp + 1, " \n")) == NULL)
		return line;
	*sp = '\0';
	return line;
}

static void
hex(const char *h, uint8_t *out, size_t *len)
{
	size_t	n = 0;
	unsigned int v;

	for (; h[0] != '\0' && h[1] != '\0'; h += 2) {
		sscanf(h, "%2x", &v);
		out[n++] = (uint8_t)v;
	}
	*len = n;
}

static void
test_pbkdf(void)
{
	static const struct {
		const char	*pass;
		size_t		 passlen;
		const char	*salt;
		size_t		 saltlen;
		unsigned int	 rounds;
		const char	*out;
	} v[] = {
		{ "password", 8, "salt", 4, 4,
		  "5bbf0cc293587f1c3635555c27796598"
		  "d47e579071bf427e9d8fbe842aba34d9" },
		{ "password", 8, "\0", 1, 4,
		  "c12b566235eee04c212598970a579a67" },
		{ "\0", 1, "salt", 4, 4,
		  "6051be18c2f4f82cbf0efee5471b4bb9" },
		{ "password\0", 9, "salt\0", 5, 4,
		  "7410e44cf4fa07bfaac8a928b1727fac"
		  "001375e7bf7384370f48efd121743050" },
		{ "pass\0wor", 8, "sa\0l", 4, 4,
		  "c2bffd9db38f6569efef4372f4de83c0" },
		{ "password", 8, "salt", 4, 8,
		  "e1367ec5151a33faac4cc1c144cd23fa"
		  "15d5548493ecc99b9b5d9c0d3b27bec7"
		  "6227ea66088b849b20ab7aa478010246"
		  "e74bba51723fefa9f9474d6508845e8d" },
		{ "password", 8, "salt", 4, 42,
		  "833cf0dcf56db65608e8f0dc0ce882bd" },
	};
	uint8_t	want[64], got[64];
	size_t	i, n;
	char	what[128];

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		hex(v[i].out, want, &n);
		memset(got, 0xaa, sizeof got);
		snprintf(what, sizeof what, "bcrypt_pbkdf vector %zu (%u "
		    "rounds, %zu bytes)", i + 1, v[i].rounds, n);
		ok(bcrypt_pbkdf(v[i].pass, v[i].passlen,
		    (const uint8_t *)v[i].salt, v[i].saltlen, got, n,
		    v[i].rounds) == 0 && memcmp(got, want, n) == 0, what);
	}
	is_int(bcrypt_pbkdf("pw", 2, (const uint8_t *)"salt", 4, got, 32, 0),
	    -1, "bcrypt_pbkdf: 0 rounds refused");
	is_int(bcrypt_pbkdf("", 0, (const uint8_t *)"salt", 4, got, 32, 4),
	    -1, "bcrypt_pbkdf: an empty passphrase refused");
}

/*
 * ssh-keygen an encrypted key (type args, cipher) as dir/name, decrypt it,
 * and check the result: ssh-keygen -y reads it without a passphrase and
 * gives the .pub file's key.
 */
static void
test_key(const char *name, const char *type, const char *cipher, int sign)
{
	char	 cmd[1024], path[256], what[256], why[128];
	char	*priv, *plain = NULL, *pub, *pub2;
	size_t	 len, plainlen, l2;
	FILE	*fp;
	enum ssh_keyfmt_status st;
	struct ssh_signer *sg;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	snprintf(cmd, sizeof cmd, "ssh-keygen -q %s -N 'pass phrase' -a 2 "
	    "-Z %s -C test -f %s </dev/null >/dev/null 2>&1", type, cipher,
	    path);
	if (system(cmd) != 0 || (priv = read_file(path, &len)) == NULL) {
		skip_n(sign ? 5 : 4, "ssh-keygen cannot make this key");
		return;
	}
	st = ssh_keyfmt_decrypt(priv, len, "pass phrase", &plain, &plainlen,
	    why, sizeof why);
	snprintf(what, sizeof what, "%s %s: decrypted (%s)", type, cipher,
	    why);
	is_int(st, SSH_KEYFMT_OK, what);
	snprintf(what, sizeof what, "%s %s: says how (%s)", type, cipher, why);
	snprintf(cmd, sizeof cmd, "bcrypt, 2 rounds, %s", cipher);
	is_str(why, cmd, what);
	if (st != SSH_KEYFMT_OK) {
		skip_n(sign ? 3 : 2, "not decrypted");
		free(priv);
		return;
	}
	snprintf(path, sizeof path, "%s/%s.plain", dir, name);
	if ((fp = fopen(path, "w")) != NULL) {
		fwrite(plain, 1, plainlen, fp);
		fclose(fp);
	}
	snprintf(cmd, sizeof cmd, "chmod 600 %s && ssh-keygen -y -P '' -f %s "
	    ">%s/%s.y 2>/dev/null", path, path, dir, name);
	snprintf(what, sizeof what, "%s %s: ssh-keygen -y reads the "
	    "decrypted key without a passphrase", type, cipher);
	ok(system(cmd) == 0, what);
	snprintf(path, sizeof path, "%s/%s.pub", dir, name);
	pub = pubfields(read_file(path, &l2));
	snprintf(path, sizeof path, "%s/%s.y", dir, name);
	pub2 = pubfields(read_file(path, &l2));
	snprintf(what, sizeof what, "%s %s: and gets the .pub file's key",
	    type, cipher);
	ok(pub != NULL && pub2 != NULL && strcmp(pub, pub2) == 0, what);
	if (sign) {
		sg = ssh_signer_new(plain, plainlen);
		snprintf(what, sizeof what, "%s %s: ssh_sign.c parses the "
		    "decrypted key", type, cipher);
		ok(sg != NULL, what);
		ssh_signer_free(sg);
	}
	free(pub);
	free(pub2);
	free(plain);

	/* the wrong passphrase is told from a bad key */
	st = ssh_keyfmt_decrypt(priv, len, "pass phrasf", &plain, &plainlen,
	    why, sizeof why);
	snprintf(what, sizeof what, "%s %s: wrong passphrase (%s)", type,
	    cipher, why);
	ok(st == SSH_KEYFMT_WRONG_PASSPHRASE && plain == NULL, what);
	free(priv);
}

/* Wire fields, appended to a growing buffer. */
struct wbuf {
	unsigned char	b[4096];
	size_t		n;
};

static void
wstr(struct wbuf *w, const void *s, size_t len)
{
	w->n = (size_t)(sshwire_put_string(w->b + w->n, s, len) - w->b);
}

static void
wcstr(struct wbuf *w, const char *s)
{
	wstr(w, s, strlen(s));
}

static void
wu32(struct wbuf *w, uint32_t v)
{
	w->n = (size_t)(sshwire_put32(w->b + w->n, v) - w->b);
}

/*
 * An armoured openssh-key-v1 text: magic (may be wrong), cipher, KDF and
 * its options, one key with a dummy public blob and enclen bytes of
 * "encrypted" data; end: with the END line. Malloc'd.
 */
static char *
mkkey(const char *magic, size_t magiclen, const char *cipher,
    const char *kdf, const struct wbuf *kopts, size_t enclen, int end)
{
	struct wbuf	 w, pub;
	char		*b64, *text;
	size_t		 i;

	memset(&w, 0, sizeof w);
	memset(&pub, 0, sizeof pub);
	memcpy(w.b, magic, magiclen);
	w.n = magiclen;
	wcstr(&w, cipher);
	wcstr(&w, kdf);
	wstr(&w, kopts->b, kopts->n);
	wu32(&w, 1);
	wcstr(&pub, "ssh-ed25519");
	wstr(&pub, "0123456789abcdef0123456789abcdef", 32);
	wstr(&w, pub.b, pub.n);
	wu32(&w, (uint32_t)enclen);
	for (i = 0; i < enclen; i++)
		w.b[w.n++] = (unsigned char)i;
	b64 = sshwire_base64(w.b, w.n, NULL);
	if (asprintf(&text, "-----BEGIN OPENSSH PRIVATE KEY-----\n%s\n%s",
	    b64, end ? "-----END OPENSSH PRIVATE KEY-----\n" : "") == -1)
		text = NULL;
	free(b64);
	return (text);
}

/* ssh_keyfmt_decrypt on text with passphrase: status, and why in why. */
static enum ssh_keyfmt_status
decrypt(const char *text, const char *pass, char *why, size_t whylen)
{
	enum ssh_keyfmt_status	 st;
	char			*plain = NULL;
	size_t			 plainlen;

	st = ssh_keyfmt_decrypt(text, strlen(text), pass, &plain, &plainlen,
	    why, whylen);
	free(plain);
	return (st);
}

/* Keys that are not what they claim: each refused, saying why. */
static void
test_bad_keys(void)
{
	static const char magic[] = "openssh-key-v1";	/* with its NUL */
	struct wbuf	 kopts, nosalt, norounds;
	char		*text, why[128];

	memset(&kopts, 0, sizeof kopts);
	wstr(&kopts, "saltsaltsaltsalt", 16);
	wu32(&kopts, 2);
	memset(&nosalt, 0, sizeof nosalt);
	wstr(&nosalt, "", 0);
	wu32(&nosalt, 2);
	memset(&norounds, 0, sizeof norounds);
	wstr(&norounds, "saltsaltsaltsalt", 16);
	wu32(&norounds, 0);

	text = mkkey(magic, sizeof magic, "aes256-ctr", "bcrypt", &kopts, 32,
	    1);
	is_int(decrypt(text, "pass", why, sizeof why),
	    SSH_KEYFMT_WRONG_PASSPHRASE, "hand-made key: the builder makes "
	    "one that decrypts to garbage (wrong passphrase)");
	is_int(decrypt(text, "", why, sizeof why),
	    SSH_KEYFMT_WRONG_PASSPHRASE, "empty passphrase: a wrong one, as "
	    "OpenSSH's sshkey.c says (not an invalid key)");
	is_str(why, "wrong passphrase", "empty passphrase: says so");
	free(text);

	text = mkkey(magic, sizeof magic, "aes256-ctr", "bcrypt", &kopts, 32,
	    0);
	is_int(decrypt(text, "pass", why, sizeof why), SSH_KEYFMT_INVALID,
	    "BEGIN line but no END line (a cut file): invalid");
	is_str(why, "not an encrypted OpenSSH key",
	    "no END line: not read as an OpenSSH key at all");
	free(text);

	text = mkkey("openssh-key-v2", sizeof magic, "aes256-ctr", "bcrypt",
	    &kopts, 32, 1);
	is_int(decrypt(text, "pass", why, sizeof why), SSH_KEYFMT_INVALID,
	    "wrong magic (openssh-key-v2): invalid");
	is_str(why, "not an encrypted OpenSSH key",
	    "wrong magic: not read as an OpenSSH key");
	free(text);

	text = mkkey(magic, sizeof magic, "blowfish-cbc", "bcrypt", &kopts, 32,
	    1);
	is_int(decrypt(text, "pass", why, sizeof why),
	    SSH_KEYFMT_UNSUPPORTED, "cipher blowfish-cbc: unsupported");
	is_str(why, "cipher blowfish-cbc", "unsupported cipher: named");
	free(text);

	text = mkkey(magic, sizeof magic, "aes256-ctr", "scrypt", &kopts, 32,
	    1);
	is_int(decrypt(text, "pass", why, sizeof why),
	    SSH_KEYFMT_UNSUPPORTED, "KDF scrypt: unsupported");
	is_str(why, "KDF scrypt", "unsupported KDF: named");
	free(text);

	text = mkkey(magic, sizeof magic, "aes256-ctr", "bcrypt", &norounds,
	    32, 1);
	is_int(decrypt(text, "pass", why, sizeof why), SSH_KEYFMT_INVALID,
	    "bcrypt with 0 rounds: invalid");
	is_str(why, "not a valid encrypted OpenSSH key",
	    "0 rounds: says the key is not valid");
	free(text);

	text = mkkey(magic, sizeof magic, "aes256-ctr", "bcrypt", &nosalt, 32,
	    1);
	is_int(decrypt(text, "pass", why, sizeof why), SSH_KEYFMT_INVALID,
	    "bcrypt with an empty salt (bcrypt_pbkdf refuses it): invalid");
	free(text);

	text = mkkey(magic, sizeof magic, "aes256-ctr", "bcrypt", &kopts, 24,
	    1);
	is_int(decrypt(text, "pass", why, sizeof why), SSH_KEYFMT_INVALID,
	    "encrypted length not a multiple of the block size: invalid");
	free(text);
}

/*
 * ssh_key_peek on an IdentityFile holding LINE (a public key line): a
 * public-only key with a blob, or (corrupt) no key at all.
 */
static struct ssh_key *
peekline(struct ssh_keyring *kr, const char *name, const char *line)
{
	char	path[256];

	snprintf(path, sizeof path, "%s/%s.pub", dir, name);
	if (write_file(path, line) == -1)
		return (NULL);
	return (ssh_key_peek(kr, path, 1));
}

static void
test_publines(void)
{
	struct ssh_keyring	 kr;
	struct ssh_key		*k;
	struct wbuf		 w;
	char			 line[512], *b64;

	memset(&kr, 0, sizeof kr);
	memset(&w, 0, sizeof w);
	wcstr(&w, "ssh-ed25519");
	wstr(&w, "0123456789abcdef0123456789abcdef", 32);
	b64 = sshwire_base64(w.b, w.n, NULL);

	snprintf(line, sizeof line, "ssh-ed25519 %s comment\n", b64);
	k = peekline(&kr, "good", line);
	ok(k != NULL && k->pubonly && k->blob != NULL && k->bloblen == w.n,
	    ".pub line: a public-only key with its blob");
	ok(k != NULL && strncmp(k->desc, "ED25519 SHA256:", 15) == 0,
	    ".pub line: described as ssh -l does");

	k = peekline(&kr, "nospace", "ssh-ed25519\n");
	ok(k != NULL && !k->pubonly && k->blob == NULL,
	    "corrupt .pub: a type without a key is no public key");
	k = peekline(&kr, "short", "ssh-ed25519 AAAA c\n");
	ok(k != NULL && !k->pubonly && k->blob == NULL,
	    "corrupt .pub: a key too short to be one is no public key");
	k = peekline(&kr, "badb64", "ssh-ed25519 AAAA*notbase64*== c\n");
	ok(k != NULL && !k->pubonly && k->blob == NULL,
	    "corrupt .pub: bad base64 is no public key");
	snprintf(line, sizeof line, "ssh-rsa %s comment\n", b64);
	k = peekline(&kr, "mismatch", line);
	ok(k != NULL && !k->pubonly && k->blob == NULL,
	    "corrupt .pub: a line type unlike the blob's is no public key");
	free(b64);
	ssh_keyring_free(&kr);
}

/* ssh_key_describe(blob): the text after the type label. */
static const char *
fingerprint(const struct wbuf *w, char *buf, size_t len)
{
	const char	*sp;

	ssh_key_describe(w->b, w->n, buf, len);
	return ((sp = strchr(buf, ' ')) != NULL ? sp + 1 : buf);
}

/*
 * Certificates are named by their plain key's fingerprint, as ssh does;
 * a blob that is no certificate we know is fingerprinted whole.
 */
static void
test_cert_blobs(void)
{
	struct wbuf	 plain, cert, bad;
	char		 b1[128], b2[128];
	const char	*f1, *f2;

	memset(&plain, 0, sizeof plain);
	wcstr(&plain, "sk-ssh-ed25519@openssh.com");
	wstr(&plain, "0123456789abcdef0123456789abcdef", 32);
	wcstr(&plain, "ssh:");
	memset(&cert, 0, sizeof cert);
	wcstr(&cert, "sk-ssh-ed25519-cert-v01@openssh.com");
	wcstr(&cert, "nonce");
	wstr(&cert, "0123456789abcdef0123456789abcdef", 32);
	wcstr(&cert, "ssh:");
	wu32(&cert, 1);			/* serial... and so on, not read */
	f1 = fingerprint(&plain, b1, sizeof b1);
	f2 = fingerprint(&cert, b2, sizeof b2);
	is_str(f2, f1, "sk-ssh-ed25519 certificate: its key's fingerprint");
	ok(strncmp(b2, "ED25519-SK-CERT ", 16) == 0,
	    "sk-ssh-ed25519 certificate: labelled ED25519-SK-CERT");

	/* truncated: the type and nonce only; the whole blob's hash */
	memset(&bad, 0, sizeof bad);
	wcstr(&bad, "ssh-ed25519-cert-v01@openssh.com");
	wcstr(&bad, "nonce");
	f1 = fingerprint(&bad, b1, sizeof b1);
	bad.n -= 9;		/* no nonce either */
	f2 = fingerprint(&bad, b2, sizeof b2);
	ok(strncmp(b1, "ED25519-CERT SHA256:", 20) == 0 &&
	    strncmp(b2, "ED25519-CERT SHA256:", 20) == 0 && strcmp(f1, f2) != 0,
	    "truncated certificate: fingerprinted whole, no crash");

	memset(&bad, 0, sizeof bad);
	wcstr(&bad, "ssh-foo-cert-v01@openssh.com");
	wcstr(&bad, "nonce");
	wcstr(&bad, "key");
	ssh_key_describe(bad.b, bad.n, b1, sizeof b1);
	ok(strncmp(b1, "unknown SHA256:", 15) == 0,
	    "certificate of an unknown key type: \"unknown\", whole blob");

	memset(&bad, 0, sizeof bad);
	wcstr(&bad, "ecdsa-sha2-nistp256-but-no-certificate");
	wcstr(&bad, "key");
	ssh_key_describe(bad.b, bad.n, b1, sizeof b1);
	ok(strncmp(b1, "unknown SHA256:", 15) == 0,
	    "a long type that is no certificate: \"unknown\", whole blob");
}

int
main(void)
{
	static const char *ciphers[] = {
		"aes256-ctr", "aes128-ctr", "aes192-ctr", "aes128-cbc",
		"aes192-cbc", "aes256-cbc", "aes128-gcm@openssh.com",
		"aes256-gcm@openssh.com", "3des-cbc",
		"chacha20-poly1305@openssh.com",
	};
	char	 cmd[1024], path[256], why[128], name[64], *priv, *plain;
	size_t	 i, len, plainlen;

	test_pbkdf();

	snprintf(dir, sizeof dir, "/tmp/mrsh-test-keyfmt.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	for (i = 0; i < sizeof ciphers / sizeof ciphers[0]; i++) {
		snprintf(name, sizeof name, "ed%zu", i);
		test_key(name, "-t ed25519", ciphers[i], 1);
	}
	test_key("ec256", "-t ecdsa -b 256", "aes256-ctr", 1);
	test_key("ec521", "-t ecdsa -b 521", "aes256-ctr", 1);
	test_key("rsa", "-t rsa -b 2048", "aes256-ctr", 0);

	/* an unencrypted key, garbage, a cut key */
	snprintf(path, sizeof path, "%s/plain", dir);
	snprintf(cmd, sizeof cmd, "ssh-keygen -q -t ed25519 -N '' -f %s "
	    "</dev/null >/dev/null 2>&1", path);
	if (system(cmd) == 0 && (priv = read_file(path, &len)) != NULL) {
		is_int(ssh_keyfmt_decrypt(priv, len, "pass", &plain, &plainlen,
		    why, sizeof why), SSH_KEYFMT_UNSUPPORTED,
		    "an unencrypted key: nothing to decrypt");
		free(priv);
	} else
		skip("an unencrypted key", "ssh-keygen failed");
	is_int(ssh_keyfmt_decrypt("garbage", 7, "pass", &plain, &plainlen,
	    why, sizeof why), SSH_KEYFMT_INVALID, "garbage: invalid");
	snprintf(path, sizeof path, "%s/ed0", dir);
	if ((priv = read_file(path, &len)) != NULL) {
		/* drop two whole lines of base64 (105 bytes) before the last */
		char *end = strstr(priv, "-----END"), *last = NULL;

		if (end != NULL && end - priv > 300) {
			for (last = end - 2; *last != '\n'; last--)
				;
			last++;
			memmove(last - 2 * 71, last, strlen(last) + 1);
		}
		is_int(ssh_keyfmt_decrypt(priv, strlen(priv), "pass phrase",
		    &plain, &plainlen, why, sizeof why), SSH_KEYFMT_INVALID,
		    "a key cut short: invalid, no crash");
		free(priv);
	} else
		skip("a key cut short", "no key");

	test_bad_keys();
	test_publines();
	test_cert_blobs();

	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		diag("cleanup failed");
	return done_testing();
}
