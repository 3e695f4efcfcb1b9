#!/usr/bin/env bash
# test_manpage.sh SITEDIFF MANPAGE: doc/sitediff.1 documents what the program's --help outputs
# list. Each command has its own subsection (.SS NAME) where every option of its --help is an
# item (a .TP tag) and every option tagged there is one --help lists; the top-level help's
# commands, options and exit codes, and every file a --help names, are in the page.
set -u
SD=$1 MAN=$2
. "$(dirname "$0")/../e2e/lib.sh"

# The page as text: roff's \- as -, font changes and quotes dropped.
sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\(aq/'"'"'/g' -e 's/\\e/\\/g' "$MAN" >"$T/man.txt"

# section NAME LEVEL: the lines of ".SS NAME" (or ".SH NAME") up to the next heading
section() {
  awk -v name="$1" -v lvl="$2" '
    /^\.S[HS] / { if (on) exit; if ($1 == lvl && substr($0, 5) == name) { on = 1; next } }
    on' "$T/man.txt"
}
# tags: the lines that follow a .TP (the items' labels)
tags() { awk 'tp { print; tp = 0 } /^\.TP/ { tp = 1 }'; }
# long and short options written in a text: --word, and -x at the start of an option line
long_opts() { grep -oE -- '(^|[^A-Za-z0-9-])--[a-z][a-z0-9-]*' | sed 's/^[^-]*//' | sort -u; }
short_opts() { grep -oE -- '^[[:space:]]+-[A-Za-z]([,[:space:]]|$)' | grep -oE -- '-[A-Za-z]' | sort -u; }
has_opt() { grep -qE -- "(^|[^A-Za-z0-9-])$1([^A-Za-z0-9-]|$)"; }

grep -q '^\.TH SITEDIFF 1 ' "$MAN" && ok || bad "no .TH SITEDIFF 1 header"
for s in NAME SYNOPSIS DESCRIPTION COMMANDS OUTPUTS "EXIT STATUS" EXAMPLES; do
  grep -q "^\.SH $s\$" "$MAN" && ok || bad "no .SH $s section"
done

"$SD" --help >"$T/top.txt" 2>&1 || bad "sitediff --help failed"
commands=$(awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }' "$T/top.txt")
[ -n "$commands" ] || bad "no commands found in sitediff --help"
for opt in $(long_opts <"$T/top.txt"); do
  has_opt "$opt" <"$T/man.txt" && ok || bad "sitediff --help lists $opt; the man page does not"
done
for code in $(sed -n 's/^exit codes: //p' "$T/top.txt" | grep -oE '(^|, )[0-9]+' | grep -oE '[0-9]+'); do
  section "EXIT STATUS" .SH | tags | grep -qx -- "\.B $code" && ok || bad "exit code $code is not an item of EXIT STATUS"
done

for cmd in $commands; do
  section "$cmd" .SS >"$T/sec.txt"
  if [ ! -s "$T/sec.txt" ]; then bad "command $cmd has no .SS $cmd section"; continue; fi
  ok
  [ "$cmd" = version ] && continue
  if ! "$SD" "$cmd" --help >"$T/help.txt" 2>&1; then bad "sitediff $cmd --help failed"; continue; fi
  tags <"$T/sec.txt" >"$T/tags.txt"
  helped=$( (long_opts <"$T/help.txt"; short_opts <"$T/help.txt") | sort -u)
  n=0
  for opt in $helped; do
    n=$((n + 1))
    has_opt "$opt" <"$T/tags.txt" && ok || bad "sitediff $cmd --help lists $opt; the man page's $cmd section has no item for it"
  done
  [ "$n" -gt 0 ] && ok || bad "no options found in sitediff $cmd --help"
  # the other way: an item of the section that --help does not list is stale
  for opt in $( (long_opts <"$T/tags.txt"; short_opts <"$T/tags.txt"; grep -oE -- '^\.B[IR]? "?-[A-Za-z]\b' "$T/tags.txt" |
    grep -oE -- '-[A-Za-z]$') | sort -u); do
    echo "$helped" | grep -qx -- "$opt" && ok || bad "the man page's $cmd section has $opt, which sitediff $cmd --help does not list"
  done
  # every output file the help names is in the command's section or in OUTPUTS
  for f in $(grep -oE '[a-z_.*-]+\.(tif|geojson|png|json|csv|html)' "$T/help.txt" | sort -u); do
    { cat "$T/sec.txt"; section OUTPUTS .SH; } | grep -qF -- "$f" && ok || bad "sitediff $cmd --help names $f; the man page does not"
  done
done

# It renders without warnings where groff is installed (the test does not need it).
if command -v groff >/dev/null; then
  groff -man -Tutf8 -ww -z "$MAN" >"$T/groff.txt" 2>&1
  [ ! -s "$T/groff.txt" ] && ok || bad "groff warns: $(cat "$T/groff.txt")"
fi

finish
