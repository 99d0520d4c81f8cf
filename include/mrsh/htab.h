/*
 * One hash table for the program: open addressing with linear probing
 * over (hash, pointer) slots, growing at half full. The table holds
 * pointers to the caller's entries and never owns them; the caller hashes
 * its key with htab_hash (FNV-1a, 64 bits) and says what is equal.
 */
#ifndef MRSH_HTAB_H
#define MRSH_HTAB_H

#include <stddef.h>
#include <stdint.h>

struct htab_slot {
	uint64_t	 hash;
	void		*p;		/* NULL: empty */
};

struct htab {
	struct htab_slot	*v;
	size_t			 mask;		/* size - 1; size 0: none */
	size_t			 n;		/* entries */
};

#define HTAB_HASH_INIT	0xcbf29ce484222325ULL

/* FNV-1a of len bytes, continuing from h (HTAB_HASH_INIT to start). */
uint64_t htab_hash(uint64_t h, const void *, size_t len);
uint64_t htab_hash_str(const char *);

/* An empty table with room for n entries before it grows. */
void	 htab_init(struct htab *, size_t n);
/* Free the slots (not the entries); the table is empty again. */
void	 htab_free(struct htab *);
/*
 * The entry with this hash that eq(entry, key) calls equal (non-zero),
 * or NULL.
 */
void	*htab_find(const struct htab *, uint64_t hash,
	    int (*eq)(const void *, const void *), const void *key);
/* Add an entry (not NULL, not in the table yet) under its hash. */
void	 htab_insert(struct htab *, uint64_t hash, void *);
/* Take an entry out, by pointer; returns 0, or -1 if it is not there. */
int	 htab_remove(struct htab *, uint64_t hash, const void *);
/*
 * The entries in table order, from *i = 0 on; NULL after the last. The
 * table must not change during the walk.
 */
void	*htab_next(const struct htab *, size_t *i);

#endif
