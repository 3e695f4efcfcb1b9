/* report.c: report.json from the stages' results, everything needed to reproduce and judge a run
 * (jansson). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <jansson.h>

#include "io/io.h"
#include "pipeline/stages.h"
#include "segment/segment.h"
#include "sitediff/sitediff.h"

/* A 0-based band index as the 1-based band number, or null. */
static json_t *band_number(int i) { return i >= 0 ? json_integer(i + 1) : json_null(); }

/* Which band is red, green, blue and near-infrared, and what said so. */
static json_t *band_roles_json(const sd_run *run) {
  const sd_band_roles *ro = &run->roles;
  return json_pack("{s:o, s:o, s:o, s:o, s:s}", "red", band_number(ro->red), "green", band_number(ro->green), "blue",
                   band_number(ro->blue), "nir", band_number(ro->nir), "from",
                   run->roles_from ? run->roles_from : "none");
}

static json_t *num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *input_json(const sd_raster_info *in) {
  struct stat st;
  long long bytes = -1, mtime = -1;
  if (stat(in->path, &st) == 0) {
    bytes = (long long)st.st_size;
    mtime = (long long)st.st_mtime;
  }
  return json_pack("{s:s, s:I, s:I, s:i, s:i, s:i, s:s, s:s, s:b, s:[f,f,f,f,f,f]}", "path", in->path, "bytes",
                   (json_int_t)bytes, "mtime", (json_int_t)mtime, "width", in->width, "height", in->height, "bands",
                   in->nbands, "type", in->type, "crs", in->crs, "georeferenced", in->georef, "geotransform", in->gt[0],
                   in->gt[1], in->gt[2], in->gt[3], in->gt[4], in->gt[5]);
}

static const char *grid_ref_name(sd_grid_ref g) {
  switch (g) {
  case SD_GRID_BEFORE: return "before";
  case SD_GRID_AFTER: return "after";
  case SD_GRID_FINER: return "finer";
  case SD_GRID_COARSER: return "coarser";
  }
  return "?";
}

static json_t *coefs(const double *v, int n) {
  json_t *a = json_array();
  for (int k = 0; k < n; k++)
    json_array_append_new(a, num(v[k]));
  return a;
}

static json_t *registration_json(const sd_registration *rg) {
  json_t *reg = json_object();
  json_object_set_new(reg, "status", json_string(rg->status));
  if (!strcmp(rg->status, "disabled")) return reg;
  const sd_fit *f = &rg->fit;
  json_object_set_new(reg, "grade", json_string(sd_grade_name(f->grade)));
  json_t *reasons = json_array();
  for (int i = 0; i < f->nreasons; i++)
    json_array_append_new(reasons, json_string(f->reasons[i]));
  json_object_set_new(reg, "reasons", reasons);
  json_object_set_new(reg, "band", json_integer(rg->band + 1));
  json_object_set_new(reg, "dx", num(rg->dx));
  json_object_set_new(reg, "dy", num(rg->dy));
  json_object_set_new(reg, "dx_range", json_pack("[o,o]", num(rg->dx_range[0]), num(rg->dx_range[1])));
  json_object_set_new(reg, "dy_range", json_pack("[o,o]", num(rg->dy_range[0]), num(rg->dy_range[1])));
  const sd_model *m = &rg->model;
  int nt = sd_model_terms(m->kind);
  json_object_set_new(reg, "model",
                      json_pack("{s:s, s:s, s:s, s:[f,f], s:f, s:o, s:o}", "kind", sd_model_name(m->kind), "why",
                                f->why_model, "terms",
                                "1, u, v, u*u, u*v, v*v with u = (x - cx) / scale, v = (y - cy) / scale", "centre",
                                m->cx, m->cy, "scale", m->scale, "ax", coefs(m->ax, nt), "ay", coefs(m->ay, nt)));
  json_object_set_new(reg, "rmse_px", num(f->rmse));
  json_object_set_new(reg, "rmse_by_model",
                      json_pack("{s:o, s:o, s:o}", "translation", num(f->rmse_by_kind[1]), "affine",
                                num(f->rmse_by_kind[2]), "poly2", num(f->rmse_by_kind[3])));
  int counts[SD_TP_STATUS_COUNT] = {0};
  for (int i = 0; i < rg->ntp; i++)
    counts[rg->tp[i].status]++;
  json_t *tp =
      json_pack("{s:i, s:i, s:i, s:i, s:[f,f], s:f, s:o}", "window", rg->layout.win, "spacing", rg->layout.spacing,
                "total", rg->ntp, "reliable", f->reliable, "spread", f->spread_x, f->spread_y, "seconds",
                rg->tp_seconds, "per_second", num(rg->tp_seconds > 0 ? rg->ntp / rg->tp_seconds : NAN));
  for (int k = 0; k < SD_TP_STATUS_COUNT; k++)
    json_object_set_new(tp, sd_tp_status_name(k), json_integer(counts[k]));
  json_t *levels = json_array(); /* kept points by pyramid level: full resolution, 2x, 4x */
  for (int L = 0; L < 3; L++) {
    int k = 0;
    for (int i = 0; i < rg->ntp; i++)
      k += rg->tp[i].status == SD_TP_KEPT && rg->tp[i].level == L;
    json_array_append_new(levels, json_integer(k));
  }
  json_object_set_new(tp, "kept_by_level", levels);
  json_object_set_new(tp, "passes", json_integer(rg->tp_passes));
  json_object_set_new(tp, "pyramid", json_boolean(rg->tp_pyramid));
  int on_gradient = 0;
  for (int i = 0; i < rg->ntp; i++)
    on_gradient += rg->tp[i].status == SD_TP_KEPT && rg->tp[i].gradient;
  json_object_set_new(tp, "kept_on_gradient", json_integer(on_gradient));
  json_object_set_new(reg, "tie_points", tp);
  const sd_shift *g = &rg->global;
  json_object_set_new(reg, "global",
                      json_pack("{s:b, s:o, s:o, s:o, s:o, s:o, s:[o,o], s:i, s:[i,i]}", "used", rg->global_used, "dx",
                                num(rg->global_used ? rg->global_dx : g->dx), "dy",
                                num(rg->global_used ? rg->global_dy : g->dy), "peak", num(g->peak), "peak_ratio",
                                num(g->peak_ratio), "valid_fraction", num(g->valid_fraction), "residual",
                                num(rg->global_used ? rg->global_residual.dx : NAN),
                                num(rg->global_used ? rg->global_residual.dy : NAN), "rounds", rg->rounds, "chip",
                                rg->chip_w, rg->chip_h));
  json_object_set_new(json_object_get(reg, "global"), "level", json_integer(rg->global_level));
  json_object_set_new(json_object_get(reg, "global"), "rotation_deg", json_real(rg->global_turn.deg));
  json_object_set_new(json_object_get(reg, "global"), "gradient", json_boolean(rg->global_gradient));
  json_object_set_new(json_object_get(reg, "global"), "scale_error", json_real(rg->global_turn.scale_err));
  json_object_set_new(json_object_get(reg, "global"), "seconds", json_real(rg->global_seconds));
  json_object_set_new(reg, "method",
                      json_string("phase correlation (FFTW) with Hann window, tapered nodata, whitened spectrum "
                                  "tapered above half Nyquist and weighted by each frequency's signal over the "
                                  "noise in both images, upsampled-DFT peak to 0.001 px; global shift on the "
                                  "central chip (2x and 4x coarser where it shows no clear peak, then turned and "
                                  "scaled, then on the gradient magnitude), then tie-point windows judged by the "
                                  "structure tensor (both axes above the noise), matched coarser where too plain "
                                  "and on the gradient magnitude where most find no clear peak, RANSAC (2 px band, "
                                  "re-measured with the model applied, "
                                  "then 0.35 px), least squares; with no model from the tie points, a clear global "
                                  "shift is applied as a translation (grade warn)"));
  return reg;
}

/* What the segments did (stage_segments.c). */
static json_t *segments_json(const sd_segmentation *sg) {
  char score[320];
  snprintf(score, sizeof score,
           "mean magnitude (in thresholds, vegetation-rule pixels as 0) x (1 - their share) x prior^3; a segment at "
           "least %g detected is changed whole when its score passes the level, %g x Otsu's split of the scene's "
           "scores weighted by pixels",
           (double)SD_STRUCTURE_MIN_DETECTED, SD_STRUCTURE_LEVEL);
  return json_pack("{s:b, s:s, s:i, s:i, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:s}", "applied", sg->applied, "why",
                   sg->why, "region_px", sg->region_px, "tile_px", sg->tile_px, "level", num(sg->level), "tiles",
                   (json_int_t)sg->tiles, "reference_segments", (json_int_t)sg->ref_segments, "candidate_segments",
                   (json_int_t)sg->candidate_segments, "kept_segments", (json_int_t)sg->kept_segments, "dropped_px",
                   (json_int_t)sg->dropped_px, "added_px", (json_int_t)sg->added_px, "prior",
                   "mean over five cues (after grey, after not green, edge gain, brightness gain, brightness spread "
                   "gain) of the share of the scene's segments with a lower cue",
                   "score", score);
}

/* Objects counted by class, by sign and by both. */
static json_t *objects_json(const sd_objects *objs) {
  json_t *by_class = json_object();
  int counts[SD_CLASS_COUNT] = {0};
  for (int i = 0; i < objs->n; i++)
    counts[objs->objs[i].cls]++;
  for (int c = 0; c < SD_CLASS_COUNT; c++)
    json_object_set_new(by_class, sd_class_name(c), json_integer(counts[c]));
  json_t *by_sign = json_object();
  int signs[3] = {0};
  for (int i = 0; i < objs->n; i++)
    signs[objs->objs[i].sign]++;
  for (int k = 0; k < 3; k++)
    json_object_set_new(by_sign, sd_sign_name(k), json_integer(signs[k]));
  int cross[SD_CLASS_COUNT][3] = {{0}};
  for (int i = 0; i < objs->n; i++)
    cross[objs->objs[i].cls][objs->objs[i].sign]++;
  json_t *by_class_sign = json_object();
  for (int c = 0; c < SD_CLASS_COUNT; c++) {
    json_t *row = json_object();
    for (int k = 0; k < 3; k++)
      json_object_set_new(row, sd_sign_name(k), json_integer(cross[c][k]));
    json_object_set_new(by_class_sign, sd_class_name(c), row);
  }
  return json_pack("{s:i, s:o, s:o, s:o, s:s}", "count", objs->n, "by_class", by_class, "by_sign", by_sign,
                   "by_class_and_sign", by_class_sign, "sign_rule",
                   "object against its 3-px ring: |mean difference| / pooled spread, RMS over bands; "
                   "under 1 before = new, 1 or more before and after = altered, before only = removed");
}

/* --aoi: per area its pixels on the grid, the share valid in both dates (observed when at least
 * SD_OBSERVED_SHARE), its objects by class and their area. */
static json_t *aoi_json(const sd_run *run, const sd_stages *st) {
  const double px_area = run->grid.pixel_w_m * run->grid.pixel_h_m;
  json_t *areas = json_array();
  for (int a = 0; a < sd_aoi_count(run->aoi); a++) {
    int by_class[SD_CLASS_COUNT] = {0}, n = 0;
    double changed = 0;
    for (int i = 0; i < st->objs.n; i++)
      if (st->objs.objs[i].aoi == a + 1) {
        by_class[st->objs.objs[i].cls]++;
        changed += st->objs.objs[i].area_m2;
        n++;
      }
    json_t *bc = json_object();
    for (int c = 0; c < SD_CLASS_COUNT; c++)
      json_object_set_new(bc, sd_class_name(c), json_integer(by_class[c]));
    int64_t px = st->diff.aoi_px[a + 1], valid = st->diff.aoi_valid[a + 1];
    double share = px ? (double)valid / (double)px : 0;
    json_array_append_new(areas, json_pack("{s:s, s:I, s:o, s:I, s:o, s:b, s:i, s:o, s:o}", "name",
                                           sd_aoi_name(run->aoi, a), "pixels", (json_int_t)px, "area_m2",
                                           num(px * px_area), "valid_pixels", (json_int_t)valid, "valid_share",
                                           num(share), "observed", share >= SD_OBSERVED_SHARE, "objects", n, "by_class",
                                           bc, "changed_area_m2", num(changed)));
  }
  return json_pack("{s:s, s:o, s:f, s:s}", "file", run->opts->aoi, "areas", areas, "observed_share", SD_OBSERVED_SHARE,
                   "rule",
                   "change is looked for inside the areas only (nodata outside); the threshold comes from "
                   "the whole scene; an area is observed when at least observed_share of its pixels are "
                   "valid in both dates (not nodata, masked or cloud); an object belongs to the area "
                   "holding its centroid, else the nearest");
}

sd_status sd_report_write(const sd_run *run, const sd_stages *st, const char *path, sd_error *err) {
  const sd_compare_options *o = run->opts;
  const sd_grid *g = &run->grid;
  json_t *root = json_object();
  json_object_set_new(root, "tool", json_string("sitediff"));
  json_object_set_new(root, "version", json_string(sd_version()));
  json_object_set_new(root, "inputs",
                      json_pack("{s:o, s:o, s:i}", "before", input_json(sd_raster_get_info(run->before)), "after",
                                input_json(sd_raster_get_info(run->after)), "bands_compared", run->nbands));
  json_object_set_new(root, "grid",
                      json_pack("{s:s, s:s, s:i, s:i, s:[f,f,f,f,f,f], s:o, s:o, s:b}", "reference",
                                grid_ref_name(o->grid), "crs", g->crs, "width", g->width, "height", g->height,
                                "geotransform", g->gt[0], g->gt[1], g->gt[2], g->gt[3], g->gt[4], g->gt[5],
                                "pixel_width_m", num(g->pixel_w_m), "pixel_height_m", num(g->pixel_h_m),
                                "georeferenced", g->georef));
  json_object_set_new(root, "registration", registration_json(&st->reg));
  json_object_set_new(root, "band_roles", band_roles_json(run));

  json_t *bands = json_array();
  for (int b = 0; b < st->norm.radio.nbands; b++)
    json_array_append_new(bands,
                          json_pack("{s:i, s:o, s:o, s:o, s:o}", "band", b + 1, "gain", num(st->norm.radio.gain[b]),
                                    "offset", num(st->norm.radio.offset[b]), "sigma", num(st->norm.radio.sigma[b]),
                                    "sigma_measured", num(st->norm.radio.sigma_measured[b])));
  json_object_set_new(root, "radiometry",
                      json_pack("{s:s, s:o, s:I, s:I, s:i}", "method",
                                run->opts->normalize ? "z-score of each image, per band (plain)"
                                                     : "reduced-major-axis gain/offset, after -> before, re-fitted on "
                                                       "pixels within 3 sigma",
                                "bands", bands, "samples", (json_int_t)st->norm.radio.samples, "unchanged_samples",
                                (json_int_t)st->norm.radio.kept, "iterations", st->norm.radio.iterations));
  json_t *fb = json_array();
  for (int b = 0; b < st->norm.fradio.nbands; b++)
    json_array_append_new(fb, json_pack("{s:o, s:o, s:o}", "gain", num(st->norm.fradio.gain[b]), "offset",
                                        num(st->norm.fradio.offset[b]), "sigma", num(st->norm.fradio.sigma[b])));
  json_object_set_new(root, "magnitude",
                      json_pack("{s:s, s:o, s:i, s:s}", "metric", sd_metric_name(run->metric), "feature_fit", fb,
                                "tolerance_px", st->diff.tol_radius, "definition",
                                "the metric's features of each date (the bands for cva), matched by a robust "
                                "gain/offset; sqrt(mean over features of ((gain*after+offset-before)/sigma)^2), the "
                                "best match within tolerance_px both ways: change in units of the no-change noise"));
  static const char *const files[] = {"Float32, DEFLATE with the floating-point predictor (lossless)",
                                      "Float32, LERC within 0.01", "not written (--magnitude none)"};
  json_object_set_new(json_object_get(root, "magnitude"), "file", json_string(files[o->magnitude]));
  const sd_veg_index vi = st->diff.veg_index;
  json_object_set_new(json_object_get(root, "magnitude"), "focus",
                      json_pack("{s:s, s:s, s:o, s:o, s:I}", "focus", run->opts->focus ? "all" : "structures",
                                "vegetation_index", sd_veg_index_name(vi), "threshold",
                                vi ? num(sd_veg_threshold(vi)) : json_null(), "max_index_change",
                                vi ? num(sd_veg_max_change(vi)) : json_null(), "vegetated_both_px",
                                (json_int_t)st->diff.veg_marked_px));
  const sd_threshold *th = &st->det.thr;
  json_object_set_new(root, "threshold",
                      json_pack("{s:s, s:o, s:s, s:{s:o, s:o, s:o, s:o}, s:o, s:o, s:o}", "method",
                                sd_thr_method_name(th->method), "value", num(th->value), "why", th->why, "candidates",
                                "otsu", num(th->otsu), "otsu_log", num(th->otsu_log), "ki", num(th->ki), "ksigma",
                                num(th->ksigma), "median", num(th->median), "sigma", num(th->sigma), "k", num(th->k)));
  json_object_set_new(root, "cleanup",
                      json_pack("{s:i, s:i, s:o, s:I}", "open_radius", o->open_radius, "close_radius", o->close_radius,
                                "min_area", num(o->min_area), "min_area_px", (json_int_t)st->plan.min_area_px));
  json_object_set_new(root, "segments", segments_json(&st->seg));
  double px_area = g->pixel_w_m * g->pixel_h_m;
  json_object_set_new(root, "change",
                      json_pack("{s:I, s:I, s:o, s:o}", "valid_pixels", (json_int_t)st->det.valid_px, "changed_pixels",
                                (json_int_t)st->det.changed_px, "changed_area_m2", num(st->det.changed_px * px_area),
                                "changed_fraction",
                                num(st->det.valid_px ? (double)st->det.changed_px / (double)st->det.valid_px : NAN)));
  json_object_set_new(root, "objects", objects_json(&st->objs));
  if (run->aoi) json_object_set_new(root, "aoi", aoi_json(run, st));
  json_t *boxes = json_array();
  for (int k = 0; k < st->labels.n; k++) {
    const sd_ov_label *l = &st->labels.label[k];
    json_array_append_new(boxes, json_pack("[i,i,i,i,i]", l->rank, l->x + st->labels.x_offset, l->y, l->w, l->h));
  }
  json_object_set_new(root, "overlay",
                      json_pack("{s:i, s:i, s:i, s:s, s:o}", "numbered", st->labels.n, "objects", st->objs.n,
                                "grid_px_per_px", st->labels.factor, "rule",
                                "rank numbers on the best-ranked objects, up to one per 60 x 60 px of the panel "
                                "(text scale 1), none overlapping; every object outlined; labels are [rank, x, y, "
                                "width, height] of each number's ink in overlay.png pixels",
                                "labels", boxes));
  const sd_stage_times *t = &st->t;
  json_object_set_new(root, "seconds",
                      json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "open",
                                t->open, "grid", t->grid, "registration", t->registration, "radiometry", t->radiometry,
                                "diff", t->diff, "diff_read_before", st->diff.read_before, "diff_read_warp_after",
                                st->diff.read_after, "diff_kernel", st->diff.kernel, "diff_write_magnitude",
                                st->diff.write_magnitude, "threshold", t->threshold, "cleanup", t->cleanup, "segments",
                                t->segments, "objects", t->objects, "write", t->write, "total", t->total));
  char optstr[1024];
  sd_compare_options_describe(o, optstr, sizeof optstr);
  json_object_set_new(root, "options", json_string(optstr));
  if (o->date_before || o->date_after)
    json_object_set_new(root, "dates", json_pack("{s:s?, s:s?}", "before", o->date_before, "after", o->date_after));
  json_object_set_new(root, "preset", json_string(sd_preset_name(run->preset)));
  json_object_set_new(root, "threads", json_integer(run->threads));
  json_object_set_new(root, "block_rows", json_integer(st->plan.block_rows));
  json_object_set_new(root, "kernels", json_string(run->plain ? "plain (SITEDIFF_PLAIN)" : "optimised"));
  json_object_set_new(root, "resampling_after", json_string(sd_reader_resampling(run->ra)));
  /* Peak resident memory of the process so far (in a batch, of every pair before this one too). */
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  json_object_set_new(root, "memory",
                      json_pack("{s:f, s:b, s:i}", "peak_rss_mib", ru.ru_maxrss / 1024.0, "magnitude_held",
                                st->plan.mag_held, "detect_rows", st->plan.detect_rows));
  json_t *warn = json_array();
  for (int i = 0; i < run->nwarn; i++)
    json_array_append_new(warn, json_string(run->warnings[i]));
  json_object_set_new(root, "warnings", warn);
  json_t *outs = json_array();
  for (int i = 0; i < st->noutputs; i++)
    json_array_append_new(outs, json_string(st->outputs[i]));
  json_object_set_new(root, "outputs", outs);
  int rc = json_dump_file(root, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
  json_decref(root);
  if (rc != 0) return sd_error_set(err, SD_ERR_OUTPUT, "report: %s: cannot write", path);
  return SD_OK;
}
