#!/bin/bash
# Benchmark: mrsh -R exec against pdsh -R exec (Debian's pdsh) over the same
# hosts running `true`, side by side in one run. The fork/exec rate of the
# machine is the limit; `xargs -P` running the same number of `true`
# processes is measured as the floor.
#
#   contrib/bench/exec/run.sh [MRSH]      (env: HOSTS=1000 FANOUT=64 ROUNDS=3)
#
# Prints wall time, CPU time (user+sys of the tool and its children) and
# peak RSS of the tool's own process for each, the median of ROUNDS runs,
# and mrsh's ratios to pdsh.
set -u
MRSH=${1:-${MRSH:-./mrsh}}
HOSTS=${HOSTS:-1000}
FANOUT=${FANOUT:-64}
ROUNDS=${ROUNDS:-3}
command -v pdsh >/dev/null || { echo "pdsh not installed (apt-get install pdsh)" >&2; exit 1; }
[ -x "$MRSH" ] || { echo "no mrsh binary at $MRSH" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# measure NAME CMD...: appends "wall cpu maxrss_kb" per round to $tmp/NAME
bench_measure() {
	local name=$1 i
	shift
	for ((i = 0; i < ROUNDS; i++)); do
		/usr/bin/time -f '%e %U %S %M' -o "$tmp/t" "$@" >/dev/null 2>"$tmp/err" ||
			{ echo "$name failed:" >&2; cat "$tmp/err" >&2; }
		awk '{ printf "%.3f %.3f %d\n", $1, $2 + $3, $4 }' "$tmp/t" >>"$tmp/$name"
	done
}

# median of column C of file F
bench_median() {
	sort -n -k"$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END { print v[int((NR + 1) / 2)] }'
}

seq "$HOSTS" | sed 's/^/h/' >"$tmp/hosts"
# Interleave the tools round by round so machine noise hits them alike.
for ((r = 0; r < ROUNDS; r++)); do
	ROUNDS=1 bench_measure mrsh "$MRSH" -R exec -j "$FANOUT" -q -f "$tmp/hosts" true
	ROUNDS=1 bench_measure pdsh env WCOLL="$tmp/hosts" pdsh -R exec -f "$FANOUT" true
	ROUNDS=1 bench_measure floor xargs -P "$FANOUT" -n 1 true <"$tmp/hosts"
done

printf 'exec benchmark: %d hosts, fanout %d, command true, median of %d rounds\n' \
	"$HOSTS" "$FANOUT" "$ROUNDS"
printf '%-8s %10s %10s %12s\n' tool wall_s cpu_s peak_rss_kb
for t in mrsh pdsh floor; do
	printf '%-8s %10s %10s %12s\n' "$t" "$(bench_median "$tmp/$t" 1)" \
		"$(bench_median "$tmp/$t" 2)" "$(bench_median "$tmp/$t" 3)"
done
mw=$(bench_median "$tmp/mrsh" 1) pw=$(bench_median "$tmp/pdsh" 1)
mc=$(bench_median "$tmp/mrsh" 2) pc=$(bench_median "$tmp/pdsh" 2)
mm=$(bench_median "$tmp/mrsh" 3) pm=$(bench_median "$tmp/pdsh" 3)
fw=$(bench_median "$tmp/floor" 1)
awk -v mw="$mw" -v pw="$pw" -v mc="$mc" -v pc="$pc" -v mm="$mm" -v pm="$pm" -v fw="$fw" 'BEGIN {
	printf "ratios mrsh/pdsh: wall %.2f, cpu %.2f, peak rss %.2f; mrsh wall / floor %.2f\n",
	    mw / pw, mc / pc, mm / pm, mw / fw }'
