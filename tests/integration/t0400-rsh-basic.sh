#!/bin/bash
# rsh transport against a real netkit in.rshd: many hosts (loopback
# addresses in a private netns, one rshd on 0.0.0.0), stdout/stderr kept
# apart, the exit status through the marker, output reproduced byte-exact
# (no trailing newline, large output, marker look-alikes), --rsh-stderr merge,
# -l and user@host.
. "$top_srcdir/tests/helpers/rshd.sh"
rshd_standard_setup "$@"

plan 23
T=$RSHD_DIR

# 1-5: 20 hosts; each line on the right stream, nothing else.
"$MRSH" -R rsh -w '127.0.1.[1-20]' -- 'echo out-$((1 + 2)); echo err >&2' \
    >"$T/out" 2>"$T/err"
is "$?" 0 "20 hosts: exit 0"
is "$(grep -c '^127\.0\.1\.[0-9]*: out-3$' "$T/out")" 20 \
    "every host's stdout line, labelled"
is "$(grep -c '^127\.0\.1\.[0-9]*: err$' "$T/err")" 20 \
    "every host's stderr line, on stderr"
is "$(grep -vc ': out-3$' "$T/out")" 0 "nothing else on stdout"
is "$(sort -u "$T/out" | wc -l)" 20 "20 distinct hosts answered"

# 6-7: the exit status comes back through the marker.
"$MRSH" -R rsh -w 127.0.1.1 -- 'echo x; exit 3' >"$T/out" 2>"$T/err"
is "$?" 3 "exit 3 on the host: mrsh exits 3"
is "$(cat "$T/out")" "127.0.1.1: x" "marker stripped from stdout"

# 8: the command cannot wait for input (runs with </dev/null).
"$MRSH" -R rsh -t 20 -u 20 -w 127.0.1.2 -- 'cat; echo done' >"$T/out" 2>&1
is "$(cat "$T/out")" "127.0.1.2: done" "stdin is /dev/null"

# 9-13: byte-exact through --outdir (raw bytes per host).
check_exact()
{
	local desc=$1 cmd=$2 want=$3

	rm -rf "$T/od"
	mkdir "$T/od"
	"$MRSH" -R rsh --outdir "$T/od" -w 127.0.1.3 -- "$cmd" 2>"$T/err"
	cmp -s "$T/od/127.0.1.3" "$want"
	ok $? "$desc"
	cmp "$T/od/127.0.1.3" "$want" 2>&1 | sed 's/^/#   /'
}
printf 'a\nb' >"$T/want1"
check_exact "no trailing newline: byte-exact" "printf 'a\\nb'" "$T/want1"
printf 'line\n\n' >"$T/want2"
check_exact "trailing empty line kept" "printf 'line\\n\\n'" "$T/want2"
: >"$T/want3"
check_exact "no output at all: empty file" "true" "$T/want3"
printf '\n__MRSH_\n__MRSH_x:1\n' >"$T/want4"
check_exact "marker look-alikes pass through" \
    "printf '\\n__MRSH_\\n__MRSH_x:1\\n'" "$T/want4"
head -c 300000 /dev/zero | tr '\0' 'y' >"$T/want5"
printf 'end' >>"$T/want5"
check_exact "300 KB without trailing newline: byte-exact" \
    "head -c 300000 /dev/zero | tr '\\0' y; printf end" "$T/want5"

# 14-16: --rsh-stderr merge: one connection, stderr into stdout.
"$MRSH" -R rsh --rsh-stderr merge -w 127.0.1.4 -- \
    'echo out; sleep 0.1; echo err >&2; exit 4' >"$T/out" 2>"$T/err"
is "$?" 4 "merge: exit status still comes back"
is "$(cat "$T/out")" "127.0.1.4: out
127.0.1.4: err" "merge: stderr arrives on stdout"
is "$(grep -c ': err$' "$T/err")" 0 "merge: no output on stderr"

# 17-18: -l and user@host pick the remote user (root is trusted).
"$MRSH" -R rsh -l "$RSHD_USER" -w 127.0.1.5 -- 'id -un' >"$T/out" 2>"$T/err"
is "$(cat "$T/out")" "127.0.1.5: $RSHD_USER" "-l USER"
"$MRSH" -R rsh -w "$RSHD_USER@127.0.1.6" -- 'id -un' >"$T/out" 2>"$T/err"
is "$(cat "$T/out")" "127.0.1.6: $RSHD_USER" "user@host"

# 19: a command with a trailing comment and quotes survives the wrapping.
"$MRSH" -R rsh -w 127.0.1.7 -- 'echo "a  b" # comment' >"$T/out" 2>"$T/err"
is "$(cat "$T/out")" "127.0.1.7: a  b" "trailing comment, quotes"

# 20-21: host:port reaches a second rshd on another port.
rshd_start 127.0.0.1 2514 || echo "# second rshd did not start"
"$MRSH" -R rsh -w 127.0.0.1:2514 -- 'echo p' >"$T/out" 2>"$T/err"
is "$?" 0 "host:port: exit 0"
is "$(cat "$T/out")" "127.0.0.1:2514: p" "host:port: output"

# 22-23: backpressure: 10 hosts x 1 MB into a reader that starts late; the
# sessions pause and resume, and every byte arrives.
"$MRSH" -R rsh -N -u 120 -w '127.0.2.[1-10]' -- 'yes 123456789 | head -n 100000' \
    2>"$T/err" | { sleep 1; cat; } >"$T/big"
is "$?" 0 "10 MB through a slow reader: exit 0"
is "$(grep -c '^123456789$' "$T/big")" 1000000 \
    "10 MB through a slow reader: every line arrived"

done_testing
