#!/bin/bash
# clush's other output modes, through the real clush (its local exec
# worker, -R exec) and mrsh -R exec on the same hosts and commands: -L
# (each host's output after the run, hosts sorted), -b -L (gathered line by
# line), --diff (unified diffs against the first, largest group's output),
# -B (stderr gathered with stdout) and --color: stdout byte for byte, and
# the "exited with exit code" lines on stderr (mrsh's name for clush's).
. "$top_srcdir/tests/integration/lib.sh"

need_cmd clush
T=$(make_tmpdir)

# compare DESC HOSTS CMD OPTS...: stdout bytes and exit-code lines
compare() {
	local desc=$1 hosts=$2 cmd=$3

	shift 3
	NO_COLOR= clush -R exec -w "$hosts" "$@" "$cmd" >"$T/c.out" 2>"$T/c.err" </dev/null
	NO_COLOR= "$MRSH" -R exec -w "$hosts" "$@" -- sh -c "$cmd" >"$T/m.out" 2>"$T/m.err" </dev/null
	if cmp -s "$T/c.out" "$T/m.out"; then
		ok 0 "$desc: stdout byte-identical"
	else
		ok 1 "$desc: stdout byte-identical"
		diag "$(diff "$T/c.out" "$T/m.out" | cat -A)"
	fi
	is "$(grep 'exited with exit code' "$T/m.err" | sort)" \
		"$(tr '\r' '\n' <"$T/c.err" | grep 'exited with exit code' | sed 's/^clush: /mrsh: /' | sort)" \
		"$desc: exit-code lines on stderr"
}

MIX='case %h in n[1-4]) echo same; echo two;; web*) echo w; echo w2;; n5) echo five;; n6) echo six; exit 3;; x) exit 2;; esac'
compare "-L" 'n[1-6],web01,web02,x,n10' "$MIX" -L
compare "-L -N" 'n[1-3]' 'echo %h; echo b' -L -N
compare "-b -L" 'n[1-6],web01,web02,x,n10' "$MIX" -b -L
compare "-L: no newline at the end, empty lines" 'a[1-3]' "printf 'l1\\n\\nl3'" -L
compare "--diff" 'n[1-6],web01,web02,x,n10' "$MIX" --diff
compare "--diff: hosts without output, one reference" 'n[1-4],q[1-2]' \
	'case %h in n[13]) printf "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n";; n2) printf "a\nb\nX\nd\ne\nf\ng\nh\ni\nY\nk\n";; n4) echo only;; esac' --diff
compare "-b: groups of equal size, labels with and without padding" 'n1,n01,a2,a10,b1,n001' \
	'case %h in n1|a10|n001) echo x;; *) echo y;; esac' -b
compare "-L: NodeSet's order (pattern, then numbers, then padding)" \
	'a9b,a10,n-1,n1,x1y10,x1y2,x2y1,n01,web,web1,m' 'echo %h' -L
compare "-b: NodeSet's order inside a header" 'a9b,a10,n-1,n1,x1y10,x1y2,x2y1,n01' 'echo same' -b
compare "-b -L: hosts with different line counts" 'n[1-4]' \
	'case %h in n1) seq 1 3;; n2) seq 1 5;; n3) seq 1 2;; n4) printf "1\n2\nlast";; esac' -b -L
compare "--diff: changes more than 6 lines apart make separate hunks" 'n[1-3]' \
	'seq 1 40 | if [ %h = n2 ]; then sed "s/^3$/three/;s/^20$/twenty/;s/^38$/x/"; else cat; fi' --diff
# a change near the start: the last equal run (6 lines, too short to
# split a hunk) is cut to the context
compare "--diff: an equal tail longer than the context" 'n[1-3]' \
	'seq 1 8 | if [ %h = n2 ]; then sed "s/^2$/two/"; else cat; fi' --diff
compare "--diff: repeated lines" 'n[1-3]' \
	'printf "a\nb\na\nb\na\nc\na\n"; [ %h = n2 ] && printf "b\na\nd\na\n"; true' --diff
compare "--diff: all the same prints nothing" 'n[1-3]' 'echo same' --diff
# a longer diff: hunks split past 6 equal lines, autojunk past 200 lines
compare "--diff: long outputs" 'n[1-3]' \
	'seq 1 300 | sed "s/^[0-9]*5$/five/"; [ %h = n2 ] && seq 1 250 | sed "s/7/%h/"; true' --diff
compare "-B: stderr gathered with stdout" 'n[1-4]' \
	'case %h in n[12]) echo err >&2;; n3) echo out;; n4) echo err >&2; exit 1;; esac' -B
compare "--color=always -b" 'n[1-4]' 'case %h in n[12]) echo a;; *) echo b;; esac' -b --color=always
compare "--color=always -L" 'n[1-2]' 'echo %h' -L --color=always
compare "--color=always --diff" 'n[1-3]' 'echo x; echo %h' --diff --color=always
compare "--color=never -b" 'n[1-2]' 'echo a' -b --color=never

# live lines: the label in clush's colors, on stdout and stderr
"$MRSH" -R exec -w n1 --color=always -- sh -c 'echo out; echo err >&2' >"$T/m.out" 2>"$T/m.err"
is "$(cat -v "$T/m.out")" '^[[94mn1: ^[[0mout' "--color=always: stdout label blue"
is "$(cat -v "$T/m.err")" '^[[91mn1: ^[[0merr' "--color=always: stderr label red"
# auto (the default): not into a pipe or a file
"$MRSH" -R exec -w n1 -b -- echo a >"$T/m.out" 2>&1
is "$(cat -v "$T/m.out")" "$(printf -- '---------------\nn1\n---------------\na')" \
	"auto: no color into a file"
# NO_COLOR turns auto off, on a terminal too; --color=always still wins
if command -v script >/dev/null 2>&1; then
	script -qec "$MRSH -R exec -w n1 -- echo a" /dev/null </dev/null >"$T/tty.out" 2>&1
	like "$(cat -v "$T/tty.out")" '\^\[\[94mn1: \^\[\[0ma' "auto on a terminal: colored"
	NO_COLOR=1 script -qec "$MRSH -R exec -w n1 -- echo a" /dev/null </dev/null >"$T/tty.out" 2>&1
	is "$(tr -d '\r' <"$T/tty.out")" "n1: a" "NO_COLOR: auto is off on a terminal"
	NO_COLOR=1 script -qec "$MRSH -R exec -w n1 --color=always -- echo a" /dev/null </dev/null >"$T/tty.out" 2>&1
	like "$(cat -v "$T/tty.out")" '\^\[\[94mn1: ' "NO_COLOR with --color=always: colored"
else
	skip_n 3 "no script(1) to make a terminal"
fi

capture "$T" "$MRSH" -R exec -w n1 --diff -L true
is "$RC" 2 "--diff -L: usage error, as clush"
capture "$T" "$MRSH" -R exec -w n1 --color=blue true
is "$(cat "$T/err")" 'mrsh: --color: "blue" is not never, always or auto' "--color: a bad value"

# -b -L prints a line as soon as every host has sent it (clush -bL is
# live): "first" arrives while the hosts still wait for $T/go, and the
# whole output is still what the end would print. The hosts give up by
# themselves after 60 s, so a broken mrsh fails the test, not hangs it.
rm -f "$T/go"
"$MRSH" -R exec -w 'n[1-3]' -b -L -- sh -c "echo first; i=0
	while [ ! -e '$T/go' ] && [ \$i -lt 600 ]; do sleep 0.1; i=\$((i + 1)); done
	echo second" >"$T/live.out" 2>"$T/live.err" </dev/null &
live=$!
wait_for 30 "grep -q first '$T/live.out'"
is "$(cat "$T/live.out")" "n[1-3]: first" "-b -L: the first line is printed while the hosts run"
touch "$T/go"
wait "$live"
is "$?/$(cat "$T/live.out")" "0/n[1-3]: first
n[1-3]: second" "-b -L: then the second, once they sent it"
# A host that has not started yet holds the line back (-j 1: n2 starts
# after n1 ended), and the lines still come in order.
capture "$T" "$MRSH" -R exec -j 1 -w 'n[1-2]' -b -L -- sh -c 'echo a; echo b-%h'
is "$RC/$(cat "$T/out")" "0/n[1-2]: a
n1: b-n1
n2: b-n2" "-b -L, -j 1: every host's line 1, then line 2"

done_testing
