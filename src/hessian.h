// hessian.h: second-order check of a LoRA point (theory/THEORY.md section 7, N1-sp).
#ifndef LORALAB_HESSIAN_H
#define LORALAB_HESSIAN_H

#include "problem.h"

// Largest number of parameters r (d + k) for which the dense Hessian is formed
// (Lanczos above).
#define HESSIAN_MAX_PARAMS 3000

// Smallest eigenvalue of the Hessian of F(A, B) = L(A B) + lambda/2 (||A||^2 +
// ||B||^2) at (A, B): (d, r), (r, k).  The Hessian is formed column by column
// from central differences of the exact gradient, H e_j = (grad F(x + h e_j) -
// grad F(x - h e_j)) / 2h, symmetrised, and its eigenvalues taken by LAPACK
// (dsyevd).  Above HESSIAN_MAX_PARAMS parameters it is found by Lanczos with
// full reorthogonalisation on the same finite-difference products H v
// (hessian.c); nan (and 0 returned) if that has not converged after 400
// steps.
int min_hessian_eig(model *m, const double *A, const double *B, double lambda, double *out,
                    lerr *e);

// The Lanczos path on its own, for any size (min_hessian_eig uses it above
// HESSIAN_MAX_PARAMS; tests compare it with the dense path below).
int min_hessian_eig_lanczos(model *m, const double *A, const double *B, double lambda,
                            double *out, lerr *e);

#endif
