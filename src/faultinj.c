/*
 * Fault injection under libssh2, for the tests (see faultinj.h): built
 * only with --enable-fault-injection (on with --enable-sanitizers), and
 * inert unless MRSH_FAULT is set. It then sits in front of the recv and
 * send callbacks of every libssh2 session (targets, jump hosts, copies)
 * and, on a schedule, makes a call say EAGAIN without touching the socket
 * or move fewer bytes than asked. A loopback sshd never fills a socket
 * buffer, so without it the suite never runs what mrsh does when libssh2
 * is left with a half-sent packet (a keepalive, a window adjust inside a
 * read, a channel close or disconnect during the cleanup) or when the
 * cleanup outlives --close-wait.
 *
 * MRSH_FAULT is a comma-separated list of rules and options:
 *
 *	DIR=KIND[:every=N][:p=PERCENT][:cut=N][:closing|:open]
 *	seed=N
 *
 * DIR is recv or send; KIND is eagain (the call says EAGAIN) or short
 * (it moves half the bytes asked, rounded up; with cut=N all but the last
 * N, and always at least one byte). every=N faults every Nth call the rule
 * sees, p=PERCENT each call with that chance (a generator seeded by
 * seed=N, default 1); both: either fires. closing: the rule sees only the
 * calls of sessions whose graceful cleanup began, so that
 * "send=eagain:every=1:closing" holds every cleanup until --close-wait
 * resets it; open: only the calls of the others. The first rule of a
 * direction that fires decides the call.
 * For example:
 *
 *	MRSH_FAULT="recv=eagain:every=3,send=short:every=2,seed=7"
 *
 * At exit one line per rule goes to stderr, "mrsh: fault injection:
 * RULE: F of C calls" (F faults made in C calls seen), so that a test can
 * check that its schedule really hit.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh2.h>

#include "mrsh/faultinj.h"
#include "mrsh/log.h"
#include "mrsh/xmalloc.h"

#ifdef MRSH_COVERAGE
void	__gcov_dump(void);	/* libgcov: tests/coverage.sh builds */
#endif

#define FAULTINJ_MAX_RULES	16

enum faultinj_dir {
	FI_RECV = 0,
	FI_SEND
};

enum faultinj_kind {
	FI_EAGAIN = 0,
	FI_SHORT
};

struct faultinj_rule {
	char			*text;		/* as written, for the report */
	enum faultinj_dir	 dir;
	enum faultinj_kind	 kind;
	unsigned long		 every;		/* 0: not by count */
	unsigned int		 pct;		/* 0: not by chance */
	size_t			 cut;		/* short: bytes kept back */
	int			 closing;	/* 1: closing sessions only,
						   -1: the others only */
	unsigned long long	 calls;
	unsigned long long	 faults;
};

/* The sessions seen, and which of them are cleaning up. */
struct faultinj_sess {
	void			*arg;
	int			 closing;
};

static struct faultinj_rule	 faultinj_rules[FAULTINJ_MAX_RULES];
static int			 faultinj_nrules;
static int			 faultinj_parsed;	/* MRSH_FAULT read */
static uint64_t			 faultinj_rng = 1;
static faultinj_recv_fn		*faultinj_real_recv;
static struct faultinj_sess	*faultinj_sess;
static size_t			 faultinj_nsess;

/* xorshift64*: the same faults for the same seed and calls. */
static unsigned int
faultinj_random(unsigned int n)
{
	faultinj_rng ^= faultinj_rng >> 12;
	faultinj_rng ^= faultinj_rng << 25;
	faultinj_rng ^= faultinj_rng >> 27;
	return ((unsigned int)((faultinj_rng * 2685821657736338717ULL) >>
	    33) % n);
}

/* A decimal number of at most max; -1 if s is not one. */
static long long
faultinj_number(const char *s, long long max)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < 0 || v > max)
		return (-1);
	return (v);
}

/* One "DIR=KIND[:opt]..." rule or "seed=N"; -1 if malformed. */
static int
faultinj_parse_one(char *tok)
{
	struct faultinj_rule	*fr;
	char			*opt, *val, *p = tok;
	long long		 v;

	if (strncmp(tok, "seed=", 5) == 0) {
		if ((v = faultinj_number(tok + 5, INT64_MAX)) < 0)
			return (-1);
		faultinj_rng = v == 0 ? 1 : (uint64_t)v;
		return (0);
	}
	if (faultinj_nrules == FAULTINJ_MAX_RULES)
		return (-1);
	fr = &faultinj_rules[faultinj_nrules];
	memset(fr, 0, sizeof *fr);
	fr->text = xstrdup(tok);
	if (strncmp(p, "recv=", 5) == 0)
		fr->dir = FI_RECV;
	else if (strncmp(p, "send=", 5) == 0)
		fr->dir = FI_SEND;
	else
		goto bad;
	p += 5;
	opt = strsep(&p, ":");
	if (strcmp(opt, "eagain") == 0)
		fr->kind = FI_EAGAIN;
	else if (strcmp(opt, "short") == 0)
		fr->kind = FI_SHORT;
	else
		goto bad;
	while ((opt = strsep(&p, ":")) != NULL) {
		if (strcmp(opt, "closing") == 0 || strcmp(opt, "open") == 0) {
			fr->closing = strcmp(opt, "open") == 0 ? -1 : 1;
			continue;
		}
		if ((val = strchr(opt, '=')) == NULL)
			goto bad;
		*val++ = '\0';
		if (strcmp(opt, "every") == 0 &&
		    (v = faultinj_number(val, 1000000)) > 0)
			fr->every = (unsigned long)v;
		else if (strcmp(opt, "p") == 0 &&
		    (v = faultinj_number(val, 100)) > 0)
			fr->pct = (unsigned int)v;
		else if (strcmp(opt, "cut") == 0 && fr->kind == FI_SHORT &&
		    (v = faultinj_number(val, 1000000)) > 0)
			fr->cut = (size_t)v;
		else
			goto bad;
	}
	if (fr->every == 0 && fr->pct == 0)
		goto bad;
	faultinj_nrules++;
	return (0);
bad:
	free(fr->text);
	fr->text = NULL;
	return (-1);
}

/* At exit: what each rule did; then free everything. */
static void
faultinj_report(void)
{
	struct faultinj_rule	*fr;
	int			 i;

	for (i = 0; i < faultinj_nrules; i++) {
		fr = &faultinj_rules[i];
		fprintf(stderr, "%s: fault injection: %s: %llu of %llu "
		    "calls\n", log_progname(), fr->text, fr->faults,
		    fr->calls);
		free(fr->text);
	}
	fflush(stderr);
	faultinj_nrules = 0;
	free(faultinj_sess);
	faultinj_sess = NULL;
	faultinj_nsess = 0;
}

/* Read MRSH_FAULT once; a malformed one ends the run (exit 255). */
static void
faultinj_parse(void)
{
	const char	*env;
	char		*copy, *p, *tok, *text;

	faultinj_parsed = 1;
	if ((env = getenv("MRSH_FAULT")) == NULL || *env == '\0')
		return;
	copy = p = xstrdup(env);
	while ((tok = strsep(&p, ",")) != NULL) {
		if (*tok == '\0')
			continue;
		/* The parser cuts tok at ':' and '='; quote it whole. */
		text = xstrdup(tok);
		if (faultinj_parse_one(tok) != 0) {
			/*
			 * A mistake in a test: stop at once, and by _exit(),
			 * since exit() would have LeakSanitizer report the
			 * run's memory, still in use here.
			 */
			fprintf(stderr, "%s: MRSH_FAULT: cannot use \"%s\" "
			    "(see src/faultinj.c)\n", log_progname(), text);
#ifdef MRSH_COVERAGE
			/* _exit() skips libgcov's write of the counters. */
			__gcov_dump();
#endif
			_exit(255);
		}
		free(text);
	}
	free(copy);
	if (atexit(faultinj_report) != 0)
		fatalx("atexit failed");
}

static struct faultinj_sess *
faultinj_find(void *arg)
{
	size_t	i;

	for (i = 0; i < faultinj_nsess; i++) {
		if (faultinj_sess[i].arg == arg)
			return (&faultinj_sess[i]);
	}
	return (NULL);
}

/*
 * The rule that decides this call of direction dir for session arg, or
 * NULL: every rule that sees the call counts it.
 */
static struct faultinj_rule *
faultinj_decide(enum faultinj_dir dir, void *arg)
{
	struct faultinj_rule	*fr, *hit = NULL;
	struct faultinj_sess	*fs;
	int			 i, fire, closing = -1;

	for (i = 0; i < faultinj_nrules; i++) {
		fr = &faultinj_rules[i];
		if (fr->dir != dir)
			continue;
		if (fr->closing != 0) {
			if (closing == -1)
				closing = (fs = faultinj_find(arg)) != NULL &&
				    fs->closing;
			if (closing != (fr->closing == 1))
				continue;
		}
		fr->calls++;
		fire = (fr->every > 0 && fr->calls % fr->every == 0) ||
		    (fr->pct > 0 && faultinj_random(100) < fr->pct);
		if (fire && hit == NULL)
			hit = fr;
	}
	return (hit);
}

/*
 * Is fd still a socket? The transport frees a session without waiting by
 * pointing its fd at /dev/null first (ssh_free_now), counting on every
 * call failing at once: those calls are never faulted, or libssh2 would
 * keep its objects, waiting to repeat them.
 */
static int
faultinj_live(libssh2_socket_t fd)
{
	int		type;
	socklen_t	len = sizeof type;

	return (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0);
}

/* How many of len bytes a short call moves (0: the call is not cut). */
static size_t
faultinj_short_len(const struct faultinj_rule *fr, size_t len)
{
	if (len <= 1)
		return (0);
	if (fr->cut > 0)
		return (fr->cut < len ? len - fr->cut : 1);
	return ((len + 1) / 2);
}

static ssize_t
faultinj_recv(libssh2_socket_t fd, void *buf, size_t len, int flags,
    void **abstract)
{
	struct faultinj_rule	*fr;
	size_t			 n;

	if ((fr = faultinj_decide(FI_RECV, *abstract)) != NULL &&
	    faultinj_live(fd)) {
		if (fr->kind == FI_EAGAIN) {
			fr->faults++;
			return (-EAGAIN);
		}
		if ((n = faultinj_short_len(fr, len)) > 0) {
			fr->faults++;
			len = n;
		}
	}
	return (faultinj_real_recv(fd, buf, len, flags, abstract));
}

/* send() as libssh2's own callback makes it: -errno on failure. */
static ssize_t
faultinj_send(libssh2_socket_t fd, const void *buf, size_t len, int flags,
    void **abstract)
{
	struct faultinj_rule	*fr;
	ssize_t			 n;
	size_t			 m;

	if ((fr = faultinj_decide(FI_SEND, *abstract)) != NULL &&
	    faultinj_live(fd)) {
		if (fr->kind == FI_EAGAIN) {
			fr->faults++;
			return (-EAGAIN);
		}
		if ((m = faultinj_short_len(fr, len)) > 0) {
			fr->faults++;
			len = m;
		}
	}
	if ((n = send(fd, buf, len, flags)) == -1)
		return (-errno);
	return (n);
}

void
faultinj_install(LIBSSH2_SESSION *ssh, void *arg, faultinj_recv_fn *recv_cb)
{
	struct faultinj_sess	*fs;

	if (!faultinj_parsed)
		faultinj_parse();
	if (faultinj_nrules == 0)
		return;
	if (faultinj_real_recv != NULL && faultinj_real_recv != recv_cb)
		fatalx("one recv callback for every session");
	faultinj_real_recv = recv_cb;
	/* A new session may have the address of a freed one. */
	if ((fs = faultinj_find(arg)) == NULL) {
		faultinj_sess = xreallocarray(faultinj_sess,
		    faultinj_nsess + 1, sizeof *faultinj_sess);
		fs = &faultinj_sess[faultinj_nsess++];
		fs->arg = arg;
	}
	fs->closing = 0;
#ifdef HAVE_LIBSSH2_SESSION_CALLBACK_SET2
	libssh2_session_callback_set2(ssh, LIBSSH2_CALLBACK_RECV,
	    (libssh2_cb_generic *)faultinj_recv);
	libssh2_session_callback_set2(ssh, LIBSSH2_CALLBACK_SEND,
	    (libssh2_cb_generic *)faultinj_send);
#else
	libssh2_session_callback_set(ssh, LIBSSH2_CALLBACK_RECV,
	    (void *)faultinj_recv);
	libssh2_session_callback_set(ssh, LIBSSH2_CALLBACK_SEND,
	    (void *)faultinj_send);
#endif
}

void
faultinj_closing(void *arg)
{
	struct faultinj_sess	*fs;

	if ((fs = faultinj_find(arg)) != NULL)
		fs->closing = 1;
}
