#!/bin/bash
# coverage.sh [BUILDDIR]: line coverage of src/ from the whole test suite.
# Builds the tree with gcc --coverage (no sanitizers, -O0; with the
# test-only fault injector, so that t0604 runs) in BUILDDIR
# (default ./build-coverage, made from scratch), runs make check there (its
# result does not matter here: a failing test still covers lines), and
# prints per file and in total the share of src/'s lines the suite ran,
# from gcov (part of gcc; no other tool needed). Run it as "make coverage"
# or directly from the source tree. The last line reads
#   coverage: src/ NN.N% of lines (COVERED of TOTAL)
#
# With COVERAGE_LIBSSH2=PREFIX (a libssh2 built by contrib/build-libssh2.sh,
# as CI's second pass uses) the suite also runs, side by side, in a second
# build against it (BUILDDIR-libssh2), and the report is of both together,
# as CI runs the suite: a line counts when either build compiled it, and
# as run when either run ran it (code under #ifdef for one libssh2 counts
# in that build only). The single build's total is printed first.
# MRSH_COVERAGE is defined: the fault injector's refusal of a malformed
# MRSH_FAULT ends with _exit() (no LeakSanitizer report of memory still in
# use) and writes the counters first (__gcov_dump), or its tested lines
# would count as never run.
# COVERAGE_TESTS="tests/unit/test_copy ..." runs only those tests (the
# coverage of one file's tests while working on it).
set -u
srcdir=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$srcdir/build-coverage}
alt=${COVERAGE_LIBSSH2:-}
command -v gcov >/dev/null || { echo "coverage.sh: gcov not found" >&2; exit 1; }
[ -x "$srcdir/configure" ] || (cd "$srcdir" && ./autogen.sh >/dev/null 2>&1) ||
	{ echo "coverage.sh: autogen.sh failed" >&2; exit 1; }
if [ -n "$alt" ] && [ ! -f "$alt/lib/libssh2.a" ]; then
	echo "coverage.sh: no libssh2.a under COVERAGE_LIBSSH2=$alt" >&2
	exit 1
fi

# cov_build DIR [CONFIGURE-ARG...]: a --coverage build in DIR, from scratch.
cov_build() {
	local dir=$1

	shift
	rm -rf "$dir"
	mkdir -p "$dir" || return 1
	(cd "$dir" && "$srcdir/configure" --enable-fault-injection \
		CPPFLAGS="-DMRSH_COVERAGE" CFLAGS="-O0 -g --coverage" \
		LDFLAGS="--coverage" "$@" \
		>configure.out 2>&1) || { tail -20 "$dir/configure.out"; return 1; }
	(cd "$dir" && make -j2 >make.out 2>&1) || { tail -40 "$dir/make.out"; return 1; }
}

# cov_check DIR: the suite in DIR.
# Tests run mrsh as other users (setpriv): let them write counter files
# in the build tree, and send libgcov's complaints (about a .gcda another
# user made) to a file instead of a stderr a test checks. No umask 000:
# mrsh refuses config files others may write, as ssh does.
# The counter files of mrsh's objects exist before the tests run (made by
# one run of mrsh here), so that a test running mrsh as nobody adds to
# them instead of failing to create them as root's (libgcov would say so
# on the stderr the test checks).
cov_check() {
	(
		cd "$1" || exit 1
		./mrsh --version >/dev/null 2>&1
		chmod -R a+rwX . 2>/dev/null
		export GCOV_ERROR_FILE=$1/gcov-errors.log
		make -j2 check ${COVERAGE_TESTS:+TESTS="$COVERAGE_TESTS"} \
			>check.out 2>&1
		echo "coverage.sh: make check in $1 exited $? (see $1/check.out)"
	)
}

# cov_lines DIR: "FILE LINE RUN" for every line gcov counts in src/*.c as
# compiled in DIR (RUN 1 if it ran, else 0).
cov_lines() {
	local f

	for f in "$srcdir"/src/*.c; do
		(cd "$1" && gcov -t -o src "$f" 2>/dev/null) |
			awk -v name="${f##*/}" -F: '
			/^ *-:/ || /^ *[0-9]+:/ && $2 + 0 == 0 { next }
			{
				c = $1; gsub(/ /, "", c); n = $2 + 0
				if (c == "#####" || c == "=====") print name, n, 0
				else if (c ~ /^[0-9]+\*?$/) print name, n, 1
			}'
	done
}

cov_build "$build" || exit 1
if [ -n "$alt" ]; then
	cov_build "$build-libssh2" --with-libssh2="$alt" || exit 1
	cov_check "$build" &
	cov_check "$build-libssh2"
	wait
else
	cov_check "$build"
fi

# The per-file table and the total: of the one build, then of both.
report() {
	awk '
	{
		k = $1 " " $2
		if (!(k in run)) { run[k] = 0; lines[$1]++; tot++ }
		if ($3 == 1 && run[k] == 0) { run[k] = 1; hit[$1]++; cov++ }
	}
	END {
		if (tot == 0) { print "2 coverage: no data"; exit 1 }
		for (f in lines)
			printf "1 %-22s %6.1f%% of %5d lines\n", f,
			    100 * hit[f] / lines[f], lines[f]
		printf "2 coverage: src/ %.1f%% of lines (%d of %d)\n",
		    100 * cov / tot, cov, tot
	}' | LC_ALL=C sort | cut -c 3-
}
cov_lines "$build" >"$build/lines.txt"
if [ -z "$alt" ]; then
	report <"$build/lines.txt"
	exit
fi
cov_lines "$build-libssh2" >"$build-libssh2/lines.txt"
echo "coverage: with the system libssh2 alone:"
report <"$build/lines.txt" | tail -n 1
echo "coverage: with $alt alone:"
report <"$build-libssh2/lines.txt" | tail -n 1
echo "coverage: both builds together (as CI runs the suite):"
cat "$build/lines.txt" "$build-libssh2/lines.txt" | report
