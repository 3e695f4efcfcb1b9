/* objects.c: shape measurements of labelled components and the first class guess. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "detect/objects.h"

const char *sd_class_name(int cls) {
  static const char *const names[SD_CLASS_COUNT] = {"trench", "structure", "equipment", "area"};
  return cls >= 0 && cls < SD_CLASS_COUNT ? names[cls] : "unknown";
}

typedef struct acc {
  double sx, sy, sxx, syy, sxy, smag;
  double umin, umax, vmin, vmax;
} acc;

/* Thickness from a 3-4 chamfer distance transform of the object pixels: the deepest pixel of
 * a shape w pixels wide is about (w + 1) / 2 steps from the background. Unlike the perimeter,
 * this is not inflated by pixel staircases, and it measures bent shapes along their course. */
static void measure_thickness(const int32_t *labels, int w, int h, int n, double pm, sd_object *objs) {
  size_t total = (size_t)w * h;
  uint16_t *d = malloc(total * sizeof *d);
  uint16_t *deepest = calloc((size_t)n + 1, sizeof *deepest);
  if (!d || !deepest) {
    free(d);
    free(deepest);
    return;
  }
  for (size_t i = 0; i < total; i++)
    d[i] = labels[i] > 0 ? UINT16_MAX : 0;
#define SD_RELAX(cond, q, c)                                                                                           \
  if (cond) {                                                                                                          \
    unsigned v = d[q] + (c);                                                                                           \
    if (v < d[i]) d[i] = (uint16_t)v;                                                                                  \
  }
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      size_t i = (size_t)y * w + x;
      if (!d[i]) continue;
      if (x == 0 || y == 0 || x == w - 1) {
        d[i] = d[i] < 3 ? d[i] : 3;
      }
      SD_RELAX(x > 0, i - 1, 3)
      SD_RELAX(y > 0 && x > 0, i - w - 1, 4)
      SD_RELAX(y > 0, i - w, 3)
      SD_RELAX(y > 0 && x + 1 < w, i - w + 1, 4)
    }
  for (int y = h - 1; y >= 0; y--)
    for (int x = w - 1; x >= 0; x--) {
      size_t i = (size_t)y * w + x;
      if (!d[i]) continue;
      if (y == h - 1 || x == w - 1) {
        d[i] = d[i] < 3 ? d[i] : 3;
      }
      SD_RELAX(x + 1 < w, i + 1, 3)
      SD_RELAX(y + 1 < h && x + 1 < w, i + w + 1, 4)
      SD_RELAX(y + 1 < h, i + w, 3)
      SD_RELAX(y + 1 < h && x > 0, i + w - 1, 4)
    }
#undef SD_RELAX
  for (size_t i = 0; i < total; i++)
    if (labels[i] > 0 && d[i] > deepest[labels[i]]) deepest[labels[i]] = d[i];
  for (int l = 1; l <= n; l++) {
    sd_object *o = &objs[l - 1];
    double width_px = 2.0 * deepest[l] / 3.0 - 1.0;
    if (width_px < 1) width_px = 1;
    o->thickness_m = width_px * pm;
    o->thinness = (double)o->area_px / (width_px * width_px);
  }
  free(d);
  free(deepest);
}

void sd_objects_measure(const int32_t *labels, const uint8_t *mask, const float *mag, int w, int h, int n,
                        sd_pixel_geom px, sd_object *objs) {
  acc *a = calloc((size_t)n + 1, sizeof *a);
  if (!a) return;
  for (int i = 0; i < n; i++) {
    memset(&objs[i], 0, sizeof objs[i]);
    objs[i].id = i + 1;
    objs[i].parts = 1;
    objs[i].x0 = w;
    objs[i].y0 = h;
    objs[i].x1 = objs[i].y1 = -1;
    a[i + 1].umin = a[i + 1].vmin = INFINITY;
    a[i + 1].umax = a[i + 1].vmax = -INFINITY;
  }
  /* Pass 1: counts, moments, bbox, perimeter edges, edge/nodata contact. */
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      size_t i = (size_t)y * w + x;
      int32_t l = labels[i];
      if (l <= 0) continue;
      sd_object *o = &objs[l - 1];
      acc *c = &a[l];
      double fx = x + 0.5, fy = y + 0.5;
      o->area_px++;
      c->sx += fx;
      c->sy += fy;
      c->sxx += fx * fx;
      c->syy += fy * fy;
      c->sxy += fx * fy;
      float m = mag[i];
      if (isfinite(m)) {
        c->smag += m;
        if (m > o->max_mag) o->max_mag = m;
      }
      if (x < o->x0) o->x0 = x;
      if (x > o->x1) o->x1 = x;
      if (y < o->y0) o->y0 = y;
      if (y > o->y1) o->y1 = y;
      static const int dx4[4] = {1, -1, 0, 0}, dy4[4] = {0, 0, 1, -1};
      for (int k = 0; k < 4; k++) {
        int qx = x + dx4[k], qy = y + dy4[k];
        if (qx < 0 || qy < 0 || qx >= w || qy >= h) {
          o->perimeter_px++;
          o->truncated = 1;
          continue;
        }
        size_t q = (size_t)qy * w + qx;
        if (labels[q] != l) o->perimeter_px++;
        if (mask[q] == 255) o->truncated = 1;
      }
    }
  double pm = sqrt(px.w_m * px.h_m);
  for (int l = 1; l <= n; l++) {
    sd_object *o = &objs[l - 1];
    acc *c = &a[l];
    double N = (double)o->area_px;
    if (N <= 0) continue;
    o->cx = c->sx / N;
    o->cy = c->sy / N;
    /* Covariance of pixel centres, plus the 1/12 variance of a unit pixel. */
    double cxx = c->sxx / N - o->cx * o->cx + 1.0 / 12, cyy = c->syy / N - o->cy * o->cy + 1.0 / 12;
    double cxy = c->sxy / N - o->cx * o->cy;
    double tr = 0.5 * (cxx + cyy), det = sqrt(0.25 * (cxx - cyy) * (cxx - cyy) + cxy * cxy);
    double l1 = tr + det, l2 = tr - det;
    o->elongation = sqrt(l1 / (l2 > 1e-9 ? l2 : 1e-9));
    double theta = 0.5 * atan2(2 * cxy, cxx - cyy); /* from +x towards +y (down) */
    double bearing = atan2(cos(theta), -sin(theta)) * 180.0 / M_PI;
    bearing = fmod(bearing + 360.0, 180.0);
    o->orientation_deg = bearing;
    o->mean_mag = c->smag / N;
    o->area_m2 = N * px.w_m * px.h_m;
    /* store the axis in the accumulator for pass 2 */
    c->sxx = cos(theta);
    c->syy = sin(theta);
  }
  /* Pass 2: extent along and across the major axis. */
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      int32_t l = labels[(size_t)y * w + x];
      if (l <= 0) continue;
      acc *c = &a[l];
      const sd_object *o = &objs[l - 1];
      double ux = x + 0.5 - o->cx, uy = y + 0.5 - o->cy;
      double u = ux * c->sxx + uy * c->syy, v = -ux * c->syy + uy * c->sxx;
      if (u < c->umin) c->umin = u;
      if (u > c->umax) c->umax = u;
      if (v < c->vmin) c->vmin = v;
      if (v > c->vmax) c->vmax = v;
    }
  for (int l = 1; l <= n; l++) {
    sd_object *o = &objs[l - 1];
    acc *c = &a[l];
    if (o->area_px <= 0) continue;
    double len = c->umax - c->umin + 1, wid = c->vmax - c->vmin + 1;
    o->length_m = len * pm;
    o->width_m = wid * pm;
    o->rectangularity = (double)o->area_px / (len * wid);
    if (o->rectangularity > 1) o->rectangularity = 1;
    o->lon = o->lat = NAN;
  }
  free(a);
  measure_thickness(labels, w, h, n, pm, objs);
}

const char *sd_sign_name(int sign) {
  static const char *const names[] = {"new", "removed", "altered"};
  return sign >= 0 && sign <= SD_SIGN_ALTERED ? names[sign] : "?";
}

static int uf_root(int *p, int a) {
  while (p[a] != a)
    a = p[a] = p[p[a]];
  return a;
}

int sd_objects_group_small(int32_t *labels, int w, int h, const sd_object *objs, int n, sd_pixel_geom px, double gap_m,
                           int *parts) {
  double pm = sqrt(px.w_m * px.h_m);
  int *parent = malloc(sizeof(int) * ((size_t)n + 1)), *small = malloc(sizeof(int) * ((size_t)n + 1));
  int32_t *remap = calloc((size_t)n + 1, sizeof *remap);
  if (!parent || !small || !remap) {
    free(parent);
    free(small);
    free(remap);
    return n;
  }
  int k = 0;
  for (int i = 0; i <= n; i++)
    parent[i] = i;
  for (int i = 0; i < n; i++)
    if (objs[i].area_m2 <= SD_SMALL_MAX_M2 && objs[i].cls != SD_CLASS_TRENCH) small[k++] = i;
  /* Single linkage over small blobs; quadratic, so only the first 20000 are linked. */
  for (int a = 0; a < k && a < 20000; a++)
    for (int b = a + 1; b < k && b < 20000; b++) {
      const sd_object *p = &objs[small[a]], *q = &objs[small[b]];
      if (hypot(p->cx - q->cx, p->cy - q->cy) * pm <= gap_m) {
        int ra = uf_root(parent, small[a] + 1), rb = uf_root(parent, small[b] + 1);
        if (ra < rb)
          parent[rb] = ra;
        else if (rb < ra)
          parent[ra] = rb;
      }
    }
  /* Old ids run in raster order, so a group's smallest id marks its first pixel. */
  int count = 0;
  for (int l = 1; l <= n; l++) {
    int r = uf_root(parent, l);
    if (!remap[r]) remap[r] = ++count;
    remap[l] = remap[r];
  }
  for (int i = 0; i < count; i++)
    parts[i] = 0;
  for (int l = 1; l <= n; l++)
    parts[remap[l] - 1]++;
  size_t total = (size_t)w * h;
  for (size_t i = 0; i < total; i++)
    if (labels[i] > 0) labels[i] = remap[labels[i]];
  free(parent);
  free(small);
  free(remap);
  return count;
}

void sd_objects_classify(sd_object *objs, int n, sd_pixel_geom px) {
  (void)px;
  for (int i = 0; i < n; i++) {
    sd_object *o = &objs[i];
    double long_side = o->length_m > o->width_m ? o->length_m : o->width_m;
    if (o->parts > 1)
      o->cls = SD_CLASS_EQUIPMENT; /* a cluster of small blobs */
    else if (o->thinness >= 4.0 && o->thickness_m <= 5.0 && long_side >= 8.0)
      o->cls = SD_CLASS_TRENCH;
    else if (o->area_m2 <= SD_SMALL_MAX_M2)
      o->cls = SD_CLASS_EQUIPMENT;
    else if (o->area_m2 <= 2000 && o->rectangularity >= 0.5 && o->elongation <= 4.0)
      o->cls = SD_CLASS_STRUCTURE;
    else
      o->cls = SD_CLASS_AREA;
  }
}
