#!/bin/bash
# The engine through -R exec: many hosts, substitutions, exit codes, signals,
# timeouts, fanout, progress never shown off a terminal, stdin is /dev/null.
. "$top_srcdir/tests/integration/lib.sh"

T=$(make_tmpdir)

# many hosts, one answer each
"$MRSH" -R exec -w 'node[001-300]' -j 50 -- echo hello from %h >"$T/out" 2>"$T/err"
is "$?" 0 "300 hosts: exit 0"
is "$(wc -l <"$T/out")" 300 "300 lines"
is "$(grep -c '^node\([0-9]*\): hello from node\1$' "$T/out")" 300 \
	"every line is 'host: hello from host'"
is "$(sort -u "$T/out" | wc -l)" 300 "no host twice"
is "$(cat "$T/err")" "" "nothing on stderr"

# substitutions
"$MRSH" -R exec -w 'bob@h1:2222' -N -- echo '%h %u %p %%' >"$T/out"
is "$(cat "$T/out")" "h1 bob 2222 %" "%h %u %p %% substituted"
"$MRSH" -R exec -w 'h1' -l alice -p 99 -N -- echo '%u %p' >"$T/out"
is "$(cat "$T/out")" "alice 99" "-l and -p feed %u and %p"

# stdout and stderr kept apart
"$MRSH" -R exec -w 'h[1-3]' -- sh -c 'echo out; echo err >&2' >"$T/out" 2>"$T/err"
is "$(sort "$T/out" | tr '\n' ' ')" "h1: out h2: out h3: out " "stdout on stdout"
is "$(grep -c ': err$' "$T/err")" 3 "stderr on stderr"

# exit status: the largest; summary line names them
"$MRSH" -R exec -w 'h[1-4]' -- sh -c 'case %h in h2) exit 3;; h3) exit 5;; esac' \
	>"$T/out" 2>"$T/err"
is "$?" 5 "exit status is the largest remote status"
like "$(cat "$T/err")" 'exit 3: h2.*exit 5: h3|exit 5: h3.*exit 3: h2' "summary names the non-zero hosts"
is "$(grep -c . "$T/err")" 1 "summary is one line"

# signals
"$MRSH" -R exec -w 'h[1-2]' -- sh -c 'kill -TERM $$' >"$T/out" 2>"$T/err"
is "$?" 143 "killed by SIGTERM: 128+15"
like "$(cat "$T/err")" 'signal TERM: h\[1-2\]' "summary says signal TERM"

# a command that cannot run
"$MRSH" -R exec -w 'h1' -- /nonexistent/cmd >"$T/out" 2>"$T/err"
is "$?" 255 "command not found: exit 255"
like "$(cat "$T/err")" 'h1: SETUP: cannot run /nonexistent/cmd' "error names host and stage"

# command timeout: reported with its stage; other hosts unaffected
# (a unique duration tells this test's sleep from other tests')
nap="30.$$"
"$MRSH" -R exec -u 1 -w 'h[1-5]' -- sh -c "test %h = h3 && exec sleep $nap; echo ok" \
	>"$T/out" 2>"$T/err"
is "$?" 255 "a timed-out host: exit 255"
like "$(cat "$T/err")" 'h3: RUNNING: command timeout after 1s' "timeout names host and stage"
is "$(grep -c ': ok$' "$T/out")" 4 "the other hosts' output arrives"
ok "$(! pgrep -f "^sleep $nap\$" >/dev/null; echo $?)" "timed-out command was killed"

# a command that ignores SIGTERM is killed (SIGKILL after a grace second)
stubborn="31.$$"
"$MRSH" -R exec -u 1 -w h1 -- sh -c "trap '' TERM; exec sleep $stubborn" \
	>"$T/out" 2>"$T/err"
is "$?" 255 "SIGTERM ignored: still ends at the timeout, exit 255"
ok "$(! pgrep -f "^sleep $stubborn\$" >/dev/null; echo $?)" \
	"SIGTERM ignored: the command was killed anyway"

# stdin is /dev/null: cat returns at once
"$MRSH" -R exec -u 10 -w 'h[1-3]' -- cat </dev/zero >"$T/out" 2>"$T/err"
is "$?" 0 "cat on every host ends (stdin is /dev/null)"

# fanout: never more than -j at once (each host records itself while running)
mkdir "$T/live"
"$MRSH" -R exec -j 4 -w 'h[1-24]' -- sh -c "
	touch $T/live/%h; ls $T/live | wc -l >$T/n.%h; sleep 0.3; rm $T/live/%h" \
	>"$T/out" 2>"$T/err"
is "$?" 0 "fanout run: exit 0"
is "$(cat "$T"/n.* | sort -n | tail -1)" 4 "at most 4 running at once with -j 4"

# no progress line when stderr is not a terminal
"$MRSH" -R exec -w 'h[1-50]' -- true 2>"$T/err"
is "$(wc -c <"$T/err")" 0 "no progress output when stderr is not a terminal"

# open-file limit too low for the fanout: said, fanout lowered, all run
(ulimit -n 200 && "$MRSH" -R exec -j 500 -w 'h[1-600]' -- true) >"$T/out" 2>"$T/err"
is "$?" 0 "low open-file limit: still exit 0"
like "$(cat "$T/err")" 'fanout lowered from 500 to [0-9]+: the open-file limit is 200' \
	"low open-file limit: fanout lowered, and said"
# a soft limit below the hard one is raised to it first, as ssh and
# pdsh's users expect: no lowering then
(ulimit -Sn 200 && ulimit -Hn 2048 && "$MRSH" -R exec -j 300 -w 'h[1-600]' -- true) >"$T/out" 2>"$T/err"
is "$?/$(cat "$T/err")" "0/" "soft open-file limit below the hard one: raised, fanout kept, nothing said"

# a progress line on a terminal, erased at the end
if command -v script >/dev/null; then
	TERM=dumb script -qec "$MRSH -R exec -w 'h[1-30]' -- sleep 0.5" "$T/typescript" >/dev/null 2>&1
	like "$(tr '\r' '\n' <"$T/typescript")" '^\[done [0-9]+, running [0-9]+, failed 0, total 30\]' \
		"progress line on a terminal"
	python3 -c '
import sys
d = open(sys.argv[1], "rb").read()
last = d.rfind(b"total 30]")
sys.exit(0 if last >= 0 and b"\r\x1b[K" in d[last:] else 1)' "$T/typescript"
	ok $? "progress line erased at the end"
else
	skip "progress line on a terminal" "script(1) not installed"
	skip "progress line erased at the end" "script(1) not installed"
fi

# -vv traces state transitions
"$MRSH" -vv -R exec -w 'h1' -- true 2>"$T/err"
like "$(cat "$T/err")" 'h1: SETUP -> RUNNING' "-vv traces every transition"
like "$(cat "$T/err")" 'h1: CLOSING -> DONE' "-vv traces the end"

done_testing
