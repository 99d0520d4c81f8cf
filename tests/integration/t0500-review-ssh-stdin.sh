#!/bin/bash
# t0500: -I from a file or device that epoll cannot watch (/dev/zero, a
# regular file) is read a chunk at a time under the same flow control as a
# pipe: never slurped whole, never read on once every host has what it
# wants, and never in a way that starves the loop (timers, signals). A
# closed stdin (or stdout, stderr) does not hand fd 0-2 to mrsh's own files.
# Remote commands are single-quoted on purpose: they expand remotely.
# shellcheck disable=SC2016
. "$top_srcdir/tests/integration/lib.sh"
set -u

start_sshd_test 10
need_cmd md5sum head
# -t 30: ten ASan handshakes at once on a loaded machine can take over 10 s.
M=("$MRSH" -F "$SSH_CONFIG" -f "$HOSTS_FILE" -N -I -t 30)
CAPTURE_TIMEOUT=60

# 1-2: an endless device: each host takes what it reads, mrsh ends.
CAPTURE_STDIN=/dev/zero capture "$T" "${M[@]}" 'head -c 3000000 | wc -c'
is "$RC" 0 "-I </dev/zero, hosts read 3 MB each: exit 0"
is "$(sort "$T/out" | uniq -c | awk '{ print $1, $2 }')" "10 3000000" \
	"every host got 3 MB of /dev/zero"

# 3-4: hosts that never read an endless stdin: the run ends with them,
# not at -u (which would be exit 255: a run that waits for its stdin to
# end never ends before it).
CAPTURE_STDIN=/dev/zero capture "$T" "${M[@]}" -u 40 'sleep 2; echo done'
is "$RC" 0 "-I </dev/zero, hosts never read: exit 0, not the -u timeout"
is "$(grep -cx done "$T/out")" 10 "... and every command ran to its end"

# 5: -u still fires while stdin is read from a device.
CAPTURE_STDIN=/dev/zero capture "$T" "${M[@]}" -u 2 'cat >/dev/null'
is "$RC" 255 "-I </dev/zero into cat, -u 2: the command timeout fires"

# 6: a regular file, more hosts than the fanout: every host gets all of it.
head -c 3000000 /dev/urandom >"$T/in"
want=$(md5sum <"$T/in")
CAPTURE_STDIN="$T/in" capture "$T" "${M[@]}" -j 3 md5sum
is "$(sort -u "$T/out")" "$want" "-I <file, -j 3 for 10 hosts: same bytes on every host"

# 7-9: a closed stdin is an empty one (fd 0 must not be reused by an
# open() inside mrsh, which epoll cannot watch); closed stdout and stderr
# are as good as /dev/null.
"$MRSH" -F "$SSH_CONFIG" -w 127.0.1.1 -N -I 'wc -c' <&- >"$T/out" 2>"$T/err" &
pid=$!
wait_for 30 "! kill -0 $pid" || kill "$pid"
wait "$pid"
is "$?:$(tr -d ' ' <"$T/out")" "0:0" "-I with stdin closed: EOF at once, exit 0"
"$MRSH" -F "$SSH_CONFIG" -w 127.0.1.1 'echo out; echo err >&2; exit 3' \
    </dev/null >&- 2>"$T/err"
is "$?" 3 "stdout closed: the run goes on, exit status kept"
"$MRSH" -F "$SSH_CONFIG" -w 127.0.1.1 'echo out; echo err >&2; exit 3' \
    </dev/null >"$T/out" 2>&-
is "$?:$(cat "$T/out")" "3:127.0.1.1: out" "stderr closed: output and status kept"

done_testing
