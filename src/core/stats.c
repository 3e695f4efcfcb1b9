/* stats.c: quantiles by selection, a seeded RNG, a monotonic clock. */
#include <math.h>
#include <time.h>

#include "core/core.h"

/* Hoare selection: expected O(n). */
static float select_kth(float *v, size_t n, size_t k) {
  size_t lo = 0, hi = n - 1;
  while (lo < hi) {
    float pivot = v[lo + (hi - lo) / 2];
    size_t i = lo, j = hi;
    while (i <= j) {
      while (v[i] < pivot)
        i++;
      while (v[j] > pivot)
        j--;
      if (i <= j) {
        float t = v[i];
        v[i] = v[j];
        v[j] = t;
        i++;
        if (j == 0) break;
        j--;
      }
    }
    if (k <= j)
      hi = j;
    else if (k >= i)
      lo = i;
    else
      break;
  }
  return v[k];
}

float sd_quantile(float *v, size_t n, double q) {
  if (n == 0) return NAN;
  if (q < 0) q = 0;
  if (q > 1) q = 1;
  return select_kth(v, n, (size_t)(q * (double)(n - 1) + 0.5));
}

uint64_t sd_hash64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t sd_rng_next(sd_rng *r) {
  r->s += 0x9e3779b97f4a7c15ULL;
  return sd_hash64(r->s);
}

double sd_rng_uniform(sd_rng *r) { return (double)(sd_rng_next(r) >> 11) * 0x1.0p-53; }

double sd_rng_range(sd_rng *r, double lo, double hi) { return lo + (hi - lo) * sd_rng_uniform(r); }

double sd_rng_normal(sd_rng *r) {
  double u1 = sd_rng_uniform(r), u2 = sd_rng_uniform(r);
  if (u1 < 1e-300) u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

double sd_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
