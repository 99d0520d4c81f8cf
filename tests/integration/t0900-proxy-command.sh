#!/bin/bash
# t0900: ProxyCommand through the dialer against a real sshd: nc and
# "ssh -W %h:%p" carry the session; %h %p %r %n %% are expanded as ssh
# does; the command's stderr arrives prefixed with the host; a command that
# exits at once or hangs fails only its host, and is reaped; one that
# stays after the session is killed (SIGTERM, then SIGKILL) and reaped; an
# unknown %-token refuses the host; CR LF and an unterminated last stderr
# line; "ProxyCommand none" overrides a wildcard; mrsh -G prints it as
# ssh -G.
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

# an unknown token: that host is refused (ssh: "unknown key %x"), the
# command never runs
with_proxy "$T/badtok.cfg" "Host 127.0.1.2" "	ProxyCommand touch $T/ran; nc %h %x"
capture "$T" "$MRSH" -F "$T/badtok.cfg" -w '127.0.1.[1-2]' echo hi
is "$RC" 255 "an unknown %-token: exit 255"
like "$(cat "$T/err")" '^mrsh: 127\.0\.1\.2: [A-Z]+: ProxyCommand: unknown token %x$' \
	"an unknown %-token: that host is refused, naming the token"
is "$(cat "$T/out")" "127.0.1.1: hi" "an unknown %-token: the other host ran"
[ ! -e "$T/ran" ]
ok $? "an unknown %-token: the command did not run"

# stderr lines: CR LF ends one, and a last line without a newline, said
# after the connection closed, still arrives whole
printf '#!/bin/sh\nprintf "one\\r\\ntwo\\r\\n" >&2\nnc "$1" "$2"\nprintf "bye" >&2\n' >"$T/px2.sh"
chmod +x "$T/px2.sh"
with_proxy "$T/px2.cfg" "Host 127.0.1.1" "	ProxyCommand $T/px2.sh %h %p"
capture "$T" "$MRSH" -F "$T/px2.cfg" -w 127.0.1.1 echo ok
is "$RC" 0 "stderr lines: exit 0"
is "$(cat "$T/out")" "127.0.1.1: ok" "stderr lines: the session ran"
is "$(cat "$T/err")" "mrsh: 127.0.1.1: ProxyCommand: one
mrsh: 127.0.1.1: ProxyCommand: two
mrsh: 127.0.1.1: ProxyCommand: bye" \
	"stderr lines: CR LF stripped, the unterminated last line said at the end"

# a command that stays after the session (and ignores SIGTERM): --close-wait
# and a second more, then SIGTERM, then SIGKILL; mrsh reaps it before it
# exits, its whole process group gone
printf '#!/bin/sh\ntrap "" TERM\necho $$ >"%s/px3.pid"\nnc "$1" "$2"\nwhile :; do sleep 1; done\n' \
	"$T" >"$T/px3.sh"
chmod +x "$T/px3.sh"
with_proxy "$T/px3.cfg" "Host 127.0.1.1" "	ProxyCommand $T/px3.sh %h %p"
capture "$T" "$MRSH" -F "$T/px3.cfg" --close-wait 0 -vv -w 127.0.1.1 echo ok
is "$RC" 0 "a ProxyCommand that stays: exit 0"
is "$(cat "$T/out")" "127.0.1.1: ok" "a ProxyCommand that stays: the session ran"
is "$(grep -o 'ProxyCommand still running after the close: SIG[A-Z]*' "$T/err")" \
	"ProxyCommand still running after the close: SIGTERM
ProxyCommand still running after the close: SIGKILL" \
	"a ProxyCommand that ignores SIGTERM: SIGTERM, then SIGKILL"
pgid=$(cat "$T/px3.pid" 2>/dev/null)
is "$(ps -o pid= -g "${pgid:-0}" 2>/dev/null)" "" \
	"... and nothing of its process group is left"

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

# %r in a ProxyCommand: a user name that a shell would read as syntax is
# refused before anything runs, as ssh (Debian 12's, OpenSSH >= 9.6) does
with_proxy "$T/r.cfg" "Host 127.0.1.*" "	ProxyCommand sh -c 'echo %r >$T/r.seen; nc %h %p'"
capture "$T" "$MRSH" -F "$T/r.cfg" -w "a\$(touch\${IFS}$T/pwned)b@127.0.1.1" echo hi
is "$RC/$(cat "$T/err")" "2/mrsh: user name \"a\$(touch\${IFS}$T/pwned)b\" contains characters ssh refuses, in \"a\$(touch\${IFS}$T/pwned)b@127.0.1.1\"" \
	"a user name with \$( ) in -w: usage error, exit 2"
ssh -F "$T/r.cfg" "a\$(touch\${IFS}$T/pwned)b@127.0.1.1" true >"$T/ssh.out" 2>&1
is "$(tr -d '\r' <"$T/ssh.out")" "remote username contains invalid characters" "... ssh refuses it too"
ok "$(test ! -e "$T/pwned" && test ! -e "$T/r.seen"; echo $?)" "... and no ProxyCommand ran"
capture "$T" "$MRSH" -F "$T/r.cfg" -l 'x`id`' -w 127.0.1.1 echo hi
is "$RC/$(cat "$T/err")" '2/mrsh: -l: user name "x`id`" contains characters ssh refuses' \
	"-l with a backquote: exit 2"
capture "$T" "$MRSH" -F "$T/r.cfg" -o 'User=a$(id)' -w 127.0.1.1 echo hi
is "$RC/$(cat "$T/err")" '2/mrsh: -o User: user name "a$(id)" contains characters ssh refuses' \
	"-o User= with \$( ): exit 2, as ssh"
capture "$T" "$MRSH" -F "$T/r.cfg" --hosts=-oProxyCommand=x echo hi
is "$RC/$(cat "$T/err")" "2/mrsh: host name \"-oProxyCommand=x\" starts with '-'" \
	"a host name starting with '-': exit 2 (it would be an option to the proxy's %h)"
ok "$(test ! -e "$T/pwned" && test ! -e "$T/r.seen"; echo $?)" "... and no ProxyCommand ran"

done_testing
