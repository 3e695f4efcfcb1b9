#!/usr/bin/env bash
# test_gis_outputs.sh SITEDIFF: what a GIS opens. On a 1024² synthetic pair, --cog writes the
# mask, the magnitude and overlay.tif with LAYOUT=COG (the first two with overviews: overlay.tif is
# one 512² tile here), the same pixels as without it;
# --vector-format gpkg,kml writes objects.gpkg and objects.kml with every object (KML placemarks
# named "<rank> <class>" and styled per class); overlay.tif is RGBA on the grid's CRS with its
# origin and the pixel size times the overlay's factor. Without a georeference there is no
# overlay.tif. A bad --vector-format is refused.
set -u
SD=$1
. "$(dirname "$0")/lib.sh"
"$SD" synth "$T/p" --size 1024 --seed 4 >/dev/null 2>&1 || { echo "FAIL: synth"; exit 1; }
"$SD" compare "$T/p/before.tif" "$T/p/after.tif" -o "$T/plain" -q --overlay-max 512 || bad "plain compare failed"
"$SD" compare "$T/p/before.tif" "$T/p/after.tif" -o "$T/gis" -q --overlay-max 512 --cog --vector-format gpkg,kml ||
  bad "compare --cog --vector-format gpkg,kml failed"
# (overlay.tif is 512², one tile: a COG without overviews)
for f in change_mask.tif change_magnitude.tif overlay.tif; do
  info=$(gdalinfo "$T/gis/$f" 2>&1)
  echo "$info" | grep -q "LAYOUT=COG" && { [ $f = overlay.tif ] || echo "$info" | grep -q "Overviews:"; } &&
    ok || bad "$f is not a COG with overviews"
  gdalinfo "$T/plain/$f" | grep -q "LAYOUT=COG" && bad "$f is a COG without --cog" || ok
done
# The same pixels either way (band checksums).
for f in change_mask.tif change_magnitude.tif overlay.tif; do
  a=$(gdalinfo -checksum "$T/plain/$f" | grep Checksum= | head -4 | tr -d ' \n')
  b=$(gdalinfo -checksum "$T/gis/$f" | grep Checksum= | head -4 | tr -d ' \n')
  [ -n "$a" ] && [ "$a" = "$b" ] && ok || bad "$f: checksums $a (plain) and $b (--cog) differ"
done
python3 - "$T" <<'PY' && ok || bad "GIS outputs"
import json, subprocess, sys
t = sys.argv[1]
r = json.load(open(f"{t}/gis/report.json"))
n = r["objects"]["count"]
assert n >= 5, n
for f in ("objects.gpkg", "objects.kml", "overlay.tif"):
    assert f in r["outputs"], (f, r["outputs"])
plain = json.load(open(f"{t}/plain/report.json"))["outputs"]
assert "objects.gpkg" not in plain and "objects.kml" not in plain and "overlay.tif" in plain, plain
def ogr(path):  # (layer names, ranks, geometry types) from ogrinfo's text (GDAL 3.6 has no -json)
    text = subprocess.check_output(["ogrinfo", "-al", path], text=True)
    layers = [l.split(":", 1)[1].strip() for l in text.splitlines() if l.startswith("Layer name:")]
    ranks = [int(l.split("=")[1]) for l in text.splitlines() if l.strip().startswith("rank (Integer) =")]
    geoms = [l.split(":", 1)[1].strip() for l in text.splitlines() if l.startswith("Geometry:")]
    return layers, ranks, geoms
for f in ("objects.gpkg", "objects.kml"):
    layers, ranks, geoms = ogr(f"{t}/gis/{f}")
    assert layers == ["objects"] and sorted(ranks) == list(range(1, n + 1)), (f, layers, sorted(ranks), n)
kml = open(f"{t}/gis/objects.kml").read()
geo = json.load(open(f"{t}/gis/objects.geojson"))["features"]
for x in geo:
    p = x["properties"]
    assert f"<name>{p['rank']} {p['class']}</name>" in kml, p["rank"]
# each placemark outlined in its class's colour (KML colours are aabbggrr)
import re
colours = {"trench": "ff0096ff", "structure": "ff2828ff", "equipment": "ffffdc00", "area": "ffe600e6",
           "road": "ff00e6ff"}
marks = re.findall(r"<name>\d+ (\w+)</name>.*?<LineStyle><color>(\w+)</color>", kml, re.S)
assert len(marks) == n and all(colours[c] == col.lower() for c, col in marks), marks[:5]
assert ogr(f"{t}/gis/objects.gpkg")[2] == ["Multi Polygon"], ogr(f"{t}/gis/objects.gpkg")[2]
# overlay.tif on the grid: its CRS, its origin, its pixel size times the factor.
def info(path):
    return json.loads(subprocess.check_output(["gdalinfo", "-json", path]))
m, o = info(f"{t}/gis/change_mask.tif"), info(f"{t}/gis/overlay.tif")
f = r["overlay"]["grid_px_per_px"]
assert f == 2, f
gm, go = m["geoTransform"], o["geoTransform"]
assert abs(go[0] - gm[0]) < 1e-6 and abs(go[3] - gm[3]) < 1e-6, (gm, go)
assert abs(go[1] - f * gm[1]) < 1e-9 and abs(go[5] - f * gm[5]) < 1e-9, (gm, go)
assert o["coordinateSystem"]["wkt"] == m["coordinateSystem"]["wkt"], "overlay.tif has another CRS"
assert [b["colorInterpretation"] for b in o["bands"]] == ["Red", "Green", "Blue", "Alpha"], o["bands"]
assert o["size"] == [(m["size"][0] + f - 1) // f, (m["size"][1] + f - 1) // f], (o["size"], m["size"])
PY
# Not georeferenced: no overlay.tif, and nothing of it listed.
for d in before after; do
  gdal_translate -q --config GDAL_PAM_ENABLED NO -co PROFILE=BASELINE -outsize 512 512 "$T/p/$d.tif" "$T/n$d.tif" ||
    bad "gdal_translate"
done
if "$SD" compare "$T/nbefore.tif" "$T/nafter.tif" -o "$T/nogeo" -q --cog 2>"$T/nogeo.err"; then
  [ ! -e "$T/nogeo/overlay.tif" ] && ! grep -q overlay.tif "$T/nogeo/report.json" && ok || bad "overlay.tif without a georeference"
  gdalinfo "$T/nogeo/change_mask.tif" | grep -q "LAYOUT=COG" && ok || bad "no COG mask without a georeference"
  ls -A "$T/nogeo" | grep -q stream && bad "a scratch file was left: $(ls -A "$T/nogeo")" || ok
else
  bad "compare of a pair without georeference failed: $(cat "$T/nogeo.err")"
fi
"$SD" compare "$T/p/before.tif" "$T/p/after.tif" -o "$T/bad" -q --vector-format shp 2>"$T/bad.err"
[ $? -eq 2 ] && grep -q -- "--vector-format" "$T/bad.err" && ok || bad "--vector-format shp not refused: $(cat "$T/bad.err")"
finish
