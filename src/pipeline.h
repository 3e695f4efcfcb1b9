/* pipeline.h: the state of one compare run, shared by pipeline.c and report.c. */
#ifndef SD_PIPELINE_H
#define SD_PIPELINE_H

#include "detect/detect.h"
#include "diff/diff.h"
#include "io/io.h"
#include "radiometry/radiometry.h"
#include "register/register.h"

enum { SD_MAX_WARNINGS = 16 };

typedef struct sd_stage_times {
  double open, grid, registration, radiometry, diff, threshold, cleanup, objects, write, total;
} sd_stage_times;

typedef struct sd_run {
  const sd_compare_options *opts;
  sd_raster *before, *after;
  sd_grid grid;
  int nbands, threads, block_rows;
  /* registration */
  sd_shift shift; /* the last measurement (residual after the applied shift) */
  double dx, dy;  /* applied */
  double first_peak, first_ratio;
  int registered;
  const char *reg_status; /* "applied", "skipped", "unreliable", "disabled" */
  int reg_chip_w, reg_chip_h, reg_rounds;
  /* radiometry */
  sd_radiometry radio;
  /* detection */
  sd_threshold thr;
  int64_t min_area_px;
  int64_t valid_px, changed_px;
  sd_object *objs;
  int nobjs;
  sd_stage_times t;
  char warnings[SD_MAX_WARNINGS][256];
  int nwarn;
} sd_run;

void sd_run_warn(sd_run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
sd_status sd_report_write(const sd_run *run, const char *path, sd_error *err);

#endif
