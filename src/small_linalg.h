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

// G = X^T X (both triangles).  X: (m, n) cm, G: (n, n) cm.
void sl_gram(const double *X, int m, int n, double *G);

// Eigen-decomposition of the symmetric A: (n, n) cm (both triangles read as
// one symmetric matrix; only the lower one is used).  Eigenvalues into
// w: (n), decreasing; with vectors != 0, A is overwritten by the orthonormal
// eigenvectors, column j belonging to w[j].  e: (n) scratch.  Returns 0, or 1
// if the QL iteration did not converge (w then all nan).
int sl_sym_eig(double *A, int n, double *w, int vectors, double *e);

// sl_sym_eig on two matrices of the same order at once (A1 -> w1, A2 -> w2;
// e1, e2: (n) scratch), their QL iterations interleaved: the same bits as two
// sl_sym_eig calls in about the time of one.  Returns 1 if either failed (its
// eigenvalues nan).
int sl_sym_eig2(double *A1, double *A2, int n, double *w1, double *w2, int vectors, double *e1,
                double *e2);

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
