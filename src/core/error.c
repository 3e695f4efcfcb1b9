/* error.c: status names and the sd_error message buffer. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sitediff/error.h"

const char *sd_status_name(sd_status code) {
  switch (code) {
  case SD_OK: return "ok";
  case SD_ERR_USAGE: return "bad usage";
  case SD_ERR_INPUT: return "bad input";
  case SD_ERR_NOOVERLAP: return "no overlap";
  case SD_ERR_OUTPUT: return "output error";
  case SD_ERR_LIMIT: return "size limit";
  case SD_ERR_NOMEM: return "out of memory";
  case SD_ERR_INTERNAL: return "internal error";
  case SD_ERR_INTERRUPTED: return "interrupted";
  }
  return "unknown error";
}

/* A full disk is named even where the writer only said "cannot write" (json_dump_file gives no
 * reason, libpng says "Write Error"): errno, read before anything here can change it, is the C
 * library's reason for the call that just failed. */
static void add_disk_full(sd_error *err, int e) {
  const char *why = strerror(e);
  size_t len = strlen(err->msg);
  if (strstr(err->msg, why)) return;
  if (len + strlen(why) + 2 >= sizeof err->msg) len = sizeof err->msg - strlen(why) - 3; /* the reason wins */
  snprintf(err->msg + len, sizeof err->msg - len, ": %s", why);
}

sd_status sd_error_set(sd_error *err, sd_status code, const char *fmt, ...) {
  const int e = errno;
  if (err && err->code == SD_OK) {
    err->code = code;
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int len = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    char *full = len >= (int)sizeof err->msg ? malloc((size_t)len + 1) : NULL;
    if (full) {
      /* Too long (a hostile path): keep the head and the tail, where the problem is said. */
      vsnprintf(full, (size_t)len + 1, fmt, ap2);
      size_t keep = (sizeof err->msg - 8) / 2;
      snprintf(err->msg, sizeof err->msg, "%.*s [...] %s", (int)keep, full, full + len - keep);
      free(full);
    }
    va_end(ap2);
    if (code == SD_ERR_OUTPUT && (e == ENOSPC || e == EDQUOT)) add_disk_full(err, e);
  }
  return code;
}

void sd_error_clear(sd_error *err) {
  err->code = SD_OK;
  err->msg[0] = '\0';
}

int sd_status_exit_code(sd_status code) {
  if (code == SD_OK) return 0;
  return code == SD_ERR_USAGE ? 2 : 1;
}

static volatile sig_atomic_t interrupt_signo;

void sd_interrupt(int signo) { interrupt_signo = signo ? signo : SIGINT; }

int sd_interrupted(void) { return interrupt_signo; }

sd_status sd_check_interrupt(sd_error *err) {
  int sig = interrupt_signo;
  if (!sig) return SD_OK;
  return sd_error_set(err, SD_ERR_INTERRUPTED, "interrupted by %s; outputs left as they were",
                      sig == SIGTERM  ? "SIGTERM"
                      : sig == SIGINT ? "SIGINT"
                                      : strsignal(sig));
}
