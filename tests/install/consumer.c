/* consumer.c: a program outside the tree, built against the installed libsitediff through
 * pkg-config (test_install.sh), comparing two images with the public API only. */
#include <sitediff/sitediff.h>

#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: consumer BEFORE AFTER OUTDIR\n");
    return 2;
  }
  sd_compare_options opts;
  sd_compare_options_init(&opts);
  opts.before = argv[1];
  opts.after = argv[2];
  opts.outdir = argv[3];
  opts.quiet = 1;

  sd_compare_result res;
  sd_error err = {0};
  sd_status s = sd_compare(&opts, &res, &err);
  if (s != SD_OK) {
    fprintf(stderr, "consumer: %s: %s\n", sd_status_name(s), err.msg);
    return sd_status_exit_code(s);
  }
  printf("version %s\n", sd_version());
  printf("grid %d x %d\n", res.width, res.height);
  printf("registered %d grade %d dx %.3f dy %.3f tie_points %d kept %d\n", res.registered, res.reg_grade, res.dx,
         res.dy, res.tie_points, res.tie_kept);
  printf("threshold %.3f\n", res.threshold);
  printf("changed_pixels %lld\n", (long long)res.changed_px);
  printf("objects %d\n", res.n_objects);
  for (int c = 0; c < SD_CLASS_COUNT; c++)
    printf("class %s %d\n", sd_class_name(c), res.by_class[c]);

  const char *outputs[] = {"report.json", "change_mask.tif"};
  char path[4096];
  for (size_t i = 0; i < sizeof outputs / sizeof outputs[0]; i++) {
    snprintf(path, sizeof path, "%s/%s", argv[3], outputs[i]);
    if (access(path, R_OK) != 0) {
      fprintf(stderr, "consumer: %s is missing\n", path);
      return 1;
    }
  }
  return 0;
}
