// run.h: run an experiment (every cell of its sweep) into a results folder,
// and merge shard folders.
//
// Folder layout:
//   config.yaml     the resolved experiment and its sweep block (as it now stands)
//   meta.yaml       provenance (versions, BLAS, times, workers, shard) and counts
//                   (cells run / reused / not run, summary.csv's rows by status)
//   trace.csv       one row per logged step of every cell, in cell order
//   summary.csv     one row per cell, in cell order
//   trace_mean.csv, summary_mean.csv   seed means (only with more than one seed)
//   cells/ID.summary  a complete cell's summary row (without the grid's columns)
//   cells/ID.trace  a cell's trace rows, from its run to the next assembly
//                   (and kept for cells a changed grid dropped)
//   npy/            matrices asked for by log.save, NAME_ID.npy
// A cell is written to ID.trace, then ID.summary (each under a temporary
// name, renamed when complete), so it is complete when ID.summary exists and
// its rows are in ID.trace or trace.csv.  Assembly writes trace.csv and
// summary.csv (the grid's prefix "cell,<swept values>," before each stored
// row), then removes the ID.trace files it took in: trace rows are stored
// once.  Cell ids are content hashes (cells.h): --resume reuses any complete
// cell of the new grid, whatever grid wrote it.
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
// folder is written with the cell marked `error`), when cells were lost, or
// on SIGINT (LERR_INTERRUPTED, the folder holds what was done).  Unless
// quiet, a successful run's last stderr line is "loralab: wrote DIR/: N
// cells: ..." with meta.yaml's counts; an error's message carries them too.
// *out_dir (if not NULL) receives the output folder's path (malloc'ed) once
// the run got that far.
int run_experiment(const char *file, char *const *sets, int nsets, const run_opts *o,
                   char **out_dir, lerr *e);

// Combine shard folders into `dir`, giving exactly the trace.csv and
// summary.csv an unsharded run writes.
int merge_shards(const char *dir, char *const *shards, int nshards, int force,
                 const char *command, lerr *e);

#endif
