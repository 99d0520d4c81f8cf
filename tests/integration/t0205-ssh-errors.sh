#!/bin/bash
# t0205: ssh failures are per host, explained and bounded: connection
# refused, a listener that never speaks (-t), a peer that is not SSH, a
# peer that hangs up, a command timeout (-u), a name that does not resolve,
# and one stalled host does not hold back the 50 others (with a fanout
# larger and smaller than the host count).
. "$top_srcdir/tests/integration/lib.sh"
set -u

T=$(make_tmpdir)
start_sshd 50
[ -x "$MRSH" ] || bail_out "no mrsh binary at $MRSH"
M=("$MRSH" -F "$SSH_CONFIG")
CAPTURE_TIMEOUT=60

# connection refused: a port nobody listens on
port=$(free_port)
capture "$T" "${M[@]}" -p "$port" -w 127.0.0.1 true
is "$RC" 255 "connection refused: exit 255"
like "$(cat "$T/err")" '127\.0\.0\.1.*refused' "the error names the host and says refused"

# some hosts fail, the others answer
capture "$T" "${M[@]}" -w "127.0.1.[1-3],127.0.0.1:$port" 'echo fine'
is "$RC" 255 "3 good hosts + 1 refused: exit 255"
is "$(grep -c ': fine$' "$T/out")" 3 "the 3 good hosts answered"
like "$(tail -n 1 "$T/err")" '1 of 4 hosts? failed' "the summary counts 1 failure of 4"

# a listener that accepts and never sends a byte: -t 2 ends it
fake_server silent
silent=$FAKE_PORT
capture "$T" "${M[@]}" -t 2 -p "$silent" -w 127.0.0.1 true
is "$RC" 255 "silent listener with -t 2: exit 255 (not hung)"
like "$(cat "$T/err")" '127\.0\.0\.1.*(timeout|timed out)' "the error says it timed out"
like "$(cat "$T/err")" '(SETUP|CONNECTING|banner|handshake|connect)' "and names the stage"

# a peer that sends something that is not SSH
fake_server garbage
capture "$T" "${M[@]}" -t 10 -p "$FAKE_PORT" -w 127.0.0.1 true
is "$RC" 255 "peer sends garbage: exit 255"
like "$(cat "$T/err")" '^mrsh: 127\.0\.0\.1: SETUP: not an SSH server' \
	"the error says the peer does not speak SSH (not a -t timeout)"

# a peer that hangs up at once
fake_server close
capture "$T" "${M[@]}" -t 10 -p "$FAKE_PORT" -w 127.0.0.1 true
is "$RC" 255 "peer closes at once: exit 255"
like "$(cat "$T/err")" '127\.0\.0\.1.*(closed|reset|banner|not an SSH)' \
	"the error says the connection was closed"

# command timeout
capture "$T" "${M[@]}" -u 4 -w '127.0.1.[1-3]' 'echo started; exec sleep 30'
is "$RC" 255 "-u 4 on sleep 30: exit 255 (not the capture's 124)"
is "$(grep -c ': started$' "$T/out")" 3 "output before the timeout was printed"
like "$(cat "$T/err")" '(command timeout|timed out)' "the error says the command timed out"
capture "$T" "${M[@]}" -u 20 -w '127.0.1.[1-3]' 'sleep 1; echo in-time'
is "$RC/$(grep -c ': in-time$' "$T/out")" 0/3 "-u 20 on a 1 s command: all fine"

# a name that does not resolve (.invalid never does, RFC 6761). The query
# must not leave 127.0.0.0/8: mrsh runs in a private mount namespace whose
# resolv.conf names 127.0.0.1 (nothing listens on 53 there: refused at once).
echo 'nameserver 127.0.0.1' >"$T/resolv.conf"
capture "$T" unshare -m sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"' \
	"$T/resolv.conf" "${M[@]}" -t 10 -w 'mrsh-test.invalid,127.0.1.1' 'echo resolvable'
is "$RC" 255 "unresolvable name: exit 255"
like "$(cat "$T/err")" 'mrsh-test\.invalid' "the error names it"
is "$(cat "$T/out")" "127.0.1.1: resolvable" "the other host answered"

# one stalled host does not slow the others: the 50 fast hosts all answer
# while the stalled one is still waiting (a 300 s connect timeout), then
# SIGTERM ends the run. Once with the fanout above the host count, once
# with 4 slots, the stalled host first in the list.
sshd_client_config "$T/slow.cfg" "$USER_KEY" "$KNOWN_HOSTS" "ConnectTimeout 300"
{ echo "127.0.0.1:$silent"; cat "$HOSTS_FILE"; } >"$T/hosts.stall"
for j in 64 4; do
	# Emptied here: the shell truncates them in the child, after the
	# wait below may already have read the last round's 50 lines.
	: >"$T/out"
	: >"$T/err"
	timeout 250 "$MRSH" -F "$T/slow.cfg" -t 300 -j "$j" -f "$T/hosts.stall" \
		'echo fast' </dev/null >"$T/out" 2>"$T/err" &
	pid=$!
	wait_for 200 "[ \"\$(grep -c ': fast$' '$T/out')\" -ge 50 ]"
	ok $? "-j $j: the 50 fast hosts answered while one host stalls"
	kill -0 "$pid" 2>/dev/null
	ok $? "-j $j: ...and the run was still waiting for the stalled host"
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	is "$?" 143 "-j $j: SIGTERM ends the run (exit 143)"
	like "$(cat "$T/err")" "127\\.0\\.0\\.1:$silent" "-j $j: the stalled host is named"
	is "$(grep -c ': fast$' "$T/out")" 50 "-j $j: each fast host answered once"
done

done_testing
