/* sitediff.h: the public API of libsitediff (umbrella header). */
#ifndef SITEDIFF_H
#define SITEDIFF_H

#include <stdio.h>

#include "sitediff/error.h"
#include "sitediff/options.h"

#ifdef __cplusplus
extern "C" {
#endif

const char *sd_version(void);

/* Compares opts->before and opts->after and writes the outputs (README: Outputs) into opts->outdir.
 * Outputs appear only when the whole run succeeded (written under temporary names, then renamed). */
sd_status sd_compare(const sd_compare_options *opts, sd_compare_result *result, sd_error *err);

/* Writes before.tif, after.tif, truth.tif and truth.json into opts->outdir. */
sd_status sd_synth(const sd_synth_options *opts, sd_error *err);

/* Scores mask_path (change_mask.tif) against truth_path (truth.tif); grids may differ by an
 * integer pixel offset (same CRS and pixel size). */
sd_status sd_score_files(const char *mask_path, const char *truth_path, sd_score *score, sd_error *err);

/* Many pairs from a manifest (CSV with header site,before,after[,threshold,min_area,resolution,
 * tolerance,bands] or a JSON list of objects with the same keys), each into OUTDIR/<site>. */
typedef struct sd_batch_options {
  const char *manifest;
  const char *dir;      /* instead of a manifest: DIR/<site>/<YYYY-MM-DD>.tif, a time series per site */
  const char *baseline; /* --dir: "first", a date (YYYY-MM-DD) or a file every date is compared with */
  int pairs;            /* --dir: SD_SERIES_CONSECUTIVE, _BASELINE or both (0: baseline when given, else consecutive) */
  const char *outdir;
  int jobs;             /* pairs at once; 0 = one per two cores */
  int threads;          /* threads per pair; 0 = cores / jobs */
  int force;            /* redo pairs that are up to date */
  int shard_k, shard_n; /* run only pairs i with i % shard_n == shard_k - 1; 0 = all */
  int merge;            /* join OUTDIR/summary.shard-*.json into one summary (no pairs run) */
  int quiet;
  sd_compare_options compare; /* options for every pair (rows may override some) */
} sd_batch_options;

enum { SD_SERIES_CONSECUTIVE = 1, SD_SERIES_BASELINE = 2 };

typedef struct sd_batch_result {
  int pairs, ok, failed, up_to_date, not_observed; /* not observed: a series date with no valid overlap */
} sd_batch_result;

void sd_batch_options_init(sd_batch_options *opts);
/* SD_OK when the batch ran (check result->failed); an error when it could not start. */
sd_status sd_batch(const sd_batch_options *opts, sd_batch_result *result, sd_error *err);

/* The benchmark harness: memory bandwidth, the fused kernel against it, the pipeline's stages
 * on a synthetic pair (run in a child process for its peak RSS), peers where installed. */
typedef struct sd_bench_options {
  int size;         /* synthetic pair side, pixels */
  int threads;      /* 0 = all cores; kernels run at 1..threads */
  int kernel_mpx;   /* pixels per kernel run, in Mi */
  int repeats;      /* best of */
  int peers;        /* also time gdalwarp + gdal_calc.py and OTB where installed */
  int no_pipeline;  /* bandwidth and kernels only */
  const char *json; /* write the results here */
  const char *workdir;
} sd_bench_options;

void sd_bench_options_init(sd_bench_options *opts);
sd_status sd_bench(const sd_bench_options *opts, FILE *out, sd_error *err);

#ifdef __cplusplus
}
#endif
#endif
