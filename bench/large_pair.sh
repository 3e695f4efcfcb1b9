#!/usr/bin/env bash
# large_pair.sh SITEDIFF DIR [TILES] [TILE]: peak memory of `sitediff compare` on a large pair.
# Makes a TILE² synthetic 4-band UInt16 pair (default 3000), resamples the after image onto the
# before grid (its uncovered edges nodata), tiles each TILES x TILES times (default 10: a
# 30000 x 30000 pair) into DEFLATE-tiled GeoTIFFs (about 5 GB each at 30000²), compares them with
# default options and prints the stage seconds and the peak RSS from report.json and from the
# kernel (GNU time). Needs gdal-bin, python3 and about 15 GB free in DIR at 30000².
set -eu
SD=$(realpath "$1") D=$2 N=${3:-10} S=${4:-3000}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$D"
cd "$D"
[ -f p/before.tif ] || "$SD" synth p --size "$S" --seed 11 --after-scale 1 --shift 0,0 >/dev/null
read -r x0 y0 x1 y1 res < <(gdalinfo -json p/before.tif | python3 -c '
import json, sys
i = json.load(sys.stdin); g = i["geoTransform"]; w, h = i["size"]
print(g[0], g[3] + g[5] * h, g[0] + g[1] * w, g[3], g[1])')
gdalwarp -q -overwrite -te "$x0" "$y0" "$x1" "$y1" -tr "$res" "$res" -r cubic -dstnodata 0 \
  -co TILED=YES -co COMPRESS=DEFLATE p/after.tif p/after_on.tif
for x in before after_on; do
  python3 "$HERE/mosaic.py" "$PWD/p/$x.tif" "$N" "$N" "$x.vrt"
  [ -f "$x-large.tif" ] || gdal_translate -q -co TILED=YES -co COMPRESS=DEFLATE -co NUM_THREADS=ALL_CPUS \
    -co BIGTIFF=YES "$x.vrt" "$x-large.tif"
done
rm -rf out
/usr/bin/time -f "%e s wall, peak RSS %M KiB (GNU time)" "$SD" compare before-large.tif after_on-large.tif -o out -q
python3 - <<'PY'
import json
r = json.load(open("out/report.json"))
print("grid", r["grid"]["width"], "x", r["grid"]["height"], "| objects", r["objects"]["count"],
      "| seconds", {k: round(v, 1) for k, v in r["seconds"].items()}, "| memory", r["memory"])
PY
