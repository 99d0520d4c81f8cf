#!/bin/bash
# 300 rsh sessions through 12 reserved ports (--ports 600-611, two ports per
# session) leave no TIME_WAIT on the client. The server (a real in.rshd)
# lives in its own network namespace joined by a veth pair, so its TIME_WAIT
# (main connections, which it closes first, and its stderr back-connections)
# are in another netns and what ss(8) counts here is the client's alone.
# 300 host names srv1..srv300 all resolve (private /etc/hosts) to the
# server, 10.200.0.2; the client is 10.200.0.1.
#
# Then the same with --close local, to show the test can see the difference:
# the client closing first leaves TIME_WAIT here.
. "$top_srcdir/tests/helpers/rshd.sh"
rshd_enter_ns "$@"
rshd_setup || { echo "Bail out! rshd_setup failed"; exit 1; }
rshd_server_ns || { echo "Bail out! cannot make the server netns"; exit 1; }
names=
for ((i = 1; i <= 300; i++)); do
	names="$names srv$i"
done
rshd_add_hosts "10.200.0.1 mrsh-client" "10.200.0.2$names"
rshd_start 0.0.0.0 514 "$RSHD_SRV_PID" ||
    { echo "Bail out! in.rshd did not start"; exit 1; }

plan 9
T=$RSHD_DIR

is "$(rshd_tw_count)" 0 "no TIME_WAIT in the client netns to begin with"

# 2-6: 300 sessions, 12 ports, --close remote (the default).
"$MRSH" -R rsh --ports 600-611 -t 60 -u 60 --stats -w 'srv[1-300]' -- \
    'echo ok-$((6 * 7))' >"$T/out" 2>"$T/err"
is "$?" 0 "300 sessions through 12 ports: exit 0"
is "$(grep -c '^srv[0-9]*: ok-42$' "$T/out")" 300 "every host answered"
is "$(rshd_tw_count)" 0 "no TIME_WAIT left on the client"
grepok '^mrsh: stats: closed remote-first 300, local-first 0, reset 0' \
    "$T/err" "stats: 300 closed remote-first"
srv_tw=$(nsenter -t "$RSHD_SRV_PID" -n ss -Htan state time-wait | wc -l)
ok "$([ "$srv_tw" -gt 0 ]; echo $?)" \
    "TIME_WAIT landed on the server instead ($srv_tw)"
grep -v '^mrsh: stats: ' "$T/err" | sed 's/^/#   /' | head -5

# 7-9: --close local: the client closes first, TIME_WAIT is ours. Another
# port range, so the pool does not have to wait 60 s for cooling ports.
"$MRSH" -R rsh --ports 700-739 --close local -t 60 -u 60 --stats \
    -w 'srv[1-10]' -- 'echo ok' >"$T/out" 2>"$T/err"
is "$?" 0 "--close local: exit 0"
grepok '^mrsh: stats: closed remote-first 0, local-first 10, reset 0' \
    "$T/err" "--close local: 10 closed local-first"
ok "$([ "$(rshd_tw_count)" -gt 0 ]; echo $?)" \
    "--close local: TIME_WAIT on the client ($(rshd_tw_count))"

done_testing
