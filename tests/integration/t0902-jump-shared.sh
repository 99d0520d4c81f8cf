#!/bin/bash
# t0902: the shared jump session, against real sshds in network namespaces
# this test creates (the topology of t0901): mrsh's namespace reaches only
# the bastions (10.77.1.2, namespace B), and only B reaches the targets
# (10.77.2.x, namespace C). Many targets through one bastion make exactly
# ONE connection and one login on the bastion's sshd (its log counts
# them), and 0 TIME_WAIT on our side (counted in our own namespace, with
# --close local as the control that counting works); a bastion with
# a chain of two is one session per hop; AllowTcpForwarding no gives the
# server's reason; a bastion that dies
# mid-run fails only the targets behind it, with a message naming it,
# while the targets behind another bastion finish.
# Remote commands are single-quoted on purpose: they expand remotely.
# shellcheck disable=SC2016
. "$top_srcdir/tests/integration/lib.sh"
# shellcheck source=tests/helpers/jumpnet.sh
. "$top_srcdir/tests/helpers/jumpnet.sh"
set -u

reexec_in_netns
need_cmd ip ss

# N targets, 10.77.2.10 and up, behind the bastion (tests/helpers/jumpnet.sh).
N=200
mapfile -t addrs < <(seq 10 $((10 + N - 1)))
jumpnet_setup "${addrs[@]}"

# Bastion A: the usual private sshd (its log counts logins), in B.
jumpnet_bastion

extra_sshd targets "$NT" "$PT"
PB=$(free_port)
extra_sshd bastion2 "$NB" "$PB" "AllowTcpForwarding yes"
PN=$(free_port)
extra_sshd nofwd "$NB" "$PN" "AllowTcpForwarding no"

jumpnet_known_hosts "${addrs[@]}"
for p in "$PB" "$PN"; do
	echo "[10.77.1.2]:$p $HOST_KEY_PUB"
done >>"$KNOWN_HOSTS"

{
	printf 'Host bastion\n\tHostName 10.77.1.2\n\tPort %s\n' "$SSHD_PORT"
	printf 'Host bastion2\n\tHostName 10.77.1.2\n\tPort %s\n' "$PB"
	printf 'Host nofwd\n\tHostName 10.77.1.2\n\tPort %s\n' "$PN"
	printf 'Host 10.77.2.*\n\tPort %s\n' "$PT"
	cat "$SSH_CONFIG"
} >"$T/cfg"

# logins BASTION_LOG: how many logins that sshd accepted so far.
logins() {
	grep -c 'Accepted publickey for' "$1"
}
# tw: TIME_WAIT sockets in our namespace (ours only: sshds are elsewhere).
tw() {
	ss -Htan state time-wait | wc -l
}

WHO='set -- $SSH_CONNECTION; echo "from $1 to $3"'
HOSTS="10.77.2.[10-$((10 + N - 1))]"

# N targets through one bastion: one login, every target answered from B.
before=$(logins "$SSHD_LOG")
capture "$T" "$MRSH" -F "$T/cfg" -J bastion -j 64 -t 60 --stats -w "$HOSTS" "$WHO"
is "$RC" 0 "$N targets through one bastion: exit 0"
want=$(for ((i = 10; i < 10 + N; i++)); do
	echo "10.77.2.$i: from 10.77.2.1 to 10.77.2.$i"
done | sort)
is "$(sort "$T/out")" "$want" "$N targets: each answered, reached from the bastion"
is "$(($(logins "$SSHD_LOG") - before))" 1 \
	"the bastion's sshd saw exactly one login for $N targets"
like "$(cat "$T/err")" "^mrsh: stats: via bastion $N\$" "--stats: via bastion $N"
is "$(grep -v '^mrsh: stats' "$T/err")" "" "$N targets: nothing else on stderr"
is "$(tw)" 0 "0 TIME_WAIT on our side after $N targets through one bastion"
is "$(grep -c "Accepted publickey for .* from 10.77.2.1 " "$T/targets.log")" \
	"$N" "the targets' sshd saw $N logins, all from the bastion"

# A chain, bastion then bastion2 reached through a channel of bastion:
# one login on each for 10 targets, bastion2's from the bastion itself.
b1=$(logins "$SSHD_LOG")
b2=$(logins "$T/bastion2.log")
capture "$T" "$MRSH" -F "$T/cfg" -J bastion,bastion2 -w '10.77.2.[10-19]' "$WHO"
is "$RC" 0 "-J bastion,bastion2: exit 0"
is "$(sort "$T/out")" "$(for i in 10 11 12 13 14 15 16 17 18 19; do
	echo "10.77.2.$i: from 10.77.2.1 to 10.77.2.$i"; done | sort)" \
	"-J bastion,bastion2: the 10 targets answered"
is "$(($(logins "$SSHD_LOG") - b1))" 1 "chain: one login on the first hop"
is "$(($(logins "$T/bastion2.log") - b2))" 1 "chain: one login on the second hop"
is "$(grep 'Accepted publickey' "$T/bastion2.log" | tail -1 | sed 's/.* from \([0-9.]*\) .*/\1/')" \
	10.77.1.2 "chain: the second hop's login came from the first hop"
is "$(tw)" 0 "chain: 0 TIME_WAIT on our side"

# The control, that counting works here: the bastion as a target itself,
# --close local (our FIN first, as t0206 shows; a race for one connection,
# so up to 5 runs).
for i in 1 2 3 4 5; do
	capture "$T" "$MRSH" -F "$T/cfg" --close local -w bastion true
	[ "$RC" = 0 ] && [ "$(tw)" -ge 1 ] && break
done
is "$RC" 0 "--close local to the bastion itself: exit 0"
ok "$([ "$(tw)" -ge 1 ] && echo 0 || echo 1)" \
	"--close local: TIME_WAIT here is counted ($(tw)), so the 0 above could fail"

# --json names the jump host; the same spec twice is one session.
capture "$T" "$MRSH" -F "$T/cfg" -J bastion --json -w '10.77.2.[10-12]' true
is "$(grep -c '"via":"bastion"' "$T/out")" 3 "--json: via bastion, 3 targets"

# AllowTcpForwarding no: the server's reason, for each target behind it;
# the targets behind the other bastion are not disturbed.
{
	printf 'Host 10.77.2.10 10.77.2.11\n\tProxyJump nofwd\n'
	printf 'Host 10.77.2.12\n\tProxyJump bastion2\n'
	cat "$T/cfg"
} >"$T/cfg-nofwd"
capture "$T" "$MRSH" -F "$T/cfg-nofwd" -w '10.77.2.[10-12]' 'echo up'
is "$RC" 255 "AllowTcpForwarding no: exit 255"
is "$(cat "$T/out")" "10.77.2.12: up" "the target behind bastion2 answered"
for a in 10 11; do
	grepok "^mrsh: 10\\.77\\.2\\.$a: CONNECTING: nofwd refused the forward to 10\\.77\\.2\\.$a:$PT \\(administratively prohibited\\)\$" \
		"$T/err" "AllowTcpForwarding no: 10.77.2.$a refused, in the server's words"
done

# The bastion dies mid-run: its targets fail naming it, the targets
# behind bastion2 still finish and print everything.
{
	printf 'Host 10.77.2.1?\n\tProxyJump bastion\n'
	printf 'Host 10.77.2.2?\n\tProxyJump bastion2\n'
	cat "$T/cfg"
} >"$T/cfg-die"
rm -f "$T/go"
"$MRSH" -F "$T/cfg-die" -w '10.77.2.[10-12],10.77.2.[20-22]' \
	"echo started; while [ ! -e $T/go ]; do sleep 0.1; done; echo finished" \
	>"$T/die.out" 2>"$T/die.err" &
mpid=$!
wait_for 30 '[ "$(grep -c started "$T/die.out")" = 6 ]' ||
	diag "not every target started: $(cat "$T/die.out" "$T/die.err")"
# Kill the bastion's connection: the children of sshd A, and theirs.
descendants() {
	local c
	for c in $(ps -o pid= --ppid "$1"); do
		echo "$c"
		descendants "$c"
	done
}
kids=$(descendants "$SSHD_PID")
ok "$([ -n "$kids" ] && echo 0 || echo 1)" "the bastion's connection has processes to kill"
# shellcheck disable=SC2086
kill -9 $kids 2>/dev/null
wait_for 30 '[ "$(grep -c "jump host bastion: connection lost" "$T/die.err")" -ge 3 ]'
touch "$T/go"
wait_for 60 '! kill -0 $mpid' || kill "$mpid"
wait "$mpid"
is "$?" 255 "bastion died mid-run: exit 255"
is "$(grep finished "$T/die.out" | sort)" "10.77.2.20: finished
10.77.2.21: finished
10.77.2.22: finished" "the targets behind bastion2 finished"
for a in 10 11 12; do
	grepok "^mrsh: 10\\.77\\.2\\.$a: RUNNING: jump host bastion: connection lost: " \
		"$T/die.err" "bastion died: 10.77.2.$a failed, naming the jump host"
done
like "$(cat "$T/die.err")" '^mrsh: 3 of 6 hosts failed' "bastion died: 3 of 6 failed"

# The bastion is down (nothing listens): every target behind it, one line.
{
	printf 'Host deadjump\n\tHostName 10.77.1.2\n\tPort %s\n' "$(free_port)"
	cat "$T/cfg"
} >"$T/cfg-dead"
capture "$T" "$MRSH" -F "$T/cfg-dead" -J deadjump -w '10.77.2.[10-11]' true
is "$RC" 255 "jump host down: exit 255"
is "$(grep -c ': CONNECTING: jump host deadjump: connect to 10.77.1.2:[0-9]*: connection refused$' "$T/err")" \
	2 "jump host down: both targets say so, naming the hop"

# Authentication refused at the jump host (a user it does not allow).
capture "$T" "$MRSH" -F "$T/cfg" -J "nosuch$$@bastion2" -w '10.77.2.[10-11]' true
is "$RC" 255 "jump host refuses the login: exit 255"
is "$(grep -c ': CONNECTING: jump host bastion2: auth failed: permission denied (publickey)' "$T/err")" \
	2 "jump host refuses the login: both targets say so"

done_testing
