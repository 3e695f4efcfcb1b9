/* e2e_util.h: helpers shared by the end-to-end test programs. */
#ifndef SD_E2E_UTIL_H
#define SD_E2E_UTIL_H

#include <stdlib.h>
#include <string.h>

#include <gdal.h>

#include "sitediff/sitediff.h"

/* Default compare options for a test run (quiet). */
static inline void e2e_options(sd_compare_options *o, const char *before, const char *after, const char *out) {
  sd_compare_options_init(o);
  o->before = before;
  o->after = after;
  o->outdir = out;
  o->quiet = 1;
}

/* A scene of the default generator in dir with the given seed, size, texture and noise; the rest
 * of so as sd_synth_options_init leaves it unless tweak (may be NULL) changes it. */
static inline sd_status e2e_synth(const char *dir, uint64_t seed, int size, double texture, double noise,
                                  void (*tweak)(sd_synth_options *), sd_synth_options *so, sd_error *err) {
  sd_synth_options_init(so);
  so->outdir = dir;
  so->seed = seed;
  so->size = size;
  so->texture = texture;
  so->noise = noise;
  if (tweak) tweak(so);
  return sd_synth(so, err);
}

/* Band 1 of a raster as floats, with its size, geotransform and (optionally) CRS WKT. */
static inline float *read_band(const char *path, int *w, int *h, double gt[6], char **wkt) {
  GDALDatasetH ds = GDALOpen(path, GA_ReadOnly);
  if (!ds) return NULL;
  *w = GDALGetRasterXSize(ds);
  *h = GDALGetRasterYSize(ds);
  GDALGetGeoTransform(ds, gt);
  if (wkt) *wkt = strdup(GDALGetProjectionRef(ds));
  float *v = malloc(sizeof(float) * (size_t)*w * *h);
  if (GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Read, 0, 0, *w, *h, v, *w, *h, GDT_Float32, 0, 0) != CE_None) {
    free(v);
    v = NULL;
  }
  GDALClose(ds);
  return v;
}

#endif
