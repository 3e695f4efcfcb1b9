/* test_objects.c: shape measures and classes of constructed objects. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "detect/detect.h"
#include "detect/objects.h"

enum { W = 200, H = 160 };

int main(void) {
  static uint8_t m[W * H];
  static int32_t l[W * H];
  static float mag[W * H];
  memset(m, 0, sizeof m);
  for (int i = 0; i < W * H; i++)
    mag[i] = 10;
  /* 1: a 20 x 10 px axis-aligned rectangle (a hut at 0.5 m: 10 x 5 m). */
  for (int y = 20; y < 30; y++)
    for (int x = 20; x < 40; x++)
      m[y * W + x] = 1;
  /* 2: a bent line 4 px wide, ~110 px long (a trench 2 m x 55 m). */
  for (int x = 60; x < 130; x++)
    for (int k = 0; k < 4; k++)
      m[(40 + k) * W + x] = 1;
  for (int y = 40; y < 84; y++)
    for (int k = 0; k < 4; k++)
      m[y * W + 130 + k] = 1;
  /* 3: a 10 x 5 px blob (a vehicle: 5 x 2.5 m). */
  for (int y = 120; y < 125; y++)
    for (int x = 20; x < 30; x++)
      m[y * W + x] = 1;
  /* 4: a large irregular patch, a cross with 14 px arms (an area of disturbed ground). */
  for (int y = 95; y < 155; y++)
    for (int x = 100; x < 190; x++)
      if ((abs(x - 145) < 7 || abs(y - 125) < 7) && ((x * 7 + y * 3) % 11)) m[y * W + x] = 1;
  sd_morph_close(m, W, H, 1);
  int n = sd_label(m, W, H, l);
  CHECK(n == 4, "expected 4 objects, got %d", n);
  sd_object o[8];
  sd_pixel_geom px = {0.5, 0.5};
  sd_objects_measure(l, m, mag, W, H, n, px, o);
  sd_objects_classify(o, n, px);
  CHECK(o[0].area_px == 200, "rectangle area %lld", (long long)o[0].area_px);
  CHECK_NEAR(o[0].area_m2, 50, 1e-9, "rectangle area m2");
  CHECK(o[0].x0 == 20 && o[0].x1 == 39 && o[0].y0 == 20 && o[0].y1 == 29, "rectangle bbox");
  CHECK_NEAR(o[0].cx, 30, 1e-9, "rectangle centroid x");
  CHECK_NEAR(o[0].cy, 25, 1e-9, "rectangle centroid y");
  CHECK_NEAR(o[0].elongation, 2.0, 0.02, "rectangle elongation");
  CHECK_NEAR(o[0].orientation_deg, 90, 0.5, "rectangle orientation (east-west)");
  CHECK_NEAR(o[0].length_m, 10, 0.01, "rectangle length");
  CHECK_NEAR(o[0].width_m, 5, 0.01, "rectangle width");
  CHECK_NEAR(o[0].rectangularity, 1.0, 1e-9, "rectangle rectangularity");
  CHECK(o[0].cls == SD_CLASS_STRUCTURE, "rectangle class %s", sd_class_name(o[0].cls));
  CHECK(o[1].cls == SD_CLASS_TRENCH, "bent line class %s (thinness %.2f, thickness %.2f m)", sd_class_name(o[1].cls),
        o[1].thinness, o[1].thickness_m);
  CHECK_NEAR(o[1].thickness_m, 2.0, 0.6, "trench thickness");
  int blob = l[122 * W + 25] - 1, patch = l[125 * W + 145] - 1;
  CHECK(o[blob].cls == SD_CLASS_EQUIPMENT, "small blob class %s", sd_class_name(o[blob].cls));
  CHECK(o[patch].cls == SD_CLASS_AREA, "large patch class %s", sd_class_name(o[patch].cls));
  CHECK(!o[0].truncated, "inner rectangle flagged truncated");
  CHECK_NEAR(o[0].mean_mag, 10, 1e-6, "mean magnitude");
  return check_done("test_objects");
}
