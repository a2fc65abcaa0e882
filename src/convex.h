// convex.h: the convex full-fine-tuning reference of [N1] (theory/THEORY.md section 7):
//   F* = min_delta F(delta),  F(delta) = L(delta) + lambda ||delta||_*,
// for any problem's loss L (through its dense evaluation).
#ifndef LORALAB_CONVEX_H
#define LORALAB_CONVEX_H

#include "problem.h"

// Singular values above RANK_REL_TOL * s_1 count towards a rank (rank_star,
// rank_ab).
#define RANK_REL_TOL 1e-6

typedef struct {
    double f_star;       // F(delta*)
    int rank_star;       // rank of delta* (RANK_REL_TOL)
    double cert_star;    // ||grad L(delta*)||_op / lambda   (<= 1 at the optimum)
    double compl_star;   // |<grad L, delta*> + lambda ||delta*||_*| / (lambda ||delta*||_*)
    double residual;     // ||delta - prox(delta - t grad L)|| / (t max(1, ||grad L||)) at the end
    int iters;
    int converged;       // residual <= tol within `steps`
    double *delta;       // (d, k) delta*
} convex_result;

// Accelerated proximal gradient (FISTA) with singular-value thresholding as
// the prox of t lambda ||.||_*, the step from a power-iteration estimate of
// the gradient's Lipschitz constant (with backtracking when the loss is not
// quadratic), and function-value adaptive restart.  Stops when the
// proximal-gradient residual is <= tol.
int convex_solve(const problem *p, double lambda, int steps, double tol, convex_result *out,
                 lerr *e);
void convex_result_free(convex_result *r);

// prox of tau ||.||_*: M <- U max(S - tau, 0) V^T for M: (d, k); returns
// ||result||_* in *nuc.
int svt(double *M, int d, int k, double tau, double *nuc, lerr *e);

#endif
