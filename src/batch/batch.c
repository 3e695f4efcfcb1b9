/* batch.c: `sitediff batch`: many pairs from a CSV or JSON manifest, in parallel, each into its
 * own folder (built under a temporary name, then renamed), resumable, with a summary. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/io.h"
#include "batch/batch_priv.h"

void sd_batch_options_init(sd_batch_options *o) {
  memset(o, 0, sizeof *o);
  sd_compare_options_init(&o->compare);
}

/* Keeps (first, in order) the pairs of shard K of N and frees the others; returns how many. */
static int keep_shard(const sd_batch_options *o, pair *pairs, int n) {
  /* Pair i belongs to shard (i mod N) + 1: deterministic, and balanced when sizes mix. */
  int m = 0;
  for (int i = 0; i < n; i++) {
    if (i % o->shard_n == o->shard_k - 1) {
      pair t = pairs[m];
      pairs[m++] = pairs[i];
      pairs[i] = t;
    }
  }
  for (int i = m; i < n; i++)
    sd_batch_free_pair(&pairs[i]);
  return m;
}

sd_status sd_batch(const sd_batch_options *o, sd_batch_result *res, sd_error *err) {
  if (res) memset(res, 0, sizeof *res);
  if (o->merge) {
    if (!o->outdir) return sd_error_set(err, SD_ERR_USAGE, "batch: --merge needs -o OUTDIR");
    return sd_batch_merge_shards(o, res, err);
  }
  if (o->shard_n < 0 || o->shard_k < 0 || (o->shard_n && (o->shard_k < 1 || o->shard_k > o->shard_n)))
    return sd_error_set(err, SD_ERR_USAGE, "batch: --shard K/N needs 1 <= K <= N");
  if ((!o->manifest && !o->dir) || !o->outdir)
    return sd_error_set(err, SD_ERR_USAGE, "batch: needs MANIFEST (or --dir DIR) and -o OUTDIR");
  if (o->jobs < 0 || o->threads < 0) return sd_error_set(err, SD_ERR_USAGE, "batch: -j and --threads must be >= 0");
  pair *pairs = NULL;
  int n = 0;
  sd_status s = o->dir ? sd_batch_scan_series(o, &pairs, &n, err)
                       : sd_batch_read_manifest(o->manifest, &o->compare, &pairs, &n, err);
  if (!s && n == 0)
    s = sd_error_set(err, SD_ERR_USAGE, "batch: %s %s", o->dir ? o->dir : o->manifest,
                     o->dir ? "holds no site folder with two or more dated images (YYYY-MM-DD.tif)" : "lists no pairs");
  if (!s) s = sd_mkdir_p(o->outdir, err);
  if (!s) {
    sd_gdal_init();
    sd_batch_name_folders(pairs, n); /* over the whole manifest, so every shard names folders alike */
    char suffix[64] = "";
    if (o->shard_n) {
      n = keep_shard(o, pairs, n);
      snprintf(suffix, sizeof suffix, ".shard-%d-of-%d", o->shard_k, o->shard_n);
    }
    sd_batch_run_pairs(o, pairs, n);
    /* Interrupted: the finished pair folders are complete and a re-run resumes from them; the
     * summaries of the previous run stay as they were. */
    s = sd_check_interrupt(err);
    if (!s && n) s = sd_batch_write_summary(o, pairs, n, suffix, err);
    if (res) {
      res->pairs = n;
      for (int i = 0; i < n; i++) {
        if (!pairs[i].status) continue; /* not started: interrupted */
        res->failed += !strcmp(pairs[i].status, "failed");
        res->ok += !strcmp(pairs[i].status, "ok");
        res->up_to_date += !strcmp(pairs[i].status, "up to date");
        res->not_observed += !strcmp(pairs[i].status, "not observed");
      }
    }
  }
  sd_batch_free_pairs(pairs, n);
  return s;
}
