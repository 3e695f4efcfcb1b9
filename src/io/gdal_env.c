/* gdal_env.c: one-time GDAL registration and capture of GDAL's messages. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <gdal.h>
#include <ogr_api.h>

#include "io/io.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_gdal(void) {
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

static void CPL_STDCALL capture_handler(CPLErr cls, CPLErrorNum no, const char *msg) {
  (void)no;
  sd_gdal_capture *cap = CPLGetErrorHandlerUserData();
  if (!cap || cls < CE_Failure) return;
  cap->failures++;
  snprintf(cap->last, sizeof cap->last, "%s", msg ? msg : "");
}

/* The handler stack is per thread in GDAL, so concurrent pipelines do not mix messages. */
void sd_gdal_capture_begin(sd_gdal_capture *cap) {
  memset(cap, 0, sizeof *cap);
  CPLPushErrorHandlerEx(capture_handler, cap);
}

void sd_gdal_capture_end(sd_gdal_capture *cap) {
  (void)cap;
  CPLPopErrorHandler();
}
