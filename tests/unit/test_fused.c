/* test_fused.c: the fast fused kernels (native pixels -> mask) equal their reference twin on
 * seeded random data for every pixel type and band count, odd sizes, nodata, and 1 and 2
 * threads; they may differ from it only within float rounding of the threshold. Both fast
 * versions must give the same bytes at 1 and 2 threads: with AVX-512, one thread runs 1 to 4
 * bands band by band and two threads run all bands at once, so this also holds the two loop
 * shapes to the same bytes. */
#include <math.h>
#include <string.h>

#include "../check.h"
#include "core/core.h"
#include "diff/fused.h"

static void fill(sd_rng *r, sd_pixtype t, void *plane, size_t n, double nan_rate, float nd) {
  for (size_t i = 0; i < n; i++) {
    double v = sd_rng_range(r, 0, t == SD_T_U8 ? 255 : 4000);
    int hole = sd_rng_uniform(r) < nan_rate;
    switch (t) {
    case SD_T_U8: ((uint8_t *)plane)[i] = hole ? (uint8_t)nd : (uint8_t)v; break;
    case SD_T_U16: ((uint16_t *)plane)[i] = hole ? (uint16_t)nd : (uint16_t)v; break;
    case SD_T_F32: ((float *)plane)[i] = hole ? NAN : (float)v; break;
    }
  }
}

int main(void) {
  sd_rng r = {777};
  const size_t sizes[] = {1, 15, 17, 1040, 16384, 16385, 100003};
  for (int t = SD_T_U8; t <= SD_T_F32; t++)
    for (int nb = 1; nb <= 8; nb++)
      for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t n = sizes[si];
        sd_fused_params p = {.d = {.nbands = nb}, .threshold = 2.5f, .has_nodata = t != SD_T_F32, .nodata = 0};
        void *b[SD_MAX_BANDS], *a[SD_MAX_BANDS];
        for (int k = 0; k < nb; k++) {
          p.d.gain[k] = (float)sd_rng_range(&r, 0.9, 1.1);
          p.d.offset[k] = (float)sd_rng_range(&r, -5, 5);
          p.d.sigma[k] = (float)sd_rng_range(&r, t == SD_T_U8 ? 20 : 300, t == SD_T_U8 ? 60 : 900);
          b[k] = sd_alloc(n * sd_pixtype_size(t));
          a[k] = sd_alloc(n * sd_pixtype_size(t));
          fill(&r, t, b[k], n, 0.02, 0);
          fill(&r, t, a[k], n, 0.02, 0);
        }
        uint8_t *ref = sd_alloc(n), *f1 = sd_alloc(n), *f2 = sd_alloc(n);
        sd_fused_ref(&p, t, (const void *const *)b, (const void *const *)a, n, ref);
        sd_fused_fn *const fast[2] = {sd_fused_vec, sd_fused_fast};
        for (int v = 0; v < 2; v++) {
          /* poisoned, so a pixel the kernel leaves unwritten cannot pass for a 0 */
          memset(f1, 0x77, n);
          memset(f2, 0x77, n);
          omp_set_num_threads(1);
          fast[v](&p, t, (const void *const *)b, (const void *const *)a, n, f1);
          omp_set_num_threads(2);
          fast[v](&p, t, (const void *const *)b, (const void *const *)a, n, f2);
          int bad = 0, nodata = 0, change = 0;
          for (size_t i = 0; i < n; i++) {
            nodata += ref[i] == 255;
            change += ref[i] == 1;
            if (ref[i] == f1[i]) continue;
            /* only a magnitude within float rounding of the threshold may flip */
            double s = 0;
            for (int k = 0; k < nb; k++) {
              double vb = t == SD_T_U8    ? ((uint8_t *)b[k])[i]
                          : t == SD_T_U16 ? ((uint16_t *)b[k])[i]
                                          : ((float *)b[k])[i];
              double va = t == SD_T_U8    ? ((uint8_t *)a[k])[i]
                          : t == SD_T_U16 ? ((uint16_t *)a[k])[i]
                                          : ((float *)a[k])[i];
              double d = (p.d.gain[k] * va + p.d.offset[k] - vb) / p.d.sigma[k];
              s += d * d;
            }
            if (ref[i] == 255 || f1[i] == 255 || fabs(sqrt(s / nb) - p.threshold) > 1e-4) bad++;
          }
          const char *name = v ? "fast" : "vec";
          CHECK(bad == 0, "%s: type %d bands %d n %zu: %d pixels differ from the reference", name, t, nb, n, bad);
          CHECK(!memcmp(f1, f2, n), "%s: type %d bands %d n %zu: 1 and 2 threads differ", name, t, nb, n);
          if (n > 10000) CHECK(nodata > 0 && change > 0 && change < (int)n, "type %d: degenerate data", t);
        }
        for (int k = 0; k < nb; k++) {
          sd_free(b[k]);
          sd_free(a[k]);
        }
        sd_free(ref);
        sd_free(f1);
        sd_free(f2);
      }
  return check_done("test_fused");
}
