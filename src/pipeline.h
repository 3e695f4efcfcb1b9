/* pipeline.h: the state of one compare run, shared by pipeline.c and report.c. */
#ifndef SD_PIPELINE_H
#define SD_PIPELINE_H

#include "detect/detect.h"
#include "diff/diff.h"
#include "diff/features.h"
#include "io/io.h"
#include "radiometry/radiometry.h"
#include "register/register.h"

enum { SD_MAX_WARNINGS = 16 };

typedef struct sd_stage_times {
  double open, grid, registration, radiometry, diff, threshold, cleanup, objects, write, total;
  /* parts of diff: reading the before image (decoding), the after image (decoding and warping),
   * the kernel (with the magnitude's histogram), writing the magnitude (encoding) */
  double read_before, read_after, kernel, write_magnitude;
} sd_stage_times;

typedef struct sd_run {
  const sd_compare_options *opts;
  sd_raster *before, *after;
  sd_grid grid;
  int nbands, threads, block_rows;
  int plain;       /* SITEDIFF_PLAIN: reference twins instead of the optimised kernels */
  int detect_rows; /* rows a detection window decides */
  int detect_halo; /* rows it holds above and below them, so they come out as a whole-grid pass's */
  int mag_held;    /* the whole magnitude was held in memory (else read back from its file) */
  /* registration */
  sd_reader *mask_b, *mask_a; /* --mask-before / --mask-after on the grid, or NULL */
  sd_raster *mask_b_raster, *mask_a_raster;
  int reg_band;             /* 0-based data band used for matching */
  const char *reg_status;   /* "applied", "not applied", "disabled" */
  sd_shift global;          /* central chip, first measurement */
  sd_shift global_residual; /* central chip after the global shift was applied */
  double global_dx, global_dy;
  int global_used, reg_chip_w, reg_chip_h, reg_rounds;
  sd_tp_layout layout;
  sd_tiepoint *tp;
  int ntp;
  sd_fit fit;
  sd_model model;                  /* applied to the after image */
  double dx, dy;                   /* applied displacement at the grid centre */
  double dx_range[2], dy_range[2]; /* over the grid's corners */
  int registered;
  double tp_seconds;
  /* radiometry */
  sd_radiometry radio;  /* on the bands (objects, overlay) */
  sd_radiometry fradio; /* on the metric's features (the kernel); = radio for cva */
  sd_band_roles roles;
  int nfeat, feat_halo;
  sd_metric metric;
  /* detection */
  sd_threshold thr;
  sd_preset preset;
  int tol_radius;
  int64_t min_area_px, filled_px, max_hole_px;
  int64_t valid_px, changed_px;
  sd_object *objs;
  int nobjs;
  sd_stage_times t;
  char warnings[SD_MAX_WARNINGS][256];
  int nwarn;
} sd_run;

void sd_run_warn(sd_run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sd_run_progress(const sd_run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Reads the window at (x0, y0) (size from the planes) of both images, blanking masked pixels. */
sd_status sd_read_pair(const sd_run *run, sd_reader *rb, sd_reader *ra, int x0, int y0, sd_planes *pb, sd_planes *pa,
                       sd_error *err);
/* Threshold, opening, closing and hole filling in windows of rows, labelling into runs across
 * the windows, objects under the minimum area dropped: runs numbered 1..run->nobjs. The
 * magnitude comes from mem when given, else from the GeoTIFF at mag_path. */
sd_status sd_stage_detect(sd_run *run, const float *mem, const char *mag_path, sd_runs *runs, sd_error *err);
/* The magnitude's second pass (per-run stats, the mask written to mask_tif), then objects
 * measured, classified and grouped: run->objs, and runs renumbered to the objects' ids. */
sd_status sd_stage_measure(sd_run *run, const float *mem, const char *mag_path, sd_runs *runs, sd_gtiff *mask_tif,
                           sd_error *err);
/* Sign (new/removed/altered), contrasts, signed change and score of every object. */
sd_status sd_stage_describe(sd_run *run, sd_reader *rb, sd_reader *ra, const sd_runs *runs, sd_error *err);
/* Global shift, tie points, robust fit, quality gate; leaves the model set on the after reader. */
sd_status sd_stage_register(sd_run *run, sd_reader *ra, sd_error *err);
sd_status sd_report_write(const sd_run *run, const char *path, sd_error *err);

#endif
