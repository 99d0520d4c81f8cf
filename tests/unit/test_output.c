/*
 * Unit tests for the output module: options and a session table built by
 * hand (no network, no scheduler: a fake records what output's hooks
 * report), fd 1 and fd 2 redirected to temporary files or pipes and read
 * back.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "mrsh/hostlist.h"
#include "mrsh/options.h"
#include "mrsh/output.h"
#include "mrsh/session.h"
#include "mrsh/xmalloc.h"

#include "../unit/tap.h"

#define NHOSTS	20

/* The scheduler as output sees it: what its hooks were told. */
struct fake_sched {
	int	paused;		/* as the last backpressure call said */
	int	pause_calls;
	int	resume_calls;
	int	stdout_broken;
};

struct fix {
	struct options		 opt;
	struct event_base	*base;
	struct host		 hosts[NHOSTS];
	struct session		*s;
	size_t			 n;
	char			 names[NHOSTS][32];
	struct fake_sched	 sched;
	struct output_hooks	 hooks;
	struct output		*out;
};

static char tmpdir[] = "/tmp/test_output.XXXXXX";

/* Captured fds. */
static int cap_saved[2] = { -1, -1 };
static char cap_path[2][256];

static void
fake_backpressure(int paused, void *arg)
{
	struct fake_sched *sc = arg;

	sc->paused = paused;
	if (paused)
		sc->pause_calls++;
	else
		sc->resume_calls++;
}

static void
fake_stdout_broken(void *arg)
{
	struct fake_sched *sc = arg;

	sc->stdout_broken++;
}

/* n hosts node01..nodeNN, all RUNNING; output not created yet. */
static void
fix_init(struct fix *f, size_t n)
{
	size_t i;

	memset(f, 0, sizeof *f);
	f->opt.gather_max = 1024 * 1024;
	f->base = event_base_new();
	f->s = xcalloc(n, sizeof *f->s);
	f->n = n;
	f->hooks.backpressure = fake_backpressure;
	f->hooks.stdout_broken = fake_stdout_broken;
	f->hooks.arg = &f->sched;
	for (i = 0; i < n; i++) {
		snprintf(f->names[i], sizeof f->names[i], "node%02zu", i + 1);
		f->hosts[i].name = f->names[i];
		f->hosts[i].label = f->names[i];
		f->s[i].idx = i;
		f->s[i].host = &f->hosts[i];
		f->s[i].user = "root";
		f->s[i].state = S_RUNNING;
	}
}

/* Create the output as the scheduler does. */
static struct output *
fix_output(struct fix *f)
{
	return output_new(&f->opt, f->base, f->s, f->n, &f->hooks);
}

static void
fix_free(struct fix *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		output_session_free(&f->s[i]);
	output_free(f->out);
	free(f->s);
	event_base_free(f->base);
}

/* Finish session i with an exit code. */
static void
fix_exit(struct fix *f, size_t i, int code)
{
	struct session *s = &f->s[i];

	output_eof(f->out, s, STREAM_STDOUT);
	output_eof(f->out, s, STREAM_STDERR);
	/* A signal set by the caller before: killed, else exited. */
	s->exit_how = s->exit_signal != 0 ? SX_SIGNAL : SX_STATUS;
	s->exit_code = code;
	s->state = S_DONE;
	output_session_done(f->out, s);
}

/* Fail session i with a reason. */
static void
fix_fail(struct fix *f, size_t i, enum fail_kind kind,
    enum session_state stage, const char *reason)
{
	struct session *s = &f->s[i];

	s->fail_kind = kind;
	s->fail_stage = stage;
	s->fail_reason = (char *)reason;
	s->state = S_FAILED;
	output_session_done(f->out, s);
}

static void
put(struct fix *f, size_t i, enum stream st, const char *str)
{
	output_data(f->out, &f->s[i], st, str, strlen(str));
}

/* Send fd 1 and fd 2 to fresh temporary files. */
static void
cap_start(void)
{
	int i, fd;

	fflush(stdout);
	fflush(stderr);
	for (i = 0; i < 2; i++) {
		snprintf(cap_path[i], sizeof cap_path[i], "%s/cap%d.XXXXXX",
		    tmpdir, i + 1);
		if ((fd = mkstemp(cap_path[i])) == -1) {
			perror("mkstemp");
			exit(99);
		}
		cap_saved[i] = dup(i + 1);
		dup2(fd, i + 1);
		close(fd);
	}
}

static char *
slurp(const char *path, size_t *lenp)
{
	FILE *fp;
	char *buf = NULL;
	size_t len = 0, n;
	char tmp[65536];

	if ((fp = fopen(path, "r")) == NULL) {
		*lenp = 0;
		return NULL;
	}
	while ((n = fread(tmp, 1, sizeof tmp, fp)) > 0) {
		buf = xreallocarray(buf, 1, len + n + 1);
		memcpy(buf + len, tmp, n);
		len += n;
	}
	fclose(fp);
	if (buf == NULL)
		buf = xstrdup("");
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

/* Put fd 1 and 2 back; return what was written to them. */
static void
cap_end(char **o, size_t *olen, char **e, size_t *elen)
{
	int i;

	fflush(stdout);
	fflush(stderr);
	for (i = 0; i < 2; i++) {
		dup2(cap_saved[i], i + 1);
		close(cap_saved[i]);
	}
	*o = slurp(cap_path[0], olen);
	*e = slurp(cap_path[1], elen);
	unlink(cap_path[0]);
	unlink(cap_path[1]);
}

static void
test_prefix(void)
{
	struct fix f;
	char *o, *e;
	size_t ol, el;

	fix_init(&f, 2);
	cap_start();
	f.out = fix_output(&f);
	put(&f, 0, STREAM_STDOUT, "hello\nworld\n");
	put(&f, 1, STREAM_STDERR, "oops\n");
	put(&f, 1, STREAM_STDOUT, "two\n");
	fix_exit(&f, 0, 0);
	fix_exit(&f, 1, 0);
	output_finish(f.out);
	fix_free(&f);
	cap_end(&o, &ol, &e, &el);
	is_str(o, "node01: hello\nnode01: world\nnode02: two\n",
	    "stdout lines prefixed with the label");
	is_str(e, "node02: oops\n", "stderr lines prefixed, on stderr");
	free(o);
	free(e);
}

static void
test_chunked(void)
{
	struct fix f;
	const char *a = "alpha line one\nalpha two\n";
	const char *b = "beta 1\nbeta 2\nbeta three\n";
	char *o, *e;
	size_t ol, el, i;

	fix_init(&f, 2);
	cap_start();
	f.out = fix_output(&f);
	/* One byte at a time, the two hosts interleaved. */
	for (i = 0; a[i] != '\0' || b[i] != '\0'; i++) {
		if (i < strlen(a))
			output_data(f.out, &f.s[0], STREAM_STDOUT, a + i, 1);
		if (i < strlen(b))
			output_data(f.out, &f.s[1], STREAM_STDOUT, b + i, 1);
	}
	fix_exit(&f, 0, 0);
	fix_exit(&f, 1, 0);
	output_finish(f.out);
	fix_free(&f);
	cap_end(&o, &ol, &e, &el);
	is_str(o, "node02: beta 1\nnode02: beta 2\nnode01: alpha line one\n"
	    "node01: alpha two\nnode02: beta three\n",
	    "lines split across calls are reassembled per host");
	is_str(e, "", "nothing on stderr");
	free(o);
	free(e);
}

/* A last line without newline, of size n, fed in odd chunks. */
static void
test_last_line(size_t n)
{
	struct fix f;
	char *data, *want, *o, *e, name[80];
	size_t ol, el, off, c;

	data = xmalloc(n);
	for (off = 0; off < n; off++)
		data[off] = 'a' + off % 26;
	fix_init(&f, 1);
	cap_start();
	f.out = fix_output(&f);
	for (off = 0; off < n; off += c) {
		c = n - off < 1000 ? n - off : 1000;
		output_data(f.out, &f.s[0], STREAM_STDOUT, data + off, c);
	}
	output_eof(f.out, &f.s[0], STREAM_STDOUT);
	output_eof(f.out, &f.s[0], STREAM_STDOUT);
	fix_exit(&f, 0, 0);
	output_finish(f.out);
	fix_free(&f);
	cap_end(&o, &ol, &e, &el);
	want = xmalloc(n + 10);
	memcpy(want, "node01: ", 8);
	memcpy(want + 8, data, n);
	want[n + 8] = '\n';
	snprintf(name, sizeof name, "last line of %zu bytes without newline "
	    "printed once, newline added", n);
	ok(ol == n + 9 && memcmp(o, want, n + 9) == 0, name);
	free(want);
	free(data);
	free(o);
	free(e);
}

static void
test_nolabel(void)
{
	struct fix f;
	char *o, *e;
	size_t ol, el;

	fix_init(&f, 1);
	f.opt.nolabel = 1;
	cap_start();
	f.out = fix_output(&f);
	put(&f, 0, STREAM_STDOUT, "plain\nlast");
	put(&f, 0, STREAM_STDERR, "err\n");
	fix_exit(&f, 0, 0);
	output_finish(f.out);
	fix_free(&f);
	cap_end(&o, &ol, &e, &el);
	is_str(o, "plain\nlast", "-N: no label, nothing added to a last line");
	is_str(e, "err\n", "-N: no label on stderr");
	free(o);
	free(e);
}

static void
test_binary(void)
{
	struct fix f;
	char data[4096], *want, *o, *e;
	size_t ol, el, i, wl, start;

	for (i = 0; i < sizeof data; i++)
		data[i] = (char)(i * 7 + i / 256);
	data[sizeof data - 1] = '\n';

	/* -N and a trailing newline: byte for byte the same. */
	fix_init(&f, 1);
	f.opt.nolabel = 1;
	cap_start();
	f.out = fix_output(&f);
	output_data(f.out, &f.s[0], STREAM_STDOUT, data, 1000);
	output_data(f.out, &f.s[0], STREAM_STDOUT, data + 1000,
	    sizeof data - 1000);
	fix_exit(&f, 0, 0);
	output_finish(f.out);
	fix_free(&f);
	cap_end(&o, &ol, &e, &el);
	ok(ol == sizeof data && memcmp(o, data, sizeof data) == 0,
	    "binary data (NUL, 0xff, CR...) passes byte-exact with -N");
	free(o);
	free(e);

	/* With labels: the label in front of every line, nothing else. */
	want = xmalloc(sizeof data * 10);
	wl = 0;
	start = 0;
	for (i = 0; i < sizeof data; i++) {
		if (data[i] != '\n')
			continue;
		memcpy(want + wl, "node01: ", 8);
		wl += 8;
		memcpy(want + wl, data + start, i + 1 - start);
		wl += i + 1 - start;
		start = i + 1;
	}
	fix_init(&f, 1);
	cap_start();
	f.out = fix_output(&f);
	output_data(f.out, &f.s[0], STREAM_STDOUT, data, sizeof data);
	fix_exit(&f, 0, 0);
	output_finish(f.out);
	fix_free(&f);
	cap_end(&o, &ol, &e, &el);
	ok(ol == wl && memcmp(o, want, wl) == 0,
	    "binary data byte-exact apart from the labels");
	free(want);
	free(o);
	free(e);
}

/*
 * A line longer than the 64 KiB cap: memory stays bounded; labelled it is
 * printed as labelled 64 KiB pieces, with -N byte for byte (issue 13).
 */
static void
test_long_line_mode(int nolabel)
{
	struct fix f;
	size_t n = 200 * 1024, ol, el, i, lines = 0, xs = 0, lab;
	char *data, *o, *e;

	data = xmalloc(n);
	memset(data, 'x', n);
	fix_init(&f, 1);
	f.opt.nolabel = nolabel;
	cap_start();
	f.out = fix_output(&f);
	for (i = 0; i < n; i += 4096)
		output_data(f.out, &f.s[0], STREAM_STDOUT, data + i, 4096);
	fix_exit(&f, 0, 0);
	output_finish(f.out);
	fix_free(&f);
	cap_end(&o, &ol, &e, &el);
	for (i = 0; i < ol; i++) {
		if (o[i] == '\n')
			lines++;
		else if (o[i] == 'x')
			xs++;
	}
	if (nolabel) {
		ok(ol == n && memcmp(o, data, n) == 0,
		    "-N: a 200 KiB line without newline comes out byte-exact");
		is_int(lines, 0, "-N: no newline inserted");
	} else {
		lab = strlen(f.names[0]) + 2;
		is_int(lines, 4, "a 200 KiB line is printed as 4 labelled pieces");
		ok(ol > lab + 65536 && o[lab + 65536] == '\n',
		    "first piece is 64 KiB");
		is_int(xs, n, "a 200 KiB line: every byte printed");
	}
	free(data);
	free(o);
	free(e);
}

static void
test_long_line(void)
{
	test_long_line_mode(1);
	test_long_line_mode(0);
}

static void
test_gather(void)
{
	struct fix f;
	char *o, *e;
	size_t ol, el;

	fix_init(&f, 8);
	f.opt.gather = 1;
	cap_start();
	f.out = fix_output(&f);
	/* Hosts finish in an order different from host order. */
	put(&f, 4, STREAM_STDOUT, "B");
	fix_exit(&f, 4, 0);
	put(&f, 1, STREAM_STDOUT, "A\n");
	put(&f, 1, STREAM_STDERR, "warn\n");
	fix_exit(&f, 1, 0);
	put(&f, 0, STREAM_STDOUT, "A");
	put(&f, 0, STREAM_STDOUT, "\n");
	fix_exit(&f, 0, 0);
	put(&f, 2, STREAM_STDOUT, "A\n");
	fix_exit(&f, 2, 0);
	put(&f, 3, STREAM_STDOUT, "A\n");
	fix_exit(&f, 3, 3);
	put(&f, 6, STREAM_STDOUT, "A\n");
	fix_exit(&f, 6, 0);
	fix_exit(&f, 5, 0);		/* no output: no group */
	put(&f, 7, STREAM_STDOUT, "A\n");
	f.s[7].exit_signal = SIGKILL;
	fix_exit(&f, 7, 0);
	output_finish(f.out);
	fix_free(&f);
	cap_end(&o, &ol, &e, &el);
	is_str(o,
	    "---------------\nnode[01-03,07] (4)\n---------------\nA\n"
	    "---------------\nnode05\n---------------\nB\n"
	    "---------------\nnode04\n---------------\nA\n"
	    "---------------\nnode08\n---------------\nA\n",
	    "-b: as clush -b: by exit code, then the largest group");
	is_str(e, "node02: warn\n"
	    "mrsh: node04: exited with exit code 3\n"
	    "mrsh: node08: exited with exit code 137\n"
	    "mrsh: 2 of 8 hosts exited non-zero: exit 3: node04; "
	    "signal KILL: node08\n",
	    "-b: stderr printed as it comes, then clush's exit code lines "
	    "and the summary");
	free(o);
	free(e);
}

static void
test_gather_cut(void)
{
	struct fix f;
	char *o, *e;
	size_t ol, el;

	fix_init(&f, 3);
	f.opt.gather = 1;
	f.opt.gather_max = 10;
	cap_start();
	f.out = fix_output(&f);
	put(&f, 0, STREAM_STDOUT, "0123456");
	put(&f, 0, STREAM_STDOUT, "789abcdef\nmore\n");
	fix_exit(&f, 0, 0);
	put(&f, 1, STREAM_STDOUT, "0123456789abc");
	fix_exit(&f, 1, 2);
	put(&f, 2, STREAM_STDOUT, "short\n");
	fix_exit(&f, 2, 0);
	output_finish(f.out);
	fix_free(&f);
	cap_end(&o, &ol, &e, &el);
	is_str(o,
	    "---------------\nnode01 (output cut at 10 bytes)\n"
	    "---------------\n0123456789\n"
	    "---------------\nnode03\n---------------\nshort\n"
	    "---------------\nnode02 (output cut at 10 bytes)\n"
	    "---------------\n0123456789\n",
	    "-b: output past gather_max cut, noted in the header");
	free(o);
	free(e);
}

static void
test_outdir(void)
{
	struct fix f;
	char od[512], ed[512], path[600], *o, *e, *c;
	size_t ol, el, cl;
	struct stat st;

	snprintf(od, sizeof od, "%s/out/a/b", tmpdir);
	snprintf(ed, sizeof ed, "%s/err", tmpdir);
	fix_init(&f, 4);
	f.hosts[1].label = "u/v";
	f.opt.outdir = od;
	f.opt.errdir = ed;
	cap_start();
	f.out = fix_output(&f);
	put(&f, 0, STREAM_STDOUT, "one\ntwo");
	put(&f, 0, STREAM_STDERR, "bad\n");
	put(&f, 1, STREAM_STDOUT, "slash\n");
	fix_exit(&f, 0, 0);
	fix_exit(&f, 1, 0);
	fix_exit(&f, 2, 0);
	fix_fail(&f, 3, FAIL_UNREACHABLE, S_CONNECTING, "connection refused");
	output_finish(f.out);
	fix_free(&f);
	cap_end(&o, &ol, &e, &el);
	ok(stat(od, &st) == 0 && S_ISDIR(st.st_mode),
	    "--outdir: nested directory created");
	is_str(o, "", "--outdir: nothing on stdout");
	is_str(e, "mrsh: 1 of 4 hosts failed: connection refused: node04\n",
	    "--errdir: nothing on stderr but the summary");
	snprintf(path, sizeof path, "%s/node01", od);
	c = slurp(path, &cl);
	is_str(c, "one\ntwo", "--outdir: raw stdout in DIR/label");
	free(c);
	snprintf(path, sizeof path, "%s/node01", ed);
	c = slurp(path, &cl);
	is_str(c, "bad\n", "--errdir: stderr in ERRDIR/label");
	free(c);
	snprintf(path, sizeof path, "%s/u_v", od);
	c = slurp(path, &cl);
	is_str(c, "slash\n", "--outdir: '/' in a label made '_'");
	free(c);
	snprintf(path, sizeof path, "%s/node03", od);
	ok(stat(path, &st) == 0 && st.st_size == 0,
	    "--outdir: empty file for a silent host");
	snprintf(path, sizeof path, "%s/node03", ed);
	ok(stat(path, &st) == 0 && st.st_size == 0,
	    "--errdir: empty file for a silent host");
	snprintf(path, sizeof path, "%s/node04", od);
	ok(stat(path, &st) == -1 && errno == ENOENT,
	    "--outdir: no file for a host that never ran");
	free(o);
	free(e);

	/* Files are truncated on a new run. */
	fix_init(&f, 1);
	f.opt.outdir = od;
	cap_start();
	f.out = fix_output(&f);
	put(&f, 0, STREAM_STDOUT, "x\n");
	fix_exit(&f, 0, 0);
	output_finish(f.out);
	fix_free(&f);
	cap_end(&o, &ol, &e, &el);
	snprintf(path, sizeof path, "%s/node01", od);
	c = slurp(path, &cl);
	is_str(c, "x\n", "--outdir: an old file is truncated");
	free(c);
	free(o);
	free(e);

	/* A directory that cannot be made. */
	snprintf(path, sizeof path, "%s/out/a/b/node01/sub", tmpdir);
	fix_init(&f, 1);
	f.opt.outdir = path;
	cap_start();
	f.out = fix_output(&f);
	cap_end(&o, &ol, &e, &el);
	ok(f.out == NULL, "unusable --outdir: output_new fails");
	fix_free(&f);
	ok(strstr(e, path) != NULL && strstr(e, strerror(ENOTDIR)) != NULL &&
	    strchr(e, '\n') == e + el - 1,
	    "unusable --outdir: one line naming it and the error");
	free(o);
	free(e);
}

static void
test_json_string(void)
{
	char *j;

	j = output_json_string("a\"b\\c\n\t\r\x01\x1f", 10);
	is_str(j, "\"a\\\"b\\\\c\\n\\t\\r\\u0001\\u001f\"",
	    "json: quotes, backslash, control characters escaped");
	free(j);
	j = output_json_string("nul\0x", 5);
	is_str(j, "\"nul\\u0000x\"", "json: NUL escaped");
	free(j);
	j = output_json_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	    14);
	is_str(j, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"",
	    "json: valid 2, 3 and 4 byte UTF-8 kept");
	free(j);
	j = output_json_string("\xff\xc3(", 3);
	is_str(j, "\"\\u00ff\\u00c3(\"", "json: invalid bytes as \\u00XX");
	free(j);
	j = output_json_string("\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80", 9);
	is_str(j, "\"\\u00c0\\u00af\\u00ed\\u00a0\\u0080\\u00f4\\u0090"
	    "\\u0080\\u0080\"",
	    "json: overlong, surrogate, > U+10FFFF rejected byte by byte");
	free(j);
	j = output_json_string("\xe2\x82", 2);
	is_str(j, "\"\\u00e2\\u0082\"", "json: truncated sequence mapped");
	free(j);
	j = output_json_string("", 0);
	is_str(j, "\"\"", "json: empty string");
	free(j);
}

/* Run python3 over a file of JSON lines; return its output. */
static char *
python_check(const char *path)
{
	char cmd[1024], buf[4096];
	FILE *fp;
	size_t n;

	snprintf(cmd, sizeof cmd, "python3 -c '"
	    "import json,sys\n"
	    "for l in open(sys.argv[1], encoding=\"utf-8\"):\n"
	    "  o = json.loads(l)\n"
	    "  t = o[\"timings\"]\n"
	    "  print(o[\"host\"], o[\"status\"], o[\"exit_code\"], "
	    "o[\"signal\"], o[\"stage\"], o[\"reason\"], ascii(o[\"stdout\"]), "
	    "ascii(o[\"stderr\"]), o[\"stdout_truncated\"], "
	    "o[\"stderr_truncated\"], o[\"port\"], o[\"user\"], "
	    "t[\"connect\"], t[\"setup\"], t[\"command\"], t[\"close\"], "
	    "t[\"total\"])\n"
	    "' %s 2>&1", path);
	if ((fp = popen(cmd, "r")) == NULL)
		return NULL;
	n = fread(buf, 1, sizeof buf - 1, fp);
	buf[n] = '\0';
	pclose(fp);
	return xstrdup(buf);
}

static void
set_tv(struct session *s, int st, long sec, long usec)
{
	s->t[st].tv_sec = sec;
	s->t[st].tv_usec = usec;
}

static void
test_json(void)
{
	struct fix f;
	char *o, *e, *py, path[512];
	size_t ol, el;
	FILE *fp;

	fix_init(&f, 3);
	f.opt.json = 1;
	f.opt.gather_max = 8;
	f.hosts[0].port = 2222;
	cap_start();
	f.out = fix_output(&f);
	put(&f, 0, STREAM_STDOUT, "say \"hi\"\n\xff");
	put(&f, 0, STREAM_STDERR, "caf\xc3\xa9\n");
	set_tv(&f.s[0], S_PENDING, 100, 0);
	set_tv(&f.s[0], S_SETUP, 100, 500000);
	set_tv(&f.s[0], S_RUNNING, 101, 0);
	set_tv(&f.s[0], S_CLOSING, 103, 250000);
	set_tv(&f.s[0], S_DONE, 103, 500000);
	fix_exit(&f, 0, 0);
	set_tv(&f.s[1], S_RESOLVING, 10, 0);
	set_tv(&f.s[1], S_CONNECTING, 10, 100000);
	set_tv(&f.s[1], S_FAILED, 12, 0);
	fix_fail(&f, 1, FAIL_UNREACHABLE, S_CONNECTING, "connection refused");
	put(&f, 2, STREAM_STDOUT, "x");
	f.s[2].exit_signal = SIGTERM;
	fix_exit(&f, 2, 0);
	output_finish(f.out);
	fix_free(&f);
	cap_end(&o, &ol, &e, &el);
	is_str(o,
	    "{\"host\":\"node01\",\"name\":\"node01\",\"user\":\"root\","
	    "\"port\":2222,\"status\":\"ok\",\"exit_code\":0,\"signal\":null,"
	    "\"stage\":null,\"reason\":null,\"timings\":{\"connect\":null,"
	    "\"setup\":0.500000,\"command\":2.250000,\"close\":0.250000,"
	    "\"total\":3.000000},\"stdout\":\"say \\\"hi\\\"\","
	    "\"stdout_truncated\":true,\"stderr\":\"caf\xc3\xa9\\n\","
	    "\"stderr_truncated\":false}\n"
	    "{\"host\":\"node02\",\"name\":\"node02\",\"user\":\"root\","
	    "\"port\":null,\"status\":\"failed\",\"exit_code\":null,"
	    "\"signal\":null,\"stage\":\"connecting\","
	    "\"reason\":\"connection refused\",\"timings\":{"
	    "\"connect\":2.000000,\"setup\":null,\"command\":null,"
	    "\"close\":null,\"total\":2.000000},\"stdout\":\"\","
	    "\"stdout_truncated\":false,\"stderr\":\"\","
	    "\"stderr_truncated\":false}\n"
	    "{\"host\":\"node03\",\"name\":\"node03\",\"user\":\"root\","
	    "\"port\":null,\"status\":\"signal\",\"exit_code\":null,"
	    "\"signal\":\"TERM\",\"stage\":null,\"reason\":null,\"timings\":{"
	    "\"connect\":null,\"setup\":null,\"command\":null,\"close\":null,"
	    "\"total\":null},\"stdout\":\"x\",\"stdout_truncated\":false,"
	    "\"stderr\":\"\",\"stderr_truncated\":false}\n",
	    "--json: one exact object per host per line, nothing else");
	is_str(e, "mrsh: 1 of 3 hosts failed: connection refused: node02; "
	    "signal TERM: node03\n", "--json: summary on stderr");

	snprintf(path, sizeof path, "%s/json", tmpdir);
	fp = fopen(path, "w");
	fwrite(o, 1, ol, fp);
	fclose(fp);
	free(o);
	free(e);
	if (system("command -v python3 >/dev/null 2>&1") != 0) {
		ok(1, "# SKIP no python3 to parse the JSON back");
		ok(1, "# SKIP no python3 to parse the JSON back");
		return;
	}
	py = python_check(path);
	is_str(py,
	    "node01 ok 0 None None None 'say \"hi\"' 'caf\\xe9\\n' True False "
	    "2222 root None 0.5 2.25 0.25 3.0\n"
	    "node02 failed None None connecting connection refused '' '' "
	    "False False None root 2.0 None None None 2.0\n"
	    "node03 signal None TERM None None 'x' '' False False None root "
	    "None None None None None\n",
	    "--json: python3 json.loads reads every line back");
	free(py);

	/* Invalid UTF-8 in a host's output still gives valid JSON. */
	fix_init(&f, 1);
	f.opt.json = 1;
	cap_start();
	f.out = fix_output(&f);
	output_data(f.out, &f.s[0], STREAM_STDOUT, "a\xff\x00\x80z", 5);
	fix_exit(&f, 0, 0);
	output_finish(f.out);
	fix_free(&f);
	cap_end(&o, &ol, &e, &el);
	fp = fopen(path, "w");
	fwrite(o, 1, ol, fp);
	fclose(fp);
	py = python_check(path);
	ok(py != NULL && strstr(py, "node01 ok 0 None None None "
	    "'a\\xff\\x00\\x80z'") == py,
	    "--json: invalid bytes read back as U+00XX");
	free(py);
	free(o);
	free(e);
}

static void
test_summary(void)
{
	struct fix f;
	char *o, *e;
	size_t ol, el, i;

	fix_init(&f, 20);
	cap_start();
	f.out = fix_output(&f);
	for (i = 19; i >= 7; i--)
		fix_exit(&f, i, 0);
	fix_exit(&f, 6, 3);
	fix_fail(&f, 4, FAIL_TIMEOUT, S_RUNNING, "command timeout after 2s");
	for (i = 0; i < 3; i++)
		fix_fail(&f, i, FAIL_UNREACHABLE, S_CONNECTING,
		    "connection refused");
	fix_fail(&f, 3, FAIL_TIMEOUT, S_RUNNING, "command timeout after 2s");
	fix_exit(&f, 5, 3);
	output_finish(f.out);
	fix_free(&f);
	cap_end(&o, &ol, &e, &el);
	is_str(o, "", "summary: nothing on stdout");
	is_str(e, "mrsh: 5 of 20 hosts failed: connection refused: "
	    "node[01-03]; command timeout after 2s: node[04-05]; "
	    "exit 3: node[06-07]\n",
	    "summary: one line, grouped by reason, compressed ranges");
	free(o);
	free(e);

	fix_init(&f, 3);
	cap_start();
	f.out = fix_output(&f);
	for (i = 0; i < 3; i++)
		fix_exit(&f, i, 0);
	output_finish(f.out);
	fix_free(&f);
	cap_end(&o, &ol, &e, &el);
	is_str(e, "", "summary: nothing when every host exited 0");
	free(o);
	free(e);
}

static void
test_progress(void)
{
	struct fix f;
	struct output_counts c = { 1, 2, 0 };
	char *o, *e;
	size_t ol, el;

	fix_init(&f, 3);
	f.opt.progress = 1;
	cap_start();
	f.out = fix_output(&f);
	output_progress(f.out, &c);
	put(&f, 0, STREAM_STDERR, "e\n");
	output_progress_erase(f.out);
	output_progress(f.out, &c);
	output_progress(f.out, &c);	/* unchanged: not drawn again */
	c.done = 2;
	c.running = 0;
	c.failed = 1;
	output_progress(f.out, &c);
	output_progress_erase(f.out);
	output_progress_erase(f.out);	/* nothing shown: nothing to erase */
	fix_free(&f);
	cap_end(&o, &ol, &e, &el);
	is_str(e, "\r[done 1, running 2, failed 0, total 3]\033[K\r\033[K"
	    "node01: e\n"
	    "\r[done 1, running 2, failed 0, total 3]\033[K"
	    "\r[done 2, running 0, failed 1, total 3]\033[K\r\033[K",
	    "progress drawn when it changes, erased before a line and at "
	    "the end");
	free(o);
	free(e);
}

static int
fl_nonblock(int fd)
{
	return (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0;
}

static void
test_backpressure(void)
{
	struct fix f;
	char line[8192], buf[65536];
	int p[2], saved, blocked = 0, nonblock, k;
	size_t sent = 0, got = 0;
	int idle, resumed;
	ssize_t n;

	memset(line, 'y', sizeof line - 1);
	line[sizeof line - 1] = '\n';
	fix_init(&f, 1);
	f.opt.nolabel = 1;
	if (pipe(p) == -1)
		exit(99);
	fflush(stdout);
	saved = dup(1);
	dup2(p[1], 1);
	close(p[1]);
	f.out = fix_output(&f);
	nonblock = fl_nonblock(1);
	/* Nobody reads: keep writing until the module says stop. */
	for (k = 0; k < 10000 && !output_blocked(f.out); k++) {
		output_data(f.out, &f.s[0], STREAM_STDOUT, line, sizeof line);
		sent += sizeof line;
	}
	blocked = output_blocked(f.out);
	k = f.sched.paused;
	/*
	 * Now read and let the write event drain it. The read end does not
	 * block, so a module that stops writing fails the test, not hangs it.
	 */
	fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
	idle = 0;
	while (got < sent && idle < 1000) {
		event_base_loop(f.base, EVLOOP_NONBLOCK);
		n = read(p[0], buf, sizeof buf);
		if (n <= 0) {
			idle++;
			usleep(1000);
			continue;
		}
		idle = 0;
		got += (size_t)n;
	}
	/* No reader left: a flush of what was not drained cannot hang. */
	resumed = !output_blocked(f.out) && f.sched.paused == 0;
	close(p[0]);
	output_free(f.out);
	f.out = NULL;
	dup2(saved, 1);
	close(saved);
	ok(nonblock, "stdout pipe made non-blocking for the run");
	ok(blocked, "a pipe nobody reads: output_blocked() becomes true");
	ok(k == 1 && f.sched.pause_calls == 1,
	    "the backpressure hook was told to pause, once");
	ok(sent < 8 * 1024 * 1024, "paused before 8 MiB were queued");
	is_int(got, sent, "every byte arrives once the reader reads");
	ok(resumed, "drained: the hook was told to resume");
	ok(f.sched.resume_calls == 1 && f.sched.pause_calls == 1,
	    "resumed once, not paused again");
	fix_free(&f);
}

static void
test_restore_flags(void)
{
	struct fix f;
	int p[2], saved, during, after;

	fix_init(&f, 1);
	if (pipe(p) == -1)
		exit(99);
	fflush(stdout);
	saved = dup(1);
	dup2(p[1], 1);
	close(p[1]);
	f.out = fix_output(&f);
	during = fl_nonblock(1);
	output_flush(f.out);
	after = fl_nonblock(1);
	fix_free(&f);
	dup2(saved, 1);
	close(saved);
	close(p[0]);
	ok(during && !after, "output_flush restores fd 1's flags");
}

static void
test_epipe(void)
{
	struct fix f;
	int p[2], saved;

	fix_init(&f, 1);
	if (pipe(p) == -1)
		exit(99);
	close(p[0]);
	fflush(stdout);
	saved = dup(1);
	dup2(p[1], 1);
	close(p[1]);
	f.out = fix_output(&f);
	put(&f, 0, STREAM_STDOUT, "into the void\n");
	put(&f, 0, STREAM_STDOUT, "more\n");
	fix_exit(&f, 0, 0);
	output_finish(f.out);
	dup2(saved, 1);
	close(saved);
	ok(f.sched.stdout_broken == 1,
	    "EPIPE on stdout: the stdout_broken hook, once");
	fix_free(&f);
}

int
main(void)
{
	char cmd[600];

	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	test_prefix();
	test_chunked();
	test_last_line(1024);
	test_last_line(8192);
	test_last_line(10240);
	test_nolabel();
	test_binary();
	test_long_line();
	test_gather();
	test_gather_cut();
	test_outdir();
	test_json_string();
	test_json();
	test_summary();
	test_progress();
	test_backpressure();
	test_restore_flags();
	test_epipe();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		diag("could not remove %s", tmpdir);
	return done_testing();
}
