/*
 * Unit tests for ProxyJump / -J specs (src/jump.c). The expected values
 * are what OpenSSH 9.2's ssh -G -J SPEC prints (or "Invalid -J argument"),
 * taken from the real ssh; t0901 compares the same specs with the ssh
 * installed here. Also the ssh -W command mrsh runs for a hop ssh itself
 * would reach through a ProxyCommand (quoted for the shell, % doubled for
 * the token expansion that follows), and the hop a target is reached from.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrsh/jump.h"
#include "tap.h"

/* A spec and what ssh -G prints for it; NULL: ssh says it is invalid. */
static const struct {
	const char	*spec;
	const char	*print;
} prints[] = {
	{ "bastion", "bastion" },
	{ "u@h:2222", "u@h:2222" },
	{ "10.77.1.2", "[10.77.1.2]" },		/* numeric: bracketed */
	{ "u@10.0.0.1:22", "u@[10.0.0.1]:22" },
	{ "1234", "[1234]" },
	{ "[::1]", "[::1]" },
	{ "[::1]:22", "[::1]:22" },
	{ "u@[::1]:7", "u@[::1]:7" },
	{ "[::1]:", "[::1]" },
	{ "[h]:5", "h:5" },
	{ "[a]", "a" },
	{ "h:", "h" },				/* an empty port: none */
	{ "u@h:", "u@h" },
	{ "h:65535", "h:65535" },
	{ "h:ssh", "h:22" },			/* a service name */
	{ "u@@h", "u@@h" },			/* the last @ splits */
	{ "a@b@c:5", "a@b@c:5" },
	{ "a b", "a" },				/* ssh 9.2's rtrim() */
	{ "h#comment", "h" },
	{ "a,b@c:7,[::2]:9", "a,b@c:7,[::2]:9" },
	{ "x,10.0.0.1", "x,[10.0.0.1]" },
	{ "ssh://h", "h" },
	{ "ssh://h/", "h" },
	{ "ssh://h:22/", "h:22" },
	{ "ssh://h:", "h" },
	{ "ssh://u@h", "u@h" },
	{ "ssh://u;fingerprint=x@h", "u@h" },	/* parameters ignored */
	{ "ssh://u%41@h", "uA@h" },		/* the user is url-decoded */
	{ "ssh://u+v@h", "u v@h" },
	{ "ssh://h.", "h" },			/* trailing dot dropped */
	{ "ssh://a_b", "a_b" },
	{ "ssh://10.0.0.1", "[10.0.0.1]" },
	{ "ssh://u@b1:2222,ssh://u2@b2:23/", "ssh://u@b1:2222,u2@b2:23" },
	{ "@h", NULL },				/* empty user */
	{ "u@", NULL },				/* empty host */
	{ ":22", NULL },
	{ "::1", NULL },			/* bare IPv6: host "" */
	{ "u@::1", NULL },
	{ "fe80::1", NULL },
	{ "a:b:c", NULL },
	{ "[::1]x", NULL },
	{ "[::1", NULL },
	{ "h/22", NULL },			/* '/' outside a URI */
	{ "u@h/22", NULL },
	{ "h:0", NULL },
	{ "h:65536", NULL },
	{ "h:1x", NULL },
	{ "h:nosuchservice", NULL },
	{ "a,,b", NULL },			/* an empty hop */
	{ "a,", NULL },
	{ "@,b", NULL },			/* a bad earlier hop */
	{ "ssh://", NULL },
	{ "ssh://h/x", NULL },			/* a path */
	{ "ssh://h:22/x", NULL },
	{ "ssh://h:0", NULL },
	{ "ssh://@h", NULL },
	{ "ssh://u%4@h", NULL },		/* a bad escape */
	{ "ssh://h%41", NULL },			/* the host is not decoded */
	{ "ssh://-h", NULL },			/* not a domain name */
	{ "ssh://a..b", NULL },
	{ "ssh://u@v@h", NULL },		/* the first @ splits */
	{ "ssh://[::1]", NULL },
	{ "ssh://[fe80::1]:22", NULL },
	{ "-oFoo", "-oFoo" },			/* -J refuses it, a file not */
};

static void
test_print(void)
{
	char	 err[256], name[128], *p;
	struct jump_hop *hops;
	size_t	 i;
	int	 n;

	for (i = 0; i < sizeof prints / sizeof prints[0]; i++) {
		err[0] = '\0';
		n = jump_spec_parse(prints[i].spec, &hops, err, sizeof err);
		jump_hops_free(hops, n > 0 ? n : 0);
		p = jump_spec_print(prints[i].spec);
		snprintf(name, sizeof name, "\"%s\": %s", prints[i].spec,
		    prints[i].print != NULL ? prints[i].print : "invalid");
		if (prints[i].print != NULL) {
			ok(n > 0, name);
			is_str(p, prints[i].print, name);
		} else {
			ok(n == -1 && strncmp(err, "bad jump host \"", 15) == 0,
			    name);
			/* A bad earlier hop still lets the last one print. */
			if (strchr(prints[i].spec, ',') == NULL)
				ok(p == NULL, "... and prints nothing");
		}
		free(p);
	}
}

static void
test_parse(void)
{
	struct jump_hop	*hops;
	char		 err[256];
	int		 n;

	n = jump_spec_parse("ssh://al%69ce@b1:2222,bob@[::1]:23,c", &hops,
	    err, sizeof err);
	is_int(n, 3, "a chain of three hops");
	if (n == 3) {
		is_str(hops[0].user, "alice", "hop 1: user, decoded");
		is_str(hops[0].host, "b1", "hop 1: host");
		is_int(hops[0].port, 2222, "hop 1: port");
		is_str(hops[1].user, "bob", "hop 2: user");
		is_str(hops[1].host, "::1", "hop 2: host without brackets");
		is_int(hops[1].port, 23, "hop 2: port");
		ok(hops[2].user == NULL, "hop 3: no user (ssh_config's)");
		is_str(hops[2].host, "c", "hop 3: host");
		is_int(hops[2].port, 0, "hop 3: no port (ssh_config's)");
	} else
		skip_n(9, "parse failed");
	jump_hops_free(hops, n > 0 ? n : 0);

	is_int(jump_spec_parse("none", &hops, err, sizeof err), 0,
	    "none: no hops");
	ok(hops == NULL, "none: nothing to free");
	is_int(jump_spec_parse("NoNe", &hops, err, sizeof err), 0,
	    "NoNe: none, whatever the case");

	is_int(jump_spec_parse("good,u@h:99999", &hops, err, sizeof err), -1,
	    "a bad last hop fails the chain");
	is_str(err, "bad jump host \"u@h:99999\"", "... naming that hop");
	ok(hops == NULL, "... and nothing is returned");
}

static void
test_proxy_command(void)
{
	char	 err[256], *p;

	err[0] = '\0';
	p = jump_proxy_command("bastion", NULL, err, sizeof err);
	is_str(p, "ssh -W '[%h]:%p' 'bastion'", "ssh -W: one hop");
	free(p);
	p = jump_proxy_command("ssh://u%27s@b1:2222,b2#c", "/etc/ssh cfg",
	    err, sizeof err);
	is_str(p, "ssh -J 'ssh://u%%27s@b1:2222' -F '/etc/ssh cfg' "
	    "-W '[%h]:%p' 'b2'",
	    "ssh -W: earlier hops as -J (% doubled), -F, no comment");
	free(p);
	p = jump_proxy_command("a,it's@h:23", "/t/50%/x'y", err, sizeof err);
	is_str(p, "ssh -l 'it'\\''s' -p 23 -J 'a' -F '/t/50%%/x'\\''y' "
	    "-W '[%h]:%p' 'h'",
	    "ssh -W: user and port of the last hop, quotes and % escaped");
	free(p);
	p = jump_proxy_command("a,,b", NULL, err, sizeof err);
	ok(p == NULL, "ssh -W: a bad spec gives no command");
	is_str(err, "bad jump host \"\"", "... and says why");
	free(p);
	p = jump_proxy_command("none", NULL, err, sizeof err);
	ok(p == NULL, "ssh -W: none gives no command");
	is_str(err, "ProxyJump none has no command", "... and says why");
	free(p);
}

/* -J on the command line: ssh's checks for shell characters. */
static const struct {
	const char	*spec;
	const char	*err;		/* NULL: accepted */
} cmdline[] = {
	{ "u@bastion:22,ssh://u%2d@h", NULL },
	{ "u x@h", NULL },			/* "u" once trimmed */
	{ "none", NULL },
	{ "-oFoo", "invalid hostname \"-oFoo\"" },
	{ "h;x", "invalid hostname \"h;x\"" },
	{ "a$b", "invalid hostname \"a$b\"" },
	{ "h{", "invalid hostname \"h{\"" },
	{ "a,-b", "invalid hostname \"-b\"" },
	{ "-b,h|x", "invalid hostname \"h|x\"" },	/* from the last back */
	{ "u;x@h", "invalid username \"u;x\"" },
	{ "-u@h", "invalid username \"-u\"" },
	{ "u\\@h", "invalid username \"u\\\"" },
	{ "ssh://u%3bx@h", "invalid username \"u;x\"" },
	{ "ssh://%2du@h", "invalid username \"-u\"" },
	{ "ssh://u%20-x@h", "invalid username \"u -x\"" },
	{ "ssh://u%01@h", "invalid username \"u\\001\"" },
	{ "h:0", "bad jump host \"h:0\"" },
};

static void
test_cmdline(void)
{
	char	 err[256], name[128];
	size_t	 i;
	int	 rc;

	for (i = 0; i < sizeof cmdline / sizeof cmdline[0]; i++) {
		err[0] = '\0';
		rc = jump_spec_check_cmdline(cmdline[i].spec, err, sizeof err);
		snprintf(name, sizeof name, "-J \"%s\": %s", cmdline[i].spec,
		    cmdline[i].err != NULL ? cmdline[i].err : "accepted");
		if (cmdline[i].err == NULL)
			ok(rc == 0, name);
		else {
			ok(rc == -1, name);
			is_str(err, cmdline[i].err, "... says why");
		}
	}
}

static void
test_last_host(void)
{
	char	*p;

	p = jump_last_host("bastion");
	is_str(p, "bastion", "last host: one hop");
	free(p);
	p = jump_last_host("a,ssh://u@[b2.example]:22/");
	is_str(p, "b2.example", "last host: the hop nearest the target");
	free(p);
	p = jump_last_host("a,u@[::1]:7#x");
	is_str(p, "::1", "last host: IPv6, without brackets and comment");
	free(p);
	p = jump_last_host("a,@bad");
	is_str(p, "@bad", "last host: a bad hop as written");
	free(p);
}

int
main(void)
{
	test_print();
	test_parse();
	test_proxy_command();
	test_cmdline();
	test_last_host();
	return (done_testing());
}
