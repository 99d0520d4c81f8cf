#!/bin/bash
# --ports-report in a network namespace of the test's own, with sockets it
# made: a program holding ten scattered ports (the list is cut at eight)
# and another program beside it, and client-side TIME_WAIT towards two
# ports of one IPv4 address and towards an IPv6 address (sorted by count,
# then address and port; IPv6 in brackets).
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

done_testing
