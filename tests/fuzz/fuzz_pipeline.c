/* fuzz_pipeline.c: libFuzzer harness for the whole compare pipeline on tiny rasters built in
 * memory: the first bytes choose both images' size (1-24 px a side), band count, data type,
 * nodata, georeferencing (UTM, WGS84 or none, pixel size and offset) and a few options; the rest
 * fills the pixels. Both images are made with GDAL's MEM driver and copied to /vsimem/ GeoTIFFs.
 * Whatever the bytes: no crash, no leak, no undefined behaviour; a success leaves the six outputs
 * and plausible counts; a failure has a message and leaves no output. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <cpl_vsi.h>
#include <gdal.h>

#include "sitediff/sitediff.h"

typedef struct reader {
  const uint8_t *p;
  size_t n, i;
} reader;

static unsigned next(reader *r) { return r->i < r->n ? r->p[r->i++] : 0; }

static const GDALDataType types[] = {GDT_Byte, GDT_UInt16, GDT_Int16, GDT_UInt32, GDT_Int32, GDT_Float32, GDT_Float64};

/* One image from the header bytes; pixels cycle through the bytes after the header. */
static void make_image(reader *r, const char *path, const uint8_t *pix, size_t npix) {
  int w = 1 + next(r) % 24, h = 1 + next(r) % 24, nb = 1 + next(r) % 4;
  GDALDataType t = types[next(r) % 7];
  unsigned geo = next(r) % 4, flags = next(r);
  GDALDatasetH ds = GDALCreate(GDALGetDriverByName("MEM"), "", w, h, nb, t, NULL);
  if (geo != 3) {
    double px = geo == 2 ? 1e-5 * (1 + next(r) % 8) : 0.25 * (1 + next(r) % 8);
    double ox = (geo == 2 ? 1e-5 : 0.1) * ((int)next(r) - 128), oy = (geo == 2 ? 1e-5 : 0.1) * ((int)next(r) - 128);
    double gt[6] = {geo == 2 ? 31.0 + ox : 500000 + ox, px, 0, geo == 2 ? 50.0 + oy : 5500000 + oy, 0, -px};
    if (flags & 1) gt[2] = px * 0.01 * (int)(next(r) % 16); /* rotated grids */
    GDALSetGeoTransform(ds, gt);
    GDALSetProjection(ds, geo == 2 ? "EPSG:4326" : geo == 1 ? "EPSG:32636" : "EPSG:32637");
  }
  size_t n = (size_t)w * h;
  double *v = malloc(n * sizeof *v);
  for (int b = 1; b <= nb; b++) {
    GDALRasterBandH band = GDALGetRasterBand(ds, b);
    for (size_t i = 0; i < n; i++) {
      size_t k = ((size_t)b * 131 + i) % (npix ? npix : 1);
      uint8_t x = npix ? pix[k] : 0;
      v[i] = (flags & 2) && x == 0xff ? (t >= GDT_Float32 ? (i & 1 ? NAN : INFINITY) : 0) : x * (1 + (flags >> 4));
    }
    GDALRasterIO(band, GF_Write, 0, 0, w, h, v, w, h, GDT_Float64, 0, 0);
    if (flags & 4) GDALSetRasterNoDataValue(band, 0);
  }
  free(v);
  GDALDatasetH copy = GDALCreateCopy(GDALGetDriverByName("GTiff"), path, ds, 0, NULL, NULL, NULL);
  if (copy) GDALClose(copy);
  GDALClose(ds);
}

static int outputs_present(const char *dir) {
  static const char *names[] = {"change_mask.tif", "change_magnitude.tif", "objects.geojson",
                                "overlay.png",     "tie_points.geojson",   "report.json"};
  int n = 0;
  char p[512];
  struct stat st;
  for (int i = 0; i < 6; i++) {
    snprintf(p, sizeof p, "%s/%s", dir, names[i]);
    n += stat(p, &st) == 0 && st.st_size > 0;
  }
  return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static char outdir[256];
  if (!outdir[0]) {
    GDALAllRegister();
    CPLSetConfigOption("CPL_LOG", "/dev/null"); /* GDAL's warnings are part of the run, not news */
    CPLPushErrorHandler(CPLQuietErrorHandler);
    const char *shm = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(outdir, sizeof outdir, "%s/sitediff-fuzz-%ld/out", shm, (long)getpid());
  }
  if (size < 24 || size > 4096) return 0;
  reader r = {data, 24, 0};
  const uint8_t *pix = data + 24;
  size_t npix = size - 24;
  make_image(&r, "/vsimem/fz_before.tif", pix, npix);
  make_image(&r, "/vsimem/fz_after.tif", pix + npix / 2, npix - npix / 2);
  unsigned o1 = next(&r), o2 = next(&r);

  sd_compare_options o;
  sd_compare_options_init(&o);
  o.before = "/vsimem/fz_before.tif";
  o.after = "/vsimem/fz_after.tif";
  o.outdir = outdir;
  o.quiet = 1;
  o.threads = 1 + (o1 & 1);
  o.grid = (sd_grid_ref)((o1 >> 1) % 4);
  o.do_register = (o1 >> 3) & 1;
  o.tolerance = (int)((o1 >> 4) % 4) - 1;
  o.metric = (int)(o2 % 7) - 1;
  o.threshold_method = (int)((o2 >> 3) % 5);
  o.open_radius = (o2 >> 6) & 1;
  o.close_radius = (o2 >> 7) & 1;
  o.min_area = (o1 >> 6) & 1 ? 0 : 1;
  o.overlay_max = 64;
  o.block_rows = 8;
  if (o.metric == 3) o.bands = "red,nir"; /* ndvi needs its roles; with 1 band it must refuse */

  sd_compare_result res;
  sd_error err = {0};
  int before = outputs_present(outdir);
  sd_status s = sd_compare(&o, &res, &err);
  if (getenv("FUZZ_VERBOSE")) /* what one input does: FUZZ_VERBOSE=1 fuzz_pipeline FILE */
    fprintf(stderr, "compare: %s%s%s\n", sd_status_name(s), s ? ": " : "", err.msg);
  if (s == SD_OK) {
    if (outputs_present(outdir) != 6) abort();
    if (res.changed_px < 0 || res.changed_px > (int64_t)res.width * res.height || res.n_objects < 0) abort();
  } else {
    if (!err.msg[0] || err.code != s) abort();
    if (outputs_present(outdir) != before) abort(); /* a failed run leaves the previous set */
  }
  VSIUnlink("/vsimem/fz_before.tif");
  VSIUnlink("/vsimem/fz_after.tif");
  return 0;
}
