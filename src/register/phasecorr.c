/* phasecorr.c: phase correlation with FFTW (single precision) and an upsampled-DFT peak
 * refinement (Guizar-Sicairos et al., 2008) evaluated on the half spectrum. */
/* fftw3.h first: fftwf_complex is then float[2], whatever complex.h defines after it. */
#include <fftw3.h>

#include <complex.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "register/register.h"

static pthread_once_t fftw_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t plan_lock = PTHREAD_MUTEX_INITIALIZER;

static void fftw_setup(void) {
  fftwf_init_threads();
  fftwf_make_planner_thread_safe();
}

/* Box blur of a plane in place (radius r, clipped at the edges), rows then columns. */
static void box_blur(float *v, float *tmp, int w, int h, int r) {
  for (int y = 0; y < h; y++) {
    const float *row = v + (size_t)y * w;
    float acc = 0;
    int cnt = 0;
    for (int x = 0; x < r && x < w; x++, cnt++)
      acc += row[x];
    for (int x = 0; x < w; x++) {
      if (x + r < w) {
        acc += row[x + r];
        cnt++;
      }
      if (x - r - 1 >= 0) {
        acc -= row[x - r - 1];
        cnt--;
      }
      tmp[(size_t)y * w + x] = acc / cnt;
    }
  }
  for (int x = 0; x < w; x++) {
    float acc = 0;
    int cnt = 0;
    for (int y = 0; y < r && y < h; y++, cnt++)
      acc += tmp[(size_t)y * w + x];
    for (int y = 0; y < h; y++) {
      if (y + r < h) {
        acc += tmp[(size_t)(y + r) * w + x];
        cnt++;
      }
      if (y - r - 1 >= 0) {
        acc -= tmp[(size_t)(y - r - 1) * w + x];
        cnt--;
      }
      v[(size_t)y * w + x] = acc / cnt;
    }
  }
}

double sd_chip_noise(const float *v, int w, int h, float *tmp) {
  size_t k = 0;
  for (int y = 0; y < h; y += 2) /* every other row and pair: as telling, a quarter of the work */
    for (int x = 0; x + 1 < w; x += 2) {
      float a = v[(size_t)y * w + x], b = v[(size_t)y * w + x + 1];
      if (isfinite(a) && isfinite(b)) tmp[k++] = fabsf(b - a);
    }
  return k < 16 ? 0 : 1.4826 * sd_quantile(tmp, k, 0.5) / sqrt(2.0);
}

/* Mean-free copy weighted by a Hann window and by a tapered validity mask, so neither the chip
 * border nor a nodata edge adds a feature of its own. Returns the valid count; *noise_power is
 * what white noise of the chip's own level puts in each frequency bin of that copy. */
static size_t prepare(const float *src, float *dst, float *tmp, int w, int h, const float *hann_x, const float *hann_y,
                      double *noise_power) {
  double sigma = sd_chip_noise(src, w, h, tmp), wsum2 = 0;
  double sum = 0;
  size_t n = 0, total = (size_t)w * h;
  for (size_t i = 0; i < total; i++)
    if (isfinite(src[i])) {
      sum += src[i];
      n++;
    }
  float mean = n ? (float)(sum / (double)n) : 0.0f;
  float *wgt = dst; /* the weight is built in place, then multiplied by the data */
  for (size_t i = 0; i < total; i++)
    wgt[i] = isfinite(src[i]) ? 1.0f : 0.0f;
  if (n < total) {
    /* Ramp to zero over ~8 px inside valid ground next to nodata. */
    box_blur(wgt, tmp, w, h, 4);
    box_blur(wgt, tmp, w, h, 4);
    for (size_t i = 0; i < total; i++) {
      float t = isfinite(src[i]) ? 2.0f * wgt[i] - 1.0f : 0.0f;
      wgt[i] = t > 0 ? t : 0;
    }
  }
  for (int y = 0; y < h; y++) {
    float wy = hann_y[y];
    for (int x = 0; x < w; x++) {
      float wx = hann_x[x];
      size_t i = (size_t)y * w + x;
      double k = wgt[i] > 0 ? wgt[i] * wx * wy : 0;
      wsum2 += k * k;
      dst[i] = wgt[i] > 0 ? (src[i] - mean) * (float)k : 0.0f;
    }
  }
  *noise_power = sigma * sigma * wsum2;
  return n;
}

/* Correlation surface at points (x0 + i*step, y0 + j*step), i, j in [0, u), from the
 * normalised cross-power half spectrum R (h rows x (w/2+1) columns). */
static void upsampled_dft(const fftwf_complex *R, int w, int h, double x0, double y0, double step, int u, double *out) {
  int hw = w / 2 + 1;
  double complex *ex = malloc(sizeof *ex * (size_t)hw * u);
  double complex *T = malloc(sizeof *T * (size_t)h * u);
  for (int kx = 0; kx < hw; kx++) {
    double c = (kx == 0 || (w % 2 == 0 && kx == w / 2)) ? 1.0 : 2.0;
    for (int i = 0; i < u; i++)
      ex[(size_t)kx * u + i] = c * cexp(I * 2.0 * M_PI * kx * (x0 + i * step) / w);
  }
  SD_OMP(parallel for schedule(static))
  for (int ky = 0; ky < h; ky++) {
    const fftwf_complex *row = R + (size_t)ky * hw;
    double complex *t = T + (size_t)ky * u;
    for (int i = 0; i < u; i++)
      t[i] = 0;
    for (int kx = 0; kx < hw; kx++) {
      if (row[kx][0] == 0 && row[kx][1] == 0) continue; /* tapered or noise-only: no vote */
      double complex r = row[kx][0] + I * row[kx][1];
      const double complex *e = ex + (size_t)kx * u;
      for (int i = 0; i < u; i++)
        t[i] += r * e[i];
    }
  }
  for (int j = 0; j < u; j++) {
    double y = y0 + j * step;
    for (int i = 0; i < u; i++)
      out[j * u + i] = 0;
    for (int ky = 0; ky < h; ky++) {
      int fy = ky < (h + 1) / 2 ? ky : ky - h;
      double complex e = cexp(I * 2.0 * M_PI * fy * y / h);
      for (int i = 0; i < u; i++)
        out[j * u + i] += creal(e * T[(size_t)ky * u + i]);
    }
    for (int i = 0; i < u; i++)
      out[j * u + i] /= (double)w * h;
  }
  free(ex);
  free(T);
}

struct sd_correlator {
  int w, h, threads;
  fftwf_plan fwd, inv;
  float *hann_x, *hann_y; /* the Hann window along each axis */
  float *taper;           /* h x (w/2+1) weights of the half spectrum, see sd_correlate */
};

/* Whitening gives every frequency one vote; above half Nyquist ground carries little signal, so
 * those votes taper to zero (raised cosine from 0.5 to 1.0 Nyquist, radial). */
static void make_weights(sd_correlator *c) {
  const int w = c->w, h = c->h, hw = w / 2 + 1;
  for (int x = 0; x < w; x++)
    c->hann_x[x] = 0.5f - 0.5f * cosf(2.0f * (float)M_PI * (x + 0.5f) / w);
  for (int y = 0; y < h; y++)
    c->hann_y[y] = 0.5f - 0.5f * cosf(2.0f * (float)M_PI * (y + 0.5f) / h);
  const double taper0 = 0.5; /* measured on fBm ground: 0.3-0.5 exact to 0.02 px, 1.0 off by 0.15 */
  for (int ky = 0; ky < h; ky++) {
    double fy = (ky < (h + 1) / 2 ? ky : ky - h) / (0.5 * h);
    for (int kx = 0; kx < hw; kx++) {
      double fx = kx / (0.5 * w), f = sqrt(fx * fx + fy * fy);
      c->taper[(size_t)ky * hw + kx] = f <= taper0 ? 1.0f
                                       : f >= 1.0  ? 0.0f
                                                   : (float)(0.5 + 0.5 * cos(M_PI * (f - taper0) / (1.0 - taper0)));
    }
  }
}

sd_correlator *sd_correlator_create(int w, int h, int threads) {
  if (w < 16 || h < 16) return NULL;
  pthread_once(&fftw_once, fftw_setup);
  sd_correlator *c = calloc(1, sizeof *c);
  int hw = w / 2 + 1;
  float *a = fftwf_alloc_real((size_t)w * h);
  fftwf_complex *A = fftwf_alloc_complex((size_t)h * hw);
  if (!c || !a || !A) {
    free(c);
    fftwf_free(a);
    fftwf_free(A);
    return NULL;
  }
  c->w = w;
  c->h = h;
  c->threads = threads > 0 ? threads : 1;
  c->hann_x = malloc(sizeof(float) * (size_t)w);
  c->hann_y = malloc(sizeof(float) * (size_t)h);
  c->taper = malloc(sizeof(float) * (size_t)h * hw);
  if (!c->hann_x || !c->hann_y || !c->taper) {
    sd_correlator_free(c);
    fftwf_free(a);
    fftwf_free(A);
    return NULL;
  }
  make_weights(c);
  /* Planning is not thread-safe in FFTW; executing a plan on new arrays is. */
  pthread_mutex_lock(&plan_lock);
  fftwf_plan_with_nthreads(c->threads);
  c->fwd = fftwf_plan_dft_r2c_2d(h, w, a, A, FFTW_ESTIMATE);
  c->inv = fftwf_plan_dft_c2r_2d(h, w, A, a, FFTW_ESTIMATE);
  pthread_mutex_unlock(&plan_lock);
  fftwf_free(a);
  fftwf_free(A);
  if (!c->fwd || !c->inv) {
    sd_correlator_free(c);
    return NULL;
  }
  return c;
}

void sd_correlator_size(const sd_correlator *c, int *w, int *h) {
  *w = c->w;
  *h = c->h;
}

void sd_correlator_free(sd_correlator *c) {
  if (!c) return;
  pthread_mutex_lock(&plan_lock);
  if (c->fwd) fftwf_destroy_plan(c->fwd);
  if (c->inv) fftwf_destroy_plan(c->inv);
  pthread_mutex_unlock(&plan_lock);
  free(c->hann_x);
  free(c->hann_y);
  free(c->taper);
  free(c);
}

sd_status sd_correlate(const sd_correlator *c, const float *ref, const float *mov, sd_shift *out, sd_error *err) {
  memset(out, 0, sizeof *out);
  const int w = c->w, h = c->h, hw = w / 2 + 1;
  size_t n = (size_t)w * h, nc = (size_t)h * hw;
  float *a = fftwf_alloc_real(n), *b = fftwf_alloc_real(n), *tmp = malloc(n * sizeof *tmp);
  fftwf_complex *A = fftwf_alloc_complex(nc), *B = fftwf_alloc_complex(nc);
  sd_status st = SD_OK;
  if (!a || !b || !A || !B || !tmp) {
    st = sd_error_set(err, SD_ERR_NOMEM, "register: out of memory for a %d x %d chip", w, h);
    goto done;
  }
  double pna, pnb;
  size_t na = prepare(ref, a, tmp, w, h, c->hann_x, c->hann_y, &pna);
  size_t nb = prepare(mov, b, tmp, w, h, c->hann_x, c->hann_y, &pnb);
  out->valid_fraction = (double)(na < nb ? na : nb) / (double)n;
  fftwf_execute_dft_r2c(c->fwd, a, A);
  fftwf_execute_dft_r2c(c->fwd, b, B);
  /* Normalised cross-power spectrum of mov against ref: its inverse peaks at the shift. Each
   * frequency's vote is tapered (make_weights) and counts only as much as the frequency carries
   * signal over the noise in both images (Wiener gains 1 - noise / power): on plain, noisy
   * ground most frequencies hold noise alone, and with one vote each they drowned the few that
   * hold the ground. */
  for (int ky = 0; ky < h; ky++) {
    for (int kx = 0; kx < hw; kx++) {
      size_t i = (size_t)ky * hw + kx;
      float wgt = c->taper[i];
      float re = B[i][0] * A[i][0] + B[i][1] * A[i][1];
      float im = B[i][1] * A[i][0] - B[i][0] * A[i][1];
      float mag = sqrtf(re * re + im * im);
      double pa = (double)A[i][0] * A[i][0] + (double)A[i][1] * A[i][1];
      double pb = (double)B[i][0] * B[i][0] + (double)B[i][1] * B[i][1];
      double gain = pa > 0 && pb > 0 ? fmax(0, 1 - pna / pa) * fmax(0, 1 - pnb / pb) : 0;
      float s = mag > 1e-20f ? (float)(wgt * gain) / mag : 0.0f;
      A[i][0] = re * s;
      A[i][1] = im * s;
    }
  }
  memcpy(B, A, sizeof(fftwf_complex) * nc); /* c2r destroys its input */
  fftwf_execute_dft_c2r(c->inv, A, a);

  size_t best = 0;
  for (size_t i = 1; i < n; i++)
    if (a[i] > a[best]) best = i;
  int px = (int)(best % w), py = (int)(best / w);
  if (px > w / 2) px -= w;
  if (py > h / 2) py -= h;
  double second = 0;
  for (int y = 0; y < h; y++) {
    int sy = y > h / 2 ? y - h : y;
    for (int x = 0; x < w; x++) {
      int sx = x > w / 2 ? x - w : x;
      if (abs(sx - px) <= 3 && abs(sy - py) <= 3) continue;
      if (a[(size_t)y * w + x] > second) second = a[(size_t)y * w + x];
    }
  }

  /* Refine: three rounds of 13 x 13 points, step 0.1, 0.01, 0.001 px: each round spans +-6 steps,
   * more than the half step the round before can be off by (the integer peak: half a pixel). */
  enum { U = 13, HALF = U / 2 };
  double cx = px, cy = py, peak = a[best] / (double)n;
  double grid[U * U];
  for (double step = 0.1; step > 0.0005; step /= 10) {
    upsampled_dft((const fftwf_complex *)B, w, h, cx - HALF * step, cy - HALF * step, step, U, grid);
    int bi = 0;
    for (int i = 1; i < U * U; i++)
      if (grid[i] > grid[bi]) bi = i;
    cx = cx - HALF * step + (bi % U) * step;
    cy = cy - HALF * step + (bi / U) * step;
    peak = grid[bi];
  }
  out->dx = round(cx * 1000.0) / 1000.0;
  out->dy = round(cy * 1000.0) / 1000.0;
  out->peak = peak;
  out->peak_ratio = second > 0 ? peak / (second / (double)n) : INFINITY;

done:
  fftwf_free(a);
  fftwf_free(b);
  fftwf_free(A);
  fftwf_free(B);
  free(tmp);
  return st;
}

sd_status sd_phasecorr(const float *ref, const float *mov, int w, int h, int threads, sd_shift *out, sd_error *err) {
  memset(out, 0, sizeof *out);
  sd_correlator *c = sd_correlator_create(w, h, threads);
  if (!c) return sd_error_set(err, SD_ERR_INPUT, "register: cannot correlate a %d x %d chip", w, h);
  sd_status st = sd_correlate(c, ref, mov, out, err);
  sd_correlator_free(c);
  return st;
}
