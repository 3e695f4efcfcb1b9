/* fused_avx512.c: the fused kernel written for AVX-512, beside the plain C loops of fused.c.
 *
 * Why by hand: for uint8 mask stores GCC vectorises fused.c's loop 64 pixels at a time, which
 * with 8 to 16 planes and three constants a band spills to the stack and reloads each plane
 * twice; at one thread UInt16 x 4 ran at 68 % of the read bandwidth, compute-bound. Here each
 * step is 16 pixels: every plane is loaded and widened once, the normalised difference is two
 * fused multiply-adds, the square and sum a third, nodata a mask register, and the 16 mask bytes
 * one blend. The tail is the same step under a lane mask, so every pixel takes the same
 * arithmetic wherever a chunk starts: output does not depend on the thread count. Results may
 * differ from the plain loops (which do not fuse) only within float rounding at the threshold,
 * as test_fused checks against the reference. */
#include "diff/fused_impl.h"

#if SD_HAVE_AVX512
#include <immintrin.h>

/* 16 pixels of plane p from i as floats; lanes outside m read nothing and are 0. */
static inline __m512 load_u8(const void *p, size_t i, __mmask16 m) {
  return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, (const uint8_t *)p + i)));
}
static inline __m512 load_u16(const void *p, size_t i, __mmask16 m) {
  return _mm512_cvtepi32_ps(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, (const uint16_t *)p + i)));
}
static inline __m512 load_f32(const void *p, size_t i, __mmask16 m) {
  return _mm512_maskz_loadu_ps(m, (const float *)p + i);
}

/* One band's part of 16 pixels at i on the lanes of m: nodata lanes into bad (FLOAT: NaN is
 * nodata too), the squared normalised difference into sum. */
#define SD_AVX_BAND(LOAD, FLOAT, BP, AP, KA, KB, KC, SUM, BAD)                                                         \
  do {                                                                                                                 \
    const __m512 vb = LOAD(BP, i, m), va = LOAD(AP, i, m);                                                             \
    if (FLOAT) BAD |= _mm512_cmp_ps_mask(vb, va, _CMP_UNORD_Q);                                                        \
    if (has_nd) BAD |= _mm512_cmp_ps_mask(vb, ndv, _CMP_EQ_OQ) | _mm512_cmp_ps_mask(va, ndv, _CMP_EQ_OQ);              \
    const __m512 d = _mm512_fnmadd_ps(KB, vb, _mm512_fmadd_ps(KA, va, KC));                                            \
    SUM = _mm512_fmadd_ps(d, d, SUM);                                                                                  \
  } while (0)

/* One step of NB bands (0: k->nb) on the lanes of m. */
#define SD_AVX_STEP(LOAD, FLOAT, NB)                                                                                   \
  do {                                                                                                                 \
    __m512 acc = _mm512_setzero_ps();                                                                                  \
    __mmask16 bad = 0;                                                                                                 \
    for (int b = 0; b < ((NB) > 0 ? (NB) : nb); b++)                                                                   \
      SD_AVX_BAND(LOAD, FLOAT, bq[b], aq[b], ka[b], kb[b], kc[b], acc, bad);                                           \
    const __mmask16 over = _mm512_cmp_ps_mask(acc, thr2, _CMP_GT_OQ);                                                  \
    const __m128i code = _mm_mask_blend_epi8(bad, _mm_maskz_mov_epi8(over, one), all);                                 \
    _mm_mask_storeu_epi8(mask + i, m, code);                                                                           \
  } while (0)

#define SD_AVX_CHUNK(NAME, LOAD, FLOAT, NB)                                                                            \
  static void NAME(const sd_fused_k *k, const void *const *before, const void *const *after, size_t i0, size_t i1,     \
                   uint8_t *restrict mask) {                                                                           \
    const int nb = (NB) > 0 ? (NB) : k->nb;                                                                            \
    const void *bq[SD_MAX_BANDS], *aq[SD_MAX_BANDS];                                                                   \
    __m512 ka[SD_MAX_BANDS], kb[SD_MAX_BANDS], kc[SD_MAX_BANDS];                                                       \
    for (int b = 0; b < nb; b++) {                                                                                     \
      bq[b] = before[b];                                                                                               \
      aq[b] = after[b];                                                                                                \
      ka[b] = _mm512_set1_ps(k->ka[b]);                                                                                \
      kb[b] = _mm512_set1_ps(k->kb[b]);                                                                                \
      kc[b] = _mm512_set1_ps(k->kc[b]);                                                                                \
    }                                                                                                                  \
    const __m512 thr2 = _mm512_set1_ps(k->thr2), ndv = _mm512_set1_ps(k->nd);                                          \
    const __m128i one = _mm_set1_epi8(1), all = _mm_set1_epi8((char)255);                                              \
    const int has_nd = k->has_nd;                                                                                      \
    size_t i = i0;                                                                                                     \
    const __mmask16 m = 0xffff;                                                                                        \
    for (; i + 16 <= i1; i += 16)                                                                                      \
      SD_AVX_STEP(LOAD, FLOAT, NB);                                                                                    \
    if (i < i1) {                                                                                                      \
      const __mmask16 m = (__mmask16)((1u << (i1 - i)) - 1);                                                           \
      SD_AVX_STEP(LOAD, FLOAT, NB);                                                                                    \
    }                                                                                                                  \
  }

#define SD_AVX_TYPE(LOAD, FLOAT, SUFFIX)                                                                               \
  SD_AVX_CHUNK(avx_##SUFFIX##_1, LOAD, FLOAT, 1)                                                                       \
  SD_AVX_CHUNK(avx_##SUFFIX##_3, LOAD, FLOAT, 3)                                                                       \
  SD_AVX_CHUNK(avx_##SUFFIX##_4, LOAD, FLOAT, 4)                                                                       \
  SD_AVX_CHUNK(avx_##SUFFIX##_8, LOAD, FLOAT, 8)                                                                       \
  SD_AVX_CHUNK(avx_##SUFFIX##_n, LOAD, FLOAT, 0)

SD_AVX_TYPE(load_u8, 0, u8)
SD_AVX_TYPE(load_u16, 0, u16)
SD_AVX_TYPE(load_f32, 1, f32)

/* Band by band over sub-blocks of SUB pixels: only two planes stream from memory at once, and
 * the sums and nodata lanes wait in L1 between bands. The sums are formed in the same order with
 * the same operations as in SD_AVX_STEP, so the results are the same bit for bit. Measured on
 * the bench machine (bench/README.md), best of 8, 16 Mpx: one thread runs 1 to 4 bands 10-28 %
 * faster this way (UInt16 x 4: 1,960 against 1,540 Mpx/s), but two threads run 4 bands 12-20 %
 * slower, and 8 bands are slower at any count (so were 8 bands taken two or four at a time).
 * So one thread with up to 4 bands takes this loop, all else the step. Sub-blocks of 512 and
 * 1024 pixels did equally well, 2048 worse, 8192 (the sums outgrow L1) far worse. */
enum { SUB = 1024 };
#define SD_AVX_BANDED(NAME, LOAD, FLOAT, TAIL)                                                                         \
  static void NAME(const sd_fused_k *k, const void *const *before, const void *const *after, size_t i0, size_t i1,     \
                   uint8_t *restrict mask) {                                                                           \
    _Alignas(64) float acc[SUB];                                                                                       \
    __mmask16 badv[SUB / 16];                                                                                          \
    const int nb = k->nb, has_nd = k->has_nd;                                                                          \
    const __m512 thr2 = _mm512_set1_ps(k->thr2), ndv = _mm512_set1_ps(k->nd);                                          \
    const __m128i one = _mm_set1_epi8(1), all = _mm_set1_epi8((char)255);                                              \
    const __mmask16 m = (__mmask16)0xffff;                                                                             \
    const size_t full = i0 + (i1 - i0) / 16 * 16;                                                                      \
    for (size_t s0 = i0; s0 < full; s0 += SUB) {                                                                       \
      const size_t s1 = s0 + SUB < full ? s0 + SUB : full;                                                             \
      for (int b = 0; b < nb; b++) {                                                                                   \
        const void *bp = before[b], *ap = after[b];                                                                    \
        const __m512 ka = _mm512_set1_ps(k->ka[b]), kb = _mm512_set1_ps(k->kb[b]), kc = _mm512_set1_ps(k->kc[b]);      \
        for (size_t i = s0; i < s1; i += 16) {                                                                         \
          __mmask16 bad = b ? badv[(i - s0) / 16] : 0;                                                                 \
          __m512 sum = b ? _mm512_load_ps(acc + (i - s0)) : _mm512_setzero_ps();                                       \
          SD_AVX_BAND(LOAD, FLOAT, bp, ap, ka, kb, kc, sum, bad);                                                      \
          badv[(i - s0) / 16] = bad;                                                                                   \
          _mm512_store_ps(acc + (i - s0), sum);                                                                        \
        }                                                                                                              \
      }                                                                                                                \
      for (size_t i = s0; i < s1; i += 16) {                                                                           \
        const __mmask16 over = _mm512_cmp_ps_mask(_mm512_load_ps(acc + (i - s0)), thr2, _CMP_GT_OQ);                   \
        const __m128i code = _mm_mask_blend_epi8(badv[(i - s0) / 16], _mm_maskz_mov_epi8(over, one), all);             \
        _mm_storeu_si128((__m128i *)(mask + i), code);                                                                 \
      }                                                                                                                \
    }                                                                                                                  \
    if (full < i1) avx_##TAIL##_n(k, before, after, full, i1, mask);                                                   \
  }

SD_AVX_BANDED(banded_u8, load_u8, 0, u8)
SD_AVX_BANDED(banded_u16, load_u16, 0, u16)
SD_AVX_BANDED(banded_f32, load_f32, 1, f32)

sd_fused_chunk_fn *sd_fused_avx512_pick(sd_pixtype t, int nb, int threads) {
  static sd_fused_chunk_fn *const table[3][5] = {
      {avx_u8_1, avx_u8_3, avx_u8_4, avx_u8_8, avx_u8_n},
      {avx_u16_1, avx_u16_3, avx_u16_4, avx_u16_8, avx_u16_n},
      {avx_f32_1, avx_f32_3, avx_f32_4, avx_f32_8, avx_f32_n},
  };
  static sd_fused_chunk_fn *const banded[3] = {banded_u8, banded_u16, banded_f32};
  return threads == 1 && nb <= 4 ? banded[t] : table[t][sd_fused_column(nb)];
}

#else

sd_fused_chunk_fn *sd_fused_avx512_pick(sd_pixtype t, int nb, int threads) {
  (void)t;
  (void)nb;
  (void)threads;
  return NULL;
}

#endif
