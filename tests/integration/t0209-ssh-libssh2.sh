#!/bin/bash
# t0209: what the libssh2 the binary runs with can do, against a real sshd
# and ssh-agent. -V names the libssh2 mrsh was built with and the one it
# runs with, and they must be the same (a binary built against 1.11.1 that
# quietly runs on the system's 1.10 fails here). Then, decided from the
# binary's own version: RSA user keys from a file and from ssh-agent, and a
# host with only an RSA host key, work with libssh2 >= 1.11 and fail with
# a clear error naming the limit on 1.10; a peer that sends non-SSH text
# and keeps the connection open fails at once with "not an SSH server" on
# both (1.11 would skip such lines and wait for -t).
. "$top_srcdir/tests/integration/lib.sh"
set -u

T=$(make_tmpdir)
[ -x "$MRSH" ] || bail_out "no mrsh binary at $MRSH"

# ---- -V: built with and running with ----------------------------------
"$MRSH" -V >"$T/v"
built=$(mrsh_libssh2 built)
running=$(mrsh_libssh2 running)
like "$built" '^1\.[0-9]+\.[0-9]+' "-V names the libssh2 mrsh was built with ($built)"
is "$running" "$built" "and runs with that same libssh2"
case ${MRSH_EXPECT_LIBSSH2:-} in
system)
	like "$(cat "$T/v")" '^libssh2: .*\(system\)$' "check.sh's system run uses the system libssh2"
	;;
1.11.1)
	is "$built/$running" "1.11.1/1.11.1" "check.sh's 1.11.1 run: built with and running 1.11.1"
	like "$(cat "$T/v")" '^libssh2: .*\(static\)\)$' "linked statically (--with-libssh2)"
	if command -v ldd >/dev/null 2>&1; then
		is "$(ldd "$MRSH" | grep -c 'libssh2\.so')" 0 "no shared libssh2.so in the binary's libraries"
	else
		skip "no shared libssh2.so" "ldd not installed"
	fi
	;;
*)
	skip "check.sh's expectation of the libssh2 version" "MRSH_EXPECT_LIBSSH2 not set (not run by check.sh)"
	;;
esac
if libssh2_at_least 1.11; then rsa=1; else rsa=0; fi

# DEBUG3: sshd logs whether the key exchange is strict.
SSHD_RSA=1 SSHD_EXTRA_CONFIG="LogLevel DEBUG3" start_sshd 5
unset SSH_AUTH_SOCK SSH_AGENT_PID
sshd_client_config "$T/noid.cfg" none "$KNOWN_HOSTS"
sshd_client_config "$T/agent.cfg" none "$KNOWN_HOSTS" "IdentitiesOnly no"
fp_rsa=$(ssh-keygen -lf "$USER_KEY_RSA.pub" | cut -d' ' -f2)

# ---- RSA user key from a file -----------------------------------------
capture "$T" "$MRSH" -F "$T/noid.cfg" -i "$USER_KEY_RSA" -w '127.0.1.[1-3]' 'echo rsa-ok'
if [ "$rsa" = 1 ]; then
	is "$RC" 0 "RSA key file, libssh2 $running: exit 0"
	is "$(sort "$T/out")" "127.0.1.1: rsa-ok
127.0.1.2: rsa-ok
127.0.1.3: rsa-ok" "every host ran the command"
	grep 'Accepted publickey' "$SSHD_LOG" | grep -qF " RSA $fp_rsa"
	ok $? "sshd logged the RSA key's login ($fp_rsa)"
else
	is "$RC" 255 "RSA key file, libssh2 $running: exit 255"
	like "$(cat "$T/err")" '127\.0\.1\.1: SETUP: permission denied .*the only key tried is RSA and libssh2 1\.10 cannot do rsa-sha2-256/512' \
		"the error says why (libssh2 1.10 has no rsa-sha2)"
	like "$(cat "$T/err")" 'contrib/build-libssh2\.sh' "and how to get a libssh2 that does"
	skip "sshd logged the RSA key's login" "libssh2 $running"
fi

# ---- RSA key in ssh-agent ---------------------------------------------
if command -v ssh-agent >/dev/null 2>&1 && command -v ssh-add >/dev/null 2>&1; then
	eval "$(ssh-agent -s -a "$T/agent.sock")" >/dev/null
	at_exit "kill ${SSH_AGENT_PID:-0}"
	ssh-add "$USER_KEY_RSA" >/dev/null 2>&1
	capture "$T" "$MRSH" -F "$T/agent.cfg" -w '127.0.1.[1-3]' 'echo agent-rsa-ok'
	if [ "$rsa" = 1 ]; then
		is "$RC" 0 "RSA key in ssh-agent, libssh2 $running: exit 0"
		is "$(grep -c ': agent-rsa-ok$' "$T/out")" 3 "every host ran the command"
	else
		is "$RC" 255 "RSA key in ssh-agent, libssh2 $running: exit 255"
		like "$(cat "$T/err")" '127\.0\.1\.1: SETUP: permission denied .* tried agent key RSA SHA256:.*; the only key tried is RSA and libssh2 1\.10 cannot do rsa-sha2' \
			"the error names the agent key and the RSA limit"
	fi
	kill "$SSH_AGENT_PID" 2>/dev/null
	unset SSH_AUTH_SOCK SSH_AGENT_PID
else
	skip "RSA key in ssh-agent" "ssh-agent / ssh-add not installed"
	skip "RSA key in ssh-agent: every host" "ssh-agent / ssh-add not installed"
fi

# ---- a host with only an RSA host key ---------------------------------
# A second sshd on the same directory's keys, offering only rsa-sha2.
ssh-keygen -q -t rsa -b 2048 -N '' -f "$T/host_rsa" </dev/null >/dev/null 2>&1 ||
	bail_out "ssh-keygen rsa failed"
rsa_port=$(free_port)
sed -e "s/^Port .*/Port $rsa_port/" \
    -e "s|^HostKey .*|HostKey $T/host_rsa\nHostKeyAlgorithms rsa-sha2-512,rsa-sha2-256|" \
    -e "s|^PidFile .*|PidFile $T/rsa.pid|" "$SSHD_CONFIG" >"$T/sshd_rsa.cfg"
"$SSHD_BIN" -D -f "$T/sshd_rsa.cfg" -E "$T/sshd_rsa.log" </dev/null >/dev/null 2>&1 &
rsa_pid=$!
at_exit "kill $rsa_pid"
wait_for 20 "grep -q 'Server listening on .* port $rsa_port' '$T/sshd_rsa.log'" ||
	bail_out "the RSA-only sshd did not start"
echo "[127.0.1.1]:$rsa_port $(cut -d' ' -f1,2 "$T/host_rsa.pub")" >"$T/kh_rsa"
sshd_client_config "$T/rsahost.cfg" "$USER_KEY" "$T/kh_rsa"
capture "$T" "$MRSH" -F "$T/rsahost.cfg" -p "$rsa_port" -w 127.0.1.1 'echo rsa-host-ok'
if [ "$rsa" = 1 ]; then
	is "$RC/$(cat "$T/out")" "0/127.0.1.1: rsa-host-ok" "RSA-only host, libssh2 $running: reached"
	is "$(cat "$T/err")" "" "nothing on stderr"
else
	is "$RC" 255 "RSA-only host, libssh2 $running: exit 255"
	like "$(cat "$T/err")" '127\.0\.1\.1: SETUP: key exchange failed: no matching host key type found\. Their offer: rsa-sha2-512,rsa-sha2-256 .*libssh2 1\.10 cannot do rsa-sha2-256/512' \
		"the error names the host keys offered and the libssh2 1.10 limit"
fi
# and a changed RSA host key is still refused
echo "[127.0.1.1]:$rsa_port $(cut -d' ' -f1,2 "$USER_KEY_RSA.pub")" >"$T/kh_rsa"
capture "$T" "$MRSH" -F "$T/rsahost.cfg" -p "$rsa_port" -w 127.0.1.1 'echo must-not-run'
is "$RC/$(cat "$T/out")" "255/" "a wrong RSA host key in known_hosts: refused, nothing ran"

# ---- non-SSH text before any banner: fail fast -------------------------
fake_server garbage
# -t 300: only the fast path can pass within capture's 120 s.
CAPTURE_TIMEOUT=120 capture "$T" "$MRSH" -F "$T/noid.cfg" -t 300 \
	-p "$FAKE_PORT" -w 127.0.0.1 true
is "$RC" 255 "a peer that sends HTTP and stays open: exit 255, not killed"
is "$(head -n 1 "$T/err")" "mrsh: 127.0.0.1: SETUP: not an SSH server (bad banner)" \
	"the error says not an SSH server (libssh2 $running)"

# ---- ciphers and strict key exchange (ssh's defaults, via sshalgs) ------
nlog=$(wc -l <"$SSHD_LOG")
capture "$T" "$MRSH" -F "$SSH_CONFIG" -vv -w 127.0.1.4 true
cipher=$(sed -n 's/.*127\.0\.1\.4: kex .*, cipher \(.*\)$/\1/p' "$T/err")
if [ "$rsa" = 1 ]; then
	is "$RC/$cipher" "0/chacha20-poly1305@openssh.com" \
		"libssh2 $running: chacha20-poly1305, ssh's first cipher"
	tail -n +"$((nlog + 1))" "$SSHD_LOG" | grep -q 'will use strict KEX ordering'
	ok $? "libssh2 $running: sshd uses strict KEX (the Terrapin fix)"
	capture "$T" "$MRSH" -F "$SSH_CONFIG" -o Ciphers=aes256-gcm@openssh.com \
		-vv -w 127.0.1.4 true
	cipher=$(sed -n 's/.*127\.0\.1\.4: kex .*, cipher \(.*\)$/\1/p' "$T/err")
	is "$RC/$cipher" "0/aes256-gcm@openssh.com" \
		"libssh2 $running: AES-GCM when Ciphers asks for it"
else
	is "$RC/$cipher" "0/aes128-ctr" \
		"libssh2 $running: aes128-ctr (no chacha20-poly1305 in 1.10)"
	tail -n +"$((nlog + 1))" "$SSHD_LOG" | grep -q 'will use strict KEX ordering'
	is "$?" 1 "libssh2 $running: no strict KEX (1.10 predates it)"
	capture "$T" "$MRSH" -F "$SSH_CONFIG" -o Ciphers=aes256-gcm@openssh.com -w 127.0.1.4 true
	like "$RC/$(cat "$T/err")" '^255/mrsh: 127\.0\.1\.4: SETUP: Ciphers: nothing in common between the list "aes256-gcm@openssh\.com" and what this libssh2 implements' \
		"libssh2 $running: AES-GCM asked for: refused, saying why"
fi

done_testing
