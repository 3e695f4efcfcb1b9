/* detect.h: threshold choice, binary morphology and connected-component labelling. */
#ifndef SD_DETECT_H
#define SD_DETECT_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

/* ---- threshold.c ---- */
enum { SD_HIST_BINS = 4096 };
/* Magnitudes are in no-change noise units; the histogram spans [0, SD_HIST_MAX], larger values
 * go in the last bin, NaN is skipped. */
#define SD_HIST_MAX 64.0
void sd_hist_build(const float *v, size_t n, int64_t *count /* SD_HIST_BINS */);
void sd_hist_add(const float *v, size_t n, int64_t *count); /* adds to the counts, block by block */
double sd_hist_bin_value(int bin);                          /* centre of a bin */

/* Otsu's threshold on a histogram of nbins over [lo, hi]: maximises between-class variance. */
double sd_otsu(const int64_t *count, int nbins, double lo, double hi);
/* Otsu over arbitrary bin values (e.g. logs): index of the last bin of the lower class. */
int sd_otsu_index(const int64_t *count, const double *value, int nbins);

typedef enum sd_thr_method {
  SD_THR_AUTO = 0, /* the rule in sd_threshold_choose */
  SD_THR_OTSU,     /* Otsu on the magnitude */
  SD_THR_OTSU_LOG, /* Otsu on log(magnitude + median) */
  SD_THR_KI,       /* Kittler-Illingworth minimum error, on log(magnitude + median) */
  SD_THR_KSIGMA,   /* median + k sigma of the no-change mode */
  SD_THR_FIXED,
} sd_thr_method;
const char *sd_thr_method_name(sd_thr_method m);

/* Per-sensor presets, chosen from the inputs' band count and type (never per scene). */
typedef enum sd_preset {
  SD_PRESET_DEFAULT = 0,
  SD_PRESET_RGB8, /* 3-band Byte consumer imagery (web-map tiles): dense change, compression residue */
} sd_preset;
const char *sd_preset_name(sd_preset p);

typedef struct sd_threshold {
  double value;
  double otsu, otsu_log, ki, ksigma; /* every candidate, from one histogram */
  double median, sigma, k;           /* the no-change mode: median, spread of its lower half */
  sd_thr_method method;
  char why[200];
} sd_threshold;

/* Kittler-Illingworth minimum-error threshold over bin values: index of the last bin of the
 * lower class (both classes must hold 0.1 % of the mass). */
int sd_ki_index(const int64_t *count, const double *value, int nbins);

/* Computes every candidate and picks one: the given method, or (auto) Otsu in the log kept at
 * or above the k-sigma floor so that scenes where change is rare do not split their noise; with
 * the rgb8 preset, Otsu in the log alone. */
void sd_threshold_choose(const int64_t *count, sd_thr_method method, double k, sd_preset preset, sd_threshold *t);

/* ---- morph.c: masks hold 0 (no change), 1 (change), 255 (nodata, kept as is) ---- */
void sd_morph_erode(uint8_t *mask, int w, int h, int r);
void sd_morph_dilate(uint8_t *mask, int w, int h, int r);
void sd_morph_open(uint8_t *mask, int w, int h, int r);
void sd_morph_close(uint8_t *mask, int w, int h, int r);

/* Fills holes: no-change regions enclosed by change (not touching the grid edge or nodata)
 * of at most max_px pixels become change. Returns the number of pixels filled. */
int64_t sd_fill_holes(uint8_t *mask, int w, int h, int64_t max_px);
int64_t sd_fill_holes_ref(uint8_t *mask, int w, int h, int64_t max_px); /* labels all background: the twin */

/* ---- label.c: 8-connected components of mask == 1, numbered 1..n in raster order of their
 * first pixel; returns n, or -1 when out of memory. ---- */
int sd_label(const uint8_t *mask, int w, int h, int32_t *labels);
/* Union-find with path halving; the smaller index becomes the root (raster order survives). */
int32_t sd_uf_find(int32_t *parent, int32_t a);
void sd_uf_union(int32_t *parent, int32_t a, int32_t b);
int sd_label_ref(const uint8_t *mask, int w, int h, int32_t *labels); /* flood fill twin */

/* ---- runs.c: the same components from a mask given block by block, held as runs ---- */
typedef struct sd_runs {
  int width, height, row_cap;
  int64_t n, cap;
  int32_t *x0, *x1;   /* run i covers [x0, x1) of its row */
  int32_t *lab;       /* while adding: union-find parents; after sd_runs_finish: labels 1..count */
  int64_t *row_start; /* runs of row y: row_start[y] .. row_start[y + 1] - 1 */
  int32_t count;
} sd_runs;
void sd_runs_init(sd_runs *r, int width);
/* Appends `rows` full rows of a mask (1 = change) below those given so far; 0, or -1 when out of
 * memory (or past 2^31 runs). */
int sd_runs_add(sd_runs *r, const uint8_t *mask, int rows);
/* Numbers the components 1..n in raster order of their first pixel; returns n, or -1. */
int sd_runs_finish(sd_runs *r);
/* The label image of rows y0 .. y0 + rows - 1, as sd_label gives it. */
void sd_runs_paint(const sd_runs *r, int y0, int rows, int32_t *labels);
/* The window [x0, x0 + w) x [y0, y0 + h) of that image. */
void sd_runs_paint_window(const sd_runs *r, int x0, int y0, int w, int h, int32_t *labels);
/* The label of pixel (x, y), 0 off the runs. */
int32_t sd_runs_label_at(const sd_runs *r, int x, int y);
/* Renumbers: lab = map[lab] (map[0] = 0; a label mapped to 0 leaves the image); count labels remain. */
void sd_runs_relabel(sd_runs *r, const int32_t *map, int32_t count);
/* Drops components smaller than min_px (their runs get label 0) and renumbers the rest in the
 * same order, as sd_label_filter_area does to a label image; kept_px receives the pixels kept.
 * Returns the new count, or -1 when out of memory. */
int sd_runs_filter_area(sd_runs *r, int64_t min_px, int64_t *kept_px);
/* Sets the pixels of rows y0 .. y0 + rows - 1 (W bytes a row in mask) that lie on labelled runs
 * to 1; the rest is left as it is. */
void sd_runs_mark(const sd_runs *r, int y0, int rows, uint8_t *mask);
/* The largest label in each f x f box, into olab (ow boxes a row, zeroed by the caller). */
void sd_runs_boxes(const sd_runs *r, int f, int ow, int32_t *olab);
/* Run indices grouped by label, each group in raster order: label l's runs are
 * order[start[l] .. start[l + 1] - 1]. Returns order (free both), or NULL when out of memory. */
int64_t *sd_runs_by_label(const sd_runs *r, int64_t **start);
/* The first run of row y that ends after x. */
int64_t sd_runs_first_after(const sd_runs *r, int y, int x);
/* The row that run i lies on. */
int sd_runs_row_of(const sd_runs *r, int64_t i);
void sd_runs_free(sd_runs *r);

/* Drops components smaller than min_px (mask and labels), renumbers the rest in the same
 * order; returns the new count. */
int sd_label_filter_area(uint8_t *mask, int32_t *labels, int w, int h, int n, int64_t min_px);

#endif
