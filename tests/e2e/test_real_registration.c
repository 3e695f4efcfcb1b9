/* test_real_registration.c: the two real registration cases in ../shared/data (skipped, saying
 * so, when that folder is absent): a Sentinel-2 pair with a known offset, and a cross-CRS aerial
 * pair of a town destroyed by a tornado, where confidence must be low. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "../check.h"
#include "e2e_util.h"
#include "sitediff/sitediff.h"

static int run(const char *data, const char *name, const char *out, sd_compare_result *res, json_t **reg) {
  char b[1024], a[1024], rp[1024];
  snprintf(b, sizeof b, "%s/registration/%s/before.tif", data, name);
  snprintf(a, sizeof a, "%s/registration/%s/after.tif", data, name);
  sd_compare_options o;
  e2e_options(&o, b, a, out);
  sd_error err = {0};
  sd_status s = sd_compare(&o, res, &err);
  CHECK(s == SD_OK, "%s: %s", name, err.msg);
  if (s) return 0;
  snprintf(rp, sizeof rp, "%s/report.json", out);
  json_error_t je;
  json_t *root = json_load_file(rp, 0, &je);
  CHECK(root, "%s: report: %s", name, je.text);
  if (!root) return 0;
  *reg = json_incref(json_object_get(root, "registration"));
  json_decref(root);
  return 1;
}

int main(int argc, char **argv) {
  const char *data = argc > 1 ? argv[1] : "../shared/data";
  char probe[1024];
  struct stat st;
  snprintf(probe, sizeof probe, "%s/registration/arosics-s2/before.tif", data);
  if (stat(probe, &st) != 0) {
    printf("SKIP: %s not found; the real-data registration cases need ../shared/data\n", probe);
    return 77;
  }
  sd_compare_result res;
  json_t *reg = NULL;
  if (run(data, "arosics-s2", "real-arosics", &res, &reg)) {
    const char *grade = json_string_value(json_object_get(reg, "grade"));
    json_t *xr = json_object_get(reg, "dx_range"), *yr = json_object_get(reg, "dy_range");
    double x0 = json_real_value(json_array_get(xr, 0)), x1 = json_real_value(json_array_get(xr, 1));
    double y0 = json_real_value(json_array_get(yr, 0)), y1 = json_real_value(json_array_get(yr, 1));
    printf("arosics-s2: grade %s, model %s, dx %.3f (%.3f..%.3f), dy %.3f (%.3f..%.3f)\n", grade,
           json_string_value(json_object_get(json_object_get(reg, "model"), "kind")), res.dx, x0, x1, res.dy, y0, y1);
    /* case.json: dx about +0.45..+0.75, dy about -1.95..-1.65, varying slightly across the scene. */
    CHECK(!strcmp(grade, "ok"), "arosics-s2: grade %s, expected ok", grade);
    CHECK(res.dx >= 0.45 && res.dx <= 0.75, "arosics-s2: dx %.3f outside 0.45..0.75", res.dx);
    CHECK(res.dy >= -1.95 && res.dy <= -1.65, "arosics-s2: dy %.3f outside -1.95..-1.65", res.dy);
    CHECK(x0 >= 0.3 && x1 <= 0.9 && y0 >= -2.1 && y1 <= -1.5, "arosics-s2: the field strays from the stated range");
    json_decref(reg);
  }
  if (run(data, "joplin", "real-joplin", &res, &reg)) {
    const char *grade = json_string_value(json_object_get(reg, "grade"));
    json_t *reasons = json_object_get(reg, "reasons");
    printf("joplin: grade %s, %zu reason(s)%s%s\n", grade, json_array_size(reasons),
           json_array_size(reasons) ? ": " : "",
           json_array_size(reasons) ? json_string_value(json_array_get(reasons, 0)) : "");
    CHECK(strcmp(grade, "ok") != 0, "joplin: destroyed ground graded ok: a confident shift it cannot have");
    CHECK(json_array_size(reasons) > 0, "joplin: low confidence without a reason");
    json_decref(reg);
  }
  return check_done("test_real_registration");
}
