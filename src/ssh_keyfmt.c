/*
 * OpenSSH's private key format, "openssh-key-v1" (PROTOCOL.key in
 * OpenSSH): the armour and the wire fields, for ssh_sign.c, and the
 * decryption of an encrypted key, once per run.
 *
 * libssh2_userauth_publickey_frommemory() with a passphrase runs the
 * bcrypt KDF again for every host (about 130 ms of CPU at ssh-keygen's
 * default 16 rounds: the whole cost of such a run). Here the key is
 * decrypted as OpenSSH's sshkey.c private2_decrypt() does it (bcrypt_pbkdf
 * gives the cipher's key and IV, the check bytes tell a wrong passphrase)
 * and written out again with cipher and KDF "none": ssh_sign.c parses that
 * (ed25519, ECDSA), and libssh2 reads it without a passphrase (RSA and the
 * rest). Ciphers: every one ssh-keygen -Z offers (AES CTR, CBC and GCM,
 * 3DES-CBC, chacha20-poly1305), through libcrypto.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "mrsh/bcrypt_pbkdf.h"
#include "mrsh/sshwire.h"
#include "mrsh/xmalloc.h"

#include "ssh_keyfmt.h"

#define OPENSSH_BEGIN	"-----BEGIN OPENSSH PRIVATE KEY-----"
#define OPENSSH_END	"-----END OPENSSH PRIVATE KEY-----"
#define OPENSSH_MAGIC	"openssh-key-v1"	/* followed by a NUL */
#define OPENSSH_COLS	70			/* base64 per line, as ssh-keygen */

/* The base64 between the armour lines, decoded; NULL if there is none. */
static unsigned char *
ssh_keyfmt_unarmour(const char *priv, size_t privlen, size_t *outlen)
{
	const char *begin, *end, *p;
	unsigned char *out;
	char *b64;
	size_t n = 0;

	if ((begin = memmem(priv, privlen, OPENSSH_BEGIN,
	    strlen(OPENSSH_BEGIN))) == NULL)
		return (NULL);
	begin += strlen(OPENSSH_BEGIN);
	if ((end = memmem(begin, privlen - (size_t)(begin - priv), OPENSSH_END,
	    strlen(OPENSSH_END))) == NULL)
		return (NULL);
	b64 = xmalloc((size_t)(end - begin) + 1);
	for (p = begin; p < end; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			continue;
		b64[n++] = *p;
	}
	out = sshwire_unbase64(b64, n, INT32_MAX, outlen);
	free(b64);
	return (out);
}

unsigned char *
ssh_keyfmt_open(const char *priv, size_t privlen, size_t *rawlen,
    struct sshwire *b)
{
	unsigned char	*raw;

	if ((raw = ssh_keyfmt_unarmour(priv, privlen, rawlen)) == NULL)
		return (NULL);
	if (*rawlen < sizeof OPENSSH_MAGIC ||
	    memcmp(raw, OPENSSH_MAGIC, sizeof OPENSSH_MAGIC) != 0) {
		explicit_bzero(raw, *rawlen);
		free(raw);
		return (NULL);
	}
	sshwire_init(b, raw + sizeof OPENSSH_MAGIC,
	    *rawlen - sizeof OPENSSH_MAGIC);
	return (raw);
}

/*
 * The ciphers of OpenSSH's cipher.c that a key can be encrypted with
 * (evp NULL: chacha20-poly1305, ssh_keyfmt_chachapoly).
 */
static const struct ssh_keyfmt_cipher {
	const char	*name;
	const EVP_CIPHER *(*evp)(void);
	size_t		 keylen;
	size_t		 ivlen;
	size_t		 authlen;	/* GCM tag after the encrypted data */
	size_t		 blocksize;
} ssh_keyfmt_ciphers[] = {
	{ "aes128-ctr", EVP_aes_128_ctr, 16, 16, 0, 16 },
	{ "aes192-ctr", EVP_aes_192_ctr, 24, 16, 0, 16 },
	{ "aes256-ctr", EVP_aes_256_ctr, 32, 16, 0, 16 },
	{ "aes128-cbc", EVP_aes_128_cbc, 16, 16, 0, 16 },
	{ "aes192-cbc", EVP_aes_192_cbc, 24, 16, 0, 16 },
	{ "aes256-cbc", EVP_aes_256_cbc, 32, 16, 0, 16 },
	{ "aes128-gcm@openssh.com", EVP_aes_128_gcm, 16, 12, 16, 16 },
	{ "aes256-gcm@openssh.com", EVP_aes_256_gcm, 32, 12, 16, 16 },
	{ "3des-cbc", EVP_des_ede3_cbc, 24, 8, 0, 8 },
	{ "chacha20-poly1305@openssh.com", NULL, 64, 0, 16, 8 },
};

/*
 * chacha20-poly1305@openssh.com as OpenSSH's cipher-chachapoly-libcrypto.c
 * decrypts a key (sequence number 0, no additional data): the first 32
 * bytes of key are ChaCha20's; its block 0 is the Poly1305 key, which
 * must authenticate the ciphertext; the data is encrypted from block 1.
 * libcrypto's ChaCha20 IV is the 64-bit block counter and 64-bit nonce,
 * little-endian counter first, as OpenSSH passes it.
 */
static int
ssh_keyfmt_chachapoly(const unsigned char *key, const unsigned char *in,
    size_t len, const unsigned char *tag, unsigned char *out)
{
	unsigned char	 iv[16], polykey[32], mac[16];
	EVP_CIPHER_CTX	*ctx = NULL;
	EVP_MAC		*poly = NULL;
	EVP_MAC_CTX	*mctx = NULL;
	size_t		 maclen = 0;
	int		 n, rc = -1;

	memset(iv, 0, sizeof iv);
	memset(polykey, 0, sizeof polykey);
	if (len > INT32_MAX || (ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(ctx, EVP_chacha20(), NULL, key, iv) != 1 ||
	    EVP_EncryptUpdate(ctx, polykey, &n, polykey,
	    sizeof polykey) != 1 ||
	    (poly = EVP_MAC_fetch(NULL, "POLY1305", NULL)) == NULL ||
	    (mctx = EVP_MAC_CTX_new(poly)) == NULL ||
	    EVP_MAC_init(mctx, polykey, sizeof polykey, NULL) != 1 ||
	    EVP_MAC_update(mctx, in, len) != 1 ||
	    EVP_MAC_final(mctx, mac, &maclen, sizeof mac) != 1 ||
	    maclen != sizeof mac || CRYPTO_memcmp(mac, tag, sizeof mac) != 0)
		goto out;
	iv[0] = 1;	/* block counter 1 */
	if (EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, iv) != 1 ||
	    EVP_EncryptUpdate(ctx, out, &n, in, (int)len) != 1 ||
	    (size_t)n != len)
		goto out;
	rc = 0;
out:
	explicit_bzero(polykey, sizeof polykey);
	EVP_MAC_CTX_free(mctx);
	EVP_MAC_free(poly);
	EVP_CIPHER_CTX_free(ctx);
	return (rc);
}

/*
 * Decrypt len bytes at in into out with key and IV (then tag, for GCM
 * and chacha20-poly1305). -1 if libcrypto fails or the tag differs.
 */
static int
ssh_keyfmt_crypt(const struct ssh_keyfmt_cipher *c, const unsigned char *key,
    const unsigned char *in, size_t len, const unsigned char *tag,
    unsigned char *out)
{
	EVP_CIPHER_CTX	*ctx;
	int		 n, fin, rc = -1;

	if (c->evp == NULL)
		return (ssh_keyfmt_chachapoly(key, in, len, tag, out));
	if (len > INT32_MAX || (ctx = EVP_CIPHER_CTX_new()) == NULL)
		return (-1);
	if (EVP_DecryptInit_ex(ctx, c->evp(), NULL, NULL, NULL) != 1 ||
	    (c->authlen > 0 && EVP_CIPHER_CTX_ctrl(ctx,
	    EVP_CTRL_GCM_SET_IVLEN, (int)c->ivlen, NULL) != 1) ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, key, key + c->keylen) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
	    EVP_DecryptUpdate(ctx, out, &n, in, (int)len) != 1 ||
	    (c->authlen > 0 && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG,
	    (int)c->authlen, (void *)(uintptr_t)tag) != 1) ||
	    EVP_DecryptFinal_ex(ctx, out + n, &fin) != 1 ||
	    (size_t)n + (size_t)fin != len)
		goto out;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return (rc);
}

/*
 * The unencrypted key file for public blob pub and decrypted private
 * section sec, armoured as ssh-keygen writes it.
 */
static char *
ssh_keyfmt_armour(const unsigned char *pub, size_t publen,
    const unsigned char *sec, size_t seclen, size_t *outlen)
{
	unsigned char	*bin, *w;
	char		*b64, *text, *p;
	size_t		 binlen, b64len, i, n;

	binlen = sizeof OPENSSH_MAGIC + 3 * 4 + 8 + 4 + 4 + publen + 4 +
	    seclen;
	bin = xmalloc(binlen);
	memcpy(bin, OPENSSH_MAGIC, sizeof OPENSSH_MAGIC);
	w = bin + sizeof OPENSSH_MAGIC;
	w = sshwire_put_string(w, "none", 4);	/* cipher */
	w = sshwire_put_string(w, "none", 4);	/* kdf */
	w = sshwire_put_string(w, "", 0);	/* kdf options */
	w = sshwire_put32(w, 1);		/* one key */
	w = sshwire_put_string(w, pub, publen);
	w = sshwire_put_string(w, sec, seclen);

	b64 = sshwire_base64(bin, (size_t)(w - bin), &b64len);
	explicit_bzero(bin, binlen);
	free(bin);

	n = strlen(OPENSSH_BEGIN) + 1 + b64len + b64len / OPENSSH_COLS + 1 +
	    strlen(OPENSSH_END) + 2;
	p = text = xmalloc(n);
	p += sprintf(p, "%s\n", OPENSSH_BEGIN);
	for (i = 0; i < b64len; i += OPENSSH_COLS) {
		memcpy(p, b64 + i, b64len - i < OPENSSH_COLS ? b64len - i :
		    OPENSSH_COLS);
		p += b64len - i < OPENSSH_COLS ? b64len - i : OPENSSH_COLS;
		*p++ = '\n';
	}
	p += sprintf(p, "%s\n", OPENSSH_END);
	explicit_bzero(b64, b64len);
	free(b64);
	*outlen = (size_t)(p - text);
	return (text);
}

enum ssh_keyfmt_status
ssh_keyfmt_decrypt(const char *priv, size_t privlen, const char *passphrase,
    char **out, size_t *outlen, char *what, size_t whatlen)
{
	const struct ssh_keyfmt_cipher *c = NULL;
	struct sshwire		 b, kdf;
	const unsigned char	*cname, *kname, *kopts, *pub, *enc, *salt;
	unsigned char		*raw, *key = NULL, *dec = NULL;
	size_t			 rawlen, cnamelen, knamelen, koptslen, publen;
	size_t			 saltlen, i, keyivlen = 0;
	uint32_t		 nkeys, enclen, rounds, check1, check2;
	enum ssh_keyfmt_status	 st = SSH_KEYFMT_INVALID;

	*out = NULL;
	*outlen = 0;
	snprintf(what, whatlen, "not an encrypted OpenSSH key");
	if ((raw = ssh_keyfmt_open(priv, privlen, &rawlen, &b)) == NULL)
		return (st);
	if (sshwire_string(&b, &cname, &cnamelen) == -1 ||
	    sshwire_string(&b, &kname, &knamelen) == -1 ||
	    sshwire_string(&b, &kopts, &koptslen) == -1 ||
	    sshwire_u32(&b, &nkeys) == -1 || nkeys != 1 ||
	    sshwire_string(&b, &pub, &publen) == -1 ||
	    sshwire_u32(&b, &enclen) == -1 || enclen > b.left)
		goto done;
	enc = b.p;
	if (knamelen != 6 || memcmp(kname, "bcrypt", 6) != 0) {
		st = SSH_KEYFMT_UNSUPPORTED;
		snprintf(what, whatlen, "KDF %.*s", (int)(knamelen > 64 ? 64 :
		    knamelen), kname);
		goto done;
	}
	for (i = 0; i < sizeof ssh_keyfmt_ciphers /
	    sizeof ssh_keyfmt_ciphers[0]; i++) {
		if (strlen(ssh_keyfmt_ciphers[i].name) == cnamelen &&
		    memcmp(ssh_keyfmt_ciphers[i].name, cname, cnamelen) == 0)
			c = &ssh_keyfmt_ciphers[i];
	}
	if (c == NULL) {
		st = SSH_KEYFMT_UNSUPPORTED;
		snprintf(what, whatlen, "cipher %.*s", (int)(cnamelen > 64 ?
		    64 : cnamelen), cname);
		goto done;
	}
	sshwire_init(&kdf, kopts, koptslen);
	if (sshwire_string(&kdf, &salt, &saltlen) == -1 ||
	    sshwire_u32(&kdf, &rounds) == -1 || rounds == 0 ||
	    enclen < c->blocksize || enclen % c->blocksize != 0 ||
	    b.left - enclen != c->authlen)
		goto done;
	/* As OpenSSH's sshkey.c: no passphrase is a wrong one. */
	if (passphrase == NULL || *passphrase == '\0') {
		st = SSH_KEYFMT_WRONG_PASSPHRASE;
		goto done;
	}

	keyivlen = c->keylen + c->ivlen;
	key = xmalloc(keyivlen);
	dec = xmalloc(enclen);
	if (bcrypt_pbkdf(passphrase, strlen(passphrase), salt, saltlen, key,
	    keyivlen, rounds) == -1)
		goto done;
	snprintf(what, whatlen, "bcrypt, %u rounds, %s", rounds, c->name);
	if (ssh_keyfmt_crypt(c, key, enc, enclen, enc + enclen, dec) == -1) {
		/* an integrity error here is a wrong passphrase */
		st = c->authlen > 0 ? SSH_KEYFMT_WRONG_PASSPHRASE :
		    SSH_KEYFMT_INVALID;
		goto done;
	}
	sshwire_init(&b, dec, enclen);
	if (sshwire_u32(&b, &check1) == -1 ||
	    sshwire_u32(&b, &check2) == -1)
		goto done;
	if (check1 != check2) {
		st = SSH_KEYFMT_WRONG_PASSPHRASE;
		goto done;
	}
	*out = ssh_keyfmt_armour(pub, publen, dec, enclen, outlen);
	st = SSH_KEYFMT_OK;
done:
	if (st == SSH_KEYFMT_WRONG_PASSPHRASE)
		snprintf(what, whatlen, "wrong passphrase");
	else if (st == SSH_KEYFMT_INVALID)
		snprintf(what, whatlen, "not a valid encrypted OpenSSH key");
	if (key != NULL)
		explicit_bzero(key, keyivlen);
	free(key);
	if (dec != NULL)
		explicit_bzero(dec, enclen);
	free(dec);
	explicit_bzero(raw, rawlen);
	free(raw);
	return (st);
}
