#!/bin/bash
# Bash completion (contrib/completion/mrsh.bash): options from --help, node
# groups from mrsh --list-groups, hosts from ssh_config and known_hosts,
# option values; the zsh script at least parses.
. "$top_srcdir/tests/integration/lib.sh"

T=$(make_tmpdir)
mkdir -p "$T/home/.ssh" "$T/bin"
ln -s "$MRSH" "$T/bin/mrsh"
cat >"$T/home/.ssh/config" <<'EOF2'
Host alpha beta *.wild
	User x
Host gamma
EOF2
cat >"$T/home/.ssh/known_hosts" <<'EOF2'
delta,10.0.0.4 ssh-ed25519 AAAA
[epsilon]:2222 ssh-ed25519 AAAA
|1|hashed= ssh-ed25519 AAAA
EOF2
printf '[Main]\ndefault: local\n[local]\nmap: echo n1\nlist: echo web db\n' >"$T/groups.conf"

# complete WORD...: what _mrsh offers for the last word
complete_words() {
	HOME=$T/home PATH="$T/bin:$PATH" MRSH_GROUPS_CONF="$T/groups.conf" \
	MRSH_GENDERS= bash -c '
		. "$1/contrib/completion/mrsh.bash"
		shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_mrsh
		printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' _ "$top_srcdir" "$@"
}

is "$(complete_words mrsh --group)" "--group --group-timeout --groups-conf " "long options from --help"
is "$(complete_words mrsh -X)" "-X " "short options"
is "$(complete_words mrsh -g '')" "db web " "-g: node groups"
is "$(complete_words mrsh -g 'db,w')" "db,web " "-g: after a comma"
is "$(complete_words mrsh -w '@')" "@db @web " "-w @: node groups"
is "$(complete_words mrsh -w 'x,@w')" "x,@web " "-w x,@: node groups after a comma"
is "$(complete_words mrsh -w '')" "10.0.0.4 alpha beta delta epsilon gamma " \
	"-w: hosts from ssh_config and known_hosts (no patterns, no hashed entries)"
is "$(complete_words mrsh -R '')" "exec rsh ssh " "-R: transports"
is "$(complete_words mrsh --close l)" "local " "--close: modes"
is "$(complete_words mrsh --output '')" "gather json lines " "--output: modes"
is "$(complete_words mrsh --color '')" "always auto never " "--color: when"
is "$(complete_words mrsh --by)" "--by-host " "-L's long name from --help"

# The zsh script is written by hand: every option --help lists is in it.
"$MRSH" --help | grep -oE -- '--[a-z][a-z-]*' | sort -u >"$T/help.long"
grep -oE -- '--[a-z][a-z-]*' "$top_srcdir/contrib/completion/_mrsh" |
	sort -u >"$T/zsh.long"
is "$(comm -23 "$T/help.long" "$T/zsh.long" | tr '\n' ' ')" "" \
	"zsh: every long option of --help"
"$MRSH" --help | grep -oE -- '^  -[a-zA-Z],' | tr -d ' ,' | sort -u >"$T/help.short"
grep -oE -- "[{'(]-[a-zA-Z][,}]" "$top_srcdir/contrib/completion/_mrsh" |
	tr -d "{'(,}" | sort -u >"$T/zsh.short"
is "$(comm -23 "$T/help.short" "$T/zsh.short" | tr '\n' ' ')" "" \
	"zsh: every short option of --help"

if command -v zsh >/dev/null 2>&1; then
	zsh -n "$top_srcdir/contrib/completion/_mrsh"
	ok $? "zsh completion parses"
else
	skip "zsh completion parses" "zsh not installed"
fi

done_testing
