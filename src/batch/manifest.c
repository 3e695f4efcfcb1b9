/* manifest.c: a batch manifest, CSV (RFC 4180) or a JSON list, read into pairs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "batch/batch.h"
#include "batch/batch_priv.h"
#include "io/io.h"

static char *dup_range(const char *s, size_t n) {
  char *d = malloc(n + 1);
  if (d) {
    memcpy(d, s, n);
    d[n] = 0;
  }
  return d;
}

/* One CSV record (RFC 4180: quoted fields, "" inside quotes, CRLF); returns the field count
 * and advances *p past the record. */
static int csv_record(const char **p, char **fields, int max) {
  const char *s = *p;
  int n = 0;
  for (;;) {
    char buf[8192];
    size_t len = 0;
    if (*s == '"') {
      s++;
      while (*s && !(*s == '"' && s[1] != '"')) {
        if (*s == '"') s++; /* "" -> " */
        if (len < sizeof buf - 1) buf[len++] = *s;
        s++;
      }
      if (*s == '"') s++;
    }
    while (*s && *s != ',' && *s != '\n' && *s != '\r') {
      if (len < sizeof buf - 1) buf[len++] = *s;
      s++;
    }
    if (n < max) fields[n] = dup_range(buf, len);
    n++;
    if (*s == ',') {
      s++;
      continue;
    }
    while (*s == '\r')
      s++;
    if (*s == '\n') s++;
    break;
  }
  *p = s;
  return n;
}

char *sd_batch_resolve(const char *base_dir, const char *path) {
  if (!path || !*path) return strdup("");
  if (path[0] == '/') return strdup(path);
  size_t n = strlen(base_dir) + strlen(path) + 2;
  char *r = malloc(n);
  if (r) snprintf(r, n, "%s/%s", base_dir, path);
  return r;
}

/* A per-pair option column; 0 if applied, else an error. */
static sd_status apply_column(pair *p, const char *name, const char *value, int row, sd_error *err) {
  char *end;
  if (!value || !*value) return SD_OK;
  if (!strcmp(name, "threshold") || !strcmp(name, "min_area") || !strcmp(name, "resolution")) {
    double v = strtod(value, &end);
    if (*end || v < 0)
      return sd_error_set(err, SD_ERR_USAGE, "batch: row %d: %s '%s' is not a number", row, name, value);
    if (!strcmp(name, "threshold"))
      p->opts.threshold = v;
    else if (!strcmp(name, "min_area"))
      p->opts.min_area = v;
    else
      p->opts.resolution = v;
  } else if (!strcmp(name, "tolerance")) {
    long v = strtol(value, &end, 10);
    if (*end || v < 0 || v > 5) return sd_error_set(err, SD_ERR_USAGE, "batch: row %d: tolerance '%s'", row, value);
    p->opts.tolerance = (int)v;
  } else if (!strcmp(name, "bands")) {
    snprintf(p->bands, sizeof p->bands, "%s", value);
    p->opts.bands = p->bands;
  } else {
    return sd_error_set(err, SD_ERR_USAGE,
                        "batch: unknown column '%s' (known: site, before, after, threshold, min_area, resolution, "
                        "tolerance, bands)",
                        name);
  }
  return SD_OK;
}

static sd_status parse_csv(const char *text, const char *dir, const sd_compare_options *def, pair **out, int *n,
                           sd_error *err) {
  const char *p = text;
  char *head[32] = {0};
  int nh = csv_record(&p, head, 32), is = -1, ib = -1, ia = -1;
  for (int i = 0; i < nh && i < 32; i++) {
    if (!strcmp(head[i], "site")) is = i;
    if (!strcmp(head[i], "before")) ib = i;
    if (!strcmp(head[i], "after")) ia = i;
  }
  sd_status s = SD_OK;
  if (nh > 32)
    s = sd_error_set(err, SD_ERR_USAGE, "batch: the CSV header has %d columns; at most 32", nh);
  else if (is < 0 || ib < 0 || ia < 0)
    s = sd_error_set(err, SD_ERR_USAGE, "batch: the CSV header must name site,before,after");
  int cap = 16, count = 0, row = 1;
  pair *pairs = calloc((size_t)cap, sizeof *pairs);
  while (!s && *p) {
    char *f[32] = {0};
    int nf = csv_record(&p, f, 32);
    row++;
    int blank = nf == 1 && f[0] && !*f[0];
    if (nf > 32) s = sd_error_set(err, SD_ERR_USAGE, "batch: row %d has %d fields; at most 32", row, nf);
    if (!blank && !s) {
      if (count == cap) pairs = realloc(pairs, sizeof *pairs * (size_t)(cap *= 2));
      pair *q = &pairs[count++];
      memset(q, 0, sizeof *q);
      q->opts = *def;
      q->site = strdup(is < nf && f[is] ? f[is] : "");
      q->before = sd_batch_resolve(dir, ib < nf ? f[ib] : NULL);
      q->after = sd_batch_resolve(dir, ia < nf ? f[ia] : NULL);
      for (int i = 0; i < nf && i < nh && !s; i++)
        if (i != is && i != ib && i != ia) s = apply_column(q, head[i], f[i], row, err);
    }
    for (int i = 0; i < nf && i < 32; i++)
      free(f[i]);
  }
  for (int i = 0; i < nh && i < 32; i++)
    free(head[i]);
  *out = pairs;
  *n = count;
  return s;
}

static sd_status parse_json(const char *text, const char *dir, const sd_compare_options *def, pair **out, int *n,
                            sd_error *err) {
  json_error_t je;
  json_t *root = json_loads(text, 0, &je);
  if (!json_is_array(root)) {
    json_decref(root);
    return sd_error_set(err, SD_ERR_USAGE, "batch: JSON manifest must be a list of {site, before, after}: %s",
                        je.text[0] ? je.text : "not a list");
  }
  int count = (int)json_array_size(root);
  pair *pairs = calloc((size_t)count + 1, sizeof *pairs);
  sd_status s = SD_OK;
  for (int i = 0; i < count && !s; i++) {
    json_t *o = json_array_get(root, i);
    pair *q = &pairs[i];
    q->opts = *def;
    const char *site = json_string_value(json_object_get(o, "site"));
    q->site = strdup(site ? site : "");
    q->before = sd_batch_resolve(dir, json_string_value(json_object_get(o, "before")));
    q->after = sd_batch_resolve(dir, json_string_value(json_object_get(o, "after")));
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
      if (!strcmp(k, "site") || !strcmp(k, "before") || !strcmp(k, "after") || s) continue;
      char buf[64];
      const char *str = json_is_string(v) ? json_string_value(v) : buf;
      if (json_is_number(v))
        snprintf(buf, sizeof buf, "%.17g", json_number_value(v));
      else if (!json_is_string(v))
        buf[0] = 0;
      s = apply_column(q, k, str, i + 1, err);
    }
  }
  json_decref(root);
  *out = pairs;
  *n = count;
  return s;
}

/* JSON when the text starts with '[' (after white space), else CSV. */
static sd_status parse_text(const char *text, const char *dir, const sd_compare_options *def, pair **out, int *n,
                            sd_error *err) {
  const char *t = text;
  while (*t == ' ' || *t == '\n' || *t == '\r' || *t == '\t')
    t++;
  return *t == '[' ? parse_json(text, dir, def, out, n, err) : parse_csv(text, dir, def, out, n, err);
}

sd_status sd_batch_read_manifest(const char *path, const sd_compare_options *def, pair **out, int *n, sd_error *err) {
  char *text = sd_read_file("batch", path, 64L << 20, err);
  if (!text) return err->code;
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash)
    *slash = 0;
  else
    snprintf(dir, sizeof dir, ".");
  sd_status s = parse_text(text, dir, def, out, n, err);
  free(text);
  return s;
}

int sd_batch_parse_manifest(const char *text, sd_error *err) {
  sd_compare_options def;
  sd_compare_options_init(&def);
  pair *pairs = NULL;
  int n = 0;
  sd_status s = parse_text(text, ".", &def, &pairs, &n, err);
  if (!s) sd_batch_name_folders(pairs, n);
  for (int i = 0; !s && i < n; i++)
    for (const char *c = pairs[i].folder; *c; c++) /* the contract the folders rely on */
      if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '_'))
        abort();
  sd_batch_free_pairs(pairs, n);
  return s ? -1 : n;
}
