/* buffer.c: aligned allocation, float plane stacks, and binning a plane by an integer factor. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/core.h"

void *sd_alloc(size_t bytes) {
  size_t rounded = (bytes + SD_ALIGN - 1) / SD_ALIGN * SD_ALIGN;
  return aligned_alloc(SD_ALIGN, rounded ? rounded : SD_ALIGN);
}

void *sd_alloc_huge(size_t bytes) {
  enum { HUGE = 2 << 20 };
  if (bytes < 2 * HUGE) return sd_alloc(bytes);
  size_t rounded = (bytes + HUGE - 1) / HUGE * HUGE;
  void *p = aligned_alloc(HUGE, rounded);
  if (p) madvise(p, rounded, MADV_HUGEPAGE); /* advice only: without it, ordinary pages */
  return p;
}

void *sd_calloc(size_t bytes) {
  void *p = sd_alloc(bytes);
  if (p) memset(p, 0, bytes);
  return p;
}

void sd_free(void *p) { free(p); }

sd_status sd_planes_alloc(sd_planes *p, int nbands, int width, int height, sd_error *err) {
  memset(p, 0, sizeof *p);
  if (nbands < 1 || nbands > SD_MAX_BANDS)
    return sd_error_set(err, SD_ERR_INTERNAL, "planes: %d bands is out of range", nbands);
  p->nbands = nbands;
  p->width = width;
  p->height = height;
  size_t n = (size_t)width * (size_t)height;
  for (int b = 0; b < nbands; b++) {
    p->band[b] = sd_alloc_huge(n * sizeof(float));
    if (!p->band[b]) {
      sd_planes_free(p);
      return sd_error_set(err, SD_ERR_NOMEM, "planes: cannot allocate %d x %d floats", width, height);
    }
  }
  return SD_OK;
}

void sd_planes_free(sd_planes *p) {
  for (int b = 0; b < SD_MAX_BANDS; b++) {
    sd_free(p->band[b]);
    p->band[b] = NULL;
  }
}

void sd_bin(const float *in, int w, int h, int f, float *out) {
  const int ow = w / f, oh = h / f;
  for (int oy = 0; oy < oh; oy++)
    for (int ox = 0; ox < ow; ox++) {
      double sum = 0;
      int n = 0;
      for (int y = oy * f; y < (oy + 1) * f; y++)
        for (int x = ox * f; x < (ox + 1) * f; x++) {
          float v = in[(size_t)y * w + x];
          if (!isnan(v)) {
            sum += v;
            n++;
          }
        }
      out[(size_t)oy * ow + ox] = 2 * n >= f * f ? (float)(sum / n) : NAN;
    }
}
