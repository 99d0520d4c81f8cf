#!/bin/bash
# Benchmark: what -b (gather) costs over the plain line output, at scale.
# mrsh -R exec over HOSTS hosts all printing the same line, with and
# without -b, side by side in one run (interleaved rounds).
#
#   contrib/bench/gather/run.sh [MRSH]   (env: HOSTS=100000 FANOUT=256 ROUNDS=1
#                                          SELF=0)
#
# Prints wall time, CPU time and peak RSS of each, the median of ROUNDS
# runs, and -b's extra wall time (ratio) and extra memory per host. The
# goal (issue 14): within 10 % of the plain run's time, at most 200 bytes
# per host. The fork/exec rate of the machine dominates the wall time.
# SELF=1 adds a second run of each mode per round under perf stat
# --no-inherit: mrsh's own CPU time without its children's (self_cpu_s),
# which is what -b itself costs.
set -u
MRSH=${1:-${MRSH:-./mrsh}}
HOSTS=${HOSTS:-100000}
FANOUT=${FANOUT:-256}
ROUNDS=${ROUNDS:-1}
SELF=${SELF:-0}
[ -x "$MRSH" ] || { echo "no mrsh binary at $MRSH" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# measure NAME CMD...: appends "wall cpu maxrss_kb" to $tmp/NAME
bench_measure() {
	local name=$1
	shift
	/usr/bin/time -f '%e %U %S %M' -o "$tmp/t" "$@" >/dev/null 2>"$tmp/err" ||
		{ echo "$name failed:" >&2; tail -3 "$tmp/err" >&2; }
	awk '{ printf "%.3f %.3f %d\n", $1, $2 + $3, $4 }' "$tmp/t" >>"$tmp/$name"
}

# median of column C of file F
bench_median() {
	sort -n -k"$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END { print v[int((NR + 1) / 2)] }'
}

# self NAME CMD...: appends mrsh's own CPU seconds to $tmp/NAME.self
bench_self() {
	local name=$1
	shift
	perf stat -x, --no-inherit -e task-clock -o "$tmp/perf" "$@" \
		>/dev/null 2>"$tmp/err" ||
		{ echo "$name failed:" >&2; tail -3 "$tmp/err" >&2; }
	awk -F, '/task-clock/ { printf "%.3f\n", $1 / 1000 }' "$tmp/perf" >>"$tmp/$name.self"
}
[ "$SELF" = 0 ] || command -v perf >/dev/null ||
	{ echo "SELF=1 needs perf (apt-get install linux-perf)" >&2; exit 1; }

for ((r = 0; r < ROUNDS; r++)); do
	bench_measure plain "$MRSH" -R exec -j "$FANOUT" -w "h[1-$HOSTS]" -- echo same
	bench_measure gather "$MRSH" -R exec -b -j "$FANOUT" -w "h[1-$HOSTS]" -- echo same
	[ "$SELF" = 0 ] && continue
	bench_self plain "$MRSH" -R exec -j "$FANOUT" -w "h[1-$HOSTS]" -- echo same
	bench_self gather "$MRSH" -R exec -b -j "$FANOUT" -w "h[1-$HOSTS]" -- echo same
done

printf 'gather benchmark: %d hosts, fanout %d, echo same, median of %d rounds, load %s\n' \
	"$HOSTS" "$FANOUT" "$ROUNDS" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %10s %10s %12s %11s\n' mode wall_s cpu_s peak_rss_kb self_cpu_s
for t in plain gather; do
	self=-
	[ -s "$tmp/$t.self" ] && self=$(bench_median "$tmp/$t.self" 1)
	printf '%-8s %10s %10s %12s %11s\n' "$t" "$(bench_median "$tmp/$t" 1)" \
		"$(bench_median "$tmp/$t" 2)" "$(bench_median "$tmp/$t" 3)" "$self"
done
awk -v pw="$(bench_median "$tmp/plain" 1)" -v gw="$(bench_median "$tmp/gather" 1)" \
    -v pm="$(bench_median "$tmp/plain" 3)" -v gm="$(bench_median "$tmp/gather" 3)" \
    -v n="$HOSTS" 'BEGIN {
	printf "-b / plain: wall %.2f; extra memory %.0f bytes per host\n",
	    gw / pw, (gm - pm) * 1024 / n }'
