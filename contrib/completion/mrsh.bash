# bash completion for mrsh(1): options, node groups (mrsh --list-groups),
# hosts from known_hosts and ssh_config, transports and option values.
# Installed as $(datadir)/bash-completion/completions/mrsh.

# Host names: ssh_config Host lines (no patterns), known_hosts (not hashed).
_mrsh_hosts()
{
	local f

	for f in ~/.ssh/config /etc/ssh/ssh_config; do
		[ -r "$f" ] || continue
		awk 'tolower($1) == "host" {
			for (i = 2; i <= NF; i++) if ($i !~ /[*?!]/) print $i }' "$f"
	done
	for f in ~/.ssh/known_hosts /etc/ssh/ssh_known_hosts; do
		[ -r "$f" ] || continue
		awk '$1 !~ /^[|#@]/ { n = split($1, h, ",");
			for (i = 1; i <= n; i++) {
				x = h[i]; sub(/^\[/, "", x); sub(/\]:[0-9]+$/, "", x)
				print x } }' "$f"
	done
}

_mrsh_groups()
{
	"${1:-mrsh}" --list-groups 2>/dev/null
}

_mrsh()
{
	local cur prev words cword opts prefix last
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}

	case $prev in
	-R|--transport)
		COMPREPLY=($(compgen -W 'ssh rsh exec' -- "$cur")); return ;;
	--close)
		COMPREPLY=($(compgen -W 'remote local abort' -- "$cur")); return ;;
	--output)
		COMPREPLY=($(compgen -W 'lines gather json' -- "$cur")); return ;;
	--color)
		COMPREPLY=($(compgen -W 'never always auto' -- "$cur")); return ;;
	--rsh-stderr)
		COMPREPLY=($(compgen -W 'connect merge' -- "$cur")); return ;;
	--ports)
		COMPREPLY=($(compgen -W 'ephemeral reserved' -- "$cur")); return ;;
	-f|--hosts-file|-F|--config|-i|--identity|--outdir|--errdir|\
	--groups-conf|--genders)
		COMPREPLY=($(compgen -f -- "$cur")); return ;;
	-g|--group|-X|--exclude-group)
		prefix=${cur%,*}; last=${cur##*,}
		[ "$prefix" = "$cur" ] && prefix="" || prefix="$prefix,"
		COMPREPLY=($(compgen -P "$prefix" -W "$(_mrsh_groups "${COMP_WORDS[0]}")" -- "$last"))
		return ;;
	-w|--hosts|-x|--exclude|-G|--dump-config)
		prefix=${cur%,*}; last=${cur##*,}
		[ "$prefix" = "$cur" ] && prefix="" || prefix="$prefix,"
		if [ "${last#@}" != "$last" ]; then
			COMPREPLY=($(compgen -P "$prefix@" -W "$(_mrsh_groups "${COMP_WORDS[0]}")" -- "${last#@}"))
		else
			COMPREPLY=($(compgen -P "$prefix" -W "$(_mrsh_hosts | sort -u)" -- "$last"))
		fi
		return ;;
	-j|--fanout|-t|--connect-timeout|-u|--command-timeout|-l|--user|\
	-p|--port|-o|--option|--gather-max|--close-wait|--group-timeout)
		return ;;
	esac
	if [[ $cur == -* ]]; then
		opts=$("${COMP_WORDS[0]}" --help 2>/dev/null |
		    grep -oE -- '^ +(-[a-zA-Z], )?--[a-z-]+|^  -[a-zA-Z]' |
		    tr -d ' ,' | sed 's/^\(-[a-zA-Z]\)\(--\)/\1 \2/')
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return
	fi
	COMPREPLY=($(compgen -c -- "$cur"))
}
complete -F _mrsh mrsh
