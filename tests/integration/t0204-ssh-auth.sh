#!/bin/bash
# t0204: user authentication against a real sshd: a key file given with -i,
# keys held by ssh-agent, an encrypted key whose passphrase is asked once on
# the terminal for all hosts (and never without one), a wrong key refused
# with the methods named, and an RSA key with what libssh2 can do.
. "$top_srcdir/tests/integration/lib.sh"
set -u

SSHD_RSA=1 start_sshd_test 10
unset SSH_AUTH_SOCK SSH_AGENT_PID
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

# A client config with no IdentityFile: only -i and the agent offer keys.
# BatchMode no: the encrypted-key cases below need the passphrase prompt,
# which BatchMode yes (the helper's default) forbids, as in ssh.
sshd_client_config "$T/noid.cfg" none "$KNOWN_HOSTS" "BatchMode no"
sshd_client_config "$T/agent.cfg" none "$KNOWN_HOSTS" "IdentitiesOnly no"
M=("$MRSH" -F "$T/noid.cfg")

# -i KEY
capture "$T" "${M[@]}" -i "$USER_KEY" -w '127.0.1.[1-5]' 'echo key-ok'
is "$RC" 0 "-i with the authorized key: exit 0"
is "$(grep -c ': key-ok$' "$T/out")" 5 "all 5 hosts ran the command"

# no key at all
capture "$T" "${M[@]}" -w '127.0.1.1' true
is "$RC" 255 "no key to offer: exit 255"
like "$(cat "$T/err")" '127\.0\.1\.1.*publickey' "the error names the host and the method"

# a key the server does not accept
capture "$T" "${M[@]}" -i "$WRONG_KEY" -w '127.0.1.[1-3]' 'echo should-not-run'
is "$RC" 255 "wrong key: exit 255"
like "$(cat "$T/err")" '127\.0\.1\.[1-3].*(denied|refused|failed).*publickey|publickey.*(denied|refused)' \
	"the error says authentication was refused and names the method (publickey)"
is "$(cat "$T/out")" "" "nothing ran"

# ssh-agent
if command -v ssh-agent >/dev/null 2>&1 && command -v ssh-add >/dev/null 2>&1; then
	eval "$(ssh-agent -s -a "$T/agent.sock")" >/dev/null
	at_exit "kill ${SSH_AGENT_PID:-0}"
	ssh-add "$USER_KEY" >/dev/null 2>&1
	capture "$T" "$MRSH" -F "$T/agent.cfg" -w '127.0.1.[1-5]' 'echo agent-ok'
	is "$RC" 0 "key in ssh-agent, no IdentityFile: exit 0"
	is "$(grep -c ': agent-ok$' "$T/out")" 5 "all 5 hosts ran the command"
	ssh-add -D >/dev/null 2>&1
	ssh-add "$WRONG_KEY" >/dev/null 2>&1
	capture "$T" "$MRSH" -F "$T/agent.cfg" -w '127.0.1.1' true
	is "$RC" 255 "agent with only a wrong key: exit 255"
	ssh-add -D >/dev/null 2>&1
	ssh-add "$USER_KEY" >/dev/null 2>&1
	capture "$T" "$MRSH" -F "$T/agent.cfg" -o IdentityAgent=none -w '127.0.1.1' true
	is "$RC" 255 "IdentityAgent=none: the agent is not used (exit 255)"
	kill "$SSH_AGENT_PID" 2>/dev/null
	unset SSH_AUTH_SOCK SSH_AGENT_PID
else
	for d in "agent: exit 0" "agent: all hosts" "agent: wrong key" "agent: IdentityAgent=none"; do
		skip "$d" "ssh-agent / ssh-add not installed"
	done
fi

# encrypted key: the passphrase is asked once on the terminal for 5 hosts
capture "$T" "$PY" "$top_srcdir/tests/helpers/pty-answer.py" \
	--prompt '[Pp]assphrase' --answer "$USER_KEY_PASSPHRASE" --timeout 60 \
	--stdout "$T/pty.out" --transcript "$T/pty.tty" --count "$T/pty.n" -- \
	"${M[@]}" -i "$USER_KEY_ENC" -w '127.0.1.[1-5]' 'echo enc-ok'
is "$RC" 0 "encrypted key, passphrase typed on the terminal: exit 0"
is "$(grep -c ': enc-ok$' "$T/pty.out")" 5 "all 5 hosts ran the command"
is "$(cat "$T/pty.n")" 1 "the passphrase was asked once, not once per host"
like "$(cat "$T/pty.tty")" "$(basename "$USER_KEY_ENC")" "the prompt names the key file"

# a wrong passphrase: refused, no hang
capture "$T" "$PY" "$top_srcdir/tests/helpers/pty-answer.py" \
	--prompt '[Pp]assphrase' --answer not-the-passphrase --timeout 60 \
	--stdout "$T/pty.out" --transcript "$T/pty.tty" --count "$T/pty.n" -- \
	"${M[@]}" -i "$USER_KEY_ENC" -w '127.0.1.[1-5]' 'echo enc-ok'
is "$RC" 255 "wrong passphrase: exit 255 (and no hang)"
is "$(grep -c 'enc-ok' "$T/pty.out")" 0 "nothing ran"

# no terminal at all: the key is skipped with a reason, no hang
capture "$T" setsid -w "${M[@]}" -i "$USER_KEY_ENC" -w '127.0.1.[1-2]' true
is "$RC" 255 "encrypted key and no terminal: exit 255"
like "$(cat "$T/err")" '(passphrase|encrypted).*(terminal|tty)|(terminal|tty).*(passphrase|encrypted)' \
	"the error says the key needs a passphrase and there is no terminal"

# RSA: libssh2 < 1.11 cannot sign with rsa-sha2-*, OpenSSH 9 refuses ssh-rsa
# (what the binary under test runs with decides; t0209 has the details)
ver=$(mrsh_libssh2 running)
capture "$T" "${M[@]}" -i "$USER_KEY_RSA" -w '127.0.1.1' 'echo rsa-ok'
if [ -z "$ver" ]; then
	skip "RSA key" "mrsh -V names no libssh2 version"
elif libssh2_at_least 1.11; then
	is "$RC/$(cat "$T/out")" "0/127.0.1.1: rsa-ok" "RSA key with libssh2 $ver works"
else
	is "$RC" 255 "RSA key with libssh2 $ver: exit 255"
	like "$(cat "$T/err")" 'RSA|rsa' "the error explains the RSA limitation"
	like "$(cat "$T/err")" 'ed25519|1\.11' "and what to do about it"
fi

done_testing
