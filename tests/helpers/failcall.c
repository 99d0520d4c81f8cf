/*
 * failcall: a test-only LD_PRELOAD shim that makes chosen libc calls fail
 * with a chosen errno on a schedule, so that the tests can run what mrsh
 * does when a system call fails (socket, bind, listen, accept, connect,
 * send, socketpair, pipe, fork, fchmod, utimensat, ...): things a test cannot provoke on a
 * shared machine otherwise. Built by make check (tests/helpers/failcall.so),
 * never installed.
 *
 *	LD_PRELOAD=tests/helpers/failcall.so \
 *	MRSH_FAILCALL='bind=EADDRNOTAVAIL@2,listen=EMFILE@1*' mrsh ...
 *
 * MRSH_FAILCALL is a comma-separated list of rules NAME=ERRNO@N: the Nth
 * call (from 1) of NAME in the process fails with ERRNO, without reaching
 * libc; "@N-M" fails the Nth to the Mth call, "@N*" the Nth and every later
 * one. ERRNO is a name
 * (EMFILE) or a number. A call is counted whether it fails or not; more
 * than one rule may name the same function. An unknown name or errno, or
 * a malformed rule, ends the process with status 125 and a line on stderr.
 *
 * The shim acts only in a process whose name (program_invocation_short_name)
 * is MRSH_FAILCALL_PROG, "mrsh" by default, so that wrappers (timeout, env,
 * setsid) pass through it untouched. There it removes LD_PRELOAD and its own
 * variables from the environment at start, so that what mrsh runs (exec
 * commands, ProxyCommands) neither loads it nor inherits the schedule.
 * With MRSH_FAILCALL_LOG=FILE it appends "failcall: NAME #N: ERRNO" to FILE
 * for each call it fails (and, with MRSH_FAILCALL_TRACE=1, "NAME #N" for
 * each one it lets through), so a test can check that its rule hit.
 *
 * It is built without sanitizer or coverage instrumentation: it goes into
 * the process before libasan, whose interceptors its own calls then reach
 * through dlsym(RTLD_NEXT); ASan's start-up check of the library order has
 * to be turned off (ASAN_OPTIONS=verify_asan_link_order=0).
 */
#undef _FORTIFY_SOURCE
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sys/types.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum fc_func {
	FC_socket, FC_bind, FC_listen, FC_getsockname, FC_getpeername,
	FC_accept, FC_accept4, FC_connect, FC_send, FC_sendto, FC_recv,
	FC_recvfrom, FC_shutdown, FC_socketpair, FC_pipe, FC_pipe2, FC_fork,
	FC_fcntl, FC_setsockopt, FC_getsockopt, FC_getrlimit, FC_waitpid,
	FC_poll, FC_getrandom, FC_open, FC_fchmod, FC_chmod, FC_futimens,
	FC_utimensat,
	FC_NFUNCS
};

static const char *const fc_names[FC_NFUNCS] = {
	"socket", "bind", "listen", "getsockname", "getpeername",
	"accept", "accept4", "connect", "send", "sendto", "recv",
	"recvfrom", "shutdown", "socketpair", "pipe", "pipe2", "fork",
	"fcntl", "setsockopt", "getsockopt", "getrlimit", "waitpid",
	"poll", "getrandom", "open", "fchmod", "chmod", "futimens",
	"utimensat"
};

#define FC_MAX_RULES	32

struct fc_rule {
	enum fc_func	func;
	int		err;
	unsigned long	nth;		/* the first call that fails */
	unsigned long	last;		/* the last one; 0: no end ("@N*") */
};

static const struct {
	const char	*name;
	int		 err;
} fc_errnos[] = {
	{ "EPERM", EPERM }, { "ENOENT", ENOENT }, { "EINTR", EINTR },
	{ "EIO", EIO }, { "EBADF", EBADF }, { "ECHILD", ECHILD },
	{ "EAGAIN", EAGAIN }, { "EWOULDBLOCK", EWOULDBLOCK },
	{ "ENOMEM", ENOMEM }, { "EACCES", EACCES }, { "EFAULT", EFAULT },
	{ "EINVAL", EINVAL }, { "ENFILE", ENFILE }, { "EMFILE", EMFILE },
	{ "ENOSPC", ENOSPC }, { "EPIPE", EPIPE }, { "ENOSYS", ENOSYS },
	{ "ENOTSOCK", ENOTSOCK }, { "EPROTONOSUPPORT", EPROTONOSUPPORT },
	{ "EAFNOSUPPORT", EAFNOSUPPORT }, { "EADDRINUSE", EADDRINUSE },
	{ "EADDRNOTAVAIL", EADDRNOTAVAIL }, { "ENETDOWN", ENETDOWN },
	{ "ENETUNREACH", ENETUNREACH }, { "ECONNABORTED", ECONNABORTED },
	{ "ECONNRESET", ECONNRESET }, { "ENOBUFS", ENOBUFS },
	{ "ENOTCONN", ENOTCONN }, { "ETIMEDOUT", ETIMEDOUT },
	{ "ECONNREFUSED", ECONNREFUSED }, { "EHOSTUNREACH", EHOSTUNREACH },
	{ "EALREADY", EALREADY }, { "EINPROGRESS", EINPROGRESS },
	{ "EPROTO", EPROTO }, { "EOPNOTSUPP", EOPNOTSUPP },
};

static struct fc_rule	fc_rules[FC_MAX_RULES];
static size_t		fc_nrules;
static unsigned long	fc_calls[FC_NFUNCS];
static int		fc_active;	/* the schedule applies here */
static int		fc_trace;
static int		fc_logfd = -1;

/* A bad MRSH_FAILCALL must not let a test pass without its faults. */
static void
fc_bad(const char *what, const char *text)
{
	fprintf(stderr, "failcall: %s: %s\n", what, text);
	_exit(125);
}

/* An errno by name or number. */
static int
fc_errno(const char *s, size_t len)
{
	char		buf[32];
	char		*end;
	long		v;
	size_t		i;

	if (len == 0 || len >= sizeof buf)
		return (-1);
	memcpy(buf, s, len);
	buf[len] = '\0';
	for (i = 0; i < sizeof fc_errnos / sizeof fc_errnos[0]; i++)
		if (strcmp(buf, fc_errnos[i].name) == 0)
			return (fc_errnos[i].err);
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0 || v > 4095)
		return (-1);
	return ((int)v);
}

/* A call number of a rule: digits only, not 0. */
static unsigned long
fc_callno(const char *s, size_t n, const char *all)
{
	char		 num[24];
	char		*end;
	unsigned long	 v;

	if (n == 0 || n >= sizeof num || s[0] < '0' || s[0] > '9')
		fc_bad("bad call number", all);
	memcpy(num, s, n);
	num[n] = '\0';
	errno = 0;
	v = strtoul(num, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0)
		fc_bad("bad call number", all);
	return (v);
}

/* One rule, NAME=ERRNO@N, @N-M or @N*, of len bytes at s. */
static void
fc_parse_rule(const char *s, size_t len, const char *all)
{
	struct fc_rule	*r;
	const char	*eq, *at, *dash, *end = s + len;
	size_t		 i, n;

	if (fc_nrules == FC_MAX_RULES)
		fc_bad("too many rules", all);
	r = &fc_rules[fc_nrules];
	eq = memchr(s, '=', len);
	at = memchr(s, '@', len);
	if (eq == NULL || at == NULL || at < eq)
		fc_bad("want NAME=ERRNO@N, @N-M or @N*", all);
	for (i = 0; i < FC_NFUNCS; i++)
		if (strlen(fc_names[i]) == (size_t)(eq - s) &&
		    strncmp(fc_names[i], s, (size_t)(eq - s)) == 0)
			break;
	if (i == FC_NFUNCS)
		fc_bad("no such call here", all);
	r->func = (enum fc_func)i;
	if ((r->err = fc_errno(eq + 1, (size_t)(at - eq - 1))) == -1)
		fc_bad("bad errno", all);
	n = (size_t)(end - at - 1);
	if (n > 0 && at[n] == '*') {
		r->nth = fc_callno(at + 1, n - 1, all);
		r->last = 0;
	} else if ((dash = memchr(at + 1, '-', n)) != NULL) {
		r->nth = fc_callno(at + 1, (size_t)(dash - at - 1), all);
		r->last = fc_callno(dash + 1, (size_t)(end - dash - 1), all);
		if (r->last < r->nth)
			fc_bad("bad call range", all);
	} else
		r->nth = r->last = fc_callno(at + 1, n, all);
	fc_nrules++;
}

/*
 * At load: in the chosen program, read the schedule and take the shim out
 * of the environment its children get.
 */
__attribute__((constructor)) static void
fc_init(void)
{
	const char	*spec, *prog, *log, *p, *comma;

	prog = getenv("MRSH_FAILCALL_PROG");
	if (prog == NULL || *prog == '\0')
		prog = "mrsh";
	if (strcmp(program_invocation_short_name, prog) != 0)
		return;
	if ((spec = getenv("MRSH_FAILCALL")) != NULL) {
		for (p = spec; *p != '\0'; p = comma + 1) {
			if ((comma = strchr(p, ',')) == NULL)
				comma = p + strlen(p);
			if (comma > p)
				fc_parse_rule(p, (size_t)(comma - p), spec);
			if (*comma == '\0')
				break;
		}
	}
	if ((log = getenv("MRSH_FAILCALL_LOG")) != NULL && *log != '\0')
		fc_logfd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		    0644);
	p = getenv("MRSH_FAILCALL_TRACE");
	fc_trace = p != NULL && strcmp(p, "1") == 0;
	unsetenv("LD_PRELOAD");
	unsetenv("MRSH_FAILCALL");
	unsetenv("MRSH_FAILCALL_PROG");
	unsetenv("MRSH_FAILCALL_LOG");
	unsetenv("MRSH_FAILCALL_TRACE");
	fc_active = 1;
}

/* One line to the log, with write(2) only: no stdio inside a libc call. */
static void
fc_log(enum fc_func f, unsigned long n, int err)
{
	char	buf[96];
	int	len;

	if (fc_logfd == -1)
		return;
	if (err != 0)
		len = snprintf(buf, sizeof buf, "failcall: %s #%lu: %s\n",
		    fc_names[f], n, strerrorname_np(err) != NULL ?
		    strerrorname_np(err) : "?");
	else
		len = snprintf(buf, sizeof buf, "%s #%lu\n", fc_names[f], n);
	if (len > 0 && (size_t)len < sizeof buf)
		(void)!write(fc_logfd, buf, (size_t)len);
}

/* Count the call; the errno to fail it with, or 0 to let it through. */
static int
fc_check(enum fc_func f)
{
	unsigned long	n;
	size_t		i;

	if (!fc_active)
		return (0);
	n = __atomic_add_fetch(&fc_calls[f], 1, __ATOMIC_RELAXED);
	for (i = 0; i < fc_nrules; i++) {
		if (fc_rules[i].func != f)
			continue;
		if (n >= fc_rules[i].nth &&
		    (fc_rules[i].last == 0 || n <= fc_rules[i].last)) {
			fc_log(f, n, fc_rules[i].err);
			return (fc_rules[i].err);
		}
	}
	if (fc_trace)
		fc_log(f, n, 0);
	return (0);
}

static void *
fc_next(const char *name)
{
	void	*p;

	if ((p = dlsym(RTLD_NEXT, name)) == NULL) {
		fprintf(stderr, "failcall: no next %s\n", name);
		_exit(125);
	}
	return (p);
}

#define FC_WRAP(ret, name, params, args)				\
ret									\
name params								\
{									\
	static ret	(*real) params;					\
	int		 e;						\
									\
	if ((e = fc_check(FC_##name)) != 0) {				\
		errno = e;						\
		return ((ret)-1);					\
	}								\
	if (real == NULL)						\
		real = (ret (*) params)fc_next(#name);			\
	return (real args);						\
}

FC_WRAP(int, socket, (int d, int t, int p), (d, t, p))
FC_WRAP(int, bind, (int fd, __CONST_SOCKADDR_ARG a, socklen_t l), (fd, a, l))
FC_WRAP(int, listen, (int fd, int n), (fd, n))
FC_WRAP(int, getsockname, (int fd, __SOCKADDR_ARG a, socklen_t *l),
    (fd, a, l))
FC_WRAP(int, getpeername, (int fd, __SOCKADDR_ARG a, socklen_t *l),
    (fd, a, l))
FC_WRAP(int, accept, (int fd, __SOCKADDR_ARG a, socklen_t *l), (fd, a, l))
FC_WRAP(int, accept4, (int fd, __SOCKADDR_ARG a, socklen_t *l, int fl),
    (fd, a, l, fl))
FC_WRAP(int, connect, (int fd, __CONST_SOCKADDR_ARG a, socklen_t l),
    (fd, a, l))
FC_WRAP(ssize_t, send, (int fd, const void *b, size_t n, int fl),
    (fd, b, n, fl))
FC_WRAP(ssize_t, sendto, (int fd, const void *b, size_t n, int fl,
    __CONST_SOCKADDR_ARG a, socklen_t l), (fd, b, n, fl, a, l))
FC_WRAP(ssize_t, recv, (int fd, void *b, size_t n, int fl), (fd, b, n, fl))
FC_WRAP(ssize_t, recvfrom, (int fd, void *b, size_t n, int fl,
    __SOCKADDR_ARG a, socklen_t *l), (fd, b, n, fl, a, l))
FC_WRAP(int, shutdown, (int fd, int how), (fd, how))
FC_WRAP(int, socketpair, (int d, int t, int p, int sv[2]), (d, t, p, sv))
FC_WRAP(int, pipe, (int fds[2]), (fds))
FC_WRAP(int, pipe2, (int fds[2], int fl), (fds, fl))
FC_WRAP(pid_t, fork, (void), ())
FC_WRAP(int, setsockopt, (int fd, int lv, int o, const void *v, socklen_t l),
    (fd, lv, o, v, l))
FC_WRAP(int, getsockopt, (int fd, int lv, int o, void *v, socklen_t *l),
    (fd, lv, o, v, l))
FC_WRAP(int, getrlimit, (__rlimit_resource_t r, struct rlimit *rl), (r, rl))
FC_WRAP(pid_t, waitpid, (pid_t p, int *st, int o), (p, st, o))
FC_WRAP(int, poll, (struct pollfd *fds, nfds_t n, int ms), (fds, n, ms))
FC_WRAP(ssize_t, getrandom, (void *b, size_t n, unsigned int fl), (b, n, fl))
FC_WRAP(int, fchmod, (int fd, mode_t m), (fd, m))
FC_WRAP(int, chmod, (const char *path, mode_t m), (path, m))
FC_WRAP(int, futimens, (int fd, const struct timespec t[2]), (fd, t))
FC_WRAP(int, utimensat, (int d, const char *path, const struct timespec t[2],
    int fl), (d, path, t, fl))

/* Variadic: the third argument, when there is one, is an int or a pointer. */
int
fcntl(int fd, int cmd, ...)
{
	static int	(*real)(int, int, ...);
	va_list		 ap;
	void		*arg;
	int		 e;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	if ((e = fc_check(FC_fcntl)) != 0) {
		errno = e;
		return (-1);
	}
	if (real == NULL)
		real = (int (*)(int, int, ...))fc_next("fcntl");
	return (real(fd, cmd, arg));
}

int
open(const char *path, int flags, ...)
{
	static int	(*real)(const char *, int, ...);
	va_list		 ap;
	mode_t		 mode = 0;
	int		 e;

	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	if ((e = fc_check(FC_open)) != 0) {
		errno = e;
		return (-1);
	}
	if (real == NULL)
		real = (int (*)(const char *, int, ...))fc_next("open");
	return (real(path, flags, mode));
}
