#!/bin/bash
# mrsh invoked as pdsh (a symlink): the same invocations through the real
# pdsh -R exec and through the symlink give the same standard output (lines
# sorted: both print as hosts answer) and the same exit status.
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

done_testing
