/* fuzz_options.c: libFuzzer harness for the compare options: the input, split at NUL bytes, is
 * an argument list; parsing must not crash, and whatever it accepts must pass the library's
 * own option check or be refused with a usage error. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4096) return 0;
  char *buf = malloc(size + 1);
  if (!buf) return 0;
  memcpy(buf, data, size);
  buf[size] = 0;
  char *argv[64];
  int argc = 0;
  for (size_t i = 0; i <= size && argc < 64;) {
    argv[argc++] = buf + i;
    i += strlen(buf + i) + 1;
  }
  sd_error err = {0};
  sd_compare_options o;
  sd_compare_options_init(&o);
  sd_args a = {.argc = argc, .argv = argv, .err = &err};
  const char *p;
  int r;
  while (!err.code && (r = sd_args_next(&a, &p)))
    if (r == 1 && !sd_compare_option(&a, &o)) sd_args_unknown(&a);
  if (!err.code) {
    char desc[1024];
    sd_compare_options_describe(&o, desc, sizeof desc); /* reads every field */
    if (o.open_radius < 0 || o.open_radius > 50 || o.k_sigma <= 0 || o.tolerance < -1 || o.tolerance > 5) abort();
  }
  free(buf);
  return 0;
}
