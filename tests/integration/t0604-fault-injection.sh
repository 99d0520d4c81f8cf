#!/bin/bash
# t0604: fault injection under libssh2. A loopback sshd never fills a
# socket buffer, so the paths mrsh takes when libssh2's recv or send says
# EAGAIN or moves fewer bytes never run by themselves: a half-sent window
# adjust inside a read, a half-sent stdin write, EOF or keepalive, a
# cleanup call (channel close, disconnect) that says EAGAIN, a cleanup
# that outlives --close-wait. The test-only injector (src/faultinj.c,
# built with --enable-fault-injection, which --enable-sanitizers turns
# on) makes them happen on a schedule given in MRSH_FAULT, e.g.
#	MRSH_FAULT="recv=eagain:every=3,send=short:every=2,seed=7"
# For every schedule the same runs as without faults -- stdin with -I,
# megabytes of output, a command that stops reading its stdin, keepalives
# -- must give the same bytes on stdout and stderr (mrsh's own lines
# aside) and the same exit status; the injector's report at exit ("RULE:
# F of C calls") shows the schedule hit, and -vvv lines show that the
# path it aims at ran. A build without the injector says SKIP for each
# point (and must not contain it at all).
# Remote commands are single-quoted on purpose: they expand remotely.
# shellcheck disable=SC2016
. "$top_srcdir/tests/integration/lib.sh"
set -u

start_sshd_test 1
need_cmd md5sum base64 cmp head
H=127.0.1.1
# -t 60: ASan handshakes with every packet cut in two on a loaded machine.
M=("$MRSH" -F "$SSH_CONFIG" -w "$H" -N -t 60)
CAPTURE_TIMEOUT=120
# The "remote" host is this machine: it reads the files in $T.
chmod 755 "$T"

# Binary data, then text ending in a newline (-N gives back the bytes).
head -c 200000 /dev/urandom >"$T/bin"
head -c 1100000 /dev/urandom | base64 >"$T/big"
head -c 700000 /dev/urandom >"$T/in"
# More than sshd's channel window: the command stops reading first.
head -c 4000000 /dev/urandom >"$T/in4"

# The commands, each with its stdin (-I) and its extra options.
CMD_data="md5sum; cat $T/bin $T/big; echo to-stderr >&2; exit 7"
IN_data=$T/in
OPT_data=()
CMD_unread='head -c 1000 | md5sum; exit 3'
IN_unread=$T/in4
OPT_unread=()
CMD_keepalive='sleep 5; echo alive'
IN_keepalive=/dev/null
OPT_keepalive=(-o ServerAliveInterval=1 -o ServerAliveCountMax=30)

# What the data run must print (checked once, without faults).
{ md5sum <"$T/in"; cat "$T/bin" "$T/big"; } >"$T/want.data"

# run_cmd DIR NAME [ARGS...]: command NAME into DIR/out, DIR/err, $RC.
run_cmd() {
	local dir=$1 name=$2 cmd in opts
	shift 2
	cmd=CMD_$name in=IN_$name opts=OPT_$name[@]
	mkdir -p "$dir"
	CAPTURE_STDIN=${!in} capture "$dir" "${M[@]}" -I "${!opts}" "$@" \
	    "${!cmd}"
}

# Does this build have the injector? A rule that never fires tells.
mkdir -p "$T/probe"
MRSH_FAULT=recv=eagain:every=1000000 capture "$T/probe" "${M[@]}" true
if grep -q '^mrsh: fault injection: recv=eagain:every=1000000: 0 of [1-9][0-9]* calls$' \
    "$T/probe/err"; then
	have_fi=1
else
	have_fi=0
	diag "no fault injector in $MRSH (configure --enable-fault-injection)"
fi

# 1-3: a build without the injector has no trace of it; with it, a
# schedule it cannot read is refused.
if [ "$have_fi" = 1 ]; then
	skip "a build without the injector does not name MRSH_FAULT" \
	    "this build has the injector"
	MRSH_FAULT=recv=sometimes capture "$T/probe" "${M[@]}" true
	is "$RC" 255 "a malformed MRSH_FAULT: exit 255"
	grepok '^mrsh: MRSH_FAULT: cannot use "recv=sometimes"' "$T/probe/err" \
	    "a malformed MRSH_FAULT: says which rule"
else
	is "$(grep -ac MRSH_FAULT "$MRSH")" 0 \
	    "a build without the injector does not name MRSH_FAULT"
	skip_n 2 "no fault injector in this build"
fi

# 4-9: the runs without faults, the reference for every schedule.
for name in data unread keepalive; do
	run_cmd "$T/base.$name" "$name"
	echo "$RC" >"$T/base.$name/rc"
done
is "$(cat "$T/base.data/rc")" 7 "no faults, data: exit 7"
cmp -s "$T/base.data/out" "$T/want.data"
ok $? "no faults, data: stdout is the md5 of stdin, then the files"
is "$(cat "$T/base.data/err")" "to-stderr
mrsh: 1 of 1 host exited non-zero: exit 7: $H" "no faults, data: stderr"
is "$(cat "$T/base.unread/rc"):$(cat "$T/base.unread/out")" \
    "3:$(head -c 1000 "$T/in4" | md5sum)" \
    "no faults, a command that stops reading stdin: exit 3, its output"
is "$(cat "$T/base.keepalive/rc"):$(cat "$T/base.keepalive/out")" "0:alive" \
    "no faults, keepalives: exit 0, output"
is "$(cat "$T/base.keepalive/err")" "" "no faults, keepalives: stderr empty"

# faulted SCHED NAME SCHEDULE EVIDENCE [ARGS...]: command NAME under
# MRSH_FAULT=SCHEDULE (with -vvv) and 5 points: exit status, stdout and
# stderr as without faults (mrsh's lines there among the -vvv ones, and
# no line that is neither: a warning would be one), every rule of SCHEDULE
# fired, and a line matching EVIDENCE (if not empty; else a pass) in
# stderr ("!ERE": no line matches). 5 SKIPs without the injector.
faulted() {
	local sched=$1 name=$2 fault=$3 evidence=$4 d rule n bad=
	shift 4
	d=$T/$sched.$name
	if [ "$have_fi" = 0 ]; then
		skip_n 5 "no fault injector in this build"
		return
	fi
	MRSH_FAULT=$fault run_cmd "$d" "$name" -vvv "$@"
	is "$RC" "$(cat "$T/base.$name/rc")" "$sched, $name: exit status as without faults"
	cmp -s "$d/out" "$T/base.$name/out"
	ok $? "$sched, $name: stdout byte for byte as without faults"
	# The command's stderr, and mrsh's lines without faults among -vvv's.
	if [ "$(grep -av '^mrsh: ' "$d/err")" = \
	    "$(grep -av '^mrsh: ' "$T/base.$name/err")" ] &&
	    ! grep -a '^mrsh: ' "$T/base.$name/err" | grep -qvxFf "$d/err"; then
		pass "$sched, $name: stderr as without faults"
	else
		fail "$sched, $name: stderr as without faults"
		diag "got:  $(head -c 1500 "$d/err")"
		diag "want: $(cat "$T/base.$name/err")"
	fi
	for rule in ${fault//,/ }; do
		case $rule in
		seed=*) continue ;;
		esac
		n=$(sed -n "s/^mrsh: fault injection: $rule: \([0-9]*\) of [0-9]* calls\$/\1/p" \
		    "$d/err")
		[ -n "$n" ] && [ "$n" -gt 0 ] || bad="$bad $rule(${n:-no report})"
	done
	is "${bad# }" "" "$sched, $name: every rule of $fault fired"
	if [ "${evidence#!}" != "$evidence" ]; then
		unlike "$(cat "$d/err")" "${evidence#!}" \
		    "$sched, $name: no line matches ${evidence#!}"
	elif [ -n "$evidence" ]; then
		grepok "$evidence" "$d/err" "$sched, $name: the path ran ($evidence)"
	else
		pass "$sched, $name: (no path named)"
	fi
}

# 10-19: recv says EAGAIN / reads half of what libssh2 asks.
for name in data unread; do
	faulted recv-eagain "$name" "recv=eagain:every=3" ""
done
for name in data unread; do
	faulted recv-short "$name" "recv=short:every=2" ""
done

# 20-29: send says EAGAIN / sends half, on every other or third call.
# For a command that stops reading, also in the cleanup: the channel EOF
# that libssh2_channel_free() sends when mrsh sent none is built on
# libssh2's stack, so a half-sent one must be retried from the same
# stack depth (1.11.1 says EAGAIN for ever otherwise, and the session
# leaks); ssh_teardown_soon() makes every cleanup call come from the loop.
faulted send-eagain data "send=eagain:every=3" ""
faulted send-eagain unread "send=eagain:every=3" "!SSH cleanup timed out"
faulted send-short data "send=short:every=2" ""
faulted send-short unread "send=short:every=2" "!SSH cleanup timed out"

# 30-44: every send is one byte short, so every packet is half-sent
# once: the window adjust inside a read (the read is repeated alone), a
# keepalive (the next one finishes it), stdin and its EOF, the channel
# close and the disconnect of the cleanup.
faulted cut1 data "send=short:every=1:cut=1" \
    "^mrsh: .*$H: a read left a packet half-sent; it goes on alone"
faulted cut1 unread "send=short:every=1:cut=1" "!SSH cleanup timed out"
faulted cut1 keepalive "send=short:every=1:cut=1" \
    "^mrsh: .*$H: keepalive half-sent; the next one finishes it"

# 45-54: everything at random, two seeds.
for seed in 7 1234; do
	faulted "random$seed" data \
	    "recv=eagain:p=20,recv=short:p=30,send=eagain:p=20,send=short:p=30,seed=$seed" ""
done

# 55-59: the cleanup's calls (channel close, disconnect) say EAGAIN and
# are repeated on the event loop; the session still ends gracefully.
faulted close-eagain data "send=eagain:every=2:closing" \
    "!SSH cleanup timed out"

# 60-64: the cleanup never gets a byte out: --close-wait ends it with a
# reset, and the host's output and exit status are kept.
faulted close-stall data "send=eagain:every=1:closing" \
    "^mrsh: .*$H: SSH cleanup timed out, reset" --close-wait 1

# Schedules it cannot read, each refused before any command runs,
# by exit 255 and one line that quotes the rule as written (the
# parser cuts its copy at ':' and '='): a bad seed, a bad direction or
# kind, an option without "=" or with an unknown name, a cut= on an
# eagain rule, a rule that would never fire, a 17th rule (16 at most).
bad_fault() {
	local want=$1 desc=$2
	if [ "$have_fi" = 0 ]; then
		skip "$desc" "no fault injector in this build"
		return
	fi
	mkdir -p "$T/bad"
	capture "$T/bad" "${M[@]}" 'echo ran'
	is "$RC|$(cat "$T/bad/out")|$(cat "$T/bad/err")" \
	    "255||mrsh: MRSH_FAULT: cannot use \"$want\" (see src/faultinj.c)" \
	    "$desc: exit 255, the rule quoted, nothing run"
}
MRSH_FAULT=recv=eagain:every=2,seed=x bad_fault seed=x "seed=x"
MRSH_FAULT=seed=-1 bad_fault seed=-1 "a negative seed"
MRSH_FAULT=eagain=recv:every=2 bad_fault eagain=recv:every=2 \
    "an unknown direction"
MRSH_FAULT=send=drop:every=2 bad_fault send=drop:every=2 "an unknown kind"
MRSH_FAULT=recv=eagain:every bad_fault recv=eagain:every "an option without ="
MRSH_FAULT=recv=eagain:when=3 bad_fault recv=eagain:when=3 "an unknown option"
MRSH_FAULT=recv=eagain:every=0 bad_fault recv=eagain:every=0 "every=0"
MRSH_FAULT=send=eagain:every=1:cut=1 bad_fault send=eagain:every=1:cut=1 \
    "cut= on an eagain rule"
MRSH_FAULT=send=short:closing bad_fault send=short:closing \
    "a rule with neither every= nor p="
r=recv=eagain:every=1000000
MRSH_FAULT=$r,$r,$r,$r,$r,$r,$r,$r,$r,$r,$r,$r,$r,$r,$r,$r,send=short:p=1 \
    bad_fault send=short:p=1 "a 17th rule"

# An empty item between commas is skipped; both rules are kept.
if [ "$have_fi" = 1 ]; then
	mkdir -p "$T/empty"
	MRSH_FAULT="recv=eagain:every=1000000,,send=eagain:every=1000000," \
	    capture "$T/empty" "${M[@]}" 'echo ran'
	is "$RC|$(cat "$T/empty/out")|$(grep -c '^mrsh: fault injection: [a-z]*=eagain:every=1000000: 0 of [1-9][0-9]* calls$' "$T/empty/err")" \
	    "0|ran|2" "empty items in MRSH_FAULT: skipped, both rules run"
else
	skip "empty items in MRSH_FAULT" "no fault injector in this build"
fi

done_testing
