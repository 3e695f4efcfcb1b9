/* test_pyramid.c: reading at a coarser level. A linear ramp's box means are its values at the
 * block centres, so every way of reading a level must give them exactly: the direct read binned,
 * the warper's average with a sub-pixel model applied (the window-to-grid factor and the pixel
 * convention), and the pyramid's crops (level 1 filled, the rest built up); and sd_bin's
 * half-valid rule on odd sizes. */
#include <gdal.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../check.h"
#include "core/core.h"
#include "io/io.h"
#include "register/register.h"

enum { N = 203 }; /* odd: the levels drop the last row and column */

static double ramp(double x, double y) { return 3.0 * x - 2.0 * y + 1000; }

/* A Float32 GeoTIFF of the ramp at pixel centres (pixel k's centre is k + 0.5 in corner units). */
static int write_ramp(const char *path) {
  GDALAllRegister();
  GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path, N, N, 1, GDT_Float32, NULL);
  if (!ds) return 0;
  double gt[6] = {500000, 1, 0, 5600000, 0, -1};
  GDALSetGeoTransform(ds, gt);
  GDALSetProjection(ds, "EPSG:32633");
  float row[N];
  int ok = 1;
  for (int y = 0; y < N && ok; y++) {
    for (int x = 0; x < N; x++)
      row[x] = (float)ramp(x + 0.5, y + 0.5);
    ok = GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Write, 0, y, N, 1, row, N, 1, GDT_Float32, 0, 0) == CE_None;
  }
  GDALClose(ds);
  return ok;
}

/* Level pixel (i, j) of a read at (x0, y0) with factor f under displacement (dx, dy) holds the
 * ramp at the block's centre moved by the displacement. */
static void check_level(const sd_planes *p, int x0, int y0, int f, double dx, double dy, double tol, const char *what) {
  double worst = 0;
  for (int j = 2; j < p->height - 2; j++)
    for (int i = 2; i < p->width - 2; i++) {
      double want = ramp(x0 + (i + 0.5) * f + dx, y0 + (j + 0.5) * f + dy);
      worst = fmax(worst, fabs(p->band[0][(size_t)j * p->width + i] - want));
    }
  CHECK(worst <= tol, "%s: off by up to %.4g", what, worst);
}

static void reads(const char *path) {
  sd_error err = {0};
  sd_raster *r = NULL;
  sd_grid g = {0};
  sd_reader *rd = NULL;
  CHECK(sd_raster_open("before", path, 1e9, &r, &err) == SD_OK, "open: %s", err.msg);
  CHECK(r && sd_grid_compute(r, r, SD_GRID_BEFORE, 0, &g, &err) == SD_OK, "grid: %s", err.msg);
  CHECK(r && sd_reader_create_band(r, &g, 0, 1, &rd, &err) == SD_OK, "reader: %s", err.msg);
  if (!rd) return;
  const int f[] = {2, 4}, x0 = 12, y0 = 36;
  for (int k = 0; k < 2; k++) {
    sd_planes lv, full;
    CHECK(sd_planes_alloc(&lv, 1, 37, 29, &err) == SD_OK, "alloc");
    CHECK(sd_planes_alloc(&full, 1, 37 * f[k], 29 * f[k], &err) == SD_OK, "alloc");
    char what[96];
    /* on the input's own pixels: a full read, binned */
    sd_model none = {.kind = SD_MODEL_NONE};
    sd_reader_set_model(rd, &none);
    CHECK(sd_reader_read_binned(rd, x0, y0, f[k], &lv, &err) == SD_OK, "direct binned: %s", err.msg);
    snprintf(what, sizeof what, "direct read binned by %d", f[k]);
    check_level(&lv, x0, y0, f[k], 0, 0, 1e-3, what);
    /* through the warper: its area-weighted average, the model moved by a fraction of a pixel */
    sd_model m = sd_model_translation(0.3, -0.45);
    sd_reader_set_model(rd, &m);
    CHECK(sd_reader_read_binned(rd, x0, y0, f[k], &lv, &err) == SD_OK, "warped binned: %s", err.msg);
    snprintf(what, sizeof what, "warper's average by %d, shift (0.3, -0.45)", f[k]);
    check_level(&lv, x0, y0, f[k], 0.3, -0.45, 2e-3, what);
    /* and the same as the full-resolution (cubic) read binned */
    CHECK(sd_reader_read(rd, x0, y0, &full, &err) == SD_OK, "full read: %s", err.msg);
    sd_planes lb;
    CHECK(sd_planes_alloc(&lb, 1, 37, 29, &err) == SD_OK, "alloc");
    sd_bin(full.band[0], full.width, full.height, f[k], lb.band[0]);
    snprintf(what, sizeof what, "cubic read binned by %d, shift (0.3, -0.45)", f[k]);
    check_level(&lb, x0, y0, f[k], 0.3, -0.45, 2e-3, what);
    sd_planes_free(&lb);
    sd_planes_free(&lv);
    sd_planes_free(&full);
  }
  sd_reader_free(rd);
  sd_grid_free(&g);
  sd_raster_close(r);
}

/* The pyramid: level 1 from sd_bin of the grid, built up; a crop at level L of a window on a
 * multiple of 2^L equals sd_bin of that window by 2^L (NaN-free data: mean of means). */
static void pyramid(void) {
  static float img[N * N], win[64 * 4 * 64 * 4], want[64 * 64], got[64 * 64];
  sd_rng rng = {4242};
  for (int i = 0; i < N * N; i++)
    img[i] = (float)(sd_rng_uniform(&rng) * 1000);
  sd_pyramid p;
  CHECK(sd_pyramid_init(&p, N, N, 3), "pyramid init");
  CHECK(p.w[1] == N / 2 && p.h[2] == N / 4, "level sizes %d, %d", p.w[1], p.h[2]);
  sd_bin(img, N, N, 2, p.img[1]);
  sd_pyramid_build_up(&p);
  const int sides[] = {16, 24}, xs[] = {8, 40}, ys[] = {4, 16};
  for (int L = 1; L <= 2; L++)
    for (int k = 0; k < 2; k++) {
      int s = sides[k], f = 1 << L, x = xs[k], y = ys[k];
      for (int r = 0; r < s * f; r++)
        memcpy(win + (size_t)r * s * f, img + (size_t)(y + r) * N + x, sizeof(float) * s * f);
      sd_bin(win, s * f, s * f, f, want);
      sd_pyramid_crop(&p, L, x >> L, y >> L, s, got);
      double worst = 0;
      for (int i = 0; i < s * s; i++)
        worst = fmax(worst, fabs(got[i] - want[i]));
      CHECK(worst <= 1e-3, "pyramid level %d crop (%d, %d) side %d: off by %.4g", L, x, y, s, worst);
    }
  sd_pyramid_free(&p);
  CHECK(p.img[1] == NULL, "freed");
}

/* sd_bin: a block less than half valid is NaN, at least half valid the mean of its valid pixels;
 * the odd last row and column are dropped. */
static void bin_rule(void) {
  float in[5 * 5], out[4];
  for (int i = 0; i < 25; i++)
    in[i] = (float)i;
  in[0] = in[1] = in[5] = NAN; /* block (0,0): 1 of 4 valid */
  in[2] = NAN;                 /* block (1,0): 3 of 4 valid */
  sd_bin(in, 5, 5, 2, out);
  CHECK(isnan(out[0]), "1 of 4 valid: %g", out[0]);
  CHECK_NEAR(out[1], (3 + 7 + 8) / 3.0, 1e-6, "3 of 4 valid: the mean of the valid");
  CHECK_NEAR(out[3], (12 + 13 + 17 + 18) / 4.0, 1e-6, "whole block");
}

int main(void) {
  const char *path = "test_pyramid_ramp.tif";
  CHECK(write_ramp(path), "cannot write %s", path);
  reads(path);
  pyramid();
  bin_rule();
  remove(path);
  return check_done("test_pyramid");
}
