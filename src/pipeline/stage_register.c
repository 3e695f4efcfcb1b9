/* stage_register.c: the registration stage of sd_compare: a global shift from a central chip
 * (coarser levels where the ground is plain), tie points over the grid (stage_tiepoints.c), a
 * robust model with a quality grade and the gate that decides what is applied, folded into the
 * after reader. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/stages.h"

enum { GLOBAL_CHIP = 1024, GLOBAL_MAX_LEVEL = 2 };

/* A global shift is an answer when its peak stands clearly above the rest (ratio >= 3), the chip
 * is at least half valid and the shift is within a quarter of the chip. */
static int global_clear(const sd_shift *g, int cw, int ch) {
  int limit = (cw < ch ? cw : ch) / 4;
  return g->valid_fraction >= 0.5 && g->peak_ratio >= 3.0 && fabs(g->dx) <= limit && fabs(g->dy) <= limit;
}

/* The central chip at one level: cw x ch after binning, from a region 2^level times larger. */
typedef struct chip {
  int level, x, y, w, h;
  float *g; /* non-NULL: match the chips' gradient magnitude (computed here), not the band */
  float *mb, *ma;
  sd_correlator *c;
} chip;

static sd_status chip_open(const sd_run *run, int level, int gradient, int cw, int ch, chip *k, sd_error *err) {
  memset(k, 0, sizeof *k);
  k->level = level;
  k->x = (run->grid.width - (cw << level)) / 2;
  k->y = (run->grid.height - (ch << level)) / 2;
  k->w = cw;
  k->h = ch;
  size_t bytes = (size_t)cw * ch * sizeof(float);
  k->mb = sd_alloc(bytes);
  k->ma = sd_alloc(bytes);
  k->g = gradient ? sd_alloc(bytes) : NULL;
  k->c = sd_correlator_create(cw, ch, run->threads);
  if (!k->mb || !k->ma || (gradient && !k->g) || !k->c)
    return sd_error_set(err, SD_ERR_NOMEM, "register: out of memory");
  return SD_OK;
}

static void chip_close(chip *k) {
  sd_correlator_free(k->c);
  sd_free(k->mb);
  sd_free(k->ma);
  sd_free(k->g);
}

/* Measures the chip with the after reader as it is; the shift in grid pixels. */
static sd_status chip_measure(const sd_run *run, sd_reader *rb, sd_reader *ra, chip *k, sd_shift *out, sd_error *err) {
  sd_status s = sd_run_read_binned(run, rb, ra, k->x, k->y, k->level, k->w, k->h, k->mb, k->ma, err);
  if (!s && k->g) {
    size_t bytes = (size_t)k->w * k->h * sizeof *k->g;
    sd_gradient_magnitude(k->mb, k->w, k->h, k->g);
    memcpy(k->mb, k->g, bytes);
    sd_gradient_magnitude(k->ma, k->w, k->h, k->g);
    memcpy(k->ma, k->g, bytes);
  }
  if (!s) s = sd_correlate(k->c, k->mb, k->ma, out, err);
  out->dx *= 1 << k->level;
  out->dy *= 1 << k->level;
  return s;
}

/* The global model: the translation, with the rotation and scale found with it about the grid
 * centre (the fit's normalisation, so its terms add to a fit's). */
static sd_model global_model(const sd_grid *g, const sd_turn *t, double dx, double dy) {
  if (t->deg == 0 && t->scale_err == 0) return sd_model_translation(dx, dy);
  double a = t->deg * M_PI / 180, k = 1 + t->scale_err;
  double s = 0.5 * (g->width > g->height ? g->width : g->height);
  return (sd_model){.kind = SD_MODEL_AFFINE,
                    .cx = 0.5 * g->width,
                    .cy = 0.5 * g->height,
                    .scale = s,
                    .ax = {dx, s * (k * cos(a) - 1), -s * k * sin(a)},
                    .ay = {dy, s * k * sin(a), s * (k * cos(a) - 1)}};
}

/* A clear first measurement g on chip k becomes the global answer: applied with the rotation,
 * re-measured and corrected until the residual is below 0.002 px at the chip's level. */
static sd_status settle(sd_run *run, sd_registration *reg, sd_reader *rb, sd_reader *ra, chip *k, const sd_turn *turn,
                        const sd_shift *g, sd_error *err) {
  sd_status s = SD_OK;
  reg->global = *g;
  reg->global_level = k->level;
  reg->global_used = 1;
  reg->global_turn = *turn;
  reg->global_dx = g->dx;
  reg->global_dy = g->dy;
  reg->rounds = 1;
  for (int round = 0; round < 2 && !s; round++) {
    sd_model t = global_model(&run->grid, turn, reg->global_dx, reg->global_dy);
    sd_run_set_after_model(run, ra, &t);
    s = chip_measure(run, rb, ra, k, &reg->global_residual, err);
    reg->rounds++;
    double tol = 0.002 * (1 << k->level);
    if (s || (fabs(reg->global_residual.dx) < tol && fabs(reg->global_residual.dy) < tol)) break;
    reg->global_dx += reg->global_residual.dx;
    reg->global_dy += reg->global_residual.dy;
  }
  sd_model t = global_model(&run->grid, turn, reg->global_dx, reg->global_dy);
  sd_run_set_after_model(run, ra, &t);
  return s;
}

/* Where no level shows a clear peak, the after chip is turned (and scaled) about the grid centre
 * before it is matched: 1 degree displaces the edges of a 1024 px chip by 9 px against its
 * centre, 1 % of scale by 5 px, which smears the peak into the rest. Rotations every 0.5 degrees
 * up to 1.5; around the clearest, 0.25 degrees either side, then scales of +-0.5 and 1 %. The
 * result is an answer only when its peak is clear, as for the unturned chip. */
static sd_status rotation_search(sd_run *run, sd_registration *reg, sd_reader *rb, sd_reader *ra, int cw, int ch,
                                 sd_error *err) {
  static const double coarse[] = {-1.5, -1.0, -0.5, 0.5, 1.0, 1.5}, scales[] = {-0.01, -0.005, 0.005, 0.01};
  if (run->opts->model == SD_MODEL_TRANSLATION) return SD_OK; /* --model translation: no rotation at all */
  chip k;
  sd_status s = chip_open(run, 0, 0, cw, ch, &k, err);
  sd_turn best = {0}, centre = {0};
  sd_shift bg = {.peak_ratio = 0};
  for (int i = 0; i < 12 && !s; i++) {
    if (i == 6) centre = best;
    sd_turn t = best;
    if (i < 6)
      t = (sd_turn){coarse[i], 0};
    else if (i < 8)
      t.deg = centre.deg + (i == 6 ? -0.25 : 0.25);
    else
      t.scale_err = scales[i - 8];
    sd_model m = global_model(&run->grid, &t, 0, 0);
    sd_shift g;
    sd_run_set_after_model(run, ra, &m);
    s = chip_measure(run, rb, ra, &k, &g, err);
    if (s || g.valid_fraction < 0.5 || g.peak_ratio <= bg.peak_ratio) continue;
    /* each stage refines the best so far: angles from the coarse winner, scale at the best angle */
    best = t;
    bg = g;
  }
  if (!s && global_clear(&bg, cw, ch)) {
    s = settle(run, reg, rb, ra, &k, &best, &bg, err);
  } else if (!s) {
    sd_model none = {.kind = SD_MODEL_NONE};
    sd_run_set_after_model(run, ra, &none);
  }
  chip_close(&k);
  return s;
}

/* The central chip level by level (the full-resolution chip, then 2 and 4 times larger binned to
 * the same size, as far as the grid holds them) until one shows a clear peak, which is settled. */
static sd_status try_levels(sd_run *run, sd_registration *reg, sd_reader *rb, sd_reader *ra, int cw, int ch,
                            int gradient, sd_error *err) {
  sd_status s = SD_OK;
  for (int level = 0; level <= GLOBAL_MAX_LEVEL && !s && !reg->global_used; level++) {
    if (level > 0 && ((cw << level) > run->grid.width || (ch << level) > run->grid.height)) break;
    chip k;
    sd_shift g;
    s = chip_open(run, level, gradient, cw, ch, &k, err);
    if (!s) s = chip_measure(run, rb, ra, &k, &g, err);
    if (!s && global_clear(&g, cw << level, ch << level)) {
      reg->global_gradient = gradient;
      s = settle(run, reg, rb, ra, &k, &(sd_turn){0, 0}, &g, err);
    } else if (!s && level == 0 && !gradient) {
      reg->global = g; /* the first level's measurement is reported when no level is clear */
      reg->rounds = 1;
    }
    chip_close(&k);
  }
  return s;
}

/* Central chip: its levels; where none shows a clear peak (plain or smooth ground), the rotation
 * search; where that finds none either, the levels again on the chips' gradient magnitude (the
 * bands disagree, another sensor or season, but their edges may still agree). */
static sd_status global_shift(sd_run *run, sd_registration *reg, sd_reader *rb, sd_reader *ra, sd_error *err) {
  int cw = run->grid.width < GLOBAL_CHIP ? run->grid.width : GLOBAL_CHIP;
  int ch = run->grid.height < GLOBAL_CHIP ? run->grid.height : GLOBAL_CHIP;
  reg->chip_w = cw;
  reg->chip_h = ch;
  if (cw < 32 || ch < 32) {
    sd_run_warn(run, "registration: the common grid (%d x %d) is smaller than 32 x 32, no fine registration",
                run->grid.width, run->grid.height);
    return SD_OK;
  }
  sd_status s = try_levels(run, reg, rb, ra, cw, ch, 0, err);
  if (!s && !reg->global_used) s = rotation_search(run, reg, rb, ra, cw, ch, err);
  if (!s && !reg->global_used) s = try_levels(run, reg, rb, ra, cw, ch, 1, err);
  return s;
}

/* Matching runs on one band (green where there are colour bands): it needs texture, not
 * spectra, and reading one band instead of all is most of the stage's time. */
static int registration_band(const sd_run *run) {
  const sd_raster_info *ai = sd_raster_get_info(run->after);
  return run->nbands >= 3 && ai->rgb[1] >= 0 && ai->rgb[1] < run->nbands ? ai->rgb[1] : 0;
}

/* The reasons of the fit, joined. */
static void reasons_of(const sd_fit *f, char *why, size_t len) {
  why[0] = 0;
  for (int i = 0; i < f->nreasons; i++) {
    strncat(why, i ? "; " : "", len - strlen(why) - 1);
    strncat(why, f->reasons[i], len - strlen(why) - 1);
  }
}

/* The tie points with the global shift applied; a coarse fit with a wide band, and where it finds
 * rotation or scale (or, the first time, its points scatter) the windows measured again with that
 * model applied, which takes the rotation out of each window; then the fine fit with the tight
 * band. */
static sd_status fit_tiepoints(sd_run *run, sd_registration *reg, sd_reader *rb, sd_reader *ra, sd_error *err) {
  double t = sd_now();
  sd_model applied = reg->global_used ? global_model(&run->grid, &reg->global_turn, reg->global_dx, reg->global_dy)
                                      : (sd_model){.kind = SD_MODEL_NONE};
  const sd_model base = applied; /* the global rotation, where one was found */
  sd_model_kind forced = (sd_model_kind)run->opts->model;
  sd_status s = sd_stage_tiepoints(run, reg, rb, ra, &applied, err);
  reg->tp_passes = 1;
  /* A rotation the coarse fit found only roughly still smears the windows it is applied to, so
   * the windows are measured once more with the better model (three passes at most). */
  double band = 2.0;
  while (!s && reg->ntp > 0 && reg->tp_passes < 3) {
    sd_fit_robust(reg->tp, reg->ntp, run->grid.width, run->grid.height, forced, band, &base, &reg->fit);
    int rich = reg->fit.model.kind > SD_MODEL_TRANSLATION;
    if (reg->fit.grade == SD_GRADE_FAIL || !(rich || (reg->tp_passes == 1 && reg->fit.rmse > 0.15))) break;
    applied = reg->fit.model;
    s = sd_stage_tiepoints(run, reg, rb, ra, &applied, err);
    reg->tp_passes++;
    band = 1.0;
  }
  reg->tp_seconds = sd_now() - t;
  if (s || reg->ntp == 0) return s;
  sd_fit_robust(reg->tp, reg->ntp, run->grid.width, run->grid.height, forced, 0.35, &base, &reg->fit);
  /* A translation is best measured on the whole central chip, which holds more ground than any
   * window; the tie points then confirm it (their model within the inlier band). Tried against
   * the tie points' own translation on 40 generated scenes (512² and 1024², plain to busy, noise
   * 10-60): as good at 1024², better at 512² (RMS 0.033 against 0.045 px). */
  sd_fit *f = &reg->fit;
  if (f->model.kind == SD_MODEL_TRANSLATION && reg->global_used && reg->global_turn.deg == 0 &&
      reg->global_turn.scale_err == 0 &&
      hypot(f->model.ax[0] - reg->global_dx, f->model.ay[0] - reg->global_dy) <= 0.35) {
    f->model.ax[0] = reg->global_dx;
    f->model.ay[0] = reg->global_dy;
    strncat(f->why_model, "; value from the central chip, which the tie points confirm",
            sizeof f->why_model - strlen(f->why_model) - 1);
  }
  return SD_OK;
}

/* The gate. A global shift with a clear peak is an answer: when the tie points cannot carry a
 * model (too few agree, none where the grid has no room for windows), that translation is applied
 * with grade warn, saying why. Only when neither can be trusted is nothing applied (fail). */
static sd_status gate(sd_run *run, sd_registration *reg, sd_error *err) {
  sd_fit *f = &reg->fit;
  if (reg->ntp == 0) {
    f->grade = SD_GRADE_FAIL;
    f->rmse = NAN;
    snprintf(f->reasons[f->nreasons++], sizeof f->reasons[0], "the grid is too small for tie-point windows");
  }
  if (f->grade == SD_GRADE_FAIL && reg->global_used) {
    char why[1024];
    reasons_of(f, why, sizeof why);
    f->grade = SD_GRADE_WARN;
    f->model = global_model(&run->grid, &reg->global_turn, reg->global_dx, reg->global_dy);
    f->nreasons = 0;
    snprintf(f->reasons[f->nreasons++], sizeof f->reasons[0],
             "tie points carry no model (%.160s); the central chip's global shift (peak ratio %.1f) is applied", why,
             reg->global.peak_ratio);
    snprintf(f->why_model, sizeof f->why_model, "global phase correlation of the central chip%s",
             reg->global_level ? " at a coarser level" : "");
    if (f->model.kind == SD_MODEL_AFFINE)
      snprintf(f->why_model + strlen(f->why_model), sizeof f->why_model - strlen(f->why_model),
               ", turned by %+.2f degrees and scaled by %+.1f %%", reg->global_turn.deg,
               100 * reg->global_turn.scale_err);
  }
  if (f->grade == SD_GRADE_FAIL) {
    char why[1024];
    reasons_of(f, why, sizeof why);
    if (run->opts->strict)
      return sd_error_set(err, SD_ERR_INPUT, "registration: grade fail (%s); --strict stops here", why);
    sd_run_warn(run,
                "REGISTRATION FAILED (%s; no clear global shift either): no fine correction applied, changes "
                "may be misregistration",
                why);
    reg->model = (sd_model){.kind = SD_MODEL_NONE};
    return SD_OK;
  }
  reg->model = f->model;
  reg->registered = 1;
  if (f->grade == SD_GRADE_WARN)
    for (int i = 0; i < f->nreasons; i++)
      sd_run_warn(run, "registration: %s", f->reasons[i]);
  return SD_OK;
}

/* The applied displacement at the grid centre and its range over the corners. */
static void summarise(const sd_grid *g, sd_registration *reg) {
  sd_model_displacement(&reg->model, 0.5 * g->width, 0.5 * g->height, &reg->dx, &reg->dy);
  reg->dx = round(reg->dx * 1000) / 1000;
  reg->dy = round(reg->dy * 1000) / 1000;
  reg->dx_range[0] = reg->dy_range[0] = INFINITY;
  reg->dx_range[1] = reg->dy_range[1] = -INFINITY;
  for (int k = 0; k < 4; k++) {
    double dx, dy;
    sd_model_displacement(&reg->model, (k & 1) * g->width, (k >> 1) * g->height, &dx, &dy);
    reg->dx_range[0] = fmin(reg->dx_range[0], dx);
    reg->dx_range[1] = fmax(reg->dx_range[1], dx);
    reg->dy_range[0] = fmin(reg->dy_range[0], dy);
    reg->dy_range[1] = fmax(reg->dy_range[1], dy);
  }
}

sd_status sd_stage_register(sd_run *run, sd_registration *reg, sd_error *err) {
  memset(reg, 0, sizeof *reg);
  reg->status = "disabled";
  if (!run->opts->do_register) return SD_OK;
  reg->band = registration_band(run);
  sd_reader *rb = NULL, *ra = NULL;
  sd_status s = sd_reader_create_band(run->before, &run->grid, reg->band, run->threads, &rb, err);
  if (!s) s = sd_reader_create_band(run->after, &run->grid, reg->band, run->threads, &ra, err);
  double t = sd_now();
  if (!s) s = global_shift(run, reg, rb, ra, err);
  reg->global_seconds = sd_now() - t;
  if (!s) s = fit_tiepoints(run, reg, rb, ra, err);
  if (!s) s = gate(run, reg, err);
  sd_reader_free(rb);
  sd_reader_free(ra);
  if (s) return s;
  sd_run_set_after_model(run, run->ra, &reg->model);
  reg->status = reg->registered ? "applied" : "not applied";
  summarise(&run->grid, reg);
  sd_run_progress(run, "registration %s, grade %s: %s, dx %.3f, dy %.3f px at the centre, %d of %d tie points kept",
                  reg->status, sd_grade_name(reg->fit.grade), sd_model_name(reg->model.kind), reg->dx, reg->dy,
                  reg->fit.inliers, reg->ntp);
  return SD_OK;
}

void sd_registration_free(sd_registration *reg) {
  free(reg->tp);
  reg->tp = NULL;
}
