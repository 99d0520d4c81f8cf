/*
 * Wildcard matching as OpenSSH does it (match.c): the rules ssh applies to
 * known_hosts host fields, SendEnv names and algorithm list removals.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "mrsh/match.h"
#include "mrsh/xmalloc.h"

int
match_pattern(const char *s, const char *p)
{
	for (;;) {
		if (*p == '\0')
			return (*s == '\0');
		if (*p == '*') {
			while (*p == '*')
				p++;
			if (*p == '\0')
				return (1);
			for (; *s != '\0'; s++) {
				if (match_pattern(s, p))
					return (1);
			}
			return (0);
		}
		if (*s == '\0')
			return (0);
		if (*p != '?' && *p != *s)
			return (0);
		s++;
		p++;
	}
}

int
match_pattern_list(const char *s, const char *list, int dolower)
{
	char	*copy, *pat, *next, *c;
	int	 negated, got = 0;

	copy = xstrdup(list);
	for (pat = copy; pat != NULL; pat = next) {
		if ((next = strchr(pat, ',')) != NULL)
			*next++ = '\0';
		if ((negated = (*pat == '!')))
			pat++;
		if (dolower) {
			for (c = pat; *c != '\0'; c++)
				*c = (char)tolower((unsigned char)*c);
		}
		if (match_pattern(s, pat)) {
			if (negated) {
				got = -1;
				break;
			}
			got = 1;
		}
	}
	free(copy);
	return (got);
}

int
match_list_has(const char *name, const char *list)
{
	size_t		 len = strlen(name);
	const char	*p;

	for (p = list; p != NULL && *p != '\0';) {
		if (strncmp(p, name, len) == 0 &&
		    (p[len] == ',' || p[len] == '\0'))
			return (1);
		if ((p = strchr(p, ',')) != NULL)
			p++;
	}
	return (0);
}
