/* stage_page.c: report.html, the analyst's page for one compare: a before/after swipe over the
 * overview of the grid with the change layer, and the best-ranked objects listed with a before
 * and an after chip at full resolution. One file: images as data: URIs, Leaflet inline. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pipeline/stages.h"
#include "sd_config.h"

/* Chips are CHIP px squares, CHIP_COLS to a row of the atlas; the best MAX_CHIPS objects get
 * them, the best MAX_LISTED are listed. A chip shows a square of about 1.6 times its object's
 * longer side (at least MIN_CONTEXT grid px), read at full resolution up to MAX_READ grid px
 * across and cut from the overview beyond. */
enum { CHIP = 80, CHIP_COLS = 10, MAX_CHIPS = 100, MAX_LISTED = 1000, MIN_CONTEXT = 40, MAX_READ = 8 * CHIP };
enum { JPEG_QUALITY = 85 };

typedef struct chip_frame {
  double x0, y0, side; /* the square the chip shows, grid px */
} chip_frame;

static chip_frame frame_of(const sd_object *o) {
  double w = o->x1 - o->x0 + 1, h = o->y1 - o->y0 + 1, side = fmax(MIN_CONTEXT, 1.6 * fmax(w, h) + 8);
  return (chip_frame){0.5 * (o->x0 + o->x1 + 1) - side / 2, 0.5 * (o->y0 + o->y1 + 1) - side / 2, side};
}

/* The outline of object id over a chip whose pixels carry the object under their centre. */
static void chip_outline(const int32_t *clab, int id, const uint8_t *col, uint8_t *dst, int stride) {
  for (int v = 0; v < CHIP; v++)
    for (int u = 0; u < CHIP; u++) {
      if (clab[v * CHIP + u] != id) continue;
      int edge = u == 0 || v == 0 || u == CHIP - 1 || v == CHIP - 1 || clab[v * CHIP + u - 1] != id ||
                 clab[v * CHIP + u + 1] != id || clab[(v - 1) * CHIP + u] != id || clab[(v + 1) * CHIP + u] != id;
      if (edge) memcpy(dst + (size_t)v * stride + (size_t)u * 3, col, 3);
    }
}

/* One object's chips from a full-resolution read of both dates: each chip pixel the mean of the
 * grid pixels under it (the nearest one when the chip enlarges), on the overlay's display
 * stretch of its date; outside the grid or on nodata dark grey. */
static sd_status chips_read(const sd_run *run, const sd_overlay *ov, const sd_runs *runs, const sd_object *o,
                            chip_frame fr, uint8_t *cb, uint8_t *ca, int stride, sd_error *err) {
  const int W = run->grid.width, H = run->grid.height, nb = run->nbands;
  int x0 = (int)floor(fr.x0), y0 = (int)floor(fr.y0), x1 = (int)ceil(fr.x0 + fr.side), y1 = (int)ceil(fr.y0 + fr.side);
  int rx0 = x0 < 0 ? 0 : x0, ry0 = y0 < 0 ? 0 : y0, rx1 = x1 > W ? W : x1, ry1 = y1 > H ? H : y1;
  int rw = rx1 - rx0, rh = ry1 - ry0;
  sd_planes pb = {0}, pa = {0};
  int32_t *lab = malloc(sizeof *lab * (size_t)rw * rh), clab[CHIP * CHIP];
  sd_status s = lab ? SD_OK : sd_error_set(err, SD_ERR_NOMEM, "page: out of memory for a chip");
  if (!s) s = sd_planes_alloc(&pb, nb, rw, rh, err);
  if (!s) s = sd_planes_alloc(&pa, nb, rw, rh, err);
  if (!s) s = sd_run_read_pair(run, run->rb, run->ra, rx0, ry0, &pb, &pa, NULL, err);
  if (!s) sd_runs_paint_window(runs, rx0, ry0, rw, rh, lab);
  for (int date = 0; date < 2 && !s; date++) {
    const sd_planes *p = date ? &pa : &pb;
    const float *lo = date ? ov->lo : ov->lo_before, *hi = date ? ov->hi : ov->hi_before;
    uint8_t *dst = date ? ca : cb;
    double step = fr.side / CHIP;
    for (int v = 0; v < CHIP; v++)
      for (int u = 0; u < CHIP; u++) {
        int gx0 = (int)floor(fr.x0 + u * step), gy0 = (int)floor(fr.y0 + v * step);
        int gx1 = (int)floor(fr.x0 + (u + 1) * step), gy1 = (int)floor(fr.y0 + (v + 1) * step);
        if (gx1 <= gx0) gx1 = gx0 + 1;
        if (gy1 <= gy0) gy1 = gy0 + 1;
        double acc[3] = {0, 0, 0};
        int n = 0;
        for (int gy = gy0 < ry0 ? ry0 : gy0; gy < gy1 && gy < ry1; gy++)
          for (int gx = gx0 < rx0 ? rx0 : gx0; gx < gx1 && gx < rx1; gx++) {
            size_t k = (size_t)(gy - ry0) * rw + (gx - rx0);
            if (isnan(p->band[run->rgb[0]][k])) continue;
            for (int c = 0; c < 3; c++)
              acc[c] += p->band[run->rgb[c]][k];
            n++;
          }
        uint8_t *q = dst + (size_t)v * stride + (size_t)u * 3;
        for (int c = 0; c < 3; c++)
          q[c] = n ? sd_display_byte((float)(acc[c] / n), lo[c], hi[c]) : 40;
        int cx = (int)floor(fr.x0 + (u + 0.5) * step), cy = (int)floor(fr.y0 + (v + 0.5) * step);
        clab[v * CHIP + u] =
            cx >= rx0 && cx < rx1 && cy >= ry0 && cy < ry1 ? lab[(size_t)(cy - ry0) * rw + cx - rx0] : 0;
      }
    chip_outline(clab, o->id, sd_class_rgb(o->cls), dst, stride);
  }
  free(lab);
  sd_planes_free(&pb);
  sd_planes_free(&pa);
  return s;
}

/* A large object's chips from the overview images (view_b, view_a) and its labels (olab). */
static void chips_from_view(const sd_overlay *ov, const uint8_t *view_b, const uint8_t *view_a, const int32_t *olab,
                            const sd_object *o, chip_frame fr, uint8_t *cb, uint8_t *ca, int stride) {
  int32_t clab[CHIP * CHIP];
  double step = fr.side / CHIP / ov->factor;
  for (int date = 0; date < 2; date++) {
    const uint8_t *src = date ? view_a : view_b;
    uint8_t *dst = date ? ca : cb;
    for (int v = 0; v < CHIP; v++)
      for (int u = 0; u < CHIP; u++) {
        int x = (int)floor(fr.x0 / ov->factor + (u + 0.5) * step),
            y = (int)floor(fr.y0 / ov->factor + (v + 0.5) * step);
        int in = x >= 0 && y >= 0 && x < ov->w && y < ov->h;
        uint8_t *q = dst + (size_t)v * stride + (size_t)u * 3;
        if (in)
          memcpy(q, src + ((size_t)y * ov->w + x) * 3, 3);
        else
          q[0] = q[1] = q[2] = 40;
        clab[v * CHIP + u] = in ? olab[(size_t)y * ov->w + x] : 0;
      }
    chip_outline(clab, o->id, sd_class_rgb(o->cls), dst, stride);
  }
}

/* Drops a trailing source-map comment, which a browser's tools would fetch. */
static void drop_source_map(char *s, const char *mark) {
  char *p = strstr(s, mark);
  if (p) *p = '\0';
}

sd_status sd_page_leaflet(char **css, char **js, sd_error *err) {
  const char *dir = getenv("SITEDIFF_LEAFLET_DIR");
  if (!dir || !*dir) dir = SD_LEAFLET_DIR;
  char path[4200];
  sd_error why = {0};
  snprintf(path, sizeof path, "%s/leaflet.css", dir);
  *css = sd_read_file("page", path, 16L << 20, &why);
  snprintf(path, sizeof path, "%s/leaflet.min.js", dir);
  *js = *css ? sd_read_file("page", path, 16L << 20, &why) : NULL;
  if (!*css || !*js) {
    free(*css);
    *css = *js = NULL;
    return sd_error_set(err, SD_ERR_OUTPUT,
                        "page: no Leaflet in %s (%s): install Debian's libjs-leaflet or set "
                        "SITEDIFF_LEAFLET_DIR",
                        dir, why.msg);
  }
  drop_source_map(*css, "/*# sourceMappingURL=");
  drop_source_map(*js, "//# sourceMappingURL=");
  if (strstr(*js, "</script") || strstr(*css, "</style")) {
    free(*css);
    free(*js);
    *css = *js = NULL;
    return sd_error_set(err, SD_ERR_OUTPUT, "page: the Leaflet in %s cannot be put inline", dir);
  }
  return SD_OK;
}

static json_t *num_or_null(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static const char *base_name(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

/* The page's data: what the script reads (page.html documents nothing else). */
static json_t *page_data(const sd_run *run, const sd_stages *st, const sd_overlay *ov, const int *order, int listed,
                         int nchips) {
  const sd_compare_options *o = run->opts;
  const sd_grid *g = &run->grid;
  json_t *root = json_object();
  json_object_set_new(root, "before", json_string(base_name(o->before)));
  json_object_set_new(root, "after", json_string(base_name(o->after)));
  if (o->date_before || o->date_after) {
    char d[128];
    snprintf(d, sizeof d, "%s \u2192 %s", o->date_before ? o->date_before : "?", o->date_after ? o->date_after : "?");
    json_object_set_new(root, "dates", json_string(d));
  }
  json_object_set_new(root, "grid",
                      json_pack("{s:i, s:i, s:s?, s:o}", "width", g->width, "height", g->height, "crs",
                                g->georef ? g->crs : NULL, "pixel_m",
                                g->georef ? json_real(sqrt(g->pixel_w_m * g->pixel_h_m)) : json_null()));
  json_object_set_new(root, "view",
                      json_pack("{s:i, s:i, s:i}", "width", ov->w, "height", ov->h, "factor", ov->factor));
  int by_class[SD_CLASS_COUNT] = {0};
  for (int i = 0; i < st->objs.n; i++)
    by_class[st->objs.objs[i].cls]++;
  json_t *bc = json_array(), *classes = json_array(), *colours = json_array(), *signs = json_array();
  for (int c = 0; c < SD_CLASS_COUNT; c++) {
    const uint8_t *rgb = sd_class_rgb(c);
    char hex[8];
    snprintf(hex, sizeof hex, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
    json_array_append_new(bc, json_integer(by_class[c]));
    json_array_append_new(classes, json_string(sd_class_name(c)));
    json_array_append_new(colours, json_string(hex));
  }
  for (int k = 0; k < 3; k++)
    json_array_append_new(signs, json_string(sd_sign_name(k)));
  char reg[96];
  snprintf(reg, sizeof reg, "%s (%.2f, %.2f px)", st->reg.registered ? sd_grade_name(st->reg.fit.grade) : "not applied",
           st->reg.dx, st->reg.dy);
  json_object_set_new(root, "summary",
                      json_pack("{s:i, s:o, s:o, s:s}", "objects", st->objs.n, "by_class", bc, "changed_area_m2",
                                num_or_null(st->det.changed_px * g->pixel_w_m * g->pixel_h_m), "registration", reg));
  json_object_set_new(root, "classes", classes);
  json_object_set_new(root, "colours", colours);
  json_object_set_new(root, "signs", signs);
  json_t *objs = json_array();
  for (int k = 0; k < listed; k++) {
    const sd_object *b = &st->objs.objs[order[k]];
    json_array_append_new(objs, json_pack("[i,i,i,i,o,o,o,o,i,i,i,i]", b->rank, b->id, b->cls, b->sign,
                                          num_or_null(b->score), num_or_null(b->area_m2), num_or_null(b->lon),
                                          num_or_null(b->lat), b->x0, b->y0, b->x1, b->y1));
  }
  json_object_set_new(root, "objects", objs);
  json_object_set_new(root, "chips", json_pack("{s:i, s:i, s:i}", "px", CHIP, "cols", CHIP_COLS, "n", nchips));
  json_t *files = json_pack("[s,s,s]", "overlay.png", "objects.geojson", "change_mask.tif");
  if (o->magnitude != 2) json_array_append_new(files, json_string("change_magnitude.tif"));
  json_array_append_new(files, json_string("report.json"));
  json_object_set_new(root, "files", files);
  return root;
}

sd_status sd_stage_page(const sd_run *run, const sd_stages *st, const sd_overlay *ov, const int32_t *olab,
                        const char *leaflet_css, const char *leaflet_js, const char *path, sd_error *err) {
  const int n = st->objs.n, listed = n < MAX_LISTED ? n : MAX_LISTED, nchips = listed < MAX_CHIPS ? listed : MAX_CHIPS;
  const int rows = (nchips + CHIP_COLS - 1) / CHIP_COLS, aw = CHIP * CHIP_COLS, ah = CHIP * (rows ? rows : 1);
  const size_t npx = (size_t)ov->w * ov->h;
  int *order = malloc(sizeof *order * (size_t)(n ? n : 1));
  uint8_t *view_b = malloc(npx * 3), *view_a = malloc(npx * 3), *change = malloc(npx * 4);
  uint8_t *atlas_b = calloc((size_t)aw * ah, 3), *atlas_a = calloc((size_t)aw * ah, 3);
  json_t *data = NULL;
  char *text = NULL;
  sd_status s = order && view_b && view_a && change && atlas_b && atlas_a
                    ? SD_OK
                    : sd_error_set(err, SD_ERR_NOMEM, "page: out of memory for %d x %d", ov->w, ov->h);
  /* The objects by rank (1..n, each once). */
  for (int i = 0; i < n && !s; i++) {
    int r = st->objs.objs[i].rank;
    order[r >= 1 && r <= n ? r - 1 : i] = i;
  }
  if (!s) {
    sd_overlay_image(ov, 0, view_b);
    sd_overlay_image(ov, 1, view_a);
    s = sd_overlay_change_layer(ov, olab, st->objs.objs, change, err);
  }
  for (int k = 0; k < nchips && !s; k++) {
    const sd_object *o = &st->objs.objs[order[k]];
    chip_frame fr = frame_of(o);
    size_t off = ((size_t)(k / CHIP_COLS) * CHIP * aw + (size_t)(k % CHIP_COLS) * CHIP) * 3;
    if (fr.side <= MAX_READ)
      s = chips_read(run, ov, &st->det.runs, o, fr, atlas_b + off, atlas_a + off, aw * 3, err);
    else
      chips_from_view(ov, view_b, view_a, olab, o, fr, atlas_b + off, atlas_a + off, aw * 3);
  }
  /* The five images (one at a time: see sd_image_data_uri). */
  const struct {
    const uint8_t *px;
    int w, h, channels, quality;
  } img[5] = {{view_b, ov->w, ov->h, 3, JPEG_QUALITY},
              {view_a, ov->w, ov->h, 3, JPEG_QUALITY},
              {change, ov->w, ov->h, 4, 0},
              {atlas_b, aw, ah, 3, JPEG_QUALITY},
              {atlas_a, aw, ah, 3, JPEG_QUALITY}};
  char *uri[5] = {NULL};
  for (int k = 0; k < 5 && !s; k++)
    s = sd_image_data_uri(img[k].px, img[k].w, img[k].h, img[k].channels, img[k].quality, &uri[k], err);
  if (!s) {
    data = page_data(run, st, ov, order, listed, nchips);
    json_t *chips = json_object_get(data, "chips");
    json_object_set_new(data, "images",
                        json_pack("{s:s, s:s, s:s}", "before", uri[0], "after", uri[1], "change", uri[2]));
    json_object_set_new(chips, "before", json_string(uri[3]));
    json_object_set_new(chips, "after", json_string(uri[4]));
  }
  for (int k = 0; k < 5; k++)
    free(uri[k]);
  /* "</" never reaches the page: JSON_ESCAPE_SLASH writes every "/" as "\/". */
  if (!s) text = json_dumps(data, JSON_COMPACT | JSON_ESCAPE_SLASH | JSON_REAL_PRECISION(9));
  if (!s && !text) s = sd_error_set(err, SD_ERR_NOMEM, "page: out of memory for the page's data");
  if (!s) s = sd_page_write(path, leaflet_css, leaflet_js, text, err);
  free(text);
  json_decref(data);
  free(order);
  free(view_b);
  free(view_a);
  free(change);
  free(atlas_b);
  free(atlas_a);
  return s;
}
