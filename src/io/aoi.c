/* aoi.c: areas of interest (--aoi): polygons from any vector file OGR reads, in any CRS, put
 * into grid pixel coordinates; rasterised window by window, so memory follows the window. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>
#include <cpl_string.h>
#include <gdal.h>
#include <gdal_alg.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "io/io.h"

struct sd_aoi {
  int n;
  OGRGeometryH *geom; /* grid pixel coordinates (x right, y down) */
  char **name;
  double *area_px; /* each polygon's area in grid pixels */
};

/* Grid pixel coordinates from the grid's CRS, in place (the inverse geotransform). */
static void to_pixels(OGRGeometryH g, const double inv[6]) {
  int parts = OGR_G_GetGeometryCount(g);
  if (parts > 0) {
    for (int i = 0; i < parts; i++)
      to_pixels(OGR_G_GetGeometryRef(g, i), inv);
    return;
  }
  for (int i = 0; i < OGR_G_GetPointCount(g); i++) {
    double X = OGR_G_GetX(g, i), Y = OGR_G_GetY(g, i);
    OGR_G_SetPoint_2D(g, i, inv[0] + X * inv[1] + Y * inv[2], inv[3] + X * inv[4] + Y * inv[5]);
  }
}

static sd_status add_polygon(sd_aoi *a, OGRGeometryH g, const char *name, sd_error *err) {
  OGRGeometryH *geom = realloc(a->geom, sizeof *geom * (size_t)(a->n + 1));
  char **names = geom ? realloc(a->name, sizeof *names * (size_t)(a->n + 1)) : NULL;
  double *area = names ? realloc(a->area_px, sizeof *area * (size_t)(a->n + 1)) : NULL;
  if (geom) a->geom = geom;
  if (names) a->name = names;
  if (area) a->area_px = area;
  char *copy = area ? strdup(name) : NULL;
  if (!copy) {
    OGR_G_DestroyGeometry(g);
    return sd_error_set(err, SD_ERR_NOMEM, "aoi: out of memory");
  }
  a->geom[a->n] = g;
  a->name[a->n] = copy;
  a->area_px[a->n] = OGR_G_Area(g);
  a->n++;
  return SD_OK;
}

sd_status sd_aoi_load(const char *path, const sd_grid *grid, sd_aoi **out, sd_error *err) {
  *out = NULL;
  if (!grid->georef || !grid->wkt)
    return sd_error_set(err, SD_ERR_INPUT, "aoi: %s: the images have no georeference to put the areas on", path);
  double inv[6];
  if (!GDALInvGeoTransform((double *)grid->gt, inv))
    return sd_error_set(err, SD_ERR_INTERNAL, "aoi: the grid's geotransform cannot be inverted");
  sd_gdal_init();
  sd_gdal_capture cap;
  sd_gdal_capture_begin(&cap);
  GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_VERBOSE_ERROR, NULL, NULL, NULL);
  if (!ds) {
    sd_status s = sd_gdal_error(err, SD_ERR_INPUT, &cap, "aoi: %s: cannot open as a vector file", path);
    sd_gdal_capture_end(&cap);
    return s;
  }
  sd_aoi *a = calloc(1, sizeof *a);
  OGRSpatialReferenceH gsrs = OSRNewSpatialReference(grid->wkt);
  OSRSetAxisMappingStrategy(gsrs, OAMS_TRADITIONAL_GIS_ORDER);
  sd_status s = a ? SD_OK : sd_error_set(err, SD_ERR_NOMEM, "aoi: out of memory");
  for (int l = 0; !s && l < GDALDatasetGetLayerCount(ds); l++) {
    OGRLayerH layer = GDALDatasetGetLayer(ds, l);
    OGRSpatialReferenceH lsrs = OGR_L_GetSpatialRef(layer);
    OGRCoordinateTransformationH ct = NULL;
    if (lsrs) {
      OGRSpatialReferenceH src = OSRClone(lsrs);
      OSRSetAxisMappingStrategy(src, OAMS_TRADITIONAL_GIS_ORDER);
      ct = OCTNewCoordinateTransformation(src, gsrs);
      OSRDestroySpatialReference(src);
      if (!ct)
        s = sd_gdal_error(err, SD_ERR_INPUT, &cap, "aoi: %s: no transformation to the grid's %s", path, grid->crs);
    }
    OGRFeatureH f;
    OGR_L_ResetReading(layer);
    while (!s && (f = OGR_L_GetNextFeature(layer))) {
      OGRGeometryH g = OGR_F_GetGeometryRef(f);
      OGRwkbGeometryType t = g ? wkbFlatten(OGR_G_GetGeometryType(g)) : wkbUnknown;
      if (t == wkbPolygon || t == wkbMultiPolygon) {
        OGRGeometryH c = OGR_G_Clone(g);
        OGR_G_FlattenTo2D(c);
        if (ct && OGR_G_Transform(c, ct) != OGRERR_NONE) {
          OGR_G_DestroyGeometry(c);
          s = sd_gdal_error(err, SD_ERR_INPUT, &cap, "aoi: %s: a polygon cannot be put on the grid's %s", path,
                            grid->crs);
        } else {
          to_pixels(c, inv);
          int k = OGR_F_GetFieldIndex(f, "name");
          if (k < 0) k = OGR_F_GetFieldIndex(f, "Name");
          char fallback[32];
          snprintf(fallback, sizeof fallback, "aoi-%d", a->n + 1);
          const char *nm = k >= 0 && OGR_F_IsFieldSetAndNotNull(f, k) ? OGR_F_GetFieldAsString(f, k) : fallback;
          s = add_polygon(a, c, *nm ? nm : fallback, err);
        }
      }
      OGR_F_Destroy(f);
    }
    if (ct) OCTDestroyCoordinateTransformation(ct);
  }
  OSRDestroySpatialReference(gsrs);
  GDALClose(ds);
  sd_gdal_capture_end(&cap);
  if (!s && a->n == 0) s = sd_error_set(err, SD_ERR_INPUT, "aoi: %s: holds no polygon", path);
  if (!s && a->n > SD_AOI_MAX)
    s = sd_error_set(err, SD_ERR_INPUT, "aoi: %s: %d polygons, more than the %d allowed", path, a->n, SD_AOI_MAX);
  if (s) {
    sd_aoi_free(a);
    return s;
  }
  *out = a;
  return SD_OK;
}

int sd_aoi_count(const sd_aoi *a) { return a ? a->n : 0; }
const char *sd_aoi_name(const sd_aoi *a, int i) { return a->name[i]; }
double sd_aoi_area_px(const sd_aoi *a, int i) { return a->area_px[i]; }

sd_status sd_aoi_rasterize(const sd_aoi *a, int x0, int y0, int w, int h, int step, uint8_t *ids, sd_error *err) {
  memset(ids, 0, (size_t)w * h);
  GDALDatasetH mem = GDALCreate(GDALGetDriverByName("MEM"), "", w, h, 1, GDT_Byte, NULL);
  if (!mem) return sd_error_set(err, SD_ERR_NOMEM, "aoi: out of memory for a %d x %d window", w, h);
  double gt[6] = {x0, step, 0, y0, 0, step}; /* pixel coordinates: y grows down */
  GDALSetGeoTransform(mem, gt);
  int band = 1;
  double *burn = malloc(sizeof *burn * (size_t)a->n);
  sd_gdal_capture cap;
  sd_gdal_capture_begin(&cap);
  CPLErr e = CE_Failure;
  if (burn) {
    for (int i = 0; i < a->n; i++)
      burn[i] = i + 1; /* a later polygon wins where two overlap */
    e = GDALRasterizeGeometries(mem, 1, &band, a->n, a->geom, NULL, NULL, burn, NULL, NULL, NULL);
  }
  if (e == CE_None) e = GDALRasterIO(GDALGetRasterBand(mem, 1), GF_Read, 0, 0, w, h, ids, w, h, GDT_Byte, 0, 0);
  sd_status s = e == CE_None ? SD_OK : sd_gdal_error(err, SD_ERR_INTERNAL, &cap, "aoi: rasterising failed");
  sd_gdal_capture_end(&cap);
  free(burn);
  GDALClose(mem);
  return s;
}

int sd_aoi_at(const sd_aoi *a, double x, double y) {
  OGRGeometryH p = OGR_G_CreateGeometry(wkbPoint);
  OGR_G_SetPoint_2D(p, 0, x, y);
  int best = 0;
  double dist = INFINITY;
  for (int i = a->n - 1; i >= 0 && dist > 0; i--) { /* the later polygon, as rasterised */
    double d = OGR_G_Contains(a->geom[i], p) ? 0 : OGR_G_Distance(a->geom[i], p);
    if (d < dist) {
      dist = d;
      best = i + 1;
    }
  }
  OGR_G_DestroyGeometry(p);
  return best;
}

void sd_aoi_free(sd_aoi *a) {
  if (!a) return;
  for (int i = 0; i < a->n; i++) {
    OGR_G_DestroyGeometry(a->geom[i]);
    free(a->name[i]);
  }
  free(a->geom);
  free(a->name);
  free(a->area_px);
  free(a);
}
