/* objects.c: shape measurements of labelled components and the first class guess. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "detect/objects.h"

const char *sd_class_name(int cls) {
  static const char *const names[SD_CLASS_COUNT] = {"trench", "structure", "equipment", "area", "road"};
  return cls >= 0 && cls < SD_CLASS_COUNT ? names[cls] : "unknown";
}

typedef struct acc {
  double sx, sy, sxx, syy, sxy, smag;
  double umin, umax, vmin, vmax;
} acc;

static void set_thickness(sd_object *o, unsigned deepest, double pm) {
  double width_px = 2.0 * deepest / 3.0 - 1.0;
  if (width_px < 1) width_px = 1;
  o->thickness_m = width_px * pm;
  o->thinness = (double)o->area_px / (width_px * width_px);
}

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
  for (int l = 1; l <= n; l++)
    set_thickness(&objs[l - 1], deepest[l], pm);
  free(d);
  free(deepest);
}

static void init_objects(int w, int h, int n, sd_object *objs, acc *a) {
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
}

static inline void add_pixel(sd_object *o, acc *c, int x, int y) {
  double fx = x + 0.5, fy = y + 0.5;
  o->area_px++;
  c->sx += fx;
  c->sy += fy;
  c->sxx += fx * fx;
  c->syy += fy * fy;
  c->sxy += fx * fy;
}

/* Centroid, inertia axes, elongation and orientation from the moments; leaves the major axis
 * (cos, sin) in the accumulator's sxx, syy for the extents. */
static void finish_moments(int n, sd_pixel_geom px, sd_object *objs, acc *a) {
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
    c->sxx = cos(theta);
    c->syy = sin(theta);
  }
}

static inline void add_extent(const sd_object *o, acc *c, int x, int y) {
  double ux = x + 0.5 - o->cx, uy = y + 0.5 - o->cy;
  double u = ux * c->sxx + uy * c->syy, v = -ux * c->syy + uy * c->sxx;
  if (u < c->umin) c->umin = u;
  if (u > c->umax) c->umax = u;
  if (v < c->vmin) c->vmin = v;
  if (v > c->vmax) c->vmax = v;
}

static void finish_extents(int n, sd_pixel_geom px, sd_object *objs, const acc *a) {
  double pm = sqrt(px.w_m * px.h_m);
  for (int l = 1; l <= n; l++) {
    sd_object *o = &objs[l - 1];
    const acc *c = &a[l];
    if (o->area_px <= 0) continue;
    double len = c->umax - c->umin + 1, wid = c->vmax - c->vmin + 1;
    o->length_m = len * pm;
    o->width_m = wid * pm;
    o->rectangularity = (double)o->area_px / (len * wid);
    if (o->rectangularity > 1) o->rectangularity = 1;
    o->lon = o->lat = NAN;
  }
}

void sd_objects_measure(const int32_t *labels, const uint8_t *mask, const float *mag, int w, int h, int n,
                        sd_pixel_geom px, sd_object *objs) {
  acc *a = calloc((size_t)n + 1, sizeof *a);
  if (!a) return;
  init_objects(w, h, n, objs, a);
  /* Pass 1: counts, moments, bbox, perimeter edges, edge/nodata contact. */
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      size_t i = (size_t)y * w + x;
      int32_t l = labels[i];
      if (l <= 0) continue;
      sd_object *o = &objs[l - 1];
      acc *c = &a[l];
      add_pixel(o, c, x, y);
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
  finish_moments(n, px, objs, a);
  /* Pass 2: extent along and across the major axis. */
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      int32_t l = labels[(size_t)y * w + x];
      if (l > 0) add_extent(&objs[l - 1], &a[l], x, y);
    }
  finish_extents(n, px, objs, a);
  free(a);
  measure_thickness(labels, w, h, n, sqrt(px.w_m * px.h_m), objs);
}

int sd_run_stats_alloc(sd_run_stats *st, int64_t n) {
  st->sum = calloc((size_t)n + 1, sizeof *st->sum);
  st->max = calloc((size_t)n + 1, sizeof *st->max);
  st->edge = calloc((size_t)n + 1, 1);
  if (st->sum && st->max && st->edge) return 0;
  sd_run_stats_free(st);
  return -1;
}

void sd_run_stats_free(sd_run_stats *st) {
  free(st->sum);
  free(st->max);
  free(st->edge);
  memset(st, 0, sizeof *st);
}

void sd_run_stats_rows(const sd_runs *r, const float *mag, int wy0, int wrows, int y0, int rows, sd_run_stats *st) {
  const int w = r->width, h = r->height;
  for (int y = y0; y < y0 + rows; y++) {
    const float *m = mag + (size_t)(y - wy0) * w;
    const float *up = y > 0 && y - 1 >= wy0 ? m - w : NULL, *down = y + 1 < h && y + 1 < wy0 + wrows ? m + w : NULL;
    for (int64_t i = r->row_start[y]; i < r->row_start[y + 1]; i++) {
      int x0 = r->x0[i], x1 = r->x1[i];
      double sum = 0;
      float mx = -INFINITY;
      int edge =
          x0 == 0 || x1 == w || y == 0 || y == h - 1 || isnan(m[x0 > 0 ? x0 - 1 : 0]) || (x1 < w && isnan(m[x1]));
      for (int x = x0; x < x1; x++) {
        float v = fabsf(m[x]); /* negative: vegetated in both dates (evidence.h), taken by a closing */
        if (isfinite(v)) {
          sum += v;
          if (v > mx) mx = v;
        }
        if ((up && isnan(up[x])) || (down && isnan(down[x]))) edge = 1;
      }
      st->sum[i] = sum;
      st->max[i] = mx;
      st->edge[i] = (uint8_t)edge;
    }
  }
}

/* Pixels of run i that have a run straight above or below them in row y: the overlap. */
static int64_t overlap(const sd_runs *r, int64_t i, int y) {
  int64_t n = 0;
  for (int64_t q = sd_runs_first_after(r, y, r->x0[i]); q < r->row_start[y + 1] && r->x0[q] < r->x1[i]; q++) {
    int a = r->x0[q] > r->x0[i] ? r->x0[q] : r->x0[i], b = r->x1[q] < r->x1[i] ? r->x1[q] : r->x1[i];
    if (b > a) n += b - a;
  }
  return n;
}

/* Deepest 3-4 chamfer distance of one object (the full-grid transform's value, as in
 * measure_thickness): computed on its bounding box grown by a pixel, since the nearest
 * background of any object pixel lies inside it. The forward pass's rows are kept in memory,
 * or in a temporary file for boxes above 64 MiB, so memory stays bounded for any object. */
static unsigned object_depth(const sd_runs *r, const int64_t *runs, int64_t nr, const sd_object *o, int W, int H) {
  int wx0 = o->x0 > 0 ? o->x0 - 1 : 0, wx1 = o->x1 + 1 < W ? o->x1 + 1 : W - 1;
  int wy0 = o->y0 > 0 ? o->y0 - 1 : 0, wy1 = o->y1 + 1 < H ? o->y1 + 1 : H - 1;
  int ww = wx1 - wx0 + 1, wh = wy1 - wy0 + 1;
  size_t row_bytes = sizeof(uint16_t) * (size_t)ww;
  uint16_t *store = NULL, *cur = malloc(row_bytes), *prev = malloc(row_bytes);
  FILE *spill = NULL;
  unsigned deepest = 0;
  if (row_bytes * wh <= (64u << 20))
    store = malloc(row_bytes * wh);
  else
    spill = tmpfile();
  if (!cur || !prev || (!store && !spill)) goto done;
  int64_t k = 0;
  for (int y = wy0; y <= wy1; y++) {
    memset(cur, 0, row_bytes);
    for (; k < nr && sd_runs_row_of(r, runs[k]) == y; k++)
      for (int x = r->x0[runs[k]]; x < r->x1[runs[k]]; x++)
        cur[x - wx0] = UINT16_MAX;
#define SD_RELAX(cond, v)                                                                                              \
  if (cond) {                                                                                                          \
    unsigned t = (v);                                                                                                  \
    if (t < cur[x]) cur[x] = (uint16_t)t;                                                                              \
  }
    for (int x = 0; x < ww; x++) {
      if (!cur[x]) continue;
      int gx = wx0 + x;
      if (gx == 0 || y == 0 || gx == W - 1) cur[x] = cur[x] < 3 ? cur[x] : 3;
      SD_RELAX(x > 0, cur[x - 1] + 3u)
      SD_RELAX(y > wy0 && x > 0, prev[x - 1] + 4u)
      SD_RELAX(y > wy0, prev[x] + 3u)
      SD_RELAX(y > wy0 && x + 1 < ww, prev[x + 1] + 4u)
    }
    if (store)
      memcpy(store + (size_t)(y - wy0) * ww, cur, row_bytes);
    else if (fwrite(cur, row_bytes, 1, spill) != 1)
      goto done;
    uint16_t *t = prev;
    prev = cur;
    cur = t;
  }
  for (int y = wy1; y >= wy0; y--) {
    if (store)
      memcpy(cur, store + (size_t)(y - wy0) * ww, row_bytes);
    else if (fseeko(spill, (off_t)(y - wy0) * (off_t)row_bytes, SEEK_SET) || fread(cur, row_bytes, 1, spill) != 1)
      goto done;
    for (int x = ww - 1; x >= 0; x--) {
      if (!cur[x]) continue;
      int gx = wx0 + x;
      if (y == H - 1 || gx == W - 1) cur[x] = cur[x] < 3 ? cur[x] : 3;
      SD_RELAX(x + 1 < ww, cur[x + 1] + 3u)
      SD_RELAX(y < wy1 && x + 1 < ww, prev[x + 1] + 4u)
      SD_RELAX(y < wy1, prev[x] + 3u)
      SD_RELAX(y < wy1 && x > 0, prev[x - 1] + 4u)
      if (cur[x] > deepest) deepest = cur[x];
    }
#undef SD_RELAX
    uint16_t *t = prev;
    prev = cur;
    cur = t;
  }
done:
  free(store);
  free(cur);
  free(prev);
  if (spill) fclose(spill);
  return deepest;
}

int sd_objects_measure_runs(const sd_runs *r, const sd_run_stats *st, int n, sd_pixel_geom px, sd_object *objs) {
  const int w = r->width, h = r->height;
  acc *a = calloc((size_t)n + 1, sizeof *a);
  int64_t *start = NULL, *order = a ? sd_runs_by_label(r, &start) : NULL;
  if (!a || !order) {
    free(a);
    return -1;
  }
  init_objects(w, h, n, objs, a);
  for (int y = 0; y < h; y++)
    for (int64_t i = r->row_start[y]; i < r->row_start[y + 1]; i++) {
      int32_t l = r->lab[i];
      if (l <= 0) continue;
      sd_object *o = &objs[l - 1];
      acc *c = &a[l];
      for (int x = r->x0[i]; x < r->x1[i]; x++)
        add_pixel(o, c, x, y);
      c->smag += st->sum[i];
      if (st->max[i] > o->max_mag) o->max_mag = st->max[i];
      if (r->x0[i] < o->x0) o->x0 = r->x0[i];
      if (r->x1[i] - 1 > o->x1) o->x1 = r->x1[i] - 1;
      if (y < o->y0) o->y0 = y;
      if (y > o->y1) o->y1 = y;
      /* Runs that touch across rows belong to one object, so the pixels without one of their
       * own object above (below) them are those without any run there. */
      int64_t len = r->x1[i] - r->x0[i];
      o->perimeter_px += 2 + len - (y > 0 ? overlap(r, i, y - 1) : 0) + len - (y + 1 < h ? overlap(r, i, y + 1) : 0);
      if (st->edge[i]) o->truncated = 1;
    }
  finish_moments(n, px, objs, a);
  for (int y = 0; y < h; y++)
    for (int64_t i = r->row_start[y]; i < r->row_start[y + 1]; i++)
      if (r->lab[i] > 0)
        for (int x = r->x0[i]; x < r->x1[i]; x++)
          add_extent(&objs[r->lab[i] - 1], &a[r->lab[i]], x, y);
  finish_extents(n, px, objs, a);
  free(a);
  double pm = sqrt(px.w_m * px.h_m);
  SD_OMP(parallel for schedule(dynamic, 1))
  for (int l = 1; l <= n; l++)
    set_thickness(&objs[l - 1], object_depth(r, order + start[l], start[l + 1] - start[l], &objs[l - 1], w, h), pm);
  free(order);
  free(start);
  return 0;
}

const char *sd_sign_name(int sign) {
  static const char *const names[] = {"new", "removed", "altered"};
  return sign >= 0 && sign <= SD_SIGN_ALTERED ? names[sign] : "?";
}

double sd_object_score(double mean_mag, int64_t area_px, double thr, int64_t min_area_px) {
  if (!(thr > 0)) return 1;
  double z = fmax(mean_mag, 0) / thr * sqrt((double)area_px), z0 = sqrt((double)(min_area_px > 1 ? min_area_px : 1));
  return z / (z + z0);
}

static int uf_root(int *p, int a) {
  while (p[a] != a)
    a = p[a] = p[p[a]];
  return a;
}

int sd_objects_group_small(const sd_object *objs, int n, sd_pixel_geom px, double gap_m, int32_t *remap, int *parts) {
  double pm = sqrt(px.w_m * px.h_m);
  int *parent = malloc(sizeof(int) * ((size_t)n + 1)), *small = malloc(sizeof(int) * ((size_t)n + 1));
  for (int l = 0; l <= n; l++)
    remap[l] = l;
  if (!parent || !small) {
    free(parent);
    free(small);
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
  memset(remap, 0, sizeof *remap * ((size_t)n + 1));
  for (int l = 1; l <= n; l++) {
    int r = uf_root(parent, l);
    if (!remap[r]) remap[r] = ++count;
    remap[l] = remap[r];
  }
  for (int i = 0; i < count; i++)
    parts[i] = 0;
  for (int l = 1; l <= n; l++)
    parts[remap[l] - 1]++;
  free(parent);
  free(small);
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
    else if (o->thinness >= 6.0 && o->thickness_m <= 20.0 && long_side >= 40.0)
      o->cls = SD_CLASS_ROAD; /* a lane or more wide (5-20 m), at least six widths long */
    else if (o->area_m2 <= SD_SMALL_MAX_M2)
      o->cls = SD_CLASS_EQUIPMENT;
    else if (o->area_m2 <= 2000 && o->rectangularity >= 0.5 && o->elongation <= 4.0)
      o->cls = SD_CLASS_STRUCTURE;
    else
      o->cls = SD_CLASS_AREA;
  }
}
