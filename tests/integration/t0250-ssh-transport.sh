#!/bin/bash
# t0250: the ssh transport's own behaviour against a real sshd: a stalled
# host does not slow the others, output backpressure loses nothing, -I
# feeds more hosts than the fanout window from a slow pipe, keys are read
# once and a passphrase asked once, the libssh2 1.10 limits (RSA user key,
# RSA-only host) are named, ServerAliveInterval notices a frozen server,
# and the close discipline leaves no client TIME_WAIT (own namespace).
# Remote commands are single-quoted on purpose: they expand remotely.
# shellcheck disable=SC2016
. "$top_srcdir/tests/integration/lib.sh"
set -u

SSHD_RSA=1 start_sshd_test 20
need_cmd python3 md5sum
M=("$MRSH" -F "$SSH_CONFIG")
CAPTURE_TIMEOUT=60
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

# 1-3: a host that accepts TCP and never speaks stalls only itself.
"$PY" "$top_srcdir/tests/helpers/fake-server.py" silent "$T/silent.port" &
fake=$!
at_exit "kill $fake"
wait_for 10 "[ -s '$T/silent.port' ]" || bail_out "fake server did not start"
start=$SECONDS
capture "$T" "${M[@]}" -t 4 -w "127.0.0.1:$(cat "$T/silent.port")" \
    -w '127.0.1.[1-5]' 'echo ok'
is "$RC" 255 "silent host: exit 255"
is "$(grep -c ': ok$' "$T/out")" 5 "the 5 real hosts answered"
like "$(cat "$T/err")" 'SETUP: timed out during banner exchange after 4s \(-t\)$' \
    "the silent host fails in SETUP at the connect timeout, in ssh's words"

# 4-5: output backpressure: 10 hosts x 100000 lines into a reader that
# sleeps first; nothing lost, nothing mixed.
"${M[@]}" -w '127.0.1.[1-10]' 'seq 1 100000' 2>"$T/err" |
    { sleep 2; cat; } >"$T/out"
is "$(wc -l <"$T/out")" 1000000 "slow reader: every line arrived"
bad=0
for i in 1 5 10; do
	s=$(grep "^127\.0\.1\.$i: " "$T/out" | sed "s/^[^ ]* //" | md5sum)
	[ "$s" = "$(seq 1 100000 | md5sum)" ] || bad=$((bad + 1))
done
is "$bad" 0 "slow reader: each host's lines in order"

# 6-8: -I from a pipe that trickles, 12 hosts through a window of 4.
{ echo first; sleep 1; seq 1 50000; } |
    "${M[@]}" -j 4 -I -w '127.0.1.[1-12]' 'md5sum' >"$T/out" 2>"$T/err"
is "$?" 0 "-I through -j 4 from a slow pipe: exit 0"
want=$({ echo first; seq 1 50000; } | md5sum | cut -d' ' -f1)
is "$(grep -c ": $want  -\$" "$T/out")" 12 "-I: all 12 hosts got the whole stream"
timeout 20 "${M[@]}" -w '127.0.1.[1-3]' cat </dev/null >"$T/out" 2>&1
is "$?" 0 "no -I: 'cat' ends at once (EOF is sent in-band)"

# 9-11: an encrypted key: the passphrase is asked once for every host;
# a wrong one is named.
sed -e "s|IdentityFile .*|IdentityFile $USER_KEY_ENC|" -e "s|BatchMode yes|BatchMode no|" "$SSH_CONFIG" >"$T/cfg-enc"
"$PY" "$top_srcdir/tests/helpers/pty-answer.py" --prompt '[Pp]assphrase' \
    --answer "$USER_KEY_PASSPHRASE" --stdout "$T/out" --count "$T/n" \
    --transcript "$T/tty" -- "$MRSH" -F "$T/cfg-enc" -w '127.0.1.[1-6]' \
    'echo ok' >/dev/null 2>&1
is "$(grep -c ': ok$' "$T/out")" 6 "encrypted key: 6 hosts logged in"
is "$(cat "$T/n")" 1 "the passphrase was asked once"
"$PY" "$top_srcdir/tests/helpers/pty-answer.py" --prompt '[Pp]assphrase' \
    --answer wrong --stdout "$T/out" --count "$T/n" \
    --transcript "$T/tty" -- "$MRSH" -F "$T/cfg-enc" -w '127.0.1.[1-2]' \
    'echo ok' >/dev/null 2>&1
like "$(cat "$T/tty")" 'wrong passphrase' "a wrong passphrase is named"

# 12: an RSA user key (libssh2 1.10: ssh-rsa only, refused by OpenSSH 9).
if [ -n "${USER_KEY_RSA:-}" ]; then
	sed "s|IdentityFile .*|IdentityFile $USER_KEY_RSA|" "$SSH_CONFIG" \
	    >"$T/cfg-rsa"
	capture "$T" "$MRSH" -F "$T/cfg-rsa" -w 127.0.1.1 true
	if libssh2_at_least 1.11; then
		is "$RC/$(cat "$T/err")" "0/" "RSA user key: libssh2 >= 1.11 logs in"
	else
		like "$(cat "$T/err")" 'only key tried is RSA.*ed25519' \
		    "RSA user key: the error says why and what to do"
	fi
else
	skip "RSA user key" "sshd.sh made no RSA key"
fi

# 13: a host with only an RSA host key: the key exchange failure names it.
need_cmd ssh-keygen
ssh-keygen -q -t rsa -b 2048 -N '' -f "$T/host_rsa" >/dev/null
rport=$(free_port)
{
	grep -Ev '^(HostKey|Port|PidFile|ListenAddress)' "$SSHD_CONFIG"
	echo "HostKey $T/host_rsa"
	echo "Port $rport"
	echo "ListenAddress 127.0.0.1"
	echo "PidFile none"
} >"$T/sshd_rsa_config"
"${SSHD_BIN:-/usr/sbin/sshd}" -D -f "$T/sshd_rsa_config" -E "$T/sshd_rsa.log" &
rsshd=$!
at_exit "kill $rsshd"
wait_for 10 "ss -Htln | grep -q ':$rport '" || diag "RSA sshd did not start"
capture "$T" "${M[@]}" -o StrictHostKeyChecking=no -w "127.0.0.1:$rport" true
if libssh2_at_least 1.11; then
	is "$RC" 0 "RSA-only host: libssh2 >= 1.11 reaches it"
else
	like "$(cat "$T/err")" 'key exchange failed: no matching host key type found\. Their offer: rsa-sha2.*libssh2 1\.10 cannot do rsa-sha2' \
	    "RSA-only host: the error names its host keys and why"
fi

# 14-15: ServerAliveInterval: a frozen server is noticed; a quiet but
# live command is not.
capture "$T" "${M[@]}" -o ServerAliveInterval=1 -o ServerAliveCountMax=2 \
    -w 127.0.1.3 'sleep 4; echo alive'
is "$(cat "$T/out")" "127.0.1.3: alive" "keepalives answered: a quiet command lives"
before=$(pgrep -P "$SSHD_PID" | sort)
"${M[@]}" -o ServerAliveInterval=1 -o ServerAliveCountMax=2 -w 127.0.1.4 \
    "sleep 20.$$" >"$T/out" 2>"$T/err" &
m=$!
child=
for _ in $(seq 1 50); do
	child=$(comm -13 <(echo "$before") <(pgrep -P "$SSHD_PID" | sort) |
	    head -1)
	[ -n "$child" ] && grep -q 'Accepted' "$SSHD_LOG" && break
	sleep 0.1
done
# Freeze the server once the command runs (the session is set up).
wait_for 20 "pgrep -f '^sleep 20\.$$\$' >/dev/null" ||
    diag "the remote command did not start"
[ -n "$child" ] && kill -STOP "$child"
wait "$m"
rc=$?
[ -n "$child" ] && kill -CONT "$child"
like "$(cat "$T/err"; echo "rc=$rc")" 'no answer from the server.*ServerAliveInterval 1' \
    "a frozen server fails the session (ServerAliveInterval)"

# 16-18: in a private network namespace: 100 sessions, remote-first close
# leaves no client TIME_WAIT; --close abort leaves none anywhere.
if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
	cat >"$T/ns.sh" <<'EOF'
ip link set lo up
. "$top_srcdir/tests/helpers/sshd.sh"
sshd_start 100 >/dev/null 2>&1 || { echo "sshd failed"; exit 1; }
"$MRSH" -F "$SSH_CONFIG" -f "$HOSTS_FILE" -j 50 -t 60 --close "$1" true \
    2>"$SSHD_DIR/mrsh.err"
echo "rc=$?"
head -5 "$SSHD_DIR/mrsh.err" >&2
sleep 0.3
echo "client=$(ss -Htan state time-wait "( dport = :$SSHD_PORT )" | wc -l)"
echo "server=$(ss -Htan state time-wait "( sport = :$SSHD_PORT )" | wc -l)"
sshd_stop >/dev/null 2>&1
EOF
	out=$(unshare -n bash "$T/ns.sh" remote 2>"$T/ns.err")
	like "$out" '^rc=0$' "netns: 100 hosts, --close remote: exit 0"
	grep -q '^rc=0$' <<<"$out" || diag "$(head -5 "$T/ns.err")"
	like "$out" '^client=0$' "netns: --close remote leaves no client TIME_WAIT"
	out=$(unshare -n bash "$T/ns.sh" abort 2>"$T/ns.err")
	like "$(echo "$out" | tr '\n' ' ')" 'rc=0 client=0 server=0' \
	    "netns: --close abort leaves no TIME_WAIT on either side"
	grep -q '^rc=0$' <<<"$out" || diag "$(head -5 "$T/ns.err")"
else
	skip "netns: --close remote" "needs root and unshare -n"
	skip "netns: --close remote TIME_WAIT" "needs root and unshare -n"
	skip "netns: --close abort" "needs root and unshare -n"
fi

done_testing
