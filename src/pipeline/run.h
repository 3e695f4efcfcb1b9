/* run.h: what every stage of one compare run shares: options, inputs, grid, readers, threads,
 * progress and warnings. */
#ifndef SD_RUN_H
#define SD_RUN_H

#include "detect/detect.h"
#include "diff/diff.h"
#include "diff/features.h"
#include "io/io.h"
#include "radiometry/radiometry.h"
#include "register/register.h"

enum { SD_MAX_WARNINGS = 16 };

/* The run context: set up by the open and grid stages, read by all. Stages keep their own
 * results in their own structs (below), never here. */
typedef struct sd_run {
  const sd_compare_options *opts;
  sd_raster *before, *after;
  sd_grid grid;
  int nbands, threads;
  int plain;                  /* SITEDIFF_PLAIN: reference twins instead of the optimised kernels */
  sd_preset preset;           /* what the inputs are (web-map RGB or not) */
  sd_metric metric;           /* the change metric the diff computes */
  sd_band_roles roles;        /* which band is blue, green, red, nir */
  const char *roles_from;     /* what said so: "--bands", the after image, the band order */
  int rgb[3];                 /* the bands shown as red, green and blue */
  sd_reader *rb, *ra;         /* both images on the grid, all compared bands */
  sd_reader *mask_b, *mask_a; /* --mask-before / --mask-after on the grid, or NULL */
  sd_raster *mask_b_raster, *mask_a_raster;
  sd_aoi *aoi; /* --aoi on the grid, or NULL */
  char warnings[SD_MAX_WARNINGS][256];
  int nwarn;
} sd_run;

void sd_run_warn(sd_run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sd_run_progress(const sd_run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Reads the window at (x0, y0) (size from the planes) of both images, blanking masked pixels;
 * adds the seconds spent on each image to secs[0] (before) and secs[1] (after) when secs is given. */
sd_status sd_run_read_pair(const sd_run *run, sd_reader *rb, sd_reader *ra, int x0, int y0, sd_planes *pb,
                           sd_planes *pa, double *secs, sd_error *err);
/* Reads the first band of both images at a coarser level into mb and ma (w x h each, NaN under the
 * masks): each pixel the mean of the 2^level x 2^level grid pixels from (x, y) on
 * (sd_reader_read_binned). */
sd_status sd_run_read_binned(const sd_run *run, sd_reader *rb, sd_reader *ra, int x, int y, int level, int w, int h,
                             float *mb, float *ma, sd_error *err);
/* Folds model into the after reader ra and the after mask, which moves with the after image. */
void sd_run_set_after_model(const sd_run *run, sd_reader *ra, const sd_model *m);
/* A thread's own handles on both images, on the grid, all compared bands, with the model folded
 * into the after reader: threads that read windows at random do not share GDAL handles. */
typedef struct sd_pair_readers {
  sd_raster *before, *after;
  sd_reader *rb, *ra;
} sd_pair_readers;
sd_status sd_pair_readers_open(const sd_run *run, const sd_model *model, sd_pair_readers *pr, sd_error *err);
void sd_pair_readers_close(sd_pair_readers *pr);
/* One of n independent items read through the readers given. */
typedef sd_status (*sd_pair_task)(const sd_run *run, sd_reader *rb, sd_reader *ra, int item, void *ctx, sd_error *err);
/* Runs task on items 0 .. n - 1: with nt <= 1 (or cloud masks, read through the run's shared
 * readers) in order on the run's readers; else on nt threads (at most 64), each with its own
 * readers, taking one contiguous run of items each (contiguous) or one item at a time in turn. */
sd_status sd_run_pair_tasks(const sd_run *run, const sd_model *model, int nt, int n, int contiguous, sd_pair_task task,
                            void *ctx, sd_error *err);
/* Closes every reader and raster of the run and frees its grid. */
void sd_run_close(sd_run *run);

#endif
