#!/bin/bash
# Benchmark: N targets through one bastion, mrsh against pdsh -R ssh and
# clush with the same ProxyJump in ssh_config (each of those runs one ssh
# per target, and each ssh its own "ssh -W" to the bastion).
#
#   contrib/bench/bastion/run.sh [MRSH]     (as root: it makes namespaces)
#
# Environment (defaults):
#   SIZES="200 1000"   target counts      FANOUT=64
#   TOOLS="mrsh pdsh clush"               MRSH_ARGS="" (more mrsh options)
#   OUT=DIR   logs and outputs, kept (default: a temp dir, removed)
#   TOOL_TIMEOUT=1800  seconds one tool may run for one size (then killed,
#                      and its row says so: ok counts what it did)
#
# Topology (namespaces made here, removed at the end): the client runs in
# a private network namespace that reaches only the bastion (10.78.0.2,
# namespace B, one veth pair); only B reaches the targets (10.78.1.0/16 in
# namespace C). The bastion's sshd runs with OpenSSH's DEFAULT MaxStartups
# (10:30:100) and LogLevel VERBOSE, so that its log says both how many
# connections it accepted and how many it dropped past MaxStartups. One
# sshd in C serves every target address (MaxStartups 1000:30:2000, as in
# the tests, so that only the bastion limits). Command: true.
#
# Per tool and size, from contrib/bench/ssh/measure.py and the logs:
#   wall_s, cpu_s (the whole client process tree), cpu_ms/host,
#   bastion_conn   connections the bastion's sshd accepted (its log)
#   dropped        connections it dropped past MaxStartups
#   ok             targets whose sshd logged a login for this run
#   b_cpu_s        CPU of the bastion's sshd (listener and every session
#                  it reaped: logins, forwarding)
#   t_cpu_s        CPU of the targets' sshd (the same), the floor no
#                  client can go below on a machine that also runs the
#                  servers
# Every tool gets the same machine: measured one after the other, nothing
# sampled while they run (measure.py --sample-ms 0). Numbers from a
# machine shared with other work: compare the tools of one run.
set -u

bench_self=$(readlink -f "$0")
bench_top=$(cd "$(dirname "$bench_self")/../../.." && pwd)
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

bench_die() {
	echo "bench: $*" >&2
	exit 1
}

# In a private network namespace: the rest of the script runs there.
if [ "${BENCH_IN_NETNS:-}" != 1 ]; then
	[ "$(id -u)" = 0 ] || bench_die "needs root (network namespaces)"
	BENCH_IN_NETNS=1 exec unshare -n bash "$bench_self" "$@"
fi

MRSH=${1:-${MRSH:-$bench_top/mrsh}}
[ -x "$MRSH" ] || bench_die "no mrsh at $MRSH"
SIZES=${SIZES:-"200 1000"}
FANOUT=${FANOUT:-64}
TOOLS=${TOOLS:-"mrsh pdsh clush"}
MRSH_ARGS=${MRSH_ARGS:-}
TOOL_TIMEOUT=${TOOL_TIMEOUT:-1800}
bench_rm_out=0
if [ -z "${OUT:-}" ]; then
	OUT=$(mktemp -d /tmp/mrsh-bench-bastion.XXXXXX) || bench_die "mktemp"
	bench_rm_out=1
fi
mkdir -p "$OUT"
NB=mrsh-bb-$$
NT=mrsh-bt-$$
maxn=0
for n in $SIZES; do
	[ "$n" -gt "$maxn" ] && maxn=$n
done

bench_cleanup() {
	local pid i
	if [ -f "$OUT/targets.pid" ]; then
		pid=$(cat "$OUT/targets.pid")
		kill "$pid" 2>/dev/null
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null
	fi
	if declare -F sshd_stop >/dev/null; then
		[ -n "${SSHD_LOG:-}" ] && cp "$SSHD_LOG" "$OUT/bastion.log" 2>/dev/null
		sshd_stop
	fi
	ip netns del "$NB" 2>/dev/null
	ip netns del "$NT" 2>/dev/null
	[ "$bench_rm_out" = 1 ] && rm -rf "$OUT"
}
trap bench_cleanup EXIT

ip link set lo up
ip netns add "$NB" && ip netns add "$NT" || bench_die "ip netns add"
ip link add bb0 type veth peer name bb1 netns "$NB"
ip addr add 10.78.0.1/24 dev bb0
ip link set bb0 up
ip -n "$NB" addr add 10.78.0.2/24 dev bb1
ip -n "$NB" link set bb1 up
ip -n "$NB" link set lo up
ip -n "$NB" link add bt0 type veth peer name bt1 netns "$NT"
ip -n "$NB" addr add 10.78.1.1/16 dev bt0
ip -n "$NB" link set bt0 up
# target i: 10.78.(1 + i / 250).(2 + i % 250)
bench_target() {
	echo "10.78.$((1 + $1 / 250)).$((2 + $1 % 250))"
}
for ((i = 0; i < maxn; i++)); do
	echo "addr add $(bench_target "$i")/16 dev bt1"
done >"$OUT/addrs"
ip -n "$NT" -batch "$OUT/addrs" || bench_die "target addresses"
ip -n "$NT" link set bt1 up
ip -n "$NT" link set lo up

# The bastion: the private sshd of the tests, in B, default MaxStartups.
printf '#!/bin/sh\nexec ip netns exec %s /usr/sbin/sshd "$@"\n' "$NB" >"$OUT/sshd-b"
chmod +x "$OUT/sshd-b"
# shellcheck source=tests/helpers/sshd.sh
. "$bench_top/tests/helpers/sshd.sh"
SSHD_BIN="$OUT/sshd-b" SSHD_EXTRA_CONFIG="MaxStartups 10:30:100
LogLevel VERBOSE
AllowTcpForwarding yes
AllowUsers *" sshd_start 1 >/dev/null || bench_die "bastion sshd"

PT=$(sshd_free_port)
sed -e "s/^Port .*/Port $PT/" -e "s#^PidFile .*#PidFile $OUT/t.pid#" \
	-e "/^MaxStartups 10:30:100/d" -e "/^LogLevel VERBOSE/d" \
	"$SSHD_CONFIG" >"$OUT/t_config"
ip netns exec "$NT" /usr/sbin/sshd -D -f "$OUT/t_config" -E "$OUT/t.log" \
	</dev/null >/dev/null 2>&1 &
echo $! >"$OUT/targets.pid"
for ((i = 0; i < 200; i++)); do
	grep -q "Server listening on 0.0.0.0 port $PT" "$OUT/t.log" 2>/dev/null && break
	sleep 0.1
done
grep -q "Server listening on 0.0.0.0 port $PT" "$OUT/t.log" 2>/dev/null ||
	bench_die "the targets' sshd did not start"

key=$(cut -d' ' -f1-2 "$SSHD_DIR/host_ed25519.pub")
{
	echo "[10.78.0.2]:$SSHD_PORT $key"
	for ((i = 0; i < maxn; i++)); do
		echo "[$(bench_target "$i")]:$PT $key"
	done
} >>"$KNOWN_HOSTS"
{
	printf 'Host bastion\n\tHostName 10.78.0.2\n\tPort %s\n' "$SSHD_PORT"
	printf 'Host 10.78.*\n\tPort %s\n\tProxyJump bastion\n' "$PT"
	cat "$SSH_CONFIG"
} >"$OUT/cfg"

bench_cmd() {
	local tool=$1 hosts=$2
	case $tool in
	mrsh)
		# shellcheck disable=SC2086 # MRSH_ARGS: words on purpose
		BENCH_CMD=("$MRSH" -F "$OUT/cfg" -f "$hosts" -j "$FANOUT" \
			-t 120 -q $MRSH_ARGS true) ;;
	pdsh)
		BENCH_CMD=(env "PDSH_SSH_ARGS=-F $OUT/cfg -x -a -l%u %h" \
			pdsh -R ssh -S -f "$FANOUT" -t 120 -w "^$hosts" true) ;;
	clush)
		BENCH_CMD=(clush -f "$FANOUT" -t 120 -S --hostfile "$hosts" \
			-o "-F $OUT/cfg" true) ;;
	*) bench_die "unknown tool $1" ;;
	esac
}

printf 'bastion benchmark: command true, fanout %s, %s, load before: %s\n' \
	"$FANOUT" "$(date -u +%Y-%m-%dT%H:%MZ)" "$(cut -d' ' -f1-3 /proc/loadavg)" |
	tee "$OUT/table.txt"
# cpu_ticks PID: CPU of a process and the children it reaped, in ticks.
cpu_ticks() {
	awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' \
		"/proc/$1/stat" 2>/dev/null || echo 0
}
# sessions_done PID: the sshd has no session left (its CPU is all counted).
sessions_done() {
	[ -z "$(ps -o pid= --ppid "$1")" ]
}
tpid=$(cat "$OUT/targets.pid")
hz=$(getconf CLK_TCK)
printf '%6s %-6s %5s %8s %8s %11s %13s %8s %8s %8s\n' targets tool ok \
	wall_s cpu_s cpu_ms/host bastion_conn dropped b_cpu_s t_cpu_s |
	tee -a "$OUT/table.txt"
for n in $SIZES; do
	for ((i = 0; i < n; i++)); do
		bench_target "$i"
	done >"$OUT/hosts.$n"
	for tool in $TOOLS; do
		command -v "${tool%% *}" >/dev/null 2>&1 || [ "$tool" = mrsh ] ||
			{ echo "bench: $tool not installed, skipped" >&2; continue; }
		bench_cmd "$tool" "$OUT/hosts.$n"
		a0=$(grep -c 'Accepted publickey' "$SSHD_LOG")
		d0=$(grep -c 'past MaxStartups' "$SSHD_LOG")
		t0=$(grep -c 'Accepted publickey' "$OUT/t.log")
		bc0=$(cpu_ticks "$SSHD_PID")
		tc0=$(cpu_ticks "$tpid")
		res=$("$PY" "$bench_top/contrib/bench/ssh/measure.py" \
			--sample-ms 0 \
			--stdout "$OUT/$tool.$n.out" --stderr "$OUT/$tool.$n.err" \
			-- timeout -k 10 "$TOOL_TIMEOUT" "${BENCH_CMD[@]}")
		# The servers' sessions end after the client: their logs and
		# CPU are complete once both sshds have reaped them all.
		for ((i = 0; i < 300; i++)); do
			sessions_done "$SSHD_PID" && sessions_done "$tpid" && break
			sleep 0.1
		done
		a=$(($(grep -c 'Accepted publickey' "$SSHD_LOG") - a0))
		d=$(($(grep -c 'past MaxStartups' "$SSHD_LOG") - d0))
		ok=$(($(grep -c 'Accepted publickey' "$OUT/t.log") - t0))
		bc=$(awk -v a="$bc0" -v b="$(cpu_ticks "$SSHD_PID")" -v hz="$hz" \
			'BEGIN { printf "%.2f", (b - a) / hz }')
		tc=$(awk -v a="$tc0" -v b="$(cpu_ticks "$tpid")" -v hz="$hz" \
			'BEGIN { printf "%.2f", (b - a) / hz }')
		w=$(sed -n 's/.*wall_s=\([^ ]*\).*/\1/p' <<<"$res")
		c=$(sed -n 's/.*cpu_s=\([^ ]*\).*/\1/p' <<<"$res")
		x=$(sed -n 's/^exit=\([^ ]*\).*/\1/p' <<<"$res")
		[ "$x" = 124 ] && echo "bench: $tool $n: killed after $TOOL_TIMEOUT s" >&2
		echo "tool=$tool n=$n $res bastion_conn=$a dropped=$d ok=$ok b_cpu_s=$bc t_cpu_s=$tc" >>"$OUT/raw.txt"
		printf '%6s %-6s %5s %8s %8s %11s %13s %8s %8s %8s\n' "$n" \
			"$tool" "$ok" "$w" "$c" "$(awk -v c="$c" -v n="$n" \
			'BEGIN { printf "%.2f", c * 1000 / n }')" "$a" "$d" \
			"$bc" "$tc" | tee -a "$OUT/table.txt"
	done
done
printf 'load after: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/table.txt"
[ "$bench_rm_out" = 1 ] || echo "raw results: $OUT" >&2
