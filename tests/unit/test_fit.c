/* test_fit.c: the robust registration fit: known fields with noise and outliers, the model
 * rule (translation / affine / poly2), and the grade. */
#include <math.h>
#include <string.h>

#include "../check.h"
#include "register/register.h"

enum { W = 2000, H = 1600 };

typedef void field_fn(double x, double y, double *dx, double *dy);

static void f_shift(double x, double y, double *dx, double *dy) {
  (void)x;
  (void)y;
  *dx = 1.25;
  *dy = -0.7;
}

/* 0.5 degree rotation and 0.4 % scale about the centre, plus a shift. */
static void f_affine(double x, double y, double *dx, double *dy) {
  double a = 0.5 * M_PI / 180, s = 1.004, u = x - W / 2.0, v = y - H / 2.0;
  *dx = 0.3 + s * (cos(a) * u - sin(a) * v) - u;
  *dy = -0.2 + s * (sin(a) * u + cos(a) * v) - v;
}

static void f_quad(double x, double y, double *dx, double *dy) {
  double u = (x - W / 2.0) / 1000, v = (y - H / 2.0) / 1000;
  *dx = 0.5 + 0.8 * u * u - 0.5 * u * v;
  *dy = -0.3 + 0.6 * v * v + 0.4 * u;
}

/* n x n lattice of points on the field, noise sigma px, every k-th point an outlier (k = 0:
 * none); returns the worst model error over the grid corners and centre. */
static double run(field_fn *field, int n, double noise, int k, sd_model_kind forced, sd_fit *fit, int *flagged) {
  sd_tiepoint tp[400];
  sd_rng r = {7};
  int m = 0;
  for (int j = 0; j < n; j++)
    for (int i = 0; i < n; i++, m++) {
      memset(&tp[m], 0, sizeof tp[m]);
      tp[m].x = 100 + i * (W - 200.0) / (n - 1);
      tp[m].y = 100 + j * (H - 200.0) / (n - 1);
      field(tp[m].x, tp[m].y, &tp[m].dx, &tp[m].dy);
      tp[m].dx += noise * sd_rng_normal(&r);
      tp[m].dy += noise * sd_rng_normal(&r);
      if (k && m % k == 0) tp[m].dx += 3.0;
      tp[m].status = SD_TP_KEPT;
    }
  sd_fit_robust(tp, m, W, H, forced, 0.35, NULL, fit);
  *flagged = 0;
  for (int i = 0; i < m; i++)
    if (k && i % k == 0) *flagged += tp[i].status == SD_TP_OUTLIER;
  double worst = 0;
  const double pts[5][2] = {{0, 0}, {W, 0}, {0, H}, {W, H}, {W / 2.0, H / 2.0}};
  for (int p = 0; p < 5; p++) {
    double tx, ty, mx, my;
    field(pts[p][0], pts[p][1], &tx, &ty);
    sd_model_displacement(&fit->model, pts[p][0], pts[p][1], &mx, &my);
    worst = fmax(worst, hypot(tx - mx, ty - my));
  }
  return worst;
}

int main(void) {
  sd_fit f;
  int flagged;
  double e = run(f_shift, 6, 0.05, 0, SD_MODEL_NONE, &f, &flagged);
  CHECK(f.model.kind == SD_MODEL_TRANSLATION, "pure shift: model %s (%s)", sd_model_name(f.model.kind), f.why_model);
  CHECK(e < 0.05, "pure shift: error %.3f px", e);
  CHECK(f.grade == SD_GRADE_OK, "pure shift: grade %s", sd_grade_name(f.grade));

  e = run(f_affine, 8, 0.05, 5, SD_MODEL_NONE, &f, &flagged);
  CHECK(f.model.kind == SD_MODEL_AFFINE, "affine field: model %s (%s)", sd_model_name(f.model.kind), f.why_model);
  CHECK(e < 0.1, "affine field: error %.3f px at the corners", e);
  CHECK(flagged == 13, "affine field: %d of 13 outliers flagged", flagged);
  CHECK(f.rmse < 0.1, "affine field: inlier RMSE %.3f", f.rmse);

  e = run(f_quad, 10, 0.03, 0, SD_MODEL_NONE, &f, &flagged);
  CHECK(f.model.kind == SD_MODEL_POLY2, "quadratic field: model %s (%s)", sd_model_name(f.model.kind), f.why_model);
  CHECK(e < 0.1, "quadratic field: error %.3f px", e);

  /* Too few points for poly2: the rule keeps to a model the points can carry. */
  run(f_quad, 4, 0.03, 0, SD_MODEL_NONE, &f, &flagged);
  CHECK(f.model.kind != SD_MODEL_POLY2, "16 points must not give poly2");
  /* A forced model: affine on a pure shift fits (and finds no rotation); translation forced on
   * a rotated field leaves the points scattered, and the grade says so. */
  e = run(f_shift, 6, 0.05, 0, SD_MODEL_AFFINE, &f, &flagged);
  CHECK(f.model.kind == SD_MODEL_AFFINE && e < 0.1, "forced affine on a shift: %s, error %.3f",
        sd_model_name(f.model.kind), e);
  run(f_affine, 8, 0.05, 0, SD_MODEL_TRANSLATION, &f, &flagged);
  CHECK(f.grade == SD_GRADE_FAIL, "forced translation on a rotation: grade %s", sd_grade_name(f.grade));

  /* Nothing reliable: fail, no model. */
  sd_tiepoint tp[9];
  memset(tp, 0, sizeof tp);
  for (int i = 0; i < 9; i++)
    tp[i].status = i < 4 ? SD_TP_UNRELIABLE : SD_TP_FEATURELESS;
  sd_fit_robust(tp, 9, W, H, SD_MODEL_NONE, 0.35, NULL, &f);
  CHECK(f.grade == SD_GRADE_FAIL && f.model.kind == SD_MODEL_NONE, "no reliable point: grade %s, model %s",
        sd_grade_name(f.grade), sd_model_name(f.model.kind));
  CHECK(f.nreasons > 0 && strstr(f.reasons[0], "no reliable tie point"), "no reason given");
  /* Points that disagree (random shifts): no consensus, fail. */
  sd_rng r = {3};
  sd_tiepoint rnd[30];
  memset(rnd, 0, sizeof rnd);
  for (int i = 0; i < 30; i++) {
    rnd[i].x = sd_rng_range(&r, 0, W);
    rnd[i].y = sd_rng_range(&r, 0, H);
    rnd[i].dx = sd_rng_range(&r, -20, 20);
    rnd[i].dy = sd_rng_range(&r, -20, 20);
    rnd[i].status = SD_TP_KEPT;
  }
  sd_fit_robust(rnd, 30, W, H, SD_MODEL_NONE, 0.35, NULL, &f);
  CHECK(f.grade == SD_GRADE_FAIL, "random shifts: grade %s (%d inliers)", sd_grade_name(f.grade), f.inliers);

  /* The tie-point layout adapts to the grid and stays within it. */
  sd_tp_layout l;
  CHECK(sd_tp_layout_make(4096, 4096, 0, 0, &l) && l.win == 256 && l.nx <= 8 && l.ny <= 8, "4096 layout");
  CHECK(l.x0 >= 0 && l.x0 + (l.nx - 1) * l.spacing + l.win <= 4096, "4096 layout leaves the grid");
  CHECK(sd_tp_layout_make(300, 200, 0, 0, &l) && l.win == 64, "small layout: window %d", l.win);
  CHECK(!sd_tp_layout_make(50, 50, 0, 0, &l), "a 50 x 50 grid has no room for 64-px windows");
  return check_done("test_fit");
}
