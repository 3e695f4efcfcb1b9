/* options.c: compare's options: defaults, the canonical line report.json records, the checks a
 * run cannot start without. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "diff/features.h"
#include "pipeline/stages.h"
#include "sd_config.h"
#include "sitediff/sitediff.h"

const char *sd_version(void) { return SD_VERSION; }

void sd_compare_options_init(sd_compare_options *o) {
  memset(o, 0, sizeof *o);
  o->grid = SD_GRID_BEFORE;
  o->do_register = 1;
  o->threshold = -1;
  o->k_sigma = 6;
  o->tolerance = -1;
  o->metric = -1;
  o->open_radius = 1;
  o->close_radius = 1;
  o->min_area = 10;
  o->max_pixels = 2e9;
  o->overlay_max = 2048;
}

void sd_compare_options_describe(const sd_compare_options *o, char *buf, size_t len) {
  snprintf(buf, len,
           "grid=%d resolution=%.17g register=%d tie_window=%d tie_spacing=%d model=%d strict=%d mask_before=%s "
           "mask_after=%s threshold=%.17g threshold_method=%d k_sigma=%.17g normalize=%d tolerance=%d metric=%d "
           "bands=%s open=%d close=%d min_area=%.17g max_pixels=%.17g overlay_max=%d triptych=%d dates=%s..%s focus=%d "
           "segments=%d magnitude=%d vector_formats=%d cog=%d aoi=%s",
           o->grid, o->resolution, o->do_register, o->tie_window, o->tie_spacing, o->model, o->strict,
           o->mask_before ? o->mask_before : "-", o->mask_after ? o->mask_after : "-", o->threshold,
           o->threshold_method, o->k_sigma, o->normalize, o->tolerance, o->metric, o->bands ? o->bands : "-",
           o->open_radius, o->close_radius, o->min_area, o->max_pixels, o->overlay_max, o->triptych,
           o->date_before ? o->date_before : "-", o->date_after ? o->date_after : "-", o->focus, o->segments,
           o->magnitude, o->vector_formats, o->cog, o->aoi ? o->aoi : "-");
}

sd_status sd_compare_options_check(const sd_compare_options *o, sd_error *err) {
  if (!o->before || !o->after) return sd_error_set(err, SD_ERR_USAGE, "compare: two images are needed");
  if (!o->outdir || !*o->outdir) return sd_error_set(err, SD_ERR_USAGE, "compare: -o OUTDIR is needed");
  if (o->resolution < 0 || !isfinite(o->resolution))
    return sd_error_set(err, SD_ERR_USAGE, "compare: --resolution must be a positive number");
  if (o->open_radius < 0 || o->open_radius > 50 || o->close_radius < 0 || o->close_radius > 50)
    return sd_error_set(err, SD_ERR_USAGE, "compare: --open/--close take a radius from 0 to 50");
  if (o->min_area < 0 || !isfinite(o->min_area))
    return sd_error_set(err, SD_ERR_USAGE, "compare: --min-area must be >= 0");
  if (!isfinite(o->threshold)) return sd_error_set(err, SD_ERR_USAGE, "compare: --threshold must be a number");
  if (o->threshold_method < 0 || o->threshold_method > 4 || o->normalize < 0 || o->normalize > 1)
    return sd_error_set(err, SD_ERR_USAGE, "compare: unknown threshold method or normalisation");
  if (!(o->k_sigma > 0 && o->k_sigma <= 100))
    return sd_error_set(err, SD_ERR_USAGE, "compare: --k-sigma must be in (0, 100]");
  if (o->metric < -1 || o->metric >= SD_METRIC_COUNT) return sd_error_set(err, SD_ERR_USAGE, "compare: unknown metric");
  if (o->focus < 0 || o->focus > 1) return sd_error_set(err, SD_ERR_USAGE, "compare: unknown focus");
  if (o->segments < 0 || o->segments > 1) return sd_error_set(err, SD_ERR_USAGE, "compare: unknown segments mode");
  if (o->magnitude < 0 || o->magnitude > 2) return sd_error_set(err, SD_ERR_USAGE, "compare: unknown magnitude mode");
  if (o->vector_formats < 0 || o->vector_formats > 3)
    return sd_error_set(err, SD_ERR_USAGE, "compare: unknown vector format");
  if (o->tolerance < -1 || o->tolerance > 5)
    return sd_error_set(err, SD_ERR_USAGE, "compare: --tolerance must be 0 to 5");
  if (o->threads < 0 || o->threads > 1024)
    return sd_error_set(err, SD_ERR_USAGE, "compare: --threads must be 0 (all cores) to 1024");
  if (o->overlay_max < 16) return sd_error_set(err, SD_ERR_USAGE, "compare: --overlay-max must be >= 16");
  if (!(o->max_pixels >= 1)) return sd_error_set(err, SD_ERR_USAGE, "compare: --max-pixels must be >= 1");
  if (!(o->max_memory_gib >= 0 && o->max_memory_gib <= 1e6))
    return sd_error_set(err, SD_ERR_USAGE, "compare: --max-memory must be a positive number of GiB");
  return SD_OK;
}
