#!/usr/bin/env python3
"""series_check.py TRUTH.json OUTDIR [--min-presence F] [--min-first-seen F]: scores a batch of a
`sitediff synth --series` site against its truth. Prints the figures; exits 1 below the bounds."""
import csv, json, math, sys

truth = json.load(open(sys.argv[1]))
out = sys.argv[2]
args = sys.argv[3:]
min_presence = float(args[args.index("--min-presence") + 1]) if "--min-presence" in args else 0.95
min_first = float(args[args.index("--min-first-seen") + 1]) if "--min-first-seen" in args else 0.90
site = truth["site"]
rows = list(csv.DictReader(open(f"{out}/series/{site}/series.csv")))
tracks = list(csv.DictReader(open(f"{out}/series/{site}/tracks.csv")))
base = {(r["date"], r["aoi"]): r for r in rows if r["pairs"] in ("baseline", "both") and r["status"] != "baseline"}

right = cells = unmarked = 0
wrong = []
for c in truth["cells"]:
    r = base.get((c["date"], c["aoi"]))
    assert r is not None, f"no series.csv row for {c['date']} {c['aoi']}"
    cells += 1
    if not c["observed"]:
        ok = r["status"] == "not observed" and r["objects"] == ""
        unmarked += not ok
    else:
        ok = r["status"] == "observed" and (int(r["objects"]) > 0) == (c["present"] > 0)
    right += ok
    if not ok:
        wrong.append(f"{c['date']} {c['aoi']}: truth observed={c['observed']} present={c['present']}, "
                     f"got {r['status']} objects={r['objects']}")
presence = right / cells

# Each truth object: the nearest track of its area (by the first sighting's grid position).
exact = scored = 0
for o in truth["objects"]:
    if o["first_observed"] is None:
        continue
    scored += 1
    near = [t for t in tracks if t["aoi"] == o["aoi"]]
    if not near:
        wrong.append(f"object {o['id']} ({o['kind']}): no track in {o['aoi']}")
        continue
    t = min(near, key=lambda t: math.hypot(float(t["x"]) - o["x"], float(t["y"]) - o["y"]))
    if t["first_seen"] == o["first_observed"]:
        exact += 1
    else:
        wrong.append(f"object {o['id']} ({o['kind']}): first seen {t['first_seen']}, truth {o['first_observed']}")
first = exact / scored if scored else 1.0
print(f"presence {right}/{cells} = {presence:.3f}; not observed unmarked {unmarked}; "
      f"first_seen exact {exact}/{scored} = {first:.3f}; tracks {len(tracks)} for {len(truth['objects'])} objects")
for w in wrong:
    print("  " + w)
sys.exit(0 if presence >= min_presence and first >= min_first and unmarked == 0 else 1)
