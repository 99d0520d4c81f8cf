#!/bin/bash
# Port-exhaustion benchmark: rounds of N hosts back to back on reserved
# source ports, per close discipline, and what each leaves behind.
#
#   contrib/bench/portexhaust/run.sh [-n HOSTS] [-d SECONDS] [-r ROUNDS]
#       [-j FANOUT] [-t CONNECT_TIMEOUT] [-m MRSH] [-o OUTDIR] [-k] [CASE...]
#
# Cases (default: all):
#   mrsh-rsh-remote mrsh-rsh-local mrsh-rsh-abort     mrsh -R rsh --close X
#   mrsh-ssh-remote mrsh-ssh-local mrsh-ssh-abort     mrsh -R ssh --close X
#   pdsh-rsh pdsh-ssh                                 Debian's pdsh 2.34
# mrsh always runs with --ports reserved (512-1023: 512 ports); pdsh -R rsh
# takes reserved ports itself (rresvport); pdsh -R ssh runs ssh(1), which
# uses ephemeral ports, so only its TIME_WAIT is comparable.
#
# Each case runs in namespaces of its own (net, mount, pid): the client
# (mrsh or pdsh) in one network namespace, every server in a second one
# joined by a veth pair, 10.200.0.1 (client) -- 10.200.0.2 (server), so
# every TIME_WAIT in the client's namespace is client-side, and nothing is
# left behind when the case ends. The N hosts are names srv001.. that all
# resolve (private /etc/hosts) to the one server address: the harshest
# case, since a 4-tuple in TIME_WAIT then blocks its port for every host.
# Servers: a private sshd (throwaway keys) and netkit in.rshd under
# systemd-socket-activate, as in tests/helpers/.
#
# One server standing in for N machines has one reserved port range where a
# cluster has N: in.rshd connects back for stderr from a reserved port and
# closes that connection first, so its TIME_WAIT would use up the server's
# 512 reserved ports within one round of 500 hosts, which says nothing
# about the client. So the server's namespace runs with
# net.ipv4.tcp_max_tw_buckets=0: the server keeps no TIME_WAIT, and the
# server_tw column counts the TIME_WAIT it would have entered during the
# round (TcpExtTCPTimeWaitOverflow). -k keeps the server's TIME_WAIT
# instead (server_tw is then the count held after the round).
#
# Each round runs `echo ok` on all N hosts; a host failed if its "ok" line
# is missing. Recorded per round in OUTDIR/CASE.csv: time since the case
# started, round duration, hosts ok/failed, port-related errors (lines
# about source ports, bind/connect address errors, rresvport), client-side
# and server-side TIME_WAIT right after the round, the tool's exit status.
# A case ends after SECONDS (default 90) or ROUNDS rounds (default 1000).
#
# Then: a summary table (OUTDIR/summary.txt) and, with gnuplot, plots of
# client-side TIME_WAIT over time and failures per round, one line per
# case (OUTDIR/portexhaust.png and .svg).
#
# Needs root (namespaces, reserved ports), in.rshd, sshd, pdsh, gnuplot.
# Build mrsh without sanitizers for meaningful speed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
HOSTS=500
DURATION=90
ROUNDS=1000
FANOUT=128
CTIMEOUT=10
MRSH=${MRSH:-$top/mrsh}
OUTDIR=
KEEP_SERVER_TW=0
ALL_CASES="mrsh-rsh-remote mrsh-rsh-local mrsh-rsh-abort mrsh-ssh-remote
    mrsh-ssh-local mrsh-ssh-abort pdsh-rsh pdsh-ssh"

usage()
{
	sed -n '4,5p' "$0" | sed 's/^# *//' >&2
	echo "cases: $(echo $ALL_CASES)" >&2
	exit 2
}

while getopts "n:d:r:j:t:m:o:kh" opt; do
	case $opt in
	n) HOSTS=$OPTARG ;;
	d) DURATION=$OPTARG ;;
	r) ROUNDS=$OPTARG ;;
	j) FANOUT=$OPTARG ;;
	t) CTIMEOUT=$OPTARG ;;
	m) MRSH=$OPTARG ;;
	o) OUTDIR=$OPTARG ;;
	k) KEEP_SERVER_TW=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
CASES=${*:-$ALL_CASES}

# ---- one case, inside its namespaces ------------------------------------

# pe_msg MSG: progress on stderr.
pe_msg()
{
	echo "portexhaust: $*" >&2
}

# pe_hosts: srv001 .. srvN, one per line.
pe_hosts()
{
	local i

	for ((i = 1; i <= HOSTS; i++)); do
		printf 'srv%03d\n' "$i"
	done
}

# pe_sshd: a private sshd on 0.0.0.0:22 in the server namespace and a
# client config for it ($CASE_DIR/ssh_config).
pe_sshd()
{
	local d=$CASE_DIR/sshd i

	mkdir -p "$d" /run/sshd
	ssh-keygen -q -t ed25519 -N '' -f "$d/host_ed25519" </dev/null || return 1
	ssh-keygen -q -t ed25519 -N '' -f "$d/id_ed25519" </dev/null || return 1
	cp "$d/id_ed25519.pub" "$d/authorized_keys"
	cat >"$d/sshd_config" <<EOF
Port 22
ListenAddress 0.0.0.0
HostKey $d/host_ed25519
PidFile $d/sshd.pid
AuthorizedKeysFile $d/authorized_keys
AllowUsers *@10.200.0.0/24
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
AllowTcpForwarding no
KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256
MaxStartups 2000:30:4000
MaxSessions 1000
LoginGraceTime 120
LogLevel ERROR
EOF
	cat >"$CASE_DIR/ssh_config" <<EOF
Host *
	Port 22
	User $(id -un)
	IdentityFile $d/id_ed25519
	IdentitiesOnly yes
	UserKnownHostsFile /dev/null
	GlobalKnownHostsFile /dev/null
	StrictHostKeyChecking no
	BatchMode yes
	ConnectTimeout $CTIMEOUT
	LogLevel ERROR
EOF
	nsenter -t "$RSHD_SRV_PID" -n /usr/sbin/sshd -D -f "$d/sshd_config" \
	    -E "$d/sshd.log" </dev/null >/dev/null 2>&1 &
	RSHD_PIDS="$RSHD_PIDS $!"
	rshd_wait_listen 22 "$RSHD_SRV_PID"
}

# pe_server_tw: TIME_WAIT held by the server now (-k), or the TIME_WAIT it
# has entered so far without keeping them.
pe_server_tw()
{
	if [ "$KEEP_SERVER_TW" = 1 ]; then
		nsenter -t "$RSHD_SRV_PID" -n ss -Htan state time-wait | wc -l
		return
	fi
	nsenter -t "$RSHD_SRV_PID" -n cat /proc/net/netstat | awk '
	    $1 == "TcpExt:" && !h { for (i = 2; i <= NF; i++) n[i] = $i; h = 1;
		next }
	    $1 == "TcpExt:" { for (i = 2; i <= NF; i++)
		if (n[i] == "TCPTimeWaitOverflow") print $i }'
}

# pe_round: one round of the case's tool over every host; sets the
# variables ok, port_errors, rc.
pe_round()
{
	local out=$CASE_DIR/out err=$CASE_DIR/err cmd

	case $CASE in
	mrsh-rsh-*)
		cmd=("$MRSH" -R rsh --ports reserved --close "${CASE##*-}"
		    -j "$FANOUT" -t "$CTIMEOUT" -f "$CASE_DIR/hostlist" -- echo ok) ;;
	mrsh-ssh-*)
		cmd=("$MRSH" -R ssh -F "$CASE_DIR/ssh_config" --ports reserved
		    --close "${CASE##*-}" -j "$FANOUT" -t "$CTIMEOUT"
		    -f "$CASE_DIR/hostlist" -- echo ok) ;;
	pdsh-rsh)
		cmd=(env WCOLL="$CASE_DIR/hostlist" pdsh -R rsh -f "$FANOUT"
		    -t "$CTIMEOUT" echo ok) ;;
	pdsh-ssh)
		cmd=(env WCOLL="$CASE_DIR/hostlist"
		    PDSH_SSH_ARGS_APPEND="-F $CASE_DIR/ssh_config"
		    pdsh -R ssh -f "$FANOUT" -t "$CTIMEOUT" echo ok) ;;
	esac
	timeout -k 5 600 "${cmd[@]}" >"$out" 2>"$err" </dev/null
	rc=$?
	ok=$(grep -c '^srv[0-9]*: ok$' "$out")
	port_errors=$(grep -Eci 'source port|address already in use|cannot assign requested address|all ports in use|rresvport|bind:' "$err")
	cat "$err" >>"$CASE_DIR/errors.log"
}

# pe_case: set up the servers, run rounds until time or rounds are up.
pe_case()
{
	local t0 t1 tr round=0 now tw_c tw_s tw_s0 tw_s1 secs

	ip link set lo up || return 1
	. "$top/tests/helpers/rshd.sh"
	rshd_setup || return 1
	rshd_server_ns || return 1
	if [ "$KEEP_SERVER_TW" = 0 ]; then
		nsenter -t "$RSHD_SRV_PID" -n sysctl -qw \
		    net.ipv4.tcp_max_tw_buckets=0 || return 1
	fi
	rshd_add_hosts "10.200.0.1 client"
	pe_hosts | sed 's/^/10.200.0.2 /' >>"$RSHD_DIR/hosts"
	CASE_DIR=$RSHD_DIR
	pe_hosts >"$CASE_DIR/hostlist"
	case $CASE in
	*-rsh*)	rshd_start 0.0.0.0 514 "$RSHD_SRV_PID" || return 1 ;;
	*-ssh*)	pe_sshd || return 1 ;;
	esac

	echo "round,t,secs,ok,failed,port_errors,client_tw,server_tw,exit" \
	    >"$CSV"
	t0=$(date +%s.%N)
	tw_s0=$(pe_server_tw)
	while :; do
		tr=$(date +%s.%N)
		pe_round
		t1=$(date +%s.%N)
		round=$((round + 1))
		tw_c=$(ss -Htan state time-wait | wc -l)
		tw_s=$(pe_server_tw)
		if [ "$KEEP_SERVER_TW" = 0 ]; then
			tw_s1=$tw_s
			tw_s=$((tw_s - tw_s0))
			tw_s0=$tw_s1
		fi
		now=$(echo "$t1 - $t0" | bc)
		secs=$(echo "$t1 - $tr" | bc)
		printf '%d,%.2f,%.2f,%d,%d,%d,%d,%d,%d\n' "$round" "$now" \
		    "$secs" "$ok" $((HOSTS - ok)) "$port_errors" "$tw_c" \
		    "$tw_s" "$rc" >>"$CSV"
		pe_msg "$CASE round $round: $ok/$HOSTS ok, $port_errors port" \
		    "errors, client TIME_WAIT $tw_c, server $tw_s (${secs}s)"
		[ "$round" -ge "$ROUNDS" ] && break
		[ "$(echo "$now >= $DURATION" | bc)" = 1 ] && break
	done
	# A few lines of the errors seen, for the summary.
	sort "$CASE_DIR/errors.log" | sed 's/srv[0-9]*/srvN/g' | sort |
	    uniq -c | sort -rn | head -5 >"$OUTDIR/$CASE.errors"
	rshd_cleanup
}

if [ -n "${PE_CASE:-}" ]; then
	CASE=$PE_CASE
	CSV=$OUTDIR/$CASE.csv
	pe_case
	exit
fi

# ---- driver -----------------------------------------------------------

[ "$(id -u)" = 0 ] || { echo "portexhaust: needs root" >&2; exit 1; }
for c in $CASES; do
	case " $(echo $ALL_CASES) " in
	*" $c "*) ;;
	*) echo "portexhaust: unknown case $c" >&2; usage ;;
	esac
	case $c in
	mrsh-*) [ -x "$MRSH" ] ||
	    { echo "portexhaust: no mrsh at $MRSH (-m)" >&2; exit 1; } ;;
	pdsh-*) command -v pdsh >/dev/null ||
	    { echo "portexhaust: pdsh not installed" >&2; exit 1; } ;;
	esac
done
for tool in unshare nsenter ip ss bc systemd-socket-activate; do
	command -v "$tool" >/dev/null ||
	    { echo "portexhaust: $tool not found" >&2; exit 1; }
done
[ -n "$OUTDIR" ] || OUTDIR=portexhaust-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUTDIR" && OUTDIR=$(cd "$OUTDIR" && pwd) || exit 1

for c in $CASES; do
	pe_msg "case $c: $HOSTS hosts per round, up to ${DURATION}s"
	PE_CASE=$c unshare --net --mount --pid --fork --kill-child \
	    --mount-proc --propagation private bash "$0" -n "$HOSTS" \
	    -d "$DURATION" -r "$ROUNDS" -j "$FANOUT" -t "$CTIMEOUT" \
	    -m "$MRSH" -o "$OUTDIR" $([ "$KEEP_SERVER_TW" = 1 ] && echo -k) ||
	    pe_msg "case $c did not run to the end"
done

# Summary: one line per case.
{
	printf 'portexhaust: %d hosts per round (one server address), fanout %d, reserved ports (mrsh: 512-1023), up to %ss per case\n' \
	    "$HOSTS" "$FANOUT" "$DURATION"
	printf '%-16s %7s %9s %13s %12s %11s %11s %9s\n' case rounds \
	    "failed" "failed_rounds" "first_fail_s" port_errors \
	    max_client_tw last_tw
	for c in $CASES; do
		[ -s "$OUTDIR/$c.csv" ] || continue
		awk -F, -v c="$c" 'NR > 1 {
			r++; f += $5; pe += $6
			if ($5 > 0) { fr++; if (ff == "") ff = $2 }
			if ($7 > mx) mx = $7; last = $7
		} END {
			printf "%-16s %7d %9d %13d %12s %11d %11d %9d\n", c, r, f,
			    fr, ff == "" ? "-" : ff, pe, mx, last
		}' "$OUTDIR/$c.csv"
	done
	for c in $CASES; do
		[ -s "$OUTDIR/$c.errors" ] || continue
		echo "most frequent errors, $c:"
		sed 's/^/  /' "$OUTDIR/$c.errors"
	done
} | tee "$OUTDIR/summary.txt"

if command -v gnuplot >/dev/null; then
	set -- $CASES
	gnuplot -e "dir='$OUTDIR'; cases='$*'; hosts=$HOSTS" \
	    "$here/plot.gp" 2>&1 | grep -v 'empty y range'
	pe_msg "plots: $OUTDIR/portexhaust.png, .svg"
else
	pe_msg "gnuplot not found: no plots"
fi
