/* tiepoints.c: a grid of windows matched by phase correlation, each checked for nodata, masks
 * and matchable texture (structure tensor) first, and scored by peak sharpness and by
 * similarity before/after the shift. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "register/register.h"

const char *sd_tp_status_name(sd_tp_status s) {
  static const char *const names[SD_TP_STATUS_COUNT] = {"kept",   "outlier",     "unreliable", "nodata",
                                                        "masked", "featureless", "duplicate"};
  return s < SD_TP_STATUS_COUNT ? names[s] : "?";
}

int sd_tp_layout_make(int width, int height, int win, int spacing, sd_tp_layout *l) {
  memset(l, 0, sizeof *l);
  int shorter = width < height ? width : height;
  if (win <= 0) {
    win = shorter / 4;
    win = win < 64 ? 64 : win > 256 ? 256 : win;
  }
  if (win > shorter) return 0;
  l->win = win;
  if (spacing <= 0) {
    /* Windows half their size apart, at most 8 per axis: 64 points carry an affine or a poly2
     * fit, and each window costs a decode and a warp. On small grids the half (7 x 7 windows on
     * 1024², against 5 x 5 at 3/4) took the affine residual of plain rotated scenes from 0.054
     * to 0.040 px RMS (tuning set of 10; held-out figures in the README). */
    spacing = win / 2;
    int longer = width > height ? width : height;
    if ((longer - win) / spacing + 1 > 8) spacing = (longer - win) / 7;
  }
  l->spacing = spacing;
  if (spacing < 8) spacing = 8;
  while (((width - win) / spacing + 1) * ((height - win) / spacing + 1) > 1024)
    spacing += spacing / 4 + 1;
  l->spacing = spacing;
  l->nx = (width - win) / spacing + 1;
  l->ny = (height - win) / spacing + 1;
  /* Centre the lattice on the grid. */
  l->x0 = (width - ((l->nx - 1) * spacing + win)) / 2;
  l->y0 = (height - ((l->ny - 1) * spacing + win)) / 2;
  return l->nx > 0 && l->ny > 0;
}

/* How well a window can be matched: the structure tensor of its gradients (central differences
 * of the 3 x 3 box-filtered window), its weaker eigenvalue, over what noise alone gives. Noise of
 * variance s2 gives each gradient component a variance of s2 / 27 through that filter (12 taps of
 * 1/18). An edge in one direction pins only one axis: its weaker eigenvalue is the noise's, and
 * the window scores about 0, as does plain ground, however bright its one road. */
static double matchability_of(const float *v, int w, int h, float *tmp) {
  double s = sd_chip_noise(v, w, h, tmp);
  double gxx = 0, gyy = 0, gxy = 0;
  size_t n = 0;
  for (int y = 2; y < h - 2; y++)
    for (int x = 2; x < w - 2; x++) {
      double gx = 0, gy = 0;
      for (int d = -1; d <= 1; d++) {
        const float *r = v + (size_t)(y + d) * w + x, *c = v + (size_t)y * w + x + d;
        gx += (double)r[1] + r[2] - r[-1] - r[-2];
        gy += (double)c[w] + c[2 * w] - c[-w] - c[-2 * w];
      }
      if (isnan(gx) || isnan(gy)) continue;
      gx /= 18;
      gy /= 18;
      gxx += gx * gx;
      gyy += gy * gy;
      gxy += gx * gy;
      n++;
    }
  if (n < 16) return 0;
  double half_tr = 0.5 * (gxx + gyy), det = gxx * gyy - gxy * gxy;
  double lmin = half_tr - sqrt(fmax(half_tr * half_tr - det, 0));
  double noise = (double)n * s * s / 27;
  return noise > 0 ? fmax(lmin / noise - 1, 0) : (lmin > 0 ? INFINITY : 0);
}

/* Normalised cross-correlation of ref with mov sampled at (x + rx, y + ry), bilinear. */
static double ncc_shifted(const float *ref, const float *mov, int w, int h, double rx, double ry) {
  int m = (int)ceil(fmax(fabs(rx), fabs(ry))) + 1;
  double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
  size_t n = 0;
  for (int y = m; y < h - m; y++)
    for (int x = m; x < w - m; x++) {
      double fx = x + rx, fy = y + ry;
      int ix = (int)floor(fx), iy = (int)floor(fy);
      double tx = fx - ix, ty = fy - iy;
      const float *p = mov + (size_t)iy * w + ix;
      double b = (1 - ty) * ((1 - tx) * p[0] + tx * p[1]) + ty * ((1 - tx) * p[w] + tx * p[w + 1]);
      double a = ref[(size_t)y * w + x];
      if (isnan(a) || isnan(b)) continue;
      sa += a;
      sb += b;
      saa += a * a;
      sbb += b * b;
      sab += a * b;
      n++;
    }
  if (n < 16) return NAN;
  double va = saa - sa * sa / n, vb = sbb - sb * sb / n, cab = sab - sa * sb / n;
  return va > 0 && vb > 0 ? cab / sqrt(va * vb) : NAN;
}

/* A window's match is trusted when its peak stands clearly above the rest of the surface; it is
 * tried only when its weaker gradient axis carries at least half the noise's energy again. */
static const double MIN_PEAK_RATIO = 3.0, MIN_TEXTURE = 0.5;

int sd_tp_screen(const float *ref, int w, int h, double masked, float *tmp, sd_tiepoint *t) {
  size_t px = (size_t)w * h, va = 0;
  for (size_t k = 0; k < px; k++)
    va += !isnan(ref[k]);
  t->valid_fraction = (double)va / (double)px;
  /* Masked pixels are also blank: the mask is the more telling reason, so it is checked first. */
  if (masked > 0.1) {
    t->status = SD_TP_MASKED;
    return 0;
  }
  if (t->valid_fraction < 0.9) {
    t->status = SD_TP_NODATA;
    return 0;
  }
  t->texture = tmp ? matchability_of(ref, w, h, tmp) : INFINITY;
  if (t->texture < MIN_TEXTURE) {
    t->status = SD_TP_FEATURELESS;
    return 0;
  }
  return 1;
}

void sd_gradient_magnitude(const float *in, int w, int h, float *out) {
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      float *o = out + (size_t)y * w + x;
      if (x < 1 || y < 1 || x >= w - 1 || y >= h - 1) {
        *o = NAN;
        continue;
      }
      double gx = 0, gy = 0;
      for (int d = -1; d <= 1; d++) {
        const float *r = in + (size_t)(y + d) * w + x, *c = in + (size_t)y * w + x + d;
        gx += (double)r[1] - r[-1];
        gy += (double)c[w] - c[-w];
      }
      *o = (float)(0.1666667 * sqrt(gx * gx + gy * gy)); /* NaN where any neighbour is */
    }
}

void sd_tp_match(const sd_correlator *c, const float *ref, const float *mov, float *scratch, sd_tiepoint *t) {
  int w, h;
  sd_correlator_size(c, &w, &h);
  size_t px = (size_t)w * h, vb = 0;
  for (size_t k = 0; k < px; k++)
    vb += !isnan(mov[k]);
  t->valid_fraction = fmin(t->valid_fraction, (double)vb / (double)px);
  if (t->valid_fraction < 0.9) {
    t->status = SD_TP_NODATA;
    return;
  }
  /* Where the bands disagree (another sensor or season: contrast reversed, vegetation bright in
   * one and dark in the other) their peak is weak or negative; the edges are where they were. */
  const float *a = ref, *b = mov;
  if (scratch) {
    sd_gradient_magnitude(ref, w, h, scratch);
    sd_gradient_magnitude(mov, w, h, scratch + px);
    a = scratch;
    b = scratch + px;
    t->gradient = 1;
  }
  sd_shift s;
  if (sd_correlate(c, a, b, &s, NULL) != SD_OK) {
    t->status = SD_TP_UNRELIABLE;
    return;
  }
  t->rx = s.dx;
  t->ry = s.dy;
  t->peak = s.peak;
  t->peak_ratio = s.peak_ratio;
  t->ncc_before = ncc_shifted(ref, mov, w, h, 0, 0);
  t->ncc_after = fabs(s.dx) < w / 4.0 && fabs(s.dy) < h / 4.0 ? ncc_shifted(ref, mov, w, h, s.dx, s.dy) : NAN;
  t->status = s.peak_ratio >= MIN_PEAK_RATIO ? SD_TP_KEPT : SD_TP_UNRELIABLE;
}
