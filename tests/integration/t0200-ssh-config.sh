#!/bin/bash
# t0200: mrsh -G HOST prints the configuration OpenSSH's ssh -G prints for
# the same files and options, on the keys mrsh uses. Each case writes a
# config into a temp dir (HOME is a temp dir too) and compares the two
# outputs key by key. Normalised, and only that: ssh expands ~ with the
# password file's home where mrsh uses $HOME, and ssh prints
# "stricthostkeychecking ask" for what mrsh does as "true" (refuse unknown
# keys: mrsh never prompts).

. "$top_srcdir/tests/integration/lib.sh"
set -u

need_cmd ssh
[ -x "$MRSH" ] || bail_out "no mrsh binary at $MRSH"
tmp=$(make_tmpdir)
export HOME=$tmp/home
mkdir -p "$HOME/.ssh/conf.d"
chmod 700 "$HOME/.ssh"
unset SSH_AUTH_SOCK
pwhome=$(getent passwd "$(id -u)" | cut -d: -f6)
cd "$tmp" || exit 1

keys="hostname user port identityfile identitiesonly identityagent
connecttimeout stricthostkeychecking userknownhostsfile globalknownhostsfile
serveraliveinterval serveralivecountmax batchmode passwordauthentication"

# Put ssh's view in mrsh's terms (see the top of the file).
normalise_ssh() {
	local line
	while IFS= read -r line; do
		case $line in
		"stricthostkeychecking ask")
			line="stricthostkeychecking true" ;;
		esac
		if [ "$pwhome" != "$HOME" ] && [ -n "$pwhome" ]; then
			line=${line//" $pwhome/"/" $HOME/"}
		fi
		printf '%s\n' "$line"
	done
}

# compare NAME MRSH_ARGS -- SSH_ARGS: both end with the host.
compare() {
	local name=$1 m s k mv sv diffs="" mrc
	shift
	local margs=() sargs=()
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do margs+=("$1"); shift; done
	shift
	sargs=("$@")
	m=$("$MRSH" "${margs[@]}" 2>"$tmp/mrsh.err")
	mrc=$?
	s=$(ssh "${sargs[@]}" 2>/dev/null </dev/null | normalise_ssh)
	if [ $mrc -ne 0 ]; then
		fail "$name (mrsh exit $mrc: $(head -1 "$tmp/mrsh.err"))"
		return
	fi
	if [ -z "$s" ]; then
		fail "$name (ssh -G printed nothing)"
		return
	fi
	for k in $keys; do
		mv=$(printf '%s\n' "$m" | grep "^$k ")
		sv=$(printf '%s\n' "$s" | grep "^$k ")
		if [ "$mv" != "$sv" ]; then
			diffs="$diffs
#   mrsh: ${mv:-(none)}
#   ssh:  ${sv:-(none)}"
		fi
	done
	if [ -n "$diffs" ]; then
		fail "$name"
		echo "#   differences:$diffs"
	else
		pass "$name"
	fi
}

# cmp_host NAME CFG HOST: the simple case, same arguments for both.
cmp_host() {
	compare "$1" -F "$2" -G "$3" -- -F "$2" -G "$3"
}

# --- 1: HostName with %h and %%, User, Port --------------------------------
cat > basic.cfg <<'EOF'
# a comment
Host foo
    HostName %h.example.com
    User bob
    Port 2222
Host pct
    HostName %h.%%literal
EOF
cmp_host "HostName %h, User, Port" basic.cfg foo
cmp_host "host that matches nothing: defaults" basic.cfg bar
cmp_host "%% in HostName" basic.cfg pct
cmp_host "upper-case host: no match, hostname lowercased" basic.cfg FOO

# --- 2: patterns -----------------------------------------------------------
cat > patterns.cfg <<'EOF'
Host web?? !web99
    User webuser
Host *.example.com db*
    Port 2200
Host *
    User fallback
    ServerAliveInterval 15
EOF
for h in web01 web99 web100 a.example.com db3 other; do
	cmp_host "Host patterns: $h" patterns.cfg "$h"
done

# --- 3: first value wins, lists, values ------------------------------------
cat > values.cfg <<'EOF'
Host foo
    User first
    ConnectTimeout 1m
    StrictHostKeyChecking accept-new
    UserKnownHostsFile ~/kh1 %d/kh2_%h /abs/kh3
    IdentityFile ~/.ssh/k_%h_%r
    IdentitiesOnly yes
    BatchMode yes
Host *
    User second
    ConnectTimeout 99
    StrictHostKeyChecking no
    UserKnownHostsFile /never
    GlobalKnownHostsFile /g1 /g2
    IdentityFile /abs/id_other
    IdentityFile ~/.ssh/k_%h_%r
    ServerAliveInterval 1h30m
    ServerAliveCountMax 7
    PasswordAuthentication no
    IdentitiesOnly no
EOF
cmp_host "first value wins; IdentityFile accumulates" values.cfg foo
cmp_host "later block alone" values.cfg bar

# --- 4: Key=Value forms, quotes, case-insensitive keywords ------------------
cat > forms.cfg <<'EOF'
IgnoreUnknown UnknownToMrsh*
host foo
	hostname=real.example.com
	USER = "bob smith"
	Port=2022
	identityfile "/path with spaces/key"
	UserKnownHostsFile "/a b/kh" /c/kh
	connecttimeout=5
	UnknownToMrshButKnownToSsh yes
EOF
# Unknown keywords are errors in both, unless IgnoreUnknown names them.
cmp_host "Key=Value, quotes, keyword case, IgnoreUnknown" forms.cfg foo

# --- 5: Include ------------------------------------------------------------
cat > "$HOME/.ssh/conf.d/10-a.conf" <<'EOF'
User from-include
Host beta
    User beta-include
EOF
cat > "$HOME/.ssh/conf.d/20-b.conf" <<'EOF'
Port 4444
EOF
echo "Port 1" > "$HOME/.ssh/conf.d/ignored.txt"
cat > "$tmp/abs.conf" <<'EOF'
Host gamma
    HostName gamma.abs
EOF
cat > include.cfg <<EOF
Host alpha
    Include conf.d/*.conf
    ServerAliveInterval 5
Host gamma
    Include $tmp/abs.conf nothing/*.matches
Host *
    User last
EOF
for h in alpha beta gamma delta; do
	cmp_host "Include (relative glob, absolute, in blocks): $h" include.cfg "$h"
done

# --- 6: Match --------------------------------------------------------------
cat > match.cfg <<EOF
Host short
    HostName long.example.org
Match host *.example.org
    Port 1001
Match originalhost short user bob
    ServerAliveInterval 11
Match !host nomatch localuser $(id -un)
    ServerAliveCountMax 8
Match all
    User from-all
EOF
cmp_host "Match host sees HostName" match.cfg short
cmp_host "Match: nothing but all" match.cfg other
compare "Match user (user given with -l)" -F match.cfg -l bob -G short -- \
	-F match.cfg -l bob -G short

# --- 7: -o, -l, -p, -F none, user@host:port --------------------------------
compare "-o beats the file" -F basic.cfg -o User=ouser -o "Port 2100" \
	-o ConnectTimeout=3 -G foo -- \
	-F basic.cfg -o User=ouser -o "Port 2100" -o ConnectTimeout=3 -G foo
compare "-l and -p beat the file" -F basic.cfg -l luser -p 99 -G foo -- \
	-F basic.cfg -l luser -p 99 -G foo
compare "-F none" -F none -G somehost -- -F none -G somehost
compare "user@host:port" -F basic.cfg -G alice@foo:2023 -- \
	-F basic.cfg -l alice -p 2023 -G foo
for v in yes no off ask accept-new true false; do
	compare "StrictHostKeyChecking $v" -F none \
		-o "StrictHostKeyChecking=$v" -G h -- \
		-F none -o "StrictHostKeyChecking=$v" -G h
done
for v in none SSH_AUTH_SOCK "~/agent.sock" "/tmp/agent-%h"; do
	compare "IdentityAgent $v" -F none -o "IdentityAgent=$v" -G h -- \
		-F none -o "IdentityAgent=$v" -G h
done
compare "UserKnownHostsFile none" -F none -o "UserKnownHostsFile=none" \
	-G h -- -F none -o "UserKnownHostsFile=none" -G h
compare "ConnectTimeout 0" -F none -o "ConnectTimeout=0" -G h -- \
	-F none -o "ConnectTimeout=0" -G h

# --- 8: errors ---------------------------------------------------------------
cat > bad.cfg <<'EOF'
Host nothing-matches-this
    User x
    Port abc
EOF
err=$("$MRSH" -F bad.cfg -G foo 2>&1 >/dev/null)
rc=$?
if [ $rc -ne 0 ] && [ "$err" = "mrsh: bad.cfg:3: bad value for Port: abc" ]; then
	pass "bad value: one line FILE:LINE, non-zero exit"
else
	fail "bad value: one line FILE:LINE, non-zero exit (rc $rc)"
	echo "#   got: $err"
fi
if ! ssh -F bad.cfg -G foo >/dev/null 2>&1; then
	pass "ssh also refuses the bad value"
else
	fail "ssh also refuses the bad value"
fi

out=$("$MRSH" -v -F forms.cfg -G foo 2>&1 >/dev/null)
if [ $? -eq 0 ] &&
    printf '%s\n' "$out" | grep -q "forms.cfg:9: ssh_config keyword UnknownToMrshButKnownToSsh is not used by mrsh; ignored"; then
	pass "IgnoreUnknown keyword: noted at -v, not fatal"
else
	fail "IgnoreUnknown keyword: noted at -v, not fatal"
	echo "#   got: $out"
fi

cat > exec.cfg <<'EOF'
Match exec "test %h = foo"
    User from-exec
EOF
cmp_host "Match exec true applies its block" exec.cfg foo
cmp_host "Match exec false does not" exec.cfg bar

if "$MRSH" -F "$tmp/does-not-exist" -G foo >/dev/null 2>&1; then
	fail "-F with a missing file fails"
else
	pass "-F with a missing file fails"
fi

# --- 9: known_hosts against a private sshd ------------------------------------
# StrictHostKeyChecking yes / accept-new / no, [host]:port entries, hashed
# entries, a changed key. Skipped when there is no sshd.
if [ ! -x "${SSHD_BIN:-/usr/sbin/sshd}" ] || ! command -v ssh-keygen >/dev/null; then
	# The 11 points below, each named, so that the count stays honest.
	for t in "unknown host key refused under StrictHostKeyChecking yes" \
	    "accept-new: two [host]:port lines appended, file mode 0600" \
	    "ssh accepts the lines accept-new wrote" \
	    "accepted keys are known on the next run" \
	    "a plain host entry matches a non-22 port too, as in ssh" \
	    "hashed known_hosts entry matches" \
	    "changed host key refused, with the ssh-keygen -R hint" \
	    "StrictHostKeyChecking no connects anyway" \
	    "HashKnownHosts: hashed line that ssh-keygen -F finds" \
	    "the hashed line is matched on the next run" \
	    "key found in GlobalKnownHostsFile"; do
		skip "$t" "OpenSSH sshd or ssh-keygen not installed"
	done
	done_testing
fi
start_sshd 3
kh=$HOME/.ssh/kh_test
# The helper's client config, with our own known_hosts file.
sed -e "s|^\([[:space:]]*\)UserKnownHostsFile.*|\1UserKnownHostsFile $kh|" \
    -e "s|^\([[:space:]]*\)StrictHostKeyChecking.*|\1StrictHostKeyChecking yes|" \
    "$SSH_CONFIG" > kh.cfg
h1=127.0.1.1 h2=127.0.1.2 h3=127.0.1.3
fp=$(ssh-keygen -lf <(echo "x $HOST_KEY_PUB") | awk '{print $2}')

# run_mrsh ARGS...: output in $out, stdout+stderr; status in $rc.
run_mrsh() {
	out=$(timeout 60 "$MRSH" -F kh.cfg "$@" 2>&1)
	rc=$?
}

run_mrsh -w $h1 echo hi
if [ $rc -ne 0 ] && printf '%s\n' "$out" | grep -qF \
    "host key for $h1 not known (ssh-ed25519 $fp); accept it with -o StrictHostKeyChecking=accept-new" &&
    printf '%s\n' "$out" | grep -qF "(ssh-keyscan -p $SSHD_PORT $h1)" &&
    ! printf '%s\n' "$out" | grep -q "^$h1: hi"; then
	pass "unknown host key refused under StrictHostKeyChecking yes"
else
	fail "unknown host key refused under StrictHostKeyChecking yes"
	printf '%s\n' "$out" | sed 's/^/#   /'
fi

run_mrsh -o StrictHostKeyChecking=accept-new -w $h1,$h2 echo hi
if [ $rc -eq 0 ] && [ "$(grep -c "^\[127\.0\.1\.[12]\]:$SSHD_PORT ssh-ed25519 " "$kh")" = 2 ] &&
    [ "$(wc -l < "$kh")" -eq 2 ] && [ "$(stat -c %a "$kh")" = 600 ]; then
	pass "accept-new: two [host]:port lines appended, file mode 0600"
else
	fail "accept-new: two [host]:port lines appended, file mode 0600"
	printf '%s\n' "$out" | sed 's/^/#   /'
	sed 's/^/#   kh: /' "$kh" 2>/dev/null
fi

if ssh -F kh.cfg -o BatchMode=yes $h1 true </dev/null >/dev/null 2>&1; then
	pass "ssh accepts the lines accept-new wrote"
else
	fail "ssh accepts the lines accept-new wrote"
fi

run_mrsh -w $h1,$h2 echo hi
if [ $rc -eq 0 ] && [ "$(printf '%s\n' "$out" | grep -c ": hi$")" = 2 ]; then
	pass "accepted keys are known on the next run"
else
	fail "accepted keys are known on the next run"
	printf '%s\n' "$out" | sed 's/^/#   /'
fi

# A plain "host" line counts for another port when nothing is known for
# [host]:port: ssh retries "without port identifier" (sshconnect.c).
echo "$h3 $HOST_KEY_PUB" > "$kh"
run_mrsh -w $h3 echo hi
if [ $rc -eq 0 ] && printf '%s\n' "$out" | grep -q "^$h3: hi$"; then
	pass "a plain host entry matches a non-22 port too, as in ssh"
else
	fail "a plain host entry matches a non-22 port too, as in ssh"
	printf '%s\n' "$out" | sed 's/^/#   /'
fi

# Hashed entries, with lines libssh2 cannot parse around them.
echo "[$h3]:$SSHD_PORT $HOST_KEY_PUB" > "$tmp/hashed"
ssh-keygen -H -f "$tmp/hashed" >/dev/null 2>&1
{
	echo "@cert-authority *.example.com $HOST_KEY_PUB"
	echo "junk"
	echo "# comment"
	cat "$tmp/hashed"
} > "$kh"
run_mrsh -w $h3 echo hi
if [ $rc -eq 0 ] && grep -q '^|1|' "$kh" && ! grep -q "$h3" "$kh"; then
	pass "hashed known_hosts entry matches"
else
	fail "hashed known_hosts entry matches"
	printf '%s\n' "$out" | sed 's/^/#   /'
fi

# A different key for the host: refused, even with accept-new.
ssh-keygen -q -t ed25519 -N '' -f "$tmp/other" </dev/null >/dev/null
echo "[$h1]:$SSHD_PORT $(cut -d' ' -f1,2 "$tmp/other.pub")" > "$kh"
run_mrsh -o StrictHostKeyChecking=accept-new -w $h1 echo hi
if [ $rc -ne 0 ] && printf '%s\n' "$out" | grep -qF \
    "host key for $h1 has CHANGED (ssh-ed25519 $fp)" &&
    printf '%s\n' "$out" | grep -qF \
    "remove the old key with: ssh-keygen -R '[$h1]:$SSHD_PORT' -f $kh" &&
    [ "$(wc -l < "$kh")" -eq 1 ]; then
	pass "changed host key refused, with the ssh-keygen -R hint"
else
	fail "changed host key refused, with the ssh-keygen -R hint"
	printf '%s\n' "$out" | sed 's/^/#   /'
fi

run_mrsh -o StrictHostKeyChecking=no -w $h1 echo hi
if [ $rc -eq 0 ] && printf '%s\n' "$out" | grep -q "^$h1: hi"; then
	pass "StrictHostKeyChecking no connects anyway"
else
	fail "StrictHostKeyChecking no connects anyway"
	printf '%s\n' "$out" | sed 's/^/#   /'
fi

# HashKnownHosts yes: accept-new writes a hashed name OpenSSH can find.
rm -f "$kh"
run_mrsh -o HashKnownHosts=yes -o StrictHostKeyChecking=accept-new \
    -w $h2 echo hi
if [ $rc -eq 0 ] && grep -q '^|1|[^|]*|[^ ]* ssh-ed25519 ' "$kh" &&
    ! grep -q "$h2" "$kh" &&
    ssh-keygen -F "[$h2]:$SSHD_PORT" -f "$kh" 2>/dev/null | grep -q ssh-ed25519
then
	pass "HashKnownHosts: hashed line that ssh-keygen -F finds"
else
	fail "HashKnownHosts: hashed line that ssh-keygen -F finds"
	printf '%s\n' "$out" | sed 's/^/#   /'
	sed 's/^/#   kh: /' "$kh" 2>/dev/null
fi
run_mrsh -w $h2 echo hi
if [ $rc -eq 0 ]; then
	pass "the hashed line is matched on the next run"
else
	fail "the hashed line is matched on the next run"
	printf '%s\n' "$out" | sed 's/^/#   /'
fi

# The global file is read too.
rm -f "$kh"
run_mrsh -o "GlobalKnownHostsFile=$KNOWN_HOSTS" -w $h2 echo hi
if [ $rc -eq 0 ] && [ ! -e "$kh" ]; then
	pass "key found in GlobalKnownHostsFile"
else
	fail "key found in GlobalKnownHostsFile"
	printf '%s\n' "$out" | sed 's/^/#   /'
fi

done_testing
