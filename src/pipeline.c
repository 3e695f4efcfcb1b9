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

/* sd_read_pair, adding the seconds spent on each image to secs[0] (before) and secs[1] (after)
 * when given. */
static sd_status read_pair_timed(const sd_run *run, sd_reader *rb, sd_reader *ra, int x0, int y0, sd_planes *pb,
                                 sd_planes *pa, double *secs, sd_error *err) {
  double t = sd_now();
  sd_status s = sd_reader_read(rb, x0, y0, pb, err);
  if (secs) secs[0] += sd_now() - t;
  t = sd_now();
  if (!s) s = sd_reader_read(ra, x0, y0, pa, err);
  if (secs) secs[1] += sd_now() - t;
  if (!s && run->mask_b) s = apply_mask(run->mask_b, x0, y0, pb, pa, err);
  if (!s && run->mask_a) s = apply_mask(run->mask_a, x0, y0, pb, pa, err);
  return s;
}

sd_status sd_read_pair(const sd_run *run, sd_reader *rb, sd_reader *ra, int x0, int y0, sd_planes *pb, sd_planes *pa,
                       sd_error *err) {
  return read_pair_timed(run, rb, ra, x0, y0, pb, pa, NULL, err);
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

/* Streams the grid in blocks: read both (with tol_radius halo rows), diff into the magnitude
 * (its file, its histogram, and mag when it is held), feed the overlay. */
static sd_status diff_pass(sd_run *run, sd_reader *rb, sd_reader *ra, const sd_diff_params *dp, float *mag,
                           int64_t *hist, sd_gtiff *mag_tif, sd_overlay *ov, const int rgb[3], sd_error *err) {
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
    double secs[2] = {0, 0};
    if (!s) s = read_pair_timed(run, rb, ra, 0, ys, &pb, &pa, secs, err);
    run->t.read_before += secs[0];
    run->t.read_after += secs[1];
    if (s) break;
    double tk = sd_now();
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
      (run->plain ? sd_diff_ref : sd_diff_fast)(dp, bp, ap, n, block);
    } else {
      (run->plain ? sd_diff_tol_ref : sd_diff_tol_fast)(
          dp, (const float *const *)kb->band, (const float *const *)ka->band, W, ye - ys, y0 - ys, rows, r, block);
    }
    if (mag) memcpy(mag + (size_t)y0 * W, block, n * sizeof(float));
    sd_hist_add(block, n, hist);
    run->t.kernel += sd_now() - tk;
    double tw = sd_now();
    s = sd_gtiff_write(mag_tif, 1, y0, rows, block, err);
    run->t.write_magnitude += sd_now() - tw;
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

/* id_at for the polygons: the object whose runs hold the pixel. */
static int32_t runs_label_at(const void *ctx, int x, int y) { return sd_runs_label_at(ctx, x, y); }

enum { MAG_IN_MEMORY_MAX = 256 << 20 };

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
  /* SITEDIFF_PLAIN=1: the plain reference twins instead of the optimised kernels, in the same
   * binary, for A/B checks of whole runs (the outputs must not change). */
  const char *plain = getenv("SITEDIFF_PLAIN");
  run.plain = plain && *plain && strcmp(plain, "0");
#ifdef _OPENMP
  int saved_threads = omp_get_max_threads();
  omp_set_num_threads(run.threads);
#endif
  sd_outset out;
  memset(&out, 0, sizeof out);
  float *mag = NULL;
  int64_t *hist = NULL;
  int32_t *olab = NULL;
  sd_runs runs;
  sd_reader *rb = NULL, *ra = NULL;
  sd_gtiff *mag_tif = NULL, *mask_tif = NULL;
  sd_overlay ov;
  memset(&ov, 0, sizeof ov);
  sd_planes sb = {0}, sa = {0};
  sd_geo *geo = NULL;
  sd_runs_init(&runs, 0);

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
    /* Detection windows of about 16 MiB of mask (2048 rows at 8192 wide), or the block rows
     * when those are given; each window also holds its halo. */
    double px_area = run.grid.pixel_w_m * run.grid.pixel_h_m;
    run.max_hole_px = (int64_t)fmax(4, ceil(25.0 / px_area)); /* a small room: 25 m², at least 4 px */
    run.min_area_px = (int64_t)ceil(opts->min_area / px_area - 1e-9);
    if (run.min_area_px < 1) run.min_area_px = 1;
    int D = opts->block_rows > 0 ? opts->block_rows : (int)((16u << 20) / run.grid.width);
    if (D < 64 && opts->block_rows <= 0) D = 64;
    if (D > run.grid.height) D = run.grid.height;
    run.detect_rows = D;
    /* Rows of the cleaned mask a window holds beyond the rows it decides: opening and closing
     * reach 2 (open + close) rows; a fillable hole spans at most max_hole_px rows and its edge
     * test looks one row further. */
    int64_t halo = 2 * (opts->open_radius + opts->close_radius) + run.max_hole_px + 1;
    run.detect_halo = halo < run.grid.height ? (int)halo : run.grid.height;
    /* Memory budget: the blocks of both images, the magnitude when it is held (at most
     * MAG_IN_MEMORY_MAX), a detection window with its halo and the morphology's two copies,
     * GDAL's block cache (capped at 256 MiB) and the program. Not counted: the runs and the
     * objects, which grow with the change found, not with the grid. Refused up front rather than
     * killed by the system half way. */
    double npx = (double)run.grid.width * run.grid.height;
    /* The magnitude is held for the detection passes when it is small (256 MiB: 8192²); larger
     * ones are read back from their GeoTIFF, so memory stays bounded for any grid. */
    run.mag_held = !opts->low_memory && npx * sizeof(float) <= MAG_IN_MEMORY_MAX;
    double need = 4.0 * per_row * (R + 64) + (run.mag_held ? npx * sizeof(float) : 0) +
                  3.0 * run.grid.width * fmin(D + 2.0 * run.detect_halo, run.grid.height) + (320u << 20);
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
  sd_runs_init(&runs, run.grid.width);
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
  if (run.mag_held) {
    mag = sd_alloc(npx * sizeof *mag);
    if (!mag) {
      s = sd_error_set(err, SD_ERR_NOMEM, "compare: out of memory for a %d x %d grid", run.grid.width, run.grid.height);
      goto done;
    }
  }
  hist = calloc(SD_HIST_BINS, sizeof *hist);
  if (!hist) {
    s = sd_error_set(err, SD_ERR_NOMEM, "threshold: out of memory");
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
  s = diff_pass(&run, rb, ra, &dp, mag, hist, mag_tif, &ov, rgb, err);
  double tc = sd_now();
  sd_status cs = sd_gtiff_close(mag_tif, err); /* encodes what GDAL's cache still held */
  run.t.write_magnitude += sd_now() - tc;
  mag_tif = NULL;
  if (!s) s = cs;
  if (s) goto done;
  run.t.diff = sd_now() - t;
  t = sd_now();

  sd_threshold_choose(hist, (sd_thr_method)opts->threshold_method, opts->k_sigma, run.preset, &run.thr);
  for (int b = 0; b < SD_HIST_BINS; b++)
    run.valid_px += hist[b];
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
  run.t.threshold = sd_now() - t;
  t = sd_now();

  s = sd_stage_detect(&run, mag, sd_outset_path(&out, OUT_MAG), &runs, err);
  if (s) goto done;
  run.t.cleanup = sd_now() - t;
  t = sd_now();

  s = sd_gtiff_create(sd_outset_path(&out, OUT_MASK), &run.grid, 1, SD_PIX_U8, 1, 255, &mask_tif, err);
  if (!s) s = sd_stage_measure(&run, mag, sd_outset_path(&out, OUT_MAG), &runs, mask_tif, err);
  cs = sd_gtiff_close(mask_tif, err);
  mask_tif = NULL;
  if (!s) s = cs;
  sd_free(mag); /* the objects need no more of it */
  mag = NULL;
  if (!s) s = sd_check_interrupt(err);
  if (!s) s = sd_stage_describe(&run, rb, ra, &runs, err);
  if (!s) s = sd_geo_create(&run.grid, &geo, err);
  if (s) goto done;
  int nl = run.nobjs;
  for (int i = 0; i < nl; i++)
    sd_geo_lonlat(geo, run.objs[i].cx, run.objs[i].cy, &run.objs[i].lon, &run.objs[i].lat);
  run.t.objects = sd_now() - t;
  t = sd_now();

  s = sd_vector_write_objects(sd_outset_path(&out, OUT_OBJECTS), &run.grid, opts->date_after, opts->date_before,
                              sd_outset_path(&out, OUT_MASK), runs_label_at, &runs, run.objs, nl, err);
  if (!s) {
    olab = calloc((size_t)ov.w * ov.h, sizeof *olab);
    if (!olab) s = sd_error_set(err, SD_ERR_NOMEM, "overlay: out of memory");
  }
  if (!s) sd_runs_boxes(&runs, ov.factor, ov.w, olab);
  if (!s) s = sd_overlay_write(&ov, olab, run.objs, run.nobjs, sd_outset_path(&out, OUT_OVERLAY), err);
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
  free(hist);
  free(olab);
  sd_runs_free(&runs);
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
