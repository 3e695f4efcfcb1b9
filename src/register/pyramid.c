/* pyramid.c: a whole grid's coarser levels, for matching plain ground at a coarser level. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "register/register.h"

size_t sd_pyramid_bytes(int width, int height, int levels) {
  size_t b = 0;
  for (int L = 1; L < levels; L++)
    b += (size_t)(width >> L) * (size_t)(height >> L) * sizeof(float);
  return b;
}

int sd_pyramid_init(sd_pyramid *p, int width, int height, int levels) {
  memset(p, 0, sizeof *p);
  p->levels = levels < SD_PYRAMID_LEVELS ? levels : SD_PYRAMID_LEVELS;
  for (int L = 1; L < p->levels; L++) {
    p->w[L] = width >> L;
    p->h[L] = height >> L;
    if (!(p->img[L] = sd_alloc((size_t)p->w[L] * (size_t)p->h[L] * sizeof(float)))) {
      sd_pyramid_free(p);
      return 0;
    }
  }
  return 1;
}

void sd_pyramid_free(sd_pyramid *p) {
  for (int L = 0; L < SD_PYRAMID_LEVELS; L++)
    sd_free(p->img[L]);
  memset(p, 0, sizeof *p);
}

void sd_pyramid_build_up(sd_pyramid *p) {
  for (int L = 2; L < p->levels; L++)
    sd_bin(p->img[L - 1], p->w[L - 1], p->h[L - 1], 2, p->img[L]);
}

void sd_pyramid_crop(const sd_pyramid *p, int level, int x, int y, int side, float *out) {
  const float *src = p->img[level];
  for (int r = 0; r < side; r++)
    memcpy(out + (size_t)r * side, src + (size_t)(y + r) * p->w[level] + x, (size_t)side * sizeof(float));
}
