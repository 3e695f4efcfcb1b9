/* prefetch.c: one fetching thread, a ring of slots, a mutex and two conditions. The thread
 * fetches item k once item k - nslots was released; the user waits for item k to be fetched. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/prefetch.h"

struct sd_prefetch {
  int n, nslots, threaded;
  void *const *slots;
  sd_fetch_fn fetch;
  void *ctx;
  pthread_t thread;
  int started;
  pthread_mutex_t lock;
  pthread_cond_t fetched_cv, released_cv;
  int fetched, released, stop, ended; /* items fetched, items released; guarded by lock */
  sd_status *status;                  /* per slot: the status of its last fetch */
  sd_error *err;                      /* per slot */
};

static void *run(void *arg) {
  sd_prefetch *p = arg;
  for (int k = 0; k < p->n; k++) {
    pthread_mutex_lock(&p->lock);
    while (!p->stop && p->released <= k - p->nslots)
      pthread_cond_wait(&p->released_cv, &p->lock);
    int stop = p->stop;
    pthread_mutex_unlock(&p->lock);
    if (stop) break;
    const int i = k % p->nslots;
    sd_error_clear(&p->err[i]);
    sd_status s = p->fetch(p->ctx, k, p->slots[i], &p->err[i]);
    pthread_mutex_lock(&p->lock);
    p->status[i] = s;
    p->fetched = k + 1;
    pthread_cond_signal(&p->fetched_cv);
    pthread_mutex_unlock(&p->lock);
    if (s) break;
  }
  pthread_mutex_lock(&p->lock);
  p->ended = 1;
  pthread_cond_signal(&p->fetched_cv);
  pthread_mutex_unlock(&p->lock);
  return NULL;
}

sd_status sd_prefetch_start(int n, void *const *slots, int nslots, sd_fetch_fn fetch, void *ctx, int threaded,
                            sd_prefetch **out, sd_error *err) {
  *out = NULL;
  sd_prefetch *p = calloc(1, sizeof *p);
  if (p) {
    p->status = calloc((size_t)nslots, sizeof *p->status);
    p->err = calloc((size_t)nslots, sizeof *p->err);
  }
  if (!p || !p->status || !p->err) {
    if (p) {
      free(p->status);
      free(p->err);
    }
    free(p);
    return sd_error_set(err, SD_ERR_NOMEM, "prefetch: out of memory");
  }
  p->n = n;
  p->nslots = nslots;
  p->threaded = threaded && n > 1;
  p->slots = slots;
  p->fetch = fetch;
  p->ctx = ctx;
  pthread_mutex_init(&p->lock, NULL);
  pthread_cond_init(&p->fetched_cv, NULL);
  pthread_cond_init(&p->released_cv, NULL);
  if (p->threaded) {
    p->started = pthread_create(&p->thread, NULL, run, p) == 0;
    p->threaded = p->started; /* no thread to be had: fetch on demand, as without one */
  }
  *out = p;
  return SD_OK;
}

sd_status sd_prefetch_get(sd_prefetch *p, int k, void **slot, sd_error *err) {
  const int i = k % p->nslots;
  *slot = p->slots[i];
  if (!p->threaded) return p->fetch(p->ctx, k, p->slots[i], err);
  pthread_mutex_lock(&p->lock);
  while (p->fetched <= k && !p->ended)
    pthread_cond_wait(&p->fetched_cv, &p->lock);
  int have = p->fetched > k;
  pthread_mutex_unlock(&p->lock);
  if (!have) return sd_error_set(err, SD_ERR_INTERNAL, "prefetch: item %d was never fetched", k);
  if (p->status[i]) {
    if (!err->code) *err = p->err[i];
    return p->status[i];
  }
  return SD_OK;
}

void sd_prefetch_release(sd_prefetch *p, int k) {
  if (!p->threaded) return;
  pthread_mutex_lock(&p->lock);
  if (p->released < k + 1) p->released = k + 1;
  pthread_cond_signal(&p->released_cv);
  pthread_mutex_unlock(&p->lock);
}

void sd_prefetch_end(sd_prefetch *p) {
  if (!p) return;
  if (p->started) {
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_cond_signal(&p->released_cv);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
  }
  pthread_mutex_destroy(&p->lock);
  pthread_cond_destroy(&p->fetched_cv);
  pthread_cond_destroy(&p->released_cv);
  free(p->status);
  free(p->err);
  free(p);
}
