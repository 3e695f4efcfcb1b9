#!/usr/bin/env bash
# test_aoi.sh SITEDIFF: --aoi restricts detection and outputs to the areas. A synthetic pair with
# an area over its west half (a GeoJSON in WGS84, another CRS than the images'): every object
# carries the area's name and lies in it, the mask is nodata (255) east of it, report.json counts
# the area's objects and its valid share; a file with no polygon is refused with its name. On the
# Joplin pair (when ../shared/data is there; not in the sanitizer build), an area around part of
# the town: only objects inside it.
set -u
SD=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
"$SD" synth "$T/p" --size 512 --seed 5 >/dev/null 2>&1 || { echo "FAIL: synth"; exit 1; }
# The west half of the before grid, in WGS84.
read -r x0 y1 x1 y0 < <(gdalinfo "$T/p/before.tif" | python3 -c '
import re, sys
t = sys.stdin.read()
o = [float(v) for v in re.search(r"Origin = \(([-\d.]+),([-\d.]+)\)", t).groups()]
print(o[0], o[1], o[0] + 128.0, o[1] - 256.0)')
cat >"$T/west_utm.geojson" <<JSON
{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:32636"}},"features":[
{"type":"Feature","properties":{"name":"west"},"geometry":{"type":"Polygon","coordinates":[[[$x0,$y1],[$x1,$y1],[$x1,$y0],[$x0,$y0],[$x0,$y1]]]}}]}
JSON
ogr2ogr -q -t_srs EPSG:4326 "$T/west.geojson" "$T/west_utm.geojson" || bad "ogr2ogr"
"$SD" compare "$T/p/before.tif" "$T/p/after.tif" -o "$T/all" -q || bad "compare failed"
"$SD" compare "$T/p/before.tif" "$T/p/after.tif" -o "$T/west" -q --aoi "$T/west.geojson" || bad "compare --aoi failed"
python3 - "$T" <<'PY' && ok || bad "aoi outputs"
import json, sys
t = sys.argv[1]
r = json.load(open(f"{t}/west/report.json"))
areas = r["aoi"]["areas"]
assert [a["name"] for a in areas] == ["west"], areas
a = areas[0]
# (the grid is the overlap of both images, a little smaller than before's 512²)
assert 0.8 * 512 * 256 < a["pixels"] <= 512 * 256 and a["valid_share"] > 0.5 and a["observed"], a
objs = json.load(open(f"{t}/west/objects.geojson"))["features"]
assert len(objs) == a["objects"] == r["objects"]["count"] > 0, (len(objs), a["objects"])
for f in objs:
    p = f["properties"]
    assert p["aoi"] == "west" and p["centroid_x"] < 257, p
# every object of the whole run west of the line is found again with the area
full = json.load(open(f"{t}/all/objects.geojson"))["features"]
west = [f for f in full if f["properties"]["bbox_x1"] < 250]
assert len(objs) >= len(west) > 0, (len(objs), len(west))
PY
# East of the area the mask is nodata.
east=$(gdallocationinfo -valonly "$T/west/change_mask.tif" 400 200)
west=$(gdallocationinfo -valonly "$T/west/change_mask.tif" 100 200)
[ "$east" = 255 ] && [ "$west" != 255 ] && ok || bad "mask east $east, west $west (255 = nodata expected east only)"
echo '{"type":"FeatureCollection","features":[]}' >"$T/empty.geojson"
"$SD" compare "$T/p/before.tif" "$T/p/after.tif" -o "$T/empty" -q --aoi "$T/empty.geojson" 2>"$T/empty.err"
[ $? -eq 1 ] && grep -q "empty.geojson: holds no polygon" "$T/empty.err" && [ ! -e "$T/empty/report.json" ] &&
  ok || bad "an empty AOI file was not refused: $(cat "$T/empty.err")"
J="$HERE/../../../shared/data/registration/joplin"
if [ -n "${SD_SANITIZED:-}" ]; then
  echo "Joplin check skipped in the sanitizer build (its code runs on the synthetic pair above)"
elif [ -f "$J/before.tif" ]; then
  cat >"$T/joplin.geojson" <<'JSON'
{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"east blocks"},"geometry":{"type":"Polygon","coordinates":[[[-94.4935,37.0760],[-94.4870,37.0760],[-94.4870,37.0700],[-94.4935,37.0700],[-94.4935,37.0760]]]}}]}
JSON
  "$SD" compare "$J/before.tif" "$J/after.tif" -o "$T/joplin" -q --aoi "$T/joplin.geojson" --segments off || bad "Joplin with an AOI failed"
  python3 - "$T/joplin" <<'PY' && ok || bad "Joplin objects outside the AOI"
import json, sys
g = json.load(open(sys.argv[1] + "/objects.geojson"))["features"]
assert len(g) > 20, len(g)
for f in g:
    for ring in (f["geometry"]["coordinates"] if f["geometry"]["type"] == "Polygon" else
                 [r for poly in f["geometry"]["coordinates"] for r in poly]):
        for lon, lat in ring:  # pixel outlines may reach half a pixel past the edge
            assert -94.49352 <= lon <= -94.48698 and 37.06998 <= lat <= 37.07602, (f["properties"]["id"], lon, lat)
    assert f["properties"]["aoi"] == "east blocks"
PY
else
  echo "Joplin check skipped: ../shared/data is not beside this checkout"
fi
finish
