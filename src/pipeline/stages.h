/* stages.h: the stages of one compare run, in the order compare.c calls them, each with the
 * struct it returns its result in. */
#ifndef SD_STAGES_H
#define SD_STAGES_H

#include "evidence/evidence.h"
#include "pipeline/run.h"
#include "render/render.h"

/* Opening the inputs: both rasters, bands compared, preset and metric. */
sd_status sd_stage_open(sd_run *run, sd_error *err);

/* How the grid is streamed, from the grid stage: block and window sizes within the memory budget. */
typedef struct sd_plan {
  int block_rows;      /* rows of both images a diff block reads */
  int detect_rows;     /* rows a detection window decides */
  int detect_halo;     /* rows it holds above and below them, so they come out as a whole-grid pass's */
  int mag_held;        /* the whole magnitude is held in memory (else read back from its file) */
  int64_t min_area_px; /* the minimum mapping unit */
  int64_t max_hole_px; /* holes up to this size are filled */
} sd_plan;

/* The common grid, band roles, the readers and masks on it, and the plan (refused when it would
 * need more memory than allowed). */
sd_status sd_stage_grid(sd_run *run, sd_plan *plan, sd_error *err);

/* A rotation about the grid centre, degrees, and a scale error (scale - 1). */
typedef struct sd_turn {
  double deg, scale_err;
} sd_turn;

typedef struct sd_registration {
  const char *status;          /* "applied", "not applied", "disabled" */
  int band;                    /* 0-based data band used for matching */
  sd_shift global;             /* central chip, first measurement */
  sd_shift global_residual;    /* central chip after the global shift was applied */
  double global_dx, global_dy; /* the global translation at the grid centre */
  sd_turn global_turn;         /* the rotation and scale found with it where the plain chip showed no clear peak */
  int global_gradient;         /* the global shift came from the chips' gradient magnitude */
  int global_used, global_level, chip_w, chip_h, rounds;
  sd_tp_layout layout;
  sd_tiepoint *tp;
  int ntp;
  sd_fit fit;
  sd_model model;                  /* applied to the after image */
  double dx, dy;                   /* applied displacement at the grid centre */
  double dx_range[2], dy_range[2]; /* over the grid's corners */
  int registered;
  double global_seconds, tp_seconds;
  int tp_passes;  /* 1 to 3: measured again with the model of the pass before applied */
  int tp_pyramid; /* the last pass cut its coarser windows from whole-grid pyramids */
} sd_registration;

/* Global shift, tie points, robust fit, quality gate; leaves the model set on the run's after reader. */
sd_status sd_stage_register(sd_run *run, sd_registration *reg, sd_error *err);
/* The tie points of the registration stage (stage_tiepoints.c): every lattice window measured
 * with `applied` folded into the after reader ra; a point's displacement is applied(p) + residual. */
sd_status sd_stage_tiepoints(const sd_run *run, sd_registration *reg, sd_reader *rb, sd_reader *ra,
                             const sd_model *applied, sd_error *err);
void sd_registration_free(sd_registration *reg);

typedef struct sd_normalisation {
  sd_radiometry radio;  /* on the bands (objects, overlay) */
  sd_radiometry fradio; /* on the metric's features (the kernel); = radio for cva */
  int nfeat, feat_halo;
  float lo[3], hi[3], lo_before[3], hi_before[3]; /* display stretch of after and before */
} sd_normalisation;

/* Radiometric fit of after to before (bands and the metric's features) and the display stretch,
 * from a spread sample of the grid. */
sd_status sd_stage_radiometry(sd_run *run, sd_normalisation *norm, sd_error *err);

typedef struct sd_difference {
  float *mag;     /* the whole magnitude when the plan holds it, else NULL */
  int64_t *hist;  /* its histogram (SD_HIST_BINS) */
  int tol_radius; /* tolerance to misregistration used, px */
  /* seconds: reading the before image (decoding), the after image (decoding and warping), the
   * kernel (with the histogram), writing the magnitude (encoding) */
  double read_before, read_after, kernel, write_magnitude;
  sd_veg_index veg_index; /* the structure focus's vegetation index, or none */
  int64_t veg_marked_px;  /* pixels vegetated in both dates, their magnitude made negative */
  /* --aoi: per area id (0 = outside all), its grid pixels and those valid in both dates */
  int64_t aoi_px[SD_AOI_MAX + 1], aoi_valid[SD_AOI_MAX + 1];
} sd_difference;

/* Streams the grid in blocks: the magnitude to mag_path (and held when the plan says so), its
 * histogram, and the overlay fed. */
sd_status sd_stage_diff(sd_run *run, const sd_plan *plan, const sd_registration *reg, const sd_normalisation *norm,
                        const char *mag_path, sd_overlay *ov, sd_difference *diff, sd_error *err);
/* The magnitude held in memory is freed once the objects are measured; the rest stays for the report. */
void sd_difference_drop_magnitude(sd_difference *diff);
void sd_difference_free(sd_difference *diff);

typedef struct sd_detection {
  sd_threshold thr;
  int64_t valid_px, changed_px, filled_px;
  sd_runs runs; /* the change as runs, numbered 1..nobjs */
  int nobjs;
} sd_detection;

/* The threshold from the magnitude's histogram (or as given). */
sd_status sd_stage_threshold(sd_run *run, const sd_difference *diff, sd_detection *det, sd_error *err);
/* Threshold, opening, closing and hole filling in windows of rows, labelling into runs across the
 * windows, objects under the minimum area dropped. The magnitude comes from diff->mag when held,
 * else from the GeoTIFF at mag_path. */
sd_status sd_stage_detect(sd_run *run, const sd_plan *plan, const sd_difference *diff, const char *mag_path,
                          sd_detection *det, sd_error *err);
void sd_detection_free(sd_detection *det);

/* The structure focus's segments (stage_segments.c): whether they ran, and what they decided. */
typedef struct sd_segmentation {
  int applied;
  char why[160];
  int region_px, tile_px;
  double level; /* a candidate segment's score must pass this */
  int64_t tiles, ref_segments, candidate_segments, kept_segments, dropped_px, added_px;
  double seconds;
} sd_segmentation;

/* On web-map RGB at 2.5 m or finer with the structure focus: change decided per SLIC segment,
 * from its magnitude (diff's, or read back from mag_path) weighed by its structure prior; the
 * kept segments changed as a whole, the rest cleared, labelled and filtered by area again.
 * Elsewhere it records why it did not run. */
sd_status sd_stage_segments(sd_run *run, const sd_plan *plan, const sd_registration *reg, const sd_normalisation *norm,
                            const sd_difference *diff, const char *mag_path, sd_detection *det, sd_segmentation *sg,
                            sd_error *err);

typedef struct sd_objects {
  sd_object *objs;
  int n;
} sd_objects;

/* The magnitude's second pass (per-run stats, the mask written to mask_path), then objects
 * measured, classified and grouped; the runs renumbered to the objects' ids. */
sd_status sd_stage_measure(sd_run *run, const sd_plan *plan, const sd_difference *diff, const char *mag_path,
                           const char *mask_path, sd_detection *det, sd_objects *objs, sd_error *err);
/* Sign (new/removed/altered), contrasts, signed change, score, rank and lon/lat of every object. */
sd_status sd_stage_describe(sd_run *run, const sd_registration *reg, const sd_normalisation *norm,
                            const sd_detection *det, int64_t min_area_px, sd_objects *objs, sd_error *err);
void sd_objects_free(sd_objects *objs);

/* Seconds per stage, for the report. */
typedef struct sd_stage_times {
  double open, grid, registration, radiometry, diff, threshold, cleanup, segments, objects, write, total;
} sd_stage_times;

/* Every stage's result, as report.json reads them. */
typedef struct sd_stages {
  sd_plan plan;
  sd_registration reg;
  sd_normalisation norm;
  sd_difference diff;
  sd_detection det;
  sd_segmentation seg;
  sd_objects objs;
  sd_overlay_labels labels;           /* the overlay's rank numbers */
  const char *outputs[SD_OUTSET_MAX]; /* the files of the set, report.json last */
  int noutputs;
  sd_stage_times t;
} sd_stages;

sd_status sd_report_write(const sd_run *run, const sd_stages *st, const char *path, sd_error *err);

/* Leaflet's CSS and script for report.html (stage_page.c), from SITEDIFF_LEAFLET_DIR or the
 * build's leaflet_dir (Debian's libjs-leaflet), source-map comments dropped; the caller frees both. */
sd_status sd_page_leaflet(char **css, char **js, sd_error *err);
/* report.html (stage_page.c): the overview of both dates (the overlay's previews) under a swipe,
 * the change layer from olab (the overlay's object boxes), the best-ranked 1,000 objects listed
 * and the best 100 with before and after chips read at full resolution; Leaflet inline. */
sd_status sd_stage_page(const sd_run *run, const sd_stages *st, const sd_overlay *ov, const int32_t *olab,
                        const char *leaflet_css, const char *leaflet_js, const char *path, sd_error *err);

/* Checks the options a run cannot start without (usage errors). */
sd_status sd_compare_options_check(const sd_compare_options *o, sd_error *err);

#endif
