// init.h: initialisers of the LoRA factors (theory/THEORY.md section 3).
#ifndef LORALAB_INIT_H
#define LORALAB_INIT_H

#include "problem.h"
#include "spec.h"

// Fill A: (d, r) and B: (r, k) for s->init.method.  *shift is set to 1 when
// the base weight must become W0 - A B (so the model is unchanged at t = 0,
// as for lora-ga and pissa), 0 otherwise.  `seed` is the experiment seed:
// random initialisers draw from a stream tagged with (d, k, r) only, so runs
// that differ in alpha2 or method share the same random directions.
int init_factors(const spec *s, const problem *p, long seed, double *A, double *B,
                 int *shift, lerr *e);

// 1 when init.method draws its factors with variance init.alpha2 (lora,
// gaussian), 0 otherwise.
int init_uses_alpha2(const char *method);

// Checks a combination of settings the initialiser cannot work with
// (e.g. lora-ga needs 2r <= min(d, k)); LERR_INPUT on failure.
int init_check(const spec *s, lerr *e);

#endif
