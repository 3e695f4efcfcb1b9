/* test_error_path.c: GDAL's messages reach sd_error and never stderr: per thread (OpenMP threads
 * opening and reading their own damaged files get their own file's words), from GDAL's worker
 * threads (no capture there), never an empty reason; a full disk (/dev/full) says "No space left
 * on device" and the path in the GeoTIFF, GeoJSON and plain file writers and in sd_error_set. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cpl_error.h>
#include <cpl_string.h>
#include <gdal.h>

#include "../check.h"
#include "core/core.h"
#include "io/io.h"
#include "register/register.h"

enum { NT = 4 };
static const char *const nospace = "No space left on device";

/* stderr into a file while GDAL runs, so anything printed raw is seen. */
static int saved_stderr = -1;
static char stderr_path[64];
static void stderr_to_file(void) {
  snprintf(stderr_path, sizeof stderr_path, "/tmp/sd_test_errpath_%ld.stderr", (long)getpid());
  fflush(stderr);
  saved_stderr = dup(2);
  int fd = open(stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  dup2(fd, 2);
  close(fd);
}
/* Restores stderr; returns how many bytes were printed meanwhile. */
static long stderr_back(void) {
  fflush(stderr);
  dup2(saved_stderr, 2);
  close(saved_stderr);
  FILE *f = fopen(stderr_path, "r");
  long n = -1;
  if (f) {
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fclose(f);
  }
  remove(stderr_path);
  return n;
}

/* A DEFLATE GeoTIFF of 32 x 32 tiles cut to 3/4 of its length: header whole, last tiles gone. */
static void make_cut(const char *path) {
  const int w = 200, h = 160;
  char **co = CSLSetNameValue(NULL, "TILED", "YES");
  co = CSLSetNameValue(co, "BLOCKXSIZE", "32");
  co = CSLSetNameValue(co, "BLOCKYSIZE", "32");
  co = CSLSetNameValue(co, "COMPRESS", "DEFLATE");
  GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path, w, h, 1, GDT_UInt16, co);
  CSLDestroy(co);
  CHECK(ds != NULL, "create %s", path);
  if (!ds) return;
  uint16_t *v = malloc(sizeof *v * w * h);
  sd_rng r = {7};
  for (int i = 0; i < w * h; i++)
    v[i] = (uint16_t)sd_rng_range(&r, 0, 60000);
  CHECK(GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Write, 0, 0, w, h, v, w, h, GDT_UInt16, 0, 0) == CE_None, "write");
  free(v);
  GDALClose(ds);
  FILE *f = fopen(path, "rb");
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fclose(f);
  CHECK(truncate(path, size * 3 / 4) == 0, "truncate %s", path);
}

/* Each OpenMP thread opens a garbage file and reads a cut one of its own, GDAL decoding with 2
 * threads of its own: every message names the thread's files and carries GDAL's words. */
static void per_thread(void) {
  char junk[NT][64], cut[NT][64];
  sd_error open_err[NT], read_err[NT];
  sd_status open_st[NT], read_st[NT];
  for (int t = 0; t < NT; t++) {
    snprintf(junk[t], sizeof junk[t], "/tmp/sd_test_errpath_%ld_junk%d.tif", (long)getpid(), t);
    snprintf(cut[t], sizeof cut[t], "/tmp/sd_test_errpath_%ld_cut%d.tif", (long)getpid(), t);
    FILE *f = fopen(junk[t], "wb");
    for (int i = 0; i < 4000; i++)
      fputc((i * 37 + t) & 0xff, f);
    fclose(f);
    make_cut(cut[t]);
  }
  stderr_to_file();
  SD_OMP(parallel num_threads(NT)) {
    int t = sd_omp_thread_id();
    sd_raster *r = NULL;
    sd_error_clear(&open_err[t]);
    sd_error_clear(&read_err[t]);
    open_st[t] = sd_raster_open("after", junk[t], 1e12, &r, &open_err[t]);
    sd_raster_close(r);
    r = NULL;
    sd_gdal_threads(2); /* GTiff reads with worker threads of its own */
    read_st[t] = sd_raster_open("after", cut[t], 1e12, &r, &read_err[t]);
    sd_gdal_threads(0);
    sd_planes p = {0};
    if (!read_st[t]) read_st[t] = sd_planes_alloc(&p, 1, 200, 160, &read_err[t]);
    if (!read_st[t]) read_st[t] = sd_raster_read_rows(r, 0, &p, 2, &read_err[t]);
    sd_planes_free(&p);
    sd_raster_close(r);
  }
  long printed = stderr_back();
  CHECK(printed == 0, "GDAL printed %ld bytes on stderr", printed);
  for (int t = 0; t < NT; t++) {
    const char *m = open_err[t].msg;
    CHECK(open_st[t] == SD_ERR_INPUT, "thread %d: junk opened (%d)", t, open_st[t]);
    CHECK(strstr(m, junk[t]) && strstr(m, "not recognized as a supported file format"), "thread %d: %s", t, m);
    m = read_err[t].msg;
    CHECK(read_st[t] == SD_ERR_INPUT, "thread %d: the cut file read (%d)", t, read_st[t]);
    CHECK(strstr(m, cut[t]) && strstr(m, "truncated or corrupt file: reading rows 0..160 failed: "), "thread %d: %s", t,
          m);
    CHECK(strstr(m, "bytes at offset") || strstr(m, "Read error"), "thread %d: not GDAL's words: %s", t, m);
    for (int u = 0; u < NT; u++)
      CHECK(u == t || !strstr(m, cut[u]), "thread %d's message names thread %d's file: %s", t, u, m);
    remove(junk[t]);
    remove(cut[t]);
  }
}

static void *raise_failure(void *arg) {
  CPLError(CE_Failure, CPLE_AppDefined, "worker says %s", (const char *)arg);
  return NULL;
}

/* A failure raised on a thread with no capture (as GDAL's worker threads do) reaches the open
 * capture as its reason when the capturing thread heard nothing, and is never printed. */
static void orphans(void) {
  sd_gdal_capture cap;
  sd_error err = {0};
  pthread_t th;
  stderr_to_file();
  sd_gdal_capture_begin(&cap);
  pthread_create(&th, NULL, raise_failure, "cannot read 7 bytes");
  pthread_join(th, NULL);
  sd_gdal_error(&err, SD_ERR_INPUT, &cap, "reader: x.tif: reading failed");
  sd_gdal_capture_end(&cap);
  CHECK(!strcmp(err.msg, "reader: x.tif: reading failed: worker says cannot read 7 bytes"), "orphan: %s", err.msg);

  sd_error_clear(&err);
  sd_gdal_capture_begin(&cap);
  CPLError(CE_Failure, CPLE_AppDefined, "the caller's own words");
  pthread_create(&th, NULL, raise_failure, "later");
  pthread_join(th, NULL);
  sd_gdal_error(&err, SD_ERR_INPUT, &cap, "reader: x.tif: reading failed");
  sd_gdal_capture_end(&cap);
  CHECK(!strcmp(err.msg, "reader: x.tif: reading failed: the caller's own words"), "own words first: %s", err.msg);

  pthread_create(&th, NULL, raise_failure, "while nothing is open");
  pthread_join(th, NULL);
  long printed = stderr_back();
  CHECK(printed == 0, "an orphan message was printed (%ld bytes)", printed);

  /* GDAL said nothing: the message ends with what was done, not with ": ". */
  sd_error_clear(&err);
  sd_gdal_capture_begin(&cap);
  sd_gdal_error(&err, SD_ERR_OUTPUT, &cap, "writer: y.tif: writing rows 0..8 failed");
  sd_gdal_capture_end(&cap);
  CHECK(!strcmp(err.msg, "writer: y.tif: writing rows 0..8 failed"), "no words: %s", err.msg);

  /* libtiff's wording without the reason, errno set by the failed write: the reason is said. */
  sd_error_clear(&err);
  sd_gdal_capture_begin(&cap);
  errno = ENOSPC;
  CPLError(CE_Failure, CPLE_AppDefined, "TIFFAppendToStrip:Write error at scanline 4294967295");
  errno = 0;
  sd_gdal_error(&err, SD_ERR_OUTPUT, &cap, "writer: y.tif: writing rows 0..8 failed");
  sd_gdal_capture_end(&cap);
  CHECK(!strcmp(err.msg, "writer: y.tif: writing rows 0..8 failed: No space left on device"), "ENOSPC: %s", err.msg);
}

/* sd_error_set names a full disk for output errors that give no reason, once. */
static void error_set(void) {
  sd_error err = {0};
  errno = ENOSPC;
  sd_error_set(&err, SD_ERR_OUTPUT, "report: %s: cannot write", "r.json");
  CHECK(!strcmp(err.msg, "report: r.json: cannot write: No space left on device"), "%s", err.msg);
  sd_error_clear(&err);
  errno = ENOSPC;
  sd_error_set(&err, SD_ERR_OUTPUT, "overlay: o.png: %s", strerror(ENOSPC));
  CHECK(!strcmp(err.msg, "overlay: o.png: No space left on device"), "said twice: %s", err.msg);
  sd_error_clear(&err);
  errno = ENOSPC;
  sd_error_set(&err, SD_ERR_INPUT, "reader: a.tif: bad");
  CHECK(!strcmp(err.msg, "reader: a.tif: bad"), "an input error got the disk's reason: %s", err.msg);
  sd_error_clear(&err);
  char path[3000];
  memset(path, 'p', sizeof path - 1);
  path[sizeof path - 1] = '\0';
  errno = ENOSPC;
  sd_error_set(&err, SD_ERR_OUTPUT, "report: %s: cannot write", path);
  size_t n = strlen(err.msg), k = strlen(nospace);
  CHECK(n < sizeof err.msg && n > k && !strcmp(err.msg + n - k, nospace), "long path: ...%s", err.msg + n - 40);
}

/* Every writer on /dev/full (each write fails with ENOSPC). */
static void full_disk(void) {
  const char *full = "/dev/full";
  if (access(full, W_OK) != 0) {
    printf("test_error_path: no writable /dev/full, full-disk checks skipped\n");
    return;
  }
  sd_grid g = {.width = 300, .height = 200, .gt = {0, 1, 0, 0, 0, 1}, .pixel_w_m = 1, .pixel_h_m = 1};
  sd_error err = {0};
  char buf[4096];
  memset(buf, 1, sizeof buf);
  sd_status s = sd_write_file("report", full, buf, sizeof buf, &err);
  CHECK(s == SD_ERR_OUTPUT && strstr(err.msg, full) && strstr(err.msg, nospace), "sd_write_file: %s", err.msg);

  stderr_to_file();
  sd_error_clear(&err);
  sd_gtiff *t = NULL;
  float *rows = calloc((size_t)g.width * g.height, sizeof *rows);
  sd_rng r = {3};
  for (int i = 0; i < g.width * g.height; i++)
    rows[i] = (float)sd_rng_uniform(&r); /* incompressible enough to need several blocks of the disk */
  s = sd_gtiff_create(full, &g, 1, SD_PIX_F32, 0, 0, &t, &err);
  if (!s) s = sd_gtiff_write(t, 1, 0, g.height, rows, &err);
  sd_status cs = sd_gtiff_close(t, &err);
  if (!s) s = cs;
  free(rows);
  sd_error tp_err = {0};
  sd_tiepoint tp[64];
  memset(tp, 0, sizeof tp);
  for (int i = 0; i < 64; i++)
    tp[i] = (sd_tiepoint){.x = i, .y = 2 * i, .status = SD_TP_KEPT};
  sd_status ts = sd_vector_write_tiepoints(full, &g, tp, 64, &tp_err);
  long printed = stderr_back();
  CHECK(s == SD_ERR_OUTPUT && strstr(err.msg, full) && strstr(err.msg, nospace), "GeoTIFF: %s", err.msg);
  CHECK(!strstr(err.msg, "scanline"), "libtiff's wording: %s", err.msg);
  CHECK(ts == SD_ERR_OUTPUT && strstr(tp_err.msg, full) && strstr(tp_err.msg, nospace), "GeoJSON (%d): %s", ts,
        tp_err.msg);
  CHECK(printed == 0, "%ld bytes printed on stderr", printed);
}

int main(void) {
  sd_gdal_init();
  per_thread();
  orphans();
  error_set();
  full_disk();
  return check_done("test_error_path");
}
