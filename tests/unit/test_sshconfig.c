/*
 * Unit tests for sshconfig: Host patterns, first value wins, IdentityFile
 * accumulation, Include with globs, -o and -F, % and ~ expansion, the
 * user/port precedence, Match, errors with FILE:LINE, and -G output. HOME
 * points at a temporary directory so the real ~/.ssh is never touched.
 */
#include "config.h"

#include <sys/stat.h>

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <netdb.h>

#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mrsh/log.h"
#include "mrsh/options.h"
#include "mrsh/sshalgs.h"
#include "mrsh/sshconfig.h"
#include "mrsh/xmalloc.h"

#include "tap.h"

static char tmpdir[256];
static char home[512];
static char localuser[256];

/* Write a file under tmpdir (or an absolute path) with printf content. */
static char *
put(const char *name, const char *fmt, ...)
{
	static char path[PATH_MAX];
	va_list ap;
	FILE *fp;
	char *p;

	if (name[0] == '/')
		p = xstrdup(name);
	else
		xasprintf(&p, "%s/%s", tmpdir, name);
	mrsh_strlcpy(path, p, sizeof path);
	free(p);
	if ((fp = fopen(path, "w")) == NULL) {
		perror(path);
		exit(99);
	}
	va_start(ap, fmt);
	vfprintf(fp, fmt, ap);
	va_end(ap);
	fclose(fp);
	return path;
}

static void
opt_init(struct options *opt, const char *cfgfile)
{
	memset(opt, 0, sizeof *opt);
	opt->ssh_config = cfgfile;
}

/* Why the last resolve() refused its host, if it did. */
static char refusal[1024];

/* Resolve host with opt; fills hc; returns 0 if the files loaded. */
static int
resolve(const struct options *opt, const char *host, const char *user,
    int port, struct ssh_host_config *hc)
{
	struct sshconfig *cfg;

	memset(hc, 0, sizeof *hc);
	if ((cfg = sshconfig_load(opt)) == NULL)
		return -1;
	(void)sshconfig_resolve(cfg, opt, host, user, port, hc, refusal,
	    sizeof refusal);
	sshconfig_free(cfg);
	return 0;
}

/* Run fn with fd (1 or 2) going to a file; return what was written. */
static char *
capture(int fd, int (*fn)(const struct options *, const char *),
    const struct options *opt, const char *arg, int *ret)
{
	static char buf[8192];
	char path[PATH_MAX];
	int saved, tmp;
	ssize_t n;

	fflush(stdout);
	fflush(stderr);
	snprintf(path, sizeof path, "%s/capture", tmpdir);
	tmp = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	saved = dup(fd);
	dup2(tmp, fd);
	*ret = fn(opt, arg);
	fflush(stdout);
	fflush(stderr);
	dup2(saved, fd);
	close(saved);
	lseek(tmp, 0, SEEK_SET);
	n = read(tmp, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(tmp);
	return buf;
}

/* sshconfig_load as an int-returning function for capture(). */
static int
load_only(const struct options *opt, const char *unused)
{
	struct sshconfig *cfg;

	if ((cfg = sshconfig_load(opt)) == NULL)
		return -1;
	sshconfig_free(cfg);
	return 0;
}

static void
cleanup(void)
{
	char cmd[PATH_MAX + 16];

	if (tmpdir[0] != '\0') {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", tmpdir);
	}
}

static void
test_host_patterns(void)
{
	struct options opt;
	struct ssh_host_config hc;
	char *cfg;

	cfg = put("patterns",
	    "# comment\n"
	    "Host web?? !web99\n"
	    "  User webuser\n"
	    "Host db*,cache* \"quoted host\"\n"
	    "  Port 2200\n"
	    "Host *.example.com\n"
	    "  HostName %%h.internal\n"
	    "Host *\n"
	    "  User fallback\n"
	    "  Port 2222\n");
	opt_init(&opt, cfg);

	resolve(&opt, "web01", NULL, 0, &hc);
	is_str(hc.user, "webuser", "Host web?? matches web01");
	is_int(hc.port, 2222, "Host * applies after");
	ssh_host_config_free(&hc);

	resolve(&opt, "web99", NULL, 0, &hc);
	is_str(hc.user, "fallback", "!web99 rules the line out");
	ssh_host_config_free(&hc);

	resolve(&opt, "web100", NULL, 0, &hc);
	is_str(hc.user, "fallback", "? matches exactly one character");
	ssh_host_config_free(&hc);

	resolve(&opt, "db7", NULL, 0, &hc);
	is_int(hc.port, 2200, "comma-separated list, first pattern");
	ssh_host_config_free(&hc);

	resolve(&opt, "cache3", NULL, 0, &hc);
	is_int(hc.port, 2200, "comma-separated list, second pattern");
	ssh_host_config_free(&hc);

	resolve(&opt, "quoted host", NULL, 0, &hc);
	is_int(hc.port, 2200, "quoted pattern");
	ssh_host_config_free(&hc);

	resolve(&opt, "a.example.com", NULL, 0, &hc);
	is_str(hc.hostname, "a.example.com.internal", "%h in HostName");
	ssh_host_config_free(&hc);

	resolve(&opt, "WEB01", NULL, 0, &hc);
	is_str(hc.user, "fallback", "Host patterns are case-sensitive");
	is_str(hc.hostname, "web01", "host name lowercased without HostName");
	ssh_host_config_free(&hc);
}

static void
test_first_wins(void)
{
	struct options opt;
	struct ssh_host_config hc;
	char *cfg;

	cfg = put("first",
	    "Host foo\n"
	    "  User first\n"
	    "  ConnectTimeout 7\n"
	    "  StrictHostKeyChecking=accept-new\n"
	    "  UserKnownHostsFile ~/kh1 %%d/kh2_%%h\n"
	    "  PasswordAuthentication no\n"
	    "  HashKnownHosts yes\n"
	    "Host *\n"
	    "  User second\n"
	    "  ConnectTimeout 99\n"
	    "  StrictHostKeyChecking no\n"
	    "  UserKnownHostsFile /never\n"
	    "  GlobalKnownHostsFile none\n"
	    "  ServerAliveInterval 1m30s\n"
	    "  ServerAliveCountMax = 9\n"
	    "  BatchMode yes\n"
	    "  IdentitiesOnly yes\n"
	    "  PasswordAuthentication yes\n");
	opt_init(&opt, cfg);
	resolve(&opt, "foo", NULL, 0, &hc);
	is_str(hc.user, "first", "first User wins");
	ok(hc.connect_timeout == 7, "first ConnectTimeout wins");
	is_int(hc.strict, STRICT_ACCEPT_NEW, "first StrictHostKeyChecking");
	is_int(hc.nuser_known_hosts, 2, "first UserKnownHostsFile line wins");
	if (hc.nuser_known_hosts == 2) {
		char want[PATH_MAX];

		snprintf(want, sizeof want, "%s/kh1", home);
		is_str(hc.user_known_hosts[0], want, "~ in known hosts");
		snprintf(want, sizeof want, "%s/kh2_foo", home);
		is_str(hc.user_known_hosts[1], want, "%d %h in known hosts");
	}
	is_int(hc.nglobal_known_hosts, 0, "GlobalKnownHostsFile none");
	is_int(hc.server_alive_interval, 90, "ServerAliveInterval 1m30s");
	is_int(hc.server_alive_count_max, 9, "ServerAliveCountMax = 9");
	is_int(hc.batch_mode, 1, "BatchMode yes");
	is_int(hc.identities_only, 1, "IdentitiesOnly yes");
	is_int(hc.password_auth, 0, "first PasswordAuthentication wins");
	is_int(hc.hash_known_hosts, 1, "HashKnownHosts yes");
	ssh_host_config_free(&hc);

	resolve(&opt, "bar", NULL, 0, &hc);
	is_int(hc.strict, STRICT_NO, "StrictHostKeyChecking no");
	ssh_host_config_free(&hc);
}

static void
test_defaults(void)
{
	struct options opt;
	struct ssh_host_config hc;
	char want[PATH_MAX];

	opt_init(&opt, "none");
	resolve(&opt, "Host1", NULL, 0, &hc);
	is_str(hc.hostname, "host1", "-F none: hostname");
	is_str(hc.user, localuser, "default user is the local user");
	is_int(hc.port, 22, "default port 22");
	is_int(hc.nidentity, 7, "seven default identity files");
	is_int(hc.identity_explicit, 0, "defaults are not explicit");
	snprintf(want, sizeof want, "%s/.ssh/id_rsa", home);
	is_str(hc.identity[0], want, "first default: ~/.ssh/id_rsa");
	snprintf(want, sizeof want, "%s/.ssh/id_dsa", home);
	is_str(hc.identity[6], want, "last default: ~/.ssh/id_dsa");
	snprintf(want, sizeof want, "%s/.ssh/known_hosts2", home);
	ok(hc.nuser_known_hosts == 2 &&
	    strcmp(hc.user_known_hosts[1], want) == 0,
	    "default UserKnownHostsFile");
	ok(hc.nglobal_known_hosts == 2 &&
	    strcmp(hc.global_known_hosts[0], "/etc/ssh/ssh_known_hosts") == 0,
	    "default GlobalKnownHostsFile");
	is_int(hc.strict, STRICT_YES, "default StrictHostKeyChecking yes");
	ok(hc.connect_timeout == 0, "default ConnectTimeout none");
	is_int(hc.server_alive_count_max, 3, "default ServerAliveCountMax 3");
	is_int(hc.password_auth, 1, "default PasswordAuthentication yes");
	is_int(hc.hash_known_hosts, 0, "default HashKnownHosts no");
	ok(hc.identity_agent == NULL, "default IdentityAgent unset");
	ssh_host_config_free(&hc);
}

static void
test_identity(void)
{
	struct options opt;
	struct ssh_host_config hc;
	char *cfg, want[PATH_MAX];

	cfg = put("ident",
	    "Host foo\n"
	    "  HostName real.%%h\n"
	    "  IdentityFile ~/.ssh/k_%%h_%%r_%%u_%%%%\n"
	    "  IdentityFile /abs/one\n"
	    "Host *\n"
	    "  IdentityFile /abs/one\n"
	    "  IdentityFile %%d/two_%%p\n"
	    "  User remote\n"
	    "  IdentityAgent ~/agent.sock\n");
	opt_init(&opt, cfg);
	/* -i FILE is used only if it exists, as in ssh. */
	snprintf(want, sizeof want, "%s/cli_key", home);
	close(open(want, O_WRONLY | O_CREAT, 0600));
	opt.identity[opt.nidentity++] = "~/cli_key";
	resolve(&opt, "foo", NULL, 0, &hc);
	is_int(hc.nidentity, 4, "-i + IdentityFile accumulate, no duplicates");
	is_int(hc.identity_explicit, 1, "identities are explicit");
	snprintf(want, sizeof want, "%s/cli_key", home);
	is_str(hc.identity[0], want, "-i comes first, ~ expanded");
	snprintf(want, sizeof want, "%s/.ssh/k_real.foo_remote_%s_%%", home,
	    localuser);
	is_str(hc.identity[1], want, "~ %h %r %u %% in IdentityFile");
	is_str(hc.identity[2], "/abs/one", "second IdentityFile");
	snprintf(want, sizeof want, "%s/two_22", home);
	is_str(hc.identity[3], want, "%d %p from a later block");
	snprintf(want, sizeof want, "%s/agent.sock", home);
	is_str(hc.identity_agent, want, "IdentityAgent expanded");
	ssh_host_config_free(&hc);
}

static void
test_include(void)
{
	struct options opt;
	struct ssh_host_config hc;
	char *cfg, dir[PATH_MAX], abs[PATH_MAX];

	snprintf(dir, sizeof dir, "%s/.ssh/conf.d", home);
	mkdir(dir, 0700);
	snprintf(abs, sizeof abs, "%s/.ssh/conf.d/a.conf", home);
	put(abs, "User fromA\nHost beta\n  User betaA\n");
	snprintf(abs, sizeof abs, "%s/.ssh/conf.d/b.conf", home);
	put(abs, "Port 4444\n");
	snprintf(abs, sizeof abs, "%s/.ssh/conf.d/skip.txt", home);
	put(abs, "Port 1\n");
	snprintf(abs, sizeof abs, "%s/abs.conf", tmpdir);
	put(abs, "Host gamma\n  Port 5555\n");

	cfg = put("incl",
	    "Host alpha\n"
	    "  Include conf.d/*.conf\n"
	    "  Port 1111\n"
	    "  ServerAliveInterval 5\n"
	    "Host gamma\n"
	    "  Include %s nothing/*.none\n"
	    "Host *\n"
	    "  User last\n", abs);
	opt_init(&opt, cfg);

	resolve(&opt, "alpha", NULL, 0, &hc);
	is_str(hc.user, "fromA", "relative Include glob read ~/.ssh/conf.d");
	is_int(hc.port, 4444, "second file of the glob read, in order");
	is_int(hc.server_alive_interval, 5,
	    "Host in an included file does not end the outer block");
	ssh_host_config_free(&hc);

	resolve(&opt, "beta", NULL, 0, &hc);
	is_str(hc.user, "last", "Include inside a block that does not apply "
	    "is never active");
	ssh_host_config_free(&hc);

	resolve(&opt, "gamma", NULL, 0, &hc);
	is_int(hc.port, 5555, "absolute Include; glob with no match is fine");
	ssh_host_config_free(&hc);
}

static void
test_cmdline(void)
{
	struct options opt;
	struct ssh_host_config hc;
	char *cfg;

	cfg = put("cmdline",
	    "Host *\n"
	    "  User cfguser\n"
	    "  Port 2000\n"
	    "  ConnectTimeout 30\n");
	opt_init(&opt, cfg);
	opt.ssh_opts[opt.nssh_opts++] = "User=ouser";
	opt.ssh_opts[opt.nssh_opts++] = "ConnectTimeout 4";
	opt.ssh_opts[opt.nssh_opts++] = "port = 2100";
	opt.ssh_opts[opt.nssh_opts++] = "ForwardAgent yes";
	resolve(&opt, "h", NULL, 0, &hc);
	is_str(hc.user, "ouser", "-o User=ouser beats the file");
	ok(hc.connect_timeout == 4, "-o 'ConnectTimeout 4' beats the file");
	is_int(hc.port, 2100, "-o 'port = 2100' (case, spaces around =)");
	ssh_host_config_free(&hc);

	/* -l / -p beat -o and the files; user@host:port beats -l / -p. */
	opt.user = "luser";
	opt.port = 2300;
	resolve(&opt, "h", NULL, 0, &hc);
	is_str(hc.user, "luser", "-l beats ssh_config User");
	is_int(hc.port, 2300, "-p beats ssh_config Port");
	ssh_host_config_free(&hc);
	resolve(&opt, "h", "hostuser", 2400, &hc);
	is_str(hc.user, "hostuser", "user@host beats -l");
	is_int(hc.port, 2400, "host:port beats -p");
	ssh_host_config_free(&hc);

	/* Without -F the user file is read. */
	put(".ssh/config", "Host *\n  User fromdefault\n");
	opt_init(&opt, NULL);
	resolve(&opt, "h", NULL, 0, &hc);
	is_str(hc.user, "fromdefault", "~/.ssh/config read without -F");
	ssh_host_config_free(&hc);
	opt_init(&opt, "none");
	resolve(&opt, "h", NULL, 0, &hc);
	is_str(hc.user, localuser, "-F none reads no file");
	ssh_host_config_free(&hc);
}

static void
test_match(void)
{
	struct options opt;
	struct ssh_host_config hc;
	char *cfg, *err;
	int ret;

	cfg = put("match",
	    "Host short\n"
	    "  HostName long.example.org\n"
	    "Match host *.example.org\n"
	    "  Port 1001\n"
	    "Match originalhost short user bob\n"
	    "  ServerAliveInterval 11\n"
	    "Match exec \"exit 0\"\n"
	    "  User fromexec\n"
	    "Match !host nomatch localuser %s\n"
	    "  ServerAliveCountMax 7\n"
	    "Match all\n"
	    "  User fromall\n", localuser);
	opt_init(&opt, cfg);
	err = capture(2, load_only, &opt, NULL, &ret);
	is_int(ret, 0, "Match exec loads");
	is_str(err, "", "Match exec: nothing to report");

	resolve(&opt, "short", "bob", 0, &hc);
	is_int(hc.port, 1001, "Match host sees the HostName");
	is_int(hc.server_alive_interval, 11, "Match originalhost + user");
	is_str(hc.user, "bob", "user given beats Match exec block");
	is_int(hc.server_alive_count_max, 7, "Match !host + localuser");
	ssh_host_config_free(&hc);

	resolve(&opt, "other", NULL, 0, &hc);
	is_int(hc.port, 22, "Match host does not match");
	is_int(hc.server_alive_interval, 0, "Match user needs both criteria");
	is_str(hc.user, "fromexec", "Match exec exit 0 applies its block");
	ssh_host_config_free(&hc);
}

static void
test_errors(void)
{
	struct options opt;
	char *cfg, *err, want[PATH_MAX + 64];
	int ret;

	cfg = put("bad",
	    "Host nothing-matches-this\n"
	    "  User x\n"
	    "  Port abc\n");
	opt_init(&opt, cfg);
	err = capture(2, load_only, &opt, NULL, &ret);
	is_int(ret, -1, "Port abc: load fails");
	snprintf(want, sizeof want, "mrsh: %s:3: bad value for Port: abc\n",
	    cfg);
	is_str(err, want, "one line FILE:LINE: bad value for Port: abc");

	cfg = put("bad2", "BatchMode perhaps\n");
	opt_init(&opt, cfg);
	err = capture(2, load_only, &opt, NULL, &ret);
	ok(ret == -1 && strstr(err, "bad2:1: bad value for BatchMode: "
	    "perhaps") != NULL, "bad flag value");

	cfg = put("bad3", "StrictHostKeyChecking maybe\n");
	opt_init(&opt, cfg);
	err = capture(2, load_only, &opt, NULL, &ret);
	ok(ret == -1 && strstr(err, "bad value for StrictHostKeyChecking")
	    != NULL, "bad StrictHostKeyChecking value");

	cfg = put("bad4", "Host x\n  User \"unterminated\n");
	opt_init(&opt, cfg);
	err = capture(2, load_only, &opt, NULL, &ret);
	ok(ret == -1 && strstr(err, "bad4:2: invalid quotes") != NULL,
	    "unterminated quote");

	cfg = put("unknown", "FooBarBaz yes\nPort 22\n");
	opt_init(&opt, cfg);
	err = capture(2, load_only, &opt, NULL, &ret);
	ok(ret == -1 && strstr(err, "unknown:1: Bad configuration option: "
	    "foobarbaz\n") != NULL, "unknown keyword: error, as in ssh");

	cfg = put("ignored", "IgnoreUnknown foo*,bar\nFooBarBaz yes\n"
	    "ForwardX11 no\nPort 22\nLocalCommand \"a b\"\n");
	opt_init(&opt, cfg);
	err = capture(2, load_only, &opt, NULL, &ret);
	is_int(ret, 0, "IgnoreUnknown and keywords mrsh ignores: not fatal");
	is_str(err, "", "ignored keywords silent without -v");
	log_init("mrsh", 1);
	err = capture(2, load_only, &opt, NULL, &ret);
	ok(strstr(err, "ignored:2: ssh_config keyword FooBarBaz is not used")
	    != NULL && strstr(err, "ignored:3: ssh_config keyword ForwardX11 "
	    "is not used") != NULL, "ignored keywords noted at -v");
	log_init("mrsh", 0);

	cfg = put("incbad", "Include %s/bad\n", tmpdir);
	opt_init(&opt, cfg);
	err = capture(2, load_only, &opt, NULL, &ret);
	snprintf(want, sizeof want, "%s/bad:3: bad value for Port: abc",
	    tmpdir);
	ok(ret == -1 && strstr(err, want) != NULL,
	    "error inside an included file names that file");

	opt_init(&opt, "none");
	opt.ssh_opts[opt.nssh_opts++] = "Port=0";
	err = capture(2, load_only, &opt, NULL, &ret);
	ok(ret == -1 && strstr(err, "command-line:1: bad value for Port: 0")
	    != NULL, "bad -o value");

	opt_init(&opt, NULL);
	snprintf(want, sizeof want, "%s/nonexistent", tmpdir);
	opt.ssh_config = want;
	err = capture(2, load_only, &opt, NULL, &ret);
	ok(ret == -1 && strstr(err, "nonexistent") != NULL,
	    "-F with a missing file is an error");

	put(".ssh/config", "User x\n");
	snprintf(want, sizeof want, "%s/.ssh/config", home);
	chmod(want, 0666);
	opt_init(&opt, NULL);
	err = capture(2, load_only, &opt, NULL, &ret);
	ok(ret == -1 && strstr(err, "bad owner or permissions") != NULL,
	    "world-writable ~/.ssh/config refused");
	unlink(want);
}

/*
 * Values ssh refuses when it reads the file: each is an error naming the
 * file and line, with the exact words (t0275 compares the same with the
 * live ssh -G; here every branch of the checks runs in the unit test).
 */
static void
test_bad_values(void)
{
	static const struct {
		const char	*line;
		const char	*msg;	/* after the file name */
	} cases[] = {
		{ "Hostname a b", ":2: bad value for HostName: a" },
		{ "User a b", ":2: bad value for User: a" },
		{ "Port \"\"", ":2: bad value for Port: " },
		{ "Port 70000", ":2: bad value for Port: 70000" },
		{ "IdentityFile a b", ":2: bad value for IdentityFile: a" },
		{ "ConnectTimeout \"\"", ":2: bad value for ConnectTimeout: " },
		{ "ConnectTimeout x1", ":2: bad value for ConnectTimeout: x1" },
		{ "ConnectTimeout 5x", ":2: bad value for ConnectTimeout: 5x" },
		{ "ServerAliveInterval 999999999w",
		    ":2: bad value for ServerAliveInterval: 999999999w" },
		{ "ServerAliveCountMax 9x",
		    ":2: bad value for ServerAliveCountMax: 9x" },
		{ "ServerAliveCountMax 99999999999",
		    ":2: bad value for ServerAliveCountMax: 99999999999" },
		{ "Ciphers a b", ":2: bad value for Ciphers: a" },
		{ "Ciphers !aes128-ctr",
		    " line 2: Bad SSH2 cipher spec '!aes128-ctr'." },
		{ "Ciphers +", " line 2: Bad SSH2 cipher spec '+'." },
		{ "PubkeyAcceptedKeyTypes nosuch",
		    " line 2: Bad key types 'nosuch'." },
		{ "RequestTTY maybe", ":2: bad value for RequestTTY: maybe" },
		{ "CanonicalizeHostname perhaps",
		    ":2: bad value for CanonicalizeHostname: perhaps" },
		{ "CanonicalizeFallbackLocal maybe",
		    ":2: bad value for CanonicalizeFallbackLocal: maybe" },
		{ "SendEnv A=B", " line 2: Invalid environment name." },
		{ "SetEnv A", " line 2: Invalid SetEnv." },
		{ "CanonicalDomains a!b.example", " line 2: domain name "
		    "\"a!b.example\" contains invalid characters" },
		{ "CanonicalDomains -a.example", " line 2: domain name "
		    "\"-a.example\" starts with invalid character" },
		{ "CanonicalizePermittedCNAMEs a:",
		    " line 2: Invalid permitted CNAME \"a:\"" },
		{ "CanonicalizePermittedCNAMEs none *:*", " line 2: keyword "
		    "canonicalizepermittedcnames \"none\" argument must appear "
		    "alone." },
		{ "CanonicalDomains none a.example", " line 2: keyword "
		    "canonicaldomains \"none\" argument must appear alone." },
		{ "UserKnownHostsFile a none",
		    ":2: bad value for UserKnownHostsFile: none must appear "
		    "alone" },
		{ "GlobalKnownHostsFile a \"\"",
		    " line 2: keyword globalknownhostsfile empty argument" },
		{ "Match all host x",
		    ":2: 'all' cannot be combined with other Match attributes" },
		{ "Match bogus x", ":2: Unsupported Match attribute bogus" },
		{ "Match host \"\" x", ":2: Missing Match criteria for host" },
		{ "Match exec %Z", ":2: bad value for Match exec: %Z" },
		{ "Match \"\"", ":2: One or more attributes required for Match" },
		{ "Port", ":2: no argument after keyword \"port\"" },
		{ "IdentityAgent ${MRSH_TEST_UNSET}",
		    " line 2: Invalid environment expansion ${MRSH_TEST_UNSET}." },
		{ "IdentityAgent $A-B", " line 2: Invalid environment name $A-B." },
		/* Keywords mrsh does not implement: checked as ssh does. */
		{ "LogLevel LOUD", " line 2: unsupported log level 'LOUD'" },
		{ "SyslogFacility x", " line 2: unsupported log facility 'x'" },
		{ "ConnectionAttempts x", " line 2: integer value invalid." },
		{ "ConnectionAttempts -1", " line 2: integer value too small." },
		{ "NumberOfPasswordPrompts 3000000000",
		    " line 2: integer value too large." },
		{ "RequiredRSASize \"\"", " line 2: integer value missing." },
		{ "KeepAlive maybe", " line 2: unsupported option \"maybe\"." },
		{ "AddressFamily inet7", " line 2: unsupported option \"inet7\"." },
		{ "Compression true", " line 2: unsupported option \"true\"." },
		{ "Compression \"\"", " line 2: missing argument." },
		{ "Compression yes no",
		    " line 2: keyword compression extra arguments at end of line" },
		{ "ForwardX11Timeout 5q", " line 2: invalid time value." },
		{ "ForwardX11Timeout \"\"", " line 2: missing time value." },
		{ "HostbasedKeyTypes nosuch", " line 2: Bad key types 'nosuch'." },
		{ "ControlPersist TRUE", " line 2: Bad ControlPersist argument." },
		{ "ControlPersist \"\"",
		    " line 2: Missing ControlPersist argument." },
		{ "ControlPath \"\"", " line 2: Missing argument." },
		{ "EscapeChar xx", " line 2: Bad escape character." },
		{ "EscapeChar ^~x", " line 2: Bad escape character." },
		{ "StreamLocalBindMask 999", " line 2: Bad mask." },
		{ "StreamLocalBindMask 1000", " line 2: Bad mask." },
		{ "StreamLocalBindMask \"\"",
		    " line 2: Missing StreamLocalBindMask argument." },
		{ "TunnelDevice 1:x", " line 2: Bad tun device." },
		{ "TunnelDevice y", " line 2: Bad tun device." },
		{ "IPQoS af11 bogus", " line 2: Bad IPQoS value: bogus" },
		{ "IPQoS 256", " line 2: Bad IPQoS value: 256" },
		{ "IPQoS af11 af12 af13",
		    " line 2: keyword ipqos extra arguments at end of line" },
		{ "RekeyLimit 1X", " line 2: Bad number '1X': Invalid argument" },
		{ "RekeyLimit 1.2.3",
		    " line 2: Bad number '1.2.3': Invalid argument" },
		{ "RekeyLimit 99999999999999999999", " line 2: Bad number "
		    "'99999999999999999999': Numerical result out of range" },
		{ "RekeyLimit 8", " line 2: RekeyLimit too small" },
		{ "RekeyLimit +-5", " line 2: Bad number '+-5': Invalid "
		    "argument" },
		{ "RekeyLimit 9999999999E", " line 2: Bad number '9999999999E': "
		    "Numerical result out of range" },
		{ "PermitRemoteOpen h", " line 2: bad port number in "
		    "permitremoteopen" },
		{ "CanonicalDomains \"\"",
		    " line 2: keyword canonicaldomains empty argument" },
		{ "RekeyLimit 1G x", " line 2: invalid time value." },
		{ "RekeyLimit 1G none x",
		    " line 2: keyword rekeylimit extra arguments at end of line" },
		{ "AddKeysToAgent maybe", " line 2: unsupported option" },
		{ "AddKeysToAgent yes 5m", " line 2: unsupported option" },
		{ "AddKeysToAgent confirm x", " line 2: invalid time value." },
		{ "FingerprintHash sha3", " line 2: Invalid hash algorithm "
		    "\"sha3\"." },
		{ "ForwardAgent ${MRSH_TEST_UNSET}",
		    " line 2: Invalid environment expansion ${MRSH_TEST_UNSET}." },
		{ "LogVerbose none x", " line 2: keyword logverbose \"none\" "
		    "argument must appear alone." },
		{ "LogVerbose a \"\"", " line 2: keyword logverbose empty "
		    "argument" },
		{ "PermitRemoteOpen any x", " line 2: keyword permitremoteopen "
		    "\"any\" argument must appear alone." },
		{ "PermitRemoteOpen h:0",
		    " line 2: bad port number in permitremoteopen" },
		{ "PermitRemoteOpen [::1]22",
		    " line 2: bad port number in permitremoteopen" },
		{ "LocalForward 1", " line 2: Missing target argument." },
		{ "DynamicForward 1 2",
		    " line 2: keyword dynamicforward extra arguments at end of "
		    "line" },
	};
	struct options opt;
	char *cfg, *err, want[PATH_MAX + 256], name[512];
	size_t i;
	int ret;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cfg = put("badvalue", "Host nothing-matches-this\n  %s\n",
		    cases[i].line);
		opt_init(&opt, cfg);
		err = capture(2, load_only, &opt, NULL, &ret);
		snprintf(want, sizeof want, "mrsh: %s%s\n", cfg, cases[i].msg);
		snprintf(name, sizeof name, "'%s': refused (%d)", cases[i].line,
		    ret);
		is_str(err, ret == -1 ? want : "(load did not fail)", name);
	}
}

/* Values ssh takes that the error cases above do not run. */
static void
test_good_values(void)
{
	static const char *lines[] = {
		"Ciphers aes128-ctr,,aes256-ctr", "Ciphers aes128-ctr,",
		"Ciphers ,nosuch", "Match all \"\"", "Match host x \"\"",
		"KeepAlive no", "ConnectionAttempts 3", "LogLevel debug3",
		"AddKeysToAgent confirm 5m", "AddKeysToAgent 5m",
		"ControlPersist 10m", "EscapeChar ^A", "EscapeChar none",
		"StreamLocalBindMask 0x1", "TunnelDevice 1:any",
		"IPQoS 0x10 af11", "RekeyLimit 1.5G 1h", "RekeyLimit default",
		"RekeyLimit G", "RekeyLimit 1G-", "RekeyLimit -0",
		"RekeyLimit \" 1G\"",
		"RekeyLimit 1g none", "FingerprintHash SHA512",
		"SyslogFacility local7", "LogVerbose none", "LogVerbose a b",
		"PermitRemoteOpen h:22 [::1]:*", "RemoteForward 1",
		"LocalForward 1 h:2", "ForwardAgent $SSH_AUTH_SOCK",
		"HostName %x", "IdentityFile %Z", "UserKnownHostsFile %Z",
		"Tunnel point-to-point", "PubkeyAuthentication unbound",
	};
	struct options opt;
	char *cfg, *err, name[512];
	size_t i;
	int ret;

	for (i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		cfg = put("goodvalue", "Host nothing-matches-this\n  %s\n",
		    lines[i]);
		opt_init(&opt, cfg);
		err = capture(2, load_only, &opt, NULL, &ret);
		snprintf(name, sizeof name, "'%s': taken, as ssh takes it",
		    lines[i]);
		is_str(ret == 0 ? err : "(load failed)", "", name);
	}
}

/* sshconfig_load then resolve host, for capture(); the refusal's rc. */
static int
resolve_only(const struct options *opt, const char *host)
{
	struct ssh_host_config hc;
	int rc;

	if ((rc = resolve(opt, host, NULL, 0, &hc)) == 0)
		rc = refusal[0] != '\0' ? 1 : 0;
	ssh_host_config_free(&hc);
	return rc;
}

/*
 * Include recursion, -o lines that cannot be, -F a directory, -i a missing
 * file, HOME unset, and the values that refuse one host (too many key
 * files, ~user, ${VAR}) rather than the file.
 */
static void
test_edges(void)
{
	struct options opt;
	struct ssh_host_config hc;
	struct passwd *pw;
	char *cfg, *err, want[PATH_MAX + 256], path[PATH_MAX], *saved;
	char line[64], many[1024];
	int i, ret;

	cfg = put("loop", "Include %s/loop\n", tmpdir);
	opt_init(&opt, cfg);
	err = capture(2, load_only, &opt, NULL, &ret);
	snprintf(want, sizeof want, "mrsh: %s:1: Include nested too deeply\n",
	    cfg);
	is_str(err, want, "a file that includes itself: nested too deeply");

	put(".ssh/inc.conf", "Port 4321\n");
	cfg = put("tildeinc", "Include ~/.ssh/inc.conf\n");
	opt_init(&opt, cfg);
	resolve(&opt, "h", NULL, 0, &hc);
	is_int(hc.port, 4321, "Include ~/FILE in a user file");
	ssh_host_config_free(&hc);

	opt_init(&opt, "none");
	opt.ssh_opts[opt.nssh_opts++] = "Host x";
	err = capture(2, load_only, &opt, NULL, &ret);
	is_str(err, "mrsh: command-line:1: Host is not supported with -o\n",
	    "-o 'Host x' refused");
	opt.ssh_opts[0] = "Match all";
	err = capture(2, load_only, &opt, NULL, &ret);
	is_str(err, "mrsh: command-line:1: Match is not supported with -o\n",
	    "-o 'Match all' refused");
	opt.ssh_opts[0] = "Include x";
	err = capture(2, load_only, &opt, NULL, &ret);
	is_str(err, "mrsh: command-line:1: Include is not supported with -o\n",
	    "-o 'Include x' refused");
	opt.ssh_opts[0] = "Port";
	err = capture(2, load_only, &opt, NULL, &ret);
	is_str(err, "mrsh: command-line line 0: no argument after keyword "
	    "\"port\"\n", "-o Port: no argument, in ssh's words");
	opt.ssh_opts[0] = "Bogus=1";
	err = capture(2, load_only, &opt, NULL, &ret);
	is_str(err, "mrsh: command-line: line 0: Bad configuration option: "
	    "bogus\n", "-o Bogus=1: unknown keyword, in ssh's words");

	opt_init(&opt, tmpdir);
	err = capture(2, load_only, &opt, NULL, &ret);
	snprintf(want, sizeof want, "mrsh: %s: is a directory, not an "
	    "ssh_config file\n", tmpdir);
	is_str(err, want, "-F a directory: refused");

	opt_init(&opt, "none");
	snprintf(path, sizeof path, "%s/no-such-key", tmpdir);
	opt.identity[opt.nidentity++] = path;
	err = capture(2, load_only, &opt, NULL, &ret);
	snprintf(want, sizeof want, "mrsh: Warning: Identity file %s not "
	    "accessible: No such file or directory.\n", path);
	is_str(err, want, "-i a missing file: ssh's warning");

	/* Without HOME, ~ is the password file's home directory. */
	saved = xstrdup(getenv("HOME"));
	unsetenv("HOME");
	pw = getpwuid(getuid());
	opt_init(&opt, "none");
	resolve(&opt, "h", NULL, 0, &hc);
	snprintf(want, sizeof want, "%s/.ssh/known_hosts",
	    pw != NULL ? pw->pw_dir : "/");
	is_str(hc.user_known_hosts[0], want, "HOME unset: ~ from passwd");
	ssh_host_config_free(&hc);
	setenv("HOME", saved, 1);
	free(saved);

	/* ~user in a file name; an unknown user refuses the host (ssh). */
	cfg = put("tildeuser", "IdentityFile ~root/k\n");
	opt_init(&opt, cfg);
	resolve(&opt, "h", NULL, 0, &hc);
	pw = getpwnam("root");
	snprintf(want, sizeof want, "%s/k", pw != NULL ? pw->pw_dir : "?");
	is_str(hc.identity[0], want, "IdentityFile ~root/k");
	ssh_host_config_free(&hc);
	cfg = put("tildenouser", "IdentityFile ~mrsh-no-such-user/k\n");
	opt_init(&opt, cfg);
	is_int(resolve_only(&opt, "h"), 1, "IdentityFile ~nouser/k: refused");
	is_str(refusal, "IdentityFile ~mrsh-no-such-user/k: no such user; "
	    "not connecting", "  because there is no such user");

	unsetenv("MRSH_TEST_UNSET");
	cfg = put("unsetvar", "UserKnownHostsFile /k/${MRSH_TEST_UNSET}\n");
	opt_init(&opt, cfg);
	is_int(resolve_only(&opt, "h"), 1, "${UNSET} in a file: refused");
	is_str(refusal, "UserKnownHostsFile /k/${MRSH_TEST_UNSET}: an "
	    "environment variable it names is not set or has no closing '}'; "
	    "not connecting", "  naming the keyword and the value");
	cfg = put("badtoken", "Host *\n  HostName %%x.test\n");
	opt_init(&opt, cfg);
	is_int(resolve_only(&opt, "h"), 1, "HostName %x: refused");
	snprintf(want, sizeof want, "%s:2: HostName %%x.test: unknown %% "
	    "token; not connecting", cfg);
	is_str(refusal, want, "  naming file:line");

	/* 17 IdentityFile lines or known hosts files: the host refused. */
	many[0] = '\0';
	for (i = 1; i <= SSHCFG_MAX_FILES + 1; i++) {
		snprintf(line, sizeof line, "IdentityFile /id%d\n", i);
		strcat(many, line);
	}
	cfg = put("many", "%s", many);
	opt_init(&opt, cfg);
	is_int(resolve_only(&opt, "h"), 1, "17 IdentityFile lines: refused");
	is_str(refusal, "more than 16 IdentityFile files (/id17 is one too "
	    "many); not connecting", "  saying how many mrsh takes");
	cfg = put("manykh", "UserKnownHostsFile /1 /2 /3 /4 /5 /6 /7 /8 /9 "
	    "/10 /11 /12 /13 /14 /15 /16 /17\n");
	opt_init(&opt, cfg);
	is_int(resolve_only(&opt, "h"), 1, "17 known hosts files: refused");
	snprintf(want, sizeof want, "%s:1: more than 16 UserKnownHostsFile "
	    "files; not connecting", cfg);
	is_str(refusal, want, "  naming file:line");

	cfg = put("certnone", "CertificateFile none\nCertificateFile /c1\n");
	opt_init(&opt, cfg);
	resolve(&opt, "h", NULL, 0, &hc);
	ok(hc.ncertificate == 1 && strcmp(hc.certificate[0], "/c1") == 0,
	    "CertificateFile none is no file");
	ssh_host_config_free(&hc);

	/* KnownHostsCommand as ssh splits it when it runs it: an error, */
	/* and no command (t0200 runs the good ones). */
	cfg = put("khcmd", "KnownHostsCommand /bin/x #\"\n");
	opt_init(&opt, cfg);
	err = capture(2, resolve_only, &opt, "h", &ret);
	is_str(err, "mrsh: KnownHostsCommand \"/bin/x #\"\" contains invalid "
	    "quotes\n", "KnownHostsCommand with a lone quote: ssh's error");
	cfg = put("khcmd", "KnownHostsCommand bin/x\n");
	opt_init(&opt, cfg);
	err = capture(2, resolve_only, &opt, "h", &ret);
	is_str(err, "mrsh: KnownHostsCommand path is not absolute: bin/x\n",
	    "KnownHostsCommand not absolute: refused, as ssh");

	/* Values that reach the resolver. */
	cfg = put("values",
	    "Host *\n"
	    "  User a\\\"b\\\\c\\ d\n"
	    "  ServerAliveInterval 1d\n"
	    "  RequestTTY force\n"
	    "  CanonicalizeHostname always\n"
	    "  PubkeyAcceptedKeyTypes ssh-ed25519\n"
	    "  KeepAlive no\n");
	opt_init(&opt, cfg);
	resolve(&opt, "h", NULL, 0, &hc);
	is_str(hc.user, "a\"b\\c d", "backslash escapes a quote, a backslash "
	    "and a space");
	is_int(hc.server_alive_interval, 86400, "ServerAliveInterval 1d");
	is_int(hc.request_tty, REQUEST_TTY_FORCE, "RequestTTY force");
	is_str(hc.algs[ALGS_PUBKEY], "ssh-ed25519",
	    "PubkeyAcceptedKeyTypes sets PubkeyAcceptedAlgorithms");
	ssh_host_config_free(&hc);
	cfg = put("values2", "RequestTTY auto\n");
	opt_init(&opt, cfg);
	resolve(&opt, "h", NULL, 0, &hc);
	is_int(hc.request_tty, REQUEST_TTY_AUTO, "RequestTTY auto");
	ssh_host_config_free(&hc);

	/* Match exec without SHELL: /bin/sh, as ssh. */
	saved = getenv("SHELL") != NULL ? xstrdup(getenv("SHELL")) : NULL;
	unsetenv("SHELL");
	cfg = put("noshell", "Match exec \"exit 0\"\n  Port 2345\n");
	opt_init(&opt, cfg);
	resolve(&opt, "h", NULL, 0, &hc);
	is_int(hc.port, 2345, "Match exec runs with /bin/sh when SHELL unset");
	ssh_host_config_free(&hc);
	if (saved != NULL)
		setenv("SHELL", saved, 1);
	free(saved);

	/* -G with a target that names no host. */
	opt_init(&opt, "none");
	err = capture(2, sshconfig_dump_host, &opt, "[::1]x", &ret);
	is_str(err, "mrsh: bad host for -G: [::1]x\n", "-G '[::1]x' refused");
	err = capture(2, sshconfig_dump_host, &opt, ":22", &ret);
	is_int(ret, EXIT_USAGE, "-G ':22' refused");
	err = capture(2, sshconfig_dump_host, &opt, "user@", &ret);
	is_str(err, "mrsh: bad host for -G: user@\n", "-G 'user@' refused");
}

/* Resolve two hosts with one loaded config, for capture(). */
static void
test_proxy(void)
{
	struct options opt;
	struct ssh_host_config hc;
	char *cfg;

	cfg = put("proxy",
	    "Host direct*\n"
	    "  ProxyJump none\n"
	    "Host jumped*\n"
	    "  ProxyJump bastion\n"
	    "  ProxyCommand ssh -W %%h:%%p bastion\n"
	    "Host cmd*\n"
	    "  ProxyCommand  nc  \"%%h\" %%p  \n"
	    "Host off*\n"
	    "  ProxyCommand none\n"
	    "Host *\n"
	    "  ProxyCommand wild %%h\n"
	    "  ProxyJump wildjump\n");
	opt_init(&opt, cfg);
	/* As ssh -G: ProxyJump none does not stop a later ProxyCommand. */
	ok(resolve(&opt, "direct1", NULL, 0, &hc) == 0 &&
	    hc.proxy_jump == NULL && hc.proxy_command != NULL &&
	    strcmp(hc.proxy_command, "wild %h") == 0,
	    "ProxyJump none: a later ProxyCommand still applies");
	ssh_host_config_free(&hc);
	ok(resolve(&opt, "jumped1", NULL, 0, &hc) == 0 &&
	    hc.proxy_jump != NULL && strcmp(hc.proxy_jump, "bastion") == 0 &&
	    hc.proxy_command == NULL,
	    "ProxyJump first: the later ProxyCommand is ignored");
	ssh_host_config_free(&hc);
	ok(resolve(&opt, "cmd1", NULL, 0, &hc) == 0 &&
	    hc.proxy_command != NULL &&
	    strcmp(hc.proxy_command, "nc  \"%h\" %p") == 0 &&
	    hc.proxy_jump == NULL,
	    "ProxyCommand kept as written (quotes, inner spaces)");
	ssh_host_config_free(&hc);
	ok(resolve(&opt, "off1", NULL, 0, &hc) == 0 &&
	    hc.proxy_command == NULL && hc.proxy_jump == NULL,
	    "ProxyCommand none: neither a later ProxyCommand nor ProxyJump");
	ssh_host_config_free(&hc);
	opt.jump = "j1,j2";
	ok(resolve(&opt, "cmd1", NULL, 0, &hc) == 0 &&
	    hc.proxy_jump != NULL && strcmp(hc.proxy_jump, "j1,j2") == 0 &&
	    hc.proxy_command == NULL, "-J wins over the files");
	ssh_host_config_free(&hc);
}

/*
 * Canonicalization without a resolver: the names sshconfig_canon_next()
 * asks for, in order, and what the answers (found or not, a CNAME) make
 * of the host, as ssh's resolve_canonicalize()/check_follow_cname().
 */
struct canon_answer {
	const char	*name;		/* expected question */
	int		 found;
	const char	*cname;
};

static int
canon_run(const char *cfgfile, const char *host,
    const struct canon_answer *ans, int nans, struct ssh_host_config *hc,
    char *asked, size_t askedlen)
{
	struct options opt;
	struct sshconfig *cfg;
	struct sshconfig_host *h;
	struct addrinfo ai;
	struct sockaddr_in sin;
	const char *q;
	int i = 0, rc;

	opt_init(&opt, cfgfile);
	memset(hc, 0, sizeof *hc);
	asked[0] = '\0';
	if ((cfg = sshconfig_load(&opt)) == NULL)
		return -2;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(0x7f000105);
	memset(&ai, 0, sizeof ai);
	ai.ai_family = AF_INET;
	ai.ai_addr = (struct sockaddr *)&sin;
	ai.ai_addrlen = sizeof sin;
	h = sshconfig_begin(cfg, &opt, host, NULL, 0);
	while ((q = sshconfig_canon_next(h)) != NULL) {
		strncat(asked, q, askedlen - strlen(asked) - 2);
		strcat(asked, " ");
		if (i < nans && strcmp(ans[i].name, q) == 0) {
			sshconfig_canon_answer(h, ans[i].found ? &ai : NULL,
			    ans[i].cname);
		} else
			sshconfig_canon_answer(h, NULL, NULL);
		i++;
	}
	rc = sshconfig_end(h, hc, refusal, sizeof refusal);
	sshconfig_host_free(h);
	sshconfig_free(cfg);
	return rc;
}

static void
test_canon(void)
{
	struct options opt;
	struct ssh_host_config hc;
	char asked[1024], *cfg, *err;
	int rc;
	const struct canon_answer second[] = {
		{ "web.a.test.", 0, NULL },
		{ "web.b.test.", 1, NULL }
	};
	const struct canon_answer chain[] = {
		{ "web.a.test.", 1, "mid.b.test" },
		{ "mid.b.test.", 1, "end.cdn.test." },
		{ "end.cdn.test.", 1, NULL }
	};
	const struct canon_answer other[] = {
		{ "web.a.test.", 1, "web.elsewhere.test" },
		{ "web.elsewhere.test.", 1, NULL }
	};
	const struct canon_answer longchain[] = {
		{ "web.a.test.", 1, "c1.cdn.test" },
		{ "c1.cdn.test.", 1, "c2.cdn.test" },
		{ "c2.cdn.test.", 1, "c3.cdn.test" },
		{ "c3.cdn.test.", 1, "c4.cdn.test" },
		{ "c4.cdn.test.", 1, "c5.cdn.test" },
		{ "c5.cdn.test.", 1, "c6.cdn.test" },
		{ "c6.cdn.test.", 1, "c7.cdn.test" },
		{ "c7.cdn.test.", 1, "c8.cdn.test" },
		{ "c8.cdn.test.", 1, "c9.cdn.test" },
		{ "c9.cdn.test.", 1, "c10.cdn.test" },
		{ "c10.cdn.test.", 1, NULL }
	};
	const struct canon_answer gone[] = {
		{ "web.a.test.", 1, "mid.b.test" },
		{ "mid.b.test.", 0, NULL }
	};

	cfg = put("canon",
	    "CanonicalizeHostname yes\n"
	    "CanonicalDomains A.test b.test\n"
	    "CanonicalizePermittedCNAMEs *.a.test:*.cdn.test\n"
	    "Match canonical host *.cdn.test\n"
	    "  Port 2301\n"
	    "Host web.b.test\n"
	    "  User second\n");
	rc = canon_run(cfg, "WEB", second, 2, &hc, asked, sizeof asked);
	is_int(rc, 0, "canonical: found under the second domain");
	is_str(asked, "web.a.test. web.b.test. ", "each domain in order, "
	    "absolute, lower case");
	is_str(hc.hostname, "web.b.test", "the name found");
	is_str(hc.user, "second", "second pass: Host lines see it");
	is_int(hc.naddrs, 1, "the addresses found are kept to connect to");
	ssh_host_config_free(&hc);

	rc = canon_run(cfg, "web", chain, 3, &hc, asked, sizeof asked);
	is_int(rc, 0, "canonical: a CNAME chain");
	is_str(asked, "web.a.test. mid.b.test. end.cdn.test. ",
	    "each link asked until one has no CNAME");
	is_str(hc.hostname, "end.cdn.test", "the end of the chain, permitted");
	is_int(hc.port, 2301, "Match canonical host sees it");
	ssh_host_config_free(&hc);

	rc = canon_run(cfg, "web", longchain, 11, &hc, asked, sizeof asked);
	is_int(rc, -1, "a CNAME chain of more than 8 links: refused");
	is_str(refusal, "canonicalizing web.a.test: CNAME chain longer than "
	    "8; not connecting", "  saying so");
	ssh_host_config_free(&hc);

	rc = canon_run(cfg, "web", gone, 2, &hc, asked, sizeof asked);
	is_int(rc, -1, "a CNAME link that no longer resolves: refused");
	is_str(refusal, "canonicalizing web.a.test: the CNAME mid.b.test did "
	    "not resolve again; not connecting", "  naming it");
	ssh_host_config_free(&hc);

	rc = canon_run(cfg, "web", other, 2, &hc, asked, sizeof asked);
	is_str(hc.hostname, "web.a.test", "a CNAME no rule permits: not "
	    "followed");
	ssh_host_config_free(&hc);

	rc = canon_run(cfg, "a.b.c", NULL, 0, &hc, asked, sizeof asked);
	is_str(asked, "", "past CanonicalizeMaxDots: nothing asked");
	is_int(rc, -1, "... and with PermittedCNAMEs refused");
	ok(strstr(refusal, "/canon:3: CanonicalizePermittedCNAMEs for a.b.c,")
	    != NULL, "the refusal names file:line and keyword");
	ssh_host_config_free(&hc);

	rc = canon_run(cfg, "127.1", NULL, 0, &hc, asked, sizeof asked);
	is_str(asked, "", "an address: nothing asked");
	is_str(hc.hostname, "127.0.0.1", "an address in its numeric form");
	ssh_host_config_free(&hc);

	cfg = put("canon-nofallback",
	    "CanonicalizeHostname yes\n"
	    "CanonicalDomains a.test\n"
	    "CanonicalizeFallbackLocal no\n");
	rc = canon_run(cfg, "web", NULL, 0, &hc, asked, sizeof asked);
	is_int(rc, -1, "CanonicalizeFallbackLocal no, not found: refused");
	is_str(refusal, "Could not resolve host \"web\" "
	    "(CanonicalizeFallbackLocal no)", "in ssh's words");
	ssh_host_config_free(&hc);

	cfg = put("canon-proxy",
	    "CanonicalizeHostname yes\n"
	    "CanonicalDomains a.test\n"
	    "ProxyCommand nc %%h %%p\n");
	rc = canon_run(cfg, "web", NULL, 0, &hc, asked, sizeof asked);
	is_str(asked, "", "yes + ProxyCommand: not canonicalized");
	is_int(rc, 0, "... and connected through the proxy");
	ssh_host_config_free(&hc);

	cfg = put("canon-bad", "CanonicalDomains a..test\n");
	opt_init(&opt, cfg);
	err = capture(2, load_only, &opt, NULL, &rc);
	is_int(rc, -1, "CanonicalDomains a..test: an error, as ssh");
	ok(strstr(err, "canon-bad line 1: domain name \"a..test\" contains "
	    "consecutive separators") != NULL, "in ssh's words");
}

static void
test_dump(void)
{
	struct options opt;
	char *cfg, *out, want[PATH_MAX * 2];
	int ret;

	cfg = put("dump",
	    "Host foo\n"
	    "  HostName %%h.example.com\n"
	    "  User bob\n"
	    "  Port 2222\n"
	    "  IdentityFile ~/.ssh/k_%%h\n"
	    "  ConnectTimeout 1m\n"
	    "  StrictHostKeyChecking ask\n"
	    "  UserKnownHostsFile ~/kh\n");
	opt_init(&opt, cfg);
	out = capture(1, sshconfig_dump_host, &opt, "alice@foo:2022", &ret);
	is_int(ret, 0, "-G returns 0");
	snprintf(want, sizeof want,
	    "hostname foo.example.com\n"
	    "user alice\n"
	    "port 2022\n"
	    "identityfile ~/.ssh/k_%%h\n"
	    "identitiesonly no\n"
	    "connecttimeout 60\n"
	    "stricthostkeychecking true\n"
	    "userknownhostsfile %s/kh\n"
	    "globalknownhostsfile /etc/ssh/ssh_known_hosts "
	    "/etc/ssh/ssh_known_hosts2\n"
	    "serveraliveinterval 0\n"
	    "serveralivecountmax 3\n"
	    "batchmode no\n"
	    "passwordauthentication yes\n"
	    "kexalgorithms sntrup761x25519-sha512,"
	    "sntrup761x25519-sha512@openssh.com,curve25519-sha256,"
	    "curve25519-sha256@libssh.org,ecdh-sha2-nistp256,"
	    "ecdh-sha2-nistp384,ecdh-sha2-nistp521,"
	    "diffie-hellman-group-exchange-sha256,"
	    "diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,"
	    "diffie-hellman-group14-sha256\n"
	    "hostkeyalgorithms ssh-ed25519-cert-v01@openssh.com,"
	    "ecdsa-sha2-nistp256-cert-v01@openssh.com,"
	    "ecdsa-sha2-nistp384-cert-v01@openssh.com,"
	    "ecdsa-sha2-nistp521-cert-v01@openssh.com,"
	    "sk-ssh-ed25519-cert-v01@openssh.com,"
	    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,"
	    "rsa-sha2-512-cert-v01@openssh.com,"
	    "rsa-sha2-256-cert-v01@openssh.com,ssh-ed25519,"
	    "ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,"
	    "sk-ssh-ed25519@openssh.com,"
	    "sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,"
	    "rsa-sha2-256\n"
	    "ciphers chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,"
	    "aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com\n"
	    "macs umac-64-etm@openssh.com,umac-128-etm@openssh.com,"
	    "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,"
	    "hmac-sha1-etm@openssh.com,umac-64@openssh.com,"
	    "umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1\n"
	    "pubkeyacceptedalgorithms ssh-ed25519-cert-v01@openssh.com,"
	    "ecdsa-sha2-nistp256-cert-v01@openssh.com,"
	    "ecdsa-sha2-nistp384-cert-v01@openssh.com,"
	    "ecdsa-sha2-nistp521-cert-v01@openssh.com,"
	    "sk-ssh-ed25519-cert-v01@openssh.com,"
	    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,"
	    "rsa-sha2-512-cert-v01@openssh.com,"
	    "rsa-sha2-256-cert-v01@openssh.com,ssh-ed25519,"
	    "ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,"
	    "sk-ssh-ed25519@openssh.com,"
	    "sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,"
	    "rsa-sha2-256\n"
	    "requesttty auto\n"
	    "kbdinteractiveauthentication yes\n"
	    "hashknownhosts no\n"
	    "checkhostip no\n"
	    "canonicalizehostname false\n"
	    "canonicalizefallbacklocal yes\n"
	    "canonicalizemaxdots 1\n"
	    "canonicaldomains none\n"
	    "canonicalizePermittedcnames none\n", home);
	is_str(out, want, "-G user@host:port output");

	opt_init(&opt, "none");
	opt.ssh_opts[opt.nssh_opts++] = "StrictHostKeyChecking=off";
	opt.ssh_opts[opt.nssh_opts++] = "IdentityAgent=none";
	out = capture(1, sshconfig_dump_host, &opt, "[::1]:23", &ret);
	ok(strstr(out, "hostname ::1\nuser ") != NULL &&
	    strstr(out, "\nport 23\n") != NULL, "-G [v6]:port");
	ok(strstr(out, "\nstricthostkeychecking false\n") != NULL,
	    "StrictHostKeyChecking off prints false");
	ok(strstr(out, "\nidentityagent none\n") != NULL,
	    "IdentityAgent none printed");
	ok(strstr(out, "\nidentityfile ~/.ssh/id_rsa\n") != NULL,
	    "default identity printed as ssh does");

	out = capture(1, sshconfig_dump_host, &opt, "host:notaport", &ret);
	is_int(ret, EXIT_USAGE, "-G with a bad port fails");
}

int
main(void)
{
	struct passwd *pw;
	char path[PATH_MAX];

	log_init("mrsh", 0);
	snprintf(tmpdir, sizeof tmpdir, "%s/mrsh-sshcfg.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	atexit(cleanup);
	snprintf(home, sizeof home, "%s/home", tmpdir);
	mkdir(home, 0700);
	snprintf(path, sizeof path, "%s/.ssh", home);
	mkdir(path, 0700);
	setenv("HOME", home, 1);
	pw = getpwuid(getuid());
	snprintf(localuser, sizeof localuser, "%s",
	    pw != NULL ? pw->pw_name : getenv("USER"));
	/* put() names are relative to tmpdir: .ssh/config lands in HOME */
	snprintf(path, sizeof path, "%s/.ssh", tmpdir);
	if (symlink("home/.ssh", path) != 0) {
		perror("symlink");
		return 99;
	}

	test_host_patterns();
	test_first_wins();
	test_defaults();
	test_identity();
	test_include();
	test_cmdline();
	test_match();
	test_canon();
	test_errors();
	test_bad_values();
	test_good_values();
	test_edges();
	test_proxy();
	test_dump();
	return done_testing();
}
