/* stage_diff.c: the differencing stage: streams the grid in blocks through the kernel (or its
 * plain twin), writing the magnitude, its histogram and the overlay's pixels. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/stages.h"

/* --aoi: the block's magnitude blanked (NaN, nodata) outside every area, after the histogram took
 * it (the threshold comes from the whole scene, whose noise is better known than a small site's);
 * per area, its pixels and those valid in both dates counted. */
static sd_status aoi_block(const sd_run *run, int y0, int rows, float *block, uint8_t *ids, sd_difference *d,
                           sd_error *err) {
  const int W = run->grid.width;
  sd_status s = sd_aoi_rasterize(run->aoi, 0, y0, W, rows, 1, ids, err);
  if (s) return s;
  for (size_t i = 0; i < (size_t)W * rows; i++) {
    d->aoi_px[ids[i]]++;
    d->aoi_valid[ids[i]] += !isnan(block[i]);
    if (!ids[i]) block[i] = NAN;
  }
  return SD_OK;
}

/* Streams the grid in blocks: read both (with tol_radius halo rows), diff into the magnitude
 * (its file, its histogram, and mag when it is held), feed the overlay. */
static sd_status diff_pass(const sd_run *run, int R, const sd_normalisation *norm, const sd_diff_params *dp,
                           sd_difference *d, sd_gtiff *mag_tif, sd_overlay *ov, sd_error *err) {
  const int nfeat = norm->nfeat, feat_halo = norm->feat_halo;
  const int W = run->grid.width, H = run->grid.height, r = d->tol_radius;
  const int halo = r + feat_halo;
  const int *rgb = run->rgb;
  const sd_metric m = run->metric;
  sd_planes pb, pa, fb = {0}, fa = {0};
  sd_status s = sd_planes_alloc(&pb, run->nbands, W, R + 2 * halo, err);
  if (!s) s = sd_planes_alloc(&pa, run->nbands, W, R + 2 * halo, err);
  if (!s && m != SD_METRIC_CVA) s = sd_planes_alloc(&fb, nfeat, W, R + 2 * halo, err);
  if (!s && m != SD_METRIC_CVA) s = sd_planes_alloc(&fa, nfeat, W, R + 2 * halo, err);
  float *block = s ? NULL : sd_alloc((size_t)W * R * sizeof(float));
  uint8_t *ids = s || !run->aoi ? NULL : malloc((size_t)W * R);
  if (!s && run->aoi && !ids) s = sd_error_set(err, SD_ERR_NOMEM, "aoi: out of memory for a %d-row block", R);
  float *veg = s || d->veg_index == SD_VEG_NONE ? NULL : sd_alloc(2 * (size_t)W * R * sizeof(float));
  if (!s && (!block || (d->veg_index != SD_VEG_NONE && !veg)))
    s = sd_error_set(err, SD_ERR_NOMEM, "diff: out of memory for a %d-row block", R);
  for (int y0 = 0; y0 < H && !s; y0 += R) {
    int rows = y0 + R > H ? H - y0 : R;
    int ys = y0 - halo < 0 ? 0 : y0 - halo, ye = y0 + rows + halo > H ? H : y0 + rows + halo;
    pb.height = pa.height = fb.height = fa.height = ye - ys;
    s = sd_check_interrupt(err);
    double secs[2] = {0, 0};
    if (!s) s = sd_run_read_pair(run, run->rb, run->ra, 0, ys, &pb, &pa, secs, err);
    d->read_before += secs[0];
    d->read_after += secs[1];
    if (s) break;
    double tk = sd_now();
    const sd_planes *kb = &pb, *ka = &pa;
    if (m != SD_METRIC_CVA) {
      sd_features(m, &run->roles, &pb, &fb);
      sd_features(m, &run->roles, &pa, &fa);
      kb = &fb;
      ka = &fa;
    }
    size_t n = (size_t)W * rows, skip = (size_t)(y0 - ys) * W;
    if (r == 0) {
      const float *bp[SD_MAX_BANDS], *ap[SD_MAX_BANDS];
      for (int b = 0; b < kb->nbands; b++) {
        bp[b] = kb->band[b] + skip;
        ap[b] = ka->band[b] + skip;
      }
      (run->plain ? sd_diff_ref : sd_diff_fast)(dp, bp, ap, n, block);
    } else {
      (run->plain ? sd_diff_tol_ref : sd_diff_tol_fast)(
          dp, (const float *const *)kb->band, (const float *const *)ka->band, W, ye - ys, y0 - ys, rows, r, block);
    }
    sd_hist_add(block, n, d->hist); /* before the vegetation mark: the threshold does not move with it */
    if (veg) {
      const float *bp[SD_MAX_BANDS], *ap[SD_MAX_BANDS];
      for (int b = 0; b < pb.nbands; b++) {
        bp[b] = pb.band[b] + skip;
        ap[b] = pa.band[b] + skip;
      }
      sd_vegetation(d->veg_index, &run->roles, bp, NULL, n, veg);
      sd_vegetation(d->veg_index, &run->roles, ap, &norm->radio, n, veg + n);
      const sd_veg_index vi = d->veg_index;
      d->veg_marked_px += sd_mark_vegetated(veg, veg + n, sd_veg_threshold(vi), sd_veg_max_change(vi), n, block);
    }
    if (ids) s = aoi_block(run, y0, rows, block, ids, d, err);
    if (s) break;
    if (d->mag) memcpy(d->mag + (size_t)y0 * W, block, n * sizeof(float));
    d->kernel += sd_now() - tk;
    double tw = sd_now();
    if (mag_tif) s = sd_gtiff_write(mag_tif, 1, y0, rows, block, err);
    d->write_magnitude += sd_now() - tw;
    const float *disp[3] = {pa.band[rgb[0]] + skip, pa.band[rgb[1]] + skip, pa.band[rgb[2]] + skip};
    const float *bdisp[3] = {pb.band[rgb[0]] + skip, pb.band[rgb[1]] + skip, pb.band[rgb[2]] + skip};
    sd_overlay_add(ov, disp, bdisp, y0, rows);
  }
  sd_free(block);
  free(ids);
  sd_free(veg);
  sd_planes_free(&pb);
  sd_planes_free(&pa);
  sd_planes_free(&fb);
  sd_planes_free(&fa);
  return s;
}

/* Tolerance to residual misregistration and to edges drawn differently by the two sensors:
 * 1 px on fine grids (<= 5 m, or pixel grids), 2 px when registration was weak; none on coarse
 * grids, where one pixel is more ground than any edge moves and tolerance would erase small
 * change. */
static int tolerance_radius(const sd_run *run, const sd_registration *reg) {
  const sd_compare_options *opts = run->opts;
  double pix_m = sqrt(run->grid.pixel_w_m * run->grid.pixel_h_m);
  int weak = opts->do_register && !(reg->registered && !(reg->fit.rmse > 0.5));
  return opts->tolerance >= 0 ? opts->tolerance : run->grid.georef && pix_m > 5.0 ? 0 : weak ? 2 : 1;
}

sd_status sd_stage_diff(sd_run *run, const sd_plan *plan, const sd_registration *reg, const sd_normalisation *norm,
                        const char *mag_path, sd_overlay *ov, sd_difference *diff, sd_error *err) {
  memset(diff, 0, sizeof *diff);
  size_t npx = (size_t)run->grid.width * run->grid.height;
  if (plan->mag_held) {
    diff->mag = sd_alloc(npx * sizeof *diff->mag);
    if (!diff->mag)
      return sd_error_set(err, SD_ERR_NOMEM, "compare: out of memory for a %d x %d grid", run->grid.width,
                          run->grid.height);
  }
  diff->hist = calloc(SD_HIST_BINS, sizeof *diff->hist);
  if (!diff->hist) return sd_error_set(err, SD_ERR_NOMEM, "threshold: out of memory");
  diff->tol_radius = tolerance_radius(run, reg);
  /* --magnitude none: no file where the magnitude is held; else an unencoded scratch file that
   * detection reads back and the output set drops at the end. With --cog the file streamed is
   * such a scratch too, encoded once at the end into the Cloud Optimized GeoTIFF. */
  sd_gtiff *mag_tif = NULL;
  const int mode = run->opts->magnitude;
  sd_status s = SD_OK;
  if (mode != 2 || !plan->mag_held)
    s = sd_gtiff_create_codec(mag_path, &run->grid, 1, SD_PIX_F32, 1, NAN,
                              mode == 2 || run->opts->cog ? SD_CODEC_RAW
                              : mode == 1                 ? SD_CODEC_LERC
                                                          : SD_CODEC_DEFLATE,
                              &mag_tif, err);
  if (s) return s;
  sd_diff_params dp = {.nbands = norm->nfeat};
  for (int b = 0; b < norm->nfeat; b++) {
    dp.gain[b] = norm->fradio.gain[b];
    dp.offset[b] = norm->fradio.offset[b];
    dp.sigma[b] = norm->fradio.sigma[b];
  }
  /* The structure focus: change where both dates are vegetated is not counted (evidence/vegetation.c). */
  diff->veg_index = run->opts->focus == 0 ? sd_veg_index_of(&run->roles) : SD_VEG_NONE;
  s = diff_pass(run, plan->block_rows, norm, &dp, diff, mag_tif, ov, err);
  double tc = sd_now();
  sd_status cs = sd_gtiff_close(mag_tif, err); /* encodes what GDAL's cache still held */
  diff->write_magnitude += sd_now() - tc;
  return s ? s : cs;
}

void sd_difference_drop_magnitude(sd_difference *diff) {
  sd_free(diff->mag);
  diff->mag = NULL;
}

void sd_difference_free(sd_difference *diff) {
  sd_difference_drop_magnitude(diff);
  free(diff->hist);
  diff->hist = NULL;
}
