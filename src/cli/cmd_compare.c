/* cmd_compare.c: `sitediff compare BEFORE AFTER -o OUTDIR [options]`. */
#include <stddef.h>
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
             "  --aoi FILE            areas of interest (polygons: GeoJSON, GPKG, KML ..., any CRS, named by a\n"
             "                        'name' field): change found inside them only, counts per area\n"
             "  --strict              stop (exit 1) when registration grades fail\n"
             "  --metric M            auto (default: struct for 3-band Byte imagery, else cva) | cva | logratio |\n"
             "                        angle | ndvi | mbi (building and shadow index) | struct (bands + mbi)\n"
             "  --bands LIST          band roles in order, e.g. blue,green,red,nir (needed for ndvi)\n"
             "  --focus F             structures (default: change where both dates are vegetated is none) | all\n"
             "  --segments M          auto (default: on fine RGB imagery, change kept only in segments that look\n"
             "                        built) | off\n"
             "  --magnitude M         change_magnitude.tif: float32 (default, lossless) | lerc (within 0.01,\n"
             "                        smaller) | none (not written)\n"
             "  --tolerance R         compare each pixel with the best match within R px in the other date\n"
             "                        (0 = plain difference; default 1, or 2 when registration is weak)\n"
             "  --vector-format F     objects.gpkg and/or objects.kml beside objects.geojson: gpkg | kml |\n"
             "                        gpkg,kml | geojson (default: objects.geojson only)\n"
             "  --cog                 the mask, magnitude and overlay.tif as Cloud Optimized GeoTIFFs with\n"
             "                        overviews\n"
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
             "writes change_mask.tif, change_magnitude.tif, objects.geojson, overlay.png, overlay.tif (the\n"
             "overlay on the grid, when georeferenced), tie_points.geojson, report.html (the page: before/after\n"
             "swipe, ranked candidates), report.json\n"
             "exit codes: 0 ok, 1 the run failed, 2 bad usage\n");
}

/* compare's options (all but -o, -q, -h) as a table: name, what the value is, where it goes. */
typedef enum { OPT_INT, OPT_DOUBLE, OPT_STRING, OPT_SET, OPT_CLEAR, OPT_CHOICE } opt_kind;
typedef struct opt_spec {
  const char *name;
  opt_kind kind;
  size_t field;               /* offsetof in sd_compare_options */
  double lo, hi;              /* OPT_INT, OPT_DOUBLE: the allowed range */
  const char *const *choices; /* OPT_CHOICE: NULL-terminated; the field takes the index + bias */
  int bias;
} opt_spec;

#define FIELD(f) offsetof(sd_compare_options, f)
static const char *const grids[] = {"before", "after", "finer", "coarser", NULL};
static const char *const models[] = {"auto", "translation", "affine", "poly2", NULL};
/* "auto" is -1: the list starts one before cva */
static const char *const metrics[] = {"auto", "cva", "logratio", "angle", "ndvi", "mbi", "struct", NULL};
static const char *const thr_methods[] = {"auto", "otsu", "otsu-log", "ki", "ksigma", NULL};
static const char *const normalizations[] = {"robust", "zscore", NULL};
static const char *const layouts[] = {"single", "triptych", NULL};
static const char *const focuses[] = {"structures", "all", NULL};
static const char *const segment_modes[] = {"auto", "off", NULL};
static const char *const magnitude_modes[] = {"float32", "lerc", "none", NULL};
/* the index is the bit set: 1 gpkg, 2 kml */
static const char *const vector_formats[] = {"geojson", "gpkg", "kml", "gpkg,kml", NULL};
_Static_assert(sizeof(sd_grid_ref) == sizeof(int), "--grid is parsed as an int");

static const opt_spec compare_opts[] = {
    {"--grid", OPT_CHOICE, FIELD(grid), 0, 0, grids, 0},
    {"--resolution", OPT_DOUBLE, FIELD(resolution), 1e-12, 1e12, NULL, 0},
    {"--no-register", OPT_CLEAR, FIELD(do_register), 0, 0, NULL, 0},
    {"--model", OPT_CHOICE, FIELD(model), 0, 0, models, 0},
    {"--tie-window", OPT_INT, FIELD(tie_window), 32, 4096, NULL, 0},
    {"--tie-spacing", OPT_INT, FIELD(tie_spacing), 8, 1 << 20, NULL, 0},
    {"--mask-before", OPT_STRING, FIELD(mask_before), 0, 0, NULL, 0},
    {"--mask-after", OPT_STRING, FIELD(mask_after), 0, 0, NULL, 0},
    {"--aoi", OPT_STRING, FIELD(aoi), 0, 0, NULL, 0},
    {"--strict", OPT_SET, FIELD(strict), 0, 0, NULL, 0},
    {"--metric", OPT_CHOICE, FIELD(metric), 0, 0, metrics, -1},
    {"--bands", OPT_STRING, FIELD(bands), 0, 0, NULL, 0},
    {"--focus", OPT_CHOICE, FIELD(focus), 0, 0, focuses, 0},
    {"--segments", OPT_CHOICE, FIELD(segments), 0, 0, segment_modes, 0},
    {"--magnitude", OPT_CHOICE, FIELD(magnitude), 0, 0, magnitude_modes, 0},
    {"--vector-format", OPT_CHOICE, FIELD(vector_formats), 0, 0, vector_formats, 0},
    {"--cog", OPT_SET, FIELD(cog), 0, 0, NULL, 0},
    {"--tolerance", OPT_INT, FIELD(tolerance), 0, 5, NULL, 0},
    {"--threshold-method", OPT_CHOICE, FIELD(threshold_method), 0, 0, thr_methods, 0},
    {"--k-sigma", OPT_DOUBLE, FIELD(k_sigma), 0.1, 100, NULL, 0},
    {"--normalize", OPT_CHOICE, FIELD(normalize), 0, 0, normalizations, 0},
    {"--threshold", OPT_DOUBLE, FIELD(threshold), 0, 1e30, NULL, 0},
    {"--open", OPT_INT, FIELD(open_radius), 0, 50, NULL, 0},
    {"--close", OPT_INT, FIELD(close_radius), 0, 50, NULL, 0},
    {"--min-area", OPT_DOUBLE, FIELD(min_area), 0, 1e15, NULL, 0},
    {"--threads", OPT_INT, FIELD(threads), 0, 1024, NULL, 0},
    {"--block-rows", OPT_INT, FIELD(block_rows), 1, 1 << 20, NULL, 0},
    {"--max-pixels", OPT_DOUBLE, FIELD(max_pixels), 1, 1e15, NULL, 0},
    {"--max-memory", OPT_DOUBLE, FIELD(max_memory_gib), 0.0001, 1e6, NULL, 0},
    {"--low-memory", OPT_SET, FIELD(low_memory), 0, 0, NULL, 0},
    {"--overlay-max", OPT_INT, FIELD(overlay_max), 16, 1 << 16, NULL, 0},
    {"--layout", OPT_CHOICE, FIELD(triptych), 0, 0, layouts, 0},
};
#undef FIELD

/* The options of `compare` (all but -o, -q, -h), shared with `batch`: 1 if a->name was one
 * (its value parsed into o, or a->err set), 0 if not. */
int sd_compare_option(sd_args *a, sd_compare_options *o) {
  for (size_t k = 0; k < sizeof compare_opts / sizeof compare_opts[0]; k++) {
    const opt_spec *sp = &compare_opts[k];
    if (!sd_args_is(a, sp->name)) continue;
    char *field = (char *)o + sp->field;
    int v;
    switch (sp->kind) {
    case OPT_INT: sd_args_int(a, (long)sp->lo, (long)sp->hi, (int *)field); break;
    case OPT_DOUBLE: sd_args_double(a, sp->lo, sp->hi, (double *)field); break;
    case OPT_STRING: *(const char **)field = sd_args_value(a); break;
    case OPT_SET: *(int *)field = 1; break;
    case OPT_CLEAR: *(int *)field = 0; break;
    case OPT_CHOICE:
      if (sd_args_choice(a, sp->choices, &v)) *(int *)field = v + sp->bias;
      break;
    }
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
