#!/bin/bash
# t0260: ssh over IPv6 end to end: the private sshd listens on [::1] too
# (SSHD_EXTRA_CONFIG adds the address; ListenAddress and AllowUsers add
# up), and mrsh reaches it by address, mixed with IPv4 hosts, with an
# explicit port, with a source-port range, and checks its host key under
# the [::1]:PORT name. sshd's log proves the connection came from ::1.
. "$top_srcdir/tests/integration/lib.sh"
set -u

need_cmd ss ip
ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/128' ||
	skip_all "no IPv6 loopback (::1) here"
SSHD_EXTRA_CONFIG='ListenAddress [::1]
AllowUsers *@::1/128' start_sshd_test 1
wait_for 10 "ss -Hltn '( sport = :$SSHD_PORT )' | grep -qF '[::1]:$SSHD_PORT'" ||
	bail_out "sshd does not listen on [::1]:$SSHD_PORT"
echo "[::1]:$SSHD_PORT $HOST_KEY_PUB" >>"$KNOWN_HOSTS"
M=("$MRSH" -F "$SSH_CONFIG")
CAPTURE_TIMEOUT=60

# accepted: the number of "Accepted ... from ::1" lines in sshd's log.
accepted() {
	grep -c "Accepted publickey for .* from ::1 port " "$SSHD_LOG"
}

n0=$(accepted)
capture "$T" "${M[@]}" -w '[::1]' 'echo ok'
is "$RC" 0 "[::1]: exit 0"
is "$(cat "$T/out")" "::1: ok" "[::1]: the command's output, labelled ::1"
is "$(cat "$T/err")" "" "[::1]: nothing on stderr"
is "$(accepted)" $((n0 + 1)) "sshd accepted the login from ::1"

capture "$T" "${M[@]}" -w '[::1],127.0.1.1' 'echo ok'
is "$RC" 0 "IPv6 and IPv4 hosts in one run: exit 0"
is "$(sort "$T/out" | tr '\n' ' ')" "127.0.1.1: ok ::1: ok " \
	"IPv6 and IPv4 hosts in one run: both answer"

capture "$T" "${M[@]}" -p 1 -w "[::1]:$SSHD_PORT" 'echo ok'
is "$RC" 0 "[::1]:PORT overrides -p: exit 0"
is "$(cat "$T/out")" "[::1]:$SSHD_PORT: ok" "[::1]:PORT: output, labelled as given"

capture "$T" "${M[@]}" --ports 40000-40015 --stats -w '[::1]' 'echo ok'
is "$RC" 0 "--ports over IPv6: exit 0"
grepok '^mrsh: stats: ports range 16, used 1, retries 0, ' "$T/err" \
	"--ports over IPv6: the source port came from the range"

# Host key checking under the [::1]:PORT name: a different key is refused.
ssh-keygen -q -t ed25519 -N '' -f "$T/other" </dev/null >/dev/null
echo "[::1]:$SSHD_PORT $(cut -d' ' -f1,2 "$T/other.pub")" >"$T/kh"
capture "$T" "${M[@]}" -o "UserKnownHostsFile=$T/kh" -o GlobalKnownHostsFile=/dev/null \
	-w '[::1]' 'echo ok'
is "$RC" 255 "changed key for [::1]:PORT: exit 255"
grep -qF "mrsh: ::1: SETUP: host key for ::1 has CHANGED (ssh-ed25519 " "$T/err" &&
	grep -qF "remove the old key with: ssh-keygen -R '[::1]:$SSHD_PORT' -f $T/kh" "$T/err"
ok $? "changed key for [::1]:PORT: refused, naming the [::1]:PORT entry"
is "$(cat "$T/out")" "" "changed key: the command did not run"

done_testing
