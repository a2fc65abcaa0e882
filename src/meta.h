// meta.h: meta.yaml, the provenance of a results folder.
#ifndef LORALAB_META_H
#define LORALAB_META_H

#include "util.h"

typedef struct {
    const char *command;     // the command line, joined with spaces
    char started[32];        // UTC ISO 8601
    double t0;               // now_seconds() at start
    int cells;               // cells of the experiment
    int cells_run;           // cells run by this invocation
    int cells_skipped;       // cells found complete (--resume)
    int workers;
    int blas_threads;        // OpenBLAS threads per cell (0: not recorded)
    int shard_i, shard_n;    // shard I/N (n = 0: none)
    char *const *merged;     // loralab merge: the shard folders
    int nmerged;
    int errors;              // cells that ended with status error
} run_meta;

// Write DIR/meta.yaml: program version and commit, compiler, GSL, libyaml and
// BLAS (library file, OpenBLAS configuration, thread count), start and end
// time, command line, and the sweep: cells, workers, shard, merged folders.
int meta_write(const char *dir, const run_meta *m, lerr *e);

// The shared library that provides cblas_dgemm in this process (for checks
// that OpenBLAS, not GSL's reference CBLAS, is linked).
const char *blas_library(void);

#endif
