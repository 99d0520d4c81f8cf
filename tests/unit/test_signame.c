/*
 * Unit tests for the signal name table: every name read back both ways,
 * the numbers POSIX fixes, and which names an SSH server's exit-signal may
 * carry.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "mrsh/signame.h"
#include "tap.h"

int
main(void)
{
	static const char *all[] = {
		"HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE",
		"KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM", "CHLD",
		"CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ",
		"VTALRM", "PROF", "WINCH", "SYS",
	};
	/* RFC 4254 6.10 and ours: the names the ssh transport takes. */
	static const char *ssh[] = {
		"ABRT", "ALRM", "FPE", "HUP", "ILL", "INT", "KILL", "PIPE",
		"QUIT", "SEGV", "TERM", "USR1", "USR2", "BUS", "TRAP", "SYS",
		"XCPU", "XFSZ",
	};
	char name[64];
	size_t i;
	int n;

	for (i = 0; i < sizeof all / sizeof all[0]; i++) {
		n = signame_number(all[i]);
		snprintf(name, sizeof name, "%s has a number", all[i]);
		ok(n > 0, name);
		snprintf(name, sizeof name, "%s reads back", all[i]);
		is_str(signame_name(n), all[i], name);
	}
	is_int(signame_number("KILL"), 9, "KILL is 9");
	is_int(signame_number("TERM"), 15, "TERM is 15");
	is_int(signame_number("HUP"), 1, "HUP is 1");
	is_str(signame_name(SIGINT), "INT", "SIGINT is INT");
	is_str(signame_name(0), NULL, "0 has no name");
	is_str(signame_name(-1), NULL, "-1 has no name");
	is_str(signame_name(1000), NULL, "1000 has no name");
	is_int(signame_number("SIGTERM"), 0, "SIGTERM: no SIG prefix");
	is_int(signame_number("term"), 0, "names are upper case");
	is_int(signame_number(""), 0, "empty name");

	for (i = 0; i < sizeof ssh / sizeof ssh[0]; i++) {
		snprintf(name, sizeof name, "ssh %s", ssh[i]);
		is_int(signame_ssh_number(ssh[i]), signame_number(ssh[i]),
		    name);
	}
	n = 0;
	for (i = 0; i < sizeof all / sizeof all[0]; i++) {
		if (signame_ssh_number(all[i]) != 0)
			n++;
	}
	is_int(n, (long long)(sizeof ssh / sizeof ssh[0]),
	    "no other name is an ssh name");
	n = 0;
	for (i = 0; i < sizeof all / sizeof all[0]; i++) {
		if (signame_ssh_name(signame_number(all[i])) != NULL &&
		    strcmp(signame_ssh_name(signame_number(all[i])),
		    all[i]) == 0)
			n++;
	}
	is_int(n, (long long)(sizeof ssh / sizeof ssh[0]),
	    "ssh names by number: the ssh ones, each its own");
	is_str(signame_ssh_name(SIGINT), "INT", "ssh name of SIGINT");
	is_str(signame_ssh_name(SIGTERM), "TERM", "ssh name of SIGTERM");
	is_str(signame_ssh_name(SIGCHLD), NULL, "ssh name of SIGCHLD: none");
	is_int(signame_ssh_number("CHLD"), 0, "ssh CHLD: unknown");
	is_int(signame_ssh_number("STOP"), 0, "ssh STOP: unknown");
	is_int(signame_ssh_number("SIGKILL"), 0, "ssh SIGKILL: unknown");
	return done_testing();
}
