/* stage_tiepoints.c: the tie points of the registration stage: a lattice of windows, each read
 * from both images with the current model applied and matched; where the ground is too plain
 * at full resolution, the same place is matched again on a window 2 and 4 times larger, binned
 * down to the same size (a coarser level of a pyramid). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/stages.h"

enum { MAX_LEVEL = 2 };

/* Fraction of a window's pixels under either mask. */
static sd_status masked_fraction(const sd_run *run, int x, int y, int side, double *frac, sd_error *err) {
  *frac = 0;
  sd_reader *masks[2] = {run->mask_b, run->mask_a};
  sd_planes m;
  sd_status s = SD_OK;
  for (int k = 0; k < 2 && !s; k++) {
    if (!masks[k]) continue;
    s = sd_planes_alloc(&m, 1, side, side, err);
    if (!s) s = sd_reader_read(masks[k], x, y, &m, err);
    if (!s) {
      size_t hit = 0, n = (size_t)side * side;
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
  sd_planes pb[MAX_LEVEL + 1], pa[MAX_LEVEL + 1]; /* a window's side << level */
  float *ref, *mov;
  sd_error err;
  sd_status st;
} tp_worker;

static sd_status worker_open(const sd_run *run, int band, tp_worker *w, sd_reader *rb, sd_reader *ra,
                             const sd_model *applied, int win, int levels, sd_error *err) {
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
  for (int L = 0; L < levels && !s; L++) {
    s = sd_planes_alloc(&w->pb[L], 1, win << L, win << L, err);
    if (!s) s = sd_planes_alloc(&w->pa[L], 1, win << L, win << L, err);
  }
  size_t px = (size_t)win * win;
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
  for (int L = 0; L <= MAX_LEVEL; L++) {
    sd_planes_free(&w->pb[L]);
    sd_planes_free(&w->pa[L]);
  }
  free(w->ref);
  free(w->mov);
}

/* One lattice window centred at (cx, cy): matched at full resolution, and where that finds too
 * little texture or no clear peak, at the coarser levels (the larger window kept inside the grid). */
static sd_status measure_window(const sd_run *run, tp_worker *me, const sd_correlator *c, int win, int levels,
                                double cx, double cy, sd_tiepoint *tp) {
  const int W = run->grid.width, H = run->grid.height, masked = run->mask_b || run->mask_a;
  for (int L = 0; L < levels; L++) {
    int side = win << L;
    int x = (int)lround(cx - 0.5 * side), y = (int)lround(cy - 0.5 * side);
    x = x < 0 ? 0 : x + side > W ? W - side : x;
    y = y < 0 ? 0 : y + side > H ? H - side : y;
    sd_status s = sd_run_read_binned(run, me->rb, me->ra, x, y, L, &me->pb[L], &me->pa[L], me->ref, me->mov, &me->err);
    double f = 0;
    if (!s && masked) s = masked_fraction(run, x, y, side, &f, &me->err);
    if (s) return s;
    float ff = (float)f;
    memset(tp, 0, sizeof *tp);
    sd_tp_measure(c, me->ref, me->mov, masked ? &ff : NULL, 1, tp);
    tp->x = x + 0.5 * side;
    tp->y = y + 0.5 * side;
    tp->level = L;
    tp->rx *= 1 << L;
    tp->ry *= 1 << L;
    if (tp->status != SD_TP_FEATURELESS && tp->status != SD_TP_UNRELIABLE) break;
  }
  return SD_OK;
}

/* How many levels the grid has room for: a window 2^L times larger must fit twice across the
 * grid's shorter side, or the coarse windows would all be the same central one. */
static int levels_for(const sd_grid *g, int win) {
  int shorter = g->width < g->height ? g->width : g->height, levels = 1;
  while (levels <= MAX_LEVEL && 2 * (win << levels) <= shorter)
    levels++;
  return levels;
}

sd_status sd_stage_tiepoints(const sd_run *run, sd_registration *reg, sd_reader *rb, sd_reader *ra,
                             const sd_model *applied, sd_error *err) {
  const sd_compare_options *o = run->opts;
  if (!sd_tp_layout_make(run->grid.width, run->grid.height, o->tie_window, o->tie_spacing, &reg->layout)) return SD_OK;
  const sd_tp_layout *l = &reg->layout;
  const int levels = levels_for(&run->grid, l->win);
  /* Measured again (with a better model applied), every window starts at full resolution again:
   * what failed there may have failed for the rotation inside the window, which the model now
   * takes out. */
  reg->ntp = l->nx * l->ny;
  if (!reg->tp) reg->tp = calloc((size_t)reg->ntp, sizeof *reg->tp);
  sd_run_set_after_model(run, ra, applied);
  int nt = run->mask_b || run->mask_a ? 1 : run->threads;
  if (nt > reg->ntp) nt = reg->ntp;
  if (nt > 64) nt = 64;
  tp_worker w[64];
  memset(w, 0, sizeof w);
  sd_correlator *c = sd_correlator_create(l->win, l->win, 1);
  sd_status s = c && reg->tp ? SD_OK : sd_error_set(err, SD_ERR_NOMEM, "register: out of memory");
  for (int t = 0; t < nt && !s; t++)
    s = worker_open(run, reg->band, &w[t], t ? NULL : rb, t ? NULL : ra, applied, l->win, levels, err);
  if (!s) {
    SD_OMP(parallel num_threads(nt)) {
      tp_worker *me = &w[sd_omp_thread_id()];
      SD_OMP(for schedule(dynamic, 1))
      for (int i = 0; i < reg->ntp; i++) {
        if (me->st) continue;
        double cx = l->x0 + (i % l->nx) * l->spacing + 0.5 * l->win;
        double cy = l->y0 + (i / l->nx) * l->spacing + 0.5 * l->win;
        me->st = measure_window(run, me, c, l->win, levels, cx, cy, &reg->tp[i]);
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
