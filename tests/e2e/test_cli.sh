#!/usr/bin/env bash
# test_cli.sh: the command line as a user meets it: usage errors and their exit code, a good run
# and its outputs, scoring, other data types, the bench's JSON.
set -u
SD=$1
. "$(dirname "$0")/lib.sh"

# expect CODE PATTERN -- command...: exit code and a message on stderr matching PATTERN
expect() {
  local code=$1 pat=$2
  shift 3
  "$@" >"$T/out.txt" 2>"$T/err.txt"
  local rc=$?
  if [ "$rc" -ne "$code" ]; then bad "'$*' exited $rc, expected $code: $(cat "$T/err.txt")"; return; fi
  if [ -n "$pat" ] && ! grep -qE -- "$pat" "$T/err.txt"; then
    bad "'$*' message does not match /$pat/: $(cat "$T/err.txt")"; return
  fi
  ok
}
# no_outputs DIR: a failed run left nothing (the folder is absent or empty)
no_outputs() {
  if [ -d "$1" ] && [ -n "$(ls -A "$1")" ]; then bad "failed run left files in $1: $(ls -A "$1")"; else ok; fi
}

"$SD" synth "$T/p" --size 128 --seed 3 >/dev/null 2>&1 || bad "synth failed"
B=$T/p/before.tif A=$T/p/after.tif

expect 2 "usage" -- "$SD"
expect 2 "unknown command" -- "$SD" frobnicate
expect 0 "" -- "$SD" compare --help
expect 2 "two images" -- "$SD" compare "$B" -o "$T/o"
expect 2 "-o OUTDIR" -- "$SD" compare "$B" "$A"
expect 2 "unknown option --bogus" -- "$SD" compare "$B" "$A" -o "$T/o" --bogus
expect 2 "--threads: 'abc'" -- "$SD" compare "$B" "$A" -o "$T/o" --threads abc
expect 2 "--grid: 'sideways'" -- "$SD" compare "$B" "$A" -o "$T/o" --grid sideways
expect 2 "--min-area: '-5'" -- "$SD" compare "$B" "$A" -o "$T/o" --min-area -5
expect 2 "--size" -- "$SD" synth "$T/s" --size 10
no_outputs "$T/o"

# Bad and odd inputs (missing, empty, truncated, huge headers, no overlap, nodata ...) are the
# corpus of tests/hostile/make_corpus.sh, run by test_hostile_corpus.sh.

# A good run: exit 0, five outputs, a report that parses and says what it did.
expect 0 "" -- "$SD" compare "$B" "$A" -o "$T/good" -q
for f in change_mask.tif change_magnitude.tif objects.geojson overlay.png report.json; do
  if [ -s "$T/good/$f" ]; then ok; else bad "missing $f"; fi
done
if [ -z "$(ls -A "$T/good" | grep tmp)" ]; then ok; else bad "temporary files left"; fi
if grep -q '"dx"' "$T/good/report.json" && grep -q '"by_class"' "$T/good/report.json"; then ok; else bad "report incomplete"; fi
expect 0 "" -- "$SD" score "$T/good/change_mask.tif" "$T/p/truth.tif"
grep -qE "F1 0\.[5-9]|F1 1\.0" "$T/out.txt" && ok || bad "score output: $(cat "$T/out.txt")"

# Other data types: Float32 after against a Byte before (rescaled), still finds the change.
gdal_translate -q -ot Float32 "$A" "$T/after_f32.tif"
gdal_translate -q -ot Byte -scale 0 10000 0 255 "$B" "$T/before_u8.tif"
expect 0 "" -- "$SD" compare "$T/before_u8.tif" "$T/after_f32.tif" -o "$T/types" -q
expect 0 "" -- "$SD" score "$T/types/change_mask.tif" "$T/p/truth.tif" --json
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if s["f1"] >= 0.7 and s["object_recall"] >= 0.8 else 1)' "$T/out.txt" \
  && ok || bad "Byte/Float32 pair scored $(cat "$T/out.txt")"
# Int16 with a single band (panchromatic) on both sides.
"$SD" synth "$T/pan" --size 128 --seed 4 --bands 1 >/dev/null 2>&1 || bad "synth --bands 1 failed"
gdal_translate -q -ot Int16 "$T/pan/after.tif" "$T/pan/after_i16.tif"
expect 0 "" -- "$SD" compare "$T/pan/before.tif" "$T/pan/after_i16.tif" -o "$T/pan/out" -q
if grep -q '"bands_compared": 1' "$T/pan/out/report.json"; then ok; else bad "single-band report"; fi

# The bench harness: small, but every section present and consistent. No speed is asserted: the
# CPU differs from run to run (a bandwidth-fraction bound failed a fresh ./dev test that way).
expect 0 "" -- "$SD" bench --size 128 --kernel-mpx 1 --repeats 1 --threads 2 --workdir "$T/bench" --json "$T/bench.json"
python3 - "$T/bench.json" <<'PY' && ok || bad "bench JSON incomplete: $(head -c 300 "$T/bench.json")"
import json, sys
b = json.load(open(sys.argv[1]))
f = b["kernel"]["fraction_of_bandwidth"]
assert isinstance(f, float) and f == f and f > 0, f  # measured and reported, whatever its size
assert b["machine"]["vector_bits"] in (128, 256, 512)
assert len(b["bandwidth"]) == 2 and b["bandwidth"][0]["read_gb_per_s"] > 0
assert any(r["version"] == "reference" for r in b["kernel"]["runs"])
# fast runs at 1 and 2 threads for every case, and the targets judge both counts.
assert b["machine"]["fast_kernel"] in ("AVX-512", "compiler-vectorised C")
fast = [(r["type"], r["bands"], r["threads"]) for r in b["kernel"]["runs"] if r["version"] == "fast"]
assert len(fast) == 10 and {t for _, _, t in fast} == {1, 2}, fast
assert (b["machine"]["fast_kernel"] == "AVX-512") == any(r["version"] == "vec" for r in b["kernel"]["runs"])
kt = [t for t in b["targets"] if "kernel" in t]
assert len(kt) == 5 and all(t["n_threads"] == 2 and t["fraction_1_thread"] > 0 and t["fraction_n_threads"] > 0
                            and t["met"] == (t["fraction_1_thread"] >= 0.85 and t["fraction_n_threads"] >= 0.85)
                            for t in kt), kt
assert b["pipeline"]["seconds"]["total"] > 0 and b["pipeline"]["peak_rss_mib"] > 0
# Decoding both inputs with GDAL alone, and the pipeline's ratio to it, judged against 2x.
d = b["decode_both"]
assert d["before_seconds"] > 0 and d["after_seconds"] > 0 and abs(d["seconds"] - d["before_seconds"] - d["after_seconds"]) < 1e-9
assert abs(d["pipeline_ratio"] - b["pipeline"]["seconds"]["total"] / d["seconds"]) < 1e-6 * d["pipeline_ratio"]
dt = [t for t in b["targets"] if t.get("pipeline_vs") == "decoding both inputs"]
assert len(dt) == 1 and dt[0]["met"] == (dt[0]["ratio"] <= 2), dt
# The diff stage's parts: reading each image, the kernel, writing the magnitude, within the stage.
sec = b["pipeline"]["seconds"]
parts = [sec[k] for k in ("diff_read_before", "diff_read_warp_after", "diff_kernel", "diff_write_magnitude")]
assert all(p > 0 for p in parts) and sum(parts) <= sec["diff"] * 1.001, sec
assert len(b["decode"]) == 2 and all(d["identical"] and d["gdal_mpx_per_s"] > 0 and d["libtiff_mpx_per_s"] > 0
                                     for d in b["decode"]), b["decode"]
PY
expect 2 "--kernel-mpx" -- "$SD" bench --kernel-mpx 0

finish
