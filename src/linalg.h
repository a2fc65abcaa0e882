// linalg.h: the few dense linear-algebra building blocks the harness needs,
// as thin checked wrappers over CBLAS and LAPACKE.
//
// Conventions: every matrix is double, row-major and contiguous; the shape
// is given beside each argument as (rows, cols).
#ifndef LORALAB_LINALG_H
#define LORALAB_LINALG_H

#include "util.h"

// C = alpha * op(A) op(B) + beta * C, with op(X) = X or X^T ('N' / 'T').
// C: (m, n); op(A): (m, p); op(B): (p, n).
void mm(char ta, char tb, int m, int n, int p, double alpha, const double *A,
        const double *B, double beta, double *C);

// ---------------------------------------------------------------------------
// Results that do not depend on BLAS's thread count.
//
// OpenBLAS's threaded drivers block a long sum differently from its
// single-threaded ones (0.3.21, measured on its Prescott, Haswell and SkylakeX
// kernels: dgemm, dpotrf, dgeqrf, dgesdd, dsyevd all change their last bits
// between 1 and 2 threads), so a product or factorisation on OpenBLAS's own
// threads gives bits that depend on OPENBLAS_NUM_THREADS.  Two remedies:
//   - a serial section runs BLAS on one thread (LAPACK included): the bits
//     then depend on the sizes only;
//   - mm_fixed / trmm_upper_fixed cut a large product into pieces that depend on the
//     sizes only, each one single-threaded BLAS call, and spread the pieces
//     over the thread budget with par_for: the same bits for any thread count,
//     at about the speed of BLAS's own threads.
// Every LAPACK call below (svd_thin and what uses it, the spd solves, the
// column-major kernels) runs in a serial section, and fro / fro_dot add ddot
// over fixed pieces of 8192 entries (OpenBLAS splits a longer ddot among its
// threads).

// BLAS on one thread until the matching blas_serial_end; sections nest and
// are counted per thread (a par_for worker inside another thread's section
// finds BLAS at one thread and changes nothing).  BLAS's count is global to
// the process: begin the outermost section where no other thread calls BLAS.
void blas_serial_begin(void);
void blas_serial_end(void);
// The threads code may spread fixed pieces over: BLAS's thread count outside
// any serial section (inside one, the count it had when the outermost began).
int blas_budget(void);

// mm with bits that do not depend on the thread count (same arguments).
// C is cut into tiles of up to 256 x 1024, each made by one single-threaded
// dgemm over the whole sum; a C of one tile (and at most 65536 entries) with a
// long sum (p >= 8192) instead splits the sum into q = min(ceil(p / 4096), 16)
// consecutive pieces of ceil(p / q) terms, P_c = op(A)_c op(B)_c, added in
// piece order: C = beta C + alpha (P_0 + P_1 + ...).  The pieces run on up to
// blas_budget() threads (par_for).  Call from outside par_for workers.
void mm_fixed(char ta, char tb, int m, int n, int p, double alpha, const double *A,
              const double *B, double beta, double *C);

// Y <- alpha op(R) Y in place, R: (d, d) upper triangular, op(R) = R ('N') or
// R^T ('T'), Y: (d, c); column blocks of 256 columns of Y, each one
// single-threaded dtrmm on up to blas_budget() threads: bits independent of
// the thread count.
void trmm_upper_fixed(char trans, int d, int c, double alpha, const double *R, double *Y);

// Frobenius norm of a (m, n) matrix, and of the difference X - Y.
double fro(const double *X, int m, int n);
double fro_diff(const double *X, const double *Y, int m, int n);
// Frobenius inner product <X, Y> of two (m, n) matrices.
double fro_dot(const double *X, const double *Y, int m, int n);

// Thin SVD of M: (m, n) = U diag(S) Vt with q = min(m, n):
// U: (m, q), S: (q), Vt: (q, n).  Any of U, Vt may be NULL (not wanted).
// M is not modified.  Singular values in decreasing order.
int svd_thin(const double *M, int m, int n, double *U, double *S, double *Vt, lerr *e);

// Largest singular value of M: (m, n).
int op_norm(const double *M, int m, int n, double *out, lerr *e);

// Numerical rank of M: (m, n): the number of singular values above
// max(m, n) * eps * s_1 (NumPy's matrix_rank rule).  Returns -1 on failure.
int numerical_rank(const double *M, int m, int n);

// Sine of the largest principal angle between span(U) and span(V), for
// U: (n, p) and V: (n, q) with orthonormal columns and q <= p:
//   ||(I - U U^T) V||_op.
// Computed from the projection residual, so it keeps full accuracy for tiny
// angles (no sqrt(1 - cos^2)).
int sin_max_angle(const double *U, int p, const double *V, int q, int n, double *out,
                  lerr *e);

// Orthonormal basis of the top-q left singular subspace of M: (m, n), q <= min(m, n),
// written to Q: (m, q).  Returns 1 (and leaves Q undefined) when the q-th
// singular value is zero, i.e. the subspace is not determined.
int top_left_subspace(const double *M, int m, int n, int q, double *Q, lerr *e);

// Solve X M = G for X (right division, G: (m, r), M: (r, r) symmetric
// positive definite) or M X = G (left division, G: (r, m)), in place in G.
// Returns 1 if M is not numerically positive definite.
int spd_solve_right(const double *M, int r, double *G, int m, double *work);
int spd_solve_left(const double *M, int r, double *G, int m, double *work);

// ---------------------------------------------------------------------------
// Column-major kernels for small matrices in a loop: LAPACK called directly on
// column-major buffers (no LAPACKE transposes), workspace supplied by the
// caller (no allocation).  "cm" marks a column-major argument, leading
// dimension = its row count.  Each returns the LAPACK info (0 on success).

// Householder QR X = Q R in place (LAPACK dgeqrf layout: R in the upper
// triangle, reflectors below it, tau: (n)).  X: (m, n) cm, m >= n.
int qr_cm(double *X, int m, int n, double *tau, double *work, int lwork);
// Y <- Q Y with Q the product of the first nr reflectors of a qr_cm result
// QR: (m, >= nr) cm.  Y: (m, c) cm.
int qr_apply_cm(const double *QR, int m, int nr, const double *tau, double *Y, int c,
                double *work, int lwork);
// Singular values S: (min(m, n)) of X: (m, n) cm, decreasing; with U != NULL
// also the thin left singular vectors U: (m, min(m, n)) cm.  X is destroyed.
// iwork: (8 min(m, n)).
int svd_cm(double *X, int m, int n, double *S, double *U, double *work, int lwork,
           int *iwork);
// ||X||_op for X: (m, n) cm, m >= n, X preserved: s_1 = sqrt(lambda_max(X^T X)).
// gram: (n, n), W: (n) scratch.
int op_norm_cm(const double *X, int m, int n, double *gram, double *W, double *out,
               double *work, int lwork);
// Singular values S: (n) of X: (m, n) cm, m >= n, decreasing, from the
// eigenvalues of X^T X (X preserved; gram: (n, n) scratch).  Each carries an
// absolute error of about sqrt(m eps) s_1: s_1 has full relative accuracy, and
// the others are exact enough to compare with 1e-6 s_1 (a rank threshold), not
// to be reported below ~1e-7 s_1.
int gram_svals_cm(const double *X, int m, int n, double *gram, double *S, double *work,
                  int lwork);

// Workspace (doubles) that the calls above need for these shapes.
int qr_cm_lwork(int m, int n);
int qr_apply_cm_lwork(int m, int nr, int c);
int svd_cm_lwork(int m, int n, int want_u);
int op_norm_cm_lwork(int m, int n);

#endif
