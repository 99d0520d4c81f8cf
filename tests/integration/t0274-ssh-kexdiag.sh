#!/bin/bash
# t0274: a failed key exchange explained in one line, as ssh explains it
# where ssh does: a real sshd offering only algorithms mrsh does not
# (key exchange, then cipher once the kex is allowed), and scripted
# servers (tests/helpers/fake-server.py) that send SSH_MSG_IGNORE before
# their KEXINIT (small, and larger than what mrsh keeps), close after the banner or after an agreeable KEXINIT,
# send a KEXINIT too long to show, a 2 GB packet length, or a banner
# without its line end.
. "$top_srcdir/tests/integration/lib.sh"
set -u

SSHD_EXTRA_CONFIG="KexAlgorithms diffie-hellman-group1-sha1
Ciphers aes128-cbc" start_sshd_test 1
M=("$MRSH" -F "$SSH_CONFIG" -t 20)
CAPTURE_TIMEOUT=60

# The real sshd's kex: none in common.
capture "$T" "${M[@]}" -w 127.0.1.1 true
is "$RC" 255 "sshd with only diffie-hellman-group1-sha1: exit 255"
# (sshd 9.2 with the strict-kex fix adds its pseudo-algorithm; ssh quotes
# the list as sent, so does mrsh.)
grepok '^mrsh: 127\.0\.1\.1: SETUP: key exchange failed: no matching key exchange method found\. Their offer: diffie-hellman-group1-sha1(,kex-strict-s-v00@openssh\.com)? \(we offer KexAlgorithms: curve25519-sha256,' \
    "$T/err" "kex: ssh's words, the server's offer, ours"
is "$(cat "$T/out")" "" "kex: nothing ran"

# With that kex allowed, the cipher: none in common.
capture "$T" "${M[@]}" -o KexAlgorithms=+diffie-hellman-group1-sha1 \
    -w 127.0.1.1 true
is "$RC" 255 "kex allowed, sshd with only aes128-cbc: exit 255"
grepok '^mrsh: 127\.0\.1\.1: SETUP: key exchange failed: no matching cipher found\. Their offer: aes128-cbc \(we offer Ciphers: ' \
    "$T/err" "cipher: ssh's words, the server's offer, ours"
# (ssh itself often only sees sshd close: sshd finds the mismatch first.)

if ! command -v python3 >/dev/null 2>&1; then
	skip_n 16 "python3 not found (tests/helpers/fake-server.py)"
	done_testing
	exit 0
fi

# fake MODE: mrsh against fake-server.py MODE on 127.0.0.1.
fake() {
	fake_server "$1"
	capture "$T" "${M[@]}" -p "$FAKE_PORT" -w 127.0.0.1 true
}

# SSH_MSG_IGNORE before the KEXINIT (RFC 4253 11): still read.
fake ignore-first
is "$RC" 255 "IGNORE, then a KEXINIT: exit 255"
grepok '^mrsh: 127\.0\.0\.1: SETUP: key exchange failed: no matching key exchange method found\. Their offer: diffie-hellman-group1-sha1 \(we offer KexAlgorithms: ' \
    "$T/err" "IGNORE, then a KEXINIT: the offer is still named"
ssh -F /dev/null -o ConnectTimeout=20 -p "$FAKE_PORT" 127.0.0.1 true \
    </dev/null 2>&1 | tr -d '\r' >"$T/ssh.err"
grepok 'no matching key exchange method found\. Their offer: diffie-hellman-group1-sha1$' \
    "$T/ssh.err" "IGNORE, then a KEXINIT: ssh says the same"

# An IGNORE larger than what mrsh keeps of the server's first bytes: the
# server's offer cannot be named, ours is.
fake ignore-big
is "$RC" 255 "6000 bytes of IGNORE, then a KEXINIT: exit 255"
grepok '^mrsh: 127\.0\.0\.1: SETUP: key exchange failed: .* \(we offer kexalgorithms curve25519-sha256,.*\)$' \
    "$T/err" "6000 bytes of IGNORE: says what we offer"

# Closed after the banner, before any KEXINIT.
fake banner-close
is "$RC" 255 "closed after the banner: exit 255"
grepok '^mrsh: 127\.0\.0\.1: SETUP: connection closed during key exchange: ' \
    "$T/err" "closed after the banner: says so"

# Closed after a KEXINIT with nothing missing: libssh2's reason and what
# the server offered.
fake kexinit-close
is "$RC" 255 "closed after an agreeable KEXINIT: exit 255"
grepok '^mrsh: 127\.0\.0\.1: SETUP: key exchange failed: .* \(server offers kex curve25519-sha256; host keys ssh-ed25519; we offer kexalgorithms curve25519-sha256,.*\)$' \
    "$T/err" "closed after an agreeable KEXINIT: the server's offer"

# A kex list too long to quote: what we offer, not the server's offer.
fake kexinit-long
is "$RC" 255 "a 1600-byte kex list: exit 255"
grepok '^mrsh: 127\.0\.0\.1: SETUP: key exchange failed: .* \(we offer kexalgorithms curve25519-sha256,.*\)$' \
    "$T/err" "a 1600-byte kex list: says what we offer"
grep -q nokex0079 "$T/err"
is "$?" 1 "a 1600-byte kex list: not quoted"

# A packet length of 2 GB where the KEXINIT should be: libssh2's reason,
# at once (not a -t timeout; the server keeps the connection open).
fake bad-length
is "$RC" 255 "a 2 GB packet length: exit 255"
grepok '^mrsh: 127\.0\.0\.1: SETUP: SSH handshake failed: [A-Za-z].*$' \
    "$T/err" "a 2 GB packet length: libssh2's reason"

# A banner line that never ends.
fake banner-noeol
is "$RC" 255 "a banner without its line end: exit 255"
grepok '^mrsh: 127\.0\.0\.1: SETUP: connection closed before the SSH banner \(not an SSH server\?\)$' \
    "$T/err" "a banner without its line end: no banner"

done_testing
