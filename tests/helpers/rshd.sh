#!/bin/bash
# Private netkit in.rshd servers for the mrsh rsh tests (a library; source it).
#
# Everything happens inside namespaces the test makes itself, so nothing on
# the machine (its /etc, /root/.rhosts, its network) is touched:
#
#   . "$top_srcdir/tests/helpers/rshd.sh"
#   rshd_enter_ns "$@"          # re-exec this script in private net+mount+pid
#                               # namespaces (or print "1..0 # SKIP" and exit)
#   rshd_setup                  # temp dir, .rhosts trust, /etc/hosts
#   rshd_start 0.0.0.0 514      # one in.rshd, socket-activated per connection
#   (or the three at once, bailing out on failure: rshd_standard_setup "$@")
#   "$MRSH" -R rsh -w 127.0.1.[1-5] uname
#
# What in.rshd (Debian rsh-server 0.17) needs, found by trying:
#
# - An inetd-style launcher that forks per connection and passes the socket
#   as fd 0 and 1: systemd-socket-activate -a --inetd. Without -a it hands
#   over the listening socket itself. in.rshd writes its status byte and
#   error text to fd 2, hence "2>&1" in the launched shell.
# - Trust: PAM (/etc/pam.d/rsh) runs pam_rhosts, i.e. ruserok(): for root
#   only ~/.rhosts counts (never hosts.equiv); the file must be owned by the
#   user and not group/world writable. We bind-mount a temp dir over the
#   user's home (private mount namespace) holding ".rhosts" = "+ USER" (any
#   host, that user only). The rest of the PAM stack (pam_env, common-account
#   pam_unix, common-session) works unchanged for root.
# - A user without trust (e.g. "nobody", home /nonexistent) gets status 1 and
#   "Permission denied." on the main connection.
# - in.rshd does a reverse lookup of the client address; a bind-mounted
#   /etc/hosts (a copy plus rshd_add_hosts lines) answers it, and the netns
#   has no route to any DNS server, so nothing ever leaves the machine.
# - The client must connect from a reserved port (512-1023): mrsh -R rsh
#   does that by default (root). in.rshd connects back for stderr from a
#   reserved port too, from the address the routing picks: on loopback that
#   is 127.0.0.1 whatever 127.x address the client dialled.
#
# The pid namespace (unshare --pid --fork --kill-child) makes cleanup
# certain: when the test script (its pid 1) exits, every process it left
# behind -- launchers, rshd children, background jobs of remote commands --
# is killed by the kernel, and the network namespace goes with them.
#
# Server in its own network namespace (rshd_server_ns): for tests that count
# TIME_WAIT on the client side, the servers live in a second netns joined by
# a veth pair, 10.200.0.1 (client) -- 10.200.0.2 (server), addresses that
# exist only inside these namespaces.

# The namespace re-exec (reexec_in_netns), the TAP functions and
# skip_all/bail_out come from the integration tests' lib.sh.
# shellcheck source=tests/integration/lib.sh
. "${top_srcdir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/integration/lib.sh"

RSHD_BIN=${RSHD_BIN:-/usr/sbin/in.rshd}
RSHD_LAUNCHER=${RSHD_LAUNCHER:-systemd-socket-activate}
RSHD_DIR=
RSHD_PIDS=
RSHD_SRV_PID=
RSHD_MOUNTS=

# rshd_msg MSG: diagnostics on stderr, TAP-safe.
rshd_msg()
{
	echo "# rshd.sh: $*" >&2
}

# rshd_skip_all REASON: nothing can run here; TAP skip and exit.
rshd_skip_all()
{
	skip_all "$*"
}

# rshd_enter_ns ARGS: re-run the calling script inside private namespaces
# (net, mount, pid; lib.sh's reexec_in_netns), after checking what the rsh
# tests need; skips the whole file when something is missing.
rshd_enter_ns()
{
	local tool

	[ "$(id -u)" = 0 ] ||
	    rshd_skip_all "needs root (namespaces, reserved ports, in.rshd)"
	[ -x "$RSHD_BIN" ] ||
	    rshd_skip_all "$RSHD_BIN not installed (Debian: rsh-server)"
	for tool in "$RSHD_LAUNCHER" unshare nsenter ip ss; do
		command -v "$tool" >/dev/null 2>&1 ||
		    rshd_skip_all "$tool not found"
	done
	[ -n "$MRSH" ] && [ -x "$MRSH" ] || rshd_skip_all "\$MRSH not built"
	reexec_in_netns --mount --pid --fork --kill-child --mount-proc \
	    --propagation private -- "$@"
}

# rshd_standard_setup ARGS: rshd_enter_ns ARGS, rshd_setup, and one in.rshd
# on 0.0.0.0:514 in the test's netns; bails out when either fails.
rshd_standard_setup()
{
	rshd_enter_ns "$@"
	rshd_setup || bail_out "rshd_setup failed"
	rshd_start 0.0.0.0 514 || bail_out "in.rshd did not start"
}

# rshd_bind SRC DST: bind-mount SRC over DST (remembered for cleanup).
rshd_bind()
{
	mount --bind "$1" "$2" || return 1
	RSHD_MOUNTS="$2 $RSHD_MOUNTS"
}

# rshd_setup: temp dir, trusted .rhosts in a private home, private /etc/hosts.
rshd_setup()
{
	local user home

	RSHD_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mrsh-rshd.XXXXXX") || return 1
	at_exit rshd_cleanup
	user=$(id -un)
	home=$(getent passwd "$user" | cut -d: -f6)
	[ -d "$home" ] || { rshd_msg "no home for $user"; return 1; }
	RSHD_USER=$user
	RSHD_HOME=$RSHD_DIR/home
	mkdir -m 700 "$RSHD_HOME"
	echo "+ $user" >"$RSHD_HOME/.rhosts"
	chmod 600 "$RSHD_HOME/.rhosts"
	rshd_bind "$RSHD_HOME" "$home" || return 1

	cp /etc/hosts "$RSHD_DIR/hosts"
	rshd_bind "$RSHD_DIR/hosts" /etc/hosts || return 1
	export RSHD_DIR RSHD_USER RSHD_HOME
}

# rshd_add_hosts "ADDR NAME..." ...: lines for the private /etc/hosts.
rshd_add_hosts()
{
	local l

	for l in "$@"; do
		echo "$l" >>"$RSHD_DIR/hosts"
	done
}

# rshd_wait_listen PORT [NETNS_PID]: bounded wait until PORT listens.
rshd_wait_listen()
{
	local port=$1 pid=$2 i

	for ((i = 0; i < 200; i++)); do
		if [ -n "$pid" ]; then
			nsenter -t "$pid" -n ss -Hltn "sport = :$port"
		else
			ss -Hltn "sport = :$port"
		fi | grep -q LISTEN && return 0
		sleep 0.05
	done
	rshd_msg "nothing listens on port $port"
	return 1
}

# rshd_start ADDR PORT [NETNS_PID]: in.rshd on ADDR:PORT (in that netns).
rshd_start()
{
	local addr=$1 port=$2 ns=$3 log pid

	log=$RSHD_DIR/rshd-$port.log
	if [ -n "$ns" ]; then
		nsenter -t "$ns" -n "$RSHD_LAUNCHER" -a --inetd -l "$addr:$port" \
		    /bin/sh -c "exec $RSHD_BIN 2>&1" >"$log" 2>&1 &
	else
		"$RSHD_LAUNCHER" -a --inetd -l "$addr:$port" \
		    /bin/sh -c "exec $RSHD_BIN 2>&1" >"$log" 2>&1 &
	fi
	pid=$!
	RSHD_PIDS="$RSHD_PIDS $pid"
	rshd_wait_listen "$port" "$ns"
}

# rshd_fake ADDR PORT MODE [ARG]: the scripted fake rshd (rshd_fake.py).
rshd_fake()
{
	local addr=$1 port=$2 pid

	shift 2
	command -v python3 >/dev/null 2>&1 || { rshd_msg "no python3"; return 1; }
	python3 "$top_srcdir/tests/helpers/rshd_fake.py" "$addr" "$port" "$@" \
	    >>"$RSHD_DIR/fake-$port.log" 2>&1 &
	pid=$!
	RSHD_PIDS="$RSHD_PIDS $pid"
	rshd_wait_listen "$port"
}

# rshd_server_ns: a second netns (veth 10.200.0.1 here, 10.200.0.2 there).
rshd_server_ns()
{
	local i

	unshare --net sleep 100000 &
	RSHD_SRV_PID=$!
	RSHD_PIDS="$RSHD_PIDS $RSHD_SRV_PID"
	for ((i = 0; i < 100; i++)); do
		[ "$(readlink /proc/$RSHD_SRV_PID/ns/net)" != \
		    "$(readlink /proc/self/ns/net)" ] && break
		sleep 0.05
	done
	ip link add mrshc0 type veth peer name mrshs0 netns "$RSHD_SRV_PID" &&
	ip addr add 10.200.0.1/24 dev mrshc0 &&
	ip link set mrshc0 up &&
	nsenter -t "$RSHD_SRV_PID" -n ip addr add 10.200.0.2/24 dev mrshs0 &&
	nsenter -t "$RSHD_SRV_PID" -n ip link set mrshs0 up &&
	nsenter -t "$RSHD_SRV_PID" -n ip link set lo up || return 1
	for ((i = 0; i < 100; i++)); do
		ip -br link show mrshc0 | grep -q LOWER_UP && return 0
		sleep 0.05
	done
	rshd_msg "veth did not come up"
	return 1
}

# rshd_tw_count: TIME_WAIT sockets in this (the client's) netns.
rshd_tw_count()
{
	ss -Htan state time-wait | wc -l
}

# The TAP of lib.sh under the names older rsh tests used (kept so that a
# test written against them still works; new tests call ok/is/grepok/
# skip_n/plan and end with done_testing). RSHD_TAP_N and RSHD_TAP_FAILED
# follow lib.sh's counters.
RSHD_TAP_N=0
RSHD_TAP_FAILED=0

rshd_tap_sync()
{
	RSHD_TAP_N=$tap_n
	RSHD_TAP_FAILED=$tap_failed
}

# rshd_plan N
rshd_plan()
{
	plan "$1"
}

# rshd_ok STATUS DESC: "ok" if STATUS (a previous $?) is 0.
rshd_ok()
{
	ok "$1" "$2"
	rshd_tap_sync
}

# rshd_is GOT WANT DESC
rshd_is()
{
	is "$1" "$2" "$3"
	rshd_tap_sync
}

# rshd_grep PATTERN FILE DESC: FILE has a line matching PATTERN (grep -E).
rshd_grep()
{
	grepok "$1" "$2" "$3"
	rshd_tap_sync
}

# rshd_skip N REASON: skip N tests.
rshd_skip()
{
	skip_n "$1" "$2"
	rshd_tap_sync
}

# rshd_cleanup: kill what we started (by pid), unmount, remove the temp dir.
rshd_cleanup()
{
	local pid m

	for pid in $RSHD_PIDS; do
		kill "$pid" 2>/dev/null
	done
	for pid in $RSHD_PIDS; do
		wait "$pid" 2>/dev/null
	done
	RSHD_PIDS=
	for m in $RSHD_MOUNTS; do
		umount "$m" 2>/dev/null
	done
	RSHD_MOUNTS=
	[ -n "$RSHD_DIR" ] && rm -rf "$RSHD_DIR"
	RSHD_DIR=
}
