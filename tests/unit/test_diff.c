/* test_diff.c: the fast differencing kernel equals its reference twin on seeded random data,
 * odd sizes, every band count, nodata, and 1 and N threads (the latter bit for bit). */
#include <math.h>
#include <string.h>

#include "../check.h"
#include "core/core.h"
#include "diff/diff.h"

static void fill(sd_rng *r, float *v, size_t n, double nan_rate) {
  for (size_t i = 0; i < n; i++)
    v[i] = sd_rng_uniform(r) < nan_rate ? NAN : (float)sd_rng_range(r, 0, 4000);
}

/* Random radiometry (gain 1 +- gain_dev, offset +- off, sigma in [sig_lo, sig_hi]) and planes of
 * n pixels for nb bands of both dates, nan_rate of them NaN. */
static void random_case(sd_rng *r, sd_diff_params *p, int nb, size_t n, double gain_dev, double off, double sig_lo,
                        double sig_hi, double nan_rate, float **bef, float **aft) {
  *p = (sd_diff_params){.nbands = nb};
  for (int b = 0; b < nb; b++) {
    p->gain[b] = (float)sd_rng_range(r, 1 - gain_dev, 1 + gain_dev);
    p->offset[b] = (float)sd_rng_range(r, -off, off);
    p->sigma[b] = (float)sd_rng_range(r, sig_lo, sig_hi);
    bef[b] = sd_alloc(n * sizeof(float));
    aft[b] = sd_alloc(n * sizeof(float));
    fill(r, bef[b], n, nan_rate);
    fill(r, aft[b], n, nan_rate);
  }
}

int main(void) {
  sd_rng rng = {12345};
  const size_t sizes[] = {1, 7, 63, 64, 65, 1001, 4099, 100003};
  for (int nb = 1; nb <= 8; nb++)
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
      size_t n = sizes[si];
      sd_diff_params p;
      float *bef[SD_MAX_BANDS], *aft[SD_MAX_BANDS];
      random_case(&rng, &p, nb, n, 0.5, 300, 5, 80, 0.03, bef, aft);
      float *ref = sd_alloc(n * sizeof(float)), *f1 = sd_alloc(n * sizeof(float)), *f2 = sd_alloc(n * sizeof(float));
      sd_diff_ref(&p, (const float *const *)bef, (const float *const *)aft, n, ref);
      omp_set_num_threads(1);
      sd_diff_fast(&p, (const float *const *)bef, (const float *const *)aft, n, f1);
      omp_set_num_threads(2);
      sd_diff_fast(&p, (const float *const *)bef, (const float *const *)aft, n, f2);
      int bad = 0, nanbad = 0;
      for (size_t i = 0; i < n; i++) {
        int any_nan = 0;
        for (int b = 0; b < nb; b++)
          any_nan |= isnan(bef[b][i]) || isnan(aft[b][i]);
        if (any_nan != !!isnan(f1[i]) || isnan(ref[i]) != isnan(f1[i]))
          nanbad++;
        else if (!isnan(ref[i]) && fabsf(ref[i] - f1[i]) > 1e-4f * (1.0f + ref[i]))
          bad++;
      }
      CHECK(bad == 0, "bands %d n %zu: %d values differ from the reference", nb, n, bad);
      CHECK(nanbad == 0, "bands %d n %zu: %d nodata mismatches", nb, n, nanbad);
      CHECK(memcmp(f1, f2, n * sizeof(float)) == 0, "bands %d n %zu: 1 and 2 threads differ", nb, n);
      for (int b = 0; b < nb; b++) {
        sd_free(bef[b]);
        sd_free(aft[b]);
      }
      sd_free(ref);
      sd_free(f1);
      sd_free(f2);
    }
  /* A known value: one band, gain 2, offset 10, sigma 5: after 20 -> 50, before 40: |10|/5 = 2. */
  sd_diff_params p = {.nbands = 1, .gain = {2}, .offset = {10}, .sigma = {5}};
  float *b = sd_alloc(64), *a = sd_alloc(64), *m = sd_alloc(64);
  b[0] = 40;
  a[0] = 20;
  sd_diff_fast(&p, (const float *const *)&b, (const float *const *)&a, 1, m);
  CHECK_NEAR(m[0], 2.0, 1e-6, "known magnitude");
  sd_free(a);
  sd_free(b);
  sd_free(m);
  /* The tolerant twin: random data, odd sizes, radius 0..2, nodata, 1 and 2 threads. */
  const int dims[][2] = {{1, 1}, {7, 3}, {33, 9}, {131, 17}};
  for (size_t di = 0; di < sizeof dims / sizeof dims[0]; di++)
    for (int nb = 1; nb <= 4; nb += 3)
      for (int r = 0; r <= 2; r++) {
        int w = dims[di][0], rows = dims[di][1], first = rows > 4 ? 2 : 0, out_rows = rows - 2 * first;
        size_t n = (size_t)w * rows;
        sd_diff_params tp;
        float *bef[SD_MAX_BANDS], *aft[SD_MAX_BANDS];
        random_case(&rng, &tp, nb, n, 0.2, 50, 10, 40, 0.05, bef, aft);
        size_t no = (size_t)w * out_rows;
        float *ref = sd_alloc(no * 4 + 64), *f1 = sd_alloc(no * 4 + 64), *f2 = sd_alloc(no * 4 + 64);
        sd_diff_tol_ref(&tp, (const float *const *)bef, (const float *const *)aft, w, rows, first, out_rows, r, ref);
        omp_set_num_threads(1);
        sd_diff_tol_fast(&tp, (const float *const *)bef, (const float *const *)aft, w, rows, first, out_rows, r, f1);
        omp_set_num_threads(2);
        sd_diff_tol_fast(&tp, (const float *const *)bef, (const float *const *)aft, w, rows, first, out_rows, r, f2);
        int bad = 0;
        for (size_t i = 0; i < no; i++)
          if (isnan(ref[i]) != isnan(f1[i]) || (!isnan(ref[i]) && fabsf(ref[i] - f1[i]) > 1e-4f * (1 + ref[i]))) bad++;
        CHECK(bad == 0, "tolerant %dx%d bands %d r %d: %d values differ from the reference", w, rows, nb, r, bad);
        CHECK(!memcmp(f1, f2, no * sizeof(float)), "tolerant %dx%d r %d: 1 and 2 threads differ", w, rows, r);
        if (r == 0) {
          float *plain = sd_alloc(no * 4 + 64);
          const float *bp[SD_MAX_BANDS], *ap[SD_MAX_BANDS];
          for (int b = 0; b < nb; b++) {
            bp[b] = bef[b] + (size_t)first * w;
            ap[b] = aft[b] + (size_t)first * w;
          }
          sd_diff_ref(&tp, bp, ap, no, plain);
          int diff = 0;
          for (size_t i = 0; i < no; i++)
            diff += isnan(plain[i]) != isnan(ref[i]) || (!isnan(plain[i]) && fabsf(plain[i] - ref[i]) > 1e-5f);
          CHECK(diff == 0, "radius 0 is not the plain magnitude (%d differ)", diff);
          sd_free(plain);
        }
        for (int b = 0; b < nb; b++) {
          sd_free(bef[b]);
          sd_free(aft[b]);
        }
        sd_free(ref);
        sd_free(f1);
        sd_free(f2);
      }
  /* Semantics: an edge moved by one pixel vanishes at r = 1; a new 3 x 3 blob stays. */
  enum { EW = 20, EH = 12 };
  float *eb = sd_alloc(EW * EH * 4), *ea = sd_alloc(EW * EH * 4), *em = sd_alloc(EW * EH * 4);
  for (int y = 0; y < EH; y++)
    for (int x = 0; x < EW; x++) {
      eb[y * EW + x] = x < 8 ? 100.0f : 500.0f;
      ea[y * EW + x] = x < 9 ? 100.0f : 500.0f;                           /* the edge one pixel to the right */
      if (y >= 4 && y < 7 && x >= 14 && x < 17) ea[y * EW + x] = 1500.0f; /* new object */
    }
  sd_diff_params one = {.nbands = 1, .gain = {1}, .offset = {0}, .sigma = {10}};
  sd_diff_tol_fast(&one, (const float *const *)&eb, (const float *const *)&ea, EW, EH, 0, EH, 1, em);
  CHECK(em[5 * EW + 8] < 1e-3f, "shifted edge still shows %.2f", em[5 * EW + 8]);
  CHECK(em[5 * EW + 15] > 50, "new blob lost: %.2f", em[5 * EW + 15]);
  sd_diff_tol_fast(&one, (const float *const *)&eb, (const float *const *)&ea, EW, EH, 0, EH, 0, em);
  CHECK(em[5 * EW + 8] > 30, "r = 0 should see the edge (%.2f)", em[5 * EW + 8]);
  sd_free(eb);
  sd_free(ea);
  sd_free(em);
  return check_done("test_diff");
}
