/*
 * The SSH wire format (RFC 4251 5). The reader: a cursor over a byte
 * string that takes uint32s (big endian) and length-prefixed strings off
 * its front, refusing anything that runs past the end. Key blobs,
 * certificates, openssh-key-v1 files, ssh-agent answers and signed data
 * are all read with it. The writer puts the same two things into a buffer
 * the caller sized. The base64 that carries such data in files is decoded
 * and encoded here.
 */
#ifndef MRSH_SSHWIRE_H
#define MRSH_SSHWIRE_H

#include <stddef.h>
#include <stdint.h>

struct sshwire {
	const unsigned char	*p;		/* next byte */
	size_t			 left;		/* bytes from p on */
};

void	 sshwire_init(struct sshwire *, const void *, size_t);
/* A big-endian uint32 at p (4 bytes the caller knows are there). */
uint32_t sshwire_peek32(const void *p);
/* Each returns 0, or -1 (cursor unchanged) if the data is too short. */
int	 sshwire_skip(struct sshwire *, size_t);
int	 sshwire_u32(struct sshwire *, uint32_t *);
int	 sshwire_string(struct sshwire *, const unsigned char **, size_t *);
/* Reads a string; 1 if it equals want, 0 if not or if it is missing. */
int	 sshwire_string_is(struct sshwire *, const char *want);

/*
 * The writers: a big-endian uint32, or a uint32 length and len bytes, at
 * p (the caller made room: 4, or 4 + len bytes); each returns p past what
 * it wrote.
 */
unsigned char *sshwire_put32(unsigned char *p, uint32_t);
unsigned char *sshwire_put_string(unsigned char *p, const void *,
	    size_t len);

/*
 * Wire data as key files and known_hosts carry it: n characters of padded
 * base64 (n a multiple of 4, 0 < n <= max) decoded into a new buffer of
 * *outlen bytes (the padding not counted); NULL if malformed.
 */
unsigned char *sshwire_unbase64(const char *, size_t n, size_t max,
	    size_t *outlen);
/*
 * n bytes as padded base64 in a new NUL-terminated string (no line
 * breaks); its length in *outlen unless outlen is NULL.
 */
char	*sshwire_base64(const void *, size_t n, size_t *outlen);

#endif
