#!/bin/bash
# rsh close discipline against a real in.rshd: a normal command ends with
# rshd closing first (remote-first in --stats); a background job that keeps
# the connection open gets --close-wait, then an RST, and the session still
# completes (counted as reset); SIGTERM to mrsh forwards a signal byte over
# the stderr connection, which makes rshd kill the remote command.
. "$top_srcdir/tests/helpers/rshd.sh"
rshd_standard_setup "$@"

plan 15
T=$RSHD_DIR

# 1-3: normal commands: every connection closed by rshd first.
"$MRSH" -R rsh --stats -w '127.0.1.[1-5]' -- 'echo hi' >"$T/out" 2>"$T/err"
is "$?" 0 "normal: exit 0"
is "$(grep -c ': hi$' "$T/out")" 5 "normal: output from 5 hosts"
grepok '^mrsh: stats: closed remote-first 5, local-first 0, reset 0' \
    "$T/err" "normal: 5 closed remote-first, none reset"

# 4-7: a background job holds stdout and stderr open after the command.
"$MRSH" -R rsh --stats --close-wait 1 -u 60 -w 127.0.1.6 -- \
    'echo hi; sleep 30 & echo $! >'"$T/bg.pid" >"$T/out" 2>"$T/err"
is "$?" 0 "background job: exit status 0 (from the marker)"
is "$(cat "$T/out")" "127.0.1.6: hi" "background job: output"
grepok '^mrsh: stats: closed remote-first 0, local-first 0, reset 1' \
    "$T/err" "background job: the session was reset after --close-wait"
grepok '^mrsh: stats: sessions 1, ok 1, failed 0' "$T/err" \
    "background job: the session completed"
[ -s "$T/bg.pid" ] && kill "$(cat "$T/bg.pid")" 2>/dev/null

# 8-9: output of the background job within --close-wait is still shown.
"$MRSH" -R rsh --close-wait 20 -u 60 -w 127.0.1.7 -- \
    'echo a; (sleep 0.3; echo b) &' >"$T/out" 2>"$T/err"
is "$?" 0 "late background output: exit 0"
is "$(cat "$T/out")" "127.0.1.7: a
127.0.1.7: b" "late background output: shown"

# 10-12: SIGTERM: the signal byte goes over the stderr connection and rshd
# kills the remote command's process group (a foreground command: "&" jobs
# of a non-interactive shell ignore SIGINT).
rm -f "$T/sleep.pid"
"$MRSH" -R rsh -w 127.0.1.8 -- \
    "sh -c 'echo \$\$ >$T/sleep.pid; exec sleep 60'" >"$T/out" 2>"$T/err" &
mpid=$!
for ((i = 0; i < 200; i++)); do
	[ -s "$T/sleep.pid" ] && break
	sleep 0.05
done
spid=$(cat "$T/sleep.pid" 2>/dev/null)
[ -n "$spid" ] && kill -0 "$spid" 2>/dev/null
ok $? "signal: the remote command is running (pid ${spid:-?})"
kill -TERM "$mpid"
wait "$mpid"
is "$?" 143 "signal: mrsh exits 143 after SIGTERM"
gone=1
for ((i = 0; i < 200; i++)); do
	if ! kill -0 "$spid" 2>/dev/null; then
		gone=0
		break
	fi
	sleep 0.05
done
ok $gone "signal: rshd killed the remote command"

# 13-15: the command timeout (-u) fires in RUNNING; the session is reset.
"$MRSH" -R rsh -u 1 --stats -w 127.0.1.9 -- 'echo started; exec sleep 60' \
    >"$T/out" 2>"$T/err"
is "$?" 255 "command timeout: exit 255"
grepok '^mrsh: 127\.0\.1\.9: RUNNING: command timeout after 1s$' "$T/err" \
    "command timeout: stage and reason"
grepok '^mrsh: stats: closed remote-first 0, local-first 0, reset 1' \
    "$T/err" "command timeout: the connection was reset"

done_testing
