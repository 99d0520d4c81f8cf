#!/bin/bash
# t0203: host keys against a real sshd. Under StrictHostKeyChecking yes an
# unknown key fails (exit 255, the message says how to accept it) and the
# command never runs; a changed key is refused even with accept-new;
# accept-new appends [host]:port lines to a fresh known_hosts, after which
# the strict mode works with that file.
# Remote commands are single-quoted on purpose: they expand remotely.
# shellcheck disable=SC2016
. "$top_srcdir/tests/integration/lib.sh"
set -u

T=$(make_tmpdir)
start_sshd 5
[ -x "$MRSH" ] || bail_out "no mrsh binary at $MRSH"
chmod 755 "$T"
# The command leaves a mark, so "it never ran" is checked, not assumed.
MARK='set -- $SSH_CONNECTION; touch '"$T"'/ran.$3; echo ran'

# unknown host key, strict: refused
: >"$T/empty_kh"
capture "$T" "$MRSH" -F "$SSH_CONFIG" -o UserKnownHostsFile="$T/empty_kh" \
	-o StrictHostKeyChecking=yes -w '127.0.1.[1-3]' "$MARK"
is "$RC" 255 "unknown host key, StrictHostKeyChecking=yes: exit 255"
like "$(cat "$T/err")" '127\.0\.1\.1.*(not known|unknown)' "the error names the host and says the key is unknown"
like "$(cat "$T/err")" 'accept-new|known_hosts|ssh-keyscan' "the error says how to accept it"
is "$(cat "$T/out")" "" "no output"
is "$(find "$T" -maxdepth 1 -name 'ran.*' | wc -l)" 0 "the command never ran"
is "$(wc -c <"$T/empty_kh")" 0 "known_hosts left alone"

# changed host key: refused, with yes and with accept-new
ssh-keygen -q -t ed25519 -N '' -f "$T/other_hostkey" </dev/null >/dev/null 2>&1 ||
	bail_out "ssh-keygen failed"
other=$(cut -d' ' -f1,2 "$T/other_hostkey.pub")
for i in 1 2 3; do
	echo "[127.0.1.$i]:$SSHD_PORT $other"
done >"$T/changed_kh"
cp "$T/changed_kh" "$T/changed_kh.orig"
for mode in yes accept-new; do
	capture "$T" "$MRSH" -F "$SSH_CONFIG" -o UserKnownHostsFile="$T/changed_kh" \
		-o StrictHostKeyChecking=$mode -w '127.0.1.[1-3]' "$MARK"
	is "$RC" 255 "changed host key, StrictHostKeyChecking=$mode: exit 255"
	like "$(cat "$T/err")" '127\.0\.1\.[1-3].*(CHANGED|changed|mismatch)' \
		"$mode: the error says the key changed"
	is "$(find "$T" -maxdepth 1 -name 'ran.*' | wc -l)" 0 "$mode: the command never ran"
	cmp -s "$T/changed_kh" "$T/changed_kh.orig"
	ok $? "$mode: known_hosts not modified"
done

# accept-new: a known_hosts that does not exist yet
capture "$T" "$MRSH" -F "$SSH_CONFIG" -o UserKnownHostsFile="$T/new_kh" \
	-o StrictHostKeyChecking=accept-new -w '127.0.1.[1-5]' "$MARK"
is "$RC" 0 "accept-new with no known_hosts: exit 0"
is "$(grep -c ': ran$' "$T/out")" 5 "the command ran on all 5 hosts"
is "$(wc -l <"$T/new_kh" 2>/dev/null)" 5 "5 lines appended"
want=$(for i in 1 2 3 4 5; do echo "[127.0.1.$i]:$SSHD_PORT $HOST_KEY_PUB"; done)
is "$(cut -d' ' -f1-3 "$T/new_kh" | sort)" "$want" \
	"each line is [127.0.1.N]:$SSHD_PORT and the server's key"
perm=$(stat -c %a "$T/new_kh" 2>/dev/null)
like "$perm" '^6[04]0$' "known_hosts not world-writable ($perm)"

# then strict mode with that file works; a sixth, new host does not
rm -f "$T"/ran.*
capture "$T" "$MRSH" -F "$SSH_CONFIG" -o UserKnownHostsFile="$T/new_kh" \
	-o StrictHostKeyChecking=yes -w '127.0.1.[1-5]' "$MARK"
is "$RC" 0 "strict mode with the accepted keys: exit 0"
is "$(grep -c ': ran$' "$T/out")" 5 "ran on all 5 hosts"
capture "$T" "$MRSH" -F "$SSH_CONFIG" -o UserKnownHostsFile="$T/new_kh" \
	-o StrictHostKeyChecking=yes -w '127.0.1.6' "$MARK"
is "$RC" 255 "a host not accepted before is still unknown: exit 255"

# a second accept-new run does not add duplicates
capture "$T" "$MRSH" -F "$SSH_CONFIG" -o UserKnownHostsFile="$T/new_kh" \
	-o StrictHostKeyChecking=accept-new -w '127.0.1.[1-6]' true
is "$RC" 0 "accept-new again with one more host: exit 0"
is "$(wc -l <"$T/new_kh")" 6 "only the new host was appended"

# StrictHostKeyChecking=no: an unknown key is used
capture "$T" "$MRSH" -F "$SSH_CONFIG" -o UserKnownHostsFile="$T/empty_kh" \
	-o StrictHostKeyChecking=no -w '127.0.1.2' 'echo insecure-ok'
is "$RC/$(cat "$T/out")" "0/127.0.1.2: insecure-ok" "StrictHostKeyChecking=no connects to an unknown host"

done_testing
