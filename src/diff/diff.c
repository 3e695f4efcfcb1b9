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
  for (int b = 0; b < nb; b++) {
    kb[b] = 1.0f / p->sigma[b];
    ka[b] = p->gain[b] * kb[b];
    kc[b] = p->offset[b] * kb[b];
  }
  const float inv_n = 1.0f / (float)nb;
  switch (nb) {
  case 1: SD_DIFF_BODY(1) break;
  case 2: SD_DIFF_BODY(2) break;
  case 3: SD_DIFF_BODY(3) break;
  case 4: SD_DIFF_BODY(4) break;
  default: SD_DIFF_BODY(nb) break;
  }
}
