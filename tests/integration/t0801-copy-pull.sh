#!/bin/bash
# t0801: --rcopy from 50 hosts of a real sshd into LOCALDIR/NAME.HOST (as
# clush --rcopy and rpdcp), into a directory per host with %h (as pslurp),
# a tree with -r; --json gives each host's bytes; a missing remote file
# fails that host with the path and the reason; and a push to 50 hosts
# reports its bytes per host in --json, with identical checksums
# everywhere.
. "$top_srcdir/tests/integration/lib.sh"
set -u

start_sshd_test 50
M=("$MRSH" -F "$SSH_CONFIG")
CAPTURE_TIMEOUT=300
S=$T/src
mkdir -p "$S"
head -c 1000000 /dev/urandom >"$S/data.bin"
chmod 0604 "$S/data.bin"
want=$(sha256sum <"$S/data.bin" | cut -d' ' -f1)

# 50 hosts into NAME.HOST
mkdir -p "$T/pull"
capture "$T" "${M[@]}" -f "$HOSTS_FILE" --rcopy "$S/data.bin" --dest "$T/pull"
is "$RC" 0 "pull 1 MB from 50 hosts: exit 0"
is "$(cat "$T/err")" "" "nothing on stderr"
is "$(find "$T/pull" -type f | wc -l)" 50 "50 files"
bad=0
while IFS= read -r h; do
	[ "$(sha256sum <"$T/pull/data.bin.$h" 2>/dev/null | cut -d' ' -f1)" = "$want" ] ||
		{ bad=$((bad + 1)); diag "$h: wrong or missing"; }
done <"$HOSTS_FILE"
is "$bad" 0 "every host's copy is NAME.HOST with the source's sha256"
is "$(stat -c %a "$T/pull/data.bin.127.0.1.7")" 604 "the remote file's mode"
is "$(find "$T/pull" -name '.*' | wc -l)" 0 "no temporary file left"

# %h: a directory per host (made by mrsh), NAME inside
capture "$T" "${M[@]}" -w '127.0.1.[1-5]' --rcopy "$S/data.bin" --dest "$T/per/%h"
is "$RC" 255 "%h under a missing parent: exit 255"
like "$(cat "$T/err")" "^mrsh: 127\.0\.1\.1: RUNNING: $T/per/127\.0\.1\.1: No such file or directory$" \
	"a local failure names the host and the directory"
mkdir -p "$T/per"
capture "$T" "${M[@]}" -w '127.0.1.[1-5]' --rcopy "$S/data.bin" --dest "$T/per/%h"
is "$RC" 0 "pull into a %h directory per host: exit 0"
bad=0
for h in $(sshd_hosts 5); do
	cmp -s "$S/data.bin" "$T/per/$h/data.bin" || bad=$((bad + 1))
done
is "$bad" 0 "each host's file is DEST/HOST/NAME"

# a tree with -r
mkdir -p "$S/tree/sub/empty"
printf 'a\n' >"$S/tree/a"
printf 'b\n' >"$S/tree/sub/b c"
ln -s a "$S/tree/link"
capture "$T" "${M[@]}" -w '127.0.1.[1-3]' -r --rcopy "$S/tree" --dest "$T/pull"
is "$RC" 0 "-r pull of a tree: exit 0"
bad=0
for h in $(sshd_hosts 3); do
	[ "$(tree_list "$T/pull/tree.$h")" = "$(tree_list "$S/tree")" ] || { bad=$((bad + 1)); diag "$h: $(diff <(tree_list "$S/tree") <(tree_list "$T/pull/tree.$h"))"; }
done
is "$bad" 0 "each host's tree is TREE.HOST with the same names, modes and links"
capture "$T" "${M[@]}" -w 127.0.1.1 --rcopy "$S/tree" --dest "$T/pull"
is "$RC" 255 "a remote directory without -r: exit 255"
like "$(cat "$T/err")" "RUNNING: $S/tree: is a directory \(use -r\)$" "says use -r"

# a missing remote file fails that host with the path and the reason
capture "$T" "${M[@]}" -w '127.0.1.[1-2]' --rcopy "$S/missing" --dest "$T/pull"
is "$RC" 255 "a missing remote file: exit 255"
like "$(cat "$T/err")" "^mrsh: 127\.0\.1\.1: RUNNING: $S/missing: stat: no such file or directory$" \
	"the host, the path and the reason"

# a local destination that is not there
capture "$T" "${M[@]}" -w 127.0.1.1 --rcopy "$S/data.bin" --dest "$T/nonexistent"
is "$RC" 2 "a missing local destination: exit 2"
is "$(cat "$T/err")" "mrsh: --dest $T/nonexistent: No such file or directory" "says so"

# --json: bytes per host, for a pull and for a push to 50 hosts
capture "$T" "${M[@]}" --json -w '127.0.1.[1-3]' --rcopy "$S/data.bin" --dest "$T/per/%h"
is "$RC" 0 "--json pull: exit 0"
is "$(grep -c '"status":"ok","exit_code":0,"signal":null,"bytes":1000000,' "$T/out")" 3 \
	"--json: 3 hosts, each ok with 1000000 bytes"
mkdir -p "$T/push"
while IFS= read -r h; do mkdir -p "$T/push/$h"; done <"$HOSTS_FILE"
capture "$T" "${M[@]}" --json -f "$HOSTS_FILE" --copy "$S/data.bin" --dest "$T/push/%h"
is "$RC" 0 "--json push to 50 hosts: exit 0"
is "$(grep -c '"bytes":1000000,' "$T/out")" 50 "--json: 50 hosts with 1000000 bytes"
is "$(sha256sum "$T"/push/*/data.bin | cut -d' ' -f1 | sort | uniq -c | awk '{print $1, $2}')" \
	"50 $want" "50 identical checksums, the source's"
capture "$T" "${M[@]}" --json -w '127.0.1.[1-2]' --copy "$S/data.bin" --dest "$T/nonexistent/%h/x"
like "$(head -n 1 "$T/out")" '"status":"failed",.*"bytes":0,"via":"sftp","stage":"running","reason":".*/x: open: no such file or directory"' \
	"--json: a failed copy has its stage and reason"

done_testing
