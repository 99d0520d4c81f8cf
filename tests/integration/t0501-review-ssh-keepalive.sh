#!/bin/bash
# t0501: ServerAliveCountMax counts keepalives that went unanswered, as
# ssh(1) does, not seconds of silence: libssh2 1.10 sends a keepalive at
# most once per interval as time() sees it (every 2 s for an interval of
# 1), so a live server must never be failed for the gaps libssh2 leaves.
# Remote commands are single-quoted on purpose: they expand remotely.
# shellcheck disable=SC2016
. "$top_srcdir/tests/integration/lib.sh"
set -u

# DEBUG: sshd logs each keepalive it gets (the paused-output tests).
SSHD_EXTRA_CONFIG="LogLevel DEBUG" start_sshd_test 5
M=("$MRSH" -F "$SSH_CONFIG")
CAPTURE_TIMEOUT=60

# 1-4: interval 2, count 1: quiet commands live. (Interval 1 left a loaded
# sshd one second to answer, which two test passes side by side can miss;
# with 2 libssh2's gaps are the same, 4 s by time()'s steps.)
for i in 1 2; do
	capture "$T" "${M[@]}" -o ServerAliveInterval=2 \
	    -o ServerAliveCountMax=1 -w "127.0.1.$i" 'sleep 7; echo alive'
	is "$RC" 0 "ServerAliveInterval=2 CountMax=1, sleep 7 (run $i): exit 0"
	[ "$RC" = 0 ] || diag "$(head -3 "$T/err")"
	is "$(cat "$T/out")" "127.0.1.$i: alive" \
	    "ServerAliveInterval=2 CountMax=1, sleep 7 (run $i): output"
done

# 5-6: five hosts, interval 1, count 2.
capture "$T" "${M[@]}" -o ServerAliveInterval=1 -o ServerAliveCountMax=2 \
    -f "$HOSTS_FILE" 'sleep 5; echo alive'
is "$RC" 0 "5 hosts, ServerAliveInterval=1 CountMax=2, sleep 5: exit 0"
is "$(grep -c ': alive$' "$T/out")" 5 "... every host answered"

# 7-13: keepalives while mrsh's output is paused. 16 MB go to a stdout
# pipe nobody reads until sshd has logged three more keepalives after mrsh
# said it paused the hosts (over 4 MB queued): mrsh does not read the
# connection then, so the answers wait in the socket and the unanswered
# count must not run (with CountMax 1 a second keepalive would otherwise
# fail a live server); read at last, all of it arrives, exit 0. A server
# frozen (SIGSTOP on its sshd) while output is paused is failed per
# CountMax once the pipe is read and no answer comes, as ssh fails it.
kacount() {
	grep -c 'rtype keepalive@' "$SSHD_LOG"
}
# paused_run TAG HOST live|freeze: mrsh -vv on HOST, its stdout a pipe
# read only once the pause had three keepalives (live) or the host's sshd
# was stopped in it (freeze); output in $T/TAG.out, stderr in .err, exit
# status in .rc.
paused_run() {
	local tag=$1 host=$2 how=$3

	rm -f "$T/$tag.ppid" "$T/$tag.stopped"
	{
		timeout -k 5 90 "${M[@]}" -vv -o ServerAliveInterval=2 \
		    -o ServerAliveCountMax=1 -w "$host" \
		    "echo \$PPID >$T/$tag.ppid; yes 0123456789abcdef0123456789abcde |
		    head -n 500000; echo END" </dev/null 2>"$T/$tag.err"
		echo $? >"$T/$tag.rc"
	} | {
		local n0 sp
		wait_for 60 "grep -q 'output congested: pausing hosts' '$T/$tag.err'" ||
			diag "$tag: mrsh did not pause its hosts"
		if [ "$how" = freeze ]; then
			sp=$(cat "$T/$tag.ppid" 2>/dev/null)
			[ -n "$sp" ] && kill -STOP "$sp" && echo "$sp" >"$T/$tag.stopped"
		else
			n0=$(kacount)
			wait_for 60 "[ \$(kacount) -ge $((n0 + 3)) ]" ||
				diag "$tag: sshd got no three keepalives in the pause"
		fi
		cat >"$T/$tag.out"
	}
	if [ -s "$T/$tag.stopped" ]; then
		kill -CONT "$(cat "$T/$tag.stopped")"
	fi
}

paused_run live 127.0.1.3 live
is "$(cat "$T/live.rc")" 0 "output paused over 3 keepalives (interval 2, count 1): exit 0"
[ "$(cat "$T/live.rc")" = 0 ] ||
	diag "$(grep -Ev '^mrsh: [a-z_0-9]+:[0-9]+: ' "$T/live.err" | head -3)"
unlike "$(cat "$T/live.err")" 'no answer from the server' "... not failed as silent"
is "$(grep -c '^127\.0\.1\.3: 0123456789abcdef0123456789abcde$' "$T/live.out")" 500000 \
	"... every line arrived after the pause"
is "$(tail -n 1 "$T/live.out")" "127.0.1.3: END" "... to the end"

paused_run frozen 127.0.1.4 freeze
ok "$([ -s "$T/frozen.stopped" ]; echo $?)" "the server's sshd was frozen while output was paused"
is "$(cat "$T/frozen.rc")" 255 "a frozen server, output paused then read: exit 255"
like "$(grep -Ev '^mrsh: [a-z_0-9]+:[0-9]+: ' "$T/frozen.err")" \
	'^mrsh: 127\.0\.1\.4: RUNNING: no answer from the server for [0-9]+s \(ServerAliveInterval 2, ServerAliveCountMax 1\)$' \
	"... failed per ServerAliveCountMax, naming both settings"

done_testing
