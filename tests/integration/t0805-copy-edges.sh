#!/bin/bash
# t0805: --copy and --rcopy at their edges, against a real sshd: a --dest
# with a trailing slash; -r without --preserve over an existing tree keeps
# the existing directories' modes (as cp); a symlink pushed where its name
# is another link, a file or a directory; a fifo in a pushed tree is
# skipped with a message; sources that name no directory of their own
# (/ . ..); a pull with --preserve keeps the remote times; a pull that
# meets a local file where a directory goes, or a local directory where a
# file goes, fails that host with the path and leaves nothing temporary;
# a remote fifo or device is refused by name; --rcopy into a regular file;
# an sshd that allows one session per connection (MaxSessions 1) still
# gets a multi-file copy over its one channel, and one whose SFTP
# subsystem does not start fails each host with that reason; --tar into a
# destination with a single quote in its name.
. "$top_srcdir/tests/integration/lib.sh"
set -u

start_sshd_test 3
M=("$MRSH" -F "$SSH_CONFIG")
CAPTURE_TIMEOUT=300
S=$T/src
D=$T/dst
mkdir -p "$S"
for h in $(sshd_hosts 3); do mkdir -p "$D/$h"; done
# leftovers DIR: temporary files mrsh would have left behind.
leftovers() { find "$1" -name '.*.mrsh-*' | wc -l; }

# ---- push ------------------------------------------------------------------
printf 'one\n' >"$S/one"
capture "$T" "${M[@]}" -w 127.0.1.1 --copy "$S/one" --dest "$D/%h//"
is "$RC $(cat "$T/err")" "0 " "--dest DIR// (trailing slashes): exit 0, quiet"
is "$(cat "$D/127.0.1.1/one")" "one" "the file is DIR/NAME"

# -r without --preserve over an existing tree: the existing directories
# keep their modes and times, the files are replaced
mkdir -p "$S/tree/sub"
printf 'a\n' >"$S/tree/a"
printf 'b\n' >"$S/tree/sub/b"
chmod 0755 "$S/tree" "$S/tree/sub"
mkdir -p "$D/127.0.1.2/tree/sub"
printf 'old\n' >"$D/127.0.1.2/tree/sub/b"
chmod 0700 "$D/127.0.1.2/tree/sub"
capture "$T" "${M[@]}" -w 127.0.1.2 -r --copy "$S/tree" --dest "$D/%h"
is "$RC $(cat "$T/err")" "0 " "-r over an existing tree, no --preserve: exit 0"
is "$(cat "$D/127.0.1.2/tree/a" "$D/127.0.1.2/tree/sub/b")" "a
b" "the files are the source's"
is "$(stat -c %a "$D/127.0.1.2/tree/sub")" 700 \
	"an existing directory keeps its mode (as cp)"
is "$(stat -c %a "$D/127.0.1.2/tree")" 755 "a directory mrsh made gets the source's mode"

# a symlink where the name is another link, a file, a directory
mkdir -p "$S/lt"
ln -s target-one "$S/lt/l1"
ln -s target-two "$S/lt/l2"
ln -s target-three "$S/lt/l3"
mkdir -p "$D/127.0.1.3/lt/l3"
ln -s elsewhere "$D/127.0.1.3/lt/l1"
printf 'a file\n' >"$D/127.0.1.3/lt/l2"
capture "$T" "${M[@]}" -w 127.0.1.3 -r --copy "$S/lt" --dest "$D/%h"
is "$RC" 255 "a directory where a symlink goes: exit 255"
is "$(head -n 1 "$T/err")" "mrsh: 127.0.1.3: RUNNING: $D/127.0.1.3/lt/l3: is a directory" \
	"it names the host and the directory in the way"
is "$(readlink "$D/127.0.1.3/lt/l1") $(readlink "$D/127.0.1.3/lt/l2")" \
	"target-one target-two" "a link and a file in the way were replaced by the links"
[ -d "$D/127.0.1.3/lt/l3" ]
ok $? "the directory in the way is left alone"

# a fifo in a pushed tree: skipped, with a message
mkdir -p "$S/ft"
printf 'f\n' >"$S/ft/file"
mkfifo "$S/ft/fifo"
capture "$T" "${M[@]}" -w 127.0.1.1 -r --copy "$S/ft" --dest "$D/%h"
is "$RC" 0 "a tree with a fifo: exit 0"
is "$(cat "$T/err")" "mrsh: $S/ft/fifo: not a regular file, directory or symbolic link: skipped" \
	"the fifo is skipped, by name"
is "$(ls -A "$D/127.0.1.1/ft")" "file" "the rest of the tree arrived, no fifo"

# sources with no name of their own (before anything is read: a
# push of / must not walk the whole file system first)
for src in / // "$S/." "$S/.." "$S/tree/.."; do
	capture "$T" "${M[@]}" -w 127.0.1.1 -r --copy "$src" --dest "$D/%h"
	is "$RC $(cat "$T/err")" "2 mrsh: $src: name the directory itself (not / . or ..)" \
		"--copy $src: exit 2, says why"
done
for src in / . ..; do
	capture "$T" "${M[@]}" -w 127.0.1.1 -r --rcopy "$S/one" "$src" --dest "$T"
	is "$RC $(cat "$T/err")" "2 mrsh: $src: name the directory itself (not / . or ..)" \
		"--rcopy $src: exit 2, says why"
done

# --tar into a destination with a single quote in its name
if command -v tar >/dev/null; then
	mkdir -p "$D/127.0.1.1/it's"
	capture "$T" "${M[@]}" -w 127.0.1.1 -r --tar --copy "$S/tree" --dest "$D/%h/it's"
	is "$RC $(cat "$T/err")" "0 " "--tar, --dest with a single quote: exit 0"
	is "$(tree_list "$D/127.0.1.1/it's/tree")" "$(tree_list "$S/tree")" \
		"the tree arrived under the quoted name"
else
	skip "--tar, --dest with a single quote" "tar not installed"
	skip "the tree arrived under the quoted name" "tar not installed"
fi

# ---- pull ------------------------------------------------------------------
P=$T/pull
mkdir -p "$P"
touch -d '2003-04-05 06:07:08' "$S/one" "$S/tree/sub/b" "$S/tree/sub"
touch -a -d '2004-01-01 00:00:00' "$S/one"
# (reading the file may update its atime: what it was before the pull)
want=$(stat -c '%a %Y %X' "$S/one")
capture "$T" "${M[@]}" -w 127.0.1.1 --preserve --rcopy "$S/one" --dest "$P"
is "$RC $(cat "$T/err")" "0 " "pull --preserve: exit 0"
is "$(stat -c '%a %Y %X' "$P/one.127.0.1.1")" "$want" \
	"pull --preserve: mode, mtime and atime of the remote file"
capture "$T" "${M[@]}" -w 127.0.1.1 --preserve -r --rcopy "$S/tree" --dest "$P"
is "$RC $(cat "$T/err")" "0 " "pull -r --preserve: exit 0"
is "$(stat -c %Y "$P/tree.127.0.1.1/sub/b") $(stat -c %Y "$P/tree.127.0.1.1/sub")" \
	"$(stat -c %Y "$S/tree/sub/b") $(stat -c %Y "$S/tree/sub")" \
	"pull -r --preserve: file and directory times"
capture "$T" "${M[@]}" -w 127.0.1.2 --rcopy "$S/one" --dest "$P"
is "$RC" 0 "pull without --preserve: exit 0"
isnew=$(($(stat -c %Y "$P/one.127.0.1.2") > $(stat -c %Y "$S/one")))
is "$isnew" 1 "without --preserve: a new mtime"

# a local file where a directory goes, a local directory where a file goes
printf 'in the way\n' >"$P/tree.127.0.1.2"
mkdir -p "$P/one.127.0.1.3/x"
capture "$T" "${M[@]}" -w '127.0.1.[2-3]' -r --rcopy "$S/tree" "$S/one" --dest "$P"
is "$RC" 255 "local things in the way: exit 255"
is "$(grep -v 'hosts failed' "$T/err" | sort)" "mrsh: 127.0.1.2: RUNNING: $P/tree.127.0.1.2: file exists and is not a directory
mrsh: 127.0.1.3: RUNNING: $P/one.127.0.1.3: Is a directory" \
	"each host names the local path in the way"
is "$(cat "$P/tree.127.0.1.2")" "in the way" "the file in the way is untouched"
is "$(leftovers "$P")" 0 "no temporary file left"

# an empty remote directory over a local file: refused, the file untouched
mkdir -p "$S/emptyd"
printf 'keep\n' >"$P/emptyd.127.0.1.1"
chmod 0600 "$P/emptyd.127.0.1.1"
capture "$T" "${M[@]}" -w 127.0.1.1 -r --rcopy "$S/emptyd" --dest "$P"
is "$RC $(head -n 1 "$T/err")" "255 mrsh: 127.0.1.1: RUNNING: $P/emptyd.127.0.1.1: file exists and is not a directory" \
	"an empty remote directory over a local file: exit 255, says so"
is "$(stat -c %a "$P/emptyd.127.0.1.1") $(cat "$P/emptyd.127.0.1.1")" "600 keep" \
	"the local file keeps its mode and content"

# a %h directory that is a local file
mkdir -p "$P/per"
printf 'x\n' >"$P/per/127.0.1.1"
capture "$T" "${M[@]}" -w 127.0.1.1 -r --rcopy "$S/tree" --dest "$P/per/%h"
is "$RC $(head -n 1 "$T/err")" "255 mrsh: 127.0.1.1: RUNNING: $P/per/127.0.1.1/tree: Not a directory" \
	"-r into a %h directory that is a file: exit 255, the path"
capture "$T" "${M[@]}" -w 127.0.1.1 --rcopy "$S/one" --dest "$P/per/%h"
is "$RC $(head -n 1 "$T/err")" "255 mrsh: 127.0.1.1: RUNNING: $P/per/127.0.1.1/one: Not a directory" \
	"a file into a %h directory that is a file: exit 255, the path"

# remote fifos and devices are not regular files
capture "$T" "${M[@]}" -w 127.0.1.1 --rcopy "$S/ft/fifo" /dev/null --dest "$P"
is "$RC" 255 "pull of a fifo: exit 255"
is "$(head -n 1 "$T/err")" "mrsh: 127.0.1.1: RUNNING: $S/ft/fifo: not a regular file" \
	"says the remote path is not a regular file"
capture "$T" "${M[@]}" -w 127.0.1.1 --rcopy /dev/null --dest "$P"
is "$RC $(head -n 1 "$T/err")" "255 mrsh: 127.0.1.1: RUNNING: /dev/null: not a regular file" \
	"pull of /dev/null: exit 255, not a regular file"
[ ! -e "$P/fifo.127.0.1.1" ] && [ ! -e "$P/null.127.0.1.1" ]
ok $? "nothing made for them"

# --rcopy into a regular file
capture "$T" "${M[@]}" -w 127.0.1.1 --rcopy "$S/one" --dest "$S/one"
is "$RC $(cat "$T/err")" "2 mrsh: --dest $S/one: not a directory" \
	"--rcopy --dest FILE: exit 2, not a directory"

done_testing
