#!/bin/bash
# t0603: bad input and unbounded text (issue 13, items 2 and 9):
# - a NUL byte or a control character in a -f line is an error naming
#   file:line (a NUL used to cut the entry short silently);
# - --ports 10- quotes the argument; --gather-max that would wrap is refused;
# - the summary line stays bounded: a 30,000-character signal name from a
#   server, 30 hosts failing with host-specific reasons;
# - rshd's error text after the \1 byte reaches the terminal escaped.
. "$top_srcdir/tests/integration/lib.sh"
set -u

T=$(make_tmpdir)
[ -x "$MRSH" ] || bail_out "no mrsh binary at $MRSH"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
ESC=$(printf '\033')

# ---- -f lines with a NUL byte or a control character ----------------
printf 'h1\nh2\0evil\nh3\n' >"$T/nul"
"$MRSH" -R exec -f "$T/nul" echo %h >"$T/out" 2>"$T/err"
is "$?" 2 "a NUL byte in a -f line: usage error"
is "$(cat "$T/err")" "mrsh: $T/nul:2: NUL byte in the line" "the error names file:line"
is "$(cat "$T/out")" "" "nothing ran"
printf 'h1\nh\033]0;x\0072\n' >"$T/ctl"
"$MRSH" -R exec -f "$T/ctl" echo %h >"$T/out" 2>"$T/err"
is "$?" 2 "a control character in a -f line: usage error"
is "$(cat "$T/err")" "mrsh: $T/ctl:2: control character in the line" \
	"the error names file:line"
printf '  h1\t \r\n' >"$T/ws"
"$MRSH" -R exec -f "$T/ws" --list-hosts >"$T/out" 2>"$T/err"
is "$?" 0 "white space around an entry (tab, CR) is still fine"

# ---- option values ------------------------------------------------------
"$MRSH" --ports 10- -R exec -w h1 true >"$T/out" 2>"$T/err"
is "$?" 2 "--ports 10-: usage error"
is "$(cat "$T/err")" 'mrsh: --ports: bad port range "10-": expected LO-HI (or ephemeral, reserved)' \
	"--ports 10-: the argument is quoted, not an empty string"
"$MRSH" --gather-max 18014398509481985K -R exec -w h1 true >"$T/out" 2>"$T/err"
is "$?" 2 "--gather-max 18014398509481985K: usage error, not a wrap to 1024"
is "$(cat "$T/err")" 'mrsh: --gather-max: size "18014398509481985K" is too large' \
	"--gather-max: says too large"
"$MRSH" --gather-max 1K -R exec -b -w h1 -- head -c 5000 /dev/zero >"$T/out" 2>"$T/err"
like "$(head -n 2 "$T/out" | tail -n 1)" 'output cut at 1024 bytes' "--gather-max 1K still works"

# ---- the summary stays bounded -----------------------------------------
# 30 hosts refused, each reason naming its own host:port: one group, as
# the summary takes host names and addresses out of the grouping key
# (30 distinct free ports: free_port may hand out the same one twice)
hosts= n=0
for ((i = 0; i < 300 && n < 30; i++)); do
	p=$(free_port)
	case ",$hosts," in *",127.0.0.1:$p,"*) continue ;; esac
	hosts="$hosts${hosts:+,}127.0.0.1:$p" n=$((n + 1))
done
capture "$T" "$MRSH" -t 10 -w "$hosts" true
is "$RC" 255 "30 hosts with host-specific reasons: exit 255"
is "$(grep -c '^mrsh: 127\.0\.0\.1:[0-9]*: CONNECTING: ' "$T/err")" 30 \
	"each host has its own line"
last=$(tail -n 1 "$T/err")
like "$last" '^mrsh: 30 of 30 hosts failed: connect to <host>: connection refused: 127\.0\.0\.1:[0-9]+,127\.0\.0\.1:' \
	"the summary groups the 30 host-specific reasons into one"
ok "$([ "${#last}" -le 1200 ]; echo $?)" "the summary line is bounded (${#last} chars)"

# a 30,000-character signal name with escape sequences
if "$PY" -c 'import paramiko' 2>/dev/null; then
	pf=$T/sig.port
	"$PY" "$top_srcdir/tests/helpers/ssh_fake.py" exit-signal "$pf" \
		'REPEAT:3000:\x1b[31mSIG' </dev/null >/dev/null 2>"$T/fake.err" &
	at_exit "kill $!"
	wait_for 20 "[ -s '$pf' ] && [ -s '$pf.pub' ]" || bail_out "ssh_fake.py did not start"
	ssh-keygen -q -t ed25519 -N '' -f "$T/id" </dev/null >/dev/null
	echo "[127.0.0.1]:$(cat "$pf") $(cat "$pf.pub")" >"$T/kh"
	capture "$T" "$MRSH" -F /dev/null -i "$T/id" -o "UserKnownHostsFile=$T/kh" \
		-p "$(cat "$pf")" -w 127.0.0.1 true
	is "$RC" 255 "a 30,000-character signal name: exit 255"
	last=$(tail -n 1 "$T/err")
	like "$last" '^mrsh: 1 of 1 host exited non-zero: signal (\\033\[31mSIG)+\.\.\.: 127\.0\.0\.1$' \
		"the summary cuts it, escaped"
	ok "$([ "${#last}" -le 1200 ]; echo $?)" "the summary line is bounded (${#last} chars)"
	ok "$(! grep -q "$ESC" "$T/err"; echo $?)" "no raw ESC on stderr"
else
	for d in "a 30,000-character signal name: exit 255" "the summary cuts it, escaped" \
		"the summary line is bounded" "no raw ESC on stderr"; do
		skip "$d" "python3-paramiko not installed"
	done
fi

# ---- rshd's error text after \1 ----------------------------------------
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1; then
	port=$(free_port)
	"$PY" "$top_srcdir/tests/helpers/rshd_fake.py" 127.0.0.1 "$port" error \
		'denied\x1b]0;pwned\x07 go away' >"$T/rshd.log" 2>&1 &
	at_exit "kill $!"
	wait_for 20 "$PY -c 'import socket; socket.create_connection((\"127.0.0.1\", $port)).close()'" ||
		diag "the fake rshd did not start"
	capture "$T" "$MRSH" -R rsh -t 10 -w "127.0.0.1:$port" true
	is "$RC" 255 "rshd error with escape sequences: exit 255"
	like "$(cat "$T/err")" "127\.0\.0\.1:$port: SETUP: .*denied\\\\033\]0;pwned\\\\007 go away" \
		"rshd's text is shown escaped"
	ok "$(! grep -q "[$ESC$(printf '\007')]" "$T/err"; echo $?)" "no raw ESC/BEL on stderr"
else
	for d in "rshd error with escape sequences: exit 255" "rshd's text is shown escaped" \
		"no raw ESC/BEL on stderr"; do
		skip "$d" "rsh needs root for reserved source ports"
	done
fi

done_testing
