/* stage_register.c: the registration stage of sd_compare: a global shift from a central chip,
 * tie points over the grid, a robust model with a quality grade, folded into the after reader. */
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "pipeline.h"

/* Reads a w x h window of both images (with the after reader's current model) as band means. */
static sd_status read_chip(sd_run *run, sd_reader *rb, sd_reader *ra, int x, int y, sd_planes *pb, sd_planes *pa,
                           float *mb, float *ma, sd_error *err) {
  sd_status s = sd_read_pair(run, rb, ra, x, y, pb, pa, err);
  if (s) return s;
  sd_band_mean(pb, mb);
  sd_band_mean(pa, ma);
  return SD_OK;
}

static void set_after_model(sd_run *run, sd_reader *ra, const sd_model *m) {
  sd_reader_set_model(ra, m);
  if (run->mask_a) sd_reader_set_model(run->mask_a, m); /* the after mask moves with the after image */
}

/* Central chip: measure, apply, re-measure the residual until it is below 0.002 px. A shift is
 * used only when its peak stands clearly above the rest (ratio >= 3), the chip is at least half
 * valid and the shift is within a quarter of the chip. */
static sd_status global_shift(sd_run *run, sd_reader *rb, sd_reader *ra, sd_error *err) {
  int cw = run->grid.width < 1024 ? run->grid.width : 1024;
  int ch = run->grid.height < 1024 ? run->grid.height : 1024;
  run->reg_chip_w = cw;
  run->reg_chip_h = ch;
  if (cw < 32 || ch < 32) {
    sd_run_warn(run, "registration: the common grid (%d x %d) is smaller than 32 x 32, no fine registration",
                run->grid.width, run->grid.height);
    return SD_OK;
  }
  int cx = (run->grid.width - cw) / 2, cy = (run->grid.height - ch) / 2;
  sd_planes pb, pa;
  sd_status s = sd_planes_alloc(&pb, run->nbands, cw, ch, err);
  if (!s) s = sd_planes_alloc(&pa, run->nbands, cw, ch, err);
  float *mb = sd_alloc((size_t)cw * ch * sizeof(float)), *ma = sd_alloc((size_t)cw * ch * sizeof(float));
  sd_correlator *c = sd_correlator_create(cw, ch, run->threads);
  if (!s && (!mb || !ma || !c)) s = sd_error_set(err, SD_ERR_NOMEM, "register: out of memory");
  if (!s) s = read_chip(run, rb, ra, cx, cy, &pb, &pa, mb, ma, err);
  if (!s) s = sd_correlate(c, mb, ma, &run->global, err);
  run->reg_rounds = 1;
  const sd_shift *g = &run->global;
  int limit = (cw < ch ? cw : ch) / 4;
  if (!s && g->valid_fraction >= 0.5 && g->peak_ratio >= 3.0 && fabs(g->dx) <= limit && fabs(g->dy) <= limit) {
    run->global_used = 1;
    run->global_dx = g->dx;
    run->global_dy = g->dy;
    for (int round = 0; round < 2 && !s; round++) {
      sd_model t = sd_model_translation(run->global_dx, run->global_dy);
      set_after_model(run, ra, &t);
      s = read_chip(run, rb, ra, cx, cy, &pb, &pa, mb, ma, err);
      if (!s) s = sd_correlate(c, mb, ma, &run->global_residual, err);
      run->reg_rounds++;
      if (s || (fabs(run->global_residual.dx) < 0.002 && fabs(run->global_residual.dy) < 0.002)) break;
      run->global_dx += run->global_residual.dx;
      run->global_dy += run->global_residual.dy;
    }
    sd_model t = sd_model_translation(run->global_dx, run->global_dy);
    set_after_model(run, ra, &t);
  }
  sd_correlator_free(c);
  sd_free(mb);
  sd_free(ma);
  sd_planes_free(&pb);
  sd_planes_free(&pa);
  return s;
}

/* Fraction of a window's pixels under either mask. */
static sd_status masked_fraction(sd_run *run, int x, int y, int win, double *frac, sd_error *err) {
  *frac = 0;
  sd_reader *masks[2] = {run->mask_b, run->mask_a};
  sd_planes m;
  sd_status s = SD_OK;
  for (int k = 0; k < 2 && !s; k++) {
    if (!masks[k]) continue;
    s = sd_planes_alloc(&m, 1, win, win, err);
    if (!s) s = sd_reader_read(masks[k], x, y, &m, err);
    if (!s) {
      size_t hit = 0, n = (size_t)win * win;
      for (size_t i = 0; i < n; i++)
        hit += m.band[0][i] > 0.5f;
      *frac += (double)hit / (double)n;
    }
    sd_planes_free(&m);
  }
  return s;
}

/* Tie points in batches (bounded memory): reads are sequential (one GDAL handle per image),
 * correlation runs in parallel across the batch's windows. */
enum { TP_BATCH = 32 };

/* Measures every window's residual with `applied` folded into the after reader; a point's
 * displacement is then applied(p) + residual. */
static sd_status tie_points(sd_run *run, sd_reader *rb, sd_reader *ra, const sd_model *applied, sd_error *err) {
  const sd_compare_options *o = run->opts;
  if (!sd_tp_layout_make(run->grid.width, run->grid.height, o->tie_window, o->tie_spacing, &run->layout)) return SD_OK;
  sd_tp_layout *l = &run->layout;
  run->ntp = l->nx * l->ny;
  if (!run->tp)
    run->tp = calloc((size_t)run->ntp, sizeof *run->tp);
  else
    memset(run->tp, 0, sizeof *run->tp * (size_t)run->ntp);
  set_after_model(run, ra, applied);
  size_t px = (size_t)l->win * l->win;
  float *ref = malloc(TP_BATCH * px * sizeof(float)), *mov = malloc(TP_BATCH * px * sizeof(float));
  float masked[TP_BATCH];
  sd_planes pb, pa;
  sd_status s = sd_planes_alloc(&pb, run->nbands, l->win, l->win, err);
  if (!s) s = sd_planes_alloc(&pa, run->nbands, l->win, l->win, err);
  sd_correlator *c = sd_correlator_create(l->win, l->win, 1);
  if (!s && (!run->tp || !ref || !mov || !c)) s = sd_error_set(err, SD_ERR_NOMEM, "register: out of memory");
  for (int first = 0; first < run->ntp && !s; first += TP_BATCH) {
    int count = run->ntp - first < TP_BATCH ? run->ntp - first : TP_BATCH;
    for (int k = 0; k < count && !s; k++) {
      int i = first + k, x = l->x0 + (i % l->nx) * l->spacing, y = l->y0 + (i / l->nx) * l->spacing;
      run->tp[i].x = x + 0.5 * l->win;
      run->tp[i].y = y + 0.5 * l->win;
      s = read_chip(run, rb, ra, x, y, &pb, &pa, ref + k * px, mov + k * px, err);
      double f = 0;
      if (!s) s = masked_fraction(run, x, y, l->win, &f, err);
      masked[k] = (float)f;
    }
    if (s) break;
    sd_tp_measure(c, ref, mov, run->mask_b || run->mask_a ? masked : NULL, count, run->tp + first);
  }
  for (int i = 0; i < run->ntp && !s; i++) {
    double ax, ay;
    sd_model_displacement(applied, run->tp[i].x, run->tp[i].y, &ax, &ay);
    run->tp[i].dx = ax + run->tp[i].rx;
    run->tp[i].dy = ay + run->tp[i].ry;
  }
  sd_correlator_free(c);
  free(ref);
  free(mov);
  sd_planes_free(&pb);
  sd_planes_free(&pa);
  return s;
}

sd_status sd_stage_register(sd_run *run, sd_reader *rb, sd_reader *ra, sd_error *err) {
  run->reg_status = "disabled";
  if (!run->opts->do_register) return SD_OK;
  sd_status s = global_shift(run, rb, ra, err);
  double t = sd_now();
  sd_model applied =
      run->global_used ? sd_model_translation(run->global_dx, run->global_dy) : (sd_model){.kind = SD_MODEL_NONE};
  if (!s) s = tie_points(run, rb, ra, &applied, err);
  if (!s && run->ntp > 0) {
    /* Coarse pass with a wide inlier band; when it finds rotation or scale (or its points
     * scatter), the windows are measured again with that model applied, which takes the
     * rotation out of each window, and the fine fit uses the tight band. */
    sd_model_kind forced = (sd_model_kind)run->opts->model;
    sd_fit_robust(run->tp, run->ntp, run->grid.width, run->grid.height, forced, 1.0, &run->fit);
    if (run->fit.grade != SD_GRADE_FAIL && (run->fit.model.kind > SD_MODEL_TRANSLATION || run->fit.rmse > 0.15)) {
      applied = run->fit.model;
      s = tie_points(run, rb, ra, &applied, err);
    }
  }
  run->tp_seconds = sd_now() - t;
  if (s) return s;

  if (run->ntp > 0) {
    sd_fit_robust(run->tp, run->ntp, run->grid.width, run->grid.height, (sd_model_kind)run->opts->model, 0.35,
                  &run->fit);
    /* A translation is best measured on the whole central chip, which holds more ground than
     * any window; the tie points then confirm it (their model within the inlier band). */
    sd_fit *f = &run->fit;
    if (f->model.kind == SD_MODEL_TRANSLATION && run->global_used &&
        hypot(f->model.ax[0] - run->global_dx, f->model.ay[0] - run->global_dy) <= 0.35) {
      f->model.ax[0] = run->global_dx;
      f->model.ay[0] = run->global_dy;
      strncat(f->why_model, "; value from the central chip, which the tie points confirm",
              sizeof f->why_model - strlen(f->why_model) - 1);
    }
  } else {
    /* No room for tie-point windows: the global shift alone, graded by its own peak. */
    run->fit.grade = run->global_used ? SD_GRADE_WARN : SD_GRADE_FAIL;
    run->fit.rmse = NAN;
    snprintf(run->fit.reasons[run->fit.nreasons++], sizeof run->fit.reasons[0],
             "the grid is too small for tie-point windows; %s", run->global_used ? "global shift only" : "no shift");
    if (run->global_used) run->fit.model = sd_model_translation(run->global_dx, run->global_dy);
    snprintf(run->fit.why_model, sizeof run->fit.why_model, "global phase correlation of the central chip");
  }
  if (run->fit.grade == SD_GRADE_FAIL) {
    char why[1024] = "";
    for (int i = 0; i < run->fit.nreasons; i++) {
      strncat(why, i ? "; " : "", sizeof why - strlen(why) - 1);
      strncat(why, run->fit.reasons[i], sizeof why - strlen(why) - 1);
    }
    if (run->opts->strict)
      return sd_error_set(err, SD_ERR_INPUT, "registration: grade fail (%s); --strict stops here", why);
    sd_run_warn(run, "REGISTRATION FAILED (%s): no fine correction applied, changes may be misregistration", why);
    run->model = (sd_model){.kind = SD_MODEL_NONE};
  } else {
    run->model = run->fit.model;
    run->registered = 1;
    if (run->fit.grade == SD_GRADE_WARN)
      for (int i = 0; i < run->fit.nreasons; i++)
        sd_run_warn(run, "registration: %s", run->fit.reasons[i]);
  }
  set_after_model(run, ra, &run->model);
  run->reg_status = run->registered ? "applied" : "not applied";

  sd_model_displacement(&run->model, 0.5 * run->grid.width, 0.5 * run->grid.height, &run->dx, &run->dy);
  run->dx = round(run->dx * 1000) / 1000;
  run->dy = round(run->dy * 1000) / 1000;
  run->dx_range[0] = run->dy_range[0] = INFINITY;
  run->dx_range[1] = run->dy_range[1] = -INFINITY;
  for (int k = 0; k < 4; k++) {
    double dx, dy;
    sd_model_displacement(&run->model, (k & 1) * run->grid.width, (k >> 1) * run->grid.height, &dx, &dy);
    run->dx_range[0] = fmin(run->dx_range[0], dx);
    run->dx_range[1] = fmax(run->dx_range[1], dx);
    run->dy_range[0] = fmin(run->dy_range[0], dy);
    run->dy_range[1] = fmax(run->dy_range[1], dy);
  }
  sd_run_progress(run, "registration %s, grade %s: %s, dx %.3f, dy %.3f px at the centre, %d of %d tie points kept",
                  run->reg_status, sd_grade_name(run->fit.grade), sd_model_name(run->model.kind), run->dx, run->dy,
                  run->fit.inliers, run->ntp);
  return SD_OK;
}
