/* stage_grid.c: the first stages of a compare: opening the inputs, then the common grid, the band
 * roles, the readers on the grid and the plan of blocks and windows within the memory budget. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/stages.h"

sd_status sd_stage_open(sd_run *run, sd_error *err) {
  const sd_compare_options *opts = run->opts;
  sd_gdal_threads(run->threads); /* GTiff decodes the inputs' tiles with as many threads */
  sd_status s = sd_raster_open("before", opts->before, opts->max_pixels, &run->before, err);
  if (!s) s = sd_raster_open("after", opts->after, opts->max_pixels, &run->after, err);
  sd_gdal_threads(0);
  if (s) return s;
  const sd_raster_info *bi = sd_raster_get_info(run->before), *ai = sd_raster_get_info(run->after);
  run->nbands = bi->nbands < ai->nbands ? bi->nbands : ai->nbands;
  if (bi->nbands != ai->nbands)
    sd_run_warn(run, "band counts differ (%s: %d, %s: %d): the first %d bands of each are compared", bi->path,
                bi->nbands, ai->path, ai->nbands, run->nbands);
  /* 3-band Byte on both sides: web-map RGB tiles. */
  run->preset = bi->nbands == 3 && ai->nbands == 3 && !strcmp(bi->type, "Byte") && !strcmp(ai->type, "Byte")
                    ? SD_PRESET_RGB8
                    : SD_PRESET_DEFAULT;
  /* The metric: as asked, else by preset. Web-map RGB: the bands and the building and shadow
   * indices (struct): against mbi and cva with one of the five RGB sets of ../shared/data/change
   * held out in turn, struct won with each held out (README, "Focus"). */
  run->metric = opts->metric >= 0               ? (sd_metric)opts->metric
                : run->preset == SD_PRESET_RGB8 ? SD_METRIC_STRUCT
                                                : SD_METRIC_CVA;
  for (int c = 0; c < 3; c++)
    run->rgb[c] = ai->rgb[c] < run->nbands ? ai->rgb[c] : 0;
  return SD_OK;
}

/* Band roles from --bands ("blue,green,red,nir", in band order), else from what the after image
 * names (colour interpretation, band names), else red, green and blue assumed from the band order.
 * The display bands follow red, green and blue when those are known. */
static sd_status band_roles(sd_run *run, sd_error *err) {
  sd_band_roles *r = &run->roles;
  const sd_raster_info *ai = sd_raster_get_info(run->after);
  r->blue = r->green = r->red = r->nir = -1;
  if (run->opts->bands) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", run->opts->bands);
    int i = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save), i++) {
      if (i >= run->nbands)
        return sd_error_set(err, SD_ERR_USAGE, "--bands names %d or more bands, the images have %d", i + 1,
                            run->nbands);
      if (!strcmp(tok, "blue"))
        r->blue = i;
      else if (!strcmp(tok, "green"))
        r->green = i;
      else if (!strcmp(tok, "red"))
        r->red = i;
      else if (!strcmp(tok, "nir"))
        r->nir = i;
      else if (strcmp(tok, "other"))
        return sd_error_set(err, SD_ERR_USAGE, "--bands: '%s' is not blue, green, red, nir or other", tok);
    }
    run->roles_from = "--bands";
  } else {
    if (run->nbands >= 3) {
      r->red = ai->rgb[0];
      r->green = ai->rgb[1];
      r->blue = ai->rgb[2];
    }
    r->nir = ai->nir < run->nbands ? ai->nir : -1;
    run->roles_from = ai->rgb_named || r->nir >= 0 ? "the after image's colour interpretation and band names"
                      : run->nbands >= 3           ? "the band order (assumed red, green, blue)"
                                                   : "none";
    if (!ai->rgb_named && r->nir < 0 && run->nbands >= 4)
      sd_run_warn(run,
                  "%s: no band is named red, green, blue or near-infrared; bands 1-3 are taken as red, "
                  "green, blue, none as near-infrared (so no NDVI): name them with --bands, e.g. "
                  "blue,green,red,nir",
                  ai->path);
  }
  if (r->red >= 0 && r->green >= 0 && r->blue >= 0) {
    run->rgb[0] = r->red;
    run->rgb[1] = r->green;
    run->rgb[2] = r->blue;
  }
  if (run->metric == SD_METRIC_NDVI && (r->red < 0 || r->nir < 0))
    return sd_error_set(err, SD_ERR_USAGE,
                        "--metric ndvi needs the red and nir bands: say which with --bands, "
                        "e.g. --bands blue,green,red,nir");
  return SD_OK;
}

static void human_bytes(double b, char *out, size_t len) {
  if (b >= (double)(1 << 30))
    snprintf(out, len, "%.1f GiB", b / (1 << 30));
  else
    snprintf(out, len, "%.1f MiB", b / (1 << 20));
}

enum { MAG_IN_MEMORY_MAX = 256 << 20 };

/* Blocks, detection windows and the minimum mapping unit for the grid; refused up front when the
 * run would need more memory than allowed, rather than killed by the system half way. */
static sd_status make_plan(const sd_run *run, sd_plan *plan, sd_error *err) {
  const sd_compare_options *opts = run->opts;
  const sd_grid *g = &run->grid;
  /* Blocks of about 32 MiB of input across both images. */
  size_t per_row = (size_t)g->width * run->nbands * 2 * sizeof(float);
  int R = opts->block_rows > 0 ? opts->block_rows : (int)((32u << 20) / per_row);
  if (R < 8) R = 8;
  if (R > g->height) R = g->height;
  plan->block_rows = R;
  /* Detection windows of about 16 MiB of mask (2048 rows at 8192 wide), or the block rows
   * when those are given; each window also holds its halo. */
  double px_area = g->pixel_w_m * g->pixel_h_m;
  plan->max_hole_px = (int64_t)fmax(4, ceil(25.0 / px_area)); /* a small room: 25 m², at least 4 px */
  plan->min_area_px = (int64_t)ceil(opts->min_area / px_area - 1e-9);
  if (plan->min_area_px < 1) plan->min_area_px = 1;
  int D = opts->block_rows > 0 ? opts->block_rows : (int)((16u << 20) / g->width);
  if (D < 64 && opts->block_rows <= 0) D = 64;
  if (D > g->height) D = g->height;
  plan->detect_rows = D;
  /* Rows of the cleaned mask a window holds beyond the rows it decides: opening and closing
   * reach 2 (open + close) rows; a fillable hole spans at most max_hole_px rows and its edge
   * test looks one row further. */
  int64_t halo = 2 * (opts->open_radius + opts->close_radius) + plan->max_hole_px + 1;
  plan->detect_halo = halo < g->height ? (int)halo : g->height;
  /* Memory budget: the blocks of both images, the magnitude when it is held (at most
   * MAG_IN_MEMORY_MAX), a detection window with its halo and the morphology's two copies,
   * GDAL's block cache (capped at 256 MiB) and the program. Not counted: the runs and the
   * objects, which grow with the change found, not with the grid. */
  double npx = (double)g->width * g->height;
  /* The magnitude is held for the detection passes when it is small (256 MiB: 8192²); larger
   * ones are read back from their GeoTIFF, so memory stays bounded for any grid. */
  plan->mag_held = !opts->low_memory && npx * sizeof(float) <= MAG_IN_MEMORY_MAX;
  double need = 4.0 * per_row * (R + 64) + (plan->mag_held ? npx * sizeof(float) : 0) +
                3.0 * g->width * fmin(D + 2.0 * plan->detect_halo, g->height) + (320u << 20);
  double ram = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
  double budget = opts->max_memory_gib > 0 ? opts->max_memory_gib * (1 << 30) : 0.75 * ram;
  if (budget > 0 && need > budget) {
    char sn[32], sb[32];
    human_bytes(need, sn, sizeof sn);
    human_bytes(budget, sb, sizeof sb);
    return sd_error_set(err, SD_ERR_LIMIT,
                        "compare: the %d x %d grid needs about %s of memory, more than %s %s; raise --max-memory "
                        "(GiB, if the machine has it), pick a coarser --resolution, or crop the inputs",
                        g->width, g->height, sn,
                        opts->max_memory_gib > 0 ? "--max-memory" : "3/4 of this machine's RAM,", sb);
  }
  return SD_OK;
}

/* A mask raster (--mask-before / --mask-after) and its reader on the grid, when given. */
static sd_status open_mask(sd_run *run, const char *name, const char *path, sd_raster **raster, sd_reader **reader,
                           sd_error *err) {
  if (!path) return SD_OK;
  sd_status s = sd_raster_open(name, path, run->opts->max_pixels, raster, err);
  if (!s) s = sd_reader_create(*raster, &run->grid, 1, run->threads, reader, err);
  return s;
}

sd_status sd_stage_grid(sd_run *run, sd_plan *plan, sd_error *err) {
  const sd_compare_options *opts = run->opts;
  const sd_raster_info *bi = sd_raster_get_info(run->before), *ai = sd_raster_get_info(run->after);
  sd_status s = sd_grid_compute(run->before, run->after, opts->grid, opts->resolution, &run->grid, err);
  if (s) return s;
  const sd_grid *g = &run->grid;
  if ((double)g->width * g->height > opts->max_pixels)
    return sd_error_set(err, SD_ERR_LIMIT,
                        "grid: the common grid is %d x %d pixels, more than --max-pixels %.0f; raise --max-pixels "
                        "or pick a coarser --resolution",
                        g->width, g->height, opts->max_pixels);
  if ((double)g->width * g->height < 16)
    return sd_error_set(err, SD_ERR_INPUT,
                        "grid: %s and %s share only %d x %d pixels; sitediff needs at least 16 common pixels", bi->path,
                        ai->path, g->width, g->height);
  if (!g->georef)
    sd_run_warn(run, "neither image is georeferenced: they are compared as one pixel grid, areas are in pixels");
  sd_run_progress(run, "grid %d x %d, %s, pixel %.3g x %.3g m", g->width, g->height, g->crs, g->pixel_w_m,
                  g->pixel_h_m);
  s = band_roles(run, err);
  if (!s) s = sd_reader_create(run->before, g, run->nbands, run->threads, &run->rb, err);
  if (!s) s = sd_reader_create(run->after, g, run->nbands, run->threads, &run->ra, err);
  if (!s) s = open_mask(run, "mask-before", opts->mask_before, &run->mask_b_raster, &run->mask_b, err);
  if (!s) s = open_mask(run, "mask-after", opts->mask_after, &run->mask_a_raster, &run->mask_a, err);
  if (!s && opts->aoi) s = sd_aoi_load(opts->aoi, &run->grid, &run->aoi, err);
  if (!s) s = make_plan(run, plan, err);
  return s;
}
