#!/bin/bash
# t0261: a name with several addresses is tried address by address, in
# the order the lookup gives them, as ssh does (src/dialer.c): one that
# cannot be reached (no route) or refuses (nothing listens there) is
# passed over for the next, and only when all fail does the host fail,
# with the last address's error. In a private network and mount namespace
# /etc/hosts names each test host twice; the private sshd listens on IPv4
# only (0.0.0.0), so ::1 refuses, and 10.77.9.2 has no route at all.
# sshd's log says which address the login came in on.
. "$top_srcdir/tests/integration/lib.sh"
set -u

need_cmd ip
reexec_in_netns --mount --propagation private -- "$@"

start_sshd_test 1
P=$SSHD_PORT
have6=0
ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/128' && have6=1

cat >"$T/hosts" <<EOF
127.0.0.1 localhost
10.77.9.2 unreach.test
127.0.0.1 unreach.test
::1 v6first.test
127.0.0.1 v6first.test
10.77.9.2 allbad.test
::1 allbad.test
EOF
echo "nameserver 127.0.0.1" >"$T/resolv.conf"
mount --bind "$T/hosts" /etc/hosts && mount --bind "$T/resolv.conf" /etc/resolv.conf ||
	bail_out "cannot bind-mount a private /etc/hosts and /etc/resolv.conf"
for h in unreach.test v6first.test allbad.test; do
	echo "[$h]:$P $HOST_KEY_PUB" >>"$KNOWN_HOSTS"
done
M=("$MRSH" -F "$SSH_CONFIG" -vv)
CAPTURE_TIMEOUT=60

# logins N: sshd's "Accepted" lines so far, for a check of the last one.
accepted() {
	grep -c "Accepted publickey for .* from 127\\.0\\.0\\.1 port " "$SSHD_LOG"
}

# 1-4: the first address has no route: the second one answers.
n0=$(accepted)
capture "$T" "${M[@]}" -w unreach.test 'echo ok'
is "$RC" 0 "first address unreachable, second answers: exit 0"
is "$(cat "$T/out")" "unreach.test: ok" "... the command ran"
grepok "^mrsh: .*unreach\\.test: connect to 10\\.77\\.9\\.2:$P: network is unreachable\$" \
	"$T/err" "... after the first address failed (-vv says so)"
is "$(accepted)" $((n0 + 1)) "... and sshd took the login on 127.0.0.1"

# 5-8: the first address (::1) refuses: the second one answers.
if [ "$have6" = 1 ]; then
	n0=$(accepted)
	capture "$T" "${M[@]}" -w v6first.test 'echo ok'
	is "$RC" 0 "first address refuses, second answers: exit 0"
	is "$(cat "$T/out")" "v6first.test: ok" "... the command ran"
	grepok "^mrsh: .*v6first\\.test: connect to \\[::1\\]:$P: connection refused\$" \
		"$T/err" "... after ::1 refused (-vv says so)"
	is "$(accepted)" $((n0 + 1)) "... and sshd took the login on 127.0.0.1"
else
	skip_n 4 "no IPv6 loopback (::1) in the namespace"
fi

# 9-11: every address fails: the host fails with the last one's error,
# the other host of the run is not held up.
if [ "$have6" = 1 ]; then
	capture "$T" "${M[@]}" -w allbad.test,unreach.test 'echo ok'
	is "$RC" 255 "every address of a host fails: exit 255"
	grepok "^mrsh: allbad\\.test: CONNECTING: connect to \\[::1\\]:$P: connection refused\$" \
		"$T/err" "... the error is the last address's"
	is "$(cat "$T/out")" "unreach.test: ok" "... the other host's output arrives"
else
	skip_n 3 "no IPv6 loopback (::1) in the namespace"
fi

done_testing
