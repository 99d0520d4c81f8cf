# TAP helpers for the integration tests (bash). Source it first:
#   . "$top_srcdir/tests/integration/lib.sh"
# then ok/is/like/skip ... and end with done_testing. $MRSH is the binary
# under test; make_tmpdir gives a directory removed when the test exits.

tap_n=0
tap_failed=0
trap tap_cleanup EXIT

# ok RC DESC: passes when RC is 0 (a command's exit status).
ok() {
	tap_n=$((tap_n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
	fi
}

# is GOT WANT DESC: string equality.
is() {
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "got:  '$1'"
		diag "want: '$2'"
	fi
}

# like GOT ERE DESC: extended regular expression match (multi-line GOT).
like() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "got:  '$(printf '%s' "$1" | head -c 2000)'"
		diag "want match: /$2/"
	fi
}

# skip DESC REASON: a test point that cannot run here (says why).
skip() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1 # SKIP $2"
}

diag() {
	printf '%s\n' "$*" | sed 's/^/# /'
}

# wait_for SECS CMD: poll CMD (a string for eval) every 0.1 s, up to SECS.
wait_for() {
	local deadline=$((SECONDS + $1))

	while [ "$SECONDS" -le "$deadline" ]; do
		eval "$2" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

make_tmpdir() {
	local d

	# $$ is the test script's pid even in $(...): tap_cleanup finds it.
	d=$(mktemp -d "${TMPDIR:-/tmp}/mrsh-test.$$.XXXXXX") || exit 1
	echo "$d"
}

tap_cleanup() {
	rm -rf "${TMPDIR:-/tmp}"/mrsh-test.$$.* 2>/dev/null
}

done_testing() {
	echo "1..$tap_n"
	[ "$tap_failed" = 0 ]
	exit $?
}
