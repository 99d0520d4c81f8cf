#!/bin/bash
# Build mrsh with -Werror and ASan+UBSan and run the whole test suite (unit
# tests, and integration tests against real sshd and in.rshd started on
# loopback / in private network namespaces). Ends with "N passed, N failed".
#
#   ./check.sh              install dependencies (apt-get, as root), build, test
#   ./check.sh --no-deps    skip the apt-get step
#
# The build goes to ./build-check; test logs are build-check/tests/**/*.log,
# sanitizer reports build-check/tests/sanitizer/* (each one a failure).
set -u
cd "$(dirname "$0")" || exit 1

if [ "${1:-}" = --no-deps ]; then
	shift
else
	contrib/install-deps.sh || exit 1
fi

# An in-tree ./configure blocks out-of-tree builds: clean it first.
if [ -f config.status ]; then
	echo "check.sh: the source tree was configured in place; make distclean" >&2
	make distclean >/dev/null 2>&1 || rm -f config.status
fi
./autogen.sh >/dev/null 2>&1 || { echo "check.sh: autogen.sh failed" >&2; exit 1; }
rm -rf build-check
mkdir build-check
cd build-check || exit 1
../configure --enable-werror --enable-sanitizers "$@" >configure.out 2>&1 || {
	tail -20 configure.out
	echo "0 passed, 1 failed"
	exit 1
}
if ! make -j2 >make.out 2>&1; then
	tail -40 make.out
	echo "0 passed, 1 failed"
	exit 1
fi
make -j2 check
rc=$?

# Count every TAP test point over all test programs.
pass=0 fail=0 skip=0
while read -r res; do
	case $res in
	PASS|XFAIL) pass=$((pass + 1)) ;;
	SKIP) skip=$((skip + 1)) ;;
	*) fail=$((fail + 1)) ;;
	esac
done < <(find tests -name '*.trs' -exec sed -n 's/^:test-result: //p' {} + 2>/dev/null)
# Every sanitizer report is a failure, also from a run whose exit status
# or stderr a test ignored (log_path: see AM_TESTS_ENVIRONMENT).
nsan=$(find tests/sanitizer -type f 2>/dev/null | wc -l)
if [ "$nsan" != 0 ]; then
	sh ../tests/sanitizer-reports.sh tests/sanitizer
	fail=$((fail + nsan))
	rc=1
fi
if [ "$rc" != 0 ] && [ "$fail" = 0 ]; then
	fail=1	# the harness failed without a failing test point
fi
for f in $(find tests -name '*.log' ! -name test-suite.log); do
	if grep -q '^not ok\|^ERROR\|^# FAIL' "$f" 2>/dev/null; then
		echo "---- $f"
		grep -v '^ok ' "$f" | tail -30
	fi
done
echo "$pass passed, $fail failed, $skip skipped"
exit "$rc"
