#!/bin/bash
# t0201: the ssh transport against a real OpenSSH sshd on 50 loopback hosts:
# every host answers once under its own name, stdout and stderr stay apart,
# exit codes and signals become mrsh's exit status, a last line without a
# newline is printed, a remote `cat` ends (stdin EOF is sent in-band), -l,
# -p and host:port reach the right place, --json names every host.
# Remote commands are single-quoted on purpose: they expand remotely.
# shellcheck disable=SC2016
. "$top_srcdir/tests/integration/lib.sh"
set -u

start_sshd_test 50
M=("$MRSH" -F "$SSH_CONFIG")
# The remote side learns which address it was reached on from sshd.
WHOAMI='set -- $SSH_CONNECTION; echo "$3"'

# 50 hosts, each answers once, prefixed with its own address
capture "$T" "${M[@]}" -f "$HOSTS_FILE" -j 64 -t 60 "$WHOAMI"
is "$RC" 0 "50 hosts: exit 0"
is "$(wc -l <"$T/out")" 50 "50 lines"
is "$(awk -F': ' '$1 != $2' "$T/out" | wc -l)" 0 \
	"every line is 'HOST: HOST' (answered by the address it names)"
is "$(cut -d: -f1 "$T/out" | sort)" "$(sort "$HOSTS_FILE")" \
	"every host of the file answered exactly once"
is "$(cat "$T/err")" "" "nothing on stderr"

# stdout and stderr kept apart
capture "$T" "${M[@]}" -w '127.0.1.[1-5]' 'echo to-out; echo to-err >&2'
is "$RC" 0 "stdout+stderr: exit 0"
is "$(grep -c '^127\.0\.1\.[1-5]: to-out$' "$T/out")/$(wc -l <"$T/out")" 5/5 \
	"stdout has the 5 stdout lines and nothing else"
is "$(grep -c '^127\.0\.1\.[1-5]: to-err$' "$T/err")/$(grep -c to- "$T/err")" 5/5 \
	"stderr has the 5 stderr lines and nothing else"

# exit status: the largest remote status; the summary names the hosts
capture "$T" "${M[@]}" -w '127.0.1.[1-4]' \
	'set -- $SSH_CONNECTION; case $3 in 127.0.1.2) exit 7;; 127.0.1.3) exit 0;; esac; exit 3'
is "$RC" 7 "exit 3, 7, 0, 3: mrsh exits 7"
like "$(cat "$T/err")" 'exit 3: 127\.0\.1\.\[?1' "summary names the hosts that exited 3"
like "$(cat "$T/err")" 'exit 7: 127\.0\.1\.2' "summary names the host that exited 7"
capture "$T" "${M[@]}" -w '127.0.1.[1-3]' 'exit 3'
is "$RC" 3 "exit 3 everywhere: mrsh exits 3"

# remote command killed by a signal: 128+N
capture "$T" "${M[@]}" -w '127.0.1.[1-3]' 'kill -TERM $$'
is "$RC" 143 "remote killed by SIGTERM: exit 143"
like "$(cat "$T/err")" 'signal TERM' "summary says signal TERM"
capture "$T" "${M[@]}" -w '127.0.1.1' 'echo before; kill -KILL $$'
is "$RC" 137 "remote killed by SIGKILL: exit 137"
is "$(cat "$T/out")" "127.0.1.1: before" "output before the signal arrives"

# output without a trailing newline
capture "$T" "${M[@]}" -w '127.0.1.[1-3]' 'printf "first\nlast-no-newline"; printf "err-no-newline" >&2'
is "$RC" 0 "no trailing newline: exit 0"
is "$(grep -c ': last-no-newline$' "$T/out")" 3 "the unterminated last line is printed for every host"
is "$(grep -c ': first$' "$T/out")" 3 "the line before it too"
is "$(grep -c ': err-no-newline$' "$T/err")" 3 "same on stderr"

# remote cat ends: no -I, so the channel gets EOF at once (in-band), even
# when mrsh's own stdin is a pipe that never ends
mkfifo "$T/fifo"
sleep 300 >"$T/fifo" &
holder=$!
at_exit "kill $holder"
CAPTURE_STDIN=$T/fifo CAPTURE_TIMEOUT=60 capture "$T" "${M[@]}" -f "$HOSTS_FILE" cat
is "$RC" 0 "mrsh -f hosts cat with an open stdin: ends, exit 0"
is "$(wc -c <"$T/out")" 0 "and prints nothing"
kill "$holder" 2>/dev/null
CAPTURE_TIMEOUT=60 capture "$T" "${M[@]}" -f "$HOSTS_FILE" -I cat
is "$RC" 0 "-I with stdin /dev/null: cat ends, exit 0"

# -l, -p and host:port
sshd_client_config "$T/port1.cfg" "$USER_KEY" "$KNOWN_HOSTS" "Port 1"
capture "$T" "$MRSH" -F "$T/port1.cfg" -p "$SSHD_PORT" -w 127.0.1.9 'echo via-p'
is "$RC/$(cat "$T/out")" "0/127.0.1.9: via-p" "-p overrides Port in ssh_config"
capture "$T" "$MRSH" -F "$T/port1.cfg" -w "127.0.1.9:$SSHD_PORT" 'echo via-hostport'
is "$RC" 0 "host:port overrides Port in ssh_config"
like "$(cat "$T/out")" 'via-hostport$' "host:port reached the sshd"
capture "$T" "$MRSH" -F "$T/port1.cfg" -t 5 -w 127.0.1.9 true
is "$RC" 255 "the Port 1 of that config is really used without -p (refused: 255)"
capture "$T" "${M[@]}" -l "$SSHD_USER" -w '127.0.1.[1-2]' 'id -un'
is "$(cut -d' ' -f2 "$T/out" | sort -u)" "$SSHD_USER" "-l USER logs in as USER"
capture "$T" "${M[@]}" -l mrsh-no-such-user -w 127.0.1.1 true
is "$RC" 255 "-l is honoured: an unknown user cannot log in (255)"
capture "$T" "${M[@]}" -w "$SSHD_USER@127.0.1.3" 'id -un'
is "$RC/$(cat "$T/out")" "0/127.0.1.3: $SSHD_USER" "user@host works"

# --json: one object per host
capture "$T" "${M[@]}" --json -w '127.0.1.[1-5]' 'echo hi'
is "$RC" 0 "--json: exit 0"
is "$(grep -c '"exit_code": *0' "$T/out")" 5 "5 JSON lines with exit_code 0"
is "$(grep -o '"host": *"127\.0\.1\.[1-5]"' "$T/out" | sort -u | wc -l)" 5 \
	"each host once"

# -b: the same output from 50 hosts printed once
capture "$T" "${M[@]}" -b -f "$HOSTS_FILE" -t 60 'echo same'
is "$RC" 0 "-b: exit 0"
is "$(grep -c '^same$' "$T/out")" 1 "identical output printed once"

done_testing
