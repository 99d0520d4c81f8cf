#!/bin/bash
# t0600: a host that answered is never also reported failed (issue 13,
# item 8). Under load, a connect timeout (-t) used to fire in SETUP while the
# exec reply and the command's output were already queued: the session was
# failed by its timer, the transport, not yet told, finished the exec and
# printed "HOST: ok", and the host was then reported "SETUP: connect
# timeout". Many hosts at a high fanout with a short -t put the machine
# under enough load to get a mix of answered and timed-out hosts; whatever
# the mix, every host must be exactly one of the two.
. "$top_srcdir/tests/integration/lib.sh"
set -u

N=300
start_sshd_test "$N"
ulimit -n 4096 2>/dev/null || ulimit -n "$(ulimit -Hn)"
CAPTURE_TIMEOUT=200

for t in 4 8; do
	capture "$T" "$MRSH" -F "$SSH_CONFIG" -f "$HOSTS_FILE" -j "$N" -t "$t" \
		echo ok
	ok "$([ "$RC" = 0 ] || [ "$RC" = 255 ]; echo $?)" \
		"-j $N -t $t: exit 0 or 255 (got $RC)"
	sed -n 's/^\([0-9.]*\): ok$/\1/p' "$T/out" | sort >"$T/answered"
	sed -n 's/^mrsh: \([0-9.]*\): [A-Z]*: .*/\1/p' "$T/err" | sort >"$T/failed"
	na=$(wc -l <"$T/answered")
	nf=$(wc -l <"$T/failed")
	diag "-t $t: $na answered, $nf failed"
	both=$(comm -12 "$T/answered" "$T/failed")
	is "$both" "" "-t $t: no host both answered and failed"
	is "$(sort -u "$T/answered" "$T/failed" | wc -l)" "$N" \
		"-t $t: every host either answered or failed"
	is "$((na + nf))" "$N" "-t $t: and each exactly once"
	unlike "$(cat "$T/err"; sanitizer_reports)" \
		'LeakSanitizer|AddressSanitizer|UndefinedBehaviorSanitizer|runtime error' \
		"-t $t: no sanitizer report"
done

done_testing
