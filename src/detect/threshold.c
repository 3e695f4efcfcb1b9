/* threshold.c: magnitude histogram, Otsu, and the noise-floor guard for rare change. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"

void sd_hist_build(const float *v, size_t n, int64_t *count) {
  memset(count, 0, sizeof(int64_t) * SD_HIST_BINS);
  const float scale = (float)(SD_HIST_BINS / SD_HIST_MAX);
  SD_OMP(parallel) {
    int64_t local[SD_HIST_BINS];
    memset(local, 0, sizeof local);
    SD_OMP(for schedule(static) nowait)
    for (size_t i = 0; i < n; i++) {
      float x = v[i];
      if (!(x >= 0)) continue; /* NaN */
      int bin = x * scale >= SD_HIST_BINS - 1 ? SD_HIST_BINS - 1 : (int)(x * scale);
      local[bin]++;
    }
    SD_OMP(critical)
    for (int b = 0; b < SD_HIST_BINS; b++)
      count[b] += local[b];
  }
}

double sd_hist_bin_value(int bin) { return (bin + 0.5) * (SD_HIST_MAX / SD_HIST_BINS); }

int sd_otsu_index(const int64_t *count, const double *value, int nbins) {
  double total = 0, sum = 0;
  for (int i = 0; i < nbins; i++) {
    total += (double)count[i];
    sum += (double)count[i] * value[i];
  }
  if (total <= 0) return 0;
  /* Between-class variance for every split; across an empty valley it is flat, so the
   * middle of the plateau is taken rather than its edge at the lower mode. */
  double *between = malloc(sizeof(double) * nbins);
  if (!between) return 0;
  double w0 = 0, s0 = 0, best = -1;
  for (int i = 0; i < nbins - 1; i++) {
    w0 += (double)count[i];
    s0 += (double)count[i] * value[i];
    double w1 = total - w0;
    between[i] = 0;
    if (w0 <= 0 || w1 <= 0) continue;
    double m0 = s0 / w0, m1 = (sum - s0) / w1;
    between[i] = w0 * w1 * (m0 - m1) * (m0 - m1);
    if (between[i] > best) best = between[i];
  }
  int first = -1, last = 0;
  for (int i = 0; i < nbins - 1; i++)
    if (between[i] >= best * (1 - 1e-12)) {
      if (first < 0) first = i;
      last = i;
    }
  free(between);
  return first < 0 ? 0 : (first + last) / 2; /* the last "no change" bin */
}

double sd_otsu(const int64_t *count, int nbins, double lo, double hi) {
  double *value = malloc(sizeof(double) * nbins), width = (hi - lo) / nbins;
  if (!value) return lo;
  for (int i = 0; i < nbins; i++)
    value[i] = lo + (i + 0.5) * width;
  int k = sd_otsu_index(count, value, nbins);
  free(value);
  return lo + (k + 1) * width;
}

static double hist_quantile(const int64_t *count, int64_t total, double q) {
  int64_t target = (int64_t)(q * (double)total), acc = 0;
  for (int b = 0; b < SD_HIST_BINS; b++) {
    acc += count[b];
    if (acc > target) return sd_hist_bin_value(b);
  }
  return SD_HIST_MAX;
}

void sd_threshold_auto(const int64_t *count, sd_threshold *t) {
  int64_t total = 0;
  for (int b = 0; b < SD_HIST_BINS; b++)
    total += count[b];
  memset(t, 0, sizeof *t);
  t->median = hist_quantile(count, total, 0.5);
  /* Spread of the no-change mode from its lower half, which change does not reach. */
  double q16 = hist_quantile(count, total, 0.1587);
  t->sigma = t->median - q16 > 0 ? t->median - q16 : SD_HIST_MAX / SD_HIST_BINS;
  const double k = 6.0;
  t->noise_floor = t->median + k * t->sigma;
  /* Otsu on log(magnitude + median): change spreads over decades while the no-change mode is
   * narrow; the log balances the two spreads, and the median offset keeps the near-zero tail
   * of the no-change mode from stretching its class. */
  double logv[SD_HIST_BINS];
  for (int b = 0; b < SD_HIST_BINS; b++)
    logv[b] = log(sd_hist_bin_value(b) + t->median);
  t->otsu = (sd_otsu_index(count, logv, SD_HIST_BINS) + 1) * (SD_HIST_MAX / SD_HIST_BINS);
  if (t->otsu >= t->noise_floor) {
    t->value = t->otsu;
    t->method = "otsu";
    t->why = "Otsu's threshold lies above the noise floor, so the histogram has a change mode";
  } else {
    t->value = t->noise_floor;
    t->method = "noise-floor";
    t->why = "Otsu's threshold fell inside the no-change mode (change is rare), so the noise "
             "floor (median + 6 sigma) was used";
  }
}
