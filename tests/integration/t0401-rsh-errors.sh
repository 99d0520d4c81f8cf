#!/bin/bash
# rsh transport errors, each a clear per-host error with the right stage:
# connection refused, "Permission denied." from a real in.rshd, no exit
# status marker, and (scripted fake rshd) a server that never connects back
# for stderr, a stderr connection from a non-reserved port or from another
# address, a bad status byte; plus the marker split one byte per segment.
. "$top_srcdir/tests/helpers/rshd.sh"
rshd_standard_setup "$@"

plan 26
T=$RSHD_DIR

# Nothing listens on 127.0.2.1:600.
"$MRSH" -R rsh --stats -w 127.0.2.1:600 -- true >"$T/out" 2>"$T/err"
is "$?" 255 "refused: exit 255"
grepok '^mrsh: 127\.0\.2\.1:600: CONNECTING: connect to 127\.0\.2\.1:600: connection refused$' \
    "$T/err" "refused: stage and reason"
is "$(wc -c <"$T/out")" 0 "refused: no output"
grepok '^mrsh: stats: closed remote-first 0, local-first 0, reset 0, no-socket 1' \
    "$T/err" "refused: counted as no connection, not as a reset"

# A user without trust: rshd's own text surfaces.
"$MRSH" -R rsh -w 'nobody@127.0.1.1,127.0.1.2' -- 'echo ok' >"$T/out" \
    2>"$T/err"
is "$?" 255 "denied: exit 255"
grepok '^mrsh: 127\.0\.1\.1: SETUP: rshd: Permission denied\.$' "$T/err" \
    "denied: stage and rshd's text"
is "$(cat "$T/out")" "127.0.1.2: ok" "denied: the other host still runs"

# The remote shell dies before the marker: exit status unknown.
"$MRSH" -R rsh -w 127.0.1.3 -- 'echo before; kill -9 $$' >"$T/out" 2>"$T/err"
is "$?" 255 "no marker: exit 255"
grepok '127\.0\.1\.3: exit status unknown' "$T/err" \
    "no marker: exit status unknown"

# One port cannot serve a session (main + stderr listener).
"$MRSH" -R rsh --ports 600-600 -w 127.0.1.1 -- true >"$T/out" 2>"$T/err"
is "$?" 2 "a one-port range: usage error"
grepok 'each session needs two source ports' "$T/err" \
    "a one-port range: says why"

# The fake rshd is python3; without it the rest cannot run.
if ! command -v python3 >/dev/null 2>&1; then
	skip_n 15 "python3 not found (needed by tests/helpers/rshd_fake.py)"
	exit 0
fi

# Never connects back: the connect timeout fires in SETUP.
rshd_fake 127.0.3.1 700 no-back || echo "# fake rshd did not start"
"$MRSH" -R rsh -t 2 -w 127.0.3.1:700 -- true >"$T/out" 2>"$T/err"
is "$?" 255 "no stderr connection: exit 255"
grepok '^mrsh: 127\.0\.3\.1:700: SETUP: connect timeout' "$T/err" \
    "no stderr connection: timeout in SETUP"

# Stderr connection from a port >= 1024: refused.
rshd_fake 127.0.3.2 701 wrong-port || echo "# fake rshd did not start"
"$MRSH" -R rsh -t 20 -w 127.0.3.2:701 -- true >"$T/out" 2>"$T/err"
is "$?" 255 "stderr from a non-reserved port: exit 255"
grepok '^mrsh: 127\.0\.3\.2:701: SETUP: stderr connection from 127\.0\.3\.2:[0-9]+: source port not reserved \(512-1023\); refused$' \
    "$T/err" "stderr from a non-reserved port: refused, clear error"
grepok 'connecting back from' "$T/fake-701.log" \
    "stderr from a non-reserved port: the fake connected back"

# Stderr connection from another address: refused. Two addresses
# that exist only in this netns.
ip addr add 10.201.0.1/32 dev lo && ip addr add 10.201.0.2/32 dev lo ||
    echo "# cannot add addresses to lo"
rshd_fake 10.201.0.1 702 wrong-host 10.201.0.2 ||
    echo "# fake rshd did not start"
"$MRSH" -R rsh -t 20 -w 10.201.0.1:702 -- true >"$T/out" 2>"$T/err"
is "$?" 255 "stderr from another host: exit 255"
grepok "^mrsh: 10\.201\.0\.1:702: SETUP: stderr connection from 10\.201\.0\.2:[0-9]+, not from the server's address \(10\.201\.0\.1:702\); refused$" \
    "$T/err" "stderr from another host: refused, clear error"
grepok 'connecting back from' "$T/fake-702.log" \
    "stderr from another host: the fake connected back"

# Status byte neither 0 nor 1.
rshd_fake 127.0.3.3 703 bad-status || echo "# fake rshd did not start"
"$MRSH" -R rsh -t 20 -w 127.0.3.3:703 -- true >"$T/out" 2>"$T/err"
is "$?" 255 "bad status byte: exit 255"
grepok '^mrsh: 127\.0\.3\.3:703: SETUP: bad rcmd status byte 0x07 from rshd$' \
    "$T/err" "bad status byte: clear error"

# The marker arrives one byte per segment, after output that ends
# without a newline and contains marker look-alikes.
rshd_fake 127.0.3.4 704 dribble $'one\n__MRSH_\n__MRSH_zz:5\ntwo' ||
    echo "# fake rshd did not start"
mkdir "$T/od"
"$MRSH" -R rsh -t 20 -u 60 --outdir "$T/od" -w 127.0.3.4:704 -- true \
    >"$T/out" 2>"$T/err"
is "$?" 7 "split marker: exit status 7 recognised"
printf 'one\n__MRSH_\n__MRSH_zz:5\ntwo' >"$T/want"
cmp -s "$T/od/127.0.3.4:704" "$T/want"
ok $? "split marker: output byte-exact, marker stripped"
grep -q 'no marker' "$T/fake-704.log"
[ $? != 0 ]
ok $? "split marker: the fake found the marker in the command"

# The marker never appears whole in the command line (it is sent
# as "__MRSH_ HEX"), so ps output of the remote shell cannot end the output.
"$MRSH" -R rsh -w 127.0.1.4 -- 'ps -o args= -p $$; echo after' >"$T/out" \
    2>"$T/err"
is "$?" 0 "ps of the wrapped command: exit 0"
is "$(tail -n 1 "$T/out")" "127.0.1.4: after" \
    "ps of the wrapped command does not end the output"

done_testing
