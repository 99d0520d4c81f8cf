/*
 * A minimal TAP producer for the unit tests: ok(), is_int(), is_str(),
 * skip(), skip_n(), done_testing(). Each test binary prints "1..N" at the end.
 */
#ifndef MRSH_TAP_H
#define MRSH_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static int __attribute__((unused))
tap_ok(int cond, const char *file, int line, const char *name)
{
	tap_n++;
	printf("%sok %d - %s\n", cond ? "" : "not ", tap_n, name);
	if (!cond) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return cond;
}

static int __attribute__((unused))
tap_is_int(long long got, long long want, const char *file, int line,
    const char *name)
{
	int r = tap_ok(got == want, file, line, name);
	if (!r)
		printf("#   got %lld, want %lld\n", got, want);
	return r;
}

static int __attribute__((unused))
tap_is_str(const char *got, const char *want, const char *file, int line,
    const char *name)
{
	int eq = (got == NULL && want == NULL) ||
	    (got != NULL && want != NULL && strcmp(got, want) == 0);
	int r = tap_ok(eq, file, line, name);
	if (!r)
		printf("#   got \"%s\", want \"%s\"\n", got ? got : "(null)",
		    want ? want : "(null)");
	return r;
}

/* A test point that cannot run here: "ok N - name # SKIP reason". */
static void __attribute__((unused))
skip(const char *name, const char *reason)
{
	tap_n++;
	printf("ok %d - %s # SKIP %s\n", tap_n, name, reason);
	fflush(stdout);
}

/* n test points that cannot run here. */
static void __attribute__((unused))
skip_n(int n, const char *reason)
{
	while (n-- > 0) {
		tap_n++;
		printf("ok %d # SKIP %s\n", tap_n, reason);
	}
	fflush(stdout);
}

#define ok(c, name)		tap_ok(!!(c), __FILE__, __LINE__, (name))
#define is_int(g, w, name)	tap_is_int((g), (w), __FILE__, __LINE__, (name))
#define is_str(g, w, name)	tap_is_str((g), (w), __FILE__, __LINE__, (name))
#define diag(...)		(printf("# " __VA_ARGS__), printf("\n"))

static int __attribute__((unused))
done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
