#!/bin/bash
# The ProxyJump tests' network (t0901, t0902, t0903, t0905): a bastion that
# mrsh's namespace reaches, and targets that only the bastion reaches, so
# that a direct connection fails and every answer proves the route.
#
#   mrsh's namespace      namespace B (bastion)      namespace C (targets)
#   10.77.1.1 --veth jb-- 10.77.1.2
#                         10.77.2.1 -----veth jt---- 10.77.2.A ...
#
# mrsh's namespace has no route to 10.77.2.0/24. B and C get names unique
# to this run (the test's number and its temp dir's key), and are removed
# at exit; the interface names are fixed, as every end lives in a namespace
# of this run only (mrsh's own is the test's private one: reexec_in_netns).
#
# As a library, after lib.sh and reexec_in_netns:
#   . "$top_srcdir/tests/helpers/jumpnet.sh"
#   jumpnet_setup 10 11 12          # T, NB, NT, PT; 10.77.2.{10,11,12} in C
#   [ip netns exec "$NB" sysctl ...] # knobs of B or C stay in the test
#   jumpnet_bastion [LINE...]       # start_sshd 1 in B, forwarding on
#   extra_sshd targets "$NT" "$PT" [LINE...]   # the targets' sshd
#   jumpnet_known_hosts 10 11 12    # the bastion and 10.77.2.A:$PT
#   jumpnet_full_port 10.77.2.13 || bail_out ...  # HP: SYNs dropped in C
#
# Set by jumpnet_setup:
#   T               a temp dir (make_tmpdir) for the test and these helpers
#   NB, NT          the names of namespaces B and C (ip -n, ip netns exec)
#   PT              a free port, for the targets' sshd (not started here)
# Set by jumpnet_bastion: what start_sshd sets (tests/helpers/sshd.sh):
# SSHD_PORT, SSHD_PID, SSHD_LOG, SSHD_CONFIG, SSH_CONFIG, KNOWN_HOSTS ...
# The bastion is 10.77.1.2:$SSHD_PORT.
# extra_sshd NAME ...: its config is $T/NAME.config, its log $T/NAME.log.
# Set by jumpnet_full_port: HP, the port; FULL_PID, its listener's pid.

# jumpnet_setup ADDR...: make T, namespaces B and C (removed at exit), the
# links between them and mrsh's namespace, and the targets' addresses
# 10.77.2.ADDR; choose PT. Bails out on any failure: a half-made network
# would only fail the test points later, for reasons that are not theirs.
jumpnet_setup() {
	local key tag a

	[ "${MRSH_IN_NETNS:-}" = "$0" ] ||
		bail_out "jumpnet_setup: not in the test's private namespace (reexec_in_netns)"
	T=$(make_tmpdir)
	key=${T##*/}
	key=${key#mrsh-test.}
	key=${key//./-}
	tag=${0##*/}
	tag=${tag%%-*}
	NB=mrsh-$tag-b-$key
	NT=mrsh-$tag-t-$key
	ip netns add "$NB" || bail_out "ip netns add $NB"
	at_exit "ip netns del $NB"
	ip netns add "$NT" || bail_out "ip netns add $NT"
	at_exit "ip netns del $NT"
	for a in "$@"; do
		echo "addr add 10.77.2.$a/24 dev jt1"
	done >"$T/jumpnet.addrs"
	# us <-> bastion
	if ! { ip link add jb0 type veth peer name jb1 netns "$NB" &&
		ip addr add 10.77.1.1/24 dev jb0 &&
		ip link set jb0 up &&
		ip -n "$NB" addr add 10.77.1.2/24 dev jb1 &&
		ip -n "$NB" link set jb1 up &&
		ip -n "$NB" link set lo up; }; then
		bail_out "jumpnet_setup: cannot link us to the bastion"
	fi
	# bastion <-> targets (we are not on this link and have no route to it)
	if ! { ip -n "$NB" link add jt0 type veth peer name jt1 netns "$NT" &&
		ip -n "$NB" addr add 10.77.2.1/24 dev jt0 &&
		ip -n "$NB" link set jt0 up &&
		ip -n "$NT" -batch "$T/jumpnet.addrs" &&
		ip -n "$NT" link set jt1 up &&
		ip -n "$NT" link set lo up; }; then
		bail_out "jumpnet_setup: cannot link the bastion to the targets"
	fi
	PT=$(free_port)
}

# jumpnet_bastion [LINE...]: the usual private sshd (start_sshd 1) run in
# namespace B through a wrapper, forwarding on, any user; the given
# sshd_config lines first (first value wins: PermitOpen, say). Bails out
# unless $MRSH is built, as start_sshd_test does.
jumpnet_bastion() {
	local line extra=

	for line; do
		extra+="$line"$'\n'
	done
	printf '#!/bin/sh\nexec ip netns exec %s /usr/sbin/sshd "$@"\n' "$NB" \
		>"$T/sshd-b"
	chmod +x "$T/sshd-b"
	SSHD_BIN="$T/sshd-b" SSHD_EXTRA_CONFIG="${extra}AllowTcpForwarding yes
AllowUsers *" start_sshd 1
	[ -x "$MRSH" ] || bail_out "no mrsh binary at $MRSH"
}

# extra_sshd NAME NETNS PORT [LINE...]: another sshd with the same keys,
# the given lines first (first value wins); its log is $T/NAME.log.
extra_sshd() {
	local name=$1 ns=$2 port=$3 line
	shift 3
	{
		for line in "$@"; do
			echo "$line"
		done
		sed -e "s/^Port .*/Port $port/" -e "s#^PidFile .*#PidFile $T/$name.pid#" \
			"$SSHD_CONFIG"
	} >"$T/$name.config"
	(ip netns exec "$ns" /usr/sbin/sshd -D -f "$T/$name.config" \
		-E "$T/$name.log" </dev/null >/dev/null 2>&1 &
		echo $! >"$T/$name.launcher")
	at_exit "kill $(cat "$T/$name.launcher")"
	wait_for 20 "grep -q 'Server listening on 0.0.0.0 port $port' '$T/$name.log'" ||
		bail_out "sshd $name did not start"
}

# jumpnet_known_hosts ADDR...: add the bastion (10.77.1.2:$SSHD_PORT) and
# the targets 10.77.2.ADDR:$PT to $KNOWN_HOSTS, all with the one host key
# every sshd here shares.
jumpnet_known_hosts() {
	local a

	{
		echo "[10.77.1.2]:$SSHD_PORT $HOST_KEY_PUB"
		for a in "$@"; do
			echo "[10.77.2.$a]:$PT $HOST_KEY_PUB"
		done
	} >>"$KNOWN_HOSTS"
}

# jumpnet_full_port ADDR: a free port HP on which a listener in C, bound
# to ADDR (0.0.0.0: every target), has a full listen queue (backlog 0,
# filled by three connections to 10.77.2.13), so the kernel drops the SYNs
# of any other connection to it: the bastion's connect there hangs, and a
# forward to it stays unanswered. The listener (FULL_PID) is killed at
# exit. Returns 1 if it did not start; the caller says how bad that is.
jumpnet_full_port() {
	HP=$(free_port)
	ip netns exec "$NT" python3 -c '
import socket, sys, time
s = socket.socket(); s.bind((sys.argv[3], int(sys.argv[1]))); s.listen(0)
cs = []
for i in range(3):
    c = socket.socket(); c.setblocking(False)
    try:
        c.connect(("10.77.2.13", int(sys.argv[1])))
    except BlockingIOError:
        pass
    cs.append(c)
open(sys.argv[2], "w").close()
time.sleep(300)' "$HP" "$T/full.ready" "$1" &
	FULL_PID=$!
	at_exit "kill $FULL_PID"
	wait_for 20 "test -e '$T/full.ready'"
}
