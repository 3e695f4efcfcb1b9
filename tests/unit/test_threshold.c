/* test_threshold.c: Otsu on histograms with known answers; the automatic choice on scenes
 * with common and with rare change. */
#include <string.h>

#include "../check.h"
#include "detect/detect.h"

static int64_t hist[SD_HIST_BINS];

static int bin_of(double v) { return (int)(v * SD_HIST_BINS / SD_HIST_MAX); }

int main(void) {
  /* Two equal spikes at bins 10 and 30 of 64: any threshold between them separates; Otsu's
   * maximum is flat there and the first maximum is the lower spike's upper edge. */
  int64_t h64[64] = {0};
  h64[10] = 1000;
  h64[30] = 1000;
  double t = sd_otsu(h64, 64, 0, 64);
  CHECK(t > 10 && t <= 30, "two spikes: threshold %.2f not between 10 and 30", t);
  /* Two Gaussian-like modes: mean 20 (sd 3) and mean 44 (sd 3): threshold near 32. */
  memset(h64, 0, sizeof h64);
  for (int i = 0; i < 64; i++)
    h64[i] = (int64_t)(1e5 * (exp(-0.5 * (i - 20) * (i - 20) / 9.0) + exp(-0.5 * (i - 44) * (i - 44) / 9.0)));
  t = sd_otsu(h64, 64, 0, 64);
  CHECK(t >= 30 && t <= 34, "symmetric modes: threshold %.2f not near 32", t);

  /* Magnitude-like: no-change mode near 1 (sd 0.3) with 5% change spread around 20. */
  sd_rng r = {99};
  memset(hist, 0, sizeof hist);
  for (int i = 0; i < 200000; i++) {
    double v = 1 + 0.3 * sd_rng_normal(&r);
    if (v < 0) v = 0;
    hist[bin_of(v)]++;
  }
  for (int i = 0; i < 10000; i++)
    hist[bin_of(sd_rng_range(&r, 12, 30))]++;
  sd_threshold th;
  sd_threshold_choose(hist, SD_THR_AUTO, 6, SD_PRESET_DEFAULT, &th);
  CHECK(th.value > 2.5 && th.value < 12, "common change: threshold %.2f should split 1 from 12..30", th.value);
  CHECK(th.value >= th.ksigma, "threshold %.2f below the noise floor %.2f", th.value, th.ksigma);
  CHECK_NEAR(th.median, 1.0, 0.05, "median of the no-change mode");
  CHECK_NEAR(th.sigma, 0.3, 0.05, "spread of the no-change mode");

  /* Change on 30% of the pixels: the threshold sits in the valley. */
  memset(hist, 0, sizeof hist);
  for (int i = 0; i < 140000; i++) {
    double v = 1 + 0.3 * sd_rng_normal(&r);
    hist[bin_of(v < 0 ? 0 : v)]++;
  }
  for (int i = 0; i < 60000; i++)
    hist[bin_of(sd_rng_range(&r, 6, 20))]++;
  sd_threshold_choose(hist, SD_THR_AUTO, 6, SD_PRESET_DEFAULT, &th);
  CHECK(th.value > 2.5 && th.value < 6, "30%% change: threshold %.2f should split 1 from 6..20", th.value);

  /* A broad no-change mode (3 +- 1) and change far above it (40..60): Otsu's valley lies above
   * the noise floor and is used. */
  memset(hist, 0, sizeof hist);
  for (int i = 0; i < 100000; i++) {
    double v = 3 + sd_rng_normal(&r);
    hist[bin_of(v < 0 ? 0 : v)]++;
  }
  for (int i = 0; i < 30000; i++)
    hist[bin_of(sd_rng_range(&r, 40, 60))]++;
  sd_threshold_choose(hist, SD_THR_AUTO, 6, SD_PRESET_DEFAULT, &th);
  CHECK(th.method == SD_THR_OTSU_LOG, "far change: method %s, expected otsu-log (%.2f, floor %.2f)",
        sd_thr_method_name(th.method), th.otsu_log, th.ksigma);
  CHECK(th.ki > 5 && th.ki < 40, "far change: Kittler-Illingworth %.2f not in the valley", th.ki);
  CHECK(th.otsu > 5 && th.otsu < 40, "far change: Otsu %.2f not in the valley", th.otsu);
  CHECK(th.value > 9 && th.value < 40, "far change: threshold %.2f should split 3 from 40..60", th.value);

  /* Rare change (0.01%): the threshold must stay above the noise. */
  memset(hist, 0, sizeof hist);
  for (int i = 0; i < 500000; i++) {
    double v = 1 + 0.3 * sd_rng_normal(&r);
    hist[bin_of(v < 0 ? 0 : v)]++;
  }
  for (int i = 0; i < 50; i++)
    hist[bin_of(20)]++;
  sd_threshold_choose(hist, SD_THR_AUTO, 6, SD_PRESET_DEFAULT, &th);
  CHECK(th.value >= 1 + 5 * 0.3, "rare change: threshold %.2f is inside the noise", th.value);
  CHECK(th.value < 20, "rare change: threshold %.2f is above the change", th.value);

  /* No change at all: nothing of the noise may pass. */
  memset(hist, 0, sizeof hist);
  int64_t above = 0;
  for (int i = 0; i < 500000; i++) {
    double v = 1 + 0.3 * sd_rng_normal(&r);
    hist[bin_of(v < 0 ? 0 : v)]++;
  }
  sd_threshold_choose(hist, SD_THR_AUTO, 6, SD_PRESET_DEFAULT, &th);
  for (int b = 0; b < SD_HIST_BINS; b++)
    if (sd_hist_bin_value(b) > th.value) above += hist[b];
  CHECK(above < 50, "no change: %lld noise pixels above the threshold %.2f", (long long)above, th.value);

  /* Kittler-Illingworth on two Gaussians of unequal size and spread: the minimum-error split
   * lies where the weighted densities cross (computed here), not at Otsu's midpoint. */
  {
    enum { NB = 400 };
    int64_t hh[NB];
    double val[NB];
    const double m0 = 100, s0 = 10, m1 = 200, s1 = 30, w0 = 0.8, w1 = 0.2;
    for (int i = 0; i < NB; i++) {
      val[i] = i + 0.5;
      double g0 = w0 / s0 * exp(-0.5 * (val[i] - m0) * (val[i] - m0) / (s0 * s0));
      double g1 = w1 / s1 * exp(-0.5 * (val[i] - m1) * (val[i] - m1) / (s1 * s1));
      hh[i] = (int64_t)(1e7 * (g0 + g1));
    }
    double cross = 0;
    for (int i = (int)m0; i < (int)m1; i++) {
      double g0 = w0 / s0 * exp(-0.5 * (val[i] - m0) * (val[i] - m0) / (s0 * s0));
      double g1 = w1 / s1 * exp(-0.5 * (val[i] - m1) * (val[i] - m1) / (s1 * s1));
      if (g1 > g0) {
        cross = val[i];
        break;
      }
    }
    int ki = sd_ki_index(hh, val, NB);
    CHECK(fabs(ki + 1 - cross) <= 6, "Kittler-Illingworth split %d, densities cross at %.1f", ki + 1, cross);
    int ot = sd_otsu_index(hh, val, NB);
    CHECK(ot + 1 > cross + 4, "Otsu (%d) should sit nearer the wide class than the crossing (%.1f)", ot + 1, cross);
  }
  /* k-sigma: median + k sigma of the no-change mode, k as given. */
  memset(hist, 0, sizeof hist);
  for (int i = 0; i < 400000; i++) {
    double v = 2 + 0.5 * sd_rng_normal(&r);
    hist[bin_of(v < 0 ? 0 : v)]++;
  }
  sd_threshold_choose(hist, SD_THR_KSIGMA, 4, SD_PRESET_DEFAULT, &th);
  /* median and sigma come from bins of 64/4096: k + 1 bin widths of slack */
  CHECK_NEAR(th.value, 2 + 4 * 0.5, 5 * SD_HIST_MAX / SD_HIST_BINS, "k-sigma threshold");
  CHECK(th.method == SD_THR_KSIGMA, "k-sigma method");
  sd_threshold_choose(hist, SD_THR_OTSU, 4, SD_PRESET_DEFAULT, &th);
  CHECK(th.value == th.otsu && th.method == SD_THR_OTSU, "asked-for Otsu not used");

  /* sd_hist_build skips NaN and clips large values into the last bin. */
  float v[5] = {0.5f, NAN, 1000.0f, 2.0f, -0.0f};
  sd_hist_build(v, 5, hist);
  int64_t total = 0;
  for (int b = 0; b < SD_HIST_BINS; b++)
    total += hist[b];
  CHECK(total == 4, "histogram counted %lld values, expected 4", (long long)total);
  CHECK(hist[SD_HIST_BINS - 1] == 1, "large value not clipped into the last bin");
  return check_done("test_threshold");
}
