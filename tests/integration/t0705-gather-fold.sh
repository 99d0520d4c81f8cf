#!/bin/bash
# -b folds hosts into one copy per distinct output as they finish: the
# run holds each distinct (output, cut) once, whatever the host count.
# --stats says how many hosts were recorded, how many distinct outputs
# are held and their bytes; the printed result is the same as before.
. "$top_srcdir/tests/integration/lib.sh"

T=$(make_tmpdir)
plan 11

# 1-3: 300 hosts, one output: held once (5 bytes, not 1,500).
"$MRSH" -R exec -b --stats -j 64 -w 'h[1-300]' -- echo same \
    >"$T/out" 2>"$T/err"
is "$?" 0 "300 hosts, one output: exit 0"
is "$(cat "$T/out")" "$(printf -- '---------------\nh[1-300] (300)\n---------------\nsame')" \
    "printed once under the folded node set"
grepok '^mrsh: stats: gather hosts 300, distinct 1, held 5 bytes$' \
    "$T/err" "one copy held for 300 hosts"

# 4-6: two outputs, and one host that printed nothing (nothing held).
"$MRSH" -R exec -b --stats -w 'h[1-40]' -- \
    sh -c 'case %h in h7) echo seven;; h9) ;; *) echo other;; esac' \
    >"$T/out" 2>"$T/err"
is "$?" 0 "two outputs: exit 0"
is "$(cat "$T/out")" "$(printf -- '---------------\nh[1-6,8,10-40] (38)\n---------------\nother\n---------------\nh7\n---------------\nseven')" \
    "each distinct output once, largest group first"
grepok '^mrsh: stats: gather hosts 40, distinct 3, held 12 bytes$' \
    "$T/err" "three distinct outputs held (the empty one included)"

# 7-9: --gather-max: cut outputs fold too, and the cut is part of the key.
"$MRSH" -R exec -b --stats --gather-max 4 -w 'h[1-20]' -- \
    sh -c 'case %h in h1) echo abc;; *) echo abcdefgh;; esac' \
    >"$T/out" 2>"$T/err"
is "$?" 0 "--gather-max 4: exit 0"
is "$(grep -c '^h\[2-20\] (19) (output cut at 4 bytes)$' "$T/out")" 1 \
    "the 19 cut outputs fold into one group that says it was cut"
grepok '^mrsh: stats: gather hosts 20, distinct 2, held 8 bytes$' \
    "$T/err" "4 bytes held for the 19 cut hosts, 4 for the whole one"

# 10-11: the same held bytes, cut for some hosts and whole for one (it
# printed exactly 4 bytes): same hash and length, two groups all the same,
# only the cut ones say so.
"$MRSH" -R exec -b --gather-max 4 -w 'h[1-5]' -- \
    sh -c 'case %h in h3) printf abcd;; *) echo abcdefgh;; esac' \
    >"$T/out" 2>"$T/err"
is "$?" 0 "--gather-max 4, one output exactly 4 bytes: exit 0"
is "$(cat "$T/out")" "$(printf -- '---------------\nh[1-2,4-5] (4) (output cut at 4 bytes)\n---------------\nabcd\n---------------\nh3\n---------------\nabcd')" \
    "a cut and a whole output of the same bytes are two groups"
