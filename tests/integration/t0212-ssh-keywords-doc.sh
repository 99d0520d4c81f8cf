#!/bin/bash
# t0212: the man page's lists of ssh_config keywords match the code. Every
# keyword of src/sshconfig.c's sshcfg_keywords table (but Host, Match and
# ssh's alias spellings) is in the "Supported" list; every entry of its
# sshcfg_foreign table is in the "Refused" list, with the harmless value
# in parentheses, when it changes where mrsh connects, as whom or what it
# trusts, and in the "Ignored" list when it is convenience only (GSSAPI
# keywords, aliases and OpenSSH's own deprecated ones are named as groups).
# And -v notes an ignored keyword, naming its file:line.
. "$top_srcdir/tests/integration/lib.sh"
set -u

need_cmd python3
[ -x "$MRSH" ] || bail_out "no mrsh binary at $MRSH"
T=$(make_tmpdir)

python3 - "$top_srcdir/src/sshconfig.c" "$top_srcdir/doc/mrsh.1" >"$T/res" <<'EOF'
import re
import sys

src = open(sys.argv[1]).read()
man = open(sys.argv[2]).read()
# The man page text, without roff requests and font escapes.
text = " ".join(l for l in man.splitlines() if not l.startswith(".") or
                l.startswith(".B") or l.startswith(".I"))
text = re.sub(r"^\.[A-Z]+ ?", "", text)
text = re.sub(r"\s\.[A-Z]+ ", " ", text)
text = text.replace("\\-", "-").replace("\\fB", "").replace("\\fR", "")
text = re.sub(r"\s+", " ", text)


def section(start, end):
    i = text.index(start)
    j = text.index(end, i)
    return text[i + len(start):j]


supported = section("Supported keywords:", "% tokens")
refused = section("with the keyword and its file:line, and mrsh never connects to it:",
                  "A Match exec command")
ignored = section("noted with -v ):", "and the keywords OpenSSH 9.2")


def names(part):
    part = re.sub(r"\([^)]*\)", lambda m: m.group(0).replace(",", ";"), part)
    out = {}
    for item in part.split(","):
        item = item.strip().rstrip(".").strip()
        if item.startswith("the "):
            continue	# "the GSSAPI keywords"
        m = re.match(r"^(\w+)(?: \(([^)]*)\))?", item)
        if m:
            out[m.group(1)] = m.group(2)
    return out


sup, ref, ign = names(supported), names(refused), names(ignored)
bad = []
kw = src[src.index("sshcfg_keywords[] = {"):]
kw = kw[:kw.index("};")]
aliases = {"IdentityFile2", "SkeyAuthentication", "TISAuthentication",
           "ChallengeResponseAuthentication", "PubkeyAcceptedKeyTypes"}
for name in re.findall(r'\{ "(\w+)", o\w+ \}', kw):
    if name in ("Host", "Match") or name in aliases:
        continue
    if name not in sup:
        bad.append("supported keyword %s is not in the man page's list" % name)
fo = src[src.index("sshcfg_foreign[] = {"):]
fo = fo[:fo.index("\n};")]
deprecated = fo.index("Deprecated or unsupported")
seen = set()
for m in re.finditer(r'\{ "(\w+)",\s*(SSHCFG_ANY|SSHCFG_NEVER|"[^"]*"),\s*'
                     r'(NULL|"[^"]*"),\s*(NULL|"\w+") \}', fo):
    name, harmless, shares = m.group(1), m.group(2), m.group(4)
    seen.add(name)
    if m.start() > deprecated or shares != "NULL" or name.startswith("GSSAPI"):
        continue
    if harmless == "SSHCFG_ANY":
        if name not in ign:
            bad.append("ignored keyword %s is not in the man page's Ignored list" % name)
        continue
    if name not in ref:
        bad.append("refused keyword %s is not in the man page's Refused list" % name)
        continue
    want = None if harmless == "SSHCFG_NEVER" else harmless.strip('"').split(",")[0]
    if ref[name] != want:
        bad.append("refused keyword %s: man page says (%s), code harmless %s" %
                   (name, ref[name], want))
for name in list(ref) + list(ign):
    if name not in seen:
        bad.append("the man page lists %s as refused or ignored; the code does not" % name)
print("counts %d %d %d" % (len(sup), len(ref), len(ign)))
for b in bad:
    print(b)
EOF
counts=$(sed -n 's/^counts //p' "$T/res")
set -- $counts
[ "${1:-0}" -ge 20 ] && [ "${2:-0}" -ge 5 ] && [ "${3:-0}" -ge 30 ]
ok $? "the three lists were found in the man page (supported ${1:-?}, refused ${2:-?}, ignored ${3:-?})"
is "$(grep -v '^counts ' "$T/res")" "" "man page lists = the code's keyword tables"

# -v notes an ignored keyword with its file:line; without -v, nothing.
printf 'Host *\n\tCompression yes\n' >"$T/cfg"
capture "$T" "$MRSH" -v -F "$T/cfg" -G somehost
like "$(cat "$T/err")" "$T/cfg:2: ssh_config keyword Compression is not used by mrsh; ignored" \
	"-v: an ignored keyword is noted with file:line"
capture "$T" "$MRSH" -F "$T/cfg" -G somehost
unlike "$(cat "$T/err")" "Compression" "without -v: not noted"

done_testing
