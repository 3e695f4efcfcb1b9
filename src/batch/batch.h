/* batch.h: batch internals exposed for tests and fuzzing. */
#ifndef SD_BATCH_H
#define SD_BATCH_H

#include "sitediff/error.h"

/* Parses a manifest (CSV or JSON text, NUL-terminated) and names its pair folders, running
 * nothing. Returns the number of pairs, or -1 with err set. Aborts if a folder name breaks the
 * naming rule (letters, digits, '-', '_'). */
int sd_batch_parse_manifest(const char *text, sd_error *err);

#endif
