#!/usr/bin/env bash
# test_mpi.sh: one batch across 2 MPI ranks on this machine: every pair done once, each rank's
# shard summary written, the merged summary complete.
set -u
SD=$1 SDMPI=$2
. "$(dirname "$0")/lib.sh"
printf 'site,before,after\n' >"$T/m.csv"
for i in 1 2 3 4 5; do
  "$SD" synth "$T/p$i" --size 96 --seed $i >/dev/null 2>&1 || bad "synth $i"
  echo "site $i,p$i/before.tif,p$i/after.tif" >>"$T/m.csv"
done
echo "broken,p1/before.tif,missing.tif" >>"$T/m.csv"
mpirun --allow-run-as-root --oversubscribe -np 2 "$SDMPI" batch "$T/m.csv" -o "$T/out" -q >"$T/log" 2>&1
rc=$?
[ $rc -eq 1 ] && ok || bad "mpirun exited $rc, expected 1 (one pair fails): $(cat "$T/log")"
for k in 1 2; do [ -s "$T/out/summary.shard-$k-of-2.json" ] && ok || bad "no summary from rank $((k - 1))"; done
python3 - "$T/out" <<'PY' && ok || bad "merged summary"
import json, sys
s = json.load(open(sys.argv[1] + "/summary.json"))
st = sorted((r["site"], r["status"]) for r in s)
assert st == [("broken", "failed")] + [("site %d" % i, "ok") for i in range(1, 6)], st
a = json.load(open(sys.argv[1] + "/summary.shard-1-of-2.json"))
b = json.load(open(sys.argv[1] + "/summary.shard-2-of-2.json"))
assert len(a) == 3 and len(b) == 3 and not {r["site"] for r in a} & {r["site"] for r in b}
PY
finish
