/*
 * Command-line parsing. Options stop at the first non-option argument, so
 * "mrsh -w h ls -l" runs "ls -l" on h, as pdsh and ssh do. Every usage error
 * is one line on stderr and exit status 2.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <libssh2.h>

#include "mrsh/groups.h"
#include "mrsh/hostlist.h"
#include "mrsh/log.h"
#include "mrsh/jump.h"
#include "mrsh/options.h"
#include "mrsh/xmalloc.h"

/* Longest mrsh.conf line. */
#define OPTIONS_CONF_LINE	4096

enum {
	OPT_LIST_HOSTS = 256,
	OPT_GATHER_MAX,
	OPT_OUTDIR,
	OPT_ERRDIR,
	OPT_JSON,
	OPT_STATS,
	OPT_ASKPASS,
	OPT_CLOSE,
	OPT_CLOSE_WAIT,
	OPT_PORTS,
	OPT_PORTS_REPORT,
	OPT_RSH_STDERR,
	OPT_NO_PROGRESS,
	OPT_TTY,
	OPT_NO_TTY,
	OPT_LIST_GROUPS,
	OPT_GROUPS_CONF,
	OPT_GENDERS,
	OPT_COPY,
	OPT_RCOPY,
	OPT_DEST,
	OPT_PRESERVE,
	OPT_TAR,
	OPT_SFTP,
	OPT_GROUP_TIMEOUT,
	OPT_OUTPUT,
	OPT_DIFF,
	OPT_COLOR,
	OPT_SUDO
};

static const char short_opts[] = "+:f:w:x:g:X:aR:j:t:u:vqVhNbBLl:p:i:J:F:o:G:Ir";

static const struct option long_opts[] = {
	{ "hosts-file",		required_argument, NULL, 'f' },
	{ "hosts",		required_argument, NULL, 'w' },
	{ "exclude",		required_argument, NULL, 'x' },
	{ "group",		required_argument, NULL, 'g' },
	{ "exclude-group",	required_argument, NULL, 'X' },
	{ "all",		no_argument,	   NULL, 'a' },
	{ "groups-conf",	required_argument, NULL, OPT_GROUPS_CONF },
	{ "genders",		required_argument, NULL, OPT_GENDERS },
	{ "group-timeout",	required_argument, NULL, OPT_GROUP_TIMEOUT },
	{ "output",		required_argument, NULL, OPT_OUTPUT },
	{ "list-hosts",		no_argument,	   NULL, OPT_LIST_HOSTS },
	{ "list-groups",	no_argument,	   NULL, OPT_LIST_GROUPS },
	{ "transport",		required_argument, NULL, 'R' },
	{ "fanout",		required_argument, NULL, 'j' },
	{ "connect-timeout",	required_argument, NULL, 't' },
	{ "command-timeout",	required_argument, NULL, 'u' },
	{ "verbose",		no_argument,	   NULL, 'v' },
	{ "quiet",		no_argument,	   NULL, 'q' },
	{ "version",		no_argument,	   NULL, 'V' },
	{ "help",		no_argument,	   NULL, 'h' },
	{ "no-label",		no_argument,	   NULL, 'N' },
	{ "gather",		no_argument,	   NULL, 'b' },
	{ "gather-all",		no_argument,	   NULL, 'B' },
	{ "by-host",		no_argument,	   NULL, 'L' },
	{ "diff",		no_argument,	   NULL, OPT_DIFF },
	{ "color",		required_argument, NULL, OPT_COLOR },
	{ "gather-max",		required_argument, NULL, OPT_GATHER_MAX },
	{ "outdir",		required_argument, NULL, OPT_OUTDIR },
	{ "errdir",		required_argument, NULL, OPT_ERRDIR },
	{ "json",		no_argument,	   NULL, OPT_JSON },
	{ "stats",		no_argument,	   NULL, OPT_STATS },
	{ "no-progress",	no_argument,	   NULL, OPT_NO_PROGRESS },
	{ "user",		required_argument, NULL, 'l' },
	{ "port",		required_argument, NULL, 'p' },
	{ "identity",		required_argument, NULL, 'i' },
	{ "jump",		required_argument, NULL, 'J' },
	{ "config",		required_argument, NULL, 'F' },
	{ "option",		required_argument, NULL, 'o' },
	{ "dump-config",	required_argument, NULL, 'G' },
	{ "stdin",		no_argument,	   NULL, 'I' },
	{ "askpass",		no_argument,	   NULL, OPT_ASKPASS },
	{ "sudo",		no_argument,	   NULL, OPT_SUDO },
	{ "tty",		no_argument,	   NULL, OPT_TTY },
	{ "no-tty",		no_argument,	   NULL, OPT_NO_TTY },
	{ "close",		required_argument, NULL, OPT_CLOSE },
	{ "close-wait",		required_argument, NULL, OPT_CLOSE_WAIT },
	{ "ports",		required_argument, NULL, OPT_PORTS },
	{ "ports-report",	optional_argument, NULL, OPT_PORTS_REPORT },
	{ "rsh-stderr",		required_argument, NULL, OPT_RSH_STDERR },
	{ "copy",		no_argument,	   NULL, OPT_COPY },
	{ "rcopy",		no_argument,	   NULL, OPT_RCOPY },
	{ "dest",		required_argument, NULL, OPT_DEST },
	{ "recursive",		no_argument,	   NULL, 'r' },
	{ "preserve",		no_argument,	   NULL, OPT_PRESERVE },
	{ "tar",		no_argument,	   NULL, OPT_TAR },
	{ "sftp",		no_argument,	   NULL, OPT_SFTP },
	{ NULL, 0, NULL, 0 }
};

static const char usage_text[] =
"usage: mrsh [options] [--] command [arg ...]\n"
"       mrsh [options] --copy SRC... --dest DIR\n"
"       mrsh [options] --rcopy SRC... --dest LOCALDIR\n"
"       mrsh -w hosts --list-hosts | -G host | --ports-report[=LO-HI]\n"
"\n"
"Run a command on many hosts at once (ssh, rsh or a local command per host),\n"
"closing every connection so that TIME_WAIT stays on the servers.\n"
"\n"
"Hosts:\n"
"  -f, --hosts-file FILE   hosts from FILE, one per line (- = stdin; repeatable)\n"
"  -w, --hosts LIST        hosts, comma separated, with ranges: node[01-10,15],\n"
"                          r[1-2]n[1-3], ^FILE; entries are [user@]host[:port]\n"
"  -x, --exclude LIST      remove these hosts (same syntax)\n"
"                          @GROUP in a list or a host file is a node group\n"
"  -g, --group LIST        hosts of these node groups (comma separated)\n"
"  -X, --exclude-group L   remove the hosts of these node groups\n"
"  -a, --all               every node the group sources know\n"
"      --groups-conf FILE  ClusterShell groups.conf to read (default: its\n"
"                          search path from /etc/clustershell; \"\" = none)\n"
"      --genders FILE      genders database (default /etc/genders; \"\" = none)\n"
"      --group-timeout S   how long a group upcall may run (default {group-timeout})\n"
"      --list-hosts        print the final host list and exit\n"
"      --list-groups       print the names of the node groups and exit\n"
"\n"
"Running:\n"
"  -R, --transport NAME    ssh, rsh or exec (default {transport})\n"
"  -j, --fanout N          sessions at once (default {fanout})\n"
"  -t, --connect-timeout S connect/setup timeout in seconds (default {connect-timeout};\n"
"                          0 = none)\n"
"  -u, --command-timeout S command timeout in seconds (default {command-timeout};\n"
"                          0 = none)\n"
"  -I, --stdin             send mrsh's standard input to every host (ssh)\n"
"\n"
"Output:\n"
"  -N, --no-label          do not prefix lines with the host name\n"
"  -b, --gather            print identical outputs once, after the run\n"
"  -B, --gather-all        like -b, with stderr gathered with stdout (clush -B)\n"
"  -L, --by-host           each host's output together after the run, hosts\n"
"                          sorted (clush -L); with -b: gathered line by line\n"
"      --diff              unified diff of each distinct output against the\n"
"                          most common one (clush --diff; implies -b)\n"
"      --color WHEN        color labels and headers: never, always or auto\n"
"                          (a terminal, unless NO_COLOR is set) (default {color})\n"
"      --output MODE       lines, gather (-b) or json (--json)\n"
"                          (default {output})\n"
"      --gather-max BYTES  output held per host and stream with -b/--json\n"
"                          (default {gather-max}; suffixes K, M, G)\n"
"      --outdir DIR        write each host's stdout to DIR/HOST\n"
"      --errdir DIR        write each host's stderr to DIR/HOST\n"
"      --json              one JSON object per host per line\n"
"      --stats             print close and timing statistics on stderr\n"
"      --no-progress       no progress line, even on a terminal\n"
"  -v, --verbose           more diagnostics (-vv traces every state change)\n"
"  -q, --quiet             fewer diagnostics\n"
"  -V, --version           print the version (and libssh2's: built with,\n"
"                          running with) and exit\n"
"  -h, --help              print this help and exit\n"
"\n"
"ssh (as for ssh(1)):\n"
"  -l, --user USER         remote user\n"
"  -p, --port PORT         remote port\n"
"  -i, --identity FILE     identity (private key) file (repeatable)\n"
"  -J, --jump SPEC         reach every host through these jump hosts:\n"
"                          [user@]host[:port] or ssh:// URIs, comma chain,\n"
"                          or none (as ssh -J; wins over ProxyJump)\n"
"  -F, --config FILE       ssh_config file instead of ~/.ssh/config and\n"
"                          /etc/ssh/ssh_config\n"
"  -o, --option KEY=VALUE  ssh_config option (repeatable)\n"
"  -G, --dump-config HOST  print the configuration used for HOST and exit\n"
"      --askpass           allow password authentication (asks once)\n"
"      --sudo              run the command as root with sudo -S, the password\n"
"                          asked once and sent on each host's input\n"
"      --tty               always request a pseudo-terminal (ssh -tt)\n"
"      --no-tty            never request a pseudo-terminal (ssh -T)\n"
"\n"
"Connections and source ports:\n"
"      --close MODE        remote: wait for the server's FIN, then close;\n"
"                          local: close at once (leaves TIME_WAIT here);\n"
"                          abort: reset the connection (default {close})\n"
"      --close-wait S      how long to wait for the server's FIN before a\n"
"                          reset (default {close-wait})\n"
"      --ports SPEC        source ports: ephemeral, reserved (512-1023,\n"
"                          needs root), or LO-HI (default {ports};\n"
"                          with -R rsh: reserved)\n"
"      --ports-report[=R]  show what the kernel holds in a port range, exit\n"
"      --rsh-stderr MODE   connect or merge (stderr into stdout)\n"
"                          (default {rsh-stderr})\n"
"\n"
"Defaults: lines \"option = value\" in /etc/mrsh.conf, then in\n"
"~/.config/mrsh/mrsh.conf (or only in $MRSH_CONF) set long options above:\n"
"fanout, connect-timeout, command-timeout, output, color, gather-max, close,\n"
"close-wait, ports, rsh-stderr, groups-conf, genders, group-timeout, user,\n"
"port, config, identity, no-label, stats, no-progress, askpass.\n"
"FANOUT sets -j and WCOLL is the host file when no hosts are given (pdsh).\n"
"\n"
"Copying files (ssh, over SFTP; nothing to install on the hosts):\n"
"      --copy SRC...       send local files to every host (clush --copy,\n"
"                          pdcp); each file is read once for all hosts\n"
"      --rcopy SRC...      fetch files from every host into\n"
"                          LOCALDIR/BASENAME.HOST (clush --rcopy, rpdcp)\n"
"      --dest DIR          where to: a directory (or, for one source, the\n"
"                          target name); %h is replaced by the host\n"
"  -r, --recursive         copy directories\n"
"      --preserve          keep modification times and full modes\n"
"      --tar               --copy as one tar stream per host, unpacked by\n"
"                          the host's GNU tar and installed by its sh and\n"
"                          coreutils: no SFTP round trip per file (trees\n"
"                          of small files); --dest must be a directory.\n"
"                          The default for -r with a directory where the\n"
"                          host has those tools and --dest is a writable\n"
"                          directory\n"
"      --sftp              --copy over SFTP only, as for single files\n"
"\n"
"exec transport: %h, %u, %p and %% in the command are replaced by the host,\n"
"user, port (default 22) and a percent sign; the command runs locally,\n"
"once per host.\n"
"\n"
"Exit status: 0 if every host ran the command and it exited 0; 255 if any\n"
"host could not be reached, failed authentication or timed out, or output\n"
"could not be written (e.g. a full disk); otherwise the largest exit status\n"
"of the remote commands (128+N for signal N; one outside 0-255 counts as\n"
"255); 2 for usage errors; 130 when interrupted, 143 when terminated.\n";

/*
 * Built-in defaults, one table: options_parse applies them as options
 * before anything else, and --help shows them ("{fanout}" in usage_text).
 * The names are long options; they and options_conf_keys are the keys
 * mrsh.conf may set.
 */
static const struct {
	const char	*name;
	const char	*value;
} options_defaults[] = {
	{ "transport",		"ssh" },
	{ "fanout",		"64" },
	{ "connect-timeout",	"10" },
	{ "command-timeout",	"0" },
	{ "output",		"lines" },
	{ "color",		"auto" },
	{ "gather-max",		"1M" },
	{ "close",		"remote" },
	{ "close-wait",		"3" },
	{ "ports",		"ephemeral" },
	{ "rsh-stderr",		"connect" },
	{ "group-timeout",	"10" },
};

static const char *const options_conf_keys[] = {
	"groups-conf", "genders", "user", "port", "config", "identity",
	"no-label", "stats", "no-progress", "askpass", NULL
};

/* Strings from mrsh.conf, kept for the run (struct options points in). */
static char	**options_conf_strings;
static size_t	  options_conf_nstrings;

/* "FILE:LINE: " while applying mrsh.conf, for options_die. */
static const char *options_where;

/* --help: usage_text with each {name} replaced by its default. */
static void
options_print_usage(FILE *fp)
{
	const char *p, *end;
	size_t i, len;

	for (p = usage_text; *p != '\0'; p = end) {
		if (*p != '{' || (end = strchr(p, '}')) == NULL) {
			end = p + 1 + strcspn(p + 1, "{");
			fwrite(p, 1, end - p, fp);
			continue;
		}
		len = end - p - 1;
		for (i = 0; i < sizeof options_defaults /
		    sizeof options_defaults[0]; i++)
			if (strlen(options_defaults[i].name) == len &&
			    strncmp(options_defaults[i].name, p + 1, len) == 0)
				break;
		if (i == sizeof options_defaults / sizeof options_defaults[0])
			fatalx("usage_text: no default for %.*s", (int)len,
			    p + 1);
		fputs(options_defaults[i].value, fp);
		end++;
	}
}

/*
 * -V: mrsh's version, and the libevent and libssh2 it was built with and
 * runs with. A binary built against one libssh2 but running on another
 * (a shared libssh2.so.1 of another version) shows it here; the tests read
 * what to expect from this, not from pkg-config.
 */
static void
options_version(void)
{
	printf("mrsh %s\n", PACKAGE_VERSION);
	printf("libevent: built with %s, running with %s\n",
	    LIBEVENT_VERSION, event_get_version());
	printf("libssh2: built with %s, running with %s (%s)\n",
	    LIBSSH2_VERSION, libssh2_version(0), MRSH_LIBSSH2_SOURCE);
}

/* --help; usage errors are one line each (options_die). */
void
options_usage(int status)
{
	options_print_usage(status == 0 ? stdout : stderr);
	exit(status);
}

/* One-line usage error, exit 2. */
static void __attribute__((noreturn, format(printf, 1, 2)))
options_die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mrsh: %s", options_where != NULL ? options_where : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(EXIT_USAGE);
}

static double
options_seconds(const char *name, const char *s)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	/* !(d >= 0): NaN ("nan" parses) compares false with everything. */
	if (errno != 0 || end == s || *end != '\0' || !(d >= 0) || d > 1e7)
		options_die("%s: bad number of seconds \"%s\"", name, s);
	return d;
}

static long
options_long(const char *name, const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		options_die("%s: \"%s\" is not a number from %ld to %ld", name,
		    s, lo, hi);
	return v;
}

static size_t
options_size(const char *name, const char *s)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || s[0] == '-')
		options_die("%s: bad size \"%s\"", name, s);
	switch (*end) {
	case 'k': case 'K':
		shift = 10, end++;
		break;
	case 'm': case 'M':
		shift = 20, end++;
		break;
	case 'g': case 'G':
		shift = 30, end++;
		break;
	}
	if (*end != '\0' || v == 0)
		options_die("%s: bad size \"%s\"", name, s);
	/* A shift that loses bits would wrap to a small size. */
	if (v > (unsigned long long)SIZE_MAX >> shift)
		options_die("%s: size \"%s\" is too large", name, s);
	return (size_t)(v << shift);
}

int
options_parse_range(const char *s, int *lo, int *hi, char *err, size_t errlen)
{
	const char *arg = s;
	char *end;
	long a, b;

	errno = 0;
	a = strtol(s, &end, 10);
	if (end == s || *end != '-')
		goto bad;
	s = end + 1;
	b = strtol(s, &end, 10);
	if (end == s || *end != '\0' || errno != 0)
		goto bad;
	if (a < 1 || b > 65535 || a > b) {
		snprintf(err, errlen, "port range %ld-%ld: must be within "
		    "1-65535 with LO <= HI", a, b);
		return -1;
	}
	*lo = (int)a;
	*hi = (int)b;
	return 0;
bad:
	/* The whole argument, not the part after the dash. */
	snprintf(err, errlen, "bad port range \"%s\": expected LO-HI", arg);
	return -1;
}

static void
options_ports(struct options *o, const char *s)
{
	char err[256];

	if (strcmp(s, "ephemeral") == 0) {
		o->ports_mode = PORTS_EPHEMERAL;
		return;
	}
	o->ports_mode = PORTS_RANGE;
	if (strcmp(s, "reserved") == 0) {
		o->ports_lo = 512;
		o->ports_hi = 1023;
		return;
	}
	if (options_parse_range(s, &o->ports_lo, &o->ports_hi, err,
	    sizeof err) != 0)
		options_die("--ports: %s (or ephemeral, reserved)", err);
}

/* Join argv with single spaces, as ssh does for the remote command. */
static char *
options_join(char **argv, int argc)
{
	size_t len = 1;
	char *s;
	int i;

	for (i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = xmalloc(len);
	s[0] = '\0';
	for (i = 0; i < argc; i++) {
		if (i > 0)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

/* --copy/--rcopy: what is needed and what does not go with it. */
static void
options_copy_check(struct options *o)
{
	const char *what = o->copy == COPY_PUSH ? "--copy" : "--rcopy";
	int i;

	if (o->ncopy_src == 0)
		options_die("%s: no source given", what);
	if (o->copy_dest == NULL)
		options_die("%s needs --dest %s", what,
		    o->copy == COPY_PUSH ? "DIR" : "LOCALDIR");
	if (strcmp(o->transport, "ssh") != 0)
		options_die("%s works with -R ssh only (SFTP)", what);
	if (o->stdin_stream)
		options_die("%s and -I/--stdin exclude each other", what);
	if (o->tty == 1)
		options_die("%s and --tty exclude each other (SFTP has no "
		    "terminal)", what);
	if (o->sudo)
		options_die("%s and --sudo exclude each other (files are "
		    "written as the login user)", what);
	for (i = 0; i < o->ncopy_src; i++) {
		if (*o->copy_src[i] == '\0')
			options_die("%s: empty source path", what);
	}
}

struct hostarg {
	int		 kind;	/* 'f', 'w', 'x', 'g', 'X', 'a' */
	const char	*arg;
};

/* What getopt passes collect besides struct options. */
struct options_pass {
	struct hostarg	*ha;		/* host arguments, in order */
	int		 nha;
	int		 have_ports;	/* --ports given (not a default) */
	int		 defaults;	/* applying options_defaults */
	const char	*report_arg;
	const char	*groups_conf;
	const char	*genders;
	char		**copy_src;	/* --copy/--rcopy sources */
	int		 ncopy_src;
};

static void	options_getopt(struct options *, struct options_pass *, int,
		    char **);

/* Apply "--NAME[=VALUE]" as one getopt pass; the string lives for the run. */
static void
options_apply_one(struct options *o, struct options_pass *p,
    const char *name, const char *value)
{
	char *argv[3], *arg;

	if (value != NULL && *value != '\0')
		xasprintf(&arg, "--%s=%s", name, value);
	else
		xasprintf(&arg, "--%s", name);
	/* struct options keeps pointers into optarg: keep the string. */
	options_conf_strings = xreallocarray(options_conf_strings,
	    options_conf_nstrings + 1, sizeof *options_conf_strings);
	options_conf_strings[options_conf_nstrings++] = arg;
	argv[0] = "mrsh";
	argv[1] = arg;
	argv[2] = NULL;
	options_getopt(o, p, 2, argv);
}

static void
options_apply_defaults(struct options *o, struct options_pass *p)
{
	size_t i;

	p->defaults = 1;
	for (i = 0; i < sizeof options_defaults / sizeof options_defaults[0];
	    i++)
		options_apply_one(o, p, options_defaults[i].name,
		    options_defaults[i].value);
	p->defaults = 0;
}

static int
options_conf_key_ok(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof options_defaults / sizeof options_defaults[0];
	    i++)
		if (strcmp(options_defaults[i].name, key) == 0)
			return 1;
	for (i = 0; options_conf_keys[i] != NULL; i++)
		if (strcmp(options_conf_keys[i], key) == 0)
			return 1;
	return 0;
}

/*
 * One mrsh.conf: "key = value" (or "key value"; a key alone for the
 * options without a value), '#' comments. Keys are long options ('_' as
 * '-'). Each line is applied as "--key=value" would be on the command
 * line; a bad one stops mrsh with FILE:LINE. A missing file is no error.
 */
static void
options_read_conf(struct options *o, struct options_pass *p,
    const char *path)
{
	FILE *f;
	char line[OPTIONS_CONF_LINE], where[1024], *key, *val, *end;
	size_t lineno = 0;

	if ((f = fopen(path, "r")) == NULL) {
		if (errno == ENOENT)
			return;
		options_die("%s: %s", path, strerror(errno));
	}
	while (fgets(line, sizeof line, f) != NULL) {
		lineno++;
		snprintf(where, sizeof where, "%s:%zu: ", path, lineno);
		if (strchr(line, '\n') == NULL && !feof(f)) {
			options_where = where;
			options_die("line too long");
		}
		if ((end = strchr(line, '#')) != NULL)
			*end = '\0';
		key = line + strspn(line, " \t\r\n");
		end = key + strcspn(key, " \t\r\n=");
		val = end + strspn(end, " \t\r\n");
		if (*val == '=')
			val += 1 + strspn(val + 1, " \t");
		*end = '\0';
		if (*key == '\0')
			continue;
		for (end = key; *end != '\0'; end++)
			if (*end == '_')
				*end = '-';
		end = val + strlen(val);
		while (end > val && strchr(" \t\r\n", end[-1]) != NULL)
			*--end = '\0';
		options_where = where;
		if (!options_conf_key_ok(key))
			options_die("unknown key \"%s\"", key);
		options_apply_one(o, p, key, val);
		options_where = NULL;
	}
	fclose(f);
}

/* /etc/mrsh.conf, then the user's; $MRSH_CONF (a file, "" none) instead. */
static void
options_read_confs(struct options *o, struct options_pass *p)
{
	const char *env = getenv("MRSH_CONF"), *home = getenv("HOME");
	const char *xdg = getenv("XDG_CONFIG_HOME");
	char *path;

	if (env != NULL) {
		if (*env != '\0')
			options_read_conf(o, p, env);
		return;
	}
	options_read_conf(o, p, "/etc/mrsh.conf");
	if (xdg != NULL && *xdg != '\0')
		xasprintf(&path, "%s/mrsh/mrsh.conf", xdg);
	else if (home != NULL)
		xasprintf(&path, "%s/.config/mrsh/mrsh.conf", home);
	else
		return;
	options_read_conf(o, p, path);
	free(path);
}

/* One getopt pass over argv (the command line, or one mrsh.conf line). */
static void
options_getopt(struct options *o, struct options_pass *p, int argc,
    char **argv)
{
	char err[256], safe[256];
	int ch;

	opterr = 0;
	optind = 0;
again:
	while ((ch = getopt_long(argc, argv, short_opts, long_opts,
	    NULL)) != -1) {
		switch (ch) {
		case 'f':
		case 'w':
		case 'x':
		case 'g':
		case 'X':
		case 'a':
			p->ha[p->nha].kind = ch;
			p->ha[p->nha++].arg = optarg;
			break;
		case OPT_LIST_HOSTS:
			o->list_hosts = 1;
			break;
		case OPT_LIST_GROUPS:
			o->list_groups = 1;
			break;
		case OPT_GROUPS_CONF:
			p->groups_conf = optarg;
			break;
		case OPT_GENDERS:
			p->genders = optarg;
			break;
		case OPT_GROUP_TIMEOUT:
			o->group_timeout = options_seconds("--group-timeout",
			    optarg);
			break;
		case OPT_OUTPUT:
			o->gather = strcmp(optarg, "gather") == 0;
			o->json = strcmp(optarg, "json") == 0;
			if (!o->gather && !o->json &&
			    strcmp(optarg, "lines") != 0)
				options_die("--output: \"%s\" is not lines, "
				    "gather or json", optarg);
			break;
		case 'R':
			if (strcmp(optarg, "ssh") != 0 &&
			    strcmp(optarg, "rsh") != 0 &&
			    strcmp(optarg, "exec") != 0)
				options_die("-R: unknown transport \"%s\" "
				    "(ssh, rsh or exec)", optarg);
			o->transport = optarg;
			break;
		case 'j':
			o->fanout = (int)options_long("-j", optarg, 1, 100000);
			break;
		case 't':
			o->connect_timeout = options_seconds("-t", optarg);
			break;
		case 'u':
			o->command_timeout = options_seconds("-u", optarg);
			break;
		case 'v':
			if (o->verbose >= 0)
				o->verbose++;
			break;
		case 'q':
			o->verbose = -1;
			o->progress = 0;
			break;
		case 'V':
			options_version();
			exit(0);
		case 'h':
			options_usage(0);
		case 'N':
			o->nolabel = 1;
			break;
		case 'b':
			o->gather = 1;
			break;
		case 'B':
			o->gather = 1;
			o->gather_all = 1;
			break;
		case 'L':
			o->by_host = 1;
			break;
		case OPT_DIFF:
			o->gather = 1;
			o->diff = 1;
			break;
		case OPT_COLOR:
			if (strcmp(optarg, "never") == 0)
				o->color = COLOR_NEVER;
			else if (strcmp(optarg, "always") == 0)
				o->color = COLOR_ALWAYS;
			else if (strcmp(optarg, "auto") == 0)
				/* no-color.org: NO_COLOR turns auto off. */
				o->color = p->defaults && getenv("NO_COLOR") !=
				    NULL && *getenv("NO_COLOR") != '\0' ?
				    COLOR_NEVER : COLOR_AUTO;
			else
				options_die("--color: \"%s\" is not never, "
				    "always or auto", optarg);
			break;
		case OPT_GATHER_MAX:
			o->gather_max = options_size("--gather-max", optarg);
			break;
		case OPT_OUTDIR:
			o->outdir = optarg;
			break;
		case OPT_ERRDIR:
			o->errdir = optarg;
			break;
		case OPT_JSON:
			o->json = 1;
			break;
		case OPT_STATS:
			o->stats = 1;
			break;
		case OPT_NO_PROGRESS:
			o->progress = 0;
			break;
		case 'l':
			if (*optarg == '\0')
				options_die("-l: empty user name");
			if (!hostlist_valid_user(optarg)) {
				log_safe(safe, sizeof safe, optarg,
				    strlen(optarg));
				options_die("-l: user name \"%s\" contains "
				    "characters ssh refuses", safe);
			}
			o->user = optarg;
			break;
		case 'p':
			o->port = (int)options_long("-p", optarg, 1, 65535);
			break;
		case 'i':
			if (o->nidentity == OPT_MAX_LIST)
				options_die("-i: at most %d identity files",
				    OPT_MAX_LIST);
			o->identity[o->nidentity++] = optarg;
			break;
		case 'J':
			if (jump_spec_check_cmdline(optarg, err,
			    sizeof err) == -1)
				options_die("-J: %s", err);
			o->jump = optarg;
			break;
		case 'F':
			o->ssh_config = optarg;
			break;
		case 'o':
			if (o->nssh_opts == OPT_MAX_LIST)
				options_die("-o: at most %d options",
				    OPT_MAX_LIST);
			o->ssh_opts[o->nssh_opts++] = optarg;
			break;
		case 'G':
			o->dump_config_host = optarg;
			break;
		case 'I':
			o->stdin_stream = 1;
			break;
		case OPT_ASKPASS:
			o->askpass = 1;
			break;
		case OPT_SUDO:
			o->sudo = 1;
			break;
		case OPT_TTY:
			o->tty = 1;
			break;
		case OPT_NO_TTY:
			o->tty = 0;
			break;
		case OPT_CLOSE:
			if (strcmp(optarg, "remote") == 0)
				o->close_mode = CLOSE_REMOTE;
			else if (strcmp(optarg, "local") == 0)
				o->close_mode = CLOSE_LOCAL;
			else if (strcmp(optarg, "abort") == 0)
				o->close_mode = CLOSE_ABORT;
			else
				options_die("--close: \"%s\" is not remote, "
				    "local or abort", optarg);
			break;
		case OPT_CLOSE_WAIT:
			o->close_wait = options_seconds("--close-wait",
			    optarg);
			break;
		case OPT_PORTS:
			options_ports(o, optarg);
			p->have_ports = !p->defaults;
			break;
		case OPT_PORTS_REPORT:
			o->ports_report = 1;
			p->report_arg = optarg;
			break;
		case OPT_RSH_STDERR:
			if (strcmp(optarg, "connect") == 0)
				o->rsh_stderr = RSH_STDERR_CONNECT;
			else if (strcmp(optarg, "merge") == 0)
				o->rsh_stderr = RSH_STDERR_MERGE;
			else
				options_die("--rsh-stderr: \"%s\" is not "
				    "connect or merge", optarg);
			break;
		case OPT_COPY:
		case OPT_RCOPY:
			if (o->copy != COPY_NONE &&
			    o->copy != (ch == OPT_COPY ? COPY_PUSH : COPY_PULL))
				options_die("--copy and --rcopy exclude each "
				    "other");
			o->copy = ch == OPT_COPY ? COPY_PUSH : COPY_PULL;
			break;
		case OPT_DEST:
			if (*optarg == '\0')
				options_die("--dest: empty path");
			o->copy_dest = optarg;
			break;
		case 'r':
			o->recursive = 1;
			break;
		case OPT_PRESERVE:
			o->preserve = 1;
			break;
		case OPT_TAR:
		case OPT_SFTP:
			if (o->copy_method != COPY_AUTO &&
			    o->copy_method != (ch == OPT_TAR ? COPY_BY_TAR :
			    COPY_BY_SFTP))
				options_die("--tar and --sftp exclude each "
				    "other");
			o->copy_method = ch == OPT_TAR ? COPY_BY_TAR :
			    COPY_BY_SFTP;
			break;
		case ':':
			options_die("option %s needs an argument",
			    argv[optind - 1]);
		case '?':
		default:
			if (optopt != 0 && optopt < 256)
				options_die("unknown option -%c", optopt);
			options_die("unknown option %s", argv[optind - 1]);
		}
	}
	/*
	 * --copy SRC... --dest DIR (clush's order): the sources are the
	 * arguments, and options may follow them. After "--" every
	 * argument is a source.
	 */
	if (o->copy != COPY_NONE && optind < argc && p->copy_src != NULL) {
		if (optind > 0 && strcmp(argv[optind - 1], "--") == 0) {
			while (optind < argc)
				p->copy_src[p->ncopy_src++] = argv[optind++];
		} else {
			p->copy_src[p->ncopy_src++] = argv[optind++];
			goto again;
		}
	}
}

void
options_parse(struct options *o, int argc, char **argv)
{
	struct options_pass pass;
	struct hostlist excl;
	struct hostarg *ha;
	char err[512];
	int nha, have_ports, i, r;
	const char *report_arg, *groups_conf, *genders, *env;

	memset(o, 0, sizeof *o);
	memset(&pass, 0, sizeof pass);
	hostlist_init(&o->hosts);
	o->progress = isatty(STDERR_FILENO);
	o->tty = -1;
	pass.ha = xcalloc(argc + 1, sizeof *pass.ha);
	pass.groups_conf = getenv("MRSH_GROUPS_CONF");
	pass.genders = getenv("MRSH_GENDERS");

	options_apply_defaults(o, &pass);
	options_read_confs(o, &pass);
	/* pdsh's FANOUT: above mrsh.conf, below the command line. */
	if ((env = getenv("FANOUT")) != NULL && *env != '\0') {
		options_where = "FANOUT: ";
		o->fanout = (int)options_long("-j", env, 1, 100000);
		options_where = NULL;
	}
	/* Only the command line has copy sources. */
	pass.copy_src = xcalloc(argc + 1, sizeof *pass.copy_src);
	options_getopt(o, &pass, argc, argv);
	ha = pass.ha;
	nha = pass.nha;
	have_ports = pass.have_ports;
	report_arg = pass.report_arg;
	groups_conf = pass.groups_conf;
	genders = pass.genders;
	o->cmd_argv = argv + optind;
	o->cmd_argc = argc - optind;
	if (o->copy != COPY_NONE) {
		o->copy_src = pass.copy_src;
		o->ncopy_src = pass.ncopy_src;
	} else
		free(pass.copy_src);

	if (o->ports_report) {
		if (report_arg == NULL && o->cmd_argc > 0)
			report_arg = o->cmd_argv[0];
		if (report_arg != NULL) {
			if (options_parse_range(report_arg, &o->report_lo,
			    &o->report_hi, err, sizeof err) != 0)
				options_die("--ports-report: %s", err);
		} else {
			o->report_lo = 0;
			o->report_hi = 0;
		}
		free(ha);
		return;
	}
	if (o->dump_config_host != NULL) {
		free(ha);
		return;
	}
	groups_init(groups_conf, genders, o->group_timeout);
	if (o->list_groups) {
		free(ha);
		if (groups_print_names(stdout, err, sizeof err) != 0)
			options_die("%s", err);
		return;
	}

	/* rsh servers demand a reserved source port. */
	if (strcmp(o->transport, "rsh") == 0 && !have_ports) {
		o->ports_mode = PORTS_RANGE;
		o->ports_lo = 512;
		o->ports_hi = 1023;
	}

	hostlist_init(&excl);
	for (i = 0; i < nha; i++) {
		if (ha[i].kind == 'f')
			r = hostlist_add_file(&o->hosts, ha[i].arg, err,
			    sizeof err);
		else if (ha[i].kind == 'w' && strcmp(ha[i].arg, "-") == 0)
			r = hostlist_add_file(&o->hosts, "-", err, sizeof err);
		else if (ha[i].kind == 'w')
			r = hostlist_add_expr(&o->hosts, ha[i].arg, err,
			    sizeof err);
		else if (ha[i].kind == 'g')
			r = groups_add_list(&o->hosts, ha[i].arg, err,
			    sizeof err);
		else if (ha[i].kind == 'X')
			r = groups_add_list(&excl, ha[i].arg, err, sizeof err);
		else if (ha[i].kind == 'a')
			r = groups_add_all(&o->hosts, err, sizeof err);
		else
			r = hostlist_add_expr(&excl, ha[i].arg, err,
			    sizeof err);
		if (r != 0)
			options_die("%s", err);
	}
	/* pdsh's WCOLL: the host file when no hosts were given. */
	for (i = 0; i < nha && ha[i].kind != 'f' && ha[i].kind != 'w' &&
	    ha[i].kind != 'g' && ha[i].kind != 'a'; i++)
		;
	if (i == nha && (env = getenv("WCOLL")) != NULL && *env != '\0') {
		if (hostlist_add_file(&o->hosts, env, err, sizeof err) != 0)
			options_die("WCOLL: %s", err);
		nha++;
	}
	free(ha);
	if (excl.n > 0)
		hostlist_exclude(&o->hosts, &excl);
	hostlist_free(&excl);
	hostlist_uniq(&o->hosts);
	if (nha == 0)
		options_die("no hosts given (use -w LIST, -f FILE, -g GROUP, "
		    "-a or WCOLL)");
	if (o->hosts.n == 0)
		options_die("the host list is empty");
	if (o->list_hosts)
		return;
	if (o->copy_method != COPY_AUTO && o->copy != COPY_PUSH)
		options_die("%s goes with --copy only",
		    o->copy_method == COPY_BY_TAR ? "--tar" : "--sftp");
	if (o->copy != COPY_NONE) {
		options_copy_check(o);
		return;
	}
	if (o->recursive || o->preserve || o->copy_dest != NULL)
		options_die("%s works with --copy or --rcopy only",
		    o->recursive ? "-r" : o->preserve ? "--preserve" :
		    "--dest");
	if (o->diff && o->by_host)
		options_die("--diff and -L exclude each other (as in clush)");
	if (o->cmd_argc == 0)
		options_die("no command given");
	o->cmdline = options_join(o->cmd_argv, o->cmd_argc);
	if (o->stdin_stream && strcmp(o->transport, "ssh") != 0)
		options_die("-I/--stdin works with -R ssh only");
	if (o->sudo && strcmp(o->transport, "ssh") != 0)
		options_die("--sudo works with -R ssh only");
	if (o->sudo && o->stdin_stream)
		options_die("--sudo and -I/--stdin exclude each other (the "
		    "password goes on the command's input)");
}

void
options_free(struct options *o)
{
	hostlist_free(&o->hosts);
	groups_free();
	free(o->copy_src);
	o->copy_src = NULL;
	while (options_conf_nstrings > 0)
		free(options_conf_strings[--options_conf_nstrings]);
	free(options_conf_strings);
	options_conf_strings = NULL;
	free(o->cmdline);
	o->cmdline = NULL;
}
