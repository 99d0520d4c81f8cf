/*
 * Signal names: one table from number to name without "SIG", read both
 * ways. The output names the signal a host died of; the ssh transport
 * turns the server's exit-signal name into a number and a signal it
 * forwards into a name, but only for the names SSH defines (RFC 4254
 * 6.10) and the few that servers add, so that an odd name from a server
 * does not become a local number.
 */
#include "config.h"

#include <signal.h>
#include <stddef.h>
#include <string.h>

#include "mrsh/signame.h"

static const struct {
	int		 sig;
	const char	*name;
	int		 ssh;		/* an SSH exit-signal name */
} signames[] = {
	{ SIGHUP, "HUP", 1 }, { SIGINT, "INT", 1 }, { SIGQUIT, "QUIT", 1 },
	{ SIGILL, "ILL", 1 }, { SIGTRAP, "TRAP", 1 }, { SIGABRT, "ABRT", 1 },
	{ SIGBUS, "BUS", 1 }, { SIGFPE, "FPE", 1 }, { SIGKILL, "KILL", 1 },
	{ SIGUSR1, "USR1", 1 }, { SIGSEGV, "SEGV", 1 }, { SIGUSR2, "USR2", 1 },
	{ SIGPIPE, "PIPE", 1 }, { SIGALRM, "ALRM", 1 }, { SIGTERM, "TERM", 1 },
	{ SIGCHLD, "CHLD", 0 }, { SIGCONT, "CONT", 0 }, { SIGSTOP, "STOP", 0 },
	{ SIGTSTP, "TSTP", 0 }, { SIGTTIN, "TTIN", 0 }, { SIGTTOU, "TTOU", 0 },
	{ SIGURG, "URG", 0 }, { SIGXCPU, "XCPU", 1 }, { SIGXFSZ, "XFSZ", 1 },
	{ SIGVTALRM, "VTALRM", 0 }, { SIGPROF, "PROF", 0 },
	{ SIGWINCH, "WINCH", 0 }, { SIGSYS, "SYS", 1 },
};

#define SIGNAME_COUNT	(sizeof signames / sizeof signames[0])

/* The name of sig; ssh: only among the SSH names. */
static const char *
signame_find(int sig, int ssh)
{
	size_t i;

	for (i = 0; i < SIGNAME_COUNT; i++) {
		if ((!ssh || signames[i].ssh) && signames[i].sig == sig)
			return signames[i].name;
	}
	return NULL;
}

const char *
signame_name(int sig)
{
	return signame_find(sig, 0);
}

const char *
signame_ssh_name(int sig)
{
	return signame_find(sig, 1);
}

/* The number for name; ssh: only among the SSH names. */
static int
signame_lookup(const char *name, int ssh)
{
	size_t i;

	for (i = 0; i < SIGNAME_COUNT; i++) {
		if ((!ssh || signames[i].ssh) &&
		    strcmp(signames[i].name, name) == 0)
			return signames[i].sig;
	}
	return 0;
}

int
signame_number(const char *name)
{
	return signame_lookup(name, 0);
}

int
signame_ssh_number(const char *name)
{
	return signame_lookup(name, 1);
}
