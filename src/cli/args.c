/* args.c: a small option walker with range-checked number parsing. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int sd_args_next(sd_args *a, const char **pos) {
  if (a->i >= a->argc) return 0;
  const char *s = a->argv[a->i++];
  a->inline_value = NULL;
  if (s[0] == '-' && s[1] != '\0' && !(s[1] >= '0' && s[1] <= '9')) {
    static char name[128];
    const char *eq = strchr(s, '=');
    size_t len = eq ? (size_t)(eq - s) : strlen(s);
    if (len >= sizeof name) len = sizeof name - 1;
    memcpy(name, s, len);
    name[len] = '\0';
    a->name = name;
    if (eq) a->inline_value = eq + 1;
    return 1;
  }
  *pos = s;
  return 2;
}

int sd_args_is(const sd_args *a, const char *name) { return strcmp(a->name, name) == 0; }

const char *sd_args_value(sd_args *a) {
  if (a->inline_value) return a->inline_value;
  if (a->i >= a->argc) {
    sd_error_set(a->err, SD_ERR_USAGE, "%s needs a value", a->name);
    return NULL;
  }
  return a->argv[a->i++];
}

int sd_args_double(sd_args *a, double lo, double hi, double *out) {
  const char *v = sd_args_value(a);
  if (!v) return 0;
  char *end;
  errno = 0;
  double d = strtod(v, &end);
  if (errno || end == v || *end || !isfinite(d) || d < lo || d > hi) {
    sd_error_set(a->err, SD_ERR_USAGE, "%s: '%s' is not a number from %g to %g", a->name, v, lo, hi);
    return 0;
  }
  *out = d;
  return 1;
}

int sd_args_int(sd_args *a, long lo, long hi, int *out) {
  const char *v = sd_args_value(a);
  if (!v) return 0;
  char *end;
  errno = 0;
  long d = strtol(v, &end, 10);
  if (errno || end == v || *end || d < lo || d > hi) {
    sd_error_set(a->err, SD_ERR_USAGE, "%s: '%s' is not a whole number from %ld to %ld", a->name, v, lo, hi);
    return 0;
  }
  *out = (int)d;
  return 1;
}

int sd_args_u64(sd_args *a, uint64_t *out) {
  const char *v = sd_args_value(a);
  if (!v) return 0;
  char *end;
  errno = 0;
  unsigned long long d = strtoull(v, &end, 10);
  if (errno || end == v || *end || v[0] == '-') {
    sd_error_set(a->err, SD_ERR_USAGE, "%s: '%s' is not a whole number >= 0", a->name, v);
    return 0;
  }
  *out = d;
  return 1;
}

void sd_args_unknown(sd_args *a) { sd_error_set(a->err, SD_ERR_USAGE, "unknown option %s", a->name); }

void sd_args_positional(sd_args *a, const char *p, const char **slot, int nslots, int *n) {
  if (*n < nslots)
    slot[*n] = p;
  else
    sd_error_set(a->err, SD_ERR_USAGE, "unexpected argument '%s'", p);
  (*n)++;
}

int sd_cli_fail(const char *cmd, const sd_error *err) {
  fprintf(stderr, "sitediff %s: %s\n", cmd, err->msg[0] ? err->msg : sd_status_name(err->code));
  if (err->code == SD_ERR_USAGE) fprintf(stderr, "run 'sitediff %s --help' for usage\n", cmd);
  return sd_status_exit_code(err->code);
}

int sd_args_choice(sd_args *a, const char *const *names, int *out) {
  const char *v = sd_args_value(a);
  if (!v) return 0;
  for (int k = 0; names[k]; k++)
    if (!strcmp(v, names[k])) {
      *out = k;
      return 1;
    }
  char list[256] = "";
  for (int k = 0; names[k]; k++)
    snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", k ? (names[k + 1] ? ", " : " or ") : "",
             names[k]);
  sd_error_set(a->err, SD_ERR_USAGE, "%s: '%s' is not %s", a->name, v, list);
  return 0;
}
