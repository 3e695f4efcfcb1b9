/* stage_segments.c: the structure focus on very-high-resolution imagery. The scene is cut into
 * superpixels of the pair (SLIC), and change is decided per segment: its score is its mean
 * magnitude weighed by its structure prior (after grey, not green, with more edges, more light and
 * more texture than before, against the scene's segments), and a segment at least a tenth
 * detected whose score passes a level set by the scene's scores (a fraction of their Otsu split)
 * is changed as a whole; the rest of the detected pixels are cleared. Leaf change, shadows that
 * moved and wet or ploughed soil score low, new roofs and concrete high, and a roof the magnitude
 * caught only in parts is filled out to its segments.
 *
 * Fixed tiles of TILE x TILE grid pixels, each read with a halo of one segment, are segmented on
 * their own, so the result does not depend on the block size or the thread count. The scene's
 * reference segments come from every tile with change and from a lattice of at most
 * REF_TILES tiles (every tile of a small scene). Memory: one tile per thread, a few numbers per
 * segment, and the candidate segments' pixels as runs until the decision. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/stages.h"
#include "segment/segment.h"

enum { TILE = 256, REGION = 10, REF_TILES = 64 };

/* A run of a candidate segment's pixels on one row of its tile's core (offsets in the core). */
typedef struct seg_run {
  uint16_t y, x0, len, seg;
} seg_run;

/* What one tile gives: the cues and the change of each segment with valid pixels in its core, and
 * its candidate segments' pixels as runs, in raster order. */
typedef struct tile_out {
  sd_seg_cues *cues;
  sd_seg_change *chg;
  int nseg;
  seg_run *runs;
  int64_t nruns;
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

/* The magnitude, from memory or (under a lock: threads share the handle) from its file. */
typedef struct mag_in {
  const float *mem;
  sd_raster *file;
  double thr;
} mag_in;

static sd_status read_core_mag(const sd_run *run, const mag_in *mi, int x0, int y0, int w, int h, float *buf,
                               sd_error *err) {
  const int W = run->grid.width;
  if (mi->mem) {
    for (int y = 0; y < h; y++)
      memcpy(buf + (size_t)y * w, mi->mem + (size_t)(y0 + y) * W + x0, sizeof *buf * (size_t)w);
    return SD_OK;
  }
  sd_planes p = {.nbands = 1, .width = w, .height = h, .band = {buf}};
  sd_status s = SD_OK;
  SD_OMP(critical(sd_segments_mag))
  s = sd_raster_read_window(mi->file, x0, y0, &p, err);
  return s;
}

/* Per segment with valid core pixels: its index among them (idx, -1 for none), its change, and
 * the runs of the candidates among them. mag and obj cover the core (cw x ch) and the window. */
static sd_status core_stats(const uint32_t *lab, const int32_t *obj, int w, int ox, int oy, const float *mag, int cw,
                            int ch, double thr, int nseg, int *idx, tile_out *t, sd_error *err) {
  double *sum = calloc((size_t)nseg, sizeof *sum);
  int32_t(*cnt)[3] = calloc((size_t)nseg, sizeof *cnt); /* valid, vegetation, detected */
  sd_status s = sum && cnt ? SD_OK : sd_error_set(err, SD_ERR_NOMEM, "segments: out of memory");
  for (int y = 0; y < ch && !s; y++)
    for (int x = 0; x < cw; x++) {
      float m = mag[(size_t)y * cw + x];
      if (isnan(m)) continue;
      size_t i = (size_t)(y + oy) * w + (x + ox);
      uint32_t k = lab[i];
      sum[k] += m > 0 ? m : 0;
      cnt[k][0]++;
      cnt[k][1] += m < 0;
      cnt[k][2] += obj[i] != 0;
    }
  for (int k = 0; k < nseg && !s; k++)
    idx[k] = cnt[k][0] ? t->nseg++ : -1;
  if (!s) {
    t->chg = malloc(sizeof *t->chg * (size_t)(t->nseg ? t->nseg : 1));
    t->cues = malloc(sizeof *t->cues * (size_t)(t->nseg ? t->nseg : 1));
    if (!t->chg || !t->cues) s = sd_error_set(err, SD_ERR_NOMEM, "segments: out of memory");
  }
  for (int k = 0; k < nseg && !s; k++) {
    if (idx[k] < 0) continue;
    double n = cnt[k][0];
    t->chg[idx[k]] =
        (sd_seg_change){(float)(sum[k] / n / thr), (float)(cnt[k][1] / n), (float)(cnt[k][2] / n), cnt[k][0]};
  }
  /* the candidates' pixels as runs; a pixel of nodata magnitude ends a run */
  int64_t cap = 0;
  for (int y = 0; y < ch && !s; y++)
    for (int x = 0; x < cw;) {
      uint32_t k = lab[(size_t)(y + oy) * w + (x + ox)];
      if (isnan(mag[(size_t)y * cw + x]) || idx[k] < 0 || t->chg[idx[k]].det_share < SD_STRUCTURE_MIN_DETECTED) {
        x++;
        continue;
      }
      int x0 = x;
      while (x < cw && lab[(size_t)(y + oy) * w + (x + ox)] == k && !isnan(mag[(size_t)y * cw + x]))
        x++;
      if (t->nruns == cap) {
        cap = cap ? 2 * cap : 256;
        seg_run *r = realloc(t->runs, sizeof *r * (size_t)cap);
        if (!r) {
          s = sd_error_set(err, SD_ERR_NOMEM, "segments: out of memory");
          break;
        }
        t->runs = r;
      }
      t->runs[t->nruns++] = (seg_run){(uint16_t)y, (uint16_t)x0, (uint16_t)(x - x0), (uint16_t)idx[k]};
    }
  free(sum);
  free(cnt);
  return s;
}

static sd_status do_tile(const sd_run *run, const sd_radiometry *rad, sd_veg_index vi, const mag_in *mi, sd_reader *rb,
                         sd_reader *ra, const sd_runs *runs, int tx, int ty, tile_out *t, sd_error *err) {
  const int W = run->grid.width, H = run->grid.height, halo = REGION;
  int cx0 = tx * TILE, cy0 = ty * TILE, cx1 = cx0 + TILE > W ? W : cx0 + TILE, cy1 = cy0 + TILE > H ? H : cy0 + TILE;
  int x0 = cx0 - halo < 0 ? 0 : cx0 - halo, y0 = cy0 - halo < 0 ? 0 : cy0 - halo;
  int x1 = cx1 + halo > W ? W : cx1 + halo, y1 = cy1 + halo > H ? H : cy1 + halo;
  int w = x1 - x0, h = y1 - y0, cw = cx1 - cx0, ch = cy1 - cy0;
  size_t n = (size_t)w * h;
  sd_planes pb = {0}, pa = {0};
  uint32_t *lab = malloc(sizeof *lab * n);
  int32_t *obj = malloc(sizeof *obj * n);
  float *mag = malloc(sizeof *mag * (size_t)cw * ch);
  sd_seg_cues *cues = NULL;
  int *idx = NULL;
  sd_status s = lab && obj && mag ? SD_OK : sd_error_set(err, SD_ERR_NOMEM, "segments: out of memory");
  if (!s) s = sd_planes_alloc(&pb, run->nbands, w, h, err);
  if (!s) s = sd_planes_alloc(&pa, run->nbands, w, h, err);
  if (!s) s = sd_run_read_pair(run, rb, ra, x0, y0, &pb, &pa, NULL, err);
  if (!s) s = read_core_mag(run, mi, cx0, cy0, cw, ch, mag, err);
  int nseg = s ? 0 : sd_slic_pair(&pb, &pa, rad, REGION, lab);
  if (!s && nseg > 65535) nseg = -1; /* a tile never holds this many: indices are 16-bit */
  if (!s && nseg < 0) s = sd_error_set(err, SD_ERR_NOMEM, "segments: out of memory");
  if (!s) {
    cues = malloc(sizeof *cues * (size_t)nseg);
    idx = malloc(sizeof *idx * (size_t)nseg);
    if (!cues || !idx || sd_segment_cues(&pb, &pa, rad, &run->roles, vi, lab, nseg, cues))
      s = sd_error_set(err, SD_ERR_NOMEM, "segments: out of memory");
  }
  if (!s) {
    sd_runs_paint_window(runs, x0, y0, w, h, obj);
    s = core_stats(lab, obj, w, cx0 - x0, cy0 - y0, mag, cw, ch, mi->thr, nseg, idx, t, err);
  }
  for (int k = 0; k < nseg && !s; k++)
    if (idx[k] >= 0) t->cues[idx[k]] = cues[k];
  sd_planes_free(&pb);
  sd_planes_free(&pa);
  free(lab);
  free(obj);
  free(mag);
  free(cues);
  free(idx);
  return s;
}

typedef struct tiles_ctx {
  const sd_radiometry *rad;
  sd_veg_index vi;
  const mag_in *mag;
  const sd_runs *runs;
  const int *tiles;
  int nx;
  tile_out *out;
} tiles_ctx;

static sd_status tile_task(const sd_run *run, sd_reader *rb, sd_reader *ra, int k, void *arg, sd_error *err) {
  tiles_ctx *c = arg;
  return do_tile(run, c->rad, c->vi, c->mag, rb, ra, c->runs, c->tiles[k] % c->nx, c->tiles[k] / c->nx, &c->out[k],
                 err);
}

/* Pass 1: the tiles, threads taking them one at a time in turn with their own readers. */
static sd_status segment_tiles(const sd_run *run, const sd_model *model, tiles_ctx *c, int ntiles, sd_error *err) {
  return sd_run_pair_tasks(run, model, run->threads < ntiles ? run->threads : ntiles, ntiles, 0, tile_task, c, err);
}

/* The priors and scores of every segment against the reference (those with cues), the level,
 * and keep flags (per tile, in the order of its segments): a candidate is kept when its score
 * passes the level, or when it has no cues (no case against it). */
static sd_status decide(tile_out *out, int ntiles, sd_segmentation *sg, uint8_t **keep, sd_error *err) {
  int64_t nseg = 0, nref = 0;
  for (int k = 0; k < ntiles; k++) {
    nseg += out[k].nseg;
    for (int i = 0; i < out[k].nseg; i++)
      nref += out[k].cues[i].valid_px > 0;
  }
  float *ref[SD_CUES] = {0};
  float *prior = malloc(sizeof *prior * (size_t)(nseg ? nseg : 1)), *score = malloc(sizeof *score * (size_t)(nref + 1));
  int32_t *px = malloc(sizeof *px * (size_t)(nref + 1));
  *keep = malloc((size_t)(nseg ? nseg : 1));
  sd_status s = prior && score && px && *keep ? SD_OK : sd_error_set(err, SD_ERR_NOMEM, "segments: out of memory");
  for (int c = 0; c < SD_CUES && !s; c++)
    if (!(ref[c] = malloc(sizeof *ref[c] * (size_t)(nref + 1))))
      s = sd_error_set(err, SD_ERR_NOMEM, "segments: out of memory for %lld segments", (long long)nref);
  if (!s) {
    int64_t j = 0, base = 0;
    for (int k = 0; k < ntiles; k++)
      for (int i = 0; i < out[k].nseg; i++) {
        if (out[k].cues[i].valid_px <= 0) continue;
        for (int c = 0; c < SD_CUES; c++)
          ref[c][j] = out[k].cues[i].cue[c];
        j++;
      }
    sd_structure_sort_ref(ref, nref);
    j = 0;
    for (int k = 0; k < ntiles; k++) {
      sd_structure_prior(out[k].cues, out[k].nseg, ref, nref, prior + base);
      for (int i = 0; i < out[k].nseg; i++)
        if (out[k].cues[i].valid_px > 0) {
          score[j] = sd_structure_score(prior[base + i], &out[k].chg[i]);
          px[j++] = out[k].chg[i].px;
        }
      base += out[k].nseg;
    }
    sg->level = sd_structure_level(score, px, nref);
    j = base = 0;
    for (int k = 0; k < ntiles; k++) {
      for (int i = 0; i < out[k].nseg; i++) {
        const int cued = out[k].cues[i].valid_px > 0, cand = out[k].chg[i].det_share >= SD_STRUCTURE_MIN_DETECTED;
        uint8_t *kp = &(*keep)[base + i];
        *kp = cand && (!cued || score[j] > sg->level);
        j += cued;
        sg->candidate_segments += cand;
        sg->kept_segments += *kp;
      }
      base += out[k].nseg;
    }
  }
  sg->ref_segments = nref;
  for (int c = 0; c < SD_CUES; c++)
    free(ref[c]);
  free(prior);
  free(score);
  free(px);
  return s;
}

/* Pass 2: the change rebuilt tile row by tile row from the kept segments' runs (detected pixels
 * elsewhere cleared), then labelled and filtered by area as detection does. */
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
    sd_runs_mark(&det->runs, y0, rows, mask); /* 1: detected */
    for (int tx = 0; tx < nx; tx++) {
      int k = tile_index[ty * nx + tx];
      if (k < 0) continue;
      const tile_out *t = &out[k];
      for (int64_t r = 0; r < t->nruns; r++)
        if (keep[base + t->runs[r].seg]) {
          uint8_t *m = mask + (size_t)t->runs[r].y * W + tx * TILE + t->runs[r].x0;
          for (int x = 0; x < t->runs[r].len; x++)
            m[x] |= 2; /* 2: in a kept segment */
        }
      base += t->nseg;
    }
    for (size_t i = 0; i < (size_t)W * rows; i++) {
      sg->dropped_px += mask[i] == 1;
      sg->added_px += mask[i] == 2;
      mask[i] = mask[i] >= 2;
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
                            const sd_difference *diff, const char *mag_path, sd_detection *det, sd_segmentation *sg,
                            sd_error *err) {
  double t0 = sd_now();
  memset(sg, 0, sizeof *sg);
  sg->region_px = REGION;
  sg->tile_px = TILE;
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
  mag_in mi = {diff->mag, NULL, det->thr.value};
  if (!s && !mi.mem) s = sd_raster_open("magnitude", mag_path, run->opts->max_pixels, &mi.file, err);
  tiles_ctx c = {&norm->radio, sd_veg_index_of(&run->roles), &mi, &det->runs, tiles, nx, out};
  if (!s) s = segment_tiles(run, &reg->model, &c, ntiles, err);
  sd_raster_close(mi.file);
  sg->tiles = ntiles;
  if (!s) s = sd_check_interrupt(err);
  if (!s) s = decide(out, ntiles, sg, &keep, err);
  if (!s) s = rebuild(run, plan, tile_index, out, keep, det, sg, err);
  for (int k = 0; out && k < ntiles; k++) {
    free(out[k].cues);
    free(out[k].chg);
    free(out[k].runs);
  }
  free(out);
  free(keep);
  free(tile_index);
  free(tiles);
  sg->seconds = sd_now() - t0;
  return s;
}
