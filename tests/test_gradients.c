// test_gradients.c: the linear model's loss gradients against central finite
// differences, for the factored path (dL/dA, dL/dB) and the dense path
// (J = -dL/dW), with and without a shifted base, with N > d and N < d, and
// with label noise.
#include <string.h>

#include "check.h"
#include "init.h"
#include "linalg.h"
#include "problem.h"
#include "random.h"
#include "teacher_linear.h"

// Central difference of f along coordinate i of X (step h relative to scale).
typedef double (*lossfn)(void *ctx);

static double fd(lossfn f, void *ctx, double *x, double h)
{
    double x0 = *x;
    *x = x0 + h;
    double fp = f(ctx);
    *x = x0 - h;
    double fm = f(ctx);
    *x = x0;
    return (fp - fm) / (2 * h);
}

typedef struct {
    model *m;
    double *A, *B, *D;
} ctx_t;

static double loss_factors(void *c)
{
    ctx_t *x = c;
    double L;
    lerr e;
    model_eval_factors(x->m, x->A, x->B, &L, NULL, NULL, &e);
    return L;
}

static double loss_dense(void *c)
{
    ctx_t *x = c;
    double L;
    lerr e;
    model_eval_dense(x->m, x->D, &L, NULL, &e);
    return L;
}

static void check_problem(const char *yaml, int shift_base)
{
    spec s = spec_from_yaml(yaml);
    problem *p;
    lerr e = {0};
    if (problem_new(&s, 7, NULL, &p, &e)) {
        fprintf(stderr, "setup: %s\n", e.msg);
        exit(1);
    }
    int d = p->d, k = p->k, r = s.lora.rank;
    gsl_rng *rng = stream_new(1, "test-gradients");
    double *A = dalloc((size_t)d * r), *B = dalloc((size_t)r * k);
    double *gA = dalloc((size_t)d * r), *gB = dalloc((size_t)r * k);
    gaussian_fill(rng, A, d, r, 0.5);
    gaussian_fill(rng, B, r, k, 0.5);
    model *m = shift_base ? model_new(p, r, A, B, r, &e) : model_new(p, r, NULL, NULL, 0, &e);
    // move away from the shift so that the point is generic
    gaussian_fill(rng, A, d, r, 0.5);
    gaussian_fill(rng, B, r, k, 0.5);
    double L;
    model_eval_factors(m, A, B, &L, gA, gB, &e);
    ctx_t c = {.m = m, .A = A, .B = B};
    double worst = 0;
    for (int i = 0; i < d * r; i += 3) {
        double g = fd(loss_factors, &c, &A[i], 1e-5);
        double err = fabs(g - gA[i]) / fmax(1.0, fabs(g));
        if (err > worst) worst = err;
    }
    for (int i = 0; i < r * k; i += 3) {
        double g = fd(loss_factors, &c, &B[i], 1e-5);
        double err = fabs(g - gB[i]) / fmax(1.0, fabs(g));
        if (err > worst) worst = err;
    }
    CHECK(worst < 1e-7, "factored gradient vs finite differences: worst rel err %.3g (%s)",
          worst, yaml);

    // dense path: J = -dL/dW, and the loss agrees with the factored one at D = A B
    double *D = dalloc((size_t)d * k), *J = dalloc((size_t)d * k);
    mm('N', 'N', d, k, r, 1.0, A, B, 0.0, D);
    double Ld;
    model_eval_dense(m, D, &Ld, J, &e);
    CHECK(close_rel(L, Ld, 1e-12, 0), "dense loss %.17g vs factored %.17g", Ld, L);
    c.D = D;
    worst = 0;
    for (int i = 0; i < d * k; i += 7) {
        double g = fd(loss_dense, &c, &D[i], 1e-5);
        double err = fabs(-g - J[i]) / fmax(1.0, fabs(g));
        if (err > worst) worst = err;
    }
    CHECK(worst < 1e-7, "dense J vs finite differences: worst rel err %.3g", worst);

    // dL/dA = -J B^T and dL/dB = -A^T J (theory/THEORY.md section 1)
    double *gA2 = dalloc((size_t)d * r), *gB2 = dalloc((size_t)r * k);
    mm('N', 'T', d, r, k, -1.0, J, B, 0.0, gA2);
    mm('T', 'N', r, k, d, -1.0, A, J, 0.0, gB2);
    CHECK(fro_diff(gA, gA2, d, r) <= 1e-10 * fmax(1, fro(gA, d, r)), "dL/dA != -J B^T");
    CHECK(fro_diff(gB, gB2, r, k) <= 1e-10 * fmax(1, fro(gB, r, k)), "dL/dB != -A^T J");

    // and the loss is the direct 1/(2N)||XW - Y||^2 at W = W0 + D0 + A B
    double *W = dalloc((size_t)d * k);
    memcpy(W, p->W0, sizeof(double) * (size_t)d * k);
    if (m->roff) mm('N', 'N', d, k, m->roff, -1.0, m->Aoff, m->Boff, 1.0, W);
    for (size_t i = 0; i < (size_t)d * k; i++) W[i] += D[i];
    double Ldirect = linear_direct_loss(p, W);
    CHECK(close_rel(L, Ldirect, 1e-10, 0), "fast loss %.17g vs direct %.17g", L, Ldirect);

    free(A), free(B), free(gA), free(gB), free(D), free(J), free(gA2), free(gB2), free(W);
    gsl_rng_free(rng);
    model_free(m);
    problem_free(p);
    spec_free(&s);
}

int main(void)
{
    check_problem("teacher: {d: 12, k: 9, n: 40, rank: 2}\nlora: {rank: 3}\n", 0);
    check_problem("teacher: {d: 12, k: 9, n: 40, rank: 2, noise: 0.3}\nlora: {rank: 3}\n", 1);
    check_problem("teacher: {d: 15, k: 6, n: 8, rank: 2}\nlora: {rank: 2}\n", 0);   // N < d
    check_problem("teacher: {d: 15, k: 6, n: 8, rank: 2, noise: 1}\nlora: {rank: 4}\n", 1);
    return check_summary("test_gradients");
}
