/* vector.c: change objects as GeoJSON polygons (WGS84, through OGR), one feature per object. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <gdal_alg.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "io/io.h"
#include "register/register.h"

/* Polygonizes the mask GeoTIFF (0 no change, 1 change, 255 nodata) into a FlatGeobuf scratch
 * file with field "dn" (grid CRS, or pixel coordinates when the grid is not georeferenced), then
 * opens it for reading. GDAL reads the mask row by row and the file is written polygon by
 * polygon, so this holds neither a grid-sized image nor the polygons (an in-memory layer held
 * them all, and handed out copies: twice). The nodata regions come out as polygons of their own,
 * which the caller skips. Runs inside the caller's capture. */
static sd_status polygonize(const char *mask_path, const char *scratch, const sd_gdal_capture *cap,
                            GDALDatasetH *mem_out, OGRLayerH *layer_out, double inv[6], sd_error *err) {
  GDALDatasetH rast = GDALOpenEx(mask_path, GDAL_OF_RASTER | GDAL_OF_VERBOSE_ERROR, NULL, NULL, NULL);
  if (!rast) return sd_gdal_error(err, SD_ERR_OUTPUT, cap, "objects: %s: cannot read the mask back", mask_path);
  double gt[6];
  GDALGetGeoTransform(rast, gt); /* the default (identity) when not georeferenced, as polygons get */
  if (!GDALInvGeoTransform(gt, inv)) {
    GDALClose(rast);
    return sd_error_set(err, SD_ERR_INTERNAL, "objects: %s: the mask's geotransform cannot be inverted", mask_path);
  }
  char vpath[4300]; /* every write checked: a full disk is named, not met later as an unreadable file */
  sd_checked_path(scratch, vpath, sizeof vpath);
  GDALDatasetH vec = GDALCreate(GDALGetDriverByName("FlatGeobuf"), vpath, 0, 0, 0, GDT_Unknown, NULL);
  if (!vec) {
    GDALClose(rast);
    sd_checked_result(scratch);
    return sd_gdal_error(err, SD_ERR_OUTPUT, cap, "objects: %s: cannot create the scratch file of its polygons",
                         mask_path);
  }
  OGRSpatialReferenceH srs = NULL;
  const char *wkt = GDALGetProjectionRef(rast);
  if (wkt && *wkt) {
    srs = OSRNewSpatialReference(wkt);
    OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
  }
  /* Without a spatial index FlatGeobuf writes each polygon as it comes: none is held. */
  char **lco = CSLSetNameValue(NULL, "SPATIAL_INDEX", "NO");
  OGRLayerH layer = vec ? GDALDatasetCreateLayer(vec, "objects", srs, wkbPolygon, lco) : NULL;
  CSLDestroy(lco);
  if (srs) OSRDestroySpatialReference(srs);
  OGRFieldDefnH fd = OGR_Fld_Create("dn", OFTInteger);
  OGR_L_CreateField(layer, fd, TRUE);
  OGR_Fld_Destroy(fd);
  char **popts = CSLSetNameValue(NULL, "8CONNECTED", "8");
  GDALRasterBandH band = GDALGetRasterBand(rast, 1);
  CPLErr e = GDALPolygonize(band, band, layer, 0, popts, NULL, NULL);
  CSLDestroy(popts);
  GDALClose(rast);
  GDALClose(vec); /* written; read back in order */
  int written = sd_checked_result(scratch);
  if (written > 0) {
    unlink(scratch);
    errno = written;
    return sd_error_set(err, SD_ERR_OUTPUT, "objects: %s: write failed: %s", scratch, strerror(written));
  }
  vec = e == CE_None ? GDALOpenEx(scratch, GDAL_OF_VECTOR | GDAL_OF_VERBOSE_ERROR, NULL, NULL, NULL) : NULL;
  if (!vec) {
    unlink(scratch);
    return sd_gdal_error(err, SD_ERR_OUTPUT, cap, "objects: %s: polygonizing the mask failed", mask_path);
  }
  *mem_out = vec;
  *layer_out = GDALDatasetGetLayer(vec, 0);
  return SD_OK;
}

/* The grid pixel of a component's first pixel in raster order: the top-left corner of its
 * polygon's outer ring (the topmost vertex, leftmost among those), through the inverse
 * geotransform; vertices are pixel corners, so rounding is exact. */
static void first_pixel(OGRGeometryH poly, const double *inv, int *px, int *py) {
  OGRGeometryH ring = OGR_G_GetGeometryRef(poly, 0);
  int n = ring ? OGR_G_GetPointCount(ring) : 0;
  *px = *py = -1;
  for (int i = 0; i < n; i++) {
    double gx = OGR_G_GetX(ring, i), gy = OGR_G_GetY(ring, i);
    int x = (int)lround(inv[0] + inv[1] * gx + inv[2] * gy), y = (int)lround(inv[3] + inv[4] * gx + inv[5] * gy);
    if (*py < 0 || y < *py || (y == *py && x < *px)) {
      *px = x;
      *py = y;
    }
  }
}

/* A GeoJSON file being written: GDAL streams it to disk through a checked handle (checked.c):
 * its GeoJSON driver ignores its own write errors, so a full disk left a truncated file and no
 * error, and a file held in /vsimem/ first grew with the objects (338 MB for 355,620). */
typedef struct geojson_out {
  GDALDatasetH ds;
  OGRLayerH layer;
  OGRCoordinateTransformationH ct; /* grid CRS to WGS84, NULL when not georeferenced */
  char vpath[4200];
} geojson_out;

/* Opens a GeoJSON layer in WGS84 (or without CRS when the grid is not georeferenced) and the
 * transformation from grid coordinates into it. */
static sd_status open_geojson(const char *path, const char *what, const char *name, const sd_grid *grid,
                              OGRwkbGeometryType type, const sd_gdal_capture *cap, geojson_out *g, sd_error *err) {
  memset(g, 0, sizeof *g);
  sd_checked_path(path, g->vpath, sizeof g->vpath);
  OGRSpatialReferenceH wgs84 = NULL;
  if (grid->wkt) {
    OGRSpatialReferenceH src = OSRNewSpatialReference(grid->wkt);
    OSRSetAxisMappingStrategy(src, OAMS_TRADITIONAL_GIS_ORDER);
    wgs84 = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(wgs84, 4326);
    OSRSetAxisMappingStrategy(wgs84, OAMS_TRADITIONAL_GIS_ORDER);
    g->ct = OCTNewCoordinateTransformation(src, wgs84);
    OSRDestroySpatialReference(src);
  }
  char **lopts = NULL;
  if (g->ct) lopts = CSLSetNameValue(lopts, "RFC7946", "YES");
  lopts = CSLSetNameValue(lopts, "COORDINATE_PRECISION", "7");
  g->ds = GDALCreate(GDALGetDriverByName("GeoJSON"), g->vpath, 0, 0, 0, GDT_Unknown, NULL);
  g->layer = g->ds ? GDALDatasetCreateLayer(g->ds, name, wgs84, type, lopts) : NULL;
  CSLDestroy(lopts);
  if (wgs84) OSRDestroySpatialReference(wgs84);
  if (!g->layer) {
    if (g->ds) GDALClose(g->ds);
    if (g->ct) OCTDestroyCoordinateTransformation(g->ct);
    sd_checked_result(path);
    unlink(path);
    memset(g, 0, sizeof *g);
    return sd_gdal_error(err, SD_ERR_OUTPUT, cap, "%s: %s: cannot create GeoJSON", what, path);
  }
  return SD_OK;
}

/* Closes g; an error when anything failed (s, GDAL's messages, a write on disk), and then no file. */
static sd_status close_geojson(geojson_out *g, sd_status s, const char *path, const char *what,
                               const sd_gdal_capture *cap, sd_error *err) {
  if (g->ds) GDALClose(g->ds);
  if (g->ct) OCTDestroyCoordinateTransformation(g->ct);
  int written = g->ds ? sd_checked_result(path) : -1;
  if (!s && cap->failures) s = sd_gdal_error(err, SD_ERR_OUTPUT, cap, "%s: %s: writing GeoJSON failed", what, path);
  if (!s && written < 0) s = sd_error_set(err, SD_ERR_INTERNAL, "%s: %s: GDAL wrote no GeoJSON", what, path);
  if (!s && written > 0) {
    errno = written;
    s = sd_error_set(err, SD_ERR_OUTPUT, "%s: %s: write failed: %s", what, path, strerror(written));
  }
  if (s) unlink(path);
  memset(g, 0, sizeof *g);
  return s;
}

static void add_real(OGRFeatureH f, const char *name, double v) {
  int i = OGR_F_GetFieldIndex(f, name);
  if (isfinite(v))
    OGR_F_SetFieldDouble(f, i, v);
  else
    OGR_F_SetFieldNull(f, i);
}

/* One geometry per object id 1..n from the polygons of the mask (several polygons of one id
 * become a multipolygon); NULL when out of memory. */
static OGRGeometryH *object_geometries(OGRLayerH poly, const double *inv, int32_t (*id_at)(const void *, int, int),
                                       const void *ctx, int n) {
  OGRGeometryH *geoms = calloc((size_t)n + 1, sizeof *geoms);
  OGRFeatureH f;
  OGR_L_ResetReading(poly);
  while (geoms && (f = OGR_L_GetNextFeature(poly))) {
    int id = 0;
    if (OGR_F_GetFieldAsInteger(f, 0) == 1) {
      int px, py;
      first_pixel(OGR_F_GetGeometryRef(f), inv, &px, &py);
      id = id_at(ctx, px, py);
    }
    if (id >= 1 && id <= n) {
      OGRGeometryH g = OGR_F_StealGeometry(f);
      if (!geoms[id]) {
        geoms[id] = g;
      } else {
        if (wkbFlatten(OGR_G_GetGeometryType(geoms[id])) != wkbMultiPolygon)
          geoms[id] = OGR_G_ForceToMultiPolygon(geoms[id]);
        OGR_G_AddGeometryDirectly(geoms[id], g);
      }
    }
    OGR_F_Destroy(f);
  }
  return geoms;
}

static void free_geometries(OGRGeometryH *geoms, int n) {
  for (int i = 0; geoms && i <= n; i++)
    if (geoms[i]) OGR_G_DestroyGeometry(geoms[i]);
  free(geoms);
}

/* The properties of an object, in this order in every feature. */
static void add_object_fields(OGRLayerH layer, int with_aoi) {
  static const struct {
    const char *name;
    OGRFieldType type;
  } fields[] = {
      {"id", OFTInteger},
      {"class", OFTString},
      {"area_px", OFTInteger64},
      {"area_m2", OFTReal},
      {"bbox_x0", OFTInteger},
      {"bbox_y0", OFTInteger},
      {"bbox_x1", OFTInteger},
      {"bbox_y1", OFTInteger},
      {"centroid_x", OFTReal},
      {"centroid_y", OFTReal},
      {"lon", OFTReal},
      {"lat", OFTReal},
      {"mean_magnitude", OFTReal},
      {"max_magnitude", OFTReal},
      {"elongation", OFTReal},
      {"orientation_deg", OFTReal},
      {"length_m", OFTReal},
      {"width_m", OFTReal},
      {"rectangularity", OFTReal},
      {"thickness_m", OFTReal},
      {"parts", OFTInteger},
      {"sign", OFTString},
      {"mean_signed_change", OFTReal},
      {"max_signed_change", OFTReal},
      {"band_change", OFTString},
      {"contrast_before", OFTReal},
      {"contrast_after", OFTReal},
      {"score", OFTReal},
      {"rank", OFTInteger},
      {"truncated", OFTInteger},
      {"first_seen", OFTString},
      {"absent_on", OFTString},
  };
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    OGRFieldDefnH d = OGR_Fld_Create(fields[i].name, fields[i].type);
    if (!strcmp(fields[i].name, "truncated")) OGR_Fld_SetSubType(d, OFSTBoolean);
    OGR_L_CreateField(layer, d, TRUE);
    OGR_Fld_Destroy(d);
  }
  if (with_aoi) { /* the area of interest the object is in (--aoi) */
    OGRFieldDefnH d = OGR_Fld_Create("aoi", OFTString);
    OGR_L_CreateField(layer, d, TRUE);
    OGR_Fld_Destroy(d);
  }
}

static void set_int(OGRFeatureH f, const char *name, int v) {
  OGR_F_SetFieldInteger(f, OGR_F_GetFieldIndex(f, name), v);
}

/* A feature holding the object's properties (no geometry yet). */
static OGRFeatureH object_feature(OGRFeatureDefnH defn, const sd_object *o, const char *first_seen,
                                  const char *absent_on, const sd_aoi *aoi) {
  OGRFeatureH nf = OGR_F_Create(defn);
  set_int(nf, "id", o->id);
  OGR_F_SetFieldString(nf, OGR_F_GetFieldIndex(nf, "class"), sd_class_name(o->cls));
  OGR_F_SetFieldInteger64(nf, OGR_F_GetFieldIndex(nf, "area_px"), o->area_px);
  add_real(nf, "area_m2", o->area_m2);
  set_int(nf, "bbox_x0", o->x0);
  set_int(nf, "bbox_y0", o->y0);
  set_int(nf, "bbox_x1", o->x1);
  set_int(nf, "bbox_y1", o->y1);
  add_real(nf, "centroid_x", o->cx);
  add_real(nf, "centroid_y", o->cy);
  add_real(nf, "lon", o->lon);
  add_real(nf, "lat", o->lat);
  add_real(nf, "mean_magnitude", o->mean_mag);
  add_real(nf, "max_magnitude", o->max_mag);
  add_real(nf, "elongation", o->elongation);
  add_real(nf, "orientation_deg", o->orientation_deg);
  add_real(nf, "length_m", o->length_m);
  add_real(nf, "width_m", o->width_m);
  add_real(nf, "rectangularity", o->rectangularity);
  add_real(nf, "thickness_m", o->thickness_m);
  set_int(nf, "parts", o->parts);
  OGR_F_SetFieldString(nf, OGR_F_GetFieldIndex(nf, "sign"), sd_sign_name(o->sign));
  add_real(nf, "mean_signed_change", o->mean_signed);
  add_real(nf, "max_signed_change", o->max_signed);
  /* Per band, brighter (+) or darker (-) in noise units, e.g. "+12.4 -3.0 +0.8 +25.1". */
  char dir[16 * SD_MAX_BANDS] = "";
  for (int b = 0; b < o->nbands; b++)
    snprintf(dir + strlen(dir), sizeof dir - strlen(dir), "%s%+.1f", b ? " " : "", o->band_change[b]);
  OGR_F_SetFieldString(nf, OGR_F_GetFieldIndex(nf, "band_change"), dir);
  add_real(nf, "contrast_before", o->contrast_before);
  add_real(nf, "contrast_after", o->contrast_after);
  add_real(nf, "score", o->score);
  set_int(nf, "rank", o->rank);
  set_int(nf, "truncated", o->truncated);
  if (first_seen) OGR_F_SetFieldString(nf, OGR_F_GetFieldIndex(nf, "first_seen"), first_seen);
  if (absent_on) OGR_F_SetFieldString(nf, OGR_F_GetFieldIndex(nf, "absent_on"), absent_on);
  if (aoi && o->aoi > 0) OGR_F_SetFieldString(nf, OGR_F_GetFieldIndex(nf, "aoi"), sd_aoi_name(aoi, o->aoi - 1));
  return nf;
}

/* One feature per object, with its geometry (taken from geoms) in WGS84. */
static sd_status write_object_features(geojson_out *g, OGRGeometryH *geoms, const sd_object *objs, int n,
                                       const char *first_seen, const char *absent_on, const sd_aoi *aoi,
                                       const char *path, const sd_gdal_capture *cap, sd_error *err) {
  OGRFeatureDefnH defn = OGR_L_GetLayerDefn(g->layer);
  sd_status s = SD_OK;
  for (int i = 0; i < n && !s; i++) {
    const sd_object *o = &objs[i];
    OGRFeatureH nf = object_feature(defn, o, first_seen, absent_on, aoi);
    OGRGeometryH geom = geoms ? geoms[o->id] : NULL;
    if (geom) {
      if (g->ct && OGR_G_Transform(geom, g->ct) != OGRERR_NONE)
        s = sd_error_set(err, SD_ERR_INTERNAL, "objects: cannot transform object %d to WGS84", o->id);
      OGR_F_SetGeometryDirectly(nf, geom);
      geoms[o->id] = NULL;
    }
    if (!s && OGR_L_CreateFeature(g->layer, nf) != OGRERR_NONE)
      s = sd_gdal_error(err, SD_ERR_OUTPUT, cap, "objects: %s: cannot write object %d", path, o->id);
    OGR_F_Destroy(nf);
  }
  return s;
}

sd_status sd_vector_write_objects(const char *path, const sd_grid *grid, const char *first_seen, const char *absent_on,
                                  const char *mask_path, int32_t (*id_at)(const void *ctx, int x, int y),
                                  const void *ctx, const sd_object *objs, int n, const sd_aoi *aoi, sd_error *err) {
  sd_gdal_init();
  sd_gdal_capture cap;
  sd_gdal_capture_begin(&cap);
  GDALDatasetH mem = NULL;
  OGRLayerH poly = NULL;
  double inv[6];
  char scratch[4200];
  snprintf(scratch, sizeof scratch, "%s.polygons.fgb", path);
  OGRGeometryH *geoms = NULL;
  if (n > 0) { /* (FlatGeobuf cannot read back a file it wrote no polygon into) */
    sd_status s = polygonize(mask_path, scratch, &cap, &mem, &poly, inv, err);
    if (s) {
      sd_gdal_capture_end(&cap);
      return s;
    }
    geoms = object_geometries(poly, inv, id_at, ctx, n);
    GDALClose(mem);
    unlink(scratch);
  }
  geojson_out g;
  sd_status s = open_geojson(path, "objects", "objects", grid, wkbUnknown, &cap, &g, err);
  if (!s) {
    add_object_fields(g.layer, aoi != NULL);
    s = write_object_features(&g, geoms, objs, n, first_seen, absent_on, aoi, path, &cap, err);
    s = close_geojson(&g, s, path, "objects", &cap, err);
  }
  free_geometries(geoms, n);
  sd_gdal_capture_end(&cap);
  return s;
}

sd_status sd_vector_write_tiepoints(const char *path, const sd_grid *grid, const sd_tiepoint *tp, int n,
                                    sd_error *err) {
  sd_gdal_init();
  sd_gdal_capture cap;
  sd_gdal_capture_begin(&cap);
  geojson_out g;
  sd_status s = open_geojson(path, "tie points", "tie_points", grid, wkbPoint, &cap, &g, err);
  OGRLayerH layer = g.layer;
  OGRCoordinateTransformationH ct = g.ct;
  if (s) {
    sd_gdal_capture_end(&cap);
    return s;
  }
  static const char *const reals[] = {"x",    "y",          "dx",         "dy",        "rx",      "ry",
                                      "peak", "peak_ratio", "ncc_before", "ncc_after", "texture", "fit_residual"};
  OGRFieldDefnH d = OGR_Fld_Create("id", OFTInteger);
  OGR_L_CreateField(layer, d, TRUE);
  OGR_Fld_Destroy(d);
  for (size_t k = 0; k < sizeof reals / sizeof reals[0]; k++) {
    d = OGR_Fld_Create(reals[k], OFTReal);
    OGR_L_CreateField(layer, d, TRUE);
    OGR_Fld_Destroy(d);
  }
  d = OGR_Fld_Create("status", OFTString);
  OGR_L_CreateField(layer, d, TRUE);
  OGR_Fld_Destroy(d);
  d = OGR_Fld_Create("kept", OFTInteger);
  OGR_Fld_SetSubType(d, OFSTBoolean);
  OGR_L_CreateField(layer, d, TRUE);
  OGR_Fld_Destroy(d);
  d = OGR_Fld_Create("level", OFTInteger); /* matched on a window 2^level larger, binned */
  OGR_L_CreateField(layer, d, TRUE);
  OGR_Fld_Destroy(d);
  d = OGR_Fld_Create("gradient", OFTInteger); /* matched on the gradient magnitude */
  OGR_Fld_SetSubType(d, OFSTBoolean);
  OGR_L_CreateField(layer, d, TRUE);
  OGR_Fld_Destroy(d);
  OGRFeatureDefnH defn = OGR_L_GetLayerDefn(layer);
  for (int i = 0; i < n && !s; i++) {
    const sd_tiepoint *t = &tp[i];
    const double v[] = {t->x,    t->y,          t->dx,         t->dy,        t->rx,      t->ry,
                        t->peak, t->peak_ratio, t->ncc_before, t->ncc_after, t->texture, t->fit_residual};
    int measured = t->status <= SD_TP_UNRELIABLE;
    OGRFeatureH f = OGR_F_Create(defn);
    OGR_F_SetFieldInteger(f, 0, i + 1);
    for (size_t k = 0; k < sizeof reals / sizeof reals[0]; k++) {
      /* dx, dy ... fit_residual mean nothing for windows that were never matched. */
      if ((k >= 2 && !measured) || !isfinite(v[k]))
        OGR_F_SetFieldNull(f, (int)k + 1);
      else
        OGR_F_SetFieldDouble(f, (int)k + 1, v[k]);
    }
    OGR_F_SetFieldString(f, OGR_F_GetFieldIndex(f, "status"), sd_tp_status_name(t->status));
    OGR_F_SetFieldInteger(f, OGR_F_GetFieldIndex(f, "kept"), t->status == SD_TP_KEPT);
    OGR_F_SetFieldInteger(f, OGR_F_GetFieldIndex(f, "level"), t->level);
    OGR_F_SetFieldInteger(f, OGR_F_GetFieldIndex(f, "gradient"), t->gradient);
    double X = grid->gt[0] + t->x * grid->gt[1] + t->y * grid->gt[2];
    double Y = grid->gt[3] + t->x * grid->gt[4] + t->y * grid->gt[5];
    if (ct) OCTTransform(ct, 1, &X, &Y, NULL);
    OGRGeometryH g = OGR_G_CreateGeometry(wkbPoint);
    OGR_G_SetPoint_2D(g, 0, X, Y);
    OGR_F_SetGeometryDirectly(f, g);
    if (OGR_L_CreateFeature(layer, f) != OGRERR_NONE)
      s = sd_gdal_error(err, SD_ERR_OUTPUT, &cap, "tie points: %s: cannot write tie point %d", path, i + 1);
    OGR_F_Destroy(f);
  }
  s = close_geojson(&g, s, path, "tie points", &cap, err);
  sd_gdal_capture_end(&cap);
  return s;
}

/* The feature's "class" property as a class index, or -1. */
static int feature_class(OGRFeatureH f) {
  int k = OGR_F_GetFieldIndex(f, "class");
  const char *name = k >= 0 ? OGR_F_GetFieldAsString(f, k) : "";
  for (int c = 0; c < SD_CLASS_COUNT; c++)
    if (!strcmp(name, sd_class_name(c))) return c;
  return -1;
}

sd_status sd_vector_convert_objects(const char *geojson, const char *path, int kml,
                                    const char *const class_style[SD_CLASS_COUNT], sd_error *err) {
  sd_gdal_init();
  const char *what = kml ? "objects.kml" : "objects.gpkg";
  /* Written under the name with its extension, then renamed to path. */
  char tmp[4300];
  snprintf(tmp, sizeof tmp, "%s.%s", path, kml ? "kml" : "gpkg");
  sd_gdal_capture cap;
  sd_gdal_capture_begin(&cap);
  /* GDAL's KML driver, not LIBKML: on the Joplin pair's 1,187 objects LIBKML took 57 s (it
   * checks every polygon's validity, and pixel outlines touch at corners), KML 0.3 s. */
  GDALDriverH drv = GDALGetDriverByName(kml ? "KML" : "GPKG");
  GDALDatasetH src = GDALOpenEx(geojson, GDAL_OF_VECTOR | GDAL_OF_VERBOSE_ERROR, NULL, NULL, NULL);
  GDALDatasetH dst = src && drv ? GDALCreate(drv, tmp, 0, 0, 0, GDT_Unknown, NULL) : NULL;
  if (!dst) {
    if (src) GDALClose(src);
    sd_status s = sd_gdal_error(err, SD_ERR_OUTPUT, &cap, "%s: %s: cannot create", what, path);
    sd_gdal_capture_end(&cap);
    return s;
  }
  OGRLayerH in = GDALDatasetGetLayer(src, 0);
  OGRFeatureDefnH idef = OGR_L_GetLayerDefn(in);
  char **lopts = kml ? NULL : CSLSetNameValue(NULL, "FID", "fid");
  OGRLayerH out =
      GDALDatasetCreateLayer(dst, "objects", OGR_L_GetSpatialRef(in), kml ? wkbUnknown : wkbMultiPolygon, lopts);
  CSLDestroy(lopts);
  int ok = out != NULL;
  /* KML: "name" (rank and class) and "description" first, which Google Earth shows. */
  if (ok && kml) {
    OGRFieldDefnH fd = OGR_Fld_Create("name", OFTString);
    ok = OGR_L_CreateField(out, fd, TRUE) == OGRERR_NONE;
    OGR_Fld_Destroy(fd);
    fd = OGR_Fld_Create("description", OFTString);
    ok = ok && OGR_L_CreateField(out, fd, TRUE) == OGRERR_NONE;
    OGR_Fld_Destroy(fd);
  }
  for (int i = 0; ok && i < OGR_FD_GetFieldCount(idef); i++)
    ok = OGR_L_CreateField(out, OGR_FD_GetFieldDefn(idef, i), TRUE) == OGRERR_NONE;
  if (ok && !kml) ok = GDALDatasetStartTransaction(dst, FALSE) == OGRERR_NONE;
  OGRFeatureDefnH odef = ok ? OGR_L_GetLayerDefn(out) : NULL;
  OGRFeatureH f;
  OGR_L_ResetReading(in);
  while (ok && (f = OGR_L_GetNextFeature(in))) {
    OGRFeatureH g = OGR_F_Create(odef);
    ok = OGR_F_SetFrom(g, f, TRUE) == OGRERR_NONE;
    if (ok && !kml) {
      OGRGeometryH geom = OGR_F_StealGeometry(g);
      if (geom) OGR_F_SetGeometryDirectly(g, OGR_G_ForceToMultiPolygon(geom));
    }
    int cls = feature_class(f);
    if (ok && kml) {
      int r = OGR_F_GetFieldIndex(f, "rank"), sg = OGR_F_GetFieldIndex(f, "sign");
      int sc = OGR_F_GetFieldIndex(f, "score"), ar = OGR_F_GetFieldIndex(f, "area_m2");
      char name[64], desc[160];
      snprintf(name, sizeof name, "%d %s", r >= 0 ? OGR_F_GetFieldAsInteger(f, r) : 0,
               cls >= 0 ? sd_class_name(cls) : "object");
      snprintf(desc, sizeof desc, "%s %s, score %.2f, %.0f m2", sg >= 0 ? OGR_F_GetFieldAsString(f, sg) : "",
               cls >= 0 ? sd_class_name(cls) : "object", sc >= 0 ? OGR_F_GetFieldAsDouble(f, sc) : NAN,
               ar >= 0 ? OGR_F_GetFieldAsDouble(f, ar) : NAN);
      OGR_F_SetFieldString(g, OGR_F_GetFieldIndex(g, "name"), name);
      OGR_F_SetFieldString(g, OGR_F_GetFieldIndex(g, "description"), desc);
      if (cls >= 0) OGR_F_SetStyleString(g, class_style[cls]);
    }
    ok = ok && OGR_L_CreateFeature(out, g) == OGRERR_NONE;
    OGR_F_Destroy(g);
    OGR_F_Destroy(f);
  }
  if (ok && !kml) ok = GDALDatasetCommitTransaction(dst) == OGRERR_NONE;
  int failures = cap.failures;
  GDALClose(dst);
  GDALClose(src);
  ok = ok && cap.failures == failures;
  sd_status s = SD_OK;
  if (!ok) s = sd_gdal_error(err, SD_ERR_OUTPUT, &cap, "%s: %s: writing failed", what, path);
  sd_gdal_capture_end(&cap);
  if (!s && rename(tmp, path) != 0)
    s = sd_error_set(err, SD_ERR_OUTPUT, "%s: cannot move %s into place: %s", what, path, strerror(errno));
  if (s) unlink(tmp);
  return s;
}

/* A feature's string field, "" when absent or null; a real one, NaN. */
static const char *field_text(OGRFeatureH f, int i) {
  return i >= 0 && OGR_F_IsFieldSetAndNotNull(f, i) ? OGR_F_GetFieldAsString(f, i) : "";
}

static double field_real(OGRFeatureH f, int i) {
  return i >= 0 && OGR_F_IsFieldSetAndNotNull(f, i) ? OGR_F_GetFieldAsDouble(f, i) : NAN;
}

sd_status sd_vector_read_objects(const char *path, void (*fn)(void *ctx, const sd_object_box *box), void *ctx,
                                 sd_error *err) {
  sd_gdal_init();
  sd_gdal_capture cap;
  sd_gdal_capture_begin(&cap);
  GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR, NULL, NULL, NULL);
  OGRLayerH layer = ds ? GDALDatasetGetLayer(ds, 0) : NULL;
  if (!layer) {
    if (ds) GDALClose(ds);
    sd_status s = sd_gdal_error(err, SD_ERR_INPUT, &cap, "objects: %s: cannot read the objects back", path);
    sd_gdal_capture_end(&cap);
    return s;
  }
  OGRFeatureDefnH d = OGR_L_GetLayerDefn(layer);
  const int f_aoi = OGR_FD_GetFieldIndex(d, "aoi"), f_area = OGR_FD_GetFieldIndex(d, "area_m2"),
            f_cx = OGR_FD_GetFieldIndex(d, "centroid_x"), f_cy = OGR_FD_GetFieldIndex(d, "centroid_y"),
            f_lon = OGR_FD_GetFieldIndex(d, "lon"), f_lat = OGR_FD_GetFieldIndex(d, "lat"),
            f_cls = OGR_FD_GetFieldIndex(d, "class"), f_sign = OGR_FD_GetFieldIndex(d, "sign");
  OGRFeatureH f;
  while ((f = OGR_L_GetNextFeature(layer))) {
    OGRGeometryH g = OGR_F_GetGeometryRef(f);
    if (g) {
      OGREnvelope env;
      OGR_G_GetEnvelope(g, &env);
      sd_object_box b = {env.MinX,
                         env.MinY,
                         env.MaxX,
                         env.MaxY,
                         field_real(f, f_area),
                         field_real(f, f_cx),
                         field_real(f, f_cy),
                         field_real(f, f_lon),
                         field_real(f, f_lat),
                         field_text(f, f_cls),
                         field_text(f, f_sign),
                         field_text(f, f_aoi)};
      fn(ctx, &b);
    }
    OGR_F_Destroy(f);
  }
  GDALClose(ds);
  sd_gdal_capture_end(&cap);
  return SD_OK;
}
