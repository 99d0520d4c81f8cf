/*
 * Sign ssh user authentication requests with a key parsed once per run.
 *
 * libssh2_userauth_publickey_frommemory() decodes the key file again for
 * every session, and OpenSSL 3's decoder set-up (PEM_read_bio_PrivateKey
 * tries every provider's decoders before libssh2 falls back to its own
 * OpenSSH-format parser) was 44% of mrsh's CPU per host. Here the
 * "openssh-key-v1" format (PROTOCOL.key in OpenSSH) is parsed once into an
 * EVP_PKEY, and libssh2_userauth_publickey() calls ssh_signer_sign() for
 * the signature. Ed25519 and ECDSA (nistp256/384/521) keys take this
 * path, encrypted ones once ssh_keyfmt.c decrypted them; other types keep
 * using libssh2's own parser. Signing ourselves is also what lets a certificate
 * be sent with its key (libssh2 reads no certificate files).
 */
#include "config.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mrsh/log.h"
#include "mrsh/sshwire.h"
#include "mrsh/xmalloc.h"

#include "ssh_keyfmt.h"
#include "ssh_sign.h"

#define ED25519_NAME	"ssh-ed25519"

struct ssh_signer {
	EVP_PKEY	*pkey;
	const EVP_MD	*md;		/* ECDSA: the curve's hash; else NULL */
	unsigned char	*pub;		/* string type, string key */
	size_t		 publen;
	EVP_MD_CTX	*proto;		/* DigestSignInit done, copied */
};

/* An ECDSA private key from its curve, public point and scalar. */
static EVP_PKEY *
ssh_sign_ecdsa(const char *curve, const unsigned char *q, size_t qlen,
    const unsigned char *d, size_t dlen)
{
	OSSL_PARAM_BLD	*bld;
	OSSL_PARAM	*params = NULL;
	EVP_PKEY_CTX	*ctx = NULL;
	EVP_PKEY	*pkey = NULL;
	BIGNUM		*bn;

	if ((bn = BN_bin2bn(d, (int)dlen, NULL)) == NULL)
		return (NULL);
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    curve, 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
	    q, qlen) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, bn) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, params) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_clear_free(bn);
	return (pkey);
}

struct ssh_signer *
ssh_signer_new(const char *priv, size_t privlen)
{
	static const struct {
		const char	*name;		/* key type */
		const char	*curve;		/* its name in the key */
		const char	*group;		/* OpenSSL's name */
	} curves[] = {
		{ "ecdsa-sha2-nistp256", "nistp256", "prime256v1" },
		{ "ecdsa-sha2-nistp384", "nistp384", "secp384r1" },
		{ "ecdsa-sha2-nistp521", "nistp521", "secp521r1" },
	};
	struct sshwire ec;
	const unsigned char *q, *d;
	size_t qlen, dlen, i;

	struct ssh_signer *sg = NULL;
	struct sshwire b, sec;
	const unsigned char *pubblob, *privsec, *pk, *sk, *s;
	size_t bloblen, pklen, sklen, seclen, len, rawlen;
	unsigned char *raw;
	uint32_t n, check1, check2;

	if ((raw = ssh_keyfmt_open(priv, privlen, &rawlen, &b)) == NULL)
		return (NULL);
	/* Unencrypted only: cipher "none", KDF "none", no KDF options. */
	if (!sshwire_string_is(&b, "none") ||
	    !sshwire_string_is(&b, "none") ||
	    sshwire_string(&b, &s, &len) == -1 ||
	    sshwire_u32(&b, &n) == -1 || n != 1 ||
	    sshwire_string(&b, &pubblob, &bloblen) == -1 ||
	    sshwire_string(&b, &privsec, &seclen) == -1)
		goto out;
	sshwire_init(&sec, privsec, seclen);
	if (sshwire_u32(&sec, &check1) == -1 ||
	    sshwire_u32(&sec, &check2) == -1 ||
	    check1 != check2)
		goto out;
	for (i = 0; i < sizeof curves / sizeof curves[0]; i++) {
		ec = sec;
		if (!sshwire_string_is(&ec, curves[i].name))
			continue;
		/* string curve, string Q, mpint d */
		if (!sshwire_string_is(&ec, curves[i].curve) ||
		    sshwire_string(&ec, &q, &qlen) == -1 ||
		    sshwire_string(&ec, &d, &dlen) == -1)
			goto out;
		sg = xcalloc(1, sizeof *sg);
		sg->md = i == 0 ? EVP_sha256() : i == 1 ? EVP_sha384() :
		    EVP_sha512();
		if ((sg->pkey = ssh_sign_ecdsa(curves[i].group, q, qlen, d,
		    dlen)) == NULL) {
			free(sg);
			sg = NULL;
			goto out;
		}
		goto pub;
	}
	if (!sshwire_string_is(&sec, ED25519_NAME) ||
	    sshwire_string(&sec, &pk, &pklen) == -1 || pklen != 32 ||
	    sshwire_string(&sec, &sk, &sklen) == -1 || sklen != 64 ||
	    memcmp(sk + 32, pk, 32) != 0)
		goto out;

	sg = xcalloc(1, sizeof *sg);
	sg->pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, sk, 32);
	if (sg->pkey == NULL) {
		free(sg);
		sg = NULL;
		goto out;
	}
pub:
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
	EVP_MD_CTX_free(sg->proto);
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

/* One SSH mpint (uint32 length, big-endian, a 0 before a high bit). */
static size_t
ssh_sign_mpint(unsigned char *p, const BIGNUM *bn)
{
	int	n = BN_num_bytes(bn), lead;

	BN_bn2bin(bn, p + 5);
	lead = n > 0 && (p[5] & 0x80) != 0;
	if (!lead)
		memmove(p + 4, p + 5, (size_t)n);
	else
		p[4] = 0;
	n += lead;
	sshwire_put32(p, (uint32_t)n);
	return (4 + (size_t)n);
}

/*
 * OpenSSL's DER ECDSA-Sig-Value into the SSH form libssh2 sends after the
 * type name: mpint r, mpint s. Replaces *sig (malloc'd).
 */
static int
ssh_sign_ecdsa_wire(unsigned char **sig, size_t *sig_len)
{
	const unsigned char	*p = *sig;
	const BIGNUM		*r, *s;
	ECDSA_SIG		*es;
	unsigned char		*out;
	size_t			 n;

	if ((es = d2i_ECDSA_SIG(NULL, &p, (long)*sig_len)) == NULL)
		return (-1);
	ECDSA_SIG_get0(es, &r, &s);
	out = malloc(2 * (5 + (size_t)BN_num_bytes(r) +
	    (size_t)BN_num_bytes(s)));
	if (out == NULL) {
		ECDSA_SIG_free(es);
		return (-1);
	}
	n = ssh_sign_mpint(out, r);
	n += ssh_sign_mpint(out + n, s);
	ECDSA_SIG_free(es);
	free(*sig);
	*sig = out;
	*sig_len = n;
	return (0);
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
	/*
	 * DigestSignInit (OpenSSL 3 looks the algorithm up and sets the key
	 * up for its provider) once per run; each signature starts from a
	 * copy of that context (issue 14: 40 % of a signature's CPU).
	 */
	if (sg->proto == NULL) {
		if ((sg->proto = EVP_MD_CTX_new()) == NULL)
			return (-1);
		if (EVP_DigestSignInit(sg->proto, NULL, sg->md, NULL,
		    sg->pkey) != 1) {
			EVP_MD_CTX_free(sg->proto);
			sg->proto = NULL;
			return (-1);
		}
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return (-1);
	if (EVP_MD_CTX_copy_ex(ctx, sg->proto) != 1 ||
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
	if (sg->md != NULL && ssh_sign_ecdsa_wire(sig, sig_len) != 0) {
		free(*sig);
		*sig = NULL;
		*sig_len = 0;
		rc = -1;
	}
out:
	EVP_MD_CTX_free(ctx);
	return (rc);
}
