/*
 * Unit tests for the once-per-run key signer (src/ssh_sign.c): an
 * unencrypted ed25519 key made by ssh-keygen is parsed, its public blob is
 * the one in the .pub file, its signatures verify with the public key;
 * ECDSA keys are parsed and sign as SSH wants (mpint r, mpint s);
 * encrypted keys, other key types and garbage are declined (NULL), so the
 * transport falls back to libssh2's own parser; so are hand-made keys
 * whose check numbers differ or whose ECDSA fields are cut short.
 */
#include "config.h"

#include <openssl/evp.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrsh/sshwire.h"

#include "../../src/ssh_sign.h"
#include "tap.h"
#include "testutil.h"

static char dir[64];

/* ssh-keygen a key into dir/name; returns the private key text. */
static char *
keygen(const char *name, const char *args, size_t *len)
{
	char cmd[512], path[256];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	snprintf(cmd, sizeof cmd, "ssh-keygen -q %s -C test -f %s "
	    "</dev/null >/dev/null 2>&1", args, path);
	if (system(cmd) != 0)
		return NULL;
	return read_file(path, len);
}

/* The binary blob of a .pub line ("type base64 comment"). */
static unsigned char *
pubblob(const char *name, size_t *len)
{
	char path[256], *text, *b64, *end;
	unsigned char *out;
	size_t tl, n;
	int r;

	snprintf(path, sizeof path, "%s/%s.pub", dir, name);
	if ((text = read_file(path, &tl)) == NULL)
		return NULL;
	b64 = strchr(text, ' ') + 1;
	end = strchr(b64, ' ');
	n = (size_t)(end - b64);
	out = calloc(1, n);
	r = EVP_DecodeBlock(out, (unsigned char *)b64, (int)n);
	*len = (size_t)r - (b64[n - 1] == '=') - (b64[n - 2] == '=');
	free(text);
	return out;
}

/*
 * An unencrypted openssh-key-v1 key text around a private section of
 * check1, check2 and then the fields (strings) given. Malloc'd.
 */
static char *
mkplain(uint32_t check1, uint32_t check2, const char **fields, int n)
{
	static const char magic[] = "openssh-key-v1";
	unsigned char	 sec[1024], bin[2048], *w, *p;
	char		*b64, *text;
	int		 i;

	p = sshwire_put32(sec, check1);
	p = sshwire_put32(p, check2);
	for (i = 0; i < n; i++)
		p = sshwire_put_string(p, fields[i], strlen(fields[i]));
	memcpy(bin, magic, sizeof magic);
	w = bin + sizeof magic;
	w = sshwire_put_string(w, "none", 4);
	w = sshwire_put_string(w, "none", 4);
	w = sshwire_put_string(w, "", 0);
	w = sshwire_put32(w, 1);
	w = sshwire_put_string(w, "pub", 3);
	w = sshwire_put_string(w, sec, (size_t)(p - sec));
	b64 = sshwire_base64(bin, (size_t)(w - bin), NULL);
	if (asprintf(&text, "-----BEGIN OPENSSH PRIVATE KEY-----\n%s\n"
	    "-----END OPENSSH PRIVATE KEY-----\n", b64) == -1)
		text = NULL;
	free(b64);
	return (text);
}

/* Hand-made keys that are not what they claim: declined, no crash. */
static void
test_bad_private(void)
{
	const char	*ec[] = { "ecdsa-sha2-nistp256", "nistp256", "Q" };
	const char	*ed[] = { "ssh-ed25519" };
	char		*k;

	k = mkplain(1, 2, ed, 1);
	ok(k != NULL && ssh_signer_new(k, strlen(k)) == NULL,
	    "check numbers that differ: declined");
	free(k);
	k = mkplain(7, 7, ec, 3);
	ok(k != NULL && ssh_signer_new(k, strlen(k)) == NULL,
	    "ECDSA private section without d: declined");
	free(k);
	k = mkplain(7, 7, ec, 2);
	ok(k != NULL && ssh_signer_new(k, strlen(k)) == NULL,
	    "ECDSA private section without Q: declined");
	free(k);
	k = mkplain(7, 7, ed, 1);
	ok(k != NULL && ssh_signer_new(k, strlen(k)) == NULL,
	    "ed25519 private section without keys: declined");
	free(k);
}

int
main(void)
{
	struct ssh_signer *sg;
	const unsigned char *blob;
	unsigned char *want, *sig = NULL;
	size_t len = 0, bloblen = 0, wantlen = 0, siglen = 0;
	const unsigned char msg[] = "session id and userauth request";
	EVP_PKEY *pub;
	EVP_MD_CTX *ctx;
	void *abstract;
	char *priv, cmd[128], what[128];
	int i;

	snprintf(dir, sizeof dir, "/tmp/mrsh-test-sign.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;

	priv = keygen("ed", "-t ed25519 -N ''", &len);
	if (!ok(priv != NULL, "ssh-keygen made an ed25519 key")) {
		printf("Bail out! ssh-keygen missing\n");
		return 1;
	}
	sg = ssh_signer_new(priv, len);
	ok(sg != NULL, "unencrypted ed25519 key parsed");
	blob = ssh_signer_pubkey(sg, &bloblen);
	want = pubblob("ed", &wantlen);
	ok(want != NULL && bloblen == wantlen &&
	    memcmp(blob, want, wantlen) == 0,
	    "public blob equals the .pub file's");

	abstract = sg;
	is_int(ssh_signer_sign(NULL, &sig, &siglen, msg, sizeof msg,
	    &abstract), 0, "sign");
	is_int(siglen, 64, "an ed25519 signature is 64 bytes");
	/* The raw public key is the last 32 bytes of the blob. */
	pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
	    blob + bloblen - 32, 32);
	ctx = EVP_MD_CTX_new();
	ok(EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pub) == 1 &&
	    EVP_DigestVerify(ctx, sig, siglen, msg, sizeof msg) == 1,
	    "the signature verifies with the public key");
	EVP_MD_CTX_free(ctx);
	ctx = EVP_MD_CTX_new();
	sig[0] ^= 1;
	ok(EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pub) == 1 &&
	    EVP_DigestVerify(ctx, sig, siglen, msg, sizeof msg) != 1,
	    "a changed signature does not verify (the check can fail)");
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pub);
	free(sig);
	free(want);
	ssh_signer_free(sg);
	free(priv);

	priv = keygen("enc", "-t ed25519 -N secret", &len);
	ok(priv != NULL && ssh_signer_new(priv, len) == NULL,
	    "encrypted key declined (libssh2 parses it)");
	free(priv);
	/* ECDSA: parsed; the signature is SSH's mpint r, mpint s. */
	for (i = 0; i < 3; i++) {
		static const char *bits[] = { "256", "384", "521" };
		char opts[64], name[16];
		size_t off = 0, l;
		int n;

		snprintf(name, sizeof name, "ec%s", bits[i]);
		snprintf(opts, sizeof opts, "-t ecdsa -b %s -N ''", bits[i]);
		priv = keygen(name, opts, &len);
		sg = priv != NULL ? ssh_signer_new(priv, len) : NULL;
		snprintf(what, sizeof what, "ecdsa-%s key parsed", bits[i]);
		ok(sg != NULL, what);
		if (sg == NULL) {
			free(priv);
			continue;
		}
		blob = ssh_signer_pubkey(sg, &bloblen);
		want = pubblob(name, &wantlen);
		snprintf(what, sizeof what, "ecdsa-%s: public blob equals "
		    "the .pub file's", bits[i]);
		ok(want != NULL && bloblen == wantlen &&
		    memcmp(blob, want, wantlen) == 0, what);
		abstract = sg;
		sig = NULL;
		snprintf(what, sizeof what, "ecdsa-%s: sign", bits[i]);
		is_int(ssh_signer_sign(NULL, &sig, &siglen, msg, sizeof msg,
		    &abstract), 0, what);
		for (n = 0; n < 2 && sig != NULL && siglen - off >= 4; n++) {
			l = (size_t)sig[off] << 24 | (size_t)sig[off + 1] << 16 |
			    (size_t)sig[off + 2] << 8 | sig[off + 3];
			if (l > siglen - off - 4 || l == 0 ||
			    (l > 1 && sig[off + 4] == 0 &&
			    (sig[off + 5] & 0x80) == 0) ||
			    (sig[off + 4] & 0x80) != 0)
				break;	/* not a minimal positive mpint */
			off += 4 + l;
		}
		snprintf(what, sizeof what, "ecdsa-%s: two mpints, r and s",
		    bits[i]);
		ok(n == 2 && off == siglen, what);
		free(sig);
		free(want);
		ssh_signer_free(sg);
		free(priv);
	}
	priv = keygen("pem", "-t ed25519 -N ''", &len);
	ok(priv != NULL && ssh_signer_new("garbage", 7) == NULL,
	    "garbage declined");
	priv[len / 2] = '!';	/* corrupt the base64 */
	ok(ssh_signer_new(priv, len) == NULL, "corrupt key declined");
	free(priv);
	test_bad_private();

	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		diag("cleanup failed");
	return done_testing();
}
