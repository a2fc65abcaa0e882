// optim.h: optimisers (theory/THEORY.md section 4).
//
// All updates are simultaneous: both factors move using the gradients and
// preconditioners of the old (A, B).  The methods and their updates are
// listed in optim.c.  Gradients from the model never include weight decay;
// each method applies optimizer.weight_decay exactly once (coupled or
// decoupled, optim.c).
#ifndef LORALAB_OPTIM_H
#define LORALAB_OPTIM_H

#include "problem.h"
#include "spec.h"

typedef struct optim optim;

// The state an optimiser updates in place.  Factored methods read A, B, gA,
// gB (the loss gradients at A, B); the dense methods (full fine-tuning) read
// D and J = -dL/dW at base + D.  A step may overwrite gA, gB, J (they are
// scratch until the next evaluation).
typedef struct {
    int d, k, r;
    double *A, *B;         // (d, r), (r, k)
    double *gA, *gB;       // (d, r), (r, k)
    double *D, *J;         // (d, k), (d, k)
} train_state;

// A configured optimiser for s->optimizer.method; NULL with e filled if the
// name is unknown.  Owns its scratch buffers and, for the Adam methods, the
// moments of each factor (A and B, or D) and its own update counter: all
// allocated here, once per run (no allocation per step).
optim *optim_new(const spec *s, int d, int k, int r, lerr *e);
void optim_free(optim *o);

// 1 if the method updates the dense shift D (full fine-tuning: full,
// full-adam, full-adamw), 0 for (A, B).
int optim_dense(const optim *o);

// One Adam update (the formulas in optim.c's header) of X: (n) with gradient
// g + wd_coupled X, after the decoupled decay X <- (1 - eta wd_decoupled) X
// (both decays read the old X); m, v: (n) are X's moments, updated in place;
// t >= 1 is the update's number (bias correction).  Shared by the optimisers
// and by mlp.c's pretraining.
void adam_apply(double *X, const double *g, double *m, double *v, size_t n, long t, double eta,
                double beta1, double beta2, double eps, double wd_coupled, double wd_decoupled);

// One update at step t (t is only used in messages; Adam's bias correction
// counts the optimiser's own updates).  Fails (LERR_RUN) e.g. when precgd or
// precadamw meets a singular r x r system with damping 0.
int optim_step(optim *o, train_state *st, int t, lerr *e);

#endif
