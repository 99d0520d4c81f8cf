/*
 * pdsh drop-in: when mrsh runs as "pdsh" (a symlink), pdsh's options are
 * translated into mrsh's before parsing, and pdsh's exit status applies.
 */
#ifndef MRSH_PDSH_H
#define MRSH_PDSH_H

/* Was the program invoked as pdsh? */
int	pdsh_invoked(const char *argv0);

/*
 * Translate pdsh's command line into mrsh's (allocated; the strings are
 * argv's). *largest: -S (exit with the largest remote status).
 */
char	**pdsh_translate(int argc, char **argv, int *nargc, int *largest);

#endif
