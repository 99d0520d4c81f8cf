#!/bin/bash
# t0802: --copy when things break, against a real sshd running in this
# test's own mount and network namespaces: a target disk that fills up
# (a small tmpfs mounted where one host's files go) fails that host with
# "no space left on device", removes the temporary file and leaves the
# destination name alone, while the other hosts complete; a pull into a
# full local disk fails with the local name and leaves nothing; a host whose
# sshd dies in the middle of a copy fails with the path, leaves nothing
# under the destination name, and every other host completes with the
# right bytes; a host whose sshd dies in the middle of a pull (-r) fails
# with the remote path and leaves neither the file nor its temporary; a
# push aborted by SIGTERM or ctrl-c twice removes its temporary files (a
# tree by tar too); a
# 1 GB sparse file arrives byte for byte (to 2 hosts with
# MRSH_TEST_BIG=1).
. "$top_srcdir/tests/integration/lib.sh"
set -u

reexec_in_netns --mount --propagation private
need_cmd mount umount ss
start_sshd_test 5
M=("$MRSH" -F "$SSH_CONFIG")
CAPTURE_TIMEOUT=600
S=$T/src
D=$T/dst
mkdir -p "$S"
for h in $(sshd_hosts 5); do mkdir -p "$D/$h"; done
leftovers() { find "$1" -name '.*.mrsh-*' | wc -l; }
# sshd_pids_of HOST: the sshd processes serving HOST's connections
sshd_pids_of() {
	ss -Htnp state established "( sport = :$SSHD_PORT )" |
		awk -v a="$1:$SSHD_PORT" '$3 == a' |
		grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u
}
# grown DIR NAME: a temporary file of NAME in DIR has passed 5 MB
grown() {
	local f

	for f in "$1"/."$2".mrsh-*; do
		[ -f "$f" ] && [ "$(stat -c %s "$f")" -gt 5000000 ] && return 0
	done
	return 1
}

# ---- disk full on one host ------------------------------------------------
head -c 3000000 /dev/urandom >"$S/three"
printf 'old\n' >"$T/old"
if mount -t tmpfs -o size=1m tmpfs "$D/127.0.1.2"; then
	at_exit "umount '$D/127.0.1.2'"
	cp "$T/old" "$D/127.0.1.2/three"
	capture "$T" "${M[@]}" -w '127.0.1.[1-3]' --copy "$S/three" --dest "$D/%h"
	is "$RC" 255 "disk full on one host: exit 255"
	is "$(grep -c RUNNING "$T/err")" 1 "one host failed"
	like "$(cat "$T/err")" "^mrsh: 127\.0\.1\.2: RUNNING: $D/127\.0\.1\.2/three: (write|close|fsync): no space left on device$" \
		"it says which host, which file and 'no space left on device'"
	is "$(cat "$D/127.0.1.2/three")" "old" "the destination name still holds the old file"
	is "$(leftovers "$D/127.0.1.2")" 0 "the temporary file was removed"
	is "$(cmp "$S/three" "$D/127.0.1.1/three" && cmp "$S/three" "$D/127.0.1.3/three" && echo same)" \
		same "the other two hosts got the file"
	umount "$D/127.0.1.2"
else
	for i in 1 2 3 4 5 6; do
		skip "disk full ($i)" "cannot mount a tmpfs here"
	done
fi

# a pull into a full local disk: the host fails with the local name (not
# the temporary one), and the temporary file goes
mkdir -p "$T/pfull"
if mount -t tmpfs -o size=1m tmpfs "$T/pfull"; then
	at_exit "umount '$T/pfull'"
	capture "$T" "${M[@]}" -w 127.0.1.1 --rcopy "$S/three" --dest "$T/pfull"
	is "$RC $(head -n 1 "$T/err")" "255 mrsh: 127.0.1.1: RUNNING: $T/pfull/three.127.0.1.1: No space left on device" \
		"a pull into a full local disk: exit 255, the local name and why"
	is "$(ls -A "$T/pfull")" "" "nothing left on the full disk"
	umount "$T/pfull"
else
	skip_n 2 "cannot mount a tmpfs here"
fi

# ---- a host dies in the middle -----------------------------------------------
# Big enough to be caught in flight on a slow machine, small enough to fit.
head -c 100000000 /dev/zero >"$S/big"
printf 'previous\n' >"$D/127.0.1.2/big"
timeout -k 5 "$CAPTURE_TIMEOUT" "${M[@]}" -w '127.0.1.[1-3]' --copy "$S/big" \
	--dest "$D/%h" >"$T/out" 2>"$T/err" </dev/null &
mpid=$!
at_exit "kill $mpid"
# wait until host 2's temporary file has grown, then kill its sshd
if wait_for 300 'grown "$D/127.0.1.2" big'; then
	pids=$(sshd_pids_of 127.0.1.2)
	[ -n "$pids" ] || diag "no sshd process found for 127.0.1.2"
	# shellcheck disable=SC2086
	kill -9 $pids
	wait "$mpid"
	RC=$?
	is "$RC" 255 "a host killed mid-copy: exit 255"
	is "$(grep -c RUNNING "$T/err")" 1 "one host failed"
	like "$(cat "$T/err")" "^mrsh: 127\.0\.1\.2: RUNNING: connection lost during (write|close|fsync) of $D/127\.0\.1\.2/big: " \
		"it names the host and the file"
	is "$(cat "$D/127.0.1.2/big")" "previous" "the destination name still holds the previous file"
	is "$(cmp "$S/big" "$D/127.0.1.1/big" && cmp "$S/big" "$D/127.0.1.3/big" && echo same)" \
		same "the other two hosts completed"
	unlike "$(cat "$T/err")" 'AddressSanitizer|LeakSanitizer|runtime error' "no sanitizer report"
else
	kill "$mpid" 2>/dev/null
	ok 1 "host 2's temporary file never grew past 5 MB"
fi
rm -f "$S/big" "$D"/*/big "$D"/*/.big.mrsh-*

# ---- an aborted push removes its temporary files ------------------------------
# Host 2's sshd is stopped with its temporary file half written, mrsh is
# aborted (SIGTERM; ctrl-c twice), then the sshd is let go: within
# --close-wait mrsh closes the file and removes it, on every host.
head -c 100000000 /dev/zero >"$S/big"
for sig in TERM INT; do
	want=$([ "$sig" = TERM ] && echo 143 || echo 130)
	printf 'previous\n' >"$D/127.0.1.2/big"
	"${M[@]}" --close-wait 60 -w '127.0.1.[1-3]' --copy "$S/big" \
		--dest "$D/%h" >"$T/out" 2>"$T/err" </dev/null &
	mpid=$!
	at_exit "kill -9 $mpid 2>/dev/null"
	if wait_for 300 'grown "$D/127.0.1.2" big' &&
		pids=$(sshd_pids_of 127.0.1.2) && [ -n "$pids" ]; then
		# shellcheck disable=SC2086
		kill -STOP $pids
		at_exit "kill -CONT $pids 2>/dev/null"
		kill -"$sig" "$mpid"
		if [ "$sig" = INT ]; then
			# the second once mrsh answered the first (not merged)
			wait_for 30 "grep -q 'ctrl-c again' '$T/err'"
			kill -INT "$mpid"
		fi
		# shellcheck disable=SC2086
		kill -CONT $pids
		wait_for 120 '! kill -0 $mpid' || kill -9 "$mpid"
		wait "$mpid"
		is "$?" "$want" "SIG$sig with a file half sent: exit $want"
		is "$(leftovers "$D")" 0 "SIG$sig: no temporary file left on any host"
		is "$(cat "$D/127.0.1.2/big")" previous "SIG$sig: the destination name still holds the previous file"
		unlike "$(cat "$T/err")" 'AddressSanitizer|LeakSanitizer|runtime error' "SIG$sig: no sanitizer report"
	else
		fail "SIG$sig: host 2's temporary file never grew past 5 MB"
		skip_n 3 "SIG$sig: nothing in flight"
		kill "$mpid" 2>/dev/null
		wait "$mpid"
	fi
	rm -f "$D"/*/big "$D"/*/.big.mrsh-*
done
# The same for a tree, which goes by tar: the host's script removes its
# temporary directory when the stream ends early (after mrsh's exit).
mkdir -p "$S/bigdir"
mv "$S/big" "$S/bigdir/big"
tgrown() {
	local f

	for f in "$D/127.0.1.2"/.mrsh-tar.*/bigdir/big; do
		[ -f "$f" ] && [ "$(stat -c %s "$f")" -gt 5000000 ] && return 0
	done
	return 1
}
"${M[@]}" -w '127.0.1.[1-3]' -r --copy "$S/bigdir" --dest "$D/%h" \
	>"$T/out" 2>"$T/err" </dev/null &
mpid=$!
at_exit "kill -9 $mpid 2>/dev/null"
if wait_for 300 tgrown && pids=$(sshd_pids_of 127.0.1.2) && [ -n "$pids" ]; then
	# shellcheck disable=SC2086
	kill -STOP $pids
	at_exit "kill -CONT $pids 2>/dev/null"
	kill -TERM "$mpid"
	# shellcheck disable=SC2086
	kill -CONT $pids
	wait_for 120 '! kill -0 $mpid' || kill -9 "$mpid"
	wait "$mpid"
	is "$?" 143 "SIGTERM with a tree half sent by tar: exit 143"
	wait_for 60 '[ "$(find "$D" -name ".mrsh-tar.*" | wc -l)" = 0 ]'
	ok $? "the host's temporary directory goes too"
	is "$(ls "$D/127.0.1.2")" "" "and nothing is installed on the stopped host"
else
	fail "host 2's tar temporary file never grew past 5 MB"
	skip_n 2 "nothing in flight"
	kill "$mpid" 2>/dev/null
	wait "$mpid"
fi
rm -rf "$S/bigdir" "$D"/*/bigdir

# ---- a host dies in the middle of a pull ----------------------------------------
# A tree whose first file is big: the host is killed inside it, with the
# rest of the tree still to come. The local temporary file goes, nothing
# is left under the big file's name, and the other hosts get it all.
mkdir -p "$S/ptree/c" "$T/pull"
head -c 100000000 /dev/zero >"$S/ptree/a-big"
printf 'b\n' >"$S/ptree/b"
printf 'd\n' >"$S/ptree/c/d"
timeout -k 5 "$CAPTURE_TIMEOUT" "${M[@]}" -w '127.0.1.[1-3]' -r --rcopy "$S/ptree" \
	--dest "$T/pull" >"$T/out" 2>"$T/err" </dev/null &
mpid=$!
at_exit "kill $mpid"
if wait_for 300 'grown "$T/pull/ptree.127.0.1.2" a-big'; then
	pids=$(sshd_pids_of 127.0.1.2)
	[ -n "$pids" ] || diag "no sshd process found for 127.0.1.2"
	# shellcheck disable=SC2086
	kill -9 $pids
	wait "$mpid"
	RC=$?
	is "$RC" 255 "a host killed mid-pull: exit 255"
	like "$(cat "$T/err")" "^mrsh: 127\.0\.1\.2: RUNNING: connection lost during read of $S/ptree/a-big: " \
		"it names the host and the remote file"
	is "$(grep -c RUNNING "$T/err")" 1 "one host failed"
	is "$(find "$T/pull/ptree.127.0.1.2" -mindepth 1 | wc -l)" 0 \
		"no partial file, no temporary file, nothing after it"
	bad=0
	for h in 127.0.1.1 127.0.1.3; do
		[ "$(tree_list "$T/pull/ptree.$h")" = "$(tree_list "$S/ptree")" ] &&
			cmp -s "$S/ptree/a-big" "$T/pull/ptree.$h/a-big" || bad=$((bad + 1))
	done
	is "$bad" 0 "the other two hosts got the whole tree"
	unlike "$(cat "$T/err")" 'AddressSanitizer|LeakSanitizer|runtime error' "no sanitizer report"
else
	kill "$mpid" 2>/dev/null
	ok 1 "host 2's temporary file never grew past 5 MB"
fi
rm -rf "$S/ptree" "$T/pull"

# ---- 1 GB sparse ------------------------------------------------------------------
# To one host by default (minutes on a busy machine: 1 GB is written on the
# target); MRSH_TEST_BIG=1: to two, read once from the local disk for both.
truncate -s 1G "$S/sparse"
printf 'here' | dd of="$S/sparse" bs=1 seek=$((1024 * 1024 * 1024 - 4)) conv=notrunc 2>/dev/null
if [ "${MRSH_TEST_BIG:-0}" = 1 ]; then big_hosts=2; else big_hosts=1; fi
capture "$T" "${M[@]}" -v -w "127.0.1.[4-$((3 + big_hosts))]" --copy "$S/sparse" --dest "$D/%h"
is "$RC" 0 "1 GB sparse file to $big_hosts host(s): exit 0"
nread=$(sed -n 's/.*read \([0-9]*\) bytes of local files for.*/\1/p' "$T/err")
ok "$([ -n "$nread" ] && [ "$nread" -ge 1073741824 ] && [ "$nread" -lt 2147483648 ]; echo $?)" \
	"less than 2 GB read from the local disk (read: ${nread:-?})"
like "$(cat "$T/err")" 'bytes of local files for [12] hosts?: 1073741824 the first time, ' \
	"each byte of the file read once the first time"
bad=0
for h in $(sshd_hosts $((3 + big_hosts)) | tail -n "$big_hosts"); do
	cmp -s "$S/sparse" "$D/$h/sparse" || bad=$((bad + 1))
done
is "$bad" 0 "every copy is byte for byte the source"
rm -f "$S/sparse" "$D"/*/sparse

done_testing
