/* model.c: evaluating the registration displacement model. */
#include <string.h>

#include "core/model.h"

int sd_model_terms(sd_model_kind kind) {
  switch (kind) {
  case SD_MODEL_NONE: return 0;
  case SD_MODEL_TRANSLATION: return 1;
  case SD_MODEL_AFFINE: return 3;
  case SD_MODEL_POLY2: return 6;
  }
  return 0;
}

const char *sd_model_name(sd_model_kind kind) {
  static const char *const names[] = {"none", "translation", "affine", "poly2"};
  return kind <= SD_MODEL_POLY2 ? names[kind] : "?";
}

void sd_model_basis(const sd_model *m, double x, double y, double *phi) {
  double s = m->scale > 0 ? m->scale : 1.0;
  double u = (x - m->cx) / s, v = (y - m->cy) / s;
  phi[0] = 1;
  phi[1] = u;
  phi[2] = v;
  phi[3] = u * u;
  phi[4] = u * v;
  phi[5] = v * v;
}

void sd_model_displacement(const sd_model *m, double x, double y, double *dx, double *dy) {
  int n = sd_model_terms(m->kind);
  double phi[SD_MODEL_MAX_TERMS];
  sd_model_basis(m, x, y, phi);
  double sx = 0, sy = 0;
  for (int k = 0; k < n; k++) {
    sx += m->ax[k] * phi[k];
    sy += m->ay[k] * phi[k];
  }
  *dx = sx;
  *dy = sy;
}

sd_model sd_model_translation(double dx, double dy) {
  sd_model m;
  memset(&m, 0, sizeof m);
  m.kind = SD_MODEL_TRANSLATION;
  m.scale = 1;
  m.ax[0] = dx;
  m.ay[0] = dy;
  return m;
}
