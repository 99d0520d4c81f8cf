#!/bin/bash
# t0273: CheckHostIP yes and KnownHostsCommand, against the real ssh on
# the same files. ssh skips
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
# - accept-new for an unknown host: both record "host,address" (with
#   HashKnownHosts, a hashed line for each);
# - a known_hosts on a full tmpfs: both warn and log in, the file as it
#   was (ssh 9.2 wrongly says "Permanently added"; mrsh names the error);
# - CheckHostIP no (the default) ignores a wrong address line, and so does
#   yes for a loopback address.
# KnownHostsCommand (an absolute path, no shell): ssh and mrsh run it with
# the same words (%H %I %t %f %K), once for the host name and, with
# CheckHostIP, once more for the address; its output counts as known_hosts
# lines (the right key: in; another key: changed, refused); a command that
# fails refuses the host; a relative path is warned about and the command
# not run; one that hangs is bounded by the connect timeout.
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
	# Hashed names differ by their random salt: compared as |1|HASH.
	is "$(sed 's/^|1|[^ ]*/|1|HASH/' "$T/kh.mrsh" | sort)" \
		"$(sed 's/^|1|[^ ]*/|1|HASH/' "$T/kh.ssh" | sort)" \
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

# HashKnownHosts yes: the host and the address on lines of their own.
both "accept-new, hashed" webb 0 "" "StrictHostKeyChecking accept-new" "HashKnownHosts yes"
ssh-keygen -F "[webb]:$P" -f "$T/kh.mrsh" >/dev/null &&
	ssh-keygen -F "[10.73.0.2]:$P" -f "$T/kh.mrsh" >/dev/null
is "$?" 0 "accept-new, hashed: ssh-keygen -F finds the host and the address"

# ---- a known_hosts that cannot be written -------------------------------
# On a full tmpfs: ssh says it failed ("Failed to add the host ...") and
# logs in; so does mrsh, and the file stays empty.
mkdir -p "$T/full"
mount -t tmpfs -o size=4k tmpfs "$T/full" ||
	bail_out "cannot mount a tmpfs in the private mount namespace"
at_exit "umount '$T/full'"
# full NAME HOST LINE [CONFIG LINES...]: ssh and mrsh with CheckHostIP yes
# on $T/full/kh holding LINE (if any), padded with a comment to fill the
# tmpfs's one page, so that nothing more fits; both log in.
full() {
	local name=$1 host=$2 line=$3 pad

	shift 3
	rm -f "$T/full/kh" "$T/full/fill"
	if [ -n "$line" ]; then
		pad=$(printf '%*s' $((4096 - ${#line} - 3)) '' | tr ' ' x)
		printf '%s\n#%s\n' "$line" "$pad" >"$T/full/kh" ||
			bail_out "cannot write $T/full/kh"
	else
		: >"$T/full/kh"
		head -c 65536 /dev/zero >"$T/full/fill" 2>/dev/null
	fi
	cp "$T/full/kh" "$T/kh.before"
	sshd_client_config "$T/full.cfg" "$USER_KEY" "$T/full/kh" "$@" \
		"CheckHostIP yes" "LogLevel INFO"
	timeout 60 ssh -F "$T/full.cfg" "$host" true </dev/null >"$T/ssh.out" 2>"$T/ssh.err"
	SRC=$?
	capture "$T" "$MRSH" -F "$T/full.cfg" -t 30 -w "$host" true
	is "$RC/$SRC" "0/0" "$name: mrsh and ssh both log in" ||
		diag "ssh: $(head -c 600 "$T/ssh.err") mrsh: $(head -c 600 "$T/err")"
	cmp -s "$T/full/kh" "$T/kh.before"
	is "$?" 0 "$name: the file is unchanged"
}

# (ssh 9.2 ignores its fclose error and says "Permanently added" here;
# mrsh says that it failed, and why.)
full "full disk, host known, address not" weba "[weba]:$P $KEY"
like "$(cat "$T/err")" "^mrsh: Failed to add the ssh-ed25519 host key for IP address '\[10\.73\.0\.1\]:$P' to the list of known hosts \($T/full/kh\)\.$" \
	"full disk, address not added: mrsh says so"
full "full disk, accept-new" webb "" "StrictHostKeyChecking accept-new"
like "$(cat "$T/err")" "^mrsh: cannot add host key for \[webb\]:$P,\[10\.73\.0\.2\]:$P to $T/full/kh: No space left on device$" \
	"full disk, accept-new: mrsh names the file and the error"
full "full disk, accept-new, hashed" webb "" "StrictHostKeyChecking accept-new" "HashKnownHosts yes"
like "$(cat "$T/err")" "^mrsh: cannot add host key for \[webb\]:$P to $T/full/kh: No space left on device$" \
	"full disk, accept-new, hashed: mrsh names the file and the error"
full "full disk, StrictHostKeyChecking no" webb "" "StrictHostKeyChecking no"
like "$(cat "$T/err")" "^mrsh: cannot add host key for \[webb\]:$P,\[10\.73\.0\.2\]:$P to $T/full/kh: No space left on device$" \
	"full disk, StrictHostKeyChecking no: mrsh names the file and the error"

# ---- KnownHostsCommand --------------------------------------------------
cat >"$T/kh.sh" <<EOF
#!/bin/sh
printf '%s\n' "\$*" >>"$T/kh.log"
case \$2 in ADDRESS) cat "$T/khdb.ip" ;; *) cat "$T/khdb" ;; esac
exit \$(cat "$T/kh.rc")
EOF
chmod 755 "$T/kh.sh"
echo 0 >"$T/kh.rc"
: >"$T/khdb.ip"
CMD="KnownHostsCommand $T/kh.sh %H %I %t %f %K"

# khboth NAME HOST WANT LINES [CONFIG LINES...]: as both, and ssh (run
# first) and mrsh ran the command with the same words.
khboth() {
	local name=$1 half

	: >"$T/kh.log"
	both "$@"
	mv "$T/kh.log" "$T/kh.log.both"
	half=$(($(wc -l <"$T/kh.log.both") / 2))
	is "$(head -n "$half" "$T/kh.log.both")" "$(tail -n +"$((half + 1))" "$T/kh.log.both")" \
		"$name: ssh and mrsh ran the command with the same words"
}

echo "[lob]:$P $KEY" >"$T/khdb"
khboth "KnownHostsCommand vouches" lob 0 "" "$CMD" "CheckHostIP no"
is "$(cut -d' ' -f1-2 "$T/kh.log.both" | sort | uniq -c | awk '{ print $1, $2, $3 }' | tr '\n' ' ')" \
	"2 [lob]:$P HOSTNAME 2 lob ORDER " \
	"KnownHostsCommand vouches: each ran it for the host key order and the check"
like "$(grep HOSTNAME "$T/kh.log.both" | head -1)" "^\[lob\]:$P HOSTNAME ssh-ed25519 SHA256:[A-Za-z0-9+/]+ AAAA" \
	"KnownHostsCommand vouches: %H %I %t %f %K"
like "$(grep ORDER "$T/kh.log.both" | head -1)" "^lob ORDER NONE NONE NONE$" \
	"KnownHostsCommand vouches: ORDER without a key, as ssh"

echo "[lob]:$P $OTHER" >"$T/khdb"
khboth "KnownHostsCommand holds another key" lob 255 "" "$CMD" "CheckHostIP no"

echo "[lob]:$P $KEY" >"$T/khdb"
echo 3 >"$T/kh.rc"
khboth "KnownHostsCommand fails" lob 255 "" "$CMD" "CheckHostIP no"
like "$(cat "$T/err")" "lob: SETUP: KnownHostsCommand $T/kh.sh failed, status 3; not connecting" \
	"KnownHostsCommand fails: mrsh says so"
echo 0 >"$T/kh.rc"

# With CheckHostIP: once more for the address (ADDRESS, %H the address);
# a key the command vouched for does not get its address recorded.
echo "[weba]:$P $KEY" >"$T/khdb"
khboth "KnownHostsCommand with CheckHostIP" weba 0 "" "$CMD"
is "$(cut -d' ' -f1-2 "$T/kh.log.both" | sort -u | tr '\n' ' ')" \
	"[10.73.0.1]:$P ADDRESS [weba]:$P HOSTNAME weba ORDER " \
	"KnownHostsCommand with CheckHostIP: run for the name and the address"

# A relative path: ssh says so and goes on without it (here: unknown host).
both "KnownHostsCommand not an absolute path" lob 255 "" "KnownHostsCommand kh.sh %H" "CheckHostIP no"
like "$(cat "$T/err")" "KnownHostsCommand path is not absolute: kh.sh" \
	"KnownHostsCommand not an absolute path: mrsh warns, as ssh"

# One that hangs: bounded by the connect timeout (ssh would wait).
printf '#!/bin/sh\nexec sleep 60\n' >"$T/hang.sh"
chmod 755 "$T/hang.sh"
: >"$T/kh.hang"
sshd_client_config "$T/hang.cfg" "$USER_KEY" "$T/kh.hang" "KnownHostsCommand $T/hang.sh"
capture "$T" "$MRSH" -F "$T/hang.cfg" -t 3 -w lob true
is "$RC" 255 "KnownHostsCommand hangs: the host fails"
like "$(cat "$T/err")" "lob: SETUP: KnownHostsCommand $T/hang.sh did not finish within 3 s" \
	"KnownHostsCommand hangs: mrsh says so"

done_testing
