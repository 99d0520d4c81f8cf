#!/bin/bash
# t0218: authentication when the agent or the key files are not what they
# should be, each case run with the real ssh on the same config too.
# - An agent that is not there (a stale SSH_AUTH_SOCK, a path longer than
#   a unix socket's), refuses the key list, closes, or answers nonsense
#   (fake-agent.py failure/close/garbage) is done without, as ssh does: the
#   key files log in, -v says why, and with no key file the failure line
#   names the agent's error. An answer in pieces is read whole.
# - A key the agent will not sign with (refused, malformed signature) is
#   skipped as ssh skips it; the failure line says it was not signed. An
#   agent that never signs fails the host after its timeout.
# - Agent keys and certificates of a type PubkeyAcceptedAlgorithms leaves
#   out are not offered; with nothing left the line says so.
# - RSA keys in the agent and as PEM files: rsa-sha2 with libssh2 >= 1.11,
#   the named limit with 1.10; "PubkeyAcceptedAlgorithms ssh-rsa" alone
#   fails as with ssh (SHA-1, which the server refuses).
# - Certificates next to a PEM key or an encrypted key that BatchMode does
#   not unlock: not offered, saying why.
# - IdentityFile that is a directory or too big for a key, one whose
#   private half is missing (.pub only), an encrypted key with no terminal;
#   "IdentityFile none" uses no key file (it used ~/.ssh's id_* before).
# - A server offering only password (or publickey and password) and no key
#   to offer: the line says --askpass would be needed.
. "$top_srcdir/tests/integration/lib.sh"
set -u

T=$(make_tmpdir)
need_cmd ssh ssh-keygen ssh-agent ssh-add setsid
# A user CA for the certificate cases; 127.0.1.2 also takes passwords,
# 127.0.1.3 only passwords.
ssh-keygen -q -t ed25519 -N '' -C ca -f "$T/ca" </dev/null ||
	bail_out "ssh-keygen failed"
cat >"$T/match.conf" <<'EOF'
Match LocalAddress 127.0.1.2
	PasswordAuthentication yes
	AuthenticationMethods publickey password
Match LocalAddress 127.0.1.3
	PasswordAuthentication yes
	AuthenticationMethods password
EOF
SSHD_RSA=1 SSHD_EXTRA_CONFIG="TrustedUserCAKeys $T/ca.pub
Include $T/match.conf" start_sshd 3
[ -x "$MRSH" ] || bail_out "no mrsh binary at $MRSH"
unset SSH_AUTH_SOCK SSH_AGENT_PID
U=$SSHD_USER
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

fp() {
	ssh-keygen -lf "$1" | awk '{ t = $NF; gsub(/[()]/, "", t); print t " " $2 }'
}

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

# config NAME KEY [LINES...]: a client config (KEY "none": no IdentityFile).
config() {
	local f=$T/$1.cfg key=$2
	shift 2
	sshd_client_config "$f" "$key" "$KNOWN_HOSTS" "$@"
}

# both NAME CFG WANT [HOST]: mrsh and ssh with CFG, the same exit WANT;
# mrsh's stderr in $T/merr, ssh's in $T/serr.
both() {
	local name=$1 cfg=$2 want=$3 host=${4:-127.0.1.1}
	capture "$T" "$MRSH" -v -F "$cfg" -w "$host" 'echo logged-in'
	MRC=$RC
	cp "$T/err" "$T/merr"
	cp "$T/out" "$T/mout"
	capture "$T" ssh -F "$cfg" "$host" 'echo logged-in'
	cp "$T/err" "$T/serr"
	is "$MRC/$RC" "$want/$want" "$name: mrsh and ssh both exit $want"
	if [ "$want" = 0 ]; then
		is "$(cat "$T/mout")" "$host: logged-in" "$name: mrsh ran the command"
	fi
}

# fake_agent MODE SOCK [ARGS...]: tests/helpers/fake-agent.py, waited for.
fake_agent() {
	local mode=$1 sock=$2
	shift 2
	"$PY" "$top_srcdir/tests/helpers/fake-agent.py" "$mode" "$sock" "$@" &
	at_exit "kill $!"
	wait_for 30 "[ -S '$sock' ]" || bail_out "fake-agent.py $mode did not start"
}

eval "$(ssh-agent -s -a "$T/agent.sock")" >/dev/null
at_exit "kill ${SSH_AGENT_PID:-0}"
AGENT=$T/agent.sock
unset SSH_AUTH_SOCK
ssh-add() { SSH_AUTH_SOCK=$AGENT command ssh-add "$@" >/dev/null 2>&1; }
USER_FP=$(fp "$USER_KEY.pub")
USER_COMMENT=$(awk '{ print $3 }' "$USER_KEY.pub")

# ---- agents that are not there ---------------------------------------------
config key "$USER_KEY"
config nokey none "IdentitiesOnly no"
LONG=$T/$(printf 'a%.0s' $(seq 120))
for sock in /nonexistent "$LONG"; do
	case $sock in
	/nonexistent) what="stale SSH_AUTH_SOCK"; why="No such file or directory" ;;
	*) what="SSH_AUTH_SOCK longer than sun_path"; why="path too long" ;;
	esac
	export SSH_AUTH_SOCK=$sock
	both "$what, a key file" "$T/key.cfg" 0
	hasline "mrsh: 127.0.1.1: ssh-agent $sock: $why" "$T/merr" \
		"$what: -v says why the agent is not used"
	both "$what, no key file" "$T/nokey.cfg" 255
	hasline "mrsh: 127.0.1.1: SETUP: permission denied (publickey) as $U: no key to offer (ssh-agent $sock: $why, no identity file found)" \
		"$T/merr" "$what, no key file: the line names the agent's error"
	unset SSH_AUTH_SOCK
done

# ---- agents that answer wrong ----------------------------------------------
ssh-add "$USER_KEY"
fake_agent failure "$T/failure.sock"
fake_agent close "$T/close.sock"
for mode in failure close; do
	config "$mode-key" "$USER_KEY" "IdentityAgent $T/$mode.sock"
	config "$mode-nokey" none "IdentityAgent $T/$mode.sock" "IdentitiesOnly no"
done
both "agent answering FAILURE to the key list, a key file" "$T/failure-key.cfg" 0
hasline "mrsh: 127.0.1.1: ssh-agent $T/failure.sock refused the key list" \
	"$T/merr" "agent answering FAILURE: -v says so"
both "agent answering FAILURE, no key file" "$T/failure-nokey.cfg" 255
hasline "mrsh: 127.0.1.1: SETUP: permission denied (publickey) as $U: no key to offer (ssh-agent $T/failure.sock refused the key list, no identity file found)" \
	"$T/merr" "agent answering FAILURE, no key file: the line says so"
both "agent closing without an answer, a key file" "$T/close-key.cfg" 0
hasline "mrsh: 127.0.1.1: ssh-agent $T/close.sock closed the connection" \
	"$T/merr" "agent closing: -v says so"
both "agent closing, no key file" "$T/close-nokey.cfg" 255
hasline "mrsh: 127.0.1.1: SETUP: permission denied (publickey) as $U: no key to offer (ssh-agent $T/close.sock closed the connection, no identity file found)" \
	"$T/merr" "agent closing, no key file: the line says so"

for kind in type count string zero huge short; do
	fake_agent garbage "$T/g-$kind.sock" "$kind"
	config "g-$kind" "$USER_KEY" "IdentityAgent $T/g-$kind.sock"
	both "agent answering garbage ($kind), a key file" "$T/g-$kind.cfg" 0
	why="sent a malformed answer"
	[ "$kind" = short ] && why="closed the connection"
	hasline "mrsh: 127.0.1.1: ssh-agent $T/g-$kind.sock $why" "$T/merr" \
		"agent answering garbage ($kind): -v says $why"
done

# A key list with a malformed key in it: that key is skipped (as ssh's
# key_from_blob refuses it), the agent's good key logs in.
fake_agent badblob "$T/badblob.sock" "$AGENT"
config badblob none "IdentityAgent $T/badblob.sock" "IdentitiesOnly no"
both "agent listing a malformed key first" "$T/badblob.cfg" 0
hasline "mrsh: 127.0.1.1: skipping a key whose public key blob is malformed" \
	"$T/merr" "agent listing a malformed key: -v says it is skipped"

# An answer in three pieces is one answer.
fake_agent split "$T/split.sock" "$AGENT"
config split none "IdentityAgent $T/split.sock" "IdentitiesOnly no"
both "agent answering in pieces" "$T/split.cfg" 0

# ---- an agent that will not sign ------------------------------------------
fake_agent signfail "$T/signfail.sock" "$AGENT"
fake_agent badsig "$T/badsig.sock" "$AGENT"
config signfail "$USER_KEY" "IdentityAgent $T/signfail.sock"
both "agent refusing to sign" "$T/signfail.cfg" 255
like "$(cat "$T/serr")" 'signing failed for ED25519 .* agent refused operation' \
	"agent refusing to sign: ssh skips the key too"
hasline "mrsh: 127.0.1.1: SETUP: permission denied (publickey) as $U: tried agent key $USER_FP ($USER_COMMENT) (not signed: ssh-agent $T/signfail.sock refused the signature); all refused" \
	"$T/merr" "agent refusing to sign: the line says the key was not signed, and why"
config badsig none "IdentityAgent $T/badsig.sock" "IdentitiesOnly no"
both "agent sending a malformed signature" "$T/badsig.cfg" 255
hasline "mrsh: 127.0.1.1: SETUP: permission denied (publickey) as $U: tried agent key $USER_FP ($USER_COMMENT) (not signed: ssh-agent $T/badsig.sock sent a malformed signature); all refused" \
	"$T/merr" "malformed signature: the line says so"

fake_agent sigcut "$T/sigcut.sock" "$AGENT"
config sigcut none "IdentityAgent $T/sigcut.sock" "IdentitiesOnly no"
both "agent answer to a sign request cut short" "$T/sigcut.cfg" 255
hasline "mrsh: 127.0.1.1: SETUP: permission denied (publickey) as $U: tried agent key $USER_FP ($USER_COMMENT) (not signed: ssh-agent $T/sigcut.sock sent a malformed answer); all refused" \
	"$T/merr" "sign answer cut short: the line says so"

# An agent that lists its keys but never signs: the host fails after the
# agent's timeout (half of ConnectTimeout 4), saying so.
fake_agent signhang "$T/signhang.sock" "$AGENT"
config signhang none "IdentityAgent $T/signhang.sock" "IdentitiesOnly no" \
	"ConnectTimeout 4"
capture "$T" "$MRSH" -F "$T/signhang.cfg" -w 127.0.1.1 true
is "$RC" 255 "agent never signing: exit 255, no hang"
hasline "mrsh: 127.0.1.1: SETUP: ssh-agent $T/signhang.sock did not answer within 2 s" \
	"$T/err" "agent never signing: the line names the agent and the timeout"

# ---- PubkeyAcceptedAlgorithms and agent keys --------------------------------
ssh-keygen -q -t ecdsa -b 256 -N '' -C ec-agent -f "$T/ec" </dev/null
cat "$T/ec.pub" >>"$SSHD_DIR/authorized_keys"
ssh-add -D
ssh-add "$T/ec"
config ecagent none "IdentityAgent $AGENT" "IdentitiesOnly no" \
	"PubkeyAcceptedAlgorithms ssh-ed25519"
both "agent ECDSA key, PubkeyAcceptedAlgorithms ssh-ed25519" "$T/ecagent.cfg" 255
hasline "mrsh: 127.0.1.1: SETUP: permission denied (publickey) as $U: no key to offer (1 left out by PubkeyAcceptedAlgorithms)" \
	"$T/merr" "agent key left out by PubkeyAcceptedAlgorithms: the line says so"
config ecagent2 none "IdentityAgent $AGENT" "IdentitiesOnly no" \
	"PubkeyAcceptedAlgorithms ssh-ed25519,ecdsa-sha2-nistp256"
both "agent ECDSA key, PubkeyAcceptedAlgorithms with its type" "$T/ecagent2.cfg" 0

# ---- RSA ----------------------------------------------------------------
RUNNING=$(mrsh_libssh2 running)
ssh-add -D
ssh-add "$USER_KEY_RSA"
RSA_FP=$(fp "$USER_KEY_RSA.pub")
cp "$USER_KEY_RSA" "$T/id_pem"
cp "$USER_KEY_RSA.pub" "$T/id_pem.pub"
ssh-keygen -q -p -m PEM -N '' -P '' -f "$T/id_pem" >/dev/null </dev/null
config rsaagent none "IdentityAgent $AGENT" "IdentitiesOnly no"
config rsapem "$T/id_pem" "IdentityAgent none"
config rsaonly "$T/id_pem" "IdentityAgent $AGENT" \
	"PubkeyAcceptedAlgorithms ssh-rsa"
grep -q 'BEGIN RSA PRIVATE KEY' "$T/id_pem"
ok $? "RSA: the PEM copy of the key is in PEM format"
if [ -z "$RUNNING" ]; then
	skip_n 6 "mrsh -V names no libssh2 version"
elif libssh2_at_least 1.11; then
	both "RSA key in the agent (rsa-sha2)" "$T/rsaagent.cfg" 0
	both "RSA key as a PEM file (rsa-sha2)" "$T/rsapem.cfg" 0
	both "PubkeyAcceptedAlgorithms ssh-rsa only" "$T/rsaonly.cfg" 255
	hasline "mrsh: 127.0.1.1: SETUP: permission denied (publickey) as $U: tried agent key $RSA_FP (mrsh-test-rsa); all refused" \
		"$T/merr" "ssh-rsa only: refused as with ssh (SHA-1), not signed with rsa-sha2"
else
	capture "$T" "$MRSH" -F "$T/rsaagent.cfg" -w 127.0.1.1 true
	is "$RC" 255 "RSA key in the agent, libssh2 $RUNNING: exit 255"
	hasline "mrsh: 127.0.1.1: SETUP: permission denied (publickey) as $U: tried agent key $RSA_FP (mrsh-test-rsa); the only key tried is RSA and libssh2 1.10 cannot do rsa-sha2-256/512 (OpenSSH >= 8.8 refuses ssh-rsa): use an ed25519 key, or build mrsh with libssh2 >= 1.11 (contrib/build-libssh2.sh)" \
		"$T/err" "RSA key in the agent, libssh2 $RUNNING: the limit is named"
	capture "$T" "$MRSH" -F "$T/rsapem.cfg" -w 127.0.1.1 true
	is "$RC" 255 "RSA key as a PEM file, libssh2 $RUNNING: exit 255"
	hasline "mrsh: 127.0.1.1: SETUP: permission denied (publickey) as $U: tried key file $T/id_pem $RSA_FP; the only key tried is RSA and libssh2 1.10 cannot do rsa-sha2-256/512 (OpenSSH >= 8.8 refuses ssh-rsa): use an ed25519 key, or build mrsh with libssh2 >= 1.11 (contrib/build-libssh2.sh)" \
		"$T/err" "RSA key as a PEM file, libssh2 $RUNNING: the limit is named"
	both "PubkeyAcceptedAlgorithms ssh-rsa only" "$T/rsaonly.cfg" 255
	pass "ssh-rsa only: (libssh2 1.10 signs with ssh-rsa anyway)"
fi
ssh-add -D

# ---- certificates -------------------------------------------------------
# An ECDSA certificate (the type every libssh2 can send) for a PEM ECDSA
# key, for an encrypted key that BatchMode does not unlock, and for an
# OpenSSH-format key with PubkeyAcceptedAlgorithms leaving certificates out.
mkcert() {	# mkcert NAME FORMAT-ARGS...: $T/NAME, $T/NAME-cert.pub
	local name=$1
	shift
	ssh-keygen -q -t ecdsa -b 256 -C "$name" -f "$T/$name" "$@" </dev/null &&
	ssh-keygen -q -s "$T/ca" -I "$name" -n "$U" "$T/$name.pub" </dev/null
}
mkcert ecpem -N '' -m PEM || bail_out "ssh-keygen could not make a certificate"
mkcert ecenc -N secret-phrase || bail_out "ssh-keygen could not make a certificate"
mkcert ecplain -N '' || bail_out "ssh-keygen could not make a certificate"
config certpem "$T/ecpem" "IdentityAgent none"
capture "$T" "$MRSH" -F "$T/certpem.cfg" -w 127.0.1.1 true
is "$RC" 255 "certificate with a PEM key: exit 255 (the certificate is not offered)"
hasline "mrsh: certificate $T/ecpem-cert.pub: mrsh can send a certificate only with an ed25519 or ECDSA key in OpenSSH format, and $T/ecpem is not one: not offered" \
	"$T/err" "certificate with a PEM key: says why"
config certenc "$T/ecenc" "IdentityAgent none"
capture "$T" "$MRSH" -F "$T/certenc.cfg" -w 127.0.1.1 true
is "$RC" 255 "certificate with an encrypted key, BatchMode: exit 255"
hasline "mrsh: certificate $T/ecenc-cert.pub: its key $T/ecenc is encrypted and BatchMode asks no passphrase: not offered" \
	"$T/err" "certificate with an encrypted key, BatchMode: says why"
config certok "$T/ecplain" "IdentityAgent none"
both "ECDSA certificate" "$T/certok.cfg" 0
config certout "$T/ecplain" "IdentityAgent none" \
	"PubkeyAcceptedAlgorithms ecdsa-sha2-nistp256"
both "ECDSA certificate, PubkeyAcceptedAlgorithms without certificates" \
	"$T/certout.cfg" 255
hasline "mrsh: 127.0.1.1: SETUP: permission denied (publickey) as $U: tried key file $T/ecplain $(fp "$T/ecplain.pub"); all refused" \
	"$T/merr" "certificate type left out: only the plain key is offered"

# ---- key files that are not keys ----------------------------------------
mkdir "$T/keydir"
head -c 70000 /dev/zero | tr '\0' 'A' >"$T/big.key"
chmod 600 "$T/big.key"
for f in keydir big.key; do
	case $f in
	keydir) why="Is a directory" ;;
	*) why="larger than 64 KiB, not a key" ;;
	esac
	config "bad-$f" "$T/$f" "IdentityFile $USER_KEY" "IdentityAgent none"
	both "IdentityFile $f, then a good key" "$T/bad-$f.cfg" 0
	hasline "mrsh: identity file $T/$f: $why" "$T/merr" \
		"IdentityFile $f: one line saying why it is no key"
done

# x.pub without x: a key for the agent only.
cp "$USER_KEY.pub" "$T/pubonly.pub"
config pubonly "$T/pubonly" "IdentityAgent $AGENT"
ssh-add "$USER_KEY"
both "IdentityFile x with only x.pub, the key in the agent" "$T/pubonly.cfg" 0
ssh-add -D
capture "$T" "$MRSH" -F "$T/pubonly.cfg" -w '127.0.1.[1-2]' true
is "$RC" 255 "x.pub only, key not in the agent: exit 255"
is "$(grep -c "^mrsh: key $T/pubonly: the private key is not there and no agent holds it$" "$T/err")" 1 \
	"x.pub only, key not in the agent: said once for two hosts"
hasline "mrsh: 127.0.1.2: SETUP: permission denied (publickey,password) as $U: no usable key (1 could not be read, decrypted or found in the agent) (password authentication needs --askpass)" \
	"$T/err" "x.pub only: the host's line counts the key it could not use"

# An encrypted key and no terminal to ask on (BatchMode no, no askpass).
config enc "$USER_KEY_ENC" "IdentityAgent none" "BatchMode no"
capture "$T" env -u DISPLAY -u SSH_ASKPASS setsid -w "$MRSH" -F "$T/enc.cfg" \
	-w 127.0.1.1 true
is "$RC" 255 "encrypted key, no terminal: exit 255"
hasline "mrsh: key $USER_KEY_ENC is encrypted and there is no terminal to ask for its passphrase: skipped" \
	"$T/err" "encrypted key, no terminal: says why it is skipped"
capture "$T" env -u DISPLAY -u SSH_ASKPASS setsid -w ssh -F "$T/enc.cfg" 127.0.1.1 true
is "$RC" 255 "encrypted key, no terminal: ssh exits 255 too"

# -i naming a missing file: as ssh, a warning, and the next key logs in.
config missing "$USER_KEY" "IdentityAgent none"
capture "$T" ssh -F "$T/missing.cfg" -i "$T/nonexistent" 127.0.1.1 'echo logged-in'
is "$RC/$(cat "$T/out")" "0/logged-in" "-i naming a missing file: ssh logs in with the next key"
capture "$T" "$MRSH" -v -F "$T/missing.cfg" -i "$T/nonexistent" -w 127.0.1.1 'echo logged-in'
is "$RC/$(cat "$T/out")" "0/127.0.1.1: logged-in" "-i naming a missing file: mrsh too"
hasline "mrsh: Warning: Identity file $T/nonexistent not accessible: No such file or directory." \
	"$T/err" "-i naming a missing file: ssh's warning"
config missing2 "$T/nonexistent" "IdentityFile $USER_KEY" "IdentityAgent none"
both "IdentityFile naming a missing file, then a good key" "$T/missing2.cfg" 0
hasline "mrsh: identity file $T/nonexistent not found" "$T/merr" \
	"IdentityFile naming a missing file: -v says it was not found"

# IdentityFile none: no key files at all, not ~/.ssh's defaults.
mkdir -p "$T/home/.ssh"
cp "$USER_KEY" "$T/home/.ssh/id_ed25519"
cp "$USER_KEY.pub" "$T/home/.ssh/id_ed25519.pub"
config defaults none "IdentityAgent none"
config idnone none "IdentityAgent none" "IdentityFile none"
capture "$T" env HOME="$T/home" "$MRSH" -F "$T/defaults.cfg" -w 127.0.1.1 'echo logged-in'
is "$RC/$(cat "$T/out")" "0/127.0.1.1: logged-in" \
	"no IdentityFile: ssh's default ~/.ssh/id_ed25519 logs in"
capture "$T" env HOME="$T/home" "$MRSH" -F "$T/idnone.cfg" -w 127.0.1.1 'echo logged-in'
is "$RC" 255 "IdentityFile none: the default key files are not used"
hasline "mrsh: 127.0.1.1: SETUP: permission denied (publickey) as $U: no key to offer (no agent keys, no identity file found)" \
	"$T/err" "IdentityFile none: nothing to offer, said so"

# ---- servers that want a password ----------------------------------------
config pw none "IdentityAgent none"
both "server offering only password, no --askpass" "$T/pw.cfg" 255 127.0.1.3
hasline "mrsh: 127.0.1.3: SETUP: permission denied as $U: the server offers only password (password authentication needs --askpass)" \
	"$T/merr" "server offering only password: the line says --askpass is needed"
both "server offering publickey and password, no key" "$T/pw.cfg" 255 127.0.1.2
hasline "mrsh: 127.0.1.2: SETUP: permission denied (publickey,password) as $U: no key to offer (no agent keys, no identity file found); password authentication needs --askpass" \
	"$T/merr" "publickey and password, no key: the line says --askpass is needed"

done_testing
