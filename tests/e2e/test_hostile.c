/* test_hostile.c: hostile pixel values: a Float32 pair whose after image holds a block of NaN
 * and scattered +-Inf runs to complete outputs, and those pixels are nodata (255) in the mask,
 * never change. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <gdal.h>

#include "../check.h"
#include "e2e_util.h"
#include "sitediff/sitediff.h"

/* Copies src as Float32; with poison, a NaN block at the top left and +-Inf every 97th pixel. */
static void to_float(const char *src, const char *dst, int poison) {
  GDALDatasetH in = GDALOpen(src, GA_ReadOnly);
  int w = GDALGetRasterXSize(in), h = GDALGetRasterYSize(in), nb = GDALGetRasterCount(in);
  GDALDatasetH out = GDALCreate(GDALGetDriverByName("GTiff"), dst, w, h, nb, GDT_Float32, NULL);
  double gt[6];
  GDALGetGeoTransform(in, gt);
  GDALSetGeoTransform(out, gt);
  GDALSetProjection(out, GDALGetProjectionRef(in));
  float *v = malloc(sizeof(float) * (size_t)w * h);
  for (int b = 1; b <= nb; b++) {
    CHECK(GDALRasterIO(GDALGetRasterBand(in, b), GF_Read, 0, 0, w, h, v, w, h, GDT_Float32, 0, 0) == CE_None, "read");
    if (poison)
      for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
          size_t i = (size_t)y * w + x;
          if (x < w / 4 && y < h / 4)
            v[i] = NAN;
          else if (i % 97 == 0)
            v[i] = (i / 97) % 2 ? INFINITY : -INFINITY;
        }
    CHECK(GDALRasterIO(GDALGetRasterBand(out, b), GF_Write, 0, 0, w, h, v, w, h, GDT_Float32, 0, 0) == CE_None,
          "write");
  }
  free(v);
  GDALClose(out);
  GDALClose(in);
}

int main(void) {
  GDALAllRegister();
  mkdir("hostile", 0777);
  sd_synth_options so;
  sd_synth_options_init(&so);
  so.outdir = "hostile/pair";
  so.size = 256;
  so.seed = 8;
  so.after_scale = 1.0;
  sd_error err = {0};
  CHECK(sd_synth(&so, &err) == SD_OK, "synth: %s", err.msg);
  to_float("hostile/pair/before.tif", "hostile/before_f32.tif", 0);
  to_float("hostile/pair/after.tif", "hostile/after_f32.tif", 1);
  sd_compare_options o;
  e2e_options(&o, "hostile/before_f32.tif", "hostile/after_f32.tif", "hostile/out");
  sd_compare_result res;
  CHECK(sd_compare(&o, &res, &err) == SD_OK, "NaN/Inf pair: %s", err.msg);
  int w = 0, h = 0;
  double gt[6];
  float *mask = read_band("hostile/out/change_mask.tif", &w, &h, gt, NULL);
  float *mag = read_band("hostile/out/change_magnitude.tif", &w, &h, gt, NULL);
  CHECK(mask && mag, "outputs unreadable");
  if (mask && mag) {
    /* The grid may be cropped; the NaN block covers at least its top-left 15 %. */
    int block = 0, block_nodata = 0, inf_marked = 0, bad = 0;
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) {
        size_t i = (size_t)y * w + x;
        if (x < w * 15 / 100 && y < h * 15 / 100) {
          block++;
          block_nodata += mask[i] == 255;
        }
        inf_marked += mask[i] == 255 && !(x < w / 4 && y < h / 4);
        bad += (mask[i] == 255) != isnan(mag[i]) || isinf(mag[i]);
      }
    CHECK(block_nodata == block, "%d of %d NaN-block pixels are not nodata", block - block_nodata, block);
    CHECK(inf_marked > w * h / 200, "only %d Inf pixels marked nodata", inf_marked);
    CHECK(bad == 0, "%d pixels: mask nodata and NaN magnitude disagree, or Inf magnitude", bad);
    CHECK(res.n_objects >= 5, "the change away from the poison was lost (%d objects)", res.n_objects);
  }
  free(mask);
  free(mag);
  return check_done("test_hostile");
}
