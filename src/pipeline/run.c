/* run.c: the run context every stage shares: warnings, progress, reading both images on the grid. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pipeline/run.h"

void sd_run_warn(sd_run *run, const char *fmt, ...) {
  if (run->nwarn >= SD_MAX_WARNINGS) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(run->warnings[run->nwarn++], sizeof run->warnings[0], fmt, ap);
  va_end(ap);
  if (!run->opts->quiet) fprintf(stderr, "sitediff: warning: %s\n", run->warnings[run->nwarn - 1]);
}

void sd_run_progress(const sd_run *run, const char *fmt, ...) {
  if (run->opts->quiet) return;
  va_list ap;
  va_start(ap, fmt);
  fputs("sitediff: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

/* Blanks (NaN) the pixels of pb and pa under a mask raster's non-zero values (at a coarser
 * factor: under more than half masked grid pixels). */
static sd_status apply_mask(sd_reader *mask, int x0, int y0, int factor, sd_planes *pb, sd_planes *pa, sd_error *err) {
  sd_planes m;
  sd_status s = sd_planes_alloc(&m, 1, pb->width, pb->height, err);
  if (!s) s = sd_reader_read_binned(mask, x0, y0, factor, &m, err);
  if (!s) {
    size_t n = (size_t)pb->width * pb->height;
    for (size_t i = 0; i < n; i++)
      if (m.band[0][i] > 0.5f)
        for (int b = 0; b < pb->nbands; b++)
          pb->band[b][i] = pa->band[b][i] = NAN;
  }
  sd_planes_free(&m);
  return s;
}

sd_status sd_run_read_pair(const sd_run *run, sd_reader *rb, sd_reader *ra, int x0, int y0, sd_planes *pb,
                           sd_planes *pa, double *secs, sd_error *err) {
  double t = sd_now();
  sd_status s = sd_reader_read(rb, x0, y0, pb, err);
  if (secs) secs[0] += sd_now() - t;
  t = sd_now();
  if (!s) s = sd_reader_read(ra, x0, y0, pa, err);
  if (secs) secs[1] += sd_now() - t;
  if (!s && run->mask_b) s = apply_mask(run->mask_b, x0, y0, 1, pb, pa, err);
  if (!s && run->mask_a) s = apply_mask(run->mask_a, x0, y0, 1, pb, pa, err);
  return s;
}

void sd_run_set_after_model(const sd_run *run, sd_reader *ra, const sd_model *m) {
  sd_reader_set_model(ra, m);
  if (run->mask_a) sd_reader_set_model(run->mask_a, m);
}

sd_status sd_pair_readers_open(const sd_run *run, const sd_model *model, sd_pair_readers *pr, sd_error *err) {
  const sd_compare_options *o = run->opts;
  memset(pr, 0, sizeof *pr);
  sd_status s = sd_raster_open("before", o->before, o->max_pixels, &pr->before, err);
  if (!s) s = sd_raster_open("after", o->after, o->max_pixels, &pr->after, err);
  if (!s) s = sd_reader_create(pr->before, &run->grid, run->nbands, 1, &pr->rb, err);
  if (!s) s = sd_reader_create(pr->after, &run->grid, run->nbands, 1, &pr->ra, err);
  if (!s) sd_reader_set_model(pr->ra, model);
  return s;
}

void sd_pair_readers_close(sd_pair_readers *pr) {
  sd_reader_free(pr->rb);
  sd_reader_free(pr->ra);
  sd_raster_close(pr->before);
  sd_raster_close(pr->after);
  memset(pr, 0, sizeof *pr);
}

sd_status sd_run_pair_tasks(const sd_run *run, const sd_model *model, int nt, int n, int contiguous, sd_pair_task task,
                            void *ctx, sd_error *err) {
  if (run->mask_b || run->mask_a) nt = 1;
  if (nt > 64) nt = 64;
  if (nt <= 1) {
    sd_status s = SD_OK;
    for (int i = 0; i < n && !s; i++)
      s = task(run, run->rb, run->ra, i, ctx, err);
    return s;
  }
  sd_status st[64] = {0};
  sd_error errs[64];
  memset(errs, 0, sizeof errs);
  const int chunk = contiguous ? (n + nt - 1) / nt : 1; /* one run of items per thread, or one at a time */
  SD_OMP(parallel num_threads(nt)) {
    int t = sd_omp_thread_id();
    sd_pair_readers pr;
    st[t] = sd_pair_readers_open(run, model, &pr, &errs[t]);
    SD_OMP(for schedule(dynamic, chunk))
    for (int i = 0; i < n; i++)
      if (!st[t]) st[t] = task(run, pr.rb, pr.ra, i, ctx, &errs[t]);
    sd_pair_readers_close(&pr);
  }
  for (int t = 0; t < nt; t++)
    if (st[t]) return sd_error_set(err, st[t], "%s", errs[t].msg);
  return SD_OK;
}

void sd_run_close(sd_run *run) {
  sd_reader_free(run->rb);
  sd_reader_free(run->ra);
  sd_reader_free(run->mask_b);
  sd_reader_free(run->mask_a);
  sd_raster_close(run->mask_b_raster);
  sd_raster_close(run->mask_a_raster);
  sd_aoi_free(run->aoi);
  run->aoi = NULL;
  sd_grid_free(&run->grid);
  sd_raster_close(run->before);
  sd_raster_close(run->after);
  run->rb = run->ra = run->mask_b = run->mask_a = NULL;
  run->mask_b_raster = run->mask_a_raster = run->before = run->after = NULL;
}

sd_status sd_run_read_binned(const sd_run *run, sd_reader *rb, sd_reader *ra, int x, int y, int level, int w, int h,
                             float *mb, float *ma, sd_error *err) {
  sd_planes pb = {.nbands = 1, .width = w, .height = h, .band = {mb}};
  sd_planes pa = {.nbands = 1, .width = w, .height = h, .band = {ma}};
  const int f = 1 << level;
  sd_status s = sd_reader_read_binned(rb, x, y, f, &pb, err);
  if (!s) s = sd_reader_read_binned(ra, x, y, f, &pa, err);
  if (!s && run->mask_b) s = apply_mask(run->mask_b, x, y, f, &pb, &pa, err);
  if (!s && run->mask_a) s = apply_mask(run->mask_a, x, y, f, &pb, &pa, err);
  return s;
}
