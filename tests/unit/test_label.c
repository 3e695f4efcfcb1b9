/* test_label.c: union-find labelling equals the flood-fill twin on random masks, the bounded
 * hole filling equals its reference; morphology and the area filter on constructed masks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "detect/detect.h"

/* Change with probability dens, nodata with probability nodata, else no change. */
static void random_mask(sd_rng *r, uint8_t *m, size_t n, double dens, double nodata) {
  for (size_t i = 0; i < n; i++) {
    double u = sd_rng_uniform(r);
    m[i] = u < dens ? 1 : u < dens + nodata ? 255 : 0;
  }
}

int main(void) {
  sd_rng r = {2024};
  const int sizes[][2] = {{1, 1}, {1, 17}, {17, 1}, {31, 29}, {257, 131}, {640, 480}};
  const double dens[] = {0.05, 0.3, 0.45, 0.6, 0.9};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
    for (size_t d = 0; d < sizeof dens / sizeof dens[0]; d++) {
      int w = sizes[s][0], h = sizes[s][1];
      size_t n = (size_t)w * h;
      uint8_t *m = malloc(n);
      int32_t *a = malloc(n * 4), *b = malloc(n * 4);
      random_mask(&r, m, n, dens[d], 0.02);
      if (d % 2) sd_morph_close(m, w, h, 1); /* blobs spanning many rows */
      int na = sd_label(m, w, h, a), nr = sd_label_ref(m, w, h, b);
      CHECK(na == nr, "%dx%d density %.2f: %d vs %d components", w, h, dens[d], na, nr);
      CHECK(memcmp(a, b, n * 4) == 0, "%dx%d density %.2f: label images differ", w, h, dens[d]);
      /* Runs: the mask given in blocks of random heights (objects crossing every block border)
       * gives sd_label's components and numbers, painted block by block. */
      sd_runs runs;
      sd_runs_init(&runs, w);
      for (int y = 0; y < h;) {
        int rows = 1 + (int)(sd_rng_uniform(&r) * 7);
        if (y + rows > h) rows = h - y;
        CHECK(sd_runs_add(&runs, m + (size_t)y * w, rows) == 0, "runs: out of memory");
        y += rows;
      }
      int nb = sd_runs_finish(&runs);
      CHECK(na == nb, "runs %dx%d density %.2f: %d vs %d components", w, h, dens[d], nb, na);
      for (int y = 0; y < h; y += 5)
        sd_runs_paint(&runs, y, y + 5 > h ? h - y : 5, b + (size_t)y * w);
      CHECK(memcmp(a, b, n * 4) == 0, "runs %dx%d density %.2f: painted labels differ from sd_label", w, h, dens[d]);
      sd_runs_free(&runs);
      free(m);
      free(a);
      free(b);
    }
  /* A U shape whose arms meet only rows later, and diagonal contact across a block border. */
  {
    enum { UW = 7, UH = 6 };
    static const uint8_t u[UW * UH] = {1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1,
                                       1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0};
    sd_runs runs;
    sd_runs_init(&runs, UW);
    for (int y = 0; y < UH; y++)
      sd_runs_add(&runs, u + y * UW, 1);
    CHECK(sd_runs_finish(&runs) == 2, "U shape: %d components, expected the U and the dot", runs.count);
    int32_t l[UW * UH];
    sd_runs_paint(&runs, 0, UH, l);
    CHECK(l[0] == 1 && l[6] == 1 && l[5 * UW + 1] == 2, "U shape numbered wrongly");
    sd_runs_free(&runs);
  }

  /* Hole filling: the bounded flood equals the reference (all background labelled) on random
   * masks with nodata, including ones made of blobs, where holes of every size occur, and at
   * hole limits around their sizes. */
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
    for (size_t d = 0; d < sizeof dens / sizeof dens[0]; d++)
      for (int64_t maxpx = 1; maxpx <= 64; maxpx *= 4) {
        int w = sizes[s][0], h = sizes[s][1];
        size_t n = (size_t)w * h;
        uint8_t *a = malloc(n), *b = malloc(n);
        random_mask(&r, a, n, dens[d], 0.01);
        if (d % 2) sd_morph_close(a, w, h, 1); /* blobs with holes */
        memcpy(b, a, n);
        int64_t fa = sd_fill_holes(a, w, h, maxpx), fb = sd_fill_holes_ref(b, w, h, maxpx);
        CHECK(fa == fb, "%dx%d density %.2f max %lld: filled %lld vs %lld", w, h, dens[d], (long long)maxpx,
              (long long)fa, (long long)fb);
        CHECK(memcmp(a, b, n) == 0, "%dx%d density %.2f max %lld: masks differ", w, h, dens[d], (long long)maxpx);
        free(a);
        free(b);
      }
  /* A hole of exactly the limit is filled, one pixel more is not; touching nodata is not a hole. */
  {
    enum { HW = 9 };
    uint8_t hm[HW * HW];
    for (int k = 0; k < 3; k++) {
      memset(hm, 1, sizeof hm);
      for (int y = 2; y < 5; y++)
        for (int x = 2; x < 5; x++)
          hm[y * HW + x] = 0; /* a 3 x 3 hole */
      if (k == 2) hm[1 * HW + 3] = 255;
      int64_t f = sd_fill_holes(hm, HW, HW, k == 1 ? 8 : 9);
      CHECK(f == (k == 0 ? 9 : 0), "case %d: filled %lld", k, (long long)f);
    }
  }

  /* 8-connectivity: a diagonal chain is one component; two blocks apart are two. */
  enum { W = 12, H = 10 };
  uint8_t m[W * H] = {0};
  int32_t l[W * H];
  for (int i = 0; i < 5; i++)
    m[i * W + i] = 1;
  for (int y = 6; y < 9; y++)
    for (int x = 7; x < 10; x++)
      m[y * W + x] = 1;
  CHECK(sd_label(m, W, H, l) == 2, "diagonal chain plus block should be 2 components");
  CHECK(l[0] == 1 && l[4 * W + 4] == 1 && l[7 * W + 8] == 2, "labels not in raster order");
  /* Area filter drops the 5-pixel chain, keeps and renumbers the 9-pixel block. */
  {
    /* The runs' filter, its twin, first: it must drop and renumber the same. */
    sd_runs runs;
    sd_runs_init(&runs, W);
    int64_t kept_px = -1;
    CHECK(sd_runs_add(&runs, m, H) == 0 && sd_runs_finish(&runs) == 2, "runs: %d components", runs.count);
    int nr = sd_runs_filter_area(&runs, 6, &kept_px);
    int32_t painted[W * H];
    sd_runs_paint(&runs, 0, H, painted);
    int n = sd_label_filter_area(m, l, W, H, 2, 6);
    CHECK(n == 1 && l[7 * W + 8] == 1 && m[0] == 0 && l[0] == 0, "area filter wrong (n=%d)", n);
    CHECK(nr == n && kept_px == 9 && !memcmp(painted, l, sizeof painted),
          "runs area filter: %d kept, %lld px, or labels unlike the image's", nr, (long long)kept_px);
    sd_runs_free(&runs);
  }

  /* Opening removes an isolated pixel and a 1-px line, keeps a 3x3 block; nodata survives. */
  memset(m, 0, sizeof m);
  m[1 * W + 1] = 1;
  for (int x = 0; x < W; x++)
    m[4 * W + x] = 1;
  for (int y = 6; y < 9; y++)
    for (int x = 7; x < 10; x++)
      m[y * W + x] = 1;
  m[9 * W + 0] = 255;
  sd_morph_open(m, W, H, 1);
  int ones = 0;
  for (int i = 0; i < W * H; i++)
    ones += m[i] == 1;
  CHECK(ones == 9, "opening left %d pixels, expected the 3x3 block (9)", ones);
  CHECK(m[7 * W + 8] == 1 && m[1 * W + 1] == 0 && m[4 * W + 5] == 0, "opening kept the wrong pixels");
  CHECK(m[9 * W + 0] == 255, "nodata changed by morphology");
  /* Closing fills a one-pixel hole in a block and a one-pixel gap. */
  memset(m, 0, sizeof m);
  for (int y = 2; y < 7; y++)
    for (int x = 2; x < 7; x++)
      m[y * W + x] = 1;
  m[4 * W + 4] = 0;
  sd_morph_close(m, W, H, 1);
  CHECK(m[4 * W + 4] == 1, "closing did not fill the hole");
  ones = 0;
  for (int i = 0; i < W * H; i++)
    ones += m[i] == 1;
  CHECK(ones == 25 && m[2 * W + 2] == 1, "closing changed the block's outline (%d pixels)", ones);
  return check_done("test_label");
}
