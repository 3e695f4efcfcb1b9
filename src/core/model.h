/* model.h: the registration model, a displacement field over the grid (translation, affine or
 * second-order polynomial). A feature at grid pixel (x, y) of the before image sits at
 * (x + dx, y + dy) in the after image as georeferenced. */
#ifndef SD_MODEL_H
#define SD_MODEL_H

typedef enum sd_model_kind {
  SD_MODEL_NONE = 0,
  SD_MODEL_TRANSLATION, /* 1 term per axis */
  SD_MODEL_AFFINE,      /* 3 terms: 1, u, v */
  SD_MODEL_POLY2,       /* 6 terms: 1, u, v, u^2, u*v, v^2 */
} sd_model_kind;

enum { SD_MODEL_MAX_TERMS = 6 };

typedef struct sd_model {
  sd_model_kind kind;
  double cx, cy, scale; /* u = (x - cx) / scale, v = (y - cy) / scale keep the fit well conditioned */
  double ax[SD_MODEL_MAX_TERMS], ay[SD_MODEL_MAX_TERMS];
} sd_model;

int sd_model_terms(sd_model_kind kind);
const char *sd_model_name(sd_model_kind kind);
/* The basis functions at (x, y). */
void sd_model_basis(const sd_model *m, double x, double y, double *phi);
void sd_model_displacement(const sd_model *m, double x, double y, double *dx, double *dy);
/* A pure translation. */
sd_model sd_model_translation(double dx, double dy);

#endif
