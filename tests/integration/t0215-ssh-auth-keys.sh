#!/bin/bash
# t0215: what authentication says and which keys it offers, against a real
# sshd and ssh-agent, each case compared with the real ssh on the same
# config: the failure line names the user and every key tried with its type
# and SHA256 fingerprint (as ssh-keygen -l prints them); -v adds the
# server's accepted methods; "IdentityFile x.pub" whose private key is only
# in the agent uses the agent key; IdentitiesOnly limits the agent to the
# identity files' keys. The agent never blocks the loop: a hung agent
# (accepts, never answers) fails only the host that waits for it, after
# its timeout, with a clear error, while the other hosts finish; a slow
# agent only delays its hosts.
. "$top_srcdir/tests/integration/lib.sh"
set -u

start_sshd_test 3
unset SSH_AUTH_SOCK SSH_AGENT_PID
need_cmd ssh

# fp KEYFILE: "ED25519 SHA256:..." as ssh-keygen -l names the key.
fp() {
	ssh-keygen -lf "$1" | awk '{ t = $NF; gsub(/[()]/, "", t); print t " " $2 }'
}
# comment KEYFILE.pub
comment() {
	awk '{ print $3 }' "$1"
}
WRONG_FP=$(fp "$WRONG_KEY.pub")
USER_FP=$(fp "$USER_KEY.pub")
U=$SSHD_USER

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

# config NAME [LINES...]: a client config with no IdentityFile.
config() {
	local f=$T/$1.cfg
	shift
	sshd_client_config "$f" none "$KNOWN_HOSTS" "$@"
}

# both NAME CFG EXPECT_RC: mrsh and ssh on 127.0.1.1 with CFG, same exit.
both() {
	local name=$1 cfg=$2 want=$3
	capture "$T" "$MRSH" -F "$cfg" -w 127.0.1.1 'echo logged-in'
	MRC=$RC
	cp "$T/err" "$T/merr"
	cp "$T/out" "$T/mout"
	capture "$T" ssh -F "$cfg" 127.0.1.1 'echo logged-in'
	is "$MRC/$RC" "$want/$want" "$name: mrsh and ssh both exit $want"
	if [ "$want" = 0 ]; then
		is "$(cat "$T/mout")" "127.0.1.1: logged-in" "$name: mrsh ran the command"
	fi
}

# A key the server refuses: named with its type and fingerprint.
config noid
capture "$T" "$MRSH" -F "$T/noid.cfg" -i "$WRONG_KEY" -w '127.0.1.[1-3]' true
is "$RC" 255 "wrong key file: exit 255"
for h in 1 2 3; do
	hasline "mrsh: 127.0.1.$h: SETUP: permission denied (publickey) as $U: tried key file $WRONG_KEY $WRONG_FP; all refused" \
		"$T/err" "wrong key file: 127.0.1.$h names the user, the file, its type and fingerprint"
done

# -v: the methods the server accepts, and each refusal as it happens.
capture "$T" "$MRSH" -v -F "$T/noid.cfg" -i "$WRONG_KEY" -w 127.0.1.1 true
hasline "mrsh: 127.0.1.1: the server accepts publickey for $U" "$T/err" \
	"-v: the server's accepted methods"
hasline "mrsh: 127.0.1.1: key file $WRONG_KEY $WRONG_FP refused" "$T/err" \
	"-v: the refused key as it is refused"

# The same without -v does not say the methods line.
capture "$T" "$MRSH" -F "$T/noid.cfg" -i "$WRONG_KEY" -w 127.0.1.1 true
is "$(grep -c 'the server accepts' "$T/err")" 0 "without -v: no methods line"

if ! command -v ssh-agent >/dev/null 2>&1 || ! command -v ssh-add >/dev/null 2>&1; then
	skip_n 15 "ssh-agent / ssh-add not installed"
	done_testing
	exit 0
fi
eval "$(ssh-agent -s -a "$T/agent.sock")" >/dev/null
at_exit "kill ${SSH_AGENT_PID:-0}"

# An agent key the server refuses: type, fingerprint and comment.
ssh-add "$WRONG_KEY" >/dev/null 2>&1
config agent "IdentitiesOnly no"
capture "$T" "$MRSH" -F "$T/agent.cfg" -w 127.0.1.1 true
is "$RC" 255 "wrong agent key: exit 255"
hasline "mrsh: 127.0.1.1: SETUP: permission denied (publickey) as $U: tried agent key $WRONG_FP ($(comment "$WRONG_KEY.pub")); all refused" \
	"$T/err" "wrong agent key: named with its type, fingerprint and comment"
ssh-add -D >/dev/null 2>&1

# IdentityFile x.pub, the private key only in the agent: the agent key.
ssh-keygen -y -f "$USER_KEY" >"$T/only.pub"
chmod 600 "$T/only.pub"
ssh-add "$USER_KEY" >/dev/null 2>&1
config pub "IdentityFile $T/only.pub"
both "IdentityFile x.pub, key in the agent, IdentitiesOnly yes" "$T/pub.cfg" 0

# ... and not in the agent: refused, saying why.
ssh-add -D >/dev/null 2>&1
both "IdentityFile x.pub, key not in the agent" "$T/pub.cfg" 255
hasline "mrsh: key $T/only.pub: the private key is not there and no agent holds it" \
	"$T/merr" "IdentityFile x.pub, key not in the agent: says why"

# IdentitiesOnly yes: an agent key that is no identity file is not offered.
ssh-add "$USER_KEY" >/dev/null 2>&1
ssh-add "$WRONG_KEY" >/dev/null 2>&1
config only "IdentityFile $WRONG_KEY"
both "IdentitiesOnly yes: the agent's other key is not offered" "$T/only.cfg" 255
hasline "mrsh: 127.0.1.1: SETUP: permission denied (publickey) as $U: tried agent key $WRONG_FP ($(comment "$WRONG_KEY.pub")); all refused" \
	"$T/merr" "IdentitiesOnly yes: only the identity file's key, through the agent, once"

# IdentitiesOnly no: the agent's other key gets in.
config notonly "IdentityFile $WRONG_KEY" "IdentitiesOnly no"
both "IdentitiesOnly no: every agent key is offered" "$T/notonly.cfg" 0

ssh-add -D >/dev/null 2>&1

# A hung agent for 127.0.1.1 only; the other hosts use their key file.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
"$PY" "$top_srcdir/tests/helpers/fake-agent.py" hung "$T/hung.sock" &
at_exit "kill $!"
wait_for 30 "[ -S '$T/hung.sock' ]" || bail_out "the fake agent did not start"
sshd_client_config "$T/base.cfg" "$USER_KEY" "$KNOWN_HOSTS" "IdentityAgent none"
{ printf 'Host 127.0.1.1\n\tIdentityAgent %s\n' "$T/hung.sock"; cat "$T/base.cfg"; } >"$T/hung.cfg"
timeout 100 "$MRSH" -F "$T/hung.cfg" -w '127.0.1.[1-3]' 'echo fine' </dev/null \
	>"$T/out" 2>"$T/err" &
pid=$!
wait_for 60 "[ \"\$(grep -c ': fine$' '$T/out')\" -ge 2 ]"
ok $? "hung agent: the other hosts answered while one waits for the agent"
kill -0 "$pid" 2>/dev/null
ok $? "hung agent: ...and the run was still waiting for the agent"
wait "$pid"
is "$?" 255 "hung agent: the host that waited fails (exit 255), no hang"
hasline "mrsh: 127.0.1.1: SETUP: ssh-agent $T/hung.sock did not answer within 5 s" \
	"$T/err" "hung agent: the error names the agent and the timeout"
is "$(sort "$T/out")" "$(printf '127.0.1.2: fine\n127.0.1.3: fine')" \
	"hung agent: exactly the other hosts ran the command"

# A slow agent (each answer held 1 s): its hosts log in, later.
ssh-add "$USER_KEY" >/dev/null 2>&1
"$PY" "$top_srcdir/tests/helpers/fake-agent.py" slow "$T/slow.sock" "$SSH_AUTH_SOCK" 1 &
at_exit "kill $!"
wait_for 30 "[ -S '$T/slow.sock' ]" || bail_out "the fake agent did not start"
config slowagent "IdentityAgent $T/slow.sock" "IdentitiesOnly no"
capture "$T" "$MRSH" -F "$T/slowagent.cfg" -w '127.0.1.[1-3]' 'echo via-slow-agent'
is "$RC/$(grep -c ': via-slow-agent$' "$T/out")" "0/3" "slow agent: every host logged in through it"

ssh-add -D >/dev/null 2>&1
done_testing
