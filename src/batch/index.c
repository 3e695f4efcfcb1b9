/* index.c: index.html of a batch: the contact sheet (a card a pair) and the time series' timelines. */
#include <math.h>
#include <stdio.h>
#include <string.h>

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

/* Per time series, an inline SVG: one column per date step, its bar the changed area (scaled to
 * the series' largest), beside it the objects by class as small stacked squares. */
static void timelines(FILE *html, const pair *pairs, int n) {
  static const char *const colour[SD_CLASS_COUNT] = {"#ff9600", "#ff2828", "#00dcff", "#e600e6", "#ffe600"};
  for (int i = 0; i < n;) {
    if (!pairs[i].series[0]) {
      i++;
      continue;
    }
    int j = i;
    double top = 1;
    while (j < n && !strcmp(pairs[j].series, pairs[i].series))
      top = fmax(top, pairs[j++].area);
    int steps = j - i, w = 40 + 70 * steps;
    fprintf(html, "<h2>");
    html_text(html, pairs[i].series);
    fprintf(html,
            "</h2>\n<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"190\" "
            "style=\"background:#222\">\n",
            w);
    fprintf(html, "<text x=\"4\" y=\"14\" fill=\"#aaa\" font-size=\"11\">changed area, up to %.0f m&#178;</text>\n",
            top);
    for (int k = 0; k < steps; k++) {
      const pair *p = &pairs[i + k];
      int x = 40 + 70 * k, h = p->have_report ? (int)(120 * p->area / top) : 0;
      fprintf(html,
              "<rect x=\"%d\" y=\"%d\" width=\"24\" height=\"%d\" fill=\"#8cf\"><title>%.0f m&#178;</title></rect>\n",
              x, 150 - h, h, p->area);
      int y = 150;
      for (int c = 0; c < SD_CLASS_COUNT; c++)
        for (int m = 0; m < p->by_class[c] && m < 20; m++, y -= 6)
          fprintf(html, "<rect x=\"%d\" y=\"%d\" width=\"5\" height=\"5\" fill=\"%s\"/>\n", x + 28, y - 5, colour[c]);
      fprintf(html, "<text x=\"%d\" y=\"166\" fill=\"#eee\" font-size=\"10\">%s</text>\n", x - 8, p->date_after);
      if (!p->have_report) fprintf(html, "<text x=\"%d\" y=\"140\" fill=\"#f66\" font-size=\"10\">failed</text>\n", x);
    }
    fprintf(html, "</svg>\n");
    i = j;
  }
}

void sd_batch_index_head(FILE *html, int n) {
  fprintf(html,
          "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>sitediff batch</title>\n<style>"
          "body{font-family:sans-serif;background:#111;color:#eee;margin:1em}"
          ".c{display:inline-block;vertical-align:top;width:330px;margin:6px;background:#222;padding:6px}"
          ".c img{width:320px;display:block}.f{color:#f66}a{color:#8cf}</style></head><body>\n"
          "<h1>sitediff batch: %d pairs</h1>\n<p>Sorted by changed area.</p>\n",
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
    fprintf(html, "<span class=\"f\">failed: ");
    html_text(html, p->error);
    fprintf(html, "</span>");
  }
  fprintf(html, "</div>\n");
}

void sd_batch_index_tail(FILE *html, const pair *pairs, int n) {
  timelines(html, pairs, n);
  fprintf(html, "</body></html>\n");
}
