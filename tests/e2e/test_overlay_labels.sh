#!/usr/bin/env bash
# test_overlay_labels.sh SITEDIFF: the overlay stays readable at any object count. A 512² synthetic
# pair tiled 13 x 13 (6656², about 1,700 objects) is compared with a 1024-px overlay; report.json
# lists the rank numbers the renderer placed: the best ranks, none overlapping another, all inside
# the overlay panel, as many as the panel's budget allows, and the legend's count is theirs. In
# the sanitizer build (for memory errors, 3-5x slower) the pair is tiled 7 x 7 (about 500 objects).
set -u
SD=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
cd "$T"
tiles=13 least=1500
[ -n "${SD_SANITIZED:-}" ] && tiles=7 least=400
"$SD" synth p --size 512 --seed 3 --after-scale 1 --shift 0,0 >/dev/null 2>&1 || { echo "FAIL: synth"; exit 1; }
# The after image on the before grid, so both mosaics line up tile for tile.
gdalwarp -q -te 499872.125 5599872 500128.125 5600128 -tr 0.5 0.5 -r cubic p/after.tif p/after_on.tif ||
  { echo "FAIL: gdalwarp"; exit 1; }
for x in before after_on; do python3 "$HERE/../../bench/mosaic.py" "$T/p/$x.tif" $tiles $tiles $x.vrt || bad "mosaic"; done
"$SD" compare before.vrt after_on.vrt -o out -q --overlay-max 1024 || bad "compare of the mosaic failed"
python3 - out/report.json $least <<'PY' && ok || bad "overlay labels"
import json, sys
r = json.load(open(sys.argv[1]))
n, ov = r["objects"]["count"], r["overlay"]
labels = ov["labels"]
assert n >= int(sys.argv[2]), f"only {n} objects"
assert ov["numbered"] == len(labels) and 20 <= len(labels) < n, ov["numbered"]
# 1024 px across at text scale 2: one label per 120 x 120 px of the panel at most
side = r["grid"]["width"] // ov["grid_px_per_px"] + 1
assert len(labels) <= side * side // (120 * 120), len(labels)
ranks = [l[0] for l in labels]
assert ranks == sorted(ranks) and ranks[0] == 1 and len(set(ranks)) == len(ranks), ranks[:10]
for i, (_, x, y, w, h) in enumerate(labels):
    assert x >= 0 and y >= 0 and x + w <= side and y + h <= side, labels[i]
    for (_, x2, y2, w2, h2) in labels[:i]:
        assert not (x < x2 + w2 and x2 < x + w and y < y2 + h2 and y2 < y + h), (labels[i], (x2, y2, w2, h2))
PY
finish
