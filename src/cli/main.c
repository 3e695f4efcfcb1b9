/* main.c: `sitediff COMMAND ...`: dispatches to the subcommands. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void usage(FILE *f) {
  fprintf(f, "usage: sitediff COMMAND [options]\n"
             "\n"
             "commands:\n"
             "  compare BEFORE AFTER -o OUTDIR   find what changed between two images of a site\n"
             "  batch MANIFEST -o OUTDIR         compare many pairs, resumably, with a summary\n"
             "  synth OUTDIR                     write a synthetic before/after pair with known truth\n"
             "  score MASK TRUTH                 pixel F1 and object recall of a change mask\n"
             "  bench                            memory bandwidth, kernel speed, pipeline stages\n"
             "  version                          print the version\n"
             "\n"
             "'sitediff COMMAND --help' shows each command's options.\n"
             "exit codes: 0 ok, 1 the run failed, 2 bad usage\n");
}

/* SIGINT and SIGTERM ask the running command to stop at its next block and remove what it was
 * writing; a second one ends the process at once (the next run removes its temporaries). */
static void on_signal(int sig) {
  if (sd_interrupted()) {
    signal(sig, SIG_DFL);
    raise(sig);
  }
  sd_interrupt(sig);
}

static int dispatch(int argc, char **argv) {
  const char *cmd = argv[1];
  if (!strcmp(cmd, "compare")) return sd_cmd_compare(argc - 2, argv + 2);
  if (!strcmp(cmd, "synth")) return sd_cmd_synth(argc - 2, argv + 2);
  if (!strcmp(cmd, "score")) return sd_cmd_score(argc - 2, argv + 2);
  if (!strcmp(cmd, "bench")) return sd_cmd_bench(argc - 2, argv + 2);
  if (!strcmp(cmd, "batch")) return sd_cmd_batch(argc - 2, argv + 2);
  if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
    printf("sitediff %s\n", sd_version());
    return 0;
  }
  if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
    usage(stdout);
    return 0;
  }
  fprintf(stderr, "sitediff: unknown command '%s'\n", cmd);
  usage(stderr);
  return 2;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  struct sigaction sa = {.sa_handler = on_signal};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  int rc = dispatch(argc, argv);
  int sig = sd_interrupted();
  if (sig) {
    /* Die of the signal, so the shell and batch drivers see how the run ended (exit 128 + N). */
    signal(sig, SIG_DFL);
    raise(sig);
  }
  return rc;
}
