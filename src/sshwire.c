/*
 * The SSH wire format: the reader takes uint32s and length-prefixed
 * strings off the front of a bounded byte string (RFC 4251 5), for every
 * place that parses SSH data (key blobs and certificates, openssh-key-v1,
 * ssh-agent messages, the data a signature covers); a read that would
 * pass the end fails and leaves the cursor where it was. The writer puts
 * the same into a buffer (ssh-agent requests, key files, a certificate's
 * plain key, signatures). Such data in key files and known_hosts is
 * base64, decoded and encoded here once with libcrypto
 * (EVP_DecodeBlock, EVP_EncodeBlock).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "mrsh/log.h"
#include "mrsh/sshwire.h"
#include "mrsh/xmalloc.h"

void
sshwire_init(struct sshwire *w, const void *p, size_t len)
{
	w->p = p;
	w->left = len;
}

uint32_t
sshwire_peek32(const void *v)
{
	const unsigned char *p = v;

	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3]);
}

int
sshwire_skip(struct sshwire *w, size_t n)
{
	if (n > w->left)
		return (-1);
	w->p += n;
	w->left -= n;
	return (0);
}

int
sshwire_u32(struct sshwire *w, uint32_t *v)
{
	if (w->left < 4)
		return (-1);
	*v = sshwire_peek32(w->p);
	w->p += 4;
	w->left -= 4;
	return (0);
}

int
sshwire_string(struct sshwire *w, const unsigned char **s, size_t *len)
{
	uint32_t n;

	if (w->left < 4 || (n = sshwire_peek32(w->p)) > w->left - 4)
		return (-1);
	*s = w->p + 4;
	*len = n;
	w->p += 4 + (size_t)n;
	w->left -= 4 + (size_t)n;
	return (0);
}

int
sshwire_string_is(struct sshwire *w, const char *want)
{
	const unsigned char *s;
	size_t len;

	if (sshwire_string(w, &s, &len) == -1)
		return (0);
	return (len == strlen(want) && memcmp(s, want, len) == 0);
}

unsigned char *
sshwire_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
	return (p + 4);
}

unsigned char *
sshwire_put_string(unsigned char *p, const void *s, size_t len)
{
	p = sshwire_put32(p, (uint32_t)len);
	if (len > 0)
		memcpy(p, s, len);
	return (p + len);
}

unsigned char *
sshwire_unbase64(const char *in, size_t n, size_t max, size_t *outlen)
{
	unsigned char *out;
	size_t pad = 0;
	int len;

	if (n == 0 || n % 4 != 0 || n > max || n > INT32_MAX)
		return (NULL);
	if (in[n - 1] == '=')
		pad++;
	if (in[n - 2] == '=')
		pad++;
	out = xmalloc(n / 4 * 3 + 1);
	if ((len = EVP_DecodeBlock(out, (const unsigned char *)in,
	    (int)n)) < 0 || (size_t)len < pad) {
		free(out);
		return (NULL);
	}
	*outlen = (size_t)len - pad;
	return (out);
}

char *
sshwire_base64(const void *in, size_t n, size_t *outlen)
{
	char	*out;
	int	 len;

	if (n > INT32_MAX / 4 * 3)
		fatalx("%zu bytes: too long for base64", n);
	out = xmalloc(4 * ((n + 2) / 3) + 1);
	len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	if (outlen != NULL)
		*outlen = (size_t)len;
	return (out);
}
