/* test_tiffdirect.c: the direct libtiff decoder gives exactly what GDAL's RasterIO gives, for
 * every sample type it takes, pixel- and band-interleaved tiles, DEFLATE with predictors, odd
 * image sizes, row windows that start and end inside tiles, 1 and 2 threads; striped TIFFs are
 * not taken; a truncated file is an error naming the file. */
#include <stdio.h>
#include <unistd.h>
#include <string.h>

#include <cpl_string.h>
#include <gdal.h>

#include "../check.h"
#include "core/core.h"
#include "io/io.h"

static void make(const char *path, GDALDataType t, const char *interleave, const char *predictor, int tiled) {
  const int w = 301, h = 203, nb = 3;
  char **co = NULL;
  co = CSLSetNameValue(co, "TILED", tiled ? "YES" : "NO");
  co = CSLSetNameValue(co, "BLOCKXSIZE", "64");
  co = CSLSetNameValue(co, "BLOCKYSIZE", "48");
  co = CSLSetNameValue(co, "COMPRESS", "DEFLATE");
  co = CSLSetNameValue(co, "PREDICTOR", predictor);
  co = CSLSetNameValue(co, "INTERLEAVE", interleave);
  GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path, w, h, nb, t, co);
  CSLDestroy(co);
  CHECK(ds != NULL, "create %s", path);
  if (!ds) return;
  sd_rng r = {(uint64_t)t * 31 + (uint64_t)tiled};
  double *v = malloc(sizeof(double) * w * h);
  for (int b = 1; b <= nb; b++) {
    for (int i = 0; i < w * h; i++) {
      double x = sd_rng_range(&r, 0, 250);
      v[i] = t == GDT_Int16 || t == GDT_Int32 ? x - 125
             : t >= GDT_Float32               ? x * 0.37 - 20
                                              : x * (t == GDT_Byte ? 1 : 97);
    }
    CHECK(GDALRasterIO(GDALGetRasterBand(ds, b), GF_Write, 0, 0, w, h, v, w, h, GDT_Float64, 0, 0) == CE_None, "write");
  }
  free(v);
  GDALClose(ds);
}

static void compare(const char *path, const char *what) {
  sd_tiff_layout l;
  CHECK(sd_tiff_direct_probe(path, &l), "%s: not taken by the direct path", what);
  if (!l.width) return;
  GDALDatasetH ds = GDALOpen(path, GA_ReadOnly);
  const int windows[][2] = {{0, 203}, {0, 48}, {17, 100}, {150, 53}, {202, 1}};
  for (int k = 0; k < 5; k++)
    for (int threads = 1; threads <= 2; threads++) {
      int y0 = windows[k][0], rows = windows[k][1];
      sd_planes d, g;
      sd_error err = {0};
      sd_planes_alloc(&d, 3, l.width, rows, &err);
      sd_planes_alloc(&g, 3, l.width, rows, &err);
      CHECK(sd_tiff_direct_read(path, &l, y0, &d, threads, &err) == SD_OK, "%s: %s", what, err.msg);
      int diff = 0;
      for (int b = 0; b < 3; b++) {
        CHECK(GDALRasterIO(GDALGetRasterBand(ds, b + 1), GF_Read, 0, y0, l.width, rows, g.band[b], l.width, rows,
                           GDT_Float32, 0, 0) == CE_None,
              "GDAL read");
        diff += memcmp(d.band[b], g.band[b], sizeof(float) * l.width * rows) != 0;
      }
      CHECK(diff == 0, "%s: rows %d+%d, %d threads: %d bands differ from GDAL", what, y0, rows, threads, diff);
      sd_planes_free(&d);
      sd_planes_free(&g);
    }
  GDALClose(ds);
}

int main(void) {
  GDALAllRegister();
  const struct {
    GDALDataType t;
    const char *pred, *name;
  } types[] = {{GDT_Byte, "2", "byte"},      {GDT_UInt16, "2", "uint16"}, {GDT_Int16, "2", "int16"},
               {GDT_UInt32, "1", "uint32"},  {GDT_Int32, "2", "int32"},   {GDT_Float32, "3", "float32"},
               {GDT_Float64, "1", "float64"}};
  char path[256], what[128];
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
    for (int band_il = 0; band_il <= 1; band_il++) {
      snprintf(path, sizeof path, "/tmp/sd_test_tiffdirect_%s_%d.tif", types[i].name, band_il);
      snprintf(what, sizeof what, "%s %s-interleaved", types[i].name, band_il ? "band" : "pixel");
      make(path, types[i].t, band_il ? "BAND" : "PIXEL", types[i].pred, 1);
      compare(path, what);
      remove(path);
    }
  /* Striped: not for the direct path. */
  snprintf(path, sizeof path, "/tmp/sd_test_tiffdirect_striped.tif");
  make(path, GDT_UInt16, "PIXEL", "1", 0);
  sd_tiff_layout l;
  CHECK(!sd_tiff_direct_probe(path, &l), "a striped TIFF was taken");
  remove(path);
  /* Truncated: the header and tile index survive, the tile data does not. */
  snprintf(path, sizeof path, "/tmp/sd_test_tiffdirect_cut.tif");
  make(path, GDT_UInt16, "PIXEL", "2", 1);
  CHECK(sd_tiff_direct_probe(path, &l), "probe before truncation");
  FILE *f = fopen(path, "r+b");
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fclose(f);
  CHECK(truncate(path, size / 2) == 0, "truncate");
  sd_planes d;
  sd_error err = {0};
  sd_planes_alloc(&d, 3, l.width, l.height, &err);
  CHECK(sd_tiff_direct_read(path, &l, 0, &d, 2, &err) == SD_ERR_INPUT, "a truncated file decoded");
  CHECK(strstr(err.msg, path) != NULL, "the message does not name the file: %s", err.msg);
  sd_planes_free(&d);
  remove(path);
  return check_done("test_tiffdirect");
}
