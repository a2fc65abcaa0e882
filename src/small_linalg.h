// small_linalg.h: LAPACK-free kernels for the small matrices of a logged
// metric row (metrics.c): Householder QR of a tall-skinny matrix, Q applied to
// a few columns, and the symmetric eigenproblem of an (n, n) Gram matrix,
// n <= a few dozen.  At these sizes LAPACK's cost is call overhead and
// workspace handling, not flops (see metrics.c for the measured switch-over).
//
// Conventions: every matrix is double, column-major ("cm"), leading dimension
// = its row count; shapes beside each argument as (rows, cols).  Nothing here
// allocates.
#ifndef LORALAB_SMALL_LINALG_H
#define LORALAB_SMALL_LINALG_H

#include <stddef.h>

// Householder QR X = Q R in place, in LAPACK dgeqrf's layout: R in the upper
// triangle, the reflectors' vectors (unit first entry implied) below it,
// tau: (n).  X: (m, n) cm, m >= n.
void sl_qr(double *X, int m, int n, double *tau);

// Y <- Q Y with Q = H_1 ... H_nr, the first nr reflectors of an sl_qr (or
// dgeqrf) result QR: (m, >= nr) cm.  Y: (m, c) cm.
void sl_qr_apply(const double *QR, int m, int nr, const double *tau, double *Y, int c);

// P <- (I - U U^T) P, the residual formed explicitly (no Gram subtraction):
// C = U^T P, P - U C.  U: (n, p) cm with orthonormal columns, P: (n, q) cm,
// C: (p, q) cm receives U^T P.
void sl_project_out(const double *U, int n, int p, double *P, int q, double *C);

// ||x||_2 for x: (n) (a matrix's Frobenius norm): exact to a few ulp, scaled
// against under- and overflow as dnrm2.
double sl_norm(const double *x, size_t n);

// G = X^T X (both triangles).  X: (m, n) cm, G: (n, n) cm.
void sl_gram(const double *X, int m, int n, double *G);

// Eigen-decomposition of the symmetric A: (n, n) cm (both triangles read as
// one symmetric matrix; only the lower one is used).  Eigenvalues into
// w: (n), decreasing; with vectors != 0, A is overwritten by the orthonormal
// eigenvectors, column j belonging to w[j].  e: (n) scratch.  Returns 0, or 1
// if the QL iteration did not converge (w then all nan).
int sl_sym_eig(double *A, int n, double *w, int vectors, double *e);

// One symmetric eigenproblem of a batch (sl_eig_batch): A: (n, n) cm (lower
// triangle read, destroyed), w, e: (n) scratch.  want:
//   SL_VECTORS  eigenvalues into w (decreasing), eigenvectors into A (as sl_sym_eig);
//   SL_VALUES   eigenvalues only;
//   SL_MAX      lambda_max into lmax (as sl_sym_eig_max);
//   SL_RANK     lmax, and into rank the number of eigenvalues above
//               rel^2 lmax (as sl_gram_rank, on a Gram matrix).
// failed: 1 if the iteration did not converge (w or lmax nan, rank 0).
enum { SL_VECTORS, SL_VALUES, SL_MAX, SL_RANK, SL_EIG_BATCH_MAX = 8 };
typedef struct {
    double *A;   // (n, n) cm
    int n, want;
    double rel;
    double *w, *e;   // (n), (n)
    double lmax;
    int rank, failed;
} sl_eig;

// Solves the count <= SL_EIG_BATCH_MAX problems t[], their iterations
// interleaved: each iteration is a chain of dependent divisions and square
// roots, and independent chains advanced in turn overlap in the processor.
// Each result is bit for bit the one the problem gets alone.  Returns 1 if any
// failed.
int sl_eig_batch(sl_eig *t, int count);

// Largest eigenvalue *out of the symmetric A: (n, n) cm (lower triangle used,
// A destroyed): tridiagonalisation, then Laguerre's iteration on the
// characteristic polynomial (QL if that fails).  Absolute error about
// n eps ||A||.  d, e: (n) scratch.  Returns 1 (out nan) if QL also failed.
int sl_sym_eig_max(double *A, int n, double *out, double *d, double *e);

// ||X||_op = sqrt(lambda_max(X^T X)) for X: (m, n) cm, X preserved: full
// relative accuracy for an explicitly formed X (as linalg.h's op_norm_cm).
// gram: (n, n), d, e: (n) scratch.
int sl_op_norm(const double *X, int m, int n, double *gram, double *d, double *e, double *out);

// Number of singular values of X: (m, n) cm above rel s_1 (0 when s_1 = 0), from
// lambda_max of X^T X and a Sturm count at rel^2 lambda_max: exact enough for a
// threshold such as rel = 1e-6, not near rel ~ sqrt(eps).  gram: (n, n), d, e:
// (n) scratch.  Returns -1 if the eigensolver failed.
int sl_gram_rank(const double *X, int m, int n, double rel, double *gram, double *d, double *e);

// Singular values S: (n) of X: (m, n) cm, decreasing, from the eigenvalues of
// the Gram matrix X^T X (as linalg.h's gram_svals_cm: s_1 has full relative
// accuracy, the others an absolute error of about sqrt(m eps) s_1).  X is
// preserved; gram: (n, n), e: (n) scratch.  Returns sl_sym_eig's status.
int sl_gram_svals(const double *X, int m, int n, double *gram, double *S, double *e);

#endif
