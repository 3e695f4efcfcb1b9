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
  float *ref, *mov, *tmp;
  sd_error err;
  sd_status st;
} tp_worker;

/* The coarser levels of both images over the whole grid: level 1 read in strips by the threads
 * (sd_run_read_binned), the rest binned from it. They are built once enough windows need a
 * coarser level and when they fit in PYRAMID_BUDGET (else every coarse window is read on its own):
 * coarse windows overlap (a window 4 times larger on the same lattice), and the pyramids read each
 * grid pixel once instead of up to 4 times. */
typedef struct tp_pyramids {
  int built;
  sd_pyramid b, a;
} tp_pyramids;

enum { STRIP_ROWS = 256 };
static const size_t PYRAMID_BUDGET = (size_t)256 << 20;

static sd_status worker_open(const sd_run *run, int band, tp_worker *w, sd_reader *rb, sd_reader *ra,
                             const sd_model *applied, int win, sd_error *err) {
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
  size_t px = (size_t)win * win;
  w->ref = malloc(px * sizeof(float));
  w->mov = malloc(px * sizeof(float));
  w->tmp = malloc(3 * px * sizeof(float)); /* the texture's scratch, then the two gradient images */
  if (!s && (!w->ref || !w->mov || !w->tmp)) s = sd_error_set(err, SD_ERR_NOMEM, "register: out of memory");
  return s;
}

static void worker_close(tp_worker *w) {
  if (w->own_b) {
    sd_reader_free(w->rb);
    sd_reader_free(w->ra);
  }
  sd_raster_close(w->own_b);
  sd_raster_close(w->own_a);
  free(w->ref);
  free(w->mov);
  free(w->tmp);
}

/* Where a window of side win << L centred at (cx, cy) goes: inside the grid, its top-left on a
 * multiple of 2^L (so its binned chip is the pyramid's). */
static void window_at(const sd_grid *g, int win, int L, double cx, double cy, int *x, int *y) {
  int side = win << L;
  int px = (int)lround(cx - 0.5 * side), py = (int)lround(cy - 0.5 * side);
  px = px < 0 ? 0 : px + side > g->width ? g->width - side : px;
  py = py < 0 ? 0 : py + side > g->height ? g->height - side : py;
  *x = px >> L << L;
  *y = py >> L << L;
}

/* The window centred at (cx, cy) matched at level L: cut from the pyramids where there are some,
 * else read at that level; the after chip is read only when the before chip is worth matching
 * (on plain ground most are not, and the after's warp is most of a read). With masks both are
 * read at once, the masks blanking both. */
static sd_status measure_at(const sd_run *run, tp_worker *me, const sd_correlator *c, const tp_pyramids *pyr,
                            int gradient, int win, int L, double cx, double cy, sd_tiepoint *tp) {
  int x, y, side = win << L;
  window_at(&run->grid, win, L, cx, cy, &x, &y);
  memset(tp, 0, sizeof *tp);
  tp->x = x + 0.5 * side;
  tp->y = y + 0.5 * side;
  tp->level = L;
  const int cut = L > 0 && pyr->built, masked = run->mask_b || run->mask_a;
  sd_planes pb = {.nbands = 1, .width = win, .height = win, .band = {me->ref}};
  sd_planes pa = {.nbands = 1, .width = win, .height = win, .band = {me->mov}};
  sd_status s = SD_OK;
  double f = 0;
  if (cut)
    sd_pyramid_crop(&pyr->b, L, x >> L, y >> L, win, me->ref);
  else if (masked)
    s = sd_run_read_binned(run, me->rb, me->ra, x, y, L, win, win, me->ref, me->mov, &me->err);
  else
    s = sd_reader_read_binned(me->rb, x, y, 1 << L, &pb, &me->err);
  if (!s && masked && !cut) s = masked_fraction(run, x, y, side, &f, &me->err);
  if (s || !sd_tp_screen(me->ref, win, win, f, me->tmp, tp)) return s;
  if (cut)
    sd_pyramid_crop(&pyr->a, L, x >> L, y >> L, win, me->mov);
  else if (!masked)
    s = sd_reader_read_binned(me->ra, x, y, 1 << L, &pa, &me->err);
  if (s) return s;
  sd_tp_match(c, me->ref, me->mov, gradient ? me->tmp + (size_t)win * win : NULL, tp);
  tp->rx *= 1 << L;
  tp->ry *= 1 << L;
  return SD_OK;
}

static int matched(const sd_tiepoint *tp) { return tp->status != SD_TP_FEATURELESS && tp->status != SD_TP_UNRELIABLE; }

/* The first error any worker met, or OK. */
static sd_status workers_status(tp_worker *w, int nt, sd_error *err) {
  for (int t = 0; t < nt; t++)
    if (w[t].st) return sd_error_set(err, w[t].st, "%s", w[t].err.msg);
  return SD_OK;
}

/* Built when the windows to match coarser would read more than the whole grid one by one: each
 * reads its window at level 1 (4 times its area) and, most of those that get there on plain
 * ground, at level 2 (16 times). The rule depends on the grid and the windows alone, not on the
 * memory options, so a run's output does not either (the two ways of reading agree to 0.001 px,
 * not to the last bit); SITEDIFF_TIE_PYRAMID=0 turns the pyramids off for tests that compare
 * the two. */
static sd_status pyramids_build(const sd_run *run, tp_worker *w, int nt, int win, int levels, int ncoarse,
                                tp_pyramids *pyr, sd_error *err) {
  const int W = run->grid.width, H = run->grid.height;
  const double side = 2.0 * win, reads = (double)ncoarse * side * side * (levels > 2 ? 2 : 1);
  const char *env = getenv("SITEDIFF_TIE_PYRAMID");
  if ((env && !strcmp(env, "0")) || 2 * sd_pyramid_bytes(W, H, levels) > PYRAMID_BUDGET || reads < (double)W * H)
    return SD_OK;
  if (!sd_pyramid_init(&pyr->b, W, H, levels) || !sd_pyramid_init(&pyr->a, W, H, levels)) {
    sd_pyramid_free(&pyr->b); /* not enough memory for them: windows are read one by one */
    sd_pyramid_free(&pyr->a);
    return SD_OK;
  }
  const int nstrips = (H + STRIP_ROWS - 1) / STRIP_ROWS, w1 = pyr->b.w[1], h1 = pyr->b.h[1];
  SD_OMP(parallel num_threads(nt)) {
    tp_worker *me = &w[sd_omp_thread_id()];
    SD_OMP(for schedule(dynamic, 1))
    for (int i = 0; i < nstrips; i++) {
      if (me->st) continue;
      int r0 = i * STRIP_ROWS / 2, n = h1 - r0 < STRIP_ROWS / 2 ? h1 - r0 : STRIP_ROWS / 2;
      if (n > 0)
        me->st = sd_run_read_binned(run, me->rb, me->ra, 0, 2 * r0, 1, w1, n, pyr->b.img[1] + (size_t)r0 * w1,
                                    pyr->a.img[1] + (size_t)r0 * w1, &me->err);
    }
  }
  sd_pyramid_build_up(&pyr->b);
  sd_pyramid_build_up(&pyr->a);
  pyr->built = 1;
  return workers_status(w, nt, err);
}

/* The passes over the lattice: every window at full resolution; the windows that found too little
 * texture or no clear peak there at the coarser levels in turn; and the textured windows that
 * found no clear peak at any level once more on the gradient magnitude, level by level. A window
 * keeps the last level tried. */
enum { PASS_FULL, PASS_COARSE, PASS_GRADIENT };

static sd_status measure_pass(const sd_run *run, tp_worker *w, int nt, const sd_correlator *c, const tp_pyramids *pyr,
                              int levels, int pass, sd_registration *reg, sd_error *err) {
  const sd_tp_layout *l = &reg->layout;
  SD_OMP(parallel num_threads(nt)) {
    tp_worker *me = &w[sd_omp_thread_id()];
    SD_OMP(for schedule(dynamic, 1))
    for (int i = 0; i < reg->ntp; i++) {
      sd_tiepoint *t = &reg->tp[i];
      if (me->st || (pass == PASS_COARSE && matched(t)) || (pass == PASS_GRADIENT && t->status != SD_TP_UNRELIABLE))
        continue;
      double cx = l->x0 + (i % l->nx) * l->spacing + 0.5 * l->win;
      double cy = l->y0 + (i / l->nx) * l->spacing + 0.5 * l->win;
      int from = pass == PASS_COARSE, to = pass == PASS_FULL ? 1 : levels;
      for (int L = from; L < to && !me->st; L++) {
        me->st = measure_at(run, me, c, pyr, pass == PASS_GRADIENT, l->win, L, cx, cy, t);
        if (matched(t)) break;
      }
    }
  }
  return workers_status(w, nt, err);
}

/* Near the grid's edges the coarser windows of neighbouring lattice points are pushed inside onto
 * (nearly) the same ground: the later of two windows of one level whose centres are closer than a
 * quarter of their side is a duplicate, so one measurement is not counted twice in the fit. */
static void mark_duplicates(sd_registration *reg) {
  for (int j = 0; j < reg->ntp; j++) {
    sd_tiepoint *t = &reg->tp[j];
    if (t->level == 0 || !matched(t)) continue;
    double near = 0.25 * (reg->layout.win << t->level);
    for (int i = 0; i < j; i++) {
      const sd_tiepoint *u = &reg->tp[i];
      if (u->level == t->level && matched(u) && fabs(u->x - t->x) < near && fabs(u->y - t->y) < near) {
        t->status = SD_TP_DUPLICATE;
        break;
      }
    }
  }
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
    s = worker_open(run, reg->band, &w[t], t ? NULL : rb, t ? NULL : ra, applied, l->win, err);
  tp_pyramids pyr = {0};
  reg->tp_pyramid = 0;
  if (!s) s = measure_pass(run, w, nt, c, &pyr, levels, PASS_FULL, reg, err);
  int ncoarse = 0;
  for (int i = 0; i < reg->ntp && !s; i++)
    ncoarse += !matched(&reg->tp[i]);
  if (!s && ncoarse && levels > 1) {
    s = pyramids_build(run, w, nt, l->win, levels, ncoarse, &pyr, err);
    reg->tp_pyramid = pyr.built;
    if (!s) s = measure_pass(run, w, nt, c, &pyr, levels, PASS_COARSE, reg, err);
  }
  /* The bands disagree where most textured windows find no clear peak at any level (a few do on
   * any ground, and their gradient adds little there but time). */
  int unclear = 0, clear = 0;
  for (int i = 0; i < reg->ntp && !s; i++) {
    unclear += reg->tp[i].status == SD_TP_UNRELIABLE;
    clear += reg->tp[i].status == SD_TP_KEPT;
  }
  if (!s && unclear > clear) s = measure_pass(run, w, nt, c, &pyr, levels, PASS_GRADIENT, reg, err);
  sd_pyramid_free(&pyr.b);
  sd_pyramid_free(&pyr.a);
  mark_duplicates(reg);
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
