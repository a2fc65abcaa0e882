// hessian.c: smallest Hessian eigenvalue of the LoRA objective, from exact
// Hessian-vector products where the teacher gives its loss's curvature, by
// finite differences of the exact gradient otherwise (see hessian.h).
#include "hessian.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linalg.h"

int openblas_get_num_threads(void);
void openblas_set_num_threads(int n);

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

// v -> H v at x = (vec A, vec B): exact (curvature_dense) or by central
// differences.
typedef struct {
    model *m;
    double lambda;
    int d, k, r, exact;
    size_t na, n;                 // d r, d r + r k
    const double *x;              // (n)
    double *D, *G, *dD, *C;       // exact: (d, k) each; G = grad L(A B)
    double h, *xs, *gm;           // differences: step, (n), (n) work
} hess_op;

static int exact_available(const model *m)
{
    return m->p->ops->curvature_dense != NULL && m->roff == 0;
}

static void hop_free(hess_op *o)
{
    free(o->D), free(o->G), free(o->dD), free(o->C), free(o->xs), free(o->gm);
}

static int hop_init(hess_op *o, model *m, const double *x, double lambda, int exact, lerr *e)
{
    const problem *p = m->p;
    *o = (hess_op){.m = m, .lambda = lambda, .d = p->d, .k = p->k, .r = m->r, .exact = exact,
                   .x = x};
    o->na = (size_t)o->d * o->r, o->n = o->na + (size_t)o->r * o->k;
    if (!exact) {
        // h = 1e-5 max(1, ||x||_inf), the dense path's step for the largest coordinate
        double xinf = 0;
        for (size_t i = 0; i < o->n; i++) xinf = fmax(xinf, fabs(x[i]));
        o->h = 1e-5 * fmax(1.0, xinf);
        o->xs = dalloc(o->n), o->gm = dalloc(o->n);
        return 0;
    }
    size_t dk = (size_t)o->d * o->k;
    o->D = dalloc(dk), o->G = dalloc(dk), o->dD = dalloc(dk), o->C = dalloc(dk);
    double L;
    mm('N', 'N', o->d, o->k, o->r, 1.0, x, x + o->na, 0.0, o->D);
    if (model_eval_dense(m, o->D, &L, o->G, e)) return -1;
    for (size_t i = 0; i < dk; i++) o->G[i] = -o->G[i];   // J = -grad L
    return 0;
}

// Hv for v: (n).  Exact:
//   dD = dA B + A dB,  H_A = C(dD) B^T + G dB^T + lambda dA,
//   H_B = A^T C(dD) + dA^T G + lambda dB;
// differences: (grad F(x + h v) - grad F(x - h v)) / 2h.
static int hop_apply(hess_op *o, const double *v, double *Hv, lerr *e)
{
    size_t n = o->n, na = o->na;
    if (!o->exact) {
        for (size_t i = 0; i < n; i++) o->xs[i] = o->x[i] + o->h * v[i];
        if (grad_F(o->m, o->xs, o->lambda, Hv, e)) return -1;
        for (size_t i = 0; i < n; i++) o->xs[i] = o->x[i] - o->h * v[i];
        if (grad_F(o->m, o->xs, o->lambda, o->gm, e)) return -1;
        for (size_t i = 0; i < n; i++) Hv[i] = (Hv[i] - o->gm[i]) / (2 * o->h);
        return 0;
    }
    int d = o->d, k = o->k, r = o->r;
    const double *A = o->x, *B = o->x + na, *dA = v, *dB = v + na;
    mm('N', 'N', d, k, r, 1.0, dA, B, 0.0, o->dD);
    mm('N', 'N', d, k, r, 1.0, A, dB, 1.0, o->dD);
    if (o->m->p->ops->curvature_dense(o->m, o->D, o->dD, o->C, e)) return -1;
    mm('N', 'T', d, r, k, 1.0, o->C, B, 0.0, Hv);
    mm('N', 'T', d, r, k, 1.0, o->G, dB, 1.0, Hv);
    mm('T', 'N', r, k, d, 1.0, A, o->C, 0.0, Hv + na);
    mm('T', 'N', r, k, d, 1.0, dA, o->G, 1.0, Hv + na);
    for (size_t i = 0; i < n; i++) Hv[i] += o->lambda * v[i];
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

// Lanczos with full reorthogonalisation on v -> H v (hop_apply), from a
// fixed start vector, for up to LANCZOS_MAX steps (fewer when memory for the
// basis, n x steps, would pass 2^25 entries): after every 10 steps the
// smallest Ritz value theta of T_k is accepted when its residual
// ||H y - theta y|| = beta_k |z_k| falls below 1e-8 max(1, |theta_k|max).
// Extreme eigenvalues converge first; a cluster at the bottom (the O(r)
// symmetry gives exact zeros at a minimum) is found as its value.
#define LANCZOS_MAX 400
static int lanczos(model *m, const double *A, const double *B, double lambda, int exact,
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
    double *V = dalloc(kmax * n), *w = dalloc(n);
    double *alpha = dalloc(kmax), *beta = dalloc(kmax), *ritz = dalloc(kmax);
    double *z = dalloc(kmax * kmax), *off = dalloc(kmax);
    hess_op o;
    int rc = hop_init(&o, m, x, lambda, exact, e);
    double nv = 0;
    for (size_t i = 0; i < n; i++) V[i] = 1.0 + 0.5 * sin(1.0 + (double)i), nv += V[i] * V[i];
    for (size_t i = 0; i < n; i++) V[i] /= sqrt(nv);
    int done = 0;
    size_t k = 0;
    double theta = NAN, last = 0, big = 0;
    while (!rc && !done && k < kmax) {
        double *v = V + k * n;
        rc = hop_apply(&o, v, w, e);
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
    hop_free(&o);
    free(x), free(V), free(w), free(alpha), free(beta), free(ritz), free(z), free(off);
    return rc;
}

int min_hessian_eig_lanczos(model *m, const double *A, const double *B, double lambda,
                            double *out, lerr *e)
{
    return lanczos(m, A, B, lambda, exact_available(m), out, e);
}

// Dense Hessian H: (n, n), column j = H e_j by hop_apply, symmetrised; its
// smallest eigenvalue by dsyevd.
static int dense_min(model *m, const double *A, const double *B, double lambda, int exact,
                     double *out, lerr *e)
{
    const problem *p = m->p;
    size_t na = (size_t)p->d * m->r, n = na + (size_t)m->r * p->k;
    double *x = dalloc(n), *H = dalloc(n * n), *w = dalloc(n), *ej = dalloc(n);
    memcpy(x, A, sizeof(double) * na);
    memcpy(x + na, B, sizeof(double) * (n - na));
    hess_op o;
    int rc = hop_init(&o, m, x, lambda, exact, e);
    for (size_t j = 0; j < n && !rc; j++) {
        ej[j] = 1.0;
        if (!exact) o.h = 1e-5 * fmax(1.0, fabs(x[j]));   // this coordinate's step
        rc = hop_apply(&o, ej, w, e);
        ej[j] = 0.0;
        for (size_t i = 0; i < n && !rc; i++) H[i * n + j] = w[i];
    }
    for (size_t i = 0; i < n && !rc; i++)
        for (size_t j = i + 1; j < n; j++) H[i * n + j] = H[j * n + i] = 0.5 * (H[i * n + j] + H[j * n + i]);
    // one BLAS thread: the eigenvalues must not depend on the thread count
    // (a threaded dsyevd sums in another order; the matrix is small)
    int threads = openblas_get_num_threads();
    if (threads > 1) openblas_set_num_threads(1);
    if (!rc && LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'N', 'U', (lapack_int)n, H, (lapack_int)n, w) != 0)
        rc = lerr_run(e, "eigenvalues of the %zux%zu Hessian failed", n, n);
    if (threads > 1) openblas_set_num_threads(threads);
    if (!rc) *out = w[0];   // ascending
    hop_free(&o);
    free(x), free(H), free(w), free(ej);
    return rc;
}

int min_hessian_eig_exact(model *m, const double *A, const double *B, double lambda,
                          double *out, lerr *e)
{
    *out = NAN;
    if (!exact_available(m))
        return lerr_run(e, "teacher %s has no exact curvature (or the model is shifted)",
                        m->p->teacher);
    return dense_min(m, A, B, lambda, 1, out, e);
}

int min_hessian_eig_fd(model *m, const double *A, const double *B, double lambda, double *out,
                       lerr *e)
{
    const problem *p = m->p;
    size_t n = (size_t)m->r * (p->d + p->k);
    *out = NAN;
    if (n > HESSIAN_MAX_PARAMS) return lanczos(m, A, B, lambda, 0, out, e);
    return dense_min(m, A, B, lambda, 0, out, e);
}

// Exact products: dense up to HESSIAN_DENSE_EXACT parameters, else Lanczos
// (dense again, up to HESSIAN_MAX_PARAMS, if it has not converged).
int min_hessian_eig(model *m, const double *A, const double *B, double lambda, double *out,
                    lerr *e)
{
    const problem *p = m->p;
    size_t n = (size_t)m->r * (p->d + p->k);
    *out = NAN;
    if (!exact_available(m)) return min_hessian_eig_fd(m, A, B, lambda, out, e);
    if (n <= HESSIAN_DENSE_EXACT) return dense_min(m, A, B, lambda, 1, out, e);
    if (lanczos(m, A, B, lambda, 1, out, e)) return -1;
    if (isnan(*out) && n <= HESSIAN_MAX_PARAMS) return dense_min(m, A, B, lambda, 1, out, e);
    return 0;
}
