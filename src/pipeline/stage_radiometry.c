/* stage_radiometry.c: the radiometry stage: a spread sample of both images on the grid, the
 * gain/offset that matches after to before on its unchanged pixels (on the bands, and on the
 * metric's features), and the display stretch of each image. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/stages.h"

/* Spread sample: 16 windows on a 4 x 4 lattice (or fewer strips on small grids), 512 px wide,
 * totalling about 256 Ki pixels (a million fitted the same gains to 4 digits at 4 times the cost).
 * Windows rather than full-width strips: a strip decodes a whole row of tiles of both images for
 * a few rows of pixels (at 8192² the sample took 1.1 s, mostly decoding). */
static sd_status read_sample(const sd_run *run, sd_planes *sb, sd_planes *sa, int *strip_rows, sd_error *err) {
  int W = run->grid.width, H = run->grid.height;
  int ww = W < 512 ? W : 512, cols = W < 4 * 512 ? 1 : 4;
  int rows = (int)((1 << 18) / ((size_t)ww * cols)) + 1;
  if (rows > H) rows = H;
  int nrows = rows < 4 * cols ? (rows < 4 ? rows : 4) : 4;
  if (cols == 1) nrows = rows < 16 ? rows : 16;
  int sh = (rows + nrows - 1) / nrows;
  if (sh > H) sh = H;
  int nwin = nrows * cols;
  *strip_rows = sh;
  sd_status s = sd_planes_alloc(sb, run->nbands, ww, sh * nwin, err);
  if (!s) s = sd_planes_alloc(sa, run->nbands, ww, sh * nwin, err);
  for (int k = 0; k < nwin && !s; k++) {
    int r = k / cols, c = k % cols;
    int y = (int)((r + 0.5) * H / nrows) - sh / 2, x = (int)((c + 0.5) * W / cols) - ww / 2;
    if (y < 0) y = 0;
    if (y + sh > H) y = H - sh;
    if (x < 0) x = 0;
    if (x + ww > W) x = W - ww;
    sd_planes vb = *sb, va = *sa;
    vb.height = va.height = sh;
    for (int b = 0; b < run->nbands; b++) {
      vb.band[b] += (size_t)k * sh * ww;
      va.band[b] += (size_t)k * sh * ww;
    }
    s = sd_run_read_pair(run, run->rb, run->ra, x, y, &vb, &va, NULL, err);
  }
  return s;
}

/* The metric's features of the sample (strip by strip: the strips are not contiguous ground)
 * and their radiometric fit; for cva the band fit serves. */
static sd_status fit_features(const sd_run *run, sd_normalisation *norm, const sd_planes *sb, const sd_planes *sa,
                              int strip_rows, sd_error *err) {
  sd_metric m = run->metric;
  norm->nfeat = sd_metric_planes(m, run->nbands);
  norm->feat_halo = sd_metric_halo(m);
  if (m == SD_METRIC_CVA) {
    norm->fradio = norm->radio;
    return SD_OK;
  }
  sd_planes fb, fa;
  sd_status s = sd_planes_alloc(&fb, norm->nfeat, sb->width, sb->height, err);
  if (!s) s = sd_planes_alloc(&fa, norm->nfeat, sb->width, sb->height, err);
  for (int y = 0; y < sb->height && !s; y += strip_rows) {
    sd_planes vb = *sb, va = *sa, vfb = fb, vfa = fa;
    int rows = y + strip_rows > sb->height ? sb->height - y : strip_rows;
    vb.height = va.height = vfb.height = vfa.height = rows;
    size_t off = (size_t)y * sb->width;
    for (int b = 0; b < sb->nbands; b++) {
      vb.band[b] += off;
      va.band[b] += off;
    }
    for (int b = 0; b < norm->nfeat; b++) {
      vfb.band[b] += off;
      vfa.band[b] += off;
    }
    sd_features(m, &run->roles, &vb, &vfb);
    sd_features(m, &run->roles, &va, &vfa);
  }
  if (!s) s = sd_radiometry_fit(&fb, &fa, run->opts->normalize, &norm->fradio, err);
  sd_planes_free(&fb);
  sd_planes_free(&fa);
  return s;
}

/* One linear stretch for the three display channels (2nd to 98th percentile over all three),
 * so hues stay true. */
static void stretch_from_sample(const sd_planes *sa, const int rgb[3], float lo_out[3], float hi_out[3]) {
  size_t n = (size_t)sa->width * sa->height, k = 0;
  float *tmp = malloc(3 * n * sizeof *tmp);
  if (!tmp) return;
  for (int c = 0; c < 3; c++)
    for (size_t i = 0; i < n; i++)
      if (!isnan(sa->band[rgb[c]][i])) tmp[k++] = sa->band[rgb[c]][i];
  if (k) {
    float lo = sd_quantile(tmp, k, 0.02), hi = sd_quantile(tmp, k, 0.98);
    for (int c = 0; c < 3; c++) {
      lo_out[c] = lo;
      hi_out[c] = hi;
    }
  }
  free(tmp);
}

sd_status sd_stage_radiometry(sd_run *run, sd_normalisation *norm, sd_error *err) {
  memset(norm, 0, sizeof *norm);
  for (int c = 0; c < 3; c++) {
    norm->lo[c] = norm->lo_before[c] = 0;
    norm->hi[c] = norm->hi_before[c] = 1;
  }
  sd_planes sb = {0}, sa = {0};
  int strip_rows = 0;
  sd_status s = read_sample(run, &sb, &sa, &strip_rows, err);
  if (!s) s = sd_radiometry_fit(&sb, &sa, run->opts->normalize, &norm->radio, err);
  if (!s) s = fit_features(run, norm, &sb, &sa, strip_rows, err);
  if (!s) s = sd_check_interrupt(err);
  if (!s && norm->radio.samples < 16)
    s = sd_error_set(err, SD_ERR_NOOVERLAP, "compare: %s and %s have almost no valid pixels in common (nodata or masks)",
                     sd_raster_get_info(run->before)->path, sd_raster_get_info(run->after)->path);
  if (!s) {
    stretch_from_sample(&sa, run->rgb, norm->lo, norm->hi);
    stretch_from_sample(&sb, run->rgb, norm->lo_before, norm->hi_before);
  }
  sd_planes_free(&sb);
  sd_planes_free(&sa);
  return s;
}
