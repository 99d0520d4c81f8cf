#!/bin/bash
# t0206: the close order over ssh, counted by the kernel. In a private
# network namespace (so other tests' sockets do not count) with its own
# sshd: 200 sessions with the default --close remote leave no TIME_WAIT on
# the client side (remote port = sshd's) while sshd holds them; --close
# abort leaves none anywhere; --close local does leave client TIME_WAIT
# (so the count above could have failed); a peer that never answers is
# reset, not half-closed (no FIN-WAIT socket left behind).
. "$top_srcdir/tests/integration/lib.sh"
set -u

need_cmd ss
reexec_in_netns -- "$@"
start_sshd_test 200
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
# -t 60, --close-wait 30: the TIME_WAIT counts are the point, not the
# connect timeout or the close deadline,
# which a loaded machine (CI runs two passes side by side) can hit.
M=("$MRSH" -F "$SSH_CONFIG" -j 64 -t 60 --close-wait 30 --stats)

# tw FILTER: TIME_WAIT sockets matching an ss filter, e.g. "dport = :22".
tw() {
	ss -Htan state time-wait "( $1 )" | wc -l
}

is "$(tw "dport = :$SSHD_PORT")" 0 "no client TIME_WAIT before the runs"

# default: --close remote
capture "$T" "${M[@]}" -f "$HOSTS_FILE" true
is "$RC" 0 "200 sessions, --close remote (default): exit 0"
[ "$RC" = 0 ] || diag "$(grep -v ': stats: ' "$T/err" | head -5)"
client=$(tw "dport = :$SSHD_PORT")
server=$(tw "sport = :$SSHD_PORT")
is "$client" 0 "no TIME_WAIT on the client side (remote port $SSHD_PORT)"
ok "$([ "$server" -gt 0 ] && echo 0 || echo 1)" \
	"sshd's side holds the TIME_WAIT instead ($server)"
like "$(cat "$T/err")" 'closed remote-first 200,' "stats: 200 closed remote-first"
like "$(cat "$T/err")" 'time-wait client 0' "stats: time-wait client 0"

# --close abort: a reset, no TIME_WAIT on either side
before_server=$(tw "sport = :$SSHD_PORT")
capture "$T" "${M[@]}" --close abort -f "$HOSTS_FILE" -x '127.0.1.[101-200]' true
is "$RC" 0 "100 sessions, --close abort: exit 0"
[ "$RC" = 0 ] || diag "$(grep -v ': stats: ' "$T/err" | head -5)"
is "$(tw "dport = :$SSHD_PORT")" 0 "--close abort: no client TIME_WAIT"
after_server=$(tw "sport = :$SSHD_PORT")
ok "$([ "$after_server" -le "$before_server" ] && echo 0 || echo 1)" \
	"--close abort: no new server TIME_WAIT ($before_server -> $after_server)"
like "$(cat "$T/err")" 'reset 100' "stats: 100 reset"

# --close local: the classic behaviour, client TIME_WAIT (the test can fail)
capture "$T" "${M[@]}" --close local -f "$HOSTS_FILE" -x '127.0.1.[101-200]' true
is "$RC" 0 "100 sessions, --close local: exit 0"
client=$(tw "dport = :$SSHD_PORT")
ok "$([ "$client" -gt 0 ] && echo 0 || echo 1)" \
	"--close local leaves client TIME_WAIT ($client), so counting works"
like "$(cat "$T/err")" 'local-first 100' "stats: 100 closed local-first"

# a peer that never speaks: after -t the socket is reset, not closed with
# a FIN (that would leave FIN-WAIT-2 here, or TIME_WAIT later)
pf=$T/silent.port
"$PY" "$top_srcdir/tests/helpers/fake-server.py" silent "$pf" \
	</dev/null >/dev/null 2>&1 &
at_exit "kill $!"
wait_for 20 "[ -s '$pf' ]" || bail_out "fake-server.py did not start"
silent=$(cat "$pf")
capture "$T" "${M[@]}" -t 1 -p "$silent" -w '127.0.1.[1-20]' true
is "$RC" 255 "20 sessions to a silent peer, -t 1: exit 255"
left=$(ss -Htan "( dport = :$silent )" | awk '{print $1}' | sort | uniq -c |
	tr -s ' \n' ' ')
is "$left" "" "no client socket left towards the silent peer (no FIN-WAIT, no TIME_WAIT)"

done_testing
