/* render.h: the overlay: after image stretched, changed pixels tinted, objects outlined. */
#ifndef SD_RENDER_H
#define SD_RENDER_H

#include <stdint.h>

#include "core/core.h"
#include "detect/objects.h"

/* A downsampled preview built while the blocks stream past: grid pixels are averaged in
 * factor x factor boxes. */
typedef struct sd_overlay {
  int grid_w, grid_h, factor, w, h;
  float lo[3], hi[3]; /* contrast stretch per display channel */
  float *sum;         /* w*h*3 */
  uint32_t *count;    /* w*h valid grid pixels per box */
} sd_overlay;

sd_status sd_overlay_init(sd_overlay *ov, int grid_w, int grid_h, int max_side, sd_error *err);
/* rgb: three planes of the block (rows y0..y0+rows-1 of the grid, full width). */
void sd_overlay_add(sd_overlay *ov, const float *const rgb[3], int y0, int rows);
/* Renders into an RGB8 buffer and writes the PNG; objects give the class colours. */
sd_status sd_overlay_write(const sd_overlay *ov, const int32_t *labels, const sd_object *objs, const char *path,
                           sd_error *err);
void sd_overlay_free(sd_overlay *ov);

sd_status sd_png_write_rgb(const char *path, int w, int h, const uint8_t *rgb, sd_error *err);

#endif
