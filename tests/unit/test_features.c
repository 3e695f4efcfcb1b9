/* test_features.c: each change metric's feature transform on constructed inputs with known
 * answers. */
#include <math.h>
#include <string.h>

#include "../check.h"
#include "diff/features.h"

enum { W = 80, H = 70 };

int main(void) {
  sd_planes in, out;
  sd_error err = {0};
  CHECK(sd_planes_alloc(&in, 4, W, H, &err) == SD_OK && sd_planes_alloc(&out, 6, W, H, &err) == SD_OK, "alloc");
  sd_band_roles roles = {.blue = 0, .green = 1, .red = 2, .nir = 3};
  for (int b = 0; b < 4; b++)
    for (int i = 0; i < W * H; i++)
      in.band[b][i] = 100.0f * (b + 1);
  in.band[0][5] = NAN;

  /* Log ratio: a doubled band differs by log 2 (logs of value + 1). */
  sd_features(SD_METRIC_LOGRATIO, &roles, &in, &out);
  CHECK_NEAR(out.band[1][0] - logf(101.0f), log(201.0 / 101.0), 1e-5, "log feature");
  CHECK(isnan(out.band[0][5]), "log of nodata");

  /* Spectral angle: the unit vector; its length is 1 whatever the brightness. */
  sd_features(SD_METRIC_ANGLE, &roles, &in, &out);
  double len = 0;
  for (int b = 0; b < 4; b++)
    len += out.band[b][0] * out.band[b][0];
  CHECK_NEAR(len, 1.0, 1e-6, "unit spectral vector");
  CHECK_NEAR(out.band[3][0] / out.band[0][0], 4.0, 1e-5, "direction kept");

  /* NDVI from the named roles: red 300, nir 400 -> 1/7. */
  sd_features(SD_METRIC_NDVI, &roles, &in, &out);
  CHECK_NEAR(out.band[0][0], 100.0 / 700.0, 1e-6, "ndvi");

  /* Building index: a bright 6 x 6 roof on dark ground stands out; a bright field wider than
   * every line (40 x 40) does not, in its middle. A dark 6 x 6 patch is a shadow. */
  for (int b = 0; b < 4; b++)
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++) {
        float v = 50;
        if (x >= 5 && x < 11 && y >= 5 && y < 11) v = 400;   /* roof */
        if (x >= 30 && x < 70 && y >= 20 && y < 60) v = 400; /* wide bright field */
        if (x >= 5 && x < 11 && y >= 40 && y < 46) v = 5;    /* shadow */
        in.band[b][y * W + x] = v;
      }
  sd_features(SD_METRIC_MBI, &roles, &in, &out);
  float roof = out.band[0][8 * W + 8], field = out.band[0][40 * W + 50], ground = out.band[0][30 * W + 15];
  CHECK(roof > 300, "roof building index %.1f", roof);
  CHECK(field < 1 && ground < 1, "wide field %.1f or bare ground %.1f marked as building", field, ground);
  CHECK(out.band[1][43 * W + 8] > 30, "shadow index %.1f", out.band[1][43 * W + 8]);
  CHECK(out.band[1][8 * W + 8] < 1, "a roof is not a shadow (%.1f)", out.band[1][8 * W + 8]);

  /* struct: the bands, then the two indices. */
  sd_features(SD_METRIC_STRUCT, &roles, &in, &out);
  CHECK(out.band[0][8 * W + 8] == 400 && fabsf(out.band[4][8 * W + 8] - roof) < 1e-3f, "struct layout");
  CHECK(sd_metric_planes(SD_METRIC_STRUCT, 4) == 6 && sd_metric_halo(SD_METRIC_MBI) == 15, "planes and halo");
  CHECK(sd_metric_parse("logratio") == SD_METRIC_LOGRATIO && sd_metric_parse("bogus") == -1, "names");
  sd_planes_free(&in);
  sd_planes_free(&out);
  return check_done("test_features");
}
