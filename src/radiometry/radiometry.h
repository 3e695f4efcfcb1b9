/* radiometry.h: per-band gain/offset mapping the after image onto the before image's radiometry. */
#ifndef SD_RADIOMETRY_H
#define SD_RADIOMETRY_H

#include "core/core.h"

typedef struct sd_radiometry {
  int nbands;
  float gain[SD_MAX_BANDS], offset[SD_MAX_BANDS]; /* before ≈ gain * after + offset */
  float sigma[SD_MAX_BANDS];                      /* robust spread of the no-change residual, before units */
  float sigma_measured[SD_MAX_BANDS];             /* before the floor at 1 % of the band's 2-98 % range */
  long long samples;                              /* pixels valid in both */
  long long kept;                                 /* pixels judged unchanged in the last round */
  int iterations;
} sd_radiometry;

/* The after date's value v of band b on the before date's scale: gain * v + offset. */
static inline float sd_radio_apply(const sd_radiometry *r, int b, float v) { return r->gain[b] * v + r->offset[b]; }

/* Fits on a sample of co-registered pixels (NaN = nodata): start from median/MAD matching,
 * then rounds of reduced-major-axis regression on pixels whose residual stays within 3 sigma.
 * zscore: instead, the plain per-image z-score (mean/standard deviation matching, sigma = the
 * before band's standard deviation), the textbook change-vector baseline. */
sd_status sd_radiometry_fit(const sd_planes *before, const sd_planes *after, int zscore, sd_radiometry *out,
                            sd_error *err);

#endif
