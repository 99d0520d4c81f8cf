#!/bin/bash
# t0901: ProxyJump and -J against real sshds in network namespaces this
# test creates: mrsh's namespace reaches the bastion (10.77.1.2, namespace
# B) over one veth pair, and only B reaches the targets (10.77.2.x,
# namespace C) over another, so a direct connection fails and every answer
# proves the route. Every hop is mrsh's own shared jump session; chains
# of two jump hosts (-J a,b and a hop's own ProxyJump); a jump host that is down,
# refuses the forward (PermitOpen) or refuses the login fails only the
# targets behind it; --json and --stats name the jump host; a hop with a
# ProxyCommand of its own goes through ssh -W as ssh does; a ProxyJump ssh
# would not take refuses its hosts; -J is valid exactly when the ssh here
# takes it, and -G prints proxyjump as ssh -G.
# Remote commands are single-quoted on purpose: they expand remotely.
# shellcheck disable=SC2016
. "$top_srcdir/tests/integration/lib.sh"
# shellcheck source=tests/helpers/jumpnet.sh
. "$top_srcdir/tests/helpers/jumpnet.sh"
set -u

reexec_in_netns
need_cmd ip ssh

# The network of tests/helpers/jumpnet.sh: us, the bastion in B, the
# targets (10.77.2.2, .10 - .13) in namespace C.
jumpnet_setup 2 10 11 12 13

# The bastion: the usual private sshd, run in namespace B, forwarding on,
# but only to the targets it may open (10.77.2.13 is not among them).
jumpnet_bastion "PermitOpen 10.77.2.2:$PT 10.77.2.10:$PT 10.77.2.11:$PT 10.77.2.12:$PT"

# The targets: a second sshd in namespace C, same keys, its own port; it
# may forward too (it is the second hop of a chain).
extra_sshd targets "$NT" "$PT" "PermitOpen any"

jumpnet_known_hosts 2 10 11 12 13

# The client config: the jump hosts by name, then the usual Host * block;
# cfg adds ProxyJump bastion for two targets in front of that.
{
	printf 'Host bastion\n\tHostName 10.77.1.2\n\tPort %s\n' "$SSHD_PORT"
	printf 'Host deadjump\n\tHostName 10.77.1.2\n\tPort %s\n' "$(free_port)"
	printf 'Host badjump\n\tHostName 10.77.1.2\n\tPort %s\n\tUser nosuch%s\n' \
		"$SSHD_PORT" $$
	printf 'Host jump2\n\tHostName 10.77.2.2\n\tPort %s\n\tProxyJump bastion\n' "$PT"
	printf 'Host 10.77.2.*\n\tPort %s\n' "$PT"
	cat "$SSH_CONFIG"
} >"$T/cfg-nojump"
{
	printf 'Host 10.77.2.10 10.77.2.11\n\tProxyJump bastion\n'
	cat "$T/cfg-nojump"
} >"$T/cfg"
M=("$MRSH" -F "$T/cfg")
WHO='set -- $SSH_CONNECTION; echo "from $1 to $3"'

# direct: the targets cannot be reached from here (the control)
capture "$T" "$MRSH" -F "$T/cfg-nojump" -t 5 -w 10.77.2.10 true
is "$RC" 255 "direct to a target: exit 255"
like "$(cat "$T/err")" \
	"^mrsh: 10\.77\.2\.10: CONNECTING: connect to 10\.77\.2\.10:$PT: network is unreachable\$" \
	"direct to a target: no route from here"

# ProxyJump from ssh_config
capture "$T" "${M[@]}" -w '10.77.2.[10-11]' "$WHO"
is "$RC" 0 "ProxyJump bastion: exit 0"
is "$(sort "$T/out")" "10.77.2.10: from 10.77.2.1 to 10.77.2.10
10.77.2.11: from 10.77.2.1 to 10.77.2.11" \
	"ProxyJump bastion: each target answered, reached from the bastion"
is "$(cat "$T/err")" "" "ProxyJump bastion: nothing on stderr"

# -J on the command line, for hosts without ProxyJump in the config
capture "$T" "$MRSH" -F "$T/cfg-nojump" -J bastion -w '10.77.2.[10-12]' \
	--json "$WHO"
is "$RC" 0 "-J bastion: exit 0"
is "$(grep -c '"via":"bastion"' "$T/out")" 3 "--json: via the bastion, 3 targets"
like "$(grep '"host":"10.77.2.12"' "$T/out")" 'from 10\.77\.2\.1 to 10\.77\.2\.12' \
	"-J bastion: the third target answered through the bastion"

capture "$T" "$MRSH" -F "$T/cfg-nojump" -J bastion -w '10.77.2.[10-12]' \
	--stats true
is "$RC" 0 "--stats: exit 0"
like "$(cat "$T/err")" '^mrsh: stats: via bastion 3$' "--stats: via bastion 3"

# -J with user@host:port and an ssh:// URI
capture "$T" "$MRSH" -F "$T/cfg-nojump" \
	-J "ssh://$SSHD_USER@10.77.1.2:$SSHD_PORT" -w 10.77.2.10 "$WHO"
is "$RC" 0 "-J ssh://user@host:port: exit 0"
is "$(cat "$T/out")" "10.77.2.10: from 10.77.2.1 to 10.77.2.10" \
	"-J ssh://user@host:port: through the bastion"

# a chain of two jump hosts: bastion, then jump2 inside the target network
capture "$T" "$MRSH" -F "$T/cfg-nojump" -J bastion,jump2 -w 10.77.2.11 \
	'echo chained'
is "$RC" 0 "-J bastion,jump2: exit 0"
is "$(cat "$T/out")" "10.77.2.11: chained" "-J bastion,jump2: the target answered"
# jump2's own ProxyJump in the config chains too
capture "$T" "$MRSH" -F "$T/cfg-nojump" -J jump2 -w 10.77.2.12 'echo chained'
is "$RC" 0 "-J jump2 (ProxyJump bastion in its config): exit 0"
is "$(cat "$T/out")" "10.77.2.12: chained" \
	"jump2's own ProxyJump was followed"

# failures of a hop fail only the targets behind it
{
	printf 'Host 10.77.2.10\n\tProxyJump deadjump\n'
	printf 'Host 10.77.2.11\n\tProxyJump badjump\n'
	printf 'Host 10.77.2.12 10.77.2.13\n\tProxyJump bastion\n'
	cat "$T/cfg-nojump"
} >"$T/cfg-mixed"
capture "$T" "$MRSH" -F "$T/cfg-mixed" -w '10.77.2.[10-13]' 'echo up'
is "$RC" 255 "mixed hops: exit 255"
is "$(cat "$T/out")" "10.77.2.12: up" "mixed hops: the target behind the good bastion answered"
like "$(cat "$T/err")" \
	"^mrsh: 10\\.77\\.2\\.10: CONNECTING: jump host deadjump: connect to 10\\.77\\.1\\.2:[0-9]+: connection refused\$" \
	"jump host down: the target fails, naming the hop and why"
like "$(cat "$T/err")" \
	'^mrsh: 10\.77\.2\.11: CONNECTING: jump host badjump: auth failed: permission denied \(publickey\)' \
	"jump host refuses the login: said, for its target"
like "$(cat "$T/err")" \
	"^mrsh: 10\\.77\\.2\\.13: CONNECTING: bastion refused the forward to 10\\.77\\.2\\.13:$PT \\(administratively prohibited\\)\$" \
	"forward refused by PermitOpen: the server's reason, for its target"
like "$(cat "$T/err")" '^mrsh: 3 of 4 hosts failed' "mixed hops: 3 of 4 failed"

# A jump host with a ProxyCommand of its own: mrsh runs ssh -W for it, as
# ssh does, with -F naming the config (its path quoted for the shell, its
# % kept from the token expansion) and the last hop's user and port.
D="$T/it's 100%"
mkdir -p "$D"
{
	printf 'Host pcjump\n\tHostName 10.77.1.2\n\tPort %s\n' "$SSHD_PORT"
	printf '\tProxyCommand nc %%h %%p\n'
	printf 'Host pcbad\n\tProxyCommand sh -c "echo pcbad says no >&2; exit 3"\n'
	printf 'Host 10.77.2.10\n\tProxyJump %s@pcjump:%s\n' "$SSHD_USER" "$SSHD_PORT"
	printf 'Host 10.77.2.12\n\tProxyJump pcbad\n'
	cat "$T/cfg-nojump"
} >"$D/cfg"
capture "$T" "$MRSH" -F "$D/cfg" -w '10.77.2.10,10.77.2.12' --json "$WHO"
is "$RC" 255 "hops with a ProxyCommand: exit 255 (one target fails)"
like "$(grep '"host":"10.77.2.10"' "$T/out")" \
	'"via":"pcjump".*from 10\.77\.2\.1 to 10\.77\.2\.10' \
	"ssh -W through a hop with its own ProxyCommand: answered from the bastion"
like "$(cat "$T/err")" \
	'^mrsh: 10\.77\.2\.12: ProxyCommand: pcbad says no$' \
	"a hop whose ProxyCommand fails: ssh's stderr, for its target"
like "$(cat "$T/err")" \
	"^mrsh: 10\\.77\\.2\\.12: SETUP: jump host pcbad: connection closed before the target's SSH banner\$" \
	"a hop whose ProxyCommand fails: the target fails, naming the hop"
# An earlier hop with a ProxyCommand: ssh -J pcjump -W ... jump2. (Under
# a plain path: ssh passes -F on to the ssh it runs for -J unquoted.)
{
	printf 'Host 10.77.2.11\n\tProxyJump pcjump,jump2\n'
	cat "$D/cfg"
} >"$T/cfg-pcchain"
capture "$T" "$MRSH" -F "$T/cfg-pcchain" -w 10.77.2.11 --json "$WHO"
is "$RC" 0 "a chain whose first hop has a ProxyCommand: exit 0"
like "$(cat "$T/out")" '"via":"jump2".*"stdout":"from 10\.77\.2\.2 to 10\.77\.2\.11\\n"' \
	"... through ssh -J pcjump -W: answered from jump2"
# (ssh would refuse the whole file; mrsh refuses the hosts it applies to)
{
	printf 'Host 10.77.2.13\n\tProxyJump ::1\n'
	cat "$T/cfg-nojump"
} >"$T/cfg-badjump"
capture "$T" "$MRSH" -F "$T/cfg-badjump" -w '10.77.2.13,10.77.1.2' -l "$SSHD_USER" \
	-p "$SSHD_PORT" 'echo up'
is "$RC" 255 "a ProxyJump ssh would not take: exit 255"
is "$(cat "$T/out")" "10.77.1.2: up" "... the other host ran"
like "$(cat "$T/err")" \
	'^mrsh: 10\.77\.2\.13: [A-Z]+: ProxyJump ::1: bad jump host "::1"$' \
	"... and that host is refused, saying why"

# -G: proxyjump as ssh -G prints it
for spec in bastion "ssh://u@b1:2222,ssh://u2@b2:23/" "u@[::1]:7" none; do
	is "$("$MRSH" -F "$T/cfg" -J "$spec" -G 10.77.2.10 | grep '^proxy')" \
		"$(ssh -F "$T/cfg" -J "$spec" -G 10.77.2.10 | grep '^proxy' | grep -v proxyusefdpass)" \
		"-G -J $spec: as ssh -G"
done
# -J is valid exactly when ssh takes it, and prints as ssh -G prints it
# (the hop's user, host and port as ssh reads them; numeric hosts in
# brackets; ssh's checks for shell characters on a command-line -J).
for spec in 10.77.1.2 u@10.0.0.1:22 "[::1]" "[::1]:" "[h]:5" h: h:ssh \
	u@@h a@b@c:5 "a b" "h#c" "a,b@c:7,[::2]:9" ssh://h/ ssh://h:22/ \
	"ssh://u;x=y@h" ssh://u%41@h ssh://u+v@h ssh://h. ssh://a_b \
	ssh://u%2d@h @h u@ :22 ::1 u@::1 a:b:c "[::1]x" "[::1" h/22 h:0 \
	h:65536 a,,b ssh://h/x ssh://h%41 ssh://-h ssh://u@v@h "ssh://[::1]" \
	-oFoo "h;x" "a,h|x" "u;x@h" -u@h "u\\@h" ssh://%2du@h; do
	want=$(ssh -F "$T/cfg" -J "$spec" -G 10.77.2.10 2>/dev/null)
	wrc=$?
	got=$("$MRSH" -F "$T/cfg" -J "$spec" -G 10.77.2.10 2>"$T/err")
	grc=$?
	if [ "$wrc" = 0 ]; then
		is "$grc:$(echo "$got" | grep '^proxyjump')" \
			"0:$(echo "$want" | grep '^proxyjump')" \
			"-G -J '$spec': as ssh -G"
	else
		like "$grc:$(cat "$T/err")" \
			"^2:mrsh: -J: (bad jump host|invalid hostname|invalid username) " \
			"-J '$spec': refused, as ssh refuses it"
	fi
done
is "$("$MRSH" -F "$T/cfg" -G 10.77.2.11 | grep '^proxy')" \
	"$(ssh -F "$T/cfg" -G 10.77.2.11 | grep '^proxy' | grep -v proxyusefdpass)" \
	"-G: ProxyJump from the config as ssh -G"
"$MRSH" -J "h:0" -w x true 2>"$T/err"
is "$?" 2 "-J with a bad port: usage error"
is "$(cat "$T/err")" 'mrsh: -J: bad jump host "h:0"' "-J with a bad port: says which"

done_testing
