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

# 1-4: interval 1, count 1 (the tightest setting): quiet commands live.
for i in 1 2; do
	capture "$T" "${M[@]}" -o ServerAliveInterval=1 \
	    -o ServerAliveCountMax=1 -w "127.0.1.$i" 'sleep 4; echo alive'
	is "$RC" 0 "ServerAliveInterval=1 CountMax=1, sleep 4 (run $i): exit 0"
	is "$(cat "$T/out")" "127.0.1.$i: alive" \
	    "ServerAliveInterval=1 CountMax=1, sleep 4 (run $i): output"
done

# 5-6: five hosts, interval 1, count 2.
capture "$T" "${M[@]}" -o ServerAliveInterval=1 -o ServerAliveCountMax=2 \
    -f "$HOSTS_FILE" 'sleep 5; echo alive'
is "$RC" 0 "5 hosts, ServerAliveInterval=1 CountMax=2, sleep 5: exit 0"
is "$(grep -c ': alive$' "$T/out")" 5 "... every host answered"

done_testing
