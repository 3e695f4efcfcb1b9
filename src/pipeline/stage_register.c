/* stage_register.c: the registration stage of sd_compare: a global shift from a central chip,
 * tie points over the grid, a robust model with a quality grade, folded into the after reader. */
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "pipeline/stages.h"

/* Reads a w x h window of the registration band of both images (the after reader with its
 * current model) into mb and ma. */
static sd_status read_chip(const sd_run *run, sd_reader *rb, sd_reader *ra, int x, int y, sd_planes *pb, sd_planes *pa,
                           float *mb, float *ma, sd_error *err) {
  sd_status s = sd_run_read_pair(run, rb, ra, x, y, pb, pa, NULL, err);
  if (s) return s;
  size_t n = (size_t)pb->width * pb->height;
  memcpy(mb, pb->band[0], n * sizeof *mb);
  memcpy(ma, pa->band[0], n * sizeof *ma);
  return SD_OK;
}

/* Central chip: measure, apply, re-measure the residual until it is below 0.002 px. A shift is
 * used only when its peak stands clearly above the rest (ratio >= 3), the chip is at least half
 * valid and the shift is within a quarter of the chip. */
static sd_status global_shift(sd_run *run, sd_registration *reg, sd_reader *rb, sd_reader *ra, sd_error *err) {
  int cw = run->grid.width < 1024 ? run->grid.width : 1024;
  int ch = run->grid.height < 1024 ? run->grid.height : 1024;
  reg->chip_w = cw;
  reg->chip_h = ch;
  if (cw < 32 || ch < 32) {
    sd_run_warn(run, "registration: the common grid (%d x %d) is smaller than 32 x 32, no fine registration",
                run->grid.width, run->grid.height);
    return SD_OK;
  }
  int cx = (run->grid.width - cw) / 2, cy = (run->grid.height - ch) / 2;
  sd_planes pb, pa;
  sd_status s = sd_planes_alloc(&pb, 1, cw, ch, err);
  if (!s) s = sd_planes_alloc(&pa, 1, cw, ch, err);
  float *mb = sd_alloc((size_t)cw * ch * sizeof(float)), *ma = sd_alloc((size_t)cw * ch * sizeof(float));
  sd_correlator *c = sd_correlator_create(cw, ch, run->threads);
  if (!s && (!mb || !ma || !c)) s = sd_error_set(err, SD_ERR_NOMEM, "register: out of memory");
  if (!s) s = read_chip(run, rb, ra, cx, cy, &pb, &pa, mb, ma, err);
  if (!s) s = sd_correlate(c, mb, ma, &reg->global, err);
  reg->rounds = 1;
  const sd_shift *g = &reg->global;
  int limit = (cw < ch ? cw : ch) / 4;
  if (!s && g->valid_fraction >= 0.5 && g->peak_ratio >= 3.0 && fabs(g->dx) <= limit && fabs(g->dy) <= limit) {
    reg->global_used = 1;
    reg->global_dx = g->dx;
    reg->global_dy = g->dy;
    for (int round = 0; round < 2 && !s; round++) {
      sd_model t = sd_model_translation(reg->global_dx, reg->global_dy);
      sd_run_set_after_model(run, ra, &t);
      s = read_chip(run, rb, ra, cx, cy, &pb, &pa, mb, ma, err);
      if (!s) s = sd_correlate(c, mb, ma, &reg->global_residual, err);
      reg->rounds++;
      if (s || (fabs(reg->global_residual.dx) < 0.002 && fabs(reg->global_residual.dy) < 0.002)) break;
      reg->global_dx += reg->global_residual.dx;
      reg->global_dy += reg->global_residual.dy;
    }
    sd_model t = sd_model_translation(reg->global_dx, reg->global_dy);
    sd_run_set_after_model(run, ra, &t);
  }
  sd_correlator_free(c);
  sd_free(mb);
  sd_free(ma);
  sd_planes_free(&pb);
  sd_planes_free(&pa);
  return s;
}

/* Fraction of a window's pixels under either mask. */
static sd_status masked_fraction(const sd_run *run, int x, int y, int win, double *frac, sd_error *err) {
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

/* Each thread reads with its own dataset handles (GDAL handles are not shared across threads)
 * and correlates its windows; with cloud masks, one thread reads (the mask readers are shared). */
typedef struct tp_worker {
  sd_raster *own_b, *own_a;
  sd_reader *rb, *ra;
  sd_planes pb, pa;
  float *ref, *mov;
  sd_error err;
  sd_status st;
} tp_worker;

static sd_status worker_open(const sd_run *run, int band, tp_worker *w, sd_reader *rb, sd_reader *ra,
                             const sd_model *applied, size_t px, int win, sd_error *err) {
  sd_status s = SD_OK;
  if (rb) {
    w->rb = rb;
    w->ra = ra;
  } else {
    const sd_compare_options *o = run->opts;
    s = sd_raster_open("before", o->before, o->max_pixels, &w->own_b, err);
    if (!s) s = sd_raster_open("after", o->after, o->max_pixels, &w->own_a, err);
    if (!s) s = sd_reader_create_band(w->own_b, &run->grid, band, 1, &w->rb, err);
    if (!s) s = sd_reader_create_band(w->own_a, &run->grid, band, 1, &w->ra, err);
  }
  if (!s) sd_reader_set_model(w->ra, applied);
  if (!s) s = sd_planes_alloc(&w->pb, 1, win, win, err);
  if (!s) s = sd_planes_alloc(&w->pa, 1, win, win, err);
  w->ref = malloc(px * sizeof(float));
  w->mov = malloc(px * sizeof(float));
  if (!s && (!w->ref || !w->mov)) s = sd_error_set(err, SD_ERR_NOMEM, "register: out of memory");
  return s;
}

static void worker_close(tp_worker *w) {
  if (w->own_b) {
    sd_reader_free(w->rb);
    sd_reader_free(w->ra);
  }
  sd_raster_close(w->own_b);
  sd_raster_close(w->own_a);
  sd_planes_free(&w->pb);
  sd_planes_free(&w->pa);
  free(w->ref);
  free(w->mov);
}

/* Measures every window's residual with `applied` folded into the after reader; a point's
 * displacement is then applied(p) + residual. */
static sd_status tie_points(const sd_run *run, sd_registration *reg, sd_reader *rb, sd_reader *ra,
                            const sd_model *applied, sd_error *err) {
  const sd_compare_options *o = run->opts;
  if (!sd_tp_layout_make(run->grid.width, run->grid.height, o->tie_window, o->tie_spacing, &reg->layout)) return SD_OK;
  sd_tp_layout *l = &reg->layout;
  reg->ntp = l->nx * l->ny;
  if (!reg->tp)
    reg->tp = calloc((size_t)reg->ntp, sizeof *reg->tp);
  else
    memset(reg->tp, 0, sizeof *reg->tp * (size_t)reg->ntp);
  sd_run_set_after_model(run, ra, applied);
  const int masked = run->mask_b || run->mask_a;
  int nt = masked ? 1 : run->threads;
  if (nt > reg->ntp) nt = reg->ntp;
  if (nt > 64) nt = 64;
  size_t px = (size_t)l->win * l->win;
  tp_worker w[64];
  memset(w, 0, sizeof w);
  sd_correlator *c = sd_correlator_create(l->win, l->win, 1);
  sd_status s = c && reg->tp ? SD_OK : sd_error_set(err, SD_ERR_NOMEM, "register: out of memory");
  for (int t = 0; t < nt && !s; t++)
    s = worker_open(run, reg->band, &w[t], t ? NULL : rb, t ? NULL : ra, applied, px, l->win, err);
  if (!s) {
    SD_OMP(parallel num_threads(nt)) {
      tp_worker *me = &w[sd_omp_thread_id()];
      SD_OMP(for schedule(dynamic, 1))
      for (int i = 0; i < reg->ntp; i++) {
        if (me->st) continue;
        int x = l->x0 + (i % l->nx) * l->spacing, y = l->y0 + (i / l->nx) * l->spacing;
        reg->tp[i].x = x + 0.5 * l->win;
        reg->tp[i].y = y + 0.5 * l->win;
        me->st = read_chip(run, me->rb, me->ra, x, y, &me->pb, &me->pa, me->ref, me->mov, &me->err);
        double f = 0;
        if (!me->st && masked) me->st = masked_fraction(run, x, y, l->win, &f, &me->err);
        float ff = (float)f;
        if (!me->st) sd_tp_measure(c, me->ref, me->mov, masked ? &ff : NULL, 1, &reg->tp[i]);
      }
    }
    for (int t = 0; t < nt && !s; t++)
      if (w[t].st) s = sd_error_set(err, w[t].st, "%s", w[t].err.msg);
  }
  for (int i = 0; i < reg->ntp && !s; i++) {
    double ax, ay;
    sd_model_displacement(applied, reg->tp[i].x, reg->tp[i].y, &ax, &ay);
    reg->tp[i].dx = ax + reg->tp[i].rx;
    reg->tp[i].dy = ay + reg->tp[i].ry;
  }
  for (int t = 0; t < nt; t++)
    worker_close(&w[t]);
  sd_correlator_free(c);
  return s;
}

/* Matching runs on one band (green where there are colour bands): it needs texture, not
 * spectra, and reading one band instead of all is most of the stage's time. */
static int registration_band(const sd_run *run) {
  const sd_raster_info *ai = sd_raster_get_info(run->after);
  return run->nbands >= 3 && ai->rgb[1] >= 0 && ai->rgb[1] < run->nbands ? ai->rgb[1] : 0;
}

static sd_status measure(sd_run *run, sd_registration *reg, sd_reader *rb, sd_reader *ra, sd_error *err);

sd_status sd_stage_register(sd_run *run, sd_registration *reg, sd_error *err) {
  memset(reg, 0, sizeof *reg);
  reg->status = "disabled";
  if (!run->opts->do_register) return SD_OK;
  reg->band = registration_band(run);
  sd_reader *rb = NULL, *ra = NULL;
  sd_status s = sd_reader_create_band(run->before, &run->grid, reg->band, run->threads, &rb, err);
  if (!s) s = sd_reader_create_band(run->after, &run->grid, reg->band, run->threads, &ra, err);
  if (!s) s = measure(run, reg, rb, ra, err);
  sd_reader_free(rb);
  sd_reader_free(ra);
  if (!s) sd_run_set_after_model(run, run->ra, &reg->model);
  return s;
}

static sd_status measure(sd_run *run, sd_registration *reg, sd_reader *rb, sd_reader *ra, sd_error *err) {
  sd_status s = global_shift(run, reg, rb, ra, err);
  double t = sd_now();
  sd_model applied =
      reg->global_used ? sd_model_translation(reg->global_dx, reg->global_dy) : (sd_model){.kind = SD_MODEL_NONE};
  if (!s) s = tie_points(run, reg, rb, ra, &applied, err);
  if (!s && reg->ntp > 0) {
    /* Coarse pass with a wide inlier band; when it finds rotation or scale (or its points
     * scatter), the windows are measured again with that model applied, which takes the
     * rotation out of each window, and the fine fit uses the tight band. */
    sd_model_kind forced = (sd_model_kind)run->opts->model;
    sd_fit_robust(reg->tp, reg->ntp, run->grid.width, run->grid.height, forced, 1.0, &reg->fit);
    if (reg->fit.grade != SD_GRADE_FAIL && (reg->fit.model.kind > SD_MODEL_TRANSLATION || reg->fit.rmse > 0.15)) {
      applied = reg->fit.model;
      s = tie_points(run, reg, rb, ra, &applied, err);
    }
  }
  reg->tp_seconds = sd_now() - t;
  if (s) return s;

  if (reg->ntp > 0) {
    sd_fit_robust(reg->tp, reg->ntp, run->grid.width, run->grid.height, (sd_model_kind)run->opts->model, 0.35,
                  &reg->fit);
    /* A translation is best measured on the whole central chip, which holds more ground than
     * any window; the tie points then confirm it (their model within the inlier band). */
    sd_fit *f = &reg->fit;
    if (f->model.kind == SD_MODEL_TRANSLATION && reg->global_used &&
        hypot(f->model.ax[0] - reg->global_dx, f->model.ay[0] - reg->global_dy) <= 0.35) {
      f->model.ax[0] = reg->global_dx;
      f->model.ay[0] = reg->global_dy;
      strncat(f->why_model, "; value from the central chip, which the tie points confirm",
              sizeof f->why_model - strlen(f->why_model) - 1);
    }
  } else {
    /* No room for tie-point windows: the global shift alone, graded by its own peak. */
    reg->fit.grade = reg->global_used ? SD_GRADE_WARN : SD_GRADE_FAIL;
    reg->fit.rmse = NAN;
    snprintf(reg->fit.reasons[reg->fit.nreasons++], sizeof reg->fit.reasons[0],
             "the grid is too small for tie-point windows; %s", reg->global_used ? "global shift only" : "no shift");
    if (reg->global_used) reg->fit.model = sd_model_translation(reg->global_dx, reg->global_dy);
    snprintf(reg->fit.why_model, sizeof reg->fit.why_model, "global phase correlation of the central chip");
  }
  if (reg->fit.grade == SD_GRADE_FAIL) {
    char why[1024] = "";
    for (int i = 0; i < reg->fit.nreasons; i++) {
      strncat(why, i ? "; " : "", sizeof why - strlen(why) - 1);
      strncat(why, reg->fit.reasons[i], sizeof why - strlen(why) - 1);
    }
    if (run->opts->strict)
      return sd_error_set(err, SD_ERR_INPUT, "registration: grade fail (%s); --strict stops here", why);
    sd_run_warn(run, "REGISTRATION FAILED (%s): no fine correction applied, changes may be misregistration", why);
    reg->model = (sd_model){.kind = SD_MODEL_NONE};
  } else {
    reg->model = reg->fit.model;
    reg->registered = 1;
    if (reg->fit.grade == SD_GRADE_WARN)
      for (int i = 0; i < reg->fit.nreasons; i++)
        sd_run_warn(run, "registration: %s", reg->fit.reasons[i]);
  }
  sd_run_set_after_model(run, ra, &reg->model);
  reg->status = reg->registered ? "applied" : "not applied";

  sd_model_displacement(&reg->model, 0.5 * run->grid.width, 0.5 * run->grid.height, &reg->dx, &reg->dy);
  reg->dx = round(reg->dx * 1000) / 1000;
  reg->dy = round(reg->dy * 1000) / 1000;
  reg->dx_range[0] = reg->dy_range[0] = INFINITY;
  reg->dx_range[1] = reg->dy_range[1] = -INFINITY;
  for (int k = 0; k < 4; k++) {
    double dx, dy;
    sd_model_displacement(&reg->model, (k & 1) * run->grid.width, (k >> 1) * run->grid.height, &dx, &dy);
    reg->dx_range[0] = fmin(reg->dx_range[0], dx);
    reg->dx_range[1] = fmax(reg->dx_range[1], dx);
    reg->dy_range[0] = fmin(reg->dy_range[0], dy);
    reg->dy_range[1] = fmax(reg->dy_range[1], dy);
  }
  sd_run_progress(run, "registration %s, grade %s: %s, dx %.3f, dy %.3f px at the centre, %d of %d tie points kept",
                  reg->status, sd_grade_name(reg->fit.grade), sd_model_name(reg->model.kind), reg->dx, reg->dy,
                  reg->fit.inliers, reg->ntp);
  return SD_OK;
}

void sd_registration_free(sd_registration *reg) {
  free(reg->tp);
  reg->tp = NULL;
}
