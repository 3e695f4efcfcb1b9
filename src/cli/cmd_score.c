/* cmd_score.c: `sitediff score MASK TRUTH [--json]`: how well a change mask matches truth. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"

int sd_cmd_score(int argc, char **argv) {
  sd_error err = {0};
  sd_args a = {.argc = argc, .argv = argv, .err = &err};
  const char *pos[2] = {NULL, NULL}, *p;
  int npos = 0, r, json = 0;
  while (!err.code && (r = sd_args_next(&a, &p))) {
    if (r == 2) {
      sd_args_positional(&a, p, pos, 2, &npos);
    } else if (sd_args_is(&a, "--json")) {
      json = 1;
    } else if (sd_args_is(&a, "-h") || sd_args_is(&a, "--help")) {
      printf("usage: sitediff score CHANGE_MASK TRUTH [--json]\n"
             "  pixel precision, recall, F1; the share of truth objects with half their pixels found;\n"
             "  the mask's objects (8-connected) and the share of them touching truth\n");
      return 0;
    } else {
      sd_args_unknown(&a);
    }
  }
  if (!err.code && npos != 2) sd_error_set(&err, SD_ERR_USAGE, "needs CHANGE_MASK and TRUTH");
  sd_score s;
  if (err.code || sd_score_files(pos[0], pos[1], &s, &err)) return sd_cli_fail("score", &err);
  if (json) {
    json_t *o = json_pack("{s:f, s:f, s:f, s:i, s:i, s:f, s:i, s:i, s:f}", "precision", s.precision, "recall", s.recall,
                          "f1", s.f1, "truth_objects", s.truth_objects, "truth_found", s.truth_found, "object_recall",
                          s.object_recall, "objects", s.pred_objects, "objects_on_truth", s.pred_hit,
                          "object_precision", s.object_precision);
    char *txt = o ? json_dumps(o, JSON_REAL_PRECISION(5)) : NULL;
    if (txt) puts(txt);
    free(txt);
    json_decref(o);
  } else {
    printf("precision %.4f  recall %.4f  F1 %.4f  objects found %d/%d (recall %.3f)  mask objects %d, %d on truth "
           "(precision %.3f)\n",
           s.precision, s.recall, s.f1, s.truth_found, s.truth_objects, s.object_recall, s.pred_objects, s.pred_hit,
           s.object_precision);
  }
  return 0;
}
