/* diff_ref.c: the reference change magnitude, written to be obviously right (double precision). */
#include <math.h>

#include "diff/diff.h"

void sd_diff_ref(const sd_diff_params *p, const float *const *before, const float *const *after, size_t n, float *mag) {
  for (size_t i = 0; i < n; i++) {
    double sum = 0;
    for (int b = 0; b < p->nbands; b++) {
      double corrected = (double)p->gain[b] * after[b][i] + p->offset[b];
      double d = (corrected - before[b][i]) / p->sigma[b];
      sum += d * d;
    }
    mag[i] = (float)sqrt(sum / p->nbands); /* NaN in, NaN out */
  }
}
