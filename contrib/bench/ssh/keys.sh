#!/bin/bash
# Benchmark: mrsh's client CPU per host by the kind of user key, against one
# private sshd (tests/helpers/sshd.sh) with many loopback hosts, command
# `true`. Issue 10: an encrypted key cost a bcrypt KDF per host, an ECDSA
# key a PEM/OpenSSH parse per host; the goal is within 10 % of an
# unencrypted ed25519 key (parsed once per run since src/ssh_sign.c).
#
#   contrib/bench/ssh/keys.sh MRSH [MRSH...]   e.g. an old and a new build
#
# Environment (defaults): HOSTS=500 J=64 ROUNDS=3 KINDS="ed25519 ecdsa
# ed25519-enc". Every run goes through tests/helpers/pty-answer.py (the
# encrypted key's passphrase is typed on a terminal, asked once per run),
# the other kinds too, so the wrapper's small cost is the same for all.
# CPU = user+sys of the whole process tree (contrib/bench/ssh/measure.py);
# the median of ROUNDS; cpu/host = CPU / HOSTS. Use release builds. A run
# where not every host ran (-t TIMEOUT, default 60, hit: an encrypted key's
# per-host KDF blocks the loop) is shown as failed, with its hosts and CPU.
set -u

top=$(cd "$(dirname "$(readlink -f "$0")")/../../.." && pwd)
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
HOSTS=${HOSTS:-500}
J=${J:-64}
ROUNDS=${ROUNDS:-3}
KINDS=${KINDS:-ed25519 ecdsa ed25519-enc}
[ $# -ge 1 ] || { sed -n '2,16p' "$0"; exit 2; }

# shellcheck source=tests/helpers/sshd.sh
. "$top/tests/helpers/sshd.sh"
SSHD_EXTRA_CONFIG="MaxStartups 1000:30:1000
MaxSessions 100" sshd_start "$HOSTS" >/dev/null || { echo "bench: sshd did not start" >&2; exit 1; }
trap sshd_stop EXIT
unset SSH_AUTH_SOCK SSH_AGENT_PID
ssh-keygen -q -t ecdsa -N '' -C bench-ecdsa -f "$SSHD_DIR/id_bench_ecdsa"
cat "$SSHD_DIR/id_bench_ecdsa.pub" >>"$SSHD_DIR/authorized_keys"

key_of() {
	case $1 in
	ed25519) echo "$USER_KEY" ;;
	ecdsa) echo "$SSHD_DIR/id_bench_ecdsa" ;;
	ed25519-enc) echo "$USER_KEY_ENC" ;;
	esac
}

TIMEOUT=${TIMEOUT:-60}

# one MRSH KIND: cpu_s of one run, or "-" if not every host ran (then on
# stderr: how many did, and the CPU).
one() {
	local out line
	out=$(mktemp)
	line=$("$PY" "$top/contrib/bench/ssh/measure.py" --sample-ms 0 -- \
		"$PY" "$top/tests/helpers/pty-answer.py" --prompt '[Pp]assphrase' \
		--answer "$USER_KEY_PASSPHRASE" --timeout 600 --stdout "$out" -- \
		"$1" -F "$SSH_CONFIG" -o BatchMode=no -i "$(key_of "$2")" -f "$HOSTS_FILE" \
		-j "$J" -t "$TIMEOUT" 'echo ok' 2>/dev/null)
	if [ "$(grep -c ': ok' "$out")" != "$HOSTS" ]; then
		echo "bench: $1 $2: $(grep -c ': ok' "$out") of $HOSTS hosts ran; $line" >&2
		rm -f "$out"
		echo -
		return
	fi
	rm -f "$out"
	echo "$line" | tr ' ' '\n' | sed -n 's/^cpu_s=//p'
}

median() {
	sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

printf '%-28s %-12s %8s %12s   (hosts %d, -j %d, median of %d)\n' \
	binary key cpu_s cpu_ms/host "$HOSTS" "$J" "$ROUNDS"
for m in "$@"; do
	for kind in $KINDS; do
		vals=
		for ((r = 0; r < ROUNDS; r++)); do
			vals="$vals $(one "$m" "$kind")"
		done
		case $vals in
		*-*) printf '%-28s %-12s %8s %12s\n' "$m" "$kind" failed - ;;
		*)
			med=$(printf '%s\n' $vals | median)
			printf '%-28s %-12s %8.3f %12.3f\n' "$m" "$kind" "$med" \
				"$(echo "$med * 1000 / $HOSTS" | bc -l)"
			;;
		esac
	done
done
