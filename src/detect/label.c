/* label.c: 8-connected components. sd_label: two passes with union-find over provisional
 * labels; sd_label_ref: breadth-first flood fill, its plain twin. Both number components in
 * raster order of their first pixel, so their outputs are identical. */
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"

int32_t sd_uf_find(int32_t *parent, int32_t a) {
  while (parent[a] != a) {
    parent[a] = parent[parent[a]];
    a = parent[a];
  }
  return a;
}

void sd_uf_union(int32_t *parent, int32_t a, int32_t b) {
  a = sd_uf_find(parent, a);
  b = sd_uf_find(parent, b);
  if (a < b)
    parent[b] = a;
  else if (b < a)
    parent[a] = b;
}

int sd_label(const uint8_t *mask, int w, int h, int32_t *labels) {
  size_t cap = 1024;
  int32_t *parent = malloc(cap * sizeof *parent);
  if (!parent) return -1;
  int32_t next = 1;
  parent[0] = 0;
  for (int y = 0; y < h; y++) {
    const uint8_t *m = mask + (size_t)y * w;
    int32_t *l = labels + (size_t)y * w, *up = y ? l - w : NULL;
    for (int x = 0; x < w; x++) {
      if (m[x] != 1) {
        l[x] = 0;
        continue;
      }
      /* Already-visited neighbours: W, NW, N, NE. */
      int32_t nb[4] = {x ? l[x - 1] : 0, up && x ? up[x - 1] : 0, up ? up[x] : 0, up && x + 1 < w ? up[x + 1] : 0};
      int32_t lab = 0;
      for (int k = 0; k < 4; k++)
        if (nb[k] && (!lab || nb[k] < lab)) lab = nb[k];
      if (!lab) {
        if ((size_t)next >= cap) {
          cap *= 2;
          int32_t *p = realloc(parent, cap * sizeof *parent);
          if (!p) {
            free(parent);
            return -1;
          }
          parent = p;
        }
        parent[next] = next;
        lab = next++;
      } else {
        for (int k = 0; k < 4; k++)
          if (nb[k] && nb[k] != lab) sd_uf_union(parent, lab, nb[k]);
      }
      l[x] = lab;
    }
  }
  /* Final numbers in order of first appearance in the raster scan. */
  int32_t *final = calloc((size_t)next, sizeof *final);
  if (!final) {
    free(parent);
    return -1;
  }
  int32_t count = 0;
  size_t n = (size_t)w * h;
  for (size_t i = 0; i < n; i++) {
    if (!labels[i]) continue;
    int32_t root = sd_uf_find(parent, labels[i]);
    if (!final[root]) final[root] = ++count;
    labels[i] = final[root];
  }
  free(final);
  free(parent);
  return count;
}

int sd_label_ref(const uint8_t *mask, int w, int h, int32_t *labels) {
  size_t n = (size_t)w * h;
  memset(labels, 0, n * sizeof *labels);
  size_t *queue = malloc(n * sizeof *queue);
  if (!queue) return -1;
  int32_t count = 0;
  for (size_t start = 0; start < n; start++) {
    if (mask[start] != 1 || labels[start]) continue;
    labels[start] = ++count;
    size_t head = 0, tail = 0;
    queue[tail++] = start;
    while (head < tail) {
      size_t p = queue[head++];
      int px = (int)(p % w), py = (int)(p / w);
      for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
          int qx = px + dx, qy = py + dy;
          if (qx < 0 || qy < 0 || qx >= w || qy >= h) continue;
          size_t q = (size_t)qy * w + qx;
          if (mask[q] == 1 && !labels[q]) {
            labels[q] = count;
            queue[tail++] = q;
          }
        }
    }
  }
  free(queue);
  return count;
}

int sd_label_filter_area(uint8_t *mask, int32_t *labels, int w, int h, int n, int64_t min_px) {
  size_t total = (size_t)w * h;
  int64_t *area = calloc((size_t)n + 1, sizeof *area);
  int32_t *remap = calloc((size_t)n + 1, sizeof *remap);
  if (!area || !remap) {
    free(area);
    free(remap);
    return n;
  }
  for (size_t i = 0; i < total; i++)
    area[labels[i]]++;
  int32_t kept = 0;
  for (int l = 1; l <= n; l++)
    remap[l] = area[l] >= min_px ? ++kept : 0;
  for (size_t i = 0; i < total; i++) {
    if (!labels[i]) continue;
    labels[i] = remap[labels[i]];
    if (!labels[i]) mask[i] = 0;
  }
  free(area);
  free(remap);
  return kept;
}
