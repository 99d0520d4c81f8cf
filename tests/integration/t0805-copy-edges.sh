#!/bin/bash
# t0805: --copy and --rcopy at their edges, against a real sshd: a --dest
# with a trailing slash; -r without --preserve over an existing tree keeps
# the existing directories' modes (as cp); an unreadable file or directory
# in a pushed tree stops the run before it starts; a symlink pushed where
# its name is another link, a file or a directory; a fifo in a pushed tree
# is skipped with a message; sources that name no directory of their own
# (/ . ..); a pull with --preserve keeps the remote times; a pull that
# meets a local file where a directory goes, or a local directory where a
# file goes, fails that host with the path and leaves nothing temporary;
# a remote fifo or device is refused by name; --rcopy into a regular file;
# an sshd that allows one session per connection (MaxSessions 1) still
# gets a multi-file copy over its one channel; an SFTP server killed in
# the middle of a pull or a push fails the host at once (libssh2 alone
# would wait for ever), leaving nothing partial; an sshd without an sftp
# subsystem fails each host with that reason (libssh2 1.11); --tar into a
# destination with a single quote in its name; ctrl-c twice mid-push.
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
capture "$T" "${M[@]}" -w 127.0.1.2 -r --sftp --copy "$S/tree" --dest "$D/%h"
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
capture "$T" "${M[@]}" -w 127.0.1.3 -r --sftp --copy "$S/lt" --dest "$D/%h"
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
capture "$T" "${M[@]}" -w 127.0.1.1 -r --sftp --copy "$S/ft" --dest "$D/%h"
is "$RC" 0 "a tree with a fifo: exit 0"
is "$(cat "$T/err")" "mrsh: $S/ft/fifo: not a regular file, directory or symbolic link: skipped" \
	"the fifo is skipped, by name"
is "$(ls -A "$D/127.0.1.1/ft")" "file" "the rest of the tree arrived, no fifo"

# an unreadable directory or file in a pushed tree (as another user: root
# reads anything): the run does not start, and says which
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
	mkdir -p "$S/locked/directory" "$S/lockedf"
	printf 'x\n' >"$S/lockedf/file"
	chmod 000 "$S/locked/directory" "$S/lockedf/file"
	chmod 755 "$T" "$S"
	# (a --coverage build: gcov data to a place that user may write)
	mkdir -m 777 "$T/gcov"
	for t in locked/directory lockedf/file; do
		GCOV_PREFIX=$T/gcov HOME=/nonexistent setpriv --reuid=65534 --regid=65534 --clear-groups \
			"$MRSH" -w 127.0.1.1 -r --sftp --copy "$S/${t%/*}" --dest /nonexistent \
			>"$T/out" 2>"$T/err" </dev/null
		is "$? $(cat "$T/err")" "2 mrsh: $S/$t: Permission denied" \
			"push -r of a tree with an unreadable ${t#*/} (as uid 65534): exit 2, says which"
	done
	rm -rf "$S/locked" "$S/lockedf"
else
	skip_n 2 "needs root and setpriv to read as another user"
fi

# sources with no name of their own (before anything is read: a
# push of / must not walk the whole file system first)
for src in / // "$S/." "$S/.." "$S/tree/.."; do
	capture "$T" "${M[@]}" -w 127.0.1.1 -r --sftp --copy "$src" --dest "$D/%h"
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

# ctrl-c twice in the middle of a push: exit 130, the destination name
# keeps the previous file (the temporary file stays on the host: an abort
# does not wait for the server)
head -c 200000000 /dev/zero >"$S/big"
printf 'previous\n' >"$D/127.0.1.1/big"
"$MRSH" -F "$SSH_CONFIG" -w 127.0.1.1 --copy "$S/big" --dest "$D/%h" \
	>"$T/out" 2>"$T/err" </dev/null &
mpid=$!
at_exit "kill -9 $mpid"
ibig() {
	local f

	for f in "$D/127.0.1.1"/.big.mrsh-*; do
		[ -f "$f" ] && [ "$(stat -c %s "$f")" -gt 5000000 ] && return 0
	done
	return 1
}
if wait_for 120 ibig; then
	# Each ctrl-c is answered (a status, or the abort) before the next;
	# one that came too late for the first is a new first one.
	n=0
	while ! grep -q 'interrupted: aborting' "$T/err" && [ "$n" -lt 10 ]; do
		kill -INT "$mpid"
		n=$((n + 1))
		wait_for 10 "[ \$(grep -c 'ctrl-c again\|interrupted: aborting' '$T/err') -ge $n ]"
	done
	# bounded: the abort must end it
	wait_for 30 "! kill -0 $mpid" || kill -9 "$mpid"
	wait "$mpid"
	RC=$?
	is "$RC $(tail -n 2 "$T/err")" "130 mrsh: interrupted: aborting 1 running host
mrsh: 1 of 1 host failed: interrupted: 127.0.1.1" "ctrl-c twice mid-push: exit 130, says so"
	is "$(cat "$D/127.0.1.1/big")" "previous" "ctrl-c twice mid-push: the previous file stays"
else
	kill -9 "$mpid"
	skip_n 2 "the push was not caught in flight"
fi
rm -f "$S/big" "$D/127.0.1.1/big" "$D/127.0.1.1"/.big.mrsh-*

# ---- sshd variants -----------------------------------------------------------
# sshd2 NAME FIRST_LINE SUBSYSTEM: a second sshd on a free port with this
# test's keys, FIRST_LINE first in its sshd_config (first value wins) and
# SUBSYSTEM as its sftp Subsystem ("" for none); its client config is
# $T/NAME/ssh_config. 1 if it did not start.
sshd2() {
	local d=$T/$1 port

	mkdir -p "$d"
	port=$(free_port)
	{
		printf '%s\n' "$2"
		sed -e "s/^Port .*/Port $port/" -e "s|^PidFile .*|PidFile $d/sshd.pid|" \
			-e '/^Subsystem sftp /d' "$SSHD_CONFIG"
		[ -z "$3" ] || echo "Subsystem sftp $3"
	} >"$d/sshd_config"
	sed "s/\]:$SSHD_PORT /]:$port /" "$KNOWN_HOSTS" >"$d/known_hosts"
	sed -e "s/^\tPort .*/\tPort $port/" \
		-e "s|^\tUserKnownHostsFile .*|\tUserKnownHostsFile $d/known_hosts|" \
		"$SSH_CONFIG" >"$d/ssh_config"
	(
		"${SSHD_BIN:-/usr/sbin/sshd}" -D -f "$d/sshd_config" -E "$d/log" \
			</dev/null >/dev/null 2>&1 &
		echo $! >"$d/pid"
	)
	at_exit "kill $(cat "$d/pid")"
	wait_for 20 "grep -q 'Server listening on .* port $port' '$d/log'"
}

# MaxSessions 1: the extra SFTP channels of a multi-file push (one per
# file, so 3) are refused, the copy goes on over the one channel
if sshd2 ms1 "MaxSessions 1" internal-sftp; then
	printf 'two\n' >"$S/two"
	printf 'three\n' >"$S/three"
	for h in $(sshd_hosts 2); do rm -rf "${D:?}/$h"; mkdir -p "$D/$h"; done
	capture "$T" "$MRSH" -F "$T/ms1/ssh_config" -vv -w '127.0.1.[1-2]' \
		--copy "$S/one" "$S/two" "$S/three" --dest "$D/%h"
	is "$RC" 0 "MaxSessions 1, 3 files to 2 hosts: exit 0"
	is "$(grep -c ': SFTP channel [12] refused$' "$T/err")" 4 \
		"-vv: channels 1 and 2 refused on each host"
	is "$(cat "$D/127.0.1.1"/{one,two,three} "$D/127.0.1.2"/{one,two,three} | tr '\n' ' ')" \
		"one two three one two three " "every file arrived over the one channel"
else
	skip_n 3 "a second sshd (MaxSessions 1) did not start"
fi

# The SFTP server dies in the middle of a pull and of a push (sshd and
# the connection live on): the host fails with the path at once instead
# of waiting for an answer for ever; the pull leaves nothing local, the
# push leaves the destination name alone.
sftp_server=/usr/lib/openssh/sftp-server
# kill_sftp_server NAME: kill -9 the sftp-server under sshd2 NAME.
kill_sftp_server() {
	local k n=0

	for k in $(descendants "$(cat "$T/$1/pid")"); do
		[ "$(ps -o comm= -p "$k")" = sftp-server ] || continue
		kill -9 "$k" && n=$((n + 1))
	done
	[ "$n" = 1 ]
}
descendants() {
	local k

	for k in $(ps -o pid= --ppid "$1"); do
		echo "$k"
		descendants "$k"
	done
}
# grown GLOB: a file matching GLOB has more than 5 MB.
grown() {
	local f

	for f in $1; do
		[ -f "$f" ] && [ "$(stat -c %s "$f")" -gt 5000000 ] && return 0
	done
	return 1
}
if [ -x "$sftp_server" ] && sshd2 ext "" "$sftp_server"; then
	head -c 200000000 /dev/zero >"$S/big"
	rm -rf "$P" && mkdir -p "$P"
	timeout -k 5 "$CAPTURE_TIMEOUT" "$MRSH" -F "$T/ext/ssh_config" -w 127.0.1.1 \
		--rcopy "$S/big" --dest "$P" >"$T/out" 2>"$T/err" </dev/null &
	mpid=$!
	at_exit "kill $mpid"
	if wait_for 120 "grown '$P/.big.*'" && kill_sftp_server ext; then
		wait "$mpid"
		RC=$?
		# sshd closes the connection once its last channel is closed:
		# mrsh may read that close before or with the channel's EOF
		is "$RC" 255 "pull, the SFTP server killed: exit 255 at once"
		like "$(head -n 1 "$T/err")" "^mrsh: 127\.0\.1\.1: RUNNING: ($S/big: the SFTP server ended: end of file on its channel|connection lost during read of $S/big: the server closed or reset the connection)\$" \
			"pull, the SFTP server killed: one line with the path"
		is "$(ls -A "$P")" "" "nothing left of the pull"
	else
		kill "$mpid"
		skip_n 3 "the pull was not caught in flight"
	fi
	printf 'previous\n' >"$D/127.0.1.1/big"
	timeout -k 5 "$CAPTURE_TIMEOUT" "$MRSH" -F "$T/ext/ssh_config" -w 127.0.1.1 \
		--copy "$S/big" --dest "$D/%h" >"$T/out" 2>"$T/err" </dev/null &
	mpid=$!
	at_exit "kill $mpid"
	if wait_for 120 "grown '$D/127.0.1.1/.big.*'" && kill_sftp_server ext; then
		wait "$mpid"
		RC=$?
		is "$RC" 255 "push, the SFTP server killed: exit 255 at once"
		like "$(head -n 1 "$T/err")" "^mrsh: 127\.0\.1\.1: RUNNING: ($D/127\.0\.1\.1/big: the SFTP server ended: end of file on its channel|connection lost during (write|fsync|close) of $D/127\.0\.1\.1/big: the server closed or reset the connection)\$" \
			"push, the SFTP server killed: one line with the path"
		is "$(cat "$D/127.0.1.1/big")" "previous" "the destination name still holds the previous file"
	else
		kill "$mpid"
		skip_n 3 "the push was not caught in flight"
	fi
	rm -f "$S/big" "$D"/127.0.1.1/.big.* "$D/127.0.1.1/big"
else
	skip_n 6 "no $sftp_server, or a second sshd with it did not start"
fi

# An SFTP subsystem that exits before it answers: libssh2_sftp_init keeps
# the channel to itself and waits. Until the SFTP server answers the host
# is still in setup, so the connect timeout (-t) ends it, with no -u.
if sshd2 false "" /bin/false; then
	capture "$T" "$MRSH" -F "$T/false/ssh_config" -t 3 -w 127.0.1.1 \
		--copy "$S/one" --dest "$D/%h/sub"
	is "$RC $(cat "$T/err")" "255 mrsh: 127.0.1.1: SETUP: timed out waiting for the SFTP server after 3s (-t)
mrsh: 1 of 1 host failed: timed out waiting for the SFTP server after 3s (-t): 127.0.1.1" \
		"an SFTP subsystem that exits at once: the host ends at -t, saying why"
else
	skip "an SFTP subsystem that exits at once" "a second sshd did not start"
fi

# no sftp Subsystem: the request is refused. (libssh2 1.10 then frees
# the channel in a loop of its own inside libssh2_sftp_init; ssh_recv_cb
# reads the socket for it after SSH_DRY_SPINS empty answers, or it would
# spin forever.)
if sshd2 none "" ""; then
	capture "$T" "$MRSH" -F "$T/none/ssh_config" -w '127.0.1.[1-2]' \
		--copy "$S/one" --dest "$D/%h/sub"
	is "$RC" 255 "no SFTP subsystem: exit 255"
	is "$(grep '^mrsh: 127\.0\.1\.1:' "$T/err")" "mrsh: 127.0.1.1: SETUP: the SFTP subsystem failed to start: Unable to request SFTP subsystem" \
		"no SFTP subsystem: the host and the reason"
	[ ! -e "$D/127.0.1.1/sub" ] && [ ! -e "$D/127.0.1.2/sub" ]
	ok $? "nothing was written"
else
	skip_n 3 "a second sshd (no SFTP) did not start"
fi

done_testing
