#!/usr/bin/env bash
# test_hostile_corpus.sh: every case of tests/hostile/make_corpus.sh through `sitediff compare`:
# the documented exit code, a message naming the file and the problem (for damaged image data,
# GDAL's own words after it), no raw GDAL line and no empty reason on stderr, and either the six
# complete outputs or nothing (no output folder content, no temporaries); then the hostile
# manifest through `sitediff batch`.
set -u
SD=$(realpath "$1")
. "$(dirname "$0")/lib.sh"
C=$T/corpus
bash "$(dirname "$0")/../hostile/make_corpus.sh" "$SD" "$C" >"$T/cases" || { bad "make_corpus.sh failed"; finish; exit 1; }
cd "$C"
OUTS="change_mask.tif change_magnitude.tif objects.geojson overlay.png tie_points.geojson report.json"
i=0
while IFS='|' read -r name before after extra code pat outputs; do
  i=$((i + 1))
  out=out$i
  # shellcheck disable=SC2086 # extra holds options split on spaces
  case "$extra" in -o*) set -- $extra ;; *) set -- -o "$out" $extra ;; esac
  "$SD" compare "$before" "$after" "$@" >"$T/stdout" 2>"$T/stderr"
  rc=$?
  if [ "$rc" -ne "$code" ]; then bad "$name: exit $rc, expected $code: $(head -c 400 "$T/stderr")"; continue; fi
  if [ -n "$pat" ] && ! grep -qE -- "$pat" "$T/stderr"; then bad "$name: message /$pat/ not in: $(head -c 400 "$T/stderr")"; continue; fi
  # One error path: GDAL's and libtiff's words only inside sitediff's message, never a raw
  # "ERROR 1: ..." line, and no message that ends where its reason should be.
  if grep -qE '^(ERROR|Warning) [0-9]+: ' "$T/stderr"; then bad "$name: a raw GDAL line on stderr: $(head -c 400 "$T/stderr")"; continue; fi
  if grep -qE ':[[:space:]]*$' "$T/stderr"; then bad "$name: a message with an empty reason: $(head -c 400 "$T/stderr")"; continue; fi
  if [ "$outputs" = yes ]; then
    missing=""
    for f in $OUTS; do [ -s "$out/$f" ] || missing="$missing $f"; done
    [ -z "$missing" ] || { bad "$name: outputs missing:$missing"; continue; }
  elif [ -d "$out" ] && [ -n "$(ls -A "$out")" ]; then
    bad "$name: a failed run left $(ls -A "$out")"; continue
  fi
  if [ -n "$(ls -A . | grep -e '\.sitediff-' -e '\.tmp-')" ]; then bad "$name: temporaries left: $(ls -A . | grep sitediff-)"; continue; fi
  ok
done <"$T/cases"
[ "$i" -ge 35 ] && ok || bad "the corpus table has only $i cases"

# The hostile manifest: quotes and commas, ../, a 5,000-character path, an unterminated quote.
"$SD" batch hostile.csv -o batch -q 2>"$T/stderr"
rc=$?
[ $rc -eq 1 ] && ok || bad "hostile manifest: exit $rc: $(head -c 300 "$T/stderr")"
[ "$(ls batch | grep -v -e summary -e index.html | tr '\n' ' ')" = "a__quoted___site escape " ] && ok ||
  bad "hostile manifest folders: $(ls batch)"
python3 - batch/summary.json <<'PY' && ok || bad "hostile manifest summary: $(head -c 600 batch/summary.json)"
import json, sys
rows = {r["site"]: r for r in json.load(open(sys.argv[1]))}
assert rows['a "quoted", site']["status"] == "ok", rows
assert rows["../../escape"]["status"] == "ok" and rows["../../escape"]["folder"] == "escape"
assert rows["long"]["status"] == "failed" and "File name too long" in rows["long"]["error"], rows["long"]["error"][-80:]
assert rows["unterminated"]["status"] == "failed"
PY
[ ! -e ../escape ] && [ ! -e ../../escape ] && ok || bad "a manifest row wrote outside -o"

finish
