#!/bin/bash
# t0806: SFTP statuses that OpenSSH's server does not send where mrsh
# asks, from OpenSSH's sftp-server behind the real sshd with
# tests/helpers/sftp-fault.py in between answering chosen requests with a
# chosen status: every status code reads as words (codes mrsh does not
# know as "SFTP error"), naming the host, the path and the request; a
# push whose chmod, fsync, close or rename fails, or whose directory's
# setstat is refused, fails the host and removes its temporary file (a
# "failure" at fsync on a full disk says "no space left on device"); a
# pull whose read, open, close, opendir or readdir fails leaves nothing
# behind (and asks the server to remove nothing); a tree push (--sftp)
# whose mkdir, symlink, or the lstat or remove of a file in a link's way
# is refused names that; a tree pull whose readlink or closedir fails,
# or that finds a local directory where a link goes, names it; a pull
# whose local fchmod, futimens or chmod fails (tests/helpers/failcall.so)
# names the local file.
. "$top_srcdir/tests/integration/lib.sh"
set -u

sftp_server=/usr/lib/openssh/sftp-server
[ -x "$sftp_server" ] || skip_all "no $sftp_server (openssh-sftp-server)"
need_cmd python3
R=$(make_tmpdir)
RULES=$R/rules
SSHD_SFTP="/usr/bin/python3 $top_srcdir/tests/helpers/sftp-fault.py $RULES $sftp_server" \
	start_sshd_test 2
M=("$MRSH" -F "$SSH_CONFIG" -w 127.0.1.1)
S=$T/src
D=$T/dst
P=$T/pull
mkdir -p "$S/dir/sub" "$D" "$P"
printf 'one\n' >"$S/one"
printf 'two\n' >"$S/dir/sub/two"
# leftovers DIR: temporary files mrsh would have left behind.
leftovers() { find "$1" -name '.*.mrsh-*' | wc -l; }
# fault [OP CODE]...: answer each OP with its CODE from now on.
fault() {
	: >"$RULES"
	while [ $# -gt 1 ]; do
		echo "$1 $2" >>"$RULES"
		shift 2
	done
}

# a clean run first: the relay itself passes everything
fault
capture "$T" "${M[@]}" --copy "$S/one" --dest "$D"
is "$RC $(cat "$T/err") $(cat "$D/one")" "0  one" "through the relay, no fault: the file arrives"

# ---- every status, in words ---------------------------------------------------
while IFS=: read -r code words; do
	fault stat "$code"
	capture "$T" "${M[@]}" --rcopy "$S/one" --dest "$P"
	is "$RC $(head -n 1 "$T/err")" "255 mrsh: 127.0.1.1: RUNNING: $S/one: stat: $words" \
		"status $code: $words"
done <<'CODES'
1:end of file
3:permission denied
4:failure
5:bad message
8:operation unsupported
10:no such file or directory
11:file exists
12:read-only file system
13:SFTP error
14:no space left on device
15:disk quota exceeded
16:SFTP error
17:SFTP error
18:directory not empty
19:not a directory
20:invalid file name
21:too many levels of symbolic links
99:SFTP error
CODES
is "$(ls -A "$P")" "" "no local file from any of them"

# ---- a push that fails after the data ------------------------------------------
rm -f "$D/one"
printf 'old\n' >"$D/one"
for f in "fsetstat 3 chmod: permission denied" "fsync@openssh.com 4 fsync: failure" \
	"close 4 close: failure"; do
	read -r op code why <<<"$f"
	fault "$op" "$code"
	capture "$T" "${M[@]}" --copy "$S/one" --dest "$D"
	is "$RC $(head -n 1 "$T/err")" "255 mrsh: 127.0.1.1: RUNNING: $D/one: $why" \
		"push, $op answered $code: exit 255, '$why'"
	is "$(cat "$D/one") $(leftovers "$D")" "old 0" \
		"push, $op answered $code: the old file stays, no temporary file"
done

# fsync or close answered "failure" where the disk is full (a tmpfs
# filled up; the file is empty, so its write did not fail first): mrsh
# looks (fstatvfs; statvfs on the temporary file's name after a close,
# whose handle is gone) and says "no space left on device"; the other
# host, with room, gets the same answer and says "failure"
: >"$S/empty"
mkdir -p "$T/full/127.0.1.1" "$T/full/127.0.1.2"
if mount -t tmpfs -o size=64k tmpfs "$T/full/127.0.1.1"; then
	at_exit "umount '$T/full/127.0.1.1'"
	head -c 1000000 /dev/zero >"$T/full/127.0.1.1/fill" 2>/dev/null
	for op in fsync@openssh.com close; do
		fault "$op" 4
		capture "$T" "$MRSH" -F "$SSH_CONFIG" -w '127.0.1.[1-2]' \
			--copy "$S/empty" --dest "$T/full/%h"
		is "$RC $(grep -v 'hosts failed' "$T/err" | sort | tr '\n' '|')" \
			"255 mrsh: 127.0.1.1: RUNNING: $T/full/127.0.1.1/empty: ${op%@*}: no space left on device|mrsh: 127.0.1.2: RUNNING: $T/full/127.0.1.2/empty: ${op%@*}: failure|" \
			"push, $op 'failure' on a full disk: 'no space left on device'; with room: 'failure'"
		is "$(ls -A "$T/full/127.0.1.1" | tr '\n' ' ')$(ls -A "$T/full/127.0.1.2")" "fill " \
			"push, $op 'failure': no temporary file left on either"
	done
	umount "$T/full/127.0.1.1"
else
	skip_n 4 "cannot mount a tmpfs here"
fi

# a rename refused where no file is in the way: the rename's reason (not
# that of the look at the target that follows); libssh2 1.11 tries
# posix-rename@openssh.com first
rm -f "$D/one"
fault rename 3 posix-rename@openssh.com 3
capture "$T" "${M[@]}" --copy "$S/one" --dest "$D"
is "$RC $(head -n 1 "$T/err")" "255 mrsh: 127.0.1.1: RUNNING: $D/one: rename: permission denied" \
	"push, rename refused: exit 255, 'rename: permission denied'"
is "$(ls -A "$D")" "" "push, rename refused: no temporary file, nothing under the name"

# ... and where the look at the target fails too: that reason
fault rename 3 posix-rename@openssh.com 3 lstat 4
capture "$T" "${M[@]}" --copy "$S/one" --dest "$D"
is "$RC $(head -n 1 "$T/err")" "255 mrsh: 127.0.1.1: RUNNING: $D/one: rename: failure" \
	"push, rename refused and lstat failing: exit 255, 'rename: failure'"
is "$(ls -A "$D")" "" "push, rename and lstat failing: no temporary file"

# a directory's setstat refused (its mode and times come last, with -r)
fault setstat 8
capture "$T" "${M[@]}" -r --sftp --preserve --copy "$S/dir" --dest "$D"
is "$RC $(head -n 1 "$T/err")" "255 mrsh: 127.0.1.1: RUNNING: $D/dir/sub: setstat: operation unsupported" \
	"push -r --preserve, setstat refused: exit 255, the directory"
is "$(cat "$D/dir/sub/two")" "two" "the file inside it arrived"

# ---- a pull that fails -----------------------------------------------------------
for f in "read 5 $S/one read: bad message" "open 3 $S/one open: permission denied"; do
	read -r op code path why <<<"$f"
	fault "$op" "$code"
	capture "$T" "${M[@]}" --rcopy "$S/one" --dest "$P"
	is "$RC $(head -n 1 "$T/err")" "255 mrsh: 127.0.1.1: RUNNING: $path: $why" \
		"pull, $op answered $code: exit 255, '$why'"
	is "$(ls -A "$P")" "" "pull, $op answered $code: nothing left"
done
# a pull whose close fails: its temporary file is local, and only
# removed here (not asked of the server, where that name means nothing)
fault close 4
: >"$RULES.log"
capture "$T" "${M[@]}" --rcopy "$S/one" --dest "$P"
is "$RC $(head -n 1 "$T/err")" "255 mrsh: 127.0.1.1: RUNNING: $S/one: close: failure" \
	"pull, close answered 4: exit 255, 'close: failure'"
is "$(ls -A "$P")" "" "pull, close answered 4: nothing left"
is "$(grep -c '^remove ' "$RULES.log")" 0 "no remove asked of the server"
rm -f "$RULES.log"
for f in "opendir 3 opendir: permission denied" "readdir 4 readdir: failure"; do
	read -r op code why <<<"$f"
	fault "$op" "$code"
	capture "$T" "${M[@]}" -r --rcopy "$S/dir" --dest "$P"
	is "$RC $(head -n 1 "$T/err")" "255 mrsh: 127.0.1.1: RUNNING: $S/dir: $why" \
		"pull -r, $op answered $code: exit 255, '$why'"
	is "$(find "$P" -type f | wc -l)" 0 "pull -r, $op answered $code: no file"
	rm -rf "${P:?}"/*
done

# ---- a pull whose local chmod or utimes fails ---------------------------------
# tests/helpers/failcall.so fails mrsh's own fchmod/futimens (on the
# temporary file) or chmod (on a directory it made): the host fails with
# the local name and the reason; no temporary file is left
FAILCALL=$top_builddir/tests/helpers/failcall.so
if [ -f "$FAILCALL" ]; then
	fault
	# lfail RULES WANT DESC ARGS...: a pull under failcall RULES
	lfail() {
		local rules=$1 want=$2 desc=$3
		shift 3
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		LD_PRELOAD=$FAILCALL MRSH_FAILCALL=$rules \
		    capture "$T" "${M[@]}" "$@" --dest "$P"
		is "$RC $(head -n 1 "$T/err")" "255 mrsh: 127.0.1.1: RUNNING: $want" \
			"pull, $desc: exit 255, the local name and reason"
		is "$(leftovers "$P")" 0 "pull, $desc: no temporary file"
		rm -rf "${P:?}"/*
	}
	lfail fchmod=EPERM@1* "$P/one.127.0.1.1: Operation not permitted" \
		"fchmod failing" --rcopy "$S/one"
	lfail futimens=EIO@1* "$P/one.127.0.1.1: Input/output error" \
		"futimens failing (--preserve)" --preserve --rcopy "$S/one"
	lfail chmod=EACCES@1* "$P/dir.127.0.1.1/sub: Permission denied" \
		"a directory's chmod failing" -r --rcopy "$S/dir"
else
	skip_n 6 "no $FAILCALL (make check builds it)"
fi

# ---- a tree push whose mkdir or symlink is refused (--sftp) ---------------------
# mkdir refused, and the look at what is there says nothing is: mkdir's
# host fails with the look's reason (the destination's own stat says "no
# such file" too, which is fine for one top)
fault mkdir 4 stat 2
capture "$T" "${M[@]}" -r --sftp --copy "$S/dir" --dest "$D/new"
is "$RC $(head -n 1 "$T/err")" "255 mrsh: 127.0.1.1: RUNNING: $D/new: mkdir: no such file or directory" \
	"push -r, mkdir refused and nothing there: exit 255, 'mkdir: no such file or directory'"
[ ! -e "$D/new" ]
ok $? "push -r, mkdir refused: nothing made"

# a symlink refused and not readable back, twice with a file in the way
# removed in between: "file exists"; the lstat or the remove in between
# failing: their reasons, and the file stays
mkdir -p "$S/lt"
ln -s one "$S/lt/l"
# lpush WANT DESC: push $S/lt to $D; one line WANT, exit 255
lpush() {
	capture "$T" "${M[@]}" -r --sftp --copy "$S/lt" --dest "$D"
	is "$RC $(head -n 1 "$T/err")" "255 mrsh: 127.0.1.1: RUNNING: $1" "push -r, $2"
}
mkdir -p "$D/lt"
printf 'old\n' >"$D/lt/l"
fault symlink 4 readlink 4
lpush "$D/lt/l: symlink: file exists" "symlink refused twice, a file in the way: 'symlink: file exists'"
is "$(ls -A "$D/lt")" "" "... the file in the way was removed, no link made"
printf 'old\n' >"$D/lt/l"
fault symlink 4 readlink 4 lstat 3
lpush "$D/lt/l: symlink: permission denied" "symlink refused, lstat refused: its reason"
is "$(cat "$D/lt/l")" "old" "... the file in the way stays"
fault symlink 4 readlink 4 remove 3
lpush "$D/lt/l: replace: permission denied" "symlink refused, the remove refused: 'replace: permission denied'"
is "$(cat "$D/lt/l")" "old" "... the file in the way stays"
rm -rf "${D:?}/lt"

# ---- a tree pull whose readlink or closedir fails -----------------------------
fault readlink 5
capture "$T" "${M[@]}" -r --rcopy "$S/lt" --dest "$P"
is "$RC $(head -n 1 "$T/err")" "255 mrsh: 127.0.1.1: RUNNING: $S/lt/l: readlink: bad message" \
	"pull -r, readlink failing: exit 255, 'readlink: bad message'"
is "$(find "$P" -type l | wc -l)" 0 "pull -r, readlink failing: no link"
rm -rf "${P:?}"/*
fault closedir 4
capture "$T" "${M[@]}" -r --rcopy "$S/dir" --dest "$P"
is "$RC $(head -n 1 "$T/err")" "255 mrsh: 127.0.1.1: RUNNING: $S/dir: closedir: failure" \
	"pull -r, closedir failing: exit 255, 'closedir: failure'"
is "$(find "$P" -type f | wc -l)" 0 "pull -r, closedir failing: no file"
rm -rf "${P:?}"/*
# a local directory (not empty) where a pulled link goes: the local
# reason, the directory left alone
fault
mkdir -p "$P/lt.127.0.1.1/l/x"
capture "$T" "${M[@]}" -r --rcopy "$S/lt" --dest "$P"
is "$RC $(head -n 1 "$T/err")" "255 mrsh: 127.0.1.1: RUNNING: $P/lt.127.0.1.1/l: File exists" \
	"pull -r, a non-empty directory where a link goes: exit 255, the local reason"
is "$(ls -A "$P/lt.127.0.1.1/l")" "x" "... the directory stays"
rm -rf "${P:?}"/*

done_testing
