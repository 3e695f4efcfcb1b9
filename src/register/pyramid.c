/* pyramid.c: binning a chip down by a power of two, for matching plain ground at a coarser level. */
#include <math.h>

#include "register/register.h"

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
