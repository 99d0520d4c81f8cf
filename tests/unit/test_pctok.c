/*
 * Unit tests for the %-token expander: each caller's mode (an unknown
 * token an error, or kept as written; ${VAR}; the second-pass form that
 * keeps a % for a later expansion) with the exact bytes out, ProxyCommand's
 * use of it, and the check that ssh_config's load-time validation uses.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrsh/pctok.h"
#include "mrsh/proxycmd.h"
#include "tap.h"

static const struct pctok toks[] = {
	{ 'h', "host.example" },
	{ 'p', "2222" },
	{ 'r', "ro%ot" },		/* a value with a % in it */
	{ 'j', NULL },			/* known elsewhere, not offered here */
	{ '\0', NULL }
};

/* Expand, compare with want (NULL: must fail), free. */
static void
expect(const char *in, int flags, const char *want, char wantbad,
    const char *name)
{
	char	*out, bad = 'X';

	out = pctok_expand(in, toks, flags, &bad);
	if (want == NULL) {
		ok(out == NULL && bad == wantbad, name);
		if (out != NULL)
			diag("got \"%s\"", out);
		else if (bad != wantbad)
			diag("bad '%c', want '%c'", bad, wantbad);
	} else
		is_str(out, want, name);
	free(out);
}

int
main(void)
{
	const struct pctok	 none[] = { { '\0', NULL } };
	char			*out, err[128];

	setenv("PCTOK_TEST", "v%h", 1);
	unsetenv("PCTOK_UNSET");

	/* Strict (ProxyCommand, KnownHostsCommand): unknown is an error. */
	expect("nc %h %p", 0, "nc host.example 2222", 0, "strict: %h %p");
	expect("%r@%h", 0, "ro%ot@host.example", 0,
	    "strict: a value's % is not expanded again");
	expect("100%%", 0, "100%", 0, "strict: %% is %");
	expect("%%h", 0, "%h", 0, "strict: %%h is %h, not the host");
	expect("", 0, "", 0, "strict: empty string");
	expect("no tokens", 0, "no tokens", 0, "strict: plain text");
	expect("a %x b", 0, NULL, 'x', "strict: %x is an error, bad 'x'");
	expect("%j", 0, NULL, 'j', "strict: a token with no value is unknown");
	expect("end %", 0, NULL, '\0', "strict: a % at the end, bad NUL");
	expect("${PCTOK_TEST}", 0, "${PCTOK_TEST}", 0,
	    "strict: ${VAR} is text without PCTOK_ENV");

	/* Lax (exec's words, HostName, ssh_config values). */
	expect("a %x %h", PCTOK_KEEP_UNKNOWN, "a %x host.example", 0,
	    "keep: %x stays");
	expect("%j%h", PCTOK_KEEP_UNKNOWN, "%jhost.example", 0,
	    "keep: %j stays, %h after it expanded");
	expect("end %", PCTOK_KEEP_UNKNOWN, "end %", 0,
	    "keep: a % at the end stays");
	expect("%%%h%%", PCTOK_KEEP_UNKNOWN, "%host.example%", 0,
	    "keep: %% around a token");

	/* ${VAR}, in the same pass: its value is not expanded again. */
	expect("a${PCTOK_TEST}b", PCTOK_ENV | PCTOK_KEEP_UNKNOWN, "av%hb", 0,
	    "env: ${VAR} replaced, its % kept");
	expect("a${PCTOK_UNSET}b", PCTOK_ENV | PCTOK_KEEP_UNKNOWN, "ab", 0,
	    "env: an unset ${VAR} is empty");
	expect("a${PCTOK_TEST", PCTOK_ENV | PCTOK_KEEP_UNKNOWN,
	    "a${PCTOK_TEST", 0, "env: no closing brace: text");
	expect("%${PCTOK_TEST}", PCTOK_ENV | PCTOK_KEEP_UNKNOWN,
	    "%${PCTOK_TEST}", 0, "env: %$ is an unknown token, kept whole");

	/* Second pass (KnownHostsCommand's first): keep every % for later. */
	expect("%r %% %K %h", PCTOK_AGAIN, "ro%%ot %% %K host.example", 0,
	    "again: value's % doubled, %% and unknown kept");
	expect("${PCTOK_TEST}", PCTOK_AGAIN | PCTOK_ENV, "v%%h", 0,
	    "again: ${VAR}'s % doubled");
	out = pctok_expand("%r %% %K", toks, PCTOK_AGAIN, NULL);
	expect(out, 0, NULL, 'K', "again, then strict: %K still a token");
	free(out);

	out = pctok_expand("%h", none, PCTOK_KEEP_UNKNOWN, NULL);
	is_str(out, "%h", "empty table: %h kept");
	free(out);

	/* ProxyCommand's caller: its tokens, its one-line error. */
	out = proxycmd_expand("nc %h %p %r %n %%", "10.0.0.1", 2222, "u%1",
	    "alias", err, sizeof err);
	is_str(out, "nc 10.0.0.1 2222 u%1 alias %", "proxycmd: %h %p %r %n");
	free(out);
	err[0] = '\0';
	out = proxycmd_expand("nc %h %k", "h", 22, "u", "n", err, sizeof err);
	ok(out == NULL, "proxycmd: %k refused (ssh 9.2 has it; not yet)");
	is_str(err, "ProxyCommand: unknown token %k", "proxycmd: the error");
	free(out);
	out = proxycmd_expand("nc %", "h", 22, "u", "n", err, sizeof err);
	ok(out == NULL, "proxycmd: a % at the end is an error");
	is_str(err, "ProxyCommand: unknown token % ",
	    "proxycmd: the error for a % at the end");
	free(out);

	/* The load-time check. */
	ok(pctok_check("%h %% plain", "h%") == 0, "check: %h %% allowed");
	ok(pctok_check("%p", "h%") == -1, "check: %p not allowed");
	ok(pctok_check("end %", "h%") == -1, "check: a % at the end");
	ok(pctok_check("%%", "h") == -1, "check: %% needs % in keys");
	ok(pctok_check("", "") == 0, "check: empty string");
	return done_testing();
}
