// test_angles.c: the principal-angle metric against subspaces built by hand
// with known angles.
//
// With Q a random orthogonal (n, n) matrix, U = [q1, q2] and
// V = [cos(t1) q1 + sin(t1) q3, cos(t2) q2 + sin(t2) q4], the principal angles
// between span U and span V are exactly t1 and t2, so the metric must return
// max(sin t1, sin t2) -- including for tiny angles, where an implementation
// through sqrt(1 - cos^2) would return 0 or ~1e-8.
#include <string.h>

#include "check.h"
#include "linalg.h"
#include "metrics.h"
#include "problem.h"
#include "random.h"

static double col(const double *Q, int n, int i, int j) { return Q[(size_t)i * n + j]; }

static void check_pair(const double *Q, int n, double t1, double t2)
{
    double *U = dalloc((size_t)n * 2), *V = dalloc((size_t)n * 2);
    for (int i = 0; i < n; i++) {
        U[i * 2 + 0] = col(Q, n, i, 0);
        U[i * 2 + 1] = col(Q, n, i, 1);
        V[i * 2 + 0] = cos(t1) * col(Q, n, i, 0) + sin(t1) * col(Q, n, i, 2);
        V[i * 2 + 1] = cos(t2) * col(Q, n, i, 1) + sin(t2) * col(Q, n, i, 3);
    }
    double got;
    lerr e;
    sin_max_angle(U, 2, V, 2, n, &got, &e);
    double want = fmax(sin(t1), sin(t2));
    double tol = want > 0 ? 1e-6 * want + 1e-15 : 1e-14;
    CHECK(fabs(got - want) <= tol, "angles (%g, %g): got %.17g want %.17g", t1, t2, got, want);
    free(U), free(V);
}

// The metric as logged: A spans {cos t u1 + sin t w, u2} where u1, u2 are
// G's top-2 left singular vectors and w is orthogonal to G's column space.
static void check_align_metric(double t)
{
    spec s = spec_from_yaml("teacher: {d: 9, k: 6, n: 100, rank: 2}\nlora: {rank: 2}\n");
    problem *p;
    lerr e;
    problem_new(&s, 1, NULL, &p, &e);
    int d = 9, k = 6, r = 2, q = p->gq;
    model *m = model_new(p, r, NULL, NULL, 0, &e);
    metrics_work *w = metrics_work_new(m);
    double *A = dalloc((size_t)d * r), *B = dalloc((size_t)r * k);
    double *gA = dalloc((size_t)d * r), *gB = dalloc((size_t)r * k);
    // a unit vector orthogonal to span(UG): from the last left singular vector of
    // the (d, d) completion; here q = 6 < d = 9, so project a random vector out.
    gsl_rng *rng = stream_new(5, "angles");
    double wv[9], c[6];
    gaussian_fill(rng, wv, d, 1, 1.0);
    for (int j = 0; j < q; j++) {
        c[j] = 0;
        for (int i = 0; i < d; i++) c[j] += p->UG[i * q + j] * wv[i];
    }
    for (int i = 0; i < d; i++)
        for (int j = 0; j < q; j++) wv[i] -= p->UG[i * q + j] * c[j];
    double nw = fro(wv, d, 1);
    for (int i = 0; i < d; i++) {
        wv[i] /= nw;
        A[i * r + 0] = 3.0 * (cos(t) * p->UG[i * q + 0] + sin(t) * wv[i]);
        A[i * r + 1] = 1.5 * p->UG[i * q + 1];
    }
    // B = its right counterpart, perfectly aligned: align_b = 0
    for (int j = 0; j < r; j++)
        for (int i = 0; i < k; i++) B[j * k + i] = p->VGt[j * k + i] * (j + 1);
    metrics mt;
    metrics_factors(w, A, B, gA, gB, 0.0, &mt, &e);
    CHECK(fabs(mt.align_a - sin(t)) <= 1e-6 * sin(t) + 1e-14, "align_a %.17g, want sin(%g) = %.17g",
          mt.align_a, t, sin(t));
    CHECK(mt.align_b < 1e-14, "align_b %.3g, want 0", mt.align_b);
    // B = 0 has no subspace: nan, not a number that looks meaningful
    memset(B, 0, sizeof(double) * r * k);
    metrics_factors(w, A, B, gA, gB, 0.0, &mt, &e);
    CHECK(isnan(mt.align_b), "align_b of B = 0 should be nan, got %g", mt.align_b);
    gsl_rng_free(rng);
    free(A), free(B), free(gA), free(gB);
    metrics_work_free(w);
    model_free(m);
    problem_free(p);
    spec_free(&s);
}

int main(void)
{
    int n = 7;
    double *Q = dalloc((size_t)n * n);
    gsl_rng *rng = stream_new(11, "angles-q");
    lerr e;
    haar_orthonormal(rng, n, n, Q, &e);
    double cases[][2] = {{0.3, 0.1}, {0.1, 0.7}, {1e-9, 1e-12}, {1e-13, 0.0},
                         {M_PI / 2, 0.2}, {0.0, 0.0}, {1.2, 1.2}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_pair(Q, n, cases[i][0], cases[i][1]);
    // a subspace against itself written in another basis: angle 0
    double *U = dalloc((size_t)n * 2), *V = dalloc((size_t)n * 2);
    for (int i = 0; i < n; i++) {
        U[i * 2] = Q[i * n], U[i * 2 + 1] = Q[i * n + 1];
        V[i * 2] = (Q[i * n] + Q[i * n + 1]) / sqrt(2), V[i * 2 + 1] = (Q[i * n] - Q[i * n + 1]) / sqrt(2);
    }
    double got;
    sin_max_angle(U, 2, V, 2, n, &got, &e);
    CHECK(got < 1e-14, "same subspace, other basis: %.3g", got);
    // a 1-D subspace inside a 2-D one: 0; orthogonal: 1
    for (int i = 0; i < n; i++) V[i] = Q[i * n + 1];
    sin_max_angle(U, 2, V, 1, n, &got, &e);
    CHECK(got < 1e-14, "contained line: %.3g", got);
    for (int i = 0; i < n; i++) V[i] = Q[i * n + 5];
    sin_max_angle(U, 2, V, 1, n, &got, &e);
    CHECK(fabs(got - 1) < 1e-14, "orthogonal line: %.17g", got);
    free(U), free(V), free(Q);
    gsl_rng_free(rng);
    check_align_metric(0.25);
    check_align_metric(1e-10);
    return check_summary("test_angles");
}
