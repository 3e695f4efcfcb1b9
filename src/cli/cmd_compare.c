/* cmd_compare.c: `sitediff compare BEFORE AFTER -o OUTDIR [options]`. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void usage(FILE *f) {
  fprintf(f, "usage: sitediff compare BEFORE AFTER -o OUTDIR [options]\n"
             "\n"
             "  -o, --output DIR      output folder (created if missing)\n"
             "  --grid REF            before (default) | after | finer | coarser: CRS, origin and pixel size\n"
             "  --resolution M        pixel size of the grid in its CRS units (overrides --grid's)\n"
             "  --no-register         skip the sub-pixel fine registration\n"
             "  --model M             auto (default) | translation | affine | poly2\n"
             "  --tie-window N        tie-point window side in pixels (default: adapted, 64..256)\n"
             "  --tie-spacing N       distance between tie-point windows (default: adapted)\n"
             "  --mask-before FILE    raster, non-zero = cloud/masked in before: no tie points, no change\n"
             "  --mask-after FILE     the same for after\n"
             "  --strict              stop (exit 1) when registration grades fail\n"
             "  --metric M            auto (default: mbi for 3-band Byte imagery, else cva) | cva | logratio |\n"
             "                        angle | ndvi | mbi (building and shadow index) | struct (bands + mbi)\n"
             "  --bands LIST          band roles in order, e.g. blue,green,red,nir (needed for ndvi)\n"
             "  --tolerance R         compare each pixel with the best match within R px in the other date\n"
             "                        (0 = plain difference; default 1, or 2 when registration is weak)\n"
             "  --threshold V         fixed magnitude threshold (noise units); default automatic\n"
             "  --threshold-method M  auto (default) | otsu | otsu-log | ki | ksigma\n"
             "  --k-sigma K           k of the median + k sigma floor and method (default 6)\n"
             "  --normalize N         robust (default: gain/offset on unchanged pixels) | zscore (plain)\n"
             "  --open R              morphological opening radius in pixels (default 1, 0 = none)\n"
             "  --close R             morphological closing radius in pixels (default 1, 0 = none)\n"
             "  --min-area A          smallest object in m² (pixels if not georeferenced; default 10)\n"
             "  --threads N           threads (default: all cores)\n"
             "  --block-rows N        rows per streamed block (default: automatic)\n"
             "  --max-pixels N        refuse grids larger than N pixels (default 2e9)\n"
             "  --max-memory GIB      refuse runs that would need more memory (default 3/4 of the RAM)\n"
             "  --low-memory          never hold the whole magnitude in memory, even when it is small\n"
             "  --overlay-max N       longest side of overlay.png (default 2048)\n"
             "  --layout L            single (default) | triptych: before | after | change side by side\n"
             "  -q, --quiet           no progress on stderr\n"
             "\n"
             "writes change_mask.tif, change_magnitude.tif, objects.geojson, overlay.png, tie_points.geojson,\n"
             "report.json\n"
             "exit codes: 0 ok, 1 the run failed, 2 bad usage\n");
}

/* The options of `compare` (all but -o, -q, -h), shared with `batch`: 1 if a->name was one
 * (its value parsed into o, or a->err set), 0 if not. */
int sd_compare_option(sd_args *a, sd_compare_options *o) {
  if (sd_args_is(a, "--grid")) {
    static const char *const names[] = {"before", "after", "finer", "coarser", NULL};
    int v;
    if (sd_args_choice(a, names, &v)) o->grid = (sd_grid_ref)v;
    return 1;
  }
  if (sd_args_is(a, "--resolution")) {
    sd_args_double(a, 1e-12, 1e12, &o->resolution);
    return 1;
  }
  if (sd_args_is(a, "--no-register")) {
    o->do_register = 0;
    return 1;
  }
  if (sd_args_is(a, "--model")) {
    static const char *const names[] = {"auto", "translation", "affine", "poly2", NULL};
    sd_args_choice(a, names, &o->model);
    return 1;
  }
  if (sd_args_is(a, "--tie-window")) {
    sd_args_int(a, 32, 4096, &o->tie_window);
    return 1;
  }
  if (sd_args_is(a, "--tie-spacing")) {
    sd_args_int(a, 8, 1 << 20, &o->tie_spacing);
    return 1;
  }
  if (sd_args_is(a, "--mask-before")) {
    o->mask_before = sd_args_value(a);
    return 1;
  }
  if (sd_args_is(a, "--mask-after")) {
    o->mask_after = sd_args_value(a);
    return 1;
  }
  if (sd_args_is(a, "--strict")) {
    o->strict = 1;
    return 1;
  }
  if (sd_args_is(a, "--metric")) {
    /* "auto" is -1: the list starts one before cva */
    static const char *const names[] = {"auto", "cva", "logratio", "angle", "ndvi", "mbi", "struct", NULL};
    int v;
    if (sd_args_choice(a, names, &v)) o->metric = v - 1;
    return 1;
  }
  if (sd_args_is(a, "--bands")) {
    o->bands = sd_args_value(a);
    return 1;
  }
  if (sd_args_is(a, "--tolerance")) {
    sd_args_int(a, 0, 5, &o->tolerance);
    return 1;
  }
  if (sd_args_is(a, "--threshold-method")) {
    static const char *const names[] = {"auto", "otsu", "otsu-log", "ki", "ksigma", NULL};
    sd_args_choice(a, names, &o->threshold_method);
    return 1;
  }
  if (sd_args_is(a, "--k-sigma")) {
    sd_args_double(a, 0.1, 100, &o->k_sigma);
    return 1;
  }
  if (sd_args_is(a, "--normalize")) {
    static const char *const names[] = {"robust", "zscore", NULL};
    sd_args_choice(a, names, &o->normalize);
    return 1;
  }
  if (sd_args_is(a, "--threshold")) {
    sd_args_double(a, 0, 1e30, &o->threshold);
    return 1;
  }
  if (sd_args_is(a, "--open")) {
    sd_args_int(a, 0, 50, &o->open_radius);
    return 1;
  }
  if (sd_args_is(a, "--close")) {
    sd_args_int(a, 0, 50, &o->close_radius);
    return 1;
  }
  if (sd_args_is(a, "--min-area")) {
    sd_args_double(a, 0, 1e15, &o->min_area);
    return 1;
  }
  if (sd_args_is(a, "--threads")) {
    sd_args_int(a, 0, 1024, &o->threads);
    return 1;
  }
  if (sd_args_is(a, "--block-rows")) {
    sd_args_int(a, 1, 1 << 20, &o->block_rows);
    return 1;
  }
  if (sd_args_is(a, "--max-pixels")) {
    sd_args_double(a, 1, 1e15, &o->max_pixels);
    return 1;
  }
  if (sd_args_is(a, "--max-memory")) {
    sd_args_double(a, 0.0001, 1e6, &o->max_memory_gib);
    return 1;
  }
  if (sd_args_is(a, "--low-memory")) {
    o->low_memory = 1;
    return 1;
  }
  if (sd_args_is(a, "--overlay-max")) {
    sd_args_int(a, 16, 1 << 16, &o->overlay_max);
    return 1;
  }
  if (sd_args_is(a, "--layout")) {
    static const char *const names[] = {"single", "triptych", NULL};
    sd_args_choice(a, names, &o->triptych);
    return 1;
  }
  return 0;
}

int sd_cmd_compare(int argc, char **argv) {
  sd_error err = {0};
  sd_compare_options o;
  sd_compare_options_init(&o);
  sd_args a = {.argc = argc, .argv = argv, .err = &err};
  const char *pos[2] = {NULL, NULL};
  int npos = 0, r;
  const char *p;
  while (!err.code && (r = sd_args_next(&a, &p))) {
    if (r == 2) {
      sd_args_positional(&a, p, pos, 2, &npos);
      continue;
    }
    if (sd_args_is(&a, "-h") || sd_args_is(&a, "--help")) {
      usage(stdout);
      return 0;
    } else if (sd_args_is(&a, "-o") || sd_args_is(&a, "--output")) {
      o.outdir = sd_args_value(&a);
    } else if (sd_compare_option(&a, &o)) {
      continue;
    } else if (sd_args_is(&a, "-q") || sd_args_is(&a, "--quiet")) {
      o.quiet = 1;
    } else {
      sd_args_unknown(&a);
    }
  }
  if (!err.code && npos != 2) sd_error_set(&err, SD_ERR_USAGE, "needs two images: BEFORE AFTER");
  if (!err.code && !o.outdir) sd_error_set(&err, SD_ERR_USAGE, "needs an output folder: -o OUTDIR");
  if (err.code) return sd_cli_fail("compare", &err);
  o.before = pos[0];
  o.after = pos[1];
  sd_compare_result res;
  if (sd_compare(&o, &res, &err)) return sd_cli_fail("compare", &err);
  return 0;
}
