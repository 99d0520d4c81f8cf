#!/bin/bash
# The source-port pool with the ssh transport against a private sshd, in a
# network namespace of the test's own (so its TIME_WAIT table holds only
# this test's sockets). Hosts are 127.0.1.1-200, one sshd on 0.0.0.0; mrsh
# takes its source ports from 40000-40015.
#
# - ports held by a foreign process (python3 listening on 40000-40003) are
#   seen at start and never used;
# - 200 hosts through 16 ports succeed with --close remote, sessions wait
#   for ports, no client TIME_WAIT is left, --stats says so;
# - --close local leaves client TIME_WAIT, which --stats counts exactly as
#   ss(8) does; 200 hosts still succeed on 16 ports because a port cooling
#   towards one host still serves the others, and a back-to-back run avoids
#   every (port, host) in TIME_WAIT without a retry;
# - the classic failure, reproduced and explained: run after run to ONE
#   host with --close local until every port cools towards it; the next run
#   waits and fails at the connect timeout with an error that names the
#   range and the counts, while another host is still served at once;
# - an occupied range: sessions wait, then fail at the connect timeout.

. "$top_srcdir/tests/integration/lib.sh"
reexec_in_netns --pid --fork --kill-child --mount --mount-proc \
    --propagation private -- "$@"

T=$(make_tmpdir)
need_cmd python3
start_sshd 254
plan 32

MRSH_SSH=("$MRSH" -F "$SSH_CONFIG" --ports 40000-40015 --stats)

# client_tw LO HI: client-side TIME_WAIT (local port in LO..HI), counting
# sockets still on their way to it (the peer's FIN in flight), as --stats.
client_tw()
{
	ss -Htan state time-wait state fin-wait-1 state fin-wait-2 \
	    state closing "( sport >= :$1 and sport <= :$2 )" | wc -l
}

# peer_tw LO HI: TIME_WAIT whose peer port is in LO..HI (sshd's side).
peer_tw()
{
	ss -Htan state time-wait "( dport >= :$1 and dport <= :$2 )" | wc -l
}

# 1-5: ports 40000-40003 held by another program (first, while no TIME_WAIT
# names any of our ports).
hold_ports 40000 40001 40002 40003 || diag "the port holder did not start"
"${MRSH_SSH[@]}" -j 8 -t 30 -w '127.0.1.[1-40]' -- echo ok \
    >"$T/out" 2>"$T/err"
is "$?" 0 "4 ports held by another program: exit 0"
is "$(grep -c ': ok$' "$T/out")" 40 "every host answered"
grepok '^mrsh: stats: ports range 16, used 12, retries 0, .* foreign-at-start 4$' \
    "$T/err" "stats: 4 foreign ports seen at start, 12 used, no retry"
is "$(peer_tw 40000 40003)" 0 "sshd never saw a connection from 40000-40003"
ok "$([ "$(peer_tw 40004 40015)" -gt 0 ]; echo $?)" \
    "sshd saw connections from the other ports"
release_ports

# 6-12: 200 hosts through 16 ports, --close remote.
"${MRSH_SSH[@]}" -j 32 -t 60 -w '127.0.1.[1-200]' -- echo ok >"$T/out" 2>"$T/err"
is "$?" 0 "200 hosts through 16 ports: exit 0"
is "$(grep -c ': ok$' "$T/out")" 200 "every host answered"
is "$(client_tw 40000 40015)" 0 "no client TIME_WAIT"
grepok '^mrsh: stats: closed remote-first 200, local-first 0, reset 0' \
    "$T/err" "stats: every connection closed remote-first"
grepok '^mrsh: stats: time-wait client 0, server [0-9]+ ' "$T/err" \
    "stats: no client TIME_WAIT"
grepok '^mrsh: stats: ports range 16, used 16, retries 0, waits [1-9][0-9]*, ' \
    "$T/err" "stats: 16 ports used, sessions waited for them, no retry"
grepok '^mrsh: stats: sessions 200, ok 200, failed 0' "$T/err" \
    "stats: 200 ok"

# 13-18: --close local: client TIME_WAIT, counted like ss counts it; the
# ports still serve other hosts, so 200 hosts still pass through 16 ports.
"${MRSH_SSH[@]}" --close local -j 32 -t 60 -w '127.0.1.[1-200]' -- echo ok \
    >"$T/out" 2>"$T/err"
is "$?" 0 "--close local, 200 hosts, 16 ports: exit 0"
tw=$(client_tw 40000 40015)
ok "$([ "$tw" -gt 16 ]; echo $?)" \
    "--close local left client TIME_WAIT ($tw), more than one per port"
grepok "^mrsh: stats: time-wait client $tw, " "$T/err" \
    "stats: time-wait client equals the kernel's count ($tw)"
grepok '^mrsh: stats: closed remote-first 0, local-first 200, ' "$T/err" \
    "stats: 200 closed local-first"
"${MRSH_SSH[@]}" -j 32 -t 60 -w '127.0.1.[1-200]' -- echo ok \
    >"$T/out" 2>"$T/err"
is "$?" 0 "back to back, same 200 hosts: exit 0"
grepok '^mrsh: stats: ports .* retries 0, ' "$T/err" \
    "back to back: every (port, host) in TIME_WAIT avoided, no retry"

# 19-24: the classic failure, explained. One host, --close local, run after
# run: each run leaves its port in TIME_WAIT towards 127.0.1.250 (a host
# not used above), until all 16 are; the next run must wait and fail.
# A run that fails otherwise (a handshake slower than -t on a loaded
# machine ends in a reset, which leaves no TIME_WAIT) is not the one
# looked for: the loop goes on, at most 40 runs.
failed_run=0
for ((i = 1; i <= 40; i++)); do
	"${MRSH_SSH[@]}" --close local -t 4 -w 127.0.1.250 -- true \
	    >"$T/out" 2>"$T/err1"
	if [ "$?" != 0 ]; then
		failed_run=$i
		grep -q '^mrsh: 127\.0\.1\.250: PENDING: .*source port' "$T/err1" &&
			break
		diag "run $i failed otherwise: $(head -1 "$T/err1")"
	fi
done
ok "$([ "$failed_run" -gt 16 ]; echo $?)" \
    "one host, --close local: a run fails after the 16 ports are used ($failed_run)"
grepok '^mrsh: 127\.0\.1\.250: PENDING: .*source port' "$T/err1" \
    "it failed waiting for a source port"
is "$(ss -Htan state time-wait "( sport >= :40000 and sport <= :40015 )" |
    grep -c '127\.0\.1\.250:')" 16 \
    "all 16 ports are in TIME_WAIT towards that host"
grepok '40000-40015: 16 ports, 0 in use, 16 cooling towards 127\.0\.1\.250:' \
    "$T/err1" "the error explains: 16 ports, 16 cooling towards the host"
grepok '^mrsh: stats: ports range 16, used 0, retries 0, waits [1-9]' \
    "$T/err1" "stats: it waited, without touching the network"
"${MRSH_SSH[@]}" -t 5 -w 127.0.1.251 -- echo ok >"$T/out" 2>"$T/err"
is "$(cat "$T/out")" "127.0.1.251: ok" \
    "the same ports still serve another host at once"

# 25-29: the whole range held by another program: wait, then fail.
hold_ports $(seq 40000 40015) || diag "the port holder did not start"
"${MRSH_SSH[@]}" -t 2 -w '127.0.1.[1-3]' -- echo ok >"$T/out" 2>"$T/err"
is "$?" 255 "occupied range: exit 255"
is "$(grep -c '^mrsh: 127\.0\.1\.[1-3]: PENDING: .*source port' "$T/err")" 3 \
    "each host fails while waiting for a source port"
grepok '40000-40015: 16 ports, 16 in use' "$T/err" \
    "the error names the range and counts"
grepok '^mrsh: stats: ports range 16, used 0, retries 0, waits [1-9][0-9]*, foreign-at-start 16$' \
    "$T/err" "stats: waits counted, 16 foreign ports"
is "$(wc -c <"$T/out")" 0 "no output"
release_ports

# 30-32: --ports-report on the range names the TIME_WAIT destinations.
"$MRSH" --ports-report 40000-40015 >"$T/report" 2>&1
is "$?" 0 "--ports-report: exit 0"
grepok '^    127\.0\.1\.250:[0-9]+ +16$' "$T/report" \
    "report: the host with most TIME_WAIT first, 16"
grepok 'closed first' "$T/report" "report: says who closed first"
done_testing
