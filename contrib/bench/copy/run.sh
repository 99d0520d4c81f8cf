#!/bin/bash
# Benchmark: file copy, mrsh --copy/--rcopy against pdcp/rpdcp (pdsh -R
# ssh), clush --copy/--rcopy and pscp/pslurp (parallel-scp/parallel-slurp)
# on the same local cluster (one private sshd, many loopback hosts), side
# by side in one run.
#
#   contrib/bench/copy/run.sh [MRSH]        (as root: it makes namespaces)
#
# Rows (ROWS, default all five):
#   push100m:50 push100m:200   a 100 MB file to 50 and 200 hosts
#   tree:50 tree:200           a tree of 1,000 files (1-8 KB, 10 dirs)
#   pull10m:50                 a 10 MB file from 50 hosts
# Environment (defaults):
#   ROWS="push100m:50 push100m:200 tree:50 tree:200 pull10m:50"
#   TOOLS="mrsh mrsh-sftp pdcp clush pscp"  (pull: rpdcp, clush --rcopy,
#                          pslurp; mrsh sends the tree by tar, as it chooses
#                          for a host with GNU tar; mrsh-sftp is mrsh --sftp,
#                          tree rows only; mrsh-tar, not run by default, is
#                          mrsh --tar, push rows only)
#   MRSH_ALT=BINARY        also run this mrsh binary as tool "mrsh-alt"
#                          (e.g. one built without fsync, for comparison)
#   FANOUT=64              the same fanout for every tool
#   SAMPLE_MS=200          memory sampling interval
#   WORK=DIR               sources and per-host destinations (default a
#                          temp dir under /var/tmp; removed at the end)
#   OUT=DIR                raw results and the table (default a temp dir)
#   UPDATE_RESULTS=1       replace the "## copy" section of RESULTS.md
#                          (RESULTS_NOTES=FILE: text added under the table)
#   contrib/bench/copy/run.sh --table DIR   the table of an earlier run
#
# Every host is a loopback address of one private sshd (tests/helpers/
# sshd.sh) in a network namespace of its own per measurement. Each host
# writes into a directory of its own: the sshd sets HOME to WORK/home, whose
# .bashrc (which bash runs for a command sent by sshd) cds to
# WORK/dst/ADDRESS (the server address of SSH_CONNECTION), so every tool
# copies to the relative destination "." (scp -t, pdcp -z and sftp-server,
# which sshd runs through the shell as Debian's default Subsystem does, all
# start there). Kex curve25519-sha256,
# the default cipher, the keys and ssh_config of tests/helpers/sshd.sh for
# every tool. Before each measurement the source is dropped from the page
# cache (posix_fadvise DONTNEED) and everything is synced; after it the
# result is checked (file count and sizes, two hosts compared byte for
# byte) and deleted, so at most one row's output is on disk.
# What is measured (contrib/bench/ssh/measure.py):
#   wall     start to the end of the last process of the client tree
#   cpu      user+sys of the whole client process tree
#   rchar    bytes read() returned to the client tree: local files, and
#            also pipes and sockets (a scp-based tool reads the file in
#            scp, then again from the pipe in ssh)
#   disk     bytes the client tree read from storage (the source is cold)
#   pss      peak of the summed PSS of the client tree, sampled
#   ok       hosts whose copy is complete and has the right size
set -u

bench_self=$(readlink -f "$0")
bench_top=$(cd "$(dirname "$bench_self")/../../.." && pwd)
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
KEX=curve25519-sha256
BIG=104857600		# 100 MB
PULL=10485760		# 10 MB
TREE_FILES=1000

bench_die() {
	echo "bench: $*" >&2
	exit 1
}

# bench_tool_cmd TOOL KIND: the client command line (in BENCH_CMD); it
# runs in WORK/cli (pull: writes into WORK/cli/in).
bench_tool_cmd() {
	local tool=$1 kind=$2 src rec=() mrsh=$MRSH ssh_args
	ssh_args="-F $SSH_CONFIG -o KexAlgorithms=$KEX"
	case $kind in
	push100m) src=$WORK/src/big.bin ;;
	tree) src=$WORK/src/tree rec=(-r) ;;
	pull10m) src=$WORK/src/pull.bin ;;
	esac
	[ "$tool" = mrsh-alt ] && mrsh=$MRSH_ALT tool=mrsh
	case $kind:$tool in
	pull10m:mrsh)
		BENCH_CMD=("$mrsh" -F "$SSH_CONFIG" -o "KexAlgorithms=$KEX" \
			-f "$HOSTS_FILE" -j "$FANOUT" -t 60 -q --rcopy "$src" \
			--dest in) ;;
	*:mrsh)
		BENCH_CMD=("$mrsh" -F "$SSH_CONFIG" -o "KexAlgorithms=$KEX" \
			-f "$HOSTS_FILE" -j "$FANOUT" -t 60 -q "${rec[@]}" \
			--copy "$src" --dest .) ;;
	*:mrsh-tar)
		BENCH_CMD=("$MRSH" -F "$SSH_CONFIG" -o "KexAlgorithms=$KEX" \
			-f "$HOSTS_FILE" -j "$FANOUT" -t 60 -q "${rec[@]}" \
			--tar --copy "$src" --dest .) ;;
	*:mrsh-sftp)
		BENCH_CMD=("$MRSH" -F "$SSH_CONFIG" -o "KexAlgorithms=$KEX" \
			-f "$HOSTS_FILE" -j "$FANOUT" -t 60 -q "${rec[@]}" \
			--sftp --copy "$src" --dest .) ;;
	pull10m:pdcp)
		BENCH_CMD=(env "PDSH_SSH_ARGS=$ssh_args -x -a -l%u %h" \
			rpdcp -R ssh -f "$FANOUT" -t 60 -w "^$HOSTS_FILE" \
			"$src" in) ;;
	*:pdcp)
		BENCH_CMD=(env "PDSH_SSH_ARGS=$ssh_args -x -a -l%u %h" \
			pdcp -R ssh -f "$FANOUT" -t 60 -w "^$HOSTS_FILE" \
			"${rec[@]}" "$src" .) ;;
	pull10m:clush)
		BENCH_CMD=(clush -f "$FANOUT" -t 60 -S --hostfile "$HOSTS_FILE" \
			-o "$ssh_args" --rcopy "$src" --dest in) ;;
	*:clush)
		BENCH_CMD=(clush -f "$FANOUT" -t 60 -S --hostfile "$HOSTS_FILE" \
			-o "$ssh_args" --copy "$src" --dest .) ;;
	pull10m:pscp)
		BENCH_CMD=(parallel-slurp -p "$FANOUT" -t 0 -h "$HOSTS_FILE" \
			-x "-F $SSH_CONFIG" -O "KexAlgorithms=$KEX" -L in \
			"$src" pull.bin) ;;
	*:pscp)
		BENCH_CMD=(parallel-scp -p "$FANOUT" -t 0 -h "$HOSTS_FILE" \
			-x "-F $SSH_CONFIG" -O "KexAlgorithms=$KEX" "${rec[@]}" \
			"$src" .) ;;
	*) bench_die "unknown tool $tool" ;;
	esac
}

# bench_tool_name TOOL KIND: the name the table shows.
bench_tool_name() {
	case $2:$1 in
	pull10m:pdcp) echo rpdcp ;;
	pull10m:pscp) echo pslurp ;;
	*) echo "$1" ;;
	esac
}

# bench_check KIND N: hosts whose copy is complete (prints the count).
bench_check() {
	local kind=$1 n=$2 h ok=0 first="" f
	while IFS= read -r h; do
		case $kind in
		push100m)
			f=$WORK/dst/$h/big.bin
			[ "$(stat -c %s "$f" 2>/dev/null)" = "$BIG" ] || continue
			;;
		tree)
			f=$WORK/dst/$h/tree
			[ "$(find "$f" -type f 2>/dev/null | wc -l)" = "$TREE_FILES" ] ||
				continue
			;;
		pull10m)
			# rpdcp, clush: in/pull.bin.HOST; pslurp: in/HOST/pull.bin
			# (Debian's pssh 2.3.1 names the directory HOST:None)
			f=$WORK/cli/in/pull.bin.$h
			[ -f "$f" ] || f=$WORK/cli/in/$h/pull.bin
			[ -f "$f" ] || f=$WORK/cli/in/$h:None/pull.bin
			[ "$(stat -c %s "$f" 2>/dev/null)" = "$PULL" ] || continue
			;;
		esac
		ok=$((ok + 1))
		first=${first:-$f}
	done <"$HOSTS_FILE"
	# the first and the last complete copy, byte for byte
	if [ -n "$first" ] && [ "$kind" != pull10m ]; then
		diff -r "$first" "$f" >/dev/null || ok="$ok(differ)"
		case $kind in
		push100m) cmp -s "$WORK/src/big.bin" "$f" || ok="$ok(bad)" ;;
		tree) diff -r "$WORK/src/tree" "$f" >/dev/null || ok="$ok(bad)" ;;
		esac
	elif [ -n "$first" ]; then
		cmp -s "$WORK/src/pull.bin" "$first" && cmp -s "$first" "$f" ||
			ok="$ok(bad)"
	fi
	echo "$ok"
}

# bench_clean: remove one measurement's output (keep the host dirs).
bench_clean() {
	find "$WORK/dst" -mindepth 2 -maxdepth 2 -exec rm -rf {} +
	rm -rf "$WORK/cli/in"
	mkdir -p "$WORK/cli/in"
}

# bench_cold FILE...: drop the files from the page cache.
bench_cold() {
	sync
	"$PY" -c 'import os, sys
for p in sys.argv[1:]:
    for d, _, fs in os.walk(p) if os.path.isdir(p) else [("", [], [p])]:
        for f in fs:
            fd = os.open(os.path.join(d, f), os.O_RDONLY)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            os.close(fd)' "$@"
}

# bench_one TOOL KIND N: one measurement, inside a fresh network namespace;
# prints one result line.
bench_one() {
	local tool=$1 kind=$2 n=$3 res ok name

	ip link set lo up || bench_die "cannot bring lo up"
	# shellcheck source=tests/helpers/sshd.sh
	. "$bench_top/tests/helpers/sshd.sh"
	SSHD_SFTP=/usr/lib/openssh/sftp-server SSHD_REAL_HOME=1 \
		SSHD_EXTRA_CONFIG="KexAlgorithms $KEX
SetEnv HOME=$WORK/home" \
		sshd_start "$n" >/dev/null || bench_die "sshd did not start"
	trap sshd_stop EXIT
	sshd_hosts "$n" | while IFS= read -r h; do mkdir -p "$WORK/dst/$h"; done
	bench_clean
	case $kind in
	push100m) bench_cold "$WORK/src/big.bin" ;;
	tree) bench_cold "$WORK/src/tree" ;;
	pull10m) bench_cold "$WORK/src/pull.bin" ;;
	esac
	bench_tool_cmd "$tool" "$kind"
	res=$(cd "$WORK/cli" && "$PY" "$bench_top/contrib/bench/ssh/measure.py" \
		--cgroup --sample-ms "$SAMPLE_MS" --stdout "$OUT/tool.out" \
		--stderr "$OUT/tool.err" -- "${BENCH_CMD[@]}")
	ok=$(bench_check "$kind" "$n")
	name=$(bench_tool_name "$tool" "$kind")
	if [ "$ok" != "$n" ] || ! grep -q '^exit=0 ' <<<"$res"; then
		echo "bench: $name $kind n=$n: $ok of $n hosts, $res" >&2
		head -n 5 "$OUT/tool.err" | sed 's/^/bench:   /' >&2
	fi
	bench_clean
	sync
	echo "tool=$name kind=$kind n=$n $res ok=$ok"
}

bench_field() {
	sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"
}

# bench_table: the table from $OUT/raw.txt.
bench_table() {
	local row kind n line tool w c r d p ok best_w best_c mw mc mr tw tc tr size
	printf 'copy benchmark: fanout %s, kex %s, one run; %s\n' "$FANOUT" \
		"$KEX" "$(date -u +%Y-%m-%d)"
	printf '%-9s %5s %-9s %9s %8s %8s %10s %9s %9s\n' row hosts tool ok \
		wall_s cpu_s rchar_MB disk_MB pss_MB
	for row in $ROWS; do
		kind=${row%%:*} n=${row#*:}
		best_w=- best_c=- mw=- mc=- mr=- tw=- tc=- tr=-
		while IFS= read -r line; do
			tool=$(bench_field "$line" tool)
			w=$(bench_field "$line" wall_s)
			c=$(bench_field "$line" cpu_s)
			r=$(bench_field "$line" rchar_b)
			d=$(bench_field "$line" read_b)
			p=$(bench_field "$line" peak_pss_sum_kb)
			ok=$(bench_field "$line" ok)
			[ "$(bench_field "$line" exit)" = 0 ] || ok="$ok,exit$(bench_field "$line" exit)"
			printf '%-9s %5s %-9s %9s %8s %8s %10.1f %9.1f %9.1f\n' "$kind" \
				"$n" "$tool" "$ok" "$w" "$c" "$(awk -v x="$r" 'BEGIN { print x / 1e6 }')" \
				"$(awk -v x="$d" 'BEGIN { print x / 1e6 }')" \
				"$(awk -v x="$p" 'BEGIN { print x / 1024 }')"
			case $tool in
			mrsh) mw=$w mc=$c mr=$r ;;
			mrsh-sftp) tw=$w tc=$c tr=$r ;;
			mrsh-*) ;;
			*)
				[ "$ok" = "$n" ] || continue
				if [ "$best_w" = - ] || awk -v a="$w" -v b="$best_w" 'BEGIN { exit !(a < b) }'; then
					best_w=$w
				fi
				if [ "$best_c" = - ] || awk -v a="$c" -v b="$best_c" 'BEGIN { exit !(a < b) }'; then
					best_c=$c
				fi
				;;
			esac
		done < <(grep "^tool=[^ ]* kind=$kind n=$n " "$OUT/raw.txt")
		case $kind in
		push100m) size=$BIG ;;
		tree) size=$TREE_BYTES ;;
		pull10m) size=0 ;;
		esac
		if [ "$mw" != - ] && [ "$best_w" != - ]; then
			awk -v mw="$mw" -v bw="$best_w" -v mc="$mc" -v bc="$best_c" \
				-v mr="$mr" -v s="${size:-0}" -v k="$kind" -v n="$n" 'BEGIN {
				printf "  %s n=%s: mrsh wall / best peer %.2f (goal < 1), cpu / best peer %.2f (goal <= 0.33)", k, n, mw / bw, mc / bc
				if (s > 0) printf ", rchar / source size %.2f (goal 1)", mr / s
				printf "\n" }'
		fi
		if [ "$tw" != - ] && [ "$best_w" != - ]; then
			awk -v mw="$tw" -v bw="$best_w" -v mc="$tc" -v bc="$best_c" \
				-v mr="$tr" -v s="${size:-0}" -v k="$kind" -v n="$n" 'BEGIN {
				printf "  %s n=%s: mrsh --sftp wall / best peer %.2f (goal < 1), cpu / best peer %.2f (goal <= 0.33)", k, n, mw / bw, mc / bc
				if (s > 0) printf ", rchar / source size %.2f (goal 1)", mr / s
				printf "\n" }'
		fi
	done
}

bench_update_results() {
	local file=$1 sec
	sec=$(mktemp) || exit 1
	{
		echo "## copy: mrsh --copy/--rcopy vs pdcp/rpdcp, clush, pscp/pslurp"
		echo
		echo "\`contrib/bench/copy/run.sh\` (ROWS=\"$ROWS\" FANOUT=$FANOUT; one"
		echo "private sshd per measurement in its own network namespace, loopback"
		echo "hosts 127.0.1.1..., each writing into a directory of its own; sftp-server"
		echo "run through the login shell as Debian's default; kex curve25519-sha256 for"
		echo "every tool; source cold in the page cache; mrsh built with"
		echo "\`./configure CFLAGS=-O2\`; method in the script's header):"
		echo
		sed 's/^/    /' "$TABLE"
		if [ -n "${RESULTS_NOTES:-}" ] && [ -f "$RESULTS_NOTES" ]; then
			echo
			cat "$RESULTS_NOTES"
		fi
		echo
	} >"$sec"
	if [ -f "$file" ] && grep -q '^## copy' "$file"; then
		awk -v sec="$sec" '
			/^## copy/ { while ((getline l < sec) > 0) print l; skip = 1; next }
			/^## / && skip { skip = 0 }
			!skip { print }' "$file" >"$file.new" && mv "$file.new" "$file"
	else
		{ [ -f "$file" ] && cat "$file" && echo; cat "$sec"; } >"$file.new" &&
			mv "$file.new" "$file"
	fi
	rm -f "$sec"
	echo "bench: updated $file" >&2
}

# bench_sources: the 100 MB and 10 MB files and the tree (deterministic).
bench_sources() {
	mkdir -p "$WORK/src" "$WORK/cli" "$WORK/dst" "$WORK/home"
	head -c "$BIG" /dev/urandom >"$WORK/src/big.bin"
	head -c "$PULL" /dev/urandom >"$WORK/src/pull.bin"
	"$PY" -c 'import os, random, sys
r = random.Random(12)
top = sys.argv[1]
for i in range(int(sys.argv[2])):
    d = os.path.join(top, "d%02d" % (i % 10))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%04d" % i), "wb") as f:
        f.write(r.randbytes(r.randint(1024, 8192)))' "$WORK/src/tree" "$TREE_FILES"
	# the login shell of every session starts in its host's directory
	cat >"$WORK/home/.bashrc" <<EOF
# contrib/bench/copy: each loopback address is a host with its own files
set -- \$SSH_CONNECTION
cd "$WORK/dst/\$3" || exit 1
set --
EOF
}

bench_main() {
	local row kind n need maxn=0 avail tool tools

	MRSH=$(readlink -f "${1:-${MRSH:-./mrsh}}")
	ROWS=${ROWS:-push100m:50 push100m:200 tree:50 tree:200 pull10m:50}
	TOOLS=${TOOLS:-mrsh mrsh-sftp pdcp clush pscp}
	FANOUT=${FANOUT:-64}
	SAMPLE_MS=${SAMPLE_MS:-200}
	MRSH_ALT=${MRSH_ALT:-}
	[ -x "$MRSH" ] || bench_die "no mrsh binary at $MRSH"
	[ -z "$MRSH_ALT" ] || [ -x "$MRSH_ALT" ] || bench_die "no binary at $MRSH_ALT"
	[ "$(id -u)" = 0 ] || bench_die "run as root (network namespaces, cgroups)"
	unshare -n true || bench_die "unshare -n does not work here"
	[ -x /usr/lib/openssh/sftp-server ] ||
		bench_die "no /usr/lib/openssh/sftp-server (apt-get install openssh-server)"
	for tool in $TOOLS; do
		case $tool in
		pdcp) command -v pdcp && command -v rpdcp ;;
		clush) command -v clush ;;
		pscp) command -v parallel-scp && command -v parallel-slurp ;;
		*) true ;;
		esac >/dev/null || bench_die "$tool not installed (apt-get install pdsh clustershell pssh)"
	done
	[ "$(getent passwd "$(id -un)" | cut -d: -f7)" = /bin/bash ] ||
		bench_die "the login shell must be bash (its .bashrc gives each host its directory)"
	WORK=${WORK:-$(mktemp -d /var/tmp/mrsh-bench-copy.XXXXXX)}
	mkdir -p "$WORK"
	# Disk: one row's output at a time (deleted after each measurement).
	for row in $ROWS; do
		n=${row#*:}
		case ${row%%:*} in
		push100m) need=$((n * BIG)) ;;
		tree) need=$((n * (TREE_FILES * 8192 + 40 * 4096))) ;;
		pull10m) need=$((n * PULL)) ;;
		*) bench_die "unknown row $row" ;;
		esac
		[ "$need" -gt "$maxn" ] && maxn=$need
	done
	need=$((maxn + 2 * BIG + 2 * 1024 * 1024 * 1024))
	avail=$(df -B1 --output=avail "$WORK" | tail -n 1)
	if [ "$avail" -lt "$need" ]; then
		rmdir "$WORK" 2>/dev/null
		bench_die "$WORK has $((avail / 1048576)) MB free, the largest row needs $((need / 1048576)) MB (with 2 GB to spare): free some space or set WORK"
	fi
	OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/mrsh-bench-copy.XXXXXX")}
	mkdir -p "$OUT"
	: >"$OUT/raw.txt"
	echo "bench: sources in $WORK, results in $OUT" >&2
	trap 'rm -rf "$WORK"' EXIT
	bench_sources
	# the tree's file bytes (what a tool that reads each file once reads)
	TREE_BYTES=$(find "$WORK/src/tree" -type f -printf '%s\n' |
		awk '{ s += $1 } END { print s }')
	declare -p ROWS TOOLS FANOUT TREE_BYTES >"$OUT/settings"
	tools=$TOOLS
	[ -n "$MRSH_ALT" ] && tools="$tools mrsh-alt"
	for row in $ROWS; do
		kind=${row%%:*} n=${row#*:}
		for tool in $tools; do
			[ "$tool" = mrsh-sftp ] && [ "$kind" != tree ] && continue
			[ "$tool" = mrsh-tar ] && [ "$kind" != push100m ] && continue
			echo "bench: $(date -u +%T) $tool $kind n=$n" >&2
			MRSH=$MRSH MRSH_ALT=$MRSH_ALT WORK=$WORK OUT=$OUT \
				FANOUT=$FANOUT SAMPLE_MS=$SAMPLE_MS unshare -n \
				bash "$bench_self" --one "$tool" "$kind" "$n" >>"$OUT/raw.txt"
		done
	done
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
	OUT=${2:?usage: run.sh --table DIR}
	# shellcheck source=/dev/null
	. "$OUT/settings" || exit 1
	TABLE=$(mktemp) || exit 1
	trap 'rm -f "$TABLE"' EXIT
	bench_table | tee "$TABLE"
	[ "${UPDATE_RESULTS:-0}" = 1 ] &&
		bench_update_results "$bench_top/contrib/bench/RESULTS.md"
	exit 0
	;;
esac
bench_main "$@"
