#!/bin/bash
# t0276: CanonicalizeHostname lookups that do not simply answer. In a
# private network and mount namespace, /etc/resolv.conf names the fake DNS
# server of tests/helpers/dns_fake.py, whose zone has a name it never
# answers (DROP). t0272 covers the answers; this file covers:
# - a lookup still in flight when -t expires: the host fails with the
#   connect timeout while RESOLVING, the pending evdns request is cancelled
#   (the sanitizer build catches a leaked or twice-freed job), the other
#   hosts run;
# - a server that never answers at all, against ssh -G: the name is "not
#   found" after the resolver's timeout, then CanonicalizeFallbackLocal
#   decides as it does for ssh;
# - a name evdns refuses to ask (a label over 63 bytes), answered inside
#   the call itself: the same verdict as ssh's, as -G and on the wire.
. "$top_srcdir/tests/integration/lib.sh"
set -u

need_cmd ssh python3
reexec_in_netns --mount --propagation private -- "$@"

SSHD_EXTRA_CONFIG='ForceCommand echo "CONN $SSH_CONNECTION"'
export SSHD_EXTRA_CONFIG
start_sshd_test 2
P=$SSHD_PORT
CAPTURE_TIMEOUT=60

cat >"$T/zone" <<EOF
node1.example.test A 127.0.1.1
node2.example.test A 127.0.1.2
slow.example.test DROP
slow DROP
EOF
echo "127.0.0.1 localhost" >"$T/hosts"
# glibc's resolver (ssh's) gives up on the silent name in about a second.
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$T/resolv.conf"
mount --bind "$T/hosts" /etc/hosts && mount --bind "$T/resolv.conf" /etc/resolv.conf ||
	bail_out "cannot bind-mount a private /etc/hosts and /etc/resolv.conf"
python3 "$top_srcdir/tests/helpers/dns_fake.py" 127.0.0.1 53 "$T/zone" "$T/qlog" \
	>"$T/dns.out" 2>"$T/dns.err" &
dnspid=$!
at_exit "kill $dnspid 2>/dev/null"
wait_for 20 "grep -q READY '$T/dns.out'" ||
	bail_out "the fake DNS server did not start: $(head -c 300 "$T/dns.err")"

kh=$T/kh_canon
for n in node1.example.test node2.example.test; do
	echo "[$n]:$P $HOST_KEY_PUB"
done >"$kh"
cat >"$T/cfg" <<EOF
CanonicalizeHostname yes
CanonicalDomains example.test
UserKnownHostsFile $kh
Include $SSH_CONFIG
EOF
{ echo "CanonicalizeFallbackLocal no"; cat "$T/cfg"; } >"$T/cfg_nofb"

# ---- -t while the lookup is in flight -----------------------------------------
# -t 3: before evdns gives up (2 s x 2 attempts; both are timers of the
# same loop, so the order holds under load), and room for the other hosts'
# logins, which -t bounds too. (ssh's ConnectTimeout does not cover the
# lookup; nor does mrsh's, which is known only once the name is.)
: >"$T/qlog"
capture "$T" "$MRSH" -F "$T/cfg" -t 3 -w 'slow,node1,node2' 'true'
is "$RC" 255 "-t 3 with a lookup nobody answers: exit 255"
like "$(cat "$T/err")" '^mrsh: slow: RESOLVING: connect timeout after 3s \(-t\)$' \
	"the host fails in RESOLVING with -t's connect timeout"
is "$(sed 1d "$T/err")" "mrsh: 1 of 3 hosts failed: connect timeout after 3s (-t): slow" \
	"then only the summary, naming it"
is "$(sort "$T/out" | sed 's/^\([^:]*\): CONN [^ ]* [^ ]* \([^ ]*\) .*/\1 \2/')" \
	"node1 127.0.1.1
node2 127.0.1.2" "the other hosts ran, at their canonical addresses"
n=$(tr A-Z a-z <"$T/qlog" | grep -c '^slow\.example\.test ')
[ "$n" -ge 2 ]
ok $? "the lookup was asked, A and AAAA, and never answered ($n questions)"

# ---- a server that never answers, against ssh -G ------------------------------
# The resolvers time out (evdns after 2 s x 2, glibc after resolv.conf's
# 1 s): "not found", then the fallback as ssh's. (ssh also prints glibc's
# "Temporary failure in name resolution" for the candidate; mrsh, as for
# NXDOMAIN, says nothing until it gives up on the host.)
for c in cfg cfg_nofb; do
	s=$(ssh -F "$T/$c" -G slow 2>"$T/serr" </dev/null)
	src=$?
	m=$("$MRSH" -F "$T/$c" -G slow 2>"$T/merr")
	mrc=$?
	is "$mrc" "$src" "$c slow (never answered): -G exit status as ssh ($src)"
	is "$(printf '%s\n' "$m" | grep '^hostname ')" \
		"$(printf '%s\n' "$s" | grep '^hostname ')" \
		"$c slow (never answered): -G host name as ssh's"
	if [ "$src" != 0 ]; then
		like "$(cat "$T/merr")" '^mrsh: Could not resolve host "slow"' \
			"$c slow (never answered): ssh's words"
	fi
done

# ---- names evdns will not ask: answered inside the call ----------------------
# A label over 63 bytes cannot go into a DNS question: evdns fails the
# lookup before returning, glibc does the same, and neither sends it. Here
# the first CanonicalDomains candidate of node1 is such a name, the second
# one is asked as usual; a host whose own name has the long label fails
# every candidate that way (and so the whole lookup before it returns).
L=$(printf '%064d' 0 | tr 0 a)
printf 'CanonicalizeHostname yes\nCanonicalDomains %s.test example.test\n' "$L" >"$T/long"
{ cat "$T/long"; echo "CanonicalizeFallbackLocal no"; } >"$T/long_nofb"
: >"$T/qlog"
for c in long long_nofb; do
	for h in "$L" node1 "x.$L"; do
		s=$(ssh -F "$T/$c" -G "$h" 2>"$T/serr" </dev/null)
		src=$?
		m=$("$MRSH" -F "$T/$c" -G "$h" 2>"$T/merr")
		mrc=$?
		is "$mrc" "$src" "$c ${h:0:12}: -G exit status as ssh ($src)"
		is "$(printf '%s\n' "$m" | grep '^hostname ')" \
			"$(printf '%s\n' "$s" | grep '^hostname ')" \
			"$c ${h:0:12}: -G host name as ssh's"
		if [ "$src" != 0 ]; then
			like "$(cat "$T/merr")" "^mrsh: Could not resolve host \"$h\"" \
				"$c ${h:0:12}: ssh's words"
		fi
	done
done
unlike "$(tr A-Z a-z <"$T/qlog")" "$L" "no question with the long label was sent"

# On the wire: node1 found through the second domain, the long name refused.
{ cat "$T/long_nofb"; echo "UserKnownHostsFile $kh"; echo "Include $SSH_CONFIG"; } >"$T/long_w"
capture "$T" "$MRSH" -F "$T/long_w" -w "$L,node1" 'true'
is "$RC" 255 "a long-label host with CanonicalizeFallbackLocal no: exit 255"
like "$(cat "$T/err")" "^mrsh: $L: SETUP: Could not resolve host \"$L\"" \
	"refused in ssh's words"
like "$(cat "$T/out")" '^node1: CONN [^ ]+ [^ ]+ 127\.0\.1\.1 ' \
	"node1 ran, at the address of its second candidate"

done_testing
