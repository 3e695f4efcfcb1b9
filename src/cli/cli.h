/* cli.h: the command-line shell: option parsing helpers and the subcommands. */
#ifndef SD_CLI_H
#define SD_CLI_H

#include <stdint.h>

#include "sitediff/sitediff.h"

/* Walks argv: options may be "--name value" or "--name=value"; positionals are collected. */
typedef struct sd_args {
  int argc, i;
  char **argv;
  const char *cmd;
  const char *name; /* current option name, e.g. "--threads" */
  const char *inline_value;
  sd_error *err;
} sd_args;

/* Returns 1 and sets a->name for an option, 2 for a positional in *pos, 0 at the end. */
int sd_args_next(sd_args *a, const char **pos);
int sd_args_is(const sd_args *a, const char *name);
const char *sd_args_value(sd_args *a); /* NULL (err set) if missing */
int sd_args_double(sd_args *a, double lo, double hi, double *out);
int sd_args_int(sd_args *a, long lo, long hi, int *out);
int sd_args_u64(sd_args *a, uint64_t *out);
void sd_args_unknown(sd_args *a);
/* Positional p into slot[*n] while *n < nslots, else "unexpected argument"; counts it in *n. */
void sd_args_positional(sd_args *a, const char *p, const char **slot, int nslots, int *n);
/* The value must be one of names (NULL-terminated): its index into *out, 1; else err set, 0. */
int sd_args_choice(sd_args *a, const char *const *names, int *out);

int sd_cmd_compare(int argc, char **argv);
int sd_compare_option(sd_args *a, sd_compare_options *o);
int sd_cmd_synth(int argc, char **argv);
int sd_cmd_score(int argc, char **argv);
int sd_cmd_bench(int argc, char **argv);
int sd_cmd_batch(int argc, char **argv);

/* Prints "sitediff CMD: message" and returns the exit code for err. */
int sd_cli_fail(const char *cmd, const sd_error *err);

#endif
