/* cmd_batch.c: `sitediff batch MANIFEST -o OUTDIR [options]`. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

int sd_cmd_batch(int argc, char **argv) {
  sd_error err = {0};
  sd_batch_options o;
  sd_batch_options_init(&o);
  sd_args a = {.argc = argc, .argv = argv, .err = &err};
  const char *p;
  int r, npos = 0;
  while (!err.code && (r = sd_args_next(&a, &p))) {
    if (r == 2) {
      sd_args_positional(&a, p, &o.manifest, 1, &npos);
    } else if (sd_args_is(&a, "-h") || sd_args_is(&a, "--help")) {
      printf("usage: sitediff batch MANIFEST -o OUTDIR [options]\n"
             "  MANIFEST          CSV with header site,before,after (optional columns threshold, min_area,\n"
             "                    resolution, tolerance, bands) or a JSON list of objects with those keys;\n"
             "                    relative paths are relative to the manifest\n"
             "  --dir DIR         instead of a manifest: DIR/<site>/<YYYY-MM-DD>.tif (or YYYYMMDD; a\n"
             "                    <date>.mask.tif beside an image is its cloud mask); per site\n"
             "                    series/<site>/series.csv (a row per date and area: observed, not observed\n"
             "                    or failed, counts by class), tracks.csv and tracks.geojson (objects\n"
             "                    matched across dates, first_seen, last_seen); index.html a chart per\n"
             "                    site and area on a time axis\n"
             "  --baseline B      --dir: compare every date with B: 'first' (each site's first date), a date\n"
             "                    (YYYY-MM-DD) or a file (in each site's folder, else as given)\n"
             "  --pairs P         --dir: consecutive (default without --baseline), baseline (default with\n"
             "                    it) or both\n"
             "  -o, --output DIR  one folder per pair (site name made safe and unique), summary.csv,\n"
             "                    summary.json, index.html\n"
             "  -j, --jobs N      pairs at once (default: one per two cores)\n"
             "  --threads N       threads per pair (default: cores / jobs)\n"
             "  --force           redo pairs whose outputs are up to date\n"
             "  --shard K/N       run only every N-th pair from the K-th (Slurm arrays: K=$SLURM_ARRAY_TASK_ID);\n"
             "                    writes summary.shard-K-of-N.*\n"
             "  --merge           join the shards' summaries in OUTDIR into summary.csv/json, index.html\n"
             "  -q, --quiet       no progress on stderr\n"
             "  and every option of `sitediff compare` (threshold, metric, registration ...) for all pairs\n"
             "exit codes: 0 every pair succeeded (a series date not observed is no failure), 1 some failed (the rest\n"
             "completed), 2 bad usage\n");
      return 0;
    } else if (sd_args_is(&a, "-o") || sd_args_is(&a, "--output")) {
      o.outdir = sd_args_value(&a);
    } else if (sd_args_is(&a, "-j") || sd_args_is(&a, "--jobs")) {
      sd_args_int(&a, 1, 64, &o.jobs);
    } else if (sd_args_is(&a, "--threads")) {
      sd_args_int(&a, 1, 1024, &o.threads);
    } else if (sd_args_is(&a, "--dir")) {
      o.dir = sd_args_value(&a);
    } else if (sd_args_is(&a, "--baseline")) {
      o.baseline = sd_args_value(&a);
    } else if (sd_args_is(&a, "--pairs")) {
      const char *v = sd_args_value(&a);
      if (v && !strcmp(v, "consecutive"))
        o.pairs = SD_SERIES_CONSECUTIVE;
      else if (v && !strcmp(v, "baseline"))
        o.pairs = SD_SERIES_BASELINE;
      else if (v && !strcmp(v, "both"))
        o.pairs = SD_SERIES_CONSECUTIVE | SD_SERIES_BASELINE;
      else if (v)
        sd_error_set(&err, SD_ERR_USAGE, "--pairs: '%s' is not consecutive, baseline or both", v);
    } else if (sd_args_is(&a, "--shard")) {
      const char *v = sd_args_value(&a);
      char tail;
      if (v && (sscanf(v, "%d/%d%c", &o.shard_k, &o.shard_n, &tail) != 2 || o.shard_k < 1 || o.shard_n < 1 ||
                o.shard_k > o.shard_n))
        sd_error_set(&err, SD_ERR_USAGE, "--shard: '%s' is not K/N with 1 <= K <= N", v);
    } else if (sd_args_is(&a, "--merge")) {
      o.merge = 1;
    } else if (sd_args_is(&a, "--force")) {
      o.force = 1;
    } else if (sd_args_is(&a, "-q") || sd_args_is(&a, "--quiet")) {
      o.quiet = 1;
    } else if (!sd_compare_option(&a, &o.compare)) {
      sd_args_unknown(&a);
    }
  }
  if (!err.code && !o.manifest && !o.merge && !o.dir) sd_error_set(&err, SD_ERR_USAGE, "needs a MANIFEST or --dir DIR");
  if (!err.code && o.manifest && o.dir) sd_error_set(&err, SD_ERR_USAGE, "give a MANIFEST or --dir DIR, not both");
  if (!err.code && !o.outdir) sd_error_set(&err, SD_ERR_USAGE, "needs an output folder: -o OUTDIR");
  if (!err.code && !o.dir && (o.baseline || o.pairs))
    sd_error_set(&err, SD_ERR_USAGE, "--baseline and --pairs need --dir DIR");
  sd_batch_result res;
  if (err.code || sd_batch(&o, &res, &err)) return sd_cli_fail("batch", &err);
  if (!o.quiet)
    fprintf(stderr,
            "sitediff batch: %d pairs: %d done, %d up to date, %d not observed, %d failed; summary in %s/index.html\n",
            res.pairs, res.ok, res.up_to_date, res.not_observed, res.failed, o.outdir);
  return res.failed ? 1 : 0;
}
