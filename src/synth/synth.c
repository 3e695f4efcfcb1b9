/* synth.c: `sitediff synth`: renders a before/after pair of a procedural site with known
 * change, shift, radiometry and noise, plus truth.tif and truth.json. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "io/io.h"
#include "sitediff/sitediff.h"
#include "synth/scene.h"
#include "synth/synth_priv.h"

void sd_synth_options_init(sd_synth_options *o) {
  memset(o, 0, sizeof *o);
  o->size = 512;
  o->seed = 1;
  o->pixel_size = 0.5;
  o->after_scale = 1.25;
  o->shift_x = 0.37;
  o->shift_y = -0.21;
  o->noise = 20;
  o->bands = 4;
  o->blur = 1;
  o->texture = 0.5;
}

static const int BEFORE_EPSG = 32636;

static sd_status write_truth(const sd_synth_options *o, const sd_scene *sc, const image_spec *bim,
                             const image_spec *aim, const char *outdir, sd_error *err) {
  int W = bim->grid.width, H = bim->grid.height;
  char path[4096];
  sd_join(path, sizeof path, outdir, "truth.tif");
  sd_gtiff *t;
  sd_status s = sd_gtiff_create(path, &bim->grid, 1, SD_PIX_U16, 0, 0, &t, err);
  if (s) return s;
  uint16_t *row = malloc(sizeof(uint16_t) * W);
  double px = o->pixel_size;
  int64_t area[32] = {0};
  for (int y = 0; y < H && !s && row; y++) {
    for (int x = 0; x < W; x++) {
      row[x] = (uint16_t)sd_scene_truth(sc, (x + 0.5) * px, (y + 0.5) * px);
      if (row[x] && row[x] < 32) area[row[x]]++;
    }
    s = sd_gtiff_write(t, 1, y, 1, row, err);
  }
  free(row);
  sd_status cs = sd_gtiff_close(t, err);
  if (s || cs) return s ? s : cs;

  json_t *objs = json_array();
  for (int i = 0; i < sc->nchanges; i++) {
    const sd_change *c = &sc->change[i];
    json_array_append_new(objs, json_pack("{s:i, s:s, s:s, s:s, s:f, s:f, s:I}", "id", c->id, "kind",
                                          sd_change_kind_name(c->kind), "class", sd_change_kind_class(c->kind), "sign",
                                          c->kind == SD_CHANGE_RENOVATED ? "altered" : "new", "x", c->cu / px, "y",
                                          c->cv / px, "area_px", (json_int_t)(c->id < 32 ? area[c->id] : 0)));
  }
  json_t *gains = json_array(), *offsets = json_array();
  for (int b = 0; b < o->bands; b++) {
    json_array_append_new(gains, json_real(aim->gain[b]));
    json_array_append_new(offsets, json_real(aim->offset[b]));
  }
  json_t *root = json_pack("{s:I, s:i, s:f, s:f, s:f, s:{s:f, s:f, s:f, s:f, s:s}, s:o, s:o, s:s, s:s, s:i, s:o}",
                           "seed", (json_int_t)o->seed, "size", o->size, "pixel_size", o->pixel_size, "after_scale",
                           o->after_scale, "noise", o->noise, "shift", "dx", o->shift_x, "dy", o->shift_y, "rotate_deg",
                           o->rotate_deg, "scale_error", o->scale_error, "units",
                           "before-grid pixels: a feature at (x, y) in before is at (x+dx, y+dy) in after, "
                           "rotation and scale about the scene centre",
                           "gain", gains, "offset", offsets, "before_crs", bim->grid.crs, "after_crs", aim->grid.crs,
                           "bands", o->bands, "objects", objs);
  json_object_set_new(root, "texture", json_real(o->texture));
  json_object_set_new(root, "blur", json_real(o->blur));
  sd_join(path, sizeof path, outdir, "truth.json");
  int rc = json_dump_file(root, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  json_decref(root);
  return rc ? sd_error_set(err, SD_ERR_OUTPUT, "synth: %s: cannot write", path) : SD_OK;
}

sd_status sd_synth(const sd_synth_options *o, sd_error *err) {
  if (o->size < 64 || o->size > 65536) return sd_error_set(err, SD_ERR_USAGE, "synth: --size must be from 64 to 65536");
  if (!(o->pixel_size > 0 && o->pixel_size < 1000))
    return sd_error_set(err, SD_ERR_USAGE, "synth: --pixel-size must be > 0 and < 1000");
  if (!(o->after_scale >= 0.2 && o->after_scale <= 5))
    return sd_error_set(err, SD_ERR_USAGE, "synth: --after-scale must be from 0.2 to 5");
  if (!(o->blur >= 0.5 && o->blur <= 4)) return sd_error_set(err, SD_ERR_USAGE, "synth: --blur must be from 0.5 to 4");
  if (!(fabs(o->rotate_deg) <= 10)) return sd_error_set(err, SD_ERR_USAGE, "synth: --rotate must be within 10 degrees");
  if (!(fabs(o->scale_error) <= 0.1)) return sd_error_set(err, SD_ERR_USAGE, "synth: --scale-error must be within 0.1");
  if (!(fabs(o->shift_x) <= 50 && fabs(o->shift_y) <= 50))
    return sd_error_set(err, SD_ERR_USAGE, "synth: --shift must be within 50 pixels");
  if (!(o->noise >= 0 && o->noise <= 5000)) return sd_error_set(err, SD_ERR_USAGE, "synth: --noise must be 0 to 5000");
  if (o->bands < 1 || o->bands > 4) return sd_error_set(err, SD_ERR_USAGE, "synth: --bands must be 1 to 4");
  if (!(o->texture >= 0 && o->texture <= 1))
    return sd_error_set(err, SD_ERR_USAGE, "synth: --texture must be from 0 to 1");
  if (o->series && (o->series < 4 || o->series > 100))
    return sd_error_set(err, SD_ERR_USAGE, "synth: --series must be from 4 to 100 dates");
  sd_status s = sd_mkdir_p(o->outdir, err);
  if (s) return s;
  if (o->series) return sd_synth_series(o, err);

  double px = o->pixel_size, S = o->size * px;
  sd_scene *sc = malloc(sizeof *sc);
  if (!sc) return sd_error_set(err, SD_ERR_NOMEM, "synth: out of memory");
  sd_scene_init(sc, o->seed, S, o->texture);
  sd_rng rng = {sd_hash64(o->seed * 104729 + 3)};

  image_spec bim = {0}, aim = {0};
  char *utm = NULL, *awkt = NULL;
  s = sd_wkt_from_epsg(BEFORE_EPSG, &utm, err);
  if (!s && o->after_epsg && o->after_epsg != BEFORE_EPSG) s = sd_wkt_from_epsg(o->after_epsg, &awkt, err);
  if (s) goto done;
  double X0 = 500000.0 - 0.5 * S + 0.25 * px, Y0 = 5600000.0 + 0.5 * S;
  bim.grid = (sd_grid){.width = o->size, .height = o->size, .gt = {X0, px, 0, Y0, 0, -px}, .wkt = utm, .georef = 1};
  snprintf(bim.grid.crs, sizeof bim.grid.crs, "EPSG:%d", BEFORE_EPSG);

  /* The after image covers another extent (u 0.04S..1.1S, v -0.06S..0.93S) on its own grid. */
  double pa = px * o->after_scale;
  double ou = 0.04 * S + sd_rng_range(&rng, 0, pa), ov = -0.06 * S + sd_rng_range(&rng, 0, pa);
  double eu = 1.10 * S, ev = 0.93 * S;
  aim.after = 1;
  aim.noise_id = 1;
  aim.dx_m = o->shift_x * px;
  aim.dv_m = o->shift_y * px;
  aim.cos_r = cos(o->rotate_deg * M_PI / 180);
  aim.sin_r = sin(o->rotate_deg * M_PI / 180);
  aim.scale = 1 + o->scale_error;
  aim.cu = aim.cv = 0.5 * S;
  aim.footprint = o->blur;
  bim.cos_r = 1;
  bim.scale = 1;
  bim.footprint = 1;
  for (int b = 0; b < 4; b++) {
    aim.gain[b] = (float)sd_rng_range(&rng, 0.85, 1.15);
    aim.offset[b] = (float)sd_rng_range(&rng, -150, 150);
  }
  if (!awkt) {
    aim.grid = (sd_grid){.width = (int)ceil((eu - ou) / pa),
                         .height = (int)ceil((ev - ov) / pa),
                         .gt = {X0 + ou, pa, 0, Y0 - ov, 0, -pa},
                         .wkt = utm,
                         .georef = 1};
    snprintf(aim.grid.crs, sizeof aim.grid.crs, "EPSG:%d", BEFORE_EPSG);
  } else {
    s = sd_synth_crs_grid(utm, awkt, o->after_epsg, X0, Y0, ou, ov, eu, ev, pa, &aim.grid, err);
    if (s) goto done;
  }

  char path[4096];
  sd_join(path, sizeof path, o->outdir, "before.tif");
  s = sd_synth_render(o, sc, &bim, utm, X0, Y0, path, err);
  if (!s) {
    sd_join(path, sizeof path, o->outdir, "after.tif");
    s = sd_synth_render(o, sc, &aim, utm, X0, Y0, path, err);
  }
  if (!s) s = write_truth(o, sc, &bim, &aim, o->outdir, err);
done:
  free(utm);
  free(awkt);
  free(sc);
  return s;
}
