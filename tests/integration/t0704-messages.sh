#!/bin/bash
# Issue 15's messages: the end-of-run summary groups hosts whose reasons
# differ only by the host's own name or address (30 hosts with an unknown
# host key: one line); --json names the user and port ssh_config set;
# %p of -R exec is the port even when none is given; a host that accepts
# TCP and sends no SSH banner times out "during banner exchange", as ssh
# says; a host name's control bytes are shown escaped.
# shellcheck disable=SC2016
. "$top_srcdir/tests/integration/lib.sh"
set -u

start_sshd_test 30

# 1-3: 30 unknown host keys, one summary group
: >"$T/empty_kh"
capture "$T" "$MRSH" -F "$SSH_CONFIG" -o UserKnownHostsFile="$T/empty_kh" \
	-o StrictHostKeyChecking=yes -w '127.0.1.[1-30]' true
is "$RC" 255 "30 unknown host keys: exit 255"
is "$(grep -c '^mrsh: 127\.0\.1\.[0-9]*: SETUP: host key for 127\.0\.1\.[0-9]* not known' "$T/err")" 30 \
	"each host has its own line, naming it"
like "$(tail -n 1 "$T/err")" '^mrsh: 30 of 30 hosts failed: host key for <host> not known \(ssh-ed25519 SHA256:<key>\); accept it with -o StrictHostKeyChecking=accept-new or add it to [^;]*: 127\.0\.1\.\[1-30\]$' \
	"the summary is one group, the host names and key taken out"

# 4-5: one host alone keeps its own words in the summary
capture "$T" "$MRSH" -F "$SSH_CONFIG" -o UserKnownHostsFile="$T/empty_kh" \
	-o StrictHostKeyChecking=yes -w 127.0.1.4 true
like "$(tail -n 1 "$T/err")" "^mrsh: 1 of 1 host failed: host key for 127\\.0\\.1\\.4 not known \\(ssh-ed25519 SHA256:[A-Za-z0-9+/]+\\); accept it with .*: 127\\.0\\.1\\.4$" \
	"a single host: the summary keeps its name and key"
is "$RC" 255 "exit 255"

# 6-7: --json: the user and port that ssh_config set
capture "$T" "$MRSH" -F "$SSH_CONFIG" --json -w 127.0.1.2 true
is "$RC" 0 "--json: exit 0"
like "$(cat "$T/out")" "^\\{\"host\":\"127\\.0\\.1\\.2\",\"name\":\"127\\.0\\.1\\.2\",\"user\":\"$SSHD_USER\",\"port\":$SSHD_PORT,\"status\":\"ok\"" \
	"--json: user and port from ssh_config, not null"

# 8-9: %p of -R exec without a port: 22, as ssh's %p
capture "$T" "$MRSH" -R exec -N -w h1 -- echo 'p=%p'
is "$(cat "$T/out")" "p=22" "-R exec: %p without a port is 22"
capture "$T" "$MRSH" -R exec -N -w h1:2200 -- echo 'p=%p'
is "$(cat "$T/out")" "p=2200" "-R exec: %p with a port is that port"

# 10-11: TCP up, no SSH banner: ssh's words
"${PYTHON:-python3}" "$top_srcdir/tests/helpers/fake-server.py" silent "$T/silent.port" &
fake=$!
at_exit "kill $fake"
wait_for 10 "[ -s '$T/silent.port' ]" || bail_out "fake server did not start"
capture "$T" "$MRSH" -F "$SSH_CONFIG" -t 2 -w "127.0.0.1:$(cat "$T/silent.port")" true
is "$RC" 255 "no banner: exit 255"
is "$(head -n 1 "$T/err")" "mrsh: 127.0.0.1:$(cat "$T/silent.port"): SETUP: timed out during banner exchange after 2s (-t)" \
	"no banner: timed out during banner exchange"

# 12-13: a host name's control bytes never reach the terminal raw, from
# the command line or from a group upcall
capture "$T" "$MRSH" -R exec -w "$(printf 'a\033[31mb')" true
is "$(cat "$T/err")" 'mrsh: bad character '"'"'\033'"'"' in host name "a\033[31mb"' \
	"-w: the escape shown as \\033"
printf '[Main]\ndefault: local\n[local]\nmap: printf "x\\033]0;t\\007y\\n"\nlist: echo g\n' >"$T/groups.conf"
capture "$T" "$MRSH" --groups-conf "$T/groups.conf" --genders '' -R exec -w @g true
is "$(cat "$T/err")" 'mrsh: bad character '"'"'\033'"'"' in host name "x\033]0;t\007y"' \
	"a group upcall's host name: escapes shown as \\033 and \\007"

# The summary: more than 6 distinct reasons fold into "N other reasons";
# a host's own name in a reason is generalised only where it is a whole
# name (web1x is no web1; 10.0.0.1a no 10.0.0.1)
capture "$T" "$MRSH" -R exec -w 'h[1-8]' -- /nonexistent/dir%h/cmd
is "$RC/$(tail -n 1 "$T/err")" "255/mrsh: 8 of 8 hosts failed: $(for i in 1 2 3 4 5 6; do
	printf 'cannot run /nonexistent/dirh%d/cmd: No such file or directory: h%d; ' $i $i; done)2 other reasons: h[7-8]" \
	"summary: 8 distinct reasons, 6 shown, the rest folded"
capture "$T" "$MRSH" -R exec -w 'web1,web1x,10.0.0.1,10.0.0.1a' -- /nonexistent/web1x/10.0.0.1a
R="cannot run /nonexistent/web1x/10.0.0.1a: No such file or directory"
is "$(tail -n 1 "$T/err")" "mrsh: 4 of 4 hosts failed: $R: web1,10.0.0.1; $R: web1x; $R: 10.0.0.1a" \
	"summary: web1 and 10.0.0.1 do not take web1x or 10.0.0.1a for their name (one group); those two name themselves (a group each)"
# a signal without a name is shown by number
capture "$T" "$MRSH" -R exec -w h1 -- sh -c 'kill -s RTMIN+5 $$'
is "$RC/$(tail -n 1 "$T/err")" "167/mrsh: 1 of 1 host exited non-zero: signal 39: h1" \
	"a real-time signal: shown by number, exit 128+39"
# stdout on a full disk: said once, every host's output counted lost
"$MRSH" -R exec -w h1,h2 -- printf x >/dev/full 2>"$T/err"
is "$?/$(cat "$T/err")" "255/mrsh: stdout: No space left on device
mrsh: output of 2 of 2 hosts lost (stdout: No space left on device)" "stdout on a full disk: exit 255, said"
"$MRSH" -R exec -b -w h1,h2 -- echo x >/dev/full 2>"$T/err"
is "$?/$(cat "$T/err")" "255/mrsh: stdout: No space left on device
mrsh: output of 2 of 2 hosts lost (stdout: No space left on device)" "-b: stdout on a full disk: exit 255, said"
# -b -L prints each line once every host has it: from the hosts' held
# output once they ended, from their live output before (the second run:
# line 1 goes out while both still run). Either way the same two lines.
"$MRSH" -R exec -b -L -w h1,h2 -- echo x >/dev/full 2>"$T/err"
is "$?/$(cat "$T/err")" "255/mrsh: stdout: No space left on device
mrsh: output of 2 of 2 hosts lost (stdout: No space left on device)" "-b -L: stdout on a full disk: exit 255, said"
"$MRSH" -R exec -b -L -w h1,h2 -- sh -c 'echo 1; sleep 1; echo 2' >/dev/full 2>"$T/err"
is "$?/$(cat "$T/err")" "255/mrsh: stdout: No space left on device
mrsh: output of 2 of 2 hosts lost (stdout: No space left on device)" "-b -L, lines printed while the hosts run: exit 255, said"
# ... while a reader that went away (| head) is no lost output: SIGPIPE's
# status, as in line mode (t0101), and nothing said.
"$MRSH" -R exec -b -L -w h1,h2 -- seq 200000 2>"$T/err" | head -n 1 >"$T/out"
is "${PIPESTATUS[0]}/$(cat "$T/out")/$(cat "$T/err")" "141/h[1-2]: 1/" \
	"-b -L into | head: SIGPIPE's status, not lost, nothing said"

done_testing
