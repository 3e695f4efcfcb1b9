/* summary.c: a batch's summary.csv and summary.json (index.html beside them); shard summaries merged. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "batch/batch_priv.h"

typedef struct row {
  const pair *p;
  json_t *report;
  double area;
} row;

static int by_area(const void *a, const void *b) {
  double x = ((const row *)a)->area, y = ((const row *)b)->area;
  return x < y ? 1 : x > y ? -1 : 0;
}

sd_status sd_batch_write_summary(const sd_batch_options *o, pair *pairs, int n, const char *suffix, sd_error *err) {
  row *rows = calloc((size_t)n + 1, sizeof *rows);
  json_t *all = json_array();
  for (int i = 0; i < n; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s/report.json", o->outdir, pairs[i].folder);
    rows[i].p = &pairs[i];
    rows[i].report = strcmp(pairs[i].status, "failed") && strcmp(pairs[i].status, "not observed")
                         ? json_load_file(path, 0, NULL)
                         : NULL;
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
  fprintf(csv, "site,date_before,date_after,status,error,folder,dx,dy,grade,trench,structure,equipment,area,road,"
               "changed_area_m2,seconds\n");
  /* Time series first: a chart per site and area heads the page (shards: at the merge). */
  series_rows series = {0};
  sd_status s = suffix[0] ? SD_OK : sd_batch_write_series(o, pairs, n, &series, err);
  sd_batch_index_head(html, n);
  sd_batch_index_charts(html, &series);
  sd_batch_free_series(&series);
  for (int i = 0; i < n; i++) {
    const pair *p = rows[i].p;
    json_t *r = rows[i].report, *reg = json_object_get(r, "registration");
    json_t *bc = json_object_get(json_object_get(r, "objects"), "by_class");
    int k[SD_CLASS_COUNT];
    for (int c = 0; c < SD_CLASS_COUNT; c++)
      k[c] = (int)json_integer_value(json_object_get(bc, sd_class_name(c)));
    double dx = json_real_value(json_object_get(reg, "dx")), dy = json_real_value(json_object_get(reg, "dy"));
    pair *pm = (pair *)p; /* remembered for the timelines */
    pm->have_report = r != NULL;
    pm->area = rows[i].area;
    for (int c = 0; c < SD_CLASS_COUNT; c++)
      pm->by_class[c] = k[c];
    const char *grade = json_string_value(json_object_get(reg, "grade"));
    sd_batch_csv_field(csv, p->site);
    fprintf(csv, ",%s,%s,%s,", p->date_before, p->date_after, p->status);
    sd_batch_csv_field(csv, p->error);
    fprintf(csv, ",%s,", p->folder);
    if (r)
      fprintf(csv, "%.3f,%.3f,%s,%d,%d,%d,%d,%d,%.1f,%.2f\n", dx, dy, grade ? grade : "", k[0], k[1], k[2], k[3], k[4],
              rows[i].area, p->seconds);
    else
      fprintf(csv, ",,,,,,,,,%.2f\n", p->seconds);
    json_array_append_new(all, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:f}", "site",
                                         p->site, "series", p->series, "date_before", p->date_before, "date_after",
                                         p->date_after, "status", p->status, "error", p->error, "folder", p->folder,
                                         "dx", r ? json_real(dx) : json_null(), "dy", r ? json_real(dy) : json_null(),
                                         "grade", grade ? json_string(grade) : json_null(), "objects_by_class",
                                         bc ? json_deep_copy(bc) : json_null(), "changed_area_m2",
                                         r ? json_real(rows[i].area) : json_null(), "seconds", p->seconds));
    if (p->mode) json_object_set_new(json_array_get(all, json_array_size(all) - 1), "pairs", json_integer(p->mode));
    sd_batch_index_card(html, p, grade, dx, dy);
    json_decref(r);
  }
  sd_batch_index_tail(html);
  int bad = fclose(csv) != 0;
  bad |= fclose(html) != 0;
  bad |= json_dump_file(all, p2, JSON_INDENT(2)) != 0;
  json_decref(all);
  free(rows);
  if (s) return s;
  return bad ? sd_error_set(err, SD_ERR_OUTPUT, "batch: writing the summary in %s failed", o->outdir) : SD_OK;
}

/* Joins the shards' summaries (summary.shard-K-of-N.json) into summary.csv/json and index.html. */
sd_status sd_batch_merge_shards(const sd_batch_options *o, sd_batch_result *res, sd_error *err) {
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
      p->status = !strcmp(st, "ok")             ? "ok"
                  : !strcmp(st, "up to date")   ? "up to date"
                  : !strcmp(st, "not observed") ? "not observed"
                                                : "failed";
      snprintf(p->error, sizeof p->error, "%s", json_string_value(json_object_get(r, "error")) ?: "");
      p->seconds = json_number_value(json_object_get(r, "seconds"));
      snprintf(p->series, sizeof p->series, "%s", json_string_value(json_object_get(r, "series")) ?: "");
      snprintf(p->date_before, sizeof p->date_before, "%s", json_string_value(json_object_get(r, "date_before")) ?: "");
      snprintf(p->date_after, sizeof p->date_after, "%s", json_string_value(json_object_get(r, "date_after")) ?: "");
      p->mode = (int)json_integer_value(json_object_get(r, "pairs"));
    }
    json_decref(a);
  }
  closedir(d);
  if (!s && !files) s = sd_error_set(err, SD_ERR_INPUT, "batch: no summary.shard-*.json in %s to merge", o->outdir);
  if (!s) s = sd_batch_write_summary(o, pairs, n, "", err);
  if (res) res->pairs = n;
  for (int i = 0; res && i < n; i++)
    res->failed += !strcmp(pairs[i].status, "failed");
  sd_batch_free_pairs(pairs, n);
  return s;
}
