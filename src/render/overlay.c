/* overlay.c: overlay.png: the after image, tinted and outlined by object class, numbered, with a
 * legend and a scale bar; optionally before | after | overlay side by side. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/render.h"

static const uint8_t class_rgb[SD_CLASS_COUNT][3] = {
    {255, 150, 0}, /* trench: orange */
    {255, 40, 40}, /* structure: red */
    {0, 220, 255}, /* equipment: cyan */
    {230, 0, 230}, /* area: magenta */
    {255, 230, 0}, /* road: yellow */
};
static const uint8_t white[3] = {255, 255, 255}, panel[3] = {24, 24, 24};

sd_status sd_overlay_init(sd_overlay *ov, int grid_w, int grid_h, int max_side, int triptych, sd_error *err) {
  memset(ov, 0, sizeof *ov);
  int longest = grid_w > grid_h ? grid_w : grid_h;
  ov->factor = max_side > 0 && longest > max_side ? (longest + max_side - 1) / max_side : 1;
  ov->grid_w = grid_w;
  ov->grid_h = grid_h;
  ov->w = (grid_w + ov->factor - 1) / ov->factor;
  ov->h = (grid_h + ov->factor - 1) / ov->factor;
  size_t n = (size_t)ov->w * ov->h;
  ov->sum = calloc(n * 3, sizeof *ov->sum);
  ov->sum_before = triptych ? calloc(n * 3, sizeof *ov->sum_before) : NULL;
  ov->count = calloc(n, sizeof *ov->count);
  if (!ov->sum || !ov->count || (triptych && !ov->sum_before)) {
    sd_overlay_free(ov);
    return sd_error_set(err, SD_ERR_NOMEM, "overlay: out of memory for %d x %d", ov->w, ov->h);
  }
  for (int c = 0; c < 3; c++) {
    ov->lo[c] = ov->lo_before[c] = 0;
    ov->hi[c] = ov->hi_before[c] = 1;
  }
  return SD_OK;
}

void sd_overlay_free(sd_overlay *ov) {
  free(ov->sum);
  free(ov->sum_before);
  free(ov->count);
  ov->sum = ov->sum_before = NULL;
  ov->count = NULL;
}

void sd_overlay_add(sd_overlay *ov, const float *const rgb[3], const float *const before[3], int y0, int rows) {
  int f = ov->factor, w = ov->grid_w;
  for (int y = 0; y < rows; y++) {
    size_t orow = (size_t)((y0 + y) / f) * ov->w;
    for (int x = 0; x < w; x++) {
      size_t i = (size_t)y * w + x;
      if (isnan(rgb[0][i])) continue;
      size_t o = orow + (size_t)(x / f);
      for (int c = 0; c < 3; c++)
        ov->sum[o * 3 + c] += rgb[c][i];
      if (ov->sum_before && before)
        for (int c = 0; c < 3; c++)
          ov->sum_before[o * 3 + c] += before[c][i];
      ov->count[o]++;
    }
  }
}

static uint8_t stretch(float v, float lo, float hi) {
  float t = (v - lo) / (hi > lo ? hi - lo : 1.0f);
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  return (uint8_t)(powf(t, 0.8f) * 255.0f + 0.5f);
}

/* The preview of one date into a panel of the canvas. */
static void paint_image(const sd_overlay *ov, const float *sum, const float *lo, const float *hi, sd_canvas *cv,
                        int x_off) {
  for (int y = 0; y < ov->h; y++)
    for (int x = 0; x < ov->w; x++) {
      size_t i = (size_t)y * ov->w + x;
      uint8_t *p = cv->rgb + ((size_t)y * cv->w + x_off + x) * 3;
      if (!ov->count[i]) {
        p[0] = p[1] = p[2] = 40; /* nodata: dark grey */
        continue;
      }
      for (int c = 0; c < 3; c++)
        p[c] = stretch(sum[i * 3 + c] / ov->count[i], lo[c], hi[c]);
    }
}

/* A round length near a fifth of the width: 1, 2 or 5 times a power of ten. */
static double nice_length(double target) {
  double p = pow(10, floor(log10(target))), best = p;
  for (int k = 0; k < 3; k++) {
    double v = p * (k == 0 ? 1 : k == 1 ? 2 : 5);
    if (v <= target) best = v;
  }
  return best;
}

static void legend_and_scale(const sd_overlay *ov, sd_canvas *cv, int y0, int scale, const int *counts) {
  sd_fill_rect(cv, 0, y0, cv->w, cv->h, panel);
  int x = 6 * scale, ty = y0 + 4 * scale;
  for (int c = 0; c < SD_CLASS_COUNT; c++) {
    char label[48];
    snprintf(label, sizeof label, "%s %d", sd_class_name(c), counts[c]);
    sd_fill_rect(cv, x, ty, x + 7 * scale, ty + 7 * scale, class_rgb[c]);
    sd_draw_text(cv, x + 10 * scale, ty, label, scale, white, 0);
    x += 10 * scale + sd_text_width(label, scale) + 8 * scale;
  }
  /* Scale bar at the right, under the overlay panel: a fifth of the width, or shorter where the
   * legend leaves less room; none where not even a short one fits beside it. */
  double unit = ov->pixel_m > 0 ? ov->pixel_m : 1.0; /* ground per output pixel (px when not georeferenced) */
  double len = nice_length(ov->w * unit / 5);
  for (int tries = 0; tries < 8; tries++, len = nice_length(len * 0.6)) {
    int bar = (int)lround(len / unit);
    char label[32];
    if (ov->pixel_m <= 0)
      snprintf(label, sizeof label, "%.0f px", len * ov->factor);
    else if (len >= 1000)
      snprintf(label, sizeof label, "%.0f km", len / 1000);
    else
      snprintf(label, sizeof label, "%.0f m", len);
    int bx1 = cv->w - 6 * scale, bx0 = bx1 - bar, lx = bx0 - sd_text_width(label, scale) - 4 * scale;
    if (bar < 2 * scale) return;
    if (lx <= x) continue;
    sd_fill_rect(cv, bx0, ty + 2 * scale, bx1, ty + 4 * scale, white);
    sd_fill_rect(cv, bx0, ty, bx0 + scale, ty + 6 * scale, white);
    sd_fill_rect(cv, bx1 - scale, ty, bx1, ty + 6 * scale, white);
    sd_draw_text(cv, lx, ty, label, scale, white, 0);
    return;
  }
}

void sd_overlay_box_labels(const sd_overlay *ov, const int32_t *labels, int32_t *olab) {
  memset(olab, 0, sizeof *olab * (size_t)ov->w * ov->h);
  for (int y = 0; y < ov->grid_h; y++)
    for (int x = 0; x < ov->grid_w; x++) {
      int32_t l = labels[(size_t)y * ov->grid_w + x];
      size_t o = (size_t)(y / ov->factor) * ov->w + (size_t)(x / ov->factor);
      if (l > olab[o]) olab[o] = l;
    }
}

typedef struct area_index {
  int64_t area;
  int i;
} area_index;

static int by_area(const void *pa, const void *pb) {
  const area_index *a = pa, *b = pb;
  if (a->area != b->area) return a->area > b->area ? -1 : 1;
  return (a->i > b->i) - (a->i < b->i);
}

sd_status sd_overlay_write(const sd_overlay *ov, const int32_t *olab, const sd_object *objs, int nobjs,
                           const char *path, sd_error *err) {
  const int ow = ov->w, oh = ov->h, f = ov->factor, panels = ov->sum_before ? 3 : 1;
  const int scale = ow * panels >= 1600 ? 3 : ow * panels >= 700 ? 2 : 1;
  const int legend_h = 15 * scale;
  sd_canvas cv = {ow * panels, oh + legend_h, NULL};
  cv.rgb = calloc((size_t)cv.w * cv.h, 3);
  if (!cv.rgb) return sd_error_set(err, SD_ERR_NOMEM, "overlay: out of memory");
  if (panels == 3) paint_image(ov, ov->sum_before, ov->lo_before, ov->hi_before, &cv, 0);
  if (panels == 3) paint_image(ov, ov->sum, ov->lo, ov->hi, &cv, ow);
  const int xo = (panels - 1) * ow;
  paint_image(ov, ov->sum, ov->lo, ov->hi, &cv, xo);
  for (int y = 0; y < oh; y++)
    for (int x = 0; x < ow; x++) {
      size_t i = (size_t)y * ow + x;
      int32_t l = olab[i];
      if (!l) continue;
      const uint8_t *col = class_rgb[objs[l - 1].cls];
      int edge = x == 0 || y == 0 || x == ow - 1 || y == oh - 1 || olab[i - 1] != l || olab[i + 1] != l ||
                 olab[i - ow] != l || olab[i + ow] != l;
      uint8_t *p = cv.rgb + ((size_t)y * cv.w + xo + x) * 3;
      for (int c = 0; c < 3; c++)
        p[c] = edge ? col[c] : (uint8_t)((p[c] * 45 + col[c] * 55) / 100);
    }
  /* Objects under 3 output pixels get a ring, so a vehicle on a 30 km scene still shows. */
  for (int i = 0; i < nobjs; i++) {
    const sd_object *o = &objs[i];
    if ((o->x1 - o->x0 + 1) / f >= 3 || (o->y1 - o->y0 + 1) / f >= 3) continue;
    int cx = xo + (o->x0 + o->x1) / 2 / f, cy = (o->y0 + o->y1) / 2 / f, r = 3 * scale + 1;
    const uint8_t *col = class_rgb[o->cls];
    sd_fill_rect(&cv, cx - r, cy - r, cx + r + 1, cy - r + scale, col);
    sd_fill_rect(&cv, cx - r, cy + r + 1 - scale, cx + r + 1, cy + r + 1, col);
    sd_fill_rect(&cv, cx - r, cy - r, cx - r + scale, cy + r + 1, col);
    sd_fill_rect(&cv, cx + r + 1 - scale, cy - r, cx + r + 1, cy + r + 1, col);
  }
  /* Ids beside each object (the GeoJSON id), largest objects first so they win overlaps;
   * at most 400 labels. */
  area_index *order = malloc(sizeof *order * (nobjs > 0 ? nobjs : 1));
  if (!order) {
    free(cv.rgb);
    return sd_error_set(err, SD_ERR_NOMEM, "overlay: out of memory for %d objects", nobjs);
  }
  int counts[SD_CLASS_COUNT] = {0};
  for (int i = 0; i < nobjs; i++) {
    order[i] = (area_index){objs[i].area_px, i};
    counts[objs[i].cls]++;
  }
  /* by area, descending, ties in id order (an insertion sort here took 43 s for 250,000 objects) */
  qsort(order, (size_t)nobjs, sizeof *order, by_area);
  for (int k = nobjs < 400 ? nobjs - 1 : 399; k >= 0; k--) {
    const sd_object *o = &objs[order[k].i];
    char id[16];
    snprintf(id, sizeof id, "%d", o->id);
    int tx = xo + (o->x1 + 1) / f + 2, ty = o->y0 / f - 2;
    if (tx + sd_text_width(id, scale) > cv.w) tx = xo + o->x0 / f - sd_text_width(id, scale) - 2;
    if (ty < 0) ty = 0;
    sd_draw_text(&cv, tx, ty, id, scale, white, 1);
  }
  free(order);
  legend_and_scale(ov, &cv, oh, scale, counts);
  if (panels == 3) {
    static const char *const titles[3] = {"before", "after", "change"};
    for (int p = 0; p < 3; p++)
      sd_draw_text(&cv, p * ow + 4 * scale, 4 * scale, titles[p], scale, white, 1);
  }
  sd_status s = sd_png_write_rgb(path, cv.w, cv.h, cv.rgb, err);
  free(cv.rgb);
  return s;
}
