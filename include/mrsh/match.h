/*
 * Wildcard patterns as OpenSSH's match.c has them: * and ? in one pattern,
 * comma-separated lists with ! negation. Used for known_hosts host fields,
 * SendEnv and the algorithm lists; plus exact membership in a comma list
 * (algorithm names, the server's authentication methods).
 */
#ifndef MRSH_MATCH_H
#define MRSH_MATCH_H

/* 1 if s matches the pattern (* any run, ? any one character). */
int	match_pattern(const char *s, const char *pattern);

/*
 * s against a comma-separated list of patterns, some negated with !:
 * 1 on a positive match, -1 if a negated pattern matched (which wins), 0
 * if none matched. With dolower, patterns are compared in lower case (s
 * must already be).
 */
int	match_pattern_list(const char *s, const char *list, int dolower);

/* 1 if name is one of the entries of a comma list, exactly; NULL: none. */
int	match_list_has(const char *name, const char *list);

#endif
