#!/usr/bin/env bash
# test_series.sh SITEDIFF: watching a site over time. A `synth --series` of 12 dates (objects
# arriving and leaving on known dates, a cloud over one area on one date, a date on another
# grid), compared with its baseline inside its areas of interest: presence right for at least 95 %
# of (date, area) cells, first_seen exact for at least 90 % of objects, every clouded cell "not
# observed" with no counts (series_check.py); a chart per area in index.html; a broken date
# "failed" in every area; shards merged into the same series; --pairs both, --baseline DATE and
# FILE, a <date>.mask.tif sidecar, GDAL's .aux.xml ignored; bad --baseline / --pairs refused. On the
# Joplin pair (when ../shared/data is there, not in the sanitizer build), a three-date series in
# an area around part of the town: the same objects found and matched on both later dates.
set -u
SD=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
# 512² (seed 7); in the sanitizer build, which is there for memory errors and runs 3-5x slower,
# 256² (seed 11, whose objects also leave) and the figures' bounds not judged (every clouded
# cell must still be marked)
size=512 seed=7 bounds=""
[ -n "${SD_SANITIZED:-}" ] && size=256 seed=11 bounds="--min-presence 0 --min-first-seen 0"
"$SD" synth "$T/s" --series 12 --size $size --seed $seed >/dev/null 2>&1 || { echo "FAIL: synth --series"; exit 1; }
[ "$(ls "$T/s/camp" | wc -l)" = 12 ] && [ -s "$T/s/aoi.geojson" ] && [ -s "$T/s/truth.json" ] && ok || bad "synth --series files"
"$SD" synth "$T/x" --series 3 >/dev/null 2>&1; [ $? -eq 2 ] && ok || bad "--series 3 accepted"

"$SD" batch --dir "$T/s" --baseline first --aoi "$T/s/aoi.geojson" -o "$T/b" -q; [ $? -eq 0 ] && ok || bad "series batch failed"
python3 "$HERE/series_check.py" "$T/s/truth.json" "$T/b" $bounds && ok || bad "presence / first_seen below the bounds"
python3 - "$T" <<'PY' && ok || bad "series outputs"
import csv, json, re, sys, xml.dom.minidom
t = sys.argv[1]
truth = json.load(open(f"{t}/s/truth.json"))
rows = list(csv.DictReader(open(f"{t}/b/series/camp/series.csv")))
areas = sorted({c["aoi"] for c in truth["cells"]})
dates = [d["date"] for d in truth["dates"]]
assert {(r["date"], r["aoi"]) for r in rows} == {(d, a) for d in dates for a in areas}, "a row per date and area"
assert all(r["status"] == "baseline" for r in rows if r["date"] == dates[0])
other = [d["date"] for d in truth["dates"] if d["grid"] != "the baseline's"][0]
assert all(r["status"] == "observed" and r["registration_grade"] for r in rows if r["date"] == other), "other grid"
cloud = [d for d in truth["dates"] if d["cloud_over"]][0]
r = [r for r in rows if r["date"] == cloud["date"] and r["aoi"] == cloud["cloud_over"]][0]
assert r["status"] == "not observed" and r["objects"] == "" and float(r["valid_share"]) < 0.5, r
tracks = list(csv.DictReader(open(f"{t}/b/series/camp/tracks.csv")))
g = json.load(open(f"{t}/b/series/camp/tracks.geojson"))
assert len(g["features"]) == len(tracks) > 0
assert all(-180 <= c[0] <= 180 for f in g["features"] for c in f["geometry"]["coordinates"][0]), "WGS84"
left = [o for o in truth["objects"] if o["disappears"]]
assert left, "the series has objects that leave"
for o in left:  # gone_by: the first observed date without it, when that is the truth's date
    near = min((t for t in tracks if t["aoi"] == o["aoi"]), key=lambda t: (float(t["x"]) - o["x"]) ** 2 + (float(t["y"]) - o["y"]) ** 2)
    assert near["last_seen"] < o["disappears"], (o, near)
html = open(f"{t}/b/index.html").read()
svgs = re.findall(r"<svg class=\"timeline\".*?</svg>", html, re.S)
assert len(svgs) == len(areas), (len(svgs), len(areas))
for s in svgs:
    xml.dom.minidom.parseString(s)
assert f"{cloud['date']}: not observed" in html
PY

# A date that cannot be read: failed in every area, marked so, the rest complete (exit 1).
mkdir -p "$T/f" && cp -r "$T/s/camp" "$T/f/" && echo "not a tiff" >"$T/f/camp/2026-06-01.tif"
touch "$T/f/camp/2026-01-05.tif.aux.xml"
cp -r "$T/b" "$T/bf" # the other dates are up to date there: only the broken one runs
"$SD" batch --dir "$T/f" --baseline first --aoi "$T/s/aoi.geojson" -o "$T/bf" -q 2>/dev/null; rc=$?
python3 - "$T" <<'PY' && [ $rc -eq 1 ] && ok || bad "a failed date (rc $rc)"
import csv, json, sys
t = sys.argv[1]
rows = list(csv.DictReader(open(f"{t}/bf/series/camp/series.csv")))
bad = [r for r in rows if r["date"] == "2026-06-01"]
n = len({c["aoi"] for c in json.load(open(f"{t}/s/truth.json"))["cells"]})
assert len(bad) == n and all(r["status"] == "failed" and r["objects"] == "" for r in bad), bad
assert not any("aux" in r["folder"] for r in rows)
assert "2026-06-01: failed" in open(f"{t}/bf/index.html").read()
PY

# Shards, then the merge: the same series as one run (the pairs up to date from the run above).
cp -r "$T/b" "$T/sh" && rm -rf "$T/sh/series" "$T/sh"/summary* "$T/sh/index.html"
for k in 1 2; do "$SD" batch --dir "$T/s" --baseline first --aoi "$T/s/aoi.geojson" -o "$T/sh" --shard $k/2 -q; done
[ ! -e "$T/sh/series" ] && ok || bad "a shard wrote the series"
"$SD" batch --merge -o "$T/sh" -q && cmp -s "$T/sh/series/camp/series.csv" "$T/b/series/camp/series.csv" &&
  cmp -s "$T/sh/series/camp/tracks.csv" "$T/b/series/camp/tracks.csv" && ok || bad "merged shards' series differ"

# --pairs both on a shorter series (17 pairs: the pairs array grows while scanning); the first
# baseline pair is the first consecutive one, run once; every object's dates are the pair's.
"$SD" synth "$T/m" --series 10 --size 128 --seed 3 >/dev/null 2>&1 || bad "synth small series"
"$SD" batch --dir "$T/m" --pairs both -o "$T/bb" -q; [ $? -eq 0 ] && ok || bad "--pairs both failed"
python3 - "$T" <<'PY' && ok || bad "--pairs both outputs"
import csv, json, sys
t = sys.argv[1]
s = json.load(open(f"{t}/bb/summary.json"))
assert len(s) == 17, len(s)
assert sorted(r["pairs"] for r in s).count(3) == 1, [r["pairs"] for r in s]
for r in s:
    g = json.load(open(f"{t}/bb/{r['folder']}/objects.geojson"))
    for f in g["features"]:
        assert f["properties"]["first_seen"] == r["date_after"] and f["properties"]["absent_on"] == r["date_before"], (r, f["properties"])
rows = list(csv.DictReader(open(f"{t}/bb/series/camp/series.csv")))
assert {r["pairs"] for r in rows} == {"baseline", "consecutive", "both"}
assert all(r["aoi"] == "" for r in rows)  # no --aoi: the whole scene, one row a date and pair kind
PY

# --baseline DATE and FILE; a mask beside a date hides it all: not observed, not failed.
second=$(ls "$T/m/camp" | sed -n 2p)
"$SD" batch --dir "$T/m" --baseline "${second%.tif}" -o "$T/bd" -q; [ $? -eq 0 ] &&
  python3 -c "import json,sys; s=json.load(open(sys.argv[1])); assert len(s)==9 and all(r['date_before']==sys.argv[2] for r in s)" "$T/bd/summary.json" "${second%.tif}" &&
  ok || bad "--baseline DATE"
cp "$T/m/camp/2026-01-05.tif" "$T/empty-pier.tif"
"$SD" batch --dir "$T/m" --baseline "$T/empty-pier.tif" -o "$T/bfile" -q; [ $? -eq 0 ] &&
  python3 -c "import json,sys; s=json.load(open(sys.argv[1])); assert len(s)==10 and all(r['date_before']=='baseline' for r in s)" "$T/bfile/summary.json" &&
  ok || bad "--baseline FILE"
third=$(ls "$T/m/camp" | sed -n 3p)
gdal_translate -q -b 1 -ot Byte -scale 0 65535 1 1 "$T/m/camp/$third" "$T/m/camp/${third%.tif}.mask.tif" || bad "mask"
"$SD" batch --dir "$T/m" --baseline first -o "$T/bm" -q; rc=$?
python3 - "$T/bm" "${third%.tif}" <<'PY' && [ $rc -eq 0 ] && ok || bad "a date's mask sidecar (rc $rc)"
import csv, json, sys
rows = list(csv.DictReader(open(f"{sys.argv[1]}/series/camp/series.csv")))
r = [r for r in rows if r["date"] == sys.argv[2]]
assert len(r) == 1 and r[0]["status"] == "not observed" and float(r[0]["valid_share"]) == 0, r
assert len(rows) == 10 and sum(r["status"] == "observed" for r in rows) >= 7, [r["status"] for r in rows]
assert json.load(open(f"{sys.argv[1]}/summary.json"))[0]["status"] in ("ok", "not observed")
assert f"{sys.argv[2]}: not observed" in open(f"{sys.argv[1]}/index.html").read()
PY

"$SD" batch --dir "$T/m" --baseline 1999-01-01 -o "$T/e1" 2>"$T/err"; [ $? -eq 2 ] && grep -q "site 'camp' has no image of that date" "$T/err" && ok || bad "--baseline of a missing date"
"$SD" batch --dir "$T/m" --baseline nosuch.tif -o "$T/e2" 2>"$T/err"; [ $? -eq 2 ] && grep -q "nosuch.tif" "$T/err" && ok || bad "--baseline of a missing file"
"$SD" batch --dir "$T/m" --pairs sometimes -o "$T/e3" 2>"$T/err"; [ $? -eq 2 ] && grep -q "consecutive, baseline or both" "$T/err" && ok || bad "--pairs sometimes"
# Real imagery: Joplin before the tornado and after it on two dates (the same image twice), inside
# an area drawn around part of the town: both dates observed with objects, and every track seen
# on both dates (the same objects found again and matched), first seen on the first date after.
J="$HERE/../../../shared/data/registration/joplin"
if [ ! -f "$J/before.tif" ]; then
  echo "Joplin series skipped: ../shared/data is not beside this checkout"
elif [ -n "${SD_SANITIZED:-}" ]; then
  echo "Joplin series skipped in the sanitizer build (its code runs on the synthetic series above)"
else
  mkdir -p "$T/j/joplin"
  ln -s "$J/before.tif" "$T/j/joplin/2011-05-20.tif"
  ln -s "$J/after.tif" "$T/j/joplin/2011-05-24.tif"
  ln -s "$J/after.tif" "$T/j/joplin/2011-05-25.tif"
  cat >"$T/joplin.geojson" <<'JSON'
{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"east blocks"},"geometry":{"type":"Polygon","coordinates":[[[-94.4935,37.0760],[-94.4870,37.0760],[-94.4870,37.0700],[-94.4935,37.0700],[-94.4935,37.0760]]]}}]}
JSON
  "$SD" batch --dir "$T/j" --baseline first --aoi "$T/joplin.geojson" -o "$T/jo" -q --segments off; [ $? -eq 0 ] && ok || bad "Joplin series failed"
  python3 - "$T/jo" <<'PY' && ok || bad "Joplin series outputs"
import csv, sys
o = sys.argv[1]
rows = [r for r in csv.DictReader(open(f"{o}/series/joplin/series.csv")) if r["status"] != "baseline"]
assert [(r["date"], r["aoi"], r["status"]) for r in rows] == [("2011-05-24", "east blocks", "observed"), ("2011-05-25", "east blocks", "observed")], rows
assert rows[0]["objects"] == rows[1]["objects"] and int(rows[0]["objects"]) > 20, rows
tracks = list(csv.DictReader(open(f"{o}/series/joplin/tracks.csv")))
assert len(tracks) == int(rows[0]["objects"]), (len(tracks), rows[0]["objects"])
for t in tracks:
    assert t["first_seen"] == "2011-05-24" and t["last_seen"] == "2011-05-25" and t["dates_seen"] == "2", t
    assert -94.4936 <= float(t["lon"]) <= -94.4869 and 37.0699 <= float(t["lat"]) <= 37.0761, t
PY
fi

printf 'site,before,after\n' >"$T/m.csv"
"$SD" batch "$T/m.csv" --baseline first -o "$T/e4" 2>"$T/err"; [ $? -eq 2 ] && grep -q "need --dir" "$T/err" && ok || bad "--baseline without --dir"
finish
