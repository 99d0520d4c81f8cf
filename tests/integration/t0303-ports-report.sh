#!/bin/bash
# --ports-report in a network namespace of the test's own, with sockets it
# made: a program holding ten scattered ports (the list is cut at eight)
# and another program beside it, and client-side TIME_WAIT towards two
# ports of one IPv4 address and towards an IPv6 address (sorted by count,
# then address and port; IPv6 in brackets); server-side TIME_WAIT on more
# ports than are listed; more programs than are listed; a socket that only
# the kernel holds.
. "$top_srcdir/tests/integration/lib.sh"
reexec_in_netns --pid --fork --kill-child --mount --mount-proc \
    --propagation private -- "$@"
need_cmd python3
T=$(make_tmpdir)

hold_ports 40020 40022 40024 40026 40028 40030 40032 40034 40036 40038
h1=$HOLDER
hold_ports 40041
h2=$HOLDER
"$MRSH" --ports-report 40020-40045 >"$T/out" 2>&1
is "$?" 0 "--ports-report: exit 0"
is "$(grep -E '^    [0-9]+ ' "$T/out" | sed 's/  */ /g')" \
" $h1 python3 10 10 40020,40022,40024,40026,40028,40030,40032,40034,...
 $h2 python3 1 1 40041" \
	"two programs, by pid; a long port list cut at eight"
is "$(sed -n 's/^  LISTEN *//p' "$T/out")" 11 "the LISTEN count"

python3 "$top_srcdir/tests/helpers/tw-maker.py" >"$T/tw" 2>&1
is "$(cat "$T/tw")" done "client-side TIME_WAIT made"
"$MRSH" --ports-report 40050-40060 >"$T/out" 2>&1
is "$?" 0 "--ports-report with TIME_WAIT: exit 0"
is "$(sed -n '/destinations with most/,/hint/p' "$T/out" | grep -v hint | sed 's/  */ /g')" \
" TIME_WAIT client side (this machine closed first): 5; destinations with most:
 127.0.0.1:50002 2
 [::1]:50003 2
 127.0.0.1:50001 1" \
	"destinations by count, then address and port; IPv6 in brackets"

# Server-side TIME_WAIT on twelve listening ports: ten listed, in port
# order, and the rest counted.
python3 "$top_srcdir/tests/helpers/tw-maker.py" server $(seq 40070 40081) >"$T/tw" 2>&1
is "$(cat "$T/tw")" done "server-side TIME_WAIT made"
hold_ports $(seq 40070 40081)
"$MRSH" --ports-report 40070-40081 >"$T/out" 2>&1
is "$?" 0 "--ports-report with server-side TIME_WAIT: exit 0"
is "$(sed -n '/TIME_WAIT server side/,/programs holding/p' "$T/out" | grep -v programs | sed 's/  */ /g')" \
" TIME_WAIT server side (on a listening port, this machine's server closed first): 12
$(for p in $(seq 40070 40079); do echo " port $p 1"; done)
 ... 2 more ports" \
	"server-side TIME_WAIT: ten ports, then how many more"

# Twenty-one programs: twenty listed, then a line for the rest.
for p in $(seq 40100 40120); do
	hold_ports "$p" || bail_out "cannot hold port $p"
done
"$MRSH" --ports-report 40100-40120 >"$T/out" 2>&1
is "$(grep -cE '^    [0-9]+ ' "$T/out")/$(grep -c '^    \.\.\. more programs not shown$' "$T/out")" 20/1 \
	"twenty-one programs: twenty listed, then \"... more programs not shown\""

# A listening socket that no process has (in flight over a socketpair):
# alone, "none found" and counted; beside a program's, counted below it.
hold_ports 40140/kernel
"$MRSH" --ports-report 40140-40140 >"$T/out" 2>&1
is "$(grep 'programs holding' "$T/out")" \
	"  programs holding ports in the range: none found (1 sockets without a visible process)" \
	"a socket only the kernel holds: none found, and counted"
hold_ports 40141
"$MRSH" --ports-report 40140-40141 >"$T/out" 2>&1
is "$(grep -cE "^    $HOLDER +python3 +1 +1 +40141$" "$T/out")/$(tail -n +2 "$T/out" | grep -c '^    (1 sockets without a visible process: another namespace, or the kernel)$')" 1/1 \
	"beside a program's: the program listed, the other socket counted"
"$MRSH" --ports-report 40150-40160 >"$T/out" 2>&1
like "$(cat "$T/out")" "every port is free to bind" "an empty range: every port free"

done_testing
