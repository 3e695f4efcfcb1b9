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

int main(void) {
  sd_rng rng = {12345};
  const size_t sizes[] = {1, 7, 63, 64, 65, 1001, 4099, 100003};
  for (int nb = 1; nb <= 8; nb++)
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
      size_t n = sizes[si];
      sd_diff_params p = {.nbands = nb};
      float *bef[SD_MAX_BANDS], *aft[SD_MAX_BANDS];
      for (int b = 0; b < nb; b++) {
        p.gain[b] = (float)sd_rng_range(&rng, 0.5, 1.5);
        p.offset[b] = (float)sd_rng_range(&rng, -300, 300);
        p.sigma[b] = (float)sd_rng_range(&rng, 5, 80);
        bef[b] = sd_alloc(n * sizeof(float));
        aft[b] = sd_alloc(n * sizeof(float));
        fill(&rng, bef[b], n, 0.03);
        fill(&rng, aft[b], n, 0.03);
      }
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
  return check_done("test_diff");
}
