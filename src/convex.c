// convex.c: min L(delta) + lambda ||delta||_* by accelerated proximal gradient.
//
//   Y      = X_j + beta_j (X_j - X_{j-1})
//   X_j+1  = SVT(Y - t grad L(Y), t lambda)           (prox step)
//   accept when L(X_j+1) <= L(Y) + <grad L(Y), X_j+1 - Y> + ||X_j+1 - Y||^2 / (2t),
//   else t <- t/2 (backtracking; never needed for a quadratic L with t <= 1/Lip)
//   restart (beta = 0) whenever F(X_j+1) > F(X_j)     (O'Donoghue & Candes)
//   theta_j+1 = (1 + sqrt(1 + 4 theta_j^2)) / 2, beta = (theta_j - 1) / theta_j+1.
// Lip is estimated by power iteration on v -> grad L(v) - grad L(0) (exact for
// quadratic losses; a starting point for the others).  The acceptance test
// evaluates L and grad L at X_j+1 together (one fused pass of the ntk
// operator), and the gradient is kept for the residual below: two passes an
// iteration, not three (the same iterates, bit for bit).  Optimality (theory/THEORY.md
// section 7): ||grad L(delta*)||_op <= lambda and <grad L, delta*> = -lambda ||delta*||_*.
#include "convex.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linalg.h"

int svt(double *M, int d, int k, double tau, double *nuc, lerr *e)
{
    int q = d < k ? d : k;
    double *U = dalloc((size_t)d * q), *S = dalloc((size_t)q), *Vt = dalloc((size_t)q * k);
    int rc = svd_thin(M, d, k, U, S, Vt, e);
    if (!rc) {
        double sum = 0.0;
        for (int j = 0; j < q; j++) {
            S[j] = fmax(S[j] - tau, 0.0);
            sum += S[j];
            for (int i = 0; i < d; i++) U[(size_t)i * q + j] *= S[j];
        }
        mm('N', 'N', d, k, q, 1.0, U, Vt, 0.0, M);
        if (nuc) *nuc = sum;
    }
    free(U), free(S), free(Vt);
    return rc;
}

typedef struct {
    model *m;
    int d, k;
    size_t n;
    double lambda;
} objective;

// L and grad L (= -J) at X.
static int grad_at(objective *o, const double *X, double *L, double *g, lerr *e)
{
    if (model_eval_dense(o->m, X, L, g, e)) return -1;
    for (size_t i = 0; i < o->n; i++) g[i] = -g[i];
    return 0;
}

static double nuclear(const double *X, int d, int k)
{
    int q = d < k ? d : k;
    double *S = dalloc((size_t)q), sum = 0.0;
    lerr e;
    if (svd_thin(X, d, k, NULL, S, NULL, &e) == 0)
        for (int j = 0; j < q; j++) sum += S[j];
    free(S);
    return sum;
}

// ||H||_op for v -> grad L(v) - grad L(0), by 50 power iterations.
static int lipschitz(objective *o, double *out, lerr *e)
{
    double *v = dalloc(o->n), *g0 = dalloc(o->n), *g = dalloc(o->n), L, lam = 0.0;
    double *zero = dalloc(o->n);
    int rc = grad_at(o, zero, &L, g0, e);
    for (size_t i = 0; i < o->n; i++) v[i] = 1.0 + 0.01 * (double)(i % 7);
    for (int it = 0; it < 50 && !rc; it++) {
        double nv = fro(v, (int)o->n, 1);
        for (size_t i = 0; i < o->n; i++) v[i] /= nv;
        if ((rc = grad_at(o, v, &L, g, e))) break;
        for (size_t i = 0; i < o->n; i++) v[i] = g[i] - g0[i];
        lam = fro(v, (int)o->n, 1);
        if (!(lam > 0)) break;
    }
    free(v), free(g0), free(g), free(zero);
    *out = lam;
    return rc;
}

// Optimality measures at X (gradient g): cert, compl.
static int certify(objective *o, const double *X, const double *g, convex_result *r, lerr *e)
{
    double gop, nuc = nuclear(X, o->d, o->k);
    if (op_norm(g, o->d, o->k, &gop, e)) return -1;
    r->cert_star = gop / o->lambda;
    double ln = o->lambda * nuc;
    r->compl_star = ln > 0 ? fabs(fro_dot(g, X, o->d, o->k) + ln) / ln : 0.0;
    int q = o->d < o->k ? o->d : o->k;
    double *S = dalloc((size_t)q);
    if (svd_thin(X, o->d, o->k, NULL, S, NULL, e)) {
        free(S);
        return -1;
    }
    r->rank_star = 0;
    while (r->rank_star < q && S[r->rank_star] > RANK_REL_TOL * S[0]) r->rank_star++;
    free(S);
    return 0;
}

int convex_solve(const problem *p, double lambda, int steps, double tol, convex_result *out,
                 lerr *e)
{
    memset(out, 0, sizeof *out);
    objective o = {.d = p->d, .k = p->k, .n = (size_t)p->d * p->k, .lambda = lambda};
    o.m = model_new(p, 0, NULL, NULL, 0, e);
    if (!o.m) return -1;
    size_t n = o.n;
    double *X = dalloc(n), *Xp = dalloc(n), *Y = dalloc(n), *G = dalloc(n), *Xn = dalloc(n);
    double *gX = dalloc(n), *gXn = dalloc(n);
    double lip, LY, LX = NAN, Ln, nucn, FX, theta = 1.0;
    int rc = lipschitz(&o, &lip, e);
    double t = lip > 0 ? 1.0 / lip : 1.0;
    if (!rc) rc = grad_at(&o, X, &LX, gX, e);
    FX = LX;
    int it = 0;
    for (; it < steps && !rc; it++) {
        double beta = 0.0, th = (1.0 + sqrt(1.0 + 4.0 * theta * theta)) / 2.0;
        beta = (theta - 1.0) / th;
        for (size_t i = 0; i < n; i++) Y[i] = X[i] + beta * (X[i] - Xp[i]);
        if ((rc = grad_at(&o, Y, &LY, G, e))) break;
        for (int bt = 0; bt < 60; bt++) {   // backtracking on t
            for (size_t i = 0; i < n; i++) Xn[i] = Y[i] - t * G[i];
            if ((rc = svt(Xn, o.d, o.k, t * lambda, &nucn, e))) break;
            if ((rc = grad_at(&o, Xn, &Ln, gXn, e))) break;   // gXn: kept if Xn is taken
            double lin = 0.0, sq = 0.0;
            for (size_t i = 0; i < n; i++) {
                double dlt = Xn[i] - Y[i];
                lin += G[i] * dlt;
                sq += dlt * dlt;
            }
            if (Ln <= LY + lin + sq / (2 * t) + 1e-12 * fabs(LY)) break;
            t /= 2;
        }
        if (rc) break;
        double Fn = Ln + lambda * nucn;
        if (Fn > FX && beta > 0) {   // restart: drop the momentum, redo from X
            theta = 1.0;
            memcpy(Xp, X, sizeof(double) * n);
            continue;
        }
        theta = th;
        memcpy(Xp, X, sizeof(double) * n);
        memcpy(X, Xn, sizeof(double) * n);
        memcpy(gX, gXn, sizeof(double) * n);
        LX = Ln;
        FX = Fn;
        // residual of the proximal-gradient map at X (gradient from the
        // acceptance test's evaluation: the same bits as evaluating again)
        for (size_t i = 0; i < n; i++) Y[i] = X[i] - t * gX[i];
        if ((rc = svt(Y, o.d, o.k, t * lambda, NULL, e))) break;
        double res = fro_diff(X, Y, o.d, o.k) / (t * fmax(1.0, fro(gX, o.d, o.k)));
        out->residual = res;
        if (res <= tol) {
            out->converged = 1;
            it++;
            break;
        }
    }
    if (!rc) rc = certify(&o, X, gX, out, e);   // gX, LX: always those of X
    out->f_star = LX + lambda * nuclear(X, o.d, o.k);
    out->iters = it;
    out->delta = X;
    free(Xp), free(Y), free(G), free(Xn), free(gX), free(gXn);
    model_free(o.m);
    if (rc) {
        free(X);
        out->delta = NULL;
    }
    return rc;
}

void convex_result_free(convex_result *r)
{
    free(r->delta);
    r->delta = NULL;
}
