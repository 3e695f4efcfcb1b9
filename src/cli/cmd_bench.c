/* cmd_bench.c: `sitediff bench [options]`. */
#include <stdio.h>

#include "cli/cli.h"

int sd_cmd_bench(int argc, char **argv) {
  sd_error err = {0};
  sd_bench_options o;
  sd_bench_options_init(&o);
  sd_args a = {.argc = argc, .argv = argv, .err = &err};
  const char *p;
  int r, npos = 0;
  while (!err.code && (r = sd_args_next(&a, &p))) {
    if (r == 2) {
      sd_args_positional(&a, p, NULL, 0, &npos);
    } else if (sd_args_is(&a, "-h") || sd_args_is(&a, "--help")) {
      printf("usage: sitediff bench [options]\n"
             "  --size N          synthetic pair side for the pipeline run (default 2048)\n"
             "  --threads N       kernels at 1..N threads (default: all cores)\n"
             "  --kernel-mpx N    Mi pixels per kernel run (default 16)\n"
             "  --repeats N       best of N (default 3)\n"
             "  --peers           also time gdalwarp + gdal_calc.py and OTB where installed\n"
             "  --no-pipeline     bandwidth and kernels only\n"
             "  --json FILE       write the results as JSON\n"
             "  --workdir DIR     where the synthetic pair and outputs go (default bench-work)\n");
      return 0;
    } else if (sd_args_is(&a, "--size")) {
      sd_args_int(&a, 64, 65536, &o.size);
    } else if (sd_args_is(&a, "--threads")) {
      sd_args_int(&a, 0, 64, &o.threads);
    } else if (sd_args_is(&a, "--kernel-mpx")) {
      sd_args_int(&a, 1, 256, &o.kernel_mpx);
    } else if (sd_args_is(&a, "--repeats")) {
      sd_args_int(&a, 1, 100, &o.repeats);
    } else if (sd_args_is(&a, "--peers")) {
      o.peers = 1;
    } else if (sd_args_is(&a, "--no-pipeline")) {
      o.no_pipeline = 1;
    } else if (sd_args_is(&a, "--json")) {
      o.json = sd_args_value(&a);
    } else if (sd_args_is(&a, "--workdir")) {
      o.workdir = sd_args_value(&a);
    } else {
      sd_args_unknown(&a);
    }
  }
  if (err.code || sd_bench(&o, stdout, &err)) return sd_cli_fail("bench", &err);
  return 0;
}
