// test_convex.c: the NTK teacher and the convex reference (theory/THEORY.md section 7).
//
// 1. Orthogonal design (Phi^T Phi / N = I), squared loss: L(delta) =
//    1/2 ||delta - G||^2 + const, so delta* = SVT(G, lambda) in closed form;
//    the solver must find it (reference SVD: GSL's one-sided Jacobi).
// 2. Generic instances (Gaussian features; squared and cross-entropy): the
//    solver's point satisfies the optimality conditions ||grad L||_op <= lambda
//    and <grad L, delta*> = -lambda ||delta*||_*.
// 3. min_{A B = delta} 1/2 (||A||^2 + ||B||^2) = ||delta||_*: the balanced
//    factorisation attains it, other factorisations of delta do not beat it.
// 4. Loss gradients of both losses against central finite differences.
#include <string.h>

#include <gsl/gsl_linalg.h>

#include "check.h"
#include "convex.h"
#include "hessian.h"
#include "linalg.h"
#include "problem.h"
#include "random.h"

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

// U max(S - tau, 0) V^T with GSL's Jacobi SVD (d >= k).
static void svt_gsl(const double *M, int d, int k, double tau, double *out)
{
    gsl_matrix *U = gsl_matrix_alloc((size_t)d, (size_t)k), *V = gsl_matrix_alloc((size_t)k, (size_t)k);
    gsl_vector *S = gsl_vector_alloc((size_t)k);
    for (int i = 0; i < d; i++)
        for (int j = 0; j < k; j++) gsl_matrix_set(U, (size_t)i, (size_t)j, M[i * k + j]);
    gsl_linalg_SV_decomp_jacobi(U, V, S);
    for (int i = 0; i < d; i++)
        for (int j = 0; j < k; j++) {
            double acc = 0;
            for (int l = 0; l < k; l++)
                acc += gsl_matrix_get(U, (size_t)i, (size_t)l) *
                       fmax(gsl_vector_get(S, (size_t)l) - tau, 0.0) * gsl_matrix_get(V, (size_t)j, (size_t)l);
            out[i * k + j] = acc;
        }
    gsl_matrix_free(U), gsl_matrix_free(V), gsl_vector_free(S);
}

static void closed_form(void)
{
    spec s;
    problem *p = make("teacher: {model: ntk, d: 8, k: 5, n: 60, outputs: 1, rank: 2, noise: 0.3, "
                      "features: orthogonal, base: generated}\nlora: {rank: 2}\n", &s);
    double lambda = 0.2, *ref = dalloc(40);
    svt_gsl(p->G, 8, 5, lambda, ref);
    convex_result r;
    lerr e;
    CHECK(convex_solve(p, lambda, 20000, 1e-12, &r, &e) == 0, "solve: %s", e.msg);
    double err = fro_diff(r.delta, ref, 8, 5) / fro(ref, 8, 5);
    CHECK(err < 1e-8, "orthogonal design: delta* vs SVT(G, lambda): rel err %.3g (%d iters)", err, r.iters);
    CHECK(r.converged, "not converged: residual %.3g", r.residual);
    CHECK(r.cert_star <= 1 + 1e-8 && r.compl_star < 1e-8, "certificate %.17g %.3g", r.cert_star, r.compl_star);
    convex_result_free(&r);
    free(ref);
    problem_free(p);
    spec_free(&s);
}

static void certificate(const char *yaml, double lambda)
{
    spec s;
    problem *p = make(yaml, &s);
    convex_result r;
    lerr e;
    CHECK(convex_solve(p, lambda, 20000, 1e-10, &r, &e) == 0, "solve: %s", e.msg);
    CHECK(r.converged, "%s: not converged after %d iterations (residual %.3g)", yaml, r.iters, r.residual);
    CHECK(r.cert_star <= 1 + 1e-6, "%s: ||grad L||_op / lambda = %.17g > 1", yaml, r.cert_star);
    CHECK(r.compl_star <= 1e-6, "%s: complementarity %.3g", yaml, r.compl_star);
    CHECK(r.rank_star >= 1, "%s: delta* = 0 (lambda too large for the test)", yaml);
    printf("%s -> F* %.10g, rank %d, cert %.12f, %d iterations\n", s.teacher.loss, r.f_star,
           r.rank_star, r.cert_star, r.iters);
    convex_result_free(&r);
    problem_free(p);
    spec_free(&s);
}

static void balanced(void)
{
    int d = 7, k = 5, q = 5;
    gsl_rng *rng = stream_new(4, "balanced");
    double D[35], U[35], S[5], Vt[25], A[35], B[25], nuc = 0;
    gaussian_fill(rng, D, d, k, 1.0);
    lerr e;
    svt_gsl(D, d, k, 0.0, A);   // (sanity: reconstruct)
    CHECK(fro_diff(A, D, d, k) < 1e-12 * fro(D, d, k), "GSL reconstruction");
    svd_thin(D, d, k, U, S, Vt, &e);
    for (int j = 0; j < q; j++) nuc += S[j];
    for (int i = 0; i < d; i++)
        for (int j = 0; j < q; j++) A[i * q + j] = U[i * q + j] * sqrt(S[j]);
    for (int j = 0; j < q; j++)
        for (int i = 0; i < k; i++) B[j * k + i] = sqrt(S[j]) * Vt[j * k + i];
    double half = 0.5 * (pow(fro(A, d, q), 2) + pow(fro(B, q, k), 2));
    CHECK(fabs(half - nuc) < 1e-12 * nuc, "balanced: %.17g vs ||D||_* %.17g", half, nuc);
    // A R, R^{-1} B with R = diag(c) for random c: never below ||D||_*
    for (int trial = 0; trial < 20; trial++) {
        double c[5], h = 0;
        for (int j = 0; j < q; j++) c[j] = exp(gsl_rng_uniform(rng) * 2 - 1);
        for (int i = 0; i < d; i++)
            for (int j = 0; j < q; j++) h += pow(A[i * q + j] * c[j], 2);
        for (int j = 0; j < q; j++)
            for (int i = 0; i < k; i++) h += pow(B[j * k + i] / c[j], 2);
        CHECK(0.5 * h >= nuc * (1 - 1e-12), "factorisation below the nuclear norm");
    }
    gsl_rng_free(rng);
}

static void gradients(const char *yaml)
{
    spec s;
    problem *p = make(yaml, &s);
    int d = p->d, k = p->k, r = 2;
    lerr e;
    model *m = model_new(p, r, NULL, NULL, 0, &e);
    gsl_rng *rng = stream_new(6, "ntk-fd");
    double *A = dalloc((size_t)d * r), *B = dalloc((size_t)r * k), *gA = dalloc((size_t)d * r);
    double *gB = dalloc((size_t)r * k), L, Lp, Lm, worst = 0, h = 1e-6;
    gaussian_fill(rng, A, d, r, 0.5);
    gaussian_fill(rng, B, r, k, 0.5);
    model_eval_factors(m, A, B, &L, gA, gB, &e);
    double *X[2] = {A, B}, *g[2] = {gA, gB};
    int len[2] = {d * r, r * k};
    for (int w = 0; w < 2; w++)
        for (int i = 0; i < len[w]; i++) {
            double x0 = X[w][i];
            X[w][i] = x0 + h;
            model_eval_factors(m, A, B, &Lp, NULL, NULL, &e);
            X[w][i] = x0 - h;
            model_eval_factors(m, A, B, &Lm, NULL, NULL, &e);
            X[w][i] = x0;
            worst = fmax(worst, fabs((Lp - Lm) / (2 * h) - g[w][i]) / fmax(1, fabs(g[w][i])));
        }
    CHECK(worst < 1e-7, "%s: gradient vs finite differences %.3g", s.teacher.loss, worst);
    free(A), free(B), free(gA), free(gB);
    gsl_rng_free(rng);
    model_free(m);
    problem_free(p);
    spec_free(&s);
}

// At A = B = 0 the Hessian of L(A B) + lambda/2 (|A|^2 + |B|^2) is
// [[lambda I, -G (x) I], [-G^T (x) I, lambda I]] (G = -grad L(0)), whose
// smallest eigenvalue is lambda - s_1(G): a strict saddle when s_1(G) > lambda.
// Checked with the dense exact assembly and, above HESSIAN_DENSE_EXACT
// parameters, with Lanczos (both on exact Hessian-vector products).
// yaml must give a problem with s_1(G) > lambda; r: its lora.rank.
static void saddle_at_zero(const char *yaml, int r)
{
    spec s;
    problem *p = make(yaml, &s);
    lerr e;
    model *m = model_new(p, r, NULL, NULL, 0, &e);
    double *A = dalloc((size_t)p->d * r), *B = dalloc((size_t)r * p->k), eig, lambda = 0.05;
    CHECK(min_hessian_eig(m, A, B, lambda, &eig, &e) == 0, "hessian: %s", e.msg);
    double want = lambda - p->SG[0];
    CHECK(fabs(eig - want) < 1e-6 * fabs(want), "%zu parameters: min eig at 0: %.12g, want "
          "lambda - s1(G) = %.12g", (size_t)r * (p->d + p->k), eig, want);
    CHECK(want < 0, "test instance should have s1(G) > lambda");
    free(A), free(B);
    model_free(m);
    problem_free(p);
    spec_free(&s);
}

// The Lanczos path (used above HESSIAN_DENSE_EXACT parameters) against the
// dense one at random points of a small problem.
static void lanczos_vs_dense(void)
{
    spec s;
    problem *p = make("teacher: {model: ntk, d: 6, k: 5, n: 12, outputs: 2, rank: 2, noise: 0.1}\n"
                      "lora: {rank: 3}\n", &s);
    lerr e;
    model *m = model_new(p, 3, NULL, NULL, 0, &e);
    double A[18], B[15], lambda = 0.05;
    for (int trial = 0; trial < 3; trial++) {
        for (int i = 0; i < 18; i++) A[i] = 0.3 * sin(1.0 + i + 7 * trial);
        for (int i = 0; i < 15; i++) B[i] = 0.3 * cos(2.0 + i + 5 * trial);
        double dense, lz;
        CHECK(min_hessian_eig(m, A, B, lambda, &dense, &e) == 0, "dense: %s", e.msg);
        CHECK(min_hessian_eig_lanczos(m, A, B, lambda, &lz, &e) == 0, "lanczos: %s", e.msg);
        CHECK(fabs(lz - dense) < 1e-6 * fmax(1, fabs(dense)), "trial %d: lanczos %.12g vs dense %.12g",
              trial, lz, dense);
    }
    model_free(m);
    problem_free(p);
    spec_free(&s);
}

int main(void)
{
    gsl_set_error_handler_off();
    saddle_at_zero("teacher: {model: ntk, d: 6, k: 4, n: 10, outputs: 2, rank: 2, noise: 0.1}\n"
                   "lora: {rank: 2}\n", 2);              // dense Hessian
    saddle_at_zero("teacher: {model: ntk, d: 40, k: 40, n: 30, outputs: 2, rank: 2, noise: 0.1}\n"
                   "lora: {rank: 40}\n", 40);            // 3200 parameters: Lanczos
    lanczos_vs_dense();
    closed_form();
    certificate("teacher: {model: ntk, d: 6, k: 5, n: 12, outputs: 2, rank: 2, noise: 0.1}\n"
                "lora: {rank: 2}\n", 0.05);
    certificate("teacher: {model: ntk, d: 6, k: 5, n: 12, outputs: 3, rank: 2, noise: 0.5, "
                "loss: cross_entropy, base: generated}\nlora: {rank: 2}\n", 0.02);
    balanced();
    gradients("teacher: {model: ntk, d: 5, k: 4, n: 9, outputs: 2, rank: 1, noise: 0.1}\nlora: {rank: 2}\n");
    gradients("teacher: {model: ntk, d: 5, k: 4, n: 9, outputs: 3, rank: 0, loss: cross_entropy}\n"
              "lora: {rank: 2}\n");
    return check_summary("test_convex");
}
