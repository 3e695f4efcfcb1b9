/* test_objects.c: shape measures and classes of constructed objects. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "detect/detect.h"
#include "detect/objects.h"
#ifdef _OPENMP
#include <omp.h>
#endif

enum { W = 200, H = 200 };

static uint64_t rng_state = 12345;
static uint32_t rnd(void) {
  rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (uint32_t)(rng_state >> 33);
}

/* Every field the same; the mean magnitude to rounding (its sum is taken run by run). */
static void same_objects(const sd_object *a, const sd_object *b, int n, const char *what) {
  for (int i = 0; i < n; i++) {
    const sd_object *p = &a[i], *q = &b[i];
    CHECK(p->id == q->id && p->area_px == q->area_px && p->x0 == q->x0 && p->y0 == q->y0 && p->x1 == q->x1 &&
              p->y1 == q->y1,
          "%s: object %d: id/area/bbox differ", what, i + 1);
    CHECK(p->cx == q->cx && p->cy == q->cy && p->elongation == q->elongation &&
              p->orientation_deg == q->orientation_deg && p->length_m == q->length_m && p->width_m == q->width_m &&
              p->rectangularity == q->rectangularity && p->area_m2 == q->area_m2,
          "%s: object %d: moments or extents differ", what, i + 1);
    CHECK(p->thickness_m == q->thickness_m && p->thinness == q->thinness, "%s: object %d: thickness %.17g vs %.17g",
          what, i + 1, p->thickness_m, q->thickness_m);
    CHECK(p->perimeter_px == q->perimeter_px, "%s: object %d: perimeter %lld vs %lld", what, i + 1,
          (long long)p->perimeter_px, (long long)q->perimeter_px);
    CHECK(p->truncated == q->truncated, "%s: object %d: truncated %d vs %d", what, i + 1, p->truncated, q->truncated);
    CHECK(p->max_mag == q->max_mag && fabs(p->mean_mag - q->mean_mag) <= 1e-12 * fabs(p->mean_mag),
          "%s: object %d: magnitude %.17g/%.17g vs %.17g/%.17g", what, i + 1, p->mean_mag, p->max_mag, q->mean_mag,
          q->max_mag);
  }
}

/* sd_objects_measure_runs against its twin sd_objects_measure on a mask with labels: runs fed in
 * blocks of `block` rows, stats gathered in blocks of `sblock` rows. */
static void twin_case(const uint8_t *m, const float *mag, int w, int h, int block, int sblock, int threads,
                      const char *what) {
  int32_t *l = malloc(sizeof *l * (size_t)w * h);
  int n = sd_label(m, w, h, l);
  sd_object *ref = calloc((size_t)n + 1, sizeof *ref), *got = calloc((size_t)n + 1, sizeof *got);
  sd_pixel_geom px = {0.5, 0.5};
  sd_objects_measure(l, m, mag, w, h, n, px, ref);
  sd_runs r;
  sd_runs_init(&r, w);
  for (int y = 0; y < h; y += block)
    sd_runs_add(&r, m + (size_t)y * w, y + block > h ? h - y : block);
  CHECK(sd_runs_finish(&r) == n, "%s: %d components from runs, %d from the image", what, r.count, n);
  sd_run_stats st;
  CHECK(sd_run_stats_alloc(&st, r.n) == 0, "stats: out of memory");
  for (int y = 0; y < h; y += sblock) {
    int rows = y + sblock > h ? h - y : sblock, ws = y > 0 ? y - 1 : 0, we = y + rows < h ? y + rows + 1 : h;
    sd_run_stats_rows(&r, mag + (size_t)ws * w, ws, we - ws, y, rows, &st);
  }
#ifdef _OPENMP
  omp_set_num_threads(threads);
#else
  (void)threads;
#endif
  CHECK(sd_objects_measure_runs(&r, &st, n, px, got) == 0, "%s: measure_runs failed", what);
  same_objects(ref, got, n, what);
  sd_run_stats_free(&st);
  sd_runs_free(&r);
  free(ref);
  free(got);
  free(l);
}

static void twin_tests(void) {
  static const int sizes[][2] = {{97, 61}, {1, 50}, {50, 1}, {203, 131}, {64, 64}};
  for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    int w = sizes[k][0], h = sizes[k][1];
    uint8_t *m = calloc((size_t)w * h, 1);
    float *mag = malloc(sizeof *mag * (size_t)w * h);
    for (size_t i = 0; i < (size_t)w * h; i++)
      mag[i] = (float)(rnd() % 10000) / 100.0f;
    /* Rectangles and specks of change, some touching the edge; nodata patches (mask 255, NaN). */
    for (int b = 0; b < w * h / 40 + 3; b++) {
      int x = (int)(rnd() % w), y = (int)(rnd() % h), bw = 1 + (int)(rnd() % 9), bh = 1 + (int)(rnd() % 7);
      int nodata = rnd() % 6 == 0;
      for (int yy = y; yy < y + bh && yy < h; yy++)
        for (int xx = x; xx < x + bw && xx < w; xx++) {
          m[(size_t)yy * w + xx] = nodata ? 255 : 1;
          if (nodata) mag[(size_t)yy * w + xx] = NAN;
        }
    }
    char what[96];
    snprintf(what, sizeof what, "random %d x %d", w, h);
    twin_case(m, mag, w, h, h, h, 1, what);
    twin_case(m, mag, w, h, 7, 3, 2, what);
    twin_case(m, mag, w, h, 1, 1, 3, what);
    free(m);
    free(mag);
  }
  /* An object whose box passes 64 MiB of distances: the forward pass goes through a temporary
   * file. A 6000 x 5800 frame 40 px wide with a 12 px wide bar across: thickness from the bar's
   * and frame's widths, exactly as the full-grid transform gives it. */
  int w = 6004, h = 5804;
  uint8_t *m = calloc((size_t)w * h, 1);
  float *mag = malloc(sizeof *mag * (size_t)w * h);
  for (size_t i = 0; i < (size_t)w * h; i++)
    mag[i] = 5;
  for (int y = 2; y < h - 2; y++)
    for (int x = 2; x < w - 2; x++)
      if (x < 42 || x >= w - 42 || y < 42 || y >= h - 42 || (y >= 3000 && y < 3012)) m[(size_t)y * w + x] = 1;
  twin_case(m, mag, w, h, 1000, 999, 2, "large frame (spilled)");
  free(m);
  free(mag);
}

/* The score: the evidence of change rises with both strength and size, 0.5 at the smallest
 * object whose mean lies at the threshold. */
static void score_tests(void) {
  const double thr = 2;
  CHECK_NEAR(sd_object_score(2, 40, thr, 40), 0.5, 1e-12, "minimum size at the threshold scores 0.5");
  CHECK_NEAR(sd_object_score(4, 40, thr, 40), 2.0 / 3, 1e-12, "twice the threshold: z = 2 z0");
  CHECK_NEAR(sd_object_score(2, 160, thr, 40), 2.0 / 3, 1e-12, "four times the pixels: z = 2 z0");
  /* a house of 400 px at 1.5 thresholds outranks a tree crown of 40 px at 4 */
  CHECK(sd_object_score(3, 400, thr, 40) > sd_object_score(8, 40, thr, 40), "size weighs with strength");
  CHECK(sd_object_score(6, 400, thr, 40) > sd_object_score(5, 400, thr, 40), "same size: the stronger first");
  /* no saturation: very large strong objects stay ordered */
  CHECK(sd_object_score(50, 4000000, thr, 40) > sd_object_score(40, 4000000, thr, 40), "no ties at the top");
  CHECK(sd_object_score(-1, 100, thr, 40) == 0 && sd_object_score(0, 100, thr, 40) == 0, "no change scores 0");
  CHECK(sd_object_score(1, 100, 0, 40) == 1, "no threshold: 1");
  for (double m = 0.5; m < 20; m *= 1.7)
    for (int64_t a = 1; a < 100000; a *= 3) {
      double sc = sd_object_score(m, a, thr, 40);
      CHECK(sc > 0 && sc < 1, "score %g out of (0, 1) at mean %g, %lld px", sc, m, (long long)a);
    }
}

int main(void) {
  twin_tests();
  score_tests();
  static uint8_t m[W * H];
  static int32_t l[W * H];
  static float mag[W * H];
  memset(m, 0, sizeof m);
  for (int i = 0; i < W * H; i++)
    mag[i] = 10;
  /* 1: a 20 x 10 px axis-aligned rectangle (a hut at 0.5 m: 10 x 5 m). */
  for (int y = 20; y < 30; y++)
    for (int x = 20; x < 40; x++)
      m[y * W + x] = 1;
  /* 2: a bent line 4 px wide, ~110 px long (a trench 2 m x 55 m). */
  for (int x = 60; x < 130; x++)
    for (int k = 0; k < 4; k++)
      m[(40 + k) * W + x] = 1;
  for (int y = 40; y < 84; y++)
    for (int k = 0; k < 4; k++)
      m[y * W + 130 + k] = 1;
  /* 3: a 10 x 5 px blob (a vehicle: 5 x 2.5 m). */
  for (int y = 120; y < 125; y++)
    for (int x = 20; x < 30; x++)
      m[y * W + x] = 1;
  /* 4: a large irregular patch, a cross with 14 px arms (an area of disturbed ground). */
  for (int y = 95; y < 155; y++)
    for (int x = 100; x < 190; x++)
      if ((abs(x - 145) < 7 || abs(y - 125) < 7) && ((x * 7 + y * 3) % 11)) m[y * W + x] = 1;
  /* 5: a straight strip 16 px wide and 180 px long (a new road at 0.5 m: 8 m x 90 m). */
  for (int y = 170; y < 186; y++)
    for (int x = 10; x < 190; x++)
      m[y * W + x] = 1;
  sd_morph_close(m, W, H, 1);
  int n = sd_label(m, W, H, l);
  CHECK(n == 5, "expected 5 objects, got %d", n);
  sd_object o[8];
  sd_pixel_geom px = {0.5, 0.5};
  sd_objects_measure(l, m, mag, W, H, n, px, o);
  sd_objects_classify(o, n, px);
  CHECK(o[0].area_px == 200, "rectangle area %lld", (long long)o[0].area_px);
  CHECK_NEAR(o[0].area_m2, 50, 1e-9, "rectangle area m2");
  CHECK(o[0].x0 == 20 && o[0].x1 == 39 && o[0].y0 == 20 && o[0].y1 == 29, "rectangle bbox");
  CHECK_NEAR(o[0].cx, 30, 1e-9, "rectangle centroid x");
  CHECK_NEAR(o[0].cy, 25, 1e-9, "rectangle centroid y");
  CHECK_NEAR(o[0].elongation, 2.0, 0.02, "rectangle elongation");
  CHECK_NEAR(o[0].orientation_deg, 90, 0.5, "rectangle orientation (east-west)");
  CHECK_NEAR(o[0].length_m, 10, 0.01, "rectangle length");
  CHECK_NEAR(o[0].width_m, 5, 0.01, "rectangle width");
  CHECK_NEAR(o[0].rectangularity, 1.0, 1e-9, "rectangle rectangularity");
  CHECK(o[0].cls == SD_CLASS_STRUCTURE, "rectangle class %s", sd_class_name(o[0].cls));
  CHECK(o[1].cls == SD_CLASS_TRENCH, "bent line class %s (thinness %.2f, thickness %.2f m)", sd_class_name(o[1].cls),
        o[1].thinness, o[1].thickness_m);
  CHECK_NEAR(o[1].thickness_m, 2.0, 0.6, "trench thickness");
  int blob = l[122 * W + 25] - 1, patch = l[125 * W + 145] - 1;
  CHECK(o[blob].cls == SD_CLASS_EQUIPMENT, "small blob class %s", sd_class_name(o[blob].cls));
  CHECK(o[patch].cls == SD_CLASS_AREA, "large patch class %s", sd_class_name(o[patch].cls));
  int road = l[178 * W + 100] - 1;
  CHECK(o[road].cls == SD_CLASS_ROAD, "long strip class %s (thinness %.2f, thickness %.2f m)",
        sd_class_name(o[road].cls), o[road].thinness, o[road].thickness_m);
  CHECK(!o[0].truncated, "inner rectangle flagged truncated");
  CHECK_NEAR(o[0].mean_mag, 10, 1e-6, "mean magnitude");
  return check_done("test_objects");
}
