#!/bin/bash
# t0601: hostile servers at the SSH level (issue 13, items 1-4), each among
# healthy hosts where it matters:
# - endless non-SSH lines and never a banner: the run ends (the bound, not
#   -t, ends that host: -t is generous for a loaded machine), the 50 healthy
#   hosts answer, one "not an SSH server" error (fake-server.py lines);
# - escape sequences chosen by the server never reach the terminal raw:
#   KEXINIT algorithm names, the list of auth methods, an exit signal name
#   (octal escapes as ssh prints them; ssh_fake.py, fake-server.py kexinit);
# - an exit status out of range (256, 0xffffffff) is never exit 0;
# - extended data of a type other than stderr is discarded and the session
#   ends at once (it used to wait for it until -u).
. "$top_srcdir/tests/integration/lib.sh"
set -u

start_sshd_test 50
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
M=("$MRSH" -F "$SSH_CONFIG")
CAPTURE_TIMEOUT=150
ESC=$(printf '\033')
BEL=$(printf '\007')

# fake_server MODE: tests/helpers/fake-server.py; sets FAKE_PORT.
fake_server() {
	local pf=$T/fake.$1.port pid

	"$PY" "$top_srcdir/tests/helpers/fake-server.py" "$1" "$pf" \
		</dev/null >/dev/null 2>"$T/fake.$1.err" &
	pid=$!
	at_exit "kill $pid"
	wait_for 20 "[ -s '$pf' ]" || bail_out "fake-server.py $1 did not start"
	FAKE_PORT=$(cat "$pf")
}

# ssh_fake MODE ARG: tests/helpers/ssh_fake.py; sets FAKE_PORT and
# FAKE_KH (a known_hosts file with its host key).
ssh_fake_n=0
ssh_fake() {
	local pf pid

	ssh_fake_n=$((ssh_fake_n + 1))
	pf=$T/sshfake.$ssh_fake_n.port
	"$PY" "$top_srcdir/tests/helpers/ssh_fake.py" "$1" "$pf" "$2" \
		</dev/null >/dev/null 2>"$T/sshfake.$ssh_fake_n.err" &
	pid=$!
	at_exit "kill $pid"
	wait_for 20 "[ -s '$pf' ] && [ -s '$pf.pub' ]" ||
		bail_out "ssh_fake.py $1 did not start"
	FAKE_PORT=$(cat "$pf")
	FAKE_KH=$T/sshfake.$ssh_fake_n.kh
	{ echo "[127.0.0.1]:$FAKE_PORT $(cat "$pf.pub")"; cat "$KNOWN_HOSTS"; } \
		>"$FAKE_KH"
}

# no_raw_escape FILE DESC: no ESC or BEL byte in FILE.
no_raw_escape() {
	if grep -q "[$ESC$BEL]" "$1"; then
		ok 1 "$2"
		diag "$(cat -v "$1" | head -c 2000)"
	else
		ok 0 "$2"
	fi
}

# ---- 1. endless lines before a banner, among 50 healthy hosts ----------
fake_server lines
lines=$FAKE_PORT
capture "$T" "${M[@]}" -t 60 -f "$HOSTS_FILE" -w "127.0.0.1:$lines" \
	'echo fine'
is "$RC" 255 "endless pre-banner lines among 50 hosts: the run ends, exit 255"
is "$(grep -c ': fine$' "$T/out")" 50 "the 50 healthy hosts answered"
is "$(grep -c "^mrsh: 127\.0\.0\.1:$lines: SETUP: not an SSH server" "$T/err")" 1 \
	"one per-host error: not an SSH server"
like "$(tail -n 1 "$T/err")" '1 of 51 hosts failed' "the summary counts it"

# the same server alone, with -t 1: the timer is not starved either
capture "$T" "${M[@]}" -t 1 -w "127.0.0.1:$lines" true
is "$RC" 255 "endless lines alone with -t 1: exit 255 (not hung)"
like "$(cat "$T/err")" "127\.0\.0\.1:$lines: SETUP: (not an SSH server|timed out during banner exchange)" \
	"and a clear error"

# SIGTERM while it is in the handshake: it still ends
"${M[@]}" -t 0 -w "127.0.0.1:$lines,127.0.0.1:$lines,127.0.0.1:$lines" \
	true >"$T/out" 2>"$T/err" </dev/null &
pid=$!
sleep 0.3	# let it connect; the assertion below does not depend on it
kill -TERM "$pid" 2>/dev/null
wait_for 20 "! kill -0 $pid"
ok $? "SIGTERM ends a run held by a pre-banner flood"
kill -KILL "$pid" 2>/dev/null
wait "$pid" 2>/dev/null

# ---- 2. escape sequences from the server -------------------------------
fake_server kexinit
capture "$T" "${M[@]}" -t 10 -w "127.0.0.1:$FAKE_PORT,127.0.1.1" 'echo fine'
is "$RC" 255 "KEXINIT with escape sequences: exit 255"
is "$(cat "$T/out")" "127.0.1.1: fine" "the healthy host answered"
# The first list that does not match is quoted (kex since the algorithm
# lists follow ssh's wording: "Their offer: ...").
like "$(cat "$T/err")" 'SETUP: key exchange failed: .*Their offer: \\033\]0;pwned-title\\007evil-kex' \
	"the server's algorithm names are shown escaped (\\033)"
no_raw_escape "$T/err" "no raw ESC/BEL from KEXINIT on stderr"

ssh_fake auth-methods 'publickey,\x1b]0;pwned\x07keyboard-interactive'
capture "$T" "${M[@]}" -o "UserKnownHostsFile=$FAKE_KH" -p "$FAKE_PORT" \
	-w 127.0.0.1 true
is "$RC" 255 "auth methods with escape sequences: exit 255"
like "$(cat "$T/err")" 'permission denied \(publickey,\\033\]0;pwned\\007keyboard-interactive\)' \
	"the method list is shown escaped"
no_raw_escape "$T/err" "no raw ESC/BEL from the auth method list"

ssh_fake exit-signal 'KILL\x1b]0;pwned\x07'
for fmt in "" -b --json; do
	capture "$T" "${M[@]}" -o "UserKnownHostsFile=$FAKE_KH" -p "$FAKE_PORT" \
		${fmt:+"$fmt"} -w 127.0.0.1 true
	is "$RC" 255 "exit signal name with escapes ${fmt:-(lines)}: exit 255"
	no_raw_escape "$T/err" "${fmt:-lines}: no raw ESC/BEL on stderr"
	no_raw_escape "$T/out" "${fmt:-lines}: no raw ESC/BEL on stdout"
done
like "$(cat "$T/out")" '"signal":"KILL\\\\033\]0;pwned\\\\007"' \
	"--json: the signal name is the escaped text"
# a name with the SIG prefix (RFC 4254 names have none): shown without
# it, but not taken for a local signal number (exit 255, as for any name
# outside RFC 4254's set; test_signame)
ssh_fake exit-signal 'SIGTERM'
capture "$T" "${M[@]}" -o "UserKnownHostsFile=$FAKE_KH" -p "$FAKE_PORT" -w 127.0.0.1 true
is "$RC/$(tail -n 1 "$T/err")" "255/mrsh: 1 of 1 host exited non-zero: signal TERM: 127.0.0.1" \
	"exit-signal SIGTERM: shown as signal TERM, exit 255"

# ---- 3. exit status out of range ---------------------------------------
for st in 256 0xffffffff; do
	ssh_fake exit-status "$st"
	capture "$T" "${M[@]}" -o "UserKnownHostsFile=$FAKE_KH" -p "$FAKE_PORT" \
		-w 127.0.0.1 true
	is "$RC" 255 "remote exit status $st: mrsh exits 255, not 0"
	is "$(cat "$T/out")" "127.0.0.1: out" "exit status $st: output intact"
	like "$(tail -n 1 "$T/err")" 'exited non-zero: exit [0-9]+: 127\.0\.0\.1$' \
		"exit status $st: the summary shows it"
done
capture "$T" "${M[@]}" -o "UserKnownHostsFile=$FAKE_KH" -p "$FAKE_PORT" \
	--json -w 127.0.0.1 true
like "$(cat "$T/out")" '"status":"exit","exit_code":4294967295,' \
	"--json: 0xffffffff shown as sent"
is "$RC" 255 "--json, 0xffffffff: exit 255"

# ---- 4. extended data of another type ----------------------------------
ssh_fake ext-data x
capture "$T" "${M[@]}" -o "UserKnownHostsFile=$FAKE_KH" -p "$FAKE_PORT" \
	-u 30 -w "127.0.0.1,127.0.1.2:$SSHD_PORT" 'echo fine'
is "$RC" 0 "extended data of type 2: exit 0 (no -u timeout)"
is "$(sort "$T/out")" "127.0.0.1: visible
127.0.1.2:$SSHD_PORT: fine" "stdout intact, the type-2 data not shown"
is "$(cat "$T/err")" "" "nothing on stderr"

done_testing
