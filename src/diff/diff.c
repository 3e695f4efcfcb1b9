/* diff.c: the fast change magnitude: OpenMP threads over a flat loop the compiler vectorises.
 * Per band the affine map and the 1/sigma scale are folded into three constants. */
#include <math.h>

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

void sd_diff_tol_fast(const sd_diff_params *p, const float *const *before, const float *const *after, int width,
                      int rows_in, int first, int rows_out, int r, float *mag) {
  float ka[SD_MAX_BANDS], kb[SD_MAX_BANDS], kc[SD_MAX_BANDS];
  const int nb = p->nbands;
  sd_diff_fold(p, ka, kb, kc);
  const float inv_n = 1.0f / (float)nb;
  SD_OMP(parallel) {
    float *fwd = sd_alloc(sizeof(float) * (size_t)width), *bwd = sd_alloc(sizeof(float) * (size_t)width);
    SD_OMP(for schedule(static))
    for (int yo = 0; yo < rows_out; yo++) {
      const int y = first + yo;
      const size_t row = (size_t)y * width;
      for (int x = 0; x < width; x++)
        fwd[x] = bwd[x] = pair_sq(nb, ka, kb, kc, before, row + x, after, row + x);
      for (int dy = -r; dy <= r; dy++) {
        const int yy = y + dy;
        if (yy < 0 || yy >= rows_in) continue;
        const size_t nrow = (size_t)yy * width;
        for (int dx = -r; dx <= r; dx++) {
          if (!dy && !dx) continue;
          const int x0 = dx < 0 ? -dx : 0, x1 = dx > 0 ? width - dx : width;
          /* Interior: no bounds checks, so the loop vectorises; fminf skips NaN neighbours. */
          SD_OMP(simd)
          for (int x = x0; x < x1; x++) {
            fwd[x] = fminf(fwd[x], pair_sq(nb, ka, kb, kc, before, row + x, after, nrow + x + dx));
            bwd[x] = fminf(bwd[x], pair_sq(nb, ka, kb, kc, before, nrow + x + dx, after, row + x));
          }
        }
      }
      float *out = mag + (size_t)yo * width;
      for (int x = 0; x < width; x++) {
        float c = pair_sq(nb, ka, kb, kc, before, row + x, after, row + x);
        out[x] = isnan(c) ? NAN : sqrtf(fmaxf(fwd[x], bwd[x]) * inv_n);
      }
    }
    sd_free(fwd);
    sd_free(bwd);
  }
}
