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

static double pair_mag(const sd_diff_params *p, const float *const *before, size_t ib, const float *const *after,
                       size_t ia) {
  double sum = 0;
  for (int b = 0; b < p->nbands; b++) {
    double d = ((double)p->gain[b] * after[b][ia] + p->offset[b] - before[b][ib]) / p->sigma[b];
    sum += d * d;
  }
  return sqrt(sum / p->nbands);
}

void sd_diff_tol_ref(const sd_diff_params *p, const float *const *before, const float *const *after, int width,
                     int rows_in, int first, int rows_out, int r, float *mag) {
  for (int yo = 0; yo < rows_out; yo++) {
    int y = first + yo;
    for (int x = 0; x < width; x++) {
      size_t c = (size_t)y * width + x;
      double centre = pair_mag(p, before, c, after, c);
      if (isnan(centre)) {
        mag[(size_t)yo * width + x] = NAN;
        continue;
      }
      double fwd = centre, bwd = centre;
      for (int dy = -r; dy <= r; dy++)
        for (int dx = -r; dx <= r; dx++) {
          int yy = y + dy, xx = x + dx;
          if (yy < 0 || yy >= rows_in || xx < 0 || xx >= width) continue;
          size_t q = (size_t)yy * width + xx;
          double f = pair_mag(p, before, c, after, q), g = pair_mag(p, before, q, after, c);
          if (f < fwd) fwd = f; /* NaN compares false: skipped */
          if (g < bwd) bwd = g;
        }
      mag[(size_t)yo * width + x] = (float)(fwd > bwd ? fwd : bwd);
    }
  }
}
