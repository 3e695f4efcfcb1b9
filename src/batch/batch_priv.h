/* batch_priv.h: the pair and the entry points the batch files share (private, not installed). */
#ifndef SD_BATCH_PRIV_H
#define SD_BATCH_PRIV_H

#include <stdio.h>

#include "sitediff/sitediff.h"

/* One pair of a batch, from a manifest row, a time series step or a shard summary. */
typedef struct pair {
  char *site, *folder;     /* as given; made safe and unique for the file system */
  char *before, *after;    /* resolved against the manifest's folder */
  sd_compare_options opts; /* defaults + the row's own columns */
  char bands[128];
  char series[256]; /* time series: the site, and the two dates */
  char date_before[16], date_after[16];
  char error[SD_ERROR_MSG_MAX];
  const char *status; /* "ok", "failed", "up to date" */
  double seconds;
  double area; /* from the pair's report, for the summary */
  int by_class[SD_CLASS_COUNT], have_report;
} pair;

/* pairs.c: frees one pair's strings; frees the pairs' strings and the array. */
void sd_batch_free_pair(pair *p);
void sd_batch_free_pairs(pair *pairs, int n);

/* manifest.c: path relative to base_dir unless absolute; "" for NULL or "". */
char *sd_batch_resolve(const char *base_dir, const char *path);
/* manifest.c: the pairs of a CSV or JSON manifest file, paths resolved against its folder. */
sd_status sd_batch_read_manifest(const char *path, const sd_compare_options *def, pair **out, int *n, sd_error *err);

/* series.c: DIR/<site>/<date>.<ext>, each site's consecutive dates as pairs. */
sd_status sd_batch_scan_series(const char *dir, const sd_compare_options *def, pair **out, int *n, sd_error *err);

/* pairs.c: gives every pair a safe, unique folder name (aborts when out of memory). */
void sd_batch_name_folders(pair *p, int n);

/* jobs.c: runs (or finds up to date) every pair into OUTDIR/<folder>, o->jobs at once (0: one per two
 * cores), setting each pair's status, error and seconds; starts no more once interrupted. */
void sd_batch_run_pairs(const sd_batch_options *o, pair *pairs, int n);

/* summary.c: summary<suffix>.csv/json and index<suffix>.html over the pairs (fills their area,
 * by_class and have_report from the reports). */
sd_status sd_batch_write_summary(const sd_batch_options *o, pair *pairs, int n, const char *suffix, sd_error *err);
/* summary.c: joins OUTDIR/summary.shard-*.json into one summary. */
sd_status sd_batch_merge_shards(const sd_batch_options *o, sd_batch_result *res, sd_error *err);

/* index.c: index.html, written alongside the summary: the head, one card per pair (in the
 * summary's order; grade NULL when unknown), then the timelines and the end. */
void sd_batch_index_head(FILE *html, int n);
void sd_batch_index_card(FILE *html, const pair *p, const char *grade, double dx, double dy);
void sd_batch_index_tail(FILE *html, const pair *pairs, int n);

#endif
