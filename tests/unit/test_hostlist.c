/*
 * Unit tests for the host-list module: range syntax, user/port/IPv6
 * entries, host files and ^FILE, exclusion, uniq, labels, errors (with the
 * offending text), compression and its round trip, and a 100k-host list.
 */
#include "config.h"

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mrsh/hostlist.h"
#include "mrsh/xmalloc.h"
#include "../unit/tap.h"

static char tmpdir[] = "/tmp/test_hostlist.XXXXXX";

/* Labels of a list joined with spaces (static buffer). */
static const char *
labels(const struct hostlist *hl)
{
	static char buf[8192];
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < hl->n && len < sizeof buf; i++) {
		len += snprintf(buf + len, sizeof buf - len, "%s%s",
		    i == 0 ? "" : " ", hl->hosts[i].label);
	}
	return buf;
}

/* Expand expr and return its labels, or "ERR: message". */
static const char *
expand(const char *expr)
{
	static char out[8192];
	struct hostlist hl;
	char err[512];

	hostlist_init(&hl);
	if (hostlist_add_expr(&hl, expr, err, sizeof err) != 0)
		snprintf(out, sizeof out, "ERR: %s", err);
	else
		snprintf(out, sizeof out, "%s", labels(&hl));
	hostlist_free(&hl);
	return out;
}

/* Expect expr to fail; the message must contain every string in want[]. */
/* A resolver for "@g": g expands to g-a,g-b; "bad" fails. */
static int
fake_groups(const char *name, struct hostlist *hl, char *err, size_t errlen)
{
	char expr[256];

	if (strcmp(name, "bad") == 0) {
		snprintf(err, errlen, "no group bad");
		return -1;
	}
	snprintf(expr, sizeof expr, "%s-a,%s-b", name, name);
	return hostlist_add_expr(hl, expr, err, errlen);
}

static void
test_groups(void)
{
	struct hostlist hl;
	char err[512];
	int r;

	hostlist_set_group_resolver(fake_groups);
	hostlist_init(&hl);
	r = hostlist_add_expr(&hl, "x,@g,y", err, sizeof err);
	ok(r == 0 && hl.n == 4 && strcmp(hl.hosts[1].name, "g-a") == 0 &&
	    strcmp(hl.hosts[2].name, "g-b") == 0 &&
	    strcmp(hl.hosts[3].name, "y") == 0, "@g expands in place");
	r = hostlist_add_expr(&hl, "z,@bad", err, sizeof err);
	ok(r == -1 && hl.n == 4 && strcmp(err, "no group bad") == 0,
	    "a failing group adds nothing and passes its message on");
	hostlist_free(&hl);
	hostlist_set_group_resolver(NULL);
}

static void
fails(const char *expr, const char *want1, const char *want2)
{
	struct hostlist hl;
	char err[512], name[256];
	int r;

	hostlist_init(&hl);
	err[0] = '\0';
	r = hostlist_add_expr(&hl, expr, err, sizeof err);
	snprintf(name, sizeof name, "error for \"%s\"", expr);
	ok(r == -1 && hl.n == 0 && strstr(err, want1) != NULL &&
	    (want2 == NULL || strstr(err, want2) != NULL) &&
	    strchr(err, '\n') == NULL, name);
	if (r != -1 || strstr(err, want1) == NULL ||
	    (want2 != NULL && strstr(err, want2) == NULL))
		diag("got r=%d err \"%s\"", r, err);
	hostlist_free(&hl);
}

static char *
write_file(const char *base, const char *text)
{
	char *path;
	FILE *f;

	xasprintf(&path, "%s/%s", tmpdir, base);
	if ((f = fopen(path, "w")) == NULL) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
	return path;
}

static void
test_ranges(void)
{
	is_str(expand("node1"), "node1", "single host");
	is_str(expand("a,b , c"), "a b c", "comma list, spaces ignored");
	is_str(expand("node[01-03,05]"), "node01 node02 node03 node05",
	    "padded range with a single value");
	is_str(expand("n[8-11]"), "n8 n9 n10 n11", "unpadded range widens");
	is_str(expand("n[098-101]"), "n098 n099 n100 n101",
	    "padding past the width");
	is_str(expand("r[1-2]n[1-3]"), "r1n1 r1n2 r1n3 r2n1 r2n2 r2n3",
	    "two bracket groups, first outermost");
	is_str(expand("n[1-3]-ib"), "n1-ib n2-ib n3-ib", "suffix after range");
	is_str(expand("n[7]"), "n7", "single value in brackets");
	is_str(expand("n[1-2],m[3,5]"), "n1 n2 m3 m5",
	    "commas inside brackets do not split");
	is_str(expand(" a , , b ,"), "a b", "empty entries are skipped");
	is_str(expand("[1-3]x"), "1x 2x 3x",
	    "leading bracket without ':' is a range");
	is_str(expand("10.0.0.[1-2]"), "10.0.0.1 10.0.0.2", "IPv4 range");
}

static void
test_entries(void)
{
	struct hostlist hl;
	struct host h;
	char err[256];

	hostlist_init(&hl);
	ok(hostlist_add_expr(&hl, "admin@node[1-3]:2222", err,
	    sizeof err) == 0, "user, range and port");
	is_int(hl.n, 3, "three hosts");
	is_str(hl.hosts[2].name, "node3", "name without user or port");
	is_str(hl.hosts[2].user, "admin", "user applies to every host");
	is_int(hl.hosts[2].port, 2222, "port applies to every host");
	is_str(hl.hosts[2].label, "node3:2222", "label is host:port");
	hostlist_free(&hl);

	hostlist_init(&hl);
	ok(hostlist_add_expr(&hl, "root@[::1]:2222,[::1],fe80::1,::1,"
	    "[fe80::2%eth0]:22,node1", err, sizeof err) == 0, "IPv6 forms");
	is_int(hl.n, 6, "six IPv6/host entries");
	is_str(hl.hosts[0].name, "::1", "v6 name has no brackets");
	is_str(hl.hosts[0].user, "root", "v6 user");
	is_int(hl.hosts[0].port, 2222, "v6 port");
	is_str(hl.hosts[0].label, "[::1]:2222", "v6 label with port");
	is_int(hl.hosts[1].port, 0, "[::1] without port");
	is_str(hl.hosts[1].label, "::1", "v6 label without port");
	is_str(hl.hosts[2].name, "fe80::1", "bare v6 address");
	is_int(hl.hosts[2].port, 0, "bare v6 has no port");
	is_str(hl.hosts[4].name, "fe80::2%eth0", "v6 with zone");
	is_str(hl.hosts[5].label, "node1", "plain label");
	ok(hl.hosts[5].user == NULL && hl.hosts[5].port == 0,
	    "no user, no port");
	hostlist_free(&hl);

	is_str(expand("node1:22,node1:23"), "node1:22 node1:23",
	    "labels differ by port");
	is_str(expand("node1:022"), "node1:22", "port label is canonical");

	ok(hostlist_parse_entry("bob@h1.example:2200", &h, err,
	    sizeof err) == 0, "parse_entry");
	is_str(h.user, "bob", "parse_entry user");
	is_str(h.name, "h1.example", "parse_entry name");
	is_int(h.port, 2200, "parse_entry port");
	is_str(h.label, "h1.example:2200", "parse_entry label");
	hostlist_free_host(&h);
	ok(hostlist_parse_entry("a@b@host", &h, err, sizeof err) == 0 &&
	    strcmp(h.user, "a@b") == 0 && strcmp(h.name, "host") == 0,
	    "last '@' ends the user");
	hostlist_free_host(&h);
	ok(hostlist_parse_entry("n[1-2]", &h, err, sizeof err) == -1 &&
	    strstr(err, "n[1-2]") != NULL, "parse_entry refuses ranges");
	ok(hostlist_parse_entry("root@[::1]:65535", &h, err, sizeof err) == 0 &&
	    h.port == 65535 && strcmp(h.name, "::1") == 0,
	    "parse_entry v6 with port 65535");
	hostlist_free_host(&h);
}

static void
test_errors(void)
{
	fails("n[5-1]", "bad range \"n[5-1]\": start 5 is greater than end 1",
	    NULL);
	fails("n[1-3", "unbalanced bracket", "\"n[1-3\"");
	fails("n[1-3,b", "unbalanced bracket", "n[1-3,b");
	fails("a,n1-3]", "unbalanced bracket", "n1-3]");
	fails("n[[1-2]]", "unbalanced bracket", "n[[1-2]]");
	fails("n[a-3]", "bad range \"n[a-3]\"", "\"a-3\" is not a number");
	fails("n[1-x]", "bad range", "\"1-x\"");
	fails("n[1,,3]", "bad range \"n[1,,3]\"", "empty item");
	fails("n[]", "bad range \"n[]\"", "empty item");
	fails("n[1-1000001]", "too large", "n[1-1000001]");
	fails("n[1-1000][1-1001]", "too large", "n[1-1000][1-1001]");
	fails("n[0-99999999999999999999]", "bad range", "is not a number");
	fails("n[1-600000],m[1-600000]", "too large", "m[1-600000]");
	fails("n1:0", "bad port \"0\"", "n1:0");
	fails("n1:65536", "bad port \"65536\"", "n1:65536");
	fails("n1:ssh", "bad port \"ssh\"", "n1:ssh");
	fails("n1:", "bad port", "\"n1:\"");
	fails("[::1]:99999", "bad port", "[::1]:99999");
	fails("root@", "empty host name", "\"root@\"");
	fails(":22", "empty host name", "\":22\"");
	fails("@node1", "node groups are not available", "@node1");
	fails("[::1]x", "unexpected", "[::1]x");
	fails("[::g]", "bad IPv6 address", "::g");
	fails("fe80::[1-2]", "bad IPv6 address", "fe80::[1-2]");
	fails("no de", "bad character", "no de");
	fails("n[a]", "bad range \"n[a]\"", "\"a\" is not a number");
	fails("[fe80::1%]", "bad IPv6 address \"fe80::1%\"", NULL);
	fails("[fe80::1%a/b]", "bad IPv6 address \"fe80::1%a/b\"", NULL);
	fails("x@[::1", "unbalanced bracket", NULL);
	fails("a b@h", "bad character ' ' in user name", NULL);
	/* user names ssh refuses (a %r in ProxyCommand must not be shell) */
	fails("a$(touch-x)b@h", "user name \"a$(touch-x)b\" contains "
	    "characters ssh refuses", "in \"a$(touch-x)b@h\"");
	fails("a`id`@h", "characters ssh refuses", NULL);
	fails("a;b@h", "characters ssh refuses", NULL);
	fails("-oProxyCommand=x@h", "characters ssh refuses", NULL);
	fails("a\\@h", "characters ssh refuses", NULL);
	/* a host name never starts with '-' (ssh's valid_hostname) */
	fails("-oProxyCommand=x", "host name \"-oProxyCommand=x\" starts "
	    "with '-'", NULL);
	fails("u@-n[1-2]", "starts with '-'", NULL);
	is_str(expand("a!b@h,r.o-ot_1@n[1-2]"), "h n1 n2",
	    "user names ssh takes");
	fails("good,n[5-1]", "n[5-1]", NULL);	/* and nothing is added */
	fails("^", "empty file name", NULL);
	fails("^/nonexistent/hosts", "cannot open",
	    "\"/nonexistent/hosts\": No such file or directory");
}

static void
test_files(void)
{
	struct hostlist hl;
	char err[512], *good, *bad, *outer, *self, *expr;

	good = write_file("good", "# whole-line comment\n"
	    "\n"
	    "   node1   \n"
	    "node[2-3]  # trailing comment\n"
	    "\t\n"
	    "a, b,root@c:2200\r\n"
	    "[::1]:22\n");
	hostlist_init(&hl);
	ok(hostlist_add_file(&hl, good, err, sizeof err) == 0, "good file");
	is_str(labels(&hl), "node1 node2 node3 a b c:2200 [::1]:22",
	    "file: comments, blanks, ranges, lists, users, v6");
	is_str(hl.hosts[5].user, "root", "file: user");
	hostlist_free(&hl);

	bad = write_file("bad", "node1\n# fine\n\nn[5-1]\nnode9\n");
	hostlist_init(&hl);
	ok(hostlist_add_file(&hl, bad, err, sizeof err) == -1 && hl.n == 0,
	    "bad file fails and adds nothing");
	xasprintf(&expr, "%s:4: bad range \"n[5-1]\"", bad);
	ok(strncmp(err, expr, strlen(expr)) == 0, "error names FILE:LINE");
	if (strncmp(err, expr, strlen(expr)) != 0)
		diag("got \"%s\"", err);
	free(expr);
	hostlist_free(&hl);

	hostlist_init(&hl);
	xasprintf(&expr, "x1, ^%s ,x2", good);
	ok(hostlist_add_expr(&hl, expr, err, sizeof err) == 0, "^FILE in -w");
	is_str(labels(&hl), "x1 node1 node2 node3 a b c:2200 [::1]:22 x2",
	    "^FILE hosts in place");
	free(expr);
	hostlist_free(&hl);

	xasprintf(&expr, "y1\n^%s\n", good);
	outer = write_file("outer", expr);
	free(expr);
	hostlist_init(&hl);
	ok(hostlist_add_file(&hl, outer, err, sizeof err) == 0 && hl.n == 8,
	    "^FILE inside a host file");
	hostlist_free(&hl);

	xasprintf(&expr, "z\n^%s/self\n", tmpdir);
	self = write_file("self", expr);
	free(expr);
	hostlist_init(&hl);
	ok(hostlist_add_file(&hl, self, err, sizeof err) == -1 &&
	    strstr(err, "nested") != NULL && hl.n == 0,
	    "a file naming itself is an error, not a loop");
	hostlist_free(&hl);

	hostlist_init(&hl);
	ok(hostlist_add_file(&hl, tmpdir, err, sizeof err) == -1 &&
	    strstr(err, tmpdir) != NULL && strstr(err, "directory") != NULL,
	    "a directory is unreadable, with strerror");
	hostlist_free(&hl);

	/* "-" reads standard input. */
	if (freopen(good, "r", stdin) == NULL) {
		perror("freopen");
		exit(1);
	}
	hostlist_init(&hl);
	ok(hostlist_add_file(&hl, "-", err, sizeof err) == 0 && hl.n == 7,
	    "\"-\" reads standard input");
	hostlist_free(&hl);

	unlink(good);
	unlink(bad);
	unlink(outer);
	unlink(self);
	free(good);
	free(bad);
	free(outer);
	free(self);
}

static void
test_exclude_uniq(void)
{
	struct hostlist hl, ex;
	char err[256];

	hostlist_init(&hl);
	hostlist_init(&ex);
	hostlist_add_expr(&hl, "n[1-6],bob@n7,alice@n7,n8:22,n8:23,n9", err,
	    sizeof err);
	ok(hostlist_add_expr(&ex, "n[2-3],n5,bob@n7,n8:23,nothere", err,
	    sizeof err) == 0, "exclusion list");
	hostlist_exclude(&hl, &ex);
	is_str(labels(&hl), "n1 n4 n6 n7 n8:22 n9",
	    "exclude by name, user and port");
	ok(hl.n == 6 && strcmp(hl.hosts[3].user, "alice") == 0,
	    "other user kept");
	hostlist_free(&ex);
	hostlist_init(&ex);
	hostlist_add_expr(&ex, "n8", err, sizeof err);
	hostlist_exclude(&hl, &ex);
	is_str(labels(&hl), "n1 n4 n6 n7 n9", "name alone excludes every port");
	hostlist_free(&ex);
	hostlist_free(&hl);

	hostlist_init(&hl);
	hostlist_add_expr(&hl, "c,a,b,a,c,d,a:22,root@a,a", err, sizeof err);
	hostlist_uniq(&hl);
	is_str(labels(&hl), "c a b d a:22 a", "uniq keeps first appearance");
	ok(hl.hosts[5].user != NULL && strcmp(hl.hosts[5].user, "root") == 0,
	    "uniq: different user is a different host");
	hostlist_free(&hl);
}

/* Compress names, expand the result, and check the same set comes back. */
static int
round_trip(const char *const *names, size_t n, const char *want)
{
	struct hostlist in, out;
	char err[256], *c;
	size_t i;
	int good = 1;

	c = hostlist_compress(names, n);
	if (want != NULL && strcmp(c, want) != 0) {
		diag("compressed to \"%s\", want \"%s\"", c, want);
		good = 0;
	}
	hostlist_init(&in);
	for (i = 0; i < n; i++) {
		if (hostlist_add_expr(&in, names[i], err, sizeof err) != 0) {
			diag("input %s: %s", names[i], err);
			good = 0;
		}
	}
	hostlist_uniq(&in);
	hostlist_init(&out);
	if (hostlist_add_expr(&out, c, err, sizeof err) != 0) {
		diag("\"%s\" does not expand: %s", c, err);
		good = 0;
	}
	/* Same set: same size after uniq, and each side excludes the other. */
	if (out.n != in.n) {
		diag("\"%s\" expands to %zu names, want %zu", c, out.n, in.n);
		good = 0;
	} else {
		hostlist_exclude(&out, &in);
		if (out.n != 0) {
			diag("\"%s\" gives extra %s", c, out.hosts[0].label);
			good = 0;
		}
	}
	hostlist_free(&in);
	hostlist_free(&out);
	free(c);
	return good;
}

#define N(...)	((const char *const []){ __VA_ARGS__ })
#define RT(want, ...) round_trip(N(__VA_ARGS__), \
	sizeof N(__VA_ARGS__) / sizeof(const char *), want)

static void
test_compress(void)
{
	char *c;

	ok(RT("node[01-03,05]", "node01", "node02", "node03", "node05"),
	    "compress padded");
	ok(RT("node7", "node7"), "single host stays bare");
	ok(RT("a[1-2],b3", "a1", "b3", "a2"), "groups in order of appearance");
	ok(RT("x,a[1-2]", "x", "a2", "x", "a1"), "names without digits kept");
	ok(RT("n[1-3,7]", "n7", "n3", "n1", "n2", "n3"),
	    "sorted numerically, duplicates collapsed");
	ok(RT("n[9-10]", "n9", "n10"), "different widths unpadded");
	ok(RT("n[09-11]", "n09", "n10", "n11"), "padded range into width 3");
	ok(RT(NULL, "n01", "n1"), "n01 and n1 do not merge wrongly");
	ok(RT(NULL, "n1", "n02", "n3", "n004", "n05"), "mixed padding");
	ok(RT("r1n[1-2],r2n1", "r1n1", "r1n2", "r2n1"), "last run of digits");
	ok(RT("n[1-3]-ib", "n1-ib", "n2-ib", "n3-ib"), "suffix kept");
	ok(RT("h[1-2]:22,h3:23", "h1:22", "h2:22", "h3:23"),
	    "port is part of the suffix");
	ok(RT(NULL, "h1:22", "h1:23", "h1", "h2:22"), "same host, other ports");
	ok(RT(NULL, "[::1]:22", "[::2]:22", "fe80::1", "::1"),
	    "IPv6 labels kept as written");
	ok(RT("10.0.0.[1-3]", "10.0.0.1", "10.0.0.2", "10.0.0.3"), "IPv4");
	ok(RT("[1-3]", "1", "2", "3"), "digits only");
	ok(RT(NULL, "n0", "n00", "n000", "n1", "n01", "n001", "n2", "n10",
	    "n010", "n99", "n100", "n0100"), "padding corner cases");
	c = hostlist_compress(NULL, 0);
	is_str(c, "", "nothing compresses to an empty string");
	free(c);
}

static void
test_big(void)
{
	struct hostlist hl, ex;
	const char **names;
	char err[256], *c;
	size_t i;

	hostlist_init(&hl);
	ok(hostlist_add_expr(&hl, "node[1-100000],node[50001-100000]", err,
	    sizeof err) == 0, "150k entries");
	is_int(hl.n, 150000, "expanded count");
	hostlist_uniq(&hl);
	is_int(hl.n, 100000, "uniq count");
	is_str(hl.hosts[99999].name, "node100000", "last host in order");

	hostlist_init(&ex);
	hostlist_add_expr(&ex, "node[1-50000]", err, sizeof err);
	hostlist_exclude(&hl, &ex);
	is_int(hl.n, 50000, "exclude 50k of 100k");
	hostlist_free(&ex);

	names = xcalloc(hl.n, sizeof *names);
	for (i = 0; i < hl.n; i++)
		names[hl.n - 1 - i] = hl.hosts[i].name;
	c = hostlist_compress(names, hl.n);
	is_str(c, "node[50001-100000]", "compress 50k reversed names");
	free(c);
	free(names);
	hostlist_free(&hl);
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_ranges();
	test_entries();
	test_errors();
	test_groups();
	test_files();
	test_exclude_uniq();
	test_compress();
	test_big();
	rmdir(tmpdir);
	return done_testing();
}
