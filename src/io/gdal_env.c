/* gdal_env.c: one-time GDAL registration and the capture of GDAL's messages into sd_error. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <gdal.h>
#include <ogr_api.h>

#include "io/io.h"

/* Messages raised on a thread with no capture pushed: GDAL's own worker threads (GDAL 3.6 decodes
 * the tiles of a multi-threaded GTiff read there and reports "Cannot read N bytes at offset M"
 * from there, leaving the calling thread a failure without words). They go to the captures open
 * at the time, which use them only when their own thread heard nothing. */
static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;
static sd_gdal_capture *open_captures;

static int disk_full(int e) { return e == ENOSPC || e == EDQUOT; }

static void CPL_STDCALL orphan_handler(CPLErr cls, CPLErrorNum no, const char *msg) {
  if (cls == CE_Debug) CPLDefaultErrorHandler(cls, no, msg); /* only printed when CPL_DEBUG asks for it */
  if (cls < CE_Failure || !msg) return;
  pthread_mutex_lock(&open_lock);
  for (sd_gdal_capture *c = open_captures; c; c = c->next)
    if (!c->orphan[0]) snprintf(c->orphan, sizeof c->orphan, "%s", msg);
  pthread_mutex_unlock(&open_lock);
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_gdal(void) {
  CPLSetErrorHandler(orphan_handler); /* nothing GDAL says reaches stderr raw */
  GDALAllRegister();
  OGRRegisterAll();
  /* GDAL's block cache defaults to 5 % of the RAM (1.2 GiB on 24 GiB) and fills with blocks
   * sitediff reads once: at 8192² it held half the peak RSS, and capping it changed no time.
   * 256 MiB still holds two tile rows of both inputs at 30000 px wide. GDAL_CACHEMAX wins. */
  if (!CPLGetConfigOption("GDAL_CACHEMAX", NULL)) GDALSetCacheMax64((GIntBig)256 << 20);
}

void sd_gdal_init(void) { pthread_once(&init_once, init_gdal); }

void sd_gdal_threads(int threads) {
  char n[16];
  snprintf(n, sizeof n, "%d", threads);
  CPLSetThreadLocalConfigOption("GDAL_NUM_THREADS", threads > 0 ? n : NULL);
}

/* Runs in the thread that raised the message, which is the thread that pushed it (GDAL's handler
 * stack is thread-local), so these fields have one writer. errno is read first: it still holds
 * the reason of the failed write GDAL is reporting, which GDAL's wording may drop
 * ("TIFFAppendToStrip:Write error at scanline 4294967295"). */
static void CPL_STDCALL capture_handler(CPLErr cls, CPLErrorNum no, const char *msg) {
  const int e = errno;
  sd_gdal_capture *cap = CPLGetErrorHandlerUserData();
  if (cls == CE_Debug) CPLDefaultErrorHandler(cls, no, msg);
  if (!cap || cls < CE_Failure) return;
  if (!msg) msg = "";
  if (!cap->full_errno && disk_full(e)) cap->full_errno = e;
  if (!cap->full_errno && strstr(msg, strerror(ENOSPC))) cap->full_errno = ENOSPC;
  if (cap->failures++) return;
  cap->first_no = no;
  snprintf(cap->first, sizeof cap->first, "%s", msg);
}

void sd_gdal_capture_begin(sd_gdal_capture *cap) {
  sd_gdal_init(); /* the orphan handler is in place before anything can be said */
  memset(cap, 0, sizeof *cap);
  pthread_mutex_lock(&open_lock);
  cap->next = open_captures;
  open_captures = cap;
  pthread_mutex_unlock(&open_lock);
  CPLPushErrorHandlerEx(capture_handler, cap);
}

void sd_gdal_capture_end(sd_gdal_capture *cap) {
  CPLPopErrorHandler();
  pthread_mutex_lock(&open_lock);
  for (sd_gdal_capture **p = &open_captures; *p; p = &(*p)->next)
    if (*p == cap) {
      *p = cap->next;
      break;
    }
  pthread_mutex_unlock(&open_lock);
  cap->next = NULL;
}

/* Why the operation failed, for the end of a message: strerror(full_errno) when the disk filled
 * (GDAL's "Write error at scanline 4294967295" says less), else GDAL's first message on this
 * thread, else the first of its worker threads, else "". The orphan is read under the lock: the
 * capture may still be open. */
static void reason(const sd_gdal_capture *cap, char *buf, size_t len) {
  char orphan[sizeof cap->orphan];
  pthread_mutex_lock(&open_lock);
  memcpy(orphan, cap->orphan, sizeof orphan);
  pthread_mutex_unlock(&open_lock);
  if (cap->full_errno || (!cap->first[0] && strstr(orphan, strerror(ENOSPC))))
    snprintf(buf, len, "%s", strerror(cap->full_errno ? cap->full_errno : ENOSPC));
  else
    snprintf(buf, len, "%s", cap->first[0] ? cap->first : orphan);
}

sd_status sd_gdal_error(sd_error *err, sd_status code, const sd_gdal_capture *cap, const char *fmt, ...) {
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  int len = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *what = len >= 0 ? malloc((size_t)len + 1) : NULL;
  if (what) vsnprintf(what, (size_t)len + 1, fmt, ap2);
  va_end(ap2);
  char why[sizeof cap->first];
  reason(cap, why, sizeof why);
  sd_status s = sd_error_set(err, code, "%s%s%s", what ? what : fmt, why[0] ? ": " : "", why);
  free(what);
  return s;
}

sd_status sd_gdal_read_error(sd_error *err, const sd_gdal_capture *cap, const char *module, const char *path,
                             const char *what) {
  if (cap->full_errno) /* GDAL flushed another dataset's blocks from its cache, and the disk is full */
    return sd_gdal_error(err, SD_ERR_OUTPUT, cap, "%s: %s: %s failed while an output was written", module, path, what);
  if (cap->first_no == CPLE_OutOfMemory)
    return sd_gdal_error(err, SD_ERR_NOMEM, cap, "%s: %s: %s failed", module, path, what);
  return sd_gdal_error(err, SD_ERR_INPUT, cap, "%s: %s: truncated or corrupt file: %s failed", module, path, what);
}
