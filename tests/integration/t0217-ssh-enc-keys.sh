#!/bin/bash
# t0217: an encrypted key is decrypted once per run (issue 10), not once
# per host: against a real sshd with 20 loopback hosts, encrypted ed25519,
# ECDSA and RSA keys (bcrypt KDF, ssh-keygen's default cipher aes256-ctr,
# and chacha20-poly1305, which libssh2 cannot decrypt), the passphrase
# typed once on a terminal; -vv traces the decryption, and the trace must
# appear exactly once while every host runs the command.
# A wrong passphrase is refused once, clearly, and nothing runs; a key mrsh
# does not decrypt (PEM format) is left to libssh2, and -v says so.
. "$top_srcdir/tests/integration/lib.sh"
set -u

SSHD_RSA=1 start_sshd_test 20
unset SSH_AUTH_SOCK SSH_AGENT_PID
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
PASS=$USER_KEY_PASSPHRASE
HOSTS='127.0.1.[1-20]'

# BatchMode no: a passphrase may be asked (the helper's default forbids it).
sshd_client_config "$T/noid.cfg" none "$KNOWN_HOSTS" "BatchMode no"

# Extra encrypted keys, authorized: ECDSA (-a 4 rounds: the trace says so),
# ed25519 with chacha20-poly1305, RSA, and for the fallback an ECDSA key in
# PEM format.
ssh-keygen -q -t ecdsa -N "$PASS" -a 4 -C t0217-ecdsa -f "$T/id_ecdsa_enc" </dev/null >/dev/null 2>&1 ||
	bail_out "ssh-keygen ecdsa"
ssh-keygen -q -t ed25519 -N "$PASS" -Z chacha20-poly1305@openssh.com -C t0217-chacha \
	-f "$T/id_chacha_enc" </dev/null >/dev/null 2>&1 || bail_out "ssh-keygen chacha"
ssh-keygen -q -t ecdsa -m PEM -N "$PASS" -C t0217-pem -f "$T/id_pem_enc" </dev/null >/dev/null 2>&1 ||
	bail_out "ssh-keygen pem"
ssh-keygen -q -t rsa -b 2048 -N "$PASS" -C t0217-rsa -f "$T/id_rsa_enc" </dev/null >/dev/null 2>&1 ||
	bail_out "ssh-keygen rsa"
cat "$T/id_ecdsa_enc.pub" "$T/id_chacha_enc.pub" "$T/id_pem_enc.pub" "$T/id_rsa_enc.pub" >>"$SSHD_DIR/authorized_keys"

# run KEY ANSWER [MRSH ARGS...]: mrsh -vv -i KEY on the 20 hosts, the
# passphrase typed on a pty; stdout in $T/out, stderr in $T/err, prompts
# answered in $T/n, exit status in RC.
run() {
	local key=$1 answer=$2
	shift 2
	capture "$T" "$PY" "$top_srcdir/tests/helpers/pty-answer.py" \
		--prompt 'Enter passphrase for key' --answer "$answer" --timeout 120 \
		--stdout "$T/out" --transcript "$T/tty" --count "$T/n" -- \
		bash -c 'exec "$@" 2>"'"$T/err"'"' sh \
		"$MRSH" -F "$T/noid.cfg" -i "$key" -w "$HOSTS" "$@" 'echo enc-ok'
}

# ntrace KEY ROUNDS [CIPHER]: how many times -vv said KEY was decrypted.
ntrace() {
	grep -c "IdentityFile $1: decrypted once (bcrypt, $2 rounds, ${3:-aes256-ctr})" "$T/err"
}

check_ok() {
	local what=$1 key=$2 rounds=$3 cipher=${4:-aes256-ctr}
	is "$RC" 0 "$what: exit 0"
	is "$(grep -c ': enc-ok$' "$T/out")" 20 "$what: all 20 hosts ran the command"
	is "$(cat "$T/n")" 1 "$what: the passphrase was asked once"
	is "$(ntrace "$key" "$rounds" "$cipher")" 1 "$what: decrypted once for 20 hosts (-vv trace)"
	[ "$RC" = 0 ] || sed 's/^/#   /' "$T/err" | grep -v 'debug\|->' | head -10
}

run "$USER_KEY_ENC" "$PASS" -vv
check_ok "encrypted ed25519" "$USER_KEY_ENC" 16

run "$T/id_ecdsa_enc" "$PASS" -vv
check_ok "encrypted ECDSA" "$T/id_ecdsa_enc" 4

# chacha20-poly1305 (ssh-keygen -Z): libssh2 cannot decrypt it, mrsh can.
run "$T/id_chacha_enc" "$PASS" -vv
check_ok "ed25519, chacha20-poly1305" "$T/id_chacha_enc" 16 chacha20-poly1305@openssh.com

# RSA: decrypted once by mrsh, then read by libssh2 without a passphrase;
# only libssh2 >= 1.11 signs with rsa-sha2 (what the binary runs with).
run "$T/id_rsa_enc" "$PASS" -vv
if [ -z "$(mrsh_libssh2 running)" ]; then
	skip_n 4 "mrsh -V names no libssh2 version"
elif libssh2_at_least 1.11; then
	check_ok "encrypted RSA" "$T/id_rsa_enc" 16
else
	is "$RC" 255 "encrypted RSA, libssh2 1.10: exit 255 (ssh-rsa refused)"
	like "$(cat "$T/err")" 'only key tried is RSA' "encrypted RSA: the RSA limit is named"
	is "$(cat "$T/n")" 1 "encrypted RSA: the passphrase was asked once"
	is "$(ntrace "$T/id_rsa_enc" 16)" 1 "encrypted RSA: decrypted once"
fi

# A wrong passphrase: said once, the key is skipped, nothing runs.
run "$USER_KEY_ENC" not-the-passphrase
is "$RC" 255 "wrong passphrase: exit 255"
is "$(cat "$T/out")" "" "wrong passphrase: nothing ran"
is "$(grep -c "key $USER_KEY_ENC: wrong passphrase" "$T/err")" 1 \
	"wrong passphrase: said once"
is "$(grep -c '^mrsh: 127\.0\.1\.[0-9]*: .*no usable key' "$T/err")" 20 \
	"wrong passphrase: every host says it had no usable key"

# A key mrsh does not decrypt (PEM format): left to libssh2, which
# decrypts it for every host (slower, still right), and -v says so.
run "$T/id_pem_enc" "$PASS" -v
is "$RC/$(grep -c ': enc-ok$' "$T/out")" 0/20 "PEM key: libssh2 decrypts it, all 20 hosts ran"
is "$(cat "$T/n")" 1 "PEM key: the passphrase was asked once"
is "$(grep -c "key $T/id_pem_enc: not in OpenSSH format: libssh2 decrypts it for every host" "$T/err")" 1 \
	"PEM key: -v says it is left to libssh2"

done_testing
