/* threshold.c: magnitude histogram, Otsu, and the noise-floor guard for rare change. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"

void sd_hist_build(const float *v, size_t n, int64_t *count) {
  memset(count, 0, sizeof(int64_t) * SD_HIST_BINS);
  sd_hist_add(v, n, count);
}

void sd_hist_add(const float *v, size_t n, int64_t *count) {
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

const char *sd_preset_name(sd_preset p) { return p == SD_PRESET_RGB8 ? "rgb8" : "default"; }

const char *sd_thr_method_name(sd_thr_method m) {
  static const char *const names[] = {"auto", "otsu", "otsu-log", "ki", "ksigma", "fixed"};
  return m <= SD_THR_FIXED ? names[m] : "?";
}

int sd_ki_index(const int64_t *count, const double *value, int nbins) {
  double total = 0;
  for (int i = 0; i < nbins; i++)
    total += (double)count[i];
  if (total <= 0) return 0;
  double w0 = 0, s0 = 0, q0 = 0, sum = 0, sq = 0;
  for (int i = 0; i < nbins; i++) {
    sum += (double)count[i] * value[i];
    sq += (double)count[i] * value[i] * value[i];
  }
  double best = INFINITY;
  int best_i = -1;
  for (int i = 0; i < nbins - 1; i++) {
    w0 += (double)count[i];
    s0 += (double)count[i] * value[i];
    q0 += (double)count[i] * value[i] * value[i];
    double w1 = total - w0;
    if (w0 < 1e-3 * total || w1 < 1e-3 * total) continue;
    double m0 = s0 / w0, m1 = (sum - s0) / w1;
    double v0 = q0 / w0 - m0 * m0, v1 = (sq - q0) / w1 - m1 * m1;
    if (v0 <= 1e-12 || v1 <= 1e-12) continue;
    double p0 = w0 / total, p1 = w1 / total;
    /* Minus the log-likelihood of the two-Gaussian fit, constants dropped. */
    double j = p0 * log(v0) + p1 * log(v1) - 2 * (p0 * log(p0) + p1 * log(p1));
    if (j < best) {
      best = j;
      best_i = i;
    }
  }
  return best_i < 0 ? 0 : best_i;
}

void sd_threshold_choose(const int64_t *count, sd_thr_method method, double k, sd_preset preset, sd_threshold *t) {
  int64_t total = 0;
  for (int b = 0; b < SD_HIST_BINS; b++)
    total += count[b];
  memset(t, 0, sizeof *t);
  const double bw = SD_HIST_MAX / SD_HIST_BINS;
  t->median = hist_quantile(count, total, 0.5);
  /* Spread of the no-change mode from its lower half, which change does not reach. */
  double q16 = hist_quantile(count, total, 0.1587);
  t->sigma = t->median - q16 > 0 ? t->median - q16 : bw;
  t->k = k;
  t->ksigma = t->median + k * t->sigma;
  t->otsu = sd_otsu(count, SD_HIST_BINS, 0, SD_HIST_MAX);
  /* In log(magnitude + median) change spreads over decades while the no-change mode is
   * narrow; the log balances the spreads, the median offset tames the near-zero tail. */
  double logv[SD_HIST_BINS];
  for (int b = 0; b < SD_HIST_BINS; b++)
    logv[b] = log(sd_hist_bin_value(b) + t->median);
  t->otsu_log = (sd_otsu_index(count, logv, SD_HIST_BINS) + 1) * bw;
  t->ki = (sd_ki_index(count, logv, SD_HIST_BINS) + 1) * bw;
  t->method = method;
  switch (method) {
  case SD_THR_OTSU:
    t->value = t->otsu;
    snprintf(t->why, sizeof t->why, "asked for: Otsu");
    break;
  case SD_THR_OTSU_LOG:
    t->value = t->otsu_log;
    snprintf(t->why, sizeof t->why, "asked for: Otsu on the log");
    break;
  case SD_THR_KI:
    t->value = t->ki;
    snprintf(t->why, sizeof t->why, "asked for: Kittler-Illingworth");
    break;
  case SD_THR_KSIGMA:
    t->value = t->ksigma;
    snprintf(t->why, sizeof t->why, "asked for: median + %.1f sigma of the no-change mode", k);
    break;
  case SD_THR_FIXED: break;
  case SD_THR_AUTO:
    if (preset == SD_PRESET_RGB8) {
      t->value = t->otsu_log;
      t->method = SD_THR_OTSU_LOG;
      snprintf(t->why, sizeof t->why,
               "preset rgb8 (8-bit RGB imagery: dense change, compressed, colour-balanced): Otsu's valley in the log");
    } else if (t->otsu_log >= t->ksigma) {
      t->value = t->otsu_log;
      t->method = SD_THR_OTSU_LOG;
      snprintf(t->why, sizeof t->why, "Otsu's valley in the log lies above the %.1f-sigma floor of the no-change mode",
               k);
    } else {
      t->value = t->ksigma;
      t->method = SD_THR_KSIGMA;
      snprintf(t->why, sizeof t->why,
               "Otsu's valley fell inside the no-change mode (change is rare): median + %.1f sigma used", k);
    }
    break;
  }
}
