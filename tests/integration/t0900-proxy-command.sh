#!/bin/bash
# t0900: ProxyCommand through the dialer against a real sshd: nc and
# "ssh -W %h:%p" carry the session; %h %p %r %n %% are expanded as ssh
# does; the command's stderr arrives prefixed with the host; a command that
# exits at once or hangs fails only its host, and is reaped; "ProxyCommand
# none" overrides a wildcard; mrsh -G prints it as ssh -G.
. "$top_srcdir/tests/integration/lib.sh"
set -u

SSHD_EXTRA_CONFIG="AllowTcpForwarding yes" start_sshd_test 4
need_cmd nc ssh

# Configs: the test sshd's client config, with a ProxyCommand in front.
with_proxy() {
	local file=$1
	shift
	{
		for line in "$@"; do
			printf '%s\n' "$line"
		done
		cat "$SSH_CONFIG"
	} >"$file"
}

# nc: every host through its own nc
with_proxy "$T/nc.cfg" "Host 127.0.1.*" "	ProxyCommand nc %h %p"
capture "$T" "$MRSH" -F "$T/nc.cfg" -w '127.0.1.[1-4]' \
	'set -- $SSH_CONNECTION; echo "$3"'
is "$RC" 0 "ProxyCommand nc: exit 0"
is "$(sort "$T/out")" "$(printf '127.0.1.%d: 127.0.1.%d\n' 1 1 2 2 3 3 4 4)" \
	"ProxyCommand nc: every host answered under its own name"
is "$(cat "$T/err")" "" "ProxyCommand nc: nothing on stderr"

# the session really went through the command: the sshd sees the
# connection come from nc, and a command that refuses proves the path
with_proxy "$T/false.cfg" "Host 127.0.1.2" "	ProxyCommand exit 3" \
	"Host 127.0.1.*" "	ProxyCommand nc %h %p"
capture "$T" "$MRSH" -F "$T/false.cfg" -w '127.0.1.[1-3]' echo hi
is "$RC" 255 "a ProxyCommand that exits at once: exit 255"
like "$(cat "$T/err")" \
	'^mrsh: 127\.0\.1\.2: SETUP: the ProxyCommand closed the connection before the SSH banner$' \
	"it fails that host while setting up"
is "$(sort "$T/out")" "$(printf '127.0.1.%d: hi\n' 1 3)" \
	"the other hosts still answered"

# tokens, and stderr prefixed with the host (control characters made safe)
printf '#!/bin/sh\nprintf "tok %%s %%s %%s %%s %%s\\033x\\n" "$@" >&2\nexec nc "$1" "$2"\n' >"$T/px.sh"
chmod +x "$T/px.sh"
with_proxy "$T/tok.cfg" "Host 127.0.1.1" "	ProxyCommand $T/px.sh %h %p %r %n %%"
capture "$T" "$MRSH" -F "$T/tok.cfg" -w 127.0.1.1 echo ok
is "$RC" 0 "tokens: exit 0"
is "$(cat "$T/out")" "127.0.1.1: ok" "tokens: the session ran"
is "$(grep ProxyCommand "$T/err")" \
	"mrsh: 127.0.1.1: ProxyCommand: tok 127.0.1.1 $SSHD_PORT $SSHD_USER 127.0.1.1 %?x" \
	"the command's stderr, prefixed with the host, tokens expanded"

# ssh -W through the sshd itself (a jump of sorts): ssh reads the same config
with_proxy "$T/w.cfg" "Host 127.0.1.3 127.0.1.4" \
	"	ProxyCommand ssh -F $SSH_CONFIG -W %h:%p 127.0.1.1"
capture "$T" "$MRSH" -F "$T/w.cfg" -w '127.0.1.[3-4]' \
	'set -- $SSH_CONNECTION; echo "$1 $3"'
is "$RC" 0 "ProxyCommand ssh -W: exit 0"
is "$(sort "$T/out")" "$(printf '127.0.1.%d: 127.0.0.1 127.0.1.%d\n' 3 3 4 4)" \
	"ProxyCommand ssh -W: each target answered (forwarded by the sshd)"

# a command that hangs: the connect timeout fails that host, the child is
# killed and reaped
with_proxy "$T/hang.cfg" "Host 127.0.1.4" "	ProxyCommand sleep 300 # %h"
capture "$T" "$MRSH" -F "$T/hang.cfg" -t 8 -w '127.0.1.[3-4]' echo hi
is "$RC" 255 "a hanging ProxyCommand: exit 255"
like "$(cat "$T/err")" '^mrsh: 127\.0\.1\.4: SETUP: timed out during banner exchange after 8s \(-t\)$' \
	"a hanging ProxyCommand: the connect timeout names the host, as ssh"
is "$(cat "$T/out")" "127.0.1.3: hi" "the other host answered"
is "$(pgrep -f 'sleep 300 # 127.0.1.4' | wc -l)" 0 \
	"the hanging command was killed"

# ProxyCommand none overrides a wildcard (first value wins)
with_proxy "$T/none.cfg" "Host 127.0.1.1" "	ProxyCommand none" \
	"Host *" "	ProxyCommand exit 5"
capture "$T" "$MRSH" -F "$T/none.cfg" -w '127.0.1.[1-2]' echo hi
is "$RC" 255 "none + wildcard: exit 255 (the wildcard host failed)"
is "$(cat "$T/out")" "127.0.1.1: hi" "ProxyCommand none: that host connected directly"
like "$(cat "$T/err")" '127\.0\.1\.2: SETUP: the ProxyCommand closed the connection before' \
	"the wildcard's ProxyCommand was used for the other host"

# -G prints proxycommand as ssh -G does
for h in 127.0.1.1 127.0.1.2; do
	is "$("$MRSH" -F "$T/none.cfg" -G "$h" | grep '^proxy')" \
		"$(ssh -F "$T/none.cfg" -G "$h" | grep '^proxy' | grep -v proxyusefdpass)" \
		"-G $h: proxycommand as ssh -G"
done
is "$("$MRSH" -F "$T/tok.cfg" -G 127.0.1.1 | grep '^proxy')" \
	"$(ssh -F "$T/tok.cfg" -G 127.0.1.1 | grep '^proxy' | grep -v proxyusefdpass)" \
	"-G: proxycommand printed as written"

done_testing
