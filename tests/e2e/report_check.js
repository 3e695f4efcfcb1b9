// report_check.js: put first into report.html's <head> by test_report_browser.sh. It records
// script errors, console errors and any request that is not a data: URI, then after load
// drives the page as a user would (drags the swipe, clicks a candidate, filters, clicks the
// map) and writes the verdict into the title: "RESULT ok ..." or "RESULT fail: ...".
(function () {
  const problems = [];
  window.addEventListener("error", (e) => problems.push("script error: " + e.message));
  const cerr = console.error;
  console.error = function (...a) { problems.push("console.error: " + a.join(" ")); cerr.apply(console, a); };
  const near = (a, b, tol) => Math.abs(a - b) <= tol;
  function check(cond, what) { if (!cond) problems.push(what); }
  function run() {
    const S = window.sitediff;
    if (!S) { document.title = "RESULT fail: no window.sitediff (" + problems.join("; ") + ")"; return; }
    const map = S.map, D = S.data, rows = [...document.querySelectorAll("#rows tr")];
    check(rows.length === D.objects.length && rows.length > 0, "rows " + rows.length + " for " + D.objects.length);
    check(document.querySelectorAll(".chip").length === 2 * Math.min(D.chips.n, rows.length), "chips missing");
    // The images decoded.
    const imgs = [...document.querySelectorAll("#map img")];
    check(imgs.length === 3 && imgs.every((i) => i.complete && i.naturalWidth === D.view.width),
          "map images: " + imgs.map((i) => i.naturalWidth).join(","));
    // Swipe: drag the divider from the middle to a quarter of the width.
    const box = map.getContainer().getBoundingClientRect(), div = document.getElementById("divider");
    const ev = (t, x, target) => target.dispatchEvent(new PointerEvent(t, { clientX: x, clientY: box.top + 50,
      pointerId: 1, bubbles: true, isPrimary: true }));
    ev("pointerdown", box.left + box.width / 2, div);
    ev("pointermove", box.left + box.width / 4, window);
    ev("pointerup", box.left + box.width / 4, window);
    check(near(S.divider(), 0.25, 0.01), "divider at " + S.divider());
    check(near(parseFloat(div.style.left), box.width / 4, 1.5), "divider drawn at " + div.style.left);
    const clipX = map.containerPointToLayerPoint([box.width / 4, 0]).x;
    const clip = map.getPane("after").style.clip;
    check(clip.indexOf(Math.round(clipX) + "px)") > 0 || clip.indexOf(clipX + "px)") > 0, "after clip " + clip);
    // Click the third candidate: the map zooms onto it.
    const z0 = map.getZoom(), k = Math.min(2, rows.length - 1), o = D.objects[k];
    rows[k].click();
    const c = map.getCenter(), cx = c.lng, cy = -c.lat;
    check(S.selected() === k && rows[k].classList.contains("sel"), "row " + k + " not selected");
    check(map.getZoom() > z0, "zoom " + map.getZoom() + " not above " + z0);
    check(cx >= o[8] - 1 && cx <= o[10] + 2 && cy >= o[9] - 1 && cy <= o[11] + 2,
          "centre " + cx.toFixed(1) + "," + cy.toFixed(1) + " off object " + o.slice(8));
    // Minimum score: the first 0.01 step above the lowest score (or the median's, when higher)
    // hides the rows below it.
    const scores = D.objects.map((x) => x[4]).sort((a, b) => a - b), slider = document.getElementById("minscore");
    slider.value = Math.max(Math.floor(scores[0] * 100) / 100 + 0.01,
                            Math.floor(scores[Math.floor(scores.length / 2)] * 100) / 100);
    slider.dispatchEvent(new Event("input"));
    const v = Number(slider.value);
    const want = D.objects.filter((x) => x[4] >= v).length, shown = rows.filter((r) => !r.hidden).length;
    check(shown === want && shown < rows.length && (shown > 0 || scores[scores.length - 1] < v), "min score " + v + ": " + shown + " shown, " + want + " wanted");
    slider.value = 0;
    slider.dispatchEvent(new Event("input"));
    // A class unticked: its rows hide, and come back.
    const cls = D.objects[0][2], tick = document.querySelectorAll("#classes input")[cls];
    tick.click();
    const left = rows.filter((r, i) => !r.hidden && D.objects[i][2] === cls).length;
    const others = rows.filter((r, i) => !r.hidden).length;
    check(left === 0 && others === D.objects.filter((x) => x[2] !== cls).length, "class filter: " + left + " left");
    tick.click();
    check(rows.every((r) => !r.hidden), "class filter did not come back");
    // A click on the map on the first object selects its row.
    const o0 = D.objects[0];
    map.setView([-(o0[9] + o0[11] + 1) / 2, (o0[8] + o0[10] + 1) / 2], map.getZoom(), { animate: false });
    const p = map.latLngToContainerPoint([-(o0[9] + o0[11] + 1) / 2, (o0[8] + o0[10] + 1) / 2]);
    map.getContainer().dispatchEvent(new MouseEvent("click", { clientX: box.left + p.x, clientY: box.top + p.y,
                                                              bubbles: true }));
    check(S.selected() === 0, "map click selected " + S.selected() + ", not 0");
    // Areas in m² on a georeferenced grid, in px on one without.
    const unit = D.grid.pixel_m ? "m\u00b2" : "px";
    check(document.getElementById("areahead").textContent === unit, "area column in " +
          document.getElementById("areahead").textContent + ", not " + unit);
    check(document.getElementById("sum").textContent.indexOf(" " + unit + " changed") > 0, "summary area not in " + unit);
    // Nothing was requested from anywhere.
    const net = performance.getEntriesByType("resource").map((e) => e.name).filter((n) => !n.startsWith("data:"));
    check(net.length === 0, "requests: " + net.join(" "));
    document.title = problems.length ? "RESULT fail: " + problems.join("; ")
                                     : "RESULT ok rows " + rows.length + " shown-at-median " + want + " area in " + unit;
  }
  window.addEventListener("load", () => setTimeout(run, 100));
})();
