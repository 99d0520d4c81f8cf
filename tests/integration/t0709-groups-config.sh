#!/bin/bash
# Node groups from malformed or unusual ClusterShell configurations:
# groups.conf syntax (ConfigParser's rules: strict duplicates, DEFAULT,
# continuation lines), $-substitution, YAML files of every wrong shape,
# upcalls that misbehave, static sources, group expressions that cannot be
# evaluated, and the genders query language. Where ClusterShell's nodeset
# answers, mrsh must give the same hosts, or refuse where nodeset refuses;
# every refusal is one line and exit status 2. Never reads the machine's
# /etc/clustershell or /etc/genders.
. "$top_srcdir/tests/integration/lib.sh"

need_cmd nodeset nodeattr
T=$(make_tmpdir)
export MRSH_GENDERS= MRSH_GROUPS_CONF=

# conf TEXT: write $T/c/groups.conf (printf format)
mkdir -p "$T/c"
conf() { printf "$@" >"$T/c/groups.conf"; }
# ml ARGS: mrsh's hosts (one line) or its error, with its exit status
ml() {
	local out rc
	out=$("$MRSH" --groups-conf "$T/c/groups.conf" --list-hosts "$@" 2>&1)
	rc=$?
	echo "$rc/$(echo $out)"
}
# ns EXPR: nodeset's hosts for EXPR on the same file (one sorted line), or
# "ERR"
ns() {
	local out
	out=$(cd / && nodeset --groupsconf="$T/c/groups.conf" -e "$@" 2>/dev/null) ||
		{ echo ERR; return; }
	echo $(printf '%s\n' $out | LC_ALL=C sort)
}
# same EXPR DESC: mrsh -w EXPR lists what nodeset -e EXPR does (as sets)
same() {
	local want out rc
	want=$(ns "$1")
	out=$("$MRSH" --groups-conf "$T/c/groups.conf" --list-hosts -w "$1" 2>&1)
	rc=$?
	is "$rc/$(echo $(printf '%s\n' $out | LC_ALL=C sort))" "0/$want" \
		"$2 (nodeset: $want)"
}
# both_refuse EXPR WANT DESC: nodeset fails, and mrsh says WANT, exit 2
both_refuse() {
	is "$(ns "$1")" ERR "$3: nodeset refuses"
	is "$(ml -w "$1")" "2/$2" "$3: mrsh refuses"
}
G=$T/c/groups.conf

## groups.conf syntax, against ConfigParser
conf '[local]\nmap: echo a1   \t\n'
same @g "trailing blanks end a value"
conf '[local]\nmap: echo a1;\n  echo b1\n\t# comment\nall: echo x\n'
same @g "an indented line continues a value (a two-line upcall)"
conf '[DEFAULT]\nmap: echo d1\n[local]\nall: echo x\n'
same @g "[DEFAULT] gives every section its keys, and is no source"
conf '[local]\nmap = echo a2\n'
same @g "key = value"
conf '[loc]al]\nmap: echo a3\n'
same @g "a section name runs to the last ]"
conf '[local]\nmap: echo a1\nMAP: echo a2\n'
both_refuse @g "mrsh: node groups: $G:3: key \"map\" given twice in [local]" \
	"a key twice in one section (keys ignore case)"
conf '[local]\nmap: echo a\n[other]\nmap: echo b\n[local]\nall: echo c\n'
both_refuse @g "mrsh: node groups: $G:5: section [local] given twice" \
	"a section twice in one file"
conf '[]\nmap: echo a\n'
both_refuse @g "mrsh: node groups: $G:1: bad section header" "[] is no section"
conf '[local\nmap: echo a\n'
both_refuse @g "mrsh: node groups: $G:1: bad section header" "a section header without ]"
conf 'map: echo a\n'
both_refuse @g "mrsh: node groups: $G:1: expected \"key: value\" inside a [section]" \
	"a key before any section"
conf '[local]\nmap echo a\n'
both_refuse @g "mrsh: node groups: $G:2: expected \"key: value\" inside a [section]" \
	"a line that is neither"

## sources: defined twice, default
mkdir -p "$T/c/d1" "$T/c/d 2" "$T/c/y"
printf '[local]\nmap: echo fromdir\n' >"$T/c/d1/a.conf"
conf '[Main]\nconfdir: $CFGDIR/d1\n[local]\nmap: echo a\n'
both_refuse @g "mrsh: node groups: groups.conf: group source \"local\" defined twice" \
	"a source in groups.conf and in a confdir file"
printf 'local:\n  g: y1\n' >"$T/c/y/a.yaml"
conf '[Main]\nautodir: $CFGDIR/y\n[local]\nmap: echo a\n'
both_refuse @g "mrsh: node groups: groups.conf: group source \"local\" defined twice" \
	"a source in groups.conf and in a YAML file"
rm "$T/c/y/a.yaml"
printf '[two]\nmap: echo two\n' >"$T/c/d 2/b.conf"
conf '[Main]\nconfdir: "$CFGDIR/d 2" $CFGDIR/d1 $CFGDIR/d1\n[x]\nmap: echo x\n'
same @two:g "confdir: a quoted directory with a space, and one given twice (read once)"
same @local:g "... the other directory's source"
conf '[Main]\ndefault: nosuch\n[local]\nmap: echo a\n'
both_refuse @g 'mrsh: node groups: default group source "nosuch" not found' \
	"default naming no source"
conf '[b]\nmap: echo b\n[a]\nmap: echo a\n'
same @g "no default: the first source"
(cd "$T/c" && "$MRSH" --groups-conf groups.conf --list-hosts -w @g >"$T/out" 2>&1)
is "$(cat "$T/out")" "b" "--groups-conf without a directory part: upcalls run beside it"

## $-substitution in upcalls (string.Template's safe_substitute)
conf '[local]\nmap: F=z; echo a$$F $FOO $GROUP $SOURCE\n'
export FOO=w
same @g '$$ is a $, an unknown $NAME is left for the shell'
unset FOO

## upcalls that misbehave
conf '[local]\nmap: head -c 20000000 /dev/zero\n'
is "$(ml -w @g)" "2/mrsh: group source local: map upcall wrote more than 16777216 bytes: head -c 20000000 /dev/zero" \
	"an upcall writing more than 16 MiB"
conf '[local]\nmap: kill -9 $$$$\n'
both_refuse @g 'mrsh: group source local: map upcall failed (signal 9): kill -9 $$' \
	"an upcall killed by a signal"
conf '[local]\nmap: printf "a\\\\0b"\n'
is "$(ml -w @g)" '2/mrsh: group source local: map upcall wrote a NUL byte: printf "a\\0b"' \
	"an upcall writing a NUL byte is refused (nodeset reads two hosts)"
conf '[local]\nmap: echo a\nlist: exit 4\nall: exit 5\n'
is "$(ml -a)" "2/mrsh: group source local: all upcall failed (exit status 5): exit 5" \
	"-a with a failing all upcall"
is "$("$MRSH" --groups-conf "$G" --list-groups 2>&1; echo "rc=$?")" \
	"mrsh: group source local: list upcall failed (exit status 4): exit 4
rc=2" "--list-groups with a failing list upcall"
is "$(ml -w @local:\*)" "2/mrsh: group source local: all upcall failed (exit status 5): exit 5" \
	"@source:* with a failing all upcall"
conf '[local]\nmap: echo a\n'
is "$(ml -w @local:\*)" "2/mrsh: group source local has neither an all nor a list upcall" \
	"@source:* on a source that cannot list"
conf '[local]\nmap: true\nlist: echo g\n'
is "$(ns @local:\*)" "" "@source:* whose only group maps to nothing: nodeset gives no host"
is "$(ml -w @local:\*)" '2/mrsh: unknown node group "@local:*"' "... mrsh refuses it"

## YAML sources
conf '[Main]\nautodir: $CFGDIR/y\n'
yaml() { rm -f "$T/c/y/"*.yaml; [ "$1" = -- ] && shift; printf -- "$@" >"$T/c/y/a.yaml"; }
yaml 'src:\n  web: "w[1-2]"\n  all: "w[1-3]"\n  db: [d1, "d[2-3]"]\n'
same @src:db "a YAML group given as a list"
same @src:\* "@src:* of a YAML source with an all group"
is "$(ml -w @src:nosuch)" '2/mrsh: unknown node group "@src:nosuch"' "a YAML source lacks the group"
is "$("$MRSH" --groups-conf "$G" --list-groups 2>&1 | tr '\n' ' ')" \
	"web db " "--list-groups lists the default YAML source's groups but all"
yaml 'src:\n  web: [a, [b]]\n'
both_refuse @src:web "mrsh: node groups: $T/c/y/a.yaml: invalid content (expected source: {group: nodeset})" \
	"a YAML list holding a list"
yaml 'src:\n  web: {a: b}\n'
both_refuse @src:web "mrsh: node groups: $T/c/y/a.yaml: invalid content (expected source: {group: nodeset})" \
	"a YAML group given as a mapping"
yaml 'src: [a]\n'
both_refuse @src:web "mrsh: node groups: $T/c/y/a.yaml: invalid content (expected source: {group: nodeset})" \
	"a YAML source given as a list"
yaml 'just a string\n'
both_refuse @src:web "mrsh: node groups: $T/c/y/a.yaml: invalid content (expected source: {group: nodeset})" \
	"a YAML file holding a scalar"
yaml -- '- a\n- b\n'
both_refuse @src:web "mrsh: node groups: $T/c/y/a.yaml: invalid content (expected source: {group: nodeset})" \
	"a YAML file holding a list"
yaml 'src:\n  web: "a\n  db: b\n'
both_refuse @src:web "mrsh: node groups: $T/c/y/a.yaml:4: found unexpected end of stream" \
	"a YAML syntax error names the line"
yaml 'src:\n  web: [a\n'
is "$(ml -w @src:web)" "2/mrsh: node groups: $T/c/y/a.yaml:3: did not find expected ',' or ']'" \
	"a YAML syntax error inside a group's list"
yaml 'src:\n  web: a\nsrc2:\n  web: b\nsrc:\n  web: c\n'
is "$(ns @src:web)" c "a YAML file defining a source twice: nodeset takes the last"
is "$(ml -w @src:web)" "2/mrsh: node groups: $T/c/y/a.yaml: group source \"src\" defined twice" \
	"... mrsh refuses it"
rm -f "$T/c/y/"*.yaml

## group expressions
conf '[local]\nmap: case $GROUP in loop) echo @loop;; web) echo w1;; *) echo x;; esac\nlist: echo web; echo "o[k"\n'
is "$(ml -w @loop)" '2/mrsh: group "@loop": groups nest more than 16 deep' "a group that names itself"
is "$(ml -w '@web[')" '2/mrsh: unbalanced bracket in "web["' "a group name with an open ["
is "$(ml -w '@web!')" "2/mrsh: bad character '!' in host name \"web!\"" "a group expression ending in an operator"
is "$(ml -g @web)" "0/w1" "-g @name is -g name"
is "$(ml -g web,,web)" "0/w1" "-g with an empty item: skipped, as pdsh"
is "$("$MRSH" --groups-conf "$G" --list-groups 2>&1; echo "rc=$?")" \
	"mrsh: unbalanced bracket in \"o[k\"
rc=2" "--list-groups with a list upcall naming a bad group (nodeset: parse error)"
is "$(MRSH_GROUPS_CONF="$T/nonexistent.conf" "$MRSH" --list-groups 2>&1; echo "rc=$?")" \
	"mrsh: node groups: cannot open $T/nonexistent.conf: No such file or directory
rc=2" "--list-groups with a groups.conf that cannot be read"
conf '[local\n'
is "$(ml -a)" "2/mrsh: node groups: $G:1: bad section header" "-a with a broken groups.conf"
is "$(MRSH_GROUPS_CONF= "$MRSH" --list-hosts -a 2>&1; echo "rc=$?")" \
	"mrsh: -a: no ClusterShell groups.conf or genders database found
rc=2" "-a with neither ClusterShell nor genders"

## the default search path, as ClusterShell's (the machine's
## /etc/clustershell/groups.conf is read first, by both)
mkdir -p "$T/home/.local/etc/clustershell" "$T/xdg/clustershell" "$T/cfgdir"
printf '[Main]\ndefault: xsrc\n[xsrc]\nmap: echo x-$GROUP\n' >"$T/xdg/clustershell/groups.conf"
printf '[Main]\ndefault: csrc\n[csrc]\nmap: echo c-$GROUP\n' >"$T/cfgdir/groups.conf"
printf '[lsrc]\nmap: echo l-$GROUP\n' >"$T/home/.local/etc/clustershell/groups.conf"
for e in @g @xsrc:g @lsrc:g @csrc:g; do
	want=$(cd / && HOME=$T/home XDG_CONFIG_HOME=$T/xdg CLUSTERSHELL_CFGDIR=$T/cfgdir \
		nodeset -e "$e" 2>&1)
	got=$(env -u MRSH_GROUPS_CONF HOME="$T/home" XDG_CONFIG_HOME="$T/xdg" \
		CLUSTERSHELL_CFGDIR="$T/cfgdir" "$MRSH" --list-hosts -w "$e" 2>&1)
	is "$got" "$want" "search path (~/.local/etc, XDG, CLUSTERSHELL_CFGDIR; later [Main] wins): $e as nodeset"
done
want=$(cd / && HOME=$T/home XDG_CONFIG_HOME= CLUSTERSHELL_CFGDIR= nodeset -e @lsrc:g 2>&1)
got=$(env -u MRSH_GROUPS_CONF -u XDG_CONFIG_HOME -u CLUSTERSHELL_CFGDIR HOME="$T/home" \
	"$MRSH" --list-hosts -w @lsrc:g 2>&1)
is "$got" "$want" "search path without XDG_CONFIG_HOME (~/.config): as nodeset"

## genders
printf 'gn1 compute\ngn2 compute,login\nbad_name! compute\n' >"$T/genders"
is "$(MRSH_GROUPS_CONF= "$MRSH" --genders "$T/genders" --list-hosts -g 'compute&&' 2>&1; echo "rc=$?")" \
	"$(nodeattr -f "$T/genders" -c 'compute&&' >/dev/null 2>&1 && echo nodeattr-accepts)mrsh: genders query \"compute&&\": $(MRSH_GROUPS_CONF= "$MRSH" --genders "$T/genders" --list-hosts -g 'compute&&' 2>&1 | sed 's/.*: //')
rc=2" "an invalid genders query"
like "$(MRSH_GROUPS_CONF= "$MRSH" --genders "$T/genders" --list-hosts -g compute 2>&1; echo "rc=$?")" \
	"^mrsh: genders node .*bad_name!.*
rc=2$" "a genders node name that is no host name"

done_testing
