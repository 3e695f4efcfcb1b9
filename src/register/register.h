/* register.h: global sub-pixel translation between two chips by phase correlation. */
#ifndef SD_REGISTER_H
#define SD_REGISTER_H

#include "core/core.h"

typedef struct sd_shift {
  double dx, dy;     /* a feature at (x, y) in `ref` sits at (x + dx, y + dy) in `mov` */
  double peak;       /* height of the correlation peak, ~1 for identical content */
  double peak_ratio; /* peak / highest value away from the peak */
  double valid_fraction;
} sd_shift;

/* ref and mov are w x h single-band chips (NaN = nodata). Sub-pixel refinement by an
 * upsampled DFT around the integer peak, to 0.001 px. */
sd_status sd_phasecorr(const float *ref, const float *mov, int w, int h, int threads, sd_shift *out, sd_error *err);

#endif
