/*
 * Unit tests for the SSH wire reader: uint32s and strings read in order,
 * every truncation refused with the cursor left where it was, a length
 * that claims more than is there, and the base64 decoder; the writer
 * builds the same message byte for byte (and the reader reads it back),
 * and the base64 encoder matches RFC 4648's vectors and round-trips.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrsh/sshwire.h"
#include "tap.h"

int
main(void)
{
	/* uint32 7, string "ssh-rsa", byte 1, string "" */
	static const unsigned char msg[] = {
		0, 0, 0, 7,
		0, 0, 0, 7, 's', 's', 'h', '-', 'r', 's', 'a',
		1,
		0, 0, 0, 0,
	};
	static const unsigned char lie[] = { 0, 0, 0, 9, 'a', 'b' };
	static const struct {
		const char	*in, *out;
	} b64[] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
		{ "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	struct sshwire w, save;
	const unsigned char *s;
	unsigned char *out, buf[64], *p;
	char *enc;
	size_t len, n, i;
	uint32_t v;
	int bad;

	sshwire_init(&w, msg, sizeof msg);
	ok(sshwire_u32(&w, &v) == 0 && v == 7, "u32");
	save = w;
	ok(sshwire_string_is(&w, "ssh-rsa"), "string_is");
	w = save;
	ok(!sshwire_string_is(&w, "ssh-rs"), "string_is: a prefix is not");
	w = save;
	ok(sshwire_string(&w, &s, &len) == 0 && len == 7 &&
	    memcmp(s, "ssh-rsa", 7) == 0, "string");
	ok(sshwire_skip(&w, 1) == 0, "skip a byte");
	ok(sshwire_string(&w, &s, &len) == 0 && len == 0, "empty string");
	is_int((long long)w.left, 0, "all read");
	ok(sshwire_u32(&w, &v) == -1, "u32 past the end");
	ok(sshwire_skip(&w, 1) == -1, "skip past the end");
	ok(!sshwire_string_is(&w, ""), "string_is past the end");

	/* Every cut of msg: the reads fail where the data ends. */
	bad = 0;
	for (n = 0; n < sizeof msg; n++) {
		sshwire_init(&w, msg, n);
		if (sshwire_u32(&w, &v) == -1) {
			bad |= n >= 4;
			bad |= w.left != n;
			continue;
		}
		save = w;
		if (sshwire_string(&w, &s, &len) == -1) {
			bad |= n >= 15;
			bad |= w.p != save.p || w.left != save.left;
			continue;
		}
		if (sshwire_skip(&w, 1) == -1) {
			bad |= n >= 16;
			continue;
		}
		bad |= sshwire_string(&w, &s, &len) != -1;
	}
	ok(!bad, "each truncation fails, the cursor unmoved");

	sshwire_init(&w, lie, sizeof lie);
	ok(sshwire_string(&w, &s, &len) == -1 && w.left == sizeof lie,
	    "a length past the end");
	is_int((long long)sshwire_peek32("\x01\x02\x03\x04"), 0x01020304,
	    "peek32 is big endian");
	is_int((long long)sshwire_peek32("\xff\xff\xff\xff"), 0xffffffffLL,
	    "peek32 unsigned");

	/* base64 as key files carry it: padding dropped, bounds kept. */
	out = sshwire_unbase64("AAAAB3NzaC1yc2E=", 16, 1024, &n);
	ok(out != NULL && n == 11 && memcmp(out, "\0\0\0\7ssh-rsa", 11) == 0,
	    "unbase64: one pad");
	free(out);
	out = sshwire_unbase64("YQ==", 4, 1024, &n);
	ok(out != NULL && n == 1 && out[0] == 'a', "unbase64: two pads");
	free(out);
	out = sshwire_unbase64("YWJj", 4, 1024, &n);
	ok(out != NULL && n == 3 && memcmp(out, "abc", 3) == 0,
	    "unbase64: no pad");
	free(out);
	ok(sshwire_unbase64("YWJ", 3, 1024, &n) == NULL, "unbase64: not 4n");
	ok(sshwire_unbase64("", 0, 1024, &n) == NULL, "unbase64: empty");
	ok(sshwire_unbase64("YWJjYWJj", 8, 4, &n) == NULL,
	    "unbase64: over max");
	ok(sshwire_unbase64("YW*j", 4, 1024, &n) == NULL,
	    "unbase64: not base64");

	/* The writer: the same message, byte for byte, and no more. */
	memset(buf, 0xee, sizeof buf);
	p = sshwire_put32(buf, 7);
	p = sshwire_put_string(p, "ssh-rsa", 7);
	*p++ = 1;
	p = sshwire_put_string(p, NULL, 0);
	is_int((long long)(p - buf), (long long)sizeof msg,
	    "writer: returns the end of what it wrote");
	ok(memcmp(buf, msg, sizeof msg) == 0, "writer: the reader's message");
	is_int(buf[sizeof msg], 0xee, "writer: nothing past the end");
	sshwire_put32(buf, 0xfedcba98);
	ok(memcmp(buf, "\xfe\xdc\xba\x98", 4) == 0, "put32 is big endian");
	p = sshwire_put_string(buf, "x%y", 3);
	sshwire_init(&w, buf, (size_t)(p - buf));
	ok(sshwire_string(&w, &s, &len) == 0 && len == 3 &&
	    memcmp(s, "x%y", 3) == 0 && w.left == 0,
	    "writer, then reader: the same string");

	/* base64 out: RFC 4648 section 10's vectors. */
	for (i = 0; i < sizeof b64 / sizeof b64[0]; i++) {
		enc = sshwire_base64(b64[i].in, strlen(b64[i].in), &n);
		if (strcmp(enc, b64[i].out) != 0 || n != strlen(b64[i].out)) {
			diag("\"%s\": got \"%s\" (%zu)", b64[i].in, enc, n);
			free(enc);
			break;
		}
		free(enc);
	}
	is_int((long long)i, (long long)(sizeof b64 / sizeof b64[0]),
	    "base64: every RFC 4648 vector");
	enc = sshwire_base64(msg, sizeof msg, NULL);
	out = sshwire_unbase64(enc, strlen(enc), 1024, &n);
	ok(out != NULL && n == sizeof msg && memcmp(out, msg, n) == 0,
	    "base64 then unbase64: the bytes back (NULs too)");
	free(out);
	free(enc);
	return done_testing();
}
