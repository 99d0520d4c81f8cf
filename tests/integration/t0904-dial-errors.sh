#!/bin/bash
# t0904: why a direct connection failed, in the one line of the host that
# failed (src/dialer.c, src/netconn.c), against conditions this test makes
# in its own network and mount namespaces, while the other host of the
# run still answers:
# - a route that says "unreachable": no route to host (EHOSTUNREACH);
# - a route that says "prohibit": the kernel's own words (EACCES);
# - no local port left for the destination (an ephemeral port range of
#   one port, already taken towards it): no free local port;
# - a DNS server that never answers, with -t: the lookup gives up within
#   the connect timeout, "no answer from the DNS servers".
# Each failure is compared with what ssh says for the same host.
. "$top_srcdir/tests/integration/lib.sh"
set -u

need_cmd ip nc ssh
reexec_in_netns --mount --propagation private -- "$@"

start_sshd_test 2
P=$SSHD_PORT
M=("$MRSH" -F "$SSH_CONFIG")
CAPTURE_TIMEOUT=60

ip route add unreachable 10.77.8.0/24 || bail_out "ip route add unreachable"
ip route add prohibit 10.77.7.0/24 || bail_out "ip route add prohibit"

# sshline HOST: what ssh says when it cannot connect to HOST.
sshline() {
	ssh -F "$SSH_CONFIG" -o ConnectTimeout=20 "$1" true 2>&1 </dev/null |
		tr -d '\r' | grep '^ssh: '
}

# 1-4: no route to host
capture "$T" "${M[@]}" -w 10.77.8.1,127.0.1.1 'echo ok'
is "$RC" 255 "unreachable route: exit 255"
is "$(head -1 "$T/err")" "mrsh: 10.77.8.1: CONNECTING: connect to 10.77.8.1:$P: no route to host" \
	"unreachable route: no route to host, for that host"
is "$(cat "$T/out")" "127.0.1.1: ok" "unreachable route: the other host answered"
is "$(sshline 10.77.8.1)" "ssh: connect to host 10.77.8.1 port $P: No route to host" \
	"unreachable route: ssh says the same"

# 5-7: a prohibited route: the kernel's words
capture "$T" "${M[@]}" -w 10.77.7.1,127.0.1.1 'echo ok'
is "$RC" 255 "prohibited route: exit 255"
is "$(head -1 "$T/err")" "mrsh: 10.77.7.1: CONNECTING: connect to 10.77.7.1:$P: Permission denied" \
	"prohibited route: the kernel's reason, for that host"
is "$(cat "$T/out")" "127.0.1.1: ok" "prohibited route: the other host answered"

# 8-11: a DNS server that takes the question and never answers: with -t 3
# the lookup gives up within the connect timeout (0.9 of it), and says so.
echo "127.0.0.1 localhost" >"$T/hosts"
echo "nameserver 127.0.0.1" >"$T/resolv.conf"
mount --bind "$T/hosts" /etc/hosts && mount --bind "$T/resolv.conf" /etc/resolv.conf ||
	bail_out "cannot bind-mount a private /etc/hosts and /etc/resolv.conf"
nc -u -l 127.0.0.1 53 >"$T/dns.log" </dev/null &
dnspid=$!
at_exit "kill $dnspid"
capture "$T" "${M[@]}" -t 3 -w silent.test,127.0.1.1 'echo ok'
is "$RC" 255 "silent DNS server: exit 255"
is "$(head -1 "$T/err")" \
	"mrsh: silent.test: RESOLVING: name not found (no answer from the DNS servers)" \
	"silent DNS server: the lookup gave up, saying why"
is "$(cat "$T/out")" "127.0.1.1: ok" "silent DNS server: the other host answered"
# (evdns mixes the case of the name it asks for)
grep -aqi 'silent' "$T/dns.log"
ok $? "silent DNS server: it was asked"
kill "$dnspid" 2>/dev/null

# 12-15: no local port left towards 127.0.1.2's sshd: the ephemeral
# range narrowed to two ports, both held by connections there. A
# connection to 127.0.1.2 has none (EADDRNOTAVAIL); one to 127.0.1.1 may
# still reuse them.
range=$(sysctl -n net.ipv4.ip_local_port_range)
at_exit "sysctl -qw net.ipv4.ip_local_port_range='$range'"
held=0 full=0
if sysctl -qw net.ipv4.ip_local_port_range="40000 40001"; then
	for _ in 1 2 3 4 5 6 7 8; do
		# shellcheck disable=SC2093 # a redirection only: an fd to hold
		if { exec {fd}<>"/dev/tcp/127.0.1.2/$P"; } 2>/dev/null; then
			held=$((held + 1))
		else
			full=1
			break
		fi
	done
fi
if [ "$held" -gt 0 ] && [ "$full" = 1 ]; then
	capture "$T" "${M[@]}" -w 127.0.1.1,127.0.1.2 'echo ok'
	is "$RC" 255 "no local port: exit 255"
	is "$(head -1 "$T/err")" \
		"mrsh: 127.0.1.2: CONNECTING: connect to 127.0.1.2:$P: no free local port (cannot assign requested address)" \
		"no local port: said, for that host"
	is "$(cat "$T/out")" "127.0.1.1: ok" "no local port: the other host answered"
	is "$(sshline 127.0.1.2)" \
		"ssh: connect to host 127.0.1.2 port $P: Cannot assign requested address" \
		"no local port: ssh says the same"
else
	skip_n 4 "cannot take every ephemeral port towards one destination"
fi
sysctl -qw net.ipv4.ip_local_port_range="$range"

done_testing
