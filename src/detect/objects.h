/* objects.h: change objects (connected components) with shape attributes and a class. */
#ifndef SD_OBJECTS_H
#define SD_OBJECTS_H

#include <stdint.h>

#include "core/core.h"
#include "detect/detect.h"
#include "sitediff/options.h"

typedef struct sd_object {
  int id; /* label value in the label image, 1..n */
  int64_t area_px;
  double area_m2;
  int x0, y0, x1, y1; /* bounding box, grid pixels, inclusive */
  double cx, cy;      /* centroid, grid pixel coordinates (pixel centres at +0.5) */
  double lon, lat;    /* centroid in WGS84, NaN when not georeferenced */
  double mean_mag, max_mag;
  double elongation;        /* sqrt of the ratio of the inertia eigenvalues, >= 1 */
  double orientation_deg;   /* major axis, degrees clockwise from grid north, [0, 180) */
  double length_m, width_m; /* extent along and across the major axis */
  double rectangularity;    /* area / (length * width), 0..1 */
  double thickness_m;       /* widest inscribed width (distance transform) */
  double thinness;          /* area / thickness^2 in pixels: ~length/width, also for bent shapes */
  int64_t perimeter_px;
  int truncated;                   /* touches the grid edge or nodata */
  int parts;                       /* separate blobs grouped into this object (equipment clusters) */
  double mean_signed;              /* mean over the object of the signed change, noise units (+ brighter) */
  double max_signed;               /* the signed change of largest size over the object */
  float band_change[SD_MAX_BANDS]; /* per band: mean signed change, noise units (+ brighter) */
  int nbands;
  double contrast_before, contrast_after; /* object against its surroundings, noise units */
  int sign;                               /* SD_SIGN_* */
  double score;                           /* 0..1: the evidence of change, sd_object_score */
  int rank;                               /* 1 = the highest score (ties: the lower id) */
  int cls;                                /* SD_CLASS_* */
  int aoi;                                /* --aoi: 1 + the area the object is in; 0 without --aoi */
} sd_object;

/* Pixel geometry for turning pixel counts into ground units. */
typedef struct sd_pixel_geom {
  double w_m, h_m;
} sd_pixel_geom;

/* Measures every component of labels (values 1..nlabels) into objs[0..nlabels-1]. */
void sd_objects_measure(const int32_t *labels, const uint8_t *mask, const float *mag, int width, int height,
                        int nlabels, sd_pixel_geom px, sd_object *objs);

/* What each run holds of the magnitude, gathered while the magnitude streams by: the sum and
 * the largest of its finite values, and whether the run touches the grid edge or nodata
 * (4-neighbours), so objects can be measured from the runs alone. */
typedef struct sd_run_stats {
  double *sum;
  float *max;
  uint8_t *edge;
} sd_run_stats;
int sd_run_stats_alloc(sd_run_stats *st, int64_t nruns); /* 0, or -1 when out of memory */
void sd_run_stats_free(sd_run_stats *st);
/* The stats of the runs of rows y0 .. y0 + rows - 1, from the magnitude rows wy0 .. wy0 + wrows - 1
 * (which cover y0 - 1 .. y0 + rows where the grid has those rows). */
void sd_run_stats_rows(const sd_runs *r, const float *mag, int wy0, int wrows, int y0, int rows, sd_run_stats *st);

/* sd_objects_measure from runs (labels 1..n in r->lab) and their stats: the same measures with
 * memory in the runs and, for thickness, in one object's box at a time (beyond 64 MiB, in a
 * temporary file). Returns 0, or -1 when out of memory. */
int sd_objects_measure_runs(const sd_runs *r, const sd_run_stats *st, int n, sd_pixel_geom px, sd_object *objs);

/* Class guess from shape and size. */
void sd_objects_classify(sd_object *objs, int n, sd_pixel_geom px);

/* Groups small blobs (<= SD_SMALL_MAX_M2) whose centroids lie within gap_m of another into one
 * object: remap[old id] receives the new id (1..result, in raster order of each group's first
 * pixel; remap[0] = 0) and parts[new id - 1] the number of blobs. Returns the new count. */
enum { SD_SMALL_MAX_M2 = 32 };
int sd_objects_group_small(const sd_object *objs, int n, sd_pixel_geom px, double gap_m, int32_t *remap, int *parts);

enum { SD_SIGN_NEW = 0, SD_SIGN_REMOVED, SD_SIGN_ALTERED };
const char *sd_sign_name(int sign);

/* 0..1, rising with the evidence z = (mean magnitude / threshold) x sqrt(pixels), the object's
 * summed change against the threshold's: z / (z + z0), z0 that of an object of min_area_px pixels
 * whose mean lies at the threshold (it scores 0.5). A large change outranks a small one of the
 * same strength, a strong one a weak one of the same size; 0 when the mean is not positive, 1
 * when thr is not. */
double sd_object_score(double mean_mag, int64_t area_px, double thr, int64_t min_area_px);

#endif
