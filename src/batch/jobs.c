/* jobs.c: running a batch's pairs: worker threads, resume of pairs up to date, progress. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "core/core.h"
#include "batch/batch_priv.h"

static int input_matches(json_t *in, const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) return 0;
  return json_integer_value(json_object_get(in, "bytes")) == (json_int_t)st.st_size &&
         json_integer_value(json_object_get(in, "mtime")) == (json_int_t)st.st_mtime &&
         !strcmp(json_string_value(json_object_get(in, "path")) ?: "", path);
}

/* The pair's compare options; a time series step's dates point into the pair itself, here, as
 * the pairs array moves (grows while scanning, reorders into shards). */
static sd_compare_options pair_options(const pair *p) {
  sd_compare_options co = p->opts;
  if (p->series[0]) {
    co.date_before = p->date_before;
    co.date_after = p->date_after;
  }
  return co;
}

/* A finished pair is up to date when its report names the same inputs (size, mtime) and the
 * same options, and every output is there. */
static int up_to_date(const pair *p, const char *final_dir) {
  static const char *const outs[] = {"change_mask.tif", "change_magnitude.tif", "objects.geojson", "overlay.png",
                                     "tie_points.geojson"};
  char path[4200];
  struct stat st;
  for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
    snprintf(path, sizeof path, "%s/%s", final_dir, outs[i]);
    if (stat(path, &st) != 0) return 0;
  }
  snprintf(path, sizeof path, "%s/report.json", final_dir);
  json_t *r = json_load_file(path, 0, NULL);
  if (!r) return 0;
  char optstr[1024];
  sd_compare_options co = pair_options(p);
  sd_compare_options_describe(&co, optstr, sizeof optstr);
  json_t *in = json_object_get(r, "inputs");
  int same = input_matches(json_object_get(in, "before"), p->before) &&
             input_matches(json_object_get(in, "after"), p->after) &&
             !strcmp(json_string_value(json_object_get(r, "options")) ?: "", optstr);
  json_decref(r);
  return same;
}

typedef struct batch_ctx {
  const sd_batch_options *o;
  pair *pairs;
  int n, threads;
  atomic_int next, done, failed;
  double t0;
  pthread_mutex_t lock;
} batch_ctx;

static void progress(batch_ctx *c, const pair *p) {
  if (c->o->quiet) return;
  pthread_mutex_lock(&c->lock);
  int done = atomic_load(&c->done), failed = atomic_load(&c->failed);
  double el = sd_now() - c->t0, left = done ? el / done * (c->n - done) : 0;
  if (isatty(2)) {
    int width = 30, fill = c->n ? width * done / c->n : width;
    fprintf(stderr, "\r[%.*s%*s] %d/%d pairs, %d failed, %.0f s left  ", fill, "##############################",
            width - fill, "", done, c->n, failed, left);
    if (done == c->n) fputc('\n', stderr);
  } else {
    fprintf(stderr, "sitediff batch: [%d/%d] %s: %s%s%s (%.1f s)\n", done, c->n, p->site, p->status,
            p->error[0] ? ": " : "", p->error, p->seconds);
  }
  pthread_mutex_unlock(&c->lock);
}

static void run_pair(batch_ctx *c, pair *p) {
  char final_dir[4096];
  snprintf(final_dir, sizeof final_dir, "%s/%s", c->o->outdir, p->folder);
  double t0 = sd_now();
  if (!c->o->force && up_to_date(p, final_dir)) {
    p->status = "up to date";
  } else {
    sd_error err = {0};
    sd_compare_options co = pair_options(p);
    co.before = p->before;
    co.after = p->after;
    co.outdir = final_dir; /* compare replaces the previous result as a whole, or leaves it */
    co.quiet = 1;
    co.threads = c->threads;
    if (!*p->before || !*p->after)
      sd_error_set(&err, SD_ERR_USAGE, "the manifest row lacks before or after");
    else
      sd_compare(&co, NULL, &err);
    if (err.code == SD_ERR_NOOVERLAP && p->series[0]) {
      /* a date clouded or masked all over: not seen, which is neither a failure nor "no change" */
      snprintf(p->error, sizeof p->error, "%s", err.msg);
      p->status = "not observed";
    } else if (err.code) {
      snprintf(p->error, sizeof p->error, "%s", err.msg);
      p->status = "failed";
      atomic_fetch_add(&c->failed, 1);
    } else {
      p->status = "ok";
    }
  }
  p->seconds = sd_now() - t0;
  atomic_fetch_add(&c->done, 1);
  progress(c, p);
}

static void *worker(void *arg) {
  batch_ctx *c = arg;
  for (int i; !sd_interrupted() && (i = atomic_fetch_add(&c->next, 1)) < c->n;)
    run_pair(c, &c->pairs[i]);
  return NULL;
}

void sd_batch_run_pairs(const sd_batch_options *o, pair *pairs, int n) {
  /* Jobs x threads never exceed the cores: by default one pair per two cores. */
  int cores = sd_omp_threads();
  int jobs = o->jobs > 0 ? o->jobs : (cores / 2 > 0 ? cores / 2 : 1);
  if (jobs > n) jobs = n > 0 ? n : 1;
  if (jobs > 64) jobs = 64;
  int threads = o->threads > 0 ? o->threads : (cores / jobs > 0 ? cores / jobs : 1);
  batch_ctx c = {.o = o, .pairs = pairs, .n = n, .threads = threads, .t0 = sd_now()};
  pthread_mutex_init(&c.lock, NULL);
  pthread_t th[64];
  for (int j = 0; j < jobs; j++)
    pthread_create(&th[j], NULL, worker, &c);
  for (int j = 0; j < jobs; j++)
    pthread_join(th[j], NULL);
  pthread_mutex_destroy(&c.lock);
}
