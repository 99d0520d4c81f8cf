#!/bin/bash
# t0219: a server that refuses the channel, the terminal or the command, or
# ends the channel oddly; each run with the real ssh too. One line per
# failed host (`mrsh: HOST: STAGE: reason`), exit 255, and the other hosts
# of the run unharmed.
# - sshd with MaxSessions 0 for 127.0.1.3: the session channel refused;
# - sshd with PermitTTY no for 127.0.1.2: --tty (ssh -tt) fails there;
# - --tty with TERM unset: the same terminal type as ssh's;
# - ssh_fake.py: "none" authentication accepted (no key offered); the
#   exec request refused (for -r --copy's check for GNU tar too); an exit-signal without a name
#   (not taken for exit 0); EOF then the TCP connection dropped without
#   CHANNEL_CLOSE, after an exit status (which libssh2 cannot tell from
#   none: a failure) or after an exit signal (reported);
# - jump hosts refused before any connection: one whose own config is
#   refused, one whose own ProxyJump does not parse, and a ProxyJump loop
#   (ssh would start ssh -W processes for ever; mrsh stops at 8 hops).
. "$top_srcdir/tests/integration/lib.sh"
set -u

T=$(make_tmpdir)
cat >"$T/match.conf" <<'EOF'
Match LocalAddress 127.0.1.2
	PermitTTY no
Match LocalAddress 127.0.1.3
	MaxSessions 0
EOF
SSHD_EXTRA_CONFIG="Include $T/match.conf" start_sshd 3
[ -x "$MRSH" ] || bail_out "no mrsh binary at $MRSH"
need_cmd ssh
unset SSH_AUTH_SOCK SSH_AGENT_PID
M=("$MRSH" -F "$SSH_CONFIG")
S=(ssh -F "$SSH_CONFIG")
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

# hasline LINE FILE DESC: FILE has exactly LINE (whole line, fixed text).
hasline() {
	if grep -Fqx -- "$1" "$2"; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "want the line: $1"
		sed 's/^/#   /' "$2" | head -20
	fi
}

# ---- sshd refusing the channel and the terminal ----------------------------
capture "$T" "${M[@]}" -w '127.0.1.[1-3]' 'echo fine'
is "$RC" 255 "MaxSessions 0 on one host: exit 255"
like "$(grep '^mrsh: 127\.0\.1\.3: ' "$T/err")" \
	'^mrsh: 127\.0\.1\.3: SETUP: channel open refused: Channel open failure \(connect failed\)$' \
	"MaxSessions 0: one line, the channel open refused"
is "$(sort "$T/out")" "$(printf '127.0.1.1: fine\n127.0.1.2: fine')" \
	"MaxSessions 0 on one host: the others ran the command"
capture "$T" "${S[@]}" 127.0.1.3 true
is "$RC" 255 "MaxSessions 0: ssh exits 255 too"

capture "$T" "${M[@]}" --tty -w '127.0.1.[1-2]' 'echo fine'
is "$RC" 255 "PermitTTY no, --tty: exit 255"
hasline "mrsh: 127.0.1.2: SETUP: the server refused a pseudo-terminal (pty-req)" \
	"$T/err" "PermitTTY no, --tty: one line saying the pty was refused"
is "$(tr -d '\r' <"$T/out")" "127.0.1.1: fine" \
	"PermitTTY no, --tty: the other host ran the command"
capture "$T" "${S[@]}" -tt 127.0.1.2 true
is "$RC" 255 "PermitTTY no: ssh -tt exits 255 too"
capture "$T" "${M[@]}" -w 127.0.1.2 'echo fine'
is "$RC/$(cat "$T/out")" "0/127.0.1.2: fine" "PermitTTY no, no --tty: runs"

# TERM unset: the terminal type ssh asks for ($TERM is the remote one).
# shellcheck disable=SC2016
capture "$T" env -u TERM "${S[@]}" -tt 127.0.1.1 'echo "[$TERM]"'
want=$(tr -d '\r' <"$T/out")
# shellcheck disable=SC2016
capture "$T" env -u TERM "${M[@]}" --tty -w 127.0.1.1 'echo "[$TERM]"'
is "$RC/$(tr -d '\r' <"$T/out")" "0/127.0.1.1: $want" \
	"--tty with TERM unset: the remote TERM as with ssh -tt ($want)"

# ---- jump hosts refused before connecting ----------------------------------
# shellcheck disable=SC2016 # the unset variable is the config's
{
	printf 'Host badjump\n\tIdentityFile ${MRSH_T0219_UNSET}/key\n'
	printf 'Host badpj\n\tProxyJump a@@b:x\n'
	printf 'Host loopa\n\tProxyJump loopb\nHost loopb\n\tProxyJump loopa\n'
	cat "$SSH_CONFIG"
} >"$T/jump.cfg"
capture "$T" "$MRSH" -F "$T/jump.cfg" -J badjump -w '127.0.1.[1-2]' true
is "$RC" 255 "jump host whose own config is refused: exit 255"
for h in 1 2; do
	hasline "mrsh: 127.0.1.$h: PENDING: jump host badjump: IdentityFile \${MRSH_T0219_UNSET}/key: an environment variable it names is not set or has no closing '}'; not connecting" \
		"$T/err" "jump host whose config is refused: 127.0.1.$h says why"
done
capture "$T" "$MRSH" -F "$T/jump.cfg" -J badpj -w 127.0.1.1 true
is "$RC" 255 "jump host whose own ProxyJump does not parse: exit 255"
hasline 'mrsh: 127.0.1.1: PENDING: jump host badpj: ProxyJump a@@b:x: bad jump host "a@@b:x"' \
	"$T/err" "jump host's own ProxyJump unparsable: says so"
capture "$T" timeout 60 "$MRSH" -F "$T/jump.cfg" -J loopa -w 127.0.1.1 true
is "$RC" 255 "ProxyJump loop: exit 255, no endless chain"
like "$(cat "$T/err")" '^mrsh: 127\.0\.1\.1: PENDING: jump host loop[ab]: a ProxyJump chain of more than 8 hops \(a loop\?\); not connecting$' \
	"ProxyJump loop: one line saying so"

# ---- ssh_fake.py -----------------------------------------------------------
if ! "$PY" -c 'import paramiko' 2>/dev/null; then
	skip_n 18 "python3-paramiko not installed"
	done_testing
	exit 0
fi
# ssh_fake MODE [ARG]: tests/helpers/ssh_fake.py; sets FAKE_PORT and
# FAKE_KH (a known_hosts file with its host key).
ssh_fake_n=0
ssh_fake() {
	local pf

	ssh_fake_n=$((ssh_fake_n + 1))
	pf=$T/sshfake.$ssh_fake_n.port
	"$PY" "$top_srcdir/tests/helpers/ssh_fake.py" "$1" "$pf" "${2:-}" \
		</dev/null >/dev/null 2>"$T/sshfake.$ssh_fake_n.err" &
	at_exit "kill $!"
	wait_for 20 "[ -s '$pf' ] && [ -s '$pf.pub' ]" ||
		bail_out "ssh_fake.py $1 did not start"
	FAKE_PORT=$(cat "$pf")
	FAKE_KH=$T/sshfake.$ssh_fake_n.kh
	echo "[127.0.0.1]:$FAKE_PORT $(cat "$pf.pub")" >"$FAKE_KH"
}
# fake NAME: mrsh, then ssh, against the fake server; mrsh's exit and
# stderr in MRC and $T/merr, ssh's in RC and $T/err.
fake() {
	capture "$T" "${M[@]}" -o "UserKnownHostsFile=$FAKE_KH" -p "$FAKE_PORT" \
		-w 127.0.0.1 true
	MRC=$RC
	cp "$T/err" "$T/merr"
	cp "$T/out" "$T/mout"
	capture "$T" "${S[@]}" -o "UserKnownHostsFile=$FAKE_KH" -p "$FAKE_PORT" \
		127.0.0.1 true
}

# A server that lets anyone in ("none" authentication): no key offered.
ssh_fake auth-none
capture "$T" "${M[@]}" -v -o IdentityAgent=none -o IdentityFile=none \
	-o "UserKnownHostsFile=$FAKE_KH" -p "$FAKE_PORT" -w 127.0.0.1 true
is "$RC/$(cat "$T/out")" "0/127.0.0.1: out" \
	"\"none\" authentication accepted: logged in, as ssh would"
unlike "$(cat "$T/err")" 'the server accepts' \
	"\"none\" authentication: no method list was needed"

ssh_fake exec-refused
fake
is "$MRC/$RC" "255/255" "exec refused: mrsh and ssh exit 255"
like "$(cat "$T/merr")" \
	'^mrsh: 127\.0\.0\.1: SETUP: exec refused by the server: ' \
	"exec refused: one line saying so"
like "$(cat "$T/err")" 'exec request failed' "exec refused: ssh says so too"
# -r --copy: the check for GNU tar is refused too, so SFTP, which this
# server does not have either
mkdir -p "$T/tree/d"
echo x >"$T/tree/d/f"
capture "$T" "${M[@]}" -v -o "UserKnownHostsFile=$FAKE_KH" -p "$FAKE_PORT" \
	-w 127.0.0.1 -r --copy "$T/tree" --dest /nonexistent
is "$RC" 255 "exec refused, -r --copy: exit 255"
hasline "mrsh: 127.0.0.1: the tree goes over SFTP: the server refused the check's command" \
	"$T/err" "the refused check means SFTP"
like "$(cat "$T/err")" '^mrsh: 127\.0\.0\.1: SETUP: .*SFTP' "then SFTP's own failure, one line"

ssh_fake exit-signal ''
fake
is "$MRC/$RC" "255/255" "exit-signal without a name: exit 255, as ssh (not 0)"
hasline "mrsh: 127.0.0.1: exit status unknown: the server sent an exit-signal without a signal name" \
	"$T/merr" "exit-signal without a name: says so"
capture "$T" "${M[@]}" --json -o "UserKnownHostsFile=$FAKE_KH" -p "$FAKE_PORT" \
	-w 127.0.0.1 true
is "$RC/$("$PY" -c 'import json, sys; o = json.loads(sys.stdin.readline()); print(o["status"], o.get("exit_code"), o["stdout"].strip())' <"$T/out" 2>&1)" \
	"255/unknown None out" \
	"exit-signal without a name, --json: status \"unknown\", no exit code, the output kept"

# (ssh exits 0 or 255 here, depending on which it reads first.)
ssh_fake eof-drop
fake
is "$MRC" 255 \
	"EOF, exit status, then the connection dropped: exit 255 (the status cannot be told from none)"
hasline "mrsh: 127.0.0.1: RUNNING: connection lost before the channel closed: the server closed or reset the connection" \
	"$T/merr" "EOF then a drop: one line, the reason in words"
is "$(cat "$T/mout")" "127.0.0.1: out" "EOF then a drop: the output arrived"
# -r --copy: the check's channel is dropped the same way
capture "$T" "${M[@]}" -o "UserKnownHostsFile=$FAKE_KH" -p "$FAKE_PORT" \
	-w 127.0.0.1 -r --copy "$T/tree" --dest /nonexistent
is "$RC" 255 "EOF then a drop during the check for GNU tar: exit 255"
is "$(grep -c '^mrsh: 127\.0\.0\.1: SETUP: ' "$T/err")" 1 \
	"one line: the host failed in setup"

ssh_fake eof-drop TERM
capture "$T" "${M[@]}" -v -o "UserKnownHostsFile=$FAKE_KH" -p "$FAKE_PORT" \
	-w 127.0.0.1 true
is "$RC" 143 "exit signal, EOF, then a drop: the signal is reported (128 + 15)"
hasline "mrsh: 127.0.0.1: connection lost after the command's exit (no channel close)" \
	"$T/err" "exit signal then a drop: -v says the close never came"

done_testing
