// meta.h: meta.yaml, the provenance of a results folder.
#ifndef LORALAB_META_H
#define LORALAB_META_H

#include "util.h"

typedef struct {
    const char *command;     // the command line, joined with spaces
    char started[32];        // UTC ISO 8601
    double t0;               // now_seconds() at start
    int seeds;               // runs made
} run_meta;

// Write DIR/meta.yaml: program version and commit, compiler, GSL, libyaml and
// BLAS (library file, OpenBLAS configuration, thread count), start and end
// time, command line.
int meta_write(const char *dir, const run_meta *m, lerr *e);

// The shared library that provides cblas_dgemm in this process (for checks
// that OpenBLAS, not GSL's reference CBLAS, is linked).
const char *blas_library(void);

#endif
