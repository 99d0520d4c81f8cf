#!/bin/bash
# t0502: running out of file descriptors is a local failure, reported the
# same way by every network transport ("cannot open a socket: ..."), never
# as an unreachable host ("connect to ...: Too many open files"). The
# classification lives in netconn (net_errno_is_local), not in one transport.
# The run is started with room to spare (startup and the first session need
# descriptors), then prlimit lowers its open-file limit to 3 while the first
# host is busy, so every later socket() fails with EMFILE. Leak checking is
# off for these runs only: LeakSanitizer needs a descriptor at exit.
. "$top_srcdir/tests/integration/lib.sh"
set -u

need_cmd prlimit python3
T=$(make_tmpdir)
[ -x "$MRSH" ] || bail_out "no mrsh binary at $MRSH"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

# A TCP sink: accepts nothing, answers nothing (the first host hangs there).
fake_server noaccept
P=$FAKE_PORT

# starve COND CMD...: run CMD in the background, and once COND (a string
# for eval; the run's pid in $pid) holds, lower its open-file limit to 3,
# then eval STARVE_THEN if set; RC, $T/out and $T/err as capture.
starve() {
	local cond=$1 pid

	shift
	"$@" </dev/null >"$T/out" 2>"$T/err" &
	pid=$!
	wait_for 30 "$cond" || diag "not reached before the limit: $cond"
	prlimit --pid "$pid" --nofile=3: || diag "prlimit failed"
	eval "${STARVE_THEN:-:}"
	wait "$pid"
	RC=$?
}

# sink_fed: the first host's request (sent once its sockets are open)
# waits in the sink's queue.
sink_fed="ss -Htn state established '( sport = :$P )' | awk '\$1 > 0' | grep -q ."

H="127.0.0.1:$P"
# 1-6: rsh, with and without a stderr connection. The first host
# times out in the sink; the next two cannot open a socket.
for mode in merge connect; do
	starve "$sink_fed" "$MRSH" -R rsh --rsh-stderr "$mode" -j 1 -t 8 \
	    -w "$H,127.0.0.2:$P,127.0.0.3:$P" -- true
	is "$RC" 255 "rsh ($mode), out of descriptors: exit 255"
	is "$(grep -c '^mrsh: 127\.0\.0\.[23]:'"$P"': CONNECTING: cannot open a socket: Too many open files$' "$T/err")" 2 \
	    "rsh ($mode): a local failure while connecting, for both hosts"
	unlike "$(cat "$T/err")" 'connect to .*Too many open files' \
	    "rsh ($mode): not reported as an unreachable host"
done

# 7-10: a connect still in progress at the connect timeout (a listener
# whose accept queue is full drops the SYN) is no connection: both
# transports count it as no socket, not as a reset.
fake_server full
F=$FAKE_PORT
for tr in rsh ssh; do
	capture "$T" "$MRSH" -R "$tr" -F none --stats -t 1 -w "127.0.0.1:$F" \
	    -- true
	like "$(cat "$T/err")" '^mrsh: 127\.0\.0\.1:'"$F"': CONNECTING: connect timeout after 1s \(-t\)$' \
	    "$tr: connect timeout while connecting"
	like "$(cat "$T/err")" '^mrsh: stats: closed remote-first 0, local-first 0, reset 0, no-socket 1$' \
	    "$tr: counted as no connection, not as a reset"
done

# 11-13: ssh, the same words. The first host runs a command on the private
# sshd (its teardown opens nothing); the limit drops while it runs, and
# only then is the command let go (it waits for a file, at most 60 s).
start_sshd 2
chmod 755 "$T"
STARVE_THEN="touch '$T/go'" starve "[ -e '$T/started' ]" \
    "$MRSH" -F "$SSH_CONFIG" -j 1 -t 10 -w 127.0.1.1,127.0.1.2 \
    -- "touch $T/started; i=0; while [ ! -e $T/go ] && [ \$i -lt 600 ]; do sleep 0.1; i=\$((i + 1)); done; echo first"
is "$RC" 255 "ssh, out of descriptors: exit 255"
is "$(grep -c '^mrsh: 127\.0\.1\.2: CONNECTING: cannot open a socket: Too many open files$' "$T/err")" 1 \
    "ssh: the same local failure while connecting"
is "$(cat "$T/out")" "127.0.1.1: first" "ssh: the first host still ran"

done_testing
