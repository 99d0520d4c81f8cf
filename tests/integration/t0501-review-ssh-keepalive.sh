#!/bin/bash
# t0501: ServerAliveCountMax counts keepalives that went unanswered, as
# ssh(1) does, not seconds of silence: libssh2 1.10 sends a keepalive at
# most once per interval as time() sees it (every 2 s for an interval of
# 1), so a live server must never be failed for the gaps libssh2 leaves.
# Remote commands are single-quoted on purpose: they expand remotely.
# shellcheck disable=SC2016
. "$top_srcdir/tests/integration/lib.sh"
set -u

start_sshd_test 5
M=("$MRSH" -F "$SSH_CONFIG")
CAPTURE_TIMEOUT=60

# 1-4: interval 2, count 1: quiet commands live. (Interval 1 left a loaded
# sshd one second to answer, which two test passes side by side can miss;
# with 2 libssh2's gaps are the same, 4 s by time()'s steps.)
for i in 1 2; do
	capture "$T" "${M[@]}" -o ServerAliveInterval=2 \
	    -o ServerAliveCountMax=1 -w "127.0.1.$i" 'sleep 7; echo alive'
	is "$RC" 0 "ServerAliveInterval=2 CountMax=1, sleep 7 (run $i): exit 0"
	[ "$RC" = 0 ] || diag "$(head -3 "$T/err")"
	is "$(cat "$T/out")" "127.0.1.$i: alive" \
	    "ServerAliveInterval=2 CountMax=1, sleep 7 (run $i): output"
done

# 5-6: five hosts, interval 1, count 2.
capture "$T" "${M[@]}" -o ServerAliveInterval=1 -o ServerAliveCountMax=2 \
    -f "$HOSTS_FILE" 'sleep 5; echo alive'
is "$RC" 0 "5 hosts, ServerAliveInterval=1 CountMax=2, sleep 5: exit 0"
is "$(grep -c ': alive$' "$T/out")" 5 "... every host answered"

done_testing
