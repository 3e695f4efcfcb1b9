/* grid.c: the common target grid (CRS, origin, pixel size, footprint both images cover). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>
#include <cpl_string.h>
#include <gdal_alg.h>
#include <ogr_srs_api.h>

#include "io/raster_priv.h"

/* Extent (minx, miny, maxx, maxy) and square pixel size of r expressed in dst_wkt. */
static sd_status extent_in(const sd_raster *r, const char *dst_wkt, double ext[4], double *pixel,
                           const sd_gdal_capture *cap, sd_error *err) {
  const double *gt = r->info.gt;
  if (r->has_gt && gt[2] == 0 && gt[4] == 0 && r->wkt && dst_wkt) {
    OGRSpatialReferenceH a = OSRNewSpatialReference(r->wkt), b = OSRNewSpatialReference(dst_wkt);
    int same = OSRIsSame(a, b);
    OSRDestroySpatialReference(a);
    OSRDestroySpatialReference(b);
    if (same) {
      double x0 = gt[0], x1 = gt[0] + gt[1] * r->info.width;
      double y0 = gt[3], y1 = gt[3] + gt[5] * r->info.height;
      ext[0] = fmin(x0, x1);
      ext[2] = fmax(x0, x1);
      ext[1] = fmin(y0, y1);
      ext[3] = fmax(y0, y1);
      *pixel = sqrt(fabs(gt[1] * gt[5]));
      return SD_OK;
    }
  }
  char **opts = CSLSetNameValue(NULL, "DST_SRS", dst_wkt);
  void *tr = GDALCreateGenImgProjTransformer2(r->ds, NULL, opts);
  CSLDestroy(opts);
  if (!tr)
    return sd_gdal_error(err, SD_ERR_INPUT, cap, "grid: %s: cannot transform its footprint into the grid CRS",
                         r->info.path);
  double ogt[6];
  int w, h;
  CPLErr e = GDALSuggestedWarpOutput2(r->ds, GDALGenImgProjTransform, tr, ogt, &w, &h, ext, 0);
  GDALDestroyGenImgProjTransformer(tr);
  if (e != CE_None)
    return sd_gdal_error(err, SD_ERR_INPUT, cap, "grid: %s: footprint cannot be expressed in the grid CRS",
                         r->info.path);
  *pixel = ogt[1];
  return SD_OK;
}

static void ground_size(sd_grid *g) {
  g->pixel_w_m = g->pixel_h_m = 1.0;
  if (!g->wkt) return;
  OGRSpatialReferenceH srs = OSRNewSpatialReference(g->wkt);
  if (!srs) return;
  double px = fabs(g->gt[1]), py = fabs(g->gt[5]);
  if (OSRIsGeographic(srs)) {
    double lat = g->gt[3] + g->gt[5] * g->height * 0.5;
    g->pixel_w_m = px * 111320.0 * cos(lat * M_PI / 180.0);
    g->pixel_h_m = py * 110574.0;
  } else {
    double m = OSRGetLinearUnits(srs, NULL);
    g->pixel_w_m = px * m;
    g->pixel_h_m = py * m;
  }
  OSRDestroySpatialReference(srs);
}

static sd_status grid_compute(const sd_raster *before, const sd_raster *after, sd_grid_ref ref, double resolution,
                              sd_grid *g, const sd_gdal_capture *cap, sd_error *err) {
  const sd_raster_info *bi = &before->info, *ai = &after->info;
  if (bi->georef != ai->georef) {
    const sd_raster_info *has = bi->georef ? bi : ai, *hasnt = bi->georef ? ai : bi;
    return sd_error_set(err, SD_ERR_INPUT,
                        "grid: %s is georeferenced but %s is not (no CRS or geotransform): "
                        "georeference both, or neither to compare them as one pixel grid",
                        has->path, hasnt->path);
  }
  if (!bi->georef) {
    /* One pixel grid: pixel (x, y) of before is pixel (x, y) of after. */
    g->width = bi->width < ai->width ? bi->width : ai->width;
    g->height = bi->height < ai->height ? bi->height : ai->height;
    double id[6] = {0, 1, 0, 0, 0, 1};
    memcpy(g->gt, id, sizeof id);
    snprintf(g->crs, sizeof g->crs, "none");
    ground_size(g);
    return SD_OK;
  }

  const sd_raster *R = ref == SD_GRID_AFTER ? after : before;
  const sd_raster *O = R == before ? after : before;
  double ext_r[4], ext_o[4], pix_r, pix_o;
  sd_status s = extent_in(R, R->wkt, ext_r, &pix_r, cap, err);
  if (!s) s = extent_in(O, R->wkt, ext_o, &pix_o, cap, err);
  if (s) return s;

  double px, py, ox, oy;
  const double *rgt = R->info.gt;
  if (R->has_gt && rgt[2] == 0 && rgt[4] == 0) {
    px = fabs(rgt[1]);
    py = fabs(rgt[5]);
    ox = rgt[1] > 0 ? rgt[0] : rgt[0] + rgt[1] * R->info.width;
    oy = rgt[5] < 0 ? rgt[3] : rgt[3] + rgt[5] * R->info.height;
  } else {
    px = py = pix_r;
    ox = ext_r[0];
    oy = ext_r[3];
  }
  if (ref == SD_GRID_FINER && pix_o < px) px = py = pix_o;
  if (ref == SD_GRID_COARSER && pix_o > px) px = py = pix_o;
  if (resolution > 0) px = py = resolution;

  double minx = fmax(ext_r[0], ext_o[0]), maxx = fmin(ext_r[2], ext_o[2]);
  double miny = fmax(ext_r[1], ext_o[1]), maxy = fmin(ext_r[3], ext_o[3]);
  const double eps = 1e-6;
  double c0 = ceil((minx - ox) / px - eps), c1 = floor((maxx - ox) / px + eps);
  double r0 = ceil((oy - maxy) / py - eps), r1 = floor((oy - miny) / py + eps);
  if (!(c1 - c0 >= 1 && r1 - r0 >= 1))
    return sd_error_set(err, SD_ERR_NOOVERLAP, "grid: %s and %s do not overlap on the ground", bi->path, ai->path);
  if ((c1 - c0) * (r1 - r0) > 4e9 || c1 - c0 > 2e9 || r1 - r0 > 2e9)
    return sd_error_set(err, SD_ERR_LIMIT, "grid: the common grid would be %.0f x %.0f pixels", c1 - c0, r1 - r0);
  g->width = (int)(c1 - c0);
  g->height = (int)(r1 - r0);
  g->gt[0] = ox + c0 * px;
  g->gt[1] = px;
  g->gt[2] = 0;
  g->gt[3] = oy - r0 * py;
  g->gt[4] = 0;
  g->gt[5] = -py;
  g->wkt = strdup(R->wkt);
  g->georef = 1;
  snprintf(g->crs, sizeof g->crs, "%s", R->info.crs);
  ground_size(g);
  return SD_OK;
}

sd_status sd_grid_compute(const sd_raster *before, const sd_raster *after, sd_grid_ref ref, double resolution,
                          sd_grid *g, sd_error *err) {
  memset(g, 0, sizeof *g);
  sd_gdal_capture cap;
  sd_gdal_capture_begin(&cap);
  sd_status s = grid_compute(before, after, ref, resolution, g, &cap, err);
  sd_gdal_capture_end(&cap);
  return s;
}

void sd_grid_free(sd_grid *g) {
  free(g->wkt);
  g->wkt = NULL;
}

struct sd_geo {
  OGRCoordinateTransformationH ct;
  double gt[6];
};

sd_status sd_geo_create(const sd_grid *grid, sd_geo **out, sd_error *err) {
  *out = NULL;
  if (!grid->georef) return SD_OK;
  sd_geo *geo = calloc(1, sizeof *geo);
  if (!geo) return sd_error_set(err, SD_ERR_NOMEM, "geo: out of memory");
  memcpy(geo->gt, grid->gt, sizeof geo->gt);
  sd_gdal_capture cap;
  sd_gdal_capture_begin(&cap);
  OGRSpatialReferenceH src = OSRNewSpatialReference(grid->wkt), dst = OSRNewSpatialReference(NULL);
  OSRSetAxisMappingStrategy(src, OAMS_TRADITIONAL_GIS_ORDER);
  OSRImportFromEPSG(dst, 4326);
  OSRSetAxisMappingStrategy(dst, OAMS_TRADITIONAL_GIS_ORDER);
  geo->ct = OCTNewCoordinateTransformation(src, dst);
  OSRDestroySpatialReference(src);
  OSRDestroySpatialReference(dst);
  sd_gdal_capture_end(&cap);
  if (!geo->ct) {
    free(geo);
    return sd_gdal_error(err, SD_ERR_INPUT, &cap, "geo: no transformation from %s to WGS84", grid->crs);
  }
  *out = geo;
  return SD_OK;
}

void sd_geo_lonlat(const sd_geo *geo, double x, double y, double *lon, double *lat) {
  if (!geo) {
    *lon = *lat = NAN;
    return;
  }
  double X = geo->gt[0] + x * geo->gt[1] + y * geo->gt[2];
  double Y = geo->gt[3] + x * geo->gt[4] + y * geo->gt[5];
  sd_gdal_capture cap; /* a point PROJ cannot transform is NaN, as said */
  sd_gdal_capture_begin(&cap);
  if (!OCTTransform(geo->ct, 1, &X, &Y, NULL)) X = Y = NAN;
  sd_gdal_capture_end(&cap);
  *lon = X;
  *lat = Y;
}

void sd_geo_free(sd_geo *geo) {
  if (!geo) return;
  sd_gdal_capture cap;
  sd_gdal_capture_begin(&cap);
  OCTDestroyCoordinateTransformation(geo->ct);
  sd_gdal_capture_end(&cap);
  free(geo);
}

sd_status sd_wkt_from_epsg(int epsg, char **wkt, sd_error *err) {
  sd_gdal_capture cap;
  sd_gdal_capture_begin(&cap);
  OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
  char *w = NULL;
  if (OSRImportFromEPSG(srs, epsg) != OGRERR_NONE || OSRExportToWkt(srs, &w) != OGRERR_NONE) {
    OSRDestroySpatialReference(srs);
    CPLFree(w);
    sd_gdal_capture_end(&cap);
    return sd_gdal_error(err, SD_ERR_USAGE, &cap, "crs: EPSG:%d is not a known CRS", epsg);
  }
  sd_gdal_capture_end(&cap);
  *wkt = strdup(w);
  CPLFree(w);
  OSRDestroySpatialReference(srs);
  return SD_OK;
}

static sd_status transform_points(const char *src_wkt, const char *dst_wkt, int n, double *x, double *y,
                                  const sd_gdal_capture *cap, sd_error *err) {
  OGRSpatialReferenceH a = OSRNewSpatialReference(src_wkt), b = OSRNewSpatialReference(dst_wkt);
  OSRSetAxisMappingStrategy(a, OAMS_TRADITIONAL_GIS_ORDER);
  OSRSetAxisMappingStrategy(b, OAMS_TRADITIONAL_GIS_ORDER);
  OGRCoordinateTransformationH ct = OCTNewCoordinateTransformation(a, b);
  OSRDestroySpatialReference(a);
  OSRDestroySpatialReference(b);
  if (!ct) return sd_gdal_error(err, SD_ERR_INTERNAL, cap, "crs: no transformation between the two CRS");
  int ok = OCTTransform(ct, n, x, y, NULL);
  OCTDestroyCoordinateTransformation(ct);
  return ok ? SD_OK : sd_gdal_error(err, SD_ERR_INTERNAL, cap, "crs: transforming %d points failed", n);
}

sd_status sd_transform_points(const char *src_wkt, const char *dst_wkt, int n, double *x, double *y, sd_error *err) {
  sd_gdal_capture cap;
  sd_gdal_capture_begin(&cap);
  sd_status s = transform_points(src_wkt, dst_wkt, n, x, y, &cap, err);
  sd_gdal_capture_end(&cap);
  return s;
}

int sd_wkt_is_geographic(const char *wkt) {
  sd_gdal_capture cap;
  sd_gdal_capture_begin(&cap);
  OGRSpatialReferenceH s = OSRNewSpatialReference(wkt);
  int g = s && OSRIsGeographic(s);
  if (s) OSRDestroySpatialReference(s);
  sd_gdal_capture_end(&cap);
  return g;
}
