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
set -u
srcdir=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$srcdir/build-coverage}
command -v gcov >/dev/null || { echo "coverage.sh: gcov not found" >&2; exit 1; }
[ -x "$srcdir/configure" ] || (cd "$srcdir" && ./autogen.sh >/dev/null 2>&1) ||
	{ echo "coverage.sh: autogen.sh failed" >&2; exit 1; }
rm -rf "$build"
mkdir -p "$build" && cd "$build" || exit 1
"$srcdir/configure" --enable-fault-injection CFLAGS="-O0 -g --coverage" LDFLAGS="--coverage" \
	>configure.out 2>&1 || { tail -20 configure.out; exit 1; }
make -j2 >make.out 2>&1 || { tail -40 make.out; exit 1; }
# Tests run mrsh as other users (setpriv): let them write counter files
# in the build tree, and send libgcov's complaints (about a .gcda another
# user made) to a file instead of a stderr a test checks. No umask 000:
# mrsh refuses config files others may write, as ssh does.
# The counter files of mrsh's objects exist before the tests run (made by
# one run of mrsh here), so that a test running mrsh as nobody adds to
# them instead of failing to create them as root's (libgcov would say so
# on the stderr the test checks).
./mrsh --version >/dev/null 2>&1
chmod -R a+rwX . 2>/dev/null
export GCOV_ERROR_FILE=$build/gcov-errors.log
make -j2 check >check.out 2>&1
echo "coverage.sh: make check exited $? (see $build/check.out)"

# gcov's summary per source file: "File 'X'" then "Lines executed:P% of N".
cd "$build" || exit 1
for f in "$srcdir"/src/*.c; do
	gcov -n -o src "$f" 2>/dev/null
done | awk -v src="$srcdir/src/" '
/^File / {
	file = $2; gsub(/\x27/, "", file)
	next
}
/^Lines executed:/ {
	if (index(file, src) != 1 || seen[file]++)
		next
	split($2, a, ":"); pct = a[2]; sub(/%$/, "", pct)
	n = $4; hit = int(pct * n / 100 + 0.5)
	name = substr(file, length(src) + 1)
	printf "%-22s %6.1f%% of %5d lines\n", name, pct, n
	tot += n; cov += hit
}
END {
	if (tot == 0) { print "coverage: no data"; exit 1 }
	printf "coverage: src/ %.1f%% of lines (%d of %d)\n", 100 * cov / tot, cov, tot
}'
