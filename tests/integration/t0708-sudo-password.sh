#!/bin/bash
# t0708: --sudo where sudo really checks the password (t0707 runs as root,
# which sudo never asks). The test re-runs itself in a private mount and
# network namespace where copies of /etc/passwd (one extra unprivileged
# user), /etc/shadow (that user with a known password) and /etc/sudoers
# (that user may run anything as root WITH a password, asked every time)
# are bind-mounted over the real ones: the machine's files are never
# touched. The user logs in with the test's key; sudo on each of 3 hosts
# checks the password mrsh sends on the channel's input.
# - the right password, typed once: the command runs as root on 3 hosts,
#   and the password is nowhere in the output, the terminal or the trace;
# - a wrong password: typed once, each host fails with sudo's own message
#   and mrsh exits 1 (doc/mrsh.1: "A wrong password: sudo's own message on
#   the host's stderr, exit 1"), bounded by -u and the pty helper.
# - then sudoers gets "requiretty": without a pty sudo refuses; with
#   --tty and with RequestTTY=force the right password runs the command
#   as root and the password is not echoed into the output; a wrong one
#   ends with sudo's message and exit 1 (the ^D after it), not at -u.
. "$top_srcdir/tests/integration/lib.sh"
set -u

need_cmd sudo mount timeout getent
reexec_in_netns --mount --propagation private -- "$@"

T=$(make_tmpdir)
[ -x "$MRSH" ] || bail_out "no mrsh binary at $MRSH"
unset SSH_AUTH_SOCK SSH_AGENT_PID
chmod 755 "$T"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

# ---- an unprivileged user with a known password, in this namespace only --
U=mrshsudo
PW="sudo-pw-$$-$RANDOM"
uid=$(awk -F: 'BEGIN { u = 64000 } { seen[$3] = 1 } END { while (u in seen) u++; print u }' /etc/passwd)
mkdir -p "$T/home"
chown "$uid" "$T/home"
{ cat /etc/passwd; echo "$U:x:$uid:$uid:mrsh sudo test:$T/home:/bin/bash"; } >"$T/passwd"
mount --bind "$T/passwd" /etc/passwd ||
	skip_all "cannot bind-mount a private /etc/passwd"
[ "$(getent passwd "$U" | cut -d: -f3)" = "$uid" ] ||
	skip_all "the private /etc/passwd is not read (nss)"

SALT=$(printf '%04x%04x%04x' "$RANDOM" "$RANDOM" "$RANDOM")
HASH=
if command -v perl >/dev/null 2>&1; then	# perl-base: always on Debian
	HASH=$(perl -e 'print crypt($ARGV[0], "\$6\$$ARGV[1]\$")' "$PW" "$SALT")
fi
case $HASH in
'$6$'*) ;;
*) HASH=$(openssl passwd -6 -salt "$SALT" "$PW" 2>/dev/null) ;;
esac
case $HASH in
'$6$'*) ;;
*) skip_all "cannot make a SHA-512 crypt hash (perl crypt, openssl passwd -6)" ;;
esac
today=$(($(date +%s) / 86400))
{ cat /etc/shadow; echo "$U:$HASH:$today:0:99999:7:::"; } >"$T/shadow" ||
	bail_out "cannot copy /etc/shadow"
chmod 0640 "$T/shadow"
chown --reference=/etc/shadow "$T/shadow" 2>/dev/null
mount --bind "$T/shadow" /etc/shadow ||
	skip_all "cannot bind-mount a private /etc/shadow"
grep -qF "$U:$HASH:" /etc/shadow ||
	bail_out "the private /etc/shadow is not in place"

# ---- a private sudoers: $U may run anything as root, with a password ----
{
	cat /etc/sudoers
	echo "Defaults !lecture"
	echo "Defaults !mail_badpass"
	echo "Defaults timestamp_timeout=0"
	echo "$U ALL=(ALL:ALL) ALL"
} >"$T/sudoers" || bail_out "cannot copy /etc/sudoers"
chown root:root "$T/sudoers"
chmod 0440 "$T/sudoers"
if command -v visudo >/dev/null 2>&1; then
	visudo -c -q -f "$T/sudoers" >/dev/null 2>&1 ||
		bail_out "the private sudoers does not parse"
fi
mount --bind "$T/sudoers" /etc/sudoers ||
	skip_all "cannot bind-mount a private /etc/sudoers"
grep -qx "$U ALL=(ALL:ALL) ALL" /etc/sudoers ||
	bail_out "the private /etc/sudoers is not in place"

SSHD_REAL_HOME=1 start_sshd 3
# sshd reads authorized_keys as the user.
chmod 755 "$SSHD_DIR"
chmod 644 "$SSHD_DIR/authorized_keys"
sshd_client_config "$T/u.cfg" "$USER_KEY" "$KNOWN_HOSTS" "User $U"
M=("$MRSH" -F "$T/u.cfg" -t 30 -u 60)
HOSTS='127.0.1.[1-3]'

capture "$T" "${M[@]}" -w 127.0.1.1 id -un
is "$RC/$(cat "$T/out")" "0/127.0.1.1: $U" "logs in as the unprivileged user $U" ||
	bail_out "cannot log in as $U: $(head -c 500 "$T/err")"

# without a password sudo really refuses this user (no NOPASSWD, no ticket)
capture "$T" "${M[@]}" -w 127.0.1.1 'sudo -n id -u'
is "$RC" 1 "sudo -n as $U without --sudo: refused (exit 1)"
like "$(cat "$T/err")" 'password is required' "sudo says a password is required"

# ask ANSWER ARGS...: mrsh ARGS on a terminal that types ANSWER at each
# "[sudo] password: " prompt (mrsh's own, at the start of a line)
ask() {
	local answer=$1

	shift
	capture "$T" "$PY" "$top_srcdir/tests/helpers/pty-answer.py" \
		--prompt '(^|\n)\[sudo\] password: ' --answer "$answer" \
		--timeout 90 --stdout "$T/pty.out" --transcript "$T/pty.tty" \
		--count "$T/pty.n" -- "$@"
}

# ---- the right password -----------------------------------------------
ask "$PW" "${M[@]}" --sudo -w "$HOSTS" -vv 'id -u; echo "$SUDO_USER"'
is "$RC" 0 "right password: exit 0"
is "$(cat "$T/pty.n")" 1 "right password: asked once for 3 hosts"
is "$(sort "$T/pty.out")" "$(printf '127.0.1.%d: 0\n127.0.1.%d: %s\n' 1 1 "$U" 2 2 "$U" 3 3 "$U")" \
	"right password: the command ran as root (id -u 0) for $U on every host"
is "$(cat "$T/pty.out" "$T/pty.tty" "$T/out" "$T/err" | grep -c -- "$PW")" 0 \
	"right password: not in the output, the terminal or the -vv trace"

# ---- a wrong password -------------------------------------------------
ask "not-$PW" "${M[@]}" --sudo -w "$HOSTS" -vv 'id -u; echo ran-as-root'
is "$RC" 1 "wrong password: exit 1, as doc/mrsh.1 says (no hang)"
is "$(cat "$T/pty.n")" 1 "wrong password: asked once"
is "$(cat "$T/pty.out")" "" "wrong password: the command ran nowhere (no output)"
# The terminal without colours and the progress line.
sed 's/\x1b\[[0-9;]*[A-Za-z]//g; s/\r$//; s/.*\r//' "$T/pty.tty" >"$T/tty.txt"
is "$(grep -Ec '^127\.0\.1\.[1-3]: sudo: 1 incorrect password attempt$' "$T/tty.txt")" 3 \
	"wrong password: each of the 3 hosts says so (sudo's own message)" ||
	diag "the terminal: $(grep -v '^mrsh: [a-z_]*:[0-9]*:' "$T/tty.txt" | head -c 1500)"
is "$(grep -Ec '^mrsh: 127\.0\.1\.[1-3]: exited with exit code 1$' "$T/tty.txt")" 3 \
	"wrong password: each host's exit status 1 is reported"
is "$(cat "$T/pty.out" "$T/pty.tty" "$T/out" "$T/err" | grep -c -- "$PW")" 0 \
	"wrong password: not in the output, the terminal or the -vv trace"

# ---- requiretty: --sudo over a pty ---------------------------------------
# The bind-mounted file is $T/sudoers: appending changes what sudo reads.
echo "Defaults requiretty" >>"$T/sudoers"
grep -qx "Defaults requiretty" /etc/sudoers ||
	bail_out "requiretty is not in the private /etc/sudoers"
ask "$PW" "${M[@]}" --sudo -w 127.0.1.1 'id -u'
is "$RC" 1 "requiretty, no pty: sudo refuses (exit 1)"
like "$(cat "$T/pty.tty")" 'you must have a tty to run sudo' \
	"requiretty, no pty: sudo's own message"

for how in --tty "-o RequestTTY=force"; do
	# shellcheck disable=SC2086 # $how is one option or two words
	ask "$PW" "${M[@]}" --sudo $how -w "$HOSTS" -vv 'id -u; tty <&1'
	is "$RC" 0 "requiretty, --sudo $how: exit 0"
	is "$(cat "$T/pty.n")" 1 "requiretty, --sudo $how: asked once for 3 hosts"
	# CR LF from the pty; sudo's use_pty (Debian's default) adds a
	# second pty, hence a second CR, as with ssh -tt.
	is "$(grep -Ec ': 0'$'\r''+$' "$T/pty.out")" 3 \
		"requiretty, --sudo $how: id -u is 0 on every host (CR LF: a pty)"
	is "$(grep -Ec ': /dev/pts/[0-9]+'$'\r''+$' "$T/pty.out")" 3 \
		"requiretty, --sudo $how: the command has a terminal"
	is "$(tr -d '\r' <"$T/pty.out" | sed 's/^127\.0\.1\.[1-3]: //' | sort -u |
		grep -Evx '0|/dev/pts/[0-9]+' | head -c 300)" "" \
		"requiretty, --sudo $how: nothing else in the output (no echoed password)"
	is "$(cat "$T/pty.out" "$T/pty.tty" "$T/out" "$T/err" | grep -c -- "$PW")" 0 \
		"requiretty, --sudo $how: the password is nowhere"
done

ask "not-$PW" "${M[@]}" --sudo --tty -w "$HOSTS" 'id -u; echo ran-as-root'
is "$RC" 1 "requiretty, --sudo --tty, wrong password: exit 1 (no wait for -u)"
is "$(grep -c ran-as-root "$T/pty.out")" 0 \
	"requiretty, wrong password: the command ran nowhere"
is "$(tr -d '\r' <"$T/pty.out" | grep -Ec '^127\.0\.1\.[1-3]: sudo: 1 incorrect password attempt$')" 3 \
	"requiretty, wrong password: sudo's own message from each host (on the pty: stdout)" ||
	diag "output: $(head -c 1500 "$T/pty.out")"
is "$(cat "$T/pty.out" "$T/pty.tty" "$T/out" "$T/err" | grep -c -- "$PW")" 0 \
	"requiretty, wrong password: the password is nowhere"

done_testing
