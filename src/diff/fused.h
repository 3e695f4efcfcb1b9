/* fused.h: the fused core for inputs already on the grid: native pixels of both dates in,
 * normalise + magnitude + threshold, a uint8 mask out, in one pass (a reference and a fast twin). */
#ifndef SD_FUSED_H
#define SD_FUSED_H

#include <stddef.h>
#include <stdint.h>

#include "diff/diff.h"

typedef enum sd_pixtype { SD_T_U8, SD_T_U16, SD_T_F32 } sd_pixtype;

typedef struct sd_fused_params {
  sd_diff_params d; /* gain, offset, sigma per band */
  float threshold;  /* change where the magnitude exceeds it */
  int has_nodata;   /* integer inputs: this value in any band of either date is nodata */
  float nodata;     /* (Float32 inputs: NaN is always nodata) */
} sd_fused_params;

/* mask[i] = 255 where either date is nodata, 1 where the magnitude exceeds the threshold, else 0.
 * before/after: d.nbands planes of n pixels of type t. */
typedef void sd_fused_fn(const sd_fused_params *p, sd_pixtype t, const void *const *before, const void *const *after,
                         size_t n, uint8_t *mask);

sd_fused_fn sd_fused_ref;  /* plain, in double: obviously right */
sd_fused_fn sd_fused_vec;  /* flat C loops the compiler vectorises (fused.c) */
sd_fused_fn sd_fused_fast; /* AVX-512 where the build has it (fused_avx512.c), else sd_fused_vec */

/* What sd_fused_fast runs: "AVX-512" or "compiler-vectorised C". */
const char *sd_fused_fast_isa(void);

size_t sd_pixtype_size(sd_pixtype t);

#endif
