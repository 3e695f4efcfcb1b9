/* fused_ref.c: the plain fused kernel, written to be obviously right. */
#include <math.h>

#include "diff/fused.h"

size_t sd_pixtype_size(sd_pixtype t) { return t == SD_T_U8 ? 1 : t == SD_T_U16 ? 2 : 4; }

static double value(sd_pixtype t, const void *plane, size_t i) {
  switch (t) {
  case SD_T_U8: return ((const uint8_t *)plane)[i];
  case SD_T_U16: return ((const uint16_t *)plane)[i];
  default: return ((const float *)plane)[i];
  }
}

void sd_fused_ref(const sd_fused_params *p, sd_pixtype t, const void *const *before, const void *const *after, size_t n,
                  uint8_t *mask) {
  for (size_t i = 0; i < n; i++) {
    int nodata = 0;
    double sum = 0;
    for (int b = 0; b < p->d.nbands; b++) {
      double vb = value(t, before[b], i), va = value(t, after[b], i);
      if (isnan(vb) || isnan(va) || (p->has_nodata && (vb == p->nodata || va == p->nodata))) nodata = 1;
      double d = ((double)p->d.gain[b] * va + p->d.offset[b] - vb) / p->d.sigma[b];
      sum += d * d;
    }
    mask[i] = nodata ? 255 : sqrt(sum / p->d.nbands) > p->threshold;
  }
}
