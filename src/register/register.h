/* register.h: global sub-pixel translation between two chips by phase correlation. */
#ifndef SD_REGISTER_H
#define SD_REGISTER_H

#include "core/core.h"
#include "core/model.h"

typedef struct sd_shift {
  double dx, dy;     /* a feature at (x, y) in `ref` sits at (x + dx, y + dy) in `mov` */
  double peak;       /* height of the correlation peak, ~1 for identical content */
  double peak_ratio; /* peak / highest value away from the peak */
  double valid_fraction;
} sd_shift;

/* ref and mov are w x h single-band chips (NaN = nodata). Sub-pixel refinement by an
 * upsampled DFT around the integer peak, to 0.001 px. */
sd_status sd_phasecorr(const float *ref, const float *mov, int w, int h, int threads, sd_shift *out, sd_error *err);

/* The noise of a chip (w x h, NaN = nodata), in its units: the spread of horizontal neighbour
 * differences, robustly (noise dominates them on fine scales; texture can only make this an
 * overestimate); 0 when too few pixels are valid. tmp holds w * h / 4 floats. */
double sd_chip_noise(const float *v, int w, int h, float *tmp);

/* Phase correlation of many chips of one size: FFTW plans made once (with `threads` FFTW
 * threads), sd_correlate may then run concurrently from several threads. */
typedef struct sd_correlator sd_correlator;
sd_correlator *sd_correlator_create(int w, int h, int threads);
void sd_correlator_free(sd_correlator *c);
void sd_correlator_size(const sd_correlator *c, int *w, int *h);
sd_status sd_correlate(const sd_correlator *c, const float *ref, const float *mov, sd_shift *out, sd_error *err);

/* ---- pyramid (pyramid.c) ---- */

/* A whole grid's coarser levels: img[L] ((width >> L) x (height >> L)) holds the means of the
 * 2^L x 2^L blocks of the grid, so a window of side s at level L whose top-left (x, y) is a
 * multiple of 2^L is cropped from it at (x >> L, y >> L), the chip a binned read of that window
 * gives. Level 0 is not held; the caller fills level 1, sd_pyramid_build_up the rest from it. */
enum { SD_PYRAMID_LEVELS = 3 };
typedef struct sd_pyramid {
  int levels, w[SD_PYRAMID_LEVELS], h[SD_PYRAMID_LEVELS];
  float *img[SD_PYRAMID_LEVELS];
} sd_pyramid;
size_t sd_pyramid_bytes(int width, int height, int levels);
int sd_pyramid_init(sd_pyramid *p, int width, int height, int levels); /* 0: out of memory */
void sd_pyramid_free(sd_pyramid *p);
void sd_pyramid_build_up(sd_pyramid *p);
void sd_pyramid_crop(const sd_pyramid *p, int level, int x, int y, int side, float *out);

/* ---- tie points (tiepoints.c) ---- */
typedef enum sd_tp_status {
  SD_TP_KEPT,        /* used by the fitted model */
  SD_TP_OUTLIER,     /* reliable, but rejected by the robust fit */
  SD_TP_UNRELIABLE,  /* weak correlation peak */
  SD_TP_NODATA,      /* under 90 % valid in either image */
  SD_TP_MASKED,      /* over 10 % under --mask-before/--mask-after */
  SD_TP_FEATURELESS, /* too little texture above the noise along one axis at least */
  SD_TP_DUPLICATE,   /* its coarser window is (nearly) one an earlier window measured: not counted twice */
  SD_TP_STATUS_COUNT
} sd_tp_status;
const char *sd_tp_status_name(sd_tp_status s);

typedef struct sd_tiepoint {
  double x, y;   /* window centre, grid pixels */
  double dx, dy; /* displacement there (model already applied + measured residual) */
  double rx, ry; /* the measured residual alone */
  double peak, peak_ratio;
  double ncc_before, ncc_after; /* similarity of the windows before and after the residual */
  double valid_fraction;
  double texture;      /* matchability: the weaker gradient axis's energy over the noise's, minus 1 */
  int level;           /* measured on the window 2^level times larger, binned by 2^level */
  int gradient;        /* matched on the gradient magnitude: the bands gave no clear peak */
  double fit_residual; /* |measured - fitted| displacement, px */
  sd_tp_status status;
} sd_tiepoint;

typedef struct sd_tp_layout {
  int win, spacing, nx, ny, x0, y0; /* window (i, j) has its top-left at (x0 + i*spacing, y0 + j*spacing) */
} sd_tp_layout;

/* Window size and spacing: given ones (> 0) or adapted to the grid (64..256 px windows, at most
 * 8 x 8 of them). Returns 0 if not even one window fits. */
int sd_tp_layout_make(int width, int height, int win, int spacing, sd_tp_layout *l);

/* One window measured in two halves, so the after chip need not be read where the before chip
 * already rules the window out: sd_tp_screen judges ref (w x h; masked: the fraction
 * under the masks) and returns 1 if it is worth matching (else sets the status; tmp holds w * h / 4
 * floats, NULL: no texture check); sd_tp_match then matches mov against it. */
int sd_tp_screen(const float *ref, int w, int h, double masked, float *tmp, sd_tiepoint *t);
/* scratch: NULL to match the bands; else 2 * w * h floats for the two chips' gradient magnitude,
 * matched instead (for where the bands gave no clear peak at any level). */
void sd_tp_match(const sd_correlator *c, const float *ref, const float *mov, float *scratch, sd_tiepoint *t);
/* out (w x h) = the gradient magnitude of in, central differences over 3 rows or columns; NaN on
 * the border and next to nodata. */
void sd_gradient_magnitude(const float *in, int w, int h, float *out);

/* ---- robust model fit and quality grade (fit.c) ---- */
typedef enum sd_grade { SD_GRADE_OK, SD_GRADE_WARN, SD_GRADE_FAIL } sd_grade;
const char *sd_grade_name(sd_grade g);

typedef struct sd_fit {
  sd_model model;
  sd_model_kind forced; /* SD_MODEL_NONE: chosen by the rule */
  int reliable, inliers;
  double rmse;               /* of the inliers against the model, px */
  double rmse_by_kind[4];    /* translation, affine, poly2 on the same inliers (NaN if not fitted) */
  double spread_x, spread_y; /* standard deviation of inlier positions / grid size */
  sd_grade grade;
  char why_model[160];
  char reasons[6][256];
  int nreasons;
} sd_fit;

/* RANSAC (translation or affine hypotheses, inliers within band px), a least-squares refit on
 * the inliers, the model rule and the grade. Sets status and fit_residual of every point. With an
 * affine base (the global rotation) the points are fitted as corrections to it, so the rule's
 * translation is the base moved, and the model is the base plus the correction; NULL or a
 * translation: the points as they are. */
void sd_fit_robust(sd_tiepoint *tp, int n, int width, int height, sd_model_kind forced, double band,
                   const sd_model *base, sd_fit *fit);

#endif
