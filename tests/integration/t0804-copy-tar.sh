#!/bin/bash
# t0804: --copy --tar against a real sshd and the host's GNU tar: a tree
# with symlinks (one dangling), empty directories, odd names (spaces, a
# newline, non-UTF-8), names and link targets longer than tar's 100 bytes
# and files of 0 bytes, 1 byte and 3 MB arrives whole on every host, as
# over SFTP (t0800); again over itself with --preserve, file and directory
# times and modes are kept (atime too); the local files are read once for
# all hosts (-v); nothing temporary is left; a file where a directory goes
# fails that host only (exit 255, the stage as the reason), with the
# path (made safe: no raw escape byte), leaving the file and every other
# host alone; a full disk fails that host and leaves the destination
# names alone; a host whose tar stops does not hold the others back;
# without --tar or --sftp a tree goes by tar where the host's check says
# it can, else over SFTP (a new target name, a file in the way, no GNU
# tar, an SFTP-only account); a check whose login writes to stderr as it
# exits still ends; usage errors.
. "$top_srcdir/tests/integration/lib.sh"
set -u

reexec_in_netns --mount --propagation private
need_cmd tar mount umount
start_sshd_test 5
M=("$MRSH" -F "$SSH_CONFIG")
CAPTURE_TIMEOUT=300
S=$T/src
D=$T/dst
mkdir -p "$S" "$D"
H5='127.0.1.[1-5]'
for h in $(sshd_hosts 5); do mkdir -p "$D/$h"; done
leftovers() { find "$1" -name '.mrsh-tar.*' | wc -l; }

# ---- a tree ----------------------------------------------------------------
long=$(printf 'n%.0s' $(seq 1 120))
mkdir -p "$S/tree/a/empty" "$S/tree/b/deep/er" "$S/tree/with space" \
	"$S/tree/$long/$long"
printf 'sp\n' >"$S/tree/a/sp ace"
printf 'nl\n' >"$S/tree/a/new"$'\n'"line"
printf 'bin\n' >"$S/tree/b/"$'\xff\xfe'"name"
printf 'deep\n' >"$S/tree/b/deep/er/file"
: >"$S/tree/a/empty-file"
printf x >"$S/tree/a/one"
head -c 3000001 /dev/urandom >"$S/tree/$long/$long/three"
ln -s '../a/sp ace' "$S/tree/b/link"
ln -s /nonexistent/target "$S/tree/b/dangling"
ln -s "/$long/$long/x" "$S/tree/b/longlink"
chmod 0750 "$S/tree/b"
chmod 0500 "$S/tree/b/deep/er"
chmod 0604 "$S/tree/a/one"
touch -h -d '2002-01-01 00:00:00' "$S/tree/b/deep/er/file" "$S/tree/b/deep/er"
touch -a -d '2003-03-03 03:03:03' "$S/tree/a/one"
bytes=$(find "$S/tree" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')

capture "$T" "${M[@]}" -v -w "$H5" -r --tar --copy "$S/tree" --dest "$D/%h"
is "$RC" 0 "--tar: a tree to 5 hosts: exit 0"
like "$(cat "$T/err")" "^mrsh: read $bytes bytes of local files for 5 hosts: $bytes the first time, 0 again " \
	"-v: the local files were read once for the 5 hosts"
is "$(cat "$T/out")" "" "nothing on stdout"
bad=0
for h in $(sshd_hosts 5); do
	[ "$(tree_list "$D/$h/tree")" = "$(tree_list "$S/tree")" ] || { bad=$((bad + 1)); diag "$h: $(diff <(tree_list "$S/tree") <(tree_list "$D/$h/tree"))"; }
	diff -r --no-dereference "$S/tree" "$D/$h/tree" >/dev/null 2>&1 || { bad=$((bad + 1)); diag "$h: contents differ"; }
done
is "$bad" 0 "every host has the same names, types, modes, links and contents"
is "$(readlink "$D/127.0.1.2/tree/b/longlink")" "/$long/$long/x" "a link target over 100 bytes"
isnt_old=$([ "$(stat -c %Y "$D/127.0.1.1/tree/b/deep/er/file")" != "$(stat -c %Y "$S/tree/b/deep/er/file")" ] && echo 1)
is "$isnt_old" 1 "no --preserve: the file has a new mtime"
is "$(leftovers "$D")" 0 "no temporary directory left"

# again over the same tree, with --preserve (existing directories merged)
printf 'older and longer\n' >"$D/127.0.1.1/tree/a/one"
printf 'mine\n' >"$D/127.0.1.1/tree/a/not-in-the-source"
capture "$T" "${M[@]}" -w 127.0.1.1 --preserve -r --tar --copy "$S/tree" --dest "$D/%h"
is "$RC" 0 "--tar --preserve over the same tree: exit 0"
is "$(cat "$T/err")" "" "nothing on stderr"
is "$(stat -c '%a %Y %X' "$D/127.0.1.1/tree/a/one")" "$(stat -c '%a %Y %X' "$S/tree/a/one")" \
	"--preserve: a replaced file has the source's mode, mtime and atime"
is "$(stat -c %Y "$D/127.0.1.1/tree/b/deep/er/file") $(stat -c '%a %Y' "$D/127.0.1.1/tree/b/deep/er")" \
	"$(stat -c %Y "$S/tree/b/deep/er/file") $(stat -c '%a %Y' "$S/tree/b/deep/er")" \
	"--preserve: file and (existing) directory times and modes kept"
is "$(cat "$D/127.0.1.1/tree/a/not-in-the-source")" mine "a file not in the source stays"
is "$(leftovers "$D")" 0 "no temporary directory left"

# a config asking for a terminal gets none for the stream
rm -rf "$D/127.0.1.3/tree"
capture "$T" "${M[@]}" -o RequestTTY=force -w 127.0.1.3 -r --tar --copy "$S/tree" --dest "$D/%h"
is "$RC $(cat "$T/err")" "0 " "--tar with RequestTTY force: exit 0, nothing on stderr"
is "$(tree_list "$D/127.0.1.3/tree")" "$(tree_list "$S/tree")" "and the tree arrived whole (no pty in the way)"
is "$(diff -r --no-dereference "$S/tree" "$D/127.0.1.3/tree" >/dev/null 2>&1 && echo same)" same "byte for byte"

# ---- failures --------------------------------------------------------------
# a file where a directory is expected: only that host fails
for h in 127.0.1.1 127.0.1.2 127.0.1.3; do rm -rf "$D/$h/tree"; done
mkdir -p "$D/127.0.1.2/tree"
printf 'in the way\n' >"$D/127.0.1.2/tree/a"
capture "$T" "${M[@]}" -w "127.0.1.[1-3]" -r --tar --copy "$S/tree" --dest "$D/%h"
is "$RC" 255 "--tar: a file where a directory goes: the host failed (255)"
like "$(cat "$T/err")" "^127\.0\.1\.2: $D/127\.0\.1\.2/tree/a: file exists and is not a directory$" \
	"it says which file is in the way"
like "$(cat "$T/err")" "^mrsh: 127\.0\.1\.2: RUNNING: installing failed$" "the host's failure names the stage"
like "$(cat "$T/err")" "^mrsh: 1 of 3 hosts failed: installing failed: 127\.0\.1\.2$" "the summary names the host"
is "$(cat "$D/127.0.1.2/tree/a")" "in the way" "the file in the way is untouched"
bad=0
for h in 127.0.1.1 127.0.1.3; do
	[ "$(tree_list "$D/$h/tree")" = "$(tree_list "$S/tree")" ] || bad=$((bad + 1))
done
is "$bad" 0 "the other two hosts got the whole tree"
is "$(leftovers "$D")" 0 "no temporary directory left"

# what the host's tools say is made safe: a destination name with an
# escape sequence in it, quoted back by the install's error
E="$T/esc"$'\033'"[1mdir"
mkdir -p "$E"
printf 'in the way\n' >"$E/tree"
capture "$T" "${M[@]}" -w 127.0.1.1 -r --tar --copy "$S/tree" --dest "$E"
is "$RC" 255 "--tar: a file in the way under an odd name: the host failed (255)"
like "$(cat "$T/err")" "^127\.0\.1\.1: $T/esc\\\\033\[1mdir/tree: file exists and is not a directory$" \
	"the host's error shows the escape as \\033"
is "$(grep -c $'\033' "$T/err")" 0 "no raw escape byte reaches the terminal"

# a missing destination
capture "$T" "${M[@]}" -w 127.0.1.1 -r --tar --copy "$S/tree" --dest "$T/nonexistent"
is "$RC" 255 "--tar: missing destination: the host failed (255)"
like "$(cat "$T/err")" "^127\.0\.1\.1: $T/nonexistent: no such directory$" "says so"
like "$(cat "$T/err")" "^mrsh: 127\.0\.1\.1: RUNNING: the destination is not a directory, or no temporary directory could be made in it$" \
	"and the failure says the stage"

# disk full on one host: the old file stays, nothing temporary is left
if mount -t tmpfs -o size=1m tmpfs "$D/127.0.1.4"; then
	at_exit "umount '$D/127.0.1.4'"
	mkdir -p "$D/127.0.1.4/tree/a"
	printf 'old\n' >"$D/127.0.1.4/tree/a/one"
	capture "$T" "${M[@]}" -w '127.0.1.[4-5]' -r --tar --copy "$S/tree" --dest "$D/%h"
	is "$RC" 255 "--tar: disk full on one host: the host failed (255)"
	like "$(cat "$T/err")" "^mrsh: 127\.0\.1\.4: RUNNING: unpacking failed \(tar\)$" "the failure: unpacking"
	like "$(cat "$T/err")" "^127\.0\.1\.4: tar: .*: No space left on device$" \
		"tar says 'No space left on device', with the host"
	is "$(cat "$D/127.0.1.4/tree/a/one")" old "the destination name still holds the old file"
	is "$(leftovers "$D/127.0.1.4")" 0 "the temporary directory was removed"
	is "$(tree_list "$D/127.0.1.5/tree")" "$(tree_list "$S/tree")" "the other host got the tree"
	umount "$D/127.0.1.4"
else
	skip_n 6 "disk full: cannot mount a tmpfs here"
fi

# ---- a host that stops reading holds nobody back ----------------------------
# The hosts send in step (none more than 1 MB ahead of the slowest); one
# whose tar is stopped counts as stalled after a second and the others
# finish without it; continued, it finishes too.
mkdir -p "$S/big"
for i in 1 2 3 4; do head -c 5000000 /dev/urandom >"$S/big/f$i"; done
for h in 127.0.1.1 127.0.1.2 127.0.1.3; do rm -rf "$D/$h/big"; done
# tarpid HOST: the pid of the remote tar unpacking into HOST's directory
tarpid() {
	local p
	for p in $(pgrep -x tar); do
		[ "$(readlink "/proc/$p/cwd")" = "$D/$1" ] && { echo "$p"; return 0; }
	done
	return 1
}
"${M[@]}" -w '127.0.1.[1-3]' -r --tar --copy "$S/big" --dest "$D/%h" \
	>"$T/out" 2>"$T/err" &
mpid=$!
at_exit "kill $mpid 2>/dev/null"
if wait_for 60 'tp=$(tarpid 127.0.1.2)' && kill -STOP "$tp"; then
	at_exit "kill -CONT $tp 2>/dev/null"
	done13() {
		cmp -s "$S/big/f4" "$D/127.0.1.1/big/f4" &&
			cmp -s "$S/big/f4" "$D/127.0.1.3/big/f4"
	}
	wait_for 120 done13
	ok $? "with one host's tar stopped, the two others finish"
	is "$(ls "$D/127.0.1.2/big" 2>/dev/null)" "" "the stopped host has nothing under the destination yet"
	kill -CONT "$tp"
	wait "$mpid"
	is "$?" 0 "continued, it finishes too: exit 0"
	is "$(diff -r "$S/big" "$D/127.0.1.2/big" && echo same)" same "and has the files"
else
	fail "the remote tar of 127.0.1.2 did not show up"
	skip_n 3 "no remote tar to stop"
	wait "$mpid"
fi

# ---- neither --tar nor --sftp: a tree goes by tar where the host can --------
for h in 127.0.1.1 127.0.1.2 127.0.1.3; do rm -rf "$D/$h/tree"; done
capture "$T" "${M[@]}" -v -w '127.0.1.[1-3]' -r --copy "$S/tree" --dest "$D/%h"
is "$RC" 0 "-r without --tar: exit 0"
is "$(grep -c ': the tree goes as a tar stream$' "$T/err")" 3 "-v: each of the 3 hosts took the tree as a tar stream"
bad=0
for h in 127.0.1.1 127.0.1.2 127.0.1.3; do
	[ "$(tree_list "$D/$h/tree")" = "$(tree_list "$S/tree")" ] || bad=$((bad + 1))
	diff -r --no-dereference "$S/tree" "$D/$h/tree" >/dev/null 2>&1 || bad=$((bad + 1))
done
is "$bad" 0 "and every host has the whole tree, byte for byte"
capture "$T" "${M[@]}" --json -w '127.0.1.[1-2]' -r --copy "$S/tree" --dest "$D/%h"
is "$(grep -c "\"status\":\"ok\",.*\"bytes\":$bytes,\"via\":\"tar\"," "$T/out")" 2 "--json: bytes, and via tar"

# a destination that is not a directory yet: SFTP makes it the target name
rm -rf "$D/127.0.1.1/newname"
capture "$T" "${M[@]}" -v -w 127.0.1.1 -r --copy "$S/tree" --dest "$D/%h/newname"
is "$RC" 0 "-r to a name that does not exist: exit 0"
like "$(cat "$T/err")" "127\.0\.1\.1: the tree goes over SFTP: the destination is not a writable directory$" \
	"-v: over SFTP, and why"
is "$(tree_list "$D/127.0.1.1/newname")" "$(tree_list "$S/tree")" "the tree arrived under the new name"

# a file where the destination directory should be: SFTP's error, the path
printf 'a file\n' >"$D/127.0.1.1/afile"
capture "$T" "${M[@]}" -v -w 127.0.1.1 -r --copy "$S/tree" --dest "$D/%h/afile"
is "$RC" 255 "-r to an existing file: the host fails (255)"
like "$(cat "$T/err")" "127\.0\.1\.1: the tree goes over SFTP: the destination is not a writable directory$" \
	"-v: over SFTP, and why"
like "$(grep -v ': the tree goes' "$T/err")" "mrsh: 127\.0\.1\.1: RUNNING: $D/127\.0\.1\.1/afile: not a directory$" \
	"SFTP's error names the path"
is "$(cat "$D/127.0.1.1/afile")" "a file" "the file is untouched"

# no GNU tar on the host (a busybox-like tar on PATH): SFTP
printf '#!/bin/sh\necho "tar (busybox) 1.36.1"\n' >"$T/faketar"
chmod 0755 "$T/faketar"
realtar=$(command -v tar)
if mount --bind "$T/faketar" "$realtar"; then
	at_exit "umount '$realtar' 2>/dev/null"
	rm -rf "$D/127.0.1.2/tree"
	capture "$T" "${M[@]}" -v -w 127.0.1.2 -r --copy "$S/tree" --dest "$D/%h"
	is "$RC" 0 "a host without GNU tar: exit 0"
	like "$(cat "$T/err")" "127\.0\.1\.2: the tree goes over SFTP: no GNU tar$" "-v: over SFTP: no GNU tar"
	is "$(tree_list "$D/127.0.1.2/tree")" "$(tree_list "$S/tree")" "and the tree arrived whole"
	umount "$realtar"
else
	skip_n 3 "no GNU tar: cannot bind-mount over $realtar here"
fi

# a link to a directory where the tree goes: followed, as over SFTP
for via in tar sftp; do
	rm -rf "$D/127.0.1.1/tree" "$D/127.0.1.1/elsewhere"
	mkdir -p "$D/127.0.1.1/elsewhere"
	ln -s elsewhere "$D/127.0.1.1/tree"
	capture "$T" "${M[@]}" -w 127.0.1.1 -r --"$via" --copy "$S/tree" --dest "$D/%h"
	is "$RC $(tree_list "$D/127.0.1.1/elsewhere")" "0 $(tree_list "$S/tree")" \
		"--$via: a link to a directory at the tree's name: the tree goes into its target"
done
rm -rf "$D/127.0.1.1/tree" "$D/127.0.1.1/elsewhere"

# ---- a stream under recv EAGAINs never stalls --------------------------------
# A write that found the window full, then a read that took the server's
# window adjust: the server waits for bytes and sends nothing, so mrsh
# must write at once (4 of 20 runs stalled for ever before).
mkdir -p "$S/eag/a"
head -c 3000000 /dev/urandom >"$S/eag/a/big"
echo x >"$S/eag/small"
stalled=0
for seed in $(seq 1 20); do
	for h in 127.0.1.1 127.0.1.2 127.0.1.3; do rm -rf "$D/$h/eag"; done
	CAPTURE_TIMEOUT=60 MRSH_FAULT="recv=eagain:p=50,seed=$seed" capture "$T" "${M[@]}" \
		--tar -w '127.0.1.[1-3]' -r --copy "$S/eag" --dest "$D/%h"
	[ "$RC" = 0 ] && cmp -s "$S/eag/a/big" "$D/127.0.1.2/eag/a/big" ||
		{ stalled=$((stalled + 1)); diag "seed $seed: exit $RC"; }
done
is "$stalled" 0 "20 runs to 3 hosts with recv EAGAINs: every stream ends, whole"
rm -rf "$S/eag" "$D"/*/eag

# an SFTP-only account (ForceCommand internal-sftp): the check's command
# runs no shell and says nothing; the tree goes over SFTP
n=$(grep -c 'Server listening' "$SSHD_LOG")
printf 'Match LocalAddress 127.0.1.5\n\tForceCommand internal-sftp\n' >>"$SSHD_CONFIG"
printf 'Match LocalAddress 127.0.1.4\n\tForceCommand sleep 60\n' >>"$SSHD_CONFIG"
# a login that greets on stdout and stderr before every command
printf 'Match LocalAddress 127.0.1.2\n\tForceCommand %s\n' \
	'echo hello; echo mind-the-gap >&2; eval "$SSH_ORIGINAL_COMMAND"' >>"$SSHD_CONFIG"
kill -HUP "$SSHD_PID"
if wait_for 30 '[ "$(grep -c "Server listening" "$SSHD_LOG")" -gt "$n" ]'; then
	rm -rf "$D/127.0.1.5/tree"
	capture "$T" "${M[@]}" -v -w 127.0.1.5 -r --copy "$S/tree" --dest "$D/%h"
	is "$RC" 0 "ForceCommand internal-sftp: exit 0"
	like "$(cat "$T/err")" "127\.0\.1\.5: the tree goes over SFTP: the check printed no answer" \
		"-v: over SFTP: the check printed no answer"
	is "$(tree_list "$D/127.0.1.5/tree")" "$(tree_list "$S/tree")" "and the tree arrived whole"
	# greetings around the check's answer do not hide it
	rm -rf "$D/127.0.1.2/tree"
	capture "$T" "${M[@]}" -v -w 127.0.1.2 -r --copy "$S/tree" --dest "$D/%h"
	is "$RC" 0 "a login that greets: exit 0"
	like "$(cat "$T/err")" "127\.0\.1\.2: the tree goes as a tar stream$" "-v: still by tar"
	is "$(tree_list "$D/127.0.1.2/tree")" "$(tree_list "$S/tree")" "and the tree arrived whole"
	is "$(cat "$T/out")" "127.0.1.2: hello" "the copy's own greeting is the host's output, the check's is not"
	is "$(grep -c 'mind-the-gap' "$T/err")" 1 "on stderr too: once, from the copy's command"
	# a check that never answers: -t bounds it, as any setup step
	capture "$T" "${M[@]}" -t 6 -w 127.0.1.4 -r --copy "$S/tree" --dest "$D/%h"
	is "$RC" 255 "a check that never answers: the host fails (255)"
	like "$(cat "$T/err")" "^mrsh: 127\.0\.1\.4: SETUP: timed out waiting for the check for GNU tar after 6s \(-t\)$" \
		"at -t, and says what it waited for"
else
	fail "sshd did not restart after SIGHUP"
	skip_n 9 "no sshd"
fi

# single files never need the check; --sftp skips it for trees
capture "$T" "${M[@]}" -v -w 127.0.1.1 --copy "$S/tree/a/one" --dest "$D/%h"
is "$RC" 0 "one file: exit 0"
unlike "$(cat "$T/err")" "the tree goes" "one file: no check"
rm -rf "$D/127.0.1.3/tree"
capture "$T" "${M[@]}" -v -w 127.0.1.3 -r --sftp --copy "$S/tree" --dest "$D/%h"
is "$RC" 0 "-r --sftp: exit 0"
unlike "$(cat "$T/err")" "the tree goes" "--sftp: no check"
is "$(tree_list "$D/127.0.1.3/tree")" "$(tree_list "$S/tree")" "--sftp: the tree arrived whole"
capture "$T" "${M[@]}" --json -w 127.0.1.3 -r --sftp --copy "$S/tree" --dest "$D/%h"
is "$(grep -c "\"status\":\"ok\",.*\"bytes\":$bytes,\"via\":\"sftp\"," "$T/out")" 1 "--json: via sftp"

# a login that writes to stderr as it exits, after the check's answer:
# the stdout read may queue those bytes after the stderr read said
# EAGAIN, where the socket never wakes mrsh for them and they hide the
# EOF; the check must still end. MRSH_FAULT makes recv say EAGAIN at
# random so that this happens (a build without the injector: plain runs).
n=$(grep -c 'Server listening' "$SSHD_LOG")
printf 'Match LocalAddress 127.0.1.*\n\tForceCommand %s\n' \
	'eval "$SSH_ORIGINAL_COMMAND"; s=$?; sleep 0.2; echo bye >&2; exit $s' >>"$SSHD_CONFIG"
kill -HUP "$SSHD_PID"
if wait_for 30 '[ "$(grep -c "Server listening" "$SSHD_LOG")" -gt "$n" ]'; then
	mkdir -p "$S/small/d"
	printf 'small\n' >"$S/small/d/f"
	hung=0
	for seed in $(seq 1 12); do
		CAPTURE_TIMEOUT=60 MRSH_FAULT="recv=eagain:p=50,seed=$seed" capture "$T" "${M[@]}" -t 8 \
			-w '127.0.1.[1-3]' -r --copy "$S/small" --dest "$D/%h"
		[ "$RC" = 0 ] || { hung=$((hung + 1)); diag "seed $seed: $(grep -v 'fault injection' "$T/err")"; }
	done
	is "$hung" 0 "stderr at the login's exit: every check ends (12 runs to 3 hosts)"
else
	fail "sshd did not restart after SIGHUP"
fi

# ---- usage -------------------------------------------------------------------
capture "$T" "${M[@]}" -w 127.0.1.1 --tar uptime
is "$RC $(cat "$T/err")" "2 mrsh: --tar goes with --copy only" "--tar without --copy"
capture "$T" "${M[@]}" -w 127.0.1.1 --tar --rcopy /etc/hostname --dest "$T"
is "$RC $(cat "$T/err")" "2 mrsh: --tar goes with --copy only" "--tar with --rcopy"
capture "$T" "${M[@]}" -w 127.0.1.1 --sftp --rcopy /etc/hostname --dest "$T"
is "$RC $(cat "$T/err")" "2 mrsh: --sftp goes with --copy only" "--sftp with --rcopy"
capture "$T" "${M[@]}" -w 127.0.1.1 --tar --sftp --copy /etc/hostname --dest "$T"
is "$RC $(cat "$T/err")" "2 mrsh: --tar and --sftp exclude each other" "--tar with --sftp"

done_testing
