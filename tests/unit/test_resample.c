/* test_resample.c: the affine cubic kernel against its twins. Against the plain twin
 * (sd_resample_cubic_ref) on seeded random maps (scale 0.75-1.03 source pixels per output pixel,
 * rotation up to 2 degrees), odd sizes, 1-4 bands, nodata holes and the image's edges, at 1 and 3
 * threads: the same footprint, values within float rounding, and 1 and 3 threads bit for bit.
 * Against GDAL's warper through the reader (SITEDIFF_WARP=gdal) on GeoTIFF pairs with another
 * pixel size and origin, a nodata value, and translation or affine models: the same footprint and
 * the same values to float rounding (the warper's approximate transform is exact on an affine
 * map, so nothing else separates them); and the warper kept where the after image is finer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gdal.h>

#include "../check.h"
#include "diff/resample.h"
#include "io/io.h"

static float field(double x, double y, sd_rng *rng) {
  return (float)(1000 + 300 * sin(x / 7.0) * cos(y / 9.0) + 80 * sin((x + 2 * y) / 3.1) + sd_rng_normal(rng) * 5);
}

static void twin_cases(void) {
  sd_rng rng = {11};
  for (int c = 0; c < 40; c++) {
    int SW = 20 + (int)(sd_rng_uniform(&rng) * 90), SH = 20 + (int)(sd_rng_uniform(&rng) * 90);
    int nb = 1 + (int)(sd_rng_uniform(&rng) * 4), w = 1 + (int)(sd_rng_uniform(&rng) * 97),
        h = 1 + (int)(sd_rng_uniform(&rng) * 61);
    double sc = sd_rng_range(&rng, 0.75, 1.03), rot = c % 2 ? sd_rng_range(&rng, -2, 2) * M_PI / 180 : 0;
    sd_affine m = {{sd_rng_range(&rng, -10, 20), sc * cos(rot), -sc * sin(rot), sd_rng_range(&rng, -10, 20),
                    sc * sin(rot), sc * cos(rot)}};
    int x0, y0, x1, y1;
    sd_resample_window(&m, w, h, SW, SH, &x0, &y0, &x1, &y1);
    int sw = x1 - x0 > 0 ? x1 - x0 : 1, sh = y1 - y0 > 0 ? y1 - y0 : 1;
    float *band[4], *out[4], *ref[4], *out3[4];
    for (int b = 0; b < nb; b++) {
      band[b] = malloc(sizeof(float) * sw * sh);
      out[b] = malloc(sizeof(float) * w * h);
      ref[b] = malloc(sizeof(float) * w * h);
      out3[b] = malloc(sizeof(float) * w * h);
    }
    for (int y = 0; y < sh; y++)
      for (int x = 0; x < sw; x++) {
        double gx = x0 + x, gy = y0 + y;
        int hole = hypot(gx - SW * 0.3, gy - SH * 0.6) < 4 || (c % 5 == 0 && (x * 7 + y * 3) % 23 == 0);
        for (int b = 0; b < nb; b++)
          band[b][(size_t)y * sw + x] = hole ? NAN : field(gx + b, gy, &rng);
      }
    sd_src_window s = {(const float *const *)band, nb, sw, sh, x0, y0, SW, SH};
    if (x1 <= x0) s.sw = s.sh = 0;
    sd_resample_cubic_ref(&m, &s, ref, w, h);
    sd_resample_cubic(&m, &s, out, w, h, 1);
    sd_resample_cubic(&m, &s, out3, w, h, 3);
    int foot = 0, far = 0, diff3 = 0, valid = 0;
    double worst = 0;
    for (int b = 0; b < nb; b++)
      for (int i = 0; i < w * h; i++) {
        foot += isnan(out[b][i]) != isnan(ref[b][i]);
        diff3 += memcmp(&out[b][i], &out3[b][i], sizeof(float)) != 0;
        if (isnan(ref[b][i]) || isnan(out[b][i])) continue;
        valid++;
        double d = fabs(out[b][i] - ref[b][i]);
        worst = fmax(worst, d);
        far += d > 2e-3 * fabs(ref[b][i]) + 1e-3;
      }
    CHECK(foot == 0, "case %d (%dx%d from %dx%d, %d bands): %d footprint differences", c, w, h, SW, SH, nb, foot);
    CHECK(far == 0, "case %d: %d values off the plain twin (worst %.4g)", c, far, worst);
    CHECK(diff3 == 0, "case %d: 1 and 3 threads differ in %d values", c, diff3);
    CHECK(c % 3 || valid > 0 || x1 <= x0, "case %d: nothing valid", c);
    for (int b = 0; b < nb; b++) {
      free(band[b]);
      free(out[b]);
      free(ref[b]);
      free(out3[b]);
    }
  }
}

/* A GeoTIFF of w x h, nb bands, pixel size px, origin (ox, oy) in UTM 36N, nodata 0 in a disk. */
static void write_tif(const char *path, int w, int h, int nb, double px, double ox, double oy, uint64_t seed) {
  GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path, w, h, nb, GDT_Float32, NULL);
  double gt[6] = {ox, px, 0, oy, 0, -px};
  GDALSetGeoTransform(ds, gt);
  GDALSetProjection(ds, "EPSG:32636");
  sd_rng rng = {seed};
  float *row = malloc(sizeof(float) * w);
  for (int b = 0; b < nb; b++) {
    GDALRasterBandH band = GDALGetRasterBand(ds, b + 1);
    GDALSetRasterNoDataValue(band, 0);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        double gx = ox + (x + 0.5) * px, gy = oy - (y + 0.5) * px; /* metres: the same ground either side */
        row[x] = hypot(gx - 500060, gy - 4000060) < 6 ? 0 : field(gx - 500000 + b, 4000000 - gy, &rng);
      }
      if (GDALRasterIO(band, GF_Write, 0, y, w, 1, row, w, 1, GDT_Float32, 0, 0) != CE_None) abort();
    }
  }
  free(row);
  GDALClose(ds);
}

static float *read_all(sd_raster *r, const sd_grid *g, int nb, const sd_model *m, const char **how) {
  sd_error err = {0};
  sd_reader *rd = NULL;
  sd_planes p;
  float *out = NULL;
  if (sd_reader_create(r, g, nb, 1, &rd, &err) || sd_planes_alloc(&p, nb, g->width, g->height, &err)) {
    CHECK(0, "reader: %s", err.msg);
    sd_reader_free(rd);
    return NULL;
  }
  sd_reader_set_model(rd, m);
  *how = sd_reader_resampling(rd);
  if (sd_reader_read(rd, 0, 0, &p, &err)) {
    CHECK(0, "read: %s", err.msg);
  } else {
    out = malloc(sizeof(float) * g->width * g->height * nb);
    for (int b = 0; b < nb; b++)
      memcpy(out + (size_t)b * g->width * g->height, p.band[b], sizeof(float) * g->width * g->height);
  }
  sd_planes_free(&p);
  sd_reader_free(rd);
  return out;
}

static void gdal_cases(void) {
  GDALAllRegister();
  sd_rng rng = {5};
  for (int c = 0; c < 8; c++) {
    int nb = 1 + c % 4;
    double ratio = c == 7 ? 0.8 : sd_rng_range(&rng, 0.98, 1.35); /* after pixel / before pixel */
    const char *bp = "/vsimem/rs_before.tif", *ap = "/vsimem/rs_after.tif";
    write_tif(bp, 131, 117, nb, 1.0, 500000, 4000117, 1);
    write_tif(ap, (int)(150 / ratio), (int)(120 / ratio), nb, ratio, 500000 + sd_rng_range(&rng, -9, 6),
              4000117 + sd_rng_range(&rng, -6, 9), 2);
    sd_error err = {0};
    sd_raster *rb = NULL, *ra = NULL;
    sd_grid g = {0};
    if (sd_raster_open("before", bp, 1e9, &rb, &err) || sd_raster_open("after", ap, 1e9, &ra, &err) ||
        sd_grid_compute(rb, ra, SD_GRID_BEFORE, 0, &g, &err)) {
      CHECK(0, "case %d: %s", c, err.msg);
      continue;
    }
    sd_model m = sd_model_translation(sd_rng_range(&rng, -3, 3), sd_rng_range(&rng, -3, 3));
    if (c % 2) { /* affine: a turn of up to 1 degree and 0.5 % of scale about the grid centre */
      double t = sd_rng_range(&rng, -1, 1) * M_PI / 180, k = sd_rng_range(&rng, -0.005, 0.005);
      m.kind = SD_MODEL_AFFINE;
      m.cx = g.width / 2.0, m.cy = g.height / 2.0, m.scale = 1;
      m.ax[1] = (1 + k) * cos(t) - 1, m.ax[2] = -(1 + k) * sin(t);
      m.ay[1] = (1 + k) * sin(t), m.ay[2] = (1 + k) * cos(t) - 1;
    }
    const char *how_k, *how_g;
    unsetenv("SITEDIFF_WARP");
    float *k = read_all(ra, &g, nb, &m, &how_k);
    setenv("SITEDIFF_WARP", "gdal", 1);
    float *w = read_all(ra, &g, nb, &m, &how_g);
    unsetenv("SITEDIFF_WARP");
    CHECK(!strcmp(how_g, "GDAL warper (cubic)"), "case %d: SITEDIFF_WARP=gdal gave %s", c, how_g);
    CHECK(!strcmp(how_k, c == 7 ? "GDAL warper (cubic)" : "affine cubic kernel"), "case %d (ratio %.2f): %s", c, ratio,
          how_k);
    if (k && w) {
      size_t n = (size_t)g.width * g.height * nb;
      int foot = 0, far = 0, valid = 0;
      double sum = 0, worst = 0;
      for (size_t i = 0; i < n; i++) {
        if (isnan(k[i]) != isnan(w[i])) foot++;
        if (isnan(k[i]) || isnan(w[i])) continue;
        double d = fabs(k[i] - w[i]);
        valid++;
        sum += d;
        worst = fmax(worst, d);
        far += d > 0.01; /* float rounding of values near 1500 */
      }
      printf("case %d: ratio %.3f, %s, %d bands: %d valid, mean |diff| %.4f, worst %.3f, footprint %d\n", c, ratio,
             sd_model_name(m.kind), nb, valid, sum / (valid ? valid : 1), worst, foot);
      CHECK(valid > (int)(n / 2), "case %d: %d valid of %zu", c, valid, n);
      CHECK(far == 0, "case %d: %d values more than 0.01 from GDAL's (worst %.4f)", c, far, worst);
      CHECK(foot == 0, "case %d: %d footprint differences from GDAL's warper", c, foot);
    }
    free(k);
    free(w);
    sd_grid_free(&g);
    sd_raster_close(rb);
    sd_raster_close(ra);
    VSIUnlink(bp);
    VSIUnlink(ap);
  }
}

int main(void) {
  twin_cases();
  gdal_cases();
  return check_done("test_resample");
}
