// test_metrics.c: risk, err_op and balance as logged (low-rank QR route)
// against the plain definitions computed densely, with GSL's one-sided
// Jacobi SVD (not LAPACK) for the operator norm:
//   risk = 1/2 ||W - W_nat||_F^2,  err_op = ||W - W_nat||_op,
//   balance = ||A^T A - B B^T||_F,  W = W0 - A_off B_off + A B;
// and rank_ab (singular values of A B above 1e-6 s_1, from the Gram matrix of
// the small core) against GSL's singular values of the dense A B, for a
// product with singular values graded from 1 to 1e-9 and an exact zero.
#include <float.h>
#include <string.h>

#include <gsl/gsl_linalg.h>

#include "check.h"
#include "init.h"
#include "linalg.h"
#include "metrics.h"
#include "problem.h"
#include "random.h"

// Singular values S: (min(d, k)) of E: (d, k) by GSL's one-sided Jacobi SVD.
static void gsl_svals(const double *E, int d, int k, double *Sout)
{
    // Jacobi SVD needs rows >= cols: use E^T if needed
    int m = d >= k ? d : k, n = d >= k ? k : d;
    gsl_matrix *M = gsl_matrix_alloc((size_t)m, (size_t)n);
    for (int i = 0; i < d; i++)
        for (int j = 0; j < k; j++) {
            if (d >= k)
                gsl_matrix_set(M, (size_t)i, (size_t)j, E[(size_t)i * k + j]);
            else
                gsl_matrix_set(M, (size_t)j, (size_t)i, E[(size_t)i * k + j]);
        }
    gsl_matrix *V = gsl_matrix_alloc((size_t)n, (size_t)n);
    gsl_vector *S = gsl_vector_alloc((size_t)n);
    gsl_linalg_SV_decomp_jacobi(M, V, S);
    for (int i = 0; i < n; i++) Sout[i] = gsl_vector_get(S, (size_t)i);
    gsl_matrix_free(M), gsl_matrix_free(V), gsl_vector_free(S);
}

static double gsl_op_norm(const double *E, int d, int k)
{
    double S[64];
    gsl_svals(E, d, k, S);
    return S[0];
}

// A B = U diag(sv) V^T with Haar U: (d, r), V: (k, r): A = U diag(sv), B = V^T.
static void check_rank_ab(void)
{
    spec s = spec_from_yaml("teacher: {d: 40, k: 30, n: 100, rank: 3}\nlora: {rank: 7}\n");
    problem *p;
    lerr e = {0};
    CHECK(problem_new(&s, 4, NULL, &p, &e) == 0, "problem_new: %s", e.msg);
    int d = p->d, k = p->k, r = 7;
    const double sv[7] = {1.0, 3e-2, 1e-4, 2e-6, 4e-7, 1e-9, 0.0};   // rank 4 at 1e-6
    gsl_rng *rng = stream_new(3, "rank");
    double *U = dalloc((size_t)d * r), *V = dalloc((size_t)k * r);
    haar_orthonormal(rng, d, r, U, &e);
    haar_orthonormal(rng, k, r, V, &e);
    double *A = dalloc((size_t)d * r), *B = dalloc((size_t)r * k), *D = dalloc((size_t)d * k);
    for (int i = 0; i < d; i++)
        for (int j = 0; j < r; j++) A[(size_t)i * r + j] = U[(size_t)i * r + j] * sv[j];
    for (int j = 0; j < r; j++)
        for (int i = 0; i < k; i++) B[(size_t)j * k + i] = V[(size_t)i * r + j];
    mm('N', 'N', d, k, r, 1.0, A, B, 0.0, D);
    double S[64];
    gsl_svals(D, d, k, S);
    int want = 0;
    while (want < k && S[want] > 1e-6 * S[0]) want++;
    CHECK(want == 4, "GSL finds rank %d, not 4", want);
    model *m = model_new(p, r, NULL, NULL, 0, &e);
    metrics_work *w = metrics_work_new(m);
    double *gA = dalloc((size_t)d * r), *gB = dalloc((size_t)r * k), loss;
    model_eval_factors(m, A, B, &loss, gA, gB, &e);
    metrics mt;
    CHECK(metrics_factors(w, A, B, gA, gB, loss, &mt, &e) == 0, "metrics failed: %s", e.msg);
    CHECK(mt.rank_ab == want, "rank_ab %g, GSL on the dense A B %d", mt.rank_ab, want);
    free(U), free(V), free(A), free(B), free(D), free(gA), free(gB);
    gsl_rng_free(rng);
    metrics_work_free(w);
    model_free(m);
    problem_free(p);
    spec_free(&s);
}

static void check_case(const char *yaml, double spread)
{
    spec s = spec_from_yaml(yaml);
    problem *p;
    lerr e = {0};
    problem_new(&s, 4, NULL, &p, &e);
    int d = p->d, k = p->k, r = s.lora.rank, shift = 0;
    double *A = dalloc((size_t)d * r), *B = dalloc((size_t)r * k);
    init_factors(&s, p, 4, A, B, &shift, &e);
    model *m = model_new(p, r, shift ? A : NULL, shift ? B : NULL, shift ? r : 0, &e);
    metrics_work *w = metrics_work_new(m);
    gsl_rng *rng = stream_new(2, "metrics");
    // perturb so the point is generic
    double *P = dalloc((size_t)d * r);
    gaussian_fill(rng, P, d, r, spread);
    for (size_t i = 0; i < (size_t)d * r; i++) A[i] += P[i];
    double *gA = dalloc((size_t)d * r), *gB = dalloc((size_t)r * k), loss;
    model_eval_factors(m, A, B, &loss, gA, gB, &e);
    metrics mt;
    CHECK(metrics_factors(w, A, B, gA, gB, loss, &mt, &e) == 0, "metrics failed: %s", e.msg);

    double *E = dalloc((size_t)d * k);   // W - W_nat = -Aoff Boff + A B - Delta
    mm('N', 'N', d, k, r, 1.0, A, B, 0.0, E);
    if (m->roff) mm('N', 'N', d, k, r, -1.0, m->Aoff, m->Boff, 1.0, E);
    for (size_t i = 0; i < (size_t)d * k; i++) E[i] -= p->Delta[i];
    double f = fro(E, d, k), risk = 0.5 * f * f, eop = gsl_op_norm(E, d, k);
    CHECK(close_rel(mt.risk, risk, 1e-10, 0), "risk %.17g vs dense %.17g (%s)", mt.risk, risk, yaml);
    CHECK(close_rel(mt.err_op, eop, 1e-10, 0), "err_op %.17g vs dense %.17g (%s)", mt.err_op, eop, yaml);
    double *G1 = dalloc((size_t)r * r), *G2 = dalloc((size_t)r * r);
    mm('T', 'N', r, r, d, 1.0, A, A, 0.0, G1);
    mm('N', 'T', r, r, k, 1.0, B, B, 0.0, G2);
    // both sides subtract Gram matrices formed in different summation orders:
    // each carries an absolute error of a few eps (||A||_F^2 + ||B||_F^2)
    double nab = pow(fro(A, d, r), 2) + pow(fro(B, r, k), 2);
    CHECK(fabs(mt.balance - fro_diff(G1, G2, r, r)) <= 1e-12 * mt.balance + 64 * DBL_EPSILON * nab,
          "balance %.17g vs %.17g (%s)", mt.balance, fro_diff(G1, G2, r, r), yaml);
    double gn = sqrt(pow(fro(gA, d, r), 2) + pow(fro(gB, r, k), 2));
    CHECK(close_rel(mt.grad_norm, gn, 1e-14, 0), "grad_norm");
    free(A), free(B), free(P), free(gA), free(gB), free(E), free(G1), free(G2);
    gsl_rng_free(rng);
    metrics_work_free(w);
    model_free(m);
    problem_free(p);
    spec_free(&s);
}

int main(void)
{
    gsl_set_error_handler_off();
    // low-rank route (2 (r + tq) <= min(d, k)) with and without a shifted base
    check_case("teacher: {d: 40, k: 30, n: 100, rank: 3}\nlora: {rank: 4}\n"
               "init: {method: spectral}\n", 0.1);
    check_case("teacher: {d: 40, k: 30, n: 100, rank: 3}\nlora: {rank: 4}\n"
               "init: {method: pissa}\n", 0.1);
    // near the solution: risk tiny, still accurate relative to itself
    check_case("teacher: {d: 40, k: 32, n: 4000, rank: 3}\nlora: {rank: 3}\n"
               "init: {method: spectral}\n", 1e-6);
    // dense route (r + tq large)
    check_case("teacher: {d: 12, k: 10, n: 50, rank: 4}\nlora: {rank: 5}\n"
               "init: {method: lora-ga}\n", 0.1);
    check_rank_ab();
    return check_summary("test_metrics");
}
