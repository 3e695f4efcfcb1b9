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
  const int w = r->width;
  memset(labels, 0, sizeof *labels * (size_t)w * rows);
  for (int y = 0; y < rows; y++) {
    int32_t *l = labels + (size_t)y * w;
    for (int64_t i = r->row_start[y0 + y]; i < r->row_start[y0 + y + 1]; i++)
      for (int x = r->x0[i]; x < r->x1[i]; x++)
        l[x] = r->lab[i];
  }
}
