/* fused.c: the fast fused kernel. Threads take chunks of pixels; each chunk runs a flat loop
 * specialised per pixel type and band count, which the compiler vectorises (check with
 * -fopt-info-vec). The magnitude is compared squared (no sqrt) and nodata is folded in
 * arithmetically, so the loop has no branches. Plane pointers are copied into local restrict
 * arrays: the uint8 mask stores could otherwise alias them and force a reload per pixel. */
#include <math.h>

#include "diff/fused_impl.h"

#define SD_FUSED_CHUNK(NAME, T, NB)                                                                                    \
  static void NAME(const sd_fused_k *k, const void *const *before, const void *const *after, size_t i0, size_t i1,     \
                   uint8_t *restrict mask) {                                                                           \
    const int nb = (NB) > 0 ? (NB) : k->nb;                                                                            \
    const T *restrict bq[SD_MAX_BANDS];                                                                                \
    const T *restrict aq[SD_MAX_BANDS];                                                                                \
    float ka[SD_MAX_BANDS], kb[SD_MAX_BANDS], kc[SD_MAX_BANDS];                                                        \
    for (int b = 0; b < nb; b++) {                                                                                     \
      bq[b] = (const T *)before[b];                                                                                    \
      aq[b] = (const T *)after[b];                                                                                     \
      ka[b] = k->ka[b];                                                                                                \
      kb[b] = k->kb[b];                                                                                                \
      kc[b] = k->kc[b];                                                                                                \
    }                                                                                                                  \
    const float thr2 = k->thr2, nd = k->nd;                                                                            \
    const int has_nd = k->has_nd;                                                                                      \
    SD_OMP(simd)                                                                                                       \
    for (size_t i = i0; i < i1; i++) {                                                                                 \
      float acc = 0.0f;                                                                                                \
      int bad = 0;                                                                                                     \
      for (int b = 0; b < ((NB) > 0 ? (NB) : nb); b++) {                                                               \
        const float vb = (float)bq[b][i], va = (float)aq[b][i];                                                        \
        bad |= (vb != vb) | (va != va) | (has_nd & ((vb == nd) | (va == nd)));                                         \
        const float d = ka[b] * va + kc[b] - kb[b] * vb;                                                               \
        acc += d * d;                                                                                                  \
      }                                                                                                                \
      mask[i] = (uint8_t)((bad * 255) | ((1 - bad) & (acc > thr2)));                                                   \
    }                                                                                                                  \
  }

/* Eight bands in one loop need 16 planes and 24 constants in flight at the 64 lanes a uint8
 * store asks for, and spill; two passes of four bands over a sub-block of sums held in L1 do
 * not (the sums are added in band order, as in the reference). */
enum { SUB = 1024 };
#define SD_FUSED_CHUNK8(NAME, T)                                                                                       \
  static void NAME(const sd_fused_k *k, const void *const *before, const void *const *after, size_t i0, size_t i1,     \
                   uint8_t *restrict mask) {                                                                           \
    float acc[SUB];                                                                                                    \
    int32_t badv[SUB];                                                                                                 \
    const float thr2 = k->thr2, nd = k->nd;                                                                            \
    const int has_nd = k->has_nd;                                                                                      \
    for (size_t s0 = i0; s0 < i1; s0 += SUB) {                                                                         \
      const int m = (int)(s0 + SUB < i1 ? SUB : i1 - s0);                                                              \
      for (int half = 0; half < 2; half++) {                                                                           \
        const T *restrict b0 = (const T *)before[4 * half] + s0, *restrict b1 = (const T *)before[4 * half + 1] + s0;  \
        const T *restrict b2 = (const T *)before[4 * half + 2] + s0, *restrict b3 =                                    \
                                                                         (const T *)before[4 * half + 3] + s0;         \
        const T *restrict a0 = (const T *)after[4 * half] + s0, *restrict a1 = (const T *)after[4 * half + 1] + s0;    \
        const T *restrict a2 = (const T *)after[4 * half + 2] + s0, *restrict a3 =                                     \
                                                                        (const T *)after[4 * half + 3] + s0;           \
        const float *ka = k->ka + 4 * half, *kb = k->kb + 4 * half, *kc = k->kc + 4 * half;                            \
        const float ka0 = ka[0], ka1 = ka[1], ka2 = ka[2], ka3 = ka[3], kb0 = kb[0], kb1 = kb[1], kb2 = kb[2],         \
                    kb3 = kb[3], kc0 = kc[0], kc1 = kc[1], kc2 = kc[2], kc3 = kc[3];                                   \
        SD_OMP(simd)                                                                                                   \
        for (int j = 0; j < m; j++) {                                                                                  \
          const float vb0 = (float)b0[j], va0 = (float)a0[j], vb1 = (float)b1[j], va1 = (float)a1[j];                  \
          const float vb2 = (float)b2[j], va2 = (float)a2[j], vb3 = (float)b3[j], va3 = (float)a3[j];                  \
          int bad = (vb0 != vb0) | (va0 != va0) | (vb1 != vb1) | (va1 != va1) | (vb2 != vb2) | (va2 != va2) |          \
                    (vb3 != vb3) | (va3 != va3) |                                                                      \
                    (has_nd & ((vb0 == nd) | (va0 == nd) | (vb1 == nd) | (va1 == nd) | (vb2 == nd) | (va2 == nd) |     \
                               (vb3 == nd) | (va3 == nd)));                                                            \
          float s = half ? acc[j] : 0.0f;                                                                              \
          float d = ka0 * va0 + kc0 - kb0 * vb0;                                                                       \
          s += d * d;                                                                                                  \
          d = ka1 * va1 + kc1 - kb1 * vb1;                                                                             \
          s += d * d;                                                                                                  \
          d = ka2 * va2 + kc2 - kb2 * vb2;                                                                             \
          s += d * d;                                                                                                  \
          d = ka3 * va3 + kc3 - kb3 * vb3;                                                                             \
          s += d * d;                                                                                                  \
          acc[j] = s;                                                                                                  \
          badv[j] = (half ? badv[j] : 0) | bad;                                                                        \
        }                                                                                                              \
      }                                                                                                                \
      SD_OMP(simd)                                                                                                     \
      for (int j = 0; j < m; j++)                                                                                      \
        mask[s0 + j] = (uint8_t)((badv[j] * 255) | ((1 - badv[j]) & (acc[j] > thr2)));                                 \
    }                                                                                                                  \
  }

#define SD_FUSED_TYPE(T, SUFFIX)                                                                                       \
  SD_FUSED_CHUNK(chunk_##SUFFIX##_1, T, 1)                                                                             \
  SD_FUSED_CHUNK(chunk_##SUFFIX##_3, T, 3)                                                                             \
  SD_FUSED_CHUNK(chunk_##SUFFIX##_4, T, 4)                                                                             \
  SD_FUSED_CHUNK8(chunk_##SUFFIX##_8, T)                                                                               \
  SD_FUSED_CHUNK(chunk_##SUFFIX##_n, T, 0)

SD_FUSED_TYPE(uint8_t, u8)
SD_FUSED_TYPE(uint16_t, u16)
SD_FUSED_TYPE(float, f32)

static sd_fused_chunk_fn *pick(sd_pixtype t, int nb) {
  static sd_fused_chunk_fn *const table[3][5] = {
      {chunk_u8_1, chunk_u8_3, chunk_u8_4, chunk_u8_8, chunk_u8_n},
      {chunk_u16_1, chunk_u16_3, chunk_u16_4, chunk_u16_8, chunk_u16_n},
      {chunk_f32_1, chunk_f32_3, chunk_f32_4, chunk_f32_8, chunk_f32_n},
  };
  return table[t][sd_fused_column(nb)];
}

enum { CHUNK = 16384 };

/* Runs chunk function fn over n pixels, threads taking fixed chunks of CHUNK pixels. */
static void run_chunks(sd_fused_chunk_fn *fn, const sd_fused_params *p, const void *const *before,
                       const void *const *after, size_t n, uint8_t *restrict mask) {
  sd_fused_k k;
  k.nb = p->d.nbands;
  sd_diff_fold(&p->d, k.ka, k.kb, k.kc);
  /* magnitude > threshold  <=>  sum of squares > threshold^2 * bands */
  k.thr2 = p->threshold * p->threshold * (float)k.nb;
  k.has_nd = p->has_nodata;
  k.nd = p->nodata;
  const size_t chunks = (n + CHUNK - 1) / CHUNK;
  SD_OMP(parallel for schedule(static))
  for (size_t c = 0; c < chunks; c++) {
    size_t i0 = c * CHUNK, i1 = i0 + CHUNK < n ? i0 + CHUNK : n;
    fn(&k, before, after, i0, i1, mask);
  }
}

void sd_fused_vec(const sd_fused_params *p, sd_pixtype t, const void *const *before, const void *const *after, size_t n,
                  uint8_t *restrict mask) {
  run_chunks(pick(t, p->d.nbands), p, before, after, n, mask);
}

void sd_fused_fast(const sd_fused_params *p, sd_pixtype t, const void *const *before, const void *const *after,
                   size_t n, uint8_t *restrict mask) {
  sd_fused_chunk_fn *fn = sd_fused_avx512_pick(t, p->d.nbands, sd_omp_threads());
  run_chunks(fn ? fn : pick(t, p->d.nbands), p, before, after, n, mask);
}

const char *sd_fused_fast_isa(void) {
  return sd_fused_avx512_pick(SD_T_U16, 4, 1) ? "AVX-512" : "compiler-vectorised C";
}
