#!/bin/bash
# t0210: differential test of ssh_config evaluation. For every file of the
# corpus in tests/data/sshconfig/*.conf (its first line says which hosts to
# ask for: "# hosts: a b user@c"), `mrsh -F FILE -G HOST` must print, for
# every keyword mrsh prints, exactly the lines `ssh -F FILE -G HOST` prints
# for it. Any difference fails naming the file, the host and the keyword.
# Normalised, and only that: ssh expands ~ with the password file's home
# where mrsh uses $HOME, and ssh prints "stricthostkeychecking ask" for what
# mrsh does as "true" (mrsh never prompts).
. "$top_srcdir/tests/integration/lib.sh"
set -u

need_cmd ssh
[ -x "$MRSH" ] || bail_out "no mrsh binary at $MRSH"
corpus=$top_srcdir/tests/data/sshconfig
T=$(make_tmpdir)
export HOME=$T/home
mkdir -p "$HOME/.ssh"
chmod 700 "$HOME/.ssh"
cp -r "$corpus/include.d" "$HOME/.ssh/"
export MRSH_T0210_VAR=/var/t0210
unset SSH_AUTH_SOCK
pwhome=$(getent passwd "$(id -u)" | cut -d: -f6)

# The ssh -G output in mrsh's terms (see the top of the file).
normalise_ssh() {
	local line
	while IFS= read -r line; do
		[ "$line" = "stricthostkeychecking ask" ] &&
			line="stricthostkeychecking true"
		if [ -n "$pwhome" ] && [ "$pwhome" != "$HOME" ]; then
			line=${line//" $pwhome/"/" $HOME/"}
		fi
		printf '%s\n' "$line"
	done
}

# run_pair NAME HOST OUT: both outputs into OUT.{m,s,mrc,merr,serr}.
run_pair() {
	(cd "$T" && "$MRSH" -F "$1" -G "$2" >"$3.m" 2>"$3.merr"; echo $? >"$3.mrc")
	(cd "$T" && ssh -F "$1" -G "$2" </dev/null 2>"$3.serr" |
		normalise_ssh >"$3.s")
}

# Run every pair first, a few at a time (mrsh under ASan is slow to
# start), then compare in order.
nfiles=0
pairs=()
for f in "$corpus"/*.conf; do
	nfiles=$((nfiles + 1))
	name=${f##*/}
	# Copied so that file:line in messages is short and relative Includes
	# resolve under ~/.ssh as for a user file.
	cp "$f" "$T/$name"
	for h in $(sed -n '1s/^# hosts: //p' "$f"); do
		pairs+=("$name $h")
	done
	[ -n "$(sed -n '1s/^# hosts: //p' "$f")" ]
	ok $? "$name: first line names the hosts"
done
mkdir "$T/res"
i=0
for p in "${pairs[@]}"; do
	set -- $p
	run_pair "$1" "$2" "$T/res/$i" &
	i=$((i + 1))
	while [ "$(jobs -rp | wc -l)" -ge 4 ]; do
		wait -n
	done
done
wait

i=0
for p in "${pairs[@]}"; do
	set -- $p
	name=$1 h=$2 r=$T/res/$i
	i=$((i + 1))
	if [ "$(cat "$r.mrc")" != 0 ] || [ ! -s "$r.s" ]; then
		ok 1 "$name $h: both print a configuration"
		diag "mrsh exit $(cat "$r.mrc"): $(head -n 2 "$r.merr")"
		diag "ssh: $(head -n 2 "$r.serr")"
		continue
	fi
	# ssh's lines for the keywords mrsh prints, in one pass (a few
	# processes per pair: the machine is small); per keyword on failure.
	awk 'NR == FNR { k[$1] = 1; next } ($1 in k)' "$r.m" "$r.s" |
		sort -s -k1,1 >"$r.sf"
	sort -s -k1,1 "$r.m" >"$r.mf"
	diffs=""
	if ! cmp -s "$r.mf" "$r.sf"; then
		for k in $(cut -d' ' -f1 "$r.mf" | sort -u); do
			mv=$(grep "^$k " "$r.mf")
			sv=$(grep "^$k " "$r.sf")
			[ "$mv" = "$sv" ] && continue
			diffs="$diffs $k"
			diag "$name $h $k: mrsh: ${mv:-(none)}"
			diag "$name $h $k: ssh:  ${sv:-(none)}"
		done
		[ -n "$diffs" ] || diffs="(line order or duplicates)"
	fi
	is "${diffs# }" "" "$name $h: mrsh -G = ssh -G on every keyword mrsh prints"
done
[ "$nfiles" -ge 40 ]
ok $? "the corpus has at least 40 files ($nfiles)"

done_testing
