#!/bin/bash
# t0803: the --copy progress line. On a terminal (stderr a pty) it shows
# the bytes copied, the hosts done out of all, the failures and the hosts
# furthest behind with their bytes out of their total, redrawn in place
# ("\r...\033[K") and erased before mrsh exits; when stderr is not a
# terminal (a file, a pipe; stdout a terminal or not) nothing of it is
# written anywhere, and no control byte reaches a pipe or a file.
#
# One host of three is held in the middle of its copy by a ProxyCommand
# (tests/helpers/stall-relay.py) that stops forwarding after 1 MB and
# goes on once a file exists: on the terminal, that file is created when
# the line naming the held host is drawn (pty-answer.py --touch), so the
# test waits on what mrsh draws, not on the clock.
. "$top_srcdir/tests/integration/lib.sh"
set -u

start_sshd_test 3
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
S=$T/src
D=$T/dst
mkdir -p "$S"
for h in $(sshd_hosts 3); do mkdir -p "$D/$h"; done
head -c 20000000 /dev/urandom >"$S/twenty"

# ssh_config with host 3 behind the relay (first value wins: block first)
{
	echo "Host 127.0.1.3"
	echo "	ProxyCommand $PY $top_srcdir/tests/helpers/stall-relay.py --after 1000000 --stalled $T/stalled --go $T/go %h %p"
	cat "$SSH_CONFIG"
} >"$T/ssh_config"
M=("$MRSH" -F "$T/ssh_config" -w '127.0.1.[1-3]' --copy "$S/twenty" --dest "$D/%h")

# every_host_has_it: the three copies are the source.
every_host_has_it() {
	local h

	for h in $(sshd_hosts 3); do
		cmp -s "$S/twenty" "$D/$h/twenty" || return 1
	done
	echo yes
}

# control_bytes FILE: how many CR and ESC bytes FILE holds.
control_bytes() {
	tr -cd '\r\033' <"$1" | wc -c
}

# ---- on a terminal ----------------------------------------------------------
# The line drawn while host 3 is held: 2 of 3 done, host 3 the slowest.
line_re='\r\[[0-9.]+[KMG]?B copied, hosts done 2/3, failed 0, slowest: 127\.0\.1\.3 [0-9.]+[KM]?/19\.1M\]\x1b\[K'
rm -f "$T/stalled" "$T/go"
capture "$T" "$PY" "$top_srcdir/tests/helpers/pty-answer.py" \
	--prompt "$line_re" --touch "$T/go" --timeout 120 \
	--stdout "$T/pty.out" --transcript "$T/pty.tty" --count "$T/pty.n" -- \
	"${M[@]}"
is "$RC" 0 "stderr on a terminal: the copy completes, exit 0"
is "$(every_host_has_it)" yes "all three hosts have the file"
ok "$(test -e "$T/stalled"; echo $?)" "host 3 was held in the middle of its copy"
ok "$(test "$(cat "$T/pty.n")" -ge 1; echo $?)" \
	"the line 'hosts done 2/3 ... slowest: 127.0.1.3 N/19.1M' was drawn"
# every line drawn has the format, host 3 named only as the slowest
"$PY" - "$T/pty.tty" >"$T/lines" <<'EOF'
import re, sys
data = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
# the draws: "\r[...]\033[K"; erases: "\r\033[K"
for m in re.finditer(r"\r(\[[^\r]*?\])?\x1b\[K", data):
    print(m.group(1) if m.group(1) else "ERASE")
print("TAIL " + repr(data[data.rfind("\x1b[K") + 3:]))
EOF
bad=$(grep -v -c -E '^(ERASE|TAIL .*|\[[0-9.]+[KMG]?B copied, hosts done [0-3]/3, failed 0(, slowest: 127\.0\.1\.[1-3] [0-9.]+[KM]?/19\.1M(, 127\.0\.1\.[1-3] [0-9.]+[KM]?/19\.1M){0,2})?\])$' "$T/lines")
is "$bad" 0 "every progress line drawn has the format"
[ "$bad" = 0 ] || diag "$(head -n 5 "$T/lines")"
ok "$(grep -q '^\[' "$T/lines"; echo $?)" "at least one line was drawn"
is "$(grep -v '^TAIL' "$T/lines" | tail -n 1)" ERASE "the line is erased at the end"
is "$(tail -n 1 "$T/lines")" "TAIL ''" "nothing follows the erase on the terminal"
is "$(control_bytes "$T/pty.out")" 0 "no control byte in stdout (a file)"
is "$(wc -c <"$T/pty.out")" 0 "stdout is empty"
rm -f "$D"/*/twenty

# ---- not a terminal ---------------------------------------------------------
# run_held CMD...: run CMD (in the background) with host 3 held; once the
# other two hosts completed, wait a second (five ticks of the progress
# timer: a slow machine only makes this check weaker, never fail) and let
# host 3 go on.
run_held() {
	rm -f "$T/stalled" "$T/go"
	"$@" &
	local pid=$!
	if wait_for 120 "test -e '$T/stalled' && cmp -s '$S/twenty' '$D/127.0.1.1/twenty' && cmp -s '$S/twenty' '$D/127.0.1.2/twenty'"; then
		sleep 1
	else
		diag "host 3 was not held, or hosts 1 and 2 did not complete"
	fi
	touch "$T/go"
	wait "$pid"
	RC=$?
}

# stderr a file, stdout a pipe
run_held bash -c 'set -o pipefail; "$@" 2>"$0.err" </dev/null | cat >"$0.out"' \
	"$T/p" "${M[@]}"
is "$RC" 0 "stderr a file, stdout a pipe: exit 0"
is "$(every_host_has_it)" yes "stderr a file, stdout a pipe: all three hosts have the file"
is "$(cat "$T/p.err")" "" "nothing on stderr"
is "$(control_bytes "$T/p.out")" 0 "no control byte in the pipe"
is "$(wc -c <"$T/p.out")" 0 "nothing in the pipe"
rm -f "$D"/*/twenty

# stdout a terminal, stderr a pipe
run_held "$PY" "$top_srcdir/tests/helpers/pty-answer.py" \
	--prompt 'never drawn ^' --timeout 120 --transcript "$T/q.tty" -- \
	bash -c 'set -o pipefail; "$@" 2>&1 >/dev/tty | cat >"$0.err"' "$T/q" "${M[@]}"
is "$RC" 0 "stdout on a terminal, stderr a pipe: exit 0"
is "$(every_host_has_it)" yes "all three hosts have the file"
is "$(wc -c <"$T/q.err")" 0 "nothing in the stderr pipe"
is "$(control_bytes "$T/q.tty")" 0 "nothing drawn on the terminal"

done_testing
