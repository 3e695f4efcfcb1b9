/* features.c: the per-image transforms behind --metric. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diff/features.h"

const char *sd_metric_name(sd_metric m) {
  static const char *const names[SD_METRIC_COUNT] = {"cva", "logratio", "angle", "ndvi", "mbi", "struct"};
  return m < SD_METRIC_COUNT ? names[m] : "?";
}

int sd_metric_parse(const char *name) {
  for (int m = 0; m < SD_METRIC_COUNT; m++)
    if (!strcmp(name, sd_metric_name(m))) return m;
  return -1;
}

int sd_metric_planes(sd_metric m, int nbands) {
  switch (m) {
  case SD_METRIC_CVA:
  case SD_METRIC_LOGRATIO:
  case SD_METRIC_ANGLE: return nbands;
  case SD_METRIC_NDVI: return 1;
  case SD_METRIC_MBI: return 2;
  case SD_METRIC_STRUCT: return nbands + 2;
  default: return nbands;
  }
}

/* MBI: line openings of lengths 11, 21, 31 px in four directions. */
enum { MBI_LEN_MAX = 31 };
int sd_metric_halo(sd_metric m) { return m == SD_METRIC_MBI || m == SD_METRIC_STRUCT ? MBI_LEN_MAX / 2 : 0; }

/* Erosion (want_min) or dilation along a line of 2*half+1 pixels in direction (dx, dy); pixels
 * outside the block or NaN do not take part. O(length) per pixel. */
static void line_filter(const float *in, float *out, int w, int h, int dx, int dy, int half, int want_min) {
  SD_OMP(parallel for schedule(static))
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      float best = in[(size_t)y * w + x];
      for (int k = -half; k <= half; k++) {
        int xx = x + k * dx, yy = y + k * dy;
        if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
        float v = in[(size_t)yy * w + xx];
        if (isnan(v)) continue;
        if (isnan(best) || (want_min ? v < best : v > best)) best = v;
      }
      out[(size_t)y * w + x] = best;
    }
}

/* Mean over directions and lengths of the white (bright = 1) or black top-hat of b: what a
 * line of that length cannot cover, i.e. structures narrower than the line in every direction. */
static void tophat_index(const float *b, float *out, int w, int h, int bright) {
  size_t n = (size_t)w * h;
  float *t1 = malloc(n * sizeof *t1), *t2 = malloc(n * sizeof *t2);
  if (!t1 || !t2) {
    for (size_t i = 0; i < n; i++)
      out[i] = NAN;
    free(t1);
    free(t2);
    return;
  }
  static const int dirs[4][2] = {{1, 0}, {0, 1}, {1, 1}, {1, -1}};
  static const int lens[3] = {11, 21, MBI_LEN_MAX};
  for (size_t i = 0; i < n; i++)
    out[i] = 0;
  for (int d = 0; d < 4; d++)
    for (int l = 0; l < 3; l++) {
      int half = lens[l] / 2;
      /* opening (bright) = dilate(erode(b)); closing (dark) = erode(dilate(b)) */
      line_filter(b, t1, w, h, dirs[d][0], dirs[d][1], half, bright);
      line_filter(t1, t2, w, h, dirs[d][0], dirs[d][1], half, !bright);
      for (size_t i = 0; i < n; i++)
        out[i] += (bright ? b[i] - t2[i] : t2[i] - b[i]) / 12.0f;
    }
  free(t1);
  free(t2);
}

static void mbi_features(const sd_band_roles *roles, const sd_planes *in, sd_planes *out) {
  const size_t n = (size_t)in->width * in->height;
  const int nb = in->nbands;
  /* Brightness: the maximum over the visible bands (all bands if their roles are unknown). */
  int vis[3] = {roles->blue, roles->green, roles->red}, nvis = 0;
  for (int k = 0; k < 3; k++)
    nvis += vis[k] >= 0;
  float *copy = malloc(n * sizeof *copy);
  if (!copy) {
    for (size_t i = 0; i < n; i++)
      out->band[0][i] = out->band[1][i] = NAN;
    return;
  }
  for (size_t i = 0; i < n; i++) {
    float v = -INFINITY;
    for (int b = 0; b < nb; b++)
      if (!nvis || b == vis[0] || b == vis[1] || b == vis[2]) v = fmaxf(v, in->band[b][i]);
    copy[i] = isnan(in->band[0][i]) ? NAN : v;
  }
  tophat_index(copy, out->band[0], in->width, in->height, 1);
  tophat_index(copy, out->band[1], in->width, in->height, 0);
  for (size_t i = 0; i < n; i++)
    if (isnan(copy[i])) out->band[0][i] = out->band[1][i] = NAN;
  free(copy);
}

void sd_features(sd_metric m, const sd_band_roles *roles, const sd_planes *in, sd_planes *out) {
  const size_t n = (size_t)in->width * in->height;
  const int nb = in->nbands;
  switch (m) {
  case SD_METRIC_CVA:
    for (int b = 0; b < nb; b++)
      memcpy(out->band[b], in->band[b], n * sizeof(float));
    break;
  case SD_METRIC_LOGRATIO:
    for (int b = 0; b < nb; b++)
      for (size_t i = 0; i < n; i++) {
        float v = in->band[b][i];
        out->band[b][i] = logf((v < 0 ? 0 : v) + 1.0f); /* NaN stays NaN (fmaxf would drop it) */
      }
    break;
  case SD_METRIC_ANGLE:
    for (size_t i = 0; i < n; i++) {
      float s = 0;
      for (int b = 0; b < nb; b++)
        s += in->band[b][i] * in->band[b][i];
      float inv = s > 0 ? 1.0f / sqrtf(s) : NAN;
      for (int b = 0; b < nb; b++)
        out->band[b][i] = in->band[b][i] * inv;
    }
    break;
  case SD_METRIC_NDVI:
    for (size_t i = 0; i < n; i++) {
      float r = in->band[roles->red][i], v = in->band[roles->nir][i];
      out->band[0][i] = r + v != 0 ? (v - r) / (v + r) : NAN;
    }
    break;
  case SD_METRIC_MBI: mbi_features(roles, in, out); break;
  case SD_METRIC_STRUCT: {
    sd_planes tail = *out;
    for (int b = 0; b < 2; b++)
      tail.band[b] = out->band[nb + b];
    tail.nbands = 2;
    mbi_features(roles, in, &tail);
    for (int b = 0; b < nb; b++)
      memcpy(out->band[b], in->band[b], n * sizeof(float));
    break;
  }
  default: break;
  }
}
