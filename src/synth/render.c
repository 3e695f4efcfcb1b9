/* render.c: the synthetic site's images: each pixel the mean of SS x SS samples of the scene over
 * its footprint, after the image's content shift, rotation and scale, with gain, offset and noise. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "synth/synth_priv.h"

enum { SS = 3, STRIP = 64 };

/* Local scene coordinates (u east, v south, metres) of the grid's pixel corners on row cy. */
static sd_status corner_row(const image_spec *im, const char *local_wkt, double X0, double Y0, int cy, double *u,
                            double *v, sd_error *err) {
  int n = im->grid.width + 1;
  for (int x = 0; x < n; x++) {
    u[x] = im->grid.gt[0] + x * im->grid.gt[1] + cy * im->grid.gt[2];
    v[x] = im->grid.gt[3] + x * im->grid.gt[4] + cy * im->grid.gt[5];
  }
  if (im->grid.wkt != local_wkt) {
    sd_status s = sd_transform_points(im->grid.wkt, local_wkt, n, u, v, err);
    if (s) return s;
  }
  for (int x = 0; x < n; x++) {
    u[x] = u[x] - X0;
    v[x] = Y0 - v[x];
  }
  return SD_OK;
}

static float noise_at(uint64_t seed, int img, int band, int x, int y) {
  sd_rng r = {sd_hash64(seed ^ ((uint64_t)img << 60) ^ ((uint64_t)band << 56) ^ ((uint64_t)y << 28) ^ (uint64_t)x)};
  return (float)sd_rng_normal(&r);
}

sd_status sd_synth_render(const sd_synth_options *o, const sd_scene *sc, const image_spec *im, const char *local_wkt,
                          double X0, double Y0, const char *path, sd_error *err) {
  int W = im->grid.width, H = im->grid.height, nb = o->bands;
  sd_gtiff *t;
  sd_status s = sd_gtiff_create(path, &im->grid, nb, SD_PIX_U16, im->nodata, 0, &t, err);
  if (s) return s;
  if (nb >= 3) sd_gtiff_set_rgb(t);
  if (nb >= 4) sd_gtiff_set_nir(t, 3); /* the palettes' fourth value is near-infrared */
  double *cu = malloc(sizeof(double) * (W + 1) * (STRIP + 1)), *cv = malloc(sizeof(double) * (W + 1) * (STRIP + 1));
  uint16_t *buf = malloc(sizeof(uint16_t) * (size_t)W * STRIP * nb);
  if (!cu || !cv || !buf) s = sd_error_set(err, SD_ERR_NOMEM, "synth: out of memory");
  for (int y0 = 0; y0 < H && !s; y0 += STRIP) {
    int rows = y0 + STRIP > H ? H - y0 : STRIP;
    for (int r = 0; r <= rows && !s; r++)
      s = corner_row(im, local_wkt, X0, Y0, y0 + r, cu + (size_t)r * (W + 1), cv + (size_t)r * (W + 1), err);
    if (s) break;
    SD_OMP(parallel for schedule(dynamic, 1))
    for (int r = 0; r < rows; r++) {
      const double *u0 = cu + (size_t)r * (W + 1), *v0 = cv + (size_t)r * (W + 1);
      const double *u1 = u0 + W + 1, *v1 = v0 + W + 1;
      for (int x = 0; x < W; x++) {
        float acc[4] = {0, 0, 0, 0};
        for (int j = 0; j < SS; j++)
          for (int i = 0; i < SS; i++) {
            double fx = 0.5 + ((i + 0.5) / SS - 0.5) * im->footprint, fy = 0.5 + ((j + 0.5) / SS - 0.5) * im->footprint;
            double u = (1 - fy) * ((1 - fx) * u0[x] + fx * u0[x + 1]) + fy * ((1 - fx) * u1[x] + fx * u1[x + 1]);
            double v = (1 - fy) * ((1 - fx) * v0[x] + fx * v0[x + 1]) + fy * ((1 - fx) * v1[x] + fx * v1[x + 1]);
            /* after(q) shows the scene at T^-1(q), T(p) = c + scale R (p - c) + d. */
            double qu = (u - im->dx_m - im->cu) / im->scale, qv = (v - im->dv_m - im->cv) / im->scale;
            double su = im->cu + im->cos_r * qu + im->sin_r * qv, sv = im->cv - im->sin_r * qu + im->cos_r * qv;
            float refl[4];
            sd_scene_sample(sc, su, sv, im->after, refl);
            if (su >= im->cloud[0] && su < im->cloud[2] && sv >= im->cloud[1] && sv < im->cloud[3])
              refl[0] = NAN; /* under the cloud: nodata */
            for (int b = 0; b < 4; b++)
              acc[b] += refl[b];
          }
        float val[4];
        for (int b = 0; b < 4; b++)
          val[b] = 300.0f + 9000.0f * acc[b] / (SS * SS);
        if (isnan(acc[0])) { /* any sample under the cloud: the pixel is nodata */
          for (int b = 0; b < nb; b++)
            buf[(size_t)b * W * STRIP + (size_t)r * W + x] = 0;
          continue;
        }
        if (nb == 1) val[0] = (val[0] + val[1] + val[2]) / 3.0f;
        for (int b = 0; b < nb; b++) {
          float dn = val[b];
          if (im->after) dn = im->gain[b] * dn + im->offset[b];
          dn += (float)o->noise * noise_at(o->seed, im->noise_id, b, x, y0 + r);
          dn = dn < 0 ? 0 : dn > 65535 ? 65535 : dn;
          if (im->nodata && dn < 1) dn = 1; /* 0 is nodata where it is set */
          buf[(size_t)b * W * STRIP + (size_t)r * W + x] = (uint16_t)lrintf(dn);
        }
      }
    }
    for (int b = 0; b < nb && !s; b++)
      s = sd_gtiff_write(t, b + 1, y0, rows, buf + (size_t)b * W * STRIP, err);
  }
  free(cu);
  free(cv);
  free(buf);
  sd_status cs = sd_gtiff_close(t, err);
  return s ? s : cs;
}

sd_status sd_synth_crs_grid(const char *utm, const char *awkt, int epsg, double X0, double Y0, double u0, double v0,
                            double u1, double v1, double pa, sd_grid *g, sd_error *err) {
  /* The bounding box of the corners and edge midpoints in the other CRS. */
  double xs[8], ys[8];
  double us[8] = {u0, u1, u0, u1, (u0 + u1) / 2, (u0 + u1) / 2, u0, u1};
  double vs[8] = {v0, v0, v1, v1, v0, v1, (v0 + v1) / 2, (v0 + v1) / 2};
  for (int i = 0; i < 8; i++) {
    xs[i] = X0 + us[i];
    ys[i] = Y0 - vs[i];
  }
  sd_status s = sd_transform_points(utm, awkt, 8, xs, ys, err);
  if (s) return s;
  double minx = xs[0], maxx = xs[0], miny = ys[0], maxy = ys[0];
  for (int i = 1; i < 8; i++) {
    minx = fmin(minx, xs[i]);
    maxx = fmax(maxx, xs[i]);
    miny = fmin(miny, ys[i]);
    maxy = fmax(maxy, ys[i]);
  }
  double pxa = pa, pya = pa;
  if (sd_wkt_is_geographic(awkt)) {
    double lat = 0.5 * (miny + maxy);
    pxa = pa / (111320.0 * cos(lat * M_PI / 180.0));
    pya = pa / 110574.0;
  }
  *g = (sd_grid){.width = (int)ceil((maxx - minx) / pxa),
                 .height = (int)ceil((maxy - miny) / pya),
                 .gt = {minx, pxa, 0, maxy, 0, -pya},
                 .wkt = (char *)awkt,
                 .georef = 1};
  snprintf(g->crs, sizeof g->crs, "EPSG:%d", epsg);
  return SD_OK;
}
