// registry.h: the names of the interchangeable parts.
//
// Teachers, initialisers and optimisers are registered by name in tables
// (teacher.c, init.c, optim.c); adding one is one function and one row.
// config.c validates names through these lookups so that nothing else in the
// program switches on the names.
#ifndef LORALAB_REGISTRY_H
#define LORALAB_REGISTRY_H

#include "spec.h"
#include "util.h"

// Each returns 1 if `name` is registered, 0 otherwise.
int teacher_known(const char *name);
int init_known(const char *name);
int optim_known(const char *name);

// Input checks of the teacher's own (e.g. the shapes of its .npy inputs);
// LERR_INPUT on failure.  Run for every cell before anything is written.
int teacher_check(const spec *s, lerr *e);

// The smallest teacher.rank the teacher accepts (ntk: 0 = random targets).
int teacher_min_rank(const char *name);

// Comma-separated lists of the registered names, for error messages.
const char *teacher_names(void);
const char *init_names(void);
const char *optim_names(void);

#endif
