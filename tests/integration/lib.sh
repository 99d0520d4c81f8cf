# TAP helpers for the integration tests (bash). Source it first:
#   . "$top_srcdir/tests/integration/lib.sh"
# then ok/is/like/unlike/grepok/pass/fail/skip ... and end with
# done_testing (plan N first if the count is known up front). $MRSH is the binary
# under test; make_tmpdir gives a directory removed when the test exits;
# at_exit registers more cleanup (run last-first); start_sshd N starts the
# private sshd of tests/helpers/sshd.sh for N loopback hosts (start_sshd_test
# N: with T=$(make_tmpdir) and the $MRSH check); reexec_in_netns re-runs the
# file in private namespaces (root) with lo up.

# Defaults so that a test also runs by hand: bash tests/integration/tNNNN.sh
: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${MRSH:=$top_builddir/mrsh}"
export top_srcdir top_builddir MRSH
# Never the machine's /etc/mrsh.conf or ~/.config/mrsh, nor pdsh's WCOLL
# and FANOUT from the caller's environment: a test sets what it needs.
export MRSH_CONF=""
unset WCOLL FANOUT
# Known leaks of libraries (not ours) under ASan: see tests/lsan.supp.
case ${LSAN_OPTIONS:-} in
*lsan.supp*) ;;
*) LSAN_OPTIONS="suppressions=$top_srcdir/tests/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
	export LSAN_OPTIONS ;;
esac

tap_n=0
tap_failed=0
tap_plan=
tap_at_exit=()
# The key of this test's temp dirs: its pid, and its pid namespace (a test
# re-run in one by reexec_in_netns is pid 1 there, as are others at the
# same time, whose cleanup must not take this test's dirs; the "-ns" keeps
# them out of the mrsh-test.1.* that older copies of lib.sh remove).
tap_tmpkey=$$-ns$(readlink /proc/self/ns/pid 2>/dev/null | tr -cd 0-9)
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

# pass DESC / fail DESC: a test point the caller decided itself.
pass() {
	ok 0 "$1"
}

fail() {
	ok 1 "$1"
}

# grepok ERE FILE DESC: some line of FILE matches ERE (grep -E); when none
# does, the start of FILE is shown.
grepok() {
	if grep -Eq -- "$1" "$2" 2>/dev/null; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "want a line matching /$1/ in $2:"
		head -20 "$2" 2>/dev/null | sed 's/^/#   /'
	fi
}

# skip DESC REASON: a test point that cannot run here (says why).
skip() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1 # SKIP $2"
}

# skip_n N REASON: N test points that cannot run here.
skip_n() {
	local i

	for ((i = 0; i < $1; i++)); do
		tap_n=$((tap_n + 1))
		echo "ok $tap_n # SKIP $2"
	done
}

# plan N: announce N test points up front (done_testing then checks that
# exactly N ran instead of printing the plan).
plan() {
	tap_plan=$1
	echo "1..$1"
}

# unlike GOT ERE DESC: no line of GOT matches.
unlike() {
	if ! printf '%s\n' "$1" | grep -Eq -- "$2"; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "got:  '$(printf '%s' "$1" | head -c 2000)'"
		diag "want no match: /$2/"
	fi
}

diag() {
	printf '%s\n' "$*" | sed 's/^/# /'
}

# capture DIR CMD...: run CMD with stdin from ${CAPTURE_STDIN:-/dev/null},
# stdout in DIR/out, stderr in DIR/err, killed after ${CAPTURE_TIMEOUT:-120}
# s (so a hang fails instead of stalling the run); RC is its exit status
# (124: it had to be killed).
capture() {
	local dir=$1

	shift
	timeout -k 5 "${CAPTURE_TIMEOUT:-120}" "$@" <"${CAPTURE_STDIN:-/dev/null}" \
		>"$dir/out" 2>"$dir/err"
	RC=$?
	[ "$RC" != 124 ] || diag "killed after ${CAPTURE_TIMEOUT:-120} s: $*"
}

# skip_all REASON: the whole file cannot run here (before any test point).
skip_all() {
	echo "1..0 # SKIP $1"
	exit 0
}

# bail_out REASON: something every later test needs is broken.
bail_out() {
	echo "Bail out! $1"
	exit 1
}

# need_cmd CMD...: skip the file when a program it needs is not installed.
need_cmd() {
	local c

	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip_all "$c not installed"
	done
}

# at_exit CMD: run CMD (a string for eval) when the test exits.
at_exit() {
	tap_at_exit+=("$1")
}

# free_port: a TCP port nobody listens on right now (bind to port 0).
free_port() {
	local py=/usr/bin/python3

	[ -x "$py" ] || py=python3
	"$py" -c 'import socket
s = socket.socket()
s.bind(("0.0.0.0", 0))
print(s.getsockname()[1])'
}

# hold_ports PORT...: a foreign program (tests/helpers/port-holder.py)
# listening on each TCP port on 0.0.0.0, up when this returns 0; its pid
# in HOLDER, killed at exit or by release_ports.
hold_ports() {
	local out

	out=$(make_tmpdir)/holder.out
	python3 "$top_srcdir/tests/helpers/port-holder.py" "$@" \
		</dev/null >"$out" 2>&1 &
	HOLDER=$!
	at_exit "kill $HOLDER"
	wait_for 60 "grep -q ready '$out'" && return 0
	diag "port-holder.py did not start: $(head -c 500 "$out")"
	return 1
}

# release_ports: stop the hold_ports program (by pid) and wait for it.
release_ports() {
	[ -n "${HOLDER:-}" ] || return 0
	kill "$HOLDER" 2>/dev/null
	wait "$HOLDER" 2>/dev/null
	HOLDER=
}

# fake_server MODE [ADDRESS]: tests/helpers/fake-server.py (see its head
# for the modes) on a free port of ADDRESS (127.0.0.1), killed at exit;
# the port in FAKE_PORT, the pid in FAKE_PID. Bails out if it does not
# start.
fake_server() {
	local d pf

	d=$(make_tmpdir)
	pf=$d/port
	python3 "$top_srcdir/tests/helpers/fake-server.py" "$1" "$pf" \
		${2:+"$2"} </dev/null >/dev/null 2>"$d/err" &
	FAKE_PID=$!
	at_exit "kill $FAKE_PID"
	wait_for 60 "[ -s '$pf' ]" ||
		bail_out "fake-server.py $1 did not start: $(head -c 500 "$d/err")"
	FAKE_PORT=$(cat "$pf")
}

# sanitizer_reports: print the sanitizer reports this test has left so far
# (the files under ASAN_OPTIONS' last log_path, which make check sets; see
# Makefile.am). Nothing when reports go to stderr instead.
sanitizer_reports() {
	local p=${ASAN_OPTIONS:-}

	case $p in
	*log_path=*) ;;
	*) return 0 ;;
	esac
	p=${p##*log_path=}
	p=${p%%:*}
	case $p in
	stderr|stdout|"") return 0 ;;
	esac
	cat "$p".* 2>/dev/null
	return 0
}

# mrsh_libssh2 built|running: the libssh2 version the binary under test was
# built with, or runs with ("1.11.1"), from its -V: tests expect what the
# binary has, not what pkg-config says the system has.
mrsh_libssh2() {
	"$MRSH" -V 2>/dev/null | sed -n "s/^libssh2: built with \([^,]*\), running with \([^ ]*\).*/\\$([ "$1" = built ] && echo 1 || echo 2)/p"
}

# libssh2_at_least X.Y: the binary under test runs with libssh2 >= X.Y.
libssh2_at_least() {
	local v
	v=$(mrsh_libssh2 running)
	[ -n "$v" ] || return 1
	[ "$(printf '%s\n%s\n' "$1" "$v" | sort -V | head -n 1)" = "$1" ]
}

# start_sshd N: private sshd for N hosts (tests/helpers/sshd.sh; sets
# SSH_CONFIG, HOSTS_FILE, SSHD_PORT ...), stopped at exit. Skips when sshd
# is not installed, bails out when it is but does not start.
start_sshd() {
	[ -x "${SSHD_BIN:-/usr/sbin/sshd}" ] ||
		skip_all "OpenSSH sshd not installed (apt-get install openssh-server)"
	need_cmd ssh-keygen
	# shellcheck source=tests/helpers/sshd.sh
	. "$top_srcdir/tests/helpers/sshd.sh"
	sshd_start "$1" || bail_out "the private sshd did not start"
	at_exit sshd_stop
}

# start_sshd_test N: the usual preamble of an sshd test: T=$(make_tmpdir),
# start_sshd N (so SSHD_RSA=1 etc. work as prefixes), and bail out when
# $MRSH is not built.
start_sshd_test() {
	# shellcheck disable=SC2034 # T is for the caller
	T=$(make_tmpdir)
	start_sshd "$1"
	[ -x "$MRSH" ] || bail_out "no mrsh binary at $MRSH"
}

# reexec_in_netns [UNSHARE_FLAG...] [-- ARGS...]: run the calling test file
# again (bash "$0" ARGS) in a private network namespace, plus whatever
# other namespaces the flags ask for (e.g. --mount --propagation private,
# --pid --fork --kill-child --mount-proc), and continue there with lo up.
# Outside the namespace it never returns: the whole file is skipped (with
# the reason) when not root, when unshare or ip is missing or when unshare
# cannot make the namespaces; otherwise the file is exec'd in them.
reexec_in_netns() {
	local flags=()

	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		flags+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	# Keyed by the file, so that a test run from inside one still re-execs.
	if [ "${MRSH_IN_NETNS:-}" = "$0" ]; then
		ip link set lo up ||
			bail_out "cannot bring lo up in the private network namespace"
		return 0
	fi
	[ "$(id -u)" = 0 ] ||
		skip_all "needs root to make private namespaces (unshare --net${flags[*]:+ ${flags[*]}})"
	need_cmd unshare ip
	unshare --net "${flags[@]}" true 2>/dev/null ||
		skip_all "cannot create private namespaces (unshare --net${flags[*]:+ ${flags[*]}})"
	MRSH_IN_NETNS=$0 exec unshare --net "${flags[@]}" bash "$0" "$@"
}

# tree_list DIR: type, mode, link target and path of everything below DIR,
# sorted: two trees are alike when their lists are equal.
tree_list() { (cd "$1" && find . -printf '%y %m %l %p\n' | LC_ALL=C sort); }

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

	# Set when lib.sh was read, so the same in $(...): tap_cleanup finds it.
	d=$(mktemp -d "${TMPDIR:-/tmp}/mrsh-test.$tap_tmpkey.XXXXXX") || exit 1
	echo "$d"
}

tap_cleanup() {
	local i

	for ((i = ${#tap_at_exit[@]} - 1; i >= 0; i--)); do
		eval "${tap_at_exit[$i]}" >/dev/null 2>&1
	done
	rm -rf "${TMPDIR:-/tmp}"/mrsh-test."$tap_tmpkey".* 2>/dev/null
}

done_testing() {
	if [ -z "$tap_plan" ]; then
		echo "1..$tap_n"
	elif [ "$tap_plan" != "$tap_n" ]; then
		diag "planned $tap_plan test points, ran $tap_n"
		exit 1
	fi
	[ "$tap_failed" = 0 ]
	exit $?
}
