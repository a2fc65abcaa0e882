// run.h: run one experiment (every seed) and write its results folder.
#ifndef LORALAB_RUN_H
#define LORALAB_RUN_H

#include "spec.h"
#include "util.h"

typedef struct {
    const char *out_dir;     // NULL: results/<name>
    int force;               // overwrite a non-empty output folder
    int quiet;               // no per-seed lines on stderr
    const char *command;     // command line, for meta.yaml
} run_opts;

// What one seed's run ended with.
typedef enum { RUN_OK = 0, RUN_DIVERGED, RUN_ERROR } run_status;

// Runs every seed of `s`, writing trace.csv, summary.csv, config.yaml,
// meta.yaml (and any .npy asked for by log.save) into the output folder.
// Returns 0 when every seed finished (ok or diverged), -1 with e filled on
// bad input (LERR_INPUT, nothing written) or when a seed failed (LERR_RUN,
// the folder is still written, the failed seed marked `error`).
int run_experiment(const spec *s, const run_opts *o, lerr *e);

#endif
