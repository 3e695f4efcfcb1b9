/* test_overlay.c: overlay.png: size (with the legend band), class colours at object positions,
 * a tiny object still visible after heavy downsampling, ids drawn, triptych width. */
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "detect/detect.h"
#include "render/render.h"

static uint8_t *read_png(const char *path, int *w, int *h) {
  png_image img;
  memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&img, path)) return NULL;
  img.format = PNG_FORMAT_RGB;
  uint8_t *buf = malloc(PNG_IMAGE_SIZE(img));
  if (!png_image_finish_read(&img, NULL, buf, 0, NULL)) {
    free(buf);
    return NULL;
  }
  *w = (int)img.width;
  *h = (int)img.height;
  return buf;
}

static int is_colour(const uint8_t *p, uint8_t r, uint8_t g, uint8_t b) { return p[0] == r && p[1] == g && p[2] == b; }

int main(void) {
  enum { GW = 3000, GH = 2000 };
  sd_error err = {0};
  for (int trip = 0; trip <= 1; trip++) {
    sd_overlay ov;
    CHECK(sd_overlay_init(&ov, GW, GH, 1000, trip, &err) == SD_OK, "init: %s", err.msg);
    CHECK(ov.factor == 3 && ov.w == 1000 && ov.h == 667, "factor %d, %d x %d", ov.factor, ov.w, ov.h);
    ov.pixel_m = 1.5;
    float *row = malloc(sizeof(float) * GW);
    for (int x = 0; x < GW; x++)
      row[x] = 0.5f;
    const float *rgb[3] = {row, row, row};
    for (int y = 0; y < GH; y++)
      sd_overlay_add(&ov, rgb, rgb, y, 1);
    int32_t *labels = calloc((size_t)GW * GH, sizeof *labels);
    /* Object 1: a structure of 60 x 60 px; object 2: a 2 x 2 px blob (equipment). */
    for (int y = 600; y < 660; y++)
      for (int x = 900; x < 960; x++)
        labels[(size_t)y * GW + x] = 1;
    for (int y = 1500; y < 1502; y++)
      for (int x = 2400; x < 2402; x++)
        labels[(size_t)y * GW + x] = 2;
    sd_object objs[2];
    memset(objs, 0, sizeof objs);
    objs[0] =
        (sd_object){.id = 1, .area_px = 3600, .x0 = 900, .y0 = 600, .x1 = 959, .y1 = 659, .cls = SD_CLASS_STRUCTURE};
    objs[1] =
        (sd_object){.id = 2, .area_px = 4, .x0 = 2400, .y0 = 1500, .x1 = 2401, .y1 = 1501, .cls = SD_CLASS_EQUIPMENT};
    const char *path = trip ? "overlay-test-trip.png" : "overlay-test.png";
    int32_t *olab = calloc((size_t)ov.w * ov.h, sizeof *olab), *olab_runs = calloc((size_t)ov.w * ov.h, sizeof *olab);
    sd_overlay_box_labels(&ov, labels, olab);
    /* The same boxes from runs (the pipeline's way): the components of labels > 0, numbered in
     * raster order, are objects 1 and 2. */
    uint8_t *m = malloc((size_t)GW * GH);
    for (size_t i = 0; i < (size_t)GW * GH; i++)
      m[i] = labels[i] > 0;
    sd_runs runs;
    sd_runs_init(&runs, GW);
    CHECK(sd_runs_add(&runs, m, GH) == 0 && sd_runs_finish(&runs) == 2, "runs: %d components", runs.count);
    sd_runs_boxes(&runs, ov.factor, ov.w, olab_runs);
    CHECK(!memcmp(olab, olab_runs, sizeof *olab * (size_t)ov.w * ov.h), "box labels from runs differ from the image's");
    CHECK(olab[(size_t)(1500 / 3) * ov.w + 2400 / 3] == 2, "the 2 x 2 blob does not mark its box");
    sd_runs_free(&runs);
    free(m);
    free(olab_runs);
    CHECK(sd_overlay_write(&ov, olab, objs, 2, path, &err) == SD_OK, "write: %s", err.msg);
    free(olab);
    int w = 0, h = 0;
    uint8_t *img = read_png(path, &w, &h);
    CHECK(img, "cannot read %s back", path);
    if (img) {
      CHECK(w == (trip ? 3000 : 1000) && h > 667 && h < 720, "%s is %d x %d", path, w, h);
      int xo = trip ? 2000 : 0;
      /* The structure's outline in red at output resolution. */
      CHECK(is_colour(img + ((size_t)200 * w + xo + 300) * 3, 255, 40, 40), "no red outline at the structure");
      /* The 2 x 2 blob lands in one output pixel and is still drawn, in cyan. */
      CHECK(is_colour(img + ((size_t)500 * w + xo + 800) * 3, 0, 220, 255), "tiny object lost in downsampling");
      /* ... with a ring around it, in cyan. */
      int ring = 0;
      for (int y = 490; y < 511; y++)
        for (int x = xo + 790; x < xo + 811; x++)
          ring += is_colour(img + ((size_t)y * w + x) * 3, 0, 220, 255);
      CHECK(ring >= 20, "no ring around the tiny object (%d cyan pixels)", ring);
      /* Its id in white right of the structure's box. */
      int white = 0;
      for (int y = 195; y < 230; y++)
        for (int x = xo + 321; x < xo + 345; x++)
          white += is_colour(img + ((size_t)y * w + x) * 3, 255, 255, 255);
      CHECK(white > 5, "no id drawn beside object 1");
      /* Legend band: dark with coloured class swatches. */
      int red = 0;
      for (int y = 667; y < h; y++)
        for (int x = 0; x < w / 3; x++)
          red += is_colour(img + ((size_t)y * w + x) * 3, 255, 40, 40);
      CHECK(red > 10, "legend has no structure swatch");
      free(img);
    }
    free(row);
    free(labels);
    sd_overlay_free(&ov);
  }
  return check_done("test_overlay");
}
