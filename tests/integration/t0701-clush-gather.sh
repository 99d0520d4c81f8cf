#!/bin/bash
# -b is clush -b: the same hosts and commands through the real clush (its
# local exec worker, -R exec) and through mrsh -R exec give the same bytes
# on stdout and the same "exited with exit code" lines on stderr (with
# mrsh's name instead of clush's). clush's own progress counter (\r lines
# on stderr) is left out.
. "$top_srcdir/tests/integration/lib.sh"

need_cmd clush
T=$(make_tmpdir)

# compare HOSTS CMD DESC: stdout bytes, and the sorted exit-code lines
compare() {
	clush -R exec -w "$1" -b "$2" >"$T/c.out" 2>"$T/c.err" </dev/null
	# clush runs the command with a shell; mrsh's exec transport runs argv
	"$MRSH" -R exec -w "$1" -b -- sh -c "$2" >"$T/m.out" 2>"$T/m.err" </dev/null
	if cmp -s "$T/c.out" "$T/m.out"; then
		ok 0 "$3: stdout byte-identical"
	else
		ok 1 "$3: stdout byte-identical"
		diag "$(diff "$T/c.out" "$T/m.out")"
	fi
	is "$(grep 'exited with exit code' "$T/m.err" | sort)" \
		"$(tr '\r' '\n' <"$T/c.err" | grep 'exited with exit code' | sed 's/^clush: /mrsh: /' | sort)" \
		"$3: exit-code lines on stderr"
}

compare 'n[1-6],web01,web02,x' \
	'case %h in n[1-4]) echo same;; web*) echo w; echo w2;; n5) echo five;; n6) echo six; exit 3;; x) exit 2;; esac' \
	"groups, largest first, exit codes"
compare 'a[1-3]' "printf 'l1\\n\\nl3'" "no newline at the end, an empty line"
compare 'node[08-12],node7' 'echo same' "zero padded ranges"
compare 'r[1-3],r10' 'case %h in r10) echo ten;; *) exit 4;; esac' "several hosts with one exit code, no output"
compare 'h1' 'echo single' "one host: no (1)"
compare 'a1,b1,a2,b2' 'echo %h | tr -d 0-9' "two groups of two: sorted node sets"
compare 'k[1-4]' 'case %h in k[12]) echo x; exit 1;; *) echo x;; esac' \
	"same output, different exit codes: separate groups, exit code order"

done_testing
