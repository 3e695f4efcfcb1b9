#!/usr/bin/env bash
# test_memory.sh SITEDIFF: memory is bounded by the block size, not by the grid. The same 1024²
# synthetic pair is tiled into two mosaics of equal width, 5 x 1 and 5 x 5 tiles (5120 x 1024 and
# 5120 x 5120); both are compared in 256-row blocks with the magnitude read back from its file.
# The taller grid has 5 times the pixels and objects, but its peak RSS may exceed the shorter
# one's by less than 24 MiB (GDAL's block cache, set to 16 MiB here, fills further on the larger
# grid): holding the grid (magnitude, mask, labels, distances: 12 bytes a pixel) would add
# 240 MiB. Objects must be found on every tile (they cross the blocks).
# Skipped under AddressSanitizer, whose shadow memory is not the program's.
set -u
SD=$1
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
if [ -n "${SD_SANITIZED:-}" ]; then
  echo "test_memory: skipped: resident memory means nothing under a sanitizer"
  exit 77 # meson's code for a skipped test
fi
cd "$T"
"$SD" synth p --size 1024 --seed 3 --after-scale 1 --shift 0,0 >/dev/null 2>&1 || { echo "FAIL: synth"; exit 1; }
# The after image on the before grid, so both mosaics line up tile for tile.
gdalwarp -q -te 499744.125 5599744 500256.125 5600256 -tr 0.5 0.5 -r cubic p/after.tif p/after_on.tif ||
  { echo "FAIL: gdalwarp"; exit 1; }
mosaic() { python3 "$HERE/../../bench/mosaic.py" "$@"; }
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
for n in 1 5; do
  # Written out as single tiled files: a mosaic's 25 sources would each hold GDAL's per-file state.
  for x in before after_on; do
    mosaic "$T/p/$x.tif" 5 $n $x$n.vrt && gdal_translate -q -co TILED=YES $x$n.vrt $x$n.tif || bad "mosaic"
  done
  GDAL_CACHEMAX=16 "$SD" compare before$n.tif after_on$n.tif -o out$n -q --block-rows 256 --low-memory --overlay-max 512 ||
    bad "compare of the 5 x $n mosaic failed"
done
read -r rss1 obj1 rss5 obj5 held det < <(python3 - <<'PY'
import json
r1, r5 = (json.load(open(f"out{n}/report.json")) for n in (1, 5))
print(r1["memory"]["peak_rss_mib"], r1["objects"]["count"], r5["memory"]["peak_rss_mib"], r5["objects"]["count"],
      int(r5["memory"]["magnitude_held"]), r5["memory"]["detect_rows"])
PY
) || { bad "reports unreadable"; echo "$pass passed, $fail failed"; exit 1; }
echo "5 x 1 tiles (5120 x 1024): peak RSS $rss1 MiB, $obj1 objects; 5 x 5 tiles (5120 x 5120): $rss5 MiB, $obj5 objects"
[ "$held" = 0 ] && [ "$det" = 256 ] && ok || bad "magnitude held ($held) or detection rows $det, not 256"
python3 -c "import sys; sys.exit(0 if $rss5 - $rss1 < 24 else 1)" && ok ||
  bad "peak RSS grew by $(python3 -c "print(round($rss5 - $rss1))") MiB for 5 times the rows (bound: 24)"
# Every tile holds the same objects, so the taller mosaic has about 5 times as many (tiles' edges
# join a few across the seams); far fewer would mean objects lost between blocks.
python3 -c "import sys; sys.exit(0 if $obj5 >= 4.5 * $obj1 and $obj1 >= 40 else 1)" && ok ||
  bad "$obj5 objects on 25 tiles against $obj1 on 5"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
