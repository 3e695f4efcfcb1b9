/* series.c: `sitediff synth --series N`: one site's N dated images in which the scene's changes come
 * and go on known dates, areas of interest around them, a cloudy date (nodata over one area) and a
 * date on another grid, with the truth of every (date, area) cell and every object's dates. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/core.h"
#include "synth/synth_priv.h"

enum { MAX_AREAS = 32, OTHER_EPSG = 4326 };
static const int SERIES_EPSG = 32636;
static const char *const SITE = "camp";

typedef struct box {
  double u0, v0, u1, v1;
} box;

static void grow_to(box *b, double u, double v) {
  b->u0 = fmin(b->u0, u);
  b->v0 = fmin(b->v0, v);
  b->u1 = fmax(b->u1, u);
  b->v1 = fmax(b->v1, v);
}

/* The change's extent on the ground (every part, a trench's width), grown by pad metres. */
static box change_box(const sd_change *c, double pad) {
  box b = {INFINITY, INFINITY, -INFINITY, -INFINITY};
  if (c->kind == SD_CHANGE_TRENCH) {
    for (int k = 0; k < c->npoly; k++) {
      grow_to(&b, c->poly[k][0] - c->width, c->poly[k][1] - c->width);
      grow_to(&b, c->poly[k][0] + c->width, c->poly[k][1] + c->width);
    }
  }
  for (int k = 0; k < c->nparts; k++) {
    const sd_rect *r = &c->part[k];
    double hu = fabs(r->a * r->cosr) + fabs(r->b * r->sinr), hv = fabs(r->a * r->sinr) + fabs(r->b * r->cosr);
    grow_to(&b, r->cu - hu, r->cv - hv);
    grow_to(&b, r->cu + hu, r->cv + hv);
  }
  b.u0 -= pad;
  b.v0 -= pad;
  b.u1 += pad;
  b.v1 += pad;
  return b;
}

static int overlaps(const box *a, const box *b) {
  return a->u0 < b->u1 && b->u0 < a->u1 && a->v0 < b->v1 && b->v0 < a->v1;
}

static int inside(const box *in, const box *out) {
  return in->u0 >= out->u0 && in->u1 <= out->u1 && in->v0 >= out->v0 && in->v1 <= out->v1;
}

typedef struct plan {
  int n;                            /* dates */
  char date[100][16];               /* YYYY-MM-DD */
  int appear[32], disappear[32];    /* per change: shown on dates appear <= k < disappear */
  int nareas, area_of[32];          /* per change: its area */
  box area[MAX_AREAS];              /* the areas of interest, disjoint */
  int cloud_k, cloud_area, other_k; /* the cloudy date and the area it hides; the date on another grid */
} plan;

/* Boxes around every change, merged until disjoint: each area holds whole changes only. */
static void plan_areas(const sd_scene *sc, plan *p) {
  p->nareas = 0;
  for (int i = 0; i < sc->nchanges && p->nareas < MAX_AREAS; i++)
    p->area[p->nareas++] = change_box(&sc->change[i], 4);
  for (int merged = 1; merged;) {
    merged = 0;
    for (int a = 0; a < p->nareas && !merged; a++)
      for (int b = a + 1; b < p->nareas && !merged; b++) {
        box ga = p->area[a];
        ga.u0 -= 3, ga.v0 -= 3, ga.u1 += 3, ga.v1 += 3; /* keep 3 m between areas */
        if (!overlaps(&ga, &p->area[b])) continue;
        grow_to(&p->area[a], p->area[b].u0, p->area[b].v0);
        grow_to(&p->area[a], p->area[b].u1, p->area[b].v1);
        p->area[b] = p->area[--p->nareas];
        merged = 1;
      }
  }
  for (int i = 0; i < sc->nchanges; i++) {
    box cb = change_box(&sc->change[i], 4);
    p->area_of[i] = 0;
    for (int a = 0; a < p->nareas; a++)
      if (inside(&cb, &p->area[a])) p->area_of[i] = a;
  }
}

/* Dates from 2026-01-05 at uneven steps; each change appears on a date of its own (never the
 * baseline, never the last), huts and vehicles leave again half the time; trenches and new roofs
 * stay. The cloud hides one area on one date; another date comes on another grid. */
static void plan_series(const sd_synth_options *o, const sd_scene *sc, plan *p) {
  static const int STEP_DAYS[] = {3, 7, 7, 7, 10, 14};
  sd_rng rng = {sd_hash64(o->seed * 2654435761u + 17)};
  p->n = o->series;
  time_t t = 1767571200; /* 2026-01-05 00:00 UTC */
  for (int k = 0; k < p->n; k++) {
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(p->date[k], sizeof p->date[k], "%Y-%m-%d", &tm);
    t += 86400 * STEP_DAYS[sd_rng_next(&rng) % 6];
  }
  for (int i = 0; i < sc->nchanges; i++) {
    const sd_change *c = &sc->change[i];
    p->appear[i] = 1 + (int)(sd_rng_next(&rng) % (uint64_t)(p->n - 2));
    p->disappear[i] = p->n;
    int may_leave = c->kind == SD_CHANGE_EQUIPMENT || c->kind == SD_CHANGE_NEW_HUT;
    if (may_leave && sd_rng_uniform(&rng) < 0.6 && p->appear[i] + 1 < p->n)
      p->disappear[i] = p->appear[i] + 1 + (int)(sd_rng_next(&rng) % (uint64_t)(p->n - 1 - p->appear[i]));
  }
  plan_areas(sc, p);
  p->cloud_k = 2 + (int)(sd_rng_next(&rng) % (uint64_t)(p->n - 3));
  p->cloud_area = (int)(sd_rng_next(&rng) % (uint64_t)p->nareas);
  do
    p->other_k = 2 + (int)(sd_rng_next(&rng) % (uint64_t)(p->n - 2));
  while (p->other_k == p->cloud_k);
}

static int observed(const plan *p, int k, int area) { return !(k == p->cloud_k && area == p->cloud_area); }

static uint32_t shown_on(const plan *p, int nchanges, int k) {
  uint32_t m = 0;
  for (int i = 0; i < nchanges; i++)
    if (p->appear[i] <= k && k < p->disappear[i]) m |= 1u << i;
  return m;
}

static sd_status write_areas(const plan *p, double X0, double Y0, const char *path, sd_error *err) {
  json_t *feats = json_array();
  for (int a = 0; a < p->nareas; a++) {
    const box *b = &p->area[a];
    char name[32];
    snprintf(name, sizeof name, "area-%d", a + 1);
    json_t *ring = json_pack("[[f,f],[f,f],[f,f],[f,f],[f,f]]", X0 + b->u0, Y0 - b->v0, X0 + b->u1, Y0 - b->v0,
                             X0 + b->u1, Y0 - b->v1, X0 + b->u0, Y0 - b->v1, X0 + b->u0, Y0 - b->v0);
    json_array_append_new(feats, json_pack("{s:s, s:{s:s}, s:{s:s, s:[o]}}", "type", "Feature", "properties", "name",
                                           name, "geometry", "type", "Polygon", "coordinates", ring));
  }
  char crs[64];
  snprintf(crs, sizeof crs, "urn:ogc:def:crs:EPSG::%d", SERIES_EPSG);
  json_t *root = json_pack("{s:s, s:{s:s, s:{s:s}}, s:o}", "type", "FeatureCollection", "crs", "type", "name",
                           "properties", "name", crs, "features", feats);
  int rc = json_dump_file(root, path, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
  json_decref(root);
  return rc ? sd_error_set(err, SD_ERR_OUTPUT, "synth: %s: cannot write", path) : SD_OK;
}

static sd_status write_series_truth(const sd_synth_options *o, const sd_scene *sc, const plan *p, const char *path,
                                    sd_error *err) {
  json_t *dates = json_array(), *objs = json_array(), *cells = json_array();
  for (int k = 0; k < p->n; k++)
    json_array_append_new(dates, json_pack("{s:s, s:s, s:s?}", "date", p->date[k], "grid",
                                           k == p->other_k ? "EPSG:4326, 1.25 x the pixel size" : "the baseline's",
                                           "cloud_over", k == p->cloud_k ? "" : NULL));
  for (int k = 0; k < p->n; k++)
    if (k == p->cloud_k) {
      char name[32];
      snprintf(name, sizeof name, "area-%d", p->cloud_area + 1);
      json_object_set_new(json_array_get(dates, (size_t)k), "cloud_over", json_string(name));
    }
  for (int i = 0; i < sc->nchanges; i++) {
    const sd_change *c = &sc->change[i];
    int first = -1;
    for (int k = p->appear[i]; k < p->disappear[i] && first < 0; k++)
      if (observed(p, k, p->area_of[i])) first = k;
    char area[32];
    snprintf(area, sizeof area, "area-%d", p->area_of[i] + 1);
    json_array_append_new(objs, json_pack("{s:i, s:s, s:s, s:f, s:f, s:s, s:s, s:s?, s:s?}", "id", c->id, "kind",
                                          sd_change_kind_name(c->kind), "class", sd_change_kind_class(c->kind), "x",
                                          c->cu / o->pixel_size, "y", c->cv / o->pixel_size, "aoi", area, "appears",
                                          p->date[p->appear[i]], "disappears",
                                          p->disappear[i] < p->n ? p->date[p->disappear[i]] : NULL, "first_observed",
                                          first >= 0 ? p->date[first] : NULL));
  }
  for (int k = 1; k < p->n; k++)
    for (int a = 0; a < p->nareas; a++) {
      int present = 0;
      for (int i = 0; i < sc->nchanges; i++)
        present += p->area_of[i] == a && p->appear[i] <= k && k < p->disappear[i];
      char area[32];
      snprintf(area, sizeof area, "area-%d", a + 1);
      json_array_append_new(cells, json_pack("{s:s, s:s, s:b, s:i}", "date", p->date[k], "aoi", area, "observed",
                                             observed(p, k, a), "present", present));
    }
  json_t *root =
      json_pack("{s:b, s:s, s:s, s:I, s:i, s:f, s:f, s:f, s:o, s:o, s:o, s:s}", "series", 1, "site", SITE, "baseline",
                p->date[0], "seed", (json_int_t)o->seed, "size", o->size, "pixel_size", o->pixel_size, "noise",
                o->noise, "texture", o->texture, "dates", dates, "objects", objs, "cells", cells, "rule",
                "every date is compared with the baseline (the first date, nothing built); a (date, aoi) "
                "cell is present when an object of that area is shown on that date; objects are shown "
                "from 'appears' until before 'disappears'; 'first_observed' is the first date it could "
                "be seen (its area not under the cloud); x, y are pixels of the baseline's grid");
  int rc = json_dump_file(root, path, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
  json_decref(root);
  return rc ? sd_error_set(err, SD_ERR_OUTPUT, "synth: %s: cannot write", path) : SD_OK;
}

sd_status sd_synth_series(const sd_synth_options *o, sd_error *err) {
  double px = o->pixel_size, S = o->size * px;
  sd_scene *sc = malloc(sizeof *sc);
  plan *p = malloc(sizeof *p);
  char *utm = NULL, *other = NULL;
  sd_status s = sc && p ? SD_OK : sd_error_set(err, SD_ERR_NOMEM, "synth: out of memory");
  if (!s) {
    sd_scene_init(sc, o->seed, S, o->texture);
    if (sc->nchanges == 0) s = sd_error_set(err, SD_ERR_USAGE, "synth: --series needs --texture above 0 (changes)");
  }
  if (!s) s = sd_wkt_from_epsg(SERIES_EPSG, &utm, err);
  if (!s) s = sd_wkt_from_epsg(OTHER_EPSG, &other, err);
  char dir[4096], path[4200];
  sd_join(dir, sizeof dir, o->outdir, SITE);
  if (!s) s = sd_mkdir_p(dir, err);
  if (s) goto done;
  plan_series(o, sc, p);
  double X0 = 500000.0 - 0.5 * S + 0.25 * px, Y0 = 5600000.0 + 0.5 * S;
  sd_rng rng = {sd_hash64(o->seed * 104729 + 5)};
  for (int k = 0; k < p->n && !s; k++) {
    image_spec im = {.after = k > 0, .noise_id = k, .nodata = 1, .cos_r = 1, .scale = 1, .cu = S / 2, .cv = S / 2};
    im.grid = (sd_grid){.width = o->size, .height = o->size, .gt = {X0, px, 0, Y0, 0, -px}, .wkt = utm, .georef = 1};
    snprintf(im.grid.crs, sizeof im.grid.crs, "EPSG:%d", SERIES_EPSG);
    im.footprint = k ? o->blur : 1;
    for (int b = 0; b < 4; b++) {
      im.gain[b] = k ? (float)sd_rng_range(&rng, 0.85, 1.15) : 1;
      im.offset[b] = k ? (float)sd_rng_range(&rng, -150, 150) : 0;
    }
    if (k) { /* each date a little off the baseline, as orthorectified images are */
      im.dx_m = sd_rng_range(&rng, -1.5, 1.5) * px;
      im.dv_m = sd_rng_range(&rng, -1.5, 1.5) * px;
    }
    if (k == p->other_k) s = sd_synth_crs_grid(utm, other, OTHER_EPSG, X0, Y0, 0, 0, S, S, 1.25 * px, &im.grid, err);
    if (k == p->cloud_k) {
      const box *b = &p->area[p->cloud_area];
      double c[4] = {b->u0 - 8, b->v0 - 8, b->u1 + 8, b->v1 + 8};
      memcpy(im.cloud, c, sizeof c);
    }
    sc->shown = shown_on(p, sc->nchanges, k);
    snprintf(path, sizeof path, "%s/%s.tif", dir, p->date[k]);
    if (!s) s = sd_synth_render(o, sc, &im, utm, X0, Y0, path, err);
  }
  if (!s) {
    sd_join(path, sizeof path, o->outdir, "aoi.geojson");
    s = write_areas(p, X0, Y0, path, err);
  }
  if (!s) {
    sd_join(path, sizeof path, o->outdir, "truth.json");
    s = write_series_truth(o, sc, p, path, err);
  }
done:
  free(utm);
  free(other);
  free(sc);
  free(p);
  return s;
}
