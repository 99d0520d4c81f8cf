/*
 * ProxyJump / -J: the jump host specification as ssh reads it
 * ([user@]host[:port] or ssh://[user@]host[:port], comma-separated, the
 * first hop nearest to us; "none"), and how ssh -G prints it.
 */
#ifndef MRSH_JUMP_H
#define MRSH_JUMP_H

#include <stddef.h>

struct jump_hop {
	char	*user;		/* NULL: from ssh_config for host */
	char	*host;
	int	 port;		/* 0: from ssh_config */
};

/*
 * Parse spec into hops (first = nearest to us). Returns the number of
 * hops, or -1 with a one-line reason in err. "none" gives 0.
 */
int	jump_spec_parse(const char *spec, struct jump_hop **hops, char *err,
	    size_t errlen);
void	jump_hops_free(struct jump_hop *, int n);

/*
 * A spec given on the command line (-J): valid as jump_spec_parse() says,
 * and, as ssh checks a -J (not a ProxyJump in a file), no hop's host or
 * user has shell characters or starts with '-'. 0, or -1 with a one-line
 * reason in err.
 */
int	jump_spec_check_cmdline(const char *spec, char *err, size_t errlen);

/*
 * The ProxyCommand ssh itself runs for a ProxyJump (OpenSSH 9.2 ssh.c):
 * "ssh [-l USER] [-p PORT] [-J EARLIER,HOPS] [-F CONFIG] -W '[%h]:%p'
 * LASTHOP", so that every hop is configured from ssh_config under its own
 * name (User, Port, IdentityFile, known_hosts, its own ProxyJump) exactly
 * as ssh does. Values are single-quoted for the shell. NULL with a reason
 * in err when spec is bad; spec must not be "none".
 */
char	*jump_proxy_command(const char *spec, const char *config_file,
	    char *err, size_t errlen);

/* The hop nearest to the target ("bastion1"), for messages and stats. */
char	*jump_last_host(const char *spec);

/* The spec as ssh -G prints it (the last hop normalised); NULL if bad. */
char	*jump_spec_print(const char *spec);

#endif
