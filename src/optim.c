// optim.c: the optimiser registry.  One function and one row per method.
//
// eta = lr, rho = lr_ratio (LoRA+: B's step is rho eta), wd = weight_decay,
// lambda = damping.  gA = dL/dA, gB = dL/dB, J = -dL/dW come from the model
// and never contain weight decay: each method applies it exactly once, either
// coupled (added to the gradient: gd, precgd, full, adam, full-adam) or
// decoupled (X <- X - eta_X wd X beside the Adam step: adamw, precadamw,
// full-adamw).  The ntk teacher's objective L + (wd/2)(|A|^2 + |B|^2) is
// therefore descended by gd exactly as written, never twice.
//
//   gd      A <- A - eta (gA + wd A)
//           B <- B - rho eta (gB + wd B)
//   precgd  A <- A - eta (gA + wd A) (B B^T + lambda I)^{-1}
//           B <- B - rho eta (A^T A + lambda I)^{-1} (gB + wd B)
//           (scaled GD / Riemannian preconditioning)
//   full    D <- D + eta (J - wd D),  W = base + D          (full fine-tuning)
//
// Adam on a parameter X with gradient g at step t = 1, 2, ... (the optimiser's
// own counter, from 1 at the first update of the run), entrywise:
//   m <- beta1 m + (1 - beta1) g,    v <- beta2 v + (1 - beta2) g^2
//   X <- X - eta_X (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
// with m = v = 0 before the first step, eta_A = eta, eta_B = rho eta, one
// (m, v) pair per factor (A and B, or D).
//   adam       g = gA + wd A, gB + wd B              (coupled, L2 in the gradient)
//   adamw      X <- (1 - eta_X wd) X, then Adam with g = gA, gB   (decoupled)
//   precadamw  X <- (1 - eta_X wd) X, then Adam with
//              g = gA (B B^T + lambda I)^{-1}, (A^T A + lambda I)^{-1} gB
//              (the scaled AdamW of Riemannian preconditioned LoRA,
//              Zhang & Pilanci 2024; both preconditioners from the old A, B)
//   full-adam  Adam on D with g = -J + wd D
//   full-adamw D <- (1 - eta wd) D, then Adam on D with g = -J
#include "optim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linalg.h"
#include "registry.h"

typedef int (*step_fn)(optim *o, train_state *st, int t, lerr *e);

// Adam's first and second moments of one parameter block of n entries.
typedef struct {
    size_t n;
    double *m, *v;   // (n), (n)
} moments;

struct optim {
    const spec *s;
    step_fn step;
    int dense;
    int r;
    double *PA, *PB, *chol;   // (r, r) each: preconditioners and Cholesky scratch
    long t;                   // Adam: updates made so far (bias correction)
    moments mA, mB, mD;       // Adam: A: (d, r), B: (r, k), D: (d, k)
};

// X <- X - eta (G + wd X) for X, G of length n.
static void descend(double *X, const double *G, size_t n, double eta, double wd)
{
    for (size_t i = 0; i < n; i++) X[i] -= eta * (G[i] + wd * X[i]);
}

void adam_apply(double *X, const double *g, double *m, double *v, size_t n, long t, double eta,
                double beta1, double beta2, double eps, double wd_coupled, double wd_decoupled)
{
    double c1 = 1.0 - pow(beta1, (double)t), c2 = 1.0 - pow(beta2, (double)t);
    for (size_t i = 0; i < n; i++) {
        double gi = g[i] + wd_coupled * X[i];
        m[i] = beta1 * m[i] + (1.0 - beta1) * gi;
        v[i] = beta2 * v[i] + (1.0 - beta2) * gi * gi;
        double mhat = m[i] / c1, vhat = v[i] / c2;
        X[i] = (1.0 - eta * wd_decoupled) * X[i] - eta * mhat / (sqrt(vhat) + eps);
    }
}

// One Adam update of a factor's block with the run's constants (adam_apply).
static void adam_update(const optim *o, moments *mo, double *X, const double *g, double eta,
                        double wd_coupled, double wd_decoupled)
{
    adam_apply(X, g, mo->m, mo->v, mo->n, o->t, eta, o->s->optimizer.beta1,
               o->s->optimizer.beta2, o->s->optimizer.eps, wd_coupled, wd_decoupled);
}

static int step_gd(optim *o, train_state *st, int t, lerr *e)
{
    (void)t, (void)e;
    double eta = o->s->optimizer.lr, wd = o->s->optimizer.weight_decay;
    descend(st->A, st->gA, (size_t)st->d * st->r, eta, wd);
    descend(st->B, st->gB, (size_t)st->r * st->k, eta * o->s->optimizer.lr_ratio, wd);
    return 0;
}

// In place: gA <- (gA + wd A) PA^{-1},  gB <- PB^{-1} (gB + wd B) with
// PA = B B^T + lambda I, PB = A^T A + lambda I (both from the current, i.e.
// old, factors).  gA: (d, r), gB: (r, k), PA, PB: (r, r).
static int precondition(optim *o, train_state *st, double wd, const char *who, int t, lerr *e)
{
    int d = st->d, k = st->k, r = st->r;
    double lam = o->s->optimizer.damping;
    mm('N', 'T', r, r, k, 1.0, st->B, st->B, 0.0, o->PA);
    mm('T', 'N', r, r, d, 1.0, st->A, st->A, 0.0, o->PB);
    for (int i = 0; i < r; i++) {
        o->PA[(size_t)i * r + i] += lam;
        o->PB[(size_t)i * r + i] += lam;
    }
    if (wd != 0.0) {
        for (size_t i = 0; i < (size_t)d * r; i++) st->gA[i] += wd * st->A[i];
        for (size_t i = 0; i < (size_t)r * k; i++) st->gB[i] += wd * st->B[i];
    }
    if (spd_solve_right(o->PA, r, st->gA, d, o->chol))
        return lerr_run(e, "%s: B B^T + damping I is singular at step %d (damping = %g); "
                        "set optimizer.damping > 0", who, t, lam);
    if (spd_solve_left(o->PB, r, st->gB, k, o->chol))
        return lerr_run(e, "%s: A^T A + damping I is singular at step %d (damping = %g); "
                        "set optimizer.damping > 0", who, t, lam);
    return 0;
}

static int step_precgd(optim *o, train_state *st, int t, lerr *e)
{
    double eta = o->s->optimizer.lr;
    if (precondition(o, st, o->s->optimizer.weight_decay, "precgd", t, e)) return -1;
    descend(st->A, st->gA, (size_t)st->d * st->r, eta, 0.0);
    descend(st->B, st->gB, (size_t)st->r * st->k, eta * o->s->optimizer.lr_ratio, 0.0);
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

// Adam on (A, B) with weight decay coupled (`decoupled` 0) or decoupled (1).
static void adam_factors(optim *o, train_state *st, int decoupled)
{
    double eta = o->s->optimizer.lr, wd = o->s->optimizer.weight_decay;
    double rho = o->s->optimizer.lr_ratio;
    double wc = decoupled ? 0.0 : wd, wdc = decoupled ? wd : 0.0;
    o->t++;
    adam_update(o, &o->mA, st->A, st->gA, eta, wc, wdc);
    adam_update(o, &o->mB, st->B, st->gB, rho * eta, wc, wdc);
}

static int step_adam(optim *o, train_state *st, int t, lerr *e)
{
    (void)t, (void)e;
    adam_factors(o, st, 0);
    return 0;
}

static int step_adamw(optim *o, train_state *st, int t, lerr *e)
{
    (void)t, (void)e;
    adam_factors(o, st, 1);
    return 0;
}

static int step_precadamw(optim *o, train_state *st, int t, lerr *e)
{
    if (precondition(o, st, 0.0, "precadamw", t, e)) return -1;
    adam_factors(o, st, 1);
    return 0;
}

// Adam on the dense shift D; its gradient is -J (J = -dL/dW).  The sign is
// flipped in J itself, which the model overwrites at the next evaluation.
static void adam_dense(optim *o, train_state *st, int decoupled)
{
    double eta = o->s->optimizer.lr, wd = o->s->optimizer.weight_decay;
    size_t n = (size_t)st->d * st->k;
    for (size_t i = 0; i < n; i++) st->J[i] = -st->J[i];
    o->t++;
    adam_update(o, &o->mD, st->D, st->J, eta, decoupled ? 0.0 : wd, decoupled ? wd : 0.0);
}

static int step_full_adam(optim *o, train_state *st, int t, lerr *e)
{
    (void)t, (void)e;
    adam_dense(o, st, 0);
    return 0;
}

static int step_full_adamw(optim *o, train_state *st, int t, lerr *e)
{
    (void)t, (void)e;
    adam_dense(o, st, 1);
    return 0;
}

static const struct {
    const char *name;
    step_fn step;
    int dense;     // 1: updates D (full fine-tuning), 0: (A, B)
    int moments;   // 1: keeps Adam's moments
} optims[] = {
    {"gd", step_gd, 0, 0},
    {"precgd", step_precgd, 0, 0},
    {"full", step_full, 1, 0},
    {"adam", step_adam, 0, 1},
    {"adamw", step_adamw, 0, 1},
    {"precadamw", step_precadamw, 0, 1},
    {"full-adam", step_full_adam, 1, 1},
    {"full-adamw", step_full_adamw, 1, 1},
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

static void moments_alloc(moments *mo, size_t n)
{
    mo->n = n;
    mo->m = dalloc(n > 0 ? n : 1);   // dalloc zeroes: m = v = 0 before step 1
    mo->v = dalloc(n > 0 ? n : 1);
}

optim *optim_new(const spec *s, int d, int k, int r, lerr *e)
{
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
    if (optims[i].moments && o->dense) {
        moments_alloc(&o->mD, (size_t)d * k);
    } else if (optims[i].moments) {
        moments_alloc(&o->mA, (size_t)d * r);
        moments_alloc(&o->mB, (size_t)r * k);
    }
    return o;
}

void optim_free(optim *o)
{
    if (!o) return;
    free(o->PA);
    free(o->PB);
    free(o->chol);
    moments *all[3] = {&o->mA, &o->mB, &o->mD};
    for (int i = 0; i < 3; i++) free(all[i]->m), free(all[i]->v);
    free(o);
}

int optim_dense(const optim *o) { return o->dense; }

int optim_step(optim *o, train_state *st, int t, lerr *e) { return o->step(o, st, t, e); }
