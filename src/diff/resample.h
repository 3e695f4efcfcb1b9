/* resample.h: the after image resampled onto the grid where the map from grid pixels to its
 * pixels is affine (same CRS, a translation or affine registration model), as GDAL's warper
 * resamples with cubic: Catmull-Rom (Keys, a = -0.5) where all 16 taps are inside the image and
 * valid, else the bilinear weights of the valid taps among the 4 nearest, renormalised; NaN
 * where the source pixel under the output pixel's centre is outside or invalid. GDAL's warper is
 * the reference twin (io/reader.c) and the path for everything else; sd_resample_cubic_ref is the
 * plain twin of the fast loops. */
#ifndef SD_RESAMPLE_H
#define SD_RESAMPLE_H

#include "core/core.h"

/* Output pixel (i, j) (its centre at i + 0.5, j + 0.5) samples the source at
 * u = c[0] + c[1] (i + 0.5) + c[2] (j + 0.5), v = c[3] + c[4] (i + 0.5) + c[5] (j + 0.5), in the
 * source's pixel-corner coordinates (pixel k spans [k, k + 1)). */
typedef struct sd_affine {
  double c[6];
} sd_affine;

/* The source window: nb planes of sw x sh holding source pixels [ox, ox + sw) x [oy, oy + sh)
 * of an image of SW x SH pixels (NaN = invalid; the window must hold every in-image pixel within
 * two of a sample). */
typedef struct sd_src_window {
  const float *const *band;
  int nb, sw, sh, ox, oy, SW, SH;
} sd_src_window;

/* Fills the w x h planes of dst (nb bands) from src along map, rows spread over threads. */
void sd_resample_cubic(const sd_affine *map, const sd_src_window *src, float *const *dst, int w, int h, int threads);
void sd_resample_cubic_ref(const sd_affine *map, const sd_src_window *src, float *const *dst, int w, int h);

/* The source pixel rectangle [x0, x1) x [y0, y1) (clipped to the image) that a w x h output
 * needs; empty (x1 <= x0) when it misses the image. */
void sd_resample_window(const sd_affine *map, int w, int h, int SW, int SH, int *x0, int *y0, int *x1, int *y1);

/* Whether GDAL's warper would take the 16-tap formula along map (at most ~3 % downsampling in
 * either axis, whatever the window's shape); where it would not, it widens the kernel, and the
 * caller keeps the warper. */
int sd_resample_cubic_applies(const sd_affine *map);

#endif
