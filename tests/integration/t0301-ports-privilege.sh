#!/bin/bash
# --ports reserved (and any range below 1024) without the privilege to bind
# it: one clear error before any host is contacted, exit status 2. With
# CAP_NET_BIND_SERVICE (as root, or as an ordinary user holding only that
# capability) the run goes ahead. Each mrsh runs in a fresh network
# namespace (unshare -n: only lo, down), so nothing is ever contacted; the
# privilege is changed with setpriv(1).

. "$top_srcdir/tests/integration/lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null 2>&1 ||
    ! unshare -n true 2>/dev/null; then
	skip_all "needs root, setpriv and unshare -n to change privileges"
fi
T=$(make_tmpdir)
chmod 755 "$T"
plan 16

NOBODY="--reuid=65534 --regid=65534 --clear-groups --inh-caps=-all"
NOCAP="--bounding-set=-net_bind_service"
ONLYCAP="--reuid=65534 --regid=65534 --clear-groups
    --inh-caps=+net_bind_service --ambient-caps=+net_bind_service"

# run SETPRIV_ARGS MRSH_ARGS...: mrsh in a new netns with that privilege;
# output in $T/out, $T/err, status in $rc.
run()
{
	local priv=$1

	shift
	# shellcheck disable=SC2086
	unshare -n setpriv $priv "$MRSH" "$@" >"$T/out" 2>"$T/err"
	rc=$?
}

MSG='^mrsh: --ports 512-1023: ports below 1024 need root or CAP_NET_BIND_SERVICE'

# 1-4: nobody, --ports reserved, rsh.
run "$NOBODY" -R rsh --ports reserved -w 'h[1-50]' -- true
is "$rc" 2 "nobody, --ports reserved: exit 2"
is "$(grep -c "$MSG" "$T/err")" 1 "one clear error naming the range and need"
is "$(wc -l <"$T/err")" 1 "nothing else: no host was tried"
is "$(wc -c <"$T/out")" 0 "no output"

# 5-6: the same with the default transport (ssh).
run "$NOBODY" --ports reserved -w 'h[1-50]' -- true
is "$rc" 2 "nobody, --ports reserved, ssh: exit 2"
is "$(grep -c "$MSG" "$T/err")" 1 "ssh: the same clear error"

# 7-8: an explicit range that dips below 1024.
run "$NOBODY" -R rsh --ports 1000-1100 -w h1 -- true
is "$rc" 2 "nobody, --ports 1000-1100: exit 2"
is "$(grep -c 'ports below 1024 need root or CAP_NET_BIND_SERVICE' \
    "$T/err")" 1 "the error says what is needed"

# 9-10: root without CAP_NET_BIND_SERVICE (dropped from the bounding set):
# the capability decides, not the uid.
run "$NOCAP" -R rsh --ports reserved -w h1 -- true
is "$rc" 2 "root without CAP_NET_BIND_SERVICE: exit 2"
is "$(grep -c "$MSG" "$T/err")" 1 "root without the capability: same error"

# 11-13: an ordinary user holding CAP_NET_BIND_SERVICE (ambient) may: the
# run goes ahead and fails only at the network (nothing to reach here).
run "$ONLYCAP" -R rsh --ports reserved -t 5 -w 127.0.0.1 -- true
is "$rc" 255 "nobody with CAP_NET_BIND_SERVICE: the run goes ahead"
is "$(grep -c 'need root' "$T/err")" 0 "no privilege error"
is "$(grep -c '^mrsh: 127\.0\.0\.1: CONNECTING: ' "$T/err")" 1 \
    "the host was tried"

# 14: root (full privilege): goes ahead as well.
run "" -R rsh --ports reserved -t 5 -w 127.0.0.1 -- true
is "$(grep -c 'need root' "$T/err")" 0 "root: no privilege error"

# 15-16: nobody, a range above 1023: no privilege needed.
run "$NOBODY" -R rsh --ports 40000-40015 -t 5 -w 127.0.0.1 -- true
is "$(grep -c 'need root' "$T/err")" 0 "nobody, --ports 40000-40015: allowed"
is "$rc" 255 "and the run goes ahead (fails at the network)"
done_testing
