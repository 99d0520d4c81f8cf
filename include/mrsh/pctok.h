/*
 * %-tokens as OpenSSH expands them (misc.c percent_expand): one expander
 * for ssh_config values, ProxyCommand, KnownHostsCommand and the exec
 * transport's command words. Each caller passes its own token set.
 */
#ifndef MRSH_PCTOK_H
#define MRSH_PCTOK_H

/* One token: %key becomes value. A NULL value: not offered here. */
struct pctok {
	char		 key;
	const char	*value;
};

/* Flags for pctok_expand. */
#define PCTOK_KEEP_UNKNOWN 0x1	/* copy an unknown %x, and a % at the end,
				   as written (default: an error) */
#define PCTOK_ENV	0x2	/* ${VAR} from the environment too (an
				   unset one becomes nothing) */
#define PCTOK_AGAIN	0x4	/* for a second pass: %% stays %%, the %
				   in a value is doubled; implies
				   PCTOK_KEEP_UNKNOWN */

/*
 * Expand s with toks (ended by a key of '\0'); %% is always '%'. Returns
 * the new string, or NULL for an unknown token (not in toks, or with a NULL
 * value) unless PCTOK_KEEP_UNKNOWN: then *bad (if not NULL) is its letter,
 * '\0' for a % at the end of s.
 */
char	*pctok_expand(const char *s, const struct pctok *toks, int flags,
	    char *bad);

/* 0 if every %x in s has its x in keys (a % at the end never does). */
int	 pctok_check(const char *s, const char *keys);

#endif
