#!/bin/bash
# t0216: user certificates against a real sshd that trusts a CA
# (TrustedUserCAKeys) and holds no authorized key for them, each case
# compared with the real ssh on the same config: KEY-cert.pub beside an
# identity file, CertificateFile, and certificates held in ssh-agent;
# valid, expired and wrong-principal certificates. ECDSA certificates work
# with libssh2 1.10; ed25519 ones need 1.11, and on 1.10 are refused with
# the reason instead of being sent and turned down.
. "$top_srcdir/tests/integration/lib.sh"
set -u

need_cmd ssh
need_cmd ssh-keygen
T=$(make_tmpdir)
ssh-keygen -q -t ed25519 -N '' -C mrsh-test-ca -f "$T/ca" || bail_out "ssh-keygen"
SSHD_EXTRA_CONFIG="TrustedUserCAKeys $T/ca.pub" start_sshd 2
[ -x "$MRSH" ] || bail_out "no mrsh binary at $MRSH"
unset SSH_AUTH_SOCK SSH_AGENT_PID
U=$SSHD_USER

# Does the libssh2 mrsh runs with sign for ed25519 certificates (>= 1.11)?
# From the binary (its -V), not from pkg-config.
RUNNING=$(mrsh_libssh2 running)
new=unknown
if [ -n "$RUNNING" ]; then
	if libssh2_at_least 1.11; then new=yes; else new=no; fi
fi

# fp FILE: "ECDSA-CERT SHA256:..." as ssh-keygen -l names it.
fp() {
	ssh-keygen -lf "$1" | awk '{ t = $NF; gsub(/[()]/, "", t); print t " " $2 }'
}
hasline() {
	if grep -Fqx -- "$1" "$2"; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "want the line: $1"
		sed 's/^/#   /' "$2" | head -20
	fi
}
# cert KEY NAME [ssh-keygen -s options]: sign KEY.pub into KEY-cert.pub.
cert() {
	local key=$1
	shift
	ssh-keygen -q -s "$T/ca" -I "$key" "$@" "$key.pub" || bail_out "ssh-keygen -s"
}
# both NAME CFG WANT: mrsh and ssh on 127.0.1.1 with CFG exit WANT.
both() {
	capture "$T" "$MRSH" -F "$2" -w 127.0.1.1 'echo logged-in'
	MRC=$RC
	cp "$T/err" "$T/merr"
	cp "$T/out" "$T/mout"
	capture "$T" ssh -F "$2" 127.0.1.1 'echo logged-in'
	is "$MRC/$RC" "$3/$3" "$1: mrsh and ssh both exit $3"
	if [ "$3" = 0 ]; then
		is "$(cat "$T/mout")" "127.0.1.1: logged-in" "$1: mrsh ran the command"
	fi
}

for k in ec ec_old ec_who ed rsa; do
	t=ecdsa
	[ $k = ed ] && t=ed25519
	[ $k = rsa ] && t=rsa
	ssh-keygen -q -t $t -N '' -C "mrsh-$k" -f "$T/$k" || bail_out "ssh-keygen"
done
cert "$T/ec" -n "$U" -V -5m:+1h
cert "$T/ec_old" -n "$U" -V 20200101:20200102
cert "$T/ec_who" -n "someone-else" -V -5m:+1h
cert "$T/ed" -n "$U" -V -5m:+1h
cert "$T/rsa" -n "$U" -V -5m:+1h

# KEY-cert.pub beside the identity file, as ssh loads it.
sshd_client_config "$T/ec.cfg" "$T/ec" "$KNOWN_HOSTS"
both "valid ECDSA certificate beside the key" "$T/ec.cfg" 0

sshd_client_config "$T/old.cfg" "$T/ec_old" "$KNOWN_HOSTS"
both "expired certificate" "$T/old.cfg" 255
hasline "mrsh: 127.0.1.1: SETUP: permission denied (publickey) as $U: tried key file $T/ec_old $(fp "$T/ec_old.pub"), certificate $T/ec_old-cert.pub $(fp "$T/ec_old-cert.pub"); all refused" \
	"$T/merr" "expired certificate: the key and the certificate named, both refused"

sshd_client_config "$T/who.cfg" "$T/ec_who" "$KNOWN_HOSTS"
both "certificate for another principal" "$T/who.cfg" 255
hasline "mrsh: 127.0.1.1: SETUP: permission denied (publickey) as $U: tried key file $T/ec_who $(fp "$T/ec_who.pub"), certificate $T/ec_who-cert.pub $(fp "$T/ec_who-cert.pub"); all refused" \
	"$T/merr" "certificate for another principal: named, refused"

# CertificateFile, elsewhere than beside the key.
mkdir "$T/certs"
mv "$T/ec-cert.pub" "$T/certs/mine.pub"
sshd_client_config "$T/cf.cfg" "$T/ec" "$KNOWN_HOSTS" "CertificateFile $T/certs/mine.pub"
both "CertificateFile" "$T/cf.cfg" 0
# ... and without it, the key alone is refused (the CA is what lets it in)
both "the same key without its certificate" "$T/ec.cfg" 255
mv "$T/certs/mine.pub" "$T/ec-cert.pub"

# ed25519: libssh2 1.10 labels the signature with the certificate's type.
sshd_client_config "$T/ed.cfg" "$T/ed" "$KNOWN_HOSTS"
case $new in
yes)
	both "ed25519 certificate (libssh2 >= 1.11)" "$T/ed.cfg" 0
	skip "ed25519 certificate: the refusal on libssh2 1.10" "libssh2 >= 1.11"
	;;
no)
	capture "$T" "$MRSH" -F "$T/ed.cfg" -w 127.0.1.1 true
	is "$RC" 255 "ed25519 certificate, libssh2 1.10: exit 255 (ssh logs in; mrsh cannot)"
	hasline "mrsh: certificate $T/ed-cert.pub ($(fp "$T/ed-cert.pub")): libssh2 $RUNNING cannot sign with this certificate type (1.11 can): not offered" \
		"$T/err" "ed25519 certificate, libssh2 1.10: refused, saying why"
	;;
*)
	skip_n 2 "cannot tell which libssh2 $MRSH runs with"
	;;
esac

# RSA certificates: no libssh2 up to 1.11.1 can send one that OpenSSH
# accepts (1.10 signs with SHA-1; 1.11.1 names the request without the
# certificate type). ssh logs in; mrsh says why it does not offer it, and
# the RSA key alone is then tried and refused.
sshd_client_config "$T/rsa.cfg" "$T/rsa" "$KNOWN_HOSTS"
capture "$T" ssh -F "$T/rsa.cfg" 127.0.1.1 'echo logged-in'
is "$RC" 0 "RSA certificate: ssh logs in with it"
capture "$T" "$MRSH" -F "$T/rsa.cfg" -w 127.0.1.1 'echo logged-in'
is "$RC" 255 "RSA certificate: mrsh cannot (exit 255)"
hasline "mrsh: certificate $T/rsa-cert.pub ($(fp "$T/rsa-cert.pub")): libssh2 $RUNNING cannot send RSA certificates (1.10 signs them with SHA-1, 1.11.1 under the plain key's type name): not offered" \
	"$T/err" "RSA certificate: not offered, saying why"

# Certificates held in ssh-agent (ssh-add loads KEY-cert.pub with KEY).
if command -v ssh-agent >/dev/null 2>&1 && command -v ssh-add >/dev/null 2>&1; then
	eval "$(ssh-agent -s -a "$T/agent.sock")" >/dev/null
	at_exit "kill ${SSH_AGENT_PID:-0}"
	sshd_client_config "$T/agent.cfg" none "$KNOWN_HOSTS" "IdentitiesOnly no"
	ssh-add "$T/ec" >/dev/null 2>&1
	both "ECDSA certificate in the agent" "$T/agent.cfg" 0
	ssh-add -D >/dev/null 2>&1
	ssh-add "$T/ec_old" >/dev/null 2>&1
	both "expired certificate in the agent" "$T/agent.cfg" 255
	ssh-add -D >/dev/null 2>&1
	ssh-add "$T/ed" >/dev/null 2>&1
	case $new in
	yes)
		both "ed25519 certificate in the agent (libssh2 >= 1.11)" "$T/agent.cfg" 0
		skip "ed25519 certificate in the agent: the refusal on 1.10" "libssh2 >= 1.11"
		;;
	no)
		capture "$T" "$MRSH" -F "$T/agent.cfg" -w 127.0.1.1 true
		is "$RC" 255 "ed25519 certificate in the agent, libssh2 1.10: exit 255"
		hasline "mrsh: 127.0.1.1: agent key $(fp "$T/ed-cert.pub") (mrsh-ed): libssh2 $RUNNING cannot sign with this key type (1.11 can): skipped" \
			"$T/err" "ed25519 certificate in the agent, libssh2 1.10: skipped, saying why"
		;;
	*)
		skip_n 2 "cannot tell which libssh2 $MRSH runs with"
		;;
	esac
	ssh-add -D >/dev/null 2>&1
	ssh-add "$T/rsa" >/dev/null 2>&1
	capture "$T" ssh -F "$T/agent.cfg" 127.0.1.1 'echo logged-in'
	is "$RC" 0 "RSA certificate in the agent: ssh logs in with it"
	capture "$T" "$MRSH" -F "$T/agent.cfg" -w 127.0.1.1 'echo logged-in'
	hasline "mrsh: 127.0.1.1: agent key $(fp "$T/rsa-cert.pub") (mrsh-rsa): libssh2 $RUNNING cannot send RSA certificates (1.10 signs them with SHA-1, 1.11.1 under the plain key's type name): skipped" \
		"$T/err" "RSA certificate in the agent: skipped, saying why"
	ssh-add -D >/dev/null 2>&1
else
	skip_n 7 "ssh-agent / ssh-add not installed"
fi

done_testing
