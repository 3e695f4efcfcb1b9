/* fsutil.c: output folders, temporary names, stale temporaries and the atomic commit of a folder. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/io.h"

sd_status sd_mkdir_p(const char *path, sd_error *err) {
  char buf[4096];
  if (!path || !*path) return sd_error_set(err, SD_ERR_USAGE, "output: no output folder given (-o DIR)");
  if (strlen(path) >= sizeof buf) return sd_error_set(err, SD_ERR_USAGE, "output: path too long");
  strcpy(buf, path);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
      return sd_error_set(err, SD_ERR_OUTPUT, "output: %s: cannot create folder: %s", buf, strerror(errno));
    *p = '/';
  }
  if (mkdir(buf, 0777) != 0 && errno != EEXIST)
    return sd_error_set(err, SD_ERR_OUTPUT, "output: %s: cannot create folder: %s", buf, strerror(errno));
  struct stat st;
  if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
    return sd_error_set(err, SD_ERR_OUTPUT, "output: %s: exists and is not a folder", buf);
  if (access(buf, W_OK) != 0) return sd_error_set(err, SD_ERR_OUTPUT, "output: %s: folder is not writable", buf);
  return SD_OK;
}

void sd_temp_name(char *buf, size_t len, const char *dir, const char *name) {
  snprintf(buf, len, "%s/.%s.tmp-%ld", dir, name, (long)getpid());
}

void sd_join(char *buf, size_t len, const char *dir, const char *name) { snprintf(buf, len, "%s/%s", dir, name); }

char *sd_read_file(const char *what, const char *path, long max_bytes, sd_error *err) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    sd_error_set(err, SD_ERR_INPUT, "%s: %s: %s", what, path, strerror(errno));
    return NULL;
  }
  long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
  char *buf = n >= 0 && n <= max_bytes && fseek(f, 0, SEEK_SET) == 0 ? malloc((size_t)n + 1) : NULL;
  if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    fclose(f);
    sd_error_set(err, SD_ERR_INPUT, "%s: %s: cannot read (or over %ld MiB)", what, path, max_bytes >> 20);
    return NULL;
  }
  buf[n] = 0;
  fclose(f);
  return buf;
}

sd_status sd_write_file(const char *what, const char *path, const void *data, size_t len, sd_error *err) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) return sd_error_set(err, SD_ERR_OUTPUT, "%s: %s: cannot create: %s", what, path, strerror(errno));
  const char *p = data;
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      int e = w < 0 ? errno : EIO;
      close(fd);
      return sd_error_set(err, SD_ERR_OUTPUT, "%s: %s: write failed: %s", what, path, strerror(e));
    }
    p += w;
    len -= (size_t)w;
  }
  if (close(fd) != 0) return sd_error_set(err, SD_ERR_OUTPUT, "%s: %s: write failed: %s", what, path, strerror(errno));
  return SD_OK;
}

void sd_remove_tree(const char *path) {
  DIR *d = opendir(path);
  struct dirent *e;
  char p[4096];
  while (d && (e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    snprintf(p, sizeof p, "%s/%s", path, e->d_name);
    if (unlink(p) != 0) sd_remove_tree(p);
  }
  if (d) closedir(d);
  rmdir(path);
}

int sd_fsync_path(const char *path) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  int r = fsync(fd);
  close(fd);
  return r;
}

void sd_remove_stale(const char *dir, const char *prefix) {
  DIR *d = opendir(dir);
  struct dirent *e;
  size_t n = strlen(prefix);
  char p[4400];
  while (d && (e = readdir(d))) {
    if (strncmp(e->d_name, prefix, n)) continue;
    /* exactly <prefix><pid>-<sequence>: another folder's name that merely starts alike stays */
    char *end, *end2;
    long pid = strtol(e->d_name + n, &end, 10);
    if (end == e->d_name + n || *end != '-' || pid <= 0) continue;
    strtol(end + 1, &end2, 10);
    if (end2 == end + 1 || *end2) continue;
    if (kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
      snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
      if (unlink(p) != 0) sd_remove_tree(p);
    }
  }
  if (d) closedir(d);
}

sd_status sd_dir_commit(const char *stage, const char *final, sd_error *err) {
  if (rename(stage, final) == 0) return SD_OK; /* final absent (or an empty folder) */
  if (errno != EEXIST && errno != ENOTEMPTY)
    return sd_error_set(err, SD_ERR_OUTPUT, "output: cannot move %s into place: %s", final, strerror(errno));
  if (renameat2(AT_FDCWD, stage, AT_FDCWD, final, RENAME_EXCHANGE) == 0) {
    sd_remove_tree(stage); /* now the previous outputs */
    return SD_OK;
  }
  /* No exchange on this file system: the old folder steps aside first, so a kill between the
   * two renames leaves no folder under final rather than a mixed one. */
  char old[4200];
  snprintf(old, sizeof old, "%s.old-%ld", stage, (long)getpid());
  if (rename(final, old) != 0 || rename(stage, final) != 0)
    return sd_error_set(err, SD_ERR_OUTPUT, "output: cannot replace %s: %s", final, strerror(errno));
  sd_remove_tree(old);
  return SD_OK;
}

/* A process-wide counter: batch threads build several sets at once in one process. */
static atomic_int outset_seq;

static int only_set_files(const char *dir, const char *const *names, int n) {
  DIR *d = opendir(dir);
  if (!d) return errno == ENOENT;
  int only = 1;
  struct dirent *e;
  while (only && (e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    int ours = 0;
    for (int i = 0; i < n && !ours; i++)
      ours = !strcmp(e->d_name, names[i]) ||
             (e->d_name[0] == '.' && !strncmp(e->d_name + 1, names[i], strlen(names[i])) && strstr(e->d_name, ".tmp-"));
    only = ours;
  }
  closedir(d);
  return only;
}

sd_status sd_outset_begin(sd_outset *o, const char *outdir, const char *const *names, int n, sd_error *err) {
  memset(o, 0, sizeof *o);
  o->names = names;
  o->n = n < SD_OUTSET_MAX ? n : SD_OUTSET_MAX;
  if (!outdir || !*outdir) return sd_error_set(err, SD_ERR_USAGE, "output: no output folder given (-o DIR)");
  if (strlen(outdir) >= sizeof o->outdir - 64) return sd_error_set(err, SD_ERR_USAGE, "output: path too long");
  snprintf(o->outdir, sizeof o->outdir, "%s", outdir);
  size_t len = strlen(o->outdir);
  while (len > 1 && o->outdir[len - 1] == '/')
    o->outdir[--len] = '\0';
  struct stat st;
  if (stat(o->outdir, &st) == 0 && !S_ISDIR(st.st_mode))
    return sd_error_set(err, SD_ERR_OUTPUT, "output: %s: exists and is not a folder", o->outdir);
  int seq = atomic_fetch_add(&outset_seq, 1);
  const char *slash = strrchr(o->outdir, '/');
  const char *base = slash ? slash + 1 : o->outdir;
  char parent[4096];
  snprintf(parent, sizeof parent, "%.*s", slash ? (int)(slash == o->outdir ? 1 : slash - o->outdir) : 1,
           slash ? o->outdir : ".");
  /* A symbolic link stays a link: its folder's files are replaced one by one. */
  int is_link = lstat(o->outdir, &st) == 0 && S_ISLNK(st.st_mode);
  if (!is_link && strcmp(base, ".") && strcmp(base, "..") && *base && only_set_files(o->outdir, names, o->n) &&
      sd_mkdir_p(parent, NULL) == SD_OK) {
    char prefix[300]; /* a name component is at most 255 bytes */
    snprintf(prefix, sizeof prefix, ".%.255s.sitediff-", base);
    sd_remove_stale(parent, prefix);
    snprintf(o->stage, sizeof o->stage, "%s/%s%ld-%d", parent, prefix, (long)getpid(), seq);
    o->dir_mode = mkdir(o->stage, 0777) == 0;
  }
  if (!o->dir_mode) {
    sd_status s = sd_mkdir_p(o->outdir, err);
    if (s) return s;
  }
  for (int i = 0; i < o->n; i++) {
    if (o->dir_mode) {
      snprintf(o->tmp[i], sizeof o->tmp[i], "%s/%s", o->stage, names[i]);
    } else {
      char prefix[512];
      snprintf(prefix, sizeof prefix, ".%s.tmp-", names[i]);
      sd_remove_stale(o->outdir, prefix);
      snprintf(o->tmp[i], sizeof o->tmp[i], "%s/%s%ld-%d", o->outdir, prefix, (long)getpid(), seq);
    }
  }
  return SD_OK;
}

const char *sd_outset_path(const sd_outset *o, int i) { return o->tmp[i]; }

void sd_outset_drop(sd_outset *o, int i) {
  if (o->tmp[i][0]) unlink(o->tmp[i]);
  o->dropped[i] = 1;
}

sd_status sd_outset_commit(sd_outset *o, sd_error *err) {
  for (int i = 0; i < o->n; i++)
    if (!o->dropped[i] && sd_fsync_path(o->tmp[i]) != 0)
      return sd_error_set(err, SD_ERR_OUTPUT, "output: %s was not written: %s", o->tmp[i], strerror(errno));
  if (o->dir_mode) {
    sd_fsync_path(o->stage);
    sd_status s = sd_dir_commit(o->stage, o->outdir, err);
    if (!s) o->stage[0] = '\0';
    return s;
  }
  char fin[4700];
  snprintf(fin, sizeof fin, "%s/%s", o->outdir, o->names[o->n - 1]);
  unlink(fin); /* the previous set is incomplete from here on */
  for (int i = 0; i < o->n; i++) {
    snprintf(fin, sizeof fin, "%s/%s", o->outdir, o->names[i]);
    if (o->dropped[i]) {
      unlink(fin);
      continue;
    }
    if (i == o->n - 1) sd_fsync_path(o->outdir);
    if (rename(o->tmp[i], fin) != 0)
      return sd_error_set(err, SD_ERR_OUTPUT, "output: cannot move %s into place: %s", fin, strerror(errno));
    o->tmp[i][0] = '\0';
  }
  sd_fsync_path(o->outdir);
  return SD_OK;
}

void sd_outset_abort(sd_outset *o) {
  if (o->dir_mode && o->stage[0]) sd_remove_tree(o->stage);
  if (!o->dir_mode)
    for (int i = 0; i < o->n; i++)
      if (o->tmp[i][0]) unlink(o->tmp[i]);
  o->stage[0] = '\0';
}
