// optim.h: optimisers (theory/THEORY.md section 4).
//
// All updates are simultaneous: both factors move using the gradients and
// preconditioners of the old (A, B).
#ifndef LORALAB_OPTIM_H
#define LORALAB_OPTIM_H

#include "problem.h"
#include "spec.h"

typedef struct optim optim;

// The state an optimiser updates in place.  Factored methods read A, B, gA,
// gB (the loss gradients at A, B); the dense method (full fine-tuning) reads
// D and J = -dL/dW at base + D.
typedef struct {
    int d, k, r;
    double *A, *B;         // (d, r), (r, k)
    double *gA, *gB;       // (d, r), (r, k)
    double *D, *J;         // (d, k), (d, k)
} train_state;

// A configured optimiser for s->optimizer.method; NULL with e filled if the
// name is unknown.  Owns its scratch buffers (no allocation per step).
optim *optim_new(const spec *s, int d, int k, int r, lerr *e);
void optim_free(optim *o);

// 1 if the method updates the dense shift D (full fine-tuning), 0 for (A, B).
int optim_dense(const optim *o);

// One update at step t (t is only used in messages).  Fails (LERR_RUN) e.g.
// when precgd meets a singular r x r system with damping 0.
int optim_step(optim *o, train_state *st, int t, lerr *e);

#endif
