/* test_segment.c: SLIC segments of a pair follow the edges both dates draw, odd sizes and nodata
 * included; the structure cues of a new grey roof beat those of a field whose crop changed and of
 * a shadow that moved; the prior is the mean share of reference segments below each cue; the
 * score weighs the change by the prior cubed, and the level is a fraction of the scores' Otsu
 * split, weighted by pixels. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "segment/segment.h"

enum { W = 61, H = 47 };

/* Bands red, green, blue: green field everywhere; after: a grey roof in [30, 50) x [10, 30), the
 * field left of x = 20 turned brown (harvest), and a dark shadow strip in rows [38, 44). */
static void scene(sd_planes *pb, sd_planes *pa, sd_rng *rng) {
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      size_t i = (size_t)y * W + x;
      float field[3] = {60, 110, 50}, after[3] = {60, 110, 50};
      if (x < 20) after[0] = 120, after[1] = 100, after[2] = 70;
      if (x >= 30 && x < 50 && y >= 10 && y < 30) after[0] = after[1] = after[2] = 170;
      if (y >= 38 && y < 44 && x >= 20) after[0] = 25, after[1] = 40, after[2] = 20;
      for (int b = 0; b < 3; b++) {
        pb->band[b][i] = field[b] + (float)sd_rng_normal(rng) * 2;
        pa->band[b][i] = after[b] + (float)sd_rng_normal(rng) * 2;
      }
    }
  for (int b = 0; b < 3; b++)
    pb->band[b][5 * W + 5] = NAN; /* a nodata pixel */
}

static int majority(const uint32_t *lab, int nseg, int x0, int y0, int x1, int y1) {
  int *count = calloc((size_t)nseg, sizeof *count), best = 0;
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++)
      count[lab[(size_t)y * W + x]]++;
  for (int k = 1; k < nseg; k++)
    if (count[k] > count[best]) best = k;
  free(count);
  return best;
}

int main(void) {
  sd_error err = {0};
  sd_planes pb, pa;
  if (sd_planes_alloc(&pb, 3, W, H, &err) || sd_planes_alloc(&pa, 3, W, H, &err)) return 1;
  sd_rng rng = {7};
  scene(&pb, &pa, &rng);
  sd_radiometry radio = {.nbands = 3, .gain = {1, 1, 1}, .offset = {0, 0, 0}, .sigma = {2, 2, 2}};
  uint32_t *lab = malloc(sizeof *lab * W * H);
  int nseg = sd_slic_pair(&pb, &pa, &radio, 10, lab);
  CHECK(nseg >= 12 && nseg <= 7 * 5, "%d segments of a 61 x 47 window at 10 px", nseg);
  /* no segment crosses the roof's outline: pixels two inside and two outside never share one */
  int crossing = 0;
  for (int y = 12; y < 28; y++) {
    crossing += lab[(size_t)y * W + 32] == lab[(size_t)y * W + 27];
    crossing += lab[(size_t)y * W + 47] == lab[(size_t)y * W + 52];
  }
  CHECK(crossing == 0, "%d segment(s) cross the roof's edge", crossing);
  sd_seg_cues *cues = calloc((size_t)nseg, sizeof *cues);
  const sd_band_roles roles = {.blue = 2, .green = 1, .red = 0, .nir = -1};
  CHECK(sd_segment_cues(&pb, &pa, &radio, &roles, SD_VEG_EXG, lab, nseg, cues) == 0, "cues");
  int roof = majority(lab, nseg, 32, 12, 48, 28), crop = majority(lab, nseg, 2, 12, 18, 28),
      shade = majority(lab, nseg, 25, 39, 55, 43), same = majority(lab, nseg, 53, 1, 59, 7);
  CHECK(roof != crop && roof != shade && crop != shade, "roof %d, crop %d, shadow %d: distinct", roof, crop, shade);
  CHECK(cues[roof].cue[SD_CUE_GREY] > cues[crop].cue[SD_CUE_GREY], "a grey roof is greyer than brown soil");
  CHECK(cues[roof].cue[SD_CUE_UNGREEN] > cues[same].cue[SD_CUE_UNGREEN], "a roof is less green than the field");
  CHECK(cues[roof].cue[SD_CUE_BRIGHT_GAIN] > 10 && cues[shade].cue[SD_CUE_BRIGHT_GAIN] < -10,
        "brightness gain of the roof %g and the shadow %g, noise units", cues[roof].cue[SD_CUE_BRIGHT_GAIN],
        cues[shade].cue[SD_CUE_BRIGHT_GAIN]);
  CHECK(fabsf(cues[same].cue[SD_CUE_BRIGHT_GAIN]) < 1 && fabsf(cues[same].cue[SD_CUE_EDGE_GAIN]) < 1,
        "unchanged field: no gain (%g, %g)", cues[same].cue[SD_CUE_BRIGHT_GAIN], cues[same].cue[SD_CUE_EDGE_GAIN]);
  /* the spread of brightness inside a segment: noise of sigma 2 (1 noise unit per band, mean over
   * three bands: 1 / sqrt 3) in both dates of the unchanged field, so no gain */
  CHECK(fabsf(cues[same].cue[SD_CUE_SPREAD_GAIN]) < 0.25f, "unchanged field: spread gain %g",
        cues[same].cue[SD_CUE_SPREAD_GAIN]);
  int valid = 0;
  for (int k = 0; k < nseg; k++)
    valid += cues[k].valid_px;
  CHECK(valid == W * H - 5, "%d valid pixels: all but the nodata one and its 4 neighbours (no gradient)", valid);

  /* the prior against the window's own segments (labels SLIC left unused have no pixels): the
   * roof ranks above the crop and the shadow */
  float *ref[SD_CUES];
  int nref = 0;
  for (int c = 0; c < SD_CUES; c++) {
    ref[c] = malloc(sizeof *ref[c] * (size_t)nseg);
    nref = 0;
    for (int k = 0; k < nseg; k++)
      if (cues[k].valid_px) ref[c][nref++] = cues[k].cue[c];
  }
  sd_structure_sort_ref(ref, nref);
  for (int k = 1; k < nref; k++)
    CHECK(ref[0][k - 1] <= ref[0][k], "sorted");
  sd_seg_cues cand[3] = {cues[roof], cues[crop], cues[shade]};
  float prior[3];
  sd_structure_prior(cand, 3, ref, nref, prior);
  CHECK(prior[0] > 0.6f, "the roof ranks high: prior %.3f", prior[0]);
  CHECK(prior[1] < prior[0] && prior[2] < prior[0], "crop %.3f and shadow %.3f below the roof %.3f", prior[1], prior[2],
        prior[0]);
  /* the score: the same change weighs by the prior cubed, and the vegetation rule's share off it */
  sd_seg_change chg = {.mag = 2, .veg_share = 0, .det_share = 1, .px = 100};
  CHECK(sd_structure_score(prior[0], &chg) > sd_structure_score(prior[2], &chg), "roof scores above the shadow");
  CHECK_NEAR(sd_structure_score(0.5f, &chg), 2 * 0.125, 1e-6, "score 2 x 0.5^3");
  chg.veg_share = 0.75f;
  CHECK_NEAR(sd_structure_score(0.5f, &chg), 2 * 0.25 * 0.125, 1e-6, "a quarter left by the vegetation rule");
  /* the level: scores 0.1 (900 px in all) and 1.0 (100 px): Otsu splits between them */
  float sc[10];
  int32_t px[10];
  for (int k = 0; k < 10; k++) {
    sc[k] = k < 9 ? 0.1f : 1.0f;
    px[k] = 100;
  }
  double lv = sd_structure_level(sc, px, 10);
  CHECK(lv > SD_STRUCTURE_LEVEL * 0.1 && lv <= SD_STRUCTURE_LEVEL * 1.0,
        "level %.3f between the fractions of the modes", lv);
  /* scores 0.1, 0.5, 1.0: counted alike, Otsu puts 0.5 with 0.1; with 10000 px at 0.1 and 100
   * at each of the others, with 1.0 */
  float three[3] = {0.1f, 0.5f, 1.0f};
  int32_t alike[3] = {1, 1, 1}, heavy[3] = {10000, 100, 100};
  CHECK(sd_structure_level(three, alike, 3) > SD_STRUCTURE_LEVEL * 0.5, "alike: split above 0.5 (%.3f)",
        sd_structure_level(three, alike, 3));
  CHECK(sd_structure_level(three, heavy, 3) <= SD_STRUCTURE_LEVEL * 0.5, "weighted by pixels: split below 0.5 (%.3f)",
        sd_structure_level(three, heavy, 3));
  /* the nine low ones alone: one score, the level is its fraction */
  CHECK(sd_structure_level(sc, px, 9) == SD_STRUCTURE_LEVEL * 0.1f, "one score: the level is its fraction (%g)",
        sd_structure_level(sc, px, 9));
  CHECK(sd_structure_level(sc, px, 0) == 0, "no segments: level 0");
  /* exact shares: references 0..99 on every cue, a candidate at 50 has 50 below on each */
  float *seq[SD_CUES];
  for (int c = 0; c < SD_CUES; c++) {
    seq[c] = malloc(sizeof *seq[c] * 100);
    for (int k = 0; k < 100; k++)
      seq[c][k] = (float)(99 - k);
  }
  sd_structure_sort_ref(seq, 100);
  sd_seg_cues mid = {.cue = {50, 50, 0, 100, 25}};
  sd_structure_prior(&mid, 1, seq, 100, prior);
  CHECK_NEAR(prior[0], (0.5 + 0.5 + 0.0 + 1.0 + 0.25) / 5, 1e-6, "prior of known ranks");
  for (int c = 0; c < SD_CUES; c++) {
    free(ref[c]);
    free(seq[c]);
  }
  free(cues);
  free(lab);
  sd_planes_free(&pb);
  sd_planes_free(&pa);
  return check_done("test_segment");
}
