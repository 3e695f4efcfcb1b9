/* options.h: option structs for the library entry points (compare, synth, score). */
#ifndef SITEDIFF_OPTIONS_H
#define SITEDIFF_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sd_grid_ref {
  SD_GRID_BEFORE = 0, /* before image's CRS, origin and pixel size (default) */
  SD_GRID_AFTER,      /* after image's CRS, origin and pixel size */
  SD_GRID_FINER,      /* before's CRS and origin, the finer of the two pixel sizes */
  SD_GRID_COARSER,    /* before's CRS and origin, the coarser of the two pixel sizes */
} sd_grid_ref;

typedef struct sd_compare_options {
  const char *before;
  const char *after;
  const char *outdir;
  sd_grid_ref grid;
  double resolution;       /* > 0: explicit pixel size in the grid CRS units; 0: from grid */
  int do_register;         /* fine registration by phase correlation (1) or not (0) */
  int tie_window;          /* tie-point window side, px; 0 = adapted to the grid */
  int tie_spacing;         /* tie-point spacing, px; 0 = adapted */
  int model;               /* 0 auto, 1 translation, 2 affine, 3 poly2 */
  int strict;              /* stop (exit 1) when registration grades "fail" */
  const char *mask_before; /* optional rasters, non-zero = cloud/masked: no tie points, no change */
  const char *mask_after;
  const char *date_before; /* optional dates of the two images (time series): every object then */
  const char *date_after;  /* records first_seen = date_after, absent_on = date_before */
  double threshold;        /* >= 0: fixed magnitude threshold; < 0: automatic */
  int threshold_method;    /* 0 auto, 1 otsu, 2 otsu-log, 3 ki (Kittler-Illingworth), 4 ksigma */
  double k_sigma;          /* the k of the k-sigma floor / method */
  int normalize;           /* 0 robust gain/offset on unchanged pixels, 1 per-image z-score (plain) */
  int tolerance;           /* misregistration tolerance radius, px; -1 = from the registration */
  int metric;              /* 0 cva, 1 logratio, 2 angle, 3 ndvi, 4 mbi */
  int focus;               /* 0 structures: change where both dates are vegetated is none; 1 all */
  int segments;            /* 0 auto: structure cues of SLIC segments decide on fine imagery; 1 off */
  int magnitude;           /* change_magnitude.tif: 0 float32 (lossless), 1 lerc (within 0.01), 2 none */
  const char *bands;       /* band roles in order, e.g. "blue,green,red,nir"; NULL = from the files */
  int open_radius;         /* morphological opening, square of side 2r+1; 0 = none */
  int close_radius;        /* morphological closing, idem */
  double min_area;         /* minimum object area, m² (px when not georeferenced) */
  int threads;             /* 0 = all cores */
  int block_rows;          /* rows per streamed block; 0 = automatic */
  double max_pixels;       /* refuse grids larger than this many pixels */
  double max_memory_gib;   /* refuse runs whose estimated memory passes this; 0 = 3/4 of the RAM */
  int low_memory;          /* never hold the whole magnitude in memory (read it back from its file) */
  int overlay_max;         /* longest side of overlay.png in pixels */
  int triptych;            /* overlay.png shows before | after | change */
  int quiet;               /* no progress lines on stderr */
  int vector_formats;      /* beside objects.geojson: 1 objects.gpkg, 2 objects.kml, 3 both */
  int cog;                 /* the rasters as Cloud Optimized GeoTIFFs with overviews */
  const char *aoi;         /* polygons (any vector file, any CRS): detection and outputs inside only */
} sd_compare_options;
#define SD_OBSERVED_SHARE 0.5 /* an --aoi area is observed when this share of it is valid in both dates */

void sd_compare_options_init(sd_compare_options *opts);
/* Every option that changes the outputs, as one canonical line (threads and quiet excluded):
 * recorded in report.json, compared by batch to decide whether a pair must be redone. */
void sd_compare_options_describe(const sd_compare_options *opts, char *buf, size_t len);

enum { SD_CLASS_TRENCH = 0, SD_CLASS_STRUCTURE, SD_CLASS_EQUIPMENT, SD_CLASS_AREA, SD_CLASS_ROAD, SD_CLASS_COUNT };
const char *sd_class_name(int cls);

typedef struct sd_compare_result {
  double dx, dy;   /* applied fine shift, target-grid pixels */
  double reg_peak; /* global phase-correlation peak height, 0..1 */
  int registered;  /* 1 when a fine registration model was applied */
  int reg_grade;   /* 0 ok, 1 warn, 2 fail */
  int reg_model;   /* 0 none, 1 translation, 2 affine, 3 poly2 */
  double reg_rmse; /* tie-point RMSE against the model, px */
  int tie_points, tie_kept;
  double threshold;  /* magnitude threshold used */
  int width, height; /* target grid */
  int64_t changed_px;
  int n_objects;
  int by_class[SD_CLASS_COUNT];
} sd_compare_result;

typedef struct sd_synth_options {
  const char *outdir;
  int size; /* before image is size x size pixels */
  uint64_t seed;
  double pixel_size;       /* before pixel size, metres */
  double after_scale;      /* after pixel size / before pixel size */
  double shift_x, shift_y; /* content shift of after, before-grid pixels */
  double rotate_deg;       /* content rotation of after about the scene centre, degrees */
  double scale_error;      /* content scale of after minus 1, e.g. 0.01 */
  double blur;             /* after's pixel footprint in pixels (1 = box of one pixel; 2 = blurrier) */
  double noise;            /* noise sigma, digital numbers (UInt16 scale) */
  int after_epsg;          /* 0: same CRS as before (UTM); e.g. 4326 */
  int bands;               /* 1..4: red, green, blue, nir */
  double texture;          /* 0 bare ground (constant + noise), 0.1 plain farmland, 0.5 mixed, 1 dense town */
  int series;              /* 0: a pair; N (4..100): N dated images of one site, with areas of interest and truth */
} sd_synth_options;

void sd_synth_options_init(sd_synth_options *opts);

/* Scores a change mask against a truth raster (object ids, 0 = no change). */
typedef struct sd_score {
  int64_t tp, fp, fn;
  double precision, recall, f1;
  int truth_objects, truth_found; /* truth object recall: >= half its pixels flagged */
  double object_recall;
  int pred_objects, pred_hit; /* 8-connected components of the mask; those touching truth */
  double object_precision;    /* pred_hit / pred_objects (1 when the mask is empty) */
} sd_score;

#ifdef __cplusplus
}
#endif
#endif
