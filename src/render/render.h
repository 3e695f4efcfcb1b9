/* render.h: the overlay: after image stretched, changed pixels tinted, objects outlined. */
#ifndef SD_RENDER_H
#define SD_RENDER_H

#include <stdint.h>

#include "core/core.h"
#include "detect/objects.h"

/* An RGB8 drawing surface. */
typedef struct sd_canvas {
  int w, h;
  uint8_t *rgb;
} sd_canvas;

/* font.c: 5 x 7 text scaled by an integer, optionally with a dark outline. */
int sd_text_width(const char *s, int scale);
void sd_draw_text(sd_canvas *cv, int x, int y, const char *s, int scale, const uint8_t rgb[3], int outline);
void sd_fill_rect(sd_canvas *cv, int x0, int y0, int x1, int y1, const uint8_t rgb[3]);

/* A downsampled preview built while the blocks stream past: grid pixels are averaged in
 * factor x factor boxes. */
typedef struct sd_overlay {
  int grid_w, grid_h, factor, w, h;
  float lo[3], hi[3];               /* contrast stretch per display channel, after */
  float lo_before[3], hi_before[3]; /* and before (triptych) */
  float *sum;                       /* w*h*3, the after image */
  float *sum_before;                /* w*h*3, the before image (the triptych's and the page's) */
  int triptych;                     /* overlay.png is before | after | change */
  uint32_t *count;                  /* w*h valid grid pixels per box, after */
  uint32_t *count_before;           /* and before */
  double pixel_m;                   /* ground size of one output pixel; 0 when not georeferenced */
  uint8_t *aoi;                     /* w*h area ids (--aoi; 0 outside), or NULL: outside dimmed, edges drawn */
} sd_overlay;

sd_status sd_overlay_init(sd_overlay *ov, int grid_w, int grid_h, int max_side, int triptych, sd_error *err);
/* rgb: three planes of the block (rows y0..y0+rows-1 of the grid, full width); before may be
 * NULL (no triptych). */
void sd_overlay_add(sd_overlay *ov, const float *const rgb[3], const float *const before[3], int y0, int rows);
/* The object marking each output pixel's box of factor x factor grid pixels: any object pixel in
 * a box marks it, so small objects stay visible when downsampled; the largest id wins, which is
 * deterministic. From a label image (w x h ids into olab); sd_runs_boxes does it from runs. */
void sd_overlay_box_labels(const sd_overlay *ov, const int32_t *labels, int32_t *olab);
/* A rank number the overlay draws: its ink box (the text and its one-pixel halo) in the overlay
 * panel's pixels (the triptych's third panel starts x_offset further right). */
enum { SD_LABELS_MAX = 300 };
typedef struct sd_ov_label {
  int rank, id, x, y, w, h;
} sd_ov_label;
typedef struct sd_overlay_labels {
  int n, scale, x_offset, factor; /* factor: grid pixels per overlay pixel */
  sd_ov_label label[SD_LABELS_MAX];
} sd_overlay_labels;
/* How many labels a panel of w x h output pixels carries at a text scale: one per 60 x 60 pixels
 * at scale 1 (a quarter of that at scale 2), 1 to SD_LABELS_MAX. */
int sd_overlay_label_budget(int panel_w, int panel_h, int scale);
/* Places up to max_labels rank numbers (the id where rank is 0), the best rank first, each at the
 * first of five places around its object's box that lies inside the panel and overlaps no label
 * placed before; objects with no such place stay unnumbered. Returns the count placed into out,
 * or -1 (out of memory; err set). */
int sd_overlay_place_labels(const sd_overlay *ov, const sd_object *objs, int nobjs, int scale, int max_labels,
                            sd_ov_label *out, sd_error *err);
/* Renders the after image with changed pixels tinted and the change outlined in its class colour
 * (at output resolution, from olab; objects a pixel or two apart share one outline), the best
 * ranked objects numbered (sd_overlay_place_labels, the budget from the panel size), a legend
 * that says how many are numbered, and a scale bar; with a triptych, before | after | overlay.
 * Writes the PNG; labels (may be NULL) receives what was numbered where. */
sd_status sd_overlay_write(const sd_overlay *ov, const int32_t *olab, const sd_object *objs, int nobjs,
                           const char *path, sd_overlay_labels *labels, sd_error *err);
/* The same picture into out (out->rgb the caller's to free): the overlay panel is ov->w x ov->h
 * at labels->x_offset, the legend below it. */
sd_status sd_overlay_render(const sd_overlay *ov, const int32_t *olab, const sd_object *objs, int nobjs,
                            sd_overlay_labels *labels, sd_canvas *out, sd_error *err);
void sd_overlay_free(sd_overlay *ov);
/* The preview of one date (after = 1, else before) with its display stretch, ov->w x ov->h RGB. */
void sd_overlay_image(const sd_overlay *ov, int after, uint8_t *rgb);
/* The change as a transparent layer for the page, ov->w x ov->h RGBA: object pixels in their
 * class colour at alpha 140, the overlay's outline at 255, the rest clear. */
sd_status sd_overlay_change_layer(const sd_overlay *ov, const int32_t *olab, const sd_object *objs, uint8_t *rgba,
                                  sd_error *err);
/* A value on the overlay's display stretch (lo..hi, gamma 0.8) as a byte. */
uint8_t sd_display_byte(float v, float lo, float hi);
/* The overlay's colour of an object class. */
const uint8_t *sd_class_rgb(int cls);

/* page.c: report.html. Writes the page: the template with Leaflet and data_json (the page's data, "</" escaped) inline.
 */
sd_status sd_page_write(const char *path, const char *leaflet_css, const char *leaflet_js, const char *data_json,
                        sd_error *err);

sd_status sd_png_write_rgb(const char *path, int w, int h, const uint8_t *rgb, sd_error *err);

#endif
