#!/bin/bash
# Benchmark: mrsh against pdsh -R ssh, clush and parallel-ssh (pssh) on the
# same local cluster (one private sshd, many loopback hosts), side by side
# in one run, command `true`.
#
#   contrib/bench/ssh/run.sh [MRSH]         (as root: it makes namespaces)
#
# Environment (defaults):
#   SIZES="500 1000"   host counts        FANOUTS="64 256"   fanouts
#   TOOLS="mrsh pdsh clush pssh"          ROUNDS=1           rounds (median)
#   MRSH_BASE=BINARY   an earlier mrsh, run as tool "mrsh-base" (add it to
#                      TOOLS) to compare two builds side by side
#   MEM=1              also run the memory pass (at the smallest size)
#   SAMPLE_MS=50       memory sampling interval
#   OUT=DIR            raw results and the table (default: a temp dir, kept)
#   UPDATE_RESULTS=1   replace the "## ssh" section of contrib/bench/RESULTS.md
#                      (RESULTS_NOTES=FILE: text added under the table)
#   contrib/bench/ssh/run.sh --table DIR   the table of an earlier run again
#
# Every measurement runs in its own network namespace (unshare -n) with its
# own sshd, so the TIME_WAIT counts are exactly that run's and nothing
# leaks between runs. The sshd offers only curve25519-sha256 and every
# client is given -o KexAlgorithms=curve25519-sha256 (pdsh through
# PDSH_SSH_ARGS, clush -o, pssh -O), the ed25519 keys of tests/helpers/sshd.sh,
# and the same ssh_config (-F). What is measured (contrib/bench/ssh/measure.py):
#   wall     start to the end of the last process of the client tree
#   cpu      user+sys of the whole client process tree (getrusage of the
#            reaped children; measure.py is a subreaper, orphans count too)
#   mem      timing runs: no sampling (nothing competes for CPU). Memory
#            pass: the client tree sampled every SAMPLE_MS ms, peak of the
#            summed PSS (shared pages split among sharers: the fair sum for
#            N ssh processes); per session = (peak - the same tool's peak
#            with 1 host) / sessions at once (mrsh: min(fanout, hosts); the
#            others: ssh processes alive at the peak); for mrsh also the
#            slope between the smallest and largest fanout. maxrss = largest
#            single process; cg_peak = the cgroup's peak charge.
#   tw       client TIME_WAIT left: sockets in TIME_WAIT whose remote port
#            is sshd's, counted right after the run (server side: local port
#            = sshd's)
#   ok       sessions that sshd logged as authenticated ("Accepted publickey")
set -u

bench_self=$(readlink -f "$0")
bench_top=$(cd "$(dirname "$bench_self")/../../.." && pwd)
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
KEX=curve25519-sha256

# bench_die MSG
bench_die() {
	echo "bench: $*" >&2
	exit 1
}

# bench_tool_cmd TOOL J: the client command line for TOOL (in BENCH_CMD).
bench_tool_cmd() {
	local tool=$1 j=$2
	case $tool in
	mrsh | mrsh-base)
		local bin=$MRSH
		[ "$tool" = mrsh-base ] && bin=${MRSH_BASE:?MRSH_BASE not set}
		BENCH_CMD=("$bin" -F "$SSH_CONFIG" -o "KexAlgorithms=$KEX" \
			-f "$HOSTS_FILE" -j "$j" -t 60 -q true)
		;;
	pdsh)
		BENCH_CMD=(env "PDSH_SSH_ARGS=-F $SSH_CONFIG -o KexAlgorithms=$KEX -x -a -l%u %h" \
			pdsh -R ssh -S -f "$j" -t 60 -w "^$HOSTS_FILE" true)
		;;
	clush)
		BENCH_CMD=(clush -f "$j" -t 60 -S --hostfile "$HOSTS_FILE" \
			-o "-F $SSH_CONFIG -oKexAlgorithms=$KEX" true)
		;;
	pssh)
		BENCH_CMD=(parallel-ssh -p "$j" -t 120 -h "$HOSTS_FILE" \
			-x "-F $SSH_CONFIG" -O "KexAlgorithms=$KEX" true)
		;;
	*) bench_die "unknown tool $tool" ;;
	esac
}

# bench_one TOOL N J SAMPLE_MS: one measurement; runs inside a fresh
# network namespace; prints one result line.
bench_one() {
	local tool=$1 n=$2 j=$3 sample=$4 res before ok client server

	ip link set lo up || bench_die "cannot bring lo up"
	# shellcheck source=tests/helpers/sshd.sh
	. "$bench_top/tests/helpers/sshd.sh"
	SSHD_EXTRA_CONFIG="KexAlgorithms $KEX" sshd_start "$n" >/dev/null ||
		bench_die "sshd did not start"
	trap sshd_stop EXIT
	bench_tool_cmd "$tool" "$j"
	before=$(ss -Htan state time-wait "( dport = :$SSHD_PORT )" | wc -l)
	res=$("$PY" "$bench_top/contrib/bench/ssh/measure.py" --cgroup \
		--sample-ms "$sample" --stdout "$SSHD_DIR/tool.out" \
		--stderr "$SSHD_DIR/tool.err" -- "${BENCH_CMD[@]}")
	client=$(ss -Htan state time-wait "( dport = :$SSHD_PORT )" | wc -l)
	server=$(ss -Htan state time-wait "( sport = :$SSHD_PORT )" | wc -l)
	ok=$(grep -c 'Accepted publickey' "$SSHD_LOG")
	if [ "$ok" -ne "$n" ] || ! grep -q '^exit=0 ' <<<"$res"; then
		echo "bench: $tool n=$n j=$j: $ok of $n sessions, $res" >&2
		head -n 5 "$SSHD_DIR/tool.err" | sed 's/^/bench:   /' >&2
	fi
	echo "tool=$tool n=$n j=$j $res tw_client=$((client - before)) tw_server=$server ok=$ok"
}

# bench_field LINE KEY: the value of KEY=... in a result line.
bench_field() {
	sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"
}

# bench_median FILE TOOL N J KEY: median of KEY over the rounds.
bench_median() {
	local file=$1 tool=$2 n=$3 j=$4 key=$5 line
	grep "^tool=$tool n=$n j=$j " "$file" | while IFS= read -r line; do
		bench_field "$line" "$key"
	done | sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'
}

# bench_run_ns TOOL N J SAMPLE_MS: bench_one in a new network namespace.
bench_run_ns() {
	MRSH=$MRSH unshare -n bash "$bench_self" --one "$@"
}

# bench_table: the table from $OUT/raw.txt and $OUT/mem.txt.
bench_table() {
	local n j tool w c tw ok pss base per best_cpu best_wall mw mc line
	printf 'ssh benchmark: command true, kex %s, median of %d round(s); %s\n' \
		"$KEX" "$ROUNDS" "$(date -u +%Y-%m-%d)"
	printf '%6s %6s %-9s %6s %8s %8s %11s %9s\n' hosts fanout tool ok \
		wall_s cpu_s cpu_ms/host client_tw
	for n in $SIZES; do
		for j in $FANOUTS; do
			for tool in $TOOLS; do
				w=$(bench_median "$OUT/raw.txt" "$tool" "$n" "$j" wall_s)
				c=$(bench_median "$OUT/raw.txt" "$tool" "$n" "$j" cpu_s)
				tw=$(bench_median "$OUT/raw.txt" "$tool" "$n" "$j" tw_client)
				ok=$(bench_median "$OUT/raw.txt" "$tool" "$n" "$j" ok)
				printf '%6s %6s %-9s %6s %8s %8s %11s %9s\n' "$n" "$j" "$tool" \
					"$ok" "$w" "$c" "$(awk -v c="$c" -v n="$n" \
					'BEGIN { if (c == "-") print "-"; else printf "%.2f", c * 1000 / n }')" "$tw"
			done
			# mrsh against the best peer at this size and fanout
			mw=$(bench_median "$OUT/raw.txt" mrsh "$n" "$j" wall_s)
			mc=$(bench_median "$OUT/raw.txt" mrsh "$n" "$j" cpu_s)
			best_cpu=- best_wall=-
			for tool in $TOOLS; do
				case $tool in mrsh*) continue ;; esac
				c=$(bench_median "$OUT/raw.txt" "$tool" "$n" "$j" cpu_s)
				w=$(bench_median "$OUT/raw.txt" "$tool" "$n" "$j" wall_s)
				[ "$c" = - ] && continue
				if [ "$best_cpu" = - ] || awk -v a="$c" -v b="$best_cpu" 'BEGIN { exit !(a < b) }'; then
					best_cpu=$c
				fi
				if [ "$best_wall" = - ] || awk -v a="$w" -v b="$best_wall" 'BEGIN { exit !(a < b) }'; then
					best_wall=$w
				fi
			done
			if [ "$mc" != - ] && [ "$best_cpu" != - ]; then
				awk -v mc="$mc" -v bc="$best_cpu" -v mw="$mw" -v bw="$best_wall" \
					-v n="$n" -v j="$j" 'BEGIN {
					printf "  n=%s j=%s: mrsh cpu / best peer %.3f (goal <= 0.100), wall / best peer %.2f (goal <= 1.00)\n",
					    n, j, mc / bc, mw / bw }'
			fi
		done
	done
	[ -s "$OUT/mem.txt" ] || return 0
	echo
	printf 'memory pass (%d hosts, sampled every %s ms): peak summed PSS of the client tree\n' \
		"$MEMN" "$SAMPLE_MS"
	printf '%6s %-6s %11s %11s %6s %10s %10s %10s\n' fanout tool peak_pss_kb \
		base_pss_kb conc kb/session maxrss_kb cg_peak_kb
	for j in $FANOUTS; do
		for tool in $TOOLS; do
			line=$(grep "^tool=$tool n=$MEMN j=$j " "$OUT/mem.txt" | tail -n 1)
			base=$(grep "^tool=$tool n=1 j=1 " "$OUT/mem.txt" | tail -n 1)
			[ -n "$line" ] || continue
			pss=$(bench_field "$line" peak_pss_sum_kb)
			procs=$(bench_field "$line" peak_procs)
			# sessions at once: mrsh opens min(fanout, hosts); for the
			# others, the ssh processes seen at the peak (all but the driver)
			if [ "$tool" = mrsh ]; then
				conc=$((j < MEMN ? j : MEMN))
			else
				conc=$((procs > 1 ? procs - 1 : 1))
			fi
			per=$(awk -v p="$pss" -v b="$(bench_field "$base" peak_pss_sum_kb)" \
				-v c="$conc" 'BEGIN { printf "%.1f", (p - b) / c }')
			printf '%6s %-6s %11s %11s %6s %10s %10s %10s\n' "$j" "$tool" "$pss" \
				"$(bench_field "$base" peak_pss_sum_kb)" "$conc" "$per" \
				"$(bench_field "$line" maxrss_kb)" "$(bench_field "$line" cg_peak_kb)"
		done
	done
	echo "  kb/session = (peak summed PSS - same tool's peak with 1 host) / conc;"
	echo "  conc = sessions at once: mrsh min(fanout, hosts), the others the ssh"
	echo "  processes alive at the peak (the server, not the fanout, limits them)"
	# mrsh's marginal cost per slot between the smallest and largest fanout
	local jlo jhi llo lhi
	jlo=$(tr ' ' '\n' <<<"$FANOUTS" | sort -n | head -n 1)
	jhi=$(tr ' ' '\n' <<<"$FANOUTS" | sort -n | tail -n 1)
	llo=$(grep "^tool=mrsh n=$MEMN j=$jlo " "$OUT/mem.txt" | tail -n 1)
	lhi=$(grep "^tool=mrsh n=$MEMN j=$jhi " "$OUT/mem.txt" | tail -n 1)
	if [ "$jlo" != "$jhi" ] && [ -n "$llo" ] && [ -n "$lhi" ] && [ "$jhi" -le "$MEMN" ]; then
		awk -v a="$(bench_field "$llo" peak_pss_sum_kb)" -v b="$(bench_field "$lhi" peak_pss_sum_kb)" \
			-v ra="$(bench_field "$llo" maxrss_kb)" -v rb="$(bench_field "$lhi" maxrss_kb)" \
			-v jl="$jlo" -v jh="$jhi" 'BEGIN {
			printf "  mrsh per extra session, fanout %d -> %d: %.1f KB (PSS), %.1f KB (max RSS)\n",
			    jl, jh, (b - a) / (jh - jl), (rb - ra) / (jh - jl) }'
	fi
	echo "  goal: mrsh at most 100 KB per concurrent session"
}

# bench_update_results FILE: replace (or add) the "## ssh" section.
bench_update_results() {
	local file=$1 sec=${OUT_SECTION:-$OUT/section.md}
	{
		echo "## ssh: mrsh vs pdsh -R ssh, clush, parallel-ssh"
		echo
		echo "\`contrib/bench/ssh/run.sh\` (SIZES=\"$SIZES\" FANOUTS=\"$FANOUTS\" ROUNDS=$ROUNDS;"
		echo "one private sshd per measurement in its own network namespace, loopback"
		echo "hosts 127.0.1.1...; kex curve25519-sha256 for every tool; mrsh built with"
		echo "\`./configure CFLAGS=-O2\`; method in the script's header):"
		echo
		sed 's/^/    /' "$TABLE"
		if [ -n "${RESULTS_NOTES:-}" ] && [ -f "$RESULTS_NOTES" ]; then
			echo
			cat "$RESULTS_NOTES"
		fi
		echo
	} >"$sec"
	if [ -f "$file" ] && grep -q '^## ssh' "$file"; then
		awk -v sec="$sec" '
			/^## ssh/ { while ((getline l < sec) > 0) print l; skip = 1; next }
			/^## / && skip { skip = 0 }
			!skip { print }' "$file" >"$file.new" && mv "$file.new" "$file"
	else
		{ [ -f "$file" ] && cat "$file" && echo; cat "$sec"; } >"$file.new" &&
			mv "$file.new" "$file"
	fi
	echo "bench: updated $file" >&2
}

bench_main() {
	local n j r tool

	MRSH=$(readlink -f "${1:-${MRSH:-./mrsh}}")
	SIZES=${SIZES:-500 1000}
	FANOUTS=${FANOUTS:-64 256}
	TOOLS=${TOOLS:-mrsh pdsh clush pssh}
	ROUNDS=${ROUNDS:-1}
	SAMPLE_MS=${SAMPLE_MS:-50}
	[ -x "$MRSH" ] || bench_die "no mrsh binary at $MRSH"
	if [ -n "${MRSH_BASE:-}" ]; then
		MRSH_BASE=$(readlink -f "$MRSH_BASE")
		[ -x "$MRSH_BASE" ] || bench_die "no mrsh binary at MRSH_BASE"
		export MRSH_BASE
	fi
	[ "$(id -u)" = 0 ] || bench_die "run as root (network namespaces, cgroups)"
	unshare -n true || bench_die "unshare -n does not work here"
	for tool in $TOOLS; do
		case $tool in
		pdsh | clush) command -v "$tool" >/dev/null ;;
		pssh) command -v parallel-ssh >/dev/null ;;
		*) true ;;
		esac || bench_die "$tool not installed (apt-get install pdsh clustershell pssh)"
	done
	OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/mrsh-bench-ssh.XXXXXX")}
	mkdir -p "$OUT"
	: >"$OUT/raw.txt"
	: >"$OUT/mem.txt"
	MEMN=$(tr ' ' '\n' <<<"$SIZES" | sort -n | head -n 1)
	declare -p SIZES FANOUTS TOOLS ROUNDS SAMPLE_MS MEMN >"$OUT/settings"
	echo "bench: results in $OUT" >&2

	# Timing runs: tools interleaved so machine noise hits them alike.
	for ((r = 0; r < ROUNDS; r++)); do
		for n in $SIZES; do
			for j in $FANOUTS; do
				for tool in $TOOLS; do
					echo "bench: round $((r + 1)) $tool n=$n j=$j" >&2
					bench_run_ns "$tool" "$n" "$j" 0 >>"$OUT/raw.txt"
				done
			done
		done
	done
	# Memory pass: memory depends on the fanout, not the host count.
	if [ "${MEM:-1}" = 1 ]; then
		for tool in $TOOLS; do
			echo "bench: memory $tool baseline (1 host)" >&2
			bench_run_ns "$tool" 1 1 "$SAMPLE_MS" >>"$OUT/mem.txt"
			for j in $FANOUTS; do
				echo "bench: memory $tool n=$MEMN j=$j" >&2
				bench_run_ns "$tool" "$MEMN" "$j" "$SAMPLE_MS" >>"$OUT/mem.txt"
			done
		done
	fi
	TABLE=$OUT/table.txt
	bench_table | tee "$TABLE"
	if [ "${UPDATE_RESULTS:-0}" = 1 ]; then
		bench_update_results "$bench_top/contrib/bench/RESULTS.md"
	fi
}

case ${1:-} in
--one)
	shift
	bench_one "$@"
	exit
	;;
--table)
	# --table DIR: print the table of an earlier run again (and with
	# UPDATE_RESULTS=1 put it in RESULTS.md)
	OUT=${2:?usage: run.sh --table DIR}
	# shellcheck source=/dev/null
	. "$OUT/settings" || exit 1
	# A temp file: DIR may be the committed contrib/bench/ssh/results.
	TABLE=$(mktemp) || exit 1
	trap 'rm -f "$TABLE"' EXIT
	bench_table | tee "$TABLE"
	if [ "${UPDATE_RESULTS:-0}" = 1 ]; then
		sec=$(mktemp) || exit 1
		OUT_SECTION=$sec bench_update_results "$bench_top/contrib/bench/RESULTS.md"
		rm -f "$sec"
	fi
	exit 0
	;;
esac
bench_main "$@"
