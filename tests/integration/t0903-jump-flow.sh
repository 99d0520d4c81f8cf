#!/bin/bash
# t0903: bytes through the shared jump session, against real sshds in
# network namespaces this test creates (the topology of t0901: mrsh's
# namespace reaches only the bastion, 10.77.1.2 in namespace B; only B
# reaches the targets, 10.77.2.x in namespace C).
#
# - One target's command stalls, and its sshd is frozen (SIGSTOP) so that
#   not even its SSH layer answers, while the other targets through the
#   same jump session send several MB each: their outputs arrive complete
#   (byte for byte, --outdir) while the stalled one is still stalled, and
#   it finishes too once let go.
# - -I: MBs of stdin to every target through the jump, two of them
#   echoing it back (both directions of each channel full at once, both
#   windows, the jump channel's and the target session's, in play): every
#   target got every byte, the echoes come back byte for byte.
# - ServerAliveInterval of the jump host applies to the jump session, as
#   to the jump connection of ssh -J: a quiet command through a live jump
#   host lives; a frozen jump host fails its targets, naming it.
# - Under the fault injector (libssh2's socket calls saying EAGAIN or
#   moving fewer bytes), -I through the jump gives the same bytes.
# Remote commands are single-quoted on purpose: they expand remotely.
# shellcheck disable=SC2016
. "$top_srcdir/tests/integration/lib.sh"
# shellcheck source=tests/helpers/jumpnet.sh
. "$top_srcdir/tests/helpers/jumpnet.sh"
set -u

reexec_in_netns
need_cmd ip sha256sum cmp head

jumpnet_setup 10 11 12 13
jumpnet_bastion
extra_sshd targets "$NT" "$PT"
jumpnet_known_hosts 10 11 12 13
{
	printf 'Host bastion\n\tHostName 10.77.1.2\n\tPort %s\n' "$SSHD_PORT"
	printf 'Host 10.77.2.*\n\tPort %s\n\tProxyJump bastion\n' "$PT"
	cat "$SSH_CONFIG"
} >"$T/cfg"

# Random bytes (no line structure to hide a lost or doubled block).
head -c $((4 * 1024 * 1024)) /dev/urandom >"$T/big"
head -c $((2 * 1024 * 1024)) /dev/urandom >"$T/mid"
bigsum=$(sha256sum <"$T/big")

# descendants PID: every process below PID.
descendants() {
	local c
	for c in $(ps -o pid= --ppid "$1"); do
		echo "$c"
		descendants "$c"
	done
}

# 1. One stalled (and frozen) target, three sending MBs.
mkdir "$T/o1"
"$MRSH" -F "$T/cfg" --outdir "$T/o1" -t 60 -w '10.77.2.[10-13]' \
	"set -- \$SSH_CONNECTION; case \$3 in
	10.77.2.10) cat $T/big ;;
	10.77.2.11) echo \$PPID >$T/stall.ppid
		while [ ! -e $T/go ]; do sleep 0.1; done; echo let go ;;
	*) cat $T/mid ;;
	esac" </dev/null >"$T/o1.out" 2>"$T/o1.err" &
mpid=$!
at_exit "kill $mpid"
wait_for 30 '[ -s "$T/stall.ppid" ]' || diag "the stalled target did not start"
spid=$(cat "$T/stall.ppid" 2>/dev/null)
# Its sshd (the parent of its shell): frozen, so the target's SSH layer
# takes and answers nothing either.
[ -n "$spid" ] && kill -STOP "$spid" && at_exit "kill -CONT $spid"
done_others() {
	cmp -s "$T/big" "$T/o1/10.77.2.10" && cmp -s "$T/mid" "$T/o1/10.77.2.12" &&
		cmp -s "$T/mid" "$T/o1/10.77.2.13"
}
wait_for 60 done_others
ok "$(done_others && echo 0 || echo 1)" \
	"one stalled target: the others' outputs (4 MiB, 2 x 2 MiB) arrived complete"
ok "$([ ! -e "$T/go" ] && kill -0 "$mpid" 2>/dev/null &&
	[ ! -s "$T/o1/10.77.2.11" ] && echo 0 || echo 1)" \
	"... while the stalled target was still stalled, mrsh still running"
[ -n "$spid" ] && kill -CONT "$spid"
touch "$T/go"
wait_for 60 '! kill -0 $mpid' || kill "$mpid"
wait "$mpid"
is "$?" 0 "one stalled target, let go: exit 0"
is "$(cat "$T/o1/10.77.2.11" 2>/dev/null)" "let go" "the stalled target finished too"
is "$(cat "$T/o1.out" "$T/o1.err")" "" "nothing on stdout or stderr"
is "$(grep -c 'Accepted publickey' "$SSHD_LOG")" 1 "one login on the bastion"

# 2. -I: 4 MiB of stdin to 4 targets through the jump; two count it, two
# echo it back.
mkdir "$T/o2"
CAPTURE_STDIN=$T/big CAPTURE_TIMEOUT=90 capture "$T" "$MRSH" -F "$T/cfg" -I \
	--outdir "$T/o2" -t 60 -w '10.77.2.[10-13]' \
	'set -- $SSH_CONNECTION; case $3 in
	10.77.2.1[01]) sha256sum ;;
	*) cat ;;
	esac'
is "$RC" 0 "-I, 4 MiB through the jump: exit 0"
for a in 10 11; do
	is "$(cat "$T/o2/10.77.2.$a")" "$bigsum" "-I: 10.77.2.$a got every byte of stdin"
done
for a in 12 13; do
	ok "$(cmp -s "$T/big" "$T/o2/10.77.2.$a" && echo 0 || echo 1)" \
		"-I: 10.77.2.$a echoed all 4 MiB back, byte for byte"
done
is "$(cat "$T/err")" "" "-I: nothing on stderr"

# 3. The same bytes when libssh2's socket calls say EAGAIN or move fewer
# bytes than asked (the test-only fault injector, MRSH_FAULT, see t0604),
# on the jump session and the target sessions inside it alike: the jump
# pump repeats every channel call libssh2 left half done (open, write,
# read, EOF, close) on the next turn of the loop. 1 MiB of stdin, one
# target counting it, one echoing it back; the injector's report shows
# every rule hit. 4 points per schedule, SKIPs without the injector.
head -c $((1024 * 1024)) /dev/urandom >"$T/fi.in"
fisum=$(sha256sum <"$T/fi.in")
mkdir -p "$T/fprobe"
MRSH_FAULT=recv=eagain:every=1000000 capture "$T/fprobe" "$MRSH" -F "$T/cfg" \
	-t 60 -w 10.77.2.10 true
have_fi=0
grep -q '^mrsh: fault injection: recv=eagain:every=1000000: 0 of [1-9][0-9]* calls$' \
	"$T/fprobe/err" && have_fi=1
for sched in "send=short:every=2,recv=eagain:every=3,seed=7" \
	"send=eagain:every=3,recv=short:every=2" \
	"send=eagain:p=40,recv=eagain:p=40,seed=11"; do
	if [ "$have_fi" = 0 ]; then
		skip_n 4 "no fault injector in this build (--enable-fault-injection)"
		continue
	fi
	d=$T/fi.$sched
	mkdir -p "$d/o"
	MRSH_FAULT=$sched CAPTURE_STDIN=$T/fi.in CAPTURE_TIMEOUT=120 capture "$d" \
		"$MRSH" -F "$T/cfg" -I --outdir "$d/o" -t 60 -w '10.77.2.[10-11]' \
		'set -- $SSH_CONNECTION; case $3 in
		10.77.2.10) sha256sum ;;
		*) cat ;;
		esac'
	is "$RC" 0 "$sched: exit 0"
	is "$(cat "$d/o/10.77.2.10")" "$fisum" "$sched: every byte of stdin arrived"
	ok "$(cmp -s "$T/fi.in" "$d/o/10.77.2.11" && echo 0 || echo 1)" \
		"$sched: the echo came back byte for byte"
	# Only the injector's report on stderr, each rule with faults made.
	rules=$(echo "$sched" | tr , '\n' | grep -v '^seed=')
	hit=0
	for r in $rules; do
		grep -qx "mrsh: fault injection: $r: [1-9][0-9]* of [0-9]* calls" \
			"$d/err" && hit=$((hit + 1))
	done
	is "$hit:$(grep -vc '^mrsh: fault injection: ' "$d/err")" \
		"$(echo "$rules" | wc -l):0" \
		"$sched: every rule hit, nothing else on stderr"
done
# Keepalives of the jump session whose send says EAGAIN: finished on the
# next turn, the quiet targets live on.
{
	printf 'Host bastion\n\tServerAliveInterval 1\n\tServerAliveCountMax 3\n'
	cat "$T/cfg"
} >"$T/cfg-fika"
if [ "$have_fi" = 1 ]; then
	d=$T/fi.ka
	mkdir -p "$d"
	MRSH_FAULT=send=eagain:every=2 CAPTURE_TIMEOUT=60 capture "$d" "$MRSH" \
		-F "$T/cfg-fika" -t 30 -w '10.77.2.[10-11]' 'sleep 3; echo alive'
	is "$RC" 0 "keepalives under send=eagain:every=2: exit 0"
	is "$(sort "$d/out")" "10.77.2.10: alive
10.77.2.11: alive" "keepalives under send=eagain:every=2: both targets lived"
	grepok '^mrsh: fault injection: send=eagain:every=2: [1-9][0-9]* of [0-9]* calls$' \
		"$d/err" "keepalives under send=eagain:every=2: the rule hit"
else
	skip_n 3 "no fault injector in this build (--enable-fault-injection)"
fi

# A target behind the bastion that does not exist (no host answers ARP
# for 10.77.2.99): the forward hangs in the bastion's connect, and -t
# bounds it; the channel still opening is dropped when its answer comes.
capture "$T" "$MRSH" -F "$T/cfg" -t 1 -w 10.77.2.99 true
is "$RC" 255 "a forward that hangs: exit 255"
is "$(head -1 "$T/err")" "mrsh: 10.77.2.99: CONNECTING: connect timeout after 1s (-t)" \
	"a forward that hangs: the connect timeout, for that target"

# A forward that hangs (the target's listen queue is full, so the
# bastion's connect gets no answer) opens first: libssh2 opens one channel
# at a time per session, so the targets queued behind it on the shared
# jump session move to another session to the bastion after a second,
# and answer; the hanging one fails at its own -t.
jumpnet_full_port 10.77.2.13 || diag "the full listener did not start"
capture "$T" "$MRSH" -F "$T/cfg" -vv -t 8 -w "10.77.2.13:$HP,10.77.2.[10-11]" echo ok
is "$RC/$(sort "$T/out" | tr '\n' ' ')" "255/10.77.2.10: ok 10.77.2.11: ok " \
	"a forward that hangs does not hold up the other targets of its jump host"
grepok "^mrsh: 10\\.77\\.2\\.13:$HP: CONNECTING: connect timeout after 8s \\(-t\\)\$" "$T/err" \
	"... the hanging one fails at its own connect timeout"
grepok ': jump host bastion: a forward is unanswered; 2 queued targets move to another session to it$' \
	"$T/err" "... the two behind it moved to a second session to the bastion"
kill "$FULL_PID" 2>/dev/null

# A target whose port takes the connection and closes it at once (no
# SSH there): the channel closes before the target's banner, and the
# message names the jump host it went through.
PX=$(free_port)
ip netns exec "$NT" nc -q 0 -l 10.77.2.13 "$PX" </dev/null >/dev/null 2>&1 &
ncpid=$!
at_exit "kill $ncpid"
wait_for 10 "ip netns exec $NT ss -ltn | grep -q '10.77.2.13:$PX '" ||
	diag "the closing listener did not start"
capture "$T" "$MRSH" -F "$T/cfg" -t 20 -p "$PX" -w 10.77.2.13 true
is "$RC" 255 "a target port that closes at once: exit 255"
like "$(head -1 "$T/err")" \
	"^mrsh: 10\\.77\\.2\\.13: [A-Z]+: jump host bastion: the channel closed before the target's SSH banner\$" \
	"a target port that closes at once: said, naming the jump host"
kill "$ncpid" 2>/dev/null

# 4. ServerAliveInterval of the jump host, on the jump session.
{
	printf 'Host bastion\n\tServerAliveInterval 1\n\tServerAliveCountMax 3\n'
	cat "$T/cfg"
} >"$T/cfg-ka"
CAPTURE_TIMEOUT=60 capture "$T" "$MRSH" -F "$T/cfg-ka" -w '10.77.2.[10-11]' \
	'sleep 3; echo alive'
is "$RC" 0 "jump host with ServerAliveInterval 1, quiet command: exit 0"
is "$(sort "$T/out")" "10.77.2.10: alive
10.77.2.11: alive" "... both targets lived through the quiet time"

{
	printf 'Host bastion\n\tServerAliveInterval 1\n\tServerAliveCountMax 2\n'
	cat "$T/cfg"
} >"$T/cfg-ka2"
"$MRSH" -F "$T/cfg-ka2" -w '10.77.2.[10-11]' "echo started; sleep 40.$$" \
	</dev/null >"$T/ka.out" 2>"$T/ka.err" &
mpid=$!
at_exit "kill $mpid"
wait_for 30 '[ "$(grep -c started "$T/ka.out")" = 2 ]' ||
	diag "not every target started: $(cat "$T/ka.out" "$T/ka.err")"
# Freeze the bastion's connection: the children of its sshd, and theirs.
kids=$(descendants "$SSHD_PID")
ok "$([ -n "$kids" ] && echo 0 || echo 1)" "the bastion's connection has processes to freeze"
for k in $kids; do
	kill -STOP "$k" && at_exit "kill -CONT $k"
done
wait_for 40 '! kill -0 $mpid' || { diag "mrsh did not give up"; kill "$mpid"; }
wait "$mpid"
is "$?" 255 "frozen jump host with ServerAliveInterval: exit 255"
for k in $kids; do
	kill -CONT "$k"
done
for a in 10 11; do
	grepok "^mrsh: 10\\.77\\.2\\.$a: RUNNING: jump host bastion: no answer from the server for [0-9]+s \\(ServerAliveInterval 1, ServerAliveCountMax 2\\)\$" \
		"$T/ka.err" "frozen jump host: 10.77.2.$a failed, naming it and the keepalive"
done

done_testing
