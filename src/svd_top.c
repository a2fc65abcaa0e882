// svd_top.c: top-q truncated SVD by randomized block subspace iteration
// (see svd_top.h).
//
// (No cblas.h here: random.h may not share a file with it.  Products go
// through mm_fixed() from linalg.h, QR and norms through LAPACKE, with BLAS
// on one thread: the bits do not depend on the thread count.)
#include "svd_top.h"

#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linalg.h"
#include "random.h"

// Y: (m, b), m >= b, overwritten by the Q of its QR factorisation Y = Q R
// (Householder, so Q has orthonormal columns to rounding even when Y is rank
// deficient or zero; the columns beyond the rank then span some complement).
// tau: (b) workspace.
static int orthonormalise(double *Y, int m, int b, double *tau, lerr *e)
{
    lapack_int info = LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, m, b, Y, b, tau);
    if (info == 0) info = LAPACKE_dorgqr(LAPACK_ROW_MAJOR, m, b, b, Y, b, tau);
    if (info != 0)
        return lerr_run(e, "svd_top: QR of a %dx%d block failed (LAPACK info %d)", m, b,
                        (int)info);
    return 0;
}

// r_i = ||X[:, i] - s_i Z[:, i]||_2 for i < q, X: (rows, ldx), Z: (rows, ldz),
// into r: (q), using R: (rows, q) as workspace.  Column norms by LAPACK's
// dlange ('F' of a rows x 1 view, strided), which scales against over/underflow.
static void col_resid(const double *X, int ldx, const double *Z, int ldz, const double *s,
                      int rows, int q, double *R, double *r)
{
    for (int r = 0; r < rows; r++)
        for (int i = 0; i < q; i++)
            R[(size_t)r * q + i] = X[(size_t)r * ldx + i] - s[i] * Z[(size_t)r * ldz + i];
    for (int i = 0; i < q; i++) r[i] = LAPACKE_dlange(LAPACK_ROW_MAJOR, 'F', rows, 1, R + i, q);
}

// max_{i < k} r_i, keeping a NaN.
static double max_first(const double *r, int k)
{
    double worst = 0.0;
    for (int i = 0; i < k; i++)
        if (!(r[i] <= worst)) worst = r[i];
    return worst;
}

// Randomized block subspace iteration with Rayleigh-Ritz extraction.
//
// Block size b = min(q + p, min(m, n)).  Start: Omega: (n, b) with i.i.d.
// N(0, 1) entries, Q_0 = orth(M Omega): (m, b).  Iteration k = 0, 1, ...:
//
//   Rayleigh-Ritz:  B = Q_k^T M: (b, n) = Ub diag(Sb) Vb^T (small SVD, dgesdd),
//                   Ritz triplets  u_i = Q_k Ub e_i,  s_i = Sb_i,  v_i = Vb e_i;
//   next block:     Y = M Vb: (m, b),  Q_{k+1} = orth(Y).
//
// Since span(Vb) = span(B^T) = span(M^T Q_k) (when B has full rank; Vb is an
// orthonormal basis of a superset otherwise), Q_{k+1} spans M M^T Q_k: this
// is exactly the alternating scheme Z = orth(M^T Q), Y = orth(M Z), with the
// Ritz vectors Vb serving as the orthonormalised Z, so no separate QR of Z
// and no extra product of M is needed.  Each iteration costs two products with
// M (B and Y: 4 m n b flops) plus O((m + n) b^2) for the QR and small SVD.
// The angle between the top-i subspace and its Ritz approximation shrinks by
// about (s_{b+1} / s_i)^2 per iteration, so oversampling p buys speed when
// s_q sits just above a noise floor.
//
// Residuals.  Y = M Vb already holds M v_i, so the left residuals
//   r_i = ||M v_i - s_i u_i||,  i < q,
// come for free and drive the stopping rule  max_{i < nconv} r_i <= tol s_1
// (or k + 1 = max_iter, which is not an error; nconv = q by default).  The
// right residuals vanish by construction:
//   M^T u_i = M^T Q_k Ub e_i = B^T Ub e_i = s_i v_i  up to rounding,
// so they are computed once, at the end, for the report:
//   resid = max_i max(r_i, ||M^T u_i - s_i v_i||) / s_1   (0 when s_1 = 0).
// When M has rank < q the trailing Ritz values are ~0 and their residuals
// are ~0 too; when M = 0, Q is the first b columns of I, all s_i = 0 and
// no division by s_1 takes place.
//
// M: (m, n); U: (m, q); S: (q); Vt: (q, n).
static int svd_top_run(const double *M, int m, int n, int q, double *U, double *S,
                       double *Vt, svd_top_opts *o, lerr *e)
{
    int mn = m < n ? m : n;
    if (m < 1 || n < 1 || q < 1 || q > mn)
        return lerr_run(e, "svd_top: q = %d must lie in 1..min(m, n) for a %dx%d matrix", q,
                        m, n);
    int p = o && o->oversample ? o->oversample : 10;
    int max_iter = o && o->max_iter ? o->max_iter : 50;
    double tol = o && o->tol != 0.0 ? o->tol : 1e-12;
    long seed = o ? o->seed : 0;
    int nconv = o && o->nconv ? o->nconv : q;
    if (p < 0 || max_iter < 0 || !(tol > 0.0) || nconv < 0 || nconv > q)
        return lerr_run(e,
                        "svd_top: bad options (oversample %d, max_iter %d, tol %g, nconv %d"
                        " for q = %d)",
                        p, max_iter, tol, nconv, q);
    int b = (p > mn - q) ? mn : q + p;

    double *Y = dalloc((size_t)m * b);    // (m, b): M Omega, M Vb; orthonormalised to Q
    double *B = dalloc((size_t)b * n);    // (b, n): Omega^T at the start, then Q^T M
    double *Vb = dalloc((size_t)b * n);   // (b, n): Vb^T, right Ritz vectors as rows
    double *Ub = dalloc((size_t)b * b);   // (b, b)
    double *Sb = dalloc((size_t)b);       // (b)
    double *Uf = dalloc((size_t)m * b);   // (m, b): Q Ub, left Ritz vectors
    double *tau = dalloc((size_t)b);
    double *R = dalloc((size_t)m * q);    // (m, q): left residuals
    double *rn = dalloc((size_t)q);       // (q): their norms

    // Omega is drawn as Omega^T: (b, n), so that Y = M Omega = M (Omega^T)^T.
    char tag[96];
    snprintf(tag, sizeof tag, "svd_top|m=%d|n=%d|q=%d", m, n, q);
    gsl_rng *rng = stream_new(seed, tag);
    gaussian_fill(rng, B, b, n, 1.0);
    gsl_rng_free(rng);
    mm_fixed('N', 'T', m, b, n, 1.0, M, B, 0.0, Y);

    int rc = 0, it = 0;
    for (;;) {
        if ((rc = orthonormalise(Y, m, b, tau, e))) break;             // Y := Q_k
        mm_fixed('T', 'N', b, n, m, 1.0, Y, M, 0.0, B);                      // B = Q_k^T M
        if ((rc = svd_thin(B, b, n, Ub, Sb, Vb, e))) break;            // B = Ub Sb Vb^T
        mm_fixed('N', 'N', m, b, b, 1.0, Y, Ub, 0.0, Uf);                    // U = Q_k Ub
        mm_fixed('N', 'T', m, b, n, 1.0, M, Vb, 0.0, Y);                     // Y = M Vb
        col_resid(Y, b, Uf, b, Sb, m, q, R, rn);
        it++;
        if (max_first(rn, nconv) <= tol * Sb[0] || it >= max_iter) break;
    }

    if (rc == 0) {
        for (int i = 0; i < m; i++)
            memcpy(U + (size_t)i * q, Uf + (size_t)i * b, sizeof(double) * q);
        memcpy(S, Sb, sizeof(double) * q);
        memcpy(Vt, Vb, sizeof(double) * (size_t)q * n);
        // right residuals u_i^T M - s_i v_i^T, as rows of W = U^T M - diag(S) Vt: (q, n)
        double *W = dalloc((size_t)q * n);
        mm_fixed('T', 'N', q, n, m, 1.0, U, M, 0.0, W);
        double right = 0.0;
        for (int i = 0; i < q; i++) {
            double *w = W + (size_t)i * n;
            const double *v = Vt + (size_t)i * n;
            for (int j = 0; j < n; j++) w[j] -= S[i] * v[j];
            double r = LAPACKE_dlange(LAPACK_ROW_MAJOR, 'F', 1, n, w, n);
            if (!(r <= right)) right = r;
        }
        free(W);
        double left = max_first(rn, q);
        double worst = left > right || isnan(left) ? left : right;
        if (o) {
            o->iters = it;
            o->resid = S[0] > 0.0 ? worst / S[0] : (worst == 0.0 ? 0.0 : INFINITY);
        }
    }
    free(Y), free(B), free(Vb), free(Ub), free(Sb), free(Uf), free(tau), free(R), free(rn);
    return rc;
}

// BLAS on one thread for the QRs and small SVDs (linalg.h); the products with
// M still use the machine's threads, through mm_fixed's fixed pieces.
int svd_top(const double *M, int m, int n, int q, double *U, double *S, double *Vt,
            svd_top_opts *o, lerr *e)
{
    blas_serial_begin();
    int rc = svd_top_run(M, m, n, q, U, S, Vt, o, e);
    blas_serial_end();
    return rc;
}
