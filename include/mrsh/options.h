/*
 * Command-line options. One struct filled by options_parse(); every module
 * reads what it needs from it and never changes it after parsing.
 */
#ifndef MRSH_OPTIONS_H
#define MRSH_OPTIONS_H

#include <stddef.h>

#include "mrsh/hostlist.h"

enum close_mode {
	CLOSE_REMOTE = 0,	/* wait for the server's FIN, then close */
	CLOSE_LOCAL,		/* close at once, as most tools do */
	CLOSE_ABORT		/* SO_LINGER {1,0} + close: RST */
};

enum ports_mode {
	PORTS_EPHEMERAL = 0,	/* the kernel picks */
	PORTS_RANGE		/* ports_lo..ports_hi, tracked by the pool */
};

enum strict_mode {
	STRICT_UNSET = -1,
	STRICT_NO = 0,
	STRICT_YES = 1,
	STRICT_ACCEPT_NEW = 2
};

enum rsh_stderr_mode {
	RSH_STDERR_CONNECT = 0,	/* second connection back from rshd */
	RSH_STDERR_MERGE	/* port 0: stderr merged into stdout */
};

enum copy_mode {
	COPY_NONE = 0,
	COPY_PUSH,		/* --copy: local files to every host */
	COPY_PULL		/* --rcopy: every host's files to here */
};

/*
 * How --copy sends: a tree (-r with a directory) as one tar stream where
 * the host has GNU tar and the destination is a writable directory, SFTP
 * otherwise (auto); --tar always by tar; --sftp always by SFTP.
 */
enum copy_method {
	COPY_AUTO = 0,
	COPY_BY_TAR,		/* --tar */
	COPY_BY_SFTP		/* --sftp */
};

enum color_mode {
	COLOR_AUTO = 0,		/* on a terminal */
	COLOR_NEVER,
	COLOR_ALWAYS
};

#define OPT_MAX_LIST	64

struct options {
	/* hosts */
	struct hostlist	 hosts;		/* after -x, uniq */
	int		 list_hosts;	/* --list-hosts */
	int		 list_groups;	/* --list-groups */
	double		 group_timeout;	/* --group-timeout, seconds; 0 = none */

	/* the command: argv after options; cmdline = joined with spaces */
	char		**cmd_argv;
	int		 cmd_argc;
	char		*cmdline;

	/* transport */
	const char	*transport;	/* "ssh" (default), "rsh", "exec" */
	int		 fanout;	/* -j */
	double		 connect_timeout; /* -t, seconds; 0 = none */
	double		 command_timeout; /* -u, seconds; 0 = none */
	int		 verbose;	/* -v count; -1 with -q */
	int		 progress;	/* 1 if stderr is a terminal and not -q */

	/* output */
	int		 nolabel;	/* -N */
	int		 gather;	/* -b (also set by -B and --diff) */
	int		 gather_all;	/* -B: stderr gathered with stdout */
	int		 by_host;	/* -L: per host, sorted, after the run */
	int		 diff;		/* --diff */
	enum color_mode	 color;		/* --color */
	size_t		 gather_max;	/* --gather-max, bytes per host per stream */
	const char	*outdir;	/* --outdir */
	const char	*errdir;	/* --errdir */
	int		 json;		/* --json */
	int		 stats;		/* --stats */

	/* ssh-like options */
	const char	*user;		/* -l */
	int		 port;		/* -p, 0 = default */
	const char	*identity[OPT_MAX_LIST]; /* -i */
	const char	*jump;			/* -J: ProxyJump for every host */
	int		 nidentity;
	const char	*ssh_config;	/* -F */
	const char	*ssh_opts[OPT_MAX_LIST]; /* -o Key=Value */
	int		 nssh_opts;
	const char	*dump_config_host; /* -G HOST */
	int		 askpass;	/* --askpass */
	int		 sudo;		/* --sudo: sudo -S, password on stdin */
	int		 tty;		/* --tty 1, --no-tty 0, -1: RequestTTY */
	int		 stdin_stream;	/* -I / --stdin */

	/* closing and ports */
	enum close_mode	 close_mode;	/* --close */
	double		 close_wait;	/* --close-wait, seconds */
	enum ports_mode	 ports_mode;	/* --ports */
	int		 ports_lo;
	int		 ports_hi;
	int		 ports_report;	/* --ports-report [RANGE] */
	int		 report_lo;
	int		 report_hi;

	/* rsh */
	enum rsh_stderr_mode rsh_stderr; /* --rsh-stderr connect|merge */

	/* copying files (ssh, SFTP) */
	enum copy_mode	 copy;		/* --copy / --rcopy */
	char		**copy_src;	/* the sources (argv after options) */
	int		 ncopy_src;
	const char	*copy_dest;	/* --dest, may hold %h */
	int		 recursive;	/* -r */
	int		 preserve;	/* --preserve: mode and times */
	enum copy_method copy_method;	/* --tar, --sftp, or by the tree */
};

/* Exit statuses, documented in --help and mrsh(1). */
#define EXIT_OK		0
#define EXIT_USAGE	2
#define EXIT_INTERRUPT	130
#define EXIT_UNREACHABLE 255

/*
 * Parse argv. On bad usage prints a one-line error and exits EXIT_USAGE;
 * --help / -V print and exit 0.
 */
void	options_parse(struct options *, int argc, char **argv);
void	options_free(struct options *);
/* Parse "LO-HI" into a port range; -1 with message on error. */
int	options_parse_range(const char *, int *lo, int *hi, char *err,
	    size_t errlen);
void	options_usage(int status) __attribute__((noreturn));

#endif
