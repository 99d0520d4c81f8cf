#!/bin/bash
# t0271: what mrsh trusts, against a real sshd, each case compared with
# what ssh does in the same setup (mrsh must refuse wherever ssh refuses):
# known_hosts host patterns (wildcards, !negation), @revoked keys (also
# under accept-new: never appended), HostKeyAlias (the alias is looked up
# and written), an ECDSA-only known key (host key algorithms ordered for
# what known_hosts holds), @cert-authority (libssh2 cannot verify host
# certificates, so a host known only through a CA is refused, including
# where ssh accepts the certificate), algorithm lists that exclude what the
# server offers, RevokedHostKeys (a file of keys; a KRL is refused),
# PubkeyAcceptedAlgorithms (a key of a type it leaves out is not offered), and BatchMode with an encrypted key on a terminal.
. "$top_srcdir/tests/integration/lib.sh"
set -u

need_cmd ssh ssh-keygen
# The server has an ed25519 and an ECDSA host key.
T0=$(make_tmpdir)
ssh-keygen -q -t ecdsa -N '' -C host-ecdsa -f "$T0/host_ecdsa" </dev/null >/dev/null
SSHD_EXTRA_CONFIG="HostKey $T0/host_ecdsa" start_sshd_test 3
unset SSH_AUTH_SOCK SSH_AGENT_PID
ECDSA_PUB=$(cut -d' ' -f1,2 "$T0/host_ecdsa.pub")
P=$SSHD_PORT

# both KH ARGS... -- HOST: run mrsh and ssh with UserKnownHostsFile=KH and
# the options; sets MRC/MERR (mrsh) and SRC/SERR (ssh).
both() {
	local kh=$1 host
	shift
	local args=()
	while [ "$1" != -- ]; do
		args+=("$1")
		shift
	done
	host=$2
	capture "$T" "$MRSH" -F "$SSH_CONFIG" -o UserKnownHostsFile="$kh" \
		"${args[@]}" -w "$host" 'echo ran'
	MRC=$RC
	MOUT=$(cat "$T/out")
	MERR=$(cat "$T/err")
	ssh -F "$SSH_CONFIG" -o LogLevel=INFO -o UserKnownHostsFile="$kh" \
		"${args[@]}" "$host" 'echo ran' </dev/null >"$T/sout" 2>"$T/serr"
	SRC=$?
	SERR=$(cat "$T/serr")
}

# accepted HOST DESC: both ran the command
accepted() {
	is "$MRC/$MOUT" "0/$1: ran" "$2: mrsh runs it"
	is "$SRC/$(cat "$T/sout")" "0/ran" "$2: ssh runs it"
}

# refused HOST DESC ERE: both refused; mrsh's error matches ERE
refused() {
	is "$MRC/$MOUT" "255/" "$2: mrsh refuses (exit 255, nothing ran)"
	like "$MERR" "^mrsh: $1: SETUP: .*$3" "$2: mrsh says why"
	is "$SRC/$(cat "$T/sout")" "255/" "$2: ssh refuses too"
}

# ---- host patterns -------------------------------------------------------
echo "127.0.1.* $HOST_KEY_PUB" >"$T/kh"
both "$T/kh" -- 127.0.1.2
accepted 127.0.1.2 "wildcard line 127.0.1.* (port $P: ssh's retry without the port)"
echo "[127.0.1.?]:$P $HOST_KEY_PUB" >"$T/kh"
both "$T/kh" -- 127.0.1.3
accepted 127.0.1.3 "wildcard line [127.0.1.?]:PORT"
echo "[127.0.1.*]:$P,![127.0.1.2]:$P $HOST_KEY_PUB" >"$T/kh"
both "$T/kh" -- 127.0.1.2
refused 127.0.1.2 "negated pattern" "not known"
both "$T/kh" -- 127.0.1.1
accepted 127.0.1.1 "negated pattern, another host"

# ---- @revoked ------------------------------------------------------------
{ cat "$KNOWN_HOSTS"; echo "@revoked * $HOST_KEY_PUB"; } >"$T/kh"
both "$T/kh" -- 127.0.1.1
refused 127.0.1.1 "known key also marked @revoked" "REVOKED in $T/kh:[0-9]+"
echo "@revoked * $HOST_KEY_PUB" >"$T/kh"
both "$T/kh" -o StrictHostKeyChecking=accept-new -- 127.0.1.1
refused 127.0.1.1 "accept-new with only a @revoked line" "REVOKED"
is "$(wc -l <"$T/kh")" 1 "accept-new: the revoked key was not appended"
# under "no" ssh connects anyway (without password authentication)
both "$T/kh" -o StrictHostKeyChecking=no -- 127.0.1.1
accepted 127.0.1.1 "StrictHostKeyChecking no with a revoked key"
like "$MERR" "revoked.*connecting anyway" "StrictHostKeyChecking no: mrsh warns about the revoked key"

# ---- HostKeyAlias ----------------------------------------------------------
ssh-keygen -q -t ed25519 -N '' -f "$T/other" </dev/null >/dev/null
{ cat "$KNOWN_HOSTS"; echo "myalias $(cut -d' ' -f1,2 "$T/other.pub")"; } >"$T/kh"
both "$T/kh" -o HostKeyAlias=MyAlias -- 127.0.1.1
refused 127.0.1.1 "HostKeyAlias whose entry has another key" \
	"host key for 127\.0\.1\.1 \(HostKeyAlias myalias\) has CHANGED"
like "$SERR" "REMOTE HOST IDENTIFICATION HAS CHANGED" "ssh: REMOTE HOST IDENTIFICATION HAS CHANGED"
echo "myalias $HOST_KEY_PUB" >"$T/kh"
both "$T/kh" -o HostKeyAlias=myalias -- 127.0.1.2
accepted 127.0.1.2 "HostKeyAlias with the right key (no [host]:port entry)"
: >"$T/kh"
both "$T/kh" -o HostKeyAlias=newalias -o StrictHostKeyChecking=accept-new -- 127.0.1.3
accepted 127.0.1.3 "accept-new with HostKeyAlias"
is "$(cut -d' ' -f1 "$T/kh" | sort -u)" "newalias" "accept-new wrote the alias, not the host (as ssh)"

# ---- ECDSA-only known key: ssh's host key algorithm order ---------------
echo "[127.0.1.1]:$P $ECDSA_PUB" >"$T/kh"
both "$T/kh" -- 127.0.1.1
accepted 127.0.1.1 "only the ECDSA key is known"
echo "[127.0.1.1]:$P $ECDSA_PUB" >"$T/kh"
both "$T/kh" -o HostKeyAlgorithms=ssh-ed25519 -- 127.0.1.1
refused 127.0.1.1 "ECDSA known, HostKeyAlgorithms ssh-ed25519 (explicit: not reordered)" "CHANGED"

# ---- algorithm lists that exclude what the server offers -----------------
# libssh2 1.11 has no ssh-dss (DSA is off by default there): mrsh refuses
# the list before connecting instead of after the server's offer.
if libssh2_at_least 1.11; then
	dss='HostKeyAlgorithms: nothing in common between the list "ssh-dss" and what this libssh2 implements'
else
	dss='no matching host key type found. Their offer: '
fi
for c in "Ciphers=aes128-cbc:no matching cipher found. Their offer: chacha20-poly1305@openssh.com" \
    "KexAlgorithms=diffie-hellman-group14-sha1:no matching key exchange method found. Their offer: " \
    "HostKeyAlgorithms=ssh-dss:$dss" \
    "MACs=hmac-sha1-96,hmac-md5:(no matching MAC found|nothing in common)" \
    "Ciphers=-*:Ciphers: the list is empty"; do
	opt=${c%%:*}
	both "$KNOWN_HOSTS" -o "$opt" -- 127.0.1.1
	case $opt in
	MACs=*)
		# ssh negotiates chacha20-poly1305 (no MAC needed); libssh2
		# 1.10 has no AEAD cipher, so mrsh needs a MAC: refuse only.
		is "$MRC/$MOUT" "255/" "$opt: mrsh refuses"
		like "$MERR" "SETUP: .*${c#*:}" "$opt: mrsh says why"
		continue
		;;
	esac
	refused 127.0.1.1 "$opt" "${c#*:}"
done
both "$KNOWN_HOSTS" -o Ciphers=aes256-ctr -o MACs=hmac-sha2-512 -o KexAlgorithms=-sntrup* -- 127.0.1.1
accepted 127.0.1.1 "lists the server shares"

# ---- @cert-authority ------------------------------------------------------
ssh-keygen -q -t ed25519 -N '' -C ca -f "$T/ca" </dev/null >/dev/null
ssh-keygen -q -t ed25519 -N '' -C ca2 -f "$T/ca2" </dev/null >/dev/null
ssh-keygen -q -t ecdsa -N '' -C certhost -f "$T/hk" </dev/null >/dev/null
CPID=
# cert_sshd SIGNARGS...: a second sshd whose ECDSA host key has a
# certificate signed by $T/ca with ssh-keygen -s ... SIGNARGS; sets CP.
cert_sshd() {
	[ -z "$CPID" ] || { kill "$CPID"; wait "$CPID" 2>/dev/null; }
	rm -f "$T/hk-cert.pub"
	ssh-keygen -q -s "$T/ca" -h -I certhost "$@" "$T/hk.pub" >/dev/null 2>&1
	CP=$(free_port)
	{
		grep -Ev '^(HostKey|Port|PidFile|ListenAddress)' "$SSHD_CONFIG"
		echo "HostKey $T/hk"
		echo "HostCertificate $T/hk-cert.pub"
		echo "Port $CP"
		echo "ListenAddress 127.0.1.1"
		echo "ListenAddress 127.0.1.2"
		echo "PidFile none"
	} >"$T/sshd_cert_config"
	"${SSHD_BIN:-/usr/sbin/sshd}" -D -f "$T/sshd_cert_config" -E "$T/sshd_cert.log" &
	CPID=$!
	wait_for 10 "ss -Htln | grep -q '127.0.1.1:$CP '" || diag "cert sshd did not start"
}
at_exit '[ -z "$CPID" ] || kill "$CPID"'
ca_line="@cert-authority 127.0.1.* $(cut -d' ' -f1,2 "$T/ca.pub")"

cert_sshd -n 127.0.1.1 -V -1h:+1h
echo "$ca_line" >"$T/kh"
both "$T/kh" -p "$CP" -- 127.0.1.1
is "$SRC/$(cat "$T/sout")" "0/ran" "valid host certificate: ssh accepts it"
is "$MRC/$MOUT" "255/" "valid host certificate: mrsh refuses (libssh2 cannot verify host certificates)"
like "$MERR" "SETUP: .*known only through @cert-authority.*libssh2 cannot verify host certificates" \
	"valid host certificate: mrsh says why"
both "$T/kh" -p "$CP" -o StrictHostKeyChecking=accept-new -- 127.0.1.1
is "$MRC/$(wc -l <"$T/kh")" "255/1" "accept-new, host known only through a CA: refused, nothing appended"
both "$T/kh" -p "$CP" -- 127.0.1.2
refused 127.0.1.2 "host certificate for another principal" "@cert-authority"
echo "@cert-authority 127.0.1.* $(cut -d' ' -f1,2 "$T/ca2.pub")" >"$T/kh"
both "$T/kh" -p "$CP" -- 127.0.1.1
refused 127.0.1.1 "host certificate from an unknown CA" "@cert-authority"
cert_sshd -n 127.0.1.1 -V 20200101:20200102
echo "$ca_line" >"$T/kh"
both "$T/kh" -p "$CP" -- 127.0.1.1
refused 127.0.1.1 "expired host certificate" "@cert-authority"

# ---- BatchMode: never prompt ----------------------------------------------
PY=/usr/bin/python3
if [ -x "$PY" ] && [ -e /dev/ptmx ]; then
	for bm in yes no; do
		for prog in mrsh ssh; do
			if [ $prog = mrsh ]; then
				cmd=("$MRSH" -F /dev/null -w 127.0.1.1)
			else
				cmd=(ssh -F /dev/null 127.0.1.1)
			fi
			"$PY" "$top_srcdir/tests/helpers/pty-answer.py" \
				--prompt '[Pp]assphrase' --answer "$USER_KEY_PASSPHRASE" \
				--count "$T/n.$prog" --stdout "$T/out.$prog" --timeout 60 -- \
				"${cmd[0]}" -o UserKnownHostsFile="$KNOWN_HOSTS" \
				-o GlobalKnownHostsFile=/dev/null -o Port="$P" \
				-o BatchMode=$bm -o IdentitiesOnly=yes -o IdentityAgent=none \
				-i "$USER_KEY_ENC" "${cmd[@]:1}" 'echo ran' >/dev/null 2>&1
			echo $? >"$T/rc.$prog"
		done
		want=1
		[ $bm = yes ] && want=0
		is "$(cat "$T/n.mrsh")" $want "BatchMode $bm, encrypted key, on a terminal: mrsh asks $want times"
		is "$(cat "$T/n.ssh")" $want "BatchMode $bm: ssh asks $want times too"
		if [ $bm = yes ]; then
			is "$(cat "$T/rc.mrsh")/$(cat "$T/rc.ssh")" "255/255" "BatchMode yes: both fail without the key"
		else
			is "$(cat "$T/rc.mrsh")/$(cat "$T/rc.ssh")" "0/0" "BatchMode no: both log in"
		fi
	done
else
	skip "BatchMode on a terminal" "no python3 or /dev/ptmx"
fi

# ---- RevokedHostKeys: a file of public keys (ssh: sshkey_check_revoked) --
ssh-keygen -q -t ed25519 -N '' -f "$T/other_key" </dev/null >/dev/null
{ echo "# revoked"; echo "$HOST_KEY_PUB"; echo "$ECDSA_PUB"; } >"$T/revoked"
both "$KNOWN_HOSTS" -o RevokedHostKeys="$T/revoked" -- 127.0.1.1
refused 127.0.1.1 "RevokedHostKeys holding the host key" \
	"Host key ssh-ed25519 SHA256:[^ ]+ revoked by file $T/revoked"
like "$SERR" "revoked by file" "RevokedHostKeys: ssh says it is revoked"
cut -d' ' -f1,2 "$T/other_key.pub" >"$T/revoked.other"
both "$KNOWN_HOSTS" -o RevokedHostKeys="$T/revoked.other" -- 127.0.1.1
accepted 127.0.1.1 "RevokedHostKeys holding another key"
both "$KNOWN_HOSTS" -o RevokedHostKeys="$T/revoked.missing" -- 127.0.1.1
refused 127.0.1.1 "RevokedHostKeys file missing" \
	"Error checking host key .* in revoked keys file $T/revoked.missing: No such file"
both "$KNOWN_HOSTS" -o StrictHostKeyChecking=no -o RevokedHostKeys="$T/revoked" -- 127.0.1.1
refused 127.0.1.1 "RevokedHostKeys under StrictHostKeyChecking no" "revoked by file"
# A binary KRL: mrsh cannot read it, and says so (ssh refuses this one too).
if ssh-keygen -q -k -f "$T/krl" "$T/revoked" 2>/dev/null; then
	both "$KNOWN_HOSTS" -o RevokedHostKeys="$T/krl" -- 127.0.1.1
	refused 127.0.1.1 "RevokedHostKeys as a binary KRL" "a binary KRL, which mrsh cannot read"
else
	skip_n 3 "ssh-keygen -k cannot make a KRL here"
fi

# ---- PubkeyAcceptedAlgorithms: a key of another type is not offered ------
both "$KNOWN_HOSTS" -o IdentityAgent=none -o PasswordAuthentication=no \
	-o KbdInteractiveAuthentication=no \
	-o PubkeyAcceptedAlgorithms=ecdsa-sha2-nistp256 -- 127.0.1.1
refused 127.0.1.1 "PubkeyAcceptedAlgorithms without the key's type" \
	"permission denied \(publickey\)"
like "$SERR" "Permission denied \(publickey\)" \
	"PubkeyAcceptedAlgorithms without the key's type: ssh offers no key"
both "$KNOWN_HOSTS" -o IdentityAgent=none -o PasswordAuthentication=no \
	-o PubkeyAcceptedAlgorithms=-ssh-ed25519 -- 127.0.1.1
refused 127.0.1.1 "PubkeyAcceptedAlgorithms=-ssh-ed25519" \
	"permission denied \(publickey\)"
both "$KNOWN_HOSTS" -o IdentityAgent=none \
	-o PubkeyAcceptedAlgorithms=ecdsa*,ssh-ed25519 -- 127.0.1.1
accepted 127.0.1.1 "PubkeyAcceptedAlgorithms with the key's type"

# ---- -G --------------------------------------------------------------------
for args in "-o HostKeyAlias=SomeAlias" "-o Ciphers=^aes128-cbc -o MACs=-*etm*" \
    "-o HostKeyAlgorithms=+ssh-rsa -o KexAlgorithms=curve*" \
    "-o PubkeyAcceptedAlgorithms=ssh-ed25519*,rsa-sha2-512" ""; do
	# shellcheck disable=SC2086 # word splitting wanted
	want=$(ssh -G -F "$SSH_CONFIG" $args 127.0.1.1 2>/dev/null |
		grep -E '^(hostkeyalias|ciphers|macs|kexalgorithms|hostkeyalgorithms|pubkeyacceptedalgorithms) ' | sort)
	# shellcheck disable=SC2086
	got=$("$MRSH" -G 127.0.1.1 -F "$SSH_CONFIG" $args 2>&1 |
		grep -E '^(hostkeyalias|ciphers|macs|kexalgorithms|hostkeyalgorithms|pubkeyacceptedalgorithms) ' | sort)
	is "$got" "$want" "-G ${args:-(defaults)}: as ssh -G"
done
for bad in "Ciphers=aes*" "MACs=foo" "HostKeyAlgorithms=nope"; do
	capture "$T" "$MRSH" -F "$SSH_CONFIG" -o "$bad" -w 127.0.1.1 true
	sw=$(ssh -G -F "$SSH_CONFIG" -o "$bad" 127.0.1.1 2>&1 >/dev/null | head -1 |
		tr -d '\r' | sed 's/^command-line line [0-9]*: //')
	is "$RC" 2 "-o $bad: usage error"
	like "$(cat "$T/err")" "$(printf '%s' "$sw" | sed 's/[][\.*^$]/\\&/g')" "-o $bad: ssh's wording ($sw)"
done

done_testing
