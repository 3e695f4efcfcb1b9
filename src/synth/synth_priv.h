/* synth_priv.h: the renderer `sitediff synth` shares between its pair and its series (private). */
#ifndef SD_SYNTH_PRIV_H
#define SD_SYNTH_PRIV_H

#include "io/io.h"
#include "sitediff/sitediff.h"
#include "synth/scene.h"

/* One image to render: its grid, and how its content sits on the scene. */
typedef struct image_spec {
  sd_grid grid;
  int after;                          /* renders the after state (the scene's shown changes) with gain, offset */
  int noise_id;                       /* each image its own noise */
  int nodata;                         /* 0 is nodata (set on the file); clouds need it */
  double cloud[4];                    /* u0, v0, u1, v1 metres: nodata there (empty when u1 <= u0) */
  double dx_m, dv_m;                  /* content shift in metres (u east, v south) */
  double cos_r, sin_r, scale, cu, cv; /* content rotation and scale about (cu, cv) */
  double footprint;                   /* pixel footprint in pixels: 1 = box of one pixel */
  float gain[4], offset[4];
} image_spec;

/* Renders im of the scene to path (UInt16, o->bands bands); local_wkt is the scene's CRS, whose
 * point (X0, Y0) is the scene's (u, v) = (0, 0). */
sd_status sd_synth_render(const sd_synth_options *o, const sd_scene *sc, const image_spec *im, const char *local_wkt,
                          double X0, double Y0, const char *path, sd_error *err);

/* The grid in the CRS awkt (pixels of about pa metres) that covers the scene's u0..u1, v0..v1. */
sd_status sd_synth_crs_grid(const char *utm, const char *awkt, int epsg, double X0, double Y0, double u0, double v0,
                            double u1, double v1, double pa, sd_grid *g, sd_error *err);

/* `synth --series N`: see sd_synth_options.series. */
sd_status sd_synth_series(const sd_synth_options *o, sd_error *err);

#endif
