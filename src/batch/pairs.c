/* pairs.c: the pairs of a batch: each one's output folder name (safe for the file system and
 * unique in the batch), a CSV field as the summaries write it, and freeing them. */
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "batch/batch_priv.h"

/* A set of strings by FNV-1a hash, open addressing; it stores pointers, not copies. */
typedef struct strset {
  const char **slot;
  int *value;
  size_t cap;
} strset;

static int strset_init(strset *t, size_t n) {
  t->cap = 16;
  while (t->cap < 2 * n + 2)
    t->cap *= 2;
  t->slot = calloc(t->cap, sizeof *t->slot);
  t->value = calloc(t->cap, sizeof *t->value);
  return t->slot && t->value;
}

/* The slot of key: where it is, or the empty one where it belongs. */
static size_t strset_find(const strset *t, const char *key) {
  uint64_t h = 1469598103934665603u;
  for (const char *c = key; *c; c++)
    h = (h ^ (unsigned char)*c) * 1099511628211u;
  size_t i = h & (t->cap - 1);
  while (t->slot[i] && strcmp(t->slot[i], key))
    i = (i + 1) & (t->cap - 1);
  return i;
}

static void strset_free(strset *t) {
  free(t->slot);
  free(t->value);
}

void sd_batch_safe_name(const char *name, char out[96]) {
  size_t k = 0;
  for (const char *c = name; *c && k < 80; c++) {
    int ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-';
    if (!ok && k == 0) continue; /* no leading '_': "../x" becomes "x" */
    out[k++] = ok ? *c : '_';
  }
  out[k] = 0;
  if (!k) snprintf(out, 96, "pair");
}

/* Folder names: letters, digits, '-' and '_' (for anything else, dots and slashes included), not
 * starting with '_', at most 80 characters, unique ("-2", "-3" ...: the lowest number free when
 * the row comes). Hashed, so a manifest of many equal names is linear, not cubic. */
void sd_batch_name_folders(pair *p, int n) {
  strset taken, next; /* folder names given; per safe name, the lowest suffix maybe free */
  char(*safe)[96] = malloc(sizeof *safe * (size_t)(n ? n : 1));
  if (!safe || !strset_init(&taken, (size_t)n) || !strset_init(&next, (size_t)n)) abort();
  for (int i = 0; i < n; i++) {
    sd_batch_safe_name(p[i].site, safe[i]);
    char name[128];
    snprintf(name, sizeof name, "%s", safe[i]);
    size_t ns = strset_find(&next, safe[i]);
    int dup = next.slot[ns] ? next.value[ns] : 2;
    if (next.slot[ns] || taken.slot[strset_find(&taken, name)])
      for (;; dup++) {
        snprintf(name, sizeof name, "%s-%d", safe[i], dup);
        if (!taken.slot[strset_find(&taken, name)]) break;
      }
    p[i].folder = strdup(name);
    if (!p[i].folder) abort();
    taken.slot[strset_find(&taken, p[i].folder)] = p[i].folder;
    next.slot[ns] = safe[i];
    next.value[ns] = dup;
  }
  strset_free(&taken);
  strset_free(&next);
  free(safe);
}

void sd_batch_csv_field(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"') fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

void sd_batch_free_pair(pair *p) {
  free(p->site);
  free(p->folder);
  free(p->before);
  free(p->after);
  free(p->mask_before);
  free(p->mask_after);
}

void sd_batch_free_pairs(pair *pairs, int n) {
  for (int i = 0; i < n; i++)
    sd_batch_free_pair(&pairs[i]);
  free(pairs);
}
