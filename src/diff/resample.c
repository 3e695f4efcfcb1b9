/* resample.c: GDAL's cubic warp for affine maps, as one kernel over rows (see resample.h). */
#include <math.h>
#include <stdlib.h>

#include "diff/resample.h"

/* Catmull-Rom weights of the taps at -1, 0, 1, 2 for a fraction x in [0, 1), as GDAL computes them. */
static inline void cubic_weights(double x, double w[4]) {
  double hx = 0.5 * x, tx = 3.0 * x, hx2 = hx * x;
  w[0] = hx * (-1 + x * (2 - x));
  w[1] = 1 + hx2 * (-5 + tx);
  w[2] = hx * (1 + x * (4 - tx));
  w[3] = hx2 * (x - 1);
}

static inline float src_at(const sd_src_window *s, int b, int x, int y) {
  return s->band[b][(size_t)(y - s->oy) * s->sw + (x - s->ox)];
}

static inline int inside(const sd_src_window *s, int x, int y) { return x >= 0 && y >= 0 && x < s->SW && y < s->SH; }

/* GDAL's bilinear on the valid taps among the 4 nearest, renormalised (NaN under 1e-5 of weight). */
static float bilinear_at(const sd_src_window *s, int b, double u, double v) {
  int ix = (int)floor(u - 0.5), iy = (int)floor(v - 0.5);
  double rx = 1.5 - (u - ix), ry = 1.5 - (v - iy), acc = 0, div = 0;
  if (ix == -1) ix = 0, rx = 1;
  if (iy == -1) iy = 0, ry = 1;
  for (int dy = 0; dy < 2; dy++)
    for (int dx = 0; dx < 2; dx++) {
      int x = ix + dx, y = iy + dy;
      if (!inside(s, x, y)) continue;
      float val = src_at(s, b, x, y);
      if (isnan(val)) continue;
      double wt = (dx ? 1 - rx : rx) * (dy ? 1 - ry : ry);
      acc += wt * val;
      div += wt;
    }
  if (div == 1.0) return (float)acc;
  return div < 1e-5 ? NAN : (float)(acc / div);
}

/* The output pixel is there only where the source pixel under its centre is. */
static inline int centre_valid(const sd_src_window *s, double u, double v) {
  if (!(u >= 0 && v >= 0)) return 0; /* also NaN */
  int x = (int)u, y = (int)v;
  return inside(s, x, y) && !isnan(src_at(s, 0, x, y));
}

static void pixel_ref(const sd_src_window *s, double u, double v, float *const *dst, size_t o) {
  if (!centre_valid(s, u, v)) {
    for (int b = 0; b < s->nb; b++)
      dst[b][o] = NAN;
    return;
  }
  double sx = u - 0.5, sy = v - 0.5;
  int ix = (int)floor(sx), iy = (int)floor(sy);
  int all16 = ix - 1 >= 0 && ix + 2 < s->SW && iy - 1 >= 0 && iy + 2 < s->SH;
  double wx[4], wy[4];
  cubic_weights(sx - ix, wx);
  cubic_weights(sy - iy, wy);
  for (int b = 0; b < s->nb; b++) {
    double acc = 0;
    for (int j = 0; j < 4 && all16; j++)
      for (int i = 0; i < 4; i++)
        acc += wy[j] * wx[i] * src_at(s, b, ix - 1 + i, iy - 1 + j);
    dst[b][o] = all16 && !isnan(acc) ? (float)acc : bilinear_at(s, b, u, v);
  }
}

/* Output row j pixel by pixel. */
static void row_ref(const sd_affine *m, const sd_src_window *s, float *const *dst, int w, int j) {
  const double *c = m->c, y = j + 0.5;
  for (int i = 0; i < w; i++) {
    double x = i + 0.5;
    pixel_ref(s, c[0] + c[1] * x + c[2] * y, c[3] + c[4] * x + c[5] * y, dst, (size_t)j * w + i);
  }
}

void sd_resample_cubic_ref(const sd_affine *m, const sd_src_window *s, float *const *dst, int w, int h) {
  for (int j = 0; j < h; j++)
    row_ref(m, s, dst, w, j);
}

/* Along a row of a map without rotation or shear (u depends on i only, v on j only), the taps'
 * columns and weights are the same on every row: computed once, then each band's four source rows
 * are filtered across and the four results down, in loops the compiler vectorises. Pixels whose
 * taps leave the image or meet nodata come out NaN there and are redone one by one. */
typedef struct columns {
  int *ix, *cu; /* first tap column (ix - 1), column under the centre (or -1 outside) */
  float (*wx)[4];
  int *all4; /* the 4 tap columns lie inside the image */
} columns;

static int columns_init(const sd_affine *m, const sd_src_window *s, int w, columns *cl) {
  cl->ix = malloc(sizeof *cl->ix * w);
  cl->cu = malloc(sizeof *cl->cu * w);
  cl->wx = malloc(sizeof *cl->wx * w);
  cl->all4 = malloc(sizeof *cl->all4 * w);
  if (!cl->ix || !cl->cu || !cl->wx || !cl->all4) return -1;
  for (int i = 0; i < w; i++) {
    double u = m->c[0] + m->c[1] * (i + 0.5), sx = u - 0.5, wx[4];
    int ix = (int)floor(sx);
    cubic_weights(sx - ix, wx);
    for (int k = 0; k < 4; k++)
      cl->wx[i][k] = (float)wx[k];
    cl->all4[i] = ix - 1 >= 0 && ix + 2 < s->SW;
    /* clamp so the loads stay in the window; such pixels are redone by pixel_ref */
    int first = ix - 1 < s->ox ? s->ox : ix - 1;
    if (first + 3 >= s->ox + s->sw) first = s->ox + s->sw - 4;
    cl->ix[i] = first - s->ox;
    cl->cu[i] = u >= 0 && u < s->SW ? (int)u : -1;
  }
  return 0;
}

static void columns_free(columns *cl) {
  free(cl->ix);
  free(cl->cu);
  free(cl->wx);
  free(cl->all4);
}

static void row_separable(const sd_affine *m, const sd_src_window *s, const columns *cl, float *const *dst, int w,
                          int j, float *tmp) {
  const double v = m->c[3] + m->c[5] * (j + 0.5), sy = v - 0.5;
  const int iy = (int)floor(sy), cv = v >= 0 && v < s->SH ? (int)v : -1;
  const int rows_ok = iy - 1 >= 0 && iy + 2 < s->SH && s->sw >= 4;
  double wyd[4];
  cubic_weights(sy - iy, wyd);
  const float wy[4] = {(float)wyd[0], (float)wyd[1], (float)wyd[2], (float)wyd[3]};
  float *out0 = dst[0] + (size_t)j * w;
  for (int b = 0; b < s->nb; b++) {
    float *out = dst[b] + (size_t)j * w;
    if (!rows_ok) {
      for (int i = 0; i < w; i++)
        out[i] = NAN;
      continue;
    }
    for (int i = 0; i < w; i++)
      tmp[i] = 0;
    for (int k = 0; k < 4; k++) {
      const float *row = s->band[b] + (size_t)(iy - 1 + k - s->oy) * s->sw;
      const float wk = wy[k];
      for (int i = 0; i < w; i++) {
        const float *p = row + cl->ix[i];
        const float *q = cl->wx[i];
        tmp[i] += wk * (q[0] * p[0] + q[1] * p[1] + q[2] * p[2] + q[3] * p[3]);
      }
    }
    for (int i = 0; i < w; i++)
      out[i] = cl->all4[i] ? tmp[i] : NAN;
  }
  /* the centre's validity, and the pixels the fast loops could not do */
  for (int i = 0; i < w; i++) {
    size_t o = (size_t)j * w + i;
    int bad = cl->cu[i] < 0 || cv < 0 || isnan(src_at(s, 0, cl->cu[i], cv));
    if (bad) {
      for (int b = 0; b < s->nb; b++)
        dst[b][o] = NAN;
      continue;
    }
    if (isnan(out0[i])) /* the source's nodata is the same in every band: band 0 says it */
      pixel_ref(s, m->c[0] + m->c[1] * (i + 0.5), v, dst, o);
  }
}

void sd_resample_cubic(const sd_affine *m, const sd_src_window *s, float *const *dst, int w, int h, int threads) {
  columns cl = {0};
  if (m->c[2] != 0 || m->c[4] != 0 || s->sw < 4 || columns_init(m, s, w, &cl)) {
    columns_free(&cl);
    SD_OMP(parallel for schedule(static) num_threads(threads > 0 ? threads : 1))
    for (int j = 0; j < h; j++)
      row_ref(m, s, dst, w, j);
    return;
  }
  SD_OMP(parallel num_threads(threads > 0 ? threads : 1)) {
    float *tmp = malloc(sizeof *tmp * (w > 0 ? w : 1));
    SD_OMP(for schedule(static))
    for (int j = 0; j < h; j++) {
      if (tmp)
        row_separable(m, s, &cl, dst, w, j, tmp);
      else
        row_ref(m, s, dst, w, j);
    }
    free(tmp);
  }
  columns_free(&cl);
}

void sd_resample_window(const sd_affine *m, int w, int h, int SW, int SH, int *x0, int *y0, int *x1, int *y1) {
  double umin = INFINITY, umax = -INFINITY, vmin = INFINITY, vmax = -INFINITY;
  for (int k = 0; k < 4; k++) {
    double x = (k & 1) ? w : 0, y = (k & 2) ? h : 0;
    double u = m->c[0] + m->c[1] * x + m->c[2] * y, v = m->c[3] + m->c[4] * x + m->c[5] * y;
    umin = fmin(umin, u), umax = fmax(umax, u), vmin = fmin(vmin, v), vmax = fmax(vmax, v);
  }
  /* taps reach two pixels either side of the sample, which lies half a pixel from the centre */
  double a = floor(umin - 0.5) - 2, b = floor(umax - 0.5) + 4, c = floor(vmin - 0.5) - 2, d = floor(vmax - 0.5) + 4;
  *x0 = a < 0 ? 0 : a > SW ? SW : (int)a;
  *x1 = b < 0 ? 0 : b > SW ? SW : (int)b;
  *y0 = c < 0 ? 0 : c > SH ? SH : (int)c;
  *y1 = d < 0 ? 0 : d > SH ? SH : (int)d;
  if (*x1 <= *x0 || *y1 <= *y0) *x1 = *x0, *y1 = *y0;
}

int sd_resample_cubic_applies(const sd_affine *m) {
  const double *c = m->c, lim = 1.0 / 0.97;
  return fabs(c[1]) + fabs(c[2]) <= lim && fabs(c[4]) + fabs(c[5]) <= lim;
}
