/* compare.c: sd_compare, the library entry point, as the flow of stages: open, grid, register,
 * radiometry, diff (resampling the after image on the way), threshold, detect, objects, outputs
 * (written under temporary names and renamed into place only when the whole run succeeded). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/stages.h"
#include "sitediff/sitediff.h"

/* The outputs, report.json last (a set without it is incomplete). The *_STREAM entries are the
 * GeoTIFFs the stages stream into when --cog turns them into Cloud Optimized copies at the end;
 * like every output not asked for, they are dropped before the set is committed. */
enum {
  OUT_MASK,
  OUT_MAG,
  OUT_OBJECTS,
  OUT_GPKG,
  OUT_KML,
  OUT_OVERLAY,
  OUT_OVERLAY_TIF,
  OUT_TIEPOINTS,
  OUT_PAGE,
  OUT_MASK_STREAM,
  OUT_MAG_STREAM,
  OUT_OVERLAY_STREAM,
  OUT_REPORT,
  OUT_COUNT
};
static const char *const out_names[OUT_COUNT] = {"change_mask.tif",
                                                 "change_magnitude.tif",
                                                 "objects.geojson",
                                                 "objects.gpkg",
                                                 "objects.kml",
                                                 "overlay.png",
                                                 "overlay.tif",
                                                 "tie_points.geojson",
                                                 "report.html",
                                                 "change_mask.stream.tif",
                                                 "change_magnitude.stream.tif",
                                                 "overlay.stream.tif",
                                                 "report.json"};
_Static_assert((int)OUT_COUNT <= (int)SD_OUTSET_MAX, "more outputs than an output set holds");

/* Where a raster output is streamed: its scratch GeoTIFF with --cog, else its own file. */
static const char *stream_path(const sd_run *run, const sd_outset *out, int i) {
  if (!run->opts->cog) return sd_outset_path(out, i);
  return sd_outset_path(out, i == OUT_MASK ? OUT_MASK_STREAM : i == OUT_MAG ? OUT_MAG_STREAM : OUT_OVERLAY_STREAM);
}

/* The class styles of objects.kml: the overlay's colours (GDAL's KML driver writes the pen). */
static void kml_styles(char buf[SD_CLASS_COUNT][64], const char *style[SD_CLASS_COUNT]) {
  for (int c = 0; c < SD_CLASS_COUNT; c++) {
    const uint8_t *rgb = sd_class_rgb(c);
    snprintf(buf[c], 64, "PEN(c:#%02x%02x%02x,w:2px)", rgb[0], rgb[1], rgb[2]);
    style[c] = buf[c];
  }
}

/* objects.gpkg and objects.kml as --vector-format asks, from objects.geojson; the others dropped. */
static sd_status write_vector_formats(const sd_run *run, sd_outset *out, sd_error *err) {
  char buf[SD_CLASS_COUNT][64];
  const char *style[SD_CLASS_COUNT];
  kml_styles(buf, style);
  sd_status s = SD_OK;
  for (int k = 0; k < 2 && !s; k++) {
    int i = k ? OUT_KML : OUT_GPKG;
    if (run->opts->vector_formats & (1 << k))
      s = sd_vector_convert_objects(sd_outset_path(out, OUT_OBJECTS), sd_outset_path(out, i), k, style, err);
    else
      sd_outset_drop(out, i);
  }
  return s;
}

/* With --cog, the streamed rasters become Cloud Optimized GeoTIFFs under their names. */
static sd_status write_cogs(const sd_run *run, sd_outset *out, sd_error *err) {
  static const int rasters[3] = {OUT_MASK, OUT_MAG, OUT_OVERLAY_TIF};
  sd_status s = SD_OK;
  for (int k = 0; k < 3 && !s; k++) {
    int i = rasters[k];
    if (run->opts->cog && !out->dropped[i] && !(i == OUT_MAG && run->opts->magnitude == 2)) {
      sd_codec codec = i == OUT_MAG && run->opts->magnitude == 1 ? SD_CODEC_LERC : SD_CODEC_DEFLATE;
      s = sd_gtiff_to_cog(stream_path(run, out, i), sd_outset_path(out, i), codec, i != OUT_MAG, err);
    }
  }
  for (int i = OUT_MASK_STREAM; i <= OUT_OVERLAY_STREAM; i++)
    sd_outset_drop(out, i);
  return s;
}

/* id_at for the polygons: the object whose runs hold the pixel. */
static int32_t runs_label_at(const void *ctx, int x, int y) { return sd_runs_label_at(ctx, x, y); }

/* overlay.tif: the overlay's panel (no legend) as RGBA on the grid coarsened by the overlay's
 * factor (same origin and CRS), nodata transparent, so it drops onto a basemap in a GIS. */
static sd_status write_overlay_tif(const sd_run *run, const sd_overlay *ov, const sd_canvas *cv, int x_off,
                                   const char *path, sd_error *err) {
  sd_grid g = run->grid;
  g.width = ov->w;
  g.height = ov->h;
  for (int k = 1; k <= 5; k++)
    if (k != 3) g.gt[k] *= ov->factor;
  uint8_t *band = malloc((size_t)ov->w * ov->h);
  if (!band) return sd_error_set(err, SD_ERR_NOMEM, "overlay: out of memory");
  sd_gtiff *t = NULL;
  sd_status s = sd_gtiff_create(path, &g, 4, SD_PIX_U8, 0, 0, &t, err);
  if (!s) sd_gtiff_set_rgba(t);
  for (int b = 0; b < 4 && !s; b++) {
    for (int y = 0; y < ov->h; y++)
      for (int x = 0; x < ov->w; x++) {
        size_t i = (size_t)y * ov->w + x;
        band[i] = b < 3 ? cv->rgb[((size_t)y * cv->w + x_off + x) * 3 + b] : ov->count[i] ? 255 : 0;
      }
    s = sd_gtiff_write(t, b + 1, 0, ov->h, band, err);
  }
  sd_status c = sd_gtiff_close(t, s ? NULL : err);
  free(band);
  return s ? s : c;
}

/* report.html, or a warning that says why not (no Leaflet on this machine). */
static sd_status write_page(sd_run *run, sd_stages *st, sd_outset *out, const sd_overlay *ov, const int32_t *olab,
                            sd_error *err) {
  char *css = NULL, *js = NULL;
  sd_error why = {0};
  if (sd_page_leaflet(&css, &js, &why)) {
    sd_run_warn(run, "report.html not written: %s", why.msg);
    sd_outset_drop(out, OUT_PAGE);
    return SD_OK;
  }
  sd_status s = sd_stage_page(run, st, ov, olab, css, js, sd_outset_path(out, OUT_PAGE), err);
  free(css);
  free(js);
  return s;
}

/* objects.geojson (and the formats converted from it) and tie_points.geojson. */
static sd_status write_vectors(sd_run *run, sd_stages *st, sd_outset *out, sd_error *err) {
  const sd_compare_options *opts = run->opts;
  sd_status s = sd_vector_write_objects(sd_outset_path(out, OUT_OBJECTS), &run->grid, opts->date_after,
                                        opts->date_before, stream_path(run, out, OUT_MASK), runs_label_at,
                                        &st->det.runs, st->objs.objs, st->objs.n, run->aoi, err);
  if (!s) s = write_vector_formats(run, out, err);
  if (!s) s = sd_vector_write_tiepoints(sd_outset_path(out, OUT_TIEPOINTS), &run->grid, st->reg.tp, st->reg.ntp, err);
  return s;
}

/* overlay.png and, on a georeferenced grid, overlay.tif. */
static sd_status write_overlays(sd_run *run, sd_stages *st, sd_outset *out, const sd_overlay *ov, const int32_t *olab,
                                sd_error *err) {
  sd_canvas cv = {0, 0, NULL};
  sd_status s = sd_overlay_render(ov, olab, st->objs.objs, st->objs.n, &st->labels, &cv, err);
  if (!s) s = sd_png_write_rgb(sd_outset_path(out, OUT_OVERLAY), cv.w, cv.h, cv.rgb, err);
  if (!s && run->grid.georef)
    s = write_overlay_tif(run, ov, &cv, st->labels.x_offset, stream_path(run, out, OUT_OVERLAY_TIF), err);
  else if (!s)
    sd_outset_drop(out, OUT_OVERLAY_TIF); /* nothing to put it on */
  free(cv.rgb);
  return s;
}

/* The outputs that the stages did not write as they went: the vectors, the overlays and the page,
 * which share nothing they write, each on a thread of its own when there are threads (0.33, 0.41
 * and 0.37 s of the 1.1 s they took in turn at 8192²); the first failure in that order is
 * reported. Only the page reads the inputs again (run->rb, run->ra), and only it may warn. */
static sd_status write_outputs(sd_run *run, sd_stages *st, sd_outset *out, const sd_overlay *ov, sd_error *err) {
  int32_t *olab = calloc((size_t)ov->w * ov->h, sizeof *olab);
  if (!olab) return sd_error_set(err, SD_ERR_NOMEM, "overlay: out of memory");
  sd_runs_boxes(&st->det.runs, ov->factor, ov->w, olab);
  sd_status ps[3] = {SD_OK, SD_OK, SD_OK};
  sd_error pe[3];
  memset(pe, 0, sizeof pe);
  SD_OMP(parallel sections num_threads(run->threads < 3 ? run->threads : 3)) {
    SD_OMP(section)
    ps[0] = write_vectors(run, st, out, &pe[0]);
    SD_OMP(section)
    ps[1] = write_overlays(run, st, out, ov, olab, &pe[1]);
    SD_OMP(section)
    ps[2] = write_page(run, st, out, ov, olab, &pe[2]);
  }
  free(olab);
  for (int k = 0; k < 3; k++)
    if (ps[k]) {
      if (err && !err->code) *err = pe[k];
      return ps[k];
    }
  return write_cogs(run, out, err);
}

/* The overlay canvas, with the display stretch the radiometry stage measured. */
static sd_status overlay_begin(const sd_run *run, const sd_normalisation *norm, sd_overlay *ov, sd_error *err) {
  const sd_compare_options *opts = run->opts;
  sd_status s = sd_overlay_init(ov, run->grid.width, run->grid.height, opts->overlay_max, opts->triptych, err);
  if (s) return s;
  if (run->grid.georef) ov->pixel_m = sqrt(run->grid.pixel_w_m * run->grid.pixel_h_m) * ov->factor;
  memcpy(ov->lo, norm->lo, sizeof ov->lo);
  memcpy(ov->hi, norm->hi, sizeof ov->hi);
  memcpy(ov->lo_before, norm->lo_before, sizeof ov->lo_before);
  memcpy(ov->hi_before, norm->hi_before, sizeof ov->hi_before);
  if (run->aoi) { /* the areas at the overlay's resolution, for their outline */
    ov->aoi = malloc((size_t)ov->w * ov->h);
    if (!ov->aoi) return sd_error_set(err, SD_ERR_NOMEM, "overlay: out of memory");
    return sd_aoi_rasterize(run->aoi, 0, 0, ov->w, ov->h, ov->factor, ov->aoi, err);
  }
  return SD_OK;
}

static void fill_result(const sd_stages *st, const sd_grid *g, sd_compare_result *result) {
  const sd_registration *reg = &st->reg;
  result->dx = reg->dx;
  result->dy = reg->dy;
  result->reg_peak = reg->global.peak;
  result->registered = reg->registered;
  result->reg_grade = reg->fit.grade;
  result->reg_model = reg->model.kind;
  result->reg_rmse = reg->fit.rmse;
  result->tie_points = reg->ntp;
  result->tie_kept = reg->fit.inliers;
  result->threshold = st->det.thr.value;
  result->width = g->width;
  result->height = g->height;
  result->changed_px = st->det.changed_px;
  result->n_objects = st->objs.n;
  for (int i = 0; i < st->objs.n; i++)
    result->by_class[st->objs.objs[i].cls]++;
}

/* The stages in order, each timed; outputs go under temporary names in out. */
static sd_status run_stages(sd_run *run, sd_stages *st, sd_outset *out, sd_overlay *ov, sd_error *err) {
  sd_stage_times *t = &st->t;
  double t0 = sd_now(), t1 = t0;
#define SD_LAP(field) (t->field = sd_now() - t1, t1 = sd_now())
  sd_status s = sd_stage_open(run, err);
  if (s) return s;
  SD_LAP(open);
  s = sd_stage_grid(run, &st->plan, err);
  if (s) return s;
  SD_LAP(grid);
  s = sd_stage_register(run, &st->reg, err);
  if (!s) s = sd_check_interrupt(err);
  if (s) return s;
  SD_LAP(registration);
  s = sd_stage_radiometry(run, &st->norm, err);
  if (!s) s = overlay_begin(run, &st->norm, ov, err);
  if (s) return s;
  SD_LAP(radiometry);
  s = sd_outset_begin(out, run->opts->outdir, out_names, OUT_COUNT, err);
  const char *mag_path = s ? NULL : stream_path(run, out, OUT_MAG);
  if (!s) s = sd_stage_diff(run, &st->plan, &st->reg, &st->norm, mag_path, ov, &st->diff, err);
  if (s) return s;
  SD_LAP(diff);
  s = sd_stage_threshold(run, &st->diff, &st->det, err);
  if (s) return s;
  SD_LAP(threshold);
  s = sd_stage_detect(run, &st->plan, &st->diff, mag_path, &st->det, err);
  if (s) return s;
  SD_LAP(cleanup);
  s = sd_stage_segments(run, &st->plan, &st->reg, &st->norm, &st->diff, mag_path, &st->det, &st->seg, err);
  if (s) return s;
  SD_LAP(segments);
  s = sd_stage_measure(run, &st->plan, &st->diff, mag_path, stream_path(run, out, OUT_MASK), &st->det, &st->objs, err);
  sd_difference_drop_magnitude(&st->diff); /* the objects need no more of it */
  if (!s) s = sd_check_interrupt(err);
  if (!s) s = sd_stage_describe(run, &st->reg, &st->norm, &st->det, st->plan.min_area_px, &st->objs, err);
  if (s) return s;
  SD_LAP(objects);
  s = write_outputs(run, st, out, ov, err);
  if (s) return s;
  SD_LAP(write);
#undef SD_LAP
  t->total = sd_now() - t0;
  if (run->opts->magnitude == 2) sd_outset_drop(out, OUT_MAG); /* --magnitude none */
  st->noutputs = 0;
  for (int i = 0; i < OUT_COUNT; i++)
    if (!out->dropped[i]) st->outputs[st->noutputs++] = out_names[i];
  s = sd_report_write(run, st, sd_outset_path(out, OUT_REPORT), err);
  if (!s) s = sd_check_interrupt(err);
  if (!s) s = sd_outset_commit(out, err);
  return s;
}

sd_status sd_compare(const sd_compare_options *opts, sd_compare_result *result, sd_error *err) {
  if (result) memset(result, 0, sizeof *result);
  sd_status s = sd_compare_options_check(opts, err);
  if (s) return s;
  sd_run run;
  memset(&run, 0, sizeof run);
  run.opts = opts;
  run.threads = opts->threads > 0 ? opts->threads : sd_omp_threads();
  /* SITEDIFF_PLAIN=1: the plain reference twins instead of the optimised kernels, in the same
   * binary, for A/B checks of whole runs (the outputs must not change). */
  const char *plain = getenv("SITEDIFF_PLAIN");
  run.plain = plain && *plain && strcmp(plain, "0");
#ifdef _OPENMP
  int saved_threads = omp_get_max_threads();
  omp_set_num_threads(run.threads);
#endif
  sd_stages st;
  memset(&st, 0, sizeof st);
  sd_outset out;
  memset(&out, 0, sizeof out);
  sd_overlay ov;
  memset(&ov, 0, sizeof ov);

  s = run_stages(&run, &st, &out, &ov, err);
  if (!s) {
    sd_run_progress(&run, "%d objects, %lld changed pixels, threshold %.2f (%s); outputs in %s", st.objs.n,
                    (long long)st.det.changed_px, st.det.thr.value, sd_thr_method_name(st.det.thr.method),
                    opts->outdir);
    if (result) fill_result(&st, &run.grid, result);
  }

  sd_outset_abort(&out); /* nothing left to remove after a commit, or before a begin */
  sd_objects_free(&st.objs);
  sd_detection_free(&st.det);
  sd_difference_free(&st.diff);
  sd_registration_free(&st.reg);
  sd_overlay_free(&ov);
  sd_run_close(&run);
#ifdef _OPENMP
  omp_set_num_threads(saved_threads);
#endif
  return s;
}
