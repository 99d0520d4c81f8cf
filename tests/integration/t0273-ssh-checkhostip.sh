#!/bin/bash
# t0273: CheckHostIP yes, against the real ssh on the same files. ssh skips
# the address check for loopback addresses, so in a private network and
# mount namespace the test puts 10.73.0.1 and 10.73.0.2 on lo and names
# them weba and webb in a private /etc/hosts. Each case runs ssh and mrsh
# on copies of the same known_hosts and compares the exit status and the
# file each leaves behind:
# - the host's key known, the address not: both log in and add the
#   address's line (ssh's "Permanently added ... for IP address");
# - the address's line holds another key: both refuse (strict checking),
#   and with StrictHostKeyChecking no both log in;
# - the host's key changed but the address's is unchanged: both refuse
#   (mrsh names the DNS spoofing case);
# - accept-new for an unknown host: both record "host,address";
# - CheckHostIP no (the default) ignores a wrong address line, and so does
#   yes for a loopback address.
. "$top_srcdir/tests/integration/lib.sh"
set -u

need_cmd ssh ssh-keygen ip
reexec_in_netns --mount --propagation private -- "$@"

ip addr add 10.73.0.1/32 dev lo && ip addr add 10.73.0.2/32 dev lo ||
	bail_out "cannot add addresses to lo in the private namespace"
SSHD_EXTRA_CONFIG='AllowUsers *@10.73.0.0/24'
export SSHD_EXTRA_CONFIG
start_sshd_test 1
P=$SSHD_PORT
unset SSH_AUTH_SOCK SSH_AGENT_PID

printf '127.0.0.1 localhost\n10.73.0.1 weba\n10.73.0.2 webb\n127.0.1.1 lob\n' >"$T/hosts"
mount --bind "$T/hosts" /etc/hosts ||
	bail_out "cannot bind-mount a private /etc/hosts"
[ "$(getent hosts weba | awk '{ print $1 }')" = 10.73.0.1 ] ||
	bail_out "the private /etc/hosts is not read"

KEY=$(awk '{ print $1, $2 }' <<<"$HOST_KEY_PUB")
ssh-keygen -q -t ed25519 -N '' -f "$T/other" || bail_out "ssh-keygen"
OTHER=$(awk '{ print $1, $2 }' "$T/other.pub")

# both NAME HOST WANT KNOWN_HOSTS_LINES [CONFIG LINES...]: ssh and mrsh
# with CheckHostIP yes (unless a line says otherwise) on copies of the
# same known_hosts; the exit status of each is WANT, and the files they
# leave behind are the same (sorted).
both() {
	local name=$1 host=$2 want=$3 lines=$4

	shift 4
	printf '%s\n' "$lines" | sed '/^$/d' >"$T/kh.ssh"
	cp "$T/kh.ssh" "$T/kh.mrsh"
	sshd_client_config "$T/ssh.cfg" "$USER_KEY" "$T/kh.ssh" "$@" "CheckHostIP yes"
	sshd_client_config "$T/mrsh.cfg" "$USER_KEY" "$T/kh.mrsh" "$@" "CheckHostIP yes"
	timeout 60 ssh -F "$T/ssh.cfg" "$host" true </dev/null >"$T/ssh.out" 2>"$T/ssh.err"
	SRC=$?
	capture "$T" "$MRSH" -F "$T/mrsh.cfg" -t 30 ${V:+"$V"} -w "$host" true
	is "$RC/$SRC" "$want/$want" "$name: mrsh and ssh both exit $want" ||
		diag "ssh: $(head -c 600 "$T/ssh.err") mrsh: $(head -c 600 "$T/err")"
	is "$(sort "$T/kh.mrsh")" "$(sort "$T/kh.ssh")" \
		"$name: the same known_hosts afterwards"
}

V=-v both "host known, address not" weba 0 "[weba]:$P $KEY"
like "$(cat "$T/err")" "Permanently added the ssh-ed25519 host key for IP address '\[10\.73\.0\.1\]:$P' to the list of known hosts" \
	"host known, address not: mrsh says it added the address (-v; ssh at LogLevel INFO)"

both "the address holds another key" weba 255 "[weba]:$P $KEY
[10.73.0.1]:$P $OTHER"
like "$(cat "$T/err")" "weba: SETUP: the ssh-ed25519 host key for '\[weba\]:$P' differs from the key for the IP address '\[10\.73\.0\.1\]:$P' \(offending key for IP in $T/kh.mrsh:2; matching host key in $T/kh.mrsh:1\)" \
	"the address holds another key: mrsh names both lines"

both "the address holds another key, StrictHostKeyChecking no" weba 0 "[weba]:$P $KEY
[10.73.0.1]:$P $OTHER" "StrictHostKeyChecking no"

both "host key changed, address unchanged" weba 255 "[weba]:$P $OTHER
[10.73.0.1]:$P $KEY"
like "$(cat "$T/err")" "POSSIBLE DNS SPOOFING: the key for the IP address \[10\.73\.0\.1\]:$P is unchanged; host key for weba has CHANGED" \
	"host key changed, address unchanged: mrsh names the DNS spoofing case"

both "accept-new, host and address unknown" webb 0 "" "StrictHostKeyChecking accept-new"
like "$(cat "$T/kh.mrsh")" "^\[webb\]:$P,\[10\.73\.0\.2\]:$P ssh-ed25519 " \
	"accept-new: one line for the host and its address"

# CheckHostIP no: the address's line is not read.
printf '%s\n' "[weba]:$P $KEY" "[10.73.0.1]:$P $OTHER" >"$T/kh.no"
sshd_client_config "$T/no.cfg" "$USER_KEY" "$T/kh.no"
capture "$T" "$MRSH" -F "$T/no.cfg" -t 30 -w weba true
is "$RC" 0 "CheckHostIP no: a wrong address line does not matter"

# Loopback: ssh never checks the address (sockaddr_is_local), so a wrong
# line for it does not matter.
both "loopback address" lob 0 "[lob]:$P $KEY
[127.0.1.1]:$P $OTHER"

done_testing
