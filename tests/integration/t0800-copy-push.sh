#!/bin/bash
# t0800: --copy over SFTP against a real sshd: files of 0 bytes, 1 byte
# and 10 MB arrive byte for byte on every host (%h in --dest gives each
# "host" its own directory on this one machine); the source's mode by
# default, mode and times with --preserve; an existing target is
# replaced and no temporary file is left; a tree with symlinks, empty
# directories and odd names (spaces, a newline, non-UTF-8) arrives whole;
# a destination that is missing, a file where a directory is expected, a
# directory where a file goes and an unwritable directory fail per host
# with the path and the reason, leave nothing under the destination name,
# and do not stop the other hosts; with -v each local file is read once
# for all hosts.
. "$top_srcdir/tests/integration/lib.sh"
set -u

start_sshd_test 10
M=("$MRSH" -F "$SSH_CONFIG")
CAPTURE_TIMEOUT=300
S=$T/src
D=$T/dst
mkdir -p "$S" "$D"
H5='127.0.1.[1-5]'
hosts5() { sshd_hosts 5; }

# leftovers DIR: temporary files mrsh would have left behind.
leftovers() { find "$1" -name '.*.mrsh-*' | wc -l; }

# ---- single files -------------------------------------------------------
: >"$S/empty"
printf x >"$S/one"
head -c 10000000 /dev/urandom >"$S/ten"
chmod 0640 "$S/ten"
chmod 0751 "$S/one"
for h in $(hosts5); do mkdir -p "$D/$h"; done
capture "$T" "${M[@]}" -w "$H5" --copy "$S/empty" "$S/one" "$S/ten" \
	--dest "$D/%h"
is "$RC" 0 "push 0 B, 1 B, 10 MB to 5 hosts: exit 0"
is "$(cat "$T/err")" "" "nothing on stderr"
is "$(cat "$T/out")" "" "nothing on stdout"
bad=0
for h in $(hosts5); do
	for f in empty one ten; do
		cmp -s "$S/$f" "$D/$h/$f" || { bad=$((bad + 1)); diag "$h/$f differs"; }
	done
done
is "$bad" 0 "all 15 files are byte for byte the source"
is "$(sha256sum "$D"/*/ten | awk '{print $1}' | sort -u | wc -l)" 1 \
	"one sha256 for the 10 MB file on every host"
is "$(stat -c %a "$D/127.0.1.3/ten") $(stat -c %a "$D/127.0.1.3/one")" "640 751" \
	"the source's mode by default (as scp)"
is "$(leftovers "$D")" 0 "no temporary file left"

# -v: the local file was read once for the 5 hosts
capture "$T" "${M[@]}" -v -w "$H5" --copy "$S/ten" --dest "$D/%h"
is "$RC" 0 "push again (replacing the files): exit 0"
# (10 MB fits the window: hosts that start late find the chunks cached)
like "$(cat "$T/err")" '^mrsh: read 10000000 bytes of local files for 5 hosts: 10000000 the first time, 0 again ' \
	"-v: 10 MB read from the local disk for 5 hosts (not 50 MB)"
is "$(sha256sum "$D"/*/ten | awk '{print $1}' | sort -u)" \
	"$(sha256sum <"$S/ten" | awk '{print $1}')" "replaced files are the source"

# A file larger than the window (16 chunks of 960,000 bytes), one host at
# a time: the first host leaves the last 15,200,000 bytes cached (idle,
# kept for the second); the second reads the 4,800,000 bytes before them
# again, with pread into its own buffer, and takes the rest from the cache.
head -c 20000000 /dev/urandom >"$S/twenty"
capture "$T" "${M[@]}" -v -j 1 -w '127.0.1.[1-2]' --copy "$S/twenty" --dest "$D/%h"
is "$RC" 0 "20 MB, -j 1, 2 hosts: exit 0"
like "$(cat "$T/err")" '^mrsh: read 24800000 bytes of local files for 2 hosts: 20000000 the first time, 4800000 again ' \
	"-v: the second read of a file beyond the window is counted apart"
is "$(cat "$D/127.0.1.1/twenty" "$D/127.0.1.2/twenty" | sha256sum)" \
	"$(cat "$S/twenty" "$S/twenty" | sha256sum)" "both hosts have the 20 MB file"
rm -f "$S/twenty" "$D"/*/twenty

# an existing target with other content is replaced, not appended to
printf 'old content that is longer than one byte\n' >"$D/127.0.1.1/one"
capture "$T" "${M[@]}" -w 127.0.1.1 --copy "$S/one" --dest "$D/%h"
is "$RC" 0 "replace an existing file: exit 0"
is "$(cat "$D/127.0.1.1/one")" "x" "the old content is gone"

# --dest naming the target file (one source)
capture "$T" "${M[@]}" -w 127.0.1.2 --copy "$S/one" --dest "$D/%h/renamed"
is "$RC" 0 "--dest as the target name: exit 0"
is "$(cat "$D/127.0.1.2/renamed")" "x" "written under the given name"

# ---- modes and times ----------------------------------------------------
printf 'p\n' >"$S/perm"
chmod 2755 "$S/perm"
touch -d '2001-02-03 04:05:06' "$S/perm"
capture "$T" "${M[@]}" -w 127.0.1.4 --copy "$S/perm" --dest "$D/%h"
is "$RC" 0 "no --preserve: exit 0"
is "$(stat -c %a "$D/127.0.1.4/perm")" 755 "no --preserve: setgid bit dropped, 755"
isnt_old=$(($(stat -c %Y "$D/127.0.1.4/perm") > $(stat -c %Y "$S/perm")))
is "$isnt_old" 1 "no --preserve: the file has a new mtime"
capture "$T" "${M[@]}" -w 127.0.1.5 --preserve --copy "$S/perm" --dest "$D/%h"
is "$RC" 0 "--preserve: exit 0"
is "$(stat -c '%a %Y %X' "$D/127.0.1.5/perm")" "$(stat -c '%a %Y %X' "$S/perm")" \
	"--preserve: mode 2755, mtime and atime kept"

# ---- a tree ---------------------------------------------------------------
mkdir -p "$S/tree/a/empty" "$S/tree/b/deep/er" "$S/tree/with space"
printf 'sp\n' >"$S/tree/a/sp ace"
printf 'nl\n' >"$S/tree/a/new"$'\n'"line"
printf 'bin\n' >"$S/tree/b/"$'\xff\xfe'"name"
printf 'deep\n' >"$S/tree/b/deep/er/file"
ln -s '../a/sp ace' "$S/tree/b/link"
ln -s /nonexistent/target "$S/tree/b/dangling"
chmod 0750 "$S/tree/b"
chmod 0500 "$S/tree/b/deep/er"
touch -h -d '2002-01-01 00:00:00' "$S/tree/b/deep/er/file" "$S/tree/b/deep/er"
capture "$T" "${M[@]}" -w "$H5" -r --sftp --copy "$S/tree" --dest "$D/%h"
is "$RC" 0 "-r tree to 5 hosts: exit 0"
is "$(cat "$T/err")" "" "-r: nothing on stderr"
bad=0
for h in $(hosts5); do
	[ "$(tree_list "$D/$h/tree")" = "$(tree_list "$S/tree")" ] || { bad=$((bad + 1)); diag "$h: $(diff <(tree_list "$S/tree") <(tree_list "$D/$h/tree"))"; }
	diff -r --no-dereference "$S/tree" "$D/$h/tree" >/dev/null 2>&1 || { bad=$((bad + 1)); diag "$h: contents differ"; }
done
is "$bad" 0 "every host has the same names, types, modes, links and contents"
is "$(readlink "$D/127.0.1.2/tree/b/link")" "../a/sp ace" "a symlink stays a symlink"
capture "$T" "${M[@]}" -w 127.0.1.1 --preserve -r --sftp --copy "$S/tree" --dest "$D/%h"
is "$RC" 0 "-r --preserve again over the same tree: exit 0"
is "$(stat -c %Y "$D/127.0.1.1/tree/b/deep/er/file") $(stat -c %Y "$D/127.0.1.1/tree/b/deep/er")" \
	"$(stat -c %Y "$S/tree/b/deep/er/file") $(stat -c %Y "$S/tree/b/deep/er")" \
	"--preserve: file and directory times kept"
is "$(leftovers "$D")" 0 "no temporary file left after the trees"

# a directory without -r
capture "$T" "${M[@]}" -w 127.0.1.1 --copy "$S/tree" --dest "$D/%h"
is "$RC" 2 "a directory without -r: exit 2"
is "$(cat "$T/err")" "mrsh: $S/tree: is a directory (use -r)" "and says so"

# ---- failures ---------------------------------------------------------------
# a missing destination directory (two sources)
capture "$T" "${M[@]}" -w "127.0.1.[1-2]" --copy "$S/one" "$S/empty" --dest "$T/nonexistent/%h"
is "$RC" 255 "missing destination: exit 255"
like "$(cat "$T/err")" "^mrsh: 127\.0\.1\.1: RUNNING: $T/nonexistent/127\.0\.1\.1: stat: no such file or directory$" \
	"the host, the path and 'no such file or directory'"
like "$(tail -n 1 "$T/err")" "^mrsh: 2 of 2 hosts failed: " "the summary counts both"

# a destination directory whose parent is missing (one source)
capture "$T" "${M[@]}" -w 127.0.1.1 --copy "$S/one" --dest "$T/nonexistent/x"
is "$RC" 255 "missing parent: exit 255"
like "$(cat "$T/err")" "^mrsh: 127\.0\.1\.1: RUNNING: $T/nonexistent/x: open: no such file or directory$" \
	"open: no such file or directory"

# a file where a directory is expected: only the host with the file fails
for h in 127.0.1.1 127.0.1.2 127.0.1.3; do rm -rf "$D/$h/tree"; done
mkdir -p "$D/127.0.1.2/tree"
printf 'in the way\n' >"$D/127.0.1.2/tree/a"
capture "$T" "${M[@]}" -w "127.0.1.[1-3]" -r --sftp --copy "$S/tree" --dest "$D/%h"
is "$RC" 255 "a file where a directory goes: exit 255"
is "$(grep -c RUNNING "$T/err")" 1 "one host fails"
like "$(cat "$T/err")" "^mrsh: 127\.0\.1\.2: RUNNING: $D/127\.0\.1\.2/tree/a: mkdir: file exists and is not a directory$" \
	"it says which file is in the way"
is "$(cat "$D/127.0.1.2/tree/a")" "in the way" "the file in the way is untouched"
bad=0
for h in 127.0.1.1 127.0.1.3; do
	[ "$(tree_list "$D/$h/tree")" = "$(tree_list "$S/tree")" ] || bad=$((bad + 1))
done
is "$bad" 0 "the other two hosts got the whole tree"

# a directory where the file goes
mkdir -p "$D/127.0.1.4/isdir/one"
capture "$T" "${M[@]}" -w 127.0.1.4 --copy "$S/one" --dest "$D/%h/isdir"
is "$RC" 255 "a directory where the file goes: exit 255"
like "$(cat "$T/err")" "RUNNING: $D/127\.0\.1\.4/isdir/one: is a directory$" "says 'is a directory'"
is "$(leftovers "$D/127.0.1.4")" 0 "the temporary file was removed"

# more than one source and --dest a file
capture "$T" "${M[@]}" -w 127.0.1.1 --copy "$S/one" "$S/empty" --dest "$D/%h/one"
is "$RC" 255 "two sources, --dest a file: exit 255"
like "$(cat "$T/err")" "RUNNING: $D/127\.0\.1\.1/one: not a directory$" "says 'not a directory'"

# an unwritable directory: immutable (root writes anywhere else)
mkdir -p "$D/ro"
if chattr +i "$D/ro" 2>/dev/null; then
	at_exit "chattr -i '$D/ro'"
	capture "$T" "${M[@]}" -w "127.0.1.[1-2]" --copy "$S/ten" --dest "$D/ro"
	is "$RC" 255 "unwritable destination: exit 255"
	like "$(cat "$T/err")" "^mrsh: 127\.0\.1\.1: RUNNING: $D/ro/ten: open: permission denied$" \
		"open: permission denied"
	like "$(tail -n 1 "$T/err")" "^mrsh: 2 of 2 hosts failed: $D/ro/ten: open: permission denied: 127\.0\.1\.\[1-2\]$" \
		"the summary groups both hosts under one reason"
	chattr -i "$D/ro"
else
	skip "unwritable destination" "chattr +i does not work here"
	skip "open: permission denied" "chattr +i does not work here"
	skip "summary groups the reason" "chattr +i does not work here"
fi

# a local source that does not exist: nothing starts
capture "$T" "${M[@]}" -w 127.0.1.1 --copy "$S/nope" --dest "$D/%h"
is "$RC" 2 "missing local source: exit 2"
is "$(cat "$T/err")" "mrsh: $S/nope: No such file or directory" "says which"

# usage
capture "$T" "${M[@]}" -w 127.0.1.1 --copy "$S/one"
is "$RC" 2 "--copy without --dest: exit 2"
is "$(cat "$T/err")" "mrsh: --copy needs --dest DIR" "says --dest is needed"
capture "$T" "${M[@]}" -R exec -w 127.0.1.1 --copy "$S/one" --dest /tmp
is "$RC" 2 "--copy with -R exec: exit 2"
capture "$T" "${M[@]}" --tty -w 127.0.1.1 --copy "$S/one" --dest /tmp
is "$RC" 2 "--copy with --tty: exit 2"
is "$(cat "$T/err")" "mrsh: --copy and --tty exclude each other (SFTP has no terminal)" \
	"--tty with --copy: says why"
capture "$T" "${M[@]}" -w 127.0.1.1 --rcopy /etc/hostname --dest "$T" --tty
is "$RC" 2 "--rcopy with --tty: exit 2"
is "$(cat "$T/err")" "mrsh: --rcopy and --tty exclude each other (SFTP has no terminal)" \
	"--tty with --rcopy: says why"
capture "$T" "${M[@]}" --sudo -w 127.0.1.1 --copy "$S/one" --dest /tmp
is "$RC $(cat "$T/err")" "2 mrsh: --copy and --sudo exclude each other (files are written as the login user)" \
	"--sudo with --copy: exit 2, says why (not a copy as the login user)"

# the connections were closed remote-first even after a copy failure
capture "$T" "${M[@]}" --stats -w "127.0.1.[1-3]" --copy "$S/one" "$S/empty" --dest "$D/%h/one"
like "$(cat "$T/err")" 'closed remote-first 3, local-first 0, reset 0' \
	"after per-host copy failures every connection closed remote-first"

done_testing
