/* test_prefetch.c: the prefetcher hands out every item once, in order, in the slot it was
 * fetched into, never refills a slot still in use, stops at the first failure with that
 * fetch's message, and ends early without hanging; with and without its thread. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../check.h"
#include "core/prefetch.h"

typedef struct slot {
  int item;
  atomic_int in_use;
} slot;

typedef struct ctx {
  int fail_at;         /* the item whose fetch fails, or -1 */
  atomic_int fetches;  /* fetch calls */
  atomic_int refilled; /* fetches into a slot the user still held */
  atomic_int misorder; /* fetches out of order */
  atomic_int last;
} ctx;

static void nap(int k) {
  struct timespec ts = {0, (k * 7919 % 5) * 200000L}; /* 0-0.8 ms, varying */
  nanosleep(&ts, NULL);
}

static sd_status fetch(void *arg, int k, void *sl, sd_error *err) {
  ctx *c = arg;
  slot *s = sl;
  atomic_fetch_add(&c->fetches, 1);
  if (atomic_load(&s->in_use)) atomic_fetch_add(&c->refilled, 1);
  if (atomic_exchange(&c->last, k) != k - 1) atomic_fetch_add(&c->misorder, 1);
  nap(k);
  if (k == c->fail_at) return sd_error_set(err, SD_ERR_INPUT, "fetch: item %d is unreadable", k);
  s->item = k;
  return SD_OK;
}

/* Takes items 0 .. upto - 1 of n; returns how many came back right. */
static int consume(int n, int upto, int nslots, int threaded, ctx *c, sd_status *last, sd_error *err) {
  slot slots[4];
  memset(slots, 0, sizeof slots);
  void *sp[4] = {&slots[0], &slots[1], &slots[2], &slots[3]};
  sd_prefetch *p;
  *last = sd_prefetch_start(n, sp, nslots, fetch, c, threaded, &p, err);
  int right = 0;
  for (int k = 0; k < upto && !*last; k++) {
    void *got;
    *last = sd_prefetch_get(p, k, &got, err);
    if (*last) break;
    slot *s = got;
    atomic_store(&s->in_use, 1);
    right += got == sp[k % nslots] && s->item == k;
    nap(k + 3);
    atomic_store(&s->in_use, 0);
    sd_prefetch_release(p, k);
  }
  sd_prefetch_end(p);
  return right;
}

int main(void) {
  for (int threaded = 0; threaded <= 1; threaded++)
    for (int nslots = 1; nslots <= 3; nslots++) {
      const int ns[] = {0, 1, 2, 37};
      for (int i = 0; i < 4; i++) {
        ctx c = {.fail_at = -1, .last = -1};
        sd_error err = {0};
        sd_status s;
        int right = consume(ns[i], ns[i], nslots, threaded, &c, &s, &err);
        CHECK(s == SD_OK && right == ns[i], "threaded %d, %d slots, %d items: %d right, status %d", threaded, nslots,
              ns[i], right, s);
        CHECK(c.fetches == ns[i], "threaded %d, %d slots: %d fetches for %d items", threaded, nslots, c.fetches, ns[i]);
        CHECK(!c.refilled && !c.misorder, "threaded %d, %d slots: %d refills, %d out of order", threaded, nslots,
              c.refilled, c.misorder);
      }
      /* A failure: the items before it come back, then its status and message; nothing after. */
      ctx c = {.fail_at = 7, .last = -1};
      sd_error err = {0};
      sd_status s;
      int right = consume(20, 20, nslots, threaded, &c, &s, &err);
      CHECK(right == 7 && s == SD_ERR_INPUT && strstr(err.msg, "item 7 is unreadable"),
            "threaded %d, %d slots: %d right, status %d, \"%s\"", threaded, nslots, right, s, err.msg);
      CHECK(c.fetches == 8, "threaded %d, %d slots: %d fetches, the failure is the last", threaded, nslots, c.fetches);
      /* The user stops after 5 of 1000 items: the thread stops too, at most nslots ahead. */
      ctx e = {.fail_at = -1, .last = -1};
      sd_error eerr = {0};
      right = consume(1000, 5, nslots, threaded, &e, &s, &eerr);
      CHECK(right == 5 && s == SD_OK && e.fetches <= 5 + nslots, "threaded %d, %d slots: %d right, %d fetches",
            threaded, nslots, right, e.fetches);
    }
  return check_done("test_prefetch");
}
