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
  sd_gdal_capture cap;
  sd_gdal_capture_begin(&cap);
  GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_RASTER | GDAL_OF_VERBOSE_ERROR, NULL, NULL, NULL);
  sd_gdal_capture_end(&cap);
  if (!ds)
    return sd_error_set(err, SD_ERR_INPUT, "%s: %s: not a readable raster%s%s", role, path, cap.last[0] ? ": " : "",
                        cap.last);

  sd_raster *r = calloc(1, sizeof *r);
  if (!r) {
    GDALClose(ds);
    return sd_error_set(err, SD_ERR_NOMEM, "%s: out of memory", role);
  }
  r->ds = ds;
  sd_raster_info *in = &r->info;
  in->path = path;
  in->width = GDALGetRasterXSize(ds);
  in->height = GDALGetRasterYSize(ds);
  sd_status st_code = SD_OK;
  if (in->width < 1 || in->height < 1) {
    st_code = sd_error_set(err, SD_ERR_INPUT, "%s: %s: image has no pixels", role, path);
    goto fail;
  }
  if ((double)in->width * (double)in->height > max_pixels) {
    st_code = sd_error_set(err, SD_ERR_LIMIT,
                           "%s: %s: %d x %d pixels is more than --max-pixels %.0f; raise --max-pixels "
                           "if the image is real",
                           role, path, in->width, in->height, max_pixels);
    goto fail;
  }

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
    if (!supported_type(t)) {
      st_code = sd_error_set(err, SD_ERR_INPUT, "%s: %s: band %d has data type %s, which sitediff does not read", role,
                             path, b, GDALGetDataTypeName(t));
      goto fail;
    }
    if (type == GDT_Unknown) type = t;
    r->band_index[in->nbands++] = b;
  }
  if (in->nbands == 0) {
    st_code = sd_error_set(err, SD_ERR_INPUT, "%s: %s: no data bands", role, path);
    goto fail;
  }
  snprintf(in->type, sizeof in->type, "%s", GDALGetDataTypeName(type));

  /* Display bands: colour interpretation first, else the first three, else grey. */
  in->rgb[0] = in->rgb[1] = in->rgb[2] = -1;
  for (int i = 0; i < in->nbands; i++) {
    GDALColorInterp ci = GDALGetRasterColorInterpretation(GDALGetRasterBand(ds, r->band_index[i]));
    if (ci == GCI_RedBand) in->rgb[0] = i;
    if (ci == GCI_GreenBand) in->rgb[1] = i;
    if (ci == GCI_BlueBand) in->rgb[2] = i;
  }
  if (in->rgb[0] < 0 || in->rgb[1] < 0 || in->rgb[2] < 0) {
    if (in->nbands >= 3) {
      in->rgb[0] = 0;
      in->rgb[1] = 1;
      in->rgb[2] = 2;
    } else {
      in->rgb[0] = in->rgb[1] = in->rgb[2] = 0;
    }
  }

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
  *out = r;
  return SD_OK;

fail:
  GDALClose(ds);
  free(r);
  return st_code;
}

void sd_raster_close(sd_raster *r) {
  if (!r) return;
  if (r->ds) GDALClose(r->ds);
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
  CPLErr e = GDALRasterIO(GDALGetRasterBand(r->ds, 1), GF_Read, 0, 0, w, h, buf, w, h, GDT_Int32, 0, 0);
  memcpy(gt, r->info.gt, 6 * sizeof(double));
  sd_raster_close(r);
  if (e != CE_None) {
    free(buf);
    return sd_error_set(err, SD_ERR_INPUT, "raster: %s: read failed", path);
  }
  *data = buf;
  *width = w;
  *height = h;
  return SD_OK;
}

sd_status sd_raster_read_rows(sd_raster *r, int y0, sd_planes *out, int threads, sd_error *err) {
  const int W = out->width, rows = out->height;
  sd_gdal_threads(threads); /* GTiff decodes tiles in parallel (set at open too) */
  CPLErr e = CE_None;
  for (int b = 0; b < out->nbands && e == CE_None; b++)
    e = GDALRasterIO(GDALGetRasterBand(r->ds, b + 1), GF_Read, 0, y0, W, rows, out->band[b], W, rows, GDT_Float32, 0,
                     0);
  sd_gdal_threads(0);
  if (e != CE_None)
    return sd_error_set(err, SD_ERR_INPUT, "raster: %s: reading rows %d..%d failed: %s", r->info.path, y0, y0 + rows,
                        CPLGetLastErrorMsg());
  return SD_OK;
}
