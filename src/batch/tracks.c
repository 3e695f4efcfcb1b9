/* tracks.c: a time series batch, site by site: series/<site>/series.csv (a row per date and area of
 * interest: observed, not observed or failed, with the counts), and the objects matched across
 * dates into tracks (tracks.csv, tracks.geojson) with the dates they were first and last seen. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "io/io.h"
#include "batch/batch_priv.h"

static void add_row(series_rows *rows, const series_row *r) {
  if (rows->n == rows->cap) {
    rows->cap = rows->cap ? 2 * rows->cap : 64;
    rows->row = realloc(rows->row, sizeof *rows->row * (size_t)rows->cap);
    if (!rows->row) abort();
  }
  rows->row[rows->n++] = *r;
}

/* One object seen on one date: its box in the objects file's coordinates (WGS84 when georeferenced). */
typedef struct sighting {
  double x0, y0, x1, y1, area_m2, cx, cy, lon, lat;
  int cls, sign; /* sign: 0 new, 1 removed, 2 altered */
  int aoi;       /* index in the site's area names, -1 for none */
} sighting;

typedef struct track {
  sighting last, first;
  double bx0, by0, bx1, by1, max_area;
  int cls_votes[SD_CLASS_COUNT];
  char first_seen[16], last_seen[16], gone_by[16];
  int seen, last_k; /* dates seen; index of the last date it was seen on */
  int closed;       /* consecutive pairs: seen removed */
} track;

typedef struct tracks {
  track *t;
  int n, cap;
} tracks;

static int class_index(const char *name) {
  for (int c = 0; c < SD_CLASS_COUNT; c++)
    if (name && !strcmp(name, sd_class_name(c))) return c;
  return SD_CLASS_COUNT - 1;
}

/* Intersection over union of two boxes, each grown by pad (so that a small object a pixel off
 * still meets itself): near 1 for the same object on the same grid, small for a hut beside a
 * trench whose box holds it. */
static double overlap(const sighting *a, double bx0, double by0, double bx1, double by1, double padx, double pady) {
  double ix = fmin(a->x1, bx1) - fmax(a->x0, bx0) + 2 * padx, iy = fmin(a->y1, by1) - fmax(a->y0, by0) + 2 * pady;
  if (ix <= 0 || iy <= 0) return 0;
  double aa = (a->x1 - a->x0 + 2 * padx) * (a->y1 - a->y0 + 2 * pady);
  double ab = (bx1 - bx0 + 2 * padx) * (by1 - by0 + 2 * pady);
  return ix * iy / (aa + ab - ix * iy);
}

/* Sightings whose box meets a track's latest box with at least this intersection over union are
 * the same object: chosen before measuring, not tuned; README, "Time series". */
static const double SAME_OBJECT = 0.25;

/* What read_sightings gathers, feature by feature. */
typedef struct sighting_list {
  sighting *v;
  int n, cap, georef;
  json_t *areas, *names; /* the pair's aoi.areas (observed or not); the site's area names */
  double pm, padx, pady; /* 2 pixels in metres, and in the file's units */
} sighting_list;

static void add_sighting(void *ctx, const sd_object_box *b) {
  sighting_list *l = ctx;
  int observed = 1, index = -1;
  size_t k;
  json_t *a;
  json_array_foreach(l->areas, k, a) if (!strcmp(json_string_value(json_object_get(a, "name")) ?: "", b->aoi))
      observed = json_is_true(json_object_get(a, "observed"));
  if (!observed) return; /* what shows of an object under a cloud says nothing of it */
  json_array_foreach(l->names, k, a) if (!strcmp(json_string_value(a), b->aoi)) index = (int)k;
  if (l->n == l->cap) {
    l->cap = l->cap ? 2 * l->cap : 1024;
    l->v = realloc(l->v, sizeof *l->v * (size_t)l->cap);
    if (!l->v) abort();
  }
  sighting *s = &l->v[l->n++];
  *s = (sighting){.x0 = b->x0,
                  .y0 = b->y0,
                  .x1 = b->x1,
                  .y1 = b->y1,
                  .area_m2 = b->area_m2,
                  .cx = b->cx,
                  .cy = b->cy,
                  .lon = b->lon,
                  .lat = b->lat,
                  .cls = class_index(b->cls),
                  .aoi = index};
  s->sign = !strcmp(b->sign, "removed") ? 1 : !strcmp(b->sign, "altered") ? 2 : 0;
  if (l->georef && l->padx == 0 && isfinite(s->lat)) { /* 2 pixels, in degrees */
    l->pady = l->pm / 110574.0;
    l->padx = l->pm / (111320.0 * fmax(0.01, cos(s->lat * M_PI / 180)));
  }
}

/* The sightings of objects.geojson in areas observed on that date (aoi: the index in names, -1
 * for none); pad: 2 pixels in the file's units. Read feature by feature (a jansson document of a
 * 355 MB file took 2.7 GB); an unreadable file gives none, with a warning unless quiet. */
static sighting *read_sightings(const char *path, json_t *report, json_t *names, int quiet, int *n, double *padx,
                                double *pady) {
  json_t *grid = json_object_get(report, "grid");
  sighting_list l = {.areas = json_object_get(json_object_get(report, "aoi"), "areas"), .names = names};
  l.georef = json_is_true(json_object_get(grid, "georeferenced"));
  l.pm = 2 * json_number_value(json_object_get(grid, "pixel_width_m"));
  l.padx = l.pady = l.georef ? 0 : 2;
  sd_error err = {0};
  if (sd_vector_read_objects(path, add_sighting, &l, &err) && !quiet)
    fprintf(stderr, "sitediff batch: warning: tracks without this date's objects: %s\n", err.msg);
  *n = l.n;
  *padx = l.padx;
  *pady = l.pady;
  return l.v;
}

/* The open tracks of a date (index below old, not closed) by the left edge of their latest box,
 * for the sightings to look up; boxes over 16 times the median width (a road) apart, looked at by
 * every sighting. Sorted by edge, then index. */
typedef struct span_key {
  double x0;
  int t;
} span_key;

typedef struct span_index {
  span_key *key;
  int n, *wide, nwide;
  double width; /* the widest box among the keys */
} span_index;

static int by_edge(const void *a, const void *b) {
  const span_key *x = a, *y = b;
  return x->x0 < y->x0 ? -1 : x->x0 > y->x0 ? 1 : x->t - y->t;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void span_index_build(span_index *ix, const tracks *T, int old) {
  memset(ix, 0, sizeof *ix);
  ix->key = malloc(sizeof *ix->key * (size_t)(old ? old : 1));
  ix->wide = malloc(sizeof *ix->wide * (size_t)(old ? old : 1));
  double *w = malloc(sizeof *w * (size_t)(old ? old : 1));
  if (!ix->key || !ix->wide || !w) abort();
  int m = 0;
  for (int t = 0; t < old; t++)
    if (!T->t[t].closed) w[m++] = T->t[t].last.x1 - T->t[t].last.x0;
  qsort(w, (size_t)m, sizeof *w, by_value);
  double cut = m ? 16 * w[m / 2] : 0;
  free(w);
  for (int t = 0; t < old; t++) {
    const sighting *l = &T->t[t].last;
    if (T->t[t].closed) continue;
    if (l->x1 - l->x0 > cut) {
      ix->wide[ix->nwide++] = t;
    } else {
      ix->key[ix->n++] = (span_key){l->x0, t};
      ix->width = fmax(ix->width, l->x1 - l->x0);
    }
  }
  qsort(ix->key, (size_t)ix->n, sizeof *ix->key, by_edge);
}

/* Track t for sighting s: kept as the best when it overlaps more, or as much and is older. */
static void consider(const tracks *T, int t, const sighting *s, double padx, double pady, int *best, double *bo) {
  const sighting *l = &T->t[t].last;
  double o = overlap(s, l->x0, l->y0, l->x1, l->y1, padx, pady);
  if (o > *bo || (o == *bo && (*best < 0 || t < *best))) {
    *bo = o;
    *best = t;
  }
}

/* Joins the sightings of the k-th pair (before -> after; seen on the after date) to the tracks: the best overlapping
 * open track of the latest box, else a new one. With consecutive pairs a removed object closes its track (it was last
 * seen on the before date). */
static void join(tracks *T, const sighting *v, int n, int k, const char *before, const char *after, int events,
                 double padx, double pady) {
  int old = T->n; /* sightings of one date never join the tracks another of them began */
  span_index ix;
  span_index_build(&ix, T, old);
  for (int i = 0; i < n; i++) {
    const sighting *s = &v[i];
    int best = -1;
    double bo = SAME_OBJECT;
    /* The open tracks whose box starts between where the widest reaches and the sighting's end,
     * and the few boxes far wider than the rest. */
    double from = s->x0 - ix.width - 2 * padx, to = s->x1 + 2 * padx;
    int lo = 0, hi = ix.n;
    while (lo < hi) {
      int mid = (lo + hi) / 2;
      if (ix.key[mid].x0 < from)
        lo = mid + 1;
      else
        hi = mid;
    }
    for (int j = lo; j < ix.n && ix.key[j].x0 <= to; j++)
      consider(T, ix.key[j].t, s, padx, pady, &best, &bo);
    for (int j = 0; j < ix.nwide; j++)
      consider(T, ix.wide[j], s, padx, pady, &best, &bo);
    if (best < 0 && events && s->sign == 1) {
      /* removed, never seen arrive: there before the series began */
      best = -2;
    }
    if (best < 0) {
      if (T->n == T->cap) {
        T->cap = T->cap ? 2 * T->cap : 64;
        T->t = realloc(T->t, sizeof *T->t * (size_t)T->cap);
        if (!T->t) abort();
      }
      track *tr = &T->t[T->n++];
      memset(tr, 0, sizeof *tr);
      tr->first = *s;
      tr->bx0 = s->x0, tr->by0 = s->y0, tr->bx1 = s->x1, tr->by1 = s->y1;
      snprintf(tr->first_seen, sizeof tr->first_seen, "%s", best == -2 ? "" : after);
      best = T->n - 1;
    }
    track *tr = &T->t[best];
    tr->bx0 = fmin(tr->bx0, s->x0), tr->by0 = fmin(tr->by0, s->y0);
    tr->bx1 = fmax(tr->bx1, s->x1), tr->by1 = fmax(tr->by1, s->y1);
    tr->max_area = fmax(tr->max_area, s->area_m2);
    tr->cls_votes[s->cls]++;
    if (tr->seen && tr->last_k == k) { /* another part of it on this date: the latest box holds both */
      tr->last.x0 = fmin(tr->last.x0, s->x0), tr->last.y0 = fmin(tr->last.y0, s->y0);
      tr->last.x1 = fmax(tr->last.x1, s->x1), tr->last.y1 = fmax(tr->last.y1, s->y1);
    } else {
      tr->seen++;
      tr->last = *s;
    }
    tr->last_k = k;
    if (events && s->sign == 1) { /* gone on the after date */
      snprintf(tr->last_seen, sizeof tr->last_seen, "%s", before);
      snprintf(tr->gone_by, sizeof tr->gone_by, "%s", after);
      tr->closed = 1;
    } else if (!events) {
      snprintf(tr->last_seen, sizeof tr->last_seen, "%s", after);
    }
  }
  free(ix.key);
  free(ix.wide);
}

static int track_class(const track *t) {
  int best = 0;
  for (int c = 1; c < SD_CLASS_COUNT; c++)
    if (t->cls_votes[c] > t->cls_votes[best]) best = c;
  return best;
}

/* The pairs of one site, by date after; the tracks' pairs are the baseline ones where there are any. */
typedef struct site_pairs {
  const pair **p;
  int n, chart_mode;
} site_pairs;

static int by_after(const void *a, const void *b) {
  const pair *x = *(const pair *const *)a, *y = *(const pair *const *)b;
  int c = strcmp(x->date_after, y->date_after);
  return c ? c : strcmp(x->date_before, y->date_before);
}

static const char *pairs_name(int mode) {
  return mode == (SD_SERIES_BASELINE | SD_SERIES_CONSECUTIVE) ? "both"
         : mode & SD_SERIES_BASELINE                          ? "baseline"
                                                              : "consecutive";
}

/* The rows of one pair: one per area (or one for the whole scene without --aoi). */
static void pair_rows(const pair *p, json_t *r, json_t *names, series_rows *rows) {
  series_row base = {.p = p, .mode = p->mode};
  snprintf(base.site, sizeof base.site, "%s", p->series);
  snprintf(base.date, sizeof base.date, "%s", p->date_after);
  snprintf(base.compared_with, sizeof base.compared_with, "%s", p->date_before);
  snprintf(base.grade, sizeof base.grade, "%s",
           json_string_value(json_object_get(json_object_get(r, "registration"), "grade")) ?: "");
  json_t *areas = json_object_get(json_object_get(r, "aoi"), "areas");
  if (!r) { /* failed, or not observed at all: every area the site's other dates know of */
    base.status = p->status && !strcmp(p->status, "not observed") ? "not observed" : "failed";
    size_t i;
    json_t *nm;
    json_array_foreach(names, i, nm) {
      series_row x = base;
      snprintf(x.aoi, sizeof x.aoi, "%s", json_string_value(nm));
      add_row(rows, &x);
    }
    if (!json_array_size(names)) add_row(rows, &base);
    return;
  }
  if (!areas) {
    json_t *g = json_object_get(r, "grid"), *ch = json_object_get(r, "change");
    double px = json_number_value(json_object_get(g, "width")) * json_number_value(json_object_get(g, "height"));
    series_row x = base;
    x.valid_share = px > 0 ? json_number_value(json_object_get(ch, "valid_pixels")) / px : 0;
    x.status = x.valid_share >= SD_OBSERVED_SHARE ? "observed" : "not observed";
    x.changed_m2 = json_number_value(json_object_get(ch, "changed_area_m2"));
    json_t *bc = json_object_get(json_object_get(r, "objects"), "by_class");
    for (int c = 0; c < SD_CLASS_COUNT; c++)
      x.objects += x.by_class[c] = (int)json_integer_value(json_object_get(bc, sd_class_name(c)));
    add_row(rows, &x);
    return;
  }
  size_t i;
  json_t *a;
  json_array_foreach(areas, i, a) {
    series_row x = base;
    snprintf(x.aoi, sizeof x.aoi, "%s", json_string_value(json_object_get(a, "name")) ?: "");
    x.valid_share = json_number_value(json_object_get(a, "valid_share"));
    x.status = json_is_true(json_object_get(a, "observed")) ? "observed" : "not observed";
    x.changed_m2 = json_number_value(json_object_get(a, "changed_area_m2"));
    json_t *bc = json_object_get(a, "by_class");
    for (int c = 0; c < SD_CLASS_COUNT; c++)
      x.objects += x.by_class[c] = (int)json_integer_value(json_object_get(bc, sd_class_name(c)));
    add_row(rows, &x);
  }
}

static void write_series_csv(FILE *f, const series_rows *rows, int from) {
  fprintf(f, "site,date,compared_with,pairs,aoi,status,objects,changed_area_m2,trench,structure,equipment,area,road,"
             "registration_grade,valid_share,folder\n");
  for (int i = from; i < rows->n; i++) {
    const series_row *x = &rows->row[i];
    sd_batch_csv_field(f, x->site);
    fprintf(f, ",%s,%s,%s,", x->date, x->compared_with, x->p ? pairs_name(x->mode) : "baseline");
    sd_batch_csv_field(f, x->aoi);
    fprintf(f, ",%s,", x->status);
    if (!strcmp(x->status, "observed")) /* counts only where the area was seen: never "no change" for a cloud */
      fprintf(f, "%d,%.2f,%d,%d,%d,%d,%d,", x->objects, x->changed_m2, x->by_class[0], x->by_class[1], x->by_class[2],
              x->by_class[3], x->by_class[4]);
    else
      fputs(",,,,,,,", f);
    fprintf(f, "%s,", x->grade);
    if (x->p && strcmp(x->status, "failed"))
      fprintf(f, "%.4f,", x->valid_share);
    else
      fputc(',', f);
    sd_batch_csv_field(f, x->p ? x->p->folder : "");
    fputc('\n', f);
  }
}

/* The name of area index a of the site ("" for none). */
static const char *area_name(json_t *names, int a) {
  return a >= 0 ? json_string_value(json_array_get(names, (size_t)a)) ?: "" : "";
}

/* tracks.csv, and tracks.geojson written feature by feature (each one's JSON by jansson): a
 * document of 355,620 features built whole first took over a GiB. */
static void write_tracks(const tracks *T, json_t *names, int georef, const char *csv_path, const char *geo_path,
                         int *bad) {
  FILE *f = fopen(csv_path, "w"), *g = fopen(geo_path, "w");
  if (f) fprintf(f, "track,class,aoi,first_seen,last_seen,gone_by,dates_seen,max_area_m2,lon,lat,x,y\n");
  if (g)
    fprintf(g, "{\"type\": \"FeatureCollection\",%s\n\"features\": [",
            georef ? "" : " \"note\": \"not georeferenced: coordinates are grid pixels\",");
  for (int t = 0; t < T->n; t++) {
    const track *tr = &T->t[t];
    const char *cls = sd_class_name(track_class(tr));
    if (f) {
      fprintf(f, "%d,%s,", t + 1, cls);
      sd_batch_csv_field(f, area_name(names, tr->first.aoi));
      fprintf(f, ",%s,%s,%s,%d,%.2f,%.7f,%.7f,%.1f,%.1f\n", tr->first_seen, tr->last_seen, tr->gone_by, tr->seen,
              tr->max_area, tr->first.lon, tr->first.lat, tr->first.cx, tr->first.cy);
    }
    if (!g) continue;
    json_t *ring = json_pack("[[f,f],[f,f],[f,f],[f,f],[f,f]]", tr->bx0, tr->by0, tr->bx1, tr->by0, tr->bx1, tr->by1,
                             tr->bx0, tr->by1, tr->bx0, tr->by0);
    json_t *feat =
        json_pack("{s:s, s:{s:i, s:s, s:s, s:s?, s:s?, s:s?, s:i, s:f}, s:{s:s, s:[o]}}", "type", "Feature",
                  "properties", "track", t + 1, "class", cls, "aoi", area_name(names, tr->first.aoi), "first_seen",
                  tr->first_seen[0] ? tr->first_seen : NULL, "last_seen", tr->last_seen[0] ? tr->last_seen : NULL,
                  "gone_by", tr->gone_by[0] ? tr->gone_by : NULL, "dates_seen", tr->seen, "max_area_m2", tr->max_area,
                  "geometry", "type", "Polygon", "coordinates", ring);
    fputs(t ? ",\n" : "\n", g);
    *bad |= json_dumpf(feat, g, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0;
    json_decref(feat);
  }
  if (g) fputs("\n]}\n", g);
  *bad |= !f || fclose(f) != 0;
  *bad |= !g || fclose(g) != 0;
}

/* After the last sighting, the first observed date of its area on which it was not seen: each
 * area's observed dates in order (the rows are by date), then a binary search per track. */
static void gone_dates(tracks *T, int nareas, const series_rows *rows, int from, int chart_mode) {
  int na = nareas > 0 ? nareas : 1;
  const char **dates = malloc(sizeof *dates * (size_t)(rows->n - from + 1));
  int *start = calloc((size_t)na + 1, sizeof *start), *fill = calloc((size_t)na, sizeof *fill);
  if (!dates || !start || !fill) abort();
  for (int pass = 0; pass < 2; pass++) {
    for (int i = from; i < rows->n; i++) {
      const series_row *x = &rows->row[i];
      if (!x->p || !(x->mode & chart_mode) || strcmp(x->status, "observed") || x->aoi_index >= na) continue;
      if (pass == 0)
        start[x->aoi_index + 1]++; /* counts, */
      else
        dates[start[x->aoi_index] + fill[x->aoi_index]++] = x->date;
    }
    for (int a = 0; pass == 0 && a < na; a++) /* then offsets */
      start[a + 1] += start[a];
  }
  for (int t = 0; t < T->n; t++) {
    track *tr = &T->t[t];
    int a = tr->first.aoi >= 0 ? tr->first.aoi : 0;
    if (tr->closed || a >= na) continue;
    int lo = start[a], hi = start[a] + fill[a];
    while (lo < hi) {
      int mid = (lo + hi) / 2;
      if (strcmp(dates[mid], tr->last_seen) <= 0)
        lo = mid + 1;
      else
        hi = mid;
    }
    if (lo < start[a] + fill[a]) snprintf(tr->gone_by, sizeof tr->gone_by, "%s", dates[lo]);
  }
  free(dates);
  free(start);
  free(fill);
}

static int row_order(const void *a, const void *b) {
  const series_row *x = a, *y = b;
  int c = strcmp(x->date, y->date);
  if (c) return c;
  if (!x->p != !y->p) return x->p ? 1 : -1; /* the baseline first */
  c = (x->mode & SD_SERIES_BASELINE) - (y->mode & SD_SERIES_BASELINE);
  return c ? -c : x->aoi_index - y->aoi_index;
}

static sd_status write_site(const sd_batch_options *o, site_pairs *sp, const char *dir, series_rows *rows,
                            sd_error *err) {
  int from = rows->n, georef = 1;
  json_t **rep = calloc((size_t)sp->n, sizeof *rep), *names = json_array();
  for (int i = 0; i < sp->n; i++) {
    char path[4400];
    snprintf(path, sizeof path, "%s/%s/report.json", o->outdir, sp->p[i]->folder);
    const char *st = sp->p[i]->status ?: "failed";
    rep[i] = strcmp(st, "failed") && strcmp(st, "not observed") ? json_load_file(path, 0, NULL) : NULL;
    json_t *areas = json_object_get(json_object_get(rep[i], "aoi"), "areas");
    if (rep[i] && !json_array_size(names) && areas) {
      size_t k;
      json_t *a;
      json_array_foreach(areas, k, a) json_array_append(names, json_object_get(a, "name"));
    }
    if (rep[i]) georef = json_is_true(json_object_get(json_object_get(rep[i], "grid"), "georeferenced"));
  }
  for (int i = 0; i < sp->n; i++)
    pair_rows(sp->p[i], rep[i], names, rows);
  /* The baseline itself, once, as a date of its own. */
  for (int i = 0; i < sp->n; i++)
    if (sp->p[i]->mode & SD_SERIES_BASELINE) {
      size_t na = json_array_size(names);
      for (size_t k = 0; k < (na ? na : 1); k++) {
        series_row x = {.status = "baseline", .mode = SD_SERIES_BASELINE};
        snprintf(x.site, sizeof x.site, "%s", sp->p[i]->series);
        snprintf(x.date, sizeof x.date, "%s", sp->p[i]->date_before);
        snprintf(x.aoi, sizeof x.aoi, "%s", na ? json_string_value(json_array_get(names, k)) : "");
        add_row(rows, &x);
      }
      break;
    }
  for (int i = from; i < rows->n; i++) {
    rows->row[i].aoi_index = 0;
    for (size_t k = 0; k < json_array_size(names); k++)
      if (!strcmp(rows->row[i].aoi, json_string_value(json_array_get(names, k)))) rows->row[i].aoi_index = (int)k;
  }
  qsort(rows->row + from, (size_t)(rows->n - from), sizeof *rows->row, row_order);

  /* Tracks from the chart's pairs, in date order. */
  tracks T = {0};
  int events = sp->chart_mode == SD_SERIES_CONSECUTIVE;
  for (int i = 0; i < sp->n; i++) {
    const pair *p = sp->p[i];
    if (!rep[i] || !(p->mode & sp->chart_mode)) continue;
    char path[4400];
    snprintf(path, sizeof path, "%s/%s/objects.geojson", o->outdir, p->folder);
    int ns;
    double padx, pady;
    sighting *v = read_sightings(path, rep[i], names, o->quiet, &ns, &padx, &pady);
    join(&T, v, ns, i, p->date_before, p->date_after, events, padx, pady);
    free(v);
  }
  if (!events) gone_dates(&T, (int)json_array_size(names), rows, from, sp->chart_mode);

  char path[4400], p2[4400];
  int bad = 0;
  snprintf(path, sizeof path, "%s/series.csv", dir);
  FILE *f = fopen(path, "w");
  if (f) write_series_csv(f, rows, from);
  bad |= !f || fclose(f) != 0;
  snprintf(path, sizeof path, "%s/tracks.csv", dir);
  snprintf(p2, sizeof p2, "%s/tracks.geojson", dir);
  write_tracks(&T, names, georef, path, p2, &bad);
  free(T.t);
  for (int i = 0; i < sp->n; i++)
    json_decref(rep[i]);
  free(rep);
  json_decref(names);
  return bad ? sd_error_set(err, SD_ERR_OUTPUT, "batch: cannot write the series in %s", dir) : SD_OK;
}

static int by_series(const void *a, const void *b) {
  const pair *x = *(const pair *const *)a, *y = *(const pair *const *)b;
  int c = strcmp(x->series, y->series);
  return c ? c : by_after(a, b);
}

sd_status sd_batch_write_series(const sd_batch_options *o, const pair *pairs, int n, series_rows *rows, sd_error *err) {
  memset(rows, 0, sizeof *rows);
  const pair **idx = malloc(sizeof *idx * (size_t)(n ? n : 1));
  int m = 0;
  for (int i = 0; i < n; i++)
    if (pairs[i].series[0]) idx[m++] = &pairs[i];
  qsort(idx, (size_t)m, sizeof *idx, by_series);
  sd_status s = SD_OK;
  char(*used)[96] = malloc(sizeof *used * (size_t)(m ? m : 1));
  int nused = 0;
  for (int i = 0; i < m && !s;) {
    int j = i, chart = SD_SERIES_CONSECUTIVE;
    while (j < m && !strcmp(idx[j]->series, idx[i]->series))
      if (idx[j++]->mode & SD_SERIES_BASELINE) chart = SD_SERIES_BASELINE;
    site_pairs sp = {.p = idx + i, .n = j - i, .chart_mode = chart};
    char safe[96], name[96], dir[4200];
    sd_batch_safe_name(idx[i]->series, safe);
    snprintf(name, sizeof name, "%s", safe);
    for (int k = 0, dup = 2; k < nused; k++) /* "a b" and "a_b" are two sites */
      if (!strcmp(used[k], name)) {
        snprintf(name, sizeof name, "%.80s-%d", safe, dup++);
        k = -1;
      }
    snprintf(used[nused++], 96, "%s", name);
    snprintf(dir, sizeof dir, "%s/series/%s", o->outdir, name);
    s = sd_mkdir_p(dir, err);
    if (!s) s = write_site(o, &sp, dir, rows, err);
    for (int k = rows->n - 1; k >= 0 && !strcmp(rows->row[k].site, idx[i]->series); k--)
      rows->row[k].chart = rows->row[k].p ? (rows->row[k].mode & chart) != 0 : chart == SD_SERIES_BASELINE;
    i = j;
  }
  free(used);
  free(idx);
  return s;
}

void sd_batch_free_series(series_rows *rows) {
  free(rows->row);
  memset(rows, 0, sizeof *rows);
}
