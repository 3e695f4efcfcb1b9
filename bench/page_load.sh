#!/usr/bin/env bash
# page_load.sh REPORT.html [RUNS]: how long report.html takes to become interactive in headless
# Chromium (Debian's chromium): from the start of navigation to the end of the page's own set-up
# (the map and candidate rows built, every image loaded: the load event), median of RUNS loads
# (default 5).
# Prints one line: "<ms> ms median, runs: ...".
set -eu
PAGE=$(readlink -f "$1")
RUNS=${2:-5}
BROWSER=$(command -v chromium || command -v chromium-browser)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
python3 - "$PAGE" "$T/probe.html" <<'PY'
import sys
html = open(sys.argv[1], encoding="utf-8").read()
probe = """<script>addEventListener("load", () => setTimeout(() => {
const ok = [...document.images].every((i) => i.complete && i.naturalWidth > 0) && window.sitediff;
document.title = (ok ? "READY " : "BROKEN ") + performance.now().toFixed(0); }, 0));</script>"""
i = html.index("<head>") + len("<head>")
open(sys.argv[2], "w", encoding="utf-8").write(html[:i] + probe + html[i:])
PY
times=()
for _ in $(seq "$RUNS"); do
  t=$("$BROWSER" --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
    --host-resolver-rules="MAP * ~NOTFOUND" --user-data-dir="$T/profile" --window-size=1400,900 --virtual-time-budget=20000 \
    --dump-dom "file://$T/probe.html" 2>/dev/null | grep -o '<title>READY [0-9]*' | grep -o '[0-9]*$' || echo "")
  [ -n "$t" ] && times+=("$t")
done
[ ${#times[@]} -gt 0 ] || { echo "page_load: the page never became ready" >&2; exit 1; }
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
median=$(echo "$sorted" | sed -n "$(((${#times[@]} + 1) / 2))p")
echo "$median ms median, runs: $(echo $sorted)"
