/*
 * Unit tests for known_hosts checking (src/knownhosts.c) against what
 * OpenSSH 9.2 decides (hostfile.c check_hostkeys_by_key_or_type,
 * sshconnect.c check_host_key): a plain entry, a host that is not known
 * versus one known with another key (any other key, of any type, is a
 * change, as in ssh), several keys for one host, hashed |1| names as
 * ssh-keygen -H writes them, [host]:port and the fallback to the bare
 * host, wildcards and negation, @revoked and @cert-authority markers,
 * HostKeyAlias, StrictHostKeyChecking accept-new (the key is appended and
 * found next time) and no, CheckHostIP (recording the address, "POSSIBLE
 * DNS SPOOFING", a peer of another family, a KnownHostsCommand failing
 * for the address only), a known_hosts whose directory
 * cannot be made, and lines that are not entries. Each case is a
 * fresh known_hosts file and a server key blob; the messages are compared
 * whole.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <openssl/evp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mrsh/log.h"
#include "mrsh/sshconfig.h"
#include "tap.h"
#include "testutil.h"

/* Keys made by ssh-keygen (the public halves), and their fingerprints. */
#define KEY_A	"AAAAC3NzaC1lZDI1NTE5AAAAIH5Y0fIZOd2gr7Gs891iuOk5oRXVwHnX5xQ8LoPmZQT9"
#define FP_A	"SHA256:H6cyUGk3/HOyB/LPnYwf7+8z0VsVUZy0immEZhaMRsQ"
#define KEY_B	"AAAAC3NzaC1lZDI1NTE5AAAAIEzUZ9YGz+w+DE+VdYrDX+Tsa/Bmwc9VaO5yLG3HhI93"
#define KEY_C	"AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBE8CkP/rs78rdqBy9bMqxu6LOVnc9CEaZ8FzwDp25ylCA7j5KAKpwmBGlQ7paM7bZAY4nFIbzMngA8cx33F92g8="
#define ED	"ssh-ed25519 "
#define EC	"ecdsa-sha2-nistp256 "
/* ssh-keygen -H of "node1 KEY_A" and "[node1]:2222 KEY_A". */
#define HASHED_NODE1 \
	"|1|4wv9NZDK4fzhpPasQAWpX4yfA0o=|wAduzukBxozzkxgU/WSzrWzexI4="
#define HASHED_NODE1_2222 \
	"|1|zrGxAp5wQlT4x/N8clF2g9Ubp40=|mGAGjViHvHSUCqiCfsR9Gl7c5n8="
#define DASH	"\xe2\x80\x94"

static char	dir[64];
static char	path[128];
static int	ncase;

/* Decode a base64 key into a blob (malloc'd). */
static unsigned char *
blob(const char *b64, size_t *len)
{
	size_t	 n = strlen(b64);
	unsigned char *out;
	int	 l;

	out = malloc(n / 4 * 3 + 1);
	if (out == NULL)
		abort();
	l = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
	if (l < 0)
		abort();
	if (n > 0 && b64[n - 1] == '=')
		l--;
	if (n > 1 && b64[n - 2] == '=')
		l--;
	*len = (size_t)l;
	return out;
}

/*
 * Check the server key b64 for host (port, HostKeyAlias alias, strict
 * mode) against a new known_hosts file holding text; err gets the
 * reason. Returns knownhosts_check_key's answer.
 */
static int
check_alias(const char *text, const char *host, int port, const char *alias,
    enum strict_mode strict, const char *b64, char *err, size_t errlen)
{
	struct ssh_host_config	 hc;
	unsigned char		*key;
	size_t			 keylen;
	int			 rc;

	snprintf(path, sizeof path, "%s/kh%d", dir, ++ncase);
	if (text != NULL && write_file(path, text) != 0)
		abort();
	memset(&hc, 0, sizeof hc);
	hc.hostname = (char *)host;
	hc.port = port;
	hc.host_key_alias = (char *)alias;
	hc.strict = strict;
	hc.user_known_hosts[0] = path;
	hc.nuser_known_hosts = 1;
	key = blob(b64, &keylen);
	err[0] = '\0';
	rc = knownhosts_check_key(key, keylen, &hc, NULL, 5, err, errlen);
	free(key);
	/* Each case reads its own file: nothing cached across cases. */
	knownhosts_cache_free();
	return rc;
}

static int
check(const char *text, const char *host, int port, enum strict_mode strict,
    const char *b64, char *err, size_t errlen)
{
	return check_alias(text, host, port, NULL, strict, b64, err, errlen);
}

/* The reason for an unknown host key A under strict checking. */
static void
want_unknown(char *buf, size_t len, const char *host, int port)
{
	snprintf(buf, len, "host key for %s not known (ssh-ed25519 " FP_A
	    "); accept it with -o StrictHostKeyChecking=accept-new or add it "
	    "to %s (ssh-keyscan -p %d %s)", host, path, port, host);
}

/* The reason for a changed key (the server's is A), entry name at line. */
static void
want_changed(char *buf, size_t len, const char *host, const char *name,
    int line)
{
	snprintf(buf, len, "host key for %s has CHANGED (ssh-ed25519 " FP_A
	    ") " DASH " possible man-in-the-middle; remove the old key with: "
	    "ssh-keygen -R '%s' -f %s (line %d)", host, name, path, line);
}

int
main(void)
{
	char	err[2048], want[2048], *got;
	size_t	len;
	int	rc;

	log_init("mrsh", -1);
	snprintf(dir, sizeof dir, "/tmp/mrsh-test-kh.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}

	/* A plain entry; unknown; known with another key. */
	rc = check("node1 " ED KEY_A "\n", "node1", 22, STRICT_YES, KEY_A,
	    err, sizeof err);
	ok(rc == 0 && err[0] == '\0', "plain entry, same key: accepted");
	rc = check("node2 " ED KEY_A "\n", "node1", 22, STRICT_YES, KEY_A,
	    err, sizeof err);
	want_unknown(want, sizeof want, "node1", 22);
	is_int(rc, -1, "another host's entry only: refused");
	is_str(err, want, "... as not known, saying how to accept it");
	rc = check("node1 " ED KEY_B "\n", "node1", 22, STRICT_YES, KEY_A,
	    err, sizeof err);
	want_changed(want, sizeof want, "node1", "node1", 1);
	is_int(rc, -1, "entry with another key: refused");
	is_str(err, want, "... as CHANGED, naming file and line");
	rc = check("node1 " EC KEY_C "\n", "node1", 22, STRICT_YES, KEY_A,
	    err, sizeof err);
	want_changed(want, sizeof want, "node1", "node1", 1);
	is_str(err, want, "a key of another type only: CHANGED, as ssh");
	rc = check("node1 " ED KEY_B "\n", "node1", 22, STRICT_NO, KEY_A,
	    err, sizeof err);
	is_int(rc, 1, "changed key with StrictHostKeyChecking no: 1 "
	    "(used, without password authentication)");

	/* Several keys for one host: any equal one is the host's. */
	rc = check("node1 " ED KEY_B "\nnode1 " EC KEY_C "\nnode1 " ED KEY_A
	    "\n", "node1", 22, STRICT_YES, KEY_A, err, sizeof err);
	ok(rc == 0 && err[0] == '\0',
	    "three keys for the host, the third the server's: accepted");
	rc = check("node1 " ED KEY_A "\nnode1 " ED KEY_B "\n", "node1", 22,
	    STRICT_YES, KEY_B, err, sizeof err);
	is_int(rc, 0, "two keys, the second the server's: accepted");
	rc = check("node1,node2 " ED KEY_B "\n", "node2", 22, STRICT_YES,
	    KEY_A, err, sizeof err);
	want_changed(want, sizeof want, "node2", "node2", 1);
	is_str(err, want, "a comma list of names: the second one matches");

	/* Hashed names, as ssh-keygen -H writes them. */
	rc = check(HASHED_NODE1 " " ED KEY_A "\n", "node1", 22, STRICT_YES,
	    KEY_A, err, sizeof err);
	ok(rc == 0 && err[0] == '\0', "|1| hashed name: accepted");
	rc = check(HASHED_NODE1 " " ED KEY_A "\n", "NODE1", 22, STRICT_YES,
	    KEY_A, err, sizeof err);
	is_int(rc, 0, "|1| hashed name: the host is matched in lowercase");
	rc = check(HASHED_NODE1 " " ED KEY_A "\n", "node2", 22, STRICT_YES,
	    KEY_A, err, sizeof err);
	want_unknown(want, sizeof want, "node2", 22);
	is_str(err, want, "|1| hashed name of another host: not known");
	rc = check(HASHED_NODE1 " " ED KEY_B "\n", "node1", 22, STRICT_YES,
	    KEY_A, err, sizeof err);
	want_changed(want, sizeof want, "node1", "node1", 1);
	is_str(err, want, "|1| hashed name with another key: CHANGED");
	rc = check(HASHED_NODE1_2222 " " ED KEY_A "\n", "node1", 2222,
	    STRICT_YES, KEY_A, err, sizeof err);
	is_int(rc, 0, "|1| hashed [node1]:2222 on port 2222: accepted");
	rc = check("|1|bm90IGJhc2U2NA|x " ED KEY_A "\n|2|abc|def " ED KEY_A
	    "\n", "node1", 22, STRICT_YES, KEY_A, err, sizeof err);
	is_int(rc, -1, "malformed |1| and unknown |2| hashes: no entry");

	/* [host]:port, and the bare host when the port finds nothing. */
	rc = check("[node1]:2222 " ED KEY_A "\n", "node1", 2222, STRICT_YES,
	    KEY_A, err, sizeof err);
	is_int(rc, 0, "[node1]:2222 on port 2222: accepted");
	rc = check("[node1]:2222 " ED KEY_A "\n", "node1", 22, STRICT_YES,
	    KEY_A, err, sizeof err);
	want_unknown(want, sizeof want, "node1", 22);
	is_str(err, want, "[node1]:2222 on port 22: not known");
	rc = check("[node1]:2222 " ED KEY_A "\n", "node1", 2223, STRICT_YES,
	    KEY_A, err, sizeof err);
	is_int(rc, -1, "[node1]:2222 on port 2223: not known");
	rc = check("node1 " ED KEY_A "\n", "node1", 2222, STRICT_YES, KEY_A,
	    err, sizeof err);
	is_int(rc, 0, "bare node1 on port 2222: accepted (ssh's fallback)");
	rc = check(HASHED_NODE1 " " ED KEY_A "\n", "node1", 2222, STRICT_YES,
	    KEY_A, err, sizeof err);
	is_int(rc, 0, "hashed bare node1 on port 2222: accepted");
	rc = check("[node1]:2222 " ED KEY_B "\nnode1 " ED KEY_A "\n", "node1",
	    2222, STRICT_YES, KEY_A, err, sizeof err);
	want_changed(want, sizeof want, "node1", "[node1]:2222", 1);
	is_str(err, want, "[node1]:2222 with another key: CHANGED, the bare "
	    "entry not consulted");

	/* Wildcards and negation (match_hostname). */
	rc = check("*.example.com " ED KEY_A "\n", "a.example.com", 22,
	    STRICT_YES, KEY_A, err, sizeof err);
	is_int(rc, 0, "*.example.com matches a.example.com");
	rc = check("node? " ED KEY_A "\n", "node1", 22, STRICT_YES, KEY_A,
	    err, sizeof err);
	is_int(rc, 0, "node? matches node1");
	rc = check("node? " ED KEY_A "\n", "node10", 22, STRICT_YES, KEY_A,
	    err, sizeof err);
	is_int(rc, -1, "node? does not match node10");
	rc = check("*.example.com,!bad.example.com " ED KEY_A "\n",
	    "bad.example.com", 22, STRICT_YES, KEY_A, err, sizeof err);
	want_unknown(want, sizeof want, "bad.example.com", 22);
	is_str(err, want, "!bad.example.com: negated, so not known");
	rc = check("*.example.com,!bad.example.com " ED KEY_A "\n",
	    "good.example.com", 22, STRICT_YES, KEY_A, err, sizeof err);
	is_int(rc, 0, "... while good.example.com matches the list");
	rc = check("!bad.example.com " ED KEY_A "\n", "good.example.com", 22,
	    STRICT_YES, KEY_A, err, sizeof err);
	is_int(rc, -1, "a negation alone matches nothing");
	rc = check("[node*]:2222 " ED KEY_A "\n", "node7", 2222, STRICT_YES,
	    KEY_A, err, sizeof err);
	is_int(rc, 0, "[node*]:2222 matches [node7]:2222");

	/* @revoked and @cert-authority. */
	rc = check("node1 " ED KEY_A "\n@revoked node1 " ED KEY_A "\n",
	    "node1", 22, STRICT_YES, KEY_A, err, sizeof err);
	snprintf(want, sizeof want, "the ssh-ed25519 host key for node1 ("
	    FP_A ") is marked as REVOKED in %s:2 " DASH " possibly a stolen "
	    "key impersonating the host", path);
	is_int(rc, -1, "@revoked after a matching entry: refused");
	is_str(err, want, "... as REVOKED, naming file and line");
	rc = check("@revoked * " ED KEY_A "\nnode1 " ED KEY_A "\n", "node1",
	    22, STRICT_NO, KEY_A, err, sizeof err);
	is_int(rc, 1, "@revoked * with StrictHostKeyChecking no: 1");
	rc = check("@revoked node1 " ED KEY_B "\nnode1 " ED KEY_A "\n",
	    "node1", 22, STRICT_YES, KEY_A, err, sizeof err);
	ok(rc == 0 && err[0] == '\0', "another key @revoked: accepted");
	rc = check("@revoked node1 " ED KEY_B "\n", "node1", 22, STRICT_YES,
	    KEY_A, err, sizeof err);
	want_unknown(want, sizeof want, "node1", 22);
	is_str(err, want, "only a @revoked other key: not known (a revoked "
	    "key is no host key)");
	rc = check("@cert-authority node1 " ED KEY_B "\n", "node1", 22,
	    STRICT_YES, KEY_A, err, sizeof err);
	is_str(err, "node1 is known only through @cert-authority, and "
	    "libssh2 cannot verify host certificates; refusing its plain "
	    "ssh-ed25519 key " FP_A " (add that key to known_hosts to trust "
	    "it)", "@cert-authority only: refused, saying why");
	rc = check("@CERT-AUTHORITY node1 " ED KEY_B "\nnode1 " ED KEY_A "\n",
	    "node1", 22, STRICT_YES, KEY_A, err, sizeof err);
	is_int(rc, 0, "@cert-authority beside a plain entry: accepted");
	rc = check("@bogus node1 " ED KEY_A "\n", "node1", 22, STRICT_YES,
	    KEY_A, err, sizeof err);
	is_int(rc, -1, "an unknown @marker: the line is no entry");

	/* HostKeyAlias: looked up instead of the name (and port). */
	rc = check_alias("alias1 " ED KEY_A "\n", "node9", 2222, "alias1",
	    STRICT_YES, KEY_A, err, sizeof err);
	is_int(rc, 0, "HostKeyAlias alias1: its entry is used");
	rc = check_alias("node9 " ED KEY_A "\n[node9]:2222 " ED KEY_A "\n",
	    "node9", 2222, "alias1", STRICT_YES, KEY_A, err, sizeof err);
	is_int(rc, -1, "HostKeyAlias alias1: the host's own entries are not");

	/* Lines that are not entries are skipped; line numbers still count. */
	rc = check("# comment\n\n   \ngarbage\nnode1 " ED "!!notbase64\n"
	    "node1 " ED KEY_B "\n", "node1", 22, STRICT_YES, KEY_A, err,
	    sizeof err);
	want_changed(want, sizeof want, "node1", "node1", 6);
	is_str(err, want, "comments, blanks and bad lines skipped: line 6");
	rc = check("node1 " ED KEY_A "\r\n", "node1", 22, STRICT_YES, KEY_A,
	    err, sizeof err);
	is_int(rc, 0, "a CRLF line ending");
	rc = check(NULL, "node1", 22, STRICT_YES, KEY_A, err, sizeof err);
	want_unknown(want, sizeof want, "node1", 22);
	is_str(err, want, "a missing known_hosts file: not known");

	/* accept-new: appended, found by the next check of the file. */
	rc = check(NULL, "node1", 2222, STRICT_ACCEPT_NEW, KEY_A, err,
	    sizeof err);
	is_int(rc, 0, "accept-new, unknown host: accepted");
	got = read_file(path, &len);
	is_str(got, "[node1]:2222 " ED KEY_A "\n",
	    "accept-new: the key appended as [node1]:2222");
	free(got);
	ncase--;	/* the same file again (text NULL: not rewritten) */
	rc = check(NULL, "node1", 2222, STRICT_YES, KEY_A, err, sizeof err);
	ok(rc == 0 && err[0] == '\0', "accept-new: the next check finds it");
	rc = check("node2 " ED KEY_B, "node1", 22, STRICT_ACCEPT_NEW, KEY_A,
	    err, sizeof err);
	got = read_file(path, &len);
	is_str(got, "node2 " ED KEY_B "\nnode1 " ED KEY_A "\n",
	    "accept-new after a last line without newline: a line of its own");
	free(got);
	rc = check("node1 " ED KEY_B "\n", "node1", 22, STRICT_ACCEPT_NEW,
	    KEY_A, err, sizeof err);
	want_changed(want, sizeof want, "node1", "node1", 1);
	is_str(err, want, "accept-new never accepts a changed key");

	/* Malformed lines: no key, |1| without its second |, a salt or a
	   hash that is not 20 bytes, a key blob of an unknown or missing
	   type, a marker and nothing else. */
	rc = check("node1\nnode1 " ED "\n|1|abc " ED KEY_B "\n"
	    "|1|c2FsdA==|c2hvcnQ= " ED KEY_B "\nnode1 foo-bar AAAAB2Zvby1iYXI=\n"
	    "node1 " ED "AAAAAA==\n|1|4wv9NZDK4fzhpPasQAWpX4yfA0o=|c2hvcnQ= "
	    ED KEY_B "\n@revoked\nnode1 " ED KEY_B "\n", "node1", 22,
	    STRICT_YES, KEY_A, err, sizeof err);
	want_changed(want, sizeof want, "node1", "node1", 9);
	is_str(err, want, "malformed lines are no entries: the change is "
	    "found on line 9");
	rc = check("node1 " ED KEY_A "\n", "node1", 22, STRICT_YES, "AAAA",
	    err, sizeof err);
	ok(rc == -1 && strcmp(err, "no host key from node1") == 0,
	    "a key blob without a type: no host key");
	rc = check("node1 " ED KEY_A "\nnode1 " ED KEY_A "\n", "node1", 22,
	    STRICT_YES, KEY_A, err, sizeof err);
	ok(rc == 0 && err[0] == '\0', "the same key on two lines: accepted");

	/* accept-new where the file cannot be written: still accepted, as
	   ssh (which warns); no: accepted without writing. */
	{
		struct ssh_host_config hc;
		unsigned char *key;
		size_t keylen;
		char *argv_tok[] = { "/bin/echo", "%Z", NULL };
		char *argv_big[] = { "/bin/sh", "-c",
		    "head -c 20000000 /dev/zero", NULL };
		char *argv_sig[] = { "/bin/sh", "-c", "kill -9 $$", NULL };
		char *argv_fail[] = { "/bin/sh", "-c", "exit 3", NULL };
		char rk[192], under[192];

		memset(&hc, 0, sizeof hc);
		hc.hostname = "node1";
		hc.port = 22;
		key = blob(KEY_A, &keylen);
		snprintf(under, sizeof under, "%s/afile", dir);
		if (write_file(under, "x\n") != 0)
			abort();
		snprintf(under, sizeof under, "%s/afile/kh", dir);
		hc.user_known_hosts[0] = under;
		hc.nuser_known_hosts = 1;
		hc.strict = STRICT_ACCEPT_NEW;
		err[0] = '\0';
		rc = knownhosts_check_key(key, keylen, &hc, NULL, 5, err,
		    sizeof err);
		is_int(rc, 0, "accept-new, known_hosts below a file: the key "
		    "is still accepted, as ssh");
		knownhosts_cache_free();
		hc.strict = STRICT_NO;
		rc = knownhosts_check_key(key, keylen, &hc, NULL, 5, err,
		    sizeof err);
		is_int(rc, 0, "StrictHostKeyChecking no, unknown host: "
		    "accepted");
		knownhosts_cache_free();

		/* KnownHostsCommand: a bad token, too much output, a signal,
		   a failure. */
		hc.strict = STRICT_YES;
		hc.nuser_known_hosts = 0;
		hc.kh_command_raw = "/bin/echo %Z";
		hc.kh_command = argv_tok;
		rc = knownhosts_check_key(key, keylen, &hc, NULL, 5, err,
		    sizeof err);
		is_int(rc, -1, "KnownHostsCommand with %Z: refused");
		is_str(err, "KnownHostsCommand /bin/echo %Z: unknown token %Z",
		    "... naming the token");
		knownhosts_cache_free();
		hc.kh_command_raw = "head";
		hc.kh_command = argv_big;
		rc = knownhosts_check_key(key, keylen, &hc, NULL, 5, err,
		    sizeof err);
		is_str(err, "KnownHostsCommand /bin/sh printed more than 16 MB",
		    "KnownHostsCommand printing too much: refused");
		knownhosts_cache_free();
		hc.kh_command_raw = "kill";
		hc.kh_command = argv_sig;
		rc = knownhosts_check_key(key, keylen, &hc, NULL, 5, err,
		    sizeof err);
		is_str(err, "KnownHostsCommand /bin/sh exited on signal 9; not "
		    "connecting", "KnownHostsCommand killed: refused");
		knownhosts_cache_free();
		hc.kh_command_raw = "exit";
		hc.kh_command = argv_fail;
		rc = knownhosts_check_key(key, keylen, &hc, NULL, 5, err,
		    sizeof err);
		is_str(err, "KnownHostsCommand /bin/sh failed, status 3; not "
		    "connecting", "KnownHostsCommand failing: refused");
		knownhosts_cache_free();
		hc.kh_command = NULL;
		hc.kh_command_raw = NULL;

		/* RevokedHostKeys holding a certificate line, or bad base64
		   (skipped). */
		snprintf(path, sizeof path, "%s/kh-ok", dir);
		if (write_file(path, "node1 " ED KEY_A "\n") != 0)
			abort();
		hc.user_known_hosts[0] = path;
		hc.nuser_known_hosts = 1;
		snprintf(rk, sizeof rk, "%s/revoked", dir);
		if (write_file(rk, "ssh-ed25519 !!!\n"
		    "ssh-ed25519-cert-v01@openssh.com AAAA\n") != 0)
			abort();
		hc.revoked_host_keys = rk;
		rc = knownhosts_check_key(key, keylen, &hc, NULL, 5, err,
		    sizeof err);
		is_int(rc, -1, "RevokedHostKeys with a certificate line: "
		    "refused");
		ok(strstr(err, "a certificate line, which mrsh cannot check")
		    != NULL, "... saying why");
		if (strstr(err, "certificate") == NULL)
			diag("got: %s", err);
		knownhosts_cache_free();
		if (write_file(rk, "ssh-ed25519 !!!\n" ED KEY_A "\n") != 0)
			abort();
		rc = knownhosts_check_key(key, keylen, &hc, NULL, 5, err,
		    sizeof err);
		is_int(rc, -1, "RevokedHostKeys: a bad line skipped, the key "
		    "on the next found");
		knownhosts_cache_free();

		/* UserKnownHostsFile none: no never accepts silently,
		   accept-new cannot record it, so refuses. */
		hc.revoked_host_keys = NULL;
		hc.nuser_known_hosts = 0;
		hc.strict = STRICT_NO;
		rc = knownhosts_check_key(key, keylen, &hc, NULL, 5, err,
		    sizeof err);
		is_int(rc, 0, "UserKnownHostsFile none, StrictHostKeyChecking "
		    "no: accepted");
		knownhosts_cache_free();
		hc.strict = STRICT_ACCEPT_NEW;
		rc = knownhosts_check_key(key, keylen, &hc, NULL, 5, err,
		    sizeof err);
		is_int(rc, -1, "UserKnownHostsFile none, accept-new: refused");
		is_str(err, "host key for node1 not known (ssh-ed25519 " FP_A
		    ") and UserKnownHostsFile is none; cannot accept it",
		    "... saying it cannot be recorded");
		knownhosts_cache_free();

		/* CheckHostIP: an IPv6 peer's address is recorded beside a
		   known name (no traffic: a sockaddr only); a host named by
		   its address is not looked up twice. */
		{
			struct sockaddr_in6	sin6;
			struct sockaddr_in	sin;

			snprintf(path, sizeof path, "%s/kh-ip", dir);
			if (write_file(path, "node1 " ED KEY_A "\n") != 0)
				abort();
			hc.user_known_hosts[0] = path;
			hc.nuser_known_hosts = 1;
			hc.strict = STRICT_YES;
			hc.check_host_ip = 1;
			memset(&sin6, 0, sizeof sin6);
			sin6.sin6_family = AF_INET6;
			sin6.sin6_port = htons(22);
			inet_pton(AF_INET6, "2001:db8::7", &sin6.sin6_addr);
			rc = knownhosts_check_key(key, keylen, &hc,
			    (struct sockaddr *)&sin6, 5, err, sizeof err);
			is_int(rc, 0, "CheckHostIP, IPv6 peer, name known: "
			    "accepted");
			knownhosts_cache_free();
			got = read_file(path, &len);
			ok(got != NULL && strstr(got, "node1 " ED KEY_A "\n")
			    == got && strlen(got) > strlen("node1 " ED KEY_A
			    "\n"), "... and the address's key recorded after "
			    "the name's");
			free(got);
			memset(&sin, 0, sizeof sin);
			sin.sin_family = AF_INET;
			sin.sin_port = htons(22);
			inet_pton(AF_INET, "10.1.2.3", &sin.sin_addr);
			if (write_file(path, "10.1.2.3 " ED KEY_A "\n") != 0)
				abort();
			hc.hostname = "10.1.2.3";
			rc = knownhosts_check_key(key, keylen, &hc,
			    (struct sockaddr *)&sin, 5, err, sizeof err);
			is_int(rc, 0, "CheckHostIP for a host named by its "
			    "address: one lookup, accepted");
			knownhosts_cache_free();
			got = read_file(path, &len);
			is_str(got, "10.1.2.3 " ED KEY_A "\n", "... nothing "
			    "added");
			free(got);
			hc.hostname = "node1";

			/* The name's and the address's keys both differ from
			   the server's, and from each other: ssh's "POSSIBLE
			   DNS SPOOFING", the address "has a different value";
			   the same (old) key for both: a plain change. */
			if (write_file(path, "node1 " ED KEY_B "\n10.1.2.3 "
			    EC KEY_C "\n") != 0)
				abort();
			rc = knownhosts_check_key(key, keylen, &hc,
			    (struct sockaddr *)&sin, 5, err, sizeof err);
			want_changed(want, sizeof want, "node1", "node1", 1);
			got = NULL;
			if (asprintf(&got, "POSSIBLE DNS SPOOFING: the key for "
			    "the IP address 10.1.2.3 has a different value; %s",
			    want) == -1)
				abort();
			ok(rc == -1 && strcmp(err, got) == 0, "CheckHostIP, "
			    "name and address changed to different keys: "
			    "refused, naming DNS spoofing");
			if (strcmp(err, got) != 0)
				diag("got: %s", err);
			free(got);
			knownhosts_cache_free();
			if (write_file(path, "node1 " ED KEY_B "\n10.1.2.3 "
			    ED KEY_B "\n") != 0)
				abort();
			rc = knownhosts_check_key(key, keylen, &hc,
			    (struct sockaddr *)&sin, 5, err, sizeof err);
			ok(rc == -1 && strcmp(err, want) == 0, "CheckHostIP, "
			    "name and address changed from the same key: "
			    "refused, no spoofing named");
			knownhosts_cache_free();

			/* A peer that is neither IPv4 nor IPv6 has no
			   address to check: only the name is recorded. */
			{
				struct sockaddr	un;

				memset(&un, 0, sizeof un);
				un.sa_family = AF_UNIX;
				if (write_file(path, "") != 0)
					abort();
				hc.strict = STRICT_ACCEPT_NEW;
				rc = knownhosts_check_key(key, keylen, &hc,
				    &un, 5, err, sizeof err);
				knownhosts_cache_free();
				got = read_file(path, &len);
				ok(rc == 0 && got != NULL && strcmp(got,
				    "node1 " ED KEY_A "\n") == 0, "CheckHostIP, "
				    "a peer of another family: the name "
				    "alone recorded");
				free(got);
				hc.strict = STRICT_YES;
			}

			/* A KnownHostsCommand that vouches for the name but
			   fails for the address: refused, as when it fails
			   for the name (mrsh's rule: never connect on a
			   command that failed). */
			{
				char *argv_ip[] = { "/bin/sh", "-c",
				    "[ \"$1\" = ADDRESS ] && exit 3; echo "
				    "'node1 " ED KEY_A "'", "sh", "%I", NULL };

				if (write_file(path, "") != 0)
					abort();
				hc.kh_command_raw = "/bin/sh";
				hc.kh_command = argv_ip;
				rc = knownhosts_check_key(key, keylen, &hc,
				    (struct sockaddr *)&sin, 5, err,
				    sizeof err);
				ok(rc == -1 && strcmp(err, "KnownHostsCommand "
				    "/bin/sh failed, status 3; not connecting")
				    == 0, "CheckHostIP, KnownHostsCommand "
				    "failing for the address only: refused");
				if (rc != -1)
					diag("got: %d %s", rc, err);
				knownhosts_cache_free();
				hc.kh_command = NULL;
				hc.kh_command_raw = NULL;
			}
			hc.check_host_ip = 0;
		}

		/* accept-new where the file's directory cannot be made
		   (its parent is missing): accepted, nothing written. */
		snprintf(under, sizeof under, "%s/no/such/kh", dir);
		hc.user_known_hosts[0] = under;
		hc.strict = STRICT_ACCEPT_NEW;
		rc = knownhosts_check_key(key, keylen, &hc, NULL, 5, err,
		    sizeof err);
		ok(rc == 0 && access(under, F_OK) == -1, "accept-new, "
		    "known_hosts below a missing directory: accepted, as ssh");
		knownhosts_cache_free();
		free(key);
	}

	snprintf(want, sizeof want, "rm -rf %s", dir);
	if (system(want) != 0)
		diag("cannot remove %s", dir);
	return done_testing();
}
