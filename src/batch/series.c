/* series.c: `batch --dir DIR`: DIR/<site>/<date>.<ext> scanned into each site's consecutive pairs. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "batch/batch_priv.h"

/* A date, YYYY-MM-DD or YYYYMMDD, at the start of s: writes YYYY-MM-DD, returns its length (0: none). */
static int date_at(const char *s, char out[16]) {
  int y, m, d, len = 0;
  if (sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &len) == 3 && len == 10) {
  } else if (sscanf(s, "%4d%2d%2d%n", &y, &m, &d, &len) == 3 && len == 8) {
  } else {
    return 0;
  }
  if (y <= 1900 || y >= 3000 || m < 1 || m > 12 || d < 1 || d > 31) return 0;
  snprintf(out, 16, "%04d-%02d-%02d", y, m, d);
  return len;
}

/* A series file: "<date>.<ext>" (an image) or "<date>.mask.<ext>" (its cloud mask, non-zero =
 * masked); ext has no dot, so GDAL's .aux.xml sidecars are neither. 1 image, 2 mask, 0 neither. */
static int series_file(const char *name, char date[16]) {
  int len = date_at(name, date);
  if (!len || name[len] != '.') return 0;
  const char *ext = name + len + 1;
  int mask = !strncmp(ext, "mask.", 5);
  if (mask) ext += 5;
  return *ext && !strchr(ext, '.') ? 1 + mask : 0;
}

typedef struct dated {
  char date[16];
  char *file, *mask; /* resolved paths; mask NULL when none */
} dated;

static int by_date(const void *a, const void *b) { return strcmp(((const dated *)a)->date, ((const dated *)b)->date); }
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

typedef struct pair_list {
  pair *p;
  int n, cap;
} pair_list;

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

/* Adds before -> after of site (or, when the site's pairs from index from on hold it, adds mode to it). */
static void add_pair(pair_list *l, int from, const sd_compare_options *def, const char *site, const dated *b,
                     const dated *a, int mode) {
  for (int i = from; i < l->n; i++)
    if (!strcmp(l->p[i].before, b->file) && !strcmp(l->p[i].after, a->file)) {
      l->p[i].mode |= mode;
      return;
    }
  if (l->n == l->cap) {
    l->cap = l->cap ? 2 * l->cap : 16;
    l->p = realloc(l->p, sizeof *l->p * (size_t)l->cap);
    if (!l->p) abort();
  }
  pair *q = &l->p[l->n++];
  memset(q, 0, sizeof *q);
  q->opts = *def;
  q->mode = mode;
  snprintf(q->series, sizeof q->series, "%s", site);
  snprintf(q->date_before, sizeof q->date_before, "%s", b->date);
  snprintf(q->date_after, sizeof q->date_after, "%s", a->date);
  char label[300];
  snprintf(label, sizeof label, "%s %s..%s", site, b->date, a->date);
  q->site = strdup(label);
  q->before = strdup(b->file);
  q->after = strdup(a->file);
  q->mask_before = dup_or_null(b->mask);
  q->mask_after = dup_or_null(a->mask);
  if (q->mask_before) q->opts.mask_before = q->mask_before;
  if (q->mask_after) q->opts.mask_after = q->mask_after;
}

/* A site's dated images (and masks), in date order; NULL when the folder cannot be read. */
static dated *scan_site(const char *sd, int *n) {
  DIR *d = opendir(sd);
  if (!d) return NULL;
  int cap = 16, k = 0;
  dated *v = calloc((size_t)cap, sizeof *v);
  char *masks[4096], mdate[4096][16];
  int nm = 0;
  struct dirent *e;
  char date[16];
  while (v && (e = readdir(d))) {
    int kind = series_file(e->d_name, date);
    if (kind == 2 && nm < 4096) {
      snprintf(mdate[nm], 16, "%s", date);
      masks[nm++] = sd_batch_resolve(sd, e->d_name);
    } else if (kind == 1) {
      if (k == cap) v = realloc(v, sizeof *v * (size_t)(cap *= 2));
      if (!v) break;
      snprintf(v[k].date, sizeof v[k].date, "%s", date);
      v[k].file = sd_batch_resolve(sd, e->d_name);
      v[k++].mask = NULL;
    }
  }
  closedir(d);
  if (v) qsort(v, (size_t)k, sizeof *v, by_date);
  for (int m = 0; m < nm; m++) {
    for (int i = 0; v && i < k; i++)
      if (!v[i].mask && !strcmp(v[i].date, mdate[m])) {
        v[i].mask = masks[m];
        masks[m] = NULL;
      }
    free(masks[m]);
  }
  *n = v ? k : 0;
  return v;
}

/* The site's baseline: index into v, or -1 with *ext set (a file that is not one of the dates). */
static sd_status find_baseline(const char *spec, const char *site, const char *sd, const dated *v, int n, int *index,
                               dated *ext, sd_error *err) {
  *index = 0;
  if (!spec || !strcmp(spec, "first")) return SD_OK;
  char date[16];
  int len = date_at(spec, date);
  if (len && !spec[len]) {
    for (int i = 0; i < n; i++)
      if (!strcmp(v[i].date, date)) {
        *index = i;
        return SD_OK;
      }
    return sd_error_set(err, SD_ERR_USAGE, "batch: --baseline %s: site '%s' has no image of that date", spec, site);
  }
  char *in_site = sd_batch_resolve(sd, spec);
  struct stat st;
  const char *path = stat(in_site, &st) == 0 && S_ISREG(st.st_mode) ? in_site
                     : stat(spec, &st) == 0 && S_ISREG(st.st_mode)  ? spec
                                                                    : NULL;
  if (!path) {
    sd_status s =
        sd_error_set(err, SD_ERR_USAGE, "batch: --baseline %s: not 'first', a date, nor a file (looked for %s and %s)",
                     spec, in_site, spec);
    free(in_site);
    return s;
  }
  *index = -1;
  for (int i = 0; i < n; i++)
    if (!strcmp(v[i].file, path)) *index = i;
  if (*index < 0) {
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    if (!series_file(base, ext->date)) snprintf(ext->date, sizeof ext->date, "baseline");
    ext->file = strdup(path);
    ext->mask = NULL;
  }
  free(in_site);
  return SD_OK;
}

/* DIR/<site>/<date>.<ext>: each site's images in date order; consecutive dates compared, and/or
 * each date with the site's baseline. */
sd_status sd_batch_scan_series(const sd_batch_options *o, pair **out, int *n, sd_error *err) {
  const char *dir = o->dir;
  int mode = o->pairs ? o->pairs : o->baseline ? SD_SERIES_BASELINE : SD_SERIES_CONSECUTIVE;
  DIR *d = opendir(dir);
  if (!d) return sd_error_set(err, SD_ERR_INPUT, "batch: %s: %s", dir, strerror(errno));
  char *sites[4096];
  int ns = 0;
  struct dirent *e;
  while ((e = readdir(d)) && ns < 4096) {
    char p[4400];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    if (e->d_name[0] != '.' && stat(p, &st) == 0 && S_ISDIR(st.st_mode)) sites[ns++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(sites, (size_t)ns, sizeof *sites, cmp_str);
  pair_list l = {0};
  sd_status s = SD_OK;
  for (int si = 0; si < ns; si++) {
    char sd[4400];
    snprintf(sd, sizeof sd, "%s/%s", dir, sites[si]);
    int nf = 0, base = 0;
    dated *v = scan_site(sd, &nf), ext = {.file = NULL};
    int from = l.n; /* this site's pairs */
    if (!s && nf >= 1) s = find_baseline(o->baseline, sites[si], sd, v, nf, &base, &ext, err);
    if (!s && (mode & SD_SERIES_CONSECUTIVE))
      for (int i = 0; i + 1 < nf; i++)
        add_pair(&l, from, &o->compare, sites[si], &v[i], &v[i + 1], SD_SERIES_CONSECUTIVE);
    if (!s && (mode & SD_SERIES_BASELINE))
      for (int i = 0; i < nf; i++)
        if (i != base)
          add_pair(&l, from, &o->compare, sites[si], base >= 0 ? &v[base] : &ext, &v[i], SD_SERIES_BASELINE);
    for (int i = 0; i < nf; i++) {
      free(v[i].file);
      free(v[i].mask);
    }
    free(v);
    free(ext.file);
    free(sites[si]);
  }
  if (s) {
    sd_batch_free_pairs(l.p, l.n);
    return s;
  }
  *out = l.p;
  *n = l.n;
  return SD_OK;
}
