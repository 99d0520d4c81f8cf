/*
 * ssh_config as OpenSSH 9.2 reads it. The files (-o options, then -F FILE
 * or ~/.ssh/config and /etc/ssh/ssh_config, and everything they Include)
 * are read and checked once per run by sshconfig_load(); a malformed value
 * or a keyword OpenSSH does not know is an error then, as in ssh, even
 * inside a Host block that matches nothing. sshconfig_resolve() then walks
 * the parsed lines for each host as ssh does: Host and Match switch blocks
 * on and off (Match exec runs its command, once per host and command), the
 * first value obtained for a keyword wins, IdentityFile accumulates, and a
 * second pass follows when a Match final asks for one. Keywords mrsh does
 * not implement are either convenience (ignored, noted once at -v) or
 * change where it connects, as whom or what it trusts: those refuse the
 * host (sshcfg_not_supported()). Unlike ssh, ~ means $HOME (falling back to
 * the password file) so that tests can point it somewhere harmless.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "mrsh/hostlist.h"
#include "mrsh/log.h"
#include "mrsh/match.h"
#include "mrsh/options.h"
#include "mrsh/pctok.h"
#include "mrsh/jump.h"
#include "mrsh/sshcanon.h"
#include "mrsh/sshconfig.h"
#include "mrsh/xmalloc.h"

#define SSHCFG_MAX_DEPTH	16	/* Include nesting, as OpenSSH */
#define SSHCFG_USER_DIR		".ssh"
#define SSHCFG_SYSTEM_DIR	"/etc/ssh"
#define SSHCFG_SYSTEM_FILE	"/etc/ssh/ssh_config"
#define SSHCFG_DEFAULT_PORT	22
#define SSHCFG_DEFAULT_ALIVE_MAX 3

/* Percent tokens accepted in file names (IdentityFile, known hosts...). */
#define SSHCFG_PATH_TOKENS	"CdhijklLnpru%"
/* ... and in Match exec. */
#define SSHCFG_EXEC_TOKENS	"CdhiklLnpru%"

enum sshcfg_opcode {
	oUnknown,
	oHost,
	oMatch,
	oInclude,
	oHostname,
	oUser,
	oPort,
	oIdentityFile,
	oCertificateFile,
	oIdentitiesOnly,
	oIdentityAgent,
	oConnectTimeout,
	oStrictHostKeyChecking,
	oUserKnownHostsFile,
	oGlobalKnownHostsFile,
	oServerAliveInterval,
	oServerAliveCountMax,
	oBatchMode,
	oPasswordAuthentication,
	oKbdInteractiveAuthentication,
	oHashKnownHosts,
	oCheckHostIP,
	oKnownHostsCommand,
	oRequestTTY,
	oHostKeyAlias,
	oAlgorithms,
	oSendEnv,
	oSetEnv,
	oProxyJump,
	oProxyCommand,
	oIgnoreUnknown,
	oCanonicalizeHostname,
	oCanonicalDomains,
	oCanonicalizeMaxDots,
	oCanonicalizeFallbackLocal,
	oCanonicalizePermittedCNAMEs,
	oRevokedHostKeys,
	oForeign	/* an ssh keyword mrsh does not implement */
};

/* Keywords mrsh implements; matched case-insensitively. */
static const struct {
	const char		*name;
	enum sshcfg_opcode	 opcode;
} sshcfg_keywords[] = {
	{ "Host", oHost },
	{ "Match", oMatch },
	{ "Include", oInclude },
	{ "HostName", oHostname },
	{ "User", oUser },
	{ "Port", oPort },
	{ "IdentityFile", oIdentityFile },
	{ "CertificateFile", oCertificateFile },
	{ "IdentitiesOnly", oIdentitiesOnly },
	{ "IdentityAgent", oIdentityAgent },
	{ "ConnectTimeout", oConnectTimeout },
	{ "StrictHostKeyChecking", oStrictHostKeyChecking },
	{ "UserKnownHostsFile", oUserKnownHostsFile },
	{ "GlobalKnownHostsFile", oGlobalKnownHostsFile },
	{ "ServerAliveInterval", oServerAliveInterval },
	{ "ServerAliveCountMax", oServerAliveCountMax },
	{ "BatchMode", oBatchMode },
	{ "PasswordAuthentication", oPasswordAuthentication },
	{ "KbdInteractiveAuthentication", oKbdInteractiveAuthentication },
	{ "ChallengeResponseAuthentication", oKbdInteractiveAuthentication },
	{ "HashKnownHosts", oHashKnownHosts },
	{ "CheckHostIP", oCheckHostIP },
	{ "KnownHostsCommand", oKnownHostsCommand },
	{ "RequestTTY", oRequestTTY },
	{ "HostKeyAlias", oHostKeyAlias },
	{ "KexAlgorithms", oAlgorithms },
	{ "HostKeyAlgorithms", oAlgorithms },
	{ "Ciphers", oAlgorithms },
	{ "MACs", oAlgorithms },
	{ "PubkeyAcceptedAlgorithms", oAlgorithms },
	{ "PubkeyAcceptedKeyTypes", oAlgorithms },
	{ "SendEnv", oSendEnv },
	{ "SetEnv", oSetEnv },
	{ "ProxyJump", oProxyJump },
	{ "ProxyCommand", oProxyCommand },
	{ "IgnoreUnknown", oIgnoreUnknown },
	{ "CanonicalizeHostname", oCanonicalizeHostname },
	{ "CanonicalDomains", oCanonicalDomains },
	{ "CanonicalizeMaxDots", oCanonicalizeMaxDots },
	{ "CanonicalizeFallbackLocal", oCanonicalizeFallbackLocal },
	{ "CanonicalizePermittedCNAMEs", oCanonicalizePermittedCNAMEs },
	{ "RevokedHostKeys", oRevokedHostKeys },
	/* Aliases OpenSSH 9.2 accepts. */
	{ "IdentityFile2", oIdentityFile },
	{ "SkeyAuthentication", oKbdInteractiveAuthentication },
	{ "TISAuthentication", oKbdInteractiveAuthentication },
};

/*
 * How OpenSSH 9.2 checks the value of each keyword of sshcfg_foreign below
 * when it reads a file (readconf.c), so that a value ssh refuses is an
 * error in mrsh too, even for a keyword mrsh ignores. A keyword not listed
 * here takes anything (commands and the deprecated keywords ssh itself
 * ignores). Forwarding specifications are checked for their number of
 * arguments only, not parsed as ssh's parse_forward() does.
 */
enum sshcfg_vcheck {
	VC_STRING,	/* one argument */
	VC_WORDS,	/* one of words */
	VC_INT,		/* 0 to INT_MAX */
	VC_TIME,
	VC_KEYTYPES,	/* a key type list */
	VC_LOGLEVEL,
	VC_FACILITY,
	VC_PERSIST,	/* ControlPersist: yes/no or a time */
	VC_ESCAPE,	/* EscapeChar */
	VC_MASK,	/* StreamLocalBindMask: octal */
	VC_TUN,		/* TunnelDevice */
	VC_IPQOS,	/* one or two */
	VC_REKEY,	/* RekeyLimit: size, then time or none */
	VC_ADDKEYS,	/* AddKeysToAgent */
	VC_HASH,	/* FingerprintHash */
	VC_LOGVERBOSE,	/* a list; none alone */
	VC_PERMITOPEN,	/* host:port list; any or none alone */
	VC_FWD_LOCAL,	/* LocalForward: two arguments */
	VC_FWD_REMOTE,	/* RemoteForward: one or two */
	VC_FWD_DYNAMIC	/* DynamicForward: one */
};
#define SSHCFG_FLAG_WORDS	"yes,no,true,false"
#define SSHCFG_YESNOASK_WORDS	"yes,no,true,false,ask"
static const struct {
	const char		*name;
	enum sshcfg_vcheck	 check;
	const char		*words;		/* VC_WORDS */
} sshcfg_foreign_checks[] = {
	{ "AddKeysToAgent", VC_ADDKEYS, NULL },
	{ "AddressFamily", VC_WORDS, "inet,inet6,any" },
	{ "BindAddress", VC_STRING, NULL },
	{ "BindInterface", VC_STRING, NULL },
	{ "CASignatureAlgorithms", VC_KEYTYPES, NULL },
	{ "ClearAllForwardings", VC_WORDS, SSHCFG_FLAG_WORDS },
	{ "Compression", VC_WORDS, "yes,no" },
	{ "ConnectionAttempts", VC_INT, NULL },
	{ "ControlMaster", VC_WORDS, "yes,no,true,false,auto,ask,autoask" },
	{ "ControlPath", VC_STRING, NULL },
	{ "ControlPersist", VC_PERSIST, NULL },
	{ "DynamicForward", VC_FWD_DYNAMIC, NULL },
	{ "DSAAuthentication", VC_WORDS,
	    "yes,no,true,false,unbound,host-bound" },
	{ "EnableEscapeCommandline", VC_WORDS, SSHCFG_FLAG_WORDS },
	{ "EnableSSHKeysign", VC_WORDS, SSHCFG_FLAG_WORDS },
	{ "EscapeChar", VC_ESCAPE, NULL },
	{ "ExitOnForwardFailure", VC_WORDS, SSHCFG_FLAG_WORDS },
	{ "FingerprintHash", VC_HASH, NULL },
	{ "ForkAfterAuthentication", VC_WORDS, SSHCFG_FLAG_WORDS },
	{ "ForwardAgent", VC_STRING, NULL },
	{ "ForwardX11", VC_WORDS, SSHCFG_FLAG_WORDS },
	{ "ForwardX11Timeout", VC_TIME, NULL },
	{ "ForwardX11Trusted", VC_WORDS, SSHCFG_FLAG_WORDS },
	{ "GatewayPorts", VC_WORDS, SSHCFG_FLAG_WORDS },
	{ "GSSAPIAuthentication", VC_WORDS, SSHCFG_FLAG_WORDS },
	{ "GSSAPIClientIdentity", VC_STRING, NULL },
	{ "GSSAPIDelegateCredentials", VC_WORDS, SSHCFG_FLAG_WORDS },
	{ "GSSAPIKeyExchange", VC_WORDS, SSHCFG_FLAG_WORDS },
	{ "GSSAPIRenewalForcesRekey", VC_WORDS, SSHCFG_FLAG_WORDS },
	{ "GSSAPIServerIdentity", VC_STRING, NULL },
	{ "GSSAPITrustDns", VC_WORDS, SSHCFG_FLAG_WORDS },
	{ "HostbasedAcceptedAlgorithms", VC_KEYTYPES, NULL },
	{ "HostbasedAuthentication", VC_WORDS, SSHCFG_FLAG_WORDS },
	{ "HostbasedKeyTypes", VC_KEYTYPES, NULL },
	{ "IPQoS", VC_IPQOS, NULL },
	{ "KbdInteractiveDevices", VC_STRING, NULL },
	{ "KeepAlive", VC_WORDS, SSHCFG_FLAG_WORDS },
	{ "LocalForward", VC_FWD_LOCAL, NULL },
	{ "LogLevel", VC_LOGLEVEL, NULL },
	{ "LogVerbose", VC_LOGVERBOSE, NULL },
	{ "NoHostAuthenticationForLocalhost", VC_WORDS, SSHCFG_FLAG_WORDS },
	{ "NumberOfPasswordPrompts", VC_INT, NULL },
	{ "PermitLocalCommand", VC_WORDS, SSHCFG_FLAG_WORDS },
	{ "PermitRemoteOpen", VC_PERMITOPEN, NULL },
	{ "PKCS11Provider", VC_STRING, NULL },
	{ "PreferredAuthentications", VC_STRING, NULL },
	{ "ProxyUseFdpass", VC_WORDS, SSHCFG_FLAG_WORDS },
	{ "PubkeyAuthentication", VC_WORDS,
	    "yes,no,true,false,unbound,host-bound" },
	{ "RekeyLimit", VC_REKEY, NULL },
	{ "RemoteForward", VC_FWD_REMOTE, NULL },
	{ "RequiredRSASize", VC_INT, NULL },
	{ "SecurityKeyProvider", VC_STRING, NULL },
	{ "SessionType", VC_WORDS, "none,subsystem,default" },
	{ "SmartcardDevice", VC_STRING, NULL },
	{ "StdinNull", VC_WORDS, SSHCFG_FLAG_WORDS },
	{ "StreamLocalBindMask", VC_MASK, NULL },
	{ "StreamLocalBindUnlink", VC_WORDS, SSHCFG_FLAG_WORDS },
	{ "SyslogFacility", VC_FACILITY, NULL },
	{ "TCPKeepAlive", VC_WORDS, SSHCFG_FLAG_WORDS },
	{ "Tunnel", VC_WORDS, "yes,no,true,false,ethernet,point-to-point" },
	{ "TunnelDevice", VC_TUN, NULL },
	{ "UpdateHostKeys", VC_WORDS, SSHCFG_YESNOASK_WORDS },
	{ "VerifyHostKeyDNS", VC_WORDS, SSHCFG_YESNOASK_WORDS },
	{ "VisualHostKey", VC_WORDS, SSHCFG_FLAG_WORDS },
	{ "XAuthLocation", VC_STRING, NULL },
};

/*
 * Every other keyword OpenSSH 9.2 (Debian) knows. mrsh does not implement
 * them. A keyword that changes where mrsh connects, as whom, or what it
 * trusts lists the values that change nothing ("harmless"); any other value
 * in effect for a host refuses that host (sshcfg_not_supported()). The
 * others are convenience only: ignored, noted at -v. To implement one, move
 * it to sshcfg_keywords above.
 */
#define SSHCFG_ANY	NULL		/* convenience only: always ignored */
#define SSHCFG_NEVER	""		/* any value refuses the host */
static const struct sshcfg_foreign {
	const char	*name;
	const char	*harmless;	/* comma list, case-insensitive */
	const char	*what;		/* why a value matters */
	const char	*shares;	/* alias: the keyword whose value it sets */
} sshcfg_foreign[] = {
	/* Where mrsh connects. */
	{ "AddressFamily", "any", "where mrsh connects", NULL },
	{ "BindAddress", SSHCFG_NEVER, "where mrsh connects from", NULL },
	{ "BindInterface", SSHCFG_NEVER, "where mrsh connects from", NULL },
	{ "RemoteCommand", "none", "what runs on the host", NULL },
	{ "SessionType", "default", "what runs on the host", NULL },
	/* As whom. */
	{ "PubkeyAuthentication", "yes,true,unbound,host-bound",
	    "how mrsh authenticates", NULL },
	{ "DSAAuthentication", "yes,true,unbound,host-bound",
	    "how mrsh authenticates", "PubkeyAuthentication" },
	/* What it trusts. */
	{ "RequiredRSASize", "1024", "which keys mrsh accepts", NULL },
	{ "CASignatureAlgorithms", SSHCFG_NEVER,
	    "which algorithms mrsh trusts", NULL },
	/* Convenience only: ignored. */
	{ "AddKeysToAgent", SSHCFG_ANY, NULL, NULL },
	{ "ClearAllForwardings", SSHCFG_ANY, NULL, NULL },
	{ "Compression", SSHCFG_ANY, NULL, NULL },
	{ "ConnectionAttempts", SSHCFG_ANY, NULL, NULL },
	{ "ControlMaster", SSHCFG_ANY, NULL, NULL },
	{ "ControlPath", SSHCFG_ANY, NULL, NULL },
	{ "ControlPersist", SSHCFG_ANY, NULL, NULL },
	{ "DynamicForward", SSHCFG_ANY, NULL, NULL },
	{ "EnableEscapeCommandline", SSHCFG_ANY, NULL, NULL },
	{ "EnableSSHKeysign", SSHCFG_ANY, NULL, NULL },
	{ "EscapeChar", SSHCFG_ANY, NULL, NULL },
	{ "ExitOnForwardFailure", SSHCFG_ANY, NULL, NULL },
	{ "FingerprintHash", SSHCFG_ANY, NULL, NULL },
	{ "ForkAfterAuthentication", SSHCFG_ANY, NULL, NULL },
	{ "ForwardAgent", SSHCFG_ANY, NULL, NULL },
	{ "ForwardX11", SSHCFG_ANY, NULL, NULL },
	{ "ForwardX11Timeout", SSHCFG_ANY, NULL, NULL },
	{ "ForwardX11Trusted", SSHCFG_ANY, NULL, NULL },
	{ "GatewayPorts", SSHCFG_ANY, NULL, NULL },
	{ "GSSAPIAuthentication", SSHCFG_ANY, NULL, NULL },
	{ "GSSAPIClientIdentity", SSHCFG_ANY, NULL, NULL },
	{ "GSSAPIDelegateCredentials", SSHCFG_ANY, NULL, NULL },
	{ "GSSAPIKexAlgorithms", SSHCFG_ANY, NULL, NULL },
	{ "GSSAPIKeyExchange", SSHCFG_ANY, NULL, NULL },
	{ "GSSAPIRenewalForcesRekey", SSHCFG_ANY, NULL, NULL },
	{ "GSSAPIServerIdentity", SSHCFG_ANY, NULL, NULL },
	{ "GSSAPITrustDns", SSHCFG_ANY, NULL, NULL },
	{ "HostbasedAcceptedAlgorithms", SSHCFG_ANY, NULL, NULL },
	{ "HostbasedAuthentication", SSHCFG_ANY, NULL, NULL },
	{ "HostbasedKeyTypes", SSHCFG_ANY, NULL,
	    "HostbasedAcceptedAlgorithms" },
	{ "IPQoS", SSHCFG_ANY, NULL, NULL },
	{ "KbdInteractiveDevices", SSHCFG_ANY, NULL, NULL },
	{ "KeepAlive", SSHCFG_ANY, NULL, "TCPKeepAlive" },
	{ "LocalCommand", SSHCFG_ANY, NULL, NULL },
	{ "LocalForward", SSHCFG_ANY, NULL, NULL },
	{ "LogLevel", SSHCFG_ANY, NULL, NULL },
	{ "LogVerbose", SSHCFG_ANY, NULL, NULL },
	{ "NoHostAuthenticationForLocalhost", SSHCFG_ANY, NULL, NULL },
	{ "NumberOfPasswordPrompts", SSHCFG_ANY, NULL, NULL },
	{ "PermitLocalCommand", SSHCFG_ANY, NULL, NULL },
	{ "PermitRemoteOpen", SSHCFG_ANY, NULL, NULL },
	{ "PKCS11Provider", SSHCFG_ANY, NULL, NULL },
	{ "PreferredAuthentications", SSHCFG_ANY, NULL, NULL },
	{ "ProxyUseFdpass", SSHCFG_ANY, NULL, NULL },
	{ "RekeyLimit", SSHCFG_ANY, NULL, NULL },
	{ "RemoteForward", SSHCFG_ANY, NULL, NULL },
	{ "SecurityKeyProvider", SSHCFG_ANY, NULL, NULL },
	{ "SmartcardDevice", SSHCFG_ANY, NULL, NULL },
	{ "StdinNull", SSHCFG_ANY, NULL, NULL },
	{ "StreamLocalBindMask", SSHCFG_ANY, NULL, NULL },
	{ "StreamLocalBindUnlink", SSHCFG_ANY, NULL, NULL },
	{ "SyslogFacility", SSHCFG_ANY, NULL, NULL },
	{ "TCPKeepAlive", SSHCFG_ANY, NULL, NULL },
	{ "Tunnel", SSHCFG_ANY, NULL, NULL },
	{ "TunnelDevice", SSHCFG_ANY, NULL, NULL },
	{ "UpdateHostKeys", SSHCFG_ANY, NULL, NULL },
	{ "VerifyHostKeyDNS", SSHCFG_ANY, NULL, NULL },
	{ "VisualHostKey", SSHCFG_ANY, NULL, NULL },
	{ "XAuthLocation", SSHCFG_ANY, NULL, NULL },
	/* Deprecated or unsupported in OpenSSH 9.2 itself: ignored there. */
	{ "AFSTokenPassing", SSHCFG_ANY, NULL, NULL },
	{ "Cipher", SSHCFG_ANY, NULL, NULL },
	{ "CompressionLevel", SSHCFG_ANY, NULL, NULL },
	{ "FallBackToRsh", SSHCFG_ANY, NULL, NULL },
	{ "GlobalKnownHostsFile2", SSHCFG_ANY, NULL, NULL },
	{ "KerberosAuthentication", SSHCFG_ANY, NULL, NULL },
	{ "KerberosTGTPassing", SSHCFG_ANY, NULL, NULL },
	{ "Protocol", SSHCFG_ANY, NULL, NULL },
	{ "RhostsAuthentication", SSHCFG_ANY, NULL, NULL },
	{ "RhostsRSAAuthentication", SSHCFG_ANY, NULL, NULL },
	{ "RSAAuthentication", SSHCFG_ANY, NULL, NULL },
	{ "UsePrivilegedPort", SSHCFG_ANY, NULL, NULL },
	{ "UseRoaming", SSHCFG_ANY, NULL, NULL },
	{ "UseRsh", SSHCFG_ANY, NULL, NULL },
	{ "UserKnownHostsFile2", SSHCFG_ANY, NULL, NULL },
};
#define SSHCFG_NFOREIGN	(sizeof sshcfg_foreign / sizeof sshcfg_foreign[0])

/* RequestTTY values as ssh -G prints them, by enum request_tty. */
static const char *sshcfg_request_tty_names[] = {
	"auto", "false", "true", "force"
};

/* StrictHostKeyChecking as written; "ask" behaves as "yes" in mrsh. */
#define SSHCFG_STRICT_ASK	3

static const char *sshcfg_default_identities[] = {
	"~/.ssh/id_rsa", "~/.ssh/id_ecdsa", "~/.ssh/id_ecdsa_sk",
	"~/.ssh/id_ed25519", "~/.ssh/id_ed25519_sk", "~/.ssh/id_xmss",
	"~/.ssh/id_dsa"
};
static const char *sshcfg_default_user_kh[] = {
	"~/.ssh/known_hosts", "~/.ssh/known_hosts2"
};
static const char *sshcfg_default_global_kh[] = {
	"/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"
};

struct sshcfg_file;

/* One keyword line, checked at load time. */
struct sshcfg_line {
	enum sshcfg_opcode	  opcode;
	const char		 *name;		/* canonical keyword */
	const char		 *file;		/* the file's path */
	char			**argv;
	int			  argc;
	char			 *raw;		/* the value as written */
	int			  lineno;
	size_t			  foreign;	/* oForeign: value slot */
	struct sshcfg_file	**incl;		/* Include: files */
	size_t			  nincl;
};

struct sshcfg_file {
	char			*path;
	struct sshcfg_line	*lines;
	size_t			 nlines;
	size_t			 cap;
};

/* A Match exec result, cached per host and command for the run. */
struct sshcfg_exec {
	char			*host;		/* as given */
	char			*cmd;		/* expanded */
	int			 status;	/* exit status; -1 abnormal */
	const char		*why;		/* "fork: ..." if it could not
						   run or be waited for */
	char			*whybuf;
};

struct sshconfig {
	struct sshcfg_file	*cmdline;	/* -o Key=Value */
	int			 skip_cmdline;	/* resolving a jump host */
	struct sshcfg_file	*files[2];	/* -F, or user + system */
	int			 nfiles;
	char			*home;		/* %d and ~ */
	char			*local_user;	/* %u, default User */
	char			*local_host;	/* %l */
	char			*local_short;	/* %L */
	uid_t			 uid;
	char			**noted;	/* keywords noted at -v */
	size_t			 nnoted;
	char			*ignore_unknown;	/* IgnoreUnknown */
	struct sshcfg_exec	*execs;
	size_t			 nexecs;
};

/* Values obtained so far while walking the files for one host. */
struct sshcfg_ctx {
	struct sshconfig	*cfg;
	const char		*host;		/* as given (%n) */
	char			*match_host;	/* what Host lines match */
	int			 final_pass;	/* Match canonical/final true */
	int			 want_final;	/* Match final seen */
	const struct sshcfg_line *foreign[SSHCFG_NFOREIGN]; /* first value */
	const struct sshcfg_line *failed;	/* Match exec that failed */
	const char		*failed_why;	/* its sshcfg_exec's why */
	char			*too_many;	/* key files past the limit */
	const struct sshcfg_line *bad_hostname;	/* HostName, bad % token */
	char			*hostname;	/* HostName, unexpanded */
	char			*user;
	int			 port;
	char			*ids[SSHCFG_MAX_FILES]; /* raw */
	int			 nids;
	int			 ids_explicit;
	int			 ids_only;
	char			*agent;
	int			 ct_set;
	long			 connect_timeout;	/* -1: none */
	int			 strict;
	int			 ukh_set;
	char			*ukh[SSHCFG_MAX_FILES];
	int			 nukh;
	int			 gkh_set;
	char			*gkh[SSHCFG_MAX_FILES];
	int			 ngkh;
	long			 alive_interval;
	int			 alive_max;
	int			 batch;
	int			 pwauth;
	int			 kbdauth;
	int			 hash_kh;
	int			 check_ip;	/* CheckHostIP */
	int			 request_tty;	/* -1: unset */
	char			*host_key_alias;
	char			*algs[ALGS_NKINDS];
	char			**send_env;
	int			 nsend_env;
	char			**set_env;
	int			 nset_env;
	int			 set_env_set;
	char			*proxy_command;	/* raw; "none" kept */
	char			*kh_command;	/* KnownHostsCommand, raw */
	char			*proxy_jump;	/* raw; "none" kept */
	char			*certs[SSHCFG_MAX_FILES]; /* CertificateFile */
	int			 ncerts;
	char			*revoked;	/* RevokedHostKeys */
	int			 canon;		/* CANON_*; -1: unset */
	int			 canon_maxdots;	/* -1: unset */
	int			 canon_fallback;	/* -1: unset */
	const struct sshcfg_line *canon_domains;	/* first line */
	const struct sshcfg_line *canon_cnames;	/* first line */
};

/* CanonicalizeHostname */
#define CANON_NO	0
#define CANON_YES	1
#define CANON_ALWAYS	2
#define CANON_MAX_CNAME_HOPS	8

static int	sshcfg_read_file(struct sshconfig *, const char *, int, int,
		    int, int, struct sshcfg_file **);
static void	sshcfg_file_free(struct sshcfg_file *);
static char	*sshcfg_lower(const char *);
struct sshconfig_host;
static void	sshcfg_canon_plan(struct sshconfig_host *);
static void	sshcfg_canon_bare(struct sshconfig_host *);
static void	sshcfg_canon_notfound(struct sshconfig_host *);
static void	sshcfg_ctx_free(struct sshcfg_ctx *);
static int	sshcfg_finish(const struct sshconfig *, struct sshcfg_ctx *,
		    struct ssh_host_config *, char *, size_t);

/* Look a keyword up in the table. */
static enum sshcfg_opcode
sshcfg_keyword(const char *kw, const char **name)
{
	size_t i;

	for (i = 0; i < sizeof sshcfg_keywords / sizeof sshcfg_keywords[0];
	    i++) {
		if (strcasecmp(kw, sshcfg_keywords[i].name) == 0) {
			*name = sshcfg_keywords[i].name;
			return sshcfg_keywords[i].opcode;
		}
	}
	for (i = 0; i < SSHCFG_NFOREIGN; i++) {
		if (strcasecmp(kw, sshcfg_foreign[i].name) == 0) {
			*name = sshcfg_foreign[i].name;
			return oForeign;
		}
	}
	*name = NULL;
	return oUnknown;
}

/* The value slot of a foreign keyword: its own, or the one it aliases. */
static size_t
sshcfg_foreign_slot(const char *name)
{
	const char *target = name;
	size_t i;

	for (i = 0; i < SSHCFG_NFOREIGN; i++) {
		if (strcmp(sshcfg_foreign[i].name, name) == 0 &&
		    sshcfg_foreign[i].shares != NULL) {
			target = sshcfg_foreign[i].shares;
			break;
		}
	}
	for (i = 0; i < SSHCFG_NFOREIGN; i++) {
		if (strcmp(sshcfg_foreign[i].name, target) == 0)
			return i;
	}
	fatalx("ssh_config keyword table: %s aliases nothing", name);
}

/*
 * The one place that decides whether a value of a keyword mrsh does not
 * implement lets it connect: NULL when the keyword is convenience only or
 * the value changes nothing, else what it would change.
 */
static const char *
sshcfg_not_supported(const struct sshcfg_line *l)
{
	const struct sshcfg_foreign *fk = NULL;
	char *list, *tok, *next;
	size_t i;
	int harmless = 0;

	for (i = 0; i < SSHCFG_NFOREIGN; i++) {
		if (strcmp(sshcfg_foreign[i].name, l->name) == 0)
			fk = &sshcfg_foreign[i];
	}
	if (fk == NULL || fk->harmless == SSHCFG_ANY)
		return NULL;
	list = xstrdup(fk->harmless);
	for (tok = list; tok != NULL && *tok != '\0'; tok = next) {
		if ((next = strchr(tok, ',')) != NULL)
			*next++ = '\0';
		if (l->argc == 1 && strcasecmp(l->argv[0], tok) == 0)
			harmless = 1;
	}
	free(list);
	return harmless ? NULL : fk->what;
}

/* Note an ignored keyword at -v, once per run. */
static void
sshcfg_note_unknown(struct sshconfig *cfg, const char *file, int lineno,
    const char *kw)
{
	size_t i;

	for (i = 0; i < cfg->nnoted; i++) {
		if (strcasecmp(cfg->noted[i], kw) == 0)
			return;
	}
	cfg->noted = xreallocarray(cfg->noted, cfg->nnoted + 1,
	    sizeof *cfg->noted);
	cfg->noted[cfg->nnoted++] = xstrdup(kw);
	log_msg(LOG_INFO, NULL, 0, "%s:%d: ssh_config keyword %s is not used "
	    "by mrsh; ignored", file, lineno, kw);
}

/*
 * Split the rest of a line into words as OpenSSH's argv_split() does:
 * whitespace separates, single or double quotes group, a backslash escapes
 * a quote, a backslash or a space, and (with comments, as ssh reads a
 * config line) a word starting with # ends the line. Returns -1 on an
 * unterminated quote.
 */
static int
sshcfg_split(const char *s, char ***argvp, int *argcp, int comments)
{
	char **argv = NULL, *word;
	int argc = 0, quote;
	size_t i = 0, j;

	*argvp = NULL;
	*argcp = 0;
	for (;;) {
		while (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' ||
		    s[i] == '\n')
			i++;
		if (s[i] == '\0' || (comments && s[i] == '#'))
			break;
		word = xmalloc(strlen(s + i) + 1);
		j = 0;
		quote = 0;
		for (; s[i] != '\0'; i++) {
			if (quote == 0 && (s[i] == ' ' || s[i] == '\t' ||
			    s[i] == '\r' || s[i] == '\n'))
				break;
			if (s[i] == '\\' && (s[i + 1] == '\'' ||
			    s[i + 1] == '"' || s[i + 1] == '\\' ||
			    (quote == 0 && s[i + 1] == ' '))) {
				word[j++] = s[++i];
			} else if (quote == 0 && (s[i] == '"' ||
			    s[i] == '\'')) {
				quote = s[i];
			} else if (quote != 0 && s[i] == quote) {
				quote = 0;
			} else
				word[j++] = s[i];
		}
		word[j] = '\0';
		argv = xreallocarray(argv, argc + 2, sizeof *argv);
		argv[argc++] = word;
		argv[argc] = NULL;
		if (quote != 0) {
			*argvp = argv;
			*argcp = argc;
			return -1;
		}
	}
	*argvp = argv;
	*argcp = argc;
	return 0;
}

static void
sshcfg_argv_free(char **argv, int argc)
{
	int i;

	for (i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
}

/*
 * Keywords that take one of a few words, as readconf.c's multistate
 * tables (case-insensitive). The entry with a NULL key is the value for
 * any other word: malformed.
 */
struct sshcfg_multistate {
	const char	*key;
	int		 value;
};
static const struct sshcfg_multistate sshcfg_ms_flag[] = {
	{ "true", 1 }, { "false", 0 }, { "yes", 1 }, { "no", 0 },
	{ NULL, -1 }
};
/* -2 if malformed: -1 is "not set" for ctx->strict. */
static const struct sshcfg_multistate sshcfg_ms_strict[] = {
	{ "true", STRICT_YES }, { "false", STRICT_NO }, { "yes", STRICT_YES },
	{ "no", STRICT_NO }, { "ask", SSHCFG_STRICT_ASK }, { "off", STRICT_NO },
	{ "accept-new", STRICT_ACCEPT_NEW }, { NULL, -2 }
};
static const struct sshcfg_multistate sshcfg_ms_request_tty[] = {
	{ "true", REQUEST_TTY_YES }, { "false", REQUEST_TTY_NO },
	{ "yes", REQUEST_TTY_YES }, { "no", REQUEST_TTY_NO },
	{ "force", REQUEST_TTY_FORCE }, { "auto", REQUEST_TTY_AUTO },
	{ NULL, -1 }
};
static const struct sshcfg_multistate sshcfg_ms_canon[] = {
	{ "true", CANON_YES }, { "false", CANON_NO }, { "yes", CANON_YES },
	{ "no", CANON_NO }, { "always", CANON_ALWAYS }, { NULL, -1 }
};

static int
sshcfg_multistate(const struct sshcfg_multistate *m, const char *s)
{
	for (; m->key != NULL; m++) {
		if (strcasecmp(s, m->key) == 0)
			break;
	}
	return m->value;
}

/* yes/true or no/false; -1 if neither. */
static int
sshcfg_parse_flag(const char *s)
{
	return sshcfg_multistate(sshcfg_ms_flag, s);
}

/* A port number 1-65535 or a service name; -1 if neither. */
static int
sshcfg_parse_port(const char *s)
{
	struct servent *se;
	char *ep;
	long v;

	if (*s == '\0')
		return -1;
	errno = 0;
	v = strtol(s, &ep, 10);
	if (*ep == '\0' && errno == 0)
		return v >= 1 && v <= 65535 ? (int)v : -1;
	if ((se = getservbyname(s, "tcp")) != NULL)
		return ntohs(se->s_port);
	return -1;
}

/* A non-negative decimal integer; -1 if not. */
static long
sshcfg_parse_int(const char *s)
{
	char *ep;
	long v;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &ep, 10);
	if (*ep != '\0' || errno != 0 || v > INT_MAX)
		return -1;
	return v;
}

/* A time as OpenSSH's convtime(): 90, 1m30s, 2h, 1w; -1 if malformed. */
static long
sshcfg_parse_time(const char *s)
{
	long total = 0, v, mult;
	char *ep;

	if (*s == '\0')
		return -1;
	while (*s != '\0') {
		if (!isdigit((unsigned char)*s))
			return -1;
		errno = 0;
		v = strtol(s, &ep, 10);
		if (errno != 0 || v < 0)
			return -1;
		switch (*ep) {
		case '\0':
			mult = 1;
			break;
		case 's': case 'S':
			mult = 1;
			ep++;
			break;
		case 'm': case 'M':
			mult = 60;
			ep++;
			break;
		case 'h': case 'H':
			mult = 3600;
			ep++;
			break;
		case 'd': case 'D':
			mult = 86400;
			ep++;
			break;
		case 'w': case 'W':
			mult = 604800;
			ep++;
			break;
		default:
			return -1;
		}
		if (v > (INT_MAX - total) / mult)
			return -1;
		total += v * mult;
		s = ep;
	}
	return total;
}

/*
 * Which algorithm list a keyword of oAlgorithms (canonical name) sets: the
 * last kind is PubkeyAcceptedAlgorithms, or its old name
 * PubkeyAcceptedKeyTypes.
 */
static enum sshalgs_kind
sshcfg_algs_kind(const char *name)
{
	int k;

	for (k = 0; k < ALGS_PUBKEY; k++) {
		if (strcmp(name, sshalgs_keyword(k)) == 0)
			return k;
	}
	return ALGS_PUBKEY;
}

/*
 * Is name a domain name ssh accepts (misc.c valid_domain())? NULL if so,
 * else ssh's complaint.
 */
static const char *
sshcfg_valid_domain(const char *name)
{
	static char errbuf[256];
	size_t i, l = strlen(name);
	unsigned char c, last = '\0';

	if (l == 0)
		return "empty domain name";
	if (!isalpha((unsigned char)name[0]) &&
	    !isdigit((unsigned char)name[0])) {
		snprintf(errbuf, sizeof errbuf, "domain name \"%.100s\" starts "
		    "with invalid character", name);
		return errbuf;
	}
	for (i = 0; i < l; i++) {
		c = (unsigned char)tolower((unsigned char)name[i]);
		if (last == '.' && c == '.') {
			snprintf(errbuf, sizeof errbuf, "domain name \"%.100s\" "
			    "contains consecutive separators", name);
			return errbuf;
		}
		if (c != '.' && c != '-' && !isalnum(c) && c != '_') {
			snprintf(errbuf, sizeof errbuf, "domain name \"%.100s\" "
			    "contains invalid characters", name);
			return errbuf;
		}
		last = c;
	}
	return NULL;
}

/* Report a bad value as "FILE:LINE: bad value for Keyword: value". */
static int
sshcfg_bad_value(const char *file, int lineno, const char *name,
    const char *value)
{
	error("%s:%d: bad value for %s: %s", file, lineno, name, value);
	return -1;
}

/*
 * An agent socket path as ssh checks it when it reads the line
 * (parse_agent_path): each ${VAR} closed and set now, a legacy $VAR a
 * valid name. NULL if fine, else ssh's complaint (a format for the path).
 */
static const char *
sshcfg_agent_path_err(const char *s)
{
	const char *p, *end, *c;
	char *name;
	int unset;

	for (p = s; (p = strstr(p, "${")) != NULL; p = end) {
		if ((end = strchr(p, '}')) == NULL)
			return "Invalid environment expansion %s.";
		name = xstrndup(p + 2, end - p - 2);
		unset = getenv(name) == NULL;
		free(name);
		if (unset)
			return "Invalid environment expansion %s.";
	}
	if (s[0] == '$' && s[1] != '{') {
		for (c = s + 1; *c != '\0'; c++) {
			if (!isalnum((unsigned char)*c) && *c != '_')
				break;
		}
		if (s[1] == '\0' || *c != '\0')
			return "Invalid environment name %s.";
	}
	return NULL;
}

/* One of the comma list words, case-insensitively? */
static int
sshcfg_is_word(const char *s, const char *words)
{
	size_t n = strlen(s);
	const char *p;

	for (p = words; *p != '\0'; p += strcspn(p, ",") + (p[strcspn(p,
	    ",")] == ',')) {
		if (strcspn(p, ",") == n && strncasecmp(p, s, n) == 0)
			return 1;
	}
	return 0;
}

/* misc.c atoi_err(): NULL, or why s is no integer from 0 to INT_MAX. */
static const char *
sshcfg_atoi_err(const char *s)
{
	char *ep;
	long long v;

	errno = 0;
	v = strtoll(s, &ep, 10);
	if (*s == '\0' || *ep != '\0')
		return "invalid";
	if (v < 0 || (errno == ERANGE && v == LLONG_MIN))
		return "too small";
	if (v > INT_MAX || errno == ERANGE)
		return "too large";
	return NULL;
}

/* misc.c a2tun() for one side: "any" or 0 to SSH_TUNID_MAX. */
static int
sshcfg_tun_ok(const char *s)
{
	return strcasecmp(s, "any") == 0 || (sshcfg_atoi_err(s) == NULL &&
	    strtoll(s, NULL, 10) <= INT_MAX - 2);
}

/* misc.c parse_ipqos(): a DSCP/TOS name or a number 0-255. */
static int
sshcfg_ipqos_ok(const char *s)
{
	char *ep;
	long v;

	if (sshcfg_is_word(s, "none,af11,af12,af13,af21,af22,af23,af31,af32,"
	    "af33,af41,af42,af43,cs0,cs1,cs2,cs3,cs4,cs5,cs6,cs7,ef,le,"
	    "lowdelay,throughput,reliability"))
		return 1;
	v = strtol(s, &ep, 0);
	return *s != '\0' && *ep == '\0' && v >= 0 && v <= 255;
}

/*
 * RekeyLimit's size as scan_scaled() reads it: a sign, digits with a
 * fraction, then one of BKMGTPE not followed by a letter or digit. 0 if
 * fine, 1 if below ssh's minimum of 16 bytes (and not 0), else the errno
 * scan_scaled() sets.
 */
static int
sshcfg_rekey_size(const char *s)
{
	static const char units[] = "BKMGTPE";
	const char *u;
	long double v = 0, frac = 0, div = 1;
	int sign = 1, signs = 0, dot = 0, ndigits = 0;

	if (strcmp(s, "default") == 0)
		return 0;
	while (isspace((unsigned char)*s))
		s++;
	for (; *s == '-' || *s == '+'; s++) {
		if (signs++ > 0)
			return EINVAL;
		if (*s == '-')
			sign = -1;
	}
	for (; isdigit((unsigned char)*s) || *s == '.'; s++) {
		if (*s == '.') {
			if (dot++ > 0)
				return EINVAL;
		} else if (dot) {
			div *= 10;
			frac += (*s - '0') / div;
		} else {
			if (++ndigits >= 20)
				return ERANGE;
			v = v * 10 + (*s - '0');
		}
	}
	if (*s != '\0') {
		if ((u = strchr(units, toupper((unsigned char)*s))) == NULL ||
		    isalnum((unsigned char)s[1]))
			return EINVAL;
		for (v += frac; u > units; u--)
			v *= 1024;
		if (v > LLONG_MAX)
			return ERANGE;
	}
	v *= sign;
	return v != 0 && v < 16 ? 1 : 0;
}

/* PermitRemoteOpen's host:port or [host]:port, the port a number or '*'. */
static int
sshcfg_permitopen_ok(const char *s)
{
	const char *port;

	if (*s == '[') {
		if ((port = strchr(s, ']')) == NULL || port[1] != ':')
			return 0;
		port += 2;
	} else if ((port = strchr(s, ':')) != NULL)
		port++;
	else
		return 0;
	return strcmp(port, "*") == 0 || sshcfg_parse_port(port) != -1;
}

/*
 * Check the value of a keyword mrsh does not implement as ssh does when it
 * reads the line (sshcfg_foreign_checks). Returns -1 after an error.
 */
static int
sshcfg_check_foreign(const char *file, struct sshcfg_line *l)
{
	const char *a = l->argv[0], *e;
	char msg[1024], *lower;
	size_t i;
	int j, maxargs = 1, bad = 0, permit, alone;

	for (i = 0; i < sizeof sshcfg_foreign_checks /
	    sizeof sshcfg_foreign_checks[0]; i++) {
		if (strcmp(sshcfg_foreign_checks[i].name, l->name) == 0)
			break;
	}
	if (i == sizeof sshcfg_foreign_checks /
	    sizeof sshcfg_foreign_checks[0])
		return 0;
	msg[0] = '\0';
	/* An empty first argument (""), in ssh's words per keyword. */
	switch (*a != '\0' ? VC_LOGVERBOSE : sshcfg_foreign_checks[i].check) {
	case VC_LOGVERBOSE:
	case VC_PERMITOPEN:
	case VC_LOGLEVEL:
	case VC_FACILITY:
	case VC_IPQOS:
		break;
	case VC_INT:
		e = "integer value missing.";
		goto missing;
	case VC_WORDS:
	case VC_ADDKEYS:
		e = "missing argument.";
		goto missing;
	case VC_TIME:
		e = "missing time value.";
		goto missing;
	case VC_PERSIST:
		e = "Missing ControlPersist argument.";
		goto missing;
	case VC_MASK:
		e = "Missing StreamLocalBindMask argument.";
		goto missing;
	default:
		e = "Missing argument.";
	missing:
		error("%s line %d: %s", file, l->lineno, e);
		return -1;
	}
	switch (sshcfg_foreign_checks[i].check) {
	case VC_STRING:
		/* ForwardAgent: a flag, else a socket path as IdentityAgent. */
		if (strcmp(l->name, "ForwardAgent") == 0 &&
		    !sshcfg_is_word(a, SSHCFG_FLAG_WORDS) &&
		    (e = sshcfg_agent_path_err(a)) != NULL)
			snprintf(msg, sizeof msg, e, a);
		break;
	case VC_WORDS:
		if (!sshcfg_is_word(a, sshcfg_foreign_checks[i].words))
			snprintf(msg, sizeof msg, "unsupported option \"%s\".",
			    a);
		break;
	case VC_INT:
		if ((e = sshcfg_atoi_err(a)) != NULL)
			snprintf(msg, sizeof msg, "integer value %s.", e);
		break;
	case VC_TIME:
		if (sshcfg_parse_time(a) == -1)
			snprintf(msg, sizeof msg, "invalid time value.");
		break;
	case VC_KEYTYPES:
		(void)sshalgs_check(ALGS_PUBKEY, a, msg, sizeof msg);
		break;
	case VC_HASH:
		if (!sshcfg_is_word(a, "md5,sha1,sha256,sha384,sha512"))
			snprintf(msg, sizeof msg, "Invalid hash algorithm "
			    "\"%s\".", a);
		break;
	case VC_LOGLEVEL:
		if (!sshcfg_is_word(a, "quiet,fatal,error,info,verbose,debug,"
		    "debug1,debug2,debug3"))
			snprintf(msg, sizeof msg, "unsupported log level '%s'",
			    a);
		break;
	case VC_FACILITY:
		if (!sshcfg_is_word(a, "daemon,user,auth,authpriv,local0,"
		    "local1,local2,local3,local4,local5,local6,local7"))
			snprintf(msg, sizeof msg, "unsupported log facility "
			    "'%s'", a);
		break;
	case VC_PERSIST:
		/* Case-sensitive, unlike the other flags. */
		if (strcmp(a, "yes") != 0 && strcmp(a, "no") != 0 &&
		    strcmp(a, "true") != 0 && strcmp(a, "false") != 0 &&
		    sshcfg_parse_time(a) == -1)
			snprintf(msg, sizeof msg, "Bad ControlPersist "
			    "argument.");
		break;
	case VC_ESCAPE:
		if (strcmp(a, "none") != 0 && a[1] != '\0' && (a[0] != '^' ||
		    a[2] != '\0' || (unsigned char)a[1] < 64 ||
		    (unsigned char)a[1] >= 128))
			snprintf(msg, sizeof msg, "Bad escape character.");
		break;
	case VC_MASK:
		{
			char *ep;
			long v = strtol(a, &ep, 8);

			if (ep == a || v < 0 || v > 0777)
				snprintf(msg, sizeof msg, "Bad mask.");
		}
		break;
	case VC_TUN:
		{
			char *local = xstrdup(a), *remote;

			if ((remote = strchr(local, ':')) != NULL)
				*remote++ = '\0';
			if (!sshcfg_tun_ok(local) ||
			    (remote != NULL && !sshcfg_tun_ok(remote)))
				snprintf(msg, sizeof msg, "Bad tun device.");
			free(local);
		}
		break;
	case VC_IPQOS:
		maxargs = 2;
		for (j = 0; j < 2 && j < l->argc && msg[0] == '\0'; j++) {
			if (!sshcfg_ipqos_ok(l->argv[j]))
				snprintf(msg, sizeof msg, "Bad IPQoS value: "
				    "%s", l->argv[j]);
		}
		break;
	case VC_REKEY:
		maxargs = 2;
		if ((bad = sshcfg_rekey_size(a)) > 1)
			snprintf(msg, sizeof msg, "Bad number '%s': %s", a,
			    strerror(bad));
		else if (bad == 1)
			snprintf(msg, sizeof msg, "RekeyLimit too small");
		else if (l->argc > 1 && strcmp(l->argv[1], "none") != 0 &&
		    sshcfg_parse_time(l->argv[1]) == -1)
			snprintf(msg, sizeof msg, "invalid time value.");
		break;
	case VC_ADDKEYS:
		maxargs = 2;
		if (l->argc > 1 && strcasecmp(a, "confirm") == 0) {
			if (sshcfg_parse_time(l->argv[1]) == -1)
				snprintf(msg, sizeof msg, "invalid time "
				    "value.");
		} else if (l->argc > 2 || (l->argc == 1 &&
		    !sshcfg_is_word(a, SSHCFG_YESNOASK_WORDS ",confirm") &&
		    sshcfg_parse_time(a) == -1) || l->argc == 2)
			snprintf(msg, sizeof msg, "unsupported option");
		break;
	case VC_LOGVERBOSE:
	case VC_PERMITOPEN:
		maxargs = l->argc;
		permit = sshcfg_foreign_checks[i].check == VC_PERMITOPEN;
		lower = sshcfg_lower(l->name);
		for (j = 0; j < l->argc && msg[0] == '\0'; j++) {
			e = l->argv[j];
			alone = strcasecmp(e, "none") == 0 ||
			    (permit && strcasecmp(e, "any") == 0);
			if (*e == '\0')
				snprintf(msg, sizeof msg, "keyword %s empty "
				    "argument", lower);
			else if (alone && l->argc > 1)
				snprintf(msg, sizeof msg, "keyword %s \"%s\" "
				    "argument must appear alone.", lower, e);
			else if (permit && !alone && !sshcfg_permitopen_ok(e))
				snprintf(msg, sizeof msg, "bad port number in "
				    "%s", lower);
		}
		free(lower);
		break;
	case VC_FWD_LOCAL:
		maxargs = 2;
		if (l->argc < 2 || *l->argv[1] == '\0')
			snprintf(msg, sizeof msg, "Missing target argument.");
		break;
	case VC_FWD_REMOTE:
		maxargs = 2;
		break;
	case VC_FWD_DYNAMIC:
		break;
	}
	if (msg[0] == '\0' && l->argc > maxargs) {
		lower = sshcfg_lower(l->name);
		snprintf(msg, sizeof msg, "keyword %s extra arguments at end "
		    "of line", lower);
		free(lower);
	}
	if (msg[0] == '\0')
		return 0;
	error("%s line %d: %s", file, l->lineno, msg);
	return -1;
}

/*
 * Check the criteria of a Match line as OpenSSH 9.2 does: all (alone),
 * canonical and final (no argument), host, originalhost, user, localuser
 * and exec (one argument each), each may be negated with !.
 */
static int
sshcfg_check_match(const char *file, struct sshcfg_line *l)
{
	const char *attr;
	int i, attributes = 0;

	/* As ssh's match_cfg_line(), the criteria end at an empty word. */
	for (i = 0; i < l->argc && *l->argv[i] != '\0'; i++) {
		attr = l->argv[i];
		if (*attr == '!')
			attr++;
		if (strcasecmp(attr, "all") == 0) {
			if (attributes > 1 || (i + 1 < l->argc &&
			    *l->argv[i + 1] != '\0')) {
				error("%s:%d: '%s' cannot be combined with "
				    "other Match attributes", file, l->lineno,
				    l->argv[i]);
				return -1;
			}
			return 0;
		}
		attributes++;
		if (strcasecmp(attr, "canonical") == 0 ||
		    strcasecmp(attr, "final") == 0)
			continue;
		if (strcasecmp(attr, "host") != 0 &&
		    strcasecmp(attr, "originalhost") != 0 &&
		    strcasecmp(attr, "user") != 0 &&
		    strcasecmp(attr, "localuser") != 0 &&
		    strcasecmp(attr, "exec") != 0) {
			error("%s:%d: Unsupported Match attribute %s", file,
			    l->lineno, attr);
			return -1;
		}
		if (i + 1 >= l->argc || *l->argv[i + 1] == '\0') {
			error("%s:%d: Missing Match criteria for %s", file,
			    l->lineno, attr);
			return -1;
		}
		i++;
		if (strcasecmp(attr, "exec") == 0 &&
		    pctok_check(l->argv[i], SSHCFG_EXEC_TOKENS) != 0)
			return sshcfg_bad_value(file, l->lineno, "Match exec",
			    l->argv[i]);
	}
	if (attributes == 0) {
		error("%s:%d: One or more attributes required for Match",
		    file, l->lineno);
		return -1;
	}
	return 0;
}

/* Expand a leading ~ or ~/ with $HOME, ~user/ with that user's home. */
static char *
sshcfg_tilde(const struct sshconfig *cfg, const char *s)
{
	struct passwd *pw;
	const char *slash;
	char *user, *out;

	if (s[0] != '~')
		return xstrdup(s);
	if (s[1] == '\0' || s[1] == '/') {
		xasprintf(&out, "%s%s", cfg->home, s + 1);
		return out;
	}
	slash = strchr(s, '/');
	user = slash != NULL ? xstrndup(s + 1, slash - s - 1) :
	    xstrdup(s + 1);
	pw = getpwnam(user);
	free(user);
	if (pw == NULL)
		return xstrdup(s);
	xasprintf(&out, "%s%s", pw->pw_dir, slash != NULL ? slash : "");
	return out;
}

/* Expand the Include arguments of one line and read the files they name. */
static int
sshcfg_include(struct sshconfig *cfg, const char *file,
    struct sshcfg_line *l, int userconf, int depth)
{
	struct sshcfg_file *f;
	glob_t gl;
	char *path, *pattern;
	size_t j;
	int i, r;

	if (depth >= SSHCFG_MAX_DEPTH) {
		error("%s:%d: Include nested too deeply", file, l->lineno);
		return -1;
	}
	for (i = 0; i < l->argc; i++) {
		if (l->argv[i][0] == '~' && !userconf) {
			error("%s:%d: bad include path %s", file, l->lineno,
			    l->argv[i]);
			return -1;
		}
		if (l->argv[i][0] == '/')
			path = xstrdup(l->argv[i]);
		else if (l->argv[i][0] == '~')
			path = sshcfg_tilde(cfg, l->argv[i]);
		else if (userconf)
			xasprintf(&path, "%s/%s/%s", cfg->home,
			    SSHCFG_USER_DIR, l->argv[i]);
		else
			xasprintf(&path, "%s/%s", SSHCFG_SYSTEM_DIR,
			    l->argv[i]);
		pattern = path;
		memset(&gl, 0, sizeof gl);
		r = glob(pattern, 0, NULL, &gl);
		if (r == GLOB_NOMATCH) {
			debug("%s:%d: Include %s matched no files", file,
			    l->lineno, pattern);
			free(pattern);
			continue;
		}
		if (r != 0) {
			error("%s:%d: glob failed for %s", file, l->lineno,
			    pattern);
			free(pattern);
			return -1;
		}
		free(pattern);
		for (j = 0; j < gl.gl_pathc; j++) {
			f = NULL;
			if (sshcfg_read_file(cfg, gl.gl_pathv[j], userconf, 1,
			    0, depth + 1, &f) != 0) {
				globfree(&gl);
				return -1;
			}
			if (f == NULL)
				continue;
			l->incl = xreallocarray(l->incl, l->nincl + 1,
			    sizeof *l->incl);
			l->incl[l->nincl++] = f;
		}
		globfree(&gl);
	}
	return 0;
}

/* Check the values of a keyword line as OpenSSH would. */
static int
sshcfg_check_line(const char *file, struct sshcfg_line *l)
{
	const char *a = l->argv[0], *err;
	char msg[1024], *c;
	int i;

	switch (l->opcode) {
	case oHostname:
		/* A bad % token fails the host that uses it, as in ssh. */
		if (l->argc != 1)
			return sshcfg_bad_value(file, l->lineno, l->name, a);
		break;
	case oUser:
	case oHostKeyAlias:
	case oRevokedHostKeys:
		if (l->argc != 1)
			return sshcfg_bad_value(file, l->lineno, l->name, a);
		break;
	case oPort:
		if (l->argc != 1 || sshcfg_parse_port(a) == -1)
			return sshcfg_bad_value(file, l->lineno, l->name, a);
		break;
	case oIdentityAgent:
		if (l->argc == 1 && (err = sshcfg_agent_path_err(a)) != NULL) {
			snprintf(msg, sizeof msg, err, a);
			error("%s line %d: %s", file, l->lineno, msg);
			return -1;
		}
		/* FALLTHROUGH */
	case oIdentityFile:
	case oCertificateFile:
		/* % tokens: checked when the host uses it, as in ssh. */
		if (l->argc != 1)
			return sshcfg_bad_value(file, l->lineno, l->name, a);
		break;
	case oIdentitiesOnly:
	case oBatchMode:
	case oPasswordAuthentication:
	case oKbdInteractiveAuthentication:
	case oHashKnownHosts:
	case oCheckHostIP:
		if (l->argc != 1 || sshcfg_parse_flag(a) == -1)
			return sshcfg_bad_value(file, l->lineno, l->name, a);
		break;
	case oConnectTimeout:
		if (l->argc != 1 || (strcasecmp(a, "none") != 0 &&
		    sshcfg_parse_time(a) == -1))
			return sshcfg_bad_value(file, l->lineno, l->name, a);
		break;
	case oServerAliveInterval:
		if (l->argc != 1 || sshcfg_parse_time(a) == -1)
			return sshcfg_bad_value(file, l->lineno, l->name, a);
		break;
	case oServerAliveCountMax:
		if (l->argc != 1 || sshcfg_parse_int(a) == -1)
			return sshcfg_bad_value(file, l->lineno, l->name, a);
		break;
	case oStrictHostKeyChecking:
		if (l->argc != 1 ||
		    sshcfg_multistate(sshcfg_ms_strict, a) == -2)
			return sshcfg_bad_value(file, l->lineno, l->name, a);
		break;
	case oAlgorithms:
		if (l->argc != 1)
			return sshcfg_bad_value(file, l->lineno, l->name, a);
		if (sshalgs_check(sshcfg_algs_kind(l->name), a, msg,
		    sizeof msg) != NULL) {
			error("%s line %d: %s", file, l->lineno, msg);
			return -1;
		}
		break;
	case oRequestTTY:
		if (l->argc != 1 ||
		    sshcfg_multistate(sshcfg_ms_request_tty, a) == -1)
			return sshcfg_bad_value(file, l->lineno, l->name, a);
		break;
	case oSendEnv:
		for (i = 0; i < l->argc; i++) {
			if (*l->argv[i] == '\0' ||
			    strchr(l->argv[i], '=') != NULL) {
				error("%s line %d: Invalid environment name.",
				    file, l->lineno);
				return -1;
			}
		}
		break;
	case oSetEnv:
		for (i = 0; i < l->argc; i++) {
			if (strchr(l->argv[i], '=') == NULL) {
				error("%s line %d: Invalid SetEnv.", file,
				    l->lineno);
				return -1;
			}
		}
		break;
	case oCanonicalizeHostname:
		if (l->argc != 1 ||
		    sshcfg_multistate(sshcfg_ms_canon, a) == -1)
			return sshcfg_bad_value(file, l->lineno, l->name, a);
		break;
	case oCanonicalizeFallbackLocal:
		if (l->argc != 1 || sshcfg_parse_flag(a) == -1)
			return sshcfg_bad_value(file, l->lineno, l->name, a);
		break;
	case oCanonicalizeMaxDots:
		if (l->argc != 1 || sshcfg_parse_int(a) == -1)
			return sshcfg_bad_value(file, l->lineno, l->name, a);
		break;
	case oCanonicalDomains:
		for (i = 0; i < l->argc; i++) {
			if (*l->argv[i] == '\0') {
				c = sshcfg_lower(l->name);
				error("%s line %d: keyword %s empty argument",
				    file, l->lineno, c);
				free(c);
				return -1;
			}
			if (strcasecmp(l->argv[i], "none") == 0 &&
			    l->argc != 1) {
				c = sshcfg_lower(l->name);
				error("%s line %d: keyword %s \"none\" argument "
				    "must appear alone.", file, l->lineno, c);
				free(c);
				return -1;
			}
			if ((err = sshcfg_valid_domain(l->argv[i])) != NULL) {
				error("%s line %d: %s", file, l->lineno, err);
				return -1;
			}
			/* As ssh's valid_domain(arg, 1): lower-cased. */
			for (c = l->argv[i]; *c != '\0'; c++)
				*c = (char)tolower((unsigned char)*c);
		}
		break;
	case oCanonicalizePermittedCNAMEs:
		for (i = 0; i < l->argc; i++) {
			if (strcasecmp(l->argv[i], "none") == 0) {
				if (l->argc != 1) {
					c = sshcfg_lower(l->name);
					error("%s line %d: keyword %s \"none\" "
					    "argument must appear alone.", file,
					    l->lineno, c);
					free(c);
					return -1;
				}
				continue;
			}
			if (strcmp(l->argv[i], "*") == 0)
				continue;
			c = strchr(l->argv[i], ':');
			if (c == NULL || c[1] == '\0') {
				error("%s line %d: Invalid permitted CNAME "
				    "\"%s\"", file, l->lineno, l->argv[i]);
				return -1;
			}
			/* As ssh: the rules are compared in lower case. */
			for (c = l->argv[i]; *c != '\0'; c++)
				*c = (char)tolower((unsigned char)*c);
		}
		break;
	case oUserKnownHostsFile:
	case oGlobalKnownHostsFile:
		for (i = 0; i < l->argc; i++) {
			if (*l->argv[i] == '\0') {
				c = sshcfg_lower(l->name);
				error("%s line %d: keyword %s empty argument",
				    file, l->lineno, c);
				free(c);
				return -1;
			}
			if (strcasecmp(l->argv[i], "none") == 0 &&
			    l->argc != 1)
				return sshcfg_bad_value(file, l->lineno,
				    l->name, "none must appear alone");
		}
		break;
	default:
		break;
	}
	return 0;
}

/* Append a line to f (amortised growth: big configs parse in linear time). */
static struct sshcfg_line *
sshcfg_add_line(struct sshcfg_file *f)
{
	if (f->nlines == f->cap) {
		f->cap = f->cap == 0 ? 16 : f->cap * 2;
		f->lines = xreallocarray(f->lines, f->cap, sizeof *f->lines);
	}
	memset(&f->lines[f->nlines], 0, sizeof f->lines[f->nlines]);
	return &f->lines[f->nlines++];
}

/* A keyword neither mrsh nor OpenSSH knows: an error unless IgnoreUnknown. */
static int
sshcfg_unknown(struct sshconfig *cfg, const char *file, int lineno,
    int cmdline, const char *kw)
{
	char *lower;
	int ignored;

	lower = sshcfg_lower(kw);
	ignored = cfg->ignore_unknown != NULL &&
	    match_pattern_list(lower, cfg->ignore_unknown, 1) == 1;
	if (ignored)
		sshcfg_note_unknown(cfg, file, lineno, kw);
	else if (cmdline)
		error("command-line: line 0: Bad configuration option: %s",
		    lower);
	else
		error("%s:%d: Bad configuration option: %s", file, lineno,
		    lower);
	free(lower);
	return ignored ? 0 : -1;
}

/*
 * Parse one line into f. file/lineno name it in messages; cmdline is set
 * for -o options, which may not contain Host, Match or Include.
 */
static int
sshcfg_parse_line(struct sshconfig *cfg, struct sshcfg_file *f, char *buf,
    int lineno, int userconf, int cmdline, int depth)
{
	struct sshcfg_line *l;
	enum sshcfg_opcode op;
	const char *name;
	char *p = buf, *kw, **argv, *end, *lower, safe[256];
	int argc;

	/* The keyword ends at whitespace or one '='. */
	p += strspn(p, " \t\r\n\f");
	if (*p == '\0' || *p == '#')
		return 0;
	kw = p;
	p += strcspn(p, " \t\r\n\f=");
	if (*p != '\0') {
		if (*p == '=') {
			*p++ = '\0';
			p += strspn(p, " \t\r\n\f");
		} else {
			*p++ = '\0';
			p += strspn(p, " \t\r\n\f");
			if (*p == '=') {
				p++;
				p += strspn(p, " \t\r\n\f");
			}
		}
	}
	/* Trailing white space is no part of a value (ProxyCommand...). */
	end = p + strlen(p);
	while (end > p && strchr(" \t\r\n\f", end[-1]) != NULL)
		*--end = '\0';
	if ((op = sshcfg_keyword(kw, &name)) == oUnknown)
		return sshcfg_unknown(cfg, f->path, lineno, cmdline, kw);
	if (sshcfg_split(p, &argv, &argc, 1) != 0) {
		error("%s:%d: invalid quotes", f->path, lineno);
		sshcfg_argv_free(argv, argc);
		return -1;
	}
	if (argc == 0) {
		lower = sshcfg_lower(kw);
		if (cmdline)
			error("command-line line 0: no argument after "
			    "keyword \"%s\"", lower);
		else
			error("%s:%d: no argument after keyword \"%s\"",
			    f->path, lineno, lower);
		free(lower);
		sshcfg_argv_free(argv, argc);
		return -1;
	}
	if (cmdline && (op == oHost || op == oMatch || op == oInclude)) {
		error("%s:%d: %s is not supported with -o", f->path, lineno,
		    name);
		sshcfg_argv_free(argv, argc);
		return -1;
	}
	/* ssh checks a user from its command line (valid_ruser): %r. */
	if (cmdline && op == oUser && !hostlist_valid_user(argv[0])) {
		log_safe(safe, sizeof safe, argv[0], strlen(argv[0]));
		error("-o User: user name \"%s\" contains characters ssh "
		    "refuses", safe);
		sshcfg_argv_free(argv, argc);
		return -1;
	}
	if (op == oIgnoreUnknown && cfg->ignore_unknown == NULL)
		cfg->ignore_unknown = xstrdup(argv[0]);

	l = sshcfg_add_line(f);
	l->opcode = op;
	l->name = name;
	l->file = f->path;
	l->argv = argv;
	l->argc = argc;
	l->raw = xstrdup(p);
	l->lineno = lineno;
	if (op == oForeign)
		l->foreign = sshcfg_foreign_slot(name);

	/* From here on the line belongs to f and is freed with it. */
	if (op == oForeign) {
		if (sshcfg_check_foreign(f->path, l) != 0)
			return -1;
		if (sshcfg_not_supported(l) == NULL)
			sshcfg_note_unknown(cfg, f->path, lineno, name);
		return 0;
	}
	if (op == oMatch)
		return sshcfg_check_match(f->path, l);
	if (op == oInclude)
		return sshcfg_include(cfg, f->path, l, userconf, depth);
	return sshcfg_check_line(f->path, l);
}

/* Refuse a user file others may write to, as ssh does. */
static int
sshcfg_check_perm(const struct sshconfig *cfg, const char *path, FILE *fp)
{
	struct stat sb;

	if (fstat(fileno(fp), &sb) == -1)
		return 0;
	if ((sb.st_uid != 0 && sb.st_uid != cfg->uid) ||
	    (sb.st_mode & 022) != 0) {
		error("%s: bad owner or permissions", path);
		return -1;
	}
	return 0;
}

/*
 * Read and check one file. A missing file is fine (*fp stays NULL) unless
 * must_exist. Returns -1 after an error message.
 */
static int
sshcfg_read_file(struct sshconfig *cfg, const char *path, int userconf,
    int checkperm, int must_exist, int depth, struct sshcfg_file **fp)
{
	struct sshcfg_file *f;
	struct stat sb;
	FILE *in;
	char *buf = NULL;
	size_t bufsz = 0;
	int lineno = 0, rc = 0;

	*fp = NULL;
	if ((in = fopen(path, "r")) == NULL) {
		if (errno == ENOENT && !must_exist)
			return 0;
		error("can't open %s: %s", path, strerror(errno));
		return -1;
	}
	if (checkperm && sshcfg_check_perm(cfg, path, in) != 0) {
		fclose(in);
		return -1;
	}
	/* ssh reads a directory as an empty file: surely not what was meant. */
	if (must_exist && fstat(fileno(in), &sb) == 0 && S_ISDIR(sb.st_mode)) {
		error("%s: is a directory, not an ssh_config file", path);
		fclose(in);
		return -1;
	}
	debug("reading %s", path);
	f = xcalloc(1, sizeof *f);
	f->path = xstrdup(path);
	while (getline(&buf, &bufsz, in) != -1) {
		lineno++;
		if (sshcfg_parse_line(cfg, f, buf, lineno, userconf, 0,
		    depth) != 0) {
			rc = -1;
			break;
		}
	}
	free(buf);
	fclose(in);
	if (rc != 0) {
		sshcfg_file_free(f);
		return -1;
	}
	*fp = f;
	return 0;
}

static void
sshcfg_file_free(struct sshcfg_file *f)
{
	size_t i, j;

	if (f == NULL)
		return;
	for (i = 0; i < f->nlines; i++) {
		sshcfg_argv_free(f->lines[i].argv, f->lines[i].argc);
		free(f->lines[i].raw);
		for (j = 0; j < f->lines[i].nincl; j++)
			sshcfg_file_free(f->lines[i].incl[j]);
		free(f->lines[i].incl);
	}
	free(f->lines);
	free(f->path);
	free(f);
}

/* Local facts used for ~ and the % tokens. */
static void
sshcfg_init_local(struct sshconfig *cfg)
{
	struct passwd *pw;
	const char *home, *user;
	char host[256], *dot;

	cfg->uid = getuid();
	pw = getpwuid(cfg->uid);
	if ((home = getenv("HOME")) == NULL || *home == '\0')
		home = pw != NULL ? pw->pw_dir : "/";
	cfg->home = xstrdup(home);
	if (pw != NULL)
		user = pw->pw_name;
	else if ((user = getenv("USER")) == NULL || *user == '\0')
		user = "root";
	cfg->local_user = xstrdup(user);
	if (gethostname(host, sizeof host) != 0)
		mrsh_strlcpy(host, "localhost", sizeof host);
	host[sizeof host - 1] = '\0';
	cfg->local_host = xstrdup(host);
	if ((dot = strchr(host, '.')) != NULL)
		*dot = '\0';
	cfg->local_short = xstrdup(host);
}

struct sshconfig *
sshconfig_load(const struct options *opt)
{
	struct sshconfig *cfg;
	struct sshcfg_file *f;
	struct stat sb;
	char *buf, *path;
	int i;

	cfg = xcalloc(1, sizeof *cfg);
	sshcfg_init_local(cfg);

	/* As ssh warns for -i: the file is then not used. */
	for (i = 0; i < opt->nidentity; i++) {
		path = sshcfg_tilde(cfg, opt->identity[i]);
		if (stat(path, &sb) == -1)
			warnx_m("Warning: Identity file %s not accessible: %s.",
			    path, strerror(errno));
		free(path);
	}

	cfg->cmdline = xcalloc(1, sizeof *cfg->cmdline);
	cfg->cmdline->path = xstrdup("command-line");
	for (i = 0; i < opt->nssh_opts; i++) {
		buf = xstrdup(opt->ssh_opts[i]);
		if (sshcfg_parse_line(cfg, cfg->cmdline, buf, i + 1, 1, 1,
		    0) != 0) {
			free(buf);
			sshconfig_free(cfg);
			return NULL;
		}
		free(buf);
	}

	if (opt->ssh_config != NULL) {
		if (strcasecmp(opt->ssh_config, "none") == 0)
			return cfg;
		/* -F FILE must exist; it is a user file for Include. */
		if (sshcfg_read_file(cfg, opt->ssh_config, 1, 0, 1, 0,
		    &f) != 0) {
			sshconfig_free(cfg);
			return NULL;
		}
		cfg->files[cfg->nfiles++] = f;
		return cfg;
	}

	xasprintf(&path, "%s/%s/config", cfg->home, SSHCFG_USER_DIR);
	if (sshcfg_read_file(cfg, path, 1, 1, 0, 0, &f) != 0) {
		free(path);
		sshconfig_free(cfg);
		return NULL;
	}
	free(path);
	if (f != NULL)
		cfg->files[cfg->nfiles++] = f;
	if (sshcfg_read_file(cfg, SSHCFG_SYSTEM_FILE, 0, 0, 0, 0,
	    &f) != 0) {
		sshconfig_free(cfg);
		return NULL;
	}
	if (f != NULL)
		cfg->files[cfg->nfiles++] = f;
	return cfg;
}

void
sshconfig_free(struct sshconfig *cfg)
{
	size_t i;
	int j;

	if (cfg == NULL)
		return;
	sshcfg_file_free(cfg->cmdline);
	for (j = 0; j < cfg->nfiles; j++)
		sshcfg_file_free(cfg->files[j]);
	for (i = 0; i < cfg->nnoted; i++)
		free(cfg->noted[i]);
	free(cfg->noted);
	for (i = 0; i < cfg->nexecs; i++) {
		free(cfg->execs[i].host);
		free(cfg->execs[i].cmd);
		free(cfg->execs[i].whybuf);
	}
	free(cfg->execs);
	free(cfg->ignore_unknown);
	free(cfg->home);
	free(cfg->local_user);
	free(cfg->local_host);
	free(cfg->local_short);
	free(cfg);
	knownhosts_cache_free();
}

/*
 * Does a Host line apply? Patterns are separated by spaces or commas; any
 * negated match rules the line out. (OpenSSH only splits on spaces; a
 * pattern with a comma can never match a host name there.)
 */
static int
sshcfg_match_host(const char *host, const struct sshcfg_line *l)
{
	int i, r, match = 0;

	for (i = 0; i < l->argc; i++) {
		r = match_pattern_list(host, l->argv[i], 0);
		if (r == -1)
			return 0;
		if (r == 1)
			match = 1;
	}
	return match;
}

/* Replace %h and %% in HostName (nothing else is allowed there). */
static char *
sshcfg_expand_hostname(const char *fmt, const char *host)
{
	const struct pctok toks[] = { { 'h', host }, { '\0', NULL } };

	return pctok_expand(fmt, toks, PCTOK_KEEP_UNKNOWN, NULL);
}

static char *
sshcfg_lower(const char *s)
{
	char *out, *c;

	out = xstrdup(s);
	for (c = out; *c != '\0'; c++)
		*c = tolower((unsigned char)*c);
	return out;
}

/* The host name Match host and %h see: HostName with %h, or the host. */
static char *
sshcfg_current_host(const struct sshcfg_ctx *ctx)
{
	if (ctx->final_pass)
		return xstrdup(ctx->hostname);
	if (ctx->hostname != NULL)
		return sshcfg_expand_hostname(ctx->hostname, ctx->host);
	return xstrdup(ctx->host);
}

/* %C: SHA-1 of local host, remote host, port and user, as ssh computes. */
static char *
sshcfg_conn_hash(const char *lhost, const char *host, int port,
    const char *user)
{
	unsigned char md[SHA_DIGEST_LENGTH];
	char portstr[16], *out;
	EVP_MD_CTX *c;
	size_t i;

	snprintf(portstr, sizeof portstr, "%d", port);
	if ((c = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(c, EVP_sha1(), NULL) != 1 ||
	    EVP_DigestUpdate(c, lhost, strlen(lhost)) != 1 ||
	    EVP_DigestUpdate(c, host, strlen(host)) != 1 ||
	    EVP_DigestUpdate(c, portstr, strlen(portstr)) != 1 ||
	    EVP_DigestUpdate(c, user, strlen(user)) != 1 ||
	    EVP_DigestFinal_ex(c, md, NULL) != 1)
		fatalx("SHA-1 failed");
	EVP_MD_CTX_free(c);
	out = xmalloc(2 * sizeof md + 1);
	for (i = 0; i < sizeof md; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return out;
}

/* The token values ssh offers in Match exec and file names. */
struct sshcfg_tokens {
	const char	*host;		/* %h */
	const char	*orighost;	/* %n */
	const char	*user;		/* %r */
	const char	*alias;		/* %k */
	const char	*jump;		/* %j, NULL: not offered */
	int		 port;		/* %p */
};

/*
 * Expand % tokens (and ${VAR} if env) in s. Unknown tokens are kept as
 * written (rejected at load time already).
 */
#define SSHCFG_EXP_ENV	1	/* ${VAR} too */
#define SSHCFG_EXP_KEEP	2	/* leave a % for a second pass: %% stays, a
				   value's % is doubled, unknown tokens stay */

static char *
sshcfg_expand_tokens(const struct sshconfig *cfg,
    const struct sshcfg_tokens *t, const char *s, int flags)
{
	int		 keep = flags & SSHCFG_EXP_KEEP;
	char		 port[32], uid[32], *hash = NULL, *out;
	struct pctok	 toks[] = {
		{ 'C', NULL },			/* below, if s uses it */
		{ 'd', cfg->home },
		{ 'u', cfg->local_user },
		{ 'h', t->host },
		{ 'r', t->user },
		{ 'n', t->orighost },
		{ 'k', t->alias },
		{ 'j', keep ? NULL : t->jump },	/* not for commands */
		{ 'l', cfg->local_host },
		{ 'L', cfg->local_short },
		{ 'p', port },
		{ 'i', uid },
		{ '\0', NULL }
	};

	snprintf(port, sizeof port, "%d", t->port);
	snprintf(uid, sizeof uid, "%u", (unsigned)cfg->uid);
	if (strstr(s, "%C") != NULL && t->host != NULL &&
	    t->user != NULL)
		toks[0].value = hash = sshcfg_conn_hash(cfg->local_host,
		    t->host, t->port, t->user);
	out = pctok_expand(s, toks, PCTOK_KEEP_UNKNOWN |
	    ((flags & SSHCFG_EXP_ENV) ? PCTOK_ENV : 0) |
	    (keep ? PCTOK_AGAIN : 0), NULL);
	free(hash);
	return out;
}

/* The line giving a foreign keyword its value for this host, or NULL. */
static const struct sshcfg_line *
sshcfg_foreign_line(const struct sshcfg_ctx *ctx, const char *name)
{
	const struct sshcfg_line *l;

	l = ctx->foreign[sshcfg_foreign_slot(name)];
	if (l == NULL || strcasecmp(l->name, name) != 0)
		return NULL;
	return l;
}

/* The first value of a foreign keyword for this host, or NULL. */
static const char *
sshcfg_foreign_value(const struct sshcfg_ctx *ctx, const char *name)
{
	const struct sshcfg_line *l;

	if ((l = sshcfg_foreign_line(ctx, name)) == NULL)
		return NULL;
	return l->argv[0];
}

/*
 * Run a Match exec command as ssh does ($SHELL or /bin/sh -c, stdin and
 * stdout on /dev/null): its exit status, or -1 if it did not exit, with
 * *why set when fork or waitpid failed (the host's refusal says it: the
 * command never ran, or how it ended is unknown). The result is kept for
 * the run, so the command runs once per host.
 */
static int
sshcfg_run_exec(struct sshconfig *cfg, const char *host, const char *cmd,
    const char **why)
{
	struct sshcfg_exec *e;
	const char *shell, *call = NULL;
	pid_t pid;
	size_t i;
	int fd, status, err = 0;

	for (i = 0; i < cfg->nexecs; i++) {
		e = &cfg->execs[i];
		if (strcmp(e->host, host) == 0 && strcmp(e->cmd, cmd) == 0) {
			*why = e->why;
			return e->status;
		}
	}
	if ((shell = getenv("SHELL")) == NULL || *shell == '\0')
		shell = "/bin/sh";
	debug("Match exec for %s: %s -c '%s'", host, shell, cmd);
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		call = "fork";
		err = errno;
		status = -1;
	} else if (pid == 0) {
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			dup2(fd, STDIN_FILENO);
			dup2(fd, STDOUT_FILENO);
			if (fd > STDERR_FILENO)
				close(fd);
		}
		execl(shell, shell, "-c", cmd, (char *)NULL);
		fprintf(stderr, "mrsh: Match exec: %s: %s\n", shell,
		    strerror(errno));
		_exit(127);
	} else {
		while (waitpid(pid, &status, 0) == -1) {
			if (errno != EINTR) {
				call = "waitpid";
				err = errno;
				status = -1;
				break;
			}
		}
		if (status != -1)
			status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	}
	cfg->execs = xreallocarray(cfg->execs, cfg->nexecs + 1,
	    sizeof *cfg->execs);
	e = &cfg->execs[cfg->nexecs++];
	e->host = xstrdup(host);
	e->cmd = xstrdup(cmd);
	e->status = status;
	e->why = e->whybuf = NULL;
	if (call != NULL) {
		debug("Match exec for %s: %s: %s", host, call, strerror(err));
		xasprintf(&e->whybuf, "%s: %s", call, strerror(err));
		e->why = e->whybuf;
	}
	*why = e->why;
	return status;
}

/* Evaluate a Match line for the values obtained so far (match_cfg_line). */
static int
sshcfg_match_eval(struct sshcfg_ctx *ctx, const struct sshcfg_line *l)
{
	struct sshconfig *cfg = ctx->cfg;
	struct sshcfg_tokens t;
	const char *attr, *arg, *ruser, *alias, *why;
	char *host, *subject, *cmd;
	int i, negate, r, st, result = 1;

	ruser = ctx->user != NULL ? ctx->user : cfg->local_user;
	host = sshcfg_current_host(ctx);
	for (i = 0; i < l->argc && *l->argv[i] != '\0'; i++) {
		attr = l->argv[i];
		if ((negate = (*attr == '!')))
			attr++;
		if (strcasecmp(attr, "all") == 0) {
			if (result)
				result = !negate;
			break;
		}
		if (strcasecmp(attr, "canonical") == 0 ||
		    strcasecmp(attr, "final") == 0) {
			if (strcasecmp(attr, "final") == 0 && !ctx->final_pass)
				ctx->want_final = 1;
			if (ctx->final_pass == negate)
				result = 0;
			continue;
		}
		arg = l->argv[++i];
		if (strcasecmp(attr, "host") == 0) {
			subject = sshcfg_lower(host);
			r = match_pattern_list(subject, arg, 1) == 1;
			free(subject);
		} else if (strcasecmp(attr, "originalhost") == 0) {
			subject = sshcfg_lower(ctx->host);
			r = match_pattern_list(subject, arg, 1) == 1;
			free(subject);
		} else if (strcasecmp(attr, "user") == 0)
			r = match_pattern_list(ruser, arg, 0) == 1;
		else if (strcasecmp(attr, "localuser") == 0)
			r = match_pattern_list(cfg->local_user, arg, 0) == 1;
		else {
			/* exec: skipped once an earlier criterion failed. */
			if (result != 1)
				continue;
			alias = ctx->host_key_alias;
			memset(&t, 0, sizeof t);
			t.host = host;
			t.orighost = ctx->host;
			t.user = ruser;
			t.alias = alias != NULL ? alias : host;
			t.port = ctx->port > 0 ? ctx->port :
			    SSHCFG_DEFAULT_PORT;
			cmd = sshcfg_expand_tokens(cfg, &t, arg, 0);
			st = sshcfg_run_exec(cfg, ctx->host, cmd, &why);
			free(cmd);
			if (st == -1 && ctx->failed == NULL) {
				ctx->failed = l;
				ctx->failed_why = why;
			}
			r = st == 0;
		}
		if (r == negate)
			result = 0;
	}
	free(host);
	return result;
}

/* Add a key file unless it is already in the list, as ssh does. */
static void
sshcfg_add_file(struct sshcfg_ctx *ctx, char **list, int *n,
    const char *path, const char *kw)
{
	int i;

	for (i = 0; i < *n; i++) {
		if (strcmp(list[i], path) == 0)
			return;
	}
	/* ssh would try them all (up to 100): refuse rather than drop one. */
	if (*n >= SSHCFG_MAX_FILES) {
		if (ctx->too_many == NULL)
			xasprintf(&ctx->too_many, "more than %d %s files "
			    "(%s is one too many); not connecting",
			    SSHCFG_MAX_FILES, kw, path);
		return;
	}
	list[(*n)++] = xstrdup(path);
}

static void
sshcfg_add_identity(struct sshcfg_ctx *ctx, const char *path)
{
	sshcfg_add_file(ctx, ctx->ids, &ctx->nids, path, "IdentityFile");
}

/* Set a list of files (known hosts) if no earlier line did. */
static void
sshcfg_set_files(struct sshcfg_ctx *ctx, char **list, int *n, int *set,
    const struct sshcfg_line *l)
{
	int i;

	if (*set)
		return;
	*set = 1;
	if (strcasecmp(l->argv[0], "none") == 0)
		return;
	/* ssh takes 32 (and refuses more); mrsh refuses the host. */
	if (l->argc > SSHCFG_MAX_FILES && ctx->too_many == NULL)
		xasprintf(&ctx->too_many, "%s:%d: more than %d %s files; "
		    "not connecting", l->file, l->lineno, SSHCFG_MAX_FILES,
		    l->name);
	for (i = 0; i < l->argc && i < SSHCFG_MAX_FILES; i++)
		list[(*n)++] = xstrdup(l->argv[i]);
}

/* SendEnv: add patterns; -PATTERN removes the entries it matches. */
static void
sshcfg_send_env(struct sshcfg_ctx *ctx, const struct sshcfg_line *l)
{
	int i, j, k;

	for (i = 0; i < l->argc; i++) {
		if (l->argv[i][0] != '-') {
			ctx->send_env = xreallocarray(ctx->send_env,
			    ctx->nsend_env + 1, sizeof *ctx->send_env);
			ctx->send_env[ctx->nsend_env++] = xstrdup(l->argv[i]);
			continue;
		}
		for (j = 0; j < ctx->nsend_env; ) {
			if (!match_pattern(ctx->send_env[j], l->argv[i] + 1)) {
				j++;
				continue;
			}
			free(ctx->send_env[j]);
			for (k = j; k < ctx->nsend_env - 1; k++)
				ctx->send_env[k] = ctx->send_env[k + 1];
			ctx->nsend_env--;
		}
	}
}

/* SetEnv: the first line wins whole; a repeated name in it is dropped. */
static void
sshcfg_set_env(struct sshcfg_ctx *ctx, const struct sshcfg_line *l)
{
	size_t n;
	int i, j;

	if (ctx->set_env_set)
		return;
	ctx->set_env_set = 1;
	for (i = 0; i < l->argc; i++) {
		n = strcspn(l->argv[i], "=");
		for (j = 0; j < ctx->nset_env; j++) {
			if (strncmp(ctx->set_env[j], l->argv[i], n) == 0 &&
			    ctx->set_env[j][n] == '=')
				break;
		}
		if (j < ctx->nset_env)
			continue;
		ctx->set_env = xreallocarray(ctx->set_env, ctx->nset_env + 1,
		    sizeof *ctx->set_env);
		ctx->set_env[ctx->nset_env++] = xstrdup(l->argv[i]);
	}
}

/* Apply one keyword line of an active block: the first value wins. */
static void
sshcfg_apply(struct sshcfg_ctx *ctx, const struct sshcfg_line *l)
{
	const char *a = l->argv[0];
	enum sshalgs_kind k;

	switch (l->opcode) {
	case oHostname:
		if (ctx->hostname == NULL) {
			ctx->hostname = xstrdup(a);
			if (pctok_check(a, "h%") != 0)
				ctx->bad_hostname = l;
		}
		break;
	case oUser:
		if (ctx->user == NULL)
			ctx->user = xstrdup(a);
		break;
	case oPort:
		if (ctx->port == 0)
			ctx->port = sshcfg_parse_port(a);
		break;
	case oIdentityFile:
		sshcfg_add_identity(ctx, a);
		ctx->ids_explicit = 1;
		break;
	case oIdentitiesOnly:
		if (ctx->ids_only == -1)
			ctx->ids_only = sshcfg_parse_flag(a);
		break;
	case oIdentityAgent:
		if (ctx->agent == NULL)
			ctx->agent = xstrdup(a);
		break;
	case oConnectTimeout:
		if (!ctx->ct_set) {
			ctx->ct_set = 1;
			ctx->connect_timeout = strcasecmp(a, "none") == 0 ?
			    -1 : sshcfg_parse_time(a);
		}
		break;
	case oStrictHostKeyChecking:
		if (ctx->strict == STRICT_UNSET)
			ctx->strict = sshcfg_multistate(sshcfg_ms_strict, a);
		break;
	case oUserKnownHostsFile:
		sshcfg_set_files(ctx, ctx->ukh, &ctx->nukh, &ctx->ukh_set, l);
		break;
	case oGlobalKnownHostsFile:
		sshcfg_set_files(ctx, ctx->gkh, &ctx->ngkh, &ctx->gkh_set, l);
		break;
	case oServerAliveInterval:
		if (ctx->alive_interval == -1)
			ctx->alive_interval = sshcfg_parse_time(a);
		break;
	case oServerAliveCountMax:
		if (ctx->alive_max == -1)
			ctx->alive_max = (int)sshcfg_parse_int(a);
		break;
	case oBatchMode:
		if (ctx->batch == -1)
			ctx->batch = sshcfg_parse_flag(a);
		break;
	case oPasswordAuthentication:
		if (ctx->pwauth == -1)
			ctx->pwauth = sshcfg_parse_flag(a);
		break;
	case oKbdInteractiveAuthentication:
		if (ctx->kbdauth == -1)
			ctx->kbdauth = sshcfg_parse_flag(a);
		break;
	case oHashKnownHosts:
		if (ctx->hash_kh == -1)
			ctx->hash_kh = sshcfg_parse_flag(a);
		break;
	case oCheckHostIP:
		if (ctx->check_ip == -1)
			ctx->check_ip = sshcfg_parse_flag(a);
		break;
	case oAlgorithms:
		k = sshcfg_algs_kind(l->name);
		if (ctx->algs[k] == NULL)
			ctx->algs[k] = xstrdup(a);
		break;
	case oHostKeyAlias:
		if (ctx->host_key_alias == NULL)
			ctx->host_key_alias = sshcfg_lower(a);
		break;
	case oRequestTTY:
		if (ctx->request_tty == -1)
			ctx->request_tty = sshcfg_multistate(
			    sshcfg_ms_request_tty, a);
		break;
	case oSendEnv:
		sshcfg_send_env(ctx, l);
		break;
	case oSetEnv:
		sshcfg_set_env(ctx, l);
		break;
	case oProxyCommand:
		/*
		 * As ssh: the first of ProxyCommand and ProxyJump wins, and a
		 * "ProxyJump none" only stops later ProxyJump lines.
		 */
		if (ctx->proxy_command == NULL && (ctx->proxy_jump == NULL ||
		    strcasecmp(ctx->proxy_jump, "none") == 0))
			ctx->proxy_command = xstrdup(l->raw != NULL ? l->raw :
			    a);
		break;
	case oProxyJump:
		if (ctx->proxy_command == NULL && ctx->proxy_jump == NULL)
			ctx->proxy_jump = xstrdup(a);
		break;
	case oRevokedHostKeys:
		if (ctx->revoked == NULL)
			ctx->revoked = xstrdup(a);
		break;
	case oKnownHostsCommand:
		if (ctx->kh_command == NULL)
			ctx->kh_command = xstrdup(l->raw != NULL ? l->raw : a);
		break;
	case oCanonicalizeHostname:
		if (ctx->canon == -1)
			ctx->canon = sshcfg_multistate(sshcfg_ms_canon, a);
		break;
	case oCanonicalizeMaxDots:
		if (ctx->canon_maxdots == -1)
			ctx->canon_maxdots = (int)sshcfg_parse_int(a);
		break;
	case oCanonicalizeFallbackLocal:
		if (ctx->canon_fallback == -1)
			ctx->canon_fallback = sshcfg_parse_flag(a);
		break;
	case oCanonicalDomains:
		if (ctx->canon_domains == NULL)
			ctx->canon_domains = l;
		break;
	case oCanonicalizePermittedCNAMEs:
		if (ctx->canon_cnames == NULL)
			ctx->canon_cnames = l;
		break;
	case oForeign:
		if (ctx->foreign[l->foreign] == NULL)
			ctx->foreign[l->foreign] = l;
		break;
	case oCertificateFile:
		/* Accumulates, as IdentityFile. */
		sshcfg_add_file(ctx, ctx->certs, &ctx->ncerts, a,
		    "CertificateFile");
		break;
	default:
		break;
	}
}

/*
 * Walk one file. *activep is whether the current block applies; an
 * included file starts with the including line's state, and cannot switch
 * blocks on when that state was off (never).
 */
static void
sshcfg_walk(struct sshcfg_ctx *ctx, const struct sshcfg_file *f,
    int *activep, int never)
{
	const struct sshcfg_line *l;
	size_t i, j;
	int oactive;

	for (i = 0; i < f->nlines; i++) {
		l = &f->lines[i];
		switch (l->opcode) {
		case oHost:
			*activep = !never &&
			    sshcfg_match_host(ctx->match_host, l);
			break;
		case oMatch:
			*activep = !never && sshcfg_match_eval(ctx, l);
			break;
		case oInclude:
			oactive = *activep;
			for (j = 0; j < l->nincl; j++) {
				sshcfg_walk(ctx, l->incl[j], activep,
				    never || !oactive);
				*activep = oactive;
			}
			break;
		default:
			if (*activep)
				sshcfg_apply(ctx, l);
			break;
		}
	}
}

/* One pass over the command line and every file. */
static void
sshcfg_pass(struct sshconfig *cfg, struct sshcfg_ctx *ctx)
{
	int active, i;

	active = 1;
	if (!cfg->skip_cmdline)
		sshcfg_walk(ctx, cfg->cmdline, &active, 0);
	for (i = 0; i < cfg->nfiles; i++) {
		active = 1;
		sshcfg_walk(ctx, cfg->files[i], &active, 0);
	}
}

/* Can s only be an address, never a name (ssh's is_addr_fast())? */
static int
sshcfg_is_addr_fast(const char *s)
{
	return strchr(s, '%') != NULL || strchr(s, ':') != NULL ||
	    strspn(s, "0123456789.") == strlen(s);
}

/* Is s one numeric IPv4 or IPv6 address (ssh's is_addr())? */
static int
sshcfg_is_addr(const char *s)
{
	struct addrinfo hints, *ai;
	int one;

	if (sshcfg_is_addr_fast(s))
		return 1;
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(s, "22", &hints, &ai) != 0)
		return 0;
	one = ai != NULL && ai->ai_next == NULL;
	freeaddrinfo(ai);
	return one;
}

/*
 * The numeric form of an address written another way ("127.1" is
 * 127.0.0.1), as ssh's resolve_addr(); NULL if s is not one address.
 */
static char *
sshcfg_numeric_form(const char *s)
{
	struct addrinfo hints, *ai;
	char addr[NI_MAXHOST];
	int ok;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(s, "22", &hints, &ai) != 0)
		return NULL;
	ok = ai != NULL && ai->ai_next == NULL &&
	    getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof addr, NULL,
	    0, NI_NUMERICHOST) == 0;
	freeaddrinfo(ai);
	return ok ? xstrdup(addr) : NULL;
}

/* The phases of a host's canonicalization (ssh.c resolve_canonicalize()). */
enum sshcfg_canon_phase {
	CANON_DONE = 0,
	CANON_DOMAINS,		/* trying host.domain. for each domain */
	CANON_CHASE		/* following the CNAME chain to its end */
};

/* One host's configuration in the making: see sshconfig_begin(). */
struct sshconfig_host {
	struct sshconfig	*cfg;
	struct sshcfg_ctx	 ctx;
	char			*host;		/* as given */
	int			 direct;	/* no proxy: ssh's "direct" */
	enum sshcfg_canon_phase	 phase;
	char			**cands;	/* "host.domain." to try */
	int			 ncands;
	int			 icand;
	char			*found;		/* the name that resolved */
	char			*cname;		/* the CNAME so far */
	int			 hops;
	char			*query;		/* what next() returned */
	struct sockaddr_storage	*addrs;		/* from the lookup */
	int			 naddrs;
	char			*refusal;	/* why not to connect */
	int			 fatal;		/* ssh -G fails too */
};

/*
 * First pass for a host: the command line and the files once for the name
 * as given, HostName taken into use (lower-cased unless an address, an
 * address in its numeric form), and what canonicalization must look up.
 */
static void
sshcfg_collect_begin(struct sshconfig *cfg, const struct options *opt,
    const char *user, int port, struct sshconfig_host *h)
{
	struct sshcfg_ctx *ctx = &h->ctx;
	struct stat sb;
	char *p;
	int i, was_addr;

	memset(ctx, 0, sizeof *ctx);
	ctx->cfg = cfg;
	ctx->host = h->host;
	ctx->match_host = xstrdup(h->host);
	ctx->ids_only = ctx->batch = ctx->pwauth = ctx->alive_max = -1;
	ctx->hash_kh = ctx->kbdauth = ctx->check_ip = -1;
	ctx->alive_interval = -1;
	ctx->connect_timeout = -1;
	ctx->strict = STRICT_UNSET;
	ctx->request_tty = -1;
	ctx->canon = ctx->canon_maxdots = ctx->canon_fallback = -1;

	/* user@host:port beats -l/-p, which beat the files. */
	if (user != NULL)
		ctx->user = xstrdup(user);
	else if (opt->user != NULL)
		ctx->user = xstrdup(opt->user);
	ctx->port = port > 0 ? port : (opt->port > 0 ? opt->port : 0);
	if (opt->jump != NULL)
		ctx->proxy_jump = xstrdup(opt->jump);
	/* -i FILE that cannot be read is left out (warned at load). */
	for (i = 0; i < opt->nidentity; i++) {
		p = sshcfg_tilde(cfg, opt->identity[i]);
		if (stat(p, &sb) == 0) {
			sshcfg_add_identity(ctx, p);
			ctx->ids_explicit = 1;
		}
		free(p);
	}

	sshcfg_pass(cfg, ctx);

	/* Defaults needed now (fill_default_options_for_canonicalization). */
	if (ctx->canon == -1)
		ctx->canon = CANON_NO;
	if (ctx->canon_maxdots == -1)
		ctx->canon_maxdots = 1;
	if (ctx->canon_fallback == -1)
		ctx->canon_fallback = 1;

	/* ssh.c: take HostName into use, lower-case it unless an address. */
	p = sshcfg_current_host(ctx);
	free(ctx->hostname);
	if (!(was_addr = sshcfg_is_addr(p))) {
		ctx->hostname = sshcfg_lower(p);
		free(p);
	} else
		ctx->hostname = p;
	if (ctx->canon != CANON_NO)
		ctx->want_final = 1;
	if (!was_addr && ctx->canon == CANON_NO)
		return;
	/* An address is written in its canonical form (resolve_addr). */
	if ((p = sshcfg_numeric_form(ctx->hostname)) != NULL) {
		if (strcasecmp(p, ctx->hostname) != 0) {
			free(ctx->hostname);
			ctx->hostname = p;
		} else
			free(p);
		return;
	}
	if (sshcfg_is_addr_fast(ctx->hostname) || ctx->canon == CANON_NO)
		return;
	sshcfg_canon_plan(h);
}

/*
 * The names resolve_canonicalize() tries, when it tries any: a name
 * ending in a dot as it is, else (up to CanonicalizeMaxDots dots) the
 * name with each CanonicalDomains suffix, absolute.
 */
static void
sshcfg_canon_plan(struct sshconfig_host *h)
{
	struct sshcfg_ctx *ctx = &h->ctx;
	const struct sshcfg_line *l = ctx->canon_domains;
	const char *c, *name = ctx->hostname;
	int i, ndots = 0;

	/* Not for a name a proxy resolves, unless "always". */
	h->direct = (ctx->proxy_command == NULL ||
	    strcasecmp(ctx->proxy_command, "none") == 0) &&
	    ctx->proxy_jump == NULL;
	if (!h->direct && ctx->canon != CANON_ALWAYS)
		goto bare;
	if (name[strlen(name) - 1] == '.') {
		h->cands = xcalloc(1, sizeof *h->cands);
		h->cands[h->ncands++] = xstrdup(name);
	} else {
		for (c = name; *c != '\0'; c++)
			ndots += *c == '.';
		if (ndots > ctx->canon_maxdots)
			goto bare;
		h->cands = xcalloc(l != NULL ? l->argc : 1, sizeof *h->cands);
		for (i = 0; l != NULL && i < l->argc; i++) {
			if (strcasecmp(l->argv[i], "none") == 0)
				break;
			xasprintf(&h->cands[h->ncands++], "%s.%s.", name,
			    l->argv[i]);
		}
	}
	h->phase = CANON_DOMAINS;
	h->icand = 0;
	if (h->ncands == 0)
		sshcfg_canon_notfound(h);
	return;
bare:
	sshcfg_canon_bare(h);
}

/* Are CanonicalizePermittedCNAMEs rules set (not "none")? */
static int
sshcfg_canon_has_cnames(const struct sshcfg_ctx *ctx)
{
	const struct sshcfg_line *l = ctx->canon_cnames;

	return l != NULL && strcasecmp(l->argv[0], "none") != 0;
}

/*
 * No canonical name from the domains, or none tried: ssh then resolves the
 * name as it is through the system resolver (its search list, the hosts
 * file) and may follow a CNAME it reports. evdns cannot report that
 * CNAME as glibc does, so where it would matter, refuse the host.
 */
static void
sshcfg_canon_bare(struct sshconfig_host *h)
{
	struct sshcfg_ctx *ctx = &h->ctx;

	h->phase = CANON_DONE;
	if (!sshcfg_canon_has_cnames(ctx) ||
	    (!h->direct && ctx->canon != CANON_ALWAYS))
		return;
	xasprintf(&h->refusal, "%s:%d: CanonicalizePermittedCNAMEs for %s, "
	    "not found under CanonicalDomains: mrsh cannot follow a CNAME "
	    "of the system resolver's own lookup as ssh does; not connecting",
	    ctx->canon_cnames->file, ctx->canon_cnames->lineno,
	    ctx->hostname);
}

/* Every suffix tried, none resolved. */
static void
sshcfg_canon_notfound(struct sshconfig_host *h)
{
	h->phase = CANON_DONE;
	if (!h->ctx.canon_fallback) {
		/* As ssh: fatal("Could not resolve host ..."). */
		xasprintf(&h->refusal, "Could not resolve host \"%s\" "
		    "(CanonicalizeFallbackLocal no)", h->ctx.hostname);
		h->fatal = 1;
		return;
	}
	sshcfg_canon_bare(h);
}

/*
 * The name found (h->found, no trailing dot) and the end of its CNAME
 * chain (h->cname or NULL): check_follow_cname() decides which is used.
 */
static void
sshcfg_canon_found(struct sshconfig_host *h)
{
	struct sshcfg_ctx *ctx = &h->ctx;
	const struct sshcfg_line *l = ctx->canon_cnames;
	const char *src, *dst;
	char *rule, *colon;
	int i, follow = 0;

	h->phase = CANON_DONE;
	if (h->cname != NULL && sshcfg_canon_has_cnames(ctx) &&
	    strcmp(h->found, h->cname) != 0) {
		for (i = 0; i < l->argc && !follow; i++) {
			rule = xstrdup(l->argv[i]);
			if (strcmp(rule, "*") == 0)
				src = dst = "*";
			else {
				colon = strchr(rule, ':');
				*colon = '\0';
				src = rule;
				dst = colon + 1;
			}
			follow = match_pattern_list(h->found, src, 1) == 1 &&
			    match_pattern_list(h->cname, dst, 1) == 1;
			free(rule);
		}
	}
	debug("%s: canonicalized host name \"%s\" => \"%s\"", h->host,
	    ctx->hostname, follow ? h->cname : h->found);
	free(ctx->hostname);
	ctx->hostname = xstrdup(follow ? h->cname : h->found);
}

/*
 * The second pass, when a Match final asked for it or canonicalization is
 * on: once more with HostName fixed to the resulting (lower-cased) name,
 * Match canonical/final true and Host lines matching that name. Values
 * from the first pass stay: first value wins.
 */
static void
sshcfg_collect_end(struct sshconfig_host *h)
{
	struct sshcfg_ctx *ctx = &h->ctx;

	if (!ctx->want_final)
		return;
	ctx->final_pass = 1;
	free(ctx->match_host);
	ctx->match_host = xstrdup(ctx->hostname);
	sshcfg_pass(h->cfg, ctx);
}

struct sshconfig_host *
sshconfig_begin(struct sshconfig *cfg, const struct options *opt,
    const char *host, const char *user, int port)
{
	struct sshconfig_host *h;

	h = xcalloc(1, sizeof *h);
	h->cfg = cfg;
	h->host = xstrdup(host);
	sshcfg_collect_begin(cfg, opt, user, port, h);
	return h;
}

const char *
sshconfig_canon_next(struct sshconfig_host *h)
{
	free(h->query);
	h->query = NULL;
	switch (h->phase) {
	case CANON_DOMAINS:
		h->query = xstrdup(h->cands[h->icand]);
		break;
	case CANON_CHASE:
		xasprintf(&h->query, "%s.", h->cname);
		break;
	case CANON_DONE:
		break;
	}
	return h->query;
}

/* A CNAME evdns reported, if ssh would take it (valid_domain()). */
static char *
sshcfg_canon_cname(const char *cname)
{
	char *c;
	size_t len;

	if (cname == NULL || *cname == '\0' ||
	    sshcfg_valid_domain(cname) != NULL)
		return NULL;
	c = xstrdup(cname);
	len = strlen(c);
	if (len > 0 && c[len - 1] == '.')
		c[len - 1] = '\0';
	return c;
}

void
sshconfig_canon_answer(struct sshconfig_host *h, const struct addrinfo *ai,
    const char *cname)
{
	const struct addrinfo *a;
	char *next;
	int n;

	if (h->phase == CANON_DOMAINS) {
		if (ai == NULL) {
			if (++h->icand >= h->ncands)
				sshcfg_canon_notfound(h);
			return;
		}
		for (n = 0, a = ai; a != NULL; a = a->ai_next)
			n++;
		h->addrs = xcalloc((size_t)n, sizeof *h->addrs);
		for (a = ai; a != NULL; a = a->ai_next) {
			if (a->ai_addrlen > sizeof *h->addrs)
				continue;
			memcpy(&h->addrs[h->naddrs++], a->ai_addr,
			    a->ai_addrlen);
		}
		h->found = xstrdup(h->cands[h->icand]);
		h->found[strlen(h->found) - 1] = '\0';
		h->cname = sshcfg_canon_cname(cname);
		/*
		 * glibc reports the end of a CNAME chain, evdns its first
		 * link: ask for each link's name until one has no CNAME.
		 */
		if (h->cname != NULL && sshcfg_canon_has_cnames(&h->ctx) &&
		    strcmp(h->cname, h->found) != 0) {
			h->phase = CANON_CHASE;
			return;
		}
		sshcfg_canon_found(h);
		return;
	}
	if (h->phase != CANON_CHASE)
		return;
	if (ai == NULL) {
		h->phase = CANON_DONE;
		xasprintf(&h->refusal, "canonicalizing %s: the CNAME %s "
		    "did not resolve again; not connecting", h->found,
		    h->cname);
		return;
	}
	next = sshcfg_canon_cname(cname);
	if (next == NULL || strcmp(next, h->cname) == 0) {
		free(next);
		sshcfg_canon_found(h);
		return;
	}
	if (++h->hops >= CANON_MAX_CNAME_HOPS) {
		free(next);
		h->phase = CANON_DONE;
		xasprintf(&h->refusal, "canonicalizing %s: CNAME chain "
		    "longer than %d; not connecting", h->found,
		    CANON_MAX_CNAME_HOPS);
		return;
	}
	free(h->cname);
	h->cname = next;
}

int
sshconfig_end(struct sshconfig_host *h, struct ssh_host_config *hc,
    char *err, size_t errlen)
{
	int rc;

	sshcfg_collect_end(h);
	rc = sshcfg_finish(h->cfg, &h->ctx, hc, err, errlen);
	if (rc == 0 && h->refusal != NULL) {
		snprintf(err, errlen, "%s", h->refusal);
		rc = -1;
	}
	if (h->naddrs > 0) {
		hc->addrs = h->addrs;
		hc->naddrs = h->naddrs;
		h->addrs = NULL;
		h->naddrs = 0;
	}
	return rc;
}

void
sshconfig_host_free(struct sshconfig_host *h)
{
	int i;

	if (h == NULL)
		return;
	sshcfg_ctx_free(&h->ctx);
	for (i = 0; i < h->ncands; i++)
		free(h->cands[i]);
	free(h->cands);
	free(h->found);
	free(h->cname);
	free(h->query);
	free(h->addrs);
	free(h->refusal);
	free(h->host);
	free(h);
}

static void
sshcfg_ctx_free(struct sshcfg_ctx *ctx)
{
	int i;

	free(ctx->hostname);
	free(ctx->too_many);
	free(ctx->match_host);
	free(ctx->user);
	free(ctx->agent);
	for (i = 0; i < ctx->nids; i++)
		free(ctx->ids[i]);
	for (i = 0; i < ctx->nukh; i++)
		free(ctx->ukh[i]);
	for (i = 0; i < ctx->ngkh; i++)
		free(ctx->gkh[i]);
	free(ctx->host_key_alias);
	for (i = 0; i < ALGS_NKINDS; i++)
		free(ctx->algs[i]);
	for (i = 0; i < ctx->nsend_env; i++)
		free(ctx->send_env[i]);
	free(ctx->send_env);
	for (i = 0; i < ctx->nset_env; i++)
		free(ctx->set_env[i]);
	free(ctx->set_env);
	free(ctx->proxy_command);
	free(ctx->proxy_jump);
	free(ctx->kh_command);
	for (i = 0; i < ctx->ncerts; i++)
		free(ctx->certs[i]);
	free(ctx->revoked);
	memset(ctx, 0, sizeof *ctx);
}

/* The % token values of ssh's cinfo for a host once configured. */
static void
sshcfg_host_tokens(const struct ssh_host_config *hc, const char *host,
    struct sshcfg_tokens *t)
{
	memset(t, 0, sizeof *t);
	t->host = hc->hostname;
	t->orighost = host;
	t->user = hc->user;
	/* %k: HostKeyAlias, else the host as given. */
	t->alias = hc->host_key_alias != NULL ? hc->host_key_alias : host;
	t->jump = "";
	t->port = hc->port;
}

/*
 * Expand a file name for hc: ~ first, then the % tokens (%C connection
 * hash, %d home, %u local user, %h remote host name, %r remote user, %p
 * port, %n host as given, %k host key alias (the host as given), %l/%L
 * local host name, %i uid, %%) and ${VAR} environment references, as ssh
 * does. NULL when a ${VAR} is not set (ssh refuses to go on then).
 */
static char *
sshcfg_expand_path(const struct sshconfig *cfg,
    const struct ssh_host_config *hc, const char *host, const char *in)
{
	struct sshcfg_tokens t;
	const char *p, *end;
	char *tl, *out, *name;
	int missing = 0;

	tl = sshcfg_tilde(cfg, in);
	for (p = tl; (p = strstr(p, "${")) != NULL; p = end) {
		/* ssh: "missing closing '}'", and it does not connect. */
		if ((end = strchr(p, '}')) == NULL) {
			missing = 1;
			break;
		}
		name = xstrndup(p + 2, end - p - 2);
		if (getenv(name) == NULL)
			missing = 1;
		free(name);
	}
	if (missing) {
		free(tl);
		return NULL;
	}
	sshcfg_host_tokens(hc, host, &t);
	out = sshcfg_expand_tokens(cfg, &t, tl, 1);
	free(tl);
	return out;
}

/*
 * Why this host must not be reached with this configuration: a keyword
 * mrsh does not implement set to a value that matters, or a Match exec
 * that did not exit. 0 if none, else -1 with the reason in err.
 */
static int
sshcfg_refusal(const struct sshcfg_ctx *ctx, char *err, size_t errlen)
{
	const struct sshcfg_line *l;
	const char *what;
	size_t i;

	if ((l = ctx->failed) != NULL && ctx->failed_why != NULL) {
		snprintf(err, errlen, "%s:%d: Match exec: %s; not connecting",
		    l->file, l->lineno, ctx->failed_why);
		return -1;
	}
	if (l != NULL) {
		snprintf(err, errlen, "%s:%d: Match exec did not exit "
		    "normally; not connecting", l->file, l->lineno);
		return -1;
	}
	if (ctx->too_many != NULL) {
		snprintf(err, errlen, "%s", ctx->too_many);
		return -1;
	}
	if ((l = ctx->bad_hostname) != NULL) {
		snprintf(err, errlen, "%s:%d: HostName %s: unknown %% token; "
		    "not connecting", l->file, l->lineno, l->raw);
		return -1;
	}
	/* ssh.c refuses it after reading (readconf.c takes 0). */
	if ((l = sshcfg_foreign_line(ctx, "ConnectionAttempts")) != NULL &&
	    strtol(l->argv[0], NULL, 10) == 0) {
		snprintf(err, errlen, "%s:%d: ConnectionAttempts %s: Invalid "
		    "number of ConnectionAttempts; not connecting", l->file,
		    l->lineno, l->raw);
		return -1;
	}
	for (i = 0; i < SSHCFG_NFOREIGN; i++) {
		if ((l = ctx->foreign[i]) == NULL ||
		    (what = sshcfg_not_supported(l)) == NULL)
			continue;
		snprintf(err, errlen, "%s:%d: %s %s is not supported by mrsh "
		    "and changes %s; not connecting", l->file, l->lineno,
		    l->name, l->raw, what);
		return -1;
	}
	return 0;
}

/* Expand one file name into *out, or say which could not be. */
static int
sshcfg_expand_into(const struct sshconfig *cfg,
    const struct ssh_host_config *hc, const char *host, const char *kw,
    const char *in, char **out, char *err, size_t errlen)
{
	char *user;
	int known;

	/* As ssh: an unknown % token fails the host that uses the file. */
	if (pctok_check(in, SSHCFG_PATH_TOKENS) != 0) {
		*out = NULL;
		snprintf(err, errlen, "%s %s: unknown %% token; not connecting",
		    kw, in);
		return -1;
	}
	/* ssh: tilde_expand_filename() "No such user" ends it. */
	if (in[0] == '~' && in[1] != '/' && in[1] != '\0') {
		user = xstrndup(in + 1, strcspn(in + 1, "/"));
		known = getpwnam(user) != NULL;
		free(user);
		if (!known) {
			*out = NULL;
			snprintf(err, errlen, "%s %s: no such user; not "
			    "connecting", kw, in);
			return -1;
		}
	}
	if ((*out = sshcfg_expand_path(cfg, hc, host, in)) != NULL)
		return 0;
	snprintf(err, errlen, "%s %s: an environment variable it names is "
	    "not set or has no closing '}'; not connecting", kw, in);
	return -1;
}

/* Turn the collected values into hc, with defaults and expansions. */
/*
 * KnownHostsCommand (sshconnect.c load_hostkeys_command): split as ssh
 * splits it; every word after the first gets the % tokens known now and
 * ${VAR} (SSHCFG_EXP_KEEP: %H %I %t %f %K are for knownhosts_check, once
 * the host key is there). ssh goes on without the command's keys when
 * the line does not split or its first word is not an absolute path:
 * kh_command stays NULL then, with ssh's message at -v.
 */
static void
sshcfg_kh_command(const struct sshconfig *cfg, struct ssh_host_config *hc,
    const char *host, const char *raw)
{
	struct sshcfg_tokens t;
	char **av, *x;
	int ac, i;

	hc->kh_command_raw = xstrdup(raw);
	/* ssh's argv_split(command, 0): a # is not a comment here. */
	if ((i = sshcfg_split(raw, &av, &ac, 0)) != 0 || ac == 0 ||
	    av[0][0] != '/') {
		if (i != 0 || ac == 0)
			warnx_m("KnownHostsCommand \"%s\" %s", raw, i != 0 ?
			    "contains invalid quotes" : "yielded no arguments");
		else
			warnx_m("KnownHostsCommand path is not absolute: %s",
			    av[0]);
		sshcfg_argv_free(av, ac);
		return;
	}
	sshcfg_host_tokens(hc, host, &t);
	for (i = 1; i < ac; i++) {
		x = sshcfg_expand_tokens(cfg, &t, av[i],
		    SSHCFG_EXP_ENV | SSHCFG_EXP_KEEP);
		free(av[i]);
		av[i] = x;
	}
	hc->kh_command = av;
}

static int
sshcfg_finish(const struct sshconfig *cfg, struct sshcfg_ctx *ctx,
    struct ssh_host_config *hc, char *err, size_t errlen)
{
	size_t i;
	int j, rc = 0;

	memset(hc, 0, sizeof *hc);
	hc->hostname = xstrdup(ctx->hostname);
	hc->user = xstrdup(ctx->user != NULL ? ctx->user : cfg->local_user);
	hc->port = ctx->port > 0 ? ctx->port : SSHCFG_DEFAULT_PORT;
	if (ctx->host_key_alias != NULL)
		hc->host_key_alias = xstrdup(ctx->host_key_alias);
	/* As written: ssh 9.2 expands nothing in it. */
	if (ctx->revoked != NULL && strcasecmp(ctx->revoked, "none") != 0)
		hc->revoked_host_keys = xstrdup(ctx->revoked);

	if (ctx->nids == 0) {
		for (i = 0; i < sizeof sshcfg_default_identities /
		    sizeof sshcfg_default_identities[0]; i++)
			ctx->ids[ctx->nids++] =
			    xstrdup(sshcfg_default_identities[i]);
		ctx->ids_explicit = 0;
	}
	for (j = 0; j < ctx->nids; j++) {
		if (strcasecmp(ctx->ids[j], "none") == 0)
			continue;
		if (rc == 0)
			rc = sshcfg_expand_into(cfg, hc, ctx->host,
			    "IdentityFile", ctx->ids[j],
			    &hc->identity[hc->nidentity], err, errlen);
		if (hc->identity[hc->nidentity] != NULL)
			hc->nidentity++;
	}
	hc->identity_explicit = ctx->ids_explicit;
	for (j = 0; j < ctx->ncerts; j++) {
		if (strcasecmp(ctx->certs[j], "none") == 0)
			continue;
		if (rc == 0)
			rc = sshcfg_expand_into(cfg, hc, ctx->host,
			    "CertificateFile", ctx->certs[j],
			    &hc->certificate[hc->ncertificate], err, errlen);
		if (hc->certificate[hc->ncertificate] != NULL)
			hc->ncertificate++;
	}
	hc->identities_only = ctx->ids_only == 1;

	if (ctx->agent != NULL && strcmp(ctx->agent, "SSH_AUTH_SOCK") != 0) {
		if (strcasecmp(ctx->agent, "none") == 0)
			hc->identity_agent = xstrdup("none");
		else if (ctx->agent[0] == '$' && ctx->agent[1] != '{')
			hc->identity_agent = getenv(ctx->agent + 1) != NULL ?
			    xstrdup(getenv(ctx->agent + 1)) : NULL;
		else if (rc == 0)
			rc = sshcfg_expand_into(cfg, hc, ctx->host,
			    "IdentityAgent", ctx->agent, &hc->identity_agent,
			    err, errlen);
	}
	hc->connect_timeout = ctx->connect_timeout > 0 ?
	    (double)ctx->connect_timeout : 0;
	switch (ctx->strict) {
	case STRICT_NO:
	case STRICT_ACCEPT_NEW:
		hc->strict = ctx->strict;
		break;
	default:
		hc->strict = STRICT_YES;
		break;
	}

	if (!ctx->ukh_set) {
		for (i = 0; i < 2; i++)
			ctx->ukh[ctx->nukh++] =
			    xstrdup(sshcfg_default_user_kh[i]);
	}
	for (j = 0; j < ctx->nukh; j++) {
		if (rc == 0)
			rc = sshcfg_expand_into(cfg, hc, ctx->host,
			    "UserKnownHostsFile", ctx->ukh[j],
			    &hc->user_known_hosts[hc->nuser_known_hosts],
			    err, errlen);
		if (hc->user_known_hosts[hc->nuser_known_hosts] != NULL)
			hc->nuser_known_hosts++;
	}
	if (!ctx->gkh_set) {
		for (i = 0; i < 2; i++)
			ctx->gkh[ctx->ngkh++] =
			    xstrdup(sshcfg_default_global_kh[i]);
	}
	/* As written: ssh 9.2 opens these with no ~, % or ${} expansion. */
	for (j = 0; j < ctx->ngkh; j++)
		hc->global_known_hosts[j] = xstrdup(ctx->gkh[j]);
	hc->nglobal_known_hosts = ctx->ngkh;

	/* As Debian's ssh: BatchMode without ServerAliveInterval: 300 s. */
	if (ctx->alive_interval == -1 && ctx->batch == 1)
		ctx->alive_interval = 300;
	hc->server_alive_interval = ctx->alive_interval > 0 ?
	    (int)ctx->alive_interval : 0;
	hc->server_alive_count_max = ctx->alive_max >= 0 ? ctx->alive_max :
	    SSHCFG_DEFAULT_ALIVE_MAX;
	hc->batch_mode = ctx->batch == 1;
	hc->password_auth = ctx->pwauth != 0;
	hc->kbdint_auth = ctx->kbdauth != 0;
	hc->hash_known_hosts = ctx->hash_kh == 1;
	hc->check_host_ip = ctx->check_ip == 1;
	for (j = 0; j < ALGS_NKINDS; j++)
		if (ctx->algs[j] != NULL)
			hc->algs[j] = xstrdup(ctx->algs[j]);
	hc->request_tty = ctx->request_tty == -1 ? REQUEST_TTY_AUTO :
	    (enum request_tty)ctx->request_tty;
	hc->send_env = xreallocarray(NULL, ctx->nsend_env + 1,
	    sizeof *hc->send_env);
	for (j = 0; j < ctx->nsend_env; j++)
		hc->send_env[j] = xstrdup(ctx->send_env[j]);
	hc->nsend_env = ctx->nsend_env;
	hc->set_env = xreallocarray(NULL, ctx->nset_env + 1,
	    sizeof *hc->set_env);
	for (j = 0; j < ctx->nset_env; j++)
		hc->set_env[j] = xstrdup(ctx->set_env[j]);
	hc->nset_env = ctx->nset_env;
	if (ctx->proxy_command != NULL &&
	    strcasecmp(ctx->proxy_command, "none") != 0)
		hc->proxy_command = xstrdup(ctx->proxy_command);
	if (ctx->proxy_jump != NULL &&
	    strcasecmp(ctx->proxy_jump, "none") != 0) {
		hc->proxy_jump = xstrdup(ctx->proxy_jump);
	}
	if (ctx->kh_command != NULL &&
	    strcasecmp(ctx->kh_command, "none") != 0)
		sshcfg_kh_command(cfg, hc, ctx->host, ctx->kh_command);
	if (rc == 0)
		rc = sshcfg_refusal(ctx, err, errlen);
	return rc;
}

int
sshconfig_resolve(struct sshconfig *cfg, const struct options *opt,
    const char *host, const char *user, int port, struct ssh_host_config *hc,
    char *err, size_t errlen)
{
	struct sshconfig_host *h;
	int rc;

	/* No lookups here: every canonicalization name is "not found". */
	h = sshconfig_begin(cfg, opt, host, user, port);
	while (sshconfig_canon_next(h) != NULL)
		sshconfig_canon_answer(h, NULL, NULL);
	rc = sshconfig_end(h, hc, err, errlen);
	sshconfig_host_free(h);
	return rc;
}

int
sshconfig_resolve_hop(struct sshconfig *cfg, const struct options *opt,
    const char *host, const char *user, int port, struct ssh_host_config *hc,
    char *err, size_t errlen)
{
	struct options	o = *opt;
	int		rc;

	/* ssh -W for the hop gets none of -l -p -J -i -o, only -F. */
	o.user = NULL;
	o.port = 0;
	o.jump = NULL;
	o.nidentity = 0;
	cfg->skip_cmdline = 1;
	rc = sshconfig_resolve(cfg, &o, host, user, port, hc, err, errlen);
	cfg->skip_cmdline = 0;
	return rc;
}

void
ssh_host_config_free(struct ssh_host_config *hc)
{
	int i;

	if (hc == NULL)
		return;
	free(hc->hostname);
	free(hc->user);
	for (i = 0; i < hc->nidentity; i++)
		free(hc->identity[i]);
	for (i = 0; i < hc->ncertificate; i++)
		free(hc->certificate[i]);
	free(hc->identity_agent);
	for (i = 0; i < hc->nuser_known_hosts; i++)
		free(hc->user_known_hosts[i]);
	for (i = 0; i < hc->nglobal_known_hosts; i++)
		free(hc->global_known_hosts[i]);
	free(hc->host_key_alias);
	for (i = 0; i < ALGS_NKINDS; i++)
		free(hc->algs[i]);
	for (i = 0; i < hc->nsend_env; i++)
		free(hc->send_env[i]);
	free(hc->send_env);
	for (i = 0; i < hc->nset_env; i++)
		free(hc->set_env[i]);
	free(hc->set_env);
	free(hc->proxy_command);
	for (i = 0; hc->kh_command != NULL && hc->kh_command[i] != NULL; i++)
		free(hc->kh_command[i]);
	free(hc->kh_command);
	free(hc->kh_command_raw);
	free(hc->proxy_jump);
	free(hc->addrs);
	free(hc->revoked_host_keys);
	memset(hc, 0, sizeof *hc);
}

/*
 * Split a -G argument [user@]host[:port] ([v6]:port for an IPv6 address
 * with a port; a bare v6 address has none). Returns -1 on a bad port.
 */
static int
sshcfg_split_target(const char *arg, char **user, char **host, int *port)
{
	const char *at, *h, *colon, *close;
	char *name;

	*user = NULL;
	*port = 0;
	if ((at = strrchr(arg, '@')) != NULL) {
		*user = xstrndup(arg, at - arg);
		h = at + 1;
	} else
		h = arg;
	colon = NULL;
	if (*h == '[' && (close = strchr(h, ']')) != NULL) {
		name = xstrndup(h + 1, close - h - 1);
		if (close[1] == ':')
			colon = close + 1;
		else if (close[1] != '\0') {
			free(name);
			goto bad;
		}
	} else if ((colon = strchr(h, ':')) != NULL &&
	    strchr(colon + 1, ':') == NULL)
		name = xstrndup(h, colon - h);
	else {
		colon = NULL;
		name = xstrdup(h);
	}
	if (colon != NULL) {
		if ((*port = (int)sshcfg_parse_int(colon + 1)) < 1 ||
		    *port > 65535) {
			free(name);
			goto bad;
		}
	}
	if (*name == '\0') {
		free(name);
		goto bad;
	}
	*host = name;
	return 0;
bad:
	free(*user);
	*user = NULL;
	*host = NULL;
	return -1;
}

static const char *
sshcfg_yesno(int v)
{
	return v ? "yes" : "no";
}

/* Print a list of files on one line, as ssh -G does ("none" if empty). */
static void
sshcfg_print_files(const char *key, char *const *list, int n)
{
	int i;

	printf("%s", key);
	if (n == 0)
		printf(" none");
	for (i = 0; i < n; i++)
		printf(" %s", list[i]);
	printf("\n");
}

/* The canonicalization keywords as ssh -G prints them. */
static void
sshcfg_dump_canon(const struct sshcfg_ctx *ctx)
{
	static const char *names[] = { "false", "true", "always" };
	const struct sshcfg_line *l;
	char *rule, *colon;
	int i;

	printf("canonicalizehostname %s\n", names[ctx->canon]);
	printf("canonicalizefallbacklocal %s\n",
	    sshcfg_yesno(ctx->canon_fallback));
	printf("canonicalizemaxdots %d\n", ctx->canon_maxdots);
	printf("canonicaldomains");
	if ((l = ctx->canon_domains) == NULL)
		printf(" none");
	for (i = 0; l != NULL && i < l->argc; i++)
		printf(" %s", l->argv[i]);
	printf("\n");
	/* Sic: ssh -G spells it so. */
	printf("canonicalizePermittedcnames");
	if ((l = ctx->canon_cnames) == NULL ||
	    strcasecmp(l->argv[0], "none") == 0)
		printf(" none");
	for (i = 0; l != NULL && strcasecmp(l->argv[0], "none") != 0 &&
	    i < l->argc; i++) {
		rule = xstrdup(l->argv[i]);
		if (strcmp(rule, "*") == 0)
			printf(" *:*");
		else {
			colon = strchr(rule, ':');
			*colon = '\0';
			printf(" %s:%s", rule, colon + 1);
		}
		free(rule);
	}
	printf("\n");
}

/*
 * The keywords mrsh reads only to refuse a host or to ignore them, as ssh
 * -G prints them: ControlPath expanded (~, % tokens, ${VAR}), the commands
 * as written, CertificateFile as written, one line each.
 */
static void
sshcfg_dump_foreign(const struct sshconfig *cfg, const struct sshcfg_ctx *ctx,
    const struct ssh_host_config *hc, const char *host)
{
	static const char *raw[] = { "LocalCommand" };
	const struct sshcfg_line *l;
	struct sshcfg_tokens t;
	const char *v;
	char *lower, *p;
	size_t i;
	int j;

	v = sshcfg_foreign_value(ctx, "ControlPath");
	if (v != NULL && strcasecmp(v, "none") != 0 &&
	    (p = sshcfg_expand_path(cfg, hc, host, v)) != NULL) {
		printf("controlpath %s\n", p);
		free(p);
	}
	for (i = 0; i < sizeof raw / sizeof raw[0]; i++) {
		if ((l = sshcfg_foreign_line(ctx, raw[i])) == NULL ||
		    strcasecmp(l->argv[0], "none") == 0)
			continue;
		lower = sshcfg_lower(raw[i]);
		printf("%s %s\n", lower, l->raw);
		free(lower);
	}
	if (hc->kh_command_raw != NULL)
		printf("knownhostscommand %s\n", hc->kh_command_raw);
	/* RemoteCommand with the % tokens, no ${VAR}. */
	if ((l = sshcfg_foreign_line(ctx, "RemoteCommand")) != NULL &&
	    strcasecmp(l->argv[0], "none") != 0) {
		sshcfg_host_tokens(hc, host, &t);
		p = sshcfg_expand_tokens(cfg, &t, l->raw, 0);
		printf("remotecommand %s\n", p);
		free(p);
	}
	if (hc->revoked_host_keys != NULL)
		printf("revokedhostkeys %s\n", hc->revoked_host_keys);
	for (j = 0; j < ctx->ncerts; j++)
		printf("certificatefile %s\n", ctx->certs[j]);
	printf("checkhostip %s\n", sshcfg_yesno(hc->check_host_ip));
	sshcfg_dump_canon(ctx);
}

int
sshconfig_dump_host(const struct options *opt, const char *arg)
{
	struct sshconfig *cfg;
	struct sshconfig_host *h;
	struct ssh_host_config hc;
	char *user, *host, *p, *algs, err[1024];
	int i, port, refused;

	if (sshcfg_split_target(arg, &user, &host, &port) != 0) {
		error("bad host for -G: %s", arg);
		return EXIT_USAGE;
	}
	if ((cfg = sshconfig_load(opt)) == NULL) {
		free(user);
		free(host);
		return EXIT_USAGE;
	}
	/* As ssh -G: canonicalization looks names up (and may fail). */
	h = sshconfig_begin(cfg, opt, host, user, port);
	sshcanon_sync(h);
	refused = sshconfig_end(h, &hc, err, sizeof err) != 0;
	if (h->fatal) {
		error("%s", err);
		ssh_host_config_free(&hc);
		sshconfig_host_free(h);
		sshconfig_free(cfg);
		free(user);
		free(host);
		return EXIT_UNREACHABLE;
	}

	printf("hostname %s\n", hc.hostname);
	printf("user %s\n", hc.user);
	printf("port %d\n", hc.port);
	/* Like ssh -G: identity files as written, before expansion. */
	for (i = 0; i < h->ctx.nids; i++)
		printf("identityfile %s\n", h->ctx.ids[i]);
	printf("identitiesonly %s\n", sshcfg_yesno(hc.identities_only));
	if (h->ctx.agent != NULL) {
		if (strcmp(h->ctx.agent, "SSH_AUTH_SOCK") == 0 ||
		    strcasecmp(h->ctx.agent, "none") == 0 ||
		    (h->ctx.agent[0] == '$' && h->ctx.agent[1] != '{') ||
		    hc.identity_agent == NULL)
			printf("identityagent %s\n", h->ctx.agent);
		else
			printf("identityagent %s\n", hc.identity_agent);
	}
	if (h->ctx.ct_set && h->ctx.connect_timeout >= 0)
		printf("connecttimeout %ld\n", h->ctx.connect_timeout);
	else
		printf("connecttimeout none\n");
	/* "ask" is printed as what mrsh does with it: refuse unknown keys. */
	printf("stricthostkeychecking %s\n", hc.strict == STRICT_NO ? "false" :
	    hc.strict == STRICT_ACCEPT_NEW ? "accept-new" : "true");
	sshcfg_print_files("userknownhostsfile", hc.user_known_hosts,
	    hc.nuser_known_hosts);
	sshcfg_print_files("globalknownhostsfile", hc.global_known_hosts,
	    hc.nglobal_known_hosts);
	printf("serveraliveinterval %d\n", hc.server_alive_interval);
	printf("serveralivecountmax %d\n", hc.server_alive_count_max);
	printf("batchmode %s\n", sshcfg_yesno(hc.batch_mode));
	printf("passwordauthentication %s\n", sshcfg_yesno(hc.password_auth));
	if (hc.host_key_alias != NULL)
		printf("hostkeyalias %s\n", hc.host_key_alias);
	for (i = 0; i < ALGS_NKINDS; i++) {
		algs = sshalgs_assemble(i, hc.algs[i]);
		/* As ssh: no line for a list that names nothing it has. */
		if (*algs != '\0')
			printf("%s %s\n", sshalgs_dump_name(i), algs);
		free(algs);
	}
	printf("requesttty %s\n", sshcfg_request_tty_names[hc.request_tty]);
	for (i = 0; i < hc.nsend_env; i++)
		printf("sendenv %s\n", hc.send_env[i]);
	for (i = 0; i < hc.nset_env; i++)
		printf("setenv %s\n", hc.set_env[i]);
	if (hc.proxy_command != NULL)
		printf("proxycommand %s\n", hc.proxy_command);
	if (hc.proxy_jump != NULL) {
		p = jump_spec_print(hc.proxy_jump);
		printf("proxyjump %s\n", p != NULL ? p : hc.proxy_jump);
		free(p);
	}
	printf("kbdinteractiveauthentication %s\n",
	    sshcfg_yesno(hc.kbdint_auth));
	printf("hashknownhosts %s\n", sshcfg_yesno(hc.hash_known_hosts));
	sshcfg_dump_foreign(cfg, &h->ctx, &hc, host);
	fflush(stdout);
	if (refused)
		warnx_m("%s: mrsh would not connect: %s", host, err);

	ssh_host_config_free(&hc);
	sshconfig_host_free(h);
	sshconfig_free(cfg);
	free(user);
	free(host);
	return 0;
}
