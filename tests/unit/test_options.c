/*
 * Unit tests for option parsing: defaults, values, the command after the
 * first non-option, rsh implying reserved ports, port ranges; usage errors
 * exit 2 (checked in a child process).
 */
#include "config.h"

#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mrsh/options.h"
#include "tap.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])) - 1)

static void
parse(struct options *o, int argc, char **argv)
{
	optind = 0;
	options_parse(o, argc, argv);
}

/* Exit status of options_parse on argv, run in a child. */
static int
parse_status(int argc, char **argv)
{
	struct options o;
	pid_t pid;
	int st;

	fflush(stdout);
	if ((pid = fork()) == 0) {
		if (freopen("/dev/null", "w", stderr) == NULL ||
		    freopen("/dev/null", "w", stdout) == NULL)
			_exit(99);
		parse(&o, argc, argv);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* mrsh.conf, FANOUT and WCOLL, each below what comes after it. */
static void
test_conf(void)
{
	struct options o;
	char dir[] = "/tmp/test_options.XXXXXX", conf[64], hosts[64];
	char *c1[] = { "mrsh", "-w", "h", "true", NULL };
	char *c2[] = { "mrsh", "-j", "7", "--output", "lines", "-w", "h",
	    "true", NULL };
	char *c3[] = { "mrsh", "true", NULL };
	char *c4[] = { "mrsh", "-x", "w2", "true", NULL };

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(conf, sizeof conf, "%s/mrsh.conf", dir);
	snprintf(hosts, sizeof hosts, "%s/hosts", dir);
	write_file(conf, "# defaults\nfanout = 5\nclose local\n"
	    "connect_timeout=2.5 # seconds\noutput = gather\n\n"
	    "ports = 40000-40009\nno-label\n");
	setenv("MRSH_CONF", conf, 1);
	parse(&o, ARGC(c1), c1);
	is_int(o.fanout, 5, "mrsh.conf: fanout");
	is_int(o.close_mode, CLOSE_LOCAL, "mrsh.conf: close (no '=')");
	ok(o.connect_timeout == 2.5, "mrsh.conf: connect_timeout, comment");
	ok(o.gather && !o.json, "mrsh.conf: output = gather");
	is_int(o.ports_lo, 40000, "mrsh.conf: ports");
	ok(o.nolabel, "mrsh.conf: a key without a value");
	options_free(&o);

	setenv("FANOUT", "6", 1);
	parse(&o, ARGC(c1), c1);
	is_int(o.fanout, 6, "FANOUT wins over mrsh.conf");
	options_free(&o);
	parse(&o, ARGC(c2), c2);
	is_int(o.fanout, 7, "-j wins over FANOUT");
	ok(!o.gather, "--output lines wins over mrsh.conf");
	options_free(&o);
	unsetenv("FANOUT");

	write_file(hosts, "w1\nw2\n");
	setenv("WCOLL", hosts, 1);
	parse(&o, ARGC(c3), c3);
	is_int(o.hosts.n, 2, "WCOLL: the host file when none is given");
	options_free(&o);
	parse(&o, ARGC(c4), c4);
	ok(o.hosts.n == 1 && strcmp(o.hosts.hosts[0].name, "w1") == 0,
	    "WCOLL with -x");
	options_free(&o);
	parse(&o, ARGC(c1), c1);
	ok(o.hosts.n == 1 && strcmp(o.hosts.hosts[0].name, "h") == 0,
	    "WCOLL is ignored when -w is given");
	options_free(&o);
	unsetenv("WCOLL");

	write_file(conf, "fanout = 5\nhosts = x\n");
	is_int(parse_status(ARGC(c1), c1), 2, "mrsh.conf: unknown key: exit 2");
	write_file(conf, "fanout = many\n");
	is_int(parse_status(ARGC(c1), c1), 2, "mrsh.conf: bad value: exit 2");
	setenv("MRSH_CONF", "", 1);
	unlink(conf);
	unlink(hosts);
	rmdir(dir);
}

int
main(void)
{
	struct options o;
	char err[256];
	int lo, hi;
	char *a1[] = { "mrsh", "-w", "h[1-3]", "uptime", NULL };
	char *a2[] = { "mrsh", "-j", "8", "-t", "2.5", "-u", "7", "-b",
	    "--close", "local", "--close-wait", "0.5", "-w", "h", "ls", "-l",
	    "x", NULL };
	char *a3[] = { "mrsh", "-R", "rsh", "-w", "h", "true", NULL };
	char *a4[] = { "mrsh", "--ports", "40000-40015", "-w", "h", "--",
	    "echo", "-w", NULL };
	char *b1[] = { "mrsh", "-j", "0", "-w", "h", "true", NULL };
	char *b2[] = { "mrsh", "--close", "sideways", "-w", "h", "true",
	    NULL };
	char *b3[] = { "mrsh", "-w", "h", NULL };
	char *b4[] = { "mrsh", "--ports", "9-2", "-w", "h", "true", NULL };
	char *b5[] = { "mrsh", "-w", "n[3-1]", "true", NULL };
	char *b6[] = { "mrsh", "-u", "nan", "-w", "h", "true", NULL };
	char *b7[] = { "mrsh", "--close-wait", "NAN", "-w", "h", "true",
	    NULL };

	setenv("MRSH_CONF", "", 1);	/* never this machine's */
	unsetenv("FANOUT");
	unsetenv("WCOLL");
	parse(&o, ARGC(a1), a1);
	is_int(o.hosts.n, 3, "three hosts");
	is_str(o.transport, "ssh", "ssh is the default transport");
	is_int(o.fanout, 64, "default fanout 64");
	ok(o.connect_timeout == 10.0, "default connect timeout 10 s");
	ok(o.command_timeout == 0, "no command timeout by default");
	ok(o.close_wait == 3.0, "default close-wait 3 s");
	is_int(o.close_mode, CLOSE_REMOTE, "default close mode remote");
	is_int(o.ports_mode, PORTS_EPHEMERAL, "default ports ephemeral");
	is_str(o.cmdline, "uptime", "command");
	options_free(&o);

	parse(&o, ARGC(a2), a2);
	is_int(o.fanout, 8, "-j");
	ok(o.connect_timeout == 2.5, "-t with a fraction");
	ok(o.command_timeout == 7.0, "-u");
	is_int(o.gather, 1, "-b");
	is_int(o.close_mode, CLOSE_LOCAL, "--close local");
	ok(o.close_wait == 0.5, "--close-wait");
	is_str(o.cmdline, "ls -l x", "options stop at the command");
	is_int(o.cmd_argc, 3, "command argv kept");
	options_free(&o);

	parse(&o, ARGC(a3), a3);
	is_int(o.ports_mode, PORTS_RANGE, "-R rsh implies a port range");
	is_int(o.ports_lo, 512, "reserved range starts at 512");
	is_int(o.ports_hi, 1023, "reserved range ends at 1023");
	options_free(&o);

	parse(&o, ARGC(a4), a4);
	is_int(o.ports_lo, 40000, "--ports LO");
	is_int(o.ports_hi, 40015, "--ports HI");
	is_str(o.cmdline, "echo -w", "-- then options-looking command args");
	options_free(&o);

	is_int(options_parse_range("1-65535", &lo, &hi, err, sizeof err), 0,
	    "full range parses");
	ok(options_parse_range("0-10", &lo, &hi, err, sizeof err) == -1,
	    "port 0 refused");
	ok(options_parse_range("abc", &lo, &hi, err, sizeof err) == -1 &&
	    strstr(err, "abc") != NULL, "garbage refused, named");

	is_int(parse_status(ARGC(b1), b1), 2, "-j 0: exit 2");
	is_int(parse_status(ARGC(b2), b2), 2, "bad --close: exit 2");
	is_int(parse_status(ARGC(b3), b3), 2, "no command: exit 2");
	is_int(parse_status(ARGC(b4), b4), 2, "reversed --ports: exit 2");
	is_int(parse_status(ARGC(b5), b5), 2, "reversed range: exit 2");
	is_int(parse_status(ARGC(b6), b6), 2, "-u nan: exit 2");
	is_int(parse_status(ARGC(b7), b7), 2, "--close-wait NAN: exit 2");
	test_conf();
	return done_testing();
}
