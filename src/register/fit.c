/* fit.c: the registration model from tie points: RANSAC, least squares, a stated rule for the
 * model's order, and the quality grade with its reasons. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "register/register.h"

/* Tie points whose positions spread (standard deviation) over less than this share of the grid on
 * an axis cluster: the grade warns, and no affine model is fitted to them. */
#define CLUSTERED 0.1

const char *sd_grade_name(sd_grade g) {
  static const char *const names[] = {"ok", "warn", "fail"};
  return g <= SD_GRADE_FAIL ? names[g] : "?";
}

/* Solves the n x n system a x = b in place (partial pivoting); 0 if singular. */
static int solve(double a[SD_MODEL_MAX_TERMS][SD_MODEL_MAX_TERMS], double *b, int n) {
  for (int c = 0; c < n; c++) {
    int p = c;
    for (int r = c + 1; r < n; r++)
      if (fabs(a[r][c]) > fabs(a[p][c])) p = r;
    if (fabs(a[p][c]) < 1e-12) return 0;
    if (p != c) {
      for (int k = 0; k < n; k++) {
        double t = a[c][k];
        a[c][k] = a[p][k];
        a[p][k] = t;
      }
      double t = b[c];
      b[c] = b[p];
      b[p] = t;
    }
    for (int r = c + 1; r < n; r++) {
      double f = a[r][c] / a[c][c];
      for (int k = c; k < n; k++)
        a[r][k] -= f * a[c][k];
      b[r] -= f * b[c];
    }
  }
  for (int c = n - 1; c >= 0; c--) {
    for (int k = c + 1; k < n; k++)
      b[c] -= a[c][k] * b[k];
    b[c] /= a[c][c];
  }
  return 1;
}

/* Least squares over the points idx[0..m); a point measured on a coarser level weighs less, by
 * its pixel size there (its error grows with it; by the square, a few full-resolution points on
 * changed ground outweighed the rest on a plain rotated scene and the fit failed). */
static int fit_indices(const sd_tiepoint *tp, const int *idx, int m, sd_model_kind kind, double cx, double cy,
                       double scale, sd_model *out) {
  int nt = sd_model_terms(kind);
  memset(out, 0, sizeof *out);
  out->kind = kind;
  out->cx = cx;
  out->cy = cy;
  out->scale = scale;
  if (m < nt) return 0;
  double ata[SD_MODEL_MAX_TERMS][SD_MODEL_MAX_TERMS] = {{0}}, ata2[SD_MODEL_MAX_TERMS][SD_MODEL_MAX_TERMS];
  double bx[SD_MODEL_MAX_TERMS] = {0}, by[SD_MODEL_MAX_TERMS] = {0};
  for (int i = 0; i < m; i++) {
    const sd_tiepoint *t = &tp[idx[i]];
    double phi[SD_MODEL_MAX_TERMS], wt = 1.0 / (double)(1 << t->level);
    sd_model_basis(out, t->x, t->y, phi);
    for (int r = 0; r < nt; r++) {
      for (int c = 0; c < nt; c++)
        ata[r][c] += wt * phi[r] * phi[c];
      bx[r] += wt * phi[r] * t->dx;
      by[r] += wt * phi[r] * t->dy;
    }
  }
  memcpy(ata2, ata, sizeof ata);
  if (!solve(ata, bx, nt) || !solve(ata2, by, nt)) return 0;
  memcpy(out->ax, bx, sizeof(double) * nt);
  memcpy(out->ay, by, sizeof(double) * nt);
  return 1;
}

static double residual(const sd_tiepoint *t, const sd_model *m) {
  double dx, dy;
  sd_model_displacement(m, t->x, t->y, &dx, &dy);
  return hypot(t->dx - dx, t->dy - dy);
}

static double rmse_of(const sd_tiepoint *tp, const int *idx, int m, const sd_model *model) {
  double s = 0;
  for (int i = 0; i < m; i++) {
    double r = residual(&tp[idx[i]], model);
    s += r * r;
  }
  return m ? sqrt(s / m) : NAN;
}

/* RMSE per degree of freedom: 2m observations, 2 * terms parameters. Comparing raw RMSE would
 * always favour the richer model. */
static double adjusted_rmse(double rmse, int m, sd_model_kind kind) {
  int dof = 2 * m - 2 * sd_model_terms(kind);
  return dof > 0 ? rmse * sqrt(2.0 * m / dof) : INFINITY;
}

static void add_reason(sd_fit *f, sd_grade g, const char *fmt, ...) {
  if (g > f->grade) f->grade = g;
  if (f->nreasons >= 6) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(f->reasons[f->nreasons++], sizeof f->reasons[0], fmt, ap);
  va_end(ap);
}

/* Inliers of `model` among the reliable points (status KEPT or OUTLIER), into idx. */
static int inliers_of(sd_tiepoint *tp, int n, const sd_model *model, double band, int *idx) {
  int m = 0;
  for (int i = 0; i < n; i++) {
    if (tp[i].status != SD_TP_KEPT && tp[i].status != SD_TP_OUTLIER) continue;
    tp[i].fit_residual = residual(&tp[i], model);
    tp[i].status = tp[i].fit_residual <= band ? SD_TP_KEPT : SD_TP_OUTLIER;
    if (tp[i].status == SD_TP_KEPT) idx[m++] = i;
  }
  return m;
}

/* The grid the points lie on and the normalisation every candidate model uses. */
typedef struct fit_frame {
  int width, height;
  double cx, cy, scale;
} fit_frame;

/* RANSAC over minimal samples of the reliable points rel[0..nrel); deterministic draws so runs
 * repeat exactly. The model agreeing with the most points within `band` (ties: the smaller sum of
 * residuals). */
static sd_model ransac(const sd_tiepoint *tp, const int *rel, int nrel, double band, const fit_frame *fr) {
  sd_model_kind hyp = nrel >= 6 ? SD_MODEL_AFFINE : SD_MODEL_TRANSLATION;
  int need = sd_model_terms(hyp), best_count = -1;
  double best_sum = INFINITY;
  sd_model best = {0};
  sd_rng rng = {0x5eedULL};
  int iters = hyp == SD_MODEL_TRANSLATION ? nrel : 400;
  for (int it = 0; it < iters; it++) {
    int pick[3];
    if (hyp == SD_MODEL_TRANSLATION) {
      pick[0] = rel[it];
    } else {
      for (int k = 0; k < need; k++) {
        int again;
        do {
          pick[k] = rel[sd_rng_next(&rng) % (uint64_t)nrel];
          again = 0;
          for (int j = 0; j < k; j++)
            again |= pick[j] == pick[k];
        } while (again);
      }
    }
    sd_model m;
    if (!fit_indices(tp, pick, need, hyp, fr->cx, fr->cy, fr->scale, &m)) continue;
    int count = 0;
    double sum = 0;
    for (int i = 0; i < nrel; i++) {
      double r = residual(&tp[rel[i]], &m);
      if (r <= band) {
        count++;
        sum += r;
      }
    }
    if (count > best_count || (count == best_count && sum < best_sum)) {
      best_count = count;
      best_sum = sum;
      best = m;
    }
  }
  return best;
}

/* Spread of the m points listed in idx along each axis, as a fraction of the grid. */
static void spread_of(const sd_tiepoint *tp, const int *idx, int m, int width, int height, sd_fit *f) {
  double sx = 0, sy = 0, sxx = 0, syy = 0;
  for (int i = 0; i < m; i++) {
    sx += tp[idx[i]].x;
    sy += tp[idx[i]].y;
    sxx += tp[idx[i]].x * tp[idx[i]].x;
    syy += tp[idx[i]].y * tp[idx[i]].y;
  }
  f->spread_x = sqrt(fmax(sxx / m - (sx / m) * (sx / m), 0)) / width;
  f->spread_y = sqrt(fmax(syy / m - (sy / m) * (sy / m), 0)) / height;
}

/* Index (0 translation, 1 affine, 2 poly2) of the candidate the rule takes, with its reason in
 * f->why_model; ok[k] says which candidates could be fitted, f->rmse_by_kind holds their RMSE. */
static int pick_model(sd_fit *f, const int ok[3], int m, sd_model_kind forced) {
  int pickk = 0;
  if (forced != SD_MODEL_NONE) {
    pickk = forced - SD_MODEL_TRANSLATION;
    if (!ok[pickk]) pickk = ok[1] && forced == SD_MODEL_POLY2 ? 1 : 0;
    snprintf(f->why_model, sizeof f->why_model, "%s asked for%s", sd_model_name(forced),
             pickk + 1 != (int)forced ? "; too few or too clustered points, fell back" : "");
    return pickk;
  }
  snprintf(f->why_model, sizeof f->why_model, "translation: no richer model lowers the error enough");
  for (int k = 1; k < 3; k++) {
    if (!ok[k]) continue;
    double prev = adjusted_rmse(f->rmse_by_kind[pickk + 1], m, pickk + 1);
    double cur = adjusted_rmse(f->rmse_by_kind[k + 1], m, k + 1);
    if (cur < 0.75 * prev && prev - cur >= 0.02) {
      snprintf(f->why_model, sizeof f->why_model, "%s: %.3f px RMSE per degree of freedom against %.3f px for %s",
               sd_model_name(k + 1), cur, prev, sd_model_name(pickk + 1));
      pickk = k;
    }
  }
  return pickk;
}

/* The rule: translation always; affine with >= 8 inliers spread over >= CLUSTERED of the grid on
 * both axes (15 % made plain, noisy ground with a rotation fall back to a translation: README,
 * "Registration"); poly2 with >= 30 inliers spread over >= 20 % (window errors are not
 * independent: with fewer points a polynomial fits their biases). A richer model is taken when it
 * lowers the inlier RMSE per degree of freedom by a quarter and by at least 0.02 px. Refits on the
 * chosen model's inliers until they stop changing (3 rounds at most); sets f->model, f->inliers,
 * f->rmse and leaves the inliers in idx. */
static void choose_model(sd_tiepoint *tp, int n, const fit_frame *fr, sd_model_kind forced, double band,
                         const sd_model *start, int *idx, sd_fit *f) {
  const double cx = fr->cx, cy = fr->cy, scale = fr->scale;
  sd_model chosen = *start;
  int m = inliers_of(tp, n, start, band, idx);
  for (int round = 0; round < 3 && m > 0; round++) {
    spread_of(tp, idx, m, fr->width, fr->height, f);
    sd_model cand[3];
    int ok[3] = {0};
    ok[0] = fit_indices(tp, idx, m, SD_MODEL_TRANSLATION, cx, cy, scale, &cand[0]);
    ok[1] = m >= 8 && f->spread_x >= CLUSTERED && f->spread_y >= CLUSTERED &&
            fit_indices(tp, idx, m, SD_MODEL_AFFINE, cx, cy, scale, &cand[1]);
    ok[2] = m >= 30 && f->spread_x >= 0.2 && f->spread_y >= 0.2 &&
            fit_indices(tp, idx, m, SD_MODEL_POLY2, cx, cy, scale, &cand[2]);
    for (int k = 0; k < 3; k++)
      f->rmse_by_kind[k + 1] = ok[k] ? rmse_of(tp, idx, m, &cand[k]) : NAN;
    chosen = cand[pick_model(f, ok, m, forced)];
    int m2 = inliers_of(tp, n, &chosen, band, idx);
    if (m2 == m) break;
    m = m2;
  }
  f->model = chosen;
  f->inliers = m;
  f->rmse = rmse_of(tp, idx, m, &chosen);
}

/* The grade and its reasons, from the fit's inliers, scatter and spread. */
static void grade_fit(sd_fit *f, int nrel, int with_data) {
  const int m = f->inliers;
  if (m < 3)
    add_reason(f, SD_GRADE_FAIL, "only %d tie point%s agree on a model", m, m == 1 ? "" : "s");
  else if (m < 6)
    add_reason(f, SD_GRADE_WARN, "only %d tie points agree on the model", m);
  if (f->rmse > 1.0)
    add_reason(f, SD_GRADE_FAIL, "tie points scatter %.2f px around the model", f->rmse);
  else if (f->rmse > 0.3)
    add_reason(f, SD_GRADE_WARN, "tie points scatter %.2f px around the model", f->rmse);
  if (m < 0.5 * nrel) add_reason(f, SD_GRADE_WARN, "%d of %d reliable tie points are outliers", nrel - m, nrel);
  if (with_data > 0 && nrel < 0.5 * with_data)
    add_reason(f, SD_GRADE_WARN, "only %d of %d textured windows matched clearly (changed or destroyed ground?)", nrel,
               with_data);
  if (m >= 3 && (f->spread_x < CLUSTERED || f->spread_y < CLUSTERED))
    add_reason(f, SD_GRADE_WARN, "tie points cluster in a small part of the grid");
  if (f->grade == SD_GRADE_FAIL) f->model.kind = SD_MODEL_NONE;
}

/* base (translation or affine) in the frame's normalisation, so its terms add to a fit's. */
static sd_model reframe(const sd_model *b, const fit_frame *fr) {
  sd_model m = {.kind = b->kind, .cx = fr->cx, .cy = fr->cy, .scale = fr->scale};
  m.ax[0] = b->ax[0];
  m.ay[0] = b->ay[0];
  if (b->kind == SD_MODEL_AFFINE) {
    double ou = (fr->cx - b->cx) / b->scale, ov = (fr->cy - b->cy) / b->scale, k = fr->scale / b->scale;
    m.ax[0] += b->ax[1] * ou + b->ax[2] * ov;
    m.ay[0] += b->ay[1] * ou + b->ay[2] * ov;
    m.ax[1] = b->ax[1] * k;
    m.ax[2] = b->ax[2] * k;
    m.ay[1] = b->ay[1] * k;
    m.ay[2] = b->ay[2] * k;
  }
  return m;
}

/* Moves every point's displacement by sign times the base's. */
static void offset_points(sd_tiepoint *tp, int n, const sd_model *base, double sign) {
  for (int i = 0; i < n; i++) {
    double bx, by;
    sd_model_displacement(base, tp[i].x, tp[i].y, &bx, &by);
    tp[i].dx += sign * bx;
    tp[i].dy += sign * by;
  }
}

void sd_fit_robust(sd_tiepoint *tp, int n, int width, int height, sd_model_kind forced, double band,
                   const sd_model *base, sd_fit *f) {
  memset(f, 0, sizeof *f);
  f->forced = forced;
  for (int k = 0; k < 4; k++)
    f->rmse_by_kind[k] = NAN;
  const fit_frame fr = {width, height, 0.5 * width, 0.5 * height, 0.5 * (width > height ? width : height)};
  int rel[1024], nrel = 0, with_data = 0;
  for (int i = 0; i < n; i++) {
    /* an earlier fit of the same points may have marked some outliers: they are reliable still */
    int reliable = tp[i].status == SD_TP_KEPT || tp[i].status == SD_TP_OUTLIER;
    if (reliable && nrel < 1024) rel[nrel++] = i;
    if (reliable || tp[i].status == SD_TP_UNRELIABLE) with_data++;
  }
  f->reliable = nrel;
  f->model.kind = SD_MODEL_NONE;
  if (nrel == 0) {
    add_reason(f, SD_GRADE_FAIL, "no reliable tie point (%d windows had data and texture, none matched clearly)",
               with_data);
    return;
  }
  const sd_model b = base && base->kind == SD_MODEL_AFFINE ? reframe(base, &fr) : (sd_model){.kind = SD_MODEL_NONE};
  if (b.kind) offset_points(tp, n, &b, -1);
  sd_model best = ransac(tp, rel, nrel, band, &fr);
  int idx[1024];
  choose_model(tp, n, &fr, forced, band, &best, idx, f);
  grade_fit(f, nrel, with_data);
  if (!b.kind) return;
  offset_points(tp, n, &b, 1);
  if (f->model.kind == SD_MODEL_NONE) return;
  for (int k = 0; k < 3; k++) {
    f->model.ax[k] += b.ax[k];
    f->model.ay[k] += b.ay[k];
  }
  if (f->model.kind == SD_MODEL_TRANSLATION) f->model.kind = SD_MODEL_AFFINE;
  strncat(f->why_model, ", on the global rotation", sizeof f->why_model - strlen(f->why_model) - 1);
}
