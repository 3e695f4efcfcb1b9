#!/usr/bin/env bash
# test_interrupt.sh: an interrupted compare (SIGINT, SIGTERM, SIGKILL at any moment) leaves the
# previous complete outputs or the new complete outputs, never a mix or a truncated file; the
# next run clears what a killed one left; an interrupted batch keeps its finished pairs.
set -u
SD=$1
. "$(dirname "$0")/lib.sh"
OUTS="change_mask.tif change_magnitude.tif objects.geojson overlay.png tie_points.geojson report.json"

# 512² in the sanitizer build, where a run is slow enough to straddle the kills just the same
size=1024
[ -n "${SD_SANITIZED:-}" ] && size=512
"$SD" synth "$T/p" --size $size --seed 5 >/dev/null 2>&1 || bad "synth failed"
run() { "$SD" compare "$T/p/before.tif" "$T/p/after.tif" -q "$@"; }
# in the background, as the process itself (so $! is sitediff, not a subshell)
run_bg() { "$SD" compare "$T/p/before.tif" "$T/p/after.tif" -q "$@" & }
# Two complete sets that differ in every file but the tie points: A (threshold 3), B (threshold 8).
run -o "$T/A" --threshold 3 || bad "run A"
t0=$(date +%s%N)
run -o "$T/B" --threshold 8 || bad "run B"
dur=$((($(date +%s%N) - t0) / 1000000)) # ms; kills land at fractions of it, in any build
at() { printf '%d.%03d' $((dur * $1 / 100 / 1000)) $((dur * $1 / 100 % 1000)); }
sums() { (cd "$1" && for f in $OUTS; do if [ -f "$f" ]; then md5sum "$f"; else echo "missing $f"; fi; done); }
# same_as DIR REF: DIR's outputs are REF's (report.json: same threshold, as its timings differ)
same_as() {
  [ "$(sums "$1" | grep -v report.json)" = "$(sums "$2" | grep -v report.json)" ] &&
    [ "$(grep -o '"value": [0-9.]*' "$1/report.json" | head -1)" = "$(grep -o '"value": [0-9.]*' "$2/report.json" | head -1)" ]
}
same_as "$T/B" "$T/A" && bad "sets A and B do not differ"
leftovers() { ls -A "$1" | grep -e '\.sitediff-' -e '\.tmp-'; }

# SIGINT and SIGTERM mid-run: exit 128 + N, a message, the previous outputs untouched, nothing left.
for sig in INT TERM; do
  rm -rf "$T/o" && cp -r "$T/A" "$T/o"
  run_bg -o "$T/o" --threshold 8 2>"$T/err"
  pid=$!
  sleep "$(at 40)"
  kill -s $sig $pid
  wait $pid
  rc=$?
  want=$((128 + $(kill -l $sig)))
  [ $rc -eq $want ] && ok || bad "SIG$sig: exit $rc, expected $want"
  grep -q "interrupted by SIG$sig; outputs left as they were" "$T/err" && ok || bad "SIG$sig message: $(cat "$T/err")"
  same_as "$T/o" "$T/A" && ok || bad "SIG$sig changed the previous outputs"
  [ -z "$(leftovers "$T")" ] && [ -z "$(leftovers "$T/o")" ] && ok || bad "SIG$sig left $(leftovers "$T")"
done

# SIGKILL at 16 moments from 5 % to 125 % of a run: each time the folder holds set A or set B,
# whole, and both outcomes occur (the kills straddle the commit).
rm -rf "$T/o" && cp -r "$T/A" "$T/o"
seen_a=0 seen_b=0
for pc in 5 12 20 30 40 50 60 70 78 85 90 94 97 100 110 125; do
  run_bg -o "$T/o" --threshold 8
  pid=$!
  sleep "$(at $pc)"
  kill -9 $pid 2>/dev/null
  wait $pid 2>/dev/null
  if same_as "$T/o" "$T/A"; then
    seen_a=$((seen_a + 1))
  elif same_as "$T/o" "$T/B"; then
    seen_b=$((seen_b + 1))
    rm -rf "$T/o" && cp -r "$T/A" "$T/o" # next round starts from A again
  else
    bad "SIGKILL at $pc % of a run: a mixed or broken set: $(sums "$T/o")"
  fi
done
[ $seen_a -gt 0 ] && [ $seen_b -gt 0 ] && ok || bad "the kills did not straddle the commit (A $seen_a, B $seen_b)"
run -o "$T/o" --threshold 8 && same_as "$T/o" "$T/B" && ok || bad "the run after the kills"
[ -z "$(leftovers "$T")" ] && ok || bad "a completed run did not clear the killed runs' temporaries: $(leftovers "$T")"

# An output folder holding other files: they stay; files move one by one, report.json last and
# only after the old one is gone, so a folder with a report.json holds one whole set.
rm -rf "$T/m" && cp -r "$T/A" "$T/m" && echo keep >"$T/m/notes.txt"
for pc in 10 30 50 70 85 95 100 110; do
  run_bg -o "$T/m" --threshold 8
  pid=$!
  sleep "$(at $pc)"
  kill -9 $pid 2>/dev/null
  wait $pid 2>/dev/null
  [ "$(cat "$T/m/notes.txt")" = keep ] || bad "notes.txt lost"
  for f in $OUTS; do
    [ -f "$T/m/$f" ] || continue
    s=$(cd "$T/m" && md5sum "$f")
    if [ "$s" != "$(cd "$T/A" && md5sum "$f")" ] && [ "$s" != "$(cd "$T/B" && md5sum "$f")" ] && [ "$f" != report.json ]; then
      bad "SIGKILL at $pc %: $f is neither the old nor the new file"
    fi
  done
  if [ -f "$T/m/report.json" ]; then
    if same_as "$T/m" "$T/A" || same_as "$T/m" "$T/B"; then ok; else bad "a report.json beside a mixed set at $pc %"; fi
  else
    ok
  fi
  rm -rf "$T/m" && cp -r "$T/A" "$T/m" && echo keep >"$T/m/notes.txt"
done
run_bg -o "$T/m" --threshold 8 2>"$T/err"; pid=$!; sleep "$(at 40)"; kill -INT $pid; wait $pid
same_as "$T/m" "$T/A" && [ -z "$(leftovers "$T/m")" ] && ok || bad "SIGINT in a shared folder: $(ls -A "$T/m")"

# An output folder given as a symbolic link stays a link, and its folder gets the new set.
rm -rf "$T/real" "$T/link" && cp -r "$T/A" "$T/real" && ln -s "$T/real" "$T/link"
run -o "$T/link" --threshold 8 && [ -L "$T/link" ] && same_as "$T/real" "$T/B" && ok || bad "symlinked output folder: $(ls -la "$T" | grep -e link -e real)"

# A batch interrupted with SIGINT: exit 130, finished pairs whole, the rest done by the re-run.
printf 'site,before,after\n' >"$T/many.csv"
"$SD" synth "$T/s" --size 256 --seed 2 >/dev/null 2>&1
for i in $(seq 1 10); do echo "s$i,s/before.tif,s/after.tif" >>"$T/many.csv"; done
"$SD" batch "$T/many.csv" -o "$T/bo" -j 1 --threads 1 -q 2>"$T/err" &
pid=$!
for _ in $(seq 1 300); do [ -n "$(ls "$T/bo" 2>/dev/null | grep '^s')" ] && break; sleep 0.02; done
kill -INT $pid
wait $pid
rc=$?
[ $rc -eq 130 ] && ok || bad "batch SIGINT: exit $rc: $(cat "$T/err")"
n=$(ls "$T/bo" | grep -c '^s[0-9]*$')
[ "$n" -ge 1 ] && [ "$n" -lt 10 ] && ok || bad "batch SIGINT landed after $n of 10 pairs"
for d in "$T"/bo/s*; do [ -s "$d/report.json" ] || bad "half-written $d"; done
[ ! -e "$T/bo/summary.csv" ] && ok || bad "an interrupted batch wrote a summary"
"$SD" batch "$T/many.csv" -o "$T/bo" -q && [ "$(ls "$T/bo" | grep -c '^s[0-9]*$')" = 10 ] && ok || bad "batch re-run"

finish
