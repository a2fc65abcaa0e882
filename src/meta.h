// meta.h: meta.yaml, the provenance of a results folder.
#ifndef LORALAB_META_H
#define LORALAB_META_H

#include "util.h"

typedef struct {
    const char *command;     // the command line, joined with spaces
    char started[32];        // UTC ISO 8601
    double t0;               // now_seconds() at start
    int cells;               // cells of the experiment
    int shard_cells;         // of which in this shard (--shard)
    int cells_run;           // cells run by this invocation (complete or interrupted)
    int cells_reused;        // cells found complete in the folder (--resume)
    int cells_not_run;       // cells of the run (or shard) neither run nor reused:
                             //   not started before SIGINT
    int status[8];           // summary.csv rows by status (run_status order, train.h)
    int workers;
    int blas_threads;        // OpenBLAS threads per cell (0: not recorded)
    int shard_i, shard_n;    // shard I/N (n = 0: none)
    char *const *merged;     // loralab merge: the shard folders
    int nmerged;
} run_meta;

// Write DIR/meta.yaml: program version and commit, compiler, GSL, libyaml and
// BLAS (library file, OpenBLAS configuration, thread count), start and end
// time, command line, and the sweep: cells, cells run / reused / not run,
// summary.csv's rows by status, workers, shard, merged folders.
int meta_write(const char *dir, const run_meta *m, lerr *e);

// The shared library that provides cblas_dgemm in this process (for checks
// that OpenBLAS, not GSL's reference CBLAS, is linked).
const char *blas_library(void);

#endif
