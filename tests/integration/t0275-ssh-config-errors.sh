#!/bin/bash
# t0275: ssh_config values that OpenSSH refuses, compared live with the
# ssh on this machine: for each bad line in a config file, and for the
# same as -o where it fits, mrsh refuses the file exactly when `ssh -G`
# does, with exit 2 and one line naming the file and line (or the -o).
# No server: -G only.
. "$top_srcdir/tests/integration/lib.sh"
set -u

need_cmd ssh
T=$(make_tmpdir)
[ -x "$MRSH" ] || bail_out "no mrsh at $MRSH"

while IFS= read -r line; do
	[ -n "$line" ] || continue
	printf 'Host *\n  %s\n' "$line" >"$T/cfg"
	ssh -G -F "$T/cfg" h >/dev/null 2>&1
	want=$?
	"$MRSH" -F "$T/cfg" -G h >"$T/out" 2>"$T/err"
	got=$?
	if [ "$want" = 0 ]; then
		is "$got" 0 "ssh takes '$line': so does mrsh"
	else
		is "$got/$(wc -l <"$T/err")" "2/1" "ssh refuses '$line': mrsh exits 2 with one line"
		like "$(cat "$T/err")" "^mrsh: $T/cfg(:| line )2: " "  which names the file and line"
	fi
done <<'EOF'
Hostname a b
User a b
ConnectTimeout x
ConnectTimeout -1
ConnectTimeout 5x
ServerAliveInterval x
ServerAliveInterval 1x
ServerAliveCountMax 9x
Port 0
Port 70000
Port x
Port
Ciphers nosuchcipher
Ciphers a b
RequestTTY maybe
CanonicalizeHostname perhaps
CanonicalizeMaxDots 99999999999
CanonicalDomains -bad.example
CanonicalDomains .bad.example
CanonicalDomains none x
CanonicalizePermittedCNAMEs nocolon
CanonicalizePermittedCNAMEs none x
StrictHostKeyChecking maybe
BatchMode maybe
IdentitiesOnly perhaps
Match all host x
Match bogus x
Match host
Match
KnownHostsCommand
UserKnownHostsFile
Bogus 1
IdentityFile
ProxyJump
Match canonical host x
ForwardAgent maybe
EOF

# the same mistakes given with -o
for o in ConnectTimeout=x Port=70000 Bogus=1 RequestTTY=maybe; do
	ssh -G -F /dev/null -o "$o" h >/dev/null 2>&1
	want=$?
	"$MRSH" -F /dev/null -o "$o" -G h >"$T/out" 2>"$T/err"
	got=$?
	if [ "$want" = 0 ]; then
		is "$got" 0 "ssh takes -o $o: so does mrsh"
	else
		is "$got/$(wc -l <"$T/err")" "2/1" "ssh refuses -o $o: mrsh exits 2 with one line"
	fi
done

done_testing
