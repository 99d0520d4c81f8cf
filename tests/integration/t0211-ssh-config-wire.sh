#!/bin/bash
# t0211: where connections land. A private sshd listens on two ports and
# its ForceCommand prints $SSH_CONNECTION, so every login tells which
# address and port it reached. For each routing keyword (HostName, Port,
# User, values set in Match blocks of every kind, a second pass asked for
# by Match final), mrsh and ssh must land on the same address and port,
# and on the one the config says. Keywords mrsh does not implement and
# that would send it elsewhere (BindAddress, RequiredRSASize, ...) must refuse
# the host with file:line and exit 255, and sshd's log must show that no
# connection was made; so must ConnectionAttempts 0, which ssh refuses too.
. "$top_srcdir/tests/integration/lib.sh"
set -u

need_cmd ssh
P2=$(free_port)
# LogLevel VERBOSE: sshd logs "Connection from ... on ADDR port PORT".
SSHD_EXTRA_CONFIG="LogLevel VERBOSE
Port $P2
ForceCommand echo \"CONN \$SSH_CONNECTION\""
export SSHD_EXTRA_CONFIG
start_sshd_test 3
P1=$SSHD_PORT
wait_for 20 "grep -q 'port $P2' '$SSHD_LOG'" ||
	bail_out "sshd does not listen on the second port $P2"

# The host key is the same on both ports.
kh=$T/known_hosts
cp "$KNOWN_HOSTS" "$kh"
for a in 127.0.1.1 127.0.1.2 127.0.1.3; do
	echo "[$a]:$P2 $HOST_KEY_PUB" >>"$kh"
done

cfg=$T/config
{
	cat <<EOF
Host alias2
	HostName 127.0.1.2
Host alias3p2
	HostName 127.0.1.3
	Port $P2
Host 3
	HostName 127.0.1.%h
Match originalhost viamatch
	HostName 127.0.1.1
	Port $P2
Match exec "test %n = execd"
	HostName 127.0.1.3
Match exec "test %h = 127.0.1.2 && test %n = execport"
	Port $P2
Match host 127.0.1.1 !originalhost viamatch user $SSHD_USER localuser $(id -un)
	ServerAliveInterval 7
Host bound
	HostName 127.0.1.1
	BindAddress 127.0.0.9
Host alias
	HostName 127.0.1.1
	RequiredRSASize 2048
Host killed
	HostName 127.0.1.1
Match originalhost killed exec "kill -9 \$\$"
	Port 1
EOF
	sshd_client_config "$T/client.cfg" "$USER_KEY" "$kh"
	cat "$T/client.cfg"
} >"$cfg"

connections() { grep -c 'Connection from' "$SSHD_LOG"; }

# landed OUTPUT: "ADDR PORT" from the CONN line of a login.
landed() {
	printf '%s\n' "$1" | sed -n 's/.*CONN [^ ]* [^ ]* \([^ ]*\) \([^ ]*\)$/\1 \2/p' |
		head -n 1
}

# route NAME WANT: mrsh and ssh both land on WANT ("ADDR PORT").
route() {
	local name=$1 want=$2 m s

	capture "$T" "$MRSH" -F "$cfg" -w "$name" true
	m=$(landed "$(cat "$T/out")")
	is "$RC $m" "0 $want" "mrsh $name lands on $want"
	[ "$RC" = 0 ] || diag "$(cat "$T/err")"
	s=$(landed "$(timeout 60 ssh -F "$cfg" "$name" true </dev/null 2>&1)")
	is "$s" "$want" "ssh $name lands on $want too"
}

route 127.0.1.1 "127.0.1.1 $P1"
route alias2 "127.0.1.2 $P1"
route alias3p2 "127.0.1.3 $P2"
route 3 "127.0.1.3 $P1"
route viamatch "127.0.1.1 $P2"
route execd "127.0.1.3 $P1"

# Match final: a second pass, where Host lines see the HostName. Port must
# not be set in the first pass for the second one to set it.
{
	cat <<EOF
Host finalhost
	HostName 127.0.1.2
Host 127.0.1.2
	Port $P2
Match final host 127.0.1.2 originalhost finalhost
	User $SSHD_USER
EOF
	grep -v "Port $P1" "$T/client.cfg"
} >"$T/final.cfg"
cfg_saved=$cfg
cfg=$T/final.cfg
route finalhost "127.0.1.2 $P2"
cfg=$cfg_saved

# Match exec with %h after HostName, and %n: only execport moves port.
cat >"$T/execport.cfg" <<EOF
Host execport other
	HostName 127.0.1.2
EOF
cat "$cfg" >>"$T/execport.cfg"
cfg_saved=$cfg
cfg=$T/execport.cfg
route execport "127.0.1.2 $P2"
route other "127.0.1.2 $P1"
cfg=$cfg_saved

# -p and user@host:port on the command line beat the file, as in ssh.
capture "$T" "$MRSH" -F "$cfg" -p "$P2" -w alias2 true
is "$(landed "$(cat "$T/out")")" "127.0.1.2 $P2" "-p beats Port from the file"
capture "$T" "$MRSH" -F "$cfg" -w "alias3p2:$P1" true
is "$(landed "$(cat "$T/out")")" "127.0.1.3 $P1" "host:port beats Port from the file"

# User: a user that does not exist reaches sshd under that name for both.
before=$(grep -c 'Invalid user nosuchuser-t0211' "$SSHD_LOG")
capture "$T" "$MRSH" -F "$cfg" -o User=nosuchuser-t0211 -w 127.0.1.1 true
is "$RC" 255 "unknown User: mrsh fails"
wait_for 10 "[ \$(grep -c 'Invalid user nosuchuser-t0211' '$SSHD_LOG') -gt $before ]"
ok $? "sshd saw mrsh log in as the User from -o"
before=$(grep -c 'Invalid user nosuchuser-t0211' "$SSHD_LOG")
timeout 60 ssh -F "$cfg" -o User=nosuchuser-t0211 127.0.1.1 true </dev/null >/dev/null 2>&1
wait_for 10 "[ \$(grep -c 'Invalid user nosuchuser-t0211' '$SSHD_LOG') -gt $before ]"
ok $? "and ssh as the same user"

# refused NAME LINE MESSAGE: exit 255, the message, no connection at all.
refused() {
	local name=$1 msg=$2 before

	before=$(connections)
	capture "$T" "$MRSH" -F "$cfg" -w "$name" true
	is "$RC" 255 "$name: refused, exit 255"
	is "$(head -n 1 "$T/err")" "mrsh: $name: SETUP: $msg" "$name: the reason names keyword and file:line"
	is "$(cat "$T/out")" "" "$name: no output"
	# The refusal happens before any socket: nothing to wait for.
	is "$(connections)" "$before" "$name: sshd saw no connection"
}

line() { grep -n "$1" "$cfg" | head -n 1 | cut -d: -f1; }
refused bound "$cfg:$(line 'BindAddress 127.0.0.9'): BindAddress 127.0.0.9 is not supported by mrsh and changes where mrsh connects from; not connecting"
refused alias "$cfg:$(line 'RequiredRSASize 2048'): RequiredRSASize 2048 is not supported by mrsh and changes which keys mrsh accepts; not connecting"
refused killed "$cfg:$(line 'originalhost killed exec'): Match exec did not exit normally; not connecting"
# ConnectionAttempts 0 passes readconf.c but ssh.c refuses it: ssh too.
{ printf 'Host attempts0\n\tHostName 127.0.1.1\n\tConnectionAttempts 00\n'; cat "$cfg"; } >"$T/attempts.cfg"
cfg_saved=$cfg
cfg=$T/attempts.cfg
refused attempts0 "$cfg:3: ConnectionAttempts 00: Invalid number of ConnectionAttempts; not connecting"
before=$(connections)
timeout 60 ssh -F "$cfg" attempts0 true </dev/null >/dev/null 2>"$T/ssh.err"
is "$?/$(tr -d '\r' <"$T/ssh.err")" "255/Invalid number of ConnectionAttempts" "ssh refuses it too"
is "$(connections)" "$before" "ssh: no connection either"
cfg=$cfg_saved

# One refused host does not stop the others.
capture "$T" "$MRSH" -F "$cfg" -w bound,alias2 true
is "$RC" 255 "refused + good host: exit 255"
is "$(landed "$(grep '^alias2: ' "$T/out")")" "127.0.1.2 $P1" "the good host still ran"

# A Match exec runs once per host in a run, however many lookups.
cat >"$T/count.cfg" <<EOF
Match exec "echo %n >> $T/exec.log; false"
	User never-used
Match final
	ServerAliveInterval 3
EOF
cat "$cfg" >>"$T/count.cfg"
rm -f "$T/exec.log"
capture "$T" "$MRSH" -F "$T/count.cfg" -w 127.0.1.1,127.0.1.2 true
is "$(sort "$T/exec.log" | tr '\n' ' ')" "127.0.1.1 127.0.1.2 " \
	"Match exec ran once per host (two passes, one command each)"

done_testing
