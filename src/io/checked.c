/* checked.c: a GDAL virtual file system, /vsisdchecked/<path>, that writes <path> on disk and
 * remembers whether every write, flush and close succeeded. GDAL's GeoJSON driver ignores its own
 * write errors (a full disk left a truncated file and no error); written through here, the file
 * streams to disk as GDAL writes it and the caller learns afterwards what failed, with the errno. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cpl_vsi.h>

#include "io/io.h"

#define PREFIX "/vsisdchecked/"

typedef struct handle {
  FILE *f;
  char *path;
  int error; /* the first errno of a failed write, flush or close; 0 while all is well */
} handle;

/* Outcomes of closed files, by path, until the caller takes them. */
typedef struct outcome {
  char *path;
  int error;
  struct outcome *next;
} outcome;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static outcome *outcomes;

static const char *real_path(const char *name) {
  return strncmp(name, PREFIX, sizeof PREFIX - 1) ? name : name + sizeof PREFIX - 1;
}

static int fail(handle *h, int e) {
  if (!h->error) h->error = e ? e : EIO;
  return 0;
}

static void *ck_open(void *user, const char *name, const char *access) {
  (void)user;
  const char *path = real_path(name);
  FILE *f = fopen(path, access);
  if (!f) return NULL;
  handle *h = calloc(1, sizeof *h);
  if (h) h->path = strdup(path);
  if (!h || !h->path) {
    fclose(f);
    free(h);
    return NULL;
  }
  h->f = f;
  return h;
}

static vsi_l_offset ck_tell(void *fh) { return (vsi_l_offset)ftello(((handle *)fh)->f); }

static int ck_seek(void *fh, vsi_l_offset off, int whence) {
  handle *h = fh;
  if (fseeko(h->f, (off_t)off, whence) == 0) return 0;
  fail(h, errno);
  return -1;
}

static size_t ck_read(void *fh, void *buf, size_t size, size_t count) {
  return fread(buf, size, count, ((handle *)fh)->f);
}

static int ck_eof(void *fh) { return feof(((handle *)fh)->f); }

static size_t ck_write(void *fh, const void *buf, size_t size, size_t count) {
  handle *h = fh;
  size_t n = fwrite(buf, size, count, h->f);
  if (n < count) fail(h, errno);
  return n;
}

static int ck_flush(void *fh) {
  handle *h = fh;
  if (fflush(h->f) == 0) return 0;
  fail(h, errno);
  return -1;
}

static int ck_close(void *fh) {
  handle *h = fh;
  if (fflush(h->f) != 0) fail(h, errno);
  if (fclose(h->f) != 0) fail(h, errno);
  outcome *o = malloc(sizeof *o);
  int rc = h->error ? -1 : 0;
  if (o) {
    o->path = h->path;
    o->error = h->error;
    pthread_mutex_lock(&lock);
    o->next = outcomes;
    outcomes = o;
    pthread_mutex_unlock(&lock);
  } else {
    free(h->path);
  }
  free(h);
  return rc;
}

static int ck_stat(void *user, const char *name, VSIStatBufL *st, int flags) {
  (void)user;
  (void)flags;
  return VSIStatL(real_path(name), st);
}

static int ck_unlink(void *user, const char *name) {
  (void)user;
  return VSIUnlink(real_path(name));
}

static pthread_once_t installed = PTHREAD_ONCE_INIT;

static void install(void) {
  VSIFilesystemPluginCallbacksStruct *cb = VSIAllocFilesystemPluginCallbacksStruct();
  cb->open = ck_open;
  cb->tell = ck_tell;
  cb->seek = ck_seek;
  cb->read = ck_read;
  cb->eof = ck_eof;
  cb->write = ck_write;
  cb->flush = ck_flush;
  cb->close = ck_close;
  cb->stat = ck_stat;
  cb->unlink = ck_unlink;
  VSIInstallPluginHandler(PREFIX, cb);
  VSIFreeFilesystemPluginCallbacksStruct(cb);
}

void sd_checked_path(const char *path, char *out, size_t n) {
  pthread_once(&installed, install);
  snprintf(out, n, PREFIX "%s", path);
}

int sd_checked_result(const char *path) {
  pthread_mutex_lock(&lock);
  int r = -1;
  for (outcome **p = &outcomes; *p;) {
    outcome *o = *p;
    if (strcmp(o->path, path)) {
      p = &o->next;
      continue;
    }
    if (r <= 0) r = o->error; /* opened more than once: the first failure */
    *p = o->next;
    free(o->path);
    free(o);
  }
  pthread_mutex_unlock(&lock);
  return r;
}
