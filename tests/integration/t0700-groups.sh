#!/bin/bash
# Node groups: @group, -g, -X, -a from a private ClusterShell groups.conf
# (upcall source, confdir *.conf, autodir *.yaml) and a private genders
# database; every group is checked against the real nodeset and nodeattr on
# the same files. Never reads the machine's /etc/clustershell or /etc/genders.
. "$top_srcdir/tests/integration/lib.sh"

need_cmd nodeset nodeattr
T=$(make_tmpdir)
mkdir -p "$T/cs/groups.d" "$T/cs/groups.conf.d"
cat >"$T/cs/groups.conf" <<'EOF'
[Main]
default: local
confdir: $CFGDIR/groups.conf.d
autodir: $CFGDIR/groups.d

# a comment
[local]
map: sed -n 's/^$GROUP:\(.*\)/\1/p' $CFGDIR/groups.d/local.cfg
all: sed -n 's/^all:\(.*\)/\1/p' $CFGDIR/groups.d/local.cfg
list: sed -n 's/^\([0-9A-Za-z_-]*\):.*/\1/p' $CFGDIR/groups.d/local.cfg
EOF
cat >"$T/cs/groups.d/local.cfg" <<'EOF'
web: web[1-3] web5
db: db[01-02],web2
mix: @web,@db!web2
inter: @web&web[2-9]
xor: @web^web[5-6]
front: @roles:front
racks: @rack[1-2]
rack1: r1n[1-2]
rack2: r2n1
both: gn1
all: @web,@db
EOF
cat >"$T/cs/groups.d/cluster.yaml" <<'EOF'
# YAML sources
roles:
    front: 'lb[1-2]'
    back:
      - 'app[1-3]'
      - 'app7'
    both: '@front,@back&app[2-9]'
EOF
cat >"$T/cs/groups.conf.d/extra.conf" <<'EOF'
[extra]
map: echo "e[1-2]"; echo e9
list: echo one
[broken]
map: echo partial; exit 3
[slow]
map: sleep 30; echo late
EOF
cat >"$T/genders" <<'EOF'
# genders
gn[1-2] compute
gn1 rack=a
gn2 rack=b
gn3 login,pdsh_all_skip,both
EOF
export MRSH_GROUPS_CONF="$T/cs/groups.conf" MRSH_GENDERS="$T/genders"

# sorted one-per-line lists from mrsh, nodeset and nodeattr
mrsh_list() { "$MRSH" --list-hosts "$@" 2>&1 | sort; }
nodeset_list() {
	nodeset --groupsconf="$T/cs/groups.conf" -e "$@" 2>&1 | tr ' ' '\n' | sort
}
nodeattr_list() { nodeattr -f "$T/genders" -c "$1" 2>&1 | tr ',' '\n' | sort; }

for g in web db mix inter xor front racks roles:front roles:back roles:both \
    extra:x; do
	want=$(nodeset_list "@$g")
	[ -n "$want" ] || diag "nodeset gave nothing for @$g"
	is "$(mrsh_list -g "$g")" "$want" "-g $g as nodeset -e @$g"
	is "$(mrsh_list -w "@$g")" "$want" "-w @$g as nodeset -e @$g"
done
is "$(mrsh_list -a)" "$(nodeset_list -a)" "-a: the default source's all, as nodeset -a"
is "$(mrsh_list -w @roles:\*)" "$(nodeset_list @roles:\*)" "@roles:* (a YAML source's every group)"

# genders: names ClusterShell does not know, attr=val, queries
for q in compute login rack=a 'compute&&rack=b' 'compute||login' '~compute'; do
	want=$(nodeattr_list "$q")
	[ -n "$want" ] || diag "nodeattr gave nothing for $q"
	is "$(mrsh_list -g "$q")" "$want" "-g '$q' as nodeattr -c '$q'"
done
# ClusterShell comes first: "both" is a local group and a genders attribute
is "$(mrsh_list -g both)" "gn1" "a ClusterShell group hides a genders attribute of the same name"
is "$(MRSH_GROUPS_CONF= mrsh_list -g both)" "$(nodeattr_list both)" \
	"with ClusterShell groups off, genders answers"
is "$(MRSH_GROUPS_CONF= mrsh_list -a)" "$(nodeattr_list '~pdsh_all_skip')" \
	"-a from genders leaves out pdsh_all_skip nodes, as pdsh -a"

# combinations: -g twice, -X, -x @group, @group in a host file, order kept
printf '@db\n# comment\nhost9\n' >"$T/hosts"
out=$("$MRSH" --list-hosts -g web,front -X db -x @roles:front -f "$T/hosts" 2>&1)
is "$(echo $out)" "web1 web3 web5 host9" \
	"-g a,b -X g -x @g -f file-with-@group (exclusions apply to the whole list)"
out=$("$MRSH" --list-hosts -w 'u@web1,@db' -x web1 2>&1)
is "$(echo $out)" "db01 db02 web2" "-x host also removes user@host"

# -w - reads standard input, groups included
out=$(printf '@db\nhost7\n' | "$MRSH" --list-hosts -w - -x db02 2>&1)
is "$(echo $out)" "db01 web2 host7" "-w - reads hosts (and groups) from standard input"
printf 'web[1-2]\n@roles:front\n' >"$T/wcoll"
out=$(WCOLL="$T/wcoll" "$MRSH" --list-hosts -x web2 2>&1)
is "$(echo $out)" "web1 lb1 lb2" "WCOLL when no hosts are given"
printf 'fanout = 8\nbogus = 1\n' >"$T/bad.conf"
out=$(MRSH_CONF="$T/bad.conf" "$MRSH" --list-hosts -w h 2>&1); rc=$?
is "$rc/$out" "2/mrsh: $T/bad.conf:2: unknown key \"bogus\"" "mrsh.conf: FILE:LINE on a bad key"
printf 'connect-timeout = soon\n' >"$T/bad.conf"
out=$(MRSH_CONF="$T/bad.conf" "$MRSH" --list-hosts -w h 2>&1); rc=$?
is "$rc/$out" "2/mrsh: $T/bad.conf:1: -t: bad number of seconds \"soon\"" "mrsh.conf: FILE:LINE on a bad value"

# the groups run a command
out=$("$MRSH" -R exec -g web -N -- echo %h 2>&1 | sort)
is "$(echo $out)" "web1 web2 web3 web5" "-R exec -g web runs on the group's hosts"

# errors: one line, exit 2
out=$("$MRSH" --list-hosts -w @nosuch 2>&1); rc=$?
is "$rc/$out" '2/mrsh: unknown node group "@nosuch"' "unknown group: usage error"
out=$("$MRSH" --list-hosts -w @nosrc:g 2>&1); rc=$?
is "$rc/$out" '2/mrsh: group source "nosrc" not found (in "@nosrc:g")' \
	"unknown group source"
out=$("$MRSH" --list-hosts -w @broken:g 2>&1); rc=$?
is "$rc/$out" "2/mrsh: group source broken: map upcall failed (exit status 3): echo partial; exit 3" \
	"a failing upcall is an error, not a partial list"
SECONDS=0
out=$("$MRSH" --group-timeout 0.5 --list-hosts -w @slow:g 2>&1); rc=$?
is "$rc/$out" "2/mrsh: group source slow: map upcall timed out after 0.5 s: sleep 30; echo late" \
	"an upcall that does not finish is stopped at --group-timeout"
ok "$([ "$SECONDS" -lt 20 ]; echo $?)" "... and killed, not waited for"
printf 'group_timeout = 0.5\n' >"$T/mrsh.conf"
out=$(MRSH_CONF="$T/mrsh.conf" "$MRSH" --list-hosts -w @slow:g 2>&1); rc=$?
is "$rc/$out" "2/mrsh: group source slow: map upcall timed out after 0.5 s: sleep 30; echo late" \
	"group_timeout from mrsh.conf"
out=$(MRSH_GROUPS_CONF= MRSH_GENDERS= "$MRSH" --list-hosts -w @web 2>&1); rc=$?
is "$rc/$out" '2/mrsh: unknown node group "@web" (no ClusterShell groups.conf or genders database found)' \
	"no sources at all: says so"
out=$(MRSH_GROUPS_CONF="$T/nonexistent" "$MRSH" --list-hosts -w @web 2>&1); rc=$?
is "$rc/$out" "2/mrsh: node groups: cannot open $T/nonexistent: No such file or directory" \
	"--groups-conf naming a missing file"
printf '[Main]\ndefault: local\n[local]\nall: true\n' >"$T/nomap.conf"
out=$("$MRSH" --groups-conf "$T/nomap.conf" --list-hosts -w @web 2>&1); rc=$?
is "$rc/$out" "2/mrsh: node groups: groups.conf: group source [local] has no map upcall" \
	"a source without map"
printf 'gn1 a\ngn1 b=\n' >"$T/badgenders"
out=$("$MRSH" --genders "$T/badgenders" --groups-conf '' --list-hosts -g a 2>&1); rc=$?
like "$rc/$out" "^2/mrsh: genders database $T/badgenders: " "a broken genders file"
printf 'roles: [a, b]\n' >"$T/cs/groups.d/bad.yaml"
out=$("$MRSH" --list-hosts -w @web 2>&1); rc=$?
is "$rc/$out" "2/mrsh: node groups: $T/cs/groups.d/bad.yaml: invalid content (expected source: {group: nodeset})" \
	"a YAML file of the wrong shape"
rm "$T/cs/groups.d/bad.yaml"

# --list-groups: what completion offers
is "$("$MRSH" --list-groups | sort -u | tr '\n' ' ')" \
	"all both compute db extra:one front inter login mix pdsh_all_skip rack rack1 rack2 racks roles:back roles:both roles:front web xor " \
	"--list-groups: every source's groups and the genders attributes"

done_testing
