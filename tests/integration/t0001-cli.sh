#!/bin/bash
# Command line: usage errors (exit 2, one line naming the bad input), host
# list building (-w/-f/-x, ranges, --list-hosts), --help and the man page in
# step, -V, options stopping at the first non-option.
. "$top_srcdir/tests/integration/lib.sh"


T=$(make_tmpdir)

# usage_error DESC ERE ARGS...: mrsh ARGS is a usage error: exit 2, nothing
# on stdout, exactly one line on stderr, "mrsh: ..." matching ERE (each
# case below gives the whole line).
usage_error() {
	local desc=$1 pattern=$2
	shift 2
	"$MRSH" "$@" >"$T/out" 2>"$T/err"
	is "$?" 2 "$desc: exit 2"
	like "$(cat "$T/err")" "$pattern" "$desc: message"
	is "$(wc -l <"$T/err") $(grep -c '^mrsh: ' "$T/err") $(wc -c <"$T/out")" \
	    "1 1 0" "$desc: one line on stderr, none on stdout"
}
usage_error "unbalanced bracket" '^mrsh: unbalanced bracket in "node\[1-3"$' \
	-R exec -w 'node[1-3' true
usage_error "reversed range" '^mrsh: bad range "n\[5-1\]": start 5 is greater than end 1$' \
	-R exec -w 'n[5-1]' true
usage_error "range too large" '^mrsh: range "n\[1-9999999\]" is too large: more than 1000000 hosts$' \
	-R exec -w 'n[1-9999999]' true
usage_error "unreadable file" "^mrsh: cannot open host file \"$T/nonexistent\": No such file or directory\$" \
	-R exec -f "$T/nonexistent" true
printf 'good1\nbad[3-1]\n' >"$T/hosts.bad"
usage_error "bad line in file names file:line" "^mrsh: $T/hosts.bad:2: bad range \"bad\\[3-1\\]\": start 3 is greater than end 1\$" \
	-R exec -f "$T/hosts.bad" true
usage_error "empty after exclusion" '^mrsh: the host list is empty$' \
	-R exec -w 'a,b' -x 'a,b' true
usage_error "no hosts" '^mrsh: no hosts given \(use -w LIST, -f FILE, [^()]*\)$' -R exec true
usage_error "no command" '^mrsh: no command given$' -R exec -w a
usage_error "unknown option" '^mrsh: unknown option --frobnicate$' \
	-R exec --frobnicate -w a true
usage_error "missing option argument" '^mrsh: option -G needs an argument$' -G
usage_error "missing long option argument" '^mrsh: option --fanout needs an argument$' \
	-w a --fanout
usage_error "bad transport" '^mrsh: -R: unknown transport "carrier-pigeon" \(ssh, rsh or exec\)$' \
	-R carrier-pigeon -w a true
usage_error "bad timeout" '^mrsh: -t: bad number of seconds "abc"$' -R exec -t abc -w a true
usage_error "bad ports" '^mrsh: --ports: port range 2000-1000: must be within 1-65535 with LO <= HI' \
	--ports 2000-1000 -w a true

# every other usage error of the option parser, each with its whole line
for v in -1 abc 0 5x 1.5k; do
	usage_error "--gather-max $v" "^mrsh: --gather-max: bad size \"$v\"\$" \
		-R exec -w a --gather-max "$v" true
done
usage_error "--gather-max too large" '^mrsh: --gather-max: size "99999999999G" is too large$' \
	-R exec -w a --gather-max 99999999999G true
out=$("$MRSH" -R exec -w a --gather-max 1g --gather-max 2K --list-hosts 2>&1)
is "$?/$out" "0/a" "--gather-max 1g and 2K: sizes with a suffix are taken"
usage_error "--output bogus" '^mrsh: --output: "bogus" is not lines, gather or json$' \
	-R exec -w a --output bogus true
usage_error "-l empty" '^mrsh: -l: empty user name$' -R exec -w a -l '' true
ids=() opts=()
for i in $(seq 1 65); do ids+=(-i "$T/id$i"); opts+=(-o "Port=$i"); done
usage_error "65 -i" '^mrsh: -i: at most 64 identity files$' -w a "${ids[@]}" true
usage_error "65 -o" '^mrsh: -o: at most 64 options$' -w a "${opts[@]}" true
usage_error "--rsh-stderr bogus" '^mrsh: --rsh-stderr: "bogus" is not connect or merge$' \
	-R rsh -w a --rsh-stderr bogus true
usage_error "--copy and --rcopy" '^mrsh: --copy and --rcopy exclude each other$' \
	-w a --copy f --rcopy --dest d
usage_error "--dest empty" '^mrsh: --dest: empty path$' -w a --copy f --dest ''
usage_error "--copy without a source" '^mrsh: --copy: no source given$' -w a --copy --dest d
usage_error "--copy with -I" '^mrsh: --copy and -I/--stdin exclude each other$' \
	-w a -I --copy f --dest d
usage_error "--copy with an empty source after --" '^mrsh: --copy: empty source path$' \
	-w a --copy --dest d -- -f ''
usage_error "-r without copy" '^mrsh: -r works with --copy or --rcopy only$' -R exec -w a -r true
usage_error "--preserve without copy" '^mrsh: --preserve works with --copy or --rcopy only$' \
	-R exec -w a --preserve true
usage_error "--dest without copy" '^mrsh: --dest works with --copy or --rcopy only$' \
	-R exec -w a --dest d true
usage_error "-I with exec" '^mrsh: -I/--stdin works with -R ssh only$' -R exec -w a -I true
WCOLL=$T/nonexistent usage_error "WCOLL missing" \
	"^mrsh: WCOLL: cannot open host file \"$T/nonexistent\": No such file or directory\$" \
	-R exec true
# mrsh.conf: a line longer than 4 KiB, a path that cannot be opened, and
# XDG_CONFIG_HOME naming where the user's file is
{ printf 'fanout = 1 #'; head -c 5000 /dev/zero | tr '\0' x; printf '\n'; } >"$T/long.conf"
MRSH_CONF=$T/long.conf usage_error "mrsh.conf line too long" \
	"^mrsh: $T/long.conf:1: line too long\$" -R exec -w a true
MRSH_CONF=$T/long.conf/x usage_error "mrsh.conf under a file" \
	"^mrsh: $T/long.conf/x: Not a directory\$" -R exec -w a true
mkdir -p "$T/xdg/mrsh"
printf 'bogus = 1\n' >"$T/xdg/mrsh/mrsh.conf"
if [ -e /etc/mrsh.conf ]; then
	skip_n 4 "/etc/mrsh.conf exists on this machine"
else
	unset MRSH_CONF
	XDG_CONFIG_HOME=$T/xdg usage_error "XDG_CONFIG_HOME" \
		"^mrsh: $T/xdg/mrsh/mrsh.conf:1: unknown key \"bogus\"\$" -R exec -w a true
	export MRSH_CONF=""
	out=$(unset MRSH_CONF HOME XDG_CONFIG_HOME; "$MRSH" -R exec -w a --list-hosts 2>&1)
	is "$?/$out" "0/a" "neither HOME nor XDG_CONFIG_HOME: no user mrsh.conf, no error"
fi
# -q and --no-progress run the command and print its output alone
"$MRSH" -R exec -w h1 -q echo hi >"$T/out" 2>"$T/err"
is "$?/$(cat "$T/out")/$(cat "$T/err")" "0/h1: hi/" "-q: the output, nothing else"
"$MRSH" -R exec -w h1 --no-progress echo hi >"$T/out" 2>"$T/err"
is "$?/$(cat "$T/out")/$(cat "$T/err")" "0/h1: hi/" "--no-progress: the output, nothing else"

# --list-hosts: ranges, padding, several groups, suffixes, exclusion, uniq
"$MRSH" -w 'node[01-03,07],r[1-2]n[1-2],n[1-2]-ib,node02,root@h:2222' -x node03 --list-hosts >"$T/out"
is "$(tr '\n' ' ' <"$T/out")" "node01 node02 node07 r1n1 r1n2 r2n1 r2n2 n1-ib n2-ib root@h:2222 " \
	"--list-hosts expands, excludes, removes duplicates, keeps order"
printf '# comment\n\nfa\nfb  # trailing\nf[1-2]\n' >"$T/hosts"
"$MRSH" -f "$T/hosts" -w "^$T/hosts" --list-hosts >"$T/out"
is "$(tr '\n' ' ' <"$T/out")" "fa fb f1 f2 " "-f file and ^file: comments, blanks, ranges"
printf 'x1\nx2\n' | "$MRSH" -f - --list-hosts >"$T/out"
is "$(tr '\n' ' ' <"$T/out")" "x1 x2 " "-f - reads standard input"
"$MRSH" -w '[::1]:2200,u@[fe80::1]' --list-hosts >"$T/out"
is "$(tr '\n' ' ' <"$T/out")" "[::1]:2200 u@fe80::1 " "IPv6 entries"

# options stop at the first non-option argument
"$MRSH" -R exec -w h1 -N echo -l x >"$T/out" 2>&1
is "$(cat "$T/out")" "-l x" "options stop at the command: 'echo -l x' runs"
"$MRSH" -R exec -w h1 -N -- echo -- ok >"$T/out" 2>&1
is "$(cat "$T/out")" "-- ok" "-- ends options"

# --help and -V
"$MRSH" --help >"$T/help"
is "$?" 0 "--help exits 0"
like "$(cat "$T/help")" 'Exit status' "--help documents the exit status"
"$MRSH" -V >"$T/out"
like "$(cat "$T/out")" '^mrsh [0-9]' "-V prints the version"

# every long option in --help is in the man page, and the reverse
man_opts=$(sed -n 's/.*\\-\\-\([a-z][a-z-]*\).*/\1/p' "$top_srcdir/doc/mrsh.1" |
	sed 's/\\-/-/g' | sort -u)
help_opts=$(grep -o -- '--[a-z][a-z-]*' "$T/help" | sed 's/^--//' | sort -u)
missing=$(comm -23 <(echo "$help_opts") <(grep -o -- '\\-\\-[a-z]\+\(\\-[a-z]\+\)*' "$top_srcdir/doc/mrsh.1" | sed 's/\\-/-/g; s/^--//' | sort -u))
is "$missing" "" "every --help option is in mrsh.1"
extra=$(comm -13 <(echo "$help_opts") <(grep -o -- '\\-\\-[a-z]\+\(\\-[a-z]\+\)*' "$top_srcdir/doc/mrsh.1" | sed 's/\\-/-/g; s/^--//' | sort -u) | grep -v '^program-transform-name$\|^enable')
is "$extra" "" "every mrsh.1 long option is in --help"
: "$man_opts"
# a -J that ssh refuses: named in the error, with no control byte raw
"$MRSH" -J $'bad\e[31mhost' -w h true >/dev/null 2>"$T/jerr"
is "$?" 2 "-J with an escape in the host: exit 2"
is "$(cat "$T/jerr")" 'mrsh: -J: invalid hostname "bad\033[31mhost"' "the escape is shown, not sent"

done_testing
