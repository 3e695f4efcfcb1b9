/* diff.c: the fast change magnitude: OpenMP threads over a flat loop the compiler vectorises.
 * Per band the affine map and the 1/sigma scale are folded into three constants. */
#include <math.h>
#include <string.h>

#include "diff/diff.h"

/* One body per band count so the band loop unrolls and the pixel loop vectorises. */
#define SD_DIFF_BODY(NB)                                                                                               \
  SD_OMP(parallel for simd schedule(static) aligned(mag : 64))                                                         \
  for (size_t i = 0; i < n; i++) {                                                                                     \
    float acc = 0.0f;                                                                                                  \
    for (int b = 0; b < (NB); b++) {                                                                                   \
      float d = ka[b] * after[b][i] + kc[b] - kb[b] * before[b][i];                                                    \
      acc += d * d;                                                                                                    \
    }                                                                                                                  \
    mag[i] = sqrtf(acc * inv_n);                                                                                       \
  }

void sd_diff_fast(const sd_diff_params *p, const float *const *before, const float *const *after, size_t n,
                  float *restrict mag) {
  float ka[SD_MAX_BANDS], kb[SD_MAX_BANDS], kc[SD_MAX_BANDS];
  const int nb = p->nbands;
  sd_diff_fold(p, ka, kb, kc);
  const float inv_n = 1.0f / (float)nb;
  switch (nb) {
  case 1: SD_DIFF_BODY(1) break;
  case 2: SD_DIFF_BODY(2) break;
  case 3: SD_DIFF_BODY(3) break;
  case 4: SD_DIFF_BODY(4) break;
  default: SD_DIFF_BODY(nb) break;
  }
}

/* Squared magnitude of before pixel ib against after pixel ia (folded constants). */
static inline float pair_sq(int nb, const float *ka, const float *kb, const float *kc, const float *const *before,
                            size_t ib, const float *const *after, size_t ia) {
  float acc = 0.0f;
  for (int b = 0; b < nb; b++) {
    float d = ka[b] * after[b][ia] + kc[b] - kb[b] * before[b][ib];
    acc += d * d;
  }
  return acc;
}

/* fminf(f, v) as a compare and a blend (a NaN argument yields the other one): libm's fminf is
 * a call the vectoriser keeps scalar. */
static inline float min_skip_nan(float f, float v) { return (v < f || f != f) ? v : f; }

/* acc[x] = sum over bands of (ka a[x + ao] + kc - kb b[x + bo])^2 for x in [x0, x1), band by band
 * in the reference's order (the same sums, bit for bit): flat loops over restrict rows that
 * vectorise, where a per-pixel loop over plane pointers did not. */
static void row_sq(int nb, const float *ka, const float *kb, const float *kc, const float *const *before, size_t bo,
                   const float *const *after, size_t ao, int x0, int x1, float *restrict acc) {
  for (int x = x0; x < x1; x++)
    acc[x] = 0.0f;
  for (int b = 0; b < nb; b++) {
    const float *restrict av = after[b] + ao, *restrict bv = before[b] + bo;
    const float a_k = ka[b], b_k = kb[b], c_k = kc[b];
    SD_OMP(simd)
    for (int x = x0; x < x1; x++) {
      const float d = a_k * av[x] + c_k - b_k * bv[x];
      acc[x] += d * d;
    }
  }
}

void sd_diff_tol_fast(const sd_diff_params *p, const float *const *before, const float *const *after, int width,
                      int rows_in, int first, int rows_out, int r, float *mag) {
  float ka[SD_MAX_BANDS], kb[SD_MAX_BANDS], kc[SD_MAX_BANDS];
  const int nb = p->nbands;
  sd_diff_fold(p, ka, kb, kc);
  const float inv_n = 1.0f / (float)nb;
  SD_OMP(parallel) {
    const size_t wb = sizeof(float) * (size_t)width;
    float *fwd = sd_alloc(wb), *bwd = sd_alloc(wb), *centre = sd_alloc(wb), *tf = sd_alloc(wb), *tb = sd_alloc(wb);
    SD_OMP(for schedule(static))
    for (int yo = 0; yo < rows_out; yo++) {
      const int y = first + yo;
      const size_t row = (size_t)y * width;
      row_sq(nb, ka, kb, kc, before, row, after, row, 0, width, centre);
      memcpy(fwd, centre, wb);
      memcpy(bwd, centre, wb);
      for (int dy = -r; dy <= r; dy++) {
        const int yy = y + dy;
        if (yy < 0 || yy >= rows_in) continue;
        const size_t nrow = (size_t)yy * width;
        for (int dx = -r; dx <= r; dx++) {
          if (!dy && !dx) continue;
          const int x0 = dx < 0 ? -dx : 0, x1 = dx > 0 ? width - dx : width;
          /* before here against after moved by (dx, dy), and the other way round */
          row_sq(nb, ka, kb, kc, before, row, after, nrow + dx, x0, x1, tf);
          row_sq(nb, ka, kb, kc, before, nrow + dx, after, row, x0, x1, tb);
          SD_OMP(simd)
          for (int x = x0; x < x1; x++) {
            fwd[x] = min_skip_nan(fwd[x], tf[x]);
            bwd[x] = min_skip_nan(bwd[x], tb[x]);
          }
        }
      }
      float *out = mag + (size_t)yo * width;
      SD_OMP(simd)
      for (int x = 0; x < width; x++) {
        const float m = fwd[x] > bwd[x] ? fwd[x] : bwd[x];
        out[x] = centre[x] != centre[x] ? NAN : sqrtf((bwd[x] != bwd[x] ? fwd[x] : m) * inv_n);
      }
    }
    sd_free(fwd);
    sd_free(bwd);
    sd_free(centre);
    sd_free(tf);
    sd_free(tb);
  }
}
