/* reader.c: reads an input resampled onto the common grid, block by block, with the fine
 * registration shift folded into the same transform (one resampling). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>
#include <cpl_string.h>
#include <gdal_alg.h>
#include <gdalwarper.h>
#include <ogr_srs_api.h>

#include "diff/resample.h"
#include "io/raster_priv.h"

struct sd_reader {
  sd_raster *r;
  sd_grid grid; /* copy; wkt borrowed */
  int nbands;
  int gdal_band[SD_MAX_BANDS]; /* 1-based GDAL band numbers read, in plane order */
  int threads;
  sd_model model;
  int direct;       /* grid pixels coincide with input pixels: plain reads, no resampling */
  int off_x, off_y; /* input pixel of grid pixel (0, 0) when direct */
  void *gen_tr;     /* GDAL transformer input <-> georeferenced grid */
  int affine;       /* grid and input pixels are related by an affine map: input = a0 (grid) */
  double a0[6];     /* u = a0[0] + a0[1] x + a0[2] y, v = a0[3] + a0[4] x + a0[5] y (pixel corners) */
  int warper_only;  /* SITEDIFF_WARP=gdal: GDAL's warper for every resampled read */
};

static int same_crs(const char *a, const char *b) {
  if (!a || !b) return !a && !b;
  OGRSpatialReferenceH sa = OSRNewSpatialReference(a), sb = OSRNewSpatialReference(b);
  int same = OSRIsSame(sa, sb);
  OSRDestroySpatialReference(sa);
  OSRDestroySpatialReference(sb);
  return same;
}

static int near_int(double v, int *out) {
  double r = round(v);
  if (fabs(v - r) > 1e-6 || fabs(r) > 1e9) return 0;
  *out = (int)r;
  return 1;
}

static sd_status reader_create(sd_raster *r, const sd_grid *grid, const int *data_bands, int nbands, int threads,
                               sd_reader **out, sd_error *err) {
  *out = NULL;
  sd_reader *rd = calloc(1, sizeof *rd);
  if (!rd) return sd_error_set(err, SD_ERR_NOMEM, "reader: out of memory");
  rd->r = r;
  rd->grid = *grid;
  rd->nbands = nbands;
  for (int b = 0; b < nbands; b++)
    rd->gdal_band[b] = r->band_index[data_bands[b]];
  rd->threads = threads > 0 ? threads : 1;
  sd_gdal_capture cap;
  sd_gdal_capture_begin(&cap);
  const double *g = grid->gt, *s = r->info.gt;
  if (same_crs(grid->wkt, r->wkt) && s[2] == 0 && s[4] == 0 && fabs(g[1] - s[1]) <= 1e-9 * fabs(s[1]) &&
      fabs(g[5] - s[5]) <= 1e-9 * fabs(s[5]) && near_int((g[0] - s[0]) / s[1], &rd->off_x) &&
      near_int((g[3] - s[3]) / s[5], &rd->off_y))
    rd->direct = 1;

  /* Same CRS (or none) and a geotransform on both sides: grid pixel -> ground -> input pixel is
   * affine, and the kernel may resample where the model keeps it so. */
  double inv[6];
  if (same_crs(grid->wkt, r->wkt) && (r->has_gt || !r->info.georef) && GDALInvGeoTransform((double *)s, inv)) {
    rd->affine = 1;
    rd->a0[0] = inv[0] + inv[1] * g[0] + inv[2] * g[3];
    rd->a0[1] = inv[1] * g[1] + inv[2] * g[4];
    rd->a0[2] = inv[1] * g[2] + inv[2] * g[5];
    rd->a0[3] = inv[3] + inv[4] * g[0] + inv[5] * g[3];
    rd->a0[4] = inv[4] * g[1] + inv[5] * g[4];
    rd->a0[5] = inv[4] * g[2] + inv[5] * g[5];
  }
  const char *warp = getenv("SITEDIFF_WARP");
  rd->warper_only = warp && !strcmp(warp, "gdal");
  if (r->info.georef && r->has_gt) {
    char **opts = CSLSetNameValue(NULL, "DST_SRS", grid->wkt);
    rd->gen_tr = GDALCreateGenImgProjTransformer2(r->ds, NULL, opts);
    CSLDestroy(opts);
  } else if (r->info.georef) {
    char **opts = CSLSetNameValue(NULL, "DST_SRS", grid->wkt);
    rd->gen_tr = GDALCreateGenImgProjTransformer2(r->ds, NULL, opts); /* GCPs */
    CSLDestroy(opts);
  } else {
    rd->gen_tr = GDALCreateGenImgProjTransformer3(NULL, r->info.gt, NULL, grid->gt);
  }
  if (rd->gen_tr) GDALSetGenImgProjTransformerDstGeoTransform(rd->gen_tr, grid->gt);
  sd_gdal_capture_end(&cap);
  if (!rd->gen_tr) {
    free(rd);
    return sd_gdal_error(err, SD_ERR_INPUT, &cap, "reader: %s: no transformation onto the grid", r->info.path);
  }
  *out = rd;
  return SD_OK;
}

sd_status sd_reader_create(sd_raster *r, const sd_grid *grid, int nbands, int threads, sd_reader **out, sd_error *err) {
  int bands[SD_MAX_BANDS];
  for (int b = 0; b < nbands; b++)
    bands[b] = b;
  return reader_create(r, grid, bands, nbands, threads, out, err);
}

sd_status sd_reader_create_band(sd_raster *r, const sd_grid *grid, int band, int threads, sd_reader **out,
                                sd_error *err) {
  return reader_create(r, grid, &band, 1, threads, out, err);
}

void sd_reader_set_model(sd_reader *rd, const sd_model *model) { rd->model = *model; }

static int model_is_identity(const sd_model *m) {
  for (int k = 0; k < sd_model_terms(m->kind); k++)
    if (m->ax[k] != 0 || m->ay[k] != 0) return 0;
  return 1;
}

/* GDAL transformer: window pixel -> grid pixel -> displaced grid position -> input pixel (through
 * the GenImgProj transformer, whose destination is the whole grid), and back. */
typedef struct model_transformer {
  GDALTransformerInfo info; /* first: makes it a GDAL transformer the threaded warper can clone */
  void *base;
  int owns_base;
  sd_model model;
  double x0, y0;
  int factor; /* window pixel (i, j) covers grid pixels x0 + i * factor ... (+ factor) */
} model_transformer;

static int model_transform(void *arg, int dst_to_src, int n, double *x, double *y, double *z, int *ok);

static void model_transformer_cleanup(void *arg) {
  model_transformer *t = arg;
  if (t->owns_base) GDALDestroyTransformer(t->base);
  free(t);
}

static void *model_transformer_similar(void *arg, double rx, double ry);

static model_transformer *model_transformer_create(void *base, int owns_base, const sd_model *m, double x0, double y0,
                                                   int factor) {
  model_transformer *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  memcpy(t->info.abySignature, GDAL_GTI2_SIGNATURE, 4);
  t->info.pszClassName = "SitediffModelTransformer";
  t->info.pfnTransform = model_transform;
  t->info.pfnCleanup = model_transformer_cleanup;
  t->info.pfnCreateSimilar = model_transformer_similar;
  t->base = base;
  t->owns_base = owns_base;
  t->model = *m;
  t->x0 = x0;
  t->y0 = y0;
  t->factor = factor;
  return t;
}

static void *model_transformer_similar(void *arg, double rx, double ry) {
  model_transformer *t = arg;
  if (rx != 1.0 || ry != 1.0) return NULL; /* the warper asks only for exact copies */
  /* The GenImgProj transformer is a GTI2 object: clone it through its own table. */
  const GDALTransformerInfo *bi = t->base;
  if (memcmp(bi->abySignature, GDAL_GTI2_SIGNATURE, 4) != 0 || !bi->pfnCreateSimilar) return NULL;
  void *base = bi->pfnCreateSimilar(t->base, 1.0, 1.0);
  if (!base) return NULL;
  return model_transformer_create(base, 1, &t->model, t->x0, t->y0, t->factor);
}

static int model_transform(void *arg, int dst_to_src, int n, double *x, double *y, double *z, int *ok) {
  model_transformer *t = arg;
  if (dst_to_src) {
    for (int i = 0; i < n; i++) {
      double gx = x[i] * t->factor + t->x0, gy = y[i] * t->factor + t->y0, dx, dy;
      sd_model_displacement(&t->model, gx, gy, &dx, &dy);
      x[i] = gx + dx;
      y[i] = gy + dy;
    }
    return GDALGenImgProjTransform(t->base, TRUE, n, x, y, z, ok);
  }
  int r = GDALGenImgProjTransform(t->base, FALSE, n, x, y, z, ok);
  for (int i = 0; i < n; i++) {
    /* Invert q = p + D(p) by fixed-point iteration; D varies slowly, so a few rounds suffice. */
    double qx = x[i], qy = y[i], px = qx, py = qy;
    for (int it = 0; it < 8; it++) {
      double dx, dy;
      sd_model_displacement(&t->model, px, py, &dx, &dy);
      px = qx - dx;
      py = qy - dy;
    }
    x[i] = (px - t->x0) / t->factor;
    y[i] = (py - t->y0) / t->factor;
  }
  return r;
}

void sd_reader_free(sd_reader *rd) {
  if (!rd) return;
  sd_gdal_capture cap;
  sd_gdal_capture_begin(&cap);
  if (rd->gen_tr) GDALDestroyGenImgProjTransformer(rd->gen_tr);
  sd_gdal_capture_end(&cap);
  free(rd);
}

/* A pixel is valid only if every band is: one NaN marks the pixel in all bands. */
static void unify_nodata(sd_planes *p) {
  size_t n = (size_t)p->width * p->height;
  for (size_t i = 0; i < n; i++) {
    int bad = 0;
    for (int b = 0; b < p->nbands; b++)
      bad |= !isfinite(p->band[b][i]);
    if (bad)
      for (int b = 0; b < p->nbands; b++)
        p->band[b][i] = NAN;
  }
}

static void fill_nan(sd_planes *p) {
  size_t n = (size_t)p->width * p->height;
  for (int b = 0; b < p->nbands; b++)
    for (size_t i = 0; i < n; i++)
      p->band[b][i] = NAN;
}

/* The input's pixels [sx, sx + w) x [sy, sy + h) (w, h from dst) as they are; NaN outside the
 * input and where it has no data. */
static sd_status read_rect(sd_reader *rd, int sx, int sy, sd_planes *dst, const sd_gdal_capture *cap, sd_error *err) {
  sd_raster *r = rd->r;
  int w = dst->width, h = dst->height;
  /* Clip the window to the input; what lies outside stays NaN. */
  int cx0 = sx < 0 ? 0 : sx, cy0 = sy < 0 ? 0 : sy;
  int cx1 = sx + w > r->info.width ? r->info.width : sx + w;
  int cy1 = sy + h > r->info.height ? r->info.height : sy + h;
  if (cx0 != sx || cy0 != sy || cx1 != sx + w || cy1 != sy + h) fill_nan(dst);
  if (cx1 <= cx0 || cy1 <= cy0) return SD_OK;
  int cw = cx1 - cx0, ch = cy1 - cy0;
  size_t off = (size_t)(cy0 - sy) * w + (size_t)(cx0 - sx);
  unsigned char *mask = NULL;
  int dataset_mask_done = 0;
  for (int b = 0; b < rd->nbands; b++) {
    GDALRasterBandH band = GDALGetRasterBand(r->ds, rd->gdal_band[b]);
    float *out = dst->band[b] + off;
    if (GDALRasterIO(band, GF_Read, cx0, cy0, cw, ch, out, cw, ch, GDT_Float32, sizeof(float),
                     (GSpacing)w * sizeof(float)) != CE_None)
      goto io_fail;
    int flags = GDALGetMaskFlags(band);
    if (flags & GMF_ALL_VALID) continue;
    if (flags & GMF_NODATA) {
      int has;
      float nd = (float)GDALGetRasterNoDataValue(band, &has);
      if (has && !isnan(nd))
        for (int y = 0; y < ch; y++)
          for (int x = 0; x < cw; x++)
            if (out[(size_t)y * w + x] == nd) out[(size_t)y * w + x] = NAN;
      continue;
    }
    if ((flags & GMF_PER_DATASET) && dataset_mask_done) continue;
    if (!mask && !(mask = malloc((size_t)cw * ch))) {
      return sd_error_set(err, SD_ERR_NOMEM, "reader: out of memory");
    }
    if (GDALRasterIO(GDALGetMaskBand(band), GF_Read, cx0, cy0, cw, ch, mask, cw, ch, GDT_Byte, 0, 0) != CE_None)
      goto io_fail;
    for (int y = 0; y < ch; y++)
      for (int x = 0; x < cw; x++)
        if (!mask[(size_t)y * cw + x]) out[(size_t)y * w + x] = NAN;
    if (flags & GMF_PER_DATASET) dataset_mask_done = 1;
  }
  free(mask);
  /* An alpha band GDAL does not take as the mask (a fifth band marked alpha, say): where it is 0
   * there is no data, as the warper reads it (nSrcAlphaBand). */
  if (r->alpha_band) {
    float *alpha = malloc(sizeof *alpha * (size_t)cw * ch);
    if (!alpha) return sd_error_set(err, SD_ERR_NOMEM, "reader: out of memory");
    if (GDALRasterIO(GDALGetRasterBand(r->ds, r->alpha_band), GF_Read, cx0, cy0, cw, ch, alpha, cw, ch, GDT_Float32, 0,
                     0) != CE_None) {
      free(alpha);
      mask = NULL;
      goto io_fail;
    }
    for (int y = 0; y < ch; y++)
      for (int x = 0; x < cw; x++)
        if (!(alpha[(size_t)y * cw + x] > 0)) dst->band[0][off + (size_t)y * w + x] = NAN;
    free(alpha);
  }
  unify_nodata(dst);
  return SD_OK;
io_fail:
  free(mask);
  char what[64];
  snprintf(what, sizeof what, "reading rows %d..%d", cy0, cy1);
  return sd_gdal_read_error(err, cap, "reader", r->info.path, what);
}

/* The affine map from window pixel to input pixel for the window at (x0, y0): the grid pixel,
 * displaced by the model, through a0; exact for the affine chain, taken at three points. */
static sd_affine window_map(const sd_reader *rd, int x0, int y0) {
  double u[3], v[3];
  for (int k = 0; k < 3; k++) {
    double x = x0 + (k == 1), y = y0 + (k == 2), dx, dy;
    sd_model_displacement(&rd->model, x, y, &dx, &dy);
    x += dx;
    y += dy;
    u[k] = rd->a0[0] + rd->a0[1] * x + rd->a0[2] * y;
    v[k] = rd->a0[3] + rd->a0[4] * x + rd->a0[5] * y;
  }
  return (sd_affine){{u[0], u[1] - u[0], u[2] - u[0], v[0], v[1] - v[0], v[2] - v[0]}};
}

static int use_kernel(const sd_reader *rd) {
  if (!rd->affine || rd->warper_only || rd->model.kind > SD_MODEL_AFFINE) return 0;
  sd_affine m = window_map(rd, 0, 0);
  return sd_resample_cubic_applies(&m);
}

/* Reads the input pixels the window needs and resamples them with the cubic kernel. */
static sd_status read_affine(sd_reader *rd, int x0, int y0, sd_planes *dst, const sd_gdal_capture *cap, sd_error *err) {
  sd_affine m = window_map(rd, x0, y0);
  const sd_raster_info *in = &rd->r->info;
  int sx0, sy0, sx1, sy1;
  sd_resample_window(&m, dst->width, dst->height, in->width, in->height, &sx0, &sy0, &sx1, &sy1);
  if (sx1 <= sx0) {
    fill_nan(dst);
    return SD_OK;
  }
  sd_planes src;
  sd_status st = sd_planes_alloc(&src, rd->nbands, sx1 - sx0, sy1 - sy0, err);
  if (!st) st = read_rect(rd, sx0, sy0, &src, cap, err);
  if (!st) {
    sd_src_window sw = {
        (const float *const *)src.band, rd->nbands, src.width, src.height, sx0, sy0, in->width, in->height};
    sd_resample_cubic(&m, &sw, dst->band, dst->width, dst->height, rd->threads);
  }
  sd_planes_free(&src);
  return st;
}

const char *sd_reader_resampling(const sd_reader *rd) {
  if (rd->direct && model_is_identity(&rd->model)) return "none";
  return use_kernel(rd) ? "affine cubic kernel" : "GDAL warper (cubic)";
}

/* Warps the input onto dst, whose pixels are factor x factor grid pixels from (x0, y0): cubic at
 * full resolution; at a coarser factor the average of the input pixels under each (weighted by
 * how much of each lies under it), the warper's own box filter. */
static sd_status read_warped(sd_reader *rd, int x0, int y0, int factor, sd_planes *dst, const sd_gdal_capture *cap,
                             sd_error *err) {
  sd_raster *r = rd->r;
  int w = dst->width, h = dst->height;
  GDALDriverH mem = GDALGetDriverByName("MEM");
  GDALDatasetH ds = GDALCreate(mem, "", w, h, 0, GDT_Float32, NULL);
  if (!ds) return sd_error_set(err, SD_ERR_INTERNAL, "reader: cannot create a memory dataset");
  for (int b = 0; b < rd->nbands; b++) {
    char opt[3][64];
    snprintf(opt[0], sizeof opt[0], "DATAPOINTER=%p", (void *)dst->band[b]);
    snprintf(opt[1], sizeof opt[1], "PIXELOFFSET=%d", (int)sizeof(float));
    snprintf(opt[2], sizeof opt[2], "LINEOFFSET=%lld", (long long)w * (long long)sizeof(float));
    char *opts[] = {opt[0], opt[1], opt[2], NULL};
    GDALAddBand(ds, GDT_Float32, opts);
  }
  model_transformer *mt = model_transformer_create(rd->gen_tr, 0, &rd->model, x0, y0, factor);
  void *approx = mt ? GDALCreateApproxTransformer(model_transform, mt, 0.01 / factor) : NULL;
  if (!approx) {
    free(mt);
    GDALClose(ds);
    return sd_error_set(err, SD_ERR_NOMEM, "reader: out of memory");
  }
  GDALApproxTransformerOwnsSubtransformer(approx, TRUE);

  GDALWarpOptions *wo = GDALCreateWarpOptions();
  wo->hSrcDS = r->ds;
  wo->hDstDS = ds;
  wo->nBandCount = rd->nbands;
  wo->panSrcBands = CPLMalloc(sizeof(int) * rd->nbands);
  wo->panDstBands = CPLMalloc(sizeof(int) * rd->nbands);
  int any_nodata = 0;
  for (int b = 0; b < rd->nbands; b++) {
    wo->panSrcBands[b] = rd->gdal_band[b];
    wo->panDstBands[b] = b + 1;
    int has;
    GDALGetRasterNoDataValue(GDALGetRasterBand(r->ds, rd->gdal_band[b]), &has);
    any_nodata |= has;
  }
  if (any_nodata) {
    wo->padfSrcNoDataReal = CPLMalloc(sizeof(double) * rd->nbands);
    for (int b = 0; b < rd->nbands; b++) {
      int has;
      double nd = GDALGetRasterNoDataValue(GDALGetRasterBand(r->ds, rd->gdal_band[b]), &has);
      wo->padfSrcNoDataReal[b] = has ? nd : NAN;
    }
  }
  wo->nSrcAlphaBand = r->alpha_band;
  wo->eResampleAlg = factor > 1 ? GRA_Average : GRA_Cubic;
  wo->eWorkingDataType = GDT_Float32;
  wo->pfnTransformer = GDALApproxTransform;
  wo->pTransformerArg = approx;
  char nthreads[16];
  snprintf(nthreads, sizeof nthreads, "%d", rd->threads);
  /* NaN where nothing lands; no destination nodata, so GDAL needs no destination validity mask
   * and takes its faster kernels (measured: see bench/README.md). */
  wo->papszWarpOptions = CSLSetNameValue(wo->papszWarpOptions, "INIT_DEST", "NaN");
  wo->papszWarpOptions = CSLSetNameValue(wo->papszWarpOptions, "NUM_THREADS", nthreads);
  if (r->alpha_band) {
    /* Full opacity is the type's maximum; state it rather than rely on the GDAL version's default. */
    GDALDataType at = GDALGetRasterDataType(GDALGetRasterBand(r->ds, r->alpha_band));
    const char *amax = at == GDT_UInt16                         ? "65535"
                       : at == GDT_Int16                        ? "32767"
                       : at == GDT_Float32 || at == GDT_Float64 ? "1"
                                                                : "255";
    wo->papszWarpOptions = CSLSetNameValue(wo->papszWarpOptions, "SRC_ALPHA_MAX", amax);
  }

  sd_status st = SD_OK;
  GDALWarpOperationH op = GDALCreateWarpOperation(wo);
  if (!op || GDALChunkAndWarpImage(op, 0, 0, w, h) != CE_None) {
    char what[80];
    snprintf(what, sizeof what, "resampling grid rows %d..%d", y0, y0 + h);
    st = sd_gdal_read_error(err, cap, "reader", r->info.path, what);
  }
  if (op) GDALDestroyWarpOperation(op);
  GDALDestroyWarpOptions(wo);
  GDALDestroyApproxTransformer(approx);
  GDALClose(ds);
  if (!st) unify_nodata(dst);
  return st;
}

sd_status sd_reader_read(sd_reader *rd, int x0, int y0, sd_planes *dst, sd_error *err) {
  if (dst->nbands < rd->nbands) return sd_error_set(err, SD_ERR_INTERNAL, "reader: too few planes");
  sd_gdal_threads(rd->threads);
  sd_gdal_capture cap;
  sd_gdal_capture_begin(&cap);
  sd_status st;
  if (rd->direct && model_is_identity(&rd->model))
    st = read_rect(rd, x0 + rd->off_x, y0 + rd->off_y, dst, &cap, err);
  else if (use_kernel(rd))
    st = read_affine(rd, x0, y0, dst, &cap, err);
  else
    st = read_warped(rd, x0, y0, 1, dst, &cap, err);
  sd_gdal_capture_end(&cap);
  sd_gdal_threads(0);
  return st;
}

sd_status sd_reader_read_binned(sd_reader *rd, int x0, int y0, int factor, sd_planes *dst, sd_error *err) {
  if (factor == 1) return sd_reader_read(rd, x0, y0, dst, err);
  if (dst->nbands < rd->nbands) return sd_error_set(err, SD_ERR_INTERNAL, "reader: too few planes");
  sd_status st;
  if (rd->direct && model_is_identity(&rd->model)) {
    sd_planes full;
    st = sd_planes_alloc(&full, rd->nbands, dst->width * factor, dst->height * factor, err);
    if (!st) st = sd_reader_read(rd, x0, y0, &full, err);
    for (int b = 0; b < rd->nbands && !st; b++)
      sd_bin(full.band[b], full.width, full.height, factor, dst->band[b]);
    sd_planes_free(&full);
    return st;
  }
  sd_gdal_threads(rd->threads);
  sd_gdal_capture cap;
  sd_gdal_capture_begin(&cap);
  st = read_warped(rd, x0, y0, factor, dst, &cap, err);
  sd_gdal_capture_end(&cap);
  sd_gdal_threads(0);
  return st;
}
