// hessian.h: second-order check of a LoRA point (theory/THEORY.md section 7, N1-sp).
#ifndef LORALAB_HESSIAN_H
#define LORALAB_HESSIAN_H

#include "problem.h"

// Largest number of parameters r (d + k) for which the dense Hessian is formed
// from finite differences (teachers without an exact curvature; Lanczos
// above).
#define HESSIAN_MAX_PARAMS 3000
// With exact Hessian-vector products (the teacher has curvature_dense):
// largest number of parameters for which the Hessian is assembled densely
// first; above it Lanczos, falling back to the dense assembly (up to
// HESSIAN_MAX_PARAMS) should it not converge.
#define HESSIAN_DENSE_EXACT 400

// Smallest eigenvalue of the Hessian of F(A, B) = L(A B) + lambda/2 (||A||^2 +
// ||B||^2) at (A, B): (d, r), (r, k).  With the teacher's exact curvature
// C(dD) = d/dt grad L(D + t dD) (problem_ops.curvature_dense), the
// Hessian-vector product is exact (bilinear structure of D = A B):
//   dD   = dA B + A dB,   G = grad L(A B)
//   H_A  = C(dD) B^T + G dB^T + lambda dA
//   H_B  = A^T C(dD) + dA^T G + lambda dB
// and the Hessian is assembled from it column by column (HESSIAN_DENSE_EXACT
// parameters or fewer), eigenvalues by LAPACK dsyevd, or its smallest
// eigenvalue found by Lanczos on those products.  Without it: finite
// differences, min_hessian_eig_fd.  nan (and 0 returned) if Lanczos has not
// converged and no dense fallback is possible.
int min_hessian_eig(model *m, const double *A, const double *B, double lambda, double *out,
                    lerr *e);

// The dense finite-difference path on its own: H e_j = (grad F(x + h e_j) -
// grad F(x - h e_j)) / 2h from the exact gradient, symmetrised, eigenvalues
// by dsyevd; above HESSIAN_MAX_PARAMS, Lanczos on finite-difference products.
// A second algorithm for the tests; the path of teachers without curvature.
int min_hessian_eig_fd(model *m, const double *A, const double *B, double lambda, double *out,
                       lerr *e);

// The Lanczos path on its own, for any size, with exact products when the
// teacher has curvature_dense (finite differences otherwise).
int min_hessian_eig_lanczos(model *m, const double *A, const double *B, double lambda,
                            double *out, lerr *e);

// The dense exact assembly on its own (the teacher must have curvature_dense;
// LERR_RUN otherwise), for any size.
int min_hessian_eig_exact(model *m, const double *A, const double *B, double lambda,
                          double *out, lerr *e);

#endif
