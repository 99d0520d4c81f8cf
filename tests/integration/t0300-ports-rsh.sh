#!/bin/bash
# The source-port pool end to end, with a real in.rshd (rsh demands
# reserved ports and takes two per session: main + stderr listener). All
# in a private network namespace: 200 hosts 127.0.1.1-200, one rshd on
# 0.0.0.0:514. mrsh's ports are 600-615; rshd's own reserved ports (stderr
# back-connections, taken from 1023 downwards) stay well above them, so
# "local port in 600-615" is exactly mrsh's side.
#
# - 200 hosts through 16 ports succeed with --close remote, sessions wait
#   for ports, and no client TIME_WAIT is left; --stats says so;
# - ports held by a foreign process are seen at start and never used;
# - --close local leaves client TIME_WAIT, counted by --stats exactly as
#   ss(8) counts it, and a back-to-back run avoids those 4-tuples (seeded
#   from the kernel) without a retry and still succeeds;
# - an occupied range makes sessions wait, then fail at the connect timeout
#   with the explanatory error (exit 255);
# - --ports-report shows the TIME_WAIT and their destinations.
. "$top_srcdir/tests/helpers/rshd.sh"
rshd_standard_setup "$@"
need_cmd python3

plan 28
T=$RSHD_DIR
HOSTS='127.0.1.[1-200]'

# client_tw LO HI: client-side TIME_WAIT (local port in LO..HI) here.
client_tw()
{
	ss -Htan state time-wait "( sport >= :$1 and sport <= :$2 )" | wc -l
}

# peer_tw LO HI: TIME_WAIT whose peer port is in LO..HI (server side).
peer_tw()
{
	ss -Htan state time-wait "( dport >= :$1 and dport <= :$2 )" | wc -l
}

# 1-6: ports 600-603 held by a foreign process: skipped (first, before
# any other run leaves server TIME_WAIT naming our ports).
hold_ports 600 601 602 603 || diag "the port holder did not start"
"$MRSH" -R rsh --ports 600-615 -j 8 -t 60 --stats -w '127.0.1.[1-40]' \
    -- 'echo ok' >"$T/out" 2>"$T/err"
is "$?" 0 "4 ports held by another program: exit 0"
is "$(grep -c ': ok$' "$T/out")" 40 "every host answered"
grepok '^mrsh: stats: ports range 16, used 12, retries 0, .* foreign-at-start 4$' \
    "$T/err" "stats: 4 foreign ports seen at start, 12 used, no retry"
# The servers' TIME_WAIT name the client ports they talked to: none of
# 600-603, the python3 listener's.
is "$(peer_tw 600 603)" 0 "no connection from the held ports 600-603"
ok "$([ "$(peer_tw 604 615)" -gt 0 ]; echo $?)" \
    "connections from the other ports (server TIME_WAIT names them)"
is "$(grep -c python3 <<<"$("$MRSH" --ports-report 600-603)")" 1 \
    "--ports-report names the python3 holder"
release_ports

# 7-14: 200 hosts, 16 ports, --close remote.
"$MRSH" -R rsh --ports 600-615 -j 32 -t 60 --stats -w "$HOSTS" -- \
    'echo ok' >"$T/out" 2>"$T/err"
is "$?" 0 "200 hosts through 16 ports: exit 0"
is "$(grep -c ': ok$' "$T/out")" 200 "every host answered"
is "$(client_tw 600 615)" 0 "no client TIME_WAIT"
grepok '^mrsh: stats: closed remote-first 200, local-first 0, reset 0' \
    "$T/err" "stats: every connection closed remote-first"
grepok '^mrsh: stats: time-wait client 0, ' "$T/err" \
    "stats: no client TIME_WAIT"
grepok '^mrsh: stats: ports range 16, used 16, ' "$T/err" \
    "stats: all 16 ports used"
grepok '^mrsh: stats: ports .* waits [1-9][0-9]*, ' "$T/err" \
    "stats: sessions waited for ports (2 per session, -j 32)"
grepok '^mrsh: stats: sessions 200, ok 200, failed 0' "$T/err" \
    "stats: 200 ok"
grep -v '^mrsh: stats: ' "$T/err" | sed 's/^/#   /' | head -5

# 15-22: TIME_WAIT left by an earlier client that closed first (python3,
# source ports 600-607 towards 127.0.1.1-8:514). The pool reads them from
# the kernel at start and avoids exactly those (port, host) pairs: host i
# never uses port 599+i, nothing retries, and the run's --stats does not
# count the old TIME_WAIT as its own.
python3 -c '
import socket
for i in range(1, 9):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", 599 + i))
    s.connect(("127.0.1.%d" % i, 514))
    s.close()
'
for ((i = 0; i < 100; i++)); do
	[ "$(client_tw 600 607)" = 8 ] && break
	sleep 0.05
done
is "$(client_tw 600 607)" 8 "an earlier client left 8 TIME_WAIT"
"$MRSH" --ports-report 600-615 >"$T/report" 2>&1
is "$?" 0 "--ports-report: exit 0"
grepok '^  TIME_WAIT +8$' "$T/report" "report: 8 TIME_WAIT"
is "$(grep -Ec '^    127\.0\.1\.[1-8]:514 +1$' "$T/report")" 8 \
    "report: the destinations of the TIME_WAIT"
grepok 'closed first' "$T/report" "report: says who closed first"
"$MRSH" -R rsh --ports 600-615 -j 1 -t 60 --stats \
    -w '127.0.1.[1-8]' -- 'echo ok' >"$T/out" 2>"$T/err"
is "$?" 0 "run after the earlier client: exit 0"
grepok '^mrsh: stats: ports .* retries 0, ' "$T/err" \
    "TIME_WAIT 4-tuples avoided without a retry"
grepok '^mrsh: stats: time-wait client 0, ' "$T/err" \
    "stats: the earlier TIME_WAIT are not this run's"
# The servers' TIME_WAIT name the pairs mrsh used: host i never port 599+i.
reused=0
for ((i = 1; i <= 8; i++)); do
	ss -Htan state time-wait "( sport = :514 and dport = :$((599 + i)) )" |
	    grep -q "127\.0\.1\.$i:514" && reused=$((reused + 1))
done
is "$reused" 0 "no (port, host) pair in TIME_WAIT was used again"

# 24-28: the whole range held by others: sessions wait, then fail with the
# explanatory error at the connect timeout, naming the range and counts.
hold_ports $(seq 600 615) || diag "the port holder did not start"
"$MRSH" -R rsh --ports 600-615 -t 2 --stats -w '127.0.1.[1-3]' -- \
    'echo ok' >"$T/out" 2>"$T/err"
is "$?" 255 "occupied range: exit 255"
is "$(grep -c 'PENDING: .*source port' "$T/err")" 3 \
    "each host fails while waiting for a source port"
grepok '600-615: 16 ports, 16 in use' "$T/err" \
    "the error names the range and counts"
grepok '^mrsh: stats: ports .* waits [1-9]' "$T/err" "stats: waits counted"
is "$(wc -c <"$T/out")" 0 "no output"
sed 's/^/#   /' "$T/err" | head -5
release_ports

done_testing
