/* runs.c: 8-connected components of a mask given block by block, held as runs (a row's stretch
 * of change pixels), not as a label image. Each block's runs are joined to the previous row's
 * as they come, by union-find over runs, so an object that spans blocks is one object, and the
 * memory is the runs', not the grid's. The final numbers follow the raster order of each
 * component's first pixel, as sd_label's do; sd_runs_paint gives sd_label's image back. */
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"

void sd_runs_init(sd_runs *r, int width) {
  memset(r, 0, sizeof *r);
  r->width = width;
}

void sd_runs_free(sd_runs *r) {
  free(r->x0);
  free(r->x1);
  free(r->lab);
  free(r->row_start);
  memset(r, 0, sizeof *r);
}

static int grow(sd_runs *r, int64_t need_runs, int need_rows) {
  if (need_runs > r->cap) {
    int64_t cap = r->cap ? r->cap : 1024;
    while (cap < need_runs)
      cap *= 2;
    if (cap > INT32_MAX) return -1;
    int32_t *x0 = realloc(r->x0, sizeof *x0 * (size_t)cap);
    if (x0) r->x0 = x0;
    int32_t *x1 = realloc(r->x1, sizeof *x1 * (size_t)cap);
    if (x1) r->x1 = x1;
    int32_t *lab = realloc(r->lab, sizeof *lab * (size_t)cap);
    if (lab) r->lab = lab;
    if (!x0 || !x1 || !lab) return -1;
    r->cap = cap;
  }
  if (need_rows + 1 > r->row_cap) {
    int cap = r->row_cap ? r->row_cap : 1024;
    while (cap < need_rows + 1)
      cap *= 2;
    int64_t *rs = realloc(r->row_start, sizeof *rs * (size_t)cap);
    if (!rs) return -1;
    r->row_start = rs;
    r->row_cap = cap;
  }
  return 0;
}

int sd_runs_add(sd_runs *r, const uint8_t *mask, int rows) {
  const int w = r->width;
  for (int y = 0; y < rows; y++) {
    const uint8_t *m = mask + (size_t)y * w;
    if (grow(r, r->n + w / 2 + 1, r->height + 1)) return -1;
    if (r->height == 0) r->row_start[0] = 0;
    int64_t first = r->n;
    for (int x = 0; x < w;) {
      if (m[x] != 1) {
        x++;
        continue;
      }
      int s = x;
      while (x < w && m[x] == 1)
        x++;
      r->x0[r->n] = s;
      r->x1[r->n] = x;
      r->lab[r->n] = (int32_t)r->n; /* its own set, for now */
      r->n++;
    }
    /* Join to the previous row's runs that touch, diagonals included: [a0 - 1, a1] meets [b0, b1). */
    if (r->height > 0) {
      int64_t p = r->row_start[r->height - 1], pe = first;
      for (int64_t c = first; c < r->n; c++) {
        while (p < pe && r->x1[p] < r->x0[c])
          p++;
        for (int64_t q = p; q < pe && r->x0[q] <= r->x1[c]; q++)
          sd_uf_union(r->lab, (int32_t)c, (int32_t)q);
      }
    }
    r->height++;
    r->row_start[r->height] = r->n;
  }
  return 0;
}

int sd_runs_finish(sd_runs *r) {
  int32_t *number = calloc((size_t)r->n + 1, sizeof *number);
  if (!number && r->n) return -1;
  int32_t count = 0;
  for (int64_t i = 0; i < r->n; i++) /* every run points at its root; roots stay roots */
    r->lab[i] = sd_uf_find(r->lab, (int32_t)i);
  /* Runs are in raster order, so a component's first run is its first pixel's. */
  for (int64_t i = 0; i < r->n; i++)
    if (!number[r->lab[i]]) number[r->lab[i]] = ++count;
  for (int64_t i = 0; i < r->n; i++)
    r->lab[i] = number[r->lab[i]];
  free(number);
  r->count = count;
  return count;
}

void sd_runs_paint(const sd_runs *r, int y0, int rows, int32_t *labels) {
  sd_runs_paint_window(r, 0, y0, r->width, rows, labels);
}

/* First run of row y that ends after x (runs of a row are in x order). */
int64_t sd_runs_first_after(const sd_runs *r, int y, int x) {
  int64_t lo = r->row_start[y], hi = r->row_start[y + 1];
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    if (r->x1[mid] <= x)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

void sd_runs_paint_window(const sd_runs *r, int x0, int y0, int w, int h, int32_t *labels) {
  memset(labels, 0, sizeof *labels * (size_t)w * h);
  for (int y = 0; y < h; y++) {
    int32_t *l = labels + (size_t)y * w;
    for (int64_t i = sd_runs_first_after(r, y0 + y, x0); i < r->row_start[y0 + y + 1] && r->x0[i] < x0 + w; i++) {
      int a = r->x0[i] < x0 ? 0 : r->x0[i] - x0, b = r->x1[i] > x0 + w ? w : r->x1[i] - x0;
      for (int x = a; x < b; x++)
        l[x] = r->lab[i];
    }
  }
}

int32_t sd_runs_label_at(const sd_runs *r, int x, int y) {
  if (y < 0 || y >= r->height) return 0;
  int64_t i = sd_runs_first_after(r, y, x);
  return i < r->row_start[y + 1] && r->x0[i] <= x ? r->lab[i] : 0;
}

void sd_runs_relabel(sd_runs *r, const int32_t *map, int32_t count) {
  for (int64_t i = 0; i < r->n; i++)
    r->lab[i] = map[r->lab[i]];
  r->count = count;
}

int sd_runs_filter_area(sd_runs *r, int64_t min_px, int64_t *kept_px) {
  int64_t *area = calloc((size_t)r->count + 1, sizeof *area);
  int32_t *remap = malloc(sizeof *remap * ((size_t)r->count + 1));
  if (!area || !remap) {
    free(area);
    free(remap);
    return -1;
  }
  for (int64_t i = 0; i < r->n; i++)
    area[r->lab[i]] += r->x1[i] - r->x0[i];
  int32_t kept = 0;
  *kept_px = 0;
  remap[0] = 0;
  for (int l = 1; l <= r->count; l++) {
    remap[l] = area[l] >= min_px ? ++kept : 0;
    if (remap[l]) *kept_px += area[l];
  }
  sd_runs_relabel(r, remap, kept);
  free(area);
  free(remap);
  return kept;
}

void sd_runs_boxes(const sd_runs *r, int f, int ow, int32_t *olab) {
  for (int y = 0; y < r->height; y++) {
    int32_t *o = olab + (size_t)(y / f) * ow;
    for (int64_t i = r->row_start[y]; i < r->row_start[y + 1]; i++) {
      int32_t l = r->lab[i];
      if (!l) continue;
      for (int bx = r->x0[i] / f; bx <= (r->x1[i] - 1) / f; bx++)
        if (l > o[bx]) o[bx] = l;
    }
  }
}

int64_t *sd_runs_by_label(const sd_runs *r, int64_t **start_out) {
  int64_t *start = calloc((size_t)r->count + 2, sizeof *start), *order = malloc(sizeof *order * (size_t)(r->n + 1));
  int64_t *fill = malloc(sizeof *fill * ((size_t)r->count + 1));
  if (!start || !order || !fill) {
    free(start);
    free(order);
    free(fill);
    return NULL;
  }
  for (int64_t i = 0; i < r->n; i++)
    start[r->lab[i] + 1]++;
  for (int l = 0; l <= r->count; l++)
    start[l + 1] += start[l];
  memcpy(fill, start, sizeof *fill * ((size_t)r->count + 1));
  for (int64_t i = 0; i < r->n; i++)
    order[fill[r->lab[i]]++] = i;
  free(fill);
  *start_out = start;
  return order;
}

int sd_runs_row_of(const sd_runs *r, int64_t i) {
  int lo = 0, hi = r->height - 1;
  while (lo < hi) {
    int mid = lo + (hi - lo + 1) / 2;
    if (r->row_start[mid] <= i)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

void sd_runs_mark(const sd_runs *r, int y0, int rows, uint8_t *mask) {
  for (int y = y0; y < y0 + rows; y++)
    for (int64_t i = r->row_start[y]; i < r->row_start[y + 1]; i++)
      if (r->lab[i]) memset(mask + (size_t)(y - y0) * r->width + r->x0[i], 1, (size_t)(r->x1[i] - r->x0[i]));
}
