/* encode.c: 8-bit images encoded in memory (GDAL's JPEG and PNG drivers on /vsimem) as data:
 * URIs, for pages that must work from a single file. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>

#include "io/io.h"

static atomic_int encode_seq;
/* One encoding at a time in the process: GDAL 3.6 builds a driver's creation-option list on first
 * use without a lock, and batch's pairs write their pages on several threads. */
static pthread_mutex_t encode_lock = PTHREAD_MUTEX_INITIALIZER;

sd_status sd_image_data_uri(const uint8_t *px, int w, int h, int channels, int jpeg_quality, char **uri,
                            sd_error *err) {
  *uri = NULL;
  sd_gdal_init();
  const int jpeg = jpeg_quality > 0;
  char name[96], q[32];
  snprintf(name, sizeof name, "/vsimem/sitediff-%d.%s", atomic_fetch_add(&encode_seq, 1), jpeg ? "jpg" : "png");
  snprintf(q, sizeof q, jpeg ? "QUALITY=%d" : "ZLEVEL=%d", jpeg ? jpeg_quality : 6);
  char *opts[] = {q, NULL};
  sd_gdal_capture cap;
  pthread_mutex_lock(&encode_lock);
  sd_gdal_capture_begin(&cap);
  GDALDatasetH mem = GDALCreate(GDALGetDriverByName("MEM"), "", w, h, channels, GDT_Byte, NULL);
  CPLErr e = mem ? GDALDatasetRasterIO(mem, GF_Write, 0, 0, w, h, (void *)px, w, h, GDT_Byte, channels, NULL, channels,
                                       (GSpacing)channels * w, 1)
                 : CE_Failure;
  if (mem && channels == 4) GDALSetRasterColorInterpretation(GDALGetRasterBand(mem, 4), GCI_AlphaBand);
  GDALDatasetH out =
      e == CE_None ? GDALCreateCopy(GDALGetDriverByName(jpeg ? "JPEG" : "PNG"), name, mem, FALSE, opts, NULL, NULL)
                   : NULL;
  int failures = cap.failures;
  if (out) GDALClose(out);
  int closed = out && cap.failures == failures;
  if (mem) GDALClose(mem);
  vsi_l_offset len = 0;
  GByte *buf = closed ? VSIGetMemFileBuffer(name, &len, TRUE) : NULL;
  pthread_mutex_unlock(&encode_lock);
  char aux[112];
  snprintf(aux, sizeof aux, "%s.aux.xml", name);
  VSIUnlink(aux);
  if (!buf) {
    VSIUnlink(name);
    sd_status s = sd_gdal_error(err, SD_ERR_OUTPUT, &cap, "page: encoding a %d x %d %s image failed", w, h,
                                jpeg ? "JPEG" : "PNG");
    sd_gdal_capture_end(&cap);
    return s;
  }
  sd_gdal_capture_end(&cap);
  char *b64 = CPLBase64Encode((int)len, buf);
  CPLFree(buf);
  const char *head = jpeg ? "data:image/jpeg;base64," : "data:image/png;base64,";
  size_t n = b64 ? strlen(b64) : 0;
  *uri = b64 ? malloc(strlen(head) + n + 1) : NULL;
  if (*uri) {
    memcpy(*uri, head, strlen(head));
    memcpy(*uri + strlen(head), b64, n + 1);
  }
  CPLFree(b64);
  return *uri ? SD_OK : sd_error_set(err, SD_ERR_NOMEM, "page: out of memory for a %d x %d image", w, h);
}
