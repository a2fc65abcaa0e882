// hessian.h: second-order check of a LoRA point (THEORY.md section 7, N1-sp).
#ifndef LORALAB_HESSIAN_H
#define LORALAB_HESSIAN_H

#include "problem.h"

// Largest number of parameters r (d + k) for which the dense Hessian is formed.
#define HESSIAN_MAX_PARAMS 3000

// Smallest eigenvalue of the Hessian of F(A, B) = L(A B) + lambda/2 (||A||^2 +
// ||B||^2) at (A, B): (d, r), (r, k).  The Hessian is formed column by column
// from central differences of the exact gradient, H e_j = (grad F(x + h e_j) -
// grad F(x - h e_j)) / 2h, symmetrised, and its eigenvalues taken by LAPACK
// (dsyevd).  nan (and 0 returned) above HESSIAN_MAX_PARAMS parameters.
int min_hessian_eig(model *m, const double *A, const double *B, double lambda, double *out,
                    lerr *e);

#endif
