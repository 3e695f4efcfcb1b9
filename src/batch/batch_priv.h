/* batch_priv.h: the pair and the entry points the batch files share (private, not installed). */
#ifndef SD_BATCH_PRIV_H
#define SD_BATCH_PRIV_H

#include <stdio.h>

#include "sitediff/sitediff.h"

/* One pair of a batch, from a manifest row, a time series step or a shard summary. */
typedef struct pair {
  char *site, *folder;     /* as given; made safe and unique for the file system */
  char *before, *after;    /* resolved against the manifest's folder */
  sd_compare_options opts; /* defaults + the row's own columns (no pointers into the pair: pairs move) */
  char bands[128];
  char series[256]; /* time series: the site, and the two dates */
  char date_before[16], date_after[16];
  int mode;                       /* time series: SD_SERIES_CONSECUTIVE and/or SD_SERIES_BASELINE */
  char *mask_before, *mask_after; /* time series: <date>.mask.tif beside an image, or NULL */
  char error[SD_ERROR_MSG_MAX];
  const char *status; /* "ok", "failed", "up to date", "not observed" (a series date with no valid overlap) */
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

/* series.c: DIR/<site>/<date>.<ext>, each site's dates as pairs: consecutive dates, and/or each date
 * with the baseline (o->baseline, o->pairs). */
sd_status sd_batch_scan_series(const sd_batch_options *o, pair **out, int *n, sd_error *err);

/* pairs.c: name made safe for a folder: letters, digits, '-' and '_' for the rest, not starting
 * with '_', at most 80 characters ("pair" when nothing is left). */
void sd_batch_safe_name(const char *name, char out[96]);
/* pairs.c: gives every pair a safe, unique folder name (aborts when out of memory). */
void sd_batch_name_folders(pair *p, int n);

/* jobs.c: runs (or finds up to date) every pair into OUTDIR/<folder>, o->jobs at once (0: one per two
 * cores), setting each pair's status, error and seconds; starts no more once interrupted. */
void sd_batch_run_pairs(const sd_batch_options *o, pair *pairs, int n);

/* pairs.c: s as one CSV field, quoted ("" for a quote). */
void sd_batch_csv_field(FILE *f, const char *s);
/* summary.c: summary<suffix>.csv/json and index<suffix>.html over the pairs (fills their area,
 * by_class and have_report from the reports). */
sd_status sd_batch_write_summary(const sd_batch_options *o, pair *pairs, int n, const char *suffix, sd_error *err);
/* summary.c: joins OUTDIR/summary.shard-*.json into one summary. */
sd_status sd_batch_merge_shards(const sd_batch_options *o, sd_batch_result *res, sd_error *err);

/* One row of a site's series.csv: a date and an area of interest (aoi "" without --aoi). */
typedef struct series_row {
  const pair *p; /* NULL: the baseline's own row */
  int mode;      /* the pair's SD_SERIES_* */
  char site[256], date[16], compared_with[16], aoi[128], grade[16];
  const char *status; /* "observed", "not observed", "failed", "baseline" */
  int objects, by_class[SD_CLASS_COUNT];
  double changed_m2, valid_share;
  int aoi_index, chart; /* chart: drawn in index.html (the baseline pairs where there are any) */
} series_row;

typedef struct series_rows {
  series_row *row;
  int n, cap;
} series_rows;

/* tracks.c: per time series site, OUTDIR/series/<site>/series.csv, tracks.csv and tracks.geojson
 * from the pairs' reports and objects; rows gets every site's rows, date by date. */
sd_status sd_batch_write_series(const sd_batch_options *o, const pair *pairs, int n, series_rows *rows, sd_error *err);
void sd_batch_free_series(series_rows *rows);

/* index.c: index.html, written alongside the summary: the head, one card per pair (in the
 * summary's order; grade NULL when unknown), and the end; after the head, a chart per time series site and
 * area on a time axis. */
void sd_batch_index_head(FILE *html, int n);
void sd_batch_index_card(FILE *html, const pair *p, const char *grade, double dx, double dy);
void sd_batch_index_charts(FILE *html, const series_rows *rows);
void sd_batch_index_tail(FILE *html);

#endif
