/* overlay.c: overlay.png: the after image, tinted and outlined by object class, numbered, with a
 * legend and a scale bar; optionally before | after | overlay side by side. */
#include <math.h>
#include <pthread.h>
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
  ov->sum_before = calloc(n * 3, sizeof *ov->sum_before); /* the triptych's and the page's */
  ov->count = calloc(n, sizeof *ov->count);
  ov->count_before = calloc(n, sizeof *ov->count_before);
  ov->triptych = triptych;
  if (!ov->sum || !ov->count || !ov->sum_before || !ov->count_before) {
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
  free(ov->count_before);
  free(ov->aoi);
  ov->aoi = NULL;
  ov->sum = ov->sum_before = NULL;
  ov->count = ov->count_before = NULL;
}

void sd_overlay_add(sd_overlay *ov, const float *const rgb[3], const float *const before[3], int y0, int rows) {
  int f = ov->factor, w = ov->grid_w;
  for (int y = 0; y < rows; y++) {
    size_t orow = (size_t)((y0 + y) / f) * ov->w;
    for (int x = 0; x < w; x++) {
      size_t i = (size_t)y * w + x, o = orow + (size_t)(x / f);
      if (before && !isnan(before[0][i])) {
        for (int c = 0; c < 3; c++)
          ov->sum_before[o * 3 + c] += before[c][i];
        ov->count_before[o]++;
      }
      if (isnan(rgb[0][i])) continue;
      for (int c = 0; c < 3; c++)
        ov->sum[o * 3 + c] += rgb[c][i];
      ov->count[o]++;
    }
  }
}

/* The preview of one date into a panel of the canvas; the stretch's gamma from a table (powf per
 * channel was most of the painting). */
enum { GAMMA_STEPS = 4096 };
static uint8_t gamma_lut[GAMMA_STEPS + 1];
static pthread_once_t gamma_once = PTHREAD_ONCE_INIT;
static void gamma_init(void) {
  for (int k = 0; k <= GAMMA_STEPS; k++)
    gamma_lut[k] = (uint8_t)(powf((float)k / GAMMA_STEPS, 0.8f) * 255.0f + 0.5f);
}

/* The display byte of t, the stretched value in table steps (0 .. GAMMA_STEPS; NaN: 0). */
static uint8_t gamma_byte(float t) {
  return gamma_lut[!(t > 0) ? 0 : t >= GAMMA_STEPS ? GAMMA_STEPS : (int)(t + 0.5f)];
}

uint8_t sd_display_byte(float v, float lo, float hi) {
  pthread_once(&gamma_once, gamma_init);
  return gamma_byte((v - lo) * (GAMMA_STEPS / (hi > lo ? hi - lo : 1.0f)));
}

static void paint_image(const sd_overlay *ov, const float *sum, const uint32_t *count, const float *lo, const float *hi,
                        sd_canvas *cv, int x_off) {
  pthread_once(&gamma_once, gamma_init);
  float scale[3];
  for (int c = 0; c < 3; c++)
    scale[c] = GAMMA_STEPS / (hi[c] > lo[c] ? hi[c] - lo[c] : 1.0f);
  for (int y = 0; y < ov->h; y++)
    for (int x = 0; x < ov->w; x++) {
      size_t i = (size_t)y * ov->w + x;
      uint8_t *p = cv->rgb + ((size_t)y * cv->w + x_off + x) * 3;
      if (!count[i]) {
        p[0] = p[1] = p[2] = 40; /* nodata: dark grey */
        continue;
      }
      for (int c = 0; c < 3; c++)
        p[c] = gamma_byte((sum[i * 3 + c] / count[i] - lo[c]) * scale[c]);
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

/* The class swatches and counts from (6, ty) on, wrapped onto further lines of 11 px (at scale 1)
 * where a canvas of width w has no room; drawn when cv is given. Returns the lines used. */
static int class_lines(sd_canvas *cv, int w, int ty, int scale, const int *counts) {
  int x = 6 * scale, lines = 1;
  for (int c = 0; c < SD_CLASS_COUNT; c++) {
    char label[48];
    snprintf(label, sizeof label, "%s %d", sd_class_name(c), counts[c]);
    int entry = 10 * scale + sd_text_width(label, scale);
    if (c > 0 && x + entry > w - 6 * scale) {
      x = 6 * scale;
      ty += 11 * scale;
      lines++;
    }
    if (cv) {
      sd_fill_rect(cv, x, ty, x + 7 * scale, ty + 7 * scale, class_rgb[c]);
      sd_draw_text(cv, x + 10 * scale, ty, label, scale, white, 0);
    }
    x += entry + 8 * scale;
  }
  return lines;
}

static void legend_and_scale(const sd_overlay *ov, sd_canvas *cv, int y0, int scale, const int *counts, int numbered,
                             int nobjs) {
  sd_fill_rect(cv, 0, y0, cv->w, cv->h, panel);
  int x = 6 * scale, ty = y0 + 4 * scale;
  ty += 11 * scale * (class_lines(cv, cv->w, ty, scale, counts) - 1);
  /* The second line: how many carry their rank (all, or the best N by score), then the scale bar. */
  char note[80];
  if (numbered == nobjs)
    snprintf(note, sizeof note, nobjs ? "all numbered by rank" : "no change found");
  else
    snprintf(note, sizeof note, "top %d of %d numbered by rank", numbered, nobjs);
  ty += 11 * scale;
  x = 6 * scale;
  sd_draw_text(cv, x, ty, note, scale, white, 0);
  x += sd_text_width(note, scale) + 8 * scale;
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

typedef struct rank_index {
  int rank, id, i;
} rank_index;

/* By rank (1 first; 0 = not ranked, last), ties by id. */
static int by_rank(const void *pa, const void *pb) {
  const rank_index *a = pa, *b = pb;
  unsigned ra = (unsigned)a->rank - 1u, rb = (unsigned)b->rank - 1u; /* 0 wraps to the largest */
  if (ra != rb) return ra < rb ? -1 : 1;
  return (a->id > b->id) - (a->id < b->id);
}

int sd_overlay_label_budget(int panel_w, int panel_h, int scale) {
  long cell = 60L * scale * 60L * scale; /* a label and its object per 60 x 60 output px (at scale 1) */
  long n = (long)panel_w * panel_h / cell;
  return n < 1 ? 1 : n > SD_LABELS_MAX ? SD_LABELS_MAX : (int)n;
}

enum { PLACES = 7 };

/* A label box free of the panel's edges and of every label placed so far (taken marks them). */
static int box_free(const uint8_t *taken, int pw, int ph, int x, int y, int w, int h) {
  if (x < 0 || y < 0 || x + w > pw || y + h > ph) return 0;
  for (int yy = y; yy < y + h; yy++)
    if (memchr(taken + (size_t)yy * pw + x, 1, (size_t)w)) return 0;
  return 1;
}

int sd_overlay_place_labels(const sd_overlay *ov, const sd_object *objs, int nobjs, int scale, int max_labels,
                            sd_ov_label *out, sd_error *err) {
  const int pw = ov->w, ph = ov->h, f = ov->factor;
  rank_index *order = malloc(sizeof *order * (size_t)(nobjs > 0 ? nobjs : 1));
  uint8_t *taken = calloc((size_t)pw * ph, 1);
  if (!order || !taken) {
    free(order);
    free(taken);
    sd_error_set(err, SD_ERR_NOMEM, "overlay: out of memory for the labels of %d objects", nobjs);
    return -1;
  }
  for (int i = 0; i < nobjs; i++)
    order[i] = (rank_index){objs[i].rank, objs[i].id, i};
  qsort(order, (size_t)nobjs, sizeof *order, by_rank);
  if (max_labels > SD_LABELS_MAX) max_labels = SD_LABELS_MAX;
  int n = 0;
  /* Best rank first: each label takes the first free place of five around its object's box
   * (right, left, above, below, right and lower), else (a large object, its box near the panel's
   * edges) on its centroid or inside its box's upper left corner; one with no free place is not
   * numbered, and the walk stops at the budget, or after a thousand objects found no place in a
   * row. */
  for (int k = 0, misses = 0; k < nobjs && n < max_labels && misses < 1000; k++) {
    const sd_object *o = &objs[order[k].i];
    char txt[16];
    snprintf(txt, sizeof txt, "%d", o->rank > 0 ? o->rank : o->id);
    /* the ink of the outlined text: one pixel around the strokes */
    int w = sd_text_width(txt, scale) - scale + 2, h = 7 * scale + 2;
    int bx0 = o->x0 / f, by0 = o->y0 / f, bx1 = o->x1 / f + 1, by1 = o->y1 / f + 1;
    const int cx = (int)(o->cx / f) - w / 2, cy = (int)(o->cy / f) - h / 2;
    const int cand[PLACES][2] = {{bx1 + 2, by0 - 2}, {bx0 - w - 2, by0 - 2}, {bx0, by0 - h - 2},
                                 {bx0, by1 + 2},     {bx1 + 2, by1 - h},     {cx, cy},
                                 {bx0 + 2, by0 + 2}};
    int c = 0;
    while (c < PLACES && !box_free(taken, pw, ph, cand[c][0], cand[c][1], w, h))
      c++;
    if (c == PLACES) {
      misses++;
      continue;
    }
    misses = 0;
    sd_ov_label *l = &out[n++];
    *l = (sd_ov_label){o->rank, o->id, cand[c][0], cand[c][1], w, h};
    for (int yy = l->y; yy < l->y + h; yy++)
      memset(taken + (size_t)yy * pw + l->x, 1, (size_t)w);
  }
  free(order);
  free(taken);
  return n;
}

/* The objects grown by one output pixel (each pixel the id of an object within one pixel of it,
 * its own first), so objects a pixel or two apart (a dense cluster) share one outline. */
static int32_t *grow_labels(const sd_overlay *ov, const int32_t *olab) {
  const int ow = ov->w, oh = ov->h;
  int32_t *grown = malloc(sizeof *grown * (size_t)ow * oh);
  if (!grown) return NULL;
  for (int y = 0; y < oh; y++)
    for (int x = 0; x < ow; x++) {
      int32_t l = olab[(size_t)y * ow + x];
      for (int dy = -1; dy <= 1 && !l; dy++)
        for (int dx = -1; dx <= 1 && !l; dx++) {
          int yy = y + dy, xx = x + dx;
          if (yy >= 0 && xx >= 0 && yy < oh && xx < ow) l = olab[(size_t)yy * ow + xx];
        }
      grown[(size_t)y * ow + x] = l;
    }
  return grown;
}

/* 1 where the grown objects end: the outline, one pixel outside the objects. */
static int grown_edge(const int32_t *grown, int ow, int oh, int x, int y) {
  size_t i = (size_t)y * ow + x;
  return x == 0 || y == 0 || x == ow - 1 || y == oh - 1 || !grown[i - 1] || !grown[i + 1] || !grown[i - ow] ||
         !grown[i + ow];
}

/* The outline of the change at output resolution in the colour of the object it surrounds;
 * object pixels tinted. */
static sd_status paint_objects(const sd_overlay *ov, const int32_t *olab, const sd_object *objs, sd_canvas *cv, int xo,
                               sd_error *err) {
  const int ow = ov->w, oh = ov->h;
  int32_t *grown = grow_labels(ov, olab);
  if (!grown) return sd_error_set(err, SD_ERR_NOMEM, "overlay: out of memory");
  for (int y = 0; y < oh; y++)
    for (int x = 0; x < ow; x++) {
      size_t i = (size_t)y * ow + x;
      int32_t g = grown[i];
      if (!g) continue;
      uint8_t *p = cv->rgb + ((size_t)y * cv->w + xo + x) * 3;
      if (grown_edge(grown, ow, oh, x, y))
        memcpy(p, class_rgb[objs[g - 1].cls], 3);
      else if (olab[i])
        for (int c = 0; c < 3; c++)
          p[c] = (uint8_t)((p[c] * 45 + class_rgb[objs[olab[i] - 1].cls][c] * 55) / 100);
    }
  free(grown);
  return SD_OK;
}

/* 1 where the areas of interest end: a pixel whose 4-neighbour has another id. */
static int aoi_edge(const uint8_t *aoi, int w, int h, int x, int y) {
  size_t i = (size_t)y * w + x;
  uint8_t a = aoi[i];
  return (x > 0 && aoi[i - 1] != a) || (x < w - 1 && aoi[i + 1] != a) || (y > 0 && aoi[i - w] != a) ||
         (y < h - 1 && aoi[i + w] != a);
}

/* --aoi on a panel: outside every area dimmed to half, the areas' edges white. */
static void paint_aoi(const sd_overlay *ov, sd_canvas *cv, int xo) {
  if (!ov->aoi) return;
  for (int y = 0; y < ov->h; y++)
    for (int x = 0; x < ov->w; x++) {
      uint8_t *p = cv->rgb + ((size_t)y * cv->w + xo + x) * 3;
      if (aoi_edge(ov->aoi, ov->w, ov->h, x, y))
        p[0] = p[1] = p[2] = 255;
      else if (!ov->aoi[(size_t)y * ov->w + x])
        for (int c = 0; c < 3; c++)
          p[c] /= 2;
    }
}

sd_status sd_overlay_change_layer(const sd_overlay *ov, const int32_t *olab, const sd_object *objs, uint8_t *rgba,
                                  sd_error *err) {
  const int ow = ov->w, oh = ov->h;
  int32_t *grown = grow_labels(ov, olab);
  if (!grown) return sd_error_set(err, SD_ERR_NOMEM, "page: out of memory for the change layer");
  memset(rgba, 0, (size_t)ow * oh * 4);
  for (int y = 0; y < oh; y++)
    for (int x = 0; x < ow; x++) {
      size_t i = (size_t)y * ow + x;
      uint8_t *p = rgba + i * 4;
      if (!grown[i]) continue;
      if (grown_edge(grown, ow, oh, x, y)) {
        memcpy(p, class_rgb[objs[grown[i] - 1].cls], 3);
        p[3] = 255;
      } else if (olab[i]) {
        memcpy(p, class_rgb[objs[olab[i] - 1].cls], 3);
        p[3] = 140; /* over the image: about the overlay's 55 % tint */
      }
    }
  for (int y = 0; ov->aoi && y < oh; y++) /* --aoi: edges white, outside shaded */
    for (int x = 0; x < ow; x++) {
      uint8_t *p = rgba + ((size_t)y * ow + x) * 4;
      if (aoi_edge(ov->aoi, ow, oh, x, y)) {
        p[0] = p[1] = p[2] = p[3] = 255;
      } else if (!ov->aoi[(size_t)y * ow + x]) {
        p[0] = p[1] = p[2] = 0;
        p[3] = 110;
      }
    }
  free(grown);
  return SD_OK;
}

void sd_overlay_image(const sd_overlay *ov, int after, uint8_t *rgb) {
  sd_canvas cv = {ov->w, ov->h, rgb};
  if (after)
    paint_image(ov, ov->sum, ov->count, ov->lo, ov->hi, &cv, 0);
  else
    paint_image(ov, ov->sum_before, ov->count_before, ov->lo_before, ov->hi_before, &cv, 0);
}

const uint8_t *sd_class_rgb(int cls) { return class_rgb[cls]; }

sd_status sd_overlay_render(const sd_overlay *ov, const int32_t *olab, const sd_object *objs, int nobjs,
                            sd_overlay_labels *labels, sd_canvas *out, sd_error *err) {
  out->rgb = NULL;
  const int ow = ov->w, oh = ov->h, f = ov->factor, panels = ov->triptych ? 3 : 1;
  const int scale = ow * panels >= 1600 ? 3 : ow * panels >= 700 ? 2 : 1;
  int counts[SD_CLASS_COUNT] = {0};
  for (int i = 0; i < nobjs; i++)
    counts[objs[i].cls]++;
  /* the classes' lines, then the numbering note and the scale bar */
  const int legend_h = (4 + 11 * (class_lines(NULL, ow * panels, 0, scale, counts) + 1)) * scale;
  sd_canvas cv = {ow * panels, oh + legend_h, NULL};
  sd_overlay_labels own;
  if (!labels) labels = &own;
  memset(labels, 0, sizeof *labels);
  labels->scale = scale;
  labels->factor = f;
  labels->x_offset = (panels - 1) * ow;
  labels->n =
      sd_overlay_place_labels(ov, objs, nobjs, scale, sd_overlay_label_budget(ow, oh, scale), labels->label, err);
  if (labels->n < 0) return err->code;
  cv.rgb = calloc((size_t)cv.w * cv.h, 3);
  if (!cv.rgb) return sd_error_set(err, SD_ERR_NOMEM, "overlay: out of memory");
  if (panels == 3) paint_image(ov, ov->sum_before, ov->count_before, ov->lo_before, ov->hi_before, &cv, 0);
  if (panels == 3) paint_image(ov, ov->sum, ov->count, ov->lo, ov->hi, &cv, ow);
  const int xo = labels->x_offset;
  paint_image(ov, ov->sum, ov->count, ov->lo, ov->hi, &cv, xo);
  paint_aoi(ov, &cv, xo);
  sd_status s = paint_objects(ov, olab, objs, &cv, xo, err);
  if (s) {
    free(cv.rgb);
    return s;
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
  /* The rank numbers where the placement put them (the box is the ink, one pixel around the text). */
  for (int k = 0; k < labels->n; k++) {
    const sd_ov_label *l = &labels->label[k];
    char txt[16];
    snprintf(txt, sizeof txt, "%d", l->rank > 0 ? l->rank : l->id);
    sd_draw_text(&cv, xo + l->x + 1, l->y + 1, txt, scale, white, 1);
  }
  legend_and_scale(ov, &cv, oh, scale, counts, labels->n, nobjs);
  if (panels == 3) {
    static const char *const titles[3] = {"before", "after", "change"};
    for (int p = 0; p < 3; p++)
      sd_draw_text(&cv, p * ow + 4 * scale, 4 * scale, titles[p], scale, white, 1);
  }
  *out = cv;
  return SD_OK;
}

sd_status sd_overlay_write(const sd_overlay *ov, const int32_t *olab, const sd_object *objs, int nobjs,
                           const char *path, sd_overlay_labels *labels, sd_error *err) {
  sd_canvas cv;
  sd_status s = sd_overlay_render(ov, olab, objs, nobjs, labels, &cv, err);
  if (!s) s = sd_png_write_rgb(path, cv.w, cv.h, cv.rgb, err);
  free(cv.rgb);
  return s;
}
