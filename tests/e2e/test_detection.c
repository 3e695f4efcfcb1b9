/* test_detection.c: detection quality on generated pairs with truth (10 seeds, noise up to
 * sigma 50 on UInt16, mixed pixel sizes and CRS): pixel F1, object recall, class and sign
 * accuracy, and false objects per million pixels, matching objects by pixel overlap. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gdal.h>
#include <jansson.h>

#include "../check.h"
#include "detect/detect.h"
#include "e2e_util.h"
#include "sitediff/sitediff.h"

typedef struct feature {
  int x0, y0, x1, y1;
  const char *cls, *sign;
} feature;

typedef struct tally {
  int truth, found, class_ok, sign_ok, false_objects;
  double mpx, f1_sum;
  int pairs;
} tally;

static void evaluate(const char *dir, const char *out, tally *t) {
  char p[512];
  json_error_t je;
  snprintf(p, sizeof p, "%s/objects.geojson", out);
  json_t *gj = json_load_file(p, 0, &je);
  snprintf(p, sizeof p, "%s/truth.json", dir);
  json_t *tj = json_load_file(p, 0, &je);
  CHECK(gj && tj, "%s: objects or truth unreadable", out);
  if (!gj || !tj) return;
  json_t *feats = json_object_get(gj, "features");
  int nf = (int)json_array_size(feats);
  feature *fs = calloc((size_t)nf + 1, sizeof *fs);
  for (int i = 0; i < nf; i++) {
    json_t *pr = json_object_get(json_array_get(feats, i), "properties");
    fs[i] = (feature){(int)json_integer_value(json_object_get(pr, "bbox_x0")),
                      (int)json_integer_value(json_object_get(pr, "bbox_y0")),
                      (int)json_integer_value(json_object_get(pr, "bbox_x1")),
                      (int)json_integer_value(json_object_get(pr, "bbox_y1")),
                      json_string_value(json_object_get(pr, "class")),
                      json_string_value(json_object_get(pr, "sign"))};
  }
  int mw = 0, mh = 0, tw = 0, th = 0;
  double mgt[6], tgt[6];
  snprintf(p, sizeof p, "%s/change_mask.tif", out);
  float *mask = read_band(p, &mw, &mh, mgt, NULL);
  snprintf(p, sizeof p, "%s/truth.tif", dir);
  float *truth = read_band(p, &tw, &th, tgt, NULL);
  int ox = (int)lround((mgt[0] - tgt[0]) / tgt[1]), oy = (int)lround((mgt[3] - tgt[3]) / tgt[5]);
  /* Components of the mask, each assigned to the smallest feature bbox holding its first pixel. */
  size_t n = (size_t)mw * mh;
  uint8_t *m8 = malloc(n);
  int32_t *lab = malloc(n * sizeof *lab);
  for (size_t i = 0; i < n; i++)
    m8[i] = mask[i] == 1;
  int nl = sd_label(m8, mw, mh, lab);
  int *owner = malloc(sizeof(int) * ((size_t)nl + 1));
  for (int l = 0; l <= nl; l++)
    owner[l] = -1;
  for (int y = 0; y < mh; y++)
    for (int x = 0; x < mw; x++) {
      int32_t l = lab[(size_t)y * mw + x];
      if (!l || owner[l] >= 0) continue;
      long best = -1;
      for (int f = 0; f < nf; f++)
        if (x >= fs[f].x0 && x <= fs[f].x1 && y >= fs[f].y0 && y <= fs[f].y1) {
          long area = (long)(fs[f].x1 - fs[f].x0 + 1) * (fs[f].y1 - fs[f].y0 + 1);
          if (best < 0 || area < best) {
            best = area;
            owner[l] = f;
          }
        }
    }
  /* Overlap of every truth id with every feature. */
  int maxid = 0;
  for (size_t i = 0; i < (size_t)tw * th; i++)
    if (truth[i] > maxid) maxid = (int)truth[i];
  long *ov = calloc((size_t)(maxid + 1) * (nf + 1), sizeof *ov), *tot = calloc((size_t)maxid + 1, sizeof *tot);
  int *feat_hit = calloc((size_t)nf + 1, sizeof *feat_hit);
  for (int y = 0; y < mh; y++)
    for (int x = 0; x < mw; x++) {
      int tx = x + ox, ty = y + oy;
      int tid = tx >= 0 && ty >= 0 && tx < tw && ty < th ? (int)truth[(size_t)ty * tw + tx] : 0;
      int32_t l = lab[(size_t)y * mw + x];
      int f = l ? owner[l] : -1;
      if (tid) tot[tid]++;
      if (tid && f >= 0) {
        ov[(size_t)tid * (nf + 1) + f]++;
        feat_hit[f] = 1;
      }
    }
  json_t *objs = json_object_get(tj, "objects");
  size_t k;
  json_t *o;
  json_array_foreach(objs, k, o) {
    int id = (int)json_integer_value(json_object_get(o, "id"));
    if (id > maxid || tot[id] < 0.9 * json_integer_value(json_object_get(o, "area_px"))) continue; /* off the grid */
    t->truth++;
    int bf = -1;
    long bo = 0;
    for (int f = 0; f < nf; f++)
      if (ov[(size_t)id * (nf + 1) + f] > bo) {
        bo = ov[(size_t)id * (nf + 1) + f];
        bf = f;
      }
    if (bf < 0 || bo < 0.5 * tot[id]) {
      printf("  missed %s (id %d)\n", json_string_value(json_object_get(o, "kind")), id);
      continue;
    }
    t->found++;
    const char *tc = json_string_value(json_object_get(o, "class")),
               *ts = json_string_value(json_object_get(o, "sign"));
    int cok = !strcmp(tc, fs[bf].cls), sok = !strcmp(ts, fs[bf].sign);
    t->class_ok += cok;
    t->sign_ok += sok;
    if (!cok || !sok)
      printf("  %s (id %d): %s %s, detected as %s %s\n", json_string_value(json_object_get(o, "kind")), id, tc, ts,
             fs[bf].cls, fs[bf].sign);
  }
  for (int f = 0; f < nf; f++)
    if (!feat_hit[f]) {
      t->false_objects++;
      printf("  false object: %s at (%d, %d)\n", fs[f].cls, fs[f].x0, fs[f].y0);
    }
  t->mpx += (double)n / 1e6;
  free(fs);
  free(mask);
  free(truth);
  free(m8);
  free(lab);
  free(owner);
  free(ov);
  free(tot);
  free(feat_hit);
  json_decref(gj);
  json_decref(tj);
}

int main(void) {
  GDALAllRegister();
  mkdir("det-pairs", 0777);
  tally t = {0};
  sd_rng r = {4242};
  for (int i = 0; i < 10; i++) {
    char dir[128], out[160];
    snprintf(dir, sizeof dir, "det-pairs/seed%d", i);
    snprintf(out, sizeof out, "%s/out", dir);
    sd_synth_options so;
    sd_synth_options_init(&so);
    so.outdir = dir;
    so.seed = 300 + i;
    so.size = 512;
    so.after_scale = sd_rng_range(&r, 0.7, 1.4);
    so.shift_x = sd_rng_range(&r, -2, 2);
    so.shift_y = sd_rng_range(&r, -2, 2);
    so.noise = 5 + 5 * i; /* 5 .. 50 */
    so.after_epsg = i % 3 == 2 ? 4326 : 0;
    sd_error err = {0};
    CHECK(sd_synth(&so, &err) == SD_OK, "synth: %s", err.msg);
    char b[256], a[256], m[256], tr[256];
    snprintf(b, sizeof b, "%s/before.tif", dir);
    snprintf(a, sizeof a, "%s/after.tif", dir);
    sd_compare_options o;
    e2e_options(&o, b, a, out);
    CHECK(sd_compare(&o, NULL, &err) == SD_OK, "seed %d: %s", i, err.msg);
    snprintf(m, sizeof m, "%s/change_mask.tif", out);
    snprintf(tr, sizeof tr, "%s/truth.tif", dir);
    sd_score sc;
    CHECK(sd_score_files(m, tr, &sc, &err) == SD_OK, "score: %s", err.msg);
    int before_truth = t.truth, before_found = t.found, before_false = t.false_objects;
    evaluate(dir, out, &t);
    printf("seed %d (noise %2.0f, scale %.2f, EPSG %d): F1 %.3f, objects %d/%d, false objects %d\n", i, so.noise,
           so.after_scale, so.after_epsg ? so.after_epsg : 32636, sc.f1, t.found - before_found, t.truth - before_truth,
           t.false_objects - before_false);
    t.f1_sum += sc.f1;
    t.pairs++;
  }
  double f1 = t.f1_sum / t.pairs, recall = (double)t.found / t.truth, cls = (double)t.class_ok / t.found,
         sign = (double)t.sign_ok / t.found, fpm = t.false_objects / t.mpx;
  printf("mean pixel F1 %.3f, object recall %.3f (%d/%d), class accuracy %.3f, sign accuracy %.3f, false objects %.2f "
         "per Mpx (%d over %.1f Mpx)\n",
         f1, recall, t.found, t.truth, cls, sign, fpm, t.false_objects, t.mpx);
  CHECK(f1 >= 0.90, "mean pixel F1 %.3f < 0.90", f1);
  CHECK(recall >= 0.95, "object recall %.3f < 0.95", recall);
  CHECK(cls >= 0.90, "class accuracy %.3f < 0.90", cls);
  CHECK(sign >= 0.90, "sign accuracy %.3f < 0.90", sign);
  CHECK(fpm <= 1.0, "%.2f false objects per million pixels > 1", fpm);
  return check_done("test_detection");
}
