/* tiffdirect.c: a direct libtiff path for tiled TIFFs: each thread opens its own handle and
 * decodes its own tiles straight into the float planes of a block of rows. The bench measures it
 * against GDAL's RasterIO on the same file (bench/README.md); the only file that includes tiffio.h.
 * Decoding only: nodata, masks and scaling stay GDAL's reader's business. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tiffio.h>

#include "io/io.h"

/* libtiff's messages go to the handle's own handler (not the process-wide one GDAL installs);
 * the first error is kept in the buffer given as user data. */
static int keep_first(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap) {
  (void)tif;
  (void)module;
  char *msg = user;
  if (msg && !msg[0]) vsnprintf(msg, 256, fmt, ap);
  return 1; /* handled: libtiff's global handler stays silent */
}

static TIFF *open_quiet(const char *path, char *msg) {
  TIFFOpenOptions *o = TIFFOpenOptionsAlloc();
  if (!o) return NULL;
  TIFFOpenOptionsSetErrorHandlerExtR(o, keep_first, msg);
  TIFFOpenOptionsSetWarningHandlerExtR(o, keep_first, NULL);
  TIFF *t = TIFFOpenExt(path, "r", o);
  TIFFOpenOptionsFree(o);
  return t;
}

int sd_tiff_direct_probe(const char *path, sd_tiff_layout *l) {
  memset(l, 0, sizeof *l);
  TIFF *t = open_quiet(path, NULL);
  if (!t) return 0;
  uint32_t w = 0, h = 0, tw = 0, th = 0;
  uint16_t spp = 1, bps = 0, fmt = SAMPLEFORMAT_UINT, planar = PLANARCONFIG_CONTIG, photo = 0;
  int ok = TIFFIsTiled(t) && TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w) && TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h) &&
           TIFFGetField(t, TIFFTAG_TILEWIDTH, &tw) && TIFFGetField(t, TIFFTAG_TILELENGTH, &th) &&
           TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &spp) &&
           TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &bps) &&
           TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLEFORMAT, &fmt) &&
           TIFFGetFieldDefaulted(t, TIFFTAG_PLANARCONFIG, &planar);
  TIFFGetFieldDefaulted(t, TIFFTAG_PHOTOMETRIC, &photo);
  TIFFClose(t);
  ok = ok && w > 0 && h > 0 && w <= INT32_MAX && h <= INT32_MAX && tw > 0 && th > 0 && spp >= 1 &&
       spp <= SD_MAX_BANDS && photo != PHOTOMETRIC_YCBCR &&
       ((fmt == SAMPLEFORMAT_UINT && (bps == 8 || bps == 16 || bps == 32)) ||
        (fmt == SAMPLEFORMAT_INT && (bps == 16 || bps == 32)) ||
        (fmt == SAMPLEFORMAT_IEEEFP && (bps == 32 || bps == 64)));
  if (!ok) return 0;
  *l = (sd_tiff_layout){.width = (int)w,
                        .height = (int)h,
                        .nbands = spp,
                        .tile_w = (int)tw,
                        .tile_h = (int)th,
                        .bits = bps,
                        .format = fmt,
                        .separate = planar == PLANARCONFIG_SEPARATE};
  return 1;
}

/* n samples of a decoded tile, from index k0 every `stride`, as floats: the type is chosen once
 * per run of samples, not per sample. */
#define SD_CONVERT(T)                                                                                                  \
  for (int c = 0; c < n; c++)                                                                                          \
    dst[c] = (float)((const T *)buf)[k0 + (size_t)c * stride];                                                         \
  break;

static void convert(const sd_tiff_layout *l, const void *buf, size_t k0, int stride, int n, float *restrict dst) {
  switch (l->bits * 4 + l->format) {
  case 8 * 4 + SAMPLEFORMAT_UINT: SD_CONVERT(uint8_t)
  case 16 * 4 + SAMPLEFORMAT_UINT: SD_CONVERT(uint16_t)
  case 16 * 4 + SAMPLEFORMAT_INT: SD_CONVERT(int16_t)
  case 32 * 4 + SAMPLEFORMAT_UINT: SD_CONVERT(uint32_t)
  case 32 * 4 + SAMPLEFORMAT_INT: SD_CONVERT(int32_t)
  case 32 * 4 + SAMPLEFORMAT_IEEEFP: SD_CONVERT(float)
  default: SD_CONVERT(double)
  }
}
#undef SD_CONVERT

sd_status sd_tiff_direct_read(const char *path, const sd_tiff_layout *l, int y0, sd_planes *out, int threads,
                              sd_error *err) {
  const int W = l->width, rows = out->height, nb = out->nbands < l->nbands ? out->nbands : l->nbands;
  if (out->width != W || y0 < 0 || y0 + rows > l->height)
    return sd_error_set(err, SD_ERR_INTERNAL, "tiff: rows %d..%d of %s are outside the image", y0, y0 + rows, path);
  const int ntx = (W + l->tile_w - 1) / l->tile_w, ty0 = y0 / l->tile_h, ty1 = (y0 + rows - 1) / l->tile_h;
  const int planes = l->separate ? nb : 1;
  const long jobs = (long)(ty1 - ty0 + 1) * ntx * planes;
  atomic_int failed = 0;
  char msg[256] = "";
  SD_OMP(parallel num_threads(threads > 0 ? threads : 1)) {
    char tmsg[256] = "";
    TIFF *t = open_quiet(path, tmsg);
    tmsize_t size = t ? TIFFTileSize(t) : 0;
    void *buf = size > 0 ? _TIFFmalloc(size) : NULL;
    SD_OMP(for schedule(dynamic))
    for (long j = 0; j < jobs; j++) {
      if (!buf || failed) continue;
      int p = (int)(j % planes), tx = (int)(j / planes % ntx), ty = ty0 + (int)(j / planes / ntx);
      uint32_t tile = TIFFComputeTile(t, (uint32_t)(tx * l->tile_w), (uint32_t)(ty * l->tile_h), 0, (uint16_t)p);
      if (TIFFReadEncodedTile(t, tile, buf, size) < 0) {
        failed = 1;
        continue;
      }
      const int gx0 = tx * l->tile_w, gy0 = ty * l->tile_h;
      const int cx1 = gx0 + l->tile_w > W ? W - gx0 : l->tile_w;
      const int ry0 = gy0 < y0 ? y0 - gy0 : 0;
      const int ry1 = gy0 + l->tile_h > y0 + rows ? y0 + rows - gy0 : l->tile_h;
      const int stride = l->separate ? 1 : l->nbands;
      for (int r = ry0; r < ry1; r++) {
        size_t orow = (size_t)(gy0 + r - y0) * W + gx0, trow = (size_t)r * l->tile_w;
        for (int b = l->separate ? p : 0; b < (l->separate ? p + 1 : nb); b++) {
          float *dst = out->band[b] + orow;
          convert(l, buf, trow * stride + (l->separate ? 0 : b), stride, cx1, dst);
        }
      }
    }
    if (buf) _TIFFfree(buf);
    if (t) TIFFClose(t);
    if (!t || !buf) failed = 1;
    SD_OMP(critical)
    if (tmsg[0] && !msg[0]) snprintf(msg, sizeof msg, "%s", tmsg);
  }
  if (failed)
    return sd_error_set(err, SD_ERR_INPUT, "tiff: %s: decoding rows %d..%d failed%s%s", path, y0, y0 + rows,
                        msg[0] ? ": " : "", msg);
  return SD_OK;
}
