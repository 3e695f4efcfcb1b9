/* overlay.c: the preview of the after image, tinted and outlined by object class. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "render/render.h"

static const uint8_t class_rgb[SD_CLASS_COUNT][3] = {
    {255, 150, 0}, /* trench: orange */
    {255, 40, 40}, /* structure: red */
    {0, 220, 255}, /* equipment: cyan */
    {230, 0, 230}, /* area: magenta */
};

sd_status sd_overlay_init(sd_overlay *ov, int grid_w, int grid_h, int max_side, sd_error *err) {
  memset(ov, 0, sizeof *ov);
  int longest = grid_w > grid_h ? grid_w : grid_h;
  ov->factor = max_side > 0 && longest > max_side ? (longest + max_side - 1) / max_side : 1;
  ov->grid_w = grid_w;
  ov->grid_h = grid_h;
  ov->w = (grid_w + ov->factor - 1) / ov->factor;
  ov->h = (grid_h + ov->factor - 1) / ov->factor;
  size_t n = (size_t)ov->w * ov->h;
  ov->sum = calloc(n * 3, sizeof *ov->sum);
  ov->count = calloc(n, sizeof *ov->count);
  if (!ov->sum || !ov->count) {
    sd_overlay_free(ov);
    return sd_error_set(err, SD_ERR_NOMEM, "overlay: out of memory for %d x %d", ov->w, ov->h);
  }
  for (int c = 0; c < 3; c++) {
    ov->lo[c] = 0;
    ov->hi[c] = 1;
  }
  return SD_OK;
}

void sd_overlay_free(sd_overlay *ov) {
  free(ov->sum);
  free(ov->count);
  ov->sum = NULL;
  ov->count = NULL;
}

void sd_overlay_add(sd_overlay *ov, const float *const rgb[3], int y0, int rows) {
  int f = ov->factor, w = ov->grid_w;
  for (int y = 0; y < rows; y++) {
    size_t orow = (size_t)((y0 + y) / f) * ov->w;
    for (int x = 0; x < w; x++) {
      size_t i = (size_t)y * w + x;
      float r = rgb[0][i], g = rgb[1][i], b = rgb[2][i];
      if (isnan(r)) continue;
      size_t o = orow + (size_t)(x / f);
      ov->sum[o * 3] += r;
      ov->sum[o * 3 + 1] += g;
      ov->sum[o * 3 + 2] += b;
      ov->count[o]++;
    }
  }
}

static uint8_t stretch(float v, float lo, float hi) {
  float t = (v - lo) / (hi > lo ? hi - lo : 1.0f);
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  return (uint8_t)(powf(t, 0.8f) * 255.0f + 0.5f);
}

sd_status sd_overlay_write(const sd_overlay *ov, const int32_t *labels, const sd_object *objs, const char *path,
                           sd_error *err) {
  int ow = ov->w, oh = ov->h, f = ov->factor;
  size_t n = (size_t)ow * oh;
  uint8_t *rgb = malloc(n * 3);
  int32_t *olab = calloc(n, sizeof *olab);
  if (!rgb || !olab) {
    free(rgb);
    free(olab);
    return sd_error_set(err, SD_ERR_NOMEM, "overlay: out of memory");
  }
  /* Any object pixel in a box marks the box (small objects stay visible when downsampled);
   * the largest id wins, which is deterministic. */
  for (int y = 0; y < ov->grid_h; y++)
    for (int x = 0; x < ov->grid_w; x++) {
      int32_t l = labels[(size_t)y * ov->grid_w + x];
      size_t o = (size_t)(y / f) * ow + (size_t)(x / f);
      if (l > olab[o]) olab[o] = l;
    }
  for (size_t i = 0; i < n; i++) {
    uint8_t *p = rgb + i * 3;
    if (!ov->count[i]) {
      p[0] = p[1] = p[2] = 40; /* nodata: dark grey */
      continue;
    }
    for (int c = 0; c < 3; c++)
      p[c] = stretch(ov->sum[i * 3 + c] / ov->count[i], ov->lo[c], ov->hi[c]);
  }
  for (int y = 0; y < oh; y++)
    for (int x = 0; x < ow; x++) {
      size_t i = (size_t)y * ow + x;
      int32_t l = olab[i];
      if (!l) continue;
      const uint8_t *col = class_rgb[objs[l - 1].cls];
      int edge = x == 0 || y == 0 || x == ow - 1 || y == oh - 1 || olab[i - 1] != l || olab[i + 1] != l ||
                 olab[i - ow] != l || olab[i + ow] != l;
      uint8_t *p = rgb + i * 3;
      for (int c = 0; c < 3; c++)
        p[c] = edge ? col[c] : (uint8_t)((p[c] * 45 + col[c] * 55) / 100);
    }
  sd_status s = sd_png_write_rgb(path, ow, oh, rgb, err);
  free(rgb);
  free(olab);
  return s;
}
