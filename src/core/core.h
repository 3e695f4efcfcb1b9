/* core.h: private helpers shared by every module: aligned buffers, OpenMP macros, small stats. */
#ifndef SD_CORE_H
#define SD_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "sitediff/error.h"

/* OpenMP goes through these so the code builds (serially) without it. */
#ifdef _OPENMP
#include <omp.h>
#define SD_PRAGMA(x) _Pragma(#x)
#define SD_OMP(x) SD_PRAGMA(omp x)
static inline int sd_omp_threads(void) { return omp_get_max_threads(); }
static inline int sd_omp_thread_id(void) { return omp_get_thread_num(); }
#else
#define SD_OMP(x)
static inline int sd_omp_threads(void) { return 1; }
static inline int sd_omp_thread_id(void) { return 0; }
#endif

/* Buffers are 64-byte aligned (one cache line, one AVX-512 vector): a contract the
 * kernels rely on through `aligned(...: 64)`. Free with sd_free. */
enum { SD_ALIGN = 64 };
void *sd_alloc(size_t bytes);
/* For large buffers that loops walk many times, several at once (planes, the bench's buffers):
 * 2 MiB-aligned and advised to transparent huge pages, so walking 16 planes does not miss the
 * TLB at every page (UInt16 x 8 kernel: 450 -> 690 Mpx/s at 1 thread). Not for buffers written
 * once: faulting huge pages in costs more than it saves (the magnitude: +0.4 s at 8192²). */
void *sd_alloc_huge(size_t bytes);
void *sd_calloc(size_t bytes);
void sd_free(void *p);

/* A stack of float planes (one per band), each w*h, each aligned: the block format of the
 * pipeline. Nodata is NaN. */
typedef struct sd_planes {
  int nbands, width, height;
  float *band[16];
} sd_planes;
enum { SD_MAX_BANDS = 16 };

sd_status sd_planes_alloc(sd_planes *p, int nbands, int width, int height, sd_error *err);
void sd_planes_free(sd_planes *p);
/* out ((w / f) x (h / f)) = means of f x f blocks of in (w x h); a block less than half valid is
 * NaN. */
void sd_bin(const float *in, int w, int h, int f, float *out);

/* Quantile q in [0,1] of n floats; reorders v. NaN must not be present. */
float sd_quantile(float *v, size_t n, double q);

/* Deterministic 64-bit hash and uniform/normal draws for the generator and tests. */
uint64_t sd_hash64(uint64_t x);
typedef struct sd_rng {
  uint64_t s;
} sd_rng;
uint64_t sd_rng_next(sd_rng *r);
double sd_rng_uniform(sd_rng *r); /* [0, 1) */
double sd_rng_range(sd_rng *r, double lo, double hi);
double sd_rng_normal(sd_rng *r);

double sd_now(void); /* monotonic seconds */

#endif
