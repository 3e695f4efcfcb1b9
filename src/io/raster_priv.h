/* raster_priv.h: the opened input, shared by raster.c, grid.c and reader.c only. */
#ifndef SD_RASTER_PRIV_H
#define SD_RASTER_PRIV_H

#include <gdal.h>

#include "io/io.h"

struct sd_raster {
  GDALDatasetH ds;
  sd_raster_info info;
  char *wkt;                    /* CRS as WKT, NULL if none */
  int band_index[SD_MAX_BANDS]; /* 1-based GDAL band numbers of the data bands */
  int alpha_band;               /* 1-based, 0 if none */
  int has_gt;
};

#endif
