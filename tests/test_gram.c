// test_gram.c: the linear teacher at scale: streamed (gram) statistics and the blocked step.
//
// 1. gram_inputs's X^T X equals a dgemm on the whole X made by input_rows,
//    for several n (including n not a multiple of the chunk or block size),
//    and rows made in pieces / on 2 threads equal rows made at once.
// 2. A gram-statistics problem (noise 0) gives the loss and both factor
//    gradients of the direct definition L = 1/(2N) ||X W - Y||^2 with
//    Y = X W_nat built from the same rows, to 1e-10 relative, and J(W0) = G,
//    with the step done in one block and in several blocks and lanes (its
//    thin products in one piece and in two); the lanes give identical bits on
//    one thread and on two.
// 3. With noise sigma, 2N L(W_nat) / sigma^2 is exactly chi2_{N k} in law,
//    under gram (drawn from the statistics' law given X) as under qr (drawn
//    E): a Kolmogorov-Smirnov test over 200 seeds against GSL's chi-squared
//    cdf, for both.
// 4. The same for qr statistics with N < d in several blocks (trapezoidal Rs).
// 5. Above min(d, k) = 1024 the problem's truncated SVD of G (svd_top) has
//    the full LAPACK SVD's top r* values and subspace.
#include <string.h>

#include <cblas.h>
#include <gsl/gsl_cdf.h>

#include "check.h"
#include "gram.h"
#include "linalg.h"
#include "problem.h"
#include "teacher_data.h"
#include "teacher_linear.h"

void openblas_set_num_threads(int n);

static void gram_vs_dgemm(int n, int d)
{
    double *X = dalloc((size_t)n * d), *S = dalloc((size_t)d * d), *R = dalloc((size_t)d * d);
    input_rows(7, "x", d, 0, n, 1, X);
    mm('T', 'N', d, d, n, 1.0, X, X, 0.0, R);
    gram_inputs(7, "x", n, d, 2, S, NULL);
    double worst = 0, scale = 0;
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) {
            double want = j >= i ? R[(size_t)i * d + j] : 0.0;
            worst = fmax(worst, fabs(S[(size_t)i * d + j] - want));
            scale = fmax(scale, fabs(R[(size_t)i * d + j]));
        }
    CHECK(worst <= 1e-12 * scale, "n=%d d=%d: |gram - X^T X| = %.3g (scale %.3g)", n, d, worst,
          scale);
    // rows in pieces (starting mid-block) and on two threads equal rows at once
    double *P = dalloc((size_t)n * d);
    int cut = n / 3 + 5;
    input_rows(7, "x", d, 0, cut, 2, P);
    input_rows(7, "x", d, cut, n - cut, 2, P + (size_t)cut * d);
    CHECK(memcmp(P, X, sizeof(double) * (size_t)n * d) == 0, "n=%d: rows in pieces differ", n);
    free(X), free(S), free(R), free(P);
}

static void gram_problem_vs_direct(int d, int k, int n, int r, int threads)
{
    char yaml[200];
    snprintf(yaml, sizeof yaml,
             "teacher: {d: %d, k: %d, n: %d, rank: 4, stats: gram}\nlora: {rank: %d}\n", d, k, n,
             r);
    spec s = spec_from_yaml(yaml);
    lerr e = {0};
    problem *p;
    openblas_set_num_threads(threads);
    CHECK(problem_new(&s, 11, NULL, &p, &e) == 0, "problem_new: %s", e.msg);
    model *m = model_new(p, r, NULL, NULL, 0, &e);
    double *X = dalloc((size_t)n * d), *Wn = dalloc((size_t)d * k), *Y = dalloc((size_t)n * k);
    input_rows(11, "x", d, 0, n, 1, X);
    for (size_t i = 0; i < (size_t)d * k; i++) Wn[i] = p->W0[i] + p->Delta[i];
    mm('N', 'N', n, k, d, 1.0, X, Wn, 0.0, Y);
    double *A = dalloc((size_t)d * r), *B = dalloc((size_t)r * k);
    for (int i = 0; i < d * r; i++) A[i] = sin(1.0 + i);
    for (int i = 0; i < r * k; i++) B[i] = 0.3 * cos(2.0 + i);
    double loss, *gA = dalloc((size_t)d * r), *gB = dalloc((size_t)r * k);
    CHECK(model_eval_factors(m, A, B, &loss, gA, gB, &e) == 0, "eval: %s", e.msg);
    // the step's lanes give the same bits on one thread as on `threads`
    CHECK(m->threads == threads, "the model took %d threads, not BLAS's %d", m->threads, threads);
    double loss1, *gA1 = dalloc((size_t)d * r), *gB1 = dalloc((size_t)r * k);
    m->threads = 1;
    model_eval_factors(m, A, B, &loss1, gA1, gB1, &e);
    m->threads = threads;
    CHECK(loss1 == loss && !memcmp(gA1, gA, sizeof(double) * (size_t)d * r) &&
              !memcmp(gB1, gB, sizeof(double) * (size_t)r * k),
          "d=%d: one thread and %d threads differ", d, threads);
    free(gA1), free(gB1);
    // direct: Res = X (W0 + A B) - Y;  dL/dW = X^T Res / N
    double *W = dalloc((size_t)d * k), *Res = dalloc((size_t)n * k), *GW = dalloc((size_t)d * k);
    memcpy(W, p->W0, sizeof(double) * (size_t)d * k);
    mm('N', 'N', d, k, r, 1.0, A, B, 1.0, W);
    memcpy(Res, Y, sizeof(double) * (size_t)n * k);
    mm('N', 'N', n, k, d, 1.0, X, W, -1.0, Res);
    double f = fro(Res, n, k), direct = f * f / (2.0 * n);
    mm('T', 'N', d, k, n, 1.0 / n, X, Res, 0.0, GW);
    double *gA2 = dalloc((size_t)d * r), *gB2 = dalloc((size_t)r * k);
    mm('N', 'T', d, r, k, 1.0, GW, B, 0.0, gA2);
    mm('T', 'N', r, k, d, 1.0, A, GW, 0.0, gB2);
    CHECK(close_rel(loss, direct, 1e-10, 0), "d=%d: loss %.17g vs direct %.17g", d, loss, direct);
    CHECK(fro_diff(gA, gA2, d, r) <= 1e-10 * fro(gA2, d, r), "d=%d: dL/dA differs by %.3g", d,
          fro_diff(gA, gA2, d, r) / fro(gA2, d, r));
    CHECK(fro_diff(gB, gB2, r, k) <= 1e-10 * fro(gB2, r, k), "d=%d: dL/dB differs by %.3g", d,
          fro_diff(gB, gB2, r, k) / fro(gB2, r, k));
    // G = J(W0) = X^T (Y - X W0) / N
    memcpy(Res, Y, sizeof(double) * (size_t)n * k);
    mm('N', 'N', n, k, d, -1.0, X, p->W0, 1.0, Res);
    mm('T', 'N', d, k, n, 1.0 / n, X, Res, 0.0, GW);
    CHECK(fro_diff(p->G, GW, d, k) <= 1e-10 * fro(GW, d, k), "G differs by %.3g",
          fro_diff(p->G, GW, d, k) / fro(GW, d, k));
    free(X), free(Wn), free(Y), free(A), free(B), free(gA), free(gB), free(W), free(Res);
    free(GW), free(gA2), free(gB2);
    model_free(m);
    problem_free(p);
    spec_free(&s);
}

// The step's row blocks also cover the trapezoidal Rs of qr statistics with
// N < d (m = N rows): loss and gradients against X and Y held by the problem.
static void qr_wide_vs_direct(void)
{
    int d = 3000, k = 60, n = 1000, r = 3;
    spec s = spec_from_yaml("teacher: {d: 3000, k: 60, n: 1000, rank: 3, noise: 0.1, "
                            "stats: qr}\nlora: {rank: 3}\n");
    lerr e = {0};
    problem *p;
    CHECK(problem_new(&s, 5, NULL, &p, &e) == 0, "problem_new: %s", e.msg);
    model *m = model_new(p, r, NULL, NULL, 0, &e);
    double *A = dalloc((size_t)d * r), *B = dalloc((size_t)r * k);
    for (int i = 0; i < d * r; i++) A[i] = 0.01 * sin(1.0 + i);
    for (int i = 0; i < r * k; i++) B[i] = 0.3 * cos(2.0 + i);
    double loss, *gA = dalloc((size_t)d * r), *gB = dalloc((size_t)r * k);
    model_eval_factors(m, A, B, &loss, gA, gB, &e);
    double *W = dalloc((size_t)d * k), *Res = dalloc((size_t)n * k), *GW = dalloc((size_t)d * k);
    memcpy(W, p->W0, sizeof(double) * (size_t)d * k);
    mm('N', 'N', d, k, r, 1.0, A, B, 1.0, W);
    memcpy(Res, linear_Y(p), sizeof(double) * (size_t)n * k);
    mm('N', 'N', n, k, d, 1.0, linear_X(p), W, -1.0, Res);          // X W - Y
    double f = fro(Res, n, k), direct = f * f / (2.0 * n);
    mm('T', 'N', d, k, n, 1.0 / n, linear_X(p), Res, 0.0, GW);
    double *gA2 = dalloc((size_t)d * r), *gB2 = dalloc((size_t)r * k);
    mm('N', 'T', d, r, k, 1.0, GW, B, 0.0, gA2);
    mm('T', 'N', r, k, d, 1.0, A, GW, 0.0, gB2);
    CHECK(close_rel(loss, direct, 1e-10, 0), "qr N<d: loss %.17g vs direct %.17g", loss, direct);
    CHECK(fro_diff(gA, gA2, d, r) <= 1e-10 * fro(gA2, d, r), "qr N<d: dL/dA differs by %.3g",
          fro_diff(gA, gA2, d, r) / fro(gA2, d, r));
    CHECK(fro_diff(gB, gB2, r, k) <= 1e-10 * fro(gB2, r, k), "qr N<d: dL/dB differs by %.3g",
          fro_diff(gB, gB2, r, k) / fro(gB2, r, k));
    free(A), free(B), free(gA), free(gB), free(W), free(Res), free(GW), free(gA2), free(gB2);
    model_free(m);
    problem_free(p);
    spec_free(&s);
}

// Above min(d, k) = 1024 problem_new keeps only the top triplets of G, from
// svd_top: they must agree with LAPACK's full SVD of the same G.
static void truncated_svd_of_g(void)
{
    spec s = spec_from_yaml("teacher: {d: 1100, k: 1040, n: 1200, rank: 5, noise: 0.1}\n"
                            "lora: {rank: 3}\ninit: {method: spectral}\n");
    lerr e = {0};
    problem *p;
    CHECK(problem_new(&s, 3, NULL, &p, &e) == 0, "problem_new: %s", e.msg);
    int d = p->d, k = p->k, q = d < k ? d : k, rs = p->rstar;
    CHECK(p->gq == 5, "gq = %d, want max(r*, r) = 5", p->gq);
    double *U = dalloc((size_t)d * q), *S = dalloc((size_t)q);
    CHECK(svd_thin(p->G, d, k, U, S, NULL, &e) == 0, "svd_thin: %s", e.msg);
    for (int i = 0; i < rs; i++)
        CHECK(close_rel(p->SG[i], S[i], 1e-12, 0), "s_%d: %.17g vs %.17g", i + 1, p->SG[i], S[i]);
    double *Ut = dalloc((size_t)d * rs), *Uf = dalloc((size_t)d * rs), sine = 1;
    for (int i = 0; i < d; i++)
        for (int j = 0; j < rs; j++) {
            Ut[(size_t)i * rs + j] = p->UG[(size_t)i * p->gq + j];
            Uf[(size_t)i * rs + j] = U[(size_t)i * q + j];
        }
    CHECK(sin_max_angle(Uf, rs, Ut, rs, d, &sine, &e) == 0 && sine < 1e-10,
          "top-%d subspace of G: sin angle %.3g from the full SVD's", rs, sine);
    free(U), free(S), free(Ut), free(Uf);
    problem_free(p);
    spec_free(&s);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// KS distance of 2N L(W_nat) / sigma^2 over `runs` seeds from chi2_{N k}.
static double noise_law_ks(const char *stats, int runs)
{
    int n = 60, k = 3;
    double sigma = 0.5;
    char yaml[256];
    snprintf(yaml, sizeof yaml,
             "teacher: {d: 8, k: 3, n: 60, rank: 2, noise: 0.5, w0: zero, stats: %s}\n"
             "lora: {rank: 2}\n", stats);
    spec s = spec_from_yaml(yaml);
    double *v = dalloc((size_t)runs);
    for (int seed = 0; seed < runs; seed++) {
        lerr e = {0};
        problem *p;
        if (problem_new(&s, seed, NULL, &p, &e)) {
            CHECK(0, "%s: %s", stats, e.msg);
            break;
        }
        model *m = model_new(p, 0, NULL, NULL, 0, &e);
        double loss;
        model_eval_dense(m, p->Delta, &loss, NULL, &e);   // W = W0 + Delta = W_nat
        v[seed] = 2.0 * n * loss / (sigma * sigma);
        model_free(m);
        problem_free(p);
    }
    qsort(v, (size_t)runs, sizeof *v, cmp_double);
    double ks = 0;
    for (int i = 0; i < runs; i++) {
        double F = gsl_cdf_chisq_P(v[i], (double)n * k);
        ks = fmax(ks, fmax(fabs(F - (double)i / runs), fabs(F - (double)(i + 1) / runs)));
    }
    free(v);
    spec_free(&s);
    return ks;
}

int main(void)
{
    gram_vs_dgemm(100, 16);
    gram_vs_dgemm(16500, 256);   // one full chunk of 16384 rows and a partial one
    gram_vs_dgemm(77, 33);
    gram_problem_vs_direct(40, 30, 500, 3, 2);       // one block of rows
    // 10 blocks of 119 rows in 4 lanes; with r = 8 the thin products come in
    // two pieces (119 * 8 * 1100 > SMALL_GEMM)
    gram_problem_vs_direct(1100, 1000, 1200, 8, 2);
    qr_wide_vs_direct();
    truncated_svd_of_g();
    int runs = 200;
    double crit = 1.63 / sqrt((double)runs);   // KS critical value at level 1%
    double kq = noise_law_ks("qr", runs), kg = noise_law_ks("gram", runs);
    CHECK(kq < crit, "qr: KS distance %.3f from chi2_{Nk} >= %.3f", kq, crit);
    CHECK(kg < crit, "gram: KS distance %.3f from chi2_{Nk} >= %.3f", kg, crit);
    if (check_failures) {
        fprintf(stderr, "test_gram: %d check(s) failed\n", check_failures);
        return 1;
    }
    printf("test_gram: all checks passed (KS qr %.3f, gram %.3f, critical %.3f)\n", kq, kg,
           crit);
    return 0;
}
