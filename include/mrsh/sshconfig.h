/*
 * ssh_config and known_hosts as OpenSSH reads them: ~/.ssh/config then
 * /etc/ssh/ssh_config (or -F FILE instead), -o Key=Value overrides first,
 * Include with globs, Host patterns with * ? !, first value wins. Used by the
 * ssh transport (once per host, before connecting) and by -G HOST.
 */
#ifndef MRSH_SSHCONFIG_H
#define MRSH_SSHCONFIG_H

#include <sys/socket.h>

#include <stddef.h>

#include "mrsh/options.h"
#include "mrsh/sshalgs.h"

struct sshconfig;	/* parsed files, shared by every host of a run */
struct sshconfig_host;	/* one host's configuration in the making */
struct addrinfo;

#define SSHCFG_MAX_FILES 16

/* RequestTTY */
enum request_tty {
	REQUEST_TTY_AUTO = 0,
	REQUEST_TTY_NO,
	REQUEST_TTY_YES,
	REQUEST_TTY_FORCE
};

/* The effective configuration for one host. */
struct ssh_host_config {
	char	*hostname;		/* HostName with %h expanded */
	char	*user;			/* -l, user@, User, then $USER */
	int	 port;			/* host:port, -p, Port, then 22 */
	char	*identity[SSHCFG_MAX_FILES];	/* expanded (~, %d %u %h %r) */
	int	 nidentity;
	int	 identity_explicit;	/* came from -i or IdentityFile */
	char	*certificate[SSHCFG_MAX_FILES];	/* CertificateFile, expanded */
	int	 ncertificate;
	int	 identities_only;
	char	*identity_agent;	/* NULL: $SSH_AUTH_SOCK; "none" */
	double	 connect_timeout;	/* 0: none set (use -t) */
	enum strict_mode strict;	/* default STRICT_YES */
	char	*user_known_hosts[SSHCFG_MAX_FILES];
	int	 nuser_known_hosts;
	char	*global_known_hosts[SSHCFG_MAX_FILES];
	int	 nglobal_known_hosts;
	int	 server_alive_interval;	/* 0: off */
	int	 server_alive_count_max;	/* default 3 */
	int	 batch_mode;
	int	 password_auth;		/* PasswordAuthentication (default yes) */
	int	 kbdint_auth;		/* KbdInteractiveAuthentication (yes) */
	int	 hash_known_hosts;	/* HashKnownHosts: accept-new hashes */
	int	 check_host_ip;		/* CheckHostIP */
	char	*kh_command_raw;	/* KnownHostsCommand as written */
	char	**kh_command;		/* ... as argv, %H %I %t %f %K left;
					   NULL: none, or unusable */
	char	*proxy_command;		/* ProxyCommand, unexpanded; NULL: none */
	char	*proxy_jump;		/* ProxyJump / -J as written; NULL: none */
	char	*host_key_alias;	/* HostKeyAlias, lowercased, or NULL */
	char	*revoked_host_keys;	/* RevokedHostKeys file, or NULL */
	char	*algs[ALGS_NKINDS];	/* KexAlgorithms... as written, or NULL */
	enum request_tty request_tty;	/* RequestTTY */
	char	**send_env;		/* SendEnv patterns, after removals */
	int	 nsend_env;
	char	**set_env;		/* SetEnv NAME=value, first line's */
	int	 nset_env;
	/*
	 * The addresses canonicalization found for hostname (port 0), to
	 * connect to as ssh does, without resolving the name again.
	 */
	struct sockaddr_storage *addrs;
	int	 naddrs;
};

/*
 * Read the configuration files once per run (-F or the defaults, and -o).
 * Returns NULL after printing a one-line error (file:line) on a bad file.
 */
struct sshconfig *sshconfig_load(const struct options *);
void	sshconfig_free(struct sshconfig *);

/*
 * Fill hc for host (name as in the host list; user/port as given there, or
 * NULL/0), evaluating Match (exec commands run here, once per host and
 * command for the run). Returns 0, or -1 with a one-line reason in err when
 * mrsh must not connect to the host: a keyword it does not implement is
 * set to a value that changes where it connects, as whom, or what it
 * trusts (the reason names the keyword and file:line), a Match exec did
 * not exit, or a ${VAR} in a file name is unset. hc is filled either way
 * and must be freed.
 */
int	sshconfig_resolve(struct sshconfig *, const struct options *,
	    const char *host, const char *user, int port,
	    struct ssh_host_config *hc, char *err, size_t errlen);
/*
 * The same for a ProxyJump hop, as the ssh -W that OpenSSH 9.2 runs for it
 * sees it: the files (-F) only, none of -l -p -J -i -o; user/port are the
 * hop's own [user@]host[:port].
 */
int	sshconfig_resolve_hop(struct sshconfig *, const struct options *,
	    const char *host, const char *user, int port,
	    struct ssh_host_config *hc, char *err, size_t errlen);

/*
 * The same in steps, for CanonicalizeHostname: sshconfig_begin() makes
 * the first pass; while sshconfig_canon_next() names a host ("name.",
 * absolute), look it up as ssh's getaddrinfo(AI_CANONNAME) would and give
 * the addresses (NULL: not found) and the CNAME reported (or NULL) to
 * sshconfig_canon_answer(); sshconfig_end() then makes the second pass
 * and fills hc as sshconfig_resolve() does. sshconfig_resolve() answers
 * "not found" to every lookup (it never blocks).
 */
struct sshconfig_host *sshconfig_begin(struct sshconfig *,
	    const struct options *, const char *host, const char *user,
	    int port);
const char *sshconfig_canon_next(struct sshconfig_host *);
void	sshconfig_canon_answer(struct sshconfig_host *,
	    const struct addrinfo *, const char *cname);
int	sshconfig_end(struct sshconfig_host *, struct ssh_host_config *hc,
	    char *err, size_t errlen);
void	sshconfig_host_free(struct sshconfig_host *);
void	ssh_host_config_free(struct ssh_host_config *);

/* mrsh -G HOST: print the effective configuration like ssh -G; exit status. */
int	sshconfig_dump_host(const struct options *, const char *host);

/*
 * known_hosts, as ssh checks it (see knownhosts.c): the name looked up is
 * HostKeyAlias, or the host name ([host]:port for a port other than 22).
 * session is a LIBSSH2_SESSION after the handshake. Returns 0 if the host
 * key may be used; 1 if it may be used only because StrictHostKeyChecking
 * is no although it is changed or revoked (then, as ssh, no password or
 * keyboard-interactive authentication); -1 with a one-line reason in err
 * (unknown under StrictHostKeyChecking yes, with how to accept it; changed
 * or @revoked; known only through @cert-authority). accept-new (and no)
 * append the key to the first user known_hosts file (created with mode
 * 0600 if missing, appended with O_APPEND in one write so parallel
 * sessions do not interleave). peer is the address connected to: with
 * CheckHostIP, an address that is not loopback (AF_UNIX for a jump channel
 * or a ProxyCommand: not checked, as ssh) is looked up too, recorded
 * beside the host's key, and a key that differs from it refuses the host.
 * KnownHostsCommand runs (at most timeout seconds, the loop waiting) and
 * its output counts as one more known_hosts file, as in ssh.
 */
struct _LIBSSH2_SESSION;
struct sockaddr;
int	knownhosts_check(struct _LIBSSH2_SESSION *,
	    const struct ssh_host_config *, const struct sockaddr *peer,
	    double timeout, char *err, size_t errlen);
/*
 * The same for a host key blob the server sent (the SSH wire encoding, as
 * libssh2_session_hostkey() gives it); the unit tests call it.
 */
int	knownhosts_check_key(const unsigned char *key, size_t keylen,
	    const struct ssh_host_config *, const struct sockaddr *peer,
	    double timeout, char *err, size_t errlen);
/*
 * HostKeyAlgorithms reordered as ssh's order_hostkeyalgs: unless the first
 * algorithm's key type is known for the host, the algorithms whose key
 * type known_hosts holds for it come first. Returns a new string, or NULL
 * with err when KnownHostsCommand (run for this, as ssh; not when timeout
 * is negative) fails.
 */
char	*knownhosts_order_hostkeyalgs(const struct ssh_host_config *,
	    const char *algs, double timeout, char *err, size_t errlen);
/*
 * Drop the known_hosts files cached by knownhosts_check (each file is read
 * once per run). sshconfig_free() calls it; safe to call more than once.
 */
void	knownhosts_cache_free(void);

#endif
