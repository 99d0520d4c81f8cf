#!/bin/bash
# Benchmark: N targets through one bastion, mrsh against pdsh -R ssh and
# clush with the same ProxyJump in ssh_config (each of those runs one ssh
# per target, and each ssh its own "ssh -W" to the bastion).
#
#   contrib/bench/bastion/run.sh [MRSH]     (as root: it makes namespaces)
#
# Environment (defaults):
#   SIZES="200 1000"   target counts      FANOUT=64
#   TOOLS="mrsh pdsh clush"               OUT=DIR (default: a temp dir, kept)
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
OUT=${OUT:-$(mktemp -d /tmp/mrsh-bench-bastion.XXXXXX)}
mkdir -p "$OUT"
NB=mrsh-bb-$$
NT=mrsh-bt-$$
maxn=0
for n in $SIZES; do
	[ "$n" -gt "$maxn" ] && maxn=$n
done

bench_cleanup() {
	[ -f "$OUT/targets.pid" ] && kill "$(cat "$OUT/targets.pid")" 2>/dev/null
	declare -F sshd_stop >/dev/null && sshd_stop
	ip netns del "$NB" 2>/dev/null
	ip netns del "$NT" 2>/dev/null
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
		BENCH_CMD=("$MRSH" -F "$OUT/cfg" -f "$hosts" -j "$FANOUT" \
			-t 120 -q true) ;;
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
printf '%6s %-6s %5s %8s %8s %11s %13s %8s\n' targets tool ok wall_s cpu_s \
	cpu_ms/host bastion_conn dropped | tee -a "$OUT/table.txt"
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
		res=$("$PY" "$bench_top/contrib/bench/ssh/measure.py" \
			--stdout "$OUT/$tool.$n.out" --stderr "$OUT/$tool.$n.err" \
			-- "${BENCH_CMD[@]}")
		sleep 1		# let the sshds write their logs
		a=$(($(grep -c 'Accepted publickey' "$SSHD_LOG") - a0))
		d=$(($(grep -c 'past MaxStartups' "$SSHD_LOG") - d0))
		ok=$(($(grep -c 'Accepted publickey' "$OUT/t.log") - t0))
		w=$(sed -n 's/.*wall_s=\([^ ]*\).*/\1/p' <<<"$res")
		c=$(sed -n 's/.*cpu_s=\([^ ]*\).*/\1/p' <<<"$res")
		echo "tool=$tool n=$n $res bastion_conn=$a dropped=$d ok=$ok" >>"$OUT/raw.txt"
		printf '%6s %-6s %5s %8s %8s %11s %13s %8s\n' "$n" "$tool" "$ok" \
			"$w" "$c" "$(awk -v c="$c" -v n="$n" \
			'BEGIN { printf "%.2f", c * 1000 / n }')" "$a" "$d" |
			tee -a "$OUT/table.txt"
	done
done
echo "raw results: $OUT" >&2
