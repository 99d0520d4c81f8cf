#!/bin/sh
# sanitizer-reports.sh DIR: print every AddressSanitizer, LeakSanitizer and
# UndefinedBehaviorSanitizer report the test suite left in DIR (the tests
# run with ASAN_OPTIONS/UBSAN_OPTIONS/LSAN_OPTIONS log_path=DIR/TEST, see
# AM_TESTS_ENVIRONMENT in Makefile.am), then one line "N sanitizer
# report(s)". Exit 1 when there is at least one: a report fails the suite
# even from a run whose exit status or stderr the test ignored.
dir=${1:?usage: sanitizer-reports.sh DIR}
n=0
if [ -d "$dir" ]; then
	for f in $(find "$dir" -type f | sort); do
		n=$((n + 1))
		echo "---- sanitizer report $f"
		head -c 20000 "$f"
	done
fi
echo "$n sanitizer report(s) in $dir"
[ "$n" = 0 ]
