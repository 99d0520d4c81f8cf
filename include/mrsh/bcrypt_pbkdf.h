/*
 * bcrypt_pbkdf(3) as in OpenBSD: the KDF that turns a passphrase into the
 * cipher key and IV of an encrypted OpenSSH private key (kdfname "bcrypt",
 * kdfoptions: string salt, uint32 rounds). The key and IV of an
 * aes256-ctr key at ssh-keygen's default 16 rounds cost about 120-130 ms
 * of CPU on this kind of machine.
 */
#ifndef MRSH_BCRYPT_PBKDF_H
#define MRSH_BCRYPT_PBKDF_H

#include <stddef.h>
#include <stdint.h>

/*
 * Derive keylen bytes (at most 1024) of key from pass and salt with the
 * given number of rounds. 0 on success; -1 (key zeroed) on bad arguments
 * (an empty passphrase or salt, no rounds) or a libcrypto failure.
 */
int	bcrypt_pbkdf(const char *pass, size_t passlen, const uint8_t *salt,
	    size_t saltlen, uint8_t *key, size_t keylen, unsigned int rounds);

#endif
