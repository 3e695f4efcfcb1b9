/* normalise.c: robust, iterated gain/offset fit on probably-unchanged pixels. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "radiometry/radiometry.h"

static float median_of(const float *v, size_t n, float *tmp) {
  memcpy(tmp, v, n * sizeof *tmp);
  return sd_quantile(tmp, n, 0.5);
}

static float mad_of(const float *v, size_t n, float med, float *tmp) {
  for (size_t i = 0; i < n; i++)
    tmp[i] = fabsf(v[i] - med);
  return 1.4826f * sd_quantile(tmp, n, 0.5);
}

/* Residuals before - (gain * after + offset) into res; returns their robust spread (1.4826 MAD)
 * and their median in *median. */
static float residual_spread(const float *a, const float *bb, size_t n, float gain, float offset, float *res,
                             float *tmp, float *median) {
  for (size_t i = 0; i < n; i++)
    res[i] = bb[i] - (gain * a[i] + offset);
  *median = median_of(res, n, tmp);
  return mad_of(res, n, *median, tmp);
}

static void zscore_fit(const float *A, const float *B, size_t n, int nb, sd_radiometry *out) {
  for (int b = 0; b < nb; b++) {
    double sa = 0, sb = 0, qa = 0, qb = 0;
    for (size_t i = 0; i < n; i++) {
      sa += A[b * n + i];
      sb += B[b * n + i];
      qa += (double)A[b * n + i] * A[b * n + i];
      qb += (double)B[b * n + i] * B[b * n + i];
    }
    double ma = sa / n, mb = sb / n, da = sqrt(fmax(qa / n - ma * ma, 0)), db = sqrt(fmax(qb / n - mb * mb, 0));
    out->gain[b] = da > 0 && db > 0 ? (float)(db / da) : 1.0f;
    out->offset[b] = (float)(mb - out->gain[b] * ma);
    out->sigma[b] = db > 0 ? (float)db : 1.0f;
  }
  out->kept = (long long)n;
  out->iterations = 0;
}

sd_status sd_radiometry_fit(const sd_planes *before, const sd_planes *after, int zscore, sd_radiometry *out,
                            sd_error *err) {
  memset(out, 0, sizeof *out);
  int nb = before->nbands;
  out->nbands = nb;
  size_t total = (size_t)before->width * before->height;
  /* Gather pixels valid in both into compact arrays. */
  size_t n = 0;
  for (size_t i = 0; i < total; i++)
    if (!isnan(before->band[0][i]) && !isnan(after->band[0][i])) n++;
  out->samples = (long long)n;
  for (int b = 0; b < nb; b++) {
    out->gain[b] = 1;
    out->offset[b] = 0;
    out->sigma[b] = 1;
  }
  if (n < 16) return SD_OK; /* the caller reports too little overlap */

  float *A = malloc(sizeof(float) * n * nb), *B = malloc(sizeof(float) * n * nb);
  float *tmp = malloc(sizeof(float) * n), *res = malloc(sizeof(float) * n);
  unsigned char *keep = malloc(n);
  float *score = malloc(sizeof(float) * n);
  sd_status st = SD_OK;
  if (!A || !B || !tmp || !res || !keep || !score) {
    st = sd_error_set(err, SD_ERR_NOMEM, "radiometry: out of memory for %zu samples", n);
    goto done;
  }
  for (int b = 0; b < nb; b++) {
    size_t k = 0;
    for (size_t i = 0; i < total; i++)
      if (!isnan(before->band[0][i]) && !isnan(after->band[0][i])) {
        A[b * n + k] = after->band[b][i];
        B[b * n + k] = before->band[b][i];
        k++;
      }
  }
  if (zscore) {
    zscore_fit(A, B, n, nb, out);
    goto done;
  }
  for (int b = 0; b < nb; b++) {
    const float *a = A + b * n, *bb = B + b * n;
    float ma = median_of(a, n, tmp), mb = median_of(bb, n, tmp);
    float sa = mad_of(a, n, ma, tmp), sb = mad_of(bb, n, mb, tmp);
    out->gain[b] = sa > 0 && sb > 0 ? sb / sa : 1.0f;
    out->offset[b] = mb - out->gain[b] * ma;
  }
  const int rounds = 5;
  for (int it = 0; it < rounds; it++) {
    for (size_t i = 0; i < n; i++)
      score[i] = 0;
    for (int b = 0; b < nb; b++) {
      float mr, s = residual_spread(A + b * n, B + b * n, n, out->gain[b], out->offset[b], res, tmp, &mr);
      if (!(s > 0)) s = 1e-6f;
      out->sigma[b] = s;
      for (size_t i = 0; i < n; i++)
        score[i] += (res[i] - mr) * (res[i] - mr) / (s * s);
    }
    long long kept = 0;
    for (size_t i = 0; i < n; i++) {
      keep[i] = score[i] / nb < 9.0f;
      kept += keep[i];
    }
    out->kept = kept;
    out->iterations = it + 1;
    if (kept < 16) break;
    for (int b = 0; b < nb; b++) {
      const float *a = A + b * n, *bb = B + b * n;
      double sa = 0, sb = 0;
      for (size_t i = 0; i < n; i++)
        if (keep[i]) {
          sa += a[i];
          sb += bb[i];
        }
      double ma = sa / kept, mb = sb / kept, vaa = 0, vbb = 0, vab = 0;
      for (size_t i = 0; i < n; i++)
        if (keep[i]) {
          double da = a[i] - ma, db = bb[i] - mb;
          vaa += da * da;
          vbb += db * db;
          vab += da * db;
        }
      /* Reduced major axis: symmetric in the two dates, no attenuation from noise in `after`. */
      double g = vaa > 0 && vbb > 0 ? copysign(sqrt(vbb / vaa), vab) : 1.0;
      if (!(g > 0)) g = 1.0; /* a negative gain means no usable relation: keep identity scale */
      out->gain[b] = (float)g;
      out->offset[b] = (float)(mb - g * ma);
    }
  }
  /* Final spread over all samples (robust: change is a minority). It is floored at 1 % of the
   * band's 2-98 % range: below that, differences are how two sensors draw the same edge (pixel
   * footprint, resampling), not change, and a near-noiseless image would otherwise flag them. */
  for (int b = 0; b < nb; b++) {
    float mr, s = residual_spread(A + b * n, B + b * n, n, out->gain[b], out->offset[b], res, tmp, &mr);
    memcpy(tmp, B + b * n, n * sizeof *tmp);
    float lo = sd_quantile(tmp, n, 0.02), hi = sd_quantile(tmp, n, 0.98);
    float floor_s = 0.01f * (hi - lo);
    out->sigma_measured[b] = s;
    if (!(s > floor_s)) s = floor_s;
    if (!(s > 0)) s = 1e-6f;
    out->sigma[b] = s;
  }
done:
  free(A);
  free(B);
  free(tmp);
  free(res);
  free(keep);
  free(score);
  return st;
}
