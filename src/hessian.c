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

int min_hessian_eig(model *m, const double *A, const double *B, double lambda, double *out,
                    lerr *e)
{
    const problem *p = m->p;
    size_t na = (size_t)p->d * m->r, n = na + (size_t)m->r * p->k;
    *out = NAN;
    if (n > HESSIAN_MAX_PARAMS) return 0;
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
