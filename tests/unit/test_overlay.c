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

static int boxes_overlap(const sd_ov_label *a, const sd_ov_label *b) {
  return a->x < b->x + b->w && b->x < a->x + a->w && a->y < b->y + b->h && b->y < a->y + a->h;
}

/* 1,500 objects on a 3000 x 2000 grid drawn at 1000 x 667: the numbers go to the best ranks
 * within the panel's budget, inside the panel, none overlapping another. */
static void many_labels(void) {
  enum { GW = 3000, GH = 2000, N = 1500 };
  sd_error err = {0};
  sd_overlay ov;
  CHECK(sd_overlay_init(&ov, GW, GH, 1000, 0, &err) == SD_OK, "init: %s", err.msg);
  sd_object *objs = calloc(N, sizeof *objs);
  unsigned seed = 7;
  for (int i = 0; i < N; i++) {
    seed = seed * 1103515245u + 12345u;
    int x = (int)(seed >> 8) % (GW - 40), y = (int)((seed >> 4) * 2654435761u >> 8) % (GH - 40);
    int side = 3 + (int)(seed >> 20) % 30;
    /* ranks are a shuffle of 1..N: rank = 1 + (i * 7) mod N (7 and 1500 are coprime) */
    objs[i] = (sd_object){.id = i + 1,
                          .rank = 1 + (i * 7) % N,
                          .x0 = x,
                          .y0 = y,
                          .x1 = x + side,
                          .y1 = y + side,
                          .area_px = (int64_t)side * side,
                          .cls = i % SD_CLASS_COUNT};
  }
  int scale = 2, budget = sd_overlay_label_budget(ov.w, ov.h, scale);
  CHECK(budget == 1000 * 667 / (120 * 120), "budget %d for 1000 x 667 at scale 2", budget);
  sd_ov_label lab[SD_LABELS_MAX];
  int n = sd_overlay_place_labels(&ov, objs, N, scale, budget, lab, &err);
  CHECK(n >= budget * 9 / 10 && n <= budget, "%d labels placed of a budget of %d", n, budget);
  int overlaps = 0, outside = 0, unordered = 0;
  for (int i = 0; i < n; i++) {
    outside += lab[i].x < 0 || lab[i].y < 0 || lab[i].x + lab[i].w > ov.w || lab[i].y + lab[i].h > ov.h;
    unordered += i > 0 && lab[i].rank <= lab[i - 1].rank;
    for (int j = 0; j < i; j++)
      overlaps += boxes_overlap(&lab[i], &lab[j]);
  }
  CHECK(!overlaps && !outside && !unordered, "%d overlapping, %d outside, %d out of rank order", overlaps, outside,
        unordered);
  CHECK(n > 0 && lab[0].rank == 1, "rank 1 is not numbered first (%d)", n > 0 ? lab[0].rank : -1);
  /* The same through the renderer, which reports what it placed. */
  int32_t *olab = calloc((size_t)ov.w * ov.h, sizeof *olab);
  sd_overlay_labels got;
  CHECK(sd_overlay_write(&ov, olab, objs, N, "overlay-test-many.png", &got, &err) == SD_OK, "write: %s", err.msg);
  CHECK(got.n == n && got.scale == scale && !memcmp(got.label, lab, sizeof *lab * (size_t)n),
        "the renderer placed %d labels at scale %d, not the %d placed here", got.n, got.scale, n);
  free(olab);
  free(objs);
  sd_overlay_free(&ov);
}

/* An object whose box fills the panel (a whole subdivision, or a cleared valley) has no place
 * around it: its number goes on its centroid, and the next ranks still go around theirs. */
static void large_object_label(void) {
  sd_error err = {0};
  sd_overlay ov;
  CHECK(sd_overlay_init(&ov, 400, 300, 1000, 0, &err) == SD_OK, "init: %s", err.msg);
  sd_object objs[2] = {
      {.id = 1, .rank = 1, .x0 = 0, .y0 = 0, .x1 = 399, .y1 = 299, .cx = 200, .cy = 150, .cls = SD_CLASS_AREA},
      {.id = 2, .rank = 2, .x0 = 50, .y0 = 50, .x1 = 60, .y1 = 60, .cx = 55, .cy = 55, .cls = SD_CLASS_STRUCTURE}};
  sd_ov_label lab[2];
  int n = sd_overlay_place_labels(&ov, objs, 2, 1, 10, lab, &err);
  CHECK(n == 2 && lab[0].rank == 1 && lab[1].rank == 2, "%d labels, the first rank %d", n, n ? lab[0].rank : -1);
  if (n == 2) {
    CHECK(abs(lab[0].x + lab[0].w / 2 - 200) <= 1 && abs(lab[0].y + lab[0].h / 2 - 150) <= 1,
          "rank 1 at (%d, %d), not on its centroid", lab[0].x, lab[0].y);
    CHECK(lab[1].x == 63 && lab[1].y == 48, "rank 2 at (%d, %d), not right of its box", lab[1].x, lab[1].y);
  }
  sd_overlay_free(&ov);
}

/* Two objects one output pixel apart share one outline: the pixel between them is not drawn. */
static void cluster_outline(void) {
  sd_error err = {0};
  sd_overlay ov;
  CHECK(sd_overlay_init(&ov, 40, 20, 1000, 0, &err) == SD_OK, "init: %s", err.msg);
  float *row = malloc(sizeof(float) * 40);
  for (int x = 0; x < 40; x++)
    row[x] = 0.5f;
  const float *rgb[3] = {row, row, row};
  for (int y = 0; y < 20; y++)
    sd_overlay_add(&ov, rgb, NULL, y, 1);
  int32_t *olab = calloc(40 * 20, sizeof *olab);
  for (int y = 5; y < 15; y++) {
    for (int x = 5; x < 15; x++)
      olab[y * 40 + x] = 1;
    for (int x = 16; x < 26; x++)
      olab[y * 40 + x] = 2;
  }
  sd_object objs[2] = {{.id = 1, .rank = 1, .x0 = 5, .y0 = 5, .x1 = 14, .y1 = 14, .cls = SD_CLASS_STRUCTURE},
                       {.id = 2, .rank = 2, .x0 = 16, .y0 = 5, .x1 = 25, .y1 = 14, .cls = SD_CLASS_STRUCTURE}};
  CHECK(sd_overlay_write(&ov, olab, objs, 2, "overlay-test-cluster.png", NULL, &err) == SD_OK, "write: %s", err.msg);
  int w = 0, h = 0;
  uint8_t *img = read_png("overlay-test-cluster.png", &w, &h);
  CHECK(img && w == 40, "cannot read the cluster overlay back");
  /* So narrow a panel puts each class on a line of its own: five, the note's line, the margin. */
  CHECK(h == 20 + 4 + 11 * 6, "a 40 px legend is %d px tall, not %d: the classes did not wrap", h - 20, 4 + 11 * 6);
  if (img) {
    CHECK(is_colour(img + (10 * w + 4) * 3, 255, 40, 40) && is_colour(img + (10 * w + 26) * 3, 255, 40, 40),
          "no outline around the pair");
    CHECK(!is_colour(img + (10 * w + 15) * 3, 255, 40, 40), "an outline between two objects a pixel apart");
    free(img);
  }
  free(olab);
  free(row);
  sd_overlay_free(&ov);
}

int main(void) {
  many_labels();
  large_object_label();
  cluster_outline();
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
    objs[0] = (sd_object){
        .id = 1, .rank = 1, .area_px = 3600, .x0 = 900, .y0 = 600, .x1 = 959, .y1 = 659, .cls = SD_CLASS_STRUCTURE};
    objs[1] = (sd_object){
        .id = 2, .rank = 2, .area_px = 4, .x0 = 2400, .y0 = 1500, .x1 = 2401, .y1 = 1501, .cls = SD_CLASS_EQUIPMENT};
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
    CHECK(sd_overlay_write(&ov, olab, objs, 2, path, NULL, &err) == SD_OK, "write: %s", err.msg);
    free(olab);
    int w = 0, h = 0;
    uint8_t *img = read_png(path, &w, &h);
    CHECK(img, "cannot read %s back", path);
    if (img) {
      CHECK(w == (trip ? 3000 : 1000) && h == 667 + 26 * (trip ? 3 : 2), "%s is %d x %d", path, w, h);
      int xo = trip ? 2000 : 0;
      /* The structure's outline in red at output resolution, one pixel outside it (its box is
       * 300..319 x 200..219 there), its inside tinted, not painted over. */
      CHECK(is_colour(img + ((size_t)205 * w + xo + 299) * 3, 255, 40, 40), "no red outline at the structure");
      CHECK(!is_colour(img + ((size_t)205 * w + xo + 300) * 3, 255, 40, 40), "the outline covers the structure");
      /* The 2 x 2 blob lands in one output pixel and is still drawn, outlined in cyan. */
      CHECK(is_colour(img + ((size_t)500 * w + xo + 799) * 3, 0, 220, 255), "tiny object lost in downsampling");
      /* ... with a ring around it, in cyan. */
      int ring = 0;
      for (int y = 490; y < 511; y++)
        for (int x = xo + 790; x < xo + 811; x++)
          ring += is_colour(img + ((size_t)y * w + x) * 3, 0, 220, 255);
      CHECK(ring >= 20, "no ring around the tiny object (%d cyan pixels)", ring);
      /* Its rank in white right of the structure's box. */
      int white = 0;
      for (int y = 195; y < 230; y++)
        for (int x = xo + 322; x < xo + 345; x++)
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
