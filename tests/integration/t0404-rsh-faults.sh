#!/bin/bash
# rsh failures past those of t0401, each one line "mrsh: HOST: STAGE:
# reason" with exit 255 while the other hosts' output still arrives: rshd
# closes or resets the connection before the status byte, resets the
# stderr connection, gives its reason without a newline or with trailing
# blanks (and "mismatch" counts as an authentication failure at -vv), sends a
# malformed or cut-short exit status marker; a real in.rshd reached from
# non-reserved source ports (--ports beyond 1023, --ports ephemeral: -v
# says why first) and over IPv6 (an address of this netns, so the stderr
# connection's address is compared as IPv6), as a uid without a passwd
# entry (USER names it, or the run cannot start); -vvv traces rcmd steps.
. "$top_srcdir/tests/helpers/rshd.sh"
rshd_standard_setup "$@"

T=$RSHD_DIR

# run LABEL ARGS...: mrsh -R rsh with a good host (127.0.1.1) beside the
# one under test; out/err in $T/LABEL.out, $T/LABEL.err, status in $rc.
run() {
	local label=$1

	shift
	"$MRSH" -R rsh -t 20 -u 60 "$@" >"$T/$label.out" 2>"$T/$label.err"
	rc=$?
}

# -vvv: the rcmd handshake's steps, with the call site; a good run.
run trace -vvv -w 127.0.1.1 -- echo hi
is "$rc" 0 "-vvv: exit 0"
is "$(cat "$T/trace.out")" "127.0.1.1: hi" "-vvv: the output"
for step in 'CONNECTING -> WRITING' 'WRITING -> STATUS' 'STATUS -> OK'; do
	grepok "^mrsh: [a-z_]+:[0-9]+: 127\.0\.1\.1: rcmd $step\$" \
	    "$T/trace.err" "-vvv: traces rcmd $step"
done
grepok '^mrsh: [a-z_]+:[0-9]+: 127\.0\.1\.1: marker SCAN -> CODE$' \
    "$T/trace.err" "-vvv: traces the marker filter"

# An empty command: the remote shell runs nothing (":") and exits 0.
run empty -w 127.0.1.1 -- ''
is "$rc" 0 "empty command: exit 0"
is "$(cat "$T/empty.out")$(cat "$T/empty.err")" "" "empty command: no output"

# A 100 KB command through 4 KB send buffers (this netns's tcp_wmem): more
# than the socket takes at once, so the request goes out in parts as it
# drains (in.rshd takes up to ARG_MAX).
long=$(head -c 100000 /dev/zero | tr '\0' x)
wmem=$(sysctl -n net.ipv4.tcp_wmem 2>/dev/null)
sysctl -qw net.ipv4.tcp_wmem="4096 4096 4096" 2>/dev/null ||
    echo "# cannot set this netns's tcp_wmem"
run long -w 127.0.1.1 -- "printf %s $long | wc -c"
[ -z "$wmem" ] || sysctl -qw net.ipv4.tcp_wmem="$wmem"
is "$rc" 0 "100 KB command: exit 0"
is "$(cat "$T/long.out")" "127.0.1.1: 100000" "100 KB command: all of it ran"

# Real in.rshd, source ports it does not accept.
run beyond -v --ports 1024-1039 -w 127.0.1.2 -- echo hi
is "$rc" 255 "--ports 1024-1039: exit 255"
is "$(head -n 1 "$T/beyond.err")" \
    "mrsh: rsh: rshd accepts only source ports 512-1023; --ports 1024-1039 goes beyond" \
    "--ports 1024-1039: -v says why first"
# in.rshd exits without reading the request: a reset (or, had it exited
# before the request arrived, an EOF).
refusal='^mrsh: 127\.0\.1\.2: SETUP: (read: Connection reset by peer|rshd closed the connection before the status byte)$'
grepok "$refusal" "$T/beyond.err" "--ports 1024-1039: in.rshd's refusal, one line"
is "$(wc -l <"$T/beyond.err")" 3 "--ports 1024-1039: and the summary, nothing else"
is "$(cat "$T/beyond.out")" "" "--ports 1024-1039: no output"
run ephem -v --ports ephemeral -w 127.0.1.2 -- echo hi
is "$rc" 255 "--ports ephemeral: exit 255"
is "$(head -n 1 "$T/ephem.err")" \
    "mrsh: rsh: --ports ephemeral: rshd will refuse non-reserved source ports" \
    "--ports ephemeral: -v says why first"
grepok "$refusal" "$T/ephem.err" "--ports ephemeral: in.rshd's refusal, one line"

# Real in.rshd over IPv6, on an address only this netns has.
rshd_add_hosts "fd00:4c::1 v6.mrsh.test"
if ip -6 addr add fd00:4c::1/128 dev lo nodad 2>/dev/null &&
    rshd_start '[fd00:4c::1]' 514; then
	run v6 -w '[fd00:4c::1]',127.0.1.1 -- 'echo v6; echo e6 >&2; exit 4'
	is "$rc" 4 "IPv6: the remote exit status"
	is "$(sort "$T/v6.out")" "$(printf '127.0.1.1: v6\nfd00:4c::1: v6')" \
	    "IPv6: output of both hosts"
	grepok '^fd00:4c::1: e6$' "$T/v6.err" "IPv6: stderr connection accepted"
else
	skip_n 3 "no IPv6 in the test's netns"
fi

# A uid without a passwd entry (a container's arbitrary uid), holding only
# CAP_NET_BIND_SERVICE: the local user name comes from USER, or the run
# cannot start.
if command -v setpriv >/dev/null 2>&1 && ! getent passwd 4242 >/dev/null; then
	priv="--reuid=4242 --regid=4242 --clear-groups
	    --inh-caps=+net_bind_service --ambient-caps=+net_bind_service"
	# shellcheck disable=SC2086
	setpriv $priv env -u USER "$MRSH" -R rsh -w 127.0.1.1 -- echo hi \
	    >"$T/nouser.out" 2>"$T/nouser.err"
	is "$?" 2 "no passwd entry, no USER: the run cannot start, exit 2"
	grepok '^mrsh: rsh: cannot find the local user name \(uid 4242\)$' \
	    "$T/nouser.err" "no passwd entry, no USER: says why"
	is "$(cat "$T/nouser.out")" "" "no passwd entry, no USER: nothing ran"
	# shellcheck disable=SC2086
	setpriv $priv env USER="$RSHD_USER" "$MRSH" -R rsh -w 127.0.1.1 -- \
	    'echo hi' >"$T/envuser.out" 2>"$T/envuser.err"
	is "$?" 0 "no passwd entry, USER=$RSHD_USER: exit 0"
	is "$(cat "$T/envuser.out")" "127.0.1.1: hi" \
	    "no passwd entry, USER=$RSHD_USER: in.rshd trusts that name"
else
	skip_n 5 "no setpriv, or uid 4242 exists"
fi

# The scripted fake rshd (python3).
if ! command -v python3 >/dev/null 2>&1; then
	skip_n 25 "python3 not found (needed by tests/helpers/rshd_fake.py)"
	done_testing
	exit 0
fi

# fake NAME ADDR PORT MODE [ARG]: start it, then run mrsh on it and 127.0.1.1.
fake() {
	local name=$1 addr=$2 port=$3

	shift 3
	rshd_fake "$addr" "$port" "$@" || echo "# fake rshd did not start"
	run "$name" -w "$addr:$port,127.0.1.1" -- echo good
}

# both NAME: exit 255, the good host's output still there.
both() {
	is "$rc" 255 "$1: exit 255"
	is "$(cat "$T/$1.out")" "127.0.1.1: good" "$1: the other host's output"
}

fake early 127.0.4.1 710 close-early
both early
grepok '^mrsh: 127\.0\.4\.1:710: SETUP: rshd closed the connection before the status byte$' \
    "$T/early.err" "closed before the status byte: one line"

fake reset 127.0.4.2 711 reset
both reset
grepok '^mrsh: 127\.0\.4\.2:711: SETUP: read: Connection reset by peer$' \
    "$T/reset.err" "reset before the status byte: one line"

fake ereset 127.0.4.3 712 reset-stderr
both ereset
grepok '^mrsh: 127\.0\.4\.3:712: SETUP: read stderr connection: Connection reset by peer$' \
    "$T/ereset.err" "stderr connection reset: one line"

# rshd's reason without a newline, with trailing blanks and CR.
fake noeol 127.0.4.4 713 error-eof 'Try again later.  \r'
both noeol
grepok '^mrsh: 127\.0\.4\.4:713: SETUP: rshd: Try again later\.$' \
    "$T/noeol.err" "reason cut by EOF, blanks and CR trimmed"

# An empty reason; and a "denied" one is an authentication failure (-vv).
fake empty 127.0.4.5 714 error ''
both empty
grepok '^mrsh: 127\.0\.4\.5:714: SETUP: rshd: \(no reason given\)$' \
    "$T/empty.err" "empty reason: says so"
rshd_fake 127.0.4.6 715 error 'Host address mismatch.' ||
    echo "# fake rshd did not start"
run mismatch -vv -w 127.0.4.6:715 -- true
grepok '^mrsh: rsh_fail_errtext:[0-9]+: 127\.0\.4\.6:715: SETUP fails \(auth\)$' \
    "$T/mismatch.err" "-vv: 'mismatch' is an authentication failure"
grepok '^mrsh: 127\.0\.4\.6:715: SETUP: rshd: Host address mismatch\.$' \
    "$T/mismatch.err" "mismatch: rshd's reason"

# Exit status markers that are not.
fake badmk 127.0.4.7 716 marker $'4x2\n'
is "$rc" 255 "badmk: exit 255"
is "$(sort "$T/badmk.out")" "$(printf '127.0.1.1: good\n127.0.4.7:716: out')" \
    "badmk: both hosts' output, the marker stripped"
grepok '^mrsh: 127\.0\.4\.7:716: exit status unknown: exit status marker is malformed$' \
    "$T/badmk.err" "malformed marker: exit status unknown, says why"
rshd_fake 127.0.4.8 717 marker '3' || echo "# fake rshd did not start"
run cutmk -w 127.0.4.8:717 -- true
is "$rc" 255 "cut-short marker: exit 255"
is "$(cat "$T/cutmk.out")" "127.0.4.8:717: out" \
    "cut-short marker: the output before it, marker stripped"
grepok '^mrsh: 127\.0\.4\.8:717: exit status unknown: exit status marker cut short$' \
    "$T/cutmk.err" "cut-short marker: exit status unknown, says why"

# A stderr connection from another IPv6 address of the server's: refused.
if ip -6 addr add fd00:4c::2/128 dev lo nodad 2>/dev/null &&
    ip -6 addr show dev lo | grep -q fd00:4c::1 &&
    rshd_fake fd00:4c::1 718 wrong-host fd00:4c::2; then
	run v6wrong -w '[fd00:4c::1]:718' -- true
	is "$rc" 255 "IPv6 stderr from another address: exit 255"
	grepok "^mrsh: \[fd00:4c::1\]:718: SETUP: stderr connection from \[fd00:4c::2\]:[0-9]+, not from the server's address \(\[fd00:4c::1\]:718\); refused$" \
	    "$T/v6wrong.err" "IPv6 stderr from another address: refused"
else
	skip_n 2 "no IPv6 in the test's netns"
fi

done_testing
