/* cmd_synth.c: `sitediff synth OUTDIR [options]`. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void usage(FILE *f) {
  fprintf(f, "usage: sitediff synth OUTDIR [options]\n"
             "\n"
             "  --size N            before image is N x N pixels (default 512)\n"
             "  --seed S            scene and noise seed (default 1)\n"
             "  --pixel-size M      before pixel size in metres (default 0.5)\n"
             "  --after-scale F     after pixel size / before pixel size (default 1.25)\n"
             "  --shift DX,DY       content shift of after, before pixels (default 0.37,-0.21)\n"
             "  --rotate DEG        content rotation of after about the centre (default 0)\n"
             "  --scale-error F     content scale of after minus 1, e.g. 0.01 (default 0)\n"
             "  --blur F            after pixel footprint, pixels: 1 = sharp box, 2 = blurred (default 1)\n"
             "  --noise SIGMA       noise, digital numbers (default 20)\n"
             "  --after-epsg CODE   after image in another CRS, e.g. 4326 (default: same UTM zone)\n"
             "  --bands N           1 (panchromatic) to 4 (red, green, blue, nir; default 4)\n"
             "  --texture T         how busy the ground is: 0 bare (constant + noise, nothing changes),\n"
             "                      0.1 plain farmland, 0.5 mixed (default), 1 dense town\n"
             "  --series N          N dated images of one site (4 to 100) instead of a pair: OUTDIR/camp/\n"
             "                      YYYY-MM-DD.tif, the first empty (the baseline), objects appearing and\n"
             "                      leaving on known dates, one date clouded (nodata) over one area, one\n"
             "                      on another grid (EPSG:4326); OUTDIR/aoi.geojson, an area around each\n"
             "                      group of objects; truth.json: each object's dates, each (date,\n"
             "                      area) cell's presence\n"
             "\n"
             "writes before.tif, after.tif (UInt16), truth.tif (change object ids on before's grid), truth.json\n");
}

int sd_cmd_synth(int argc, char **argv) {
  sd_error err = {0};
  sd_synth_options o;
  sd_synth_options_init(&o);
  sd_args a = {.argc = argc, .argv = argv, .err = &err};
  const char *p;
  int r, npos = 0;
  while (!err.code && (r = sd_args_next(&a, &p))) {
    if (r == 2) {
      sd_args_positional(&a, p, &o.outdir, 1, &npos);
      continue;
    }
    if (sd_args_is(&a, "-h") || sd_args_is(&a, "--help")) {
      usage(stdout);
      return 0;
    } else if (sd_args_is(&a, "--size")) {
      sd_args_int(&a, 64, 65536, &o.size);
    } else if (sd_args_is(&a, "--seed")) {
      sd_args_u64(&a, &o.seed);
    } else if (sd_args_is(&a, "--pixel-size")) {
      sd_args_double(&a, 1e-3, 999, &o.pixel_size);
    } else if (sd_args_is(&a, "--after-scale")) {
      sd_args_double(&a, 0.2, 5, &o.after_scale);
    } else if (sd_args_is(&a, "--shift")) {
      const char *v = sd_args_value(&a);
      char tail;
      if (v && sscanf(v, "%lf,%lf%c", &o.shift_x, &o.shift_y, &tail) != 2)
        sd_error_set(&err, SD_ERR_USAGE, "--shift: '%s' is not DX,DY", v);
    } else if (sd_args_is(&a, "--blur")) {
      sd_args_double(&a, 0.5, 4, &o.blur);
    } else if (sd_args_is(&a, "--rotate")) {
      sd_args_double(&a, -10, 10, &o.rotate_deg);
    } else if (sd_args_is(&a, "--scale-error")) {
      sd_args_double(&a, -0.1, 0.1, &o.scale_error);
    } else if (sd_args_is(&a, "--noise")) {
      sd_args_double(&a, 0, 5000, &o.noise);
    } else if (sd_args_is(&a, "--after-epsg")) {
      sd_args_int(&a, 0, 999999, &o.after_epsg);
    } else if (sd_args_is(&a, "--bands")) {
      sd_args_int(&a, 1, 4, &o.bands);
    } else if (sd_args_is(&a, "--series")) {
      sd_args_int(&a, 4, 100, &o.series);
    } else if (sd_args_is(&a, "--texture")) {
      sd_args_double(&a, 0, 1, &o.texture);
    } else {
      sd_args_unknown(&a);
    }
  }
  if (!err.code && !o.outdir) sd_error_set(&err, SD_ERR_USAGE, "needs an output folder: synth OUTDIR");
  if (err.code || sd_synth(&o, &err)) return sd_cli_fail("synth", &err);
  return 0;
}
