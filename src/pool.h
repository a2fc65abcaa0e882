// pool.h: run independent tasks on a pool of worker processes.
//
// Workers are forked processes that take the next task index from a counter
// in shared memory (so a slow task does not hold up the others) and report
// (task, status) back through a pipe; the parent calls `progress` for each
// report.  With one worker the tasks run in this process, one after another.
// Processes rather than threads: a worker that crashes cannot corrupt the
// others, and each has its own single-threaded BLAS.
#ifndef LORALAB_POOL_H
#define LORALAB_POOL_H

#include "util.h"

// Runs task number `task`; returns a status 0..255 passed to `progress`.
typedef int (*pool_task)(int task, void *ctx);
typedef void (*pool_progress)(int task, int status, void *ctx);

// Run tasks[0 .. n) on `workers` processes.  Returns 0 when every task
// reported; -1 with e filled (LERR_RUN) when a worker died or could not be
// started, naming how many tasks were lost.
int pool_run(const int *tasks, int n, int workers, pool_task fn, pool_progress progress,
             void *ctx, lerr *e);

#endif
