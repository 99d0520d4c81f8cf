#!/bin/bash
# t0207: contrib/testbed/testbed does what the README's first command needs:
# `testbed start -n 20` in a directory, then from testbed-run
# `mrsh -F ssh_config -f hosts.txt uptime` reaches 20 hosts; status tells;
# a second start refuses; stop kills the sshd and removes the directory.
. "$top_srcdir/tests/integration/lib.sh"
set -u

[ -x /usr/sbin/sshd ] || skip_all "OpenSSH sshd not installed"
need_cmd ssh-keygen
[ -x "$MRSH" ] || bail_out "no mrsh binary at $MRSH"
T=$(make_tmpdir)
TB=$top_srcdir/contrib/testbed/testbed
cd "$T" || bail_out "cannot cd to $T"
at_exit "'$TB' stop -d '$T/testbed-run'"

"$TB" start -n 20 >"$T/start.out" 2>&1
is "$?" 0 "testbed start -n 20: exit 0"
like "$(cat "$T/start.out")" '-F testbed-run/ssh_config -f testbed-run/hosts.txt' \
	"it prints how to run mrsh on it"
is "$(wc -l <testbed-run/hosts.txt)" 20 "hosts.txt has 20 hosts"
pid=$(cat testbed-run/sshd.pid 2>/dev/null)
kill -0 "${pid:-0}" 2>/dev/null
ok $? "sshd runs (pid ${pid:-none})"

(cd testbed-run && timeout 120 "$MRSH" -F ssh_config -f hosts.txt uptime) \
	>"$T/out" 2>"$T/err" </dev/null
is "$?" 0 "mrsh -F ssh_config -f hosts.txt uptime: exit 0"
is "$(grep -c '^127\.0\.1\.[0-9]*: .*load average' "$T/out")" 20 "20 uptime lines"
is "$(cut -d: -f1 "$T/out" | sort -u | wc -l)" 20 "from 20 different hosts"

"$TB" status >"$T/status.out" 2>&1
is "$?" 0 "testbed status: running"
! "$TB" start -n 5 >"$T/again.out" 2>&1
ok $? "a second start in the same dir is refused"
like "$(cat "$T/again.out")" 'already running' "and says why"

"$TB" stop >"$T/stop.out" 2>&1
is "$?" 0 "testbed stop: exit 0"
wait_for 10 "! kill -0 ${pid:-0}"
ok $? "sshd is gone"
[ ! -e testbed-run ]
ok $? "testbed-run removed"
! "$TB" status >/dev/null 2>&1
ok $? "testbed status: not running"

done_testing
