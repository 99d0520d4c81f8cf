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
Match ""
Match "" host x
Match host "" x
Match host x ""
Match all ""
UserKnownHostsFile a ""
UserKnownHostsFile a none
CanonicalDomains a!b.example
CanonicalDomains a..b
CanonicalizePermittedCNAMEs a:
SendEnv A=B
SetEnv A
CanonicalizeFallbackLocal maybe
ServerAliveInterval 999999999w
ServerAliveCountMax 99999999999
EOF

# Keywords mrsh does not implement (ignored, or refusing the host) and the
# algorithm lists: ssh checks their values when it reads the file, so mrsh
# takes exactly what ssh takes and refuses the rest in ssh's own words.
while IFS= read -r line; do
	[ -n "$line" ] || continue
	printf 'Host *\n  %s\n' "$line" >"$T/cfg"
	ssh -G -F "$T/cfg" h >/dev/null 2>"$T/serr"
	want=$?
	"$MRSH" -F "$T/cfg" -G h >"$T/out" 2>"$T/err"
	got=$?
	if [ "$want" = 0 ]; then
		is "$got" 0 "ssh takes '$line': so does mrsh"
		continue
	fi
	smsg=$(tr -d '\r' <"$T/serr" | grep -v '^Pseudo-terminal' | head -n 1)
	is "$got/$(wc -l <"$T/err")" "2/1" "ssh refuses '$line': mrsh exits 2 with one line"
	is "$(cat "$T/err")" "mrsh: $smsg" "  in ssh's words: $smsg"
done <<'EOF'
Compression yes no
Compression maybe
Compression true
Compression yes
ConnectionAttempts x
ConnectionAttempts -1
ConnectionAttempts 99999999999
ConnectionAttempts 3 4
ConnectionAttempts 3
LogLevel LOUD
LogLevel debug3
AddressFamily inet7
AddressFamily inet6
AddKeysToAgent maybe
AddKeysToAgent confirm 5m
AddKeysToAgent confirm x
AddKeysToAgent 5m
AddKeysToAgent yes 5m
AddKeysToAgent confirm 5m 1
ClearAllForwardings maybe
ControlMaster maybe
ControlMaster autoask
ControlPath /tmp/%C
ControlPath a b
ControlPersist maybe
ControlPersist TRUE
ControlPersist 10m
EnableEscapeCommandline maybe
EnableSSHKeysign maybe
EscapeChar xx
EscapeChar ^A
EscapeChar ^
EscapeChar ^~
EscapeChar none
ExitOnForwardFailure maybe
FingerprintHash sha1
FingerprintHash SHA512
FingerprintHash bogus
ForkAfterAuthentication maybe
ForwardAgent maybe
ForwardAgent a b
ForwardX11 maybe
ForwardX11Timeout x
ForwardX11Timeout 1d
ForwardX11Trusted maybe
GatewayPorts maybe
GSSAPIAuthentication maybe
GSSAPIClientIdentity a b
GSSAPIDelegateCredentials maybe
GSSAPIKeyExchange maybe
GSSAPITrustDns maybe
GSSAPIRenewalForcesRekey maybe
GSSAPIServerIdentity a b
HostbasedAcceptedAlgorithms nosuch
HostbasedAcceptedAlgorithms ssh-ed25519,,x
HostbasedKeyTypes nosuch
HostbasedAuthentication maybe
IPQoS bogus
IPQoS af11 bogus
IPQoS 0x10 af11
IPQoS 256
IPQoS af11 af12 af13
KeepAlive maybe
KeepAlive no
KbdInteractiveDevices a b
NoHostAuthenticationForLocalhost maybe
NumberOfPasswordPrompts x
PermitLocalCommand maybe
PKCS11Provider a b
PreferredAuthentications a b
ProxyUseFdpass maybe
RekeyLimit x
RekeyLimit 8
RekeyLimit 16
RekeyLimit 1.5G 1h
RekeyLimit 1g none
RekeyLimit 1G x
RekeyLimit 1G none x
RekeyLimit default
RekeyLimit 1X
RekeyLimit 0
SecurityKeyProvider a b
SmartcardDevice a b
StdinNull maybe
StreamLocalBindMask 999
StreamLocalBindMask 0x1
StreamLocalBindMask 0777
StreamLocalBindMask 1000
StreamLocalBindUnlink maybe
SyslogFacility BOGUS
SyslogFacility local7
SyslogFacility authpriv
TCPKeepAlive maybe
Tunnel maybe
Tunnel point-to-point
TunnelDevice x:y:z
TunnelDevice 1:any
TunnelDevice any
TunnelDevice 1:x
TunnelDevice x:1
UpdateHostKeys maybe
UpdateHostKeys ask
VerifyHostKeyDNS maybe
VisualHostKey maybe
XAuthLocation a b
PubkeyAuthentication maybe
PubkeyAuthentication unbound
DSAAuthentication maybe
RequiredRSASize x
RequiredRSASize 2048
CASignatureAlgorithms nosuch
CASignatureAlgorithms ssh-ed25519
SessionType bogus
SessionType none
BindAddress a b
BindInterface a b
Ciphers aes128-ctr,,aes256-ctr
Ciphers aes128-ctr,
Ciphers aes128-ctr,,nosuch
Ciphers ,nosuch
Ciphers +,nosuch
Ciphers +aes128-cbc,,nosuch
Ciphers ^aes128-ctr,,nosuch
Ciphers !aes128-ctr
MACs hmac-sha1,
KexAlgorithms curve25519-sha256,,x
PubkeyAcceptedAlgorithms ssh-ed25519,,x
PubkeyAcceptedKeyTypes ssh-ed25519
PubkeyAcceptedKeyTypes nosuch
HostKeyAlgorithms ssh-ed25519,
LogVerbose none x
LogVerbose a b
PermitRemoteOpen any x
PermitRemoteOpen h:22 x:*
PermitRemoteOpen h:0
DynamicForward 1080 1081
LocalForward bogus
LocalForward 1 h:2 3
RemoteForward 1
Protocol 7
UseRoaming maybe
EOF

# Empty names in an algorithm list: ssh checks the names before the first
# empty one and builds the list from the names it has (kex_assemble_names);
# mrsh -G prints the same list.
for line in 'Ciphers aes128-ctr,,aes256-ctr' 'Ciphers aes128-ctr,' \
    'Ciphers aes128-ctr,,nosuch' 'Ciphers +,aes128-cbc' \
    'Ciphers ^aes128-cbc,,nosuch' 'MACs hmac-sha1,,hmac-sha2-256' \
    'KexAlgorithms curve25519-sha256,' 'PubkeyAcceptedKeyTypes ssh-ed25519' \
    'HostKeyAlgorithms ssh-ed25519,,nosuch'; do
	printf 'Host *\n  %s\n' "$line" >"$T/cfg"
	kw=$(printf '%s' "${line%% *}" | tr A-Z a-z)
	[ "$kw" = pubkeyacceptedkeytypes ] && kw=pubkeyacceptedalgorithms
	want=$(ssh -G -F "$T/cfg" h 2>/dev/null | grep "^$kw ")
	got=$("$MRSH" -F "$T/cfg" -G h 2>/dev/null | grep "^$kw ")
	is "$got" "$want" "-G '$line': $want"
done

# % tokens and ${VAR} in HostName and file names are checked when a host
# uses them, as ssh does: a block that applies to no host is fine; the host
# that uses one is refused (ssh fails it too).
for line in 'Hostname %x' 'IdentityFile %Z' 'CertificateFile %Z' \
    'IdentityAgent %Z' 'UserKnownHostsFile %Z' \
    'IdentityFile /i/${MRSH_T0275_UNSET' 'IdentityFile /i/${MRSH_T0275_UNSET}'; do
	printf 'Host nomatch\n  %s\n' "$line" >"$T/cfg"
	ssh -G -F "$T/cfg" h >/dev/null 2>&1
	want=$?
	"$MRSH" -F "$T/cfg" -G h >"$T/out" 2>"$T/err"
	is "$?/$(cat "$T/err")" "$want/" "'$line' in a block for no host: taken as ssh takes it"
	printf 'Host *\n  %s\n' "$line" >"$T/cfg"
	"$MRSH" -F "$T/cfg" -G h >"$T/out" 2>"$T/err"
	like "$(cat "$T/err")" "^mrsh: h: mrsh would not connect: (.*cfg:2: )?[A-Za-z]+ .*; not connecting\$" \
	    "  and the host that uses it is refused"
done
# ${VAR} in an agent socket path is checked when ssh reads the line.
for line in 'IdentityAgent ${MRSH_T0275_UNSET}' 'IdentityAgent /a/${HOME' \
    'ForwardAgent ${MRSH_T0275_UNSET}' 'IdentityAgent $1-x'; do
	printf 'Host nomatch\n  %s\n' "$line" >"$T/cfg"
	ssh -G -F "$T/cfg" h >/dev/null 2>&1
	want=$?
	"$MRSH" -F "$T/cfg" -G h >"$T/out" 2>"$T/err"
	got=$?
	if [ "$want" = 0 ]; then
		is "$got" 0 "ssh takes '$line': so does mrsh"
	else
		case $line in
		*'$1-x') kind=name ;;
		*) kind=expansion ;;
		esac
		is "$got/$(cat "$T/err")" \
		    "2/mrsh: $T/cfg line 2: Invalid environment $kind ${line#* }." \
		    "ssh refuses '$line': so does mrsh, naming the file and line"
	fi
done
# GlobalKnownHostsFile is used as written: ssh 9.2 expands nothing in it.
printf 'Host *\n  GlobalKnownHostsFile /g/%%h ~/g\n' >"$T/cfg"
is "$("$MRSH" -F "$T/cfg" -G h 2>/dev/null | grep '^globalknownhostsfile ')" \
    "$(ssh -G -F "$T/cfg" h 2>/dev/null | grep '^globalknownhostsfile ')" \
    "GlobalKnownHostsFile /g/%h ~/g: as written, as ssh"

# the same mistakes given with -o
for o in ConnectTimeout=x Port=70000 Bogus=1 RequestTTY=maybe LogLevel=LOUD \
    KeepAlive=maybe Ciphers=aes128-ctr, Compression=maybe; do
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
