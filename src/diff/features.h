/* features.h: change metrics as per-image feature transforms. Each metric maps a block of
 * bands to feature planes; the robust fit and the (tolerant) change-vector kernel then run on
 * the features, so every metric gets radiometric matching, tolerance and thresholds alike. */
#ifndef SD_FEATURES_H
#define SD_FEATURES_H

#include "core/core.h"

typedef enum sd_metric {
  SD_METRIC_CVA = 0,  /* the bands: change-vector magnitude */
  SD_METRIC_LOGRATIO, /* log of the bands: differences are log ratios, blind to gain */
  SD_METRIC_ANGLE,    /* the unit spectral vector: differences measure the spectral angle */
  SD_METRIC_NDVI,     /* (nir - red) / (nir + red) */
  SD_METRIC_MBI,      /* building index (directional white top-hats) and shadow index (black) */
  SD_METRIC_STRUCT,   /* the bands plus the building and shadow indices */
  SD_METRIC_COUNT
} sd_metric;

const char *sd_metric_name(sd_metric m);
int sd_metric_parse(const char *name);

/* Band roles, 0-based indices into the compared bands or -1. */
typedef struct sd_band_roles {
  int blue, green, red, nir;
} sd_band_roles;

/* Feature planes a metric produces from nbands bands. */
int sd_metric_planes(sd_metric m, int nbands);
/* Rows of context the metric needs above and below a block (MBI's line openings). */
int sd_metric_halo(sd_metric m);

/* in: nbands planes of w x h (NaN = nodata); out: sd_metric_planes() planes of w x h. */
void sd_features(sd_metric m, const sd_band_roles *roles, const sd_planes *in, sd_planes *out);

#endif
