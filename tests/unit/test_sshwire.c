/*
 * Unit tests for the SSH wire reader: uint32s and strings read in order,
 * every truncation refused with the cursor left where it was, and a
 * length that claims more than is there.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
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
	struct sshwire w, save;
	const unsigned char *s;
	size_t len, n;
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
	return done_testing();
}
