/* test_bands.c: which band is red, green, blue and near-infrared, from what a file says: colour
 * interpretation first, then the band's name (any case, spaces, '-' and '_' aside), band codes
 * not read; the display bands follow red, green and blue when all three are named, else the band
 * order. A compare says where its roles came from in report.json, and warns when a 4-band image
 * names none. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gdal.h>
#include <jansson.h>
#include <ogr_srs_api.h>

#include "../check.h"
#include "../e2e/e2e_util.h"
#include "io/io.h"

/* A 4-band 64² UInt16 GeoTIFF, each band named names[b] (NULL: unnamed) with colour
 * interpretation ci[b]; pixels from seed. */
static void make(const char *path, const char *const names[4], const GDALColorInterp ci[4], unsigned seed) {
  GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path, 64, 64, 4, GDT_UInt16, NULL);
  CHECK(ds != NULL, "create %s", path);
  if (!ds) return;
  double gt[6] = {500000, 1, 0, 4000000, 0, -1};
  GDALSetGeoTransform(ds, gt);
  OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
  OSRImportFromEPSG(srs, 32636);
  GDALSetSpatialRef(ds, srs);
  OSRDestroySpatialReference(srs);
  uint16_t v[64 * 64];
  for (int b = 0; b < 4; b++) {
    GDALRasterBandH band = GDALGetRasterBand(ds, b + 1);
    if (names[b]) GDALSetDescription(band, names[b]);
    GDALSetRasterColorInterpretation(band, ci[b]);
    for (int i = 0; i < 64 * 64; i++) {
      seed = seed * 1103515245u + 12345u;
      v[i] = (uint16_t)(1000 + b * 300 + (seed >> 16) % 200);
    }
    CHECK(GDALRasterIO(band, GF_Write, 0, 0, 64, 64, v, 64, 64, GDT_UInt16, 0, 0) == CE_None, "write %s", path);
  }
  GDALClose(ds);
}

static void roles(const char *what, const char *const names[4], const GDALColorInterp ci[4], int r, int g, int b,
                  int named, int nir) {
  make("bands-test.tif", names, ci, 1);
  sd_raster *ras;
  sd_error err = {0};
  CHECK(sd_raster_open("after", "bands-test.tif", 1e9, &ras, &err) == SD_OK, "%s: %s", what, err.msg);
  if (!ras) return;
  const sd_raster_info *in = sd_raster_get_info(ras);
  CHECK(in->rgb[0] == r && in->rgb[1] == g && in->rgb[2] == b && in->rgb_named == named && in->nir == nir,
        "%s: red %d green %d blue %d (named %d), nir %d; want %d %d %d (%d), %d", what, in->rgb[0], in->rgb[1],
        in->rgb[2], in->rgb_named, in->nir, r, g, b, named, nir);
  sd_raster_close(ras);
  unlink("bands-test.tif");
}

/* A compare of two unnamed 4-band images: report.json's band_roles and warnings. */
static void compare_unnamed(void) {
  const char *const none[4] = {NULL, NULL, NULL, NULL};
  const GDALColorInterp undef[4] = {GCI_Undefined, GCI_Undefined, GCI_Undefined, GCI_Undefined};
  make("bands-before.tif", none, undef, 1);
  make("bands-after.tif", none, undef, 2);
  sd_compare_options o;
  e2e_options(&o, "bands-before.tif", "bands-after.tif", "bands-out");
  sd_error err = {0};
  CHECK(sd_compare(&o, NULL, &err) == SD_OK, "compare: %s", err.msg);
  json_error_t je;
  json_t *r = json_load_file("bands-out/report.json", 0, &je);
  CHECK(r != NULL, "report: %s", je.text);
  if (!r) return;
  json_t *br = json_object_get(r, "band_roles");
  CHECK(json_integer_value(json_object_get(br, "red")) == 1 && json_integer_value(json_object_get(br, "blue")) == 3 &&
            json_is_null(json_object_get(br, "nir")),
        "band_roles of unnamed bands: red 1, blue 3, no nir");
  const char *from = json_string_value(json_object_get(br, "from"));
  CHECK(from && strstr(from, "assumed"), "band_roles.from: %s", from ? from : "(none)");
  int warned = 0;
  json_t *w;
  size_t i;
  json_array_foreach(json_object_get(r, "warnings"), i, w) {
    const char *s = json_string_value(w);
    warned += s && strstr(s, "bands-after.tif") && strstr(s, "--bands");
  }
  CHECK(warned == 1, "one warning names the after image and --bands (%d)", warned);
  json_decref(r);
}

int main(void) {
  GDALAllRegister();
  const GDALColorInterp undef[4] = {GCI_Undefined, GCI_Undefined, GCI_Undefined, GCI_Undefined};
  const GDALColorInterp rgb_ci[4] = {GCI_RedBand, GCI_GreenBand, GCI_BlueBand, GCI_Undefined};
  const char *const bgrn[4] = {"Blue", "green", "RED", "NIR"};
  roles("named blue, green, red, nir", bgrn, undef, 2, 1, 0, 1, 3);
  const char *const ir[4] = {NULL, NULL, NULL, "Near-Infrared"};
  roles("colours + near-infrared", ir, rgb_ci, 0, 1, 2, 1, 3);
  const char *const ir2[4] = {NULL, NULL, NULL, "near_infrared"};
  roles("near_infrared", ir2, rgb_ci, 0, 1, 2, 1, 3);
  const char *const nir1[4] = {NULL, NULL, NULL, "nir 1"};
  roles("nir 1", nir1, rgb_ci, 0, 1, 2, 1, 3);
  const char *const none[4] = {NULL, NULL, NULL, NULL};
  roles("unnamed", none, undef, 0, 1, 2, 0, -1);
  const char *const codes[4] = {"B2", "B3", "B4", "B8"};
  roles("band codes", codes, undef, 0, 1, 2, 0, -1);
  /* colour interpretation before names: band 4 named red does not displace band 1 */
  const char *const clash[4] = {NULL, NULL, NULL, "red"};
  roles("colour before name", clash, rgb_ci, 0, 1, 2, 1, -1);
  /* red and green named, blue not: the display falls back to the band order */
  const char *const part[4] = {"green", "red", NULL, "nir"};
  roles("partly named", part, undef, 0, 1, 2, 0, 3);
  compare_unnamed();
  return check_done("test_bands");
}
