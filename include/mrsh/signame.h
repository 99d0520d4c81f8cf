/*
 * Signal names without "SIG" ("TERM"), one table for the program: what
 * the output prints for a host killed by a signal, what an SSH server's
 * exit-signal name means as a number, and what ctrl-c sends over SSH.
 */
#ifndef MRSH_SIGNAME_H
#define MRSH_SIGNAME_H

/* The name of a signal number ("KILL"), or NULL if unknown. */
const char	*signame_name(int);
/* The number of a name ("KILL"), or 0 if unknown. */
int		 signame_number(const char *);
/*
 * The number of an SSH exit-signal name (RFC 4254 6.10, and the few more
 * that servers send), or 0 if unknown: a name outside that set is not
 * taken for a local signal number.
 */
int		 signame_ssh_number(const char *);
/* The SSH name of a signal number, or NULL if SSH has none for it. */
const char	*signame_ssh_name(int);

#endif
