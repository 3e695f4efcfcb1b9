#!/usr/bin/env bash
# test_disk_full.sh: `sitediff compare` onto a small tmpfs that fills while one output or another
# is written (each of the eight in turn, three runs each, one thread; then at two threads while
# several are written at once): exit 1, one message that says "No space left on device" and
# names that output's path, no raw GDAL line, and nothing left behind (no partial outputs, no
# temporaries); a folder holding a previous set keeps it as it was. Needs to mount a tmpfs: as
# root, else inside `unshare -rm`; skips (77) when neither is allowed.
set -u
SD=$(realpath "$1")
. "$(dirname "$0")/lib.sh"
M=$T/disk
mkdir -p "$M"
# The tmpfs goes away with the test, whatever stops it.
trap 'umount "$M" 2>/dev/null || umount -l "$M" 2>/dev/null; rm -rf "$T"' EXIT
OUTS="change_magnitude.tif change_mask.tif objects.geojson tie_points.geojson overlay.png overlay.tif report.html report.json" # as written

"$SD" synth "$T/p" --size 256 >/dev/null 2>&1 || { bad "synth failed"; finish; exit 1; }
# One thread: the outputs are written one after another in the order above, so the disk can be
# made to fill inside each (with threads the vectors, overlays and page are written at once).
run() { "$SD" compare "$T/p/before.tif" "$T/p/after.tif" -q --threads 1 "$@"; }
run -o "$T/ref" || { bad "the run on a disk with room failed"; finish; exit 1; }
total=0
for f in $OUTS; do total=$((total + $(stat -c %s "$T/ref/$f"))); done

# Room for two sets (the previous one and a new one) and a block of slack per file.
size_k=$((2 * total / 1024 + 12 * 64))
if ! mount -t tmpfs -o size=${size_k}k tmpfs "$M" 2>"$T/mount.err"; then
  if [ -z "${SD_DISK_FULL_NS:-}" ] && unshare -rm true 2>/dev/null; then
    rm -rf "$T"
    SD_DISK_FULL_NS=1 exec unshare -rm bash "$0" "$SD"
  fi
  echo "skipped: cannot mount a tmpfs here ($(tr "\n" " " <"$T/mount.err")), and unshare -rm is not permitted"
  exit 77
fi

bs=$(stat -f -c %S "$M") # the tmpfs counts whole pages
pages() { echo $((($(stat -c %s "$1") + bs - 1) / bs)); }
# fill_to PAGES: a filler file leaves exactly PAGES pages of the tmpfs free.
fill_to() {
  rm -f "$M/filler"
  head -c $((($(stat -f -c %a "$M") - $1) * bs)) /dev/zero >"$M/filler"
}
leftovers() { ls -A "$1" | grep -e '\.sitediff-' -e '\.tmp-'; }
# check NAME DIR TARGET: the last run failed on TARGET for want of space and left DIR clean
check() {
  local name=$1 dir=$2 target=$3
  if [ "$rc" -ne 1 ]; then bad "$name: exit $rc, expected 1: $(head -c 400 "$T/err")"; return; fi
  if ! grep -qF "No space left on device" "$T/err"; then bad "$name: no 'No space left on device' in: $(cat "$T/err")"; return; fi
  # the path written to: in a hidden folder beside OUTDIR, or OUTDIR/.<name>.tmp-<pid>-<n>
  if ! grep -qE "^sitediff compare: .*$M/[^ ]*$target(\.tmp-[0-9]+-[0-9]+)?: .*No space left on device" "$T/err"; then
    bad "$name: the message does not name $M/.../$target: $(cat "$T/err")"; return
  fi
  if [ "$(grep -c '^sitediff compare: ' "$T/err")" -ne 1 ]; then bad "$name: not one message: $(cat "$T/err")"; return; fi
  if grep -qE '^(ERROR|Warning) [0-9]+: ' "$T/err"; then bad "$name: a raw GDAL line on stderr: $(cat "$T/err")"; return; fi
  if grep -v '^sitediff' "$T/err" | grep -q .; then bad "$name: a line not of ours on stderr: $(cat "$T/err")"; return; fi
  if [ -n "$(leftovers "$M")" ] || [ -n "$(leftovers "$dir")" ]; then bad "$name: temporaries left: $(ls -A "$M" "$dir")"; return; fi
  ok
}

# A fresh output folder: the disk fills inside each output in turn (the ones before it fit, half
# of it does not), so each writer's error is seen, the GeoTIFFs' and the GeoJSON, PNG and JSON's.
before=0
for f in $OUTS; do
  p=$(pages "$T/ref/$f")
  for i in 1 2 3; do
    rm -rf "$M/out"
    fill_to $((before + p / 2))
    run -o "$M/out" 2>"$T/err"
    rc=$?
    # objects.geojson is made from a scratch file of the mask's polygons beside it
    target=$f
    [ "$f" = objects.geojson ] && target='objects\.geojson(\.polygons\.fgb)?'
    check "full while writing $f (run $i)" "$M" "$target"
    [ ! -e "$M/out" ] && ok || bad "full while writing $f (run $i): the output folder was left: $(ls -A "$M/out")"
  done
  before=$((before + p))
done

# Two threads: the disk fills while the vectors, the overlays and the page are written at once;
# whichever writer meets it first is named, alone, and nothing is left.
before=0
for g in $OUTS; do [ "$g" = objects.geojson ] && break; before=$((before + $(pages "$T/ref/$g"))); done
rest=0
for g in objects.geojson overlay.png overlay.tif tie_points.geojson report.html; do
  rest=$((rest + $(pages "$T/ref/$g")))
done
for i in 1 2 3; do
  rm -rf "$M/out"
  fill_to $((before + rest * i / 4))
  "$SD" compare "$T/p/before.tif" "$T/p/after.tif" -q --threads 2 -o "$M/out" 2>"$T/err"
  rc=$?
  check "2 threads, full while writing the vectors, overlays and page ($i/4 of them fit)" "$M" '[^ :]+'
  [ ! -e "$M/out" ] && ok || bad "2 threads, full ($i/4): the output folder was left: $(ls -A "$M/out")"
done

# A folder holding a previous set and another file: outputs are written beside them under
# temporary names; when the disk fills, the previous set and the file stay as they were.
rm -f "$M/filler"
mkdir "$M/keep" && cp "$T"/ref/* "$M/keep/" && echo notes >"$M/keep/notes.txt"
sums() { (cd "$1" && md5sum $OUTS notes.txt); }
sums "$M/keep" >"$T/keep.md5"
for f in change_magnitude.tif report.json; do
  before=0
  for g in $OUTS; do [ "$g" = "$f" ] && break; before=$((before + $(pages "$T/ref/$g"))); done
  for i in 1 2 3; do
    fill_to $((before + $(pages "$T/ref/$f") / 2))
    run -o "$M/keep" 2>"$T/err"
    rc=$?
    check "previous set, full while writing $f (run $i)" "$M/keep" "$f"
    [ "$(sums "$M/keep")" = "$(cat "$T/keep.md5")" ] && ok || bad "previous set changed (full while writing $f, run $i)"
  done
done

finish
