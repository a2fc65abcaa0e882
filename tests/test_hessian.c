// test_hessian.c: the exact Hessian of the LoRA objective on the ntk teacher
// (hessian.c, teacher_ntk.c's curvature) against second algorithms.
//
// 1. The teacher's curvature C(dD) = d/dt grad L(D + t dD) against central
//    differences of its exact gradient, for squared loss and cross-entropy
//    (the softmax Hessian (diag(p) - p p^T) / N), full data and a minibatch.
// 2. The smallest Hessian eigenvalue from the exact dense assembly against
//    the finite-difference dense Hessian (the path used before), at random
//    points, both losses: agree to 1e-6 relative.
// 3. Lanczos on exact products against the exact dense assembly above
//    HESSIAN_DENSE_EXACT parameters (the size where min_hessian_eig takes
//    Lanczos), both losses, and min_hessian_eig itself.
#include <string.h>

#include "check.h"
#include "hessian.h"
#include "linalg.h"
#include "problem.h"

static problem *make(const char *yaml, spec *s)
{
    *s = spec_from_yaml(yaml);
    problem *p;
    lerr e;
    if (problem_new(s, 3, NULL, &p, &e)) {
        fprintf(stderr, "setup: %s\n", e.msg);
        exit(1);
    }
    return p;
}

static void fill(double *x, size_t n, double scale, double phase)
{
    for (size_t i = 0; i < n; i++) x[i] = scale * sin(phase + 1.7 * (double)i + 0.1 * (double)(i * i % 13));
}

// 1. C(dD) vs (grad L(D + h dD) - grad L(D - h dD)) / 2h.
static void curvature_vs_differences(const char *yaml, const char *what)
{
    spec s;
    problem *p = make(yaml, &s);
    lerr e;
    model *m = model_new(p, 0, NULL, NULL, 0, &e);
    CHECK(p->ops->curvature_dense != NULL, "%s: ntk has no curvature", what);
    size_t dk = (size_t)p->d * p->k;
    double *D = dalloc(dk), *dD = dalloc(dk), *C = dalloc(dk), *Jp = dalloc(dk), *Jm = dalloc(dk);
    double *Dp = dalloc(dk), L, h = 1e-5;
    int rows[4] = {5, 0, 7, 2};
    for (int batch = 0; batch < 2; batch++) {
        CHECK(model_set_batch(m, batch ? rows : NULL, batch ? 4 : 0, &e) == 0, "batch: %s", e.msg);
        fill(D, dk, 0.3, 1.0 + batch), fill(dD, dk, 1.0, 2.0 + batch);
        CHECK(p->ops->curvature_dense(m, D, dD, C, &e) == 0, "curvature: %s", e.msg);
        for (size_t i = 0; i < dk; i++) Dp[i] = D[i] + h * dD[i];
        model_eval_dense(m, Dp, &L, Jp, &e);
        for (size_t i = 0; i < dk; i++) Dp[i] = D[i] - h * dD[i];
        model_eval_dense(m, Dp, &L, Jm, &e);
        double worst = 0, scale = 0;
        for (size_t i = 0; i < dk; i++) scale = fmax(scale, fabs(C[i]));
        for (size_t i = 0; i < dk; i++)   // grad L = -J
            worst = fmax(worst, fabs(C[i] - (Jm[i] - Jp[i]) / (2 * h)));
        CHECK(scale > 0 && worst <= 1e-7 * scale, "%s%s: curvature vs differences: %.3g (scale %.3g)",
              what, batch ? " (batch)" : "", worst, scale);
    }
    model_set_batch(m, NULL, 0, &e);
    free(D), free(dD), free(C), free(Jp), free(Jm), free(Dp);
    model_free(m);
    problem_free(p);
    spec_free(&s);
}

// 2. and 3. at random points (A, B) of rank r.
static void eigenvalues(const char *yaml, int r, int lanczos, const char *what)
{
    spec s;
    problem *p = make(yaml, &s);
    lerr e;
    model *m = model_new(p, r, NULL, NULL, 0, &e);
    size_t na = (size_t)p->d * r, nb = (size_t)r * p->k, n = na + nb;
    double *A = dalloc(na), *B = dalloc(nb), lambda = 0.05;
    CHECK(lanczos == (n > HESSIAN_DENSE_EXACT), "%s: %zu parameters", what, n);
    for (int trial = 0; trial < 3; trial++) {
        fill(A, na, 0.4, 0.5 + 3 * trial), fill(B, nb, 0.4, 1.5 + 5 * trial);
        double exact = NAN, other = NAN, used = NAN;
        CHECK(min_hessian_eig_exact(m, A, B, lambda, &exact, &e) == 0, "exact: %s", e.msg);
        if (lanczos)
            CHECK(min_hessian_eig_lanczos(m, A, B, lambda, &other, &e) == 0, "lanczos: %s", e.msg);
        else
            CHECK(min_hessian_eig_fd(m, A, B, lambda, &other, &e) == 0, "fd: %s", e.msg);
        CHECK(min_hessian_eig(m, A, B, lambda, &used, &e) == 0, "min_hessian_eig: %s", e.msg);
        CHECK(isfinite(exact) && close_rel(exact, other, 1e-6, 1.0),
              "%s trial %d: exact dense %.12g vs %s %.12g", what, trial, exact,
              lanczos ? "lanczos" : "finite differences", other);
        CHECK(close_rel(used, lanczos ? other : exact, 1e-12, 1.0),
              "%s trial %d: min_hessian_eig %.12g is not the %s path's %.12g", what, trial, used,
              lanczos ? "lanczos" : "dense", lanczos ? other : exact);
    }
    free(A), free(B);
    model_free(m);
    problem_free(p);
    spec_free(&s);
}

int main(void)
{
    const char *sq = "teacher: {model: ntk, d: 6, k: 5, n: 12, outputs: 2, rank: 2, noise: 0.1}\nlora: {rank: 2}\n";
    const char *ce = "teacher: {model: ntk, d: 6, k: 5, n: 12, outputs: 3, rank: 2, noise: 0.5, "
                     "loss: cross_entropy, base: generated}\nlora: {rank: 2}\n";
    curvature_vs_differences(sq, "squared");
    curvature_vs_differences(ce, "cross-entropy");
    eigenvalues(sq, 3, 0, "squared, 33 parameters");
    eigenvalues(ce, 3, 0, "cross-entropy, 33 parameters");
    eigenvalues("teacher: {model: ntk, d: 20, k: 16, n: 40, outputs: 2, rank: 3, noise: 0.1}\n",
                12, 1, "squared, 432 parameters");
    eigenvalues("teacher: {model: ntk, d: 20, k: 16, n: 40, outputs: 3, rank: 3, noise: 0.5, "
                "loss: cross_entropy, base: generated}\n", 12, 1, "cross-entropy, 432 parameters");
    return check_summary("test_hessian");
}
