#!/bin/bash
# t0602: output that cannot be written is a failure, and output comes out
# byte-exact (issue 13, items 5 and 6), against the private sshd:
# - stdout on a full device (/dev/full) in line mode, with -b and --json:
#   exit 255 and the summary says how many hosts' output was lost;
# - --outdir on a full filesystem (a 64 KiB tmpfs in a private mount
#   namespace): the same;
# - a 1 MB line without a newline: -N and --outdir give it back byte for
#   byte; labelled, it is printed as documented (64 KiB labelled pieces).
. "$top_srcdir/tests/integration/lib.sh"
set -u

# The tmpfs needs a private mount namespace (root); the rest runs anyway
# inside it.
reexec_in_netns --mount --propagation private
start_sshd_test 3
M=("$MRSH" -F "$SSH_CONFIG")
CAPTURE_TIMEOUT=120

# ---- 5. output lost ----------------------------------------------------
for fmt in "" -b --json; do
	"${M[@]}" ${fmt:+"$fmt"} -w '127.0.1.[1-3]' 'echo fine' \
		>/dev/full 2>"$T/err" </dev/null
	rc=$?
	is "$rc" 255 "stdout on /dev/full ${fmt:-(lines)}: exit 255"
	like "$(cat "$T/err")" '^mrsh: output of 3 of 3 hosts lost \(stdout: No space left on device\)$' \
		"${fmt:-lines}: the summary counts the hosts whose output was lost"
done

# stdout closed by the reader (| head): not "lost", as before
"${M[@]}" -w '127.0.1.[1-3]' 'seq 100000' 2>"$T/err" </dev/null | head -n 1 >/dev/null
unlike "$(cat "$T/err")" 'output of .* lost' "a closed pipe is not counted as lost output"

mkdir -p "$T/full"
if mount -t tmpfs -o size=64k tmpfs "$T/full" 2>"$T/mount.err"; then
	at_exit "umount '$T/full'"
	capture "$T" "${M[@]}" --outdir "$T/full/o" -w '127.0.1.[1-3]' \
		'head -c 40000 /dev/zero; echo end'
	is "$RC" 255 "--outdir on a full filesystem: exit 255"
	like "$(cat "$T/err")" "$T/full/o/127\.0\.1\.[1-3]: No space left on device" \
		"the write error names the file"
	like "$(tail -n 1 "$T/err")" '^mrsh: output of [1-3] of 3 hosts lost \(.*No space left on device\)$' \
		"the summary counts the hosts whose output was lost"
else
	skip "--outdir on a full filesystem" "cannot mount a tmpfs: $(cat "$T/mount.err")"
	skip "the write error names the file" "no tmpfs"
	skip "the summary counts the hosts whose output was lost" "no tmpfs"
fi

# ---- 6. long lines -----------------------------------------------------
head -c 1048576 /dev/urandom | base64 -w 0 | head -c 1048576 >"$T/line"
sum=$(md5sum <"$T/line" | cut -d' ' -f1)
capture "$T" "${M[@]}" -N -w 127.0.1.1 "cat $T/line"
is "$RC" 0 "a 1 MB line without newline, -N: exit 0"
is "$(md5sum <"$T/out" | cut -d' ' -f1)" "$sum" "-N: byte-exact (no newline inserted or added)"
(cat "$T/line"; echo; cat "$T/line") >"$T/two"
capture "$T" "${M[@]}" -N -w 127.0.1.1 "cat $T/two"
is "$(md5sum <"$T/out" | cut -d' ' -f1)" "$(md5sum <"$T/two" | cut -d' ' -f1)" \
	"-N: two 1 MB lines byte-exact"
capture "$T" "${M[@]}" --outdir "$T/od" -w '127.0.1.[1-2]' "cat $T/line"
is "$(md5sum <"$T/od/127.0.1.2" | cut -d' ' -f1)" "$sum" "--outdir: byte-exact"
capture "$T" "${M[@]}" -w 127.0.1.1 "cat $T/line"
is "$(wc -l <"$T/out")" 16 "labelled: 16 pieces of 64 KiB, as documented"
is "$(grep -c '^127\.0\.1\.1: ' "$T/out")" 16 "labelled: each piece labelled"
is "$(sed 's/^127\.0\.1\.1: //' "$T/out" | tr -d '\n' | md5sum | cut -d' ' -f1)" "$sum" \
	"labelled: no byte lost"

done_testing
