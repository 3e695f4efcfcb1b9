/* prefetch.h: items fetched in order ahead of their use, on a thread of their own, into a ring
 * of slots, so that decoding the next block overlaps the work on this one. Without the thread
 * (threaded = 0) each item is fetched when it is asked for: the same items, the same order. */
#ifndef SD_PREFETCH_H
#define SD_PREFETCH_H

#include "core/core.h"

/* Fills slot with item k (0 .. n - 1, in order); ctx is the caller's. */
typedef sd_status (*sd_fetch_fn)(void *ctx, int k, void *slot, sd_error *err);

typedef struct sd_prefetch sd_prefetch;

/* Starts fetching items 0 .. n - 1 into slots[k % nslots] (nslots >= 1; with the thread, item k
 * waits until item k - nslots was released). */
sd_status sd_prefetch_start(int n, void *const *slots, int nslots, sd_fetch_fn fetch, void *ctx, int threaded,
                            sd_prefetch **out, sd_error *err);
/* Item k's slot once fetched (items are taken in order, each once); the fetch's status, its
 * error copied into err. After a failure the later items are not fetched. */
sd_status sd_prefetch_get(sd_prefetch *p, int k, void **slot, sd_error *err);
/* Item k's slot may be reused. */
void sd_prefetch_release(sd_prefetch *p, int k);
/* Stops fetching (items not yet fetched are not), waits for the thread and frees p; NULL is
 * allowed. */
void sd_prefetch_end(sd_prefetch *p);

#endif
