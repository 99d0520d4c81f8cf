/*
 * The hash table every module uses (known_hosts files, host lists, the
 * gathered outputs, --diff's lines, child pids): open addressing with
 * linear probing, a power-of-two size kept at most half full, each slot
 * the entry's 64-bit hash and a pointer to it. The hash is compared
 * before the caller's eq(), so eq() runs about once per lookup. Removal
 * shifts the run after the hole back (no tombstones), so a table that
 * sees many inserts and removals (children) does not fill up.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mrsh/htab.h"
#include "mrsh/xmalloc.h"

#define HTAB_MIN	16

uint64_t
htab_hash(uint64_t h, const void *p, size_t len)
{
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t
htab_hash_str(const char *s)
{
	return htab_hash(HTAB_HASH_INIT, s, strlen(s));
}

/* Make the table size slots (a power of two), moving every entry. */
static void
htab_resize(struct htab *t, size_t size)
{
	struct htab_slot *old = t->v;
	size_t i, j, oldsize = t->v == NULL ? 0 : t->mask + 1;

	t->v = xcalloc(size, sizeof *t->v);
	t->mask = size - 1;
	for (i = 0; i < oldsize; i++) {
		if (old[i].p == NULL)
			continue;
		for (j = (size_t)old[i].hash & t->mask; t->v[j].p != NULL;
		    j = (j + 1) & t->mask)
			;
		t->v[j] = old[i];
	}
	free(old);
}

void
htab_init(struct htab *t, size_t n)
{
	size_t size = HTAB_MIN;

	while (size < n * 2)
		size *= 2;
	t->v = NULL;
	t->n = 0;
	htab_resize(t, size);
}

void
htab_free(struct htab *t)
{
	free(t->v);
	t->v = NULL;
	t->mask = 0;
	t->n = 0;
}

void *
htab_find(const struct htab *t, uint64_t hash,
    int (*eq)(const void *, const void *), const void *key)
{
	size_t i;

	if (t->v == NULL)
		return NULL;
	for (i = (size_t)hash & t->mask; t->v[i].p != NULL;
	    i = (i + 1) & t->mask) {
		if (t->v[i].hash == hash && eq(t->v[i].p, key))
			return t->v[i].p;
	}
	return NULL;
}

void
htab_insert(struct htab *t, uint64_t hash, void *p)
{
	size_t i;

	if (t->v == NULL)
		htab_resize(t, HTAB_MIN);
	else if ((t->n + 1) * 2 > t->mask + 1)
		htab_resize(t, (t->mask + 1) * 2);
	for (i = (size_t)hash & t->mask; t->v[i].p != NULL;
	    i = (i + 1) & t->mask)
		;
	t->v[i].hash = hash;
	t->v[i].p = p;
	t->n++;
}

int
htab_remove(struct htab *t, uint64_t hash, const void *p)
{
	size_t i, j, home;

	if (t->v == NULL)
		return -1;
	for (i = (size_t)hash & t->mask; t->v[i].p != p;
	    i = (i + 1) & t->mask) {
		if (t->v[i].p == NULL)
			return -1;
	}
	/*
	 * Close the hole: an entry further along the run moves into it if
	 * its home slot is not between the hole and itself (cyclically).
	 */
	for (j = (i + 1) & t->mask; t->v[j].p != NULL; j = (j + 1) & t->mask) {
		home = (size_t)t->v[j].hash & t->mask;
		if (((j - home) & t->mask) >= ((j - i) & t->mask)) {
			t->v[i] = t->v[j];
			i = j;
		}
	}
	t->v[i].p = NULL;
	t->v[i].hash = 0;
	t->n--;
	return 0;
}

void *
htab_next(const struct htab *t, size_t *i)
{
	if (t->v == NULL)
		return NULL;
	for (; *i <= t->mask; (*i)++) {
		if (t->v[*i].p != NULL)
			return t->v[(*i)++].p;
	}
	return NULL;
}
