/* index.c: index.html of a batch: the contact sheet (a card a pair) and the time series' charts. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch/batch_priv.h"

static void html_text(FILE *f, const char *s) {
  for (; *s; s++) {
    if (*s == '<')
      fputs("&lt;", f);
    else if (*s == '>')
      fputs("&gt;", f);
    else if (*s == '&')
      fputs("&amp;", f);
    else if (*s == '"')
      fputs("&quot;", f);
    else
      fputc(*s, f);
  }
}

/* Seconds since 1970 of YYYY-MM-DD at noon UTC; -1 when s is not a date. */
static double day_of(const char *s) {
  struct tm tm = {0};
  if (sscanf(s, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3) return -1;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  tm.tm_hour = 12;
  return (double)timegm(&tm);
}

enum { CHART_W = 790, CHART_X = 46, CHART_PLOT = 690, CHART_BASE = 112 };

/* The time axis: a tick at the first of each month (every k-th labelled so labels do not crowd). */
static void time_axis(FILE *html, double t0, double t1) {
  fprintf(html, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>\n", CHART_X, CHART_BASE,
          CHART_X + CHART_PLOT, CHART_BASE);
  time_t a = (time_t)t0, b = (time_t)t1;
  struct tm tm, te;
  gmtime_r(&a, &tm);
  gmtime_r(&b, &te);
  int y = tm.tm_year, m = tm.tm_mon, months = (te.tm_year - y) * 12 + te.tm_mon - m + 1;
  int every = months > 10 ? (months + 9) / 10 : 1;
  for (int k = 0;; k++) {
    struct tm f = {.tm_year = y, .tm_mon = m + k, .tm_mday = 1, .tm_hour = 12};
    double u = (double)timegm(&f);
    if (u > t1) break;
    if (u < t0) continue;
    double x = CHART_X + CHART_PLOT * (u - t0) / (t1 - t0);
    fprintf(html, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#888\"/>\n", x, CHART_BASE, x,
            CHART_BASE + 4);
    if (k % every == 0)
      fprintf(html, "<text x=\"%.1f\" y=\"%d\" fill=\"#aaa\" font-size=\"10\">%04d-%02d</text>\n", x - 16,
              CHART_BASE + 16, f.tm_year + 1900, f.tm_mon + 1);
  }
}

/* One chart: a site's area (rows from..to, date order) on a real time axis. Each observed date a
 * bar of its objects by class, a date not observed a grey dashed box, a failed one a red cross,
 * the baseline a white diamond. */
static void chart(FILE *html, const series_row *r, int n) {
  static const char *const colour[SD_CLASS_COUNT] = {"#ff9600", "#ff2828", "#00dcff", "#e600e6", "#ffe600"};
  double t0 = INFINITY, t1 = -INFINITY;
  int top = 1, obs = 0, with = 0, nobs = 0, failed = 0;
  for (int i = 0; i < n; i++) {
    double t = day_of(r[i].date);
    if (t >= 0) t0 = fmin(t0, t), t1 = fmax(t1, t);
    if (!strcmp(r[i].status, "observed")) {
      obs++;
      with += r[i].objects > 0;
      top = r[i].objects > top ? r[i].objects : top;
    }
    nobs += !strcmp(r[i].status, "not observed");
    failed += !strcmp(r[i].status, "failed");
  }
  if (!(t1 >= t0)) return;
  if (t1 - t0 < 86400) t0 -= 86400, t1 += 86400;
  fprintf(html, "<h3>");
  html_text(html, r[0].site);
  if (r[0].aoi[0]) {
    fprintf(html, " &middot; ");
    html_text(html, r[0].aoi);
  }
  fprintf(html, ": objects on %d of %d observed dates; %d not observed, %d failed</h3>\n", with, obs, nobs, failed);
  fprintf(
      html,
      "<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"136\" "
      "style=\"background:#222\">\n<text x=\"4\" y=\"14\" fill=\"#aaa\" font-size=\"11\">objects, up to %d</text>\n",
      CHART_W, top);
  time_axis(html, t0, t1);
  fprintf(html,
          "<text x=\"%d\" y=\"14\" fill=\"#aaa\" font-size=\"11\" text-anchor=\"end\">%s to %s, %d dates</text>\n",
          CHART_X + CHART_PLOT, r[0].date, r[n - 1].date, n);
  for (int i = 0; i < n; i++) {
    double t = day_of(r[i].date);
    if (t < 0) continue;
    double x = CHART_X + CHART_PLOT * (t - t0) / (t1 - t0);
    if (!strcmp(r[i].status, "baseline")) {
      fprintf(html, "<path d=\"M%.1f %d l5 5 l-5 5 l-5 -5 z\" fill=\"#fff\"><title>%s: the baseline</title></path>\n",
              x, CHART_BASE - 12, r[i].date);
    } else if (!strcmp(r[i].status, "failed")) {
      fprintf(html,
              "<path d=\"M%.1f %d l8 8 m0 -8 l-8 8\" stroke=\"#f44\" stroke-width=\"2\"><title>%s: failed</title>"
              "</path>\n",
              x - 4, CHART_BASE - 12, r[i].date);
    } else if (!strcmp(r[i].status, "not observed")) {
      fprintf(html,
              "<rect x=\"%.1f\" y=\"%d\" width=\"6\" height=\"84\" fill=\"none\" stroke=\"#777\" "
              "stroke-dasharray=\"3 2\"><title>%s: not observed (%.0f%% valid)</title></rect>\n",
              x - 3, CHART_BASE - 86, r[i].date, 100 * r[i].valid_share);
    } else {
      double y = CHART_BASE;
      fprintf(html, "<g><title>%s: %d objects (trench %d, structure %d, equipment %d, area %d, road %d)</title>\n",
              r[i].date, r[i].objects, r[i].by_class[0], r[i].by_class[1], r[i].by_class[2], r[i].by_class[3],
              r[i].by_class[4]);
      for (int c = 0; c < SD_CLASS_COUNT; c++) {
        double h = 84.0 * r[i].by_class[c] / top;
        if (h <= 0) continue;
        fprintf(html, "<rect x=\"%.1f\" y=\"%.1f\" width=\"6\" height=\"%.1f\" fill=\"%s\"/>\n", x - 3, y - h, h,
                colour[c]);
        y -= h;
      }
      if (!r[i].objects) fprintf(html, "<circle cx=\"%.1f\" cy=\"%d\" r=\"2\" fill=\"#8c8\"/>\n", x, CHART_BASE - 3);
      fprintf(html, "</g>\n");
    }
  }
  fprintf(html, "</svg>\n");
}

/* Per site and area, the chart of its rows (those of the baseline pairs where there are any). */
static void timelines(FILE *html, const series_rows *rows) {
  for (int i = 0; i < rows->n;) {
    int j = i;
    while (j < rows->n && !strcmp(rows->row[j].site, rows->row[i].site))
      j++;
    fprintf(html, "<h2>");
    html_text(html, rows->row[i].site);
    fprintf(html, "</h2>\n");
    series_row *pick = malloc(sizeof *pick * (size_t)(j - i));
    for (int a = 0;; a++) { /* area by area, in the order of the AOI file */
      int m = 0;
      for (int k = i; k < j; k++)
        if (rows->row[k].chart && rows->row[k].aoi_index == a) pick[m++] = rows->row[k];
      if (!m) break;
      chart(html, pick, m);
    }
    free(pick);
    i = j;
  }
}

void sd_batch_index_head(FILE *html, int n) {
  fprintf(html,
          "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>sitediff batch</title>\n<style>"
          "body{font-family:sans-serif;background:#111;color:#eee;margin:1em}"
          ".c{display:inline-block;vertical-align:top;width:330px;margin:6px;background:#222;padding:6px}"
          ".c img{width:320px;display:block}.f{color:#f66}a{color:#8cf}</style></head><body>\n"
          "<h1>sitediff batch: %d pairs</h1>\n",
          n);
}

/* The pair's card: its overlay and counts, or why it failed. */
void sd_batch_index_card(FILE *html, const pair *p, const char *grade, double dx, double dy) {
  fprintf(html, "<div class=\"c\"><b>");
  html_text(html, p->site);
  fprintf(html, "</b><br>");
  if (p->have_report) {
    fprintf(html,
            "<a href=\"%s/overlay.png\"><img src=\"%s/overlay.png\" alt=\"overlay\"></a>%.0f m&sup2; changed; "
            "trench %d, structure %d, equipment %d, area %d, road %d; registration %s (%.2f, %.2f px)<br>"
            "<a href=\"%s/report.html\">page</a> &middot; <a href=\"%s/report.json\">report</a> &middot; "
            "<a href=\"%s/objects.geojson\">objects</a> &middot; <a href=\"%s/change_mask.tif\">mask</a>",
            p->folder, p->folder, p->area, p->by_class[0], p->by_class[1], p->by_class[2], p->by_class[3],
            p->by_class[4], grade ? grade : "-", dx, dy, p->folder, p->folder, p->folder, p->folder);
  } else {
    fprintf(html, "<span class=\"f\">%s: ", p->status);
    html_text(html, p->error);
    fprintf(html, "</span>");
  }
  fprintf(html, "</div>\n");
}

void sd_batch_index_charts(FILE *html, const series_rows *rows) {
  if (rows->n)
    fprintf(html, "<p>Objects per date compared with the baseline (with consecutive pairs only: what changed since "
                  "the date before), by class: <span style=\"color:#ff9600\">trench</span>, "
                  "<span style=\"color:#ff2828\">structure</span>, <span style=\"color:#00dcff\">equipment</span>, "
                  "<span style=\"color:#e600e6\">area</span>, <span style=\"color:#ffe600\">road</span>; a green dot: "
                  "observed, nothing; a dashed box: not observed (mostly nodata, masked or cloud); a red cross: "
                  "failed; the white diamond: the baseline. Every site's series.csv and tracks are in series/.</p>\n");
  timelines(html, rows);
  fprintf(html, "<h2>Pairs, by changed area</h2>\n");
}

void sd_batch_index_tail(FILE *html) { fprintf(html, "</body></html>\n"); }
