/* series.c: `batch --dir DIR`: DIR/<site>/<date>.<ext> scanned into each site's consecutive pairs. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "batch/batch_priv.h"

/* A file name that starts with a date, YYYY-MM-DD or YYYYMMDD; writes YYYY-MM-DD. */
static int date_of(const char *name, char out[16]) {
  int y, m, d;
  char rest;
  if ((sscanf(name, "%4d-%2d-%2d%c", &y, &m, &d, &rest) == 4 || sscanf(name, "%4d%2d%2d%c", &y, &m, &d, &rest) == 4) &&
      rest == '.' && y > 1900 && y < 3000 && m >= 1 && m <= 12 && d >= 1 && d <= 31) {
    snprintf(out, 16, "%04d-%02d-%02d", y, m, d);
    return 1;
  }
  return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* DIR/<site>/<date>.<ext>: each site's images in date order, consecutive dates compared. */
sd_status sd_batch_scan_series(const char *dir, const sd_compare_options *def, pair **out, int *n, sd_error *err) {
  DIR *d = opendir(dir);
  if (!d) return sd_error_set(err, SD_ERR_INPUT, "batch: %s: %s", dir, strerror(errno));
  char *sites[4096];
  int ns = 0;
  struct dirent *e;
  while ((e = readdir(d)) && ns < 4096) {
    char p[4400];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    if (e->d_name[0] != '.' && stat(p, &st) == 0 && S_ISDIR(st.st_mode)) sites[ns++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(sites, (size_t)ns, sizeof *sites, cmp_str);
  int cap = 16, count = 0;
  pair *pairs = calloc((size_t)cap, sizeof *pairs);
  for (int s = 0; s < ns; s++) {
    char sd[4400], *files[4096];
    int nf = 0;
    snprintf(sd, sizeof sd, "%s/%s", dir, sites[s]);
    DIR *sdir = opendir(sd);
    char date[16];
    while (sdir && (e = readdir(sdir)) && nf < 4096)
      if (date_of(e->d_name, date)) files[nf++] = strdup(e->d_name);
    if (sdir) closedir(sdir);
    qsort(files, (size_t)nf, sizeof *files, cmp_str); /* date-first names sort by date */
    for (int i = 0; i + 1 < nf; i++) {
      if (count == cap) pairs = realloc(pairs, sizeof *pairs * (size_t)(cap *= 2));
      pair *q = &pairs[count++];
      memset(q, 0, sizeof *q);
      q->opts = *def;
      snprintf(q->series, sizeof q->series, "%s", sites[s]);
      date_of(files[i], q->date_before);
      date_of(files[i + 1], q->date_after);
      char label[300];
      snprintf(label, sizeof label, "%s %s..%s", sites[s], q->date_before, q->date_after);
      q->site = strdup(label);
      q->before = sd_batch_resolve(sd, files[i]);
      q->after = sd_batch_resolve(sd, files[i + 1]);
      q->opts.date_before = q->date_before;
      q->opts.date_after = q->date_after;
    }
    for (int i = 0; i < nf; i++)
      free(files[i]);
    free(sites[s]);
  }
  *out = pairs;
  *n = count;
  return SD_OK;
}
