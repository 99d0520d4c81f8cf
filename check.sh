#!/bin/bash
# Build mrsh with -Werror and ASan+UBSan and run the whole test suite (unit
# tests, and integration tests against real sshd and in.rshd started on
# loopback / in private network namespaces), twice: once against the
# system's libssh2 (1.10 on Debian 12) and once against libssh2 1.11.1 built
# from Debian 13's source package by contrib/build-libssh2.sh and linked
# statically. Ends with one line "N passed, N failed, N skipped" that counts
# every test point of both runs.
#
#   ./check.sh              install dependencies (apt-get, as root), build, test
#   ./check.sh --no-deps    skip the apt-get step
#   ./check.sh [--no-deps] --libssh2=system|1.11.1|both   (default: both)
#   ./check.sh [--no-deps] --serial   the two passes one after the other
#                                     (default: side by side)
#
# Builds go to ./build-check/system and ./build-check/libssh2-1.11.1; test
# logs are build-check/*/tests/**/*.log, sanitizer reports
# build-check/*/tests/sanitizer/* (each one a failure). libssh2 1.11.1 is built once into
# ./build-check/deps/libssh2-1.11.1 and reused by later runs. Other
# arguments go to configure.
set -u
cd "$(dirname "$0")" || exit 1
top=$(pwd)

deps=1
which=both
serial=0
jobs=2
while [ $# -gt 0 ]; do
	case $1 in
	--no-deps) deps=0 ;;
	--serial) serial=1 ;;
	--libssh2=system|--libssh2=1.11.1|--libssh2=both) which=${1#--libssh2=} ;;
	--libssh2=*)
		echo "check.sh: --libssh2= takes system, 1.11.1 or both" >&2
		exit 2 ;;
	*) break ;;
	esac
	shift
done

if [ "$deps" = 1 ]; then
	contrib/install-deps.sh || exit 1
fi

# An in-tree ./configure blocks out-of-tree builds: clean it first.
if [ -f config.status ]; then
	echo "check.sh: the source tree was configured in place; make distclean" >&2
	make distclean >/dev/null 2>&1 || rm -f config.status
fi
./autogen.sh >/dev/null 2>&1 || { echo "check.sh: autogen.sh failed" >&2; exit 1; }
mkdir -p build-check
rm -rf build-check/system build-check/libssh2-1.11.1 build-check/tests \
    build-check/Makefile

total_pass=0 total_fail=0 total_skip=0 status=0
names=()

# build_suite NAME CONFIGURE-ARGS...: configure and build in
# build-check/NAME; on failure count one failed test point.
build_suite() {
	local name=$1 dir=$top/build-check/$1
	shift
	mkdir -p "$dir"
	echo "==== check.sh: $name: build"
	if ! (cd "$dir" && "$top/configure" --enable-werror --enable-sanitizers \
	    "$@" >configure.out 2>&1); then
		tail -20 "$dir/configure.out"
		echo "==== check.sh: $name: configure failed"
		total_fail=$((total_fail + 1)) status=1
		return 1
	fi
	if ! make -C "$dir" -j2 >"$dir/make.out" 2>&1; then
		tail -40 "$dir/make.out"
		echo "==== check.sh: $name: build failed"
		total_fail=$((total_fail + 1)) status=1
		return 1
	fi
	"$dir/mrsh" -V | sed 's/^/# /'
	names+=("$name")
}

# test_suite NAME EXPECT: make check in build-check/NAME, its output in
# check.out there, its exit status in check.rc. EXPECT tells the tests
# which libssh2 the binary must have (t0209 checks it).
test_suite() {
	local dir=$top/build-check/$1
	MRSH_EXPECT_LIBSSH2=$2 make -C "$dir" -j"$jobs" check \
	    >"$dir/check.out" 2>&1
	echo $? >"$dir/check.rc"
}

# count_suite NAME: print a pass's output and failures, add its test
# points to the totals.
count_suite() {
	local name=$1 dir=$top/build-check/$1 rc pass=0 fail=0 skip=0 res f nsan
	echo "==== check.sh: $name: make check"
	cat "$dir/check.out"
	rc=$(cat "$dir/check.rc" 2>/dev/null || echo 1)
	# Count every TAP test point over all test programs.
	while read -r res; do
		case $res in
		PASS|XFAIL) pass=$((pass + 1)) ;;
		SKIP) skip=$((skip + 1)) ;;
		*) fail=$((fail + 1)) ;;
		esac
	done < <(find "$dir/tests" -name '*.trs' \
	    -exec sed -n 's/^:test-result: //p' {} + 2>/dev/null)
	# Every sanitizer report is a failure, also from a run whose exit
	# status or stderr a test ignored (log_path: see AM_TESTS_ENVIRONMENT).
	nsan=$(find "$dir/tests/sanitizer" -type f 2>/dev/null | wc -l)
	if [ "$nsan" != 0 ]; then
		sh "$top/tests/sanitizer-reports.sh" "$dir/tests/sanitizer"
		fail=$((fail + nsan))
		rc=1
	fi
	if [ "$rc" != 0 ] && [ "$fail" = 0 ]; then
		fail=1	# the harness failed without a failing test point
	fi
	for f in $(find "$dir/tests" -name '*.log' ! -name test-suite.log); do
		if grep -q '^not ok\|^ERROR\|^# FAIL' "$f" 2>/dev/null; then
			echo "---- $name: $f"
			grep -v '^ok ' "$f" | tail -30
		fi
	done
	echo "==== check.sh: $name: $pass passed, $fail failed, $skip skipped"
	total_pass=$((total_pass + pass)) total_fail=$((total_fail + fail))
	total_skip=$((total_skip + skip))
	[ "$rc" = 0 ] || status=1
}

# Build both first (libssh2 1.11.1 is fetched and built, or found in its
# cache, while the system build runs), then test.
prefix=$top/build-check/deps/libssh2-1.11.1
if [ "$which" != system ]; then
	contrib/build-libssh2.sh "$prefix" >build-check/build-libssh2.out 2>&1 &
	libssh2_pid=$!
fi
if [ "$which" != 1.11.1 ]; then
	build_suite system "$@"
fi
if [ "$which" != system ]; then
	if wait "$libssh2_pid"; then
		cat build-check/build-libssh2.out
		build_suite libssh2-1.11.1 --with-libssh2="$prefix" "$@"
	else
		cat build-check/build-libssh2.out
		echo "==== check.sh: contrib/build-libssh2.sh failed"
		total_fail=$((total_fail + 1)) status=1
	fi
fi

# The two passes run side by side (each make check -j$jobs), so that CI
# takes about one pass's time: the tests wait on servers and timers more
# than they use the CPU, and none shares a port, a file or a network
# namespace with another. --serial runs them one after the other.
pids=()
for name in "${names[@]}"; do
	case $name in
	system) expect=system ;;
	*) expect=1.11.1 ;;
	esac
	if [ "$serial" = 1 ]; then
		test_suite "$name" "$expect"
	else
		test_suite "$name" "$expect" &
		pids+=($!)
	fi
done
for pid in "${pids[@]}"; do
	wait "$pid"
done
for name in "${names[@]}"; do
	count_suite "$name"
done
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
exit "$status"
