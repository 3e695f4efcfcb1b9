/* writer.c: GeoTIFF outputs on the grid (tiled, DEFLATE), with write errors caught at close. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>
#include <cpl_string.h>
#include <gdal.h>

#include "io/io.h"

struct sd_gtiff {
  GDALDatasetH ds;
  GDALDataType type;
  sd_gdal_capture cap;
  char path[4096];
};

static GDALDataType gdal_type(sd_pixel_type t) {
  switch (t) {
  case SD_PIX_U8: return GDT_Byte;
  case SD_PIX_F32: return GDT_Float32;
  case SD_PIX_I32: return GDT_Int32;
  case SD_PIX_U16: return GDT_UInt16;
  }
  return GDT_Byte;
}

/* The creation options of a codec, for the GTiff driver or (cog) the COG driver, which names the
 * level and the predictor otherwise. Measured on a 4096² magnitude (2 threads, README "Outputs"):
 * with the floating-point predictor DEFLATE level 1 writes in 0.48 s against 0.56 s at 3 and
 * 0.88 s at 6, for 47, 46 and 46 MiB of 60; ZSTD level 1 0.43 s, 46 MiB, but fewer readers open
 * it; LERC within 0.01 0.30 s, 13 MiB. Integer outputs (masks, the generator's images) compress
 * well: level 3. */
static char **codec_options(char **opts, sd_codec codec, int is_float, int cog) {
  if (codec == SD_CODEC_LERC && is_float) {
    char e[32];
    snprintf(e, sizeof e, "%g", SD_LERC_MAX_ERROR);
    opts = CSLSetNameValue(opts, "COMPRESS", "LERC");
    return CSLSetNameValue(opts, "MAX_Z_ERROR", e);
  }
  if (codec == SD_CODEC_RAW) return opts;
  opts = CSLSetNameValue(opts, "COMPRESS", "DEFLATE");
  opts = CSLSetNameValue(opts, cog ? "LEVEL" : "ZLEVEL", is_float ? "1" : "3");
  if (is_float) opts = CSLSetNameValue(opts, "PREDICTOR", cog ? "FLOATING_POINT" : "3");
  return opts;
}

sd_status sd_gtiff_create(const char *path, const sd_grid *grid, int nbands, sd_pixel_type type, int has_nodata,
                          double nodata, sd_gtiff **out, sd_error *err) {
  return sd_gtiff_create_codec(path, grid, nbands, type, has_nodata, nodata, SD_CODEC_DEFLATE, out, err);
}

sd_status sd_gtiff_create_codec(const char *path, const sd_grid *grid, int nbands, sd_pixel_type type, int has_nodata,
                                double nodata, sd_codec codec, sd_gtiff **out, sd_error *err) {
  *out = NULL;
  sd_gdal_init();
  sd_gtiff *t = calloc(1, sizeof *t);
  if (!t) return sd_error_set(err, SD_ERR_NOMEM, "writer: out of memory");
  snprintf(t->path, sizeof t->path, "%s", path);
  t->type = gdal_type(type);
  char **opts = NULL;
  opts = CSLSetNameValue(opts, "TILED", "YES");
  opts = codec_options(opts, codec, type == SD_PIX_F32, 0);
  opts = CSLSetNameValue(opts, "BIGTIFF", "IF_SAFER");
  opts = CSLSetNameValue(opts, "NUM_THREADS", "ALL_CPUS");
  sd_gdal_capture_begin(&t->cap);
  t->ds = GDALCreate(GDALGetDriverByName("GTiff"), path, grid->width, grid->height, nbands, t->type, opts);
  CSLDestroy(opts);
  if (!t->ds) {
    sd_gdal_capture_end(&t->cap);
    sd_status s = sd_gdal_error(err, SD_ERR_OUTPUT, &t->cap, "writer: %s: cannot create", path);
    free(t);
    return s;
  }
  GDALSetGeoTransform(t->ds, (double *)grid->gt);
  if (grid->wkt) GDALSetProjection(t->ds, grid->wkt);
  if (has_nodata)
    for (int b = 1; b <= nbands; b++)
      GDALSetRasterNoDataValue(GDALGetRasterBand(t->ds, b), nodata);
  sd_gdal_capture_end(&t->cap);
  *out = t;
  return SD_OK;
}

sd_status sd_gtiff_write(sd_gtiff *t, int band, int y0, int rows, const void *data, sd_error *err) {
  int w = GDALGetRasterXSize(t->ds);
  sd_gdal_capture cap;
  sd_gdal_capture_begin(&cap);
  CPLErr e =
      GDALRasterIO(GDALGetRasterBand(t->ds, band), GF_Write, 0, y0, w, rows, (void *)data, w, rows, t->type, 0, 0);
  sd_gdal_capture_end(&cap);
  if (e != CE_None || cap.failures)
    return sd_gdal_error(err, SD_ERR_OUTPUT, &cap, "writer: %s: writing rows %d..%d failed", t->path, y0, y0 + rows);
  return SD_OK;
}

sd_status sd_gtiff_close(sd_gtiff *t, sd_error *err) {
  if (!t) return SD_OK;
  sd_gdal_capture cap;
  sd_gdal_capture_begin(&cap);
  GDALFlushCache(t->ds);
  GDALClose(t->ds);
  sd_gdal_capture_end(&cap);
  sd_status s = SD_OK;
  if (cap.failures) s = sd_gdal_error(err, SD_ERR_OUTPUT, &cap, "writer: %s: writing the last tiles failed", t->path);
  free(t);
  return s;
}

static void set_colours(sd_gtiff *t, int alpha) {
  static const GDALColorInterp ci[4] = {GCI_RedBand, GCI_GreenBand, GCI_BlueBand, GCI_AlphaBand};
  sd_gdal_capture cap; /* only sets tags: what fails here fails again at close, which reports it */
  sd_gdal_capture_begin(&cap);
  for (int b = 0; b < 3 + alpha && b < GDALGetRasterCount(t->ds); b++)
    GDALSetRasterColorInterpretation(GDALGetRasterBand(t->ds, b + 1), ci[b]);
  sd_gdal_capture_end(&cap);
}

void sd_gtiff_set_rgb(sd_gtiff *t) { set_colours(t, 0); }

void sd_gtiff_set_rgba(sd_gtiff *t) { set_colours(t, 1); }

void sd_gtiff_set_nir(sd_gtiff *t, int band) {
  sd_gdal_capture cap; /* as set_colours */
  sd_gdal_capture_begin(&cap);
  GDALRasterBandH b = GDALGetRasterBand(t->ds, band + 1);
  GDALSetDescription(b, "nir");
#if GDAL_VERSION_NUM >= GDAL_COMPUTE_VERSION(3, 10, 0)
  GDALSetRasterColorInterpretation(b, GCI_NIRBand);
#endif
  sd_gdal_capture_end(&cap);
}

sd_status sd_gtiff_to_cog(const char *src, const char *dst, sd_codec codec, int categorical, sd_error *err) {
  sd_gdal_init();
  sd_gdal_capture cap;
  sd_gdal_capture_begin(&cap);
  GDALDatasetH in = GDALOpenEx(src, GDAL_OF_RASTER | GDAL_OF_VERBOSE_ERROR, NULL, NULL, NULL);
  int is_float = in && GDALGetRasterDataType(GDALGetRasterBand(in, 1)) == GDT_Float32;
  char **opts = CSLSetNameValue(NULL, "BLOCKSIZE", "512");
  opts = CSLSetNameValue(opts, "RESAMPLING", categorical ? "NEAREST" : "AVERAGE");
  opts = CSLSetNameValue(opts, "OVERVIEWS", "IGNORE_EXISTING");
  opts = CSLSetNameValue(opts, "BIGTIFF", "IF_SAFER");
  opts = CSLSetNameValue(opts, "NUM_THREADS", "ALL_CPUS");
  opts = codec_options(opts, codec, is_float, 1);
  GDALDatasetH out = in ? GDALCreateCopy(GDALGetDriverByName("COG"), dst, in, FALSE, opts, NULL, NULL) : NULL;
  CSLDestroy(opts);
  int failures = cap.failures;
  if (out) GDALClose(out);
  if (in) GDALClose(in);
  sd_status s = SD_OK;
  if (!out || cap.failures != failures)
    s = sd_gdal_error(err, SD_ERR_OUTPUT, &cap, "writer: %s: writing the Cloud Optimized GeoTIFF failed", dst);
  sd_gdal_capture_end(&cap);
  return s;
}
