#!/bin/bash
# t0270: what mrsh asks of the session channel before "exec", against a real
# sshd and compared with ssh in the same setup: a pseudo-terminal with
# --tty (ssh -tt) / --no-tty (ssh -T) / RequestTTY, and the variables of
# SendEnv (with -PATTERN removals) and SetEnv, as sshd's AcceptEnv lets
# them through. -G prints requesttty/sendenv/setenv as ssh -G does.
. "$top_srcdir/tests/integration/lib.sh"
set -u

SSHD_EXTRA_CONFIG='AcceptEnv MRSH_* LC_*' start_sshd_test 2
M=("$MRSH" -N -F "$SSH_CONFIG" -w 127.0.1.1)
S=(ssh -F "$SSH_CONFIG")

# --tty: the remote command has a terminal, bytes as ssh -tt gives them
# (CR LF line ends, stderr merged into stdout).
capture "$T" "${M[@]}" --tty 'tty; echo err >&2'
is "$RC" 0 "--tty: exit 0"
like "$(head -1 "$T/out")" '^/dev/pts/[0-9]+'$'\r''$' "--tty: tty prints a pty device"
is "$(sed -n 2p "$T/out")" $'err\r' "--tty: stderr comes merged into stdout, as with a pty"
is "$(cat "$T/err")" "" "--tty: nothing on stderr"
"${S[@]}" -tt 127.0.1.1 'tty; echo err >&2' </dev/null >"$T/ssh.out" 2>/dev/null
sed 's|/dev/pts/[0-9]*|PTY|' "$T/out" >"$T/a"
sed 's|/dev/pts/[0-9]*|PTY|' "$T/ssh.out" >"$T/b"
cmp -s "$T/a" "$T/b"
ok $? "--tty: the same bytes as ssh -tt"

# default (RequestTTY auto with a command): no terminal
capture "$T" "${M[@]}" tty
is "$RC" 1 "no --tty: tty exits 1"
is "$(cat "$T/out")" "not a tty" "no --tty: not a tty"
"${S[@]}" 127.0.1.1 tty </dev/null >"$T/ssh.out" 2>/dev/null
is "$(cat "$T/ssh.out")" "not a tty" "ssh without -t: not a tty either"

# RequestTTY from the config, and the options winning over it
capture "$T" "${M[@]}" -o RequestTTY=force tty
like "$(cat "$T/out")" '^/dev/pts/[0-9]+' "RequestTTY force: a pty"
capture "$T" "${M[@]}" -o RequestTTY=force --no-tty tty
is "$(cat "$T/out")" "not a tty" "--no-tty wins over RequestTTY force"
capture "$T" "${M[@]}" -o RequestTTY=no --tty tty
like "$(cat "$T/out")" '^/dev/pts/[0-9]+' "--tty wins over RequestTTY no"
# yes: only when stdin is a terminal (here it is /dev/null), as ssh -t
capture "$T" "${M[@]}" -o RequestTTY=yes tty
is "$(cat "$T/out")" "not a tty" "RequestTTY yes, stdin not a terminal: no pty"
"${S[@]}" -o RequestTTY=yes 127.0.1.1 tty </dev/null >"$T/ssh.out" 2>/dev/null
is "$(cat "$T/ssh.out")" "not a tty" "ssh: the same"
if [ -x /usr/bin/python3 ] && [ -e /dev/ptmx ]; then
	/usr/bin/python3 "$top_srcdir/tests/helpers/pty-answer.py" \
		--prompt 'no-prompt-expected' --answer x --stdout "$T/out" \
		--timeout 60 -- "${M[@]}" -o RequestTTY=yes tty >/dev/null 2>&1
	like "$(cat "$T/out")" '^/dev/pts/[0-9]+' \
		"RequestTTY yes, stdin a terminal: a pty"
else
	skip "RequestTTY yes on a terminal" "no python3 or /dev/ptmx"
fi

# SendEnv / SetEnv, compared with ssh (sshd accepts MRSH_* and LC_*)
envcmd='env | grep -E "^(MRSH_[A-D]|LC_T|OTHER)=" | sort'
export MRSH_A=a1 MRSH_B='b 2' LC_TEST=lc OTHER=no
cfg=(-o 'SendEnv MRSH_* LC_TEST OTHER' -o 'SendEnv -LC_T*'
	-o 'SetEnv MRSH_C=c3 MRSH_D="d 4" OTHER=set MRSH_C=dup')
capture "$T" "${M[@]}" "${cfg[@]}" "$envcmd"
is "$RC" 0 "SendEnv/SetEnv: exit 0"
"${S[@]}" "${cfg[@]}" 127.0.1.1 "$envcmd" </dev/null >"$T/ssh.out" 2>/dev/null
is "$(cat "$T/out")" "$(cat "$T/ssh.out")" "SendEnv/SetEnv: the same variables as ssh"
is "$(cat "$T/out")" "MRSH_A=a1
MRSH_B=b 2
MRSH_C=c3
MRSH_D=d 4" "SendEnv -LC_T* removed LC_TEST; OTHER not accepted by sshd (silently); first MRSH_C wins"
is "$(cat "$T/err")" "" "a variable the server refuses is not an error"
unset MRSH_A MRSH_B LC_TEST OTHER

# -G: requesttty, sendenv, setenv as ssh -G prints them
for args in "-o RequestTTY=yes" "-o RequestTTY=no" "-o RequestTTY=force" \
    "-o RequestTTY=auto" "-o SendEnv=A_* -o SendEnv=B -o SendEnv=-A*" \
    "-o SetEnv=X=1 -o SetEnv=Y=2" ""; do
	# shellcheck disable=SC2086 # word splitting wanted
	want=$(ssh -G -F "$SSH_CONFIG" $args 127.0.1.1 2>/dev/null |
		grep -E '^(requesttty|sendenv|setenv) ')
	# shellcheck disable=SC2086
	got=$("$MRSH" -G 127.0.1.1 -F "$SSH_CONFIG" $args 2>&1 |
		grep -E '^(requesttty|sendenv|setenv) ')
	is "$got" "$want" "-G ${args:-(defaults)}: as ssh -G"
done

# bad values: an error naming the line, as ssh
capture "$T" "${M[@]}" -o SetEnv=NOEQUALS true
is "$RC" 2 "SetEnv without =: usage error"
like "$(cat "$T/err")" 'Invalid SetEnv' "SetEnv without =: ssh's wording"
capture "$T" "${M[@]}" -o SendEnv=A=b true
is "$RC" 2 "SendEnv with =: usage error"
like "$(cat "$T/err")" 'Invalid environment name' "SendEnv with =: ssh's wording"

done_testing
