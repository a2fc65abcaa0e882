// hessian.c: smallest Hessian eigenvalue of the LoRA objective by finite
// differences of the exact gradient (see hessian.h).
#include "hessian.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

// grad F at x = (vec A, vec B) into g; x, g: (d r + r k).
static int grad_F(model *m, const double *x, double lambda, double *g, lerr *e)
{
    const problem *p = m->p;
    size_t na = (size_t)p->d * m->r, n = na + (size_t)m->r * p->k;
    double L;
    if (model_eval_factors(m, x, x + na, &L, g, g + na, e)) return -1;
    for (size_t i = 0; i < n; i++) g[i] += lambda * x[i];
    return 0;
}

// Hv = (grad F(x + h v) - grad F(x - h v)) / 2h for a unit vector v; xs, gp,
// gm: (n) work.  h = 1e-5 max(1, ||x||_inf), the dense path's step for the
// largest coordinate.
static int hess_times(model *m, const double *x, double lambda, double h, const double *v,
                      double *Hv, double *xs, double *gm, size_t n, lerr *e)
{
    for (size_t i = 0; i < n; i++) xs[i] = x[i] + h * v[i];
    if (grad_F(m, xs, lambda, Hv, e)) return -1;
    for (size_t i = 0; i < n; i++) xs[i] = x[i] - h * v[i];
    if (grad_F(m, xs, lambda, gm, e)) return -1;
    for (size_t i = 0; i < n; i++) Hv[i] = (Hv[i] - gm[i]) / (2 * h);
    return 0;
}

// Smallest eigenvalue of the tridiagonal T_k (alpha: (k), beta: (k - 1)) and
// the last component of its eigenvector, by LAPACK dstev; ritz: (k), z:
// (k, k), work: (max(1, 2k - 2)) scratch.
static int tridiag_min(const double *alpha, const double *beta, int k, double *ritz, double *z,
                       double *off, double *theta, double *last)
{
    memcpy(ritz, alpha, sizeof(double) * k);
    if (k > 1) memcpy(off, beta, sizeof(double) * (k - 1));
    if (LAPACKE_dstev(LAPACK_COL_MAJOR, 'V', k, ritz, off, z, k) != 0) return -1;
    *theta = ritz[0];                          // ascending
    *last = z[(size_t)k - 1];                  // column 0, row k-1 (column-major)
    return 0;
}

// Lanczos with full reorthogonalisation on v -> H v (hess_times), from a
// fixed start vector, for up to LANCZOS_MAX steps (fewer when memory for the
// basis, n x steps, would pass 2^25 entries): after every 10 steps the
// smallest Ritz value theta of T_k is accepted when its residual
// ||H y - theta y|| = beta_k |z_k| falls below 1e-8 max(1, |theta_k|max).
// Extreme eigenvalues converge first; a cluster at the bottom (the O(r)
// symmetry gives exact zeros at a minimum) is found as its value.
#define LANCZOS_MAX 400
int min_hessian_eig_lanczos(model *m, const double *A, const double *B, double lambda,
                            double *out, lerr *e)
{
    const problem *p = m->p;
    size_t na = (size_t)p->d * m->r, n = na + (size_t)m->r * p->k;
    double *x = dalloc(n);
    memcpy(x, A, sizeof(double) * na);
    memcpy(x + na, B, sizeof(double) * (n - na));
    size_t kmax = LANCZOS_MAX < n ? LANCZOS_MAX : n;
    if (kmax * n > ((size_t)1 << 25)) kmax = ((size_t)1 << 25) / n;
    if (kmax < 2) kmax = 2;
    double *V = dalloc(kmax * n), *w = dalloc(n), *xs = dalloc(n), *gm = dalloc(n);
    double *alpha = dalloc(kmax), *beta = dalloc(kmax), *ritz = dalloc(kmax);
    double *z = dalloc(kmax * kmax), *off = dalloc(kmax);
    double xinf = 0;
    for (size_t i = 0; i < n; i++) xinf = fmax(xinf, fabs(x[i]));
    double h = 1e-5 * fmax(1.0, xinf), nv = 0;
    for (size_t i = 0; i < n; i++) V[i] = 1.0 + 0.5 * sin(1.0 + (double)i), nv += V[i] * V[i];
    for (size_t i = 0; i < n; i++) V[i] /= sqrt(nv);
    int rc = 0, done = 0;
    size_t k = 0;
    double theta = NAN, last = 0, big = 0;
    while (!rc && !done && k < kmax) {
        double *v = V + k * n;
        rc = hess_times(m, x, lambda, h, v, w, xs, gm, n, e);
        if (rc) break;
        alpha[k] = 0;
        for (size_t i = 0; i < n; i++) alpha[k] += w[i] * v[i];
        big = fmax(big, fabs(alpha[k]));
        // w <- w - V_k (V_k^T w), twice (full reorthogonalisation)
        for (int pass = 0; pass < 2; pass++)
            for (size_t j = 0; j <= k; j++) {
                const double *vj = V + j * n;
                double c = 0;
                for (size_t i = 0; i < n; i++) c += vj[i] * w[i];
                for (size_t i = 0; i < n; i++) w[i] -= c * vj[i];
            }
        double b = 0;
        for (size_t i = 0; i < n; i++) b += w[i] * w[i];
        b = sqrt(b);
        k++;
        int check = k % 10 == 0 || k == kmax || b <= 1e-12 * fmax(1.0, big);
        if (check) {
            if (tridiag_min(alpha, beta, (int)k, ritz, z, off, &theta, &last)) {
                rc = lerr_run(e, "eigenvalues of the %zu-step Lanczos matrix failed", k);
                break;
            }
            big = fmax(big, fabs(ritz[k - 1]));
            done = b * fabs(last) <= 1e-8 * fmax(1.0, big) || b <= 1e-12 * fmax(1.0, big);
        }
        if (!done && k < kmax) {
            beta[k - 1] = b;
            for (size_t i = 0; i < n; i++) V[k * n + i] = w[i] / b;
        }
    }
    *out = !rc && done ? theta : NAN;
    free(x), free(V), free(w), free(xs), free(gm), free(alpha), free(beta), free(ritz), free(z), free(off);
    return rc;
}

int min_hessian_eig(model *m, const double *A, const double *B, double lambda, double *out,
                    lerr *e)
{
    const problem *p = m->p;
    size_t na = (size_t)p->d * m->r, n = na + (size_t)m->r * p->k;
    *out = NAN;
    if (n > HESSIAN_MAX_PARAMS) return min_hessian_eig_lanczos(m, A, B, lambda, out, e);
    double *x = dalloc(n), *gp = dalloc(n), *gm = dalloc(n), *H = dalloc(n * n), *w = dalloc(n);
    memcpy(x, A, sizeof(double) * na);
    memcpy(x + na, B, sizeof(double) * (n - na));
    int rc = 0;
    for (size_t j = 0; j < n && !rc; j++) {
        double x0 = x[j], h = 1e-5 * fmax(1.0, fabs(x0));
        x[j] = x0 + h;
        rc = grad_F(m, x, lambda, gp, e);
        x[j] = x0 - h;
        if (!rc) rc = grad_F(m, x, lambda, gm, e);
        x[j] = x0;
        for (size_t i = 0; i < n && !rc; i++) H[i * n + j] = (gp[i] - gm[i]) / (2 * h);
    }
    for (size_t i = 0; i < n && !rc; i++)
        for (size_t j = i + 1; j < n; j++) H[i * n + j] = H[j * n + i] = 0.5 * (H[i * n + j] + H[j * n + i]);
    if (!rc && LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'N', 'U', (lapack_int)n, H, (lapack_int)n, w) != 0)
        rc = lerr_run(e, "eigenvalues of the %zux%zu Hessian failed", n, n);
    if (!rc) *out = w[0];   // ascending
    free(x), free(gp), free(gm), free(H), free(w);
    return rc;
}
