/* stage_objects.c: describing each change object from both dates: its contrast against its
 * surroundings before and after (new / removed / altered), its mean signed change, a score and
 * where it is (lon/lat). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/stages.h"

/* An object "stands out" from its surroundings when its mean differs from theirs by this many
 * pooled standard deviations (RMS over bands). */
static const double STANDS_OUT = 1.0;
enum { RING = 3, MAX_DESCRIBED = 5000 };

/* Sums over the object (in) and its ring (the rest of the box but other objects and nodata). */
typedef struct side_sums {
  double in_b[SD_MAX_BANDS], in_a[SD_MAX_BANDS], ring_b[SD_MAX_BANDS], ring_a[SD_MAX_BANDS];
  double qin_b[SD_MAX_BANDS], qin_a[SD_MAX_BANDS], qring_b[SD_MAX_BANDS], qring_a[SD_MAX_BANDS];
  double max_signed, band_sum[SD_MAX_BANDS];
  long n_in, n_ring;
} side_sums;

static void add_strip(int nb, const sd_radiometry *rad, const sd_planes *pb, const sd_planes *pa, const int32_t *lab,
                      int id, side_sums *t) {
  size_t n = (size_t)pb->width * pb->height;
  for (size_t k = 0; k < n; k++) {
    int32_t l = lab[k];
    if (isnan(pb->band[0][k]) || isnan(pa->band[0][k]) || (l && l != id)) continue;
    double *tb = l ? t->in_b : t->ring_b, *ta = l ? t->in_a : t->ring_a, *qb = l ? t->qin_b : t->qring_b,
           *qa = l ? t->qin_a : t->qring_a;
    for (int b = 0; b < nb; b++) {
      double a = rad->gain[b] * pa->band[b][k] + rad->offset[b], v = pb->band[b][k];
      tb[b] += v;
      ta[b] += a;
      qb[b] += v * v;
      qa[b] += a * a;
    }
    if (l) {
      double sg = 0;
      for (int b = 0; b < nb; b++) {
        double d = (rad->gain[b] * pa->band[b][k] + rad->offset[b] - pb->band[b][k]) / rad->sigma[b];
        t->band_sum[b] += d;
        sg += d / nb;
      }
      if (fabs(sg) > fabs(t->max_signed)) t->max_signed = sg;
      t->n_in++;
    } else {
      t->n_ring++;
    }
  }
}

/* One object: reads its bounding box and a ring around it from both dates, in strips of rows
 * (about a million pixels each) so a large object needs no more memory than a small one. */
static sd_status describe_one(const sd_run *run, const sd_radiometry *rad, sd_reader *rb, sd_reader *ra,
                              const sd_runs *runs, sd_object *o, int i, sd_error *err) {
  const int W = run->grid.width, H = run->grid.height, nb = run->nbands;
  o->sign = SD_SIGN_ALTERED;
  o->contrast_before = o->contrast_after = o->mean_signed = o->max_signed = NAN;
  if (i >= MAX_DESCRIBED) return SD_OK; /* the report says how many were described */
  int x0 = o->x0 - RING < 0 ? 0 : o->x0 - RING, y0 = o->y0 - RING < 0 ? 0 : o->y0 - RING;
  int x1 = o->x1 + RING >= W ? W - 1 : o->x1 + RING, y1 = o->y1 + RING >= H ? H - 1 : o->y1 + RING;
  int bw = x1 - x0 + 1, strip = (1 << 20) / bw;
  if (strip < 1) strip = 1;
  if (strip > y1 - y0 + 1) strip = y1 - y0 + 1;
  sd_planes pb = {0}, pa = {0};
  side_sums t;
  memset(&t, 0, sizeof t);
  int32_t *lab = malloc(sizeof *lab * (size_t)bw * strip);
  sd_status s = lab ? SD_OK : sd_error_set(err, SD_ERR_NOMEM, "objects: out of memory");
  if (!s) s = sd_planes_alloc(&pb, nb, bw, strip, err);
  if (!s) s = sd_planes_alloc(&pa, nb, bw, strip, err);
  for (int y = y0; y <= y1 && !s; y += strip) {
    int rows = y + strip > y1 + 1 ? y1 + 1 - y : strip;
    pb.height = pa.height = rows;
    s = sd_run_read_pair(run, rb, ra, x0, y, &pb, &pa, NULL, err);
    if (s) break;
    sd_runs_paint_window(runs, x0, y, bw, rows, lab);
    add_strip(nb, rad, &pb, &pa, lab, o->id, &t);
  }
  if (!s && t.n_in && t.n_ring) {
    /* Separability of object and ring, per band: the difference of their means over their
     * pooled spread (never below the noise). A roof against ground stands out; ground
     * against the same ground does not, however textured. */
    double cb = 0, ca = 0;
    long n_in = t.n_in, n_ring = t.n_ring;
    for (int b = 0; b < nb; b++) {
      double mib = t.in_b[b] / n_in, mrb = t.ring_b[b] / n_ring, mia = t.in_a[b] / n_in, mra = t.ring_a[b] / n_ring;
      double vb = 0.5 * (fmax(t.qin_b[b] / n_in - mib * mib, 0) + fmax(t.qring_b[b] / n_ring - mrb * mrb, 0));
      double va = 0.5 * (fmax(t.qin_a[b] / n_in - mia * mia, 0) + fmax(t.qring_a[b] / n_ring - mra * mra, 0));
      double s2 = (double)rad->sigma[b] * rad->sigma[b];
      cb += (mib - mrb) * (mib - mrb) / fmax(vb, s2);
      ca += (mia - mra) * (mia - mra) / fmax(va, s2);
    }
    o->contrast_before = sqrt(cb / nb);
    o->contrast_after = sqrt(ca / nb);
    o->max_signed = t.max_signed;
    o->nbands = nb;
    o->mean_signed = 0;
    for (int b = 0; b < nb; b++) {
      o->band_change[b] = (float)(t.band_sum[b] / n_in);
      o->mean_signed += t.band_sum[b] / n_in / nb;
    }
    /* The change is there by construction; what existed before decides: nothing that stood
     * out -> new; something that still stands out -> altered; something gone -> removed. */
    o->sign = o->contrast_before < STANDS_OUT   ? SD_SIGN_NEW
              : o->contrast_after >= STANDS_OUT ? SD_SIGN_ALTERED
                                                : SD_SIGN_REMOVED;
  }
  free(lab);
  sd_planes_free(&pb);
  sd_planes_free(&pa);
  return s;
}

typedef struct describe_ctx {
  const sd_radiometry *rad;
  const sd_runs *runs;
  sd_objects *objs;
} describe_ctx;

static sd_status describe_task(const sd_run *run, sd_reader *rb, sd_reader *ra, int i, void *arg, sd_error *err) {
  describe_ctx *c = arg;
  return describe_one(run, c->rad, rb, ra, c->runs, &c->objs->objs[i], i, err);
}

/* Objects are independent: threads take them, each reading with its own GDAL handles (at 8192²
 * with 1,161 objects this stage took 1.9 s on one thread). Objects come in raster order, so each
 * thread takes one run of them, a band of the image whose tiles its handles decode once; taking
 * them four at a time in turn had both threads decode the same tiles (objects stage at 8192², 2
 * threads: 1.35 s that way, 1.01-1.06 s this way). Cloud masks are read through shared readers,
 * so with masks one thread does it all. */
static sd_status describe_all(const sd_run *run, const sd_model *model, const sd_radiometry *rad, const sd_runs *runs,
                              sd_objects *objs, sd_error *err) {
  int nt = run->threads, n = objs->n < MAX_DESCRIBED ? objs->n : MAX_DESCRIBED;
  if (nt > n / 8) nt = n / 8 > 1 ? n / 8 : 1; /* opening handles costs more than a few objects */
  describe_ctx c = {rad, runs, objs};
  return sd_run_pair_tasks(run, model, nt, objs->n, 1, describe_task, &c, err);
}

typedef struct ranked {
  double score;
  int id, index;
} ranked;

static int by_score(const void *pa, const void *pb) {
  const ranked *a = pa, *b = pb;
  if (a->score != b->score) return a->score > b->score ? -1 : 1;
  return (a->id > b->id) - (a->id < b->id);
}

/* score and rank: 1 for the highest score, ties broken by id, so the order is the same on every
 * run. The score weighs size with strength: ranked by the mean magnitude alone, small strong
 * blobs (tree crowns, shadows) came first and the top ten objects of the real 0.5-1.5 m pairs
 * touched the labels 5-42 % of the time; by the evidence, 15-60 % (README, "Score and rank"). */
static sd_status rank_objects(sd_objects *objs, double thr, int64_t min_area_px, sd_error *err) {
  ranked *r = malloc(sizeof *r * (size_t)(objs->n > 0 ? objs->n : 1));
  if (!r) return sd_error_set(err, SD_ERR_NOMEM, "objects: out of memory for %d ranks", objs->n);
  for (int i = 0; i < objs->n; i++) {
    sd_object *o = &objs->objs[i];
    o->score = sd_object_score(o->mean_mag, o->area_px, thr, min_area_px);
    r[i] = (ranked){o->score, o->id, i};
  }
  qsort(r, (size_t)objs->n, sizeof *r, by_score);
  for (int k = 0; k < objs->n; k++)
    objs->objs[r[k].index].rank = k + 1;
  free(r);
  return SD_OK;
}

sd_status sd_stage_describe(sd_run *run, const sd_registration *reg, const sd_normalisation *norm,
                            const sd_detection *det, int64_t min_area_px, sd_objects *objs, sd_error *err) {
  sd_geo *geo = NULL;
  sd_status s = describe_all(run, &reg->model, &norm->radio, &det->runs, objs, err);
  if (!s) s = rank_objects(objs, det->thr.value, min_area_px, err);
  if (!s) s = sd_geo_create(&run->grid, &geo, err);
  for (int i = 0; i < objs->n && !s; i++) {
    sd_object *o = &objs->objs[i];
    sd_geo_lonlat(geo, o->cx, o->cy, &o->lon, &o->lat);
    /* the area holding its centroid, else the nearest (a bent object's centroid may lie outside
     * it; the object itself lies inside the areas, where alone change is found) */
    o->aoi = run->aoi ? sd_aoi_at(run->aoi, o->cx, o->cy) : 0;
  }
  sd_geo_free(geo);
  return s;
}

void sd_objects_free(sd_objects *objs) {
  free(objs->objs);
  objs->objs = NULL;
  objs->n = 0;
}
