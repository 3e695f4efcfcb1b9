/* stage_segments.c: the structure focus on very-high-resolution imagery. The detected change is
 * cut into superpixels of the pair (SLIC), and a candidate segment keeps its changed pixels only
 * where its structure cues (after grey, not green, with more edges and more light than before)
 * do not put it clearly below the scene's median segment: leaf change, shadows that moved and wet or ploughed
 * soil rank low on them, new roofs and concrete high.
 *
 * Fixed tiles of TILE x TILE grid pixels, each read with a halo of one segment, are segmented on
 * their own, so the result does not depend on the block size or the thread count. The scene's
 * reference segments come from every tile with change and from a lattice of at most
 * REF_TILES tiles (every tile of a small scene). Memory: one tile per thread, the cues of the
 * segments, and two bytes per changed pixel (its segment in its tile) until the decision. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/stages.h"
#include "segment/segment.h"

enum { TILE = 256, REGION = 10, REF_TILES = 64 };

/* What one tile gives: its segments' cues (the reference), its candidate segments' cues, and for
 * each of its core changed pixels, in raster order, the index of its candidate segment. */
typedef struct tile_out {
  sd_seg_cues *ref, *cand;
  int nref, ncand;
  uint16_t *px;
  int64_t npx;
} tile_out;

/* Why the segments do not run here (NULL: they do); buf holds a reason that needs formatting. */
static const char *off_reason(const sd_run *run, char *buf, size_t len) {
  const sd_band_roles *r = &run->roles;
  if (run->opts->segments == 1) return "turned off (--segments off)";
  if (run->opts->focus != 0) return "--focus all keeps every change";
  if (r->red < 0 || r->green < 0 || r->blue < 0) return "the bands have no red, green and blue roles";
  /* The cues and their level were chosen on web-map RGB only; on other sensors (and on the
   * synthetic scenes, 4-band UInt16) they dropped dark new roofs and trenches: object recall
   * 1.00 -> 0.85 on tests/e2e/test_detection.c. */
  if (run->preset != SD_PRESET_RGB8) return "chosen on web-map RGB (3-band Byte) only; other sensors keep every pixel";
  if (run->grid.georef) {
    double px = sqrt(run->grid.pixel_w_m * run->grid.pixel_h_m);
    if (px > 2.5) {
      snprintf(buf, len, "pixels of %.1f m: a %d px segment is larger than a building", px, REGION);
      return buf;
    }
  }
  return NULL;
}

static int tile_has_change(const sd_runs *r, int tx, int ty, int H) {
  int y1 = (ty + 1) * TILE > H ? H : (ty + 1) * TILE;
  for (int y = ty * TILE; y < y1; y++) {
    int64_t i = sd_runs_first_after(r, y, tx * TILE);
    for (; i < r->row_start[y + 1] && r->x0[i] < (tx + 1) * TILE; i++)
      if (r->lab[i]) return 1;
  }
  return 0;
}

static sd_status do_tile(const sd_run *run, const sd_radiometry *rad, sd_veg_index vi, sd_reader *rb, sd_reader *ra,
                         const sd_runs *runs, int tx, int ty, tile_out *t, sd_error *err) {
  const int W = run->grid.width, H = run->grid.height, halo = REGION;
  int cx0 = tx * TILE, cy0 = ty * TILE, cx1 = cx0 + TILE > W ? W : cx0 + TILE, cy1 = cy0 + TILE > H ? H : cy0 + TILE;
  int x0 = cx0 - halo < 0 ? 0 : cx0 - halo, y0 = cy0 - halo < 0 ? 0 : cy0 - halo;
  int x1 = cx1 + halo > W ? W : cx1 + halo, y1 = cy1 + halo > H ? H : cy1 + halo;
  int w = x1 - x0, h = y1 - y0;
  size_t n = (size_t)w * h;
  sd_planes pb = {0}, pa = {0};
  uint32_t *lab = malloc(sizeof *lab * n);
  int32_t *obj = malloc(sizeof *obj * n);
  sd_seg_cues *cues = NULL;
  int *cand_of = NULL;
  sd_status s = lab && obj ? SD_OK : sd_error_set(err, SD_ERR_NOMEM, "segments: out of memory");
  if (!s) s = sd_planes_alloc(&pb, run->nbands, w, h, err);
  if (!s) s = sd_planes_alloc(&pa, run->nbands, w, h, err);
  if (!s) s = sd_run_read_pair(run, rb, ra, x0, y0, &pb, &pa, NULL, err);
  int nseg = s ? 0 : sd_slic_pair(&pb, &pa, rad, REGION, lab);
  if (!s && nseg > 65535) nseg = -1; /* a tile never holds this many: indices are 16-bit */
  if (!s && nseg < 0) s = sd_error_set(err, SD_ERR_NOMEM, "segments: out of memory");
  if (!s) {
    cues = malloc(sizeof *cues * (size_t)nseg);
    cand_of = malloc(sizeof *cand_of * (size_t)nseg);
    if (!cues || !cand_of || sd_segment_cues(&pb, &pa, rad, &run->roles, vi, lab, nseg, cues))
      s = sd_error_set(err, SD_ERR_NOMEM, "segments: out of memory");
  }
  if (!s) {
    sd_runs_paint_window(runs, x0, y0, w, h, obj);
    /* core segments: -2 none yet, -1 in the core, >= 0 its candidate index */
    for (int k = 0; k < nseg; k++)
      cand_of[k] = -2;
    for (int y = cy0; y < cy1; y++)
      for (int x = cx0; x < cx1; x++) {
        size_t i = (size_t)(y - y0) * w + (x - x0);
        uint32_t k = lab[i];
        if (cand_of[k] == -2) cand_of[k] = -1;
        if (obj[i] && cand_of[k] == -1) cand_of[k] = t->ncand++;
        t->npx += obj[i] != 0;
      }
    for (int k = 0; k < nseg; k++)
      t->nref += cand_of[k] != -2 && cues[k].valid_px > 0;
    t->ref = malloc(sizeof *t->ref * (size_t)(t->nref ? t->nref : 1));
    t->cand = malloc(sizeof *t->cand * (size_t)(t->ncand ? t->ncand : 1));
    t->px = malloc(sizeof *t->px * (size_t)(t->npx ? t->npx : 1));
    if (!t->ref || !t->cand || !t->px) s = sd_error_set(err, SD_ERR_NOMEM, "segments: out of memory");
  }
  if (!s) {
    int nr = 0;
    for (int k = 0; k < nseg; k++) {
      if (cand_of[k] != -2 && cues[k].valid_px > 0) t->ref[nr++] = cues[k];
      if (cand_of[k] >= 0) t->cand[cand_of[k]] = cues[k];
    }
    int64_t np = 0;
    for (int y = cy0; y < cy1; y++)
      for (int x = cx0; x < cx1; x++) {
        size_t i = (size_t)(y - y0) * w + (x - x0);
        if (obj[i]) t->px[np++] = (uint16_t)cand_of[lab[i]];
      }
  }
  sd_planes_free(&pb);
  sd_planes_free(&pa);
  free(lab);
  free(obj);
  free(cues);
  free(cand_of);
  return s;
}

typedef struct tiles_ctx {
  const sd_radiometry *rad;
  sd_veg_index vi;
  const sd_runs *runs;
  const int *tiles;
  int nx;
  tile_out *out;
} tiles_ctx;

static sd_status tile_task(const sd_run *run, sd_reader *rb, sd_reader *ra, int k, void *arg, sd_error *err) {
  tiles_ctx *c = arg;
  return do_tile(run, c->rad, c->vi, rb, ra, c->runs, c->tiles[k] % c->nx, c->tiles[k] / c->nx, &c->out[k], err);
}

/* Pass 1: the tiles, threads taking them one at a time in turn with their own readers. */
static sd_status segment_tiles(const sd_run *run, const sd_model *model, const sd_radiometry *rad, sd_veg_index vi,
                               const sd_runs *runs, const int *tiles, int ntiles, int nx, tile_out *out,
                               sd_error *err) {
  tiles_ctx c = {rad, vi, runs, tiles, nx, out};
  return sd_run_pair_tasks(run, model, run->threads < ntiles ? run->threads : ntiles, ntiles, 0, tile_task, &c, err);
}

/* The priors of every candidate segment against the reference, and keep flags (per tile, in
 * the order of its candidates). */
static sd_status decide(tile_out *out, int ntiles, sd_segmentation *sg, uint8_t **keep, sd_error *err) {
  int64_t nref = 0, ncand = 0;
  for (int k = 0; k < ntiles; k++) {
    nref += out[k].nref;
    ncand += out[k].ncand;
  }
  float *ref[SD_CUES] = {0};
  float *prior = malloc(sizeof *prior * (size_t)(ncand ? ncand : 1));
  *keep = malloc((size_t)(ncand ? ncand : 1));
  sd_status s = prior && *keep ? SD_OK : sd_error_set(err, SD_ERR_NOMEM, "segments: out of memory");
  for (int c = 0; c < SD_CUES && !s; c++)
    if (!(ref[c] = malloc(sizeof *ref[c] * (size_t)(nref ? nref : 1))))
      s = sd_error_set(err, SD_ERR_NOMEM, "segments: out of memory for %lld segments", (long long)nref);
  if (!s) {
    int64_t j = 0;
    for (int k = 0; k < ntiles; k++)
      for (int i = 0; i < out[k].nref; i++, j++)
        for (int c = 0; c < SD_CUES; c++)
          ref[c][j] = out[k].ref[i].cue[c];
    sd_structure_sort_ref(ref, nref);
    int64_t base = 0;
    const float q = sd_structure_keep();
    for (int k = 0; k < ntiles; k++) {
      sd_structure_prior(out[k].cand, out[k].ncand, ref, nref, prior + base);
      for (int i = 0; i < out[k].ncand; i++)
        (*keep)[base + i] = prior[base + i] > q || out[k].cand[i].valid_px == 0; /* no cues: no case against it */
      base += out[k].ncand;
    }
    for (int64_t i = 0; i < ncand; i++)
      sg->kept_segments += (*keep)[i];
  }
  sg->ref_segments = nref;
  sg->candidate_segments = ncand;
  for (int c = 0; c < SD_CUES; c++)
    free(ref[c]);
  free(prior);
  return s;
}

/* Pass 2: the change rebuilt tile row by tile row, pixels of dropped segments cleared, then
 * labelled and filtered by area as detection does. */
static sd_status rebuild(const sd_run *run, const sd_plan *plan, const int *tile_index, const tile_out *out,
                         const uint8_t *keep, sd_detection *det, sd_segmentation *sg, sd_error *err) {
  const int W = run->grid.width, H = run->grid.height, nx = (W + TILE - 1) / TILE;
  sd_runs nr;
  sd_runs_init(&nr, W);
  uint8_t *mask = malloc((size_t)W * TILE);
  sd_status s = mask ? SD_OK : sd_error_set(err, SD_ERR_NOMEM, "segments: out of memory");
  int64_t base = 0;
  for (int ty = 0; ty * TILE < H && !s; ty++) {
    int y0 = ty * TILE, rows = y0 + TILE > H ? H - y0 : TILE;
    memset(mask, 0, (size_t)W * rows);
    sd_runs_mark(&det->runs, y0, rows, mask);
    for (int tx = 0; tx < nx; tx++) {
      int k = tile_index[ty * nx + tx];
      if (k < 0) continue;
      const tile_out *t = &out[k];
      int64_t np = 0;
      int x1 = (tx + 1) * TILE > W ? W : (tx + 1) * TILE;
      for (int y = 0; y < rows; y++)
        for (int x = tx * TILE; x < x1; x++) {
          uint8_t *m = mask + (size_t)y * W + x;
          if (*m != 1) continue;
          if (!keep[base + t->px[np++]]) {
            *m = 0;
            sg->dropped_px++;
          }
        }
      base += t->ncand;
    }
    if (sd_runs_add(&nr, mask, rows)) s = sd_error_set(err, SD_ERR_NOMEM, "labels: out of memory for the runs");
  }
  free(mask);
  if (!s && sd_runs_finish(&nr) < 0) s = sd_error_set(err, SD_ERR_NOMEM, "labels: out of memory");
  int kept = s ? -1 : sd_runs_filter_area(&nr, plan->min_area_px, &det->changed_px);
  if (!s && kept < 0) s = sd_error_set(err, SD_ERR_NOMEM, "labels: out of memory");
  if (s) {
    sd_runs_free(&nr);
    return s;
  }
  sd_runs_free(&det->runs);
  det->runs = nr;
  det->nobjs = kept;
  return SD_OK;
}

sd_status sd_stage_segments(sd_run *run, const sd_plan *plan, const sd_registration *reg, const sd_normalisation *norm,
                            sd_detection *det, sd_segmentation *sg, sd_error *err) {
  double t0 = sd_now();
  memset(sg, 0, sizeof *sg);
  sg->region_px = REGION;
  sg->tile_px = TILE;
  sg->keep_above = sd_structure_keep();
  char buf[sizeof sg->why];
  const char *why = off_reason(run, buf, sizeof buf);
  sg->applied = !why;
  snprintf(sg->why, sizeof sg->why, "%s", why ? why : "structure cues of SLIC segments against the scene's");
  if (why) return SD_OK;
  if (det->nobjs == 0) return SD_OK;
  const int W = run->grid.width, H = run->grid.height, nx = (W + TILE - 1) / TILE, ny = (H + TILE - 1) / TILE;
  int step = 1;
  while ((int64_t)((nx + step - 1) / step) * ((ny + step - 1) / step) > REF_TILES)
    step++;
  int *tile_index = malloc(sizeof *tile_index * (size_t)nx * ny), *tiles = malloc(sizeof *tiles * (size_t)nx * ny);
  tile_out *out = NULL;
  uint8_t *keep = NULL;
  sd_status s = tile_index && tiles ? SD_OK : sd_error_set(err, SD_ERR_NOMEM, "segments: out of memory");
  int ntiles = 0;
  for (int ty = 0; ty < ny && !s; ty++)
    for (int tx = 0; tx < nx; tx++) {
      int on = (tx % step == 0 && ty % step == 0) || tile_has_change(&det->runs, tx, ty, H);
      tile_index[ty * nx + tx] = on ? ntiles : -1;
      if (on) tiles[ntiles++] = ty * nx + tx;
    }
  if (!s && !(out = calloc((size_t)ntiles, sizeof *out)))
    s = sd_error_set(err, SD_ERR_NOMEM, "segments: out of memory");
  if (!s)
    s = segment_tiles(run, &reg->model, &norm->radio, sd_veg_index_of(&run->roles), &det->runs, tiles, ntiles, nx, out,
                      err);
  sg->tiles = ntiles;
  if (!s) s = sd_check_interrupt(err);
  if (!s) s = decide(out, ntiles, sg, &keep, err);
  if (!s) s = rebuild(run, plan, tile_index, out, keep, det, sg, err);
  for (int k = 0; out && k < ntiles; k++) {
    free(out[k].ref);
    free(out[k].cand);
    free(out[k].px);
  }
  free(out);
  free(keep);
  free(tile_index);
  free(tiles);
  sg->seconds = sd_now() - t0;
  return s;
}
