/*
 * Unit tests for the hash table: FNV-1a against its published values,
 * insert/find/iterate while the table grows, entries that share a hash
 * (eq decides), and removal from the middle of a probe run, also where
 * the run wraps around the end of the table.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrsh/htab.h"
#include "tap.h"

#define N	5000

struct ent {
	int	 key;
	int	 seen;
};

static int
ent_eq(const void *e, const void *key)
{
	return ((const struct ent *)e)->key == *(const int *)key;
}

static uint64_t
ent_hash(int key)
{
	return htab_hash(HTAB_HASH_INIT, &key, sizeof key);
}

/* Every entry of v[0..n) with want[i] set is found, the others are not. */
static int
all_found(struct htab *t, struct ent *v, const int *want, int n,
    uint64_t (*hash)(int))
{
	int i;

	for (i = 0; i < n; i++) {
		if ((htab_find(t, hash(v[i].key), ent_eq, &v[i].key) ==
		    &v[i]) != want[i])
			return 0;
	}
	return 1;
}

static uint64_t
same_hash(int key)
{
	return 7;
}

/* Hashes that all start near the end of a 16-slot table. */
static uint64_t
end_hash(int key)
{
	return 14 + (uint64_t)(key % 2);
}

int
main(void)
{
	static struct ent v[N];
	static int want[N];
	struct htab t;
	struct ent *e;
	size_t it, n;
	int i, k, ok_all;

	/* FNV-1a 64, the published test values. */
	is_int((long long)(htab_hash_str("") == 0xcbf29ce484222325ULL), 1,
	    "fnv1a64 \"\"");
	is_int((long long)(htab_hash_str("a") == 0xaf63dc4c8601ec8cULL), 1,
	    "fnv1a64 \"a\"");
	is_int((long long)(htab_hash_str("foobar") == 0x85944171f73967e8ULL),
	    1, "fnv1a64 \"foobar\"");
	is_int((long long)(htab_hash(htab_hash(HTAB_HASH_INIT, "foo", 3),
	    "bar", 3) == htab_hash_str("foobar")), 1, "hash continues");

	memset(&t, 0, sizeof t);
	ok(htab_find(&t, 1, ent_eq, &i) == NULL, "find in a zeroed table");
	it = 0;
	ok(htab_next(&t, &it) == NULL, "walk a zeroed table");
	is_int(htab_remove(&t, 1, &v[0]), -1, "remove from a zeroed table");

	htab_init(&t, 0);
	for (i = 0; i < N; i++) {
		v[i].key = i * 7919;
		htab_insert(&t, ent_hash(v[i].key), &v[i]);
		want[i] = 1;
	}
	is_int((long long)t.n, N, "n entries");
	ok(t.n * 2 <= t.mask + 1, "at most half full after growing");
	ok(all_found(&t, v, want, N, ent_hash), "every entry found");
	k = -1;
	ok(htab_find(&t, ent_hash(k), ent_eq, &k) == NULL, "absent key");

	n = 0;
	it = 0;
	while ((e = htab_next(&t, &it)) != NULL) {
		e->seen++;
		n++;
	}
	ok_all = 1;
	for (i = 0; i < N; i++)
		ok_all &= v[i].seen == 1;
	is_int((long long)n, N, "walk: n entries");
	ok(ok_all, "walk: each entry once");

	for (i = 0; i < N; i += 2) {
		if (htab_remove(&t, ent_hash(v[i].key), &v[i]) != 0)
			break;
		want[i] = 0;
	}
	is_int(i, N, "remove every other entry");
	is_int((long long)t.n, N / 2, "n after removal");
	ok(all_found(&t, v, want, N, ent_hash), "the rest found, removed not");
	is_int(htab_remove(&t, ent_hash(v[0].key), &v[0]), -1,
	    "remove twice: -1");
	htab_free(&t);
	ok(t.v == NULL && t.n == 0, "free empties");

	/* One hash for all: eq tells them apart; remove from the middle. */
	htab_init(&t, 0);
	for (i = 0; i < 6; i++) {
		v[i].key = 100 + i;
		want[i] = 1;
		htab_insert(&t, same_hash(v[i].key), &v[i]);
	}
	ok(all_found(&t, v, want, 6, same_hash), "same hash: all found");
	htab_remove(&t, 7, &v[2]);
	want[2] = 0;
	ok(all_found(&t, v, want, 6, same_hash), "same hash: hole closed");
	htab_remove(&t, 7, &v[0]);
	want[0] = 0;
	ok(all_found(&t, v, want, 6, same_hash), "same hash: head removed");
	htab_free(&t);

	/* Runs that wrap past the last slot (16 slots, 7 entries). */
	htab_init(&t, 0);
	is_int((long long)t.mask, 15, "16 slots");
	for (i = 0; i < 7; i++) {
		v[i].key = i;
		want[i] = 1;
		htab_insert(&t, end_hash(i), &v[i]);
	}
	ok(all_found(&t, v, want, 7, end_hash), "wrapped: all found");
	for (k = 0; k < 7; k++) {
		htab_remove(&t, end_hash(k), &v[k]);
		want[k] = 0;
		if (!all_found(&t, v, want, 7, end_hash))
			break;
	}
	is_int(k, 7, "wrapped: found after each removal");
	is_int((long long)t.n, 0, "wrapped: empty");
	htab_free(&t);
	return done_testing();
}
