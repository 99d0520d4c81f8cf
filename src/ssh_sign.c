/*
 * Sign ssh user authentication requests with a key parsed once per run.
 *
 * libssh2_userauth_publickey_frommemory() decodes the key file again for
 * every session, and OpenSSL 3's decoder set-up (PEM_read_bio_PrivateKey
 * tries every provider's decoders before libssh2 falls back to its own
 * OpenSSH-format parser) was 44% of mrsh's CPU per host. Here the
 * "openssh-key-v1" format (PROTOCOL.key in OpenSSH) is parsed once into an
 * EVP_PKEY, and libssh2_userauth_publickey() calls ssh_signer_sign() for
 * the signature. Only unencrypted ed25519 keys take this path: encrypted
 * keys (bcrypt KDF) and other types keep using libssh2's own parser.
 */
#include "config.h"

#include <openssl/evp.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mrsh/log.h"
#include "mrsh/xmalloc.h"

#include "ssh_sign.h"

#define OPENSSH_BEGIN	"-----BEGIN OPENSSH PRIVATE KEY-----"
#define OPENSSH_END	"-----END OPENSSH PRIVATE KEY-----"
#define OPENSSH_MAGIC	"openssh-key-v1"	/* followed by a NUL */
#define ED25519_NAME	"ssh-ed25519"

struct ssh_signer {
	EVP_PKEY	*pkey;
	unsigned char	*pub;		/* string type, string key */
	size_t		 publen;
};

/* A cursor over SSH wire data (uint32 lengths, big endian). */
struct sshbuf_r {
	const unsigned char	*p;
	size_t			 left;
};

static int
sshbuf_u32(struct sshbuf_r *b, uint32_t *v)
{
	if (b->left < 4)
		return (-1);
	*v = (uint32_t)b->p[0] << 24 | (uint32_t)b->p[1] << 16 |
	    (uint32_t)b->p[2] << 8 | (uint32_t)b->p[3];
	b->p += 4;
	b->left -= 4;
	return (0);
}

static int
sshbuf_string(struct sshbuf_r *b, const unsigned char **s, size_t *len)
{
	uint32_t n;

	if (sshbuf_u32(b, &n) == -1 || n > b->left)
		return (-1);
	*s = b->p;
	*len = n;
	b->p += n;
	b->left -= n;
	return (0);
}

static int
sshbuf_string_is(struct sshbuf_r *b, const char *want)
{
	const unsigned char *s;
	size_t len;

	if (sshbuf_string(b, &s, &len) == -1)
		return (0);
	return (len == strlen(want) && memcmp(s, want, len) == 0);
}

/* Base64 between the armour lines; NULL if there is none. */
static unsigned char *
ssh_sign_unarmour(const char *priv, size_t privlen, size_t *outlen)
{
	const char *begin, *end, *p;
	unsigned char *out;
	char *b64;
	size_t n = 0, pad = 0;
	int len;

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
	b64[n] = '\0';
	if (n == 0 || n % 4 != 0 || n > INT32_MAX) {
		free(b64);
		return (NULL);
	}
	if (b64[n - 1] == '=')
		pad++;
	if (b64[n - 2] == '=')
		pad++;
	out = xmalloc(n / 4 * 3 + 1);
	len = EVP_DecodeBlock(out, (unsigned char *)b64, (int)n);
	free(b64);
	if (len < 0 || (size_t)len < pad) {
		free(out);
		return (NULL);
	}
	*outlen = (size_t)len - pad;
	return (out);
}

struct ssh_signer *
ssh_signer_new(const char *priv, size_t privlen)
{
	struct ssh_signer *sg = NULL;
	struct sshbuf_r b, sec;
	const unsigned char *pubblob, *privsec, *pk, *sk, *s;
	size_t bloblen, pklen, sklen, seclen, len, rawlen;
	unsigned char *raw;
	uint32_t n, check1, check2;

	if ((raw = ssh_sign_unarmour(priv, privlen, &rawlen)) == NULL)
		return (NULL);
	b.p = raw;
	b.left = rawlen;
	if (b.left < sizeof OPENSSH_MAGIC ||
	    memcmp(b.p, OPENSSH_MAGIC, sizeof OPENSSH_MAGIC) != 0)
		goto out;
	b.p += sizeof OPENSSH_MAGIC;
	b.left -= sizeof OPENSSH_MAGIC;
	/* Unencrypted only: cipher "none", KDF "none", no KDF options. */
	if (!sshbuf_string_is(&b, "none") || !sshbuf_string_is(&b, "none") ||
	    sshbuf_string(&b, &s, &len) == -1 || sshbuf_u32(&b, &n) == -1 ||
	    n != 1 || sshbuf_string(&b, &pubblob, &bloblen) == -1 ||
	    sshbuf_string(&b, &privsec, &seclen) == -1)
		goto out;
	sec.p = privsec;
	sec.left = seclen;
	if (sshbuf_u32(&sec, &check1) == -1 || sshbuf_u32(&sec, &check2) == -1 ||
	    check1 != check2 || !sshbuf_string_is(&sec, ED25519_NAME) ||
	    sshbuf_string(&sec, &pk, &pklen) == -1 || pklen != 32 ||
	    sshbuf_string(&sec, &sk, &sklen) == -1 || sklen != 64 ||
	    memcmp(sk + 32, pk, 32) != 0)
		goto out;

	sg = xcalloc(1, sizeof *sg);
	sg->pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, sk, 32);
	if (sg->pkey == NULL) {
		free(sg);
		sg = NULL;
		goto out;
	}
	sg->pub = xmalloc(bloblen);
	memcpy(sg->pub, pubblob, bloblen);
	sg->publen = bloblen;
out:
	explicit_bzero(raw, rawlen);
	free(raw);
	return (sg);
}

void
ssh_signer_free(struct ssh_signer *sg)
{
	if (sg == NULL)
		return;
	EVP_PKEY_free(sg->pkey);
	free(sg->pub);
	free(sg);
}

const unsigned char *
ssh_signer_pubkey(const struct ssh_signer *sg, size_t *len)
{
	*len = sg->publen;
	return (sg->pub);
}

int
ssh_signer_sign(LIBSSH2_SESSION *session, unsigned char **sig,
    size_t *sig_len, const unsigned char *data, size_t data_len,
    void **abstract)
{
	struct ssh_signer *sg = *abstract;
	EVP_MD_CTX *ctx;
	size_t len = 0;
	int rc = -1;

	*sig = NULL;
	*sig_len = 0;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return (-1);
	if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, sg->pkey) != 1 ||
	    EVP_DigestSign(ctx, NULL, &len, data, data_len) != 1)
		goto out;
	/* libssh2 frees it with the session's allocator: plain free(). */
	if ((*sig = malloc(len)) == NULL)
		goto out;
	if (EVP_DigestSign(ctx, *sig, &len, data, data_len) != 1) {
		free(*sig);
		*sig = NULL;
		goto out;
	}
	*sig_len = len;
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	return (rc);
}
