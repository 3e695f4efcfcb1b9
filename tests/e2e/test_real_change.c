/* test_real_change.c: pixel F1 on the labelled real pairs in ../shared/data/change (skipped,
 * saying so, when absent): sitediff's default beside the plain change-vector + Otsu baseline
 * (per-image z-score, magnitude, Otsu, opening, minimum size) run through the same pipeline.
 * Over all pairs the default must beat the baseline clearly, and on no set fall clearly below it
 * (0.02: on LEVIR-CD 1024² it is 0.150 against 0.160 today, the gap issue 15 is to close). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../check.h"
#include "e2e_util.h"
#include "sitediff/sitediff.h"

static double f1_of(const char *dir, const char *out, int baseline) {
  char b[1500], a[1500], m[1500], t[1500];
  snprintf(b, sizeof b, "%s/before.tif", dir);
  snprintf(a, sizeof a, "%s/after.tif", dir);
  snprintf(m, sizeof m, "%s/change_mask.tif", out);
  snprintf(t, sizeof t, "%s/truth.tif", dir);
  sd_compare_options o;
  e2e_options(&o, b, a, out);
  if (baseline) {
    o.normalize = 1;        /* z-score */
    o.metric = 0;           /* change-vector magnitude */
    o.threshold_method = 1; /* Otsu */
    o.tolerance = 0;
    o.close_radius = 0;
  }
  sd_error err = {0};
  sd_score sc;
  if (sd_compare(&o, NULL, &err) || sd_score_files(m, t, &sc, &err)) {
    CHECK(0, "%s: %s", dir, err.msg);
    return 0;
  }
  return sc.f1;
}

static int cmp(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }

int main(int argc, char **argv) {
  const char *data = argc > 1 ? argv[1] : "../shared/data";
  const char *sets[] = {"oscd", "levir-cd", "levir-cd-1024", "dsifn", "sztaki", "egy-bcd"};
  double all_ours = 0, all_base = 0;
  int all_n = 0;
  char root[1024];
  snprintf(root, sizeof root, "%s/change", data);
  struct stat st;
  if (stat(root, &st) != 0) {
    printf("SKIP: %s not found; the real change pairs need ../shared/data\n", root);
    return 77;
  }
  mkdir("real-change", 0777);
  printf("%-34s %8s %8s\n", "pair", "sitediff", "baseline");
  for (size_t s = 0; s < sizeof sets / sizeof sets[0]; s++) {
    char setdir[1100];
    snprintf(setdir, sizeof setdir, "%s/%s", root, sets[s]);
    DIR *d = opendir(setdir);
    CHECK(d, "%s missing", setdir);
    if (!d) continue;
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64)
      if (e->d_name[0] != '.') names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, cmp);
    double ours = 0, base = 0;
    for (int i = 0; i < n; i++) {
      char dir[1300], out1[1400], out2[1400];
      snprintf(dir, sizeof dir, "%s/%s", setdir, names[i]);
      snprintf(out1, sizeof out1, "real-change/%s-%s", sets[s], names[i]);
      snprintf(out2, sizeof out2, "real-change/%s-%s-baseline", sets[s], names[i]);
      double f = f1_of(dir, out1, 0), g = f1_of(dir, out2, 1);
      printf("%-34s %8.3f %8.3f\n", names[i], f, g);
      ours += f;
      base += g;
      free(names[i]);
    }
    all_ours += ours;
    all_base += base;
    all_n += n;
    ours /= n;
    base /= n;
    printf("%-34s %8.3f %8.3f\n\n", sets[s], ours, base);
    CHECK(ours >= base - 0.02, "%s: mean F1 %.3f clearly below the baseline's %.3f", sets[s], ours, base);
  }
  if (all_n) {
    printf("%-34s %8.3f %8.3f\n", "all pairs", all_ours / all_n, all_base / all_n);
    CHECK(all_ours / all_n >= all_base / all_n + 0.04,
          "all pairs: mean F1 %.3f does not clearly beat the baseline's %.3f", all_ours / all_n, all_base / all_n);
  }
  return check_done("test_real_change");
}
