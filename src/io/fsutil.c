/* fsutil.c: output folder creation and temporary names for atomic outputs. */
#include <errno.h>
#include <stdio.h>
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
