/* pipeline.c: sd_compare, the library entry point: grid, warp, register, normalise, diff,
 * threshold, clean up, objects, outputs (atomically renamed into place). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline.h"
#include "render/render.h"
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
           "bands=%s open=%d close=%d min_area=%.17g max_pixels=%.17g overlay_max=%d triptych=%d dates=%s..%s",
           o->grid, o->resolution, o->do_register, o->tie_window, o->tie_spacing, o->model, o->strict,
           o->mask_before ? o->mask_before : "-", o->mask_after ? o->mask_after : "-", o->threshold,
           o->threshold_method, o->k_sigma, o->normalize, o->tolerance, o->metric, o->bands ? o->bands : "-",
           o->open_radius, o->close_radius, o->min_area, o->max_pixels, o->overlay_max, o->triptych,
           o->date_before ? o->date_before : "-", o->date_after ? o->date_after : "-");
}

void sd_run_warn(sd_run *run, const char *fmt, ...) {
  if (run->nwarn >= SD_MAX_WARNINGS) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(run->warnings[run->nwarn++], sizeof run->warnings[0], fmt, ap);
  va_end(ap);
  if (!run->opts->quiet) fprintf(stderr, "sitediff: warning: %s\n", run->warnings[run->nwarn - 1]);
}

void sd_run_progress(const sd_run *run, const char *fmt, ...) {
  if (run->opts->quiet) return;
  va_list ap;
  va_start(ap, fmt);
  fputs("sitediff: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

static sd_status check_options(const sd_compare_options *o, sd_error *err) {
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

static void human_bytes(double b, char *out, size_t len) {
  if (b >= (double)(1 << 30))
    snprintf(out, len, "%.1f GiB", b / (1 << 30));
  else
    snprintf(out, len, "%.1f MiB", b / (1 << 20));
}

/* Blanks (NaN) the pixels of pb and pa under a mask raster's non-zero values. */
static sd_status apply_mask(sd_reader *mask, int x0, int y0, sd_planes *pb, sd_planes *pa, sd_error *err) {
  sd_planes m;
  sd_status s = sd_planes_alloc(&m, 1, pb->width, pb->height, err);
  if (!s) s = sd_reader_read(mask, x0, y0, &m, err);
  if (!s) {
    size_t n = (size_t)pb->width * pb->height;
    for (size_t i = 0; i < n; i++)
      if (m.band[0][i] > 0.5f)
        for (int b = 0; b < pb->nbands; b++)
          pb->band[b][i] = pa->band[b][i] = NAN;
  }
  sd_planes_free(&m);
  return s;
}

sd_status sd_read_pair(const sd_run *run, sd_reader *rb, sd_reader *ra, int x0, int y0, sd_planes *pb, sd_planes *pa,
                       sd_error *err) {
  sd_status s = sd_reader_read(rb, x0, y0, pb, err);
  if (!s) s = sd_reader_read(ra, x0, y0, pa, err);
  if (!s && run->mask_b) s = apply_mask(run->mask_b, x0, y0, pb, pa, err);
  if (!s && run->mask_a) s = apply_mask(run->mask_a, x0, y0, pb, pa, err);
  return s;
}

/* Spread sample: 16 windows on a 4 x 4 lattice (or fewer strips on small grids), 512 px wide,
 * totalling about 256 Ki pixels (a million fitted the same gains to 4 digits at 4 times the cost).
 * Windows rather than full-width strips: a strip decodes a whole row of tiles of both images for
 * a few rows of pixels (at 8192² the sample took 1.1 s, mostly decoding). */
static sd_status read_sample(sd_run *run, sd_reader *rb, sd_reader *ra, sd_planes *sb, sd_planes *sa, int *strip_rows,
                             sd_error *err) {
  int W = run->grid.width, H = run->grid.height;
  int ww = W < 512 ? W : 512, cols = W < 4 * 512 ? 1 : 4;
  int rows = (int)((1 << 18) / ((size_t)ww * cols)) + 1;
  if (rows > H) rows = H;
  int nrows = rows < 4 * cols ? (rows < 4 ? rows : 4) : 4;
  if (cols == 1) nrows = rows < 16 ? rows : 16;
  int sh = (rows + nrows - 1) / nrows;
  if (sh > H) sh = H;
  int nwin = nrows * cols;
  *strip_rows = sh;
  sd_status s = sd_planes_alloc(sb, run->nbands, ww, sh * nwin, err);
  if (!s) s = sd_planes_alloc(sa, run->nbands, ww, sh * nwin, err);
  for (int k = 0; k < nwin && !s; k++) {
    int r = k / cols, c = k % cols;
    int y = (int)((r + 0.5) * H / nrows) - sh / 2, x = (int)((c + 0.5) * W / cols) - ww / 2;
    if (y < 0) y = 0;
    if (y + sh > H) y = H - sh;
    if (x < 0) x = 0;
    if (x + ww > W) x = W - ww;
    sd_planes vb = *sb, va = *sa;
    vb.height = va.height = sh;
    for (int b = 0; b < run->nbands; b++) {
      vb.band[b] += (size_t)k * sh * ww;
      va.band[b] += (size_t)k * sh * ww;
    }
    s = sd_read_pair(run, rb, ra, x, y, &vb, &va, err);
  }
  return s;
}

/* The metric's features of the sample (strip by strip: the strips are not contiguous ground)
 * and their radiometric fit; for cva the band fit serves. */
static sd_status fit_features(sd_run *run, const sd_planes *sb, const sd_planes *sa, int strip_rows, sd_error *err) {
  sd_metric m = run->metric;
  run->nfeat = sd_metric_planes(m, run->nbands);
  run->feat_halo = sd_metric_halo(m);
  if (m == SD_METRIC_CVA) {
    run->fradio = run->radio;
    return SD_OK;
  }
  sd_planes fb, fa;
  sd_status s = sd_planes_alloc(&fb, run->nfeat, sb->width, sb->height, err);
  if (!s) s = sd_planes_alloc(&fa, run->nfeat, sb->width, sb->height, err);
  for (int y = 0; y < sb->height && !s; y += strip_rows) {
    sd_planes vb = *sb, va = *sa, vfb = fb, vfa = fa;
    int rows = y + strip_rows > sb->height ? sb->height - y : strip_rows;
    vb.height = va.height = vfb.height = vfa.height = rows;
    size_t off = (size_t)y * sb->width;
    for (int b = 0; b < sb->nbands; b++) {
      vb.band[b] += off;
      va.band[b] += off;
    }
    for (int b = 0; b < run->nfeat; b++) {
      vfb.band[b] += off;
      vfa.band[b] += off;
    }
    sd_features(m, &run->roles, &vb, &vfb);
    sd_features(m, &run->roles, &va, &vfa);
  }
  if (!s) s = sd_radiometry_fit(&fb, &fa, run->opts->normalize, &run->fradio, err);
  sd_planes_free(&fb);
  sd_planes_free(&fa);
  return s;
}

/* Band roles from --bands ("blue,green,red,nir", in band order), else from the colour
 * interpretation of the after image. */
static sd_status band_roles(sd_run *run, const sd_raster_info *ai, sd_error *err) {
  sd_band_roles *r = &run->roles;
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
  } else if (run->nbands >= 3) {
    r->red = ai->rgb[0];
    r->green = ai->rgb[1];
    r->blue = ai->rgb[2];
  }
  if (run->metric == SD_METRIC_NDVI && (r->red < 0 || r->nir < 0))
    return sd_error_set(err, SD_ERR_USAGE,
                        "--metric ndvi needs the red and nir bands: say which with --bands, "
                        "e.g. --bands blue,green,red,nir");
  return SD_OK;
}

/* One linear stretch for the three display channels (2nd to 98th percentile over all three),
 * so hues stay true. */
static void stretch_from_sample(const sd_planes *sa, const int rgb[3], float lo_out[3], float hi_out[3]) {
  size_t n = (size_t)sa->width * sa->height, k = 0;
  float *tmp = malloc(3 * n * sizeof *tmp);
  if (!tmp) return;
  for (int c = 0; c < 3; c++)
    for (size_t i = 0; i < n; i++)
      if (!isnan(sa->band[rgb[c]][i])) tmp[k++] = sa->band[rgb[c]][i];
  if (k) {
    float lo = sd_quantile(tmp, k, 0.02), hi = sd_quantile(tmp, k, 0.98);
    for (int c = 0; c < 3; c++) {
      lo_out[c] = lo;
      hi_out[c] = hi;
    }
  }
  free(tmp);
}

/* Streams the grid in blocks: read both (with tol_radius halo rows), diff into the magnitude,
 * feed the overlay. */
static sd_status diff_pass(sd_run *run, sd_reader *rb, sd_reader *ra, const sd_diff_params *dp, float *mag,
                           sd_gtiff *mag_tif, sd_overlay *ov, const int rgb[3], sd_error *err) {
  const int W = run->grid.width, H = run->grid.height, R = run->block_rows, r = run->tol_radius;
  const int halo = r + run->feat_halo;
  const sd_metric m = run->metric;
  sd_planes pb, pa, fb = {0}, fa = {0};
  sd_status s = sd_planes_alloc(&pb, run->nbands, W, R + 2 * halo, err);
  if (!s) s = sd_planes_alloc(&pa, run->nbands, W, R + 2 * halo, err);
  if (!s && m != SD_METRIC_CVA) s = sd_planes_alloc(&fb, run->nfeat, W, R + 2 * halo, err);
  if (!s && m != SD_METRIC_CVA) s = sd_planes_alloc(&fa, run->nfeat, W, R + 2 * halo, err);
  float *block = s ? NULL : sd_alloc((size_t)W * R * sizeof(float));
  if (!s && !block) s = sd_error_set(err, SD_ERR_NOMEM, "diff: out of memory for a %d-row block", R);
  for (int y0 = 0; y0 < H && !s; y0 += R) {
    int rows = y0 + R > H ? H - y0 : R;
    int ys = y0 - halo < 0 ? 0 : y0 - halo, ye = y0 + rows + halo > H ? H : y0 + rows + halo;
    pb.height = pa.height = fb.height = fa.height = ye - ys;
    s = sd_check_interrupt(err);
    if (!s) s = sd_read_pair(run, rb, ra, 0, ys, &pb, &pa, err);
    if (s) break;
    const sd_planes *kb = &pb, *ka = &pa;
    if (m != SD_METRIC_CVA) {
      sd_features(m, &run->roles, &pb, &fb);
      sd_features(m, &run->roles, &pa, &fa);
      kb = &fb;
      ka = &fa;
    }
    size_t n = (size_t)W * rows, skip = (size_t)(y0 - ys) * W;
    if (r == 0) {
      const float *bp[SD_MAX_BANDS], *ap[SD_MAX_BANDS];
      for (int b = 0; b < kb->nbands; b++) {
        bp[b] = kb->band[b] + skip;
        ap[b] = ka->band[b] + skip;
      }
      sd_diff_fast(dp, bp, ap, n, block);
    } else {
      sd_diff_tol_fast(dp, (const float *const *)kb->band, (const float *const *)ka->band, W, ye - ys, y0 - ys, rows, r,
                       block);
    }
    memcpy(mag + (size_t)y0 * W, block, n * sizeof(float));
    s = sd_gtiff_write(mag_tif, 1, y0, rows, block, err);
    const float *disp[3] = {pa.band[rgb[0]] + skip, pa.band[rgb[1]] + skip, pa.band[rgb[2]] + skip};
    const float *bdisp[3] = {pb.band[rgb[0]] + skip, pb.band[rgb[1]] + skip, pb.band[rgb[2]] + skip};
    sd_overlay_add(ov, disp, bdisp, y0, rows);
  }
  sd_free(block);
  sd_planes_free(&pb);
  sd_planes_free(&pa);
  sd_planes_free(&fb);
  sd_planes_free(&fa);
  return s;
}

enum { OUT_MASK, OUT_MAG, OUT_OBJECTS, OUT_OVERLAY, OUT_TIEPOINTS, OUT_REPORT, OUT_COUNT };
static const char *const out_names[OUT_COUNT] = {"change_mask.tif", "change_magnitude.tif", "objects.geojson",
                                                 "overlay.png",     "tie_points.geojson",   "report.json"};

sd_status sd_compare(const sd_compare_options *opts, sd_compare_result *result, sd_error *err) {
  sd_run run;
  memset(&run, 0, sizeof run);
  run.opts = opts;
  if (result) memset(result, 0, sizeof *result);
  double t0 = sd_now(), t = t0;
  sd_status s = check_options(opts, err);
  if (s) return s;
  run.threads = opts->threads > 0 ? opts->threads : sd_omp_threads();
#ifdef _OPENMP
  int saved_threads = omp_get_max_threads();
  omp_set_num_threads(run.threads);
#endif
  sd_outset out;
  memset(&out, 0, sizeof out);
  float *mag = NULL;
  uint8_t *mask = NULL;
  int32_t *labels = NULL;
  sd_reader *rb = NULL, *ra = NULL;
  sd_gtiff *mag_tif = NULL, *mask_tif = NULL;
  sd_overlay ov;
  memset(&ov, 0, sizeof ov);
  sd_planes sb = {0}, sa = {0};
  sd_geo *geo = NULL;

  sd_gdal_threads(run.threads); /* GTiff decodes the inputs' tiles with as many threads */
  s = sd_raster_open("before", opts->before, opts->max_pixels, &run.before, err);
  if (!s) s = sd_raster_open("after", opts->after, opts->max_pixels, &run.after, err);
  sd_gdal_threads(0);
  if (s) goto done;
  const sd_raster_info *bi = sd_raster_get_info(run.before), *ai = sd_raster_get_info(run.after);
  run.nbands = bi->nbands < ai->nbands ? bi->nbands : ai->nbands;
  if (bi->nbands != ai->nbands)
    sd_run_warn(&run, "band counts differ (%s: %d, %s: %d): the first %d bands of each are compared", bi->path,
                bi->nbands, ai->path, ai->nbands, run.nbands);
  /* 3-band Byte on both sides: web-map RGB tiles. */
  run.preset = bi->nbands == 3 && ai->nbands == 3 && !strcmp(bi->type, "Byte") && !strcmp(ai->type, "Byte")
                   ? SD_PRESET_RGB8
                   : SD_PRESET_DEFAULT;
  /* The metric: as asked, else by preset (web-map RGB: roofs are best told by the building index). */
  run.metric = opts->metric >= 0              ? (sd_metric)opts->metric
               : run.preset == SD_PRESET_RGB8 ? SD_METRIC_MBI
                                              : SD_METRIC_CVA;
  run.t.open = sd_now() - t;
  t = sd_now();

  s = sd_grid_compute(run.before, run.after, opts->grid, opts->resolution, &run.grid, err);
  if (s) goto done;
  if ((double)run.grid.width * run.grid.height > opts->max_pixels) {
    s = sd_error_set(err, SD_ERR_LIMIT,
                     "grid: the common grid is %d x %d pixels, more than --max-pixels %.0f; raise --max-pixels "
                     "or pick a coarser --resolution",
                     run.grid.width, run.grid.height, opts->max_pixels);
    goto done;
  }
  if ((double)run.grid.width * run.grid.height < 16) {
    s = sd_error_set(err, SD_ERR_INPUT,
                     "grid: %s and %s share only %d x %d pixels; sitediff needs at least 16 common pixels", bi->path,
                     ai->path, run.grid.width, run.grid.height);
    goto done;
  }
  if (!run.grid.georef)
    sd_run_warn(&run, "neither image is georeferenced: they are compared as one pixel grid, areas are in pixels");
  sd_run_progress(&run, "grid %d x %d, %s, pixel %.3g x %.3g m", run.grid.width, run.grid.height, run.grid.crs,
                  run.grid.pixel_w_m, run.grid.pixel_h_m);
  s = band_roles(&run, ai, err);
  if (s) goto done;
  s = sd_reader_create(run.before, &run.grid, run.nbands, run.threads, &rb, err);
  if (!s) s = sd_reader_create(run.after, &run.grid, run.nbands, run.threads, &ra, err);
  if (!s && opts->mask_before)
    s = sd_raster_open("mask-before", opts->mask_before, opts->max_pixels, &run.mask_b_raster, err);
  if (!s && opts->mask_before) s = sd_reader_create(run.mask_b_raster, &run.grid, 1, run.threads, &run.mask_b, err);
  if (!s && opts->mask_after)
    s = sd_raster_open("mask-after", opts->mask_after, opts->max_pixels, &run.mask_a_raster, err);
  if (!s && opts->mask_after) s = sd_reader_create(run.mask_a_raster, &run.grid, 1, run.threads, &run.mask_a, err);
  if (s) goto done;
  {
    /* Blocks of about 32 MiB of input across both images. */
    size_t per_row = (size_t)run.grid.width * run.nbands * 2 * sizeof(float);
    int R = opts->block_rows > 0 ? opts->block_rows : (int)((32u << 20) / per_row);
    if (R < 8) R = 8;
    if (R > run.grid.height) R = run.grid.height;
    run.block_rows = R;
    /* Memory budget: detection holds about 12 bytes per grid pixel (magnitude, mask, labels,
     * distances: 1,077 MiB peak at 8192² with GDAL's 256 MiB cache), plus the blocks of both
     * images. Refused up front rather than killed by the system half way. */
    double need = (double)run.grid.width * run.grid.height * 12.0 + 4.0 * per_row * (R + 64);
    double ram = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    double budget = opts->max_memory_gib > 0 ? opts->max_memory_gib * (1 << 30) : 0.75 * ram;
    if (budget > 0 && need > budget) {
      char sn[32], sb[32];
      human_bytes(need, sn, sizeof sn);
      human_bytes(budget, sb, sizeof sb);
      s = sd_error_set(err, SD_ERR_LIMIT,
                       "compare: the %d x %d grid needs about %s of memory, more than %s %s; raise --max-memory "
                       "(GiB, if the machine has it), pick a coarser --resolution, or crop the inputs",
                       run.grid.width, run.grid.height, sn,
                       opts->max_memory_gib > 0 ? "--max-memory" : "3/4 of this machine's RAM,", sb);
      goto done;
    }
  }
  run.t.grid = sd_now() - t;
  t = sd_now();

  s = sd_stage_register(&run, ra, err);
  if (!s) s = sd_check_interrupt(err);
  if (s) goto done;
  run.t.registration = sd_now() - t;
  t = sd_now();

  int strip_rows = 0;
  s = read_sample(&run, rb, ra, &sb, &sa, &strip_rows, err);
  if (!s) s = sd_radiometry_fit(&sb, &sa, opts->normalize, &run.radio, err);
  if (!s) s = fit_features(&run, &sb, &sa, strip_rows, err);
  if (!s) s = sd_check_interrupt(err);
  if (s) goto done;
  if (run.radio.samples < 16) {
    s = sd_error_set(err, SD_ERR_INPUT, "compare: %s and %s have almost no valid pixels in common (nodata or masks)",
                     bi->path, ai->path);
    goto done;
  }
  s = sd_overlay_init(&ov, run.grid.width, run.grid.height, opts->overlay_max, opts->triptych, err);
  if (!s && run.grid.georef) ov.pixel_m = sqrt(run.grid.pixel_w_m * run.grid.pixel_h_m) * ov.factor;
  if (s) goto done;
  int rgb[3];
  for (int c = 0; c < 3; c++)
    rgb[c] = ai->rgb[c] < run.nbands ? ai->rgb[c] : 0;
  stretch_from_sample(&sa, rgb, ov.lo, ov.hi);
  stretch_from_sample(&sb, rgb, ov.lo_before, ov.hi_before);
  sd_planes_free(&sb);
  sd_planes_free(&sa);
  run.t.radiometry = sd_now() - t;
  t = sd_now();

  s = sd_outset_begin(&out, opts->outdir, out_names, OUT_COUNT, err);
  if (s) goto done;
  size_t npx = (size_t)run.grid.width * run.grid.height;
  mag = sd_alloc(npx * sizeof *mag);
  if (!mag) {
    s = sd_error_set(err, SD_ERR_NOMEM, "compare: out of memory for a %d x %d grid", run.grid.width, run.grid.height);
    goto done;
  }
  /* Tolerance to residual misregistration and to edges drawn differently by the two sensors:
   * 1 px on fine grids (<= 5 m, or pixel grids), 2 px when registration was weak; none on
   * coarse grids, where one pixel is more ground than any edge moves and tolerance would erase
   * small change. */
  double pix_m = sqrt(run.grid.pixel_w_m * run.grid.pixel_h_m);
  int weak = opts->do_register && !(run.registered && !(run.fit.rmse > 0.5));
  run.tol_radius = opts->tolerance >= 0 ? opts->tolerance : run.grid.georef && pix_m > 5.0 ? 0 : weak ? 2 : 1;
  s = sd_gtiff_create(sd_outset_path(&out, OUT_MAG), &run.grid, 1, SD_PIX_F32, 1, NAN, &mag_tif, err);
  if (s) goto done;
  sd_diff_params dp = {.nbands = run.nfeat};
  for (int b = 0; b < run.nfeat; b++) {
    dp.gain[b] = run.fradio.gain[b];
    dp.offset[b] = run.fradio.offset[b];
    dp.sigma[b] = run.fradio.sigma[b];
  }
  s = diff_pass(&run, rb, ra, &dp, mag, mag_tif, &ov, rgb, err);
  sd_status cs = sd_gtiff_close(mag_tif, err);
  mag_tif = NULL;
  if (!s) s = cs;
  if (s) goto done;
  run.t.diff = sd_now() - t;
  t = sd_now();

  {
    int64_t *hist = malloc(sizeof(int64_t) * SD_HIST_BINS);
    if (!hist) {
      s = sd_error_set(err, SD_ERR_NOMEM, "threshold: out of memory");
      goto done;
    }
    sd_hist_build(mag, npx, hist);
    sd_threshold_choose(hist, (sd_thr_method)opts->threshold_method, opts->k_sigma, run.preset, &run.thr);
    for (int b = 0; b < SD_HIST_BINS; b++)
      run.valid_px += hist[b];
    free(hist);
  }
  if (run.valid_px == 0) {
    s = sd_error_set(err, SD_ERR_INPUT, "compare: %s and %s: every pixel of the common grid is nodata", bi->path,
                     ai->path);
    goto done;
  }
  if (opts->threshold >= 0) {
    run.thr.value = opts->threshold;
    run.thr.method = SD_THR_FIXED;
    snprintf(run.thr.why, sizeof run.thr.why, "given with --threshold");
  }
  mask = malloc(npx);
  labels = malloc(npx * sizeof *labels);
  if (!mask || !labels) {
    s = sd_error_set(err, SD_ERR_NOMEM, "compare: out of memory for the mask");
    goto done;
  }
  {
    const float thr = (float)run.thr.value;
    SD_OMP(parallel for simd schedule(static))
    for (size_t i = 0; i < npx; i++)
      mask[i] = isnan(mag[i]) ? 255 : mag[i] > thr;
  }
  run.t.threshold = sd_now() - t;
  t = sd_now();

  double px_area = run.grid.pixel_w_m * run.grid.pixel_h_m;
  sd_morph_open(mask, run.grid.width, run.grid.height, opts->open_radius);
  sd_morph_close(mask, run.grid.width, run.grid.height, opts->close_radius);
  /* Holes up to a small room (25 m², at least 4 px) inside an object belong to it. */
  run.filled_px = sd_fill_holes(mask, run.grid.width, run.grid.height, (int64_t)fmax(4, ceil(25.0 / px_area)));
  /* Components from runs, fed block by block as a streamed mask would be (sd_label's twin). */
  sd_runs runs;
  sd_runs_init(&runs, run.grid.width);
  int nl = 0;
  for (int y = 0; y < run.grid.height && nl >= 0; y += run.block_rows) {
    int rows = y + run.block_rows > run.grid.height ? run.grid.height - y : run.block_rows;
    nl = sd_runs_add(&runs, mask + (size_t)y * run.grid.width, rows);
  }
  if (nl >= 0) nl = sd_runs_finish(&runs);
  if (nl >= 0) sd_runs_paint(&runs, 0, run.grid.height, labels);
  sd_runs_free(&runs);
  if (nl < 0) {
    s = sd_error_set(err, SD_ERR_NOMEM, "labels: out of memory");
    goto done;
  }
  run.min_area_px = (int64_t)ceil(opts->min_area / px_area - 1e-9);
  if (run.min_area_px < 1) run.min_area_px = 1;
  nl = sd_label_filter_area(mask, labels, run.grid.width, run.grid.height, nl, run.min_area_px);
  for (size_t i = 0; i < npx; i++)
    run.changed_px += mask[i] == 1;
  run.t.cleanup = sd_now() - t;
  t = sd_now();

  run.nobjs = nl;
  run.objs = calloc((size_t)nl + 1, sizeof *run.objs);
  if (!run.objs) {
    s = sd_error_set(err, SD_ERR_NOMEM, "objects: out of memory for %d objects", nl);
    goto done;
  }
  sd_pixel_geom pg = {run.grid.pixel_w_m, run.grid.pixel_h_m};
  sd_objects_measure(labels, mask, mag, run.grid.width, run.grid.height, nl, pg, run.objs);
  sd_objects_classify(run.objs, nl, pg);
  {
    /* Vehicles parked together are one finding: small blobs within 25 m become one object. */
    int *parts = malloc(sizeof(int) * ((size_t)nl + 1));
    if (!parts) {
      s = sd_error_set(err, SD_ERR_NOMEM, "objects: out of memory");
      goto done;
    }
    int ng = sd_objects_group_small(labels, run.grid.width, run.grid.height, run.objs, nl, pg, 25.0, parts);
    if (ng != nl) {
      nl = run.nobjs = ng;
      sd_objects_measure(labels, mask, mag, run.grid.width, run.grid.height, nl, pg, run.objs);
      for (int i = 0; i < nl; i++)
        run.objs[i].parts = parts[i];
      sd_objects_classify(run.objs, nl, pg);
    }
    free(parts);
  }
  s = sd_check_interrupt(err);
  if (!s) s = sd_stage_describe(&run, rb, ra, labels, err);
  if (!s) s = sd_geo_create(&run.grid, &geo, err);
  if (s) goto done;
  for (int i = 0; i < nl; i++)
    sd_geo_lonlat(geo, run.objs[i].cx, run.objs[i].cy, &run.objs[i].lon, &run.objs[i].lat);
  run.t.objects = sd_now() - t;
  t = sd_now();

  s = sd_gtiff_create(sd_outset_path(&out, OUT_MASK), &run.grid, 1, SD_PIX_U8, 1, 255, &mask_tif, err);
  if (!s) s = sd_gtiff_write(mask_tif, 1, 0, run.grid.height, mask, err);
  cs = sd_gtiff_close(mask_tif, err);
  mask_tif = NULL;
  if (!s) s = cs;
  if (!s)
    s = sd_vector_write_objects(sd_outset_path(&out, OUT_OBJECTS), &run.grid, opts->date_after, opts->date_before,
                                labels, run.objs, nl, err);
  if (!s) s = sd_overlay_write(&ov, labels, run.objs, run.nobjs, sd_outset_path(&out, OUT_OVERLAY), err);
  if (!s) s = sd_vector_write_tiepoints(sd_outset_path(&out, OUT_TIEPOINTS), &run.grid, run.tp, run.ntp, err);
  if (s) goto done;
  run.t.write = sd_now() - t;
  run.t.total = sd_now() - t0;
  s = sd_report_write(&run, sd_outset_path(&out, OUT_REPORT), err);
  if (!s) s = sd_check_interrupt(err);
  if (!s) s = sd_outset_commit(&out, err);
  if (s) goto done;
  sd_run_progress(&run, "%d objects, %lld changed pixels, threshold %.2f (%s); outputs in %s", nl,
                  (long long)run.changed_px, run.thr.value, sd_thr_method_name(run.thr.method), opts->outdir);

  if (result) {
    result->dx = run.dx;
    result->dy = run.dy;
    result->reg_peak = run.global.peak;
    result->registered = run.registered;
    result->reg_grade = run.fit.grade;
    result->reg_model = run.model.kind;
    result->reg_rmse = run.fit.rmse;
    result->tie_points = run.ntp;
    result->tie_kept = run.fit.inliers;
    result->threshold = run.thr.value;
    result->width = run.grid.width;
    result->height = run.grid.height;
    result->changed_px = run.changed_px;
    result->n_objects = nl;
    for (int i = 0; i < nl; i++)
      result->by_class[run.objs[i].cls]++;
  }

done:
  if (mag_tif) sd_gtiff_close(mag_tif, NULL);
  if (mask_tif) sd_gtiff_close(mask_tif, NULL);
  sd_outset_abort(&out); /* nothing left to remove after a commit, or before a begin */
  sd_geo_free(geo);
  free(run.objs);
  free(mask);
  free(labels);
  sd_free(mag);
  sd_overlay_free(&ov);
  sd_planes_free(&sb);
  sd_planes_free(&sa);
  sd_reader_free(rb);
  sd_reader_free(ra);
  sd_reader_free(run.mask_b);
  sd_reader_free(run.mask_a);
  sd_raster_close(run.mask_b_raster);
  sd_raster_close(run.mask_a_raster);
  free(run.tp);
  sd_grid_free(&run.grid);
  sd_raster_close(run.before);
  sd_raster_close(run.after);
#ifdef _OPENMP
  omp_set_num_threads(saved_threads);
#endif
  return s;
}
