// optim.c: the optimiser registry.  One function and one row per method.
//
//   gd      A <- A - eta (dL/dA + wd A)
//           B <- B - rho eta (dL/dB + wd B)                 (rho = lr_ratio, LoRA+)
//   precgd  A <- A - eta (dL/dA + wd A) (B B^T + lambda I)^{-1}
//           B <- B - rho eta (A^T A + lambda I)^{-1} (dL/dB + wd B)
//           (scaled GD / Riemannian preconditioning; lambda = damping)
//   full    D <- D + eta (J - wd D),  W = base + D          (full fine-tuning)
#include "optim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linalg.h"
#include "registry.h"

typedef int (*step_fn)(optim *o, train_state *st, int t, lerr *e);

struct optim {
    const spec *s;
    step_fn step;
    int dense;
    int r;
    double *PA, *PB, *chol;   // (r, r) each: preconditioners and Cholesky scratch
};

// X <- X - eta (G + wd X) for X, G of length n.
static void descend(double *X, const double *G, size_t n, double eta, double wd)
{
    for (size_t i = 0; i < n; i++) X[i] -= eta * (G[i] + wd * X[i]);
}

static int step_gd(optim *o, train_state *st, int t, lerr *e)
{
    (void)t, (void)e;
    double eta = o->s->optimizer.lr, wd = o->s->optimizer.weight_decay;
    descend(st->A, st->gA, (size_t)st->d * st->r, eta, wd);
    descend(st->B, st->gB, (size_t)st->r * st->k, eta * o->s->optimizer.lr_ratio, wd);
    return 0;
}

static int step_precgd(optim *o, train_state *st, int t, lerr *e)
{
    int d = st->d, k = st->k, r = st->r;
    double eta = o->s->optimizer.lr, wd = o->s->optimizer.weight_decay;
    double lam = o->s->optimizer.damping;
    // PA = B B^T + lam I,  PB = A^T A + lam I   (both from the old factors)
    mm('N', 'T', r, r, k, 1.0, st->B, st->B, 0.0, o->PA);
    mm('T', 'N', r, r, d, 1.0, st->A, st->A, 0.0, o->PB);
    for (int i = 0; i < r; i++) {
        o->PA[(size_t)i * r + i] += lam;
        o->PB[(size_t)i * r + i] += lam;
    }
    // gA <- (gA + wd A) PA^{-1},  gB <- PB^{-1} (gB + wd B)
    for (size_t i = 0; i < (size_t)d * r; i++) st->gA[i] += wd * st->A[i];
    for (size_t i = 0; i < (size_t)r * k; i++) st->gB[i] += wd * st->B[i];
    if (spd_solve_right(o->PA, r, st->gA, d, o->chol))
        return lerr_run(e, "precgd: B B^T + damping I is singular at step %d (damping = %g); "
                        "set optimizer.damping > 0", t, lam);
    if (spd_solve_left(o->PB, r, st->gB, k, o->chol))
        return lerr_run(e, "precgd: A^T A + damping I is singular at step %d (damping = %g); "
                        "set optimizer.damping > 0", t, lam);
    descend(st->A, st->gA, (size_t)d * r, eta, 0.0);
    descend(st->B, st->gB, (size_t)r * k, eta * o->s->optimizer.lr_ratio, 0.0);
    return 0;
}

static int step_full(optim *o, train_state *st, int t, lerr *e)
{
    (void)t, (void)e;
    double eta = o->s->optimizer.lr, wd = o->s->optimizer.weight_decay;
    size_t n = (size_t)st->d * st->k;
    for (size_t i = 0; i < n; i++) st->D[i] += eta * (st->J[i] - wd * st->D[i]);
    return 0;
}

static const struct {
    const char *name;
    step_fn step;
    int dense;
} optims[] = {
    {"gd", step_gd, 0},
    {"precgd", step_precgd, 0},
    {"full", step_full, 1},
};
enum { NOPTIMS = sizeof optims / sizeof optims[0] };

static int find_optim(const char *name)
{
    for (int i = 0; i < NOPTIMS; i++)
        if (strcmp(optims[i].name, name) == 0) return i;
    return -1;
}

int optim_known(const char *name) { return find_optim(name) >= 0; }

const char *optim_names(void)
{
    static char buf[256];
    return join_names(buf, sizeof buf, optims, sizeof optims[0], NOPTIMS);
}

optim *optim_new(const spec *s, int d, int k, int r, lerr *e)
{
    (void)d, (void)k;
    int i = find_optim(s->optimizer.method);
    if (i < 0) {
        lerr_input(e, "unknown optimizer.method '%s' (valid: %s)", s->optimizer.method,
                   optim_names());
        return NULL;
    }
    optim *o = xcalloc(1, sizeof *o);
    o->s = s;
    o->step = optims[i].step;
    o->dense = optims[i].dense;
    o->r = r;
    size_t rr = (size_t)(r > 0 ? r : 1) * (r > 0 ? r : 1);
    o->PA = dalloc(rr);
    o->PB = dalloc(rr);
    o->chol = dalloc(rr);
    return o;
}

void optim_free(optim *o)
{
    if (!o) return;
    free(o->PA);
    free(o->PB);
    free(o->chol);
    free(o);
}

int optim_dense(const optim *o) { return o->dense; }

int optim_step(optim *o, train_state *st, int t, lerr *e) { return o->step(o, st, t, e); }
