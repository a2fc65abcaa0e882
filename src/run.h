// run.h: run an experiment (every cell of its sweep) into a results folder,
// and merge shard folders.
//
// Folder layout:
//   config.yaml     the resolved experiment and its sweep block
//   meta.yaml       provenance (versions, BLAS, times, cells, workers, shard)
//   trace.csv       one row per logged step of every cell, in cell order
//   summary.csv     one row per cell, in cell order
//   cells/ID.trace  a cell's trace rows, ID.summary its summary row: written
//                   under temporary names and renamed when complete (summary
//                   last), so a cell is complete exactly when ID.summary
//                   exists.  trace.csv and summary.csv are assembled from them.
//   npy/            matrices asked for by log.save, NAME_ID.npy
#ifndef LORALAB_RUN_H
#define LORALAB_RUN_H

#include "util.h"

typedef struct {
    const char *out_dir;     // NULL: results/<name>
    int force;               // overwrite a non-empty output folder
    int resume;              // reuse the cells of this grid complete in the folder
                             //   (of any experiment: cells are content-addressed)
    int quiet;               // no progress output
    int workers;             // processes (>= 1)
    int shard_i, shard_n;    // run cells with index % n == i - 1 (n = 0: all)
    int list;                // print the cells and stop
    const char *command;     // command line, for meta.yaml
} run_opts;

// Returns 0 when every cell finished (ok or diverged); -1 with e filled on bad
// input (LERR_INPUT, nothing written), when a cell failed (LERR_RUN, the
// folder is written with the cell marked `error`) or when cells were lost.
// *out_dir (if not NULL) receives the output folder's path (malloc'ed) once
// the run got that far.
int run_experiment(const char *file, char *const *sets, int nsets, const run_opts *o,
                   char **out_dir, lerr *e);

// Combine shard folders into `dir`, giving exactly the trace.csv and
// summary.csv an unsharded run writes.
int merge_shards(const char *dir, char *const *shards, int nshards, int force,
                 const char *command, lerr *e);

#endif
