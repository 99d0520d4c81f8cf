#!/bin/bash
# Private OpenSSH sshd for mrsh tests, the testbed and the benchmarks.
#
# One sshd on a free port, listening on 0.0.0.0 so that every loopback
# address (127.0.1.1, 127.0.1.2, ...) reaches it -- one "host" per address --
# but only logins from 127.0.0.0/8 are allowed. Everything lives in a temp
# dir: throwaway host key, user keys, authorized_keys, sshd_config, log, a
# client ssh_config and a known_hosts with one [addr]:port line per host.
#
# As a library (the usual way in tests):
#   . "$top_srcdir/tests/helpers/sshd.sh"
#   sshd_start 50 || exit 1     # 50 hosts; exports the variables below
#   ssh -F "$SSH_CONFIG" 127.0.1.7 uptime
#   "$MRSH" -F "$SSH_CONFIG" -f "$HOSTS_FILE" uptime
#   sshd_stop                   # kill by pid, bounded wait, rm -rf the dir
#
# As a command (the testbed, a shell by hand):
#   eval "$(tests/helpers/sshd.sh start -n 20 [-d DIR])"   # prints exports
#   tests/helpers/sshd.sh stop -d DIR
#
# Exported by sshd_start:
#   SSHD_DIR        the temp dir (removed by sshd_stop unless it was given)
#   SSHD_PORT       the port sshd listens on (also in ssh_config)
#   SSHD_PID        sshd's pid
#   SSHD_LOG        sshd's log (-E)
#   SSHD_CONFIG     sshd_config
#   SSHD_USER       the user that may log in (the current user)
#   SSH_CONFIG      client config: Host * with Port, User, IdentityFile,
#                   UserKnownHostsFile, StrictHostKeyChecking yes, BatchMode
#   HOSTS_FILE      N lines 127.0.1.1 .. (no port: the port is in SSH_CONFIG)
#   KNOWN_HOSTS     "[127.0.1.N]:PORT ssh-ed25519 ..." for every host, plus
#                   127.0.0.1 and localhost
#   HOST_KEY_PUB    the host's public key line ("ssh-ed25519 AAAA...")
#   USER_KEY        ed25519 user key (authorized)
#   USER_KEY_ENC    ed25519 user key encrypted with $USER_KEY_PASSPHRASE
#                   (authorized)
#   USER_KEY_PASSPHRASE
#   WRONG_KEY       ed25519 key that is NOT authorized
#   USER_KEY_RSA    RSA user key (authorized) -- only with SSHD_RSA=1
#
# Knobs (environment, read by sshd_start):
#   SSHD_RSA=1            also make an RSA user key (slow-ish to generate)
#   SSHD_EXTRA_CONFIG     lines put first in sshd_config (first value wins)
#   SSHD_CLIENT_EXTRA     a line put first in the client Host * block
#   SSHD_BIN              sshd binary (default /usr/sbin/sshd)
#   SSHD_SFTP             the sftp Subsystem (default internal-sftp; the
#                         copy benchmark runs /usr/lib/openssh/sftp-server
#                         through the login shell, as Debian does)
#   SSHD_SETSID=1         run sshd in its own session (outlives the
#                         terminal's ctrl-c; the testbed uses it)
#   SSHD_REAL_HOME=1      remote commands keep the real HOME (default: an
#                         empty $SSHD_DIR/home, so no ~/.bashrc is read)
#
# Host i (1-based) is 127.0.X.Y with X = 1 + (i-1)/254, Y = 1 + (i-1)%254,
# so 1000 hosts are 127.0.1.1 .. 127.0.4.238.

SSHD_BIN=${SSHD_BIN:-/usr/sbin/sshd}
sshd_owns_dir=0

# sshd_log_msg MSG: diagnostics to stderr, TAP-safe ("# " prefix).
sshd_log_msg()
{
	echo "# sshd.sh: $*" >&2
}

# sshd_host_addr I: the loopback address of host number I (1-based).
sshd_host_addr()
{
	local i=$(($1 - 1))
	echo "127.0.$((1 + i / 254)).$((1 + i % 254))"
}

# sshd_hosts N: print the addresses of hosts 1..N, one per line (the same
# arithmetic as sshd_host_addr, without a subshell per host).
sshd_hosts()
{
	local i
	for ((i = 0; i < $1; i++)); do
		echo "127.0.$((1 + i / 254)).$((1 + i % 254))"
	done
}

# sshd_free_port: print a TCP port that is free right now on 0.0.0.0.
sshd_free_port()
{
	local py=/usr/bin/python3
	[ -x "$py" ] || py=$(command -v python3 2>/dev/null)
	if [ -n "$py" ]; then
		"$py" -c 'import socket
s = socket.socket()
s.bind(("0.0.0.0", 0))
print(s.getsockname()[1])'
		return
	fi
	# No python: pick a random high port nobody listens on.
	local p tries
	for ((tries = 0; tries < 50; tries++)); do
		p=$((20000 + RANDOM % 30000))
		if ! ss -Hltn "sport = :$p" 2>/dev/null | grep -q .; then
			echo "$p"
			return
		fi
	done
	return 1
}

# sshd_keygen FILE TYPE [PASSPHRASE]: a throwaway key pair.
sshd_keygen()
{
	local file=$1 type=$2 pass=${3:-}
	local bits=()
	[ "$type" = rsa ] && bits=(-b 2048)
	ssh-keygen -q -t "$type" "${bits[@]}" -N "$pass" -C "mrsh-test-$type" \
	    -f "$file" </dev/null >/dev/null 2>&1
}

# sshd_write_known_hosts FILE N PORT: host key lines for hosts 1..N.
sshd_write_known_hosts()
{
	local file=$1 n=$2 port=$3 i
	{
		sshd_hosts "$n" | while IFS= read -r i; do
			echo "[$i]:$port $HOST_KEY_PUB"
		done
		echo "[127.0.0.1]:$port $HOST_KEY_PUB"
		echo "[localhost]:$port $HOST_KEY_PUB"
	} >"$file"
}

# sshd_write_configs: sshd_config and the client ssh_config for SSHD_PORT.
sshd_write_configs()
{
	# Remote commands get a private empty HOME so that the real user's
	# ~/.bashrc (which bash reads for commands run by sshd; here it runs
	# "pyenv init" and takes a lock) does not add noise and minutes of
	# delay to hundreds of concurrent sessions. SSHD_REAL_HOME=1: keep it.
	local home_line="SetEnv HOME=$SSHD_DIR/home"
	[ "${SSHD_REAL_HOME:-0}" = 1 ] && home_line=
	mkdir -p "$SSHD_DIR/home"
	cat >"$SSHD_CONFIG" <<EOF
# Private test sshd (tests/helpers/sshd.sh). Throwaway keys, loopback only.
# SSHD_EXTRA_CONFIG first: for most keywords the first value wins.
${SSHD_EXTRA_CONFIG:-}
Port $SSHD_PORT
ListenAddress 0.0.0.0
HostKey $SSHD_DIR/host_ed25519
PidFile $SSHD_DIR/sshd.pid
AuthorizedKeysFile $SSHD_DIR/authorized_keys
AllowUsers *@127.0.0.0/8
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
HostbasedAuthentication no
UsePAM no
StrictModes no
UseDNS no
PrintMotd no
PrintLastLog no
PermitUserEnvironment no
X11Forwarding no
AllowAgentForwarding no
AllowTcpForwarding no
KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group14-sha256
MaxStartups 1000:30:2000
MaxSessions 1000
MaxAuthTries 20
LoginGraceTime 120
ClientAliveInterval 0
Subsystem sftp ${SSHD_SFTP:-internal-sftp}
LogLevel INFO
$home_line
EOF
	sshd_client_config "$SSH_CONFIG" "$USER_KEY" "$KNOWN_HOSTS"
}

# sshd_client_config FILE KEY KNOWN_HOSTS [EXTRA_LINE...]: write a client
# config for this sshd using identity KEY ("none": no IdentityFile) and the
# given known_hosts; extra lines go into the Host * block (first value wins,
# so put overrides here rather than after the file).
sshd_client_config()
{
	local file=$1 key=$2 kh=$3 line
	shift 3
	{
		echo "# Client config for the private test sshd (tests/helpers/sshd.sh)."
		echo "Host *"
		for line in "$@" ${SSHD_CLIENT_EXTRA:+"$SSHD_CLIENT_EXTRA"}; do
			printf '\t%s\n' "$line"
		done
		printf '\t%s\n' \
		    "Port $SSHD_PORT" \
		    "User $SSHD_USER"
		[ "$key" != none ] && printf '\tIdentityFile %s\n' "$key"
		printf '\t%s\n' \
		    "IdentitiesOnly yes" \
		    "UserKnownHostsFile $kh" \
		    "GlobalKnownHostsFile /dev/null" \
		    "StrictHostKeyChecking yes" \
		    "CheckHostIP no" \
		    "UpdateHostKeys no" \
		    "HashKnownHosts no" \
		    "BatchMode yes" \
		    "PasswordAuthentication no" \
		    "KbdInteractiveAuthentication no" \
		    "ControlMaster no" \
		    "ControlPath none" \
		    "ConnectTimeout 30" \
		    "LogLevel ERROR"
	} >"$file"
}

# sshd_listening: true once sshd logged that it listens on SSHD_PORT.
sshd_listening()
{
	grep -q "Server listening on .* port $SSHD_PORT" "$SSHD_LOG" 2>/dev/null
}

# sshd_alive: true while the sshd we started runs.
sshd_alive()
{
	[ -n "${SSHD_PID:-}" ] && kill -0 "$SSHD_PID" 2>/dev/null
}

# sshd_launch: start sshd on SSHD_PORT; 0 once it listens, 1 if it died.
sshd_launch()
{
	local i
	local setsid=()
	[ "${SSHD_SETSID:-0}" = 1 ] && setsid=(setsid)
	: >"$SSHD_LOG"
	rm -f "$SSHD_DIR/sshd.launcher.pid"
	# Started from a subshell so that sshd is not a child of the caller:
	# a bare `wait` in a test must not wait for sshd forever.
	(
		"${setsid[@]}" "$SSHD_BIN" -D -f "$SSHD_CONFIG" -E "$SSHD_LOG" \
		    </dev/null >/dev/null 2>>"$SSHD_DIR/sshd.stderr" &
		echo $! >"$SSHD_DIR/sshd.launcher.pid"
	)
	SSHD_PID=$(cat "$SSHD_DIR/sshd.launcher.pid")
	# Up to 20 s (the machine is shared and can be slow).
	for ((i = 0; i < 200; i++)); do
		if sshd_listening; then
			return 0
		fi
		if ! sshd_alive; then
			return 1
		fi
		sleep 0.1
	done
	sshd_log_msg "sshd did not start listening within 20 s"
	kill "$SSHD_PID" 2>/dev/null
	return 1
}

# sshd_start [N] [DIR]: start a private sshd serving N hosts (default 10).
# DIR is created if needed and kept by sshd_stop; default a new temp dir.
sshd_start()
{
	local n=${1:-10} dir=${2:-} tries

	if [ ! -x "$SSHD_BIN" ]; then
		sshd_log_msg "$SSHD_BIN not found (apt-get install openssh-server)"
		return 1
	fi
	if ! command -v ssh-keygen >/dev/null 2>&1; then
		sshd_log_msg "ssh-keygen not found (apt-get install openssh-client)"
		return 1
	fi
	# sshd insists on its privilege separation directory when run as root.
	if [ "$(id -u)" = 0 ] && [ ! -d /run/sshd ]; then
		mkdir -p /run/sshd && chmod 0755 /run/sshd
	fi

	if [ -n "$dir" ]; then
		mkdir -p "$dir" || return 1
		SSHD_DIR=$(cd "$dir" && pwd)
		sshd_owns_dir=0
	else
		SSHD_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mrsh-sshd.XXXXXX") ||
		    return 1
		sshd_owns_dir=1
	fi
	SSHD_USER=$(id -un)
	SSHD_CONFIG=$SSHD_DIR/sshd_config
	SSHD_LOG=$SSHD_DIR/sshd.log
	SSH_CONFIG=$SSHD_DIR/ssh_config
	HOSTS_FILE=$SSHD_DIR/hosts.txt
	KNOWN_HOSTS=$SSHD_DIR/known_hosts
	USER_KEY=$SSHD_DIR/id_ed25519
	USER_KEY_ENC=$SSHD_DIR/id_ed25519_enc
	USER_KEY_PASSPHRASE=mrsh-test-passphrase
	WRONG_KEY=$SSHD_DIR/id_wrong
	USER_KEY_RSA=
	export SSHD_DIR SSHD_USER SSHD_CONFIG SSHD_LOG SSH_CONFIG HOSTS_FILE \
	    KNOWN_HOSTS USER_KEY USER_KEY_ENC USER_KEY_PASSPHRASE WRONG_KEY \
	    USER_KEY_RSA

	rm -f "$SSHD_DIR"/host_ed25519* "$SSHD_DIR"/id_*
	if ! { sshd_keygen "$SSHD_DIR/host_ed25519" ed25519 &&
	    sshd_keygen "$USER_KEY" ed25519 &&
	    sshd_keygen "$USER_KEY_ENC" ed25519 "$USER_KEY_PASSPHRASE" &&
	    sshd_keygen "$WRONG_KEY" ed25519; }; then
		sshd_log_msg "ssh-keygen failed"
		return 1
	fi
	cat "$USER_KEY.pub" "$USER_KEY_ENC.pub" >"$SSHD_DIR/authorized_keys"
	if [ "${SSHD_RSA:-0}" = 1 ]; then
		USER_KEY_RSA=$SSHD_DIR/id_rsa
		sshd_keygen "$USER_KEY_RSA" rsa || return 1
		cat "$USER_KEY_RSA.pub" >>"$SSHD_DIR/authorized_keys"
	fi
	HOST_KEY_PUB=$(cut -d' ' -f1,2 "$SSHD_DIR/host_ed25519.pub")
	export HOST_KEY_PUB
	sshd_hosts "$n" >"$HOSTS_FILE"

	# A port that was free a moment ago may be taken by the time sshd
	# binds it: try a few.
	for ((tries = 0; tries < 10; tries++)); do
		SSHD_PORT=$(sshd_free_port) || return 1
		export SSHD_PORT
		sshd_write_configs
		if sshd_launch; then
			export SSHD_PID
			sshd_write_known_hosts "$KNOWN_HOSTS" "$n" "$SSHD_PORT"
			return 0
		fi
		if ! grep -q "Address already in use" "$SSHD_LOG" \
		    "$SSHD_DIR/sshd.stderr" 2>/dev/null; then
			sshd_log_msg "sshd failed to start:"
			sed 's/^/#   /' "$SSHD_LOG" "$SSHD_DIR/sshd.stderr" >&2
			return 1
		fi
	done
	sshd_log_msg "no free port found for sshd after $tries tries"
	return 1
}

# sshd_stop [DIR]: stop the sshd (ours, or the one recorded in DIR) and
# remove its temp dir if sshd_start created it.
sshd_stop()
{
	local dir=${1:-${SSHD_DIR:-}} pid i
	[ -n "$dir" ] || return 0
	pid=${SSHD_PID:-}
	if [ -n "${1:-}" ] || [ -z "$pid" ]; then
		pid=$(cat "$dir/sshd.pid" 2>/dev/null ||
		    cat "$dir/sshd.launcher.pid" 2>/dev/null)
	fi
	if [ -n "$pid" ] && kill "$pid" 2>/dev/null; then
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null
	fi
	if [ "$sshd_owns_dir" = 1 ] && [ "$dir" = "${SSHD_DIR:-}" ]; then
		rm -rf "$dir"
	fi
	SSHD_PID=
	return 0
}

# sshd_main ARGS: command-line use (start prints shell exports; stop).
sshd_main()
{
	local cmd=${1:-} n=10 dir='' opt
	shift || true
	OPTIND=1
	while getopts "n:d:" opt; do
		case $opt in
		n) n=$OPTARG ;;
		d) dir=$OPTARG ;;
		*) cmd=usage ;;
		esac
	done
	case $cmd in
	start)
		if [ -z "$dir" ]; then
			dir=$(mktemp -d "${TMPDIR:-/tmp}/mrsh-sshd.XXXXXX") ||
			    return 1
		fi
		sshd_start "$n" "$dir" >&2 || return 1
		local v
		for v in SSHD_DIR SSHD_PORT SSHD_PID SSHD_LOG SSHD_CONFIG \
		    SSHD_USER SSH_CONFIG HOSTS_FILE KNOWN_HOSTS HOST_KEY_PUB \
		    USER_KEY USER_KEY_ENC USER_KEY_PASSPHRASE WRONG_KEY \
		    USER_KEY_RSA; do
			printf 'export %s=%q\n' "$v" "${!v}"
		done
		;;
	stop)
		[ -n "$dir" ] || { echo "usage: $0 stop -d DIR" >&2; return 2; }
		sshd_stop "$dir"
		;;
	*)
		echo "usage: $0 start [-n N] [-d DIR] | stop -d DIR" >&2
		return 2
		;;
	esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	sshd_main "$@"
	exit
fi
