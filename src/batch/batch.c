/* batch.c: `sitediff batch`: many pairs from a CSV or JSON manifest, in parallel, each into its
 * own folder (built under a temporary name, then renamed), resumable, with a summary. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/core.h"
#include "io/io.h"
#include "batch/batch_priv.h"

void sd_batch_options_init(sd_batch_options *o) {
  memset(o, 0, sizeof *o);
  sd_compare_options_init(&o->compare);
}

/* ---- summary ---- */

static void csv_field(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"') fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

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
  static const char *const colour[4] = {"#ff9600", "#ff2828", "#00dcff", "#e600e6"};
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
      for (int c = 0; c < 4; c++)
        for (int m = 0; m < p->by_class[c] && m < 20; m++, y -= 6)
          fprintf(html, "<rect x=\"%d\" y=\"%d\" width=\"5\" height=\"5\" fill=\"%s\"/>\n", x + 28, y - 5, colour[c]);
      fprintf(html, "<text x=\"%d\" y=\"166\" fill=\"#eee\" font-size=\"10\">%s</text>\n", x - 8, p->date_after);
      if (!p->have_report) fprintf(html, "<text x=\"%d\" y=\"140\" fill=\"#f66\" font-size=\"10\">failed</text>\n", x);
    }
    fprintf(html, "</svg>\n");
    i = j;
  }
}

typedef struct row {
  const pair *p;
  json_t *report;
  double area;
} row;

static int by_area(const void *a, const void *b) {
  double x = ((const row *)a)->area, y = ((const row *)b)->area;
  return x < y ? 1 : x > y ? -1 : 0;
}

static sd_status write_summary(const sd_batch_options *o, pair *pairs, int n, const char *suffix, sd_error *err) {
  row *rows = calloc((size_t)n + 1, sizeof *rows);
  json_t *all = json_array();
  for (int i = 0; i < n; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s/report.json", o->outdir, pairs[i].folder);
    rows[i].p = &pairs[i];
    rows[i].report = strcmp(pairs[i].status, "failed") ? json_load_file(path, 0, NULL) : NULL;
    rows[i].area = json_real_value(json_object_get(json_object_get(rows[i].report, "change"), "changed_area_m2"));
  }
  qsort(rows, (size_t)n, sizeof *rows, by_area);
  char p1[4096], p2[4096], p3[4096];
  snprintf(p1, sizeof p1, "%s/summary%s.csv", o->outdir, suffix);
  snprintf(p2, sizeof p2, "%s/summary%s.json", o->outdir, suffix);
  snprintf(p3, sizeof p3, "%s/index%s.html", o->outdir, suffix);
  FILE *csv = fopen(p1, "w"), *html = fopen(p3, "w");
  if (!csv || !html) {
    if (csv) fclose(csv);
    if (html) fclose(html);
    free(rows);
    json_decref(all);
    return sd_error_set(err, SD_ERR_OUTPUT, "batch: cannot write the summary in %s", o->outdir);
  }
  fprintf(csv, "site,date_before,date_after,status,error,folder,dx,dy,grade,trench,structure,equipment,area,"
               "changed_area_m2,seconds\n");
  fprintf(html,
          "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>sitediff batch</title>\n<style>"
          "body{font-family:sans-serif;background:#111;color:#eee;margin:1em}"
          ".c{display:inline-block;vertical-align:top;width:330px;margin:6px;background:#222;padding:6px}"
          ".c img{width:320px;display:block}.f{color:#f66}a{color:#8cf}</style></head><body>\n"
          "<h1>sitediff batch: %d pairs</h1>\n<p>Sorted by changed area.</p>\n",
          n);
  for (int i = 0; i < n; i++) {
    const pair *p = rows[i].p;
    json_t *r = rows[i].report, *reg = json_object_get(r, "registration");
    json_t *bc = json_object_get(json_object_get(r, "objects"), "by_class");
    int k[4];
    static const char *const cls[4] = {"trench", "structure", "equipment", "area"};
    for (int c = 0; c < 4; c++)
      k[c] = (int)json_integer_value(json_object_get(bc, cls[c]));
    double dx = json_real_value(json_object_get(reg, "dx")), dy = json_real_value(json_object_get(reg, "dy"));
    pair *pm = (pair *)p; /* remembered for the timelines */
    pm->have_report = r != NULL;
    pm->area = rows[i].area;
    for (int c = 0; c < 4; c++)
      pm->by_class[c] = k[c];
    const char *grade = json_string_value(json_object_get(reg, "grade"));
    csv_field(csv, p->site);
    fprintf(csv, ",%s,%s,%s,", p->date_before, p->date_after, p->status);
    csv_field(csv, p->error);
    fprintf(csv, ",%s,", p->folder);
    if (r)
      fprintf(csv, "%.3f,%.3f,%s,%d,%d,%d,%d,%.1f,%.2f\n", dx, dy, grade ? grade : "", k[0], k[1], k[2], k[3],
              rows[i].area, p->seconds);
    else
      fprintf(csv, ",,,,,,,,%.2f\n", p->seconds);
    json_array_append_new(all, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:f}", "site",
                                         p->site, "series", p->series, "date_before", p->date_before, "date_after",
                                         p->date_after, "status", p->status, "error", p->error, "folder", p->folder,
                                         "dx", r ? json_real(dx) : json_null(), "dy", r ? json_real(dy) : json_null(),
                                         "grade", grade ? json_string(grade) : json_null(), "objects_by_class",
                                         bc ? json_deep_copy(bc) : json_null(), "changed_area_m2",
                                         r ? json_real(rows[i].area) : json_null(), "seconds", p->seconds));
    fprintf(html, "<div class=\"c\"><b>");
    html_text(html, p->site);
    fprintf(html, "</b><br>");
    if (r) {
      fprintf(html,
              "<a href=\"%s/overlay.png\"><img src=\"%s/overlay.png\" alt=\"overlay\"></a>%.0f m&sup2; changed; "
              "trench %d, structure %d, equipment %d, area %d; registration %s (%.2f, %.2f px)<br>"
              "<a href=\"%s/report.json\">report</a> &middot; <a href=\"%s/objects.geojson\">objects</a> &middot; "
              "<a href=\"%s/change_mask.tif\">mask</a>",
              p->folder, p->folder, rows[i].area, k[0], k[1], k[2], k[3], grade ? grade : "-", dx, dy, p->folder,
              p->folder, p->folder);
    } else {
      fprintf(html, "<span class=\"f\">failed: ");
      html_text(html, p->error);
      fprintf(html, "</span>");
    }
    fprintf(html, "</div>\n");
    json_decref(r);
  }
  timelines(html, pairs, n);
  fprintf(html, "</body></html>\n");
  int bad = fclose(csv) != 0;
  bad |= fclose(html) != 0;
  bad |= json_dump_file(all, p2, JSON_INDENT(2)) != 0;
  json_decref(all);
  free(rows);
  return bad ? sd_error_set(err, SD_ERR_OUTPUT, "batch: writing the summary in %s failed", o->outdir) : SD_OK;
}

/* Joins the shards' summaries (summary.shard-K-of-N.json) into summary.csv/json and index.html. */
static sd_status merge_shards(const sd_batch_options *o, sd_batch_result *res, sd_error *err) {
  DIR *d = opendir(o->outdir);
  if (!d) return sd_error_set(err, SD_ERR_INPUT, "batch: %s: %s", o->outdir, strerror(errno));
  int cap = 16, n = 0, files = 0;
  pair *pairs = calloc((size_t)cap, sizeof *pairs);
  struct dirent *e;
  sd_status s = SD_OK;
  while (!s && (e = readdir(d))) {
    size_t len = strlen(e->d_name);
    if (strncmp(e->d_name, "summary.shard-", 14) || len < 5 || strcmp(e->d_name + len - 5, ".json")) continue;
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", o->outdir, e->d_name);
    json_t *a = json_load_file(path, 0, NULL);
    if (!json_is_array(a)) {
      s = sd_error_set(err, SD_ERR_INPUT, "batch: %s: not a shard summary", path);
      json_decref(a);
      break;
    }
    files++;
    size_t i;
    json_t *r;
    json_array_foreach(a, i, r) {
      if (n == cap) pairs = realloc(pairs, sizeof *pairs * (size_t)(cap *= 2));
      pair *p = &pairs[n++];
      memset(p, 0, sizeof *p);
      p->site = strdup(json_string_value(json_object_get(r, "site")) ?: "");
      p->folder = strdup(json_string_value(json_object_get(r, "folder")) ?: "");
      const char *st = json_string_value(json_object_get(r, "status")) ?: "failed";
      p->status = !strcmp(st, "ok") ? "ok" : !strcmp(st, "up to date") ? "up to date" : "failed";
      snprintf(p->error, sizeof p->error, "%s", json_string_value(json_object_get(r, "error")) ?: "");
      p->seconds = json_number_value(json_object_get(r, "seconds"));
      snprintf(p->series, sizeof p->series, "%s", json_string_value(json_object_get(r, "series")) ?: "");
      snprintf(p->date_before, sizeof p->date_before, "%s", json_string_value(json_object_get(r, "date_before")) ?: "");
      snprintf(p->date_after, sizeof p->date_after, "%s", json_string_value(json_object_get(r, "date_after")) ?: "");
    }
    json_decref(a);
  }
  closedir(d);
  if (!s && !files) s = sd_error_set(err, SD_ERR_INPUT, "batch: no summary.shard-*.json in %s to merge", o->outdir);
  if (!s) s = write_summary(o, pairs, n, "", err);
  if (res) res->pairs = n;
  for (int i = 0; i < n; i++) {
    if (res) res->failed += !strcmp(pairs[i].status, "failed");
    free(pairs[i].site);
    free(pairs[i].folder);
  }
  free(pairs);
  return s;
}

void sd_batch_free_pairs(pair *pairs, int n) {
  for (int i = 0; i < n; i++) {
    free(pairs[i].site);
    free(pairs[i].folder);
    free(pairs[i].before);
    free(pairs[i].after);
  }
  free(pairs);
}

sd_status sd_batch(const sd_batch_options *o, sd_batch_result *res, sd_error *err) {
  if (res) memset(res, 0, sizeof *res);
  if (o->merge) {
    if (!o->outdir) return sd_error_set(err, SD_ERR_USAGE, "batch: --merge needs -o OUTDIR");
    return merge_shards(o, res, err);
  }
  if (o->shard_n < 0 || o->shard_k < 0 || (o->shard_n && (o->shard_k < 1 || o->shard_k > o->shard_n)))
    return sd_error_set(err, SD_ERR_USAGE, "batch: --shard K/N needs 1 <= K <= N");
  if ((!o->manifest && !o->dir) || !o->outdir)
    return sd_error_set(err, SD_ERR_USAGE, "batch: needs MANIFEST (or --dir DIR) and -o OUTDIR");
  if (o->jobs < 0 || o->threads < 0) return sd_error_set(err, SD_ERR_USAGE, "batch: -j and --threads must be >= 0");
  pair *pairs = NULL;
  int n = 0;
  sd_status s = o->dir ? sd_batch_scan_series(o->dir, &o->compare, &pairs, &n, err)
                       : sd_batch_read_manifest(o->manifest, &o->compare, &pairs, &n, err);
  if (!s && n == 0)
    s = sd_error_set(err, SD_ERR_USAGE, "batch: %s %s", o->dir ? o->dir : o->manifest,
                     o->dir ? "holds no site folder with two or more dated images (YYYY-MM-DD.tif)" : "lists no pairs");
  if (!s) s = sd_mkdir_p(o->outdir, err);
  if (!s) {
    sd_gdal_init();
    sd_batch_name_folders(pairs, n); /* over the whole manifest, so every shard names folders alike */
    char suffix[64] = "";
    if (o->shard_n) {
      /* Pair i belongs to shard (i mod N) + 1: deterministic, and balanced when sizes mix. */
      int m = 0;
      for (int i = 0; i < n; i++) {
        if (i % o->shard_n == o->shard_k - 1) {
          pair t = pairs[m];
          pairs[m++] = pairs[i];
          pairs[i] = t;
        }
      }
      for (int i = m; i < n; i++) {
        free(pairs[i].site);
        free(pairs[i].folder);
        free(pairs[i].before);
        free(pairs[i].after);
      }
      n = m;
      snprintf(suffix, sizeof suffix, ".shard-%d-of-%d", o->shard_k, o->shard_n);
    }
    sd_batch_run_pairs(o, pairs, n);
    /* Interrupted: the finished pair folders are complete and a re-run resumes from them; the
     * summaries of the previous run stay as they were. */
    s = sd_check_interrupt(err);
    if (!s && n) s = write_summary(o, pairs, n, suffix, err);
    if (res) {
      res->pairs = n;
      for (int i = 0; i < n; i++) {
        if (!pairs[i].status) continue; /* not started: interrupted */
        res->failed += !strcmp(pairs[i].status, "failed");
        res->ok += !strcmp(pairs[i].status, "ok");
        res->up_to_date += !strcmp(pairs[i].status, "up to date");
      }
    }
  }
  sd_batch_free_pairs(pairs, n);
  return s;
}
