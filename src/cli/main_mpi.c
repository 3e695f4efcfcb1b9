/* main_mpi.c: `mpirun -np N sitediff-mpi batch MANIFEST -o OUTDIR [options]`: one batch across
 * MPI ranks. Rank r runs shard r+1 of N (each rank with its share of the node's cores), then rank
 * 0 merges the shards' summaries. The exit code is the worst over the ranks. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int rc = 2;
  if (argc < 2 || strcmp(argv[1], "batch") != 0) {
    if (rank == 0) fprintf(stderr, "usage: mpirun -np N sitediff-mpi batch MANIFEST -o OUTDIR [batch options]\n");
  } else {
    /* Ranks on one node share its cores: one pair at a time per rank, cores / ranks threads
     * (the user's own -j/--threads come later and win); the shard comes last and wins. */
    MPI_Comm node;
    int local = 1;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node);
    MPI_Comm_size(node, &local);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    char threads[24], shard[32];
    snprintf(threads, sizeof threads, "%ld", cores / local > 0 ? cores / local : 1);
    snprintf(shard, sizeof shard, "%d/%d", rank + 1, size);
    int n = 0;
    char **args = calloc((size_t)argc + 8, sizeof *args);
    args[n++] = "-j";
    args[n++] = "1";
    args[n++] = "--threads";
    args[n++] = threads;
    for (int i = 2; i < argc; i++)
      args[n++] = argv[i];
    args[n++] = "--shard";
    args[n++] = shard;
    rc = sd_cmd_batch(n, args);
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0 && rc != 2) {
      /* the output folder: the value after -o/--output */
      const char *out = NULL;
      for (int i = 2; i + 1 < argc; i++)
        if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) out = argv[i + 1];
      char *margs[] = {"--merge", "-q", "-o", (char *)out};
      int mrc = out ? sd_cmd_batch(4, margs) : 2;
      if (mrc > rc) rc = mrc;
    }
    free(args);
    MPI_Comm_free(&node);
  }
  int worst = rc;
  MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return worst;
}
