#!/bin/bash
# t0605: system calls failing under mrsh for one host among three, made to
# fail by tests/helpers/failcall.so (LD_PRELOAD; MRSH_FAILCALL names the
# call, the errno and which call of it fails), against the real servers:
# in.rshd (the stderr listener's socket, setsockopt, bind and listen; the
# connection's socket, bind, connect and its getsockopt; accept of the
# stderr connection; send of the request), the scripted rshd for a listener
# without the port pool (--ports ephemeral: bind, getsockname), the exec
# transport (pipe2) and sshd, behind a ProxyCommand (socketpair, pipe2,
# fork), with a Match exec (fork, waitpid), a KnownHostsCommand (fork) and
# with the key in ssh-agent only (the agent's socket). Each time:
# exit 255 (mrsh.1, EXIT STATUS), one line "mrsh: HOST: STAGE: reason" and
# the summary, and every other host's whole output. Failures mrsh rides out
# (EINTR, EAGAIN, one port conflict, the kernel's socket table unreadable,
# getrlimit, getpeername, shutdown under --close local) change nothing but
# what -v says. Hosts run one at a time (-j 1), so the Nth call of a
# function is always the same host's: the numbers below were read from
# MRSH_FAILCALL_TRACE=1, and each point also checks that its call failed.
. "$top_srcdir/tests/helpers/rshd.sh"
rshd_standard_setup "$@"
T=$RSHD_DIR

FAILCALL=$top_builddir/tests/helpers/failcall.so
[ -f "$FAILCALL" ] || bail_out "no $FAILCALL (make check builds it)"
# The shim comes before libasan in the sanitizer build: ASan's start-up
# check of the library order must not stop mrsh.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

HOSTS=(127.0.1.1 127.0.1.2 127.0.1.3)
ERRS=1		# the hosts print "err" on stderr too

# fc LABEL RULES ARGS...: mrsh -j 1 ARGS under the failcall RULES; stdout,
# stderr and the calls failed in $T/LABEL.out, .err, .fc; status in rc.
fc() {
	local label=$1 rules=$2

	shift 2
	rm -f "$T/$label".*
	LD_PRELOAD=$FAILCALL MRSH_FAILCALL=$rules \
	    MRSH_FAILCALL_LOG="$T/$label.fc" \
	    timeout -k 5 60 "$MRSH" -j 1 -t 20 -u 60 "$@" </dev/null \
	    >"$T/$label.out" 2>"$T/$label.err"
	rc=$?
}

# rsh LABEL RULES [OPTS...], exec_ LABEL RULES [OPTS...]: fc on the three
# hosts, each printing "out" and "err".
rsh() {
	local label=$1 rules=$2

	shift 2
	fc "$label" "$rules" -R rsh "$@" -w '127.0.1.[1-3]' -- \
	    'echo out; echo err >&2'
}
exec_() {
	local label=$1 rules=$2

	shift 2
	fc "$label" "$rules" -R exec "$@" -w '127.0.1.[1-3]' -- \
	    sh -c 'echo out; echo err >&2'
}

# hit LABEL CALL...: the calls failed, as "socket #7: EMFILE".
hit() {
	local label=$1

	shift
	is "$(sed 's/^failcall: //' "$T/$label.fc" 2>/dev/null)" \
	    "$(printf '%s\n' "$@")" \
	    "$label: $1${2:+ to ${*: -1}} failed"
}

# others LABEL HOST: the whole output of every host but HOST (none: all).
others() {
	local label=$1 host=$2 h out='' err=''

	for h in "${HOSTS[@]}"; do
		[ "$h" = "$host" ] && continue
		out+="$h: out"$'\n'
		[ "$ERRS" = 1 ] && err+="$h: err"$'\n'
	done
	is "$(cat "$T/$label.out")" "${out%$'\n'}" \
	    "$label: the other hosts' output, whole"
	is "$(grep -v '^mrsh: ' "$T/$label.err")" "${err%$'\n'}" \
	    "$label: the other hosts' stderr, whole"
}

# one_fails LABEL CALL HOST 'STAGE: REASON': after fc, CALL failed, exit
# 255, on stderr only the one line for HOST and the summary, and the other
# hosts' whole output.
one_fails() {
	local label=$1 call=$2 host=$3 why=$4

	hit "$label" "$call"
	is "$rc" 255 "$label: exit 255"
	is "$(grep '^mrsh: ' "$T/$label.err")" \
	    "$(printf 'mrsh: %s: %s\nmrsh: 1 of %d hosts failed: %s: %s' \
	    "$host" "$why" ${#HOSTS[@]} "${why#*: }" "$host")" \
	    "$label: one line for $host, '$why', and the summary"
	others "$label" "$host"
}

# all_ok LABEL CALL [LINE...]: after fc, CALL failed, exit 0, every host's
# whole output, and mrsh's own lines on stderr exactly the LINEs.
all_ok() {
	local label=$1 call=$2

	shift 2
	hit "$label" "$call"
	is "$rc" 0 "$label: exit 0"
	is "$(grep '^mrsh: ' "$T/$label.err")" \
	    "$(if [ $# -gt 0 ]; then printf '%s\n' "$@"; fi)" \
	    "$label: ${1:-nothing from mrsh}"
	others "$label" none
}

# --- rsh, through the port pool: per host, the stderr listener (socket,
# setsockopt, bind, listen), then the connection (socket, setsockopt, bind,
# connect, getsockopt), accept of the stderr connection and the request's
# send. Before any host: four netlink sockets (the pool's and --stats'
# look at the kernel's sockets, IPv4 then IPv6).
rsh sock_l 'socket=EMFILE@7'
one_fails sock_l 'socket #7: EMFILE' 127.0.1.2 \
    'CONNECTING: cannot open a socket: Too many open files'
rsh sopt_l 'setsockopt=ENOBUFS@3'
one_fails sopt_l 'setsockopt #3: ENOBUFS' 127.0.1.2 \
    'CONNECTING: bind stderr listener: No buffer space available'
rsh bind_l 'bind=EADDRNOTAVAIL@3'
one_fails bind_l 'bind #3: EADDRNOTAVAIL' 127.0.1.2 \
    'CONNECTING: bind stderr listener: Cannot assign requested address'
rsh listen 'listen=EMFILE@2'
one_fails listen 'listen #2: EMFILE' 127.0.1.2 \
    'CONNECTING: listen: Too many open files'
rsh sock_c 'socket=ENFILE@8'
one_fails sock_c 'socket #8: ENFILE' 127.0.1.2 \
    'CONNECTING: cannot open a socket: Too many open files in system'
rsh bind_c 'bind=EACCES@4'
one_fails bind_c 'bind #4: EACCES' 127.0.1.2 \
    'CONNECTING: connect to 127.0.1.2:514: Permission denied'
rsh conn_reset 'connect=ECONNRESET@2'
one_fails conn_reset 'connect #2: ECONNRESET' 127.0.1.2 \
    'CONNECTING: connect to 127.0.1.2:514: connection reset by peer'
# Our own resource, not the host's: said as for socket().
rsh conn_local 'connect=ENOBUFS@2'
one_fails conn_local 'connect #2: ENOBUFS' 127.0.1.2 \
    'CONNECTING: cannot open a socket: No buffer space available'
rsh soerr 'getsockopt=ETIMEDOUT@2'
one_fails soerr 'getsockopt #2: ETIMEDOUT' 127.0.1.2 \
    'CONNECTING: connect to 127.0.1.2:514: connection timed out'
rsh accept 'accept4=EMFILE@2'
one_fails accept 'accept4 #2: EMFILE' 127.0.1.2 \
    'SETUP: accept stderr connection: Too many open files'
rsh send 'send=EPIPE@2'
one_fails send 'send #2: EPIPE' 127.0.1.2 \
    'SETUP: send rcmd request: Broken pipe'

# Sixteen source ports in a row refused towards one host (EADDRNOTAVAIL
# from connect: the pair is taken): that host waits for a port until -t;
# the next host gets one at once.
rsh conflict 'connect=EADDRNOTAVAIL@2-17' -t 2
mapfile -t calls < <(for i in $(seq 2 17); do
	echo "connect #$i: EADDRNOTAVAIL"
done)
hit conflict "${calls[@]}"
is "$rc" 255 "conflict: exit 255"
grepok '^mrsh: 127\.0\.1\.2: PENDING: connect timeout after 2s \(-t\) waiting for a source port: no source port free in 512-1023: .*, 16 cooling towards 127\.0\.1\.2:514$' \
    "$T/conflict.err" "conflict: the host waited for a port, says why"
is "$(grep -c '^mrsh: ' "$T/conflict.err")" 2 \
    "conflict: that line and the summary"
others conflict 127.0.1.2

# Ridden out.
rsh accept_again 'accept4=EAGAIN@2'
all_ok accept_again 'accept4 #2: EAGAIN'
rsh send_again 'send=EINTR@2'
all_ok send_again 'send #2: EINTR'
rsh conflict1 'connect=EADDRNOTAVAIL@2'
all_ok conflict1 'connect #2: EADDRNOTAVAIL'
rsh random 'getrandom=EINTR@1'
all_ok random 'getrandom #1: EINTR'
rsh rlimit 'getrlimit=EPERM@1'
all_ok rlimit 'getrlimit #1: EPERM'
rsh shut 'shutdown=ENOTCONN@2' -vv --close local
hit shut 'shutdown #2: ENOTCONN'
is "$rc" 0 "shut: exit 0"
grepok '^mrsh: rsh_handshake_input:[0-9]+: 127\.0\.1\.2: shutdown: Transport endpoint is not connected$' \
    "$T/shut.err" "shut: -vv says the half-close failed"
others shut none

# The kernel's socket table (sock_diag) unreadable: the pool finds ports in
# use by trying, -v says so once; --stats has no TIME_WAIT count.
nokernel="mrsh: cannot read the kernel's sockets"
rsh diag_sock 'socket=EPERM@1' -v
all_ok diag_sock 'socket #1: EPERM' \
    "$nokernel (Operation not permitted); ports in use are found by trying"
rsh diag_sock6 'socket=EACCES@2' -v
all_ok diag_sock6 'socket #2: EACCES' \
    "$nokernel (Permission denied); ports in use are found by trying"
rsh diag_nov6 'socket=EAFNOSUPPORT@2' -v
all_ok diag_nov6 'socket #2: EAFNOSUPPORT'
rsh diag_send 'sendto=EPERM@1' -v
all_ok diag_send 'sendto #1: EPERM' \
    "$nokernel (Operation not permitted); ports in use are found by trying"
rsh diag_recv 'recv=ENOBUFS@1' -v
all_ok diag_recv 'recv #1: ENOBUFS' \
    "$nokernel (No buffer space available); ports in use are found by trying"
rsh diag_intr 'recv=EINTR@1' -v
all_ok diag_intr 'recv #1: EINTR'
rsh diag_stats 'socket=EPERM@3' --stats
hit diag_stats 'socket #3: EPERM'
is "$rc" 0 "diag_stats: exit 0"
is "$(grep 'time-wait' "$T/diag_stats.err")" 'mrsh: stats: time-wait unknown' \
    "diag_stats: --stats cannot count TIME_WAIT, says so"
others diag_stats none

# --- rsh without the pool (--ports ephemeral): the listener binds port 0
# and asks which port it got. The scripted rshd takes any source port.
# A port each: rshd_wait_listen waits for a port, on any address.
for i in 1 2 3; do
	rshd_fake 127.0.4.$i 72$i marker $'0\n' ||
	    bail_out "the scripted rshd did not start"
done
HOSTS=(127.0.4.1:721 127.0.4.2:722 127.0.4.3:723)
ERRS=0
eph() {
	local label=$1 rules=$2

	shift 2
	fc "$label" "$rules" -R rsh --ports ephemeral "$@" \
	    -w "$(IFS=,; echo "${HOSTS[*]}")" -- true
}
eph eph_bind 'bind=EADDRNOTAVAIL@2'
one_fails eph_bind 'bind #2: EADDRNOTAVAIL' 127.0.4.2:722 \
    'CONNECTING: bind stderr listener: Cannot assign requested address'
eph eph_name 'getsockname=ENOBUFS@2'
one_fails eph_name 'getsockname #2: ENOBUFS' 127.0.4.2:722 \
    'CONNECTING: getsockname: No buffer space available'
HOSTS=(127.0.1.1 127.0.1.2 127.0.1.3)
ERRS=1

# --- exec: two pipes per host (the first pipe2 is libevent's).
exec_ pipe_err 'pipe2=EMFILE@5'
one_fails pipe_err 'pipe2 #5: EMFILE' 127.0.1.2 \
    'SETUP: cannot create pipes: Too many open files'
exec_ pipe_out 'pipe2=ENFILE@4'
one_fails pipe_out 'pipe2 #4: ENFILE' 127.0.1.2 \
    'SETUP: cannot create pipes: Too many open files in system'
exec_ reap 'waitpid=EINTR@1'
all_ok reap 'waitpid #1: EINTR'

# --- ssh: the private sshd, reached through "ProxyCommand nc" (per host a
# socketpair, a pipe for its stderr, a fork) or directly.
need_cmd nc ssh-agent ssh-add
start_sshd 3
{
	printf 'Host 127.0.1.*\n\tProxyCommand nc %%h %%p\n'
	cat "$SSH_CONFIG"
} >"$T/nc.cfg"
ssh_() {
	local label=$1 rules=$2 cfg=$3

	shift 3
	fc "$label" "$rules" -F "$cfg" "$@" -w '127.0.1.[1-3]' -- \
	    'echo out; echo err >&2'
}
ssh_ pc_pair 'socketpair=EMFILE@2' "$T/nc.cfg"
one_fails pc_pair 'socketpair #2: EMFILE' 127.0.1.2 \
    'CONNECTING: ProxyCommand: cannot start: Too many open files'
ssh_ pc_pipe 'pipe2=EMFILE@3' "$T/nc.cfg"
one_fails pc_pipe 'pipe2 #3: EMFILE' 127.0.1.2 \
    'CONNECTING: ProxyCommand: cannot start: Too many open files'
ssh_ pc_fork 'fork=EAGAIN@2' "$T/nc.cfg"
one_fails pc_fork 'fork #2: EAGAIN' 127.0.1.2 \
    'CONNECTING: ProxyCommand: cannot start: Resource temporarily unavailable'

# A Match exec per host (fork, then waitpid): one that cannot run, or
# whose end cannot be waited for, refuses its host and says which call
# failed (it said "did not exit normally", after a line without the host).
{
	printf 'Match exec "true"\n\tServerAliveInterval 30\n'
	cat "$SSH_CONFIG"
} >"$T/mexec.cfg"
ssh_ mexec_fork 'fork=EAGAIN@2' "$T/mexec.cfg"
one_fails mexec_fork 'fork #2: EAGAIN' 127.0.1.2 \
    "SETUP: $T/mexec.cfg:1: Match exec: fork: Resource temporarily unavailable; not connecting"
ssh_ mexec_wait 'waitpid=ECHILD@2' "$T/mexec.cfg"
one_fails mexec_wait 'waitpid #2: ECHILD' 127.0.1.2 \
    "SETUP: $T/mexec.cfg:1: Match exec: waitpid: No child processes; not connecting"
ssh_ mexec_intr 'waitpid=EINTR@2' "$T/mexec.cfg"
all_ok mexec_intr 'waitpid #2: EINTR'

# KnownHostsCommand, twice per host (pipe2, fork, poll until its EOF).
printf '#!/bin/sh\ncat %s\n' "$KNOWN_HOSTS" >"$T/khc.sh"
chmod +x "$T/khc.sh"
{
	printf 'Host *\n\tKnownHostsCommand %s\n' "$T/khc.sh"
	printf '\tUserKnownHostsFile /dev/null\n'
	cat "$SSH_CONFIG"
} >"$T/khc.cfg"
ssh_ khc_fork 'fork=EAGAIN@3' "$T/khc.cfg"
one_fails khc_fork 'fork #3: EAGAIN' 127.0.1.2 \
    "SETUP: KnownHostsCommand $T/khc.sh: Resource temporarily unavailable"
ssh_ khc_poll 'poll=EINTR@5' "$T/khc.cfg"
all_ok khc_poll 'poll #5: EINTR'
# poll failing is mrsh's error, not the command's exit status (it said
# "failed, status 141", the command killed by SIGPIPE).
ssh_ khc_pollerr 'poll=ENOMEM@5' "$T/khc.cfg"
one_fails khc_pollerr 'poll #5: ENOMEM' 127.0.1.2 \
    "SETUP: KnownHostsCommand $T/khc.sh: Cannot allocate memory"

# The private key there but unreadable (EACCES from open: as root no file
# mode can do it), its .pub readable, no agent: every host is refused
# (one key file for all), and the warning says why, not "not there".
unset SSH_AUTH_SOCK
ssh_ key_unread 'open=EACCES@2' "$SSH_CONFIG"
hit key_unread 'open #2: EACCES'
is "$rc" 255 "key_unread: exit 255"
nokey="permission denied (publickey) as $SSHD_USER: no usable key (1 could not be read, decrypted or found in the agent)"
is "$(grep '^mrsh: ' "$T/key_unread.err")" \
    "mrsh: key $USER_KEY: cannot read the private key (Permission denied) and no agent holds it
mrsh: 127.0.1.1: SETUP: $nokey
mrsh: 127.0.1.2: SETUP: $nokey
mrsh: 127.0.1.3: SETUP: $nokey
mrsh: 3 of 3 hosts failed: $nokey: 127.0.1.[1-3]" \
    "key_unread: the key cannot be read, says why; each host refused"
is "$(cat "$T/key_unread.out")" "" "key_unread: no output"

# The key in an agent only (IdentityFile names its .pub): per host the
# connection's socket and connect, getpeername, then an agent connection
# for the key list and one for the signature (socket and connect each).
eval "$(ssh-agent -s -a "$T/agent.sock")" >/dev/null ||
    bail_out "ssh-agent did not start"
at_exit "kill $SSH_AGENT_PID"
ssh-add -q "$USER_KEY" </dev/null || bail_out "ssh-add failed"
cp "$USER_KEY.pub" "$T/agentonly.pub"
{
	printf 'Host *\n\tIdentityFile %s\n' "$T/agentonly.pub"
	grep -v "IdentityFile $USER_KEY\$" "$SSH_CONFIG"
} >"$T/agent.cfg"
ssh_ agent_list 'connect=EAGAIN@5' "$T/agent.cfg"
all_ok agent_list 'connect #5: EAGAIN'
ssh_ agent_sign 'connect=EINTR@6' "$T/agent.cfg"
all_ok agent_sign 'connect #6: EINTR'
ssh_ peer 'getpeername=ENOTCONN@2' "$T/agent.cfg"
all_ok peer 'getpeername #2: ENOTCONN'
ssh_ agent_nolist 'socket=EMFILE@7' "$T/agent.cfg"
hit agent_nolist 'socket #7: EMFILE'
is "$rc" 255 "agent_nolist: exit 255"
is "$(grep '^mrsh: ' "$T/agent_nolist.err" | grep -v '^mrsh: 1 of 3 hosts')" \
    "mrsh: key $T/agentonly.pub: the private key is not there and no agent holds it
mrsh: 127.0.1.2: SETUP: permission denied (publickey) as $SSHD_USER: no usable key (1 could not be read, decrypted or found in the agent)" \
    "agent_nolist: done without the agent: no key for 127.0.1.2"
others agent_nolist 127.0.1.2
ssh_ agent_nosign 'socket=EMFILE@8' "$T/agent.cfg"
hit agent_nosign 'socket #8: EMFILE'
is "$rc" 255 "agent_nosign: exit 255"
grepok "^mrsh: 127\\.0\\.1\\.2: SETUP: permission denied \\(publickey\\) as $SSHD_USER: tried agent key ED25519 SHA256:[^ ]+ \\(mrsh-test-ed25519\\) \\(not signed: ssh-agent $T/agent\\.sock: socket: Too many open files\\); all refused\$" \
    "$T/agent_nosign.err" "agent_nosign: the key was not signed, says why"
is "$(grep -c '^mrsh: ' "$T/agent_nosign.err")" 2 \
    "agent_nosign: that line and the summary"
others agent_nosign 127.0.1.2

done_testing
