/* stage_detect.c: from the magnitude to objects, block by block. Threshold, opening, closing
 * and hole filling run on windows of rows with a halo wide enough that every block's own rows
 * come out as a whole-grid pass would make them; the cleaned rows become runs, labelled across
 * block borders; objects are measured from the runs and from what the magnitude's second pass
 * leaves on each run. Memory: the windows, the runs and the objects, never a grid-sized image
 * (the magnitude is held whole only when it is small; see the plan in stage_grid.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/stages.h"

/* The magnitude, from memory or read back from its GeoTIFF. */
typedef struct mag_source {
  const float *mem;
  sd_raster *file;
  int width, threads;
} mag_source;

static sd_status mag_open(const sd_run *run, const float *mem, const char *path, mag_source *m, sd_error *err) {
  m->mem = mem;
  m->file = NULL;
  m->width = run->grid.width;
  m->threads = run->threads;
  if (mem) return SD_OK;
  return sd_raster_open("magnitude", path, run->opts->max_pixels, &m->file, err);
}

/* Rows y0 .. y0 + rows - 1: a pointer into memory, or buf filled from the file. */
static sd_status mag_rows(mag_source *m, int y0, int rows, float *buf, const float **out, sd_error *err) {
  if (m->mem) {
    *out = m->mem + (size_t)y0 * m->width;
    return SD_OK;
  }
  sd_planes p = {.nbands = 1, .width = m->width, .height = rows, .band = {buf}};
  *out = buf;
  return sd_raster_read_rows(m->file, y0, &p, m->threads, err);
}

static int64_t count_ones(const uint8_t *m, size_t n) {
  int64_t c = 0;
  for (size_t i = 0; i < n; i++)
    c += m[i] == 1;
  return c;
}

sd_status sd_stage_threshold(sd_run *run, const sd_difference *diff, sd_detection *det, sd_error *err) {
  const sd_compare_options *opts = run->opts;
  sd_threshold_choose(diff->hist, (sd_thr_method)opts->threshold_method, opts->k_sigma, run->preset, &det->thr);
  for (int b = 0; b < SD_HIST_BINS; b++)
    det->valid_px += diff->hist[b];
  if (det->valid_px == 0)
    return sd_error_set(err, SD_ERR_INPUT, "compare: %s and %s: every pixel of the common grid is nodata",
                        sd_raster_get_info(run->before)->path, sd_raster_get_info(run->after)->path);
  if (opts->threshold >= 0) {
    det->thr.value = opts->threshold;
    det->thr.method = SD_THR_FIXED;
    snprintf(det->thr.why, sizeof det->thr.why, "given with --threshold");
  }
  return SD_OK;
}

sd_status sd_stage_detect(sd_run *run, const sd_plan *plan, const sd_difference *diff, const char *mag_path,
                          sd_detection *det, sd_error *err) {
  const int W = run->grid.width, H = run->grid.height, D = plan->detect_rows, R = plan->block_rows;
  const int halo = plan->detect_halo;
  const float thr = (float)det->thr.value;
  const float *mem = diff->mag;
  sd_runs *runs = &det->runs;
  sd_runs_init(runs, W);
  mag_source ms;
  sd_status s = mag_open(run, mem, mag_path, &ms, err);
  int cap = (int64_t)D + 2 * (int64_t)halo > H ? H : D + 2 * halo;
  uint8_t *win = s ? NULL : malloc((size_t)W * cap);
  float *buf = s || mem ? NULL : sd_alloc((size_t)W * R * sizeof *buf);
  if (!s && (!win || (!mem && !buf)))
    s = sd_error_set(err, SD_ERR_NOMEM, "detect: out of memory for a %d-row window", cap);
  for (int y0 = 0; y0 < H && !s; y0 += D) {
    int rows = y0 + D > H ? H - y0 : D;
    int ws = y0 - halo < 0 ? 0 : y0 - halo, we = (int64_t)y0 + rows + halo > H ? H : y0 + rows + halo;
    s = sd_check_interrupt(err);
    for (int y = ws; y < we && !s; y += R) {
      int n = y + R > we ? we - y : R;
      const float *m;
      s = mag_rows(&ms, y, n, buf, &m, err);
      if (s) break;
      uint8_t *o = win + (size_t)(y - ws) * W;
      size_t np = (size_t)W * n;
      SD_OMP(parallel for simd schedule(static))
      for (size_t i = 0; i < np; i++)
        o[i] = isnan(m[i]) ? 255 : m[i] > thr;
    }
    if (s) break;
    uint8_t *core = win + (size_t)(y0 - ws) * W;
    sd_morph_open(win, W, we - ws, run->opts->open_radius);
    sd_morph_close(win, W, we - ws, run->opts->close_radius);
    int64_t before = count_ones(core, (size_t)W * rows);
    (run->plain ? sd_fill_holes_ref : sd_fill_holes)(win, W, we - ws, plan->max_hole_px);
    det->filled_px += count_ones(core, (size_t)W * rows) - before;
    if (sd_runs_add(runs, core, rows)) s = sd_error_set(err, SD_ERR_NOMEM, "labels: out of memory for the runs");
  }
  free(win);
  sd_free(buf);
  sd_raster_close(ms.file);
  if (s) return s;
  int nl = sd_runs_finish(runs);
  if (nl < 0) return sd_error_set(err, SD_ERR_NOMEM, "labels: out of memory");
  /* Objects under the minimum area leave the mask; the rest are numbered anew, in order. */
  int kept = sd_runs_filter_area(runs, plan->min_area_px, &det->changed_px);
  if (kept < 0) return sd_error_set(err, SD_ERR_NOMEM, "labels: out of memory");
  det->nobjs = kept;
  return SD_OK;
}

/* The magnitude's second pass: each run's sum, largest value and contact with nodata, and the
 * final mask (nodata 255, change 1) written to its GeoTIFF block by block. */
static sd_status stats_pass(const sd_run *run, int R, mag_source *ms, const sd_runs *runs, sd_run_stats *st,
                            sd_gtiff *mask_tif, sd_error *err) {
  const int W = run->grid.width, H = run->grid.height;
  float *buf = ms->mem ? NULL : sd_alloc((size_t)W * (R + 2) * sizeof *buf);
  uint8_t *mrow = malloc((size_t)W * R);
  sd_status s = (!ms->mem && !buf) || !mrow ? sd_error_set(err, SD_ERR_NOMEM, "objects: out of memory") : SD_OK;
  for (int y0 = 0; y0 < H && !s; y0 += R) {
    int rows = y0 + R > H ? H - y0 : R;
    int ws = y0 > 0 ? y0 - 1 : 0, we = y0 + rows < H ? y0 + rows + 1 : H;
    const float *m;
    s = sd_check_interrupt(err);
    if (!s) s = mag_rows(ms, ws, we - ws, buf, &m, err);
    if (s) break;
    sd_run_stats_rows(runs, m, ws, we - ws, y0, rows, st);
    const float *core = m + (size_t)(y0 - ws) * W;
    for (size_t i = 0; i < (size_t)W * rows; i++)
      mrow[i] = isnan(core[i]) ? 255 : 0;
    sd_runs_mark(runs, y0, rows, mrow);
    s = sd_gtiff_write(mask_tif, 1, y0, rows, mrow, err);
  }
  sd_free(buf);
  free(mrow);
  return s;
}

/* Objects measured from the runs and the pass's per-run stats, classified, and small blobs
 * within 25 m grouped into one (vehicles parked together are one finding). */
static sd_status measure_objects(const sd_grid *g, sd_runs *runs, const sd_run_stats *st, sd_objects *objs,
                                 sd_error *err) {
  int nl = objs->n;
  objs->objs = calloc((size_t)nl + 1, sizeof *objs->objs);
  int32_t *remap = malloc(sizeof *remap * ((size_t)nl + 1));
  int *parts = malloc(sizeof *parts * ((size_t)nl + 1));
  sd_status s = SD_OK;
  if (!objs->objs || !remap || !parts) s = sd_error_set(err, SD_ERR_NOMEM, "objects: out of memory for %d objects", nl);
  sd_pixel_geom pg = {g->pixel_w_m, g->pixel_h_m};
  if (!s && sd_objects_measure_runs(runs, st, nl, pg, objs->objs))
    s = sd_error_set(err, SD_ERR_NOMEM, "objects: out of memory");
  if (!s) {
    sd_objects_classify(objs->objs, nl, pg);
    int ng = sd_objects_group_small(objs->objs, nl, pg, 25.0, remap, parts);
    if (ng != nl) {
      sd_runs_relabel(runs, remap, ng);
      nl = objs->n = ng;
      if (sd_objects_measure_runs(runs, st, nl, pg, objs->objs))
        s = sd_error_set(err, SD_ERR_NOMEM, "objects: out of memory");
      for (int i = 0; i < nl && !s; i++)
        objs->objs[i].parts = parts[i];
      if (!s) sd_objects_classify(objs->objs, nl, pg);
    }
  }
  free(remap);
  free(parts);
  return s;
}

sd_status sd_stage_measure(sd_run *run, const sd_plan *plan, const sd_difference *diff, const char *mag_path,
                           const char *mask_path, sd_detection *det, sd_objects *objs, sd_error *err) {
  memset(objs, 0, sizeof *objs);
  objs->n = det->nobjs;
  sd_gtiff *mask_tif = NULL;
  sd_status s = sd_gtiff_create(mask_path, &run->grid, 1, SD_PIX_U8, 1, 255, &mask_tif, err);
  sd_run_stats st = {0};
  mag_source ms = {0};
  if (!s) s = mag_open(run, diff->mag, mag_path, &ms, err);
  if (!s && sd_run_stats_alloc(&st, det->runs.n)) s = sd_error_set(err, SD_ERR_NOMEM, "objects: out of memory");
  if (!s) s = stats_pass(run, plan->block_rows, &ms, &det->runs, &st, mask_tif, err);
  sd_raster_close(ms.file);
  sd_status cs = sd_gtiff_close(mask_tif, err);
  if (!s) s = cs;
  if (!s) s = measure_objects(&run->grid, &det->runs, &st, objs, err);
  sd_run_stats_free(&st);
  return s;
}

void sd_detection_free(sd_detection *det) { sd_runs_free(&det->runs); }
