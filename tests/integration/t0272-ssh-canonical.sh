#!/bin/bash
# t0272: CanonicalizeHostname as ssh does it. In a private network and
# mount namespace, /etc/resolv.conf names a fake DNS server on 127.0.0.1
# (tests/helpers/dns_fake.py: A records and CNAME chains) and /etc/hosts
# holds localhost only; the real ssh and mrsh then resolve the same names.
# For CanonicalDomains, CanonicalizeMaxDots, CanonicalizeFallbackLocal,
# CanonicalizePermittedCNAMEs (one CNAME and a chain), "always" versus a
# proxy, and the second pass (Match canonical, Match final, Host lines
# matching the canonical name), mrsh -G must print what ssh -G prints;
# on the wire (ForceCommand prints $SSH_CONNECTION) mrsh and ssh must land
# on the same address. A lookup mrsh cannot make as glibc does (a CNAME of
# the system resolver's own lookup) refuses the host with file:line.
. "$top_srcdir/tests/integration/lib.sh"
set -u

need_cmd ssh python3
reexec_in_netns --mount --propagation private -- "$@"

SSHD_EXTRA_CONFIG='ForceCommand echo "CONN $SSH_CONNECTION"'
export SSHD_EXTRA_CONFIG
start_sshd_test 3
P=$SSHD_PORT

cat >"$T/zone" <<EOF
node1.example.test A 127.0.1.1
node2.example.org A 127.0.1.2
alias3.example.test CNAME real3.cdn.test
real3.cdn.test A 127.0.1.3
chain.example.test CNAME mid.example.org
mid.example.org CNAME end.cdn.test
end.cdn.test A 127.0.1.2
other.example.test CNAME elsewhere.example.org
elsewhere.example.org A 127.0.1.1
EOF
echo "127.0.0.1 localhost" >"$T/hosts"
echo "nameserver 127.0.0.1" >"$T/resolv.conf"
mount --bind "$T/hosts" /etc/hosts && mount --bind "$T/resolv.conf" /etc/resolv.conf ||
	bail_out "cannot bind-mount a private /etc/hosts and /etc/resolv.conf"
python3 "$top_srcdir/tests/helpers/dns_fake.py" 127.0.0.1 53 "$T/zone" "$T/qlog" \
	>"$T/dns.out" 2>"$T/dns.err" &
dnspid=$!
at_exit "kill $dnspid 2>/dev/null"
wait_for 20 "grep -q READY '$T/dns.out'" || bail_out "the fake DNS server did not start"

# The configurations (their first line names the hosts to ask for).
cat >"$T/c1" <<'EOF'
# hosts: node1 node2 alias3 chain other node1.example.test node1.example.test. NODE1
CanonicalizeHostname yes
CanonicalDomains example.test example.org
CanonicalizePermittedCNAMEs *.example.test:*.cdn.test
Match canonical host *.cdn.test
	User cdn-user
Match canonical host node2.example.org
	Port 2202
Host node1.example.test
	Port 2201
Match final host real3.cdn.test
	Port 2203
Match !canonical
	User first-pass
EOF
cat >"$T/c2" <<'EOF'
# hosts: node1 node2 chain
CanonicalizeHostname yes
CanonicalDomains example.test
CanonicalizeFallbackLocal no
EOF
cat >"$T/c3" <<'EOF'
# hosts: node1 a.b node1.example.test
CanonicalizeHostname yes
CanonicalDomains none
CanonicalizeMaxDots 0
EOF
cat >"$T/c4" <<'EOF'
# hosts: node1 alias3
CanonicalizeHostname yes
CanonicalDomains example.test
ProxyCommand nc %h %p
EOF
cat >"$T/c5" <<'EOF'
# hosts: node1 alias3 node2
CanonicalizeHostname always
CanonicalDomains example.test
CanonicalizePermittedCNAMEs *
ProxyCommand nc %h %p
EOF
cat >"$T/c6" <<'EOF'
# hosts: node1 chain
CanonicalizeHostname yes
CanonicalDomains Example.TEST
CanonicalizeMaxDots 2
CanonicalizePermittedCNAMEs *.example.test:*.example.org
EOF
cat >"$T/c7" <<'EOF'
# hosts: node1
CanonicalizeHostname no
CanonicalDomains example.test
Match canonical
	Port 2207
EOF

# ---- mrsh -G against ssh -G ---------------------------------------------------
keys='^(hostname|user|port|canonical[a-zA-Z]*) '
for c in c1 c2 c3 c4 c5 c6 c7; do
	for h in $(sed -n '1s/^# hosts: //p' "$T/$c"); do
		s=$(ssh -F "$T/$c" -G "$h" 2>"$T/serr" </dev/null)
		src=$?
		m=$("$MRSH" -F "$T/$c" -G "$h" 2>"$T/merr")
		mrc=$?
		is "$mrc" "$src" "$c $h: -G exit status as ssh ($src)"
		is "$(printf '%s\n' "$m" | grep -E "$keys" | sort)" \
			"$(printf '%s\n' "$s" | grep -E "$keys" | sort)" \
			"$c $h: mrsh -G = ssh -G on host name, user, port, Canonicalize*"
		if [ "$src" != 0 ]; then
			like "$(cat "$T/merr")" "Could not resolve host \"$h\"" \
				"$c $h: mrsh says why, in ssh's words ($(head -1 "$T/serr"))"
		fi
	done
done
# Nothing was asked with a search suffix or of the hosts file's names.
unlike "$(cut -d' ' -f1 "$T/qlog" | tr 'A-Z' 'a-z' | sort -u)" \
	'\.(example|cdn)\.(test|org)\.' "no lookup had a suffix appended to an absolute name"

# ---- on the wire ----------------------------------------------------------------
kh=$T/kh_canon
for n in node1.example.test real3.cdn.test end.cdn.test node2.example.org; do
	echo "[$n]:$P $HOST_KEY_PUB"
done >"$kh"
cat >"$T/wire" <<EOF
CanonicalizeHostname yes
CanonicalDomains example.test example.org
CanonicalizePermittedCNAMEs *.example.test:*.cdn.test
UserKnownHostsFile $kh
Include $SSH_CONFIG
EOF
for h in node1 node2 alias3 chain; do
	capture "$T" "$MRSH" -F "$T/wire" -w "$h" 'true'
	mrc=$RC
	mconn=$(sed -n 's/^[^:]*: CONN [^ ]* [^ ]* \([^ ]*\) .*/\1/p' "$T/out")
	sconn=$(ssh -F "$T/wire" "$h" true </dev/null 2>"$T/serr" |
		sed -n 's/^CONN [^ ]* [^ ]* \([^ ]*\) .*/\1/p')
	case $h in
	node1) want=127.0.1.1 ;;
	node2) want=127.0.1.2 ;;
	alias3) want=127.0.1.3 ;;
	chain) want=127.0.1.2 ;;
	esac
	is "$mrc/$mconn" "0/$want" "wire $h: mrsh lands on $want"
	is "$sconn" "$want" "wire $h: ssh lands there too"
done

# ---- what mrsh cannot look up as glibc does: refused ---------------------------
cat >"$T/bare" <<EOF
CanonicalizeHostname yes
CanonicalDomains example.test
CanonicalizePermittedCNAMEs *.example.test:*.example.org
UserKnownHostsFile $kh
Include $SSH_CONFIG
EOF
capture "$T" "$MRSH" -F "$T/bare" -w 'other.example.test,node1' 'true'
is "$RC" 255 "a name past CanonicalizeMaxDots with PermittedCNAMEs: exit 255"
like "$(cat "$T/err")" "^mrsh: other\.example\.test: SETUP: $T/bare:3: CanonicalizePermittedCNAMEs .*not connecting" \
	"refused with file:line, naming the keyword"
like "$(cat "$T/out")" "^node1: CONN " "the other host still ran"

# Fallback no: the host is refused as ssh refuses it; the others run.
{ cat "$T/c2"; echo "UserKnownHostsFile $kh"; echo "Include $SSH_CONFIG"; } >"$T/c2w"
capture "$T" "$MRSH" -F "$T/c2w" -w 'node2,node1' 'true'
is "$RC" 255 "CanonicalizeFallbackLocal no, a name not found: exit 255"
like "$(cat "$T/err")" '^mrsh: node2: SETUP: Could not resolve host "node2"' \
	"CanonicalizeFallbackLocal no: ssh's words"
like "$(cat "$T/out")" "^node1: CONN " "CanonicalizeFallbackLocal no: the other host still ran"

done_testing
