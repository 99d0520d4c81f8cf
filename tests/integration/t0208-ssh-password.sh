#!/bin/bash
# t0208: password and keyboard-interactive authentication against a real
# OpenSSH sshd. The test re-runs itself in a private mount and network
# namespace, where a copy of /etc/shadow with a known password for the
# current user is bind-mounted over the real one (and, for
# keyboard-interactive, a private /etc/pam.d/sshd that uses pam_unix): the
# machine's accounts and files are never touched, and the sshd that accepts
# that password is reachable only from inside the namespace.
#
# - password (sshd with UsePAM no, which reads the shadow file itself):
#   with --askpass and only a key the server refuses, the password is asked
#   once on the terminal for 5 hosts and all 5 log in by password; without
#   --askpass every host fails (exit 255) naming the methods, and nothing is
#   asked; a wrong password is refused with a clear error, no hang; the
#   password is read from the terminal even when stdin is not one; with no
#   terminal at all --askpass fails at once instead of hanging; ^C at the
#   prompt leaves the terminal echoing, ^Z stops and asks again after fg;
#   PasswordAuthentication no in the ssh config is obeyed.
# - keyboard-interactive (sshd with UsePAM yes, pam_unix): the same answers;
#   KbdInteractiveAuthentication no in the ssh config is obeyed.
. "$top_srcdir/tests/integration/lib.sh"
set -u

# Root: a private mount namespace with its own /etc/shadow.
need_cmd mount setsid timeout
reexec_in_netns --mount --propagation private -- "$@"

T=$(make_tmpdir)
[ -x "$MRSH" ] || bail_out "no mrsh binary at $MRSH"
unset SSH_AUTH_SOCK SSH_AGENT_PID
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
PTY=("$PY" "$top_srcdir/tests/helpers/pty-answer.py")
# pty-answer.py answers whenever its regex matches what the terminal shows:
# only mrsh's own prompt (at the start of a line), never an error message
# that mentions passwords.
PROMPT='(^|\n)Password: '

# ---- a known password for the current user, in this namespace only ----
ME=$(id -un)
PW="mrsh-pw-$$-$RANDOM"
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
# The user's line with the known hash, changed today, never expiring.
awk -F: -v OFS=: -v u="$ME" -v h="$HASH" -v d="$today" '
	$1 == u { $2 = h; $3 = d; $4 = 0; $5 = 99999; $7 = ""; $8 = ""; seen = 1 }
	{ print }
	END { if (!seen) print u, h, d, 0, 99999, 7, "", "", "" }' \
	/etc/shadow >"$T/shadow" || bail_out "cannot copy /etc/shadow"
chmod 0640 "$T/shadow"
chown --reference=/etc/shadow "$T/shadow" 2>/dev/null
mount --bind "$T/shadow" /etc/shadow ||
	bail_out "cannot bind-mount a private /etc/shadow"
at_exit "umount /etc/shadow"
grep -qF "$ME:$HASH:" /etc/shadow ||
	bail_out "the private /etc/shadow is not in place"

# For the sshd just started: a client config with no IdentityFile, where
# passwords are allowed (sshd.sh's own config says no), and mrsh with -i a
# key that the server refuses.
client_config() {
	sshd_client_config "$T/pw.cfg" none "$KNOWN_HOSTS" \
		"PasswordAuthentication yes" "KbdInteractiveAuthentication yes"
	M=("$MRSH" -F "$T/pw.cfg" -i "$WRONG_KEY" -t 30)
}
HOSTS='127.0.1.[1-5]'

# ask ANSWER ARGS...: run mrsh ARGS on a new terminal that types ANSWER at
# each "Password: " prompt; stdout in $T/pty.out, the terminal in
# $T/pty.tty, the number of prompts in $T/pty.n, exit status in RC.
ask() {
	local answer=$1

	shift
	capture "$T" "${PTY[@]}" --prompt "$PROMPT" --answer "$answer" \
		--timeout 60 --stdout "$T/pty.out" --transcript "$T/pty.tty" \
		--count "$T/pty.n" -- "$@"
}

# ======== password: sshd reads the shadow file itself (UsePAM no) ========
SSHD_EXTRA_CONFIG="PermitRootLogin yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
UsePAM no" start_sshd 5
client_config

# the right password, asked once for 5 hosts
ask "$PW" "${M[@]}" --askpass -w "$HOSTS" 'echo pw-ok'
is "$RC" 0 "password: --askpass, a refused key, the password typed once: exit 0"
is "$(grep -c ': pw-ok$' "$T/pty.out")" 5 "password: all 5 hosts ran the command"
is "$(cat "$T/pty.n")" 1 "password: asked once, not once per host"
is "$(grep -c "Accepted password for $ME from" "$SSHD_LOG")" 5 \
	"password: sshd accepted 5 logins by password"
unlike "$(cat "$T/pty.tty")" "$PW" "password: the password is not echoed"

# without --askpass: refused, the methods named, no prompt
ask "$PW" "${M[@]}" -w "$HOSTS" 'echo should-not-run'
is "$RC" 255 "password: no --askpass: exit 255"
is "$(cat "$T/pty.n")" 0 "password: no --askpass: nothing is asked"
is "$(grep -Ec 'mrsh: 127\.0\.1\.[1-5]: .*\(publickey,password\).*--askpass' "$T/pty.tty")" 5 \
	"password: each of the 5 hosts fails naming the methods and --askpass"
like "$(cat "$T/pty.tty")" '127\.0\.1\.[1-5].*(denied|refused)' \
	"password: the error names the host and says it was refused"
is "$(cat "$T/pty.out")" "" "password: no --askpass: nothing ran"

# a wrong password: refused, clearly, no hang
failed_before=$(grep -c 'Failed password' "$SSHD_LOG")
ask not-the-password "${M[@]}" --askpass -w "$HOSTS" 'echo should-not-run'
is "$RC" 255 "password: wrong password: exit 255 (no hang)"
is "$(cat "$T/pty.n")" 1 "password: wrong password: asked once"
is "$(grep -Ec 'mrsh: 127\.0\.1\.[1-5]: .*denied \(publickey,password\).*password.*refused' "$T/pty.tty")" 5 \
	"password: wrong password: each host says the password was refused"
is "$(cat "$T/pty.out")" "" "password: wrong password: nothing ran"
is "$(($(grep -c 'Failed password' "$SSHD_LOG") - failed_before))" 5 \
	"password: sshd saw one wrong password per host, no retries"

# stdin is not the terminal: the password still comes from /dev/tty
ask "$PW" bash -c 'exec "$@" </dev/null' - "${M[@]}" --askpass -w "$HOSTS" \
	'echo pw-ok'
is "$RC/$(grep -c ': pw-ok$' "$T/pty.out")/$(cat "$T/pty.n")" 0/5/1 \
	"password: stdin not a terminal: asked on /dev/tty, 5 hosts ran"

# no terminal at all (no controlling tty, stdin /dev/null): fail, no hang
CAPTURE_TIMEOUT=30 capture "$T" setsid -w "${M[@]}" --askpass -w "$HOSTS" \
	'echo should-not-run'
ok "$([ "$RC" != 0 ] && [ "$RC" != 124 ] && echo 0 || echo 1)" \
	"password: --askpass without a terminal fails at once (exit $RC)"
like "$(cat "$T/err")" 'askpass.*(terminal|tty)' \
	"password: the error says there is no terminal to ask on"
is "$(cat "$T/out")" "" "password: no terminal: nothing ran"

# ^C at the prompt: mrsh dies of SIGINT with echo back on (the shell is not
# left typing blind); ^Z: stopped with echo on, asked again after fg.
PW=$PW timeout -k 5 60 "$PY" - "${M[@]}" --askpass -w "$HOSTS" 'echo pw-ok' \
	>"$T/sig.out" 2>&1 <<'EOF'
import os, pty, select, signal, sys, termios, time
def run(argv):
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(argv[0], argv)
    return pid, fd
def until(fd, pat, secs=20):
    buf, end = b"", time.time() + secs
    while pat not in buf and time.time() < end:
        if select.select([fd], [], [], 0.2)[0]:
            try:
                buf += os.read(fd, 4096)
            except OSError:
                break
    return buf
def echo(fd):
    return "on" if termios.tcgetattr(fd)[3] & termios.ECHO else "off"
mrsh, pw = sys.argv[1:], os.environ["PW"]
pid, fd = run(mrsh)
until(fd, b"Password: ")
time.sleep(0.2)
os.write(fd, b"\x03")
_, st = os.waitpid(pid, 0)
print("int: signal %d, echo %s" % (os.WTERMSIG(st) if os.WIFSIGNALED(st) else 0, echo(fd)))
# bash with job control, so that mrsh's process group is not orphaned
pid, fd = run(["/bin/bash", "-c", 'set -m; "$@"; echo "<stopped $?>"; read -r _; fg; echo "<rc $?>"', "-"] + mrsh)
until(fd, b"Password: ")
time.sleep(0.2)
os.write(fd, b"\x1a")
out = until(fd, b"<stopped")
time.sleep(0.2)
e = echo(fd)
os.write(fd, b"\n")  # now bash may fg it
out = until(fd, b"Password: ")
time.sleep(0.2)
e2 = echo(fd)
os.write(fd, pw.encode() + b"\n")
out = until(fd, b"<rc ")
out += until(fd, b">", 5)
print("tstp: echo %s when stopped, %s when asked again, ran %d, %s" % (e, e2, out.count(b"pw-ok"), out[out.find(b"<rc"):].decode()))
os.kill(pid, signal.SIGKILL)
os.waitpid(pid, 0)
EOF
like "$(cat "$T/sig.out")" '^int: signal 2, echo on$' \
	"password: ^C at the prompt: killed by SIGINT, the terminal echoes again"
like "$(cat "$T/sig.out")" '^tstp: echo on when stopped, off when asked again, ran 5, <rc 0>' \
	"password: ^Z at the prompt: stopped with echo on, asked again after fg, 5 hosts ran"

# the ssh config says PasswordAuthentication no: not tried even with
# --askpass (as ssh does)
sshd_client_config "$T/nopw.cfg" none "$KNOWN_HOSTS"
before=$(grep -c 'password for' "$SSHD_LOG")
ask "$PW" "$MRSH" -F "$T/nopw.cfg" -i "$WRONG_KEY" -t 30 --askpass \
	-w 127.0.1.1 'echo should-not-run'
is "$RC" 255 "password: PasswordAuthentication no in the config: exit 255"
is "$(grep -c 'password for' "$SSHD_LOG")" "$before" \
	"password: PasswordAuthentication no: no password sent"
sshd_stop

# ======== keyboard-interactive: sshd asks through PAM (pam_unix) ========
# (bind-mounted over an existing /etc/pam.d/sshd: nothing is written to /etc)
pamdir=
for d in /lib/*/security /usr/lib/*/security /lib/security /usr/lib/security \
    /lib64/security; do
	[ -f "$d/pam_unix.so" ] && { pamdir=$d; break; }
done
why=
[ -f /etc/pam.d/sshd ] || why="no /etc/pam.d/sshd to bind-mount over"
[ -n "$pamdir" ] || why="pam_unix.so not installed"
if [ -n "$why" ]; then
	for d in "kbdint: exit 0" "kbdint: all hosts" "kbdint: asked once" \
	    "kbdint: sshd accepted" "kbdint: no --askpass" \
	    "kbdint: no --askpass, methods named" "kbdint: wrong password" \
	    "kbdint: KbdInteractiveAuthentication no" \
	    "kbdint: wrong password, refused"; do
		skip "$d" "$why"
	done
	done_testing
fi
# pam_unix against the private shadow file; nodelay: no 2 s per failure
cat >"$T/pam.sshd" <<EOF
# t0208: private PAM service for sshd (this mount namespace only)
auth		required	pam_unix.so nodelay
account		required	pam_unix.so
session		required	pam_permit.so
password	required	pam_deny.so
EOF
mount --bind "$T/pam.sshd" /etc/pam.d/sshd ||
	bail_out "cannot bind-mount a private /etc/pam.d/sshd"
at_exit "umount /etc/pam.d/sshd"

SSHD_EXTRA_CONFIG="PermitRootLogin yes
PasswordAuthentication no
KbdInteractiveAuthentication yes
UsePAM yes" start_sshd 5
client_config

ask "$PW" "${M[@]}" --askpass -w "$HOSTS" 'echo kbd-ok'
is "$RC" 0 "kbdint: --askpass, a refused key, the password typed once: exit 0"
is "$(grep -c ': kbd-ok$' "$T/pty.out")" 5 "kbdint: all 5 hosts ran the command"
is "$(cat "$T/pty.n")" 1 "kbdint: asked once, not once per host"
is "$(grep -c "Accepted keyboard-interactive/pam for $ME from" "$SSHD_LOG")" 5 \
	"kbdint: sshd accepted 5 logins by keyboard-interactive"

ask "$PW" "${M[@]}" -w "$HOSTS" 'echo should-not-run'
is "$RC/$(cat "$T/pty.n")/$(cat "$T/pty.out")" 255/0/ \
	"kbdint: no --askpass: exit 255, nothing asked, nothing ran"
is "$(grep -Ec 'mrsh: 127\.0\.1\.[1-5]: .*\(publickey,keyboard-interactive\).*--askpass' "$T/pty.tty")" 5 \
	"kbdint: no --askpass: each host names the methods and --askpass"

ask not-the-password "${M[@]}" --askpass -w "$HOSTS" 'echo should-not-run'
is "$RC/$(cat "$T/pty.n")/$(cat "$T/pty.out")" 255/1/ \
	"kbdint: wrong password: exit 255 (no hang), asked once, nothing ran"
is "$(grep -Ec 'mrsh: 127\.0\.1\.[1-5]: .*denied \(publickey,keyboard-interactive\).*refused' "$T/pty.tty")" 5 \
	"kbdint: wrong password: each host says it was refused"

# the ssh config says KbdInteractiveAuthentication no: not tried even with
# --askpass and the right password (as ssh does)
sshd_client_config "$T/nokbd.cfg" none "$KNOWN_HOSTS" \
	"KbdInteractiveAuthentication no"
ask "$PW" "$MRSH" -F "$T/nokbd.cfg" -i "$WRONG_KEY" -t 30 --askpass \
	-w 127.0.1.1 'echo should-not-run'
is "$RC/$(cat "$T/pty.out")" 255/ \
	"kbdint: KbdInteractiveAuthentication no in the config: not used (exit 255)"
sshd_stop

done_testing
