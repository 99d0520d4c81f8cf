#!/bin/bash
# mrsh invoked as pdsh (a symlink): the same invocations through the real
# pdsh -R exec and through the symlink give the same standard output (lines
# sorted: both print as hosts answer) and the same exit status; -a and -g
# from one genders file; -V, -h, -d and usage errors as mrsh documents them.
. "$top_srcdir/tests/integration/lib.sh"

need_cmd pdsh
T=$(make_tmpdir)
ln -s "$MRSH" "$T/pdsh"
printf 'w1\nw2\nw3\n' >"$T/wcoll"

# compare DESC ARGS...: both pdshs on the same arguments
compare() {
	local desc=$1 crc mrc

	shift
	pdsh "$@" >"$T/p.out" 2>"$T/p.err" </dev/null
	crc=$?
	"$T/pdsh" "$@" >"$T/m.out" 2>"$T/m.err" </dev/null
	mrc=$?
	is "$(sort "$T/m.out")" "$(sort "$T/p.out")" "$desc: standard output"
	is "$mrc" "$crc" "$desc: exit status"
}

compare "-R exec -w" -R exec -w 'h[1-3]' echo hello %h
compare "-N, -l" -R exec -N -l bob -w 'h[1-2]' echo %u@%h
compare "-f fanout, -x" -R exec -f 2 -w 'h[1-5]' -x h3 echo %h
compare "exit codes without -S: 0" -R exec -w 'h[1-3]' sh -c '[ %h = h2 ] && exit 3; echo ok'
compare "-S: the largest exit code" -S -R exec -w 'h[1-3]' sh -c '[ %h = h2 ] && exit 3; [ %h = h3 ] && exit 5; echo ok'
compare "-b (batch), stderr apart" -b -R exec -w 'h[1-2]' sh -c 'echo out; echo err >&2'
compare "bundled options" -SNR exec -w h1 echo bundled
WCOLL=$T/wcoll compare "WCOLL" -R exec echo %h
FANOUT=1 compare "FANOUT" -R exec -w 'h[1-3]' echo %h
PDSH_RCMD_TYPE=exec compare "PDSH_RCMD_TYPE" -w 'h[1-2]' echo %h

# -a and -g from the same genders file (ClusterShell groups off for mrsh).
printf 'n1 pdsh_all_skip\nn2 web\nn3 web,db\nn4 db\n' >"$T/genders"
export PDSH_GENDERS_FILE=$T/genders MRSH_GENDERS=$T/genders MRSH_GROUPS_CONF=
compare "-a: all but pdsh_all_skip" -R exec -a echo %h
compare "-g, -X: genders queries" -R exec -g web -X db echo %h
unset PDSH_GENDERS_FILE MRSH_GENDERS MRSH_GROUPS_CONF

# -V and -h print what mrsh's do, and exit 0.
"$T/pdsh" -V >"$T/m.out" 2>&1
is "$?" 0 "-V: exit 0"
"$MRSH" -V >"$T/want" 2>&1
is "$(cat "$T/m.out")" "$(cat "$T/want")" "-V: mrsh's version text"
"$T/pdsh" -h >"$T/m.out" 2>&1
is "$?" 0 "-h: exit 0"
"$MRSH" -h >"$T/want" 2>&1
is "$(cat "$T/m.out")" "$(cat "$T/want")" "-h: mrsh's usage text"

# An option pdsh has and mrsh has not (-s) or one neither has (-z): mrsh's
# usage error, exit 2 (pdsh: 1), one line, nothing run.
"$T/pdsh" -R exec -w h1 -s echo ran >"$T/m.out" 2>"$T/m.err"
is "$?" 2 "pdsh's -s: usage error, exit 2"
is "$(cat "$T/m.err")" "mrsh: unknown option -s" "pdsh's -s: one line"
is "$(cat "$T/m.out")" "" "pdsh's -s: nothing ran"
"$T/pdsh" -z -R exec -w h1 echo ran >"$T/m.out" 2>"$T/m.err"
is "$?" 2 "-z: usage error, exit 2"
is "$(cat "$T/m.err")" "mrsh: unknown option -z" "-z: one line"

# -d is -v: -v's messages (here the signal that ended a timed-out command)
# appear, and only with -d.
"$T/pdsh" -d -R exec -w h1 -u 1 sleep 60 >"$T/m.out" 2>"$T/m.err"
grepok '^mrsh: h1: killed by signal TERM$' "$T/m.err" "-d: -v's messages"
"$T/pdsh" -R exec -w h1 -u 1 sleep 60 >"$T/m.out" 2>"$T/m.err"
grep -q 'killed by signal' "$T/m.err"
isnt_ok=$?
is "$isnt_ok" 1 "without -d: not shown"

done_testing
