/* fused_impl.h: what fused.c and fused_avx512.c share: the folded constants and the chunk
 * functions they each provide, one per pixel type and band count. Private to src/diff. */
#ifndef SD_FUSED_IMPL_H
#define SD_FUSED_IMPL_H

#include "diff/fused.h"
#include "sd_config.h"

typedef struct sd_fused_k {
  float ka[SD_MAX_BANDS], kb[SD_MAX_BANDS], kc[SD_MAX_BANDS];
  float thr2, nd;
  int has_nd, nb;
} sd_fused_k;

/* Pixels i0..i1 of the planes -> mask (the same pixels). */
typedef void sd_fused_chunk_fn(const sd_fused_k *k, const void *const *before, const void *const *after, size_t i0,
                               size_t i1, uint8_t *restrict mask);

/* The table column for a band count: 1, 3, 4 and 8 bands have their own loops, others share one. */
static inline int sd_fused_column(int nb) { return nb == 1 ? 0 : nb == 3 ? 1 : nb == 4 ? 2 : nb == 8 ? 3 : 4; }

/* The AVX-512 chunk for type t and nb bands when threads run the chunks (the loop shape that is
 * fastest there; every shape gives the same bytes); NULL when this build has none. */
sd_fused_chunk_fn *sd_fused_avx512_pick(sd_pixtype t, int nb, int threads);

#endif
