#!/bin/bash
# Output through -R exec: 10 MB from one host, last lines without newline at
# 1K/8K/10K, binary data, --outdir/--errdir, --json checked by a real JSON
# parser, -b gathering, -N, backpressure on a stdout nobody reads yet, and
# `| head` ending mrsh quietly.
. "$top_srcdir/tests/integration/lib.sh"

T=$(make_tmpdir)

# 10 MB from one host, byte-exact through --outdir; line count on stdout
head -c 7500000 /dev/urandom | base64 -w 76 >"$T/big"
"$MRSH" -R exec --outdir "$T/od" -w h1 -- cat "$T/big" 2>"$T/err"
is "$?" 0 "10 MB: exit 0"
is "$(md5sum <"$T/od/h1")" "$(md5sum <"$T/big")" "10 MB byte-exact in --outdir"
"$MRSH" -R exec -N -w h1 -- cat "$T/big" >"$T/out" 2>"$T/err"
is "$(md5sum <"$T/out")" "$(md5sum <"$T/big")" "10 MB of lines byte-exact with -N"
"$MRSH" -R exec -w 'h[1-3]' -- cat "$T/big" >"$T/out" 2>"$T/err"
is "$(wc -l <"$T/out")" "$((3 * $(wc -l <"$T/big")))" "3 x 10 MB: every line once"
is "$(grep -c -v '^h[1-3]: ' "$T/out")" 0 "every line prefixed, no line torn"

# last line without a newline, at 1K, 8K and 10K: printed once, complete
for n in 1024 8192 10240; do
	head -c "$n" /dev/zero | tr '\0' x >"$T/nonl"
	"$MRSH" -R exec -w 'h1,h2' -- cat "$T/nonl" >"$T/out" 2>"$T/err"
	is "$(grep -c "^h[12]: x\{$n\}\$" "$T/out")" 2 "$n bytes without newline: one whole line per host"
	is "$(wc -l <"$T/out")" 2 "$n bytes without newline: printed once"
done
printf 'a\nb' >"$T/ab"
"$MRSH" -R exec -w h1 -- cat "$T/ab" >"$T/out"
is "$(cat "$T/out")" "$(printf 'h1: a\nh1: b')" "short last line kept"

# binary output: byte-exact in --outdir; passes through the line mode intact
head -c 200000 /dev/urandom >"$T/bin"
"$MRSH" -R exec --outdir "$T/bd" -w 'h[1-2]' -- cat "$T/bin" 2>"$T/err"
is "$(md5sum <"$T/bd/h2")" "$(md5sum <"$T/bin")" "binary output byte-exact in --outdir"
"$MRSH" -R exec -N -w h1 -- cat "$T/bin" >"$T/out" 2>"$T/err"
is "$?" 0 "binary output in line mode: exit 0"
# Byte-exact: -N adds no newline, not even after an unterminated last line.
cmp -s "$T/out" "$T/bin"
ok $? "binary output in line mode (-N): byte-exact"

# --outdir / --errdir: one file per host, empty files for silent hosts
"$MRSH" -R exec --outdir "$T/o2" --errdir "$T/e2" -w 'h[1-3]' -- \
	sh -c 'test %h = h2 || { echo out %h; echo err %h >&2; }' >"$T/out" 2>"$T/err"
is "$(cat "$T/o2/h1")" "out h1" "--outdir: stdout file"
is "$(cat "$T/e2/h3")" "err h3" "--errdir: stderr file"
ok "$(test -f "$T/o2/h2" && ! test -s "$T/o2/h2"; echo $?)" "silent host: empty file"
is "$(cat "$T/out")" "" "--outdir: nothing on the terminal"
"$MRSH" -R exec --outdir /proc/nonexistent/x -w h1 -- true 2>"$T/err"
is "$?" 2 "unusable --outdir: exit 2"
# host names that are path components stay inside --outdir
"$MRSH" -R exec --outdir "$T/o3/sub" -w '..,.' -- echo hi >"$T/out" 2>"$T/err"
is "$?/$(cd "$T/o3" && find . | LC_ALL=C sort | tr '\n' ' ')" "0/. ./sub ./sub/_ ./sub/__ " \
	"--outdir: hosts . and .. write sub/_ and sub/__, nothing outside"
touch "$T/afile"
"$MRSH" -R exec --outdir "$T/afile" -w h1 -- true 2>"$T/err"
is "$?/$(cat "$T/err")" "2/mrsh: cannot use --outdir $T/afile: Not a directory" \
	"--outdir naming a regular file: exit 2"
"$MRSH" -R exec --outdir "$T/afile/x" -w h1 -- true 2>"$T/err"
is "$?/$(cat "$T/err")" "2/mrsh: cannot use --outdir $T/afile/x: Not a directory" \
	"--outdir below a regular file: exit 2"
mkdir -p "$T/o4/h1"
"$MRSH" -R exec --outdir "$T/o4" -w h1,h2 -- echo hi >"$T/out" 2>"$T/err"
is "$?/$(cat "$T/err")/$(cat "$T/o4/h2")" "255/mrsh: $T/o4/h1: Is a directory
mrsh: output of 1 of 2 hosts lost ($T/o4/h1: Is a directory)/hi" \
	"a directory where a host's file goes: that host's output lost, exit 255, the other host's kept"

# --json: one valid object per host, parsed by python's json module
"$MRSH" -R exec --json -u 2 -w 'h[1-4]' -- sh -c '
	case %h in
	h1) printf "quote\" back\\\\ ctl\001 utf8 \303\251 bad \377";;
	h2) echo err >&2; exit 4;;
	h3) kill -KILL $$;;
	h4) sleep 10;;
	esac' >"$T/json" 2>"$T/err"
is "$?" 255 "--json run: exit 255 (one timeout)"
python3 - "$T/json" >"$T/py" 2>&1 <<'PY'
import json, sys
objs = {}
for line in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(line)
    objs[o["host"]] = o
print(len(objs))
print(repr(objs["h1"]["stdout"]))
print(objs["h2"]["exit_code"], repr(objs["h2"]["stderr"]))
print(objs["h3"]["signal"], objs["h4"]["status"], objs["h4"]["stage"])
PY
is "$(sed -n 1p "$T/py")" 4 "--json: 4 objects, all valid JSON"
is "$(sed -n 2p "$T/py")" "'quote\" back\\\\ ctl\\x01 utf8 é bad ÿ'" "--json: escapes, UTF-8 kept, invalid byte mapped"
is "$(sed -n 3p "$T/py")" "4 'err\\n'" "--json: exit code and stderr"
like "$(sed -n 4p "$T/py")" '^KILL timeout running$' "--json: signal; timeout with its stage"

# -b: identical output and status grouped under a compressed range
"$MRSH" -R exec -b -w 'n[01-07]' -- sh -c 'echo same; test %h = n06 && exit 2; true' \
	>"$T/out" 2>"$T/err"
is "$?" 2 "-b: exit status still the largest"
like "$(cat "$T/out")" 'n\[01-05,07\] \(6\)' "-b: header with compressed range and count"
like "$(cat "$T/out")" '^n06$' "-b: different exit status, separate group (no (1), as clush)"
like "$(cat "$T/err")" '^mrsh: n06: exited with exit code 2$' "-b: the exit code on stderr, as clush"
is "$(grep -c '^same$' "$T/out")" 2 "-b: output printed once per group"
"$MRSH" -R exec -b --gather-max 1K -w h1 -- head -c 5000 /dev/zero >"$T/out" 2>"$T/err"
like "$(cat "$T/out")" 'cut' "-b: output beyond --gather-max is cut, and says so"

# --json escapes: \b \f by name; a 3-byte and a 4-byte UTF-8 sequence
# kept, an overlong one, a cut one and a bad continuation byte as
# \u00XX per byte (valid JSON, no byte lost)
"$MRSH" -R exec --json -w j1 -- printf '\b\f\340\240\200|\340\200\200|\360\220\200\200|\360\220\200|\343\201x' >"$T/json2"
is "$(grep -o '"stdout":"[^"]*"' "$T/json2")" \
	"$(printf '"stdout":"\\b\\f\340\240\200|\\u00e0\\u0080\\u0080|\360\220\200\200|\\u00f0\\u0090\\u0080|\\u00e3\\u0081x"')" \
	"--json: control, overlong, cut and bad UTF-8 bytes escaped, good sequences kept"
is "$(python3 -c 'import json,sys; print(ascii(json.load(sys.stdin)["stdout"]))' <"$T/json2")" \
	"'\\x08\\x0c\\u0800|\\xe0\\x80\\x80|\\U00010000|\\xf0\\x90\\x80|\\xe3\\x81x'" \
	"--json: ... and it parses"

# mrsh's own messages go through the same queue as host output: on a slow
# stderr pipe (non-blocking during the run) none is lost, and the summary
# comes last. 2,000 error lines are more than a pipe holds.
"$MRSH" -R exec -w 'h[0001-2000]' -- /nonexistent/cmd 2>&1 >/dev/null |
	{ sleep 2; cat; } >"$T/slowerr"
is "$(grep -c '^mrsh: h[0-9]*: SETUP: cannot run /nonexistent/cmd' "$T/slowerr")" 2000 \
	"slow stderr pipe: every per-host error line arrives"
like "$(tail -n 1 "$T/slowerr")" '^mrsh: 2000 of 2000 hosts failed: ' \
	"slow stderr pipe: the summary comes last"

# Backpressure through the scheduler: output's hook pauses the hosts when
# stdout backs up and resumes them once it drains. The reader starts only
# when mrsh said it paused them (or after 60 s, and the test fails).
"$MRSH" -vv -R exec -N -w 'h[1-2]' -- sh -c 'yes 123456789 | head -n 500000' \
	2>"$T/bp.err" | { wait_for 60 "grep -q 'pausing hosts' '$T/bp.err'"; cat; } >"$T/bp.out"
is "${PIPESTATUS[0]}" 0 "10 MB into a reader that waits: exit 0"
is "$(grep -o 'output congested: pausing hosts$\|output drained$' "$T/bp.err" | tr '\n' ,)" \
	"output congested: pausing hosts,output drained," \
	"stdout backed up: the scheduler paused the hosts, then resumed them"
is "$(grep -c '^123456789$' "$T/bp.out")" 1000000 "10 MB into a reader that waits: every line arrived"

# stdout that takes bytes, stalls, then fails (not EPIPE): a TCP reader
# that stops reading and, once both hosts ended with their 1 MB still
# queued in mrsh, resets (tests/helpers/sink-reset.py: ECONNRESET). The
# queued output of both hosts is lost, in every output mode: exit 255,
# the error once, the summary counts them.
for mode in "" -b "-b -L"; do
	rm -f "$T/go"
	# shellcheck disable=SC2086 # $mode: none, one or two options
	python3 "$top_srcdir/tests/helpers/sink-reset.py" "$T/go" \
		timeout -k 5 120 "$MRSH" -vv $mode -R exec -w h1,h2 -- \
		sh -c 'yes 123456789 | head -n 100000' 2>"$T/rst.err" &
	rpid=$!
	wait_for 60 "[ \$(grep -c ' -> DONE\$' '$T/rst.err') = 2 ]" ||
		diag "${mode:-lines}: the hosts did not end"
	touch "$T/go"
	wait "$rpid"
	is "$?/$(grep -Ev '^mrsh: [a-z_0-9]+:[0-9]+: ' "$T/rst.err")" \
		"255/mrsh: stdout: Connection reset by peer
mrsh: output of 2 of 2 hosts lost (stdout: Connection reset by peer)" \
		"stdout reset after it stalled, ${mode:-lines}: exit 255, said, both hosts lost"
done

# | head: mrsh ends quietly when its reader goes, although the commands
# never stop writing (were it to go on, timeout's 124 would show it).
tag="y.$$"
timeout -k 5 120 "$MRSH" -R exec -w 'h[1-20]' -- yes "$tag" 2>"$T/err" |
	head -n 3 >"$T/out"
is "${PIPESTATUS[0]}" 141 "| head: mrsh ends with SIGPIPE's status"
is "$(grep -Ec "^h([1-9]|1[0-9]|20): $tag\$" "$T/out")" 3 "| head: head got its lines"
is "$(cat "$T/err")" "" "| head: nothing on stderr"
wait_for 20 "! pgrep -f '^yes $tag\$' >/dev/null"
ok $? "| head: the commands ended too"

done_testing
