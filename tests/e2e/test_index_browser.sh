#!/usr/bin/env bash
# test_index_browser.sh: the batch contact sheet and timelines in a real browser (headless
# Chromium): every image loads, both timelines are there. Skips, saying so, without Chromium.
set -u
SD=$1
BROWSER=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$BROWSER" ]; then
  echo "SKIP: no chromium on this machine (Debian: apt-get install chromium)"
  exit 77
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/series/north" "$T/series/south"
"$SD" synth "$T/a" --size 128 --seed 3 >/dev/null 2>&1
"$SD" synth "$T/b" --size 128 --seed 4 >/dev/null 2>&1
cp "$T/a/before.tif" "$T/series/north/2024-01-01.tif"
cp "$T/a/after.tif" "$T/series/north/2024-02-01.tif"
cp "$T/b/before.tif" "$T/series/south/2024-01-01.tif"
cp "$T/b/after.tif" "$T/series/south/2024-03-01.tif"
"$SD" batch --dir "$T/series" -o "$T/out" -q || { echo "batch failed"; echo "0 passed, 1 failed"; exit 1; }
# The page as served, plus a script that reports in the title how many images really loaded.
sed 's|</body>|<script>addEventListener("load", () => { const i = [...document.images]; document.title = "loaded " + i.filter(x => x.complete \&\& x.naturalWidth > 0).length + " of " + i.length + " svg " + document.querySelectorAll("svg.timeline").length; });</script></body>|' \
  "$T/out/index.html" >"$T/out/check.html"
"$BROWSER" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --user-data-dir="$T/profile" --allow-file-access-from-files \
  --virtual-time-budget=5000 --dump-dom "file://$T/out/check.html" >"$T/dom.html" 2>/dev/null
title=$(grep -o '<title>[^<]*</title>' "$T/dom.html" | head -1)
echo "browser says: $title"
if echo "$title" | grep -qE '<title>loaded ([1-9][0-9]*) of \1 svg 2</title>'; then
  echo "1 passed, 0 failed"
else
  echo "FAIL: images or timelines missing in the browser"
  echo "0 passed, 1 failed"
  exit 1
fi
