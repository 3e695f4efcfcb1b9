/* diff.h: the differencing kernel, a plain reference and a fast twin with one signature. */
#ifndef SD_DIFF_H
#define SD_DIFF_H

#include <stddef.h>

#include "core/core.h"

typedef struct sd_diff_params {
  int nbands;
  float gain[SD_MAX_BANDS], offset[SD_MAX_BANDS]; /* after -> before radiometry */
  float sigma[SD_MAX_BANDS];                      /* no-change residual spread per band */
} sd_diff_params;

/* mag[i] = sqrt(mean_b(((gain_b * after_b[i] + offset_b) - before_b[i]) / sigma_b)^2): the
 * change-vector length in units of the no-change noise; NaN where any input is NaN.
 * Planes are n floats each; the fast version wants 64-byte aligned planes. */
/* The kernels' per-band constants: d = ka * after + kc - kb * before is the normalised difference
 * ((gain * after + offset) - before) / sigma with one multiply-add less per band. */
static inline void sd_diff_fold(const sd_diff_params *p, float *ka, float *kb, float *kc) {
  for (int b = 0; b < p->nbands; b++) {
    kb[b] = 1.0f / p->sigma[b];
    ka[b] = p->gain[b] * kb[b];
    kc[b] = p->offset[b] * kb[b];
  }
}

typedef void sd_diff_fn(const sd_diff_params *p, const float *const *before, const float *const *after, size_t n,
                        float *mag);

sd_diff_fn sd_diff_ref;
sd_diff_fn sd_diff_fast;

/* Misregistration-tolerant magnitude: each pixel is compared with the best match within
 * +-r pixels in the other date, both ways, and the larger of the two minima is kept: a
 * shifted edge finds its match, a new object finds none in either direction.
 *   mag(p) = max( min_|d|<=r D(b(p), a(p+d)), min_|d|<=r D(b(p+d), a(p)) )
 * D is the magnitude above. Planes hold rows_in rows of width pixels; output rows are input
 * rows first..first+rows_out-1; neighbours outside the planes or NaN are skipped; a NaN
 * centre gives NaN. r = 0 is the plain magnitude. */
typedef void sd_diff_tol_fn(const sd_diff_params *p, const float *const *before, const float *const *after, int width,
                            int rows_in, int first, int rows_out, int r, float *mag);

sd_diff_tol_fn sd_diff_tol_ref;
sd_diff_tol_fn sd_diff_tol_fast;

#endif
