#!/bin/bash
# --sudo (clush's sudo mode) against a real sshd and a real sudo: the
# password is asked once on the terminal for all hosts, the command runs
# through "sudo -S" with the password on its input, and the password shows
# up nowhere: not in the output, not in -vv traces, not in --json, not on
# the remote command line, and not on the command's own input when sudo
# did not ask for it (the test runs as root, which sudo never asks).
. "$top_srcdir/tests/integration/lib.sh"
set -u

need_cmd sudo
start_sshd_test 3
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
PW="sudo-pw-$$-$RANDOM"
M=("$MRSH" -F "$SSH_CONFIG")

# ask ARGS...: mrsh ARGS on a terminal that types $PW at each sudo prompt
ask() {
	capture "$T" "$PY" "$top_srcdir/tests/helpers/pty-answer.py" \
		--prompt '(^|\n)\[sudo\] password: ' --answer "$PW" --timeout 60 \
		--stdout "$T/pty.out" --transcript "$T/pty.tty" \
		--count "$T/pty.n" -- "$@"
}

ask "${M[@]}" --sudo -w '127.0.1.[1-3]' -vv 'id -u; echo "$SUDO_USER"'
is "$RC" 0 "--sudo: exit 0"
is "$(cat "$T/pty.n")" 1 "the password is asked once for 3 hosts"
is "$(sort "$T/pty.out")" "$(printf '127.0.1.%d: 0\n127.0.1.%d: %s\n' 1 1 "$SSHD_USER" 2 2 "$SSHD_USER" 3 3 "$SSHD_USER")" \
	"the whole command ran under sudo on every host"
is "$(cat "$T/pty.out" "$T/pty.tty" "$T/out" "$T/err" | grep -c -- "$PW")" 0 \
	"the password is not in the output, the terminal or the -vv trace"

# sudo did not ask (root): the command's input does not get the password
ask "${M[@]}" --sudo -w 127.0.1.1 --json 'cat; echo end'
is "$RC" 0 "--sudo cat: exit 0"
like "$(cat "$T/pty.out")" '"stdout":"end\\n"' "the command's input is empty (--json)"
is "$(grep -c -- "$PW" "$T/pty.out")" 0 "the password is not in --json"

# the remote command line: sudo -S, the command quoted, no password
ask "${M[@]}" --sudo -w 127.0.1.1 -N "echo 'it''s'; tr '\\0' ' ' </proc/\$PPID/cmdline"
like "$(cat "$T/pty.out")" "^its" "quotes in the command survive"
unlike "$(cat "$T/pty.out")" "$PW" "the password is not in any argv"

# no terminal: a clear error, nothing run
capture "$T" setsid "${M[@]}" --sudo -w 127.0.1.1 true </dev/null
is "$RC" 2 "--sudo without a terminal: exit 2"
is "$(cat "$T/err")" "mrsh: --sudo: no terminal to ask the password on" "and says why"

capture "$T" "$MRSH" --sudo -I -w h true
is "$(cat "$T/err")" "mrsh: --sudo and -I/--stdin exclude each other (the password goes on the command's input)" \
	"--sudo -I: usage error"
capture "$T" "$MRSH" --sudo -R exec -w h true
is "$RC" 2 "--sudo -R exec: usage error"

done_testing
