/* raster.c: opening an input raster and describing it (bands, type, CRS, display bands). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cpl_conv.h>
#include <cpl_string.h>
#include <ogr_srs_api.h>

#include "io/raster_priv.h"

static void short_crs(OGRSpatialReferenceH srs, char *out, size_t len) {
  const char *auth = OSRGetAuthorityName(srs, NULL);
  const char *code = OSRGetAuthorityCode(srs, NULL);
  if (auth && code) {
    snprintf(out, len, "%s:%s", auth, code);
    return;
  }
  const char *name = OSRGetName(srs);
  snprintf(out, len, "%s", name ? name : "unnamed CRS");
}

static int supported_type(GDALDataType t) {
  switch (t) {
  case GDT_Byte:
  case GDT_UInt16:
  case GDT_Int16:
  case GDT_UInt32:
  case GDT_Int32:
  case GDT_Float32:
  case GDT_Float64: return 1;
  default: return 0;
  }
}

/* A band's role from its colour interpretation: 0 red, 1 green, 2 blue, 3 near-infrared (GDAL 3.10
 * and later name it), -1 none. */
static int role_of_colour(GDALColorInterp ci) {
  if (ci == GCI_RedBand) return 0;
  if (ci == GCI_GreenBand) return 1;
  if (ci == GCI_BlueBand) return 2;
#if GDAL_VERSION_NUM >= GDAL_COMPUTE_VERSION(3, 10, 0)
  if (ci == GCI_NIRBand) return 3;
#endif
  return -1;
}

/* The same from the band's name, as GDAL, rasterio and most providers' tools write it: "Red",
 * "green", "NIR", "NIR1", "near-infrared", "Near Infrared" (case, spaces, '-' and '_' aside).
 * Band codes (B4, B8) are not read: they mean other bands on other sensors. */
static int role_of_name(const char *desc) {
  static const char *const names[][4] = {
      {"red", NULL}, {"green", NULL}, {"blue", NULL}, {"nir", "nir1", "nearinfrared", NULL}};
  char key[32];
  size_t n = 0;
  for (const char *c = desc ? desc : ""; *c && n + 1 < sizeof key; c++)
    if (*c != ' ' && *c != '-' && *c != '_') key[n++] = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
  key[n] = 0;
  for (int k = 0; k < 4; k++)
    for (int j = 0; names[k][j]; j++)
      if (!strcmp(key, names[k][j])) return k;
  return -1;
}

/* The data bands (the first alpha band set aside), their common type and the display bands. */
static sd_status find_bands(sd_raster *r, const char *role, sd_error *err) {
  sd_raster_info *in = &r->info;
  GDALDatasetH ds = r->ds;
  int nb = GDALGetRasterCount(ds);
  GDALDataType type = GDT_Unknown;
  for (int b = 1; b <= nb; b++) {
    GDALRasterBandH band = GDALGetRasterBand(ds, b);
    if (GDALGetRasterColorInterpretation(band) == GCI_AlphaBand && !r->alpha_band) {
      r->alpha_band = b;
      continue;
    }
    if (in->nbands == SD_MAX_BANDS) break;
    GDALDataType t = GDALGetRasterDataType(band);
    if (!supported_type(t))
      return sd_error_set(err, SD_ERR_INPUT, "%s: %s: band %d has data type %s, which sitediff does not read", role,
                          in->path, b, GDALGetDataTypeName(t));
    if (type == GDT_Unknown) type = t;
    r->band_index[in->nbands++] = b;
  }
  if (in->nbands == 0) return sd_error_set(err, SD_ERR_INPUT, "%s: %s: no data bands", role, in->path);
  snprintf(in->type, sizeof in->type, "%s", GDALGetDataTypeName(type));

  /* Band roles: colour interpretation first, then the band's name; the display bands are red, green
   * and blue when all three are known, else the first three (assumed), else grey. */
  int named[4] = {-1, -1, -1, -1}; /* red, green, blue, near-infrared */
  for (int i = 0; i < in->nbands; i++) {
    GDALRasterBandH band = GDALGetRasterBand(ds, r->band_index[i]);
    int k = role_of_colour(GDALGetRasterColorInterpretation(band));
    if (k >= 0 && named[k] < 0) named[k] = i;
  }
  for (int i = 0; i < in->nbands; i++) {
    int k = role_of_name(GDALGetDescription(GDALGetRasterBand(ds, r->band_index[i])));
    if (k >= 0 && named[k] < 0) named[k] = i;
  }
  in->nir = named[3];
  in->rgb_named = named[0] >= 0 && named[1] >= 0 && named[2] >= 0;
  for (int c = 0; c < 3; c++)
    in->rgb[c] = in->rgb_named ? named[c] : in->nbands >= 3 ? c : 0;
  return SD_OK;
}

/* The geotransform (identity when none) and the CRS (from the GCPs when that is all there is). */
static void find_georef(sd_raster *r) {
  sd_raster_info *in = &r->info;
  GDALDatasetH ds = r->ds;
  r->has_gt = GDALGetGeoTransform(ds, in->gt) == CE_None;
  if (!r->has_gt) {
    double id[6] = {0, 1, 0, 0, 0, 1};
    memcpy(in->gt, id, sizeof id);
  }
  OGRSpatialReferenceH srs = GDALGetSpatialRef(ds);
  if (!srs && GDALGetGCPCount(ds) > 0) srs = GDALGetGCPSpatialRef(ds);
  if (srs && (r->has_gt || GDALGetGCPCount(ds) > 0)) {
    char *wkt = NULL;
    if (OSRExportToWkt(srs, &wkt) == OGRERR_NONE && wkt) {
      r->wkt = strdup(wkt);
      in->georef = 1;
      short_crs(srs, in->crs, sizeof in->crs);
    }
    CPLFree(wkt);
  }
  if (!in->georef) snprintf(in->crs, sizeof in->crs, "none");
}

/* The size checks and the description of an opened dataset. */
static sd_status describe(sd_raster *r, const char *role, double max_pixels, sd_error *err) {
  sd_raster_info *in = &r->info;
  in->width = GDALGetRasterXSize(r->ds);
  in->height = GDALGetRasterYSize(r->ds);
  if (in->width < 1 || in->height < 1)
    return sd_error_set(err, SD_ERR_INPUT, "%s: %s: image has no pixels", role, in->path);
  if ((double)in->width * (double)in->height > max_pixels)
    return sd_error_set(err, SD_ERR_LIMIT,
                        "%s: %s: %d x %d pixels is more than --max-pixels %.0f; raise --max-pixels "
                        "if the image is real",
                        role, in->path, in->width, in->height, max_pixels);
  sd_status s = find_bands(r, role, err);
  if (!s) find_georef(r);
  return s;
}

sd_status sd_raster_open(const char *role, const char *path, double max_pixels, sd_raster **out, sd_error *err) {
  *out = NULL;
  struct stat st;
  if (!path || !*path) return sd_error_set(err, SD_ERR_USAGE, "%s: no file given", role);
  /* GDAL's virtual file systems (/vsimem/, /vsizip/ ...) are GDAL's to check. */
  if (strncmp(path, "/vsi", 4) != 0) {
    if (stat(path, &st) != 0) return sd_error_set(err, SD_ERR_INPUT, "%s: %s: %s", role, path, strerror(errno));
    if (S_ISDIR(st.st_mode)) return sd_error_set(err, SD_ERR_INPUT, "%s: %s: is a folder, not an image", role, path);
    if (st.st_size == 0) return sd_error_set(err, SD_ERR_INPUT, "%s: %s: file is empty", role, path);
  }

  sd_gdal_init();
  sd_raster *r = calloc(1, sizeof *r);
  if (!r) return sd_error_set(err, SD_ERR_NOMEM, "%s: out of memory", role);
  r->info.path = path;
  sd_gdal_capture cap;
  sd_gdal_capture_begin(&cap);
  sd_status s = SD_OK;
  r->ds = GDALOpenEx(path, GDAL_OF_RASTER | GDAL_OF_VERBOSE_ERROR, NULL, NULL, NULL);
  if (!r->ds)
    s = sd_gdal_error(err, SD_ERR_INPUT, &cap, "%s: %s: not a readable raster", role, path);
  else
    s = describe(r, role, max_pixels, err);
  sd_gdal_capture_end(&cap);
  if (s) {
    sd_raster_close(r);
    return s;
  }
  *out = r;
  return SD_OK;
}

void sd_raster_close(sd_raster *r) {
  if (!r) return;
  sd_gdal_capture cap; /* an input's close has nothing to report */
  sd_gdal_capture_begin(&cap);
  if (r->ds) GDALClose(r->ds);
  sd_gdal_capture_end(&cap);
  free(r->wkt);
  free(r);
}

const sd_raster_info *sd_raster_get_info(const sd_raster *r) { return &r->info; }

sd_status sd_raster_read_i32(const char *path, int32_t **data, int *width, int *height, double gt[6], sd_error *err) {
  sd_raster *r;
  sd_status s = sd_raster_open("raster", path, 1e12, &r, err);
  if (s) return s;
  int w = r->info.width, h = r->info.height;
  int32_t *buf = malloc((size_t)w * h * sizeof *buf);
  if (!buf) {
    sd_raster_close(r);
    return sd_error_set(err, SD_ERR_NOMEM, "raster: %s: out of memory", path);
  }
  sd_gdal_capture cap;
  sd_gdal_capture_begin(&cap);
  CPLErr e = GDALRasterIO(GDALGetRasterBand(r->ds, 1), GF_Read, 0, 0, w, h, buf, w, h, GDT_Int32, 0, 0);
  sd_gdal_capture_end(&cap);
  memcpy(gt, r->info.gt, 6 * sizeof(double));
  sd_raster_close(r);
  if (e != CE_None) {
    free(buf);
    return sd_gdal_read_error(err, &cap, "raster", path, "reading band 1");
  }
  *data = buf;
  *width = w;
  *height = h;
  return SD_OK;
}

static sd_status read_window(sd_raster *r, int x0, int y0, sd_planes *out, const char *what, sd_error *err) {
  const int w = out->width, rows = out->height;
  sd_gdal_capture cap;
  sd_gdal_capture_begin(&cap);
  CPLErr e = CE_None;
  for (int b = 0; b < out->nbands && e == CE_None; b++)
    e = GDALRasterIO(GDALGetRasterBand(r->ds, b + 1), GF_Read, x0, y0, w, rows, out->band[b], w, rows, GDT_Float32, 0,
                     0);
  sd_gdal_capture_end(&cap);
  return e == CE_None ? SD_OK : sd_gdal_read_error(err, &cap, "raster", r->info.path, what);
}

sd_status sd_raster_read_rows(sd_raster *r, int y0, sd_planes *out, int threads, sd_error *err) {
  char what[64];
  snprintf(what, sizeof what, "reading rows %d..%d", y0, y0 + out->height);
  sd_gdal_threads(threads); /* GTiff decodes tiles in parallel (set at open too) */
  sd_status s = read_window(r, 0, y0, out, what, err);
  sd_gdal_threads(0);
  return s;
}

sd_status sd_raster_read_window(sd_raster *r, int x0, int y0, sd_planes *out, sd_error *err) {
  char what[96];
  snprintf(what, sizeof what, "reading %d x %d pixels at (%d, %d)", out->width, out->height, x0, y0);
  return read_window(r, x0, y0, out, what, err);
}
