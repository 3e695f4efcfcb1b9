/* error.h: status codes and the caller-owned error message every fallible call takes last. */
#ifndef SITEDIFF_ERROR_H
#define SITEDIFF_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sd_status {
  SD_OK = 0,
  SD_ERR_USAGE,     /* bad option or argument: exit code 2 */
  SD_ERR_INPUT,     /* an input file is missing, unreadable or unusable */
  SD_ERR_NOOVERLAP, /* the two images share no ground, or no valid pixels on it (nodata, masks) */
  SD_ERR_OUTPUT,    /* an output could not be written */
  SD_ERR_LIMIT,     /* a size limit (--max-pixels) was exceeded */
  SD_ERR_NOMEM,
  SD_ERR_INTERNAL,
  SD_ERR_INTERRUPTED, /* stopped by sd_interrupt (SIGINT, SIGTERM): outputs left as they were */
} sd_status;

enum { SD_ERROR_MSG_MAX = 1024 };

/* "module: detail" message; the first error set wins, later ones are dropped. */
typedef struct sd_error {
  sd_status code;
  char msg[SD_ERROR_MSG_MAX];
} sd_error;

const char *sd_status_name(sd_status code);

/* Sets err (if not already set) and returns code, so callers can `return sd_error_set(...)`.
 * An SD_ERR_OUTPUT message set while errno is ENOSPC or EDQUOT ends with strerror(errno) ("No
 * space left on device") unless it says so already: a full disk is named by every writer. */
sd_status sd_error_set(sd_error *err, sd_status code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

void sd_error_clear(sd_error *err);

/* Asks running compare and batch calls to stop at their next block and clean up; safe to call
 * from a signal handler. signo is kept for the message and the exit status. */
void sd_interrupt(int signo);
/* The signal number passed to sd_interrupt, or 0. */
int sd_interrupted(void);
/* SD_ERR_INTERRUPTED (with a message) once sd_interrupt was called, else SD_OK. */
sd_status sd_check_interrupt(sd_error *err);

/* Exit code for the command line: 0 ok, 2 bad usage, 1 any other failure. */
int sd_status_exit_code(sd_status code);

#ifdef __cplusplus
}
#endif
#endif
