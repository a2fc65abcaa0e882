// teacher_nonlinear.c: the nonlinear teacher-student model of LoRA-One,
// section 4 (THEORY.md section 2).
//
//   f(x) = sigma((W0 + A B)^T x),  Y = sigma(X W_nat) + noise,
//   L(W) = 1/(2N) ||sigma(X W) - Y||_F^2,
//   J(W) = -dL/dW = (1/N) X^T [(Y - sigma(X W)) . sigma'(X W)]
// (. the entrywise product; sigma'(0) = 0 for ReLU).  No sufficient
// statistics exist, so every evaluation touches X, but never a (d, k) product
// that is not needed: with XB = X base kept per run,
//   XA = X A (N, r);  Z = XB + XA B (N, k);  F = sigma(Z), S = sigma'(Z);
//   R = (F - Y) . S;  L = ||F - Y||^2 / 2N   (one blocked pass: residual());
//   dL/dA = X^T (R B^T) / N,  dL/dB = XA^T R / N,
// O(N r (d + k)) per step with every buffer allocated once per run.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linalg.h"
#include "problem.h"
#include "teacher_data.h"

typedef struct {
    double *X, *Y;       // (N, d), (N, k)
} nl_data;

typedef struct {
    double *XB;          // (N, k) X base
    double *XA, *RB;     // (N, r)
    double *Z;           // (N, k): pre-activations, then R
} nl_run;

// One pass over the (N, k) pre-activations, block by block so each block
// stays in cache: z = Z + XB; f = sigma(z), s = sigma'(z); loss += (f - y)^2;
// Z <- (f - y) . s when the gradient is wanted (R), f - y otherwise.
// Returns ||F - Y||^2 / 2N.  (Memory traffic is what a step costs here: the
// products are thin, r = 8 columns against N = 16384 rows.)
#define NL_BLOCK 2048
static double residual(const problem *p, const nl_data *D, nl_run *w, int want_grad)
{
    size_t len = (size_t)p->n * p->k;
    double f[NL_BLOCK], s[NL_BLOCK], acc = 0.0;
    for (size_t b = 0; b < len; b += NL_BLOCK) {
        size_t m = len - b < NL_BLOCK ? len - b : NL_BLOCK;
        double *z = w->Z + b;
        const double *xb = w->XB + b, *y = D->Y + b;
        for (size_t i = 0; i < m; i++) z[i] += xb[i];
        p->act(z, f, s, m, p->slope);
        for (size_t i = 0; i < m; i++) {
            double r = f[i] - y[i];
            acc += r * r;
            z[i] = want_grad ? r * s[i] : r;
        }
    }
    return acc / (2.0 * p->n);
}

static int nl_eval_factors(model *m, const double *A, const double *B, double *loss,
                           double *gA, double *gB, lerr *e)
{
    (void)e;
    const problem *p = m->p;
    const nl_data *D = p->impl;
    nl_run *w = m->impl;
    int n = p->n, d = p->d, k = p->k, r = m->r;
    mm('N', 'N', n, r, d, 1.0, D->X, A, 0.0, w->XA);               // XA = X A
    mm('N', 'N', n, k, r, 1.0, w->XA, B, 0.0, w->Z);               // Z = XA B (+ XB below)
    *loss = residual(p, D, w, gA || gB);                           // Z <- R = (F - Y) . S
    if (!gA && !gB) return 0;
    if (gA) {
        mm('N', 'T', n, r, k, 1.0, w->Z, B, 0.0, w->RB);           // RB = R B^T
        mm('T', 'N', d, r, n, 1.0 / n, D->X, w->RB, 0.0, gA);      // gA = X^T RB / N
    }
    if (gB) mm('T', 'N', r, k, n, 1.0 / n, w->XA, w->Z, 0.0, gB);  // gB = XA^T R / N
    return 0;
}

static int nl_eval_dense(model *m, const double *Dw, double *loss, double *J, lerr *e)
{
    (void)e;
    const problem *p = m->p;
    const nl_data *D = p->impl;
    nl_run *w = m->impl;
    int n = p->n, d = p->d, k = p->k;
    mm('N', 'N', n, k, d, 1.0, D->X, Dw, 0.0, w->Z);               // Z = X D (+ XB below)
    *loss = residual(p, D, w, J != NULL);
    if (!J) return 0;
    mm('T', 'N', d, k, n, -1.0 / n, D->X, w->Z, 0.0, J);           // J = -X^T R / N
    return 0;
}

static int nl_model_init(model *m, lerr *e)
{
    (void)e;
    const problem *p = m->p;
    const nl_data *D = p->impl;
    int n = p->n, d = p->d, k = p->k, r = m->r > 0 ? m->r : 1;
    nl_run *w = xcalloc(1, sizeof *w);
    w->XB = dalloc((size_t)n * k);
    w->XA = dalloc((size_t)n * (r > m->roff ? r : m->roff));
    w->RB = dalloc((size_t)n * r);
    w->Z = dalloc((size_t)n * k);
    mm('N', 'N', n, k, d, 1.0, D->X, p->W0, 0.0, w->XB);           // XB = X W0 - X Aoff Boff
    if (m->roff > 0) {
        mm('N', 'N', n, m->roff, d, 1.0, D->X, m->Aoff, 0.0, w->XA);
        mm('N', 'N', n, k, m->roff, -1.0, w->XA, m->Boff, 1.0, w->XB);
    }
    m->impl = w;
    return 0;
}

static void nl_model_free(model *m)
{
    nl_run *w = m->impl;
    if (!w) return;
    free(w->XB), free(w->XA), free(w->RB), free(w->Z);
    free(w);
}

static void nl_problem_free(problem *p)
{
    nl_data *D = p->impl;
    if (!D) return;
    free(D->X), free(D->Y);
    free(D);
}

static const problem_ops nonlinear_ops = {
    .eval_factors = nl_eval_factors,
    .eval_dense = nl_eval_dense,
    .model_init = nl_model_init,
    .model_free = nl_model_free,
    .problem_free = nl_problem_free,
};

int teacher_nonlinear_new(const spec *s, long seed, problem **out, lerr *e)
{
    problem *p = xcalloc(1, sizeof *p);
    nl_data *D = xcalloc(1, sizeof *D);
    p->ops = &nonlinear_ops;
    p->impl = D;
    p->teacher = "nonlinear";
    p->d = s->teacher.d, p->k = s->teacher.k, p->n = s->teacher.n;
    p->act = activation_find(s->teacher.activation);
    p->slope = s->teacher.leaky_slope;
    if (!p->act) {
        problem_free(p);
        return lerr_input(e, "unknown teacher.activation '%s' (valid: %s)",
                          s->teacher.activation, activation_names());
    }
    int rc = teacher_truth(s, seed, p, e);
    if (!rc) {
        D->X = teacher_inputs(s, seed, "x", p->n, p->d);
        D->Y = teacher_labels(s, seed, "x", p, D->X, p->n, p->act, s->teacher.noise);
        p->sigma_dev = sigma_deviation(D->X, p->n, p->d, 1.0 / sqrt((double)p->n));
        if (s->teacher.n_test > 0) {   // clean test labels sigma(Xt W_nat)
            p->n_test = s->teacher.n_test;
            p->Xt = teacher_inputs(s, seed, "xtest", p->n_test, p->d);
            p->Yt = teacher_labels(s, seed, "xtest", p, p->Xt, p->n_test, p->act, 0.0);
        }
    }
    if (!rc) rc = problem_finish(p, s->teacher.rank, e);
    if (rc) {
        problem_free(p);
        return rc;
    }
    *out = p;
    return 0;
}
