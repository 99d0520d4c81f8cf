#!/bin/bash
# ctrl-c: the first SIGINT reports who is still running and in which state;
# a second within a second aborts, still prints what was gathered and the
# summary, and exits 130; the remote commands are killed. SIGTERM aborts.
. "$top_srcdir/tests/integration/lib.sh"

T=$(make_tmpdir)
# a unique duration lets pgrep tell this test's sleeps from others'
tag="300.$$"

# 5 hosts: two finish at once with output, three sleep
"$MRSH" -R exec -b -w 'h[1-5]' -- sh -c "echo gathered-%h; case %h in h[12]) exit 0;; esac; exec sleep $tag" \
	>"$T/out" 2>"$T/err" &
pid=$!
wait_for 20 "test \$(pgrep -f -c '^sleep $tag') = 3"
ok $? "three commands running"

kill -INT "$pid"
wait_for 10 "grep -q 'ctrl-c again' '$T/err'"
ok $? "first ctrl-c: status report"
like "$(cat "$T/err")" 'interrupt: 3 RUNNING: h\[3-5\]' "report names running hosts and state"
# Negative: nothing to wait for but the end of the one-second window.
sleep 1.5
ok "$(kill -0 "$pid"; echo $?)" "first ctrl-c alone does not stop mrsh"

# A second pair: the next ctrl-c once mrsh has answered this one (its
# second status report), so the two are within a second but not merged.
kill -INT "$pid"
wait_for 10 "test \$(grep -c 'ctrl-c again' '$T/err') -ge 2"
ok $? "ctrl-c after the window: a new status report"
kill -INT "$pid"
wait_for 15 "! kill -0 $pid 2>/dev/null"
wait "$pid"
is "$?" 130 "second ctrl-c within a second: exit 130"
like "$(cat "$T/out")" 'gathered-h1' "gathered output still printed"
like "$(cat "$T/err")" 'interrupted: h\[3-5\]' "summary names the aborted hosts"
wait_for 10 "! pgrep -f '^sleep $tag' >/dev/null"
ok $? "remote commands killed"

# SIGTERM aborts at once
"$MRSH" -R exec -w 'h[1-3]' -- sleep "$tag" >"$T/out" 2>"$T/err" &
pid=$!
wait_for 20 "test \$(pgrep -f -c '^sleep $tag') = 3"
kill -TERM "$pid"
wait_for 15 "! kill -0 $pid 2>/dev/null"
wait "$pid"
is "$?" 143 "SIGTERM: exit 143"
wait_for 10 "! pgrep -f '^sleep $tag' >/dev/null"
ok $? "SIGTERM: commands killed"

# SIGTERM with hosts still queued behind -j: those never start, and the
# summary names them
"$MRSH" -R exec -j 2 -w 'h[1-5]' -- sh -c "echo started-%h; exec sleep $tag" >"$T/out" 2>"$T/err" &
pid=$!
wait_for 20 "test \$(pgrep -f -c '^sleep $tag') = 2"
kill -TERM "$pid"
wait_for 15 "! kill -0 $pid 2>/dev/null"
wait "$pid"
is "$?" 143 "SIGTERM with queued hosts: exit 143"
like "$(cat "$T/err")" 'terminated: h\[1-2\]; not started: terminated: h\[3-5\]$' \
	"... the summary names the running and the queued hosts"
wait_for 10 "! pgrep -f '^sleep $tag' >/dev/null"
ok $? "... the running commands killed"
is "$(sort "$T/out" | tr '\n' ' ')" "h1: started-h1 h2: started-h2 " "... and no queued host started"

done_testing
