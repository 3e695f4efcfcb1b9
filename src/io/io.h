/* io.h: raster and vector I/O; the only module that sees GDAL/OGR. */
#ifndef SD_IO_H
#define SD_IO_H

#include <stdint.h>

#include "core/core.h"
#include "core/model.h"
#include "detect/objects.h"
#include "sitediff/options.h"

/* ---- process-wide GDAL set-up and error capture (gdal_env.c) ---- */
void sd_gdal_init(void);
/* GDAL's decoding and compression threads for what this thread opens and reads from now on
 * (GDAL_NUM_THREADS, thread-local; GTiff reads it when a file is opened); 0 clears it. */
void sd_gdal_threads(int threads);

/* Captures GDAL's messages for one operation instead of printing them: begin pushes a handler on
 * the calling thread's stack (GDAL keeps one stack per thread), end pops it, so each thread that
 * calls GDAL captures its own operations, and every GDAL call in src/io runs inside one. What
 * GDAL says on its own worker threads (no capture there) goes to `orphan` of every capture open
 * at the time, under a lock. Nothing is printed (CPL_DEBUG output aside). */
typedef struct sd_gdal_capture {
  int failures;                 /* CE_Failure and CE_Fatal messages heard on the capturing thread */
  int first_no;                 /* GDAL's error number of the first (CPLE_OutOfMemory, CPLE_FileIO ...) */
  int full_errno;               /* ENOSPC or EDQUOT when the disk filled: errno or GDAL's text said so */
  char first[512];              /* the first message: the cause, where the later ones say what gave up */
  char orphan[512];             /* the first failure GDAL's worker threads raised meanwhile */
  struct sd_gdal_capture *next; /* the list of open captures */
} sd_gdal_capture;
void sd_gdal_capture_begin(sd_gdal_capture *cap);
void sd_gdal_capture_end(sd_gdal_capture *cap);
/* Sets err to the formatted message, which says what was done on which file, followed by ": "
 * and why when GDAL said why: "No space left on device" (strerror(full_errno)) when the disk
 * filled, which GDAL's "Write error at scanline 4294967295" does not say, else GDAL's first
 * message on this thread, else the first of its worker threads. Returns code. */
sd_status sd_gdal_error(sd_error *err, sd_status code, const sd_gdal_capture *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* For a failed read of an opened input: "<module>: <path>: truncated or corrupt file: <what>
 * failed: <GDAL's words>" (SD_ERR_INPUT); out of memory or a full disk (GDAL writing another
 * dataset's cached blocks) are said as such instead. */
sd_status sd_gdal_read_error(sd_error *err, const sd_gdal_capture *cap, const char *module, const char *path,
                             const char *what);

/* ---- input rasters (raster.c) ---- */
typedef struct sd_raster sd_raster;
typedef struct sd_raster_info {
  const char *path;
  int width, height;
  int nbands; /* data bands (alpha excluded) */
  int georef; /* has a CRS and a geotransform (or GCPs) */
  double gt[6];
  char type[24]; /* GDAL data type name */
  char crs[128]; /* short CRS name, e.g. EPSG:32636 */
  int rgb[3];    /* 0-based band indices used as red, green, blue for display */
  int rgb_named; /* 1: those three are named by the file (colour interpretation or band name); 0: assumed */
  int nir;       /* 0-based near-infrared band named by the file, else -1 */
} sd_raster_info;

sd_status sd_raster_open(const char *role, const char *path, double max_pixels, sd_raster **out, sd_error *err);
void sd_raster_close(sd_raster *r);
const sd_raster_info *sd_raster_get_info(const sd_raster *r);
/* Rows y0 .. y0 + out->height of the first out->nbands bands, raw values, at the file's own grid,
 * through GDAL's RasterIO with `threads` decoding threads (the bench's comparison for the direct
 * libtiff path). */
sd_status sd_raster_read_rows(sd_raster *r, int y0, sd_planes *out, int threads, sd_error *err);
/* The window of out->width x out->height pixels from (x0, y0), likewise, on one thread. */
sd_status sd_raster_read_window(sd_raster *r, int x0, int y0, sd_planes *out, sd_error *err);

/* ---- the common grid (grid.c) ---- */
typedef struct sd_grid {
  int width, height;
  double gt[6];
  char *wkt; /* NULL when not georeferenced */
  char crs[128];
  int georef;
  double pixel_w_m, pixel_h_m; /* ground size of one pixel in metres (1 when not georeferenced) */
} sd_grid;

sd_status sd_grid_compute(const sd_raster *before, const sd_raster *after, sd_grid_ref ref, double resolution,
                          sd_grid *grid, sd_error *err);
void sd_grid_free(sd_grid *grid);

/* WKT of an EPSG code (caller frees with free()). */
sd_status sd_wkt_from_epsg(int epsg, char **wkt, sd_error *err);
/* Transforms n points in place from one CRS to another (GIS axis order: x east, y north). */
sd_status sd_transform_points(const char *src_wkt, const char *dst_wkt, int n, double *x, double *y, sd_error *err);
/* 1 if the CRS is geographic (degrees). */
int sd_wkt_is_geographic(const char *wkt);

/* Grid pixel coordinates to WGS84 lon/lat. */
typedef struct sd_geo sd_geo;
sd_status sd_geo_create(const sd_grid *grid, sd_geo **out, sd_error *err);
void sd_geo_lonlat(const sd_geo *geo, double x, double y, double *lon, double *lat);
void sd_geo_free(sd_geo *geo);

/* ---- reading an input resampled onto the grid (reader.c) ---- */
typedef struct sd_reader sd_reader;
sd_status sd_reader_create(sd_raster *r, const sd_grid *grid, int nbands, int threads, sd_reader **out, sd_error *err);
/* A reader of one data band (0-based, alpha excluded), e.g. for registration. */
sd_status sd_reader_create_band(sd_raster *r, const sd_grid *grid, int band, int threads, sd_reader **out,
                                sd_error *err);
/* Folds a registration model into the transform: grid pixel (x, y) then samples the input
 * where the grid's (x, y) + displacement(x, y) falls, so the input is resampled once. The model
 * is copied. */
void sd_reader_set_model(sd_reader *rd, const sd_model *model);
/* Fills dst (its width/height give the window) with the window at (x0, y0); nodata is NaN in
 * every band. */
sd_status sd_reader_read(sd_reader *rd, int x0, int y0, sd_planes *dst, sd_error *err);
/* dst at a coarser level: each of its pixels the mean over factor x factor grid pixels from
 * (x0, y0). On the input's own pixels, a full read binned (sd_bin); through the warper, its
 * area-weighted average of the input pixels under each (no full-resolution resampling). */
sd_status sd_reader_read_binned(sd_reader *rd, int x0, int y0, int factor, sd_planes *dst, sd_error *err);
/* How sd_reader_read resamples with the model now set: the input's own pixels ("none"), the
 * affine cubic kernel (diff/resample.c: same CRS, a translation or affine model, at most ~3 %
 * downsampling) or GDAL's warper (cubic; everything else, and everywhere with SITEDIFF_WARP=gdal). */
const char *sd_reader_resampling(const sd_reader *rd);
void sd_reader_free(sd_reader *rd);

/* One feature of an objects file as read back (vector.c): its geometry's envelope in the file's
 * coordinates and the properties the time series use; the strings live during the callback. */
typedef struct sd_object_box {
  double x0, y0, x1, y1;
  double area_m2, cx, cy, lon, lat; /* NaN when absent */
  const char *cls, *sign, *aoi;     /* "" when absent */
} sd_object_box;
/* Calls fn for every feature with a geometry of the objects file at path (objects.geojson),
 * feature by feature (GDAL streams a large GeoJSON); a file that cannot be read is an error. */
sd_status sd_vector_read_objects(const char *path, void (*fn)(void *ctx, const sd_object_box *box), void *ctx,
                                 sd_error *err);

/* ---- Files GDAL writes with every write checked (checked.c) ---- */
/* out: the name under which GDAL writes path on disk through a checked handle. */
void sd_checked_path(const char *path, char *out, size_t n);
/* After GDAL closed it: 0 when every write, flush and close of path succeeded, else the first
 * errno; -1 when GDAL never opened it. Taken once. */
int sd_checked_result(const char *path);

/* ---- GeoTIFF outputs on the grid (writer.c) ---- */
typedef enum sd_pixel_type { SD_PIX_U8, SD_PIX_F32, SD_PIX_I32, SD_PIX_U16 } sd_pixel_type;
typedef struct sd_gtiff sd_gtiff;
sd_status sd_gtiff_create(const char *path, const sd_grid *grid, int nbands, sd_pixel_type type, int has_nodata,
                          double nodata, sd_gtiff **out, sd_error *err);
/* How a GeoTIFF's tiles are encoded: DEFLATE (lossless; floating-point predictor for Float32),
 * LERC (Float32 only: lossy within SD_LERC_MAX_ERROR), or not at all (scratch). */
typedef enum sd_codec { SD_CODEC_DEFLATE = 0, SD_CODEC_LERC, SD_CODEC_RAW } sd_codec;
#define SD_LERC_MAX_ERROR 0.01
sd_status sd_gtiff_create_codec(const char *path, const sd_grid *grid, int nbands, sd_pixel_type type, int has_nodata,
                                double nodata, sd_codec codec, sd_gtiff **out, sd_error *err);
sd_status sd_gtiff_write(sd_gtiff *t, int band, int y0, int rows, const void *data, sd_error *err);
/* Marks bands 1..3 as red, green, blue (rgba: and band 4 as alpha). */
void sd_gtiff_set_rgb(sd_gtiff *t);
void sd_gtiff_set_rgba(sd_gtiff *t);
/* Names band (0-based) near-infrared: its description "nir" (and its colour interpretation from GDAL 3.10). */
void sd_gtiff_set_nir(sd_gtiff *t, int band);
/* dst as a Cloud Optimized GeoTIFF copy of the raster at src (GDAL's COG driver): 512² tiles,
 * overviews down to one tile (nearest for categorical rasters, average else, nodata skipped),
 * compressed as codec compresses the streamed GeoTIFFs. */
sd_status sd_gtiff_to_cog(const char *src, const char *dst, sd_codec codec, int categorical, sd_error *err);
/* Closes and reports write errors that only surface at close. */
sd_status sd_gtiff_close(sd_gtiff *t, sd_error *err);

/* Reads a whole single-band raster as uint8/int32 (small test and scoring inputs). */
sd_status sd_raster_read_i32(const char *path, int32_t **data, int *width, int *height, double gt[6], sd_error *err);

/* ---- areas of interest (aoi.c) ---- */
/* Polygons from a vector file (GeoJSON, GPKG, KML ...: every layer's polygons and multipolygons,
 * in any CRS), named by their "name" field (else aoi-1, aoi-2 ...), put on the grid's pixels. */
enum { SD_AOI_MAX = 250 }; /* ids are one byte; 0 is outside every area */
typedef struct sd_aoi sd_aoi;
sd_status sd_aoi_load(const char *path, const sd_grid *grid, sd_aoi **out, sd_error *err);
int sd_aoi_count(const sd_aoi *a); /* 0 for NULL */
const char *sd_aoi_name(const sd_aoi *a, int i);
double sd_aoi_area_px(const sd_aoi *a, int i); /* 0-based */
/* ids (w x h) of the window at grid pixel (x0, y0) whose pixels are step x step grid pixels (1:
 * the grid's own): 1 + the polygon under each pixel centre, 0 outside all; a later polygon wins
 * where two overlap. */
sd_status sd_aoi_rasterize(const sd_aoi *a, int x0, int y0, int w, int h, int step, uint8_t *ids, sd_error *err);
/* 1 + the polygon holding the grid point (x, y) (the later one where two do), else the nearest. */
int sd_aoi_at(const sd_aoi *a, double x, double y);
void sd_aoi_free(sd_aoi *a);

/* ---- images for pages (encode.c) ---- */
/* An 8-bit image (channels 3 = RGB or 4 = RGBA, interleaved rows) as a data: URI: JPEG at
 * jpeg_quality (1-100), or lossless PNG when jpeg_quality is 0 (RGBA keeps its alpha). *uri is
 * the caller's to free(). */
sd_status sd_image_data_uri(const uint8_t *px, int w, int h, int channels, int jpeg_quality, char **uri, sd_error *err);

/* ---- objects as GeoJSON polygons in WGS84 (vector.c) ---- */
/* Polygons from the mask GeoTIFF at mask_path (1 = change); id_at(ctx, x, y) gives the id of the
 * object whose component starts (in raster order) at grid pixel (x, y), 0 for none; polygons of
 * one id become a multipolygon. dates: first_seen / absent_on properties of every object, or NULL;
 * aoi (or NULL): each object's "aoi", the name of its area (sd_object.aoi). */
sd_status sd_vector_write_objects(const char *path, const sd_grid *grid, const char *first_seen, const char *absent_on,
                                  const char *mask_path, int32_t (*id_at)(const void *ctx, int x, int y),
                                  const void *ctx, const sd_object *objects, int nobjects, const sd_aoi *aoi,
                                  sd_error *err);

/* objects.gpkg (kml = 0) or objects.kml (kml = 1) at path, from the objects.geojson at geojson:
 * the same features and properties (WGS84). The GeoPackage's layer "objects" holds multipolygons;
 * the KML's placemarks are named "<rank> <class>", described by sign, class, score and area, and
 * outlined in their class's colour from class_style (OGR style strings: GDAL's KML driver writes
 * the pen as a LineStyle; polygons are not filled). */
sd_status sd_vector_convert_objects(const char *geojson, const char *path, int kml,
                                    const char *const class_style[SD_CLASS_COUNT], sd_error *err);

/* Tie points as GeoJSON points (WGS84; pixel coordinates when not georeferenced). */
struct sd_tiepoint;
sd_status sd_vector_write_tiepoints(const char *path, const sd_grid *grid, const struct sd_tiepoint *tp, int n,
                                    sd_error *err);

/* ---- direct libtiff decoding (tiffdirect.c) ---- */
typedef struct sd_tiff_layout {
  int width, height, nbands, tile_w, tile_h, bits, format, separate;
} sd_tiff_layout;
/* 1 when path is a tiled TIFF the direct path decodes (8-64 bit integer or float samples, pixel
 * or band interleaved, any compression libtiff has), with its layout. */
int sd_tiff_direct_probe(const char *path, sd_tiff_layout *layout);
/* Rows y0 .. y0 + out->height of the first out->nbands bands into out (full width), decoded by
 * `threads` threads, each with its own handle and its own tiles. Raw values: no nodata, no masks. */
sd_status sd_tiff_direct_read(const char *path, const sd_tiff_layout *layout, int y0, sd_planes *out, int threads,
                              sd_error *err);

/* ---- files (fsutil.c) ---- */
sd_status sd_mkdir_p(const char *path, sd_error *err);
/* "<dir>/.<name>.tmp-<pid>" */
void sd_temp_name(char *buf, size_t len, const char *dir, const char *name);
void sd_join(char *buf, size_t len, const char *dir, const char *name);
/* Writes len bytes to path (created or truncated), every write and the close checked; errors say
 * "<what>: <path>: <strerror>". */
sd_status sd_write_file(const char *what, const char *path, const void *data, size_t len, sd_error *err);
/* A whole file as a NUL-terminated string (the caller frees it), or NULL with err set: "<what>:
 * <path>: <strerror>" when it cannot be opened, "... cannot read (or over N MiB)" else. */
char *sd_read_file(const char *what, const char *path, long max_bytes, sd_error *err);
/* Removes a folder and everything in it (best effort). */
void sd_remove_tree(const char *path);
/* Flushes a file or folder to the disk (fsync); 0 on success. */
int sd_fsync_path(const char *path);
/* Removes the entries of dir named exactly "<prefix><pid>-<n>" whose process is gone (what a killed run
 * left); entries of live processes stay. */
void sd_remove_stale(const char *dir, const char *prefix);
/* Puts the folder stage in the place of final as one step: a rename when final is absent, else
 * an atomic exchange (renameat2) after which the old folder is removed. An observer sees the old
 * folder or the new one, never a mix; a kill leaves one of them under final. */
sd_status sd_dir_commit(const char *stage, const char *final, sd_error *err);

/* A set of output files that appears as a whole or not at all. When OUTDIR is absent or holds
 * only files of this set, the set is built in a hidden sibling folder ".<OUTDIR>.sitediff-<pid>-<n>"
 * and swapped in with sd_dir_commit. Otherwise (OUTDIR holds other files, or its parent is not
 * writable) each file is written as ".<name>.tmp-<pid>-<n>" inside OUTDIR and renamed, the last
 * name of the set last, after the previous one of that name was removed: a set without its last
 * file is incomplete. Temporaries of killed runs are removed on the next begin. */
enum { SD_OUTSET_MAX = 16 };
typedef struct sd_outset {
  int dir_mode, n;
  const char *const *names;
  char outdir[4096], stage[4500];
  char tmp[SD_OUTSET_MAX][4700];
  int dropped[SD_OUTSET_MAX];
} sd_outset;
sd_status sd_outset_begin(sd_outset *o, const char *outdir, const char *const *names, int n, sd_error *err);
/* The path to write output i to. */
const char *sd_outset_path(const sd_outset *o, int i);
/* Output i is not part of the set after all (a scratch file): removed now, and at the commit any
 * earlier file of that name too. */
void sd_outset_drop(sd_outset *o, int i);
/* Flushes every file and moves the set into place. */
sd_status sd_outset_commit(sd_outset *o, sd_error *err);
/* Removes whatever the set wrote (after a failure); OUTDIR keeps its previous files. Does nothing
 * on a zeroed set or after a commit. */
void sd_outset_abort(sd_outset *o);

#endif
