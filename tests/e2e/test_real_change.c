/* test_real_change.c: pixel F1 on the labelled real pairs in ../shared/data/change (skipped,
 * saying so, when absent): sitediff's default beside the plain change-vector + Otsu baseline
 * (per-image z-score, magnitude, Otsu, opening, minimum size) run through the same pipeline.
 * Over all pairs the default must beat the baseline clearly (0.348 against 0.218 today; the
 * bound is +0.07), and on no set fall more than 0.005 below it (LEVIR-CD 1024² is closest: 0.158
 * against 0.160; 0.005 also leaves room for the last bits of another CPU's vector kernels). The
 * structure focus's segments: on web-map RGB they run, clear some detected pixels and add others
 * (whole segments), keep fewer segments than were candidates, and give the same mask for 1 and 2
 * threads and with --low-memory; on Sentinel-2 they say why they did not run. The ranking: on
 * the RGB pairs the ten best-ranked objects lie on labelled change more often than the rest. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gdal_alg.h>
#include <jansson.h>
#include <ogr_api.h>

#include "../check.h"
#include "e2e_util.h"
#include "sitediff/sitediff.h"

/* A pair's files: inputs and truth in dir, outputs in out. */
typedef struct pair_files {
  char before[1500], after[1500], truth[1500], mask[1500], report[1500];
} pair_files;

static void pair_files_of(const char *dir, const char *out, pair_files *f, sd_compare_options *o) {
  snprintf(f->before, sizeof f->before, "%s/before.tif", dir);
  snprintf(f->after, sizeof f->after, "%s/after.tif", dir);
  snprintf(f->truth, sizeof f->truth, "%s/truth.tif", dir);
  snprintf(f->mask, sizeof f->mask, "%s/change_mask.tif", out);
  snprintf(f->report, sizeof f->report, "%s/report.json", out);
  e2e_options(o, f->before, f->after, out);
}

/* Under AddressSanitizer (./dev sanitize, in CI after the plain build has run everything) each
 * set is cut to its first pair and the F1 bounds, which hold over whole sets, are not
 * judged: that build is for memory errors (the full sets there took 144 s). */
#if defined(__SANITIZE_ADDRESS__)
enum { MAX_PAIRS = 1, JUDGE_F1 = 0 };
#else
enum { MAX_PAIRS = 64, JUDGE_F1 = 1 };
#endif

static double f1_of(const char *dir, const char *out, int baseline) {
  pair_files f;
  sd_compare_options o;
  pair_files_of(dir, out, &f, &o);
  if (baseline) {
    o.normalize = 1;        /* z-score */
    o.metric = 0;           /* change-vector magnitude */
    o.threshold_method = 1; /* Otsu */
    o.tolerance = 0;
    o.close_radius = 0;
    o.segments = 1; /* off: the plain pipeline */
  }
  sd_error err = {0};
  sd_score sc;
  if (sd_compare(&o, NULL, &err) || sd_score_files(f.mask, f.truth, &sc, &err)) {
    CHECK(0, "%s: %s", dir, err.msg);
    return 0;
  }
  return sc.f1;
}

/* Runs one pair with the given threads, segments mode and --low-memory; the mask in *mask (w x h),
 * and report.json's segments block (a new reference) in *seg. */
static int run_pair(const char *dir, const char *out, int threads, int segments, int low_memory, float **mask, int *w,
                    int *h, json_t **seg) {
  pair_files f;
  sd_compare_options o;
  pair_files_of(dir, out, &f, &o);
  o.threads = threads;
  o.segments = segments;
  o.low_memory = low_memory;
  sd_error err = {0};
  if (sd_compare(&o, NULL, &err)) {
    CHECK(0, "%s: %s", dir, err.msg);
    return -1;
  }
  double gt[6];
  *mask = read_band(f.mask, w, h, gt, NULL);
  json_t *rep = json_load_file(f.report, 0, NULL);
  *seg = json_incref(json_object_get(rep, "segments"));
  json_decref(rep);
  return *mask && *seg ? 0 : -1;
}

static void segment_checks(const char *root) {
  char rgb[1200], s2[1200];
  snprintf(rgb, sizeof rgb, "%s/levir-cd/test_2_0000_0000", root);
  snprintf(s2, sizeof s2, "%s/oscd/bercy", root);
  float *m1 = NULL, *m2 = NULL, *mlow = NULL, *off = NULL, *ms2 = NULL;
  json_t *g1 = NULL, *g2 = NULL, *glow = NULL, *goff = NULL, *gs2 = NULL;
  int w, h, w2, h2, w3, h3, w4, h4, w5, h5;
  if (run_pair(rgb, "real-change/seg-t1", 1, 0, 0, &m1, &w, &h, &g1) ||
      run_pair(rgb, "real-change/seg-t2", 2, 0, 0, &m2, &w2, &h2, &g2) ||
      run_pair(rgb, "real-change/seg-low", 2, 0, 1, &mlow, &w5, &h5, &glow) ||
      run_pair(rgb, "real-change/seg-off", 2, 1, 0, &off, &w3, &h3, &goff) ||
      run_pair(s2, "real-change/seg-s2", 2, 0, 0, &ms2, &w4, &h4, &gs2)) {
    CHECK(0, "segment runs failed");
  } else {
    CHECK(json_is_true(json_object_get(g1, "applied")), "segments run on web-map RGB at 0.5 m: %s",
          json_string_value(json_object_get(g1, "why")));
    CHECK(json_integer_value(json_object_get(g1, "dropped_px")) > 0, "some detected pixels cleared");
    CHECK(json_integer_value(json_object_get(g1, "added_px")) > 0, "some segments filled out");
    CHECK(json_integer_value(json_object_get(g1, "kept_segments")) > 0 &&
              json_integer_value(json_object_get(g1, "kept_segments")) <
                  json_integer_value(json_object_get(g1, "candidate_segments")),
          "some candidate segments kept, not all: %lld of %lld",
          (long long)json_integer_value(json_object_get(g1, "kept_segments")),
          (long long)json_integer_value(json_object_get(g1, "candidate_segments")));
    CHECK(json_real_value(json_object_get(g1, "level")) > 0, "a level from the scene's scores");
    CHECK(json_is_false(json_object_get(goff, "applied")), "--segments off: not applied");
    CHECK(json_is_false(json_object_get(gs2, "applied")), "not applied on Sentinel-2");
    CHECK(strstr(json_string_value(json_object_get(gs2, "why")), "RGB") != NULL, "why not: %s",
          json_string_value(json_object_get(gs2, "why")));
    int64_t same = 0, low = 0, added = 0, fewer = 0, n = (int64_t)w * h;
    for (int64_t i = 0; i < n; i++) {
      same += m1[i] == m2[i];
      low += m1[i] == mlow[i];
      added += m1[i] == 1 && off[i] != 1;
      fewer += m1[i] != 1 && off[i] == 1;
    }
    CHECK(same == n, "1 and 2 threads: %lld of %lld mask pixels differ", (long long)(n - same), (long long)n);
    CHECK(low == n, "magnitude read back (--low-memory): %lld of %lld mask pixels differ", (long long)(n - low),
          (long long)n);
    CHECK(added > 0 && fewer > 0, "against --segments off: %lld pixels added, %lld cleared", (long long)added,
          (long long)fewer);
  }
  free(m1);
  free(m2);
  free(mlow);
  free(off);
  free(ms2);
  json_decref(g1);
  json_decref(g2);
  json_decref(glow);
  json_decref(goff);
  json_decref(gs2);
}

/* The ranking: the share of the TOP best-ranked objects of out/ that lie on labelled change (any
 * labelled pixel under the object), and the share of all its objects; -1 when it has none. The
 * objects are burnt into the mask's grid by id, as a reader of objects.geojson would. */
enum { TOP = 10 };
static void ranking_of(const char *out, const char *truth, double *top, double *all) {
  char mpath[1500], opath[1500];
  snprintf(mpath, sizeof mpath, "%s/change_mask.tif", out);
  snprintf(opath, sizeof opath, "%s/objects.geojson", out);
  *top = *all = -1;
  int w = 0, h = 0, tw = -1, th = -1;
  double gt[6], tgt[6];
  float *mask = read_band(mpath, &w, &h, gt, NULL), *t = read_band(truth, &tw, &th, tgt, NULL);
  GDALDatasetH mem = GDALCreate(GDALGetDriverByName("MEM"), "", w, h, 1, GDT_Int32, NULL);
  GDALDatasetH vec = GDALOpenEx(opath, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
  int32_t *ids = malloc(sizeof *ids * (size_t)w * h);
  OGRLayerH lyr = vec ? GDALDatasetGetLayer(vec, 0) : NULL;
  int n = lyr ? (int)OGR_L_GetFeatureCount(lyr, TRUE) : 0, band = 1;
  char *opts[] = {"ATTRIBUTE=id", NULL};
  int ok = mask && t && tw == w && th == h && mem && lyr && ids && n > 0 && GDALSetGeoTransform(mem, gt) == CE_None &&
           GDALRasterizeLayers(mem, 1, &band, 1, &lyr, NULL, NULL, NULL, opts, NULL, NULL) == CE_None &&
           GDALRasterIO(GDALGetRasterBand(mem, 1), GF_Read, 0, 0, w, h, ids, w, h, GDT_Int32, 0, 0) == CE_None;
  CHECK(ok, "%s: objects not read against %s", out, truth);
  int *rank_of = ok ? calloc((size_t)n + 1, sizeof *rank_of) : NULL;
  char *on = ok ? calloc((size_t)n + 1, 1) : NULL;
  if (rank_of && on) {
    OGRFeatureH f;
    OGR_L_ResetReading(lyr);
    while ((f = OGR_L_GetNextFeature(lyr))) {
      int id = OGR_F_GetFieldAsInteger(f, OGR_F_GetFieldIndex(f, "id"));
      if (id >= 1 && id <= n) rank_of[id] = OGR_F_GetFieldAsInteger(f, OGR_F_GetFieldIndex(f, "rank"));
      OGR_F_Destroy(f);
    }
    for (int64_t i = 0; i < (int64_t)w * h; i++)
      if (ids[i] >= 1 && ids[i] <= n && mask[i] == 1 && t[i] > 0) on[ids[i]] = 1;
    int in_top = 0, top_on = 0, all_on = 0;
    for (int id = 1; id <= n; id++) {
      all_on += on[id];
      if (rank_of[id] >= 1 && rank_of[id] <= TOP) {
        in_top++;
        top_on += on[id];
      }
    }
    *top = in_top ? (double)top_on / in_top : -1;
    *all = (double)all_on / n;
  }
  free(rank_of);
  free(on);
  free(ids);
  free(mask);
  free(t);
  if (vec) GDALClose(vec);
  if (mem) GDALClose(mem);
}

static int cmp(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }

int main(int argc, char **argv) {
  const char *data = argc > 1 ? argv[1] : "../shared/data";
  const char *sets[] = {"oscd", "levir-cd", "levir-cd-1024", "dsifn", "sztaki", "egy-bcd"};
  double all_ours = 0, all_base = 0, top_sum = 0, objp_sum = 0;
  int all_n = 0, ranked_n = 0;
  char root[1024];
  snprintf(root, sizeof root, "%s/change", data);
  struct stat st;
  if (stat(root, &st) != 0) {
    printf("SKIP: %s not found; the real change pairs need ../shared/data\n", root);
    return 77;
  }
  mkdir("real-change", 0777);
  segment_checks(root);
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
    for (int i = MAX_PAIRS; i < n; i++)
      free(names[i]);
    if (n > MAX_PAIRS) n = MAX_PAIRS;
    double ours = 0, base = 0;
    for (int i = 0; i < n; i++) {
      char dir[1300], out1[1400], out2[1400];
      snprintf(dir, sizeof dir, "%s/%s", setdir, names[i]);
      snprintf(out1, sizeof out1, "real-change/%s-%s", sets[s], names[i]);
      snprintf(out2, sizeof out2, "real-change/%s-%s-baseline", sets[s], names[i]);
      double f = f1_of(dir, out1, 0), g = f1_of(dir, out2, 1), top = -1, objp = -1;
      if (s > 0) { /* the fine RGB sets: pairs of a few hundred objects */
        char truth[1400];
        snprintf(truth, sizeof truth, "%s/truth.tif", dir);
        ranking_of(out1, truth, &top, &objp);
      }
      if (top >= 0) {
        top_sum += top;
        objp_sum += objp;
        ranked_n++;
      }
      printf("%-34s %8.3f %8.3f", names[i], f, g);
      if (top >= 0) printf("   top %d on labels %.2f, all objects %.2f", TOP, top, objp);
      printf("\n");
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
    CHECK(!JUDGE_F1 || ours >= base - 0.005, "%s: mean F1 %.3f below the baseline's %.3f", sets[s], ours, base);
  }
  if (all_n) {
    printf("%-34s %8.3f %8.3f\n", "all pairs", all_ours / all_n, all_base / all_n);
    CHECK(!JUDGE_F1 || all_ours / all_n >= all_base / all_n + 0.07,
          "all pairs: mean F1 %.3f does not clearly beat the baseline's %.3f", all_ours / all_n, all_base / all_n);
  }
  if (ranked_n) {
    /* By the evidence: 0.51 against 0.28 for all objects; ranked by the strength alone (before
     * 2026-12-03) the top ten scored 0.30, and this check failed (README, "Score and rank"). */
    double top = top_sum / ranked_n, objp = objp_sum / ranked_n;
    printf("%-34s top %d on labels %.2f, all objects %.2f (%d pairs)\n", "ranking", TOP, top, objp, ranked_n);
    CHECK(!JUDGE_F1 || (top >= 0.4 && top >= objp + 0.1),
          "ranking: the top %d objects lie on labelled change in %.2f of cases, all objects in %.2f", TOP, top, objp);
  }
  return check_done("test_real_change");
}
