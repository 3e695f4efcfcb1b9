#!/usr/bin/env bash
# test_batch.sh: batch over a manifest with awkward site names, a missing and a corrupt image;
# one bad pair does not stop the rest; exit 1 when some failed; summary files; a resumed run
# redoes nothing; --force redoes; a changed input is redone alone.
set -u
SD=$1
. "$(dirname "$0")/lib.sh"

"$SD" synth "$T/a" --size 128 --seed 5 >/dev/null 2>&1 || bad "synth a"
"$SD" synth "$T/b b" --size 128 --seed 6 >/dev/null 2>&1 || bad "synth b"
head -c 4000 /dev/urandom >"$T/corrupt.tif"
cat >"$T/manifest.csv" <<CSV
site,before,after,min_area
plain,a/before.tif,a/after.tif,
"name with spaces, commas and ""quotes""","b b/before.tif","b b/after.tif",20
../escape,a/before.tif,a/after.tif,
missing,a/before.tif,nowhere.tif,
corrupt,a/before.tif,corrupt.tif,
plain,a/before.tif,a/after.tif,
CSV

"$SD" batch "$T/manifest.csv" -o "$T/out" -j 2 >"$T/log1" 2>&1
rc=$?
[ $rc -eq 1 ] && ok || bad "batch with failures exited $rc, expected 1: $(cat "$T/log1")"
for f in summary.csv summary.json index.html; do [ -s "$T/out/$f" ] && ok || bad "missing $f"; done
for d in plain name_with_spaces__commas_and__quotes_ escape plain-2; do
  [ -s "$T/out/$d/report.json" ] && [ -s "$T/out/$d/overlay.png" ] && ok || bad "pair folder $d incomplete: $(ls "$T/out")"
done
[ ! -e "$T/out/missing/report.json" ] && [ ! -e "$T/out/corrupt" ] && ok || bad "failed pairs left folders"
[ -z "$(ls -A "$T/out" | grep tmp)" ] && ok || bad "temporary folders left: $(ls -A "$T/out")"
[ ! -e "$T/escape" ] && ok || bad "'../escape' wrote outside the output folder"
grep -q '"missing",,,failed,".*nowhere.tif' "$T/out/summary.csv" && ok || bad "missing pair not reported: $(cat "$T/out/summary.csv")"
grep -q '"corrupt",,,failed,".*corrupt.tif: not a readable raster' "$T/out/summary.csv" && ok || bad "corrupt pair not reported"
grep -q 'min_area=20 ' "$T/out/name_with_spaces__commas_and__quotes_/report.json" && ok || bad "per-row min_area not applied"
python3 - "$T/out/summary.json" <<'PY' && ok || bad "summary.json"
import json, sys
s = json.load(open(sys.argv[1]))
st = {r["site"]: r["status"] for r in s}
assert len(s) == 6 and st["missing"] == "failed" and st['name with spaces, commas and "quotes"'] == "ok", st
PY
grep -q 'src="plain/overlay.png"' "$T/out/index.html" && grep -q 'href="plain/report.html"' "$T/out/index.html" && grep -q 'quotes&quot;' "$T/out/index.html" && ok || bad "index.html"

# Resume: nothing is redone.
"$SD" batch "$T/manifest.csv" -o "$T/out" -j 2 >"$T/log2" 2>&1
grep -q "0 done, 4 up to date, 0 not observed, 2 failed" "$T/log2" && ok || bad "resume redid work: $(tail -1 "$T/log2")"
# --force redoes the four.
"$SD" batch "$T/manifest.csv" -o "$T/out" --force -q >/dev/null 2>&1
python3 -c "import json,sys; s=json.load(open(sys.argv[1])); assert sum(r['status']=='ok' for r in s)==4" "$T/out/summary.json" \
  && ok || bad "--force did not redo"
# A changed input: only the pair using it is redone.
touch -d '2001-01-01' "$T/b b/after.tif"
"$SD" batch "$T/manifest.csv" -o "$T/out" >"$T/log3" 2>&1
grep -q "1 done, 3 up to date" "$T/log3" && ok || bad "changed input: $(tail -1 "$T/log3")"
# Usage errors.
"$SD" batch "$T/manifest.csv" >/dev/null 2>&1; [ $? -eq 2 ] && ok || bad "no -o: not exit 2"
printf 'site,before\nx,y\n' >"$T/bad.csv"
"$SD" batch "$T/bad.csv" -o "$T/o2" 2>"$T/err"; [ $? -eq 2 ] && grep -q "site,before,after" "$T/err" && ok || bad "bad header"
printf 'site,before,after,colour\nx,a/before.tif,a/after.tif,red\n' >"$T/col.csv"
"$SD" batch "$T/col.csv" -o "$T/o3" 2>"$T/err"; [ $? -eq 2 ] && grep -q "unknown column 'colour'" "$T/err" && ok || bad "unknown column"
printf '[{"site": "j", "before": "a/before.tif", "after": "a/after.tif", "threshold": 4}]' >"$T/m.json"
"$SD" batch "$T/m.json" -o "$T/o4" -q; [ $? -eq 0 ] && grep -q '"method": "fixed"' "$T/o4/j/report.json" && ok || bad "JSON manifest"

# Shards: three shards cover every pair once, with the same folder names; the merge joins them.
for k in 1 2 3; do "$SD" batch "$T/manifest.csv" -o "$T/sh" --shard $k/3 -q >/dev/null 2>&1; done
n=$(cat "$T"/sh/summary.shard-*-of-3.json | python3 -c "import json,sys; t=sys.stdin.read().replace('][', ',').replace(']\n[', ','); print(len(json.loads(t)))")
[ "$n" = 6 ] && ok || bad "shards cover $n pairs, expected 6"
"$SD" batch --merge -o "$T/sh" -q; rc=$?
[ $rc -eq 1 ] && python3 -c "import json,sys; s=json.load(open(sys.argv[1])); assert len(s)==6 and sum(r['status']=='failed' for r in s)==2" "$T/sh/summary.json" \
  && grep -q 'src="plain-2/overlay.png"' "$T/sh/index.html" && ok || bad "merge (rc $rc)"
"$SD" batch "$T/manifest.csv" -o "$T/sh" --shard 4/3 >/dev/null 2>&1; [ $? -eq 2 ] && ok || bad "--shard 4/3 accepted"

# Compare options for every pair.
"$SD" batch "$T/m.json" -o "$T/o5" -q --metric logratio --tolerance 0; [ $? -eq 0 ] && grep -q '"metric": "logratio"' "$T/o5/j/report.json" && grep -q '"tolerance_px": 0' "$T/o5/j/report.json" && ok || bad "compare options in batch"

# Time series: DIR/<site>/<date>.tif, consecutive dates compared; objects carry the dates.
mkdir -p "$T/series/camp north" "$T/series/pier"
cp "$T/a/before.tif" "$T/series/camp north/2024-10-02.tif"
cp "$T/a/after.tif" "$T/series/camp north/2024-10-09.tif"
cp "$T/a/after.tif" "$T/series/camp north/2024-10-16.tif"
cp "$T/b b/before.tif" "$T/series/pier/20240901.tif"
cp "$T/b b/after.tif" "$T/series/pier/20241001.tif"
echo notes >"$T/series/pier/readme.txt"
"$SD" batch --dir "$T/series" -o "$T/ts" -q; [ $? -eq 0 ] && ok || bad "time series batch failed"
python3 - "$T/ts" <<'PY' && ok || bad "time series outputs"
import json, sys, re, xml.dom.minidom
out = sys.argv[1]
s = json.load(open(out + "/summary.json"))
steps = sorted((r["series"], r["date_before"], r["date_after"]) for r in s)
assert steps == [("camp north", "2024-10-02", "2024-10-09"), ("camp north", "2024-10-09", "2024-10-16"),
                 ("pier", "2024-09-01", "2024-10-01")], steps
first = [r for r in s if r["date_after"] == "2024-10-09"][0]
g = json.load(open(out + "/" + first["folder"] + "/objects.geojson"))
assert g["features"] and all(f["properties"]["first_seen"] == "2024-10-09" and
                             f["properties"]["absent_on"] == "2024-10-02" for f in g["features"])
quiet = [r for r in s if r["date_after"] == "2024-10-16"][0]
assert sum(quiet["objects_by_class"].values()) == 0, quiet  # the same image twice: no change
html = open(out + "/index.html").read()
svgs = re.findall(r"<svg.*?</svg>", html, re.S)
assert len(svgs) == 2, len(svgs)
for svg in svgs:
    xml.dom.minidom.parseString(svg)
assert "2024-10-16" in svgs[0] or "2024-10-16" in svgs[1]
PY
mkdir -p "$T/empty/site" && cp "$T/a/before.tif" "$T/empty/site/2024-01-01.tif"
"$SD" batch --dir "$T/empty" -o "$T/te" 2>"$T/err"; [ $? -eq 2 ] && grep -q "two or more dated images" "$T/err" && ok || bad "empty series"

# Interrupted: SIGKILL as soon as the first pair is in place leaves only complete pair folders;
# the next run finishes the rest and clears what the killed run left behind.
"$SD" synth "$T/big" --size 320 --seed 7 >/dev/null 2>&1 || bad "synth big"
printf 'site,before,after\n' >"$T/many.csv"
for i in $(seq 1 12); do echo "s$i,big/before.tif,big/after.tif" >>"$T/many.csv"; done
"$SD" batch "$T/many.csv" -o "$T/kill" -j 1 --threads 1 -q &
pid=$!
for _ in $(seq 1 300); do [ -n "$(ls "$T/kill" 2>/dev/null | grep '^s')" ] && break; sleep 0.02; done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
done_before=$(ls "$T/kill" | grep -c '^s[0-9]*$')
[ "$done_before" -ge 1 ] && [ "$done_before" -lt 12 ] && ok || bad "the kill did not land mid-run ($done_before of 12 done)"
half=0
for d in "$T"/kill/s*; do [ -d "$d" ] && [ ! -s "$d/report.json" ] && half=$((half + 1)); done
[ $half -eq 0 ] && ok || bad "$half half-written pair folders after SIGKILL"
"$SD" batch "$T/many.csv" -o "$T/kill" >"$T/log4" 2>&1; [ $? -eq 0 ] && ok || bad "re-run after the kill failed"
grep -q "$((12 - done_before)) done, $done_before up to date" "$T/log4" && ok || bad "re-run: $(tail -1 "$T/log4")"
[ "$(ls "$T"/kill | grep -c '^s[0-9]*$')" = 12 ] && [ -z "$(ls -A "$T/kill" | grep -e tmp -e sitediff-)" ] && ok || bad "after the re-run: $(ls -A "$T/kill")"

# On a terminal: a progress bar with pairs done, failures and time left (script gives a tty).
if command -v script >/dev/null; then
  script -qc "'$SD' batch '$T/many.csv' -o '$T/tty' -j 1 --threads 1" "$T/tty.log" >/dev/null 2>&1
  grep -q '\[#*  *\] 1/12 pairs, 0 failed, [0-9]* s left' "$T/tty.log" && grep -q '12/12 pairs' "$T/tty.log" && ok \
    || bad "no progress bar on a terminal: $(tr '\r' '\n' <"$T/tty.log" | head -3)"
fi

# Too many columns (found by fuzz_manifest: the field arrays hold 32): refused, not overrun.
{ printf 'site,before,after'; for i in $(seq 1 40); do printf ',c%d' $i; done; printf '\nx,a,b\n'; } >"$T/wide.csv"
"$SD" batch "$T/wide.csv" -o "$T/o6" 2>"$T/err"; [ $? -eq 2 ] && grep -q "43 columns; at most 32" "$T/err" && ok || bad "wide header: $(cat "$T/err")"
printf 'site,before,after\nx,a,b%s\n' "$(printf ',%.0s' $(seq 1 40))" >"$T/wide2.csv"
"$SD" batch "$T/wide2.csv" -o "$T/o7" 2>"$T/err"; [ $? -eq 2 ] && grep -q "row 2 has 43 fields" "$T/err" && ok || bad "wide row: $(cat "$T/err")"

# Many equal site names (the slowness of fuzz_manifest showed naming was cubic in them: 3,000
# rows took 2 minutes): 20,000 rows are named x, x-2 ... x-20000 at once; literal "x-2" rows
# that come later get x-2-2, x-2-3.
{ echo "site,before,after"; for _ in $(seq 1 20000); do echo "x,missing.tif,b.tif"; done
  echo "x-2,missing.tif,b.tif"; echo "x-2,missing.tif,b.tif"; } >"$T/same.csv"
"$SD" batch "$T/same.csv" -o "$T/same" -q 2>/dev/null; rc=$?
[ $rc -eq 1 ] && [ "$(cut -d, -f6 "$T/same/summary.csv" | sort | uniq -d | wc -l)" = 0 ] &&
  [ "$(tail -3 "$T/same/summary.csv" | cut -d, -f6 | tr '\n' ' ')" = "x-20000 x-2-2 x-2-3 " ] && ok ||
  bad "20,000 equal names: exit $rc, $(tail -3 "$T/same/summary.csv" | cut -d, -f6 | tr '\n' ' ')"

finish
