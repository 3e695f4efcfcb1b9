/* score.c: pixel precision/recall/F1, object recall and object precision of a change mask against
 * truth. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"
#include "io/io.h"
#include "sitediff/sitediff.h"

/* The mask's 8-connected components, and how many touch a truth pixel. */
static sd_status object_precision(const int32_t *mask, int mw, int mh, const int32_t *truth, int tw, int th, int ox,
                                  int oy, sd_score *sc, sd_error *err) {
  size_t n = (size_t)mw * mh;
  uint8_t *m = malloc(n);
  int32_t *lab = malloc(n * sizeof *lab);
  int nl = m && lab ? 0 : -1;
  for (size_t i = 0; i < n && m; i++)
    m[i] = mask[i] == 1;
  if (!nl) nl = sd_label(m, mw, mh, lab);
  uint8_t *touch = nl > 0 ? calloc((size_t)nl + 1, 1) : NULL;
  if (nl < 0 || (nl > 0 && !touch)) {
    free(m);
    free(lab);
    return sd_error_set(err, SD_ERR_NOMEM, "score: out of memory");
  }
  for (int y = 0; y < mh; y++)
    for (int x = 0; x < mw; x++) {
      int32_t l = lab[(size_t)y * mw + x];
      int tx = x + ox, ty = y + oy;
      if (l > 0 && tx >= 0 && ty >= 0 && tx < tw && ty < th && truth[(size_t)ty * tw + tx] > 0) touch[l] = 1;
    }
  sc->pred_objects = nl;
  for (int l = 1; l <= nl; l++)
    sc->pred_hit += touch[l];
  sc->object_precision = nl ? (double)sc->pred_hit / nl : 1.0;
  free(touch);
  free(m);
  free(lab);
  return SD_OK;
}

sd_status sd_score_files(const char *mask_path, const char *truth_path, sd_score *sc, sd_error *err) {
  memset(sc, 0, sizeof *sc);
  int32_t *mask = NULL, *truth = NULL;
  int mw, mh, tw, th;
  double mgt[6], tgt[6];
  sd_status s = sd_raster_read_i32(mask_path, &mask, &mw, &mh, mgt, err);
  if (!s) s = sd_raster_read_i32(truth_path, &truth, &tw, &th, tgt, err);
  if (s) goto done;
  if (fabs(mgt[1] - tgt[1]) > 1e-9 * fabs(tgt[1]) || fabs(mgt[5] - tgt[5]) > 1e-9 * fabs(tgt[5])) {
    s = sd_error_set(err, SD_ERR_INPUT, "score: %s and %s have different pixel sizes", mask_path, truth_path);
    goto done;
  }
  /* Mask pixel (0, 0) sits at truth pixel (ox, oy). */
  int ox = (int)lround((mgt[0] - tgt[0]) / tgt[1]), oy = (int)lround((mgt[3] - tgt[3]) / tgt[5]);
  int maxid = 0;
  for (size_t i = 0; i < (size_t)tw * th; i++)
    if (truth[i] > maxid) maxid = truth[i];
  int64_t *total = calloc((size_t)maxid + 1, sizeof *total), *inside = calloc((size_t)maxid + 1, sizeof *inside),
          *hit = calloc((size_t)maxid + 1, sizeof *hit);
  if (!total || !inside || !hit) {
    free(total);
    free(inside);
    free(hit);
    s = sd_error_set(err, SD_ERR_NOMEM, "score: out of memory");
    goto done;
  }
  for (int y = 0; y < th; y++)
    for (int x = 0; x < tw; x++) {
      int32_t t = truth[(size_t)y * tw + x];
      if (t > 0) total[t]++;
      int mx = x - ox, my = y - oy;
      if (mx < 0 || my < 0 || mx >= mw || my >= mh) continue;
      int32_t m = mask[(size_t)my * mw + mx];
      if (m == 255) continue;
      if (t > 0) inside[t]++;
      if (m == 1 && t > 0) {
        sc->tp++;
        hit[t]++;
      } else if (m == 1) {
        sc->fp++;
      } else if (t > 0) {
        sc->fn++;
      }
    }
  for (int id = 1; id <= maxid; id++) {
    if (!total[id] || inside[id] < 0.9 * (double)total[id]) continue; /* not on the compared grid */
    sc->truth_objects++;
    if (hit[id] >= 0.5 * (double)inside[id]) sc->truth_found++;
  }
  free(total);
  free(inside);
  free(hit);
  sc->precision = sc->tp + sc->fp ? (double)sc->tp / (double)(sc->tp + sc->fp) : 0;
  sc->recall = sc->tp + sc->fn ? (double)sc->tp / (double)(sc->tp + sc->fn) : 0;
  sc->f1 = sc->precision + sc->recall > 0 ? 2 * sc->precision * sc->recall / (sc->precision + sc->recall) : 0;
  sc->object_recall = sc->truth_objects ? (double)sc->truth_found / sc->truth_objects : 1.0;
  s = object_precision(mask, mw, mh, truth, tw, th, ox, oy, sc, err);
done:
  free(mask);
  free(truth);
  return s;
}
