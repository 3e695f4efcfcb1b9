/* test_evidence.c: the vegetation indices on pixels of known colour, the after date taken through
 * the radiometric fit, the index a pair's band roles allow, and the structure focus's mark: only
 * where both dates are vegetated, nodata and unchanged pixels left alone. */
#include <math.h>

#include "../check.h"
#include "evidence/evidence.h"

int main(void) {
  /* bands in the order blue, green, red, nir */
  const sd_band_roles rgbn = {0, 1, 2, 3}, rgb = {0, 1, 2, -1}, pan = {-1, 0, -1, -1};
  CHECK(sd_veg_index_of(&rgbn) == SD_VEG_NDVI, "red + nir: NDVI");
  CHECK(sd_veg_index_of(&rgb) == SD_VEG_EXG, "red, green, blue: excess green");
  CHECK(sd_veg_index_of(&pan) == SD_VEG_NONE, "one band: none");
  /* a leaf, grey asphalt, bare soil, a nodata pixel */
  float blue[] = {40, 90, 80, NAN}, green[] = {90, 90, 95, 10}, red[] = {40, 90, 120, 10}, nir[] = {200, 95, 140, 10};
  const float *band[] = {blue, green, red, nir};
  float v[4];
  sd_vegetation(SD_VEG_EXG, &rgb, band, NULL, 4, v);
  CHECK_NEAR(v[0], (2 * 90.0 - 40 - 40) / 170.0, 1e-6, "excess green of a leaf");
  CHECK_NEAR(v[1], 0, 1e-6, "excess green of grey");
  CHECK(v[2] < 0, "excess green of reddish soil: %g", v[2]);
  CHECK(isnan(v[3]), "nodata stays NaN: %g", v[3]);
  sd_vegetation(SD_VEG_NDVI, &rgbn, band, NULL, 4, v);
  CHECK_NEAR(v[0], (200 - 40) / 240.0, 1e-6, "NDVI of a leaf");
  CHECK(v[1] < 0.05 && v[2] < 0.1, "NDVI of asphalt %g and soil %g", v[1], v[2]);
  CHECK(v[0] > sd_veg_threshold(SD_VEG_NDVI) && v[2] < sd_veg_threshold(SD_VEG_NDVI), "NDVI threshold between");
  /* the after date through the fit (before = gain * after + offset): a leaf drawn at half the
   * brightness with an offset is the same leaf */
  sd_radiometry radio = {.nbands = 4, .gain = {2, 2, 2, 2}, .offset = {10, 10, 10, 10}};
  float ab[] = {15}, ag[] = {40}, ar[] = {15}, an[] = {95};
  const float *aband[] = {ab, ag, ar, an};
  sd_vegetation(SD_VEG_EXG, &rgb, aband, &radio, 1, v);
  CHECK_NEAR(v[0], (2 * 90.0 - 40 - 40) / 170.0, 1e-6, "excess green through the fit");
  /* the mark: both dates vegetated, the index moved by less than the limit (the last: an olive
   * vehicle, 0.2, parked on grass, 0.5) */
  float vb[] = {0.3f, 0.3f, 0.0f, 0.3f, 0.3f, 0.5f}, va[] = {0.35f, 0.0f, 0.3f, 0.3f, 0.3f, 0.2f};
  float mag[] = {5, 5, 5, NAN, 0, 5};
  int64_t k = sd_mark_vegetated(vb, va, 0.12f, 0.2f, 6, mag);
  CHECK(k == 1, "%lld marked, expected 1", (long long)k);
  CHECK(mag[5] == 5, "a vehicle on grass is change: %g", mag[5]);
  CHECK(mag[0] == -5, "both vegetated: negative, its size kept (%g)", mag[0]);
  CHECK(mag[1] == 5 && mag[2] == 5, "vegetation in one date only is change: %g %g", mag[1], mag[2]);
  CHECK(isnan(mag[3]) && mag[4] == 0, "nodata and no change left alone: %g %g", mag[3], mag[4]);
  return check_done("test_evidence");
}
