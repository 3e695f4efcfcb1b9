/* segment.c: SLIC superpixels of the pair (VLFeat) and the structure cues of each segment. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <vl/slic.h>

#include "detect/detect.h"
#include "segment/segment.h"

int sd_slic_pair(const sd_planes *pb, const sd_planes *pa, const sd_radiometry *radio, int region, uint32_t *labels) {
  const int nb = pb->nbands, w = pb->width, h = pb->height;
  const size_t n = (size_t)w * h;
  float *img = malloc(sizeof *img * n * 2 * nb);
  if (!img) return -1;
  for (int c = 0; c < 2 * nb; c++) {
    const int b = c % nb, after = c >= nb;
    const float *src = (after ? pa : pb)->band[b];
    float *dst = img + (size_t)c * n;
    double s = 0, q = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
      float v = after ? sd_radio_apply(radio, b, src[i]) : src[i];
      dst[i] = v;
      if (isnan(v)) continue;
      s += v;
      q += (double)v * v;
      k++;
    }
    double mean = k ? s / k : 0, sd = k ? sqrt(fmax(q / k - mean * mean, 0)) : 1;
    float inv = (float)(1.0 / fmax(sd, 1e-6));
    for (size_t i = 0; i < n; i++)
      dst[i] = isnan(dst[i]) ? 0.0f : (dst[i] - (float)mean) * inv;
  }
  /* Regularisation 1: a pixel one region side from a centre costs as much as one standard
   * deviation of one channel, so segments follow roof and field edges but stay compact on
   * uniform ground. Segments under a quarter of the nominal area join a neighbour. */
  vl_slic_segment(labels, img, (vl_size)w, (vl_size)h, (vl_size)(2 * nb), (vl_size)region, 1.0f,
                  (vl_size)(region * region / 4));
  free(img);
  uint32_t mx = 0;
  for (size_t i = 0; i < n; i++)
    if (labels[i] > mx) mx = labels[i];
  return (int)mx + 1;
}

/* Brightness in noise units: the mean over bands of value / sigma (after through the fit). */
static float brightness(const sd_planes *p, const sd_radiometry *radio, int after, size_t i) {
  float s = 0;
  for (int b = 0; b < p->nbands; b++) {
    float v = p->band[b][i];
    s += (after ? sd_radio_apply(radio, b, v) : v) / radio->sigma[b];
  }
  return s / p->nbands;
}

static float grad_at(const float *B, int w, int h, int x, int y) {
  size_t i = (size_t)y * w + x;
  float l = x > 0 ? B[i - 1] : B[i], r = x + 1 < w ? B[i + 1] : B[i];
  float u = y > 0 ? B[i - w] : B[i], d = y + 1 < h ? B[i + w] : B[i];
  float gx = (r - l) * (x > 0 && x + 1 < w ? 0.5f : 1.0f), gy = (d - u) * (y > 0 && y + 1 < h ? 0.5f : 1.0f);
  return sqrtf(gx * gx + gy * gy); /* NaN beside nodata: the caller skips the pixel */
}

int sd_segment_cues(const sd_planes *pb, const sd_planes *pa, const sd_radiometry *radio, const sd_band_roles *roles,
                    sd_veg_index vi, const uint32_t *labels, int nseg, sd_seg_cues *out) {
  const int w = pb->width, h = pb->height;
  const size_t n = (size_t)w * h;
  float *bb = malloc(sizeof *bb * n), *ba = malloc(sizeof *ba * n), *veg = malloc(sizeof *veg * n);
  double(*sum)[SD_CUES] = calloc((size_t)nseg, sizeof *sum);
  double(*sq)[2] = calloc((size_t)nseg, sizeof *sq);   /* sums of squared brightness, before and after */
  double(*lin)[2] = calloc((size_t)nseg, sizeof *lin); /* sums of brightness, before and after */
  if (!bb || !ba || !veg || !sum || !sq || !lin) {
    free(bb);
    free(ba);
    free(veg);
    free(sum);
    free(sq);
    free(lin);
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    bb[i] = brightness(pb, radio, 0, i);
    ba[i] = brightness(pa, radio, 1, i);
  }
  sd_vegetation(vi, roles, (const float *const *)pa->band, radio, n, veg);
  const int rgb[3] = {roles->red, roles->green, roles->blue};
  memset(out, 0, sizeof *out * (size_t)nseg);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      size_t i = (size_t)y * w + x;
      float gb = grad_at(bb, w, h, x, y), ga = grad_at(ba, w, h, x, y);
      if (isnan(gb) || isnan(ga) || isnan(bb[i]) || isnan(ba[i])) continue;
      float mx = -INFINITY, mn = INFINITY;
      for (int k = 0; k < 3; k++) {
        float v = sd_radio_apply(radio, rgb[k], pa->band[rgb[k]][i]);
        mx = fmaxf(mx, v);
        mn = fminf(mn, v);
      }
      double *s = sum[labels[i]];
      s[SD_CUE_GREY] -= mx > 0 ? (mx - mn) / mx : 0; /* saturation of the after date */
      s[SD_CUE_UNGREEN] -= isnan(veg[i]) ? 0 : veg[i];
      s[SD_CUE_EDGE_GAIN] += ga - gb;
      s[SD_CUE_BRIGHT_GAIN] += ba[i] - bb[i];
      lin[labels[i]][0] += bb[i];
      lin[labels[i]][1] += ba[i];
      sq[labels[i]][0] += (double)bb[i] * bb[i];
      sq[labels[i]][1] += (double)ba[i] * ba[i];
      out[labels[i]].valid_px++;
    }
  for (int k = 0; k < nseg; k++) {
    const double n = out[k].valid_px;
    for (int c = 0; c < SD_CUES; c++)
      out[k].cue[c] = n ? (float)(sum[k][c] / n) : NAN;
    /* texture gained: the spread of brightness inside the segment, after minus before */
    double sb = n ? sqrt(fmax(sq[k][0] / n - (lin[k][0] / n) * (lin[k][0] / n), 0)) : 0;
    double sa = n ? sqrt(fmax(sq[k][1] / n - (lin[k][1] / n) * (lin[k][1] / n), 0)) : 0;
    out[k].cue[SD_CUE_SPREAD_GAIN] = n ? (float)(sa - sb) : NAN;
  }
  free(bb);
  free(ba);
  free(veg);
  free(sum);
  free(sq);
  free(lin);
  return 0;
}

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

void sd_structure_sort_ref(float *const cues[SD_CUES], int64_t nref) {
  for (int c = 0; c < SD_CUES; c++)
    qsort(cues[c], (size_t)nref, sizeof(float), cmp_float);
}

/* How many of the n sorted values are below v. */
static int64_t below(const float *sorted, int64_t n, float v) {
  int64_t lo = 0, hi = n;
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    if (sorted[mid] < v)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

void sd_structure_prior(const sd_seg_cues *cand, int64_t ncand, float *const sorted_ref[SD_CUES], int64_t nref,
                        float *prior) {
  for (int64_t k = 0; k < ncand; k++) {
    double p = 0;
    for (int c = 0; c < SD_CUES; c++)
      p += nref ? (double)below(sorted_ref[c], nref, cand[k].cue[c]) / nref : 0.5;
    prior[k] = (float)(p / SD_CUES);
  }
}

float sd_structure_score(float prior, const sd_seg_change *c) {
  return c->mag * (1 - c->veg_share) * prior * prior * prior;
}

/* A quarter of Otsu's split, a candidate at least a tenth detected, and the prior cubed (in
 * sd_structure_score): the best of 27 settings over the five RGB sets of ../shared/data/change,
 * and the choice of three of the five hold-outs (one set held out in turn; the other two chose
 * a squared or fourth-power prior). README, "Segments". */
double sd_structure_level(const float *score, const int32_t *px, int64_t n) {
  enum { BINS = 128 };
  float lo = INFINITY, hi = -INFINITY;
  for (int64_t i = 0; i < n; i++) {
    lo = fminf(lo, score[i]);
    hi = fmaxf(hi, score[i]);
  }
  if (!(hi > lo)) return n ? SD_STRUCTURE_LEVEL * lo : 0;
  int64_t count[BINS] = {0};
  for (int64_t i = 0; i < n; i++) {
    int b = (int)((score[i] - lo) / (hi - lo) * BINS);
    count[b < BINS ? b : BINS - 1] += px[i];
  }
  return SD_STRUCTURE_LEVEL * sd_otsu(count, BINS, lo, hi);
}
