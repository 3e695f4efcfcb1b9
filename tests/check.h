/* check.h: assertions for the test programs: report every failure, exit non-zero at the end. */
#ifndef SD_CHECK_H
#define SD_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int sd_check_failures = 0;

#define CHECK(cond, ...)                                                                                               \
  do {                                                                                                                 \
    if (!(cond)) {                                                                                                     \
      sd_check_failures++;                                                                                             \
      fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond);                                         \
      fprintf(stderr, __VA_ARGS__);                                                                                    \
      fputc('\n', stderr);                                                                                             \
    }                                                                                                                  \
  } while (0)

#define CHECK_NEAR(a, b, tol, what)                                                                                    \
  CHECK(fabs((double)(a) - (double)(b)) <= (tol), "%s: %.6g vs %.6g (tolerance %.3g)", what, (double)(a), (double)(b), \
        (double)(tol))

static inline int check_done(const char *name) {
  if (sd_check_failures) {
    fprintf(stderr, "%s: %d check(s) failed\n", name, sd_check_failures);
    return 1;
  }
  printf("%s: all checks passed\n", name);
  return 0;
}

#endif
