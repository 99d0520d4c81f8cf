#!/bin/bash
# t0202: bulk data over ssh, both ways. 10 MB from one host arrives whole
# (byte count and checksum, with -N and with labels), several hosts send
# megabytes at once without mixing lines, and -I sends mrsh's stdin to 50
# hosts byte for byte (each host checksums what it got).
# Remote commands are single-quoted on purpose: they expand remotely.
# shellcheck disable=SC2016
. "$top_srcdir/tests/integration/lib.sh"
set -u

start_sshd_test 50
need_cmd md5sum base64
M=("$MRSH" -F "$SSH_CONFIG" -t 60)	# 50 hosts: room for a loaded machine
# A few seconds of work each; a stall must fail soon, not after minutes.
CAPTURE_TIMEOUT=60
# The "remote" hosts are this machine: they can read files in $T.
chmod 755 "$T"

# 10 MB of text (base64 lines end in a newline, so -N must give back
# exactly the same bytes)
head -c 7680000 /dev/urandom | base64 >"$T/big"
size=$(wc -c <"$T/big")
sum=$(md5sum <"$T/big" | cut -d' ' -f1)
capture "$T" "${M[@]}" -N -w 127.0.1.7 "cat $T/big"
is "$RC" 0 "10 MB from one host, -N: exit 0"
is "$(wc -c <"$T/out")" "$size" "-N: byte count ($size)"
is "$(md5sum <"$T/out" | cut -d' ' -f1)" "$sum" "-N: checksum"
is "$(cat "$T/err")" "" "nothing on stderr"

# the same with labels: every line prefixed, content intact
capture "$T" "${M[@]}" -w 127.0.1.8 "cat $T/big"
is "$RC" 0 "10 MB labelled: exit 0"
is "$(grep -vc '^127\.0\.1\.8: ' "$T/out")" 0 "every line carries the label"
is "$(sed 's/^127\.0\.1\.8: //' "$T/out" | md5sum | cut -d' ' -f1)" "$sum" \
	"labels removed, checksum matches"

# 5 hosts x 2 MB at once: lines never mixed between hosts
head -c 1500000 /dev/urandom | base64 >"$T/mid"
midsum=$(md5sum <"$T/mid" | cut -d' ' -f1)
capture "$T" "${M[@]}" -w '127.0.1.[1-5]' "cat $T/mid"
is "$RC" 0 "5 hosts x 2 MB: exit 0"
bad=0
for i in 1 2 3 4 5; do
	s=$(grep "^127\.0\.1\.$i: " "$T/out" | sed "s/^127\.0\.1\.$i: //" |
		md5sum | cut -d' ' -f1)
	[ "$s" = "$midsum" ] || { bad=$((bad + 1)); diag "127.0.1.$i: $s"; }
done
is "$bad" 0 "each host's lines, in order, are exactly its output"

# -I: 1 MB of binary stdin to 50 hosts, each checksums what it got
head -c 1048576 /dev/urandom >"$T/in"
insum=$(md5sum <"$T/in" | cut -d' ' -f1)
CAPTURE_STDIN=$T/in capture "$T" "${M[@]}" -I -f "$HOSTS_FILE" \
	'f=$(mktemp); cat >"$f"; md5sum <"$f"; wc -c <"$f"; rm -f "$f"'
is "$RC" 0 "-I to 50 hosts: exit 0"
is "$(grep -c ": $insum  -$" "$T/out")" 50 "all 50 hosts got the same checksum as sent"
is "$(grep -c ': 1048576$' "$T/out")" 50 "all 50 hosts got 1048576 bytes"
is "$(cut -d: -f1 "$T/out" | sort -u)" "$(sort "$HOSTS_FILE")" "from every host"

# -I from a pipe (not a file): same data, written slowly
CAPTURE_STDIN=/dev/stdin capture "$T" "${M[@]}" -I -w '127.0.1.[1-5]' 'md5sum' \
	< <(for i in 1 2 3 4; do head -c 262144 "$T/in" | tail -c 65536; sleep 0.2; done)
want=$(for i in 1 2 3 4; do head -c 262144 "$T/in" | tail -c 65536; done | md5sum | cut -d' ' -f1)
is "$RC" 0 "-I from a pipe written in pieces: exit 0"
is "$(grep -c ": $want  -$" "$T/out")" 5 "all 5 hosts got the whole stream"

# -I with empty stdin: remote reads EOF at once
CAPTURE_TIMEOUT=60 capture "$T" "${M[@]}" -I -f "$HOSTS_FILE" 'wc -c'
is "$RC" 0 "-I with empty stdin: exit 0"
is "$(grep -c ': 0$' "$T/out")" 50 "every host read 0 bytes and ended"

done_testing
