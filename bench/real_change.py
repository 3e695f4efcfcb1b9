#!/usr/bin/python3
"""real_change.py SITEDIFF DATA OUT [--sets a,b] [--peer] [-- COMPARE OPTIONS...]

Scores sitediff on the labelled real pairs of DATA/change (../shared/data/change): per pair and
per set, pixel precision, recall and F1, and the mask's objects (8-connected components): how
many, the share touching truth (object precision) and the false ones per Mpx and per km² where the
set's pixel size is known. --peer also runs bench/plain_numpy.py (the plain numpy way) on each
pair. Writes OUT/results.json and prints markdown tables. Options after -- go to every compare."""
import json
import os
import subprocess
import sys

PIXEL_M = {"oscd": 10, "levir-cd": 0.5, "levir-cd-1024": 0.5, "sztaki": 1.5}  # from the data's README
SETS = ["oscd", "levir-cd", "levir-cd-1024", "dsifn", "sztaki", "egy-bcd"]


def score(sd, mask, truth):
    r = subprocess.run([sd, "score", mask, truth, "--json"], capture_output=True, text=True)
    return json.loads(r.stdout) if r.returncode == 0 else None


def size_of(path):
    out = subprocess.check_output(["gdalinfo", "-json", path], text=True)
    w, h = json.loads(out)["size"]
    return w * h


def main():
    args = sys.argv[1:]
    extra = args[args.index("--") + 1:] if "--" in args else []
    args = args[:args.index("--")] if "--" in args else args
    peer = "--peer" in args
    sets = SETS
    if "--sets" in args:
        sets = args[args.index("--sets") + 1].split(",")
    pos = [a for i, a in enumerate(args) if not a.startswith("--") and (i == 0 or args[i - 1] != "--sets")]
    sd, data, out = os.path.realpath(pos[0]), pos[1], pos[2]
    here = os.path.dirname(os.path.realpath(__file__))
    os.makedirs(out, exist_ok=True)
    rows = []
    for st in sets:
        root = os.path.join(data, "change", st)
        for name in sorted(os.listdir(root)):
            d = os.path.join(root, name)
            truth = os.path.join(d, "truth.tif")
            o = os.path.join(out, st, name)
            subprocess.run(["rm", "-rf", o])
            r = subprocess.run([sd, "compare", f"{d}/before.tif", f"{d}/after.tif", "-o", o, "-q"] + extra,
                               capture_output=True, text=True)
            row = {"set": st, "pair": name, "px": size_of(truth)}
            row["sitediff"] = score(sd, f"{o}/change_mask.tif", truth) if r.returncode == 0 else None
            if peer:
                pm = os.path.join(out, st, name + "-numpy.tif")
                subprocess.run(["/usr/bin/python3", os.path.join(here, "plain_numpy.py"), f"{d}/before.tif",
                                f"{d}/after.tif", pm], capture_output=True)
                row["numpy"] = score(sd, pm, truth) if os.path.exists(pm) else None
            rows.append(row)
            print(st, name, {k: (v and round(v["f1"], 3)) for k, v in row.items() if k in ("sitediff", "numpy")},
                  file=sys.stderr, flush=True)
    json.dump(rows, open(os.path.join(out, "results.json"), "w"), indent=1)
    tools = ["sitediff"] + (["numpy"] if peer else [])

    def cells(s, px, st):
        if not s:
            return "failed | | | | |"
        false = s["objects"] - s["objects_on_truth"]
        km2 = px * PIXEL_M[st] ** 2 / 1e6 if st in PIXEL_M else None
        per_km2 = f"{false / km2:.0f}" if km2 else "–"
        return (f"{s['precision']:.3f} | {s['recall']:.3f} | **{s['f1']:.3f}** | {s['object_precision']:.2f} | "
                f"{false / (px / 1e6):.0f} | {per_km2}")

    head = " | ".join(f"{t}: P | R | F1 | obj P | false/Mpx | false/km²" for t in tools)
    print(f"| set | pair | {head} |")
    print("|---|---|" + "---|" * (6 * len(tools)))
    for r in rows:
        print(f"| {r['set']} | {r['pair']} | " + " | ".join(cells(r.get(t), r["px"], r["set"]) for t in tools) + " |")
    print()
    print("| set | pairs | " + " | ".join(f"{t} mean P | R | F1 | obj P" for t in tools) + " |")
    print("|---|---|" + "---|" * (4 * len(tools)))
    allf = {t: [] for t in tools}
    for st in sets:
        rs = [r for r in rows if r["set"] == st]
        line = f"| {st} | {len(rs)} |"
        for t in tools:
            ss = [r[t] or {"precision": 0, "recall": 0, "f1": 0, "object_precision": 0} for r in rs]
            allf[t] += [s["f1"] for s in ss]
            m = lambda k: sum(s[k] for s in ss) / len(ss)
            line += f" {m('precision'):.3f} | {m('recall'):.3f} | **{m('f1'):.3f}** | {m('object_precision'):.2f} |"
        print(line)
    print("| all | " + str(len(rows)) + " |" + "".join(
        f" | | **{sum(v) / len(v):.3f}** | |" for v in allf.values()))


if __name__ == "__main__":
    main()
