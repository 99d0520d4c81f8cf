#!/bin/bash
# t0905: the sessions to one jump host ("lanes"), against real sshds in
# network namespaces this test creates (the topology of t0903: mrsh's
# namespace reaches only the bastion, 10.77.1.2 in namespace B; only B
# reaches the targets, 10.77.2.x in namespace C, and hop1, 10.77.2.12).
#
# A forward that hangs in the bastion's connect (the targets' listen queue
# is full, so their SYNs are dropped: t0903's trick) holds up the channels
# queued behind it on the shared session; after a second they move to a
# new session to the bastion, a lane. B's tcp_syn_retries is 1: such a
# forward fails after about 3 s, with the bastion's reason.
#
# 1. A chain (bastion, then hop1) whose hop1 session went through a lane
#    made after it: at the end hop1 closes first (its disconnect reaches
#    hop1's sshd), then the bastion's sessions.
# 2. The lanes' logins fail: the bastion's listening sshd is stopped once
#    the first connection is in (OpenSSH's per-connection children outlive
#    their master's SIGTERM: the first session lives on, a new connection
#    is refused, as during a restart of sshd or under a per-source limit).
#    The targets moved onto a failed lane go back to the first session,
#    which carries them once the hanging forwards fail: they answer, each
#    dead one fails with its own reason, and with four dead targets in a
#    row no more than three lanes are tried (four sessions to the hop).
# wait_for's conditions are single-quoted on purpose: eval'd later.
# shellcheck disable=SC2016
. "$top_srcdir/tests/integration/lib.sh"
# shellcheck source=tests/helpers/jumpnet.sh
. "$top_srcdir/tests/helpers/jumpnet.sh"
set -u

reexec_in_netns
need_cmd ip python3 ps

jumpnet_setup 10 11 12 13 14 15 16
# The bastion's connect to a target that drops its SYNs: ~3 s, not ~2 min.
ip netns exec "$NB" sysctl -qw net.ipv4.tcp_syn_retries=1 ||
	bail_out "cannot set tcp_syn_retries in $NB"
jumpnet_bastion
extra_sshd targets "$NT" "$PT"
jumpnet_known_hosts 10 11 12
{
	printf 'Host bastion\n\tHostName 10.77.1.2\n\tPort %s\n' "$SSHD_PORT"
	printf 'Host 10.77.2.*\n\tPort %s\n\tProxyJump bastion\n' "$PT"
	cat "$SSH_CONFIG"
} >"$T/cfg"

# The dead targets: every address of C on port HP, whose listener's queue
# is full (jumpnet_full_port, the trick of t0903).
jumpnet_full_port 0.0.0.0 || bail_out "the full listener did not start"

# 1. hop1 behind the bastion; 10.77.2.11 behind both. The dead target
# first: its open hangs and hop1's, queued behind it, moves to a lane.
{
	printf 'Host bastion\n\tHostName 10.77.1.2\n\tPort %s\n' "$SSHD_PORT"
	printf 'Host hop1\n\tHostName 10.77.2.12\n\tPort %s\n' "$PT"
	printf 'Host 10.77.2.11\n\tPort %s\n\tProxyJump bastion,hop1\n' "$PT"
	printf 'Host 10.77.2.*\n\tPort %s\n\tProxyJump bastion\n' "$PT"
	cat "$SSH_CONFIG"
} >"$T/cfg-chain"
"$MRSH" -F "$T/cfg-chain" -vv -t 30 -w "10.77.2.13:$HP,10.77.2.11" \
	"touch $T/c.started; while [ ! -e $T/c.go ]; do sleep 0.1; done; echo done" \
	</dev/null >"$T/c.out" 2>"$T/c.err" &
mpid=$!
at_exit "kill $mpid"
# The target behind hop1 finishes last: hop1 is still closing when the
# run ends.
wait_for 30 "test -e '$T/c.started' && grep -q '^mrsh: 10\\.77\\.2\\.13:$HP: CONNECTING: ' '$T/c.err'" ||
	diag "the chained target did not start, or the dead one did not fail"
touch "$T/c.go"
wait_for 60 '! kill -0 $mpid' || { diag "mrsh did not finish"; kill "$mpid"; }
wait "$mpid"
rc=$?
is "$rc/$(cat "$T/c.out")" "255/10.77.2.11: done" \
	"a chain through a lane: the target behind hop1 answers"
grepok ': jump host bastion: a forward is unanswered; 1 queued target moves? to another session to it$' \
	"$T/c.err" "... hop1's channel had moved to a lane to the bastion"
# hop1's sshd logs the disconnect of the session from the bastion.
wait_for 10 "grep -q '^Received disconnect from 10\\.77\\.2\\.1 port' '$T/targets.log'"
grepok '^Received disconnect from 10\.77\.2\.1 port [0-9]+:11:' "$T/targets.log" \
	"... at the end hop1's session closed first: its disconnect reached hop1"
is "$(grep -c 'jump host hop1: jump host closed' "$T/c.err")" 0 \
	"... not cut off by the lane's close"

# 2. Four dead targets in a row, then two live ones; every lane refused.
logins=$(grep -c 'Accepted publickey' "$SSHD_LOG")
dead="10.77.2.13:$HP,10.77.2.14:$HP,10.77.2.15:$HP,10.77.2.16:$HP"
"$MRSH" -F "$T/cfg" -vv -t 40 -w "$dead,10.77.2.[10-11]" echo ok \
	</dev/null >"$T/out" 2>"$T/err" &
mpid=$!
at_exit "kill $mpid"
# The bastion's sshd has forked for mrsh's connection: stop the listener.
kids=
wait_for 30 'kids=$(ps -o pid= --ppid "$SSHD_PID"); [ -n "$kids" ]' ||
	diag "no connection reached the bastion"
for k in $kids; do
	at_exit "kill $k"
done
kill -TERM "$SSHD_PID"
wait_for 90 '! kill -0 $mpid' || { diag "mrsh did not finish"; kill "$mpid"; }
wait "$mpid"
rc=$?

is "$rc/$(sort "$T/out" | tr '\n' ' ')" "255/10.77.2.10: ok 10.77.2.11: ok " \
	"the second sessions to the bastion refused: the targets moved to them answer"
nf=$(grep -Ec '^mrsh: 10\.77\.2\.1[01]: [A-Z_]+: ' "$T/err")
is "$nf" 0 "... nothing fails them"
[ "$nf" = 0 ] || diag "$(grep -Ev '^mrsh: [a-z_0-9]+:[0-9]+: ' "$T/err")"
for a in 13 14 15 16; do
	grepok "^mrsh: 10\\.77\\.2\\.$a:$HP: CONNECTING: bastion refused the forward to 10\\.77\\.2\\.$a:$HP \\(connect failed\\)\$" \
		"$T/err" "... the dead 10.77.2.$a fails with its own reason"
done
grepok ': jump host bastion: a forward is unanswered; 5 queued targets move to another session to it$' \
	"$T/err" "... they had moved to a second session to the bastion"
grepok ': jump host bastion: connect to 10\.77\.1\.2:[0-9]+: connection refused$' \
	"$T/err" "... whose connect was refused"
grepok ': jump host bastion: this session failed; 5 queued targets move to another session to it$' \
	"$T/err" "... and they moved back to the first"
is "$(grep -c ': jump host bastion: one session for every target behind it$' "$T/err"):$(
	grep -c ': bastion: the forward to .* is unanswered after ' "$T/err"):$(
	grep -c ': jump host bastion: a forward is unanswered; ' "$T/err"):$(
	grep -c ': jump host bastion: this session failed; ' "$T/err")" \
	"4:4:3:3" "... four stalls, three lanes tried and refused: four sessions to the bastion at most"
is "$(grep -c 'Accepted publickey' "$SSHD_LOG")" "$((logins + 1))" \
	"... one login on the bastion"

done_testing
