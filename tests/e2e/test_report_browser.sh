#!/usr/bin/env bash
# test_report_browser.sh SITEDIFF: report.html in a real browser (headless Chromium). The page
# of a synthetic compare gets tests/e2e/report_check.js put first into its head; it loads with no
# script or console error and no request beyond its own data: URIs, the swipe follows a drag, a
# click on a candidate zooms onto it, the score and class filters hide and show rows, a click on
# the map selects the object there, areas are in m² (in px on a pair without a georeference). A
# real pair too, when ../shared/data is there. Skips, saying so, only without Chromium (./dev
# test installs it).
set -u
SD=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
BROWSER=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$BROWSER" ]; then
  echo "SKIP: no chromium on this machine (Debian: apt-get install chromium; ./dev test installs it)"
  exit 77
fi
# Runs the page at $1 in Chromium with the check put in; prints the title it ends with.
browse() {
  python3 - "$1" "$HERE/report_check.js" "$1.check.html" <<'PY'
import sys
page, check, out = sys.argv[1:4]
html = open(page, encoding="utf-8").read()
js = open(check, encoding="utf-8").read()
i = html.index("<head>") + len("<head>")
open(out, "w", encoding="utf-8").write(html[:i] + "<script>" + js + "</script>" + html[i:])
PY
  "$BROWSER" --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --host-resolver-rules="MAP * ~NOTFOUND" \
    --user-data-dir="$T/profile" --window-size=1400,900 --virtual-time-budget=10000 \
    --dump-dom "file://$1.check.html" 2>"$T/browser.log" | grep -o '<title>[^<]*</title>' | head -1
}
"$SD" synth "$T/p" --size 384 --seed 6 >/dev/null 2>&1 || { echo "FAIL: synth"; exit 1; }
"$SD" compare "$T/p/before.tif" "$T/p/after.tif" -o "$T/out" -q || bad "compare failed"
grep -q '"report.html"' "$T/out/report.json" && ok || bad "report.json does not list report.html"
title=$(browse "$T/out/report.html")
echo "synthetic pair: $title"
case "$title" in *"RESULT ok"*"area in m²"*) ok ;; *) bad "report.html in the browser: $title" ;; esac
# Without a georeference the page gives areas in px (the grid's pixel is counted as 1 m).
for d in before after; do
  gdal_translate -q --config GDAL_PAM_ENABLED NO -co PROFILE=BASELINE "$T/p/$d.tif" "$T/n$d.tif" || bad "gdal_translate"
done
"$SD" compare "$T/nbefore.tif" "$T/nafter.tif" -o "$T/nogeo" -q 2>/dev/null || bad "compare without a georeference failed"
title=$(browse "$T/nogeo/report.html")
echo "pair without a georeference: $title"
case "$title" in *"RESULT ok"*"area in px"*) ok ;; *) bad "report.html without a georeference: $title" ;; esac
# Without Leaflet the run still succeeds, says why there is no page, and leaves none.
SITEDIFF_LEAFLET_DIR=/nonexistent "$SD" compare "$T/p/before.tif" "$T/p/after.tif" -o "$T/nol" -q || bad "compare without Leaflet failed"
[ ! -e "$T/nol/report.html" ] && grep -q 'report.html not written: page: no Leaflet in /nonexistent' "$T/nol/report.json" &&
  ok || bad "no warning or a page without Leaflet"
REAL="$HERE/../../../shared/data/change/levir-cd-1024/test_3"
if [ -f "$REAL/before.tif" ]; then
  "$SD" compare "$REAL/before.tif" "$REAL/after.tif" -o "$T/real" -q || bad "compare of LEVIR-CD test_3 failed"
  title=$(browse "$T/real/report.html")
  echo "LEVIR-CD 1024² test_3: $title"
  case "$title" in *"RESULT ok"*) ok ;; *) bad "real report.html in the browser: $title" ;; esac
else
  echo "real pair skipped: ../shared/data is not beside this checkout"
fi
finish
