// test_spectral.c: initialisers built from SVDs, against an independent path.
//
// Reference: G is recomputed directly from the data, G = (1/N) X^T (Y - X W0)
// (not through the QR statistics), and its best rank-r approximation is
// P_r(G) = G V_r V_r^T with V_r the top-r eigenvectors of G^T G from GSL's
// symmetric eigensolver (not LAPACK's SVD).  Checked:
//   spectral:            A0 B0 = gamma P_r(G)
//   spectral+normalize:  A0 B0 = gamma P_r(G) / s_1(G)
//   pissa:               A0 B0 = P_r(W0), and the model starts at W0
//   lora-ga:             rows of B0 lie in the span of V_{r+1..2r}
// and, noiselessly, G = Sigma_hat Delta (theory/THEORY.md section 1).
#include <string.h>

#include <gsl/gsl_eigen.h>
#include <gsl/gsl_matrix.h>

#include "check.h"
#include "init.h"
#include "linalg.h"
#include "problem.h"
#include "teacher_linear.h"

// Top-r eigenvectors of M^T M for M: (d, k), as columns of V: (k, r), by GSL.
static void top_right_vectors(const double *M, int d, int k, int r, double *V)
{
    gsl_matrix *MtM = gsl_matrix_alloc((size_t)k, (size_t)k);
    for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++) {
            double acc = 0;
            for (int l = 0; l < d; l++) acc += M[(size_t)l * k + i] * M[(size_t)l * k + j];
            gsl_matrix_set(MtM, (size_t)i, (size_t)j, acc);
        }
    gsl_vector *ev = gsl_vector_alloc((size_t)k);
    gsl_matrix *evec = gsl_matrix_alloc((size_t)k, (size_t)k);
    gsl_eigen_symmv_workspace *w = gsl_eigen_symmv_alloc((size_t)k);
    gsl_eigen_symmv(MtM, ev, evec, w);
    gsl_eigen_symmv_sort(ev, evec, GSL_EIGEN_SORT_VAL_DESC);
    for (int i = 0; i < k; i++)
        for (int j = 0; j < r; j++) V[(size_t)i * r + j] = gsl_matrix_get(evec, (size_t)i, (size_t)j);
    gsl_eigen_symmv_free(w);
    gsl_matrix_free(evec);
    gsl_matrix_free(MtM);
    gsl_vector_free(ev);
}

// P = M V V^T for M: (d, k), V: (k, r).
static void project(const double *M, const double *V, int d, int k, int r, double *P)
{
    double *MV = dalloc((size_t)d * r);
    mm('N', 'N', d, r, k, 1.0, M, V, 0.0, MV);
    mm('N', 'T', d, k, r, 1.0, MV, V, 0.0, P);
    free(MV);
}

static void init_product(const char *yaml, problem **pp, spec *sp, double **AB, double *base)
{
    lerr e = {0};
    *sp = spec_from_yaml(yaml);
    if (problem_new(sp, 3, NULL, pp, &e)) {
        fprintf(stderr, "setup: %s\n", e.msg);
        exit(1);
    }
    problem *p = *pp;
    int d = p->d, k = p->k, r = sp->lora.rank, shift = 0;
    double *A = dalloc((size_t)d * r), *B = dalloc((size_t)r * k);
    if (init_factors(sp, p, 3, A, B, &shift, &e)) {
        fprintf(stderr, "init: %s\n", e.msg);
        exit(1);
    }
    *AB = dalloc((size_t)d * k);
    mm('N', 'N', d, k, r, 1.0, A, B, 0.0, *AB);
    if (base) {
        // base + A0 B0 must be W0 when the initialiser shifts the base
        model *m = model_new(p, r, shift ? A : NULL, shift ? B : NULL, shift ? r : 0, &e);
        memcpy(base, p->W0, sizeof(double) * (size_t)d * k);
        if (m->roff) mm('N', 'N', d, k, r, -1.0, m->Aoff, m->Boff, 1.0, base);
        for (size_t i = 0; i < (size_t)d * k; i++) base[i] += (*AB)[i];
        model_free(m);
    }
    free(A), free(B);
}

// G recomputed from the data: (1/N) X^T (Y - X W0).
static double *direct_gradient(const problem *p)
{
    int n = p->n, d = p->d, k = p->k;
    double *R = dalloc((size_t)n * k), *G = dalloc((size_t)d * k);
    memcpy(R, linear_Y(p), sizeof(double) * (size_t)n * k);
    mm('N', 'N', n, k, d, -1.0, linear_X(p), p->W0, 1.0, R);
    mm('T', 'N', d, k, n, 1.0 / n, linear_X(p), R, 0.0, G);
    free(R);
    return G;
}

static void check_spectral(double gamma, int normalize)
{
    char yaml[256];
    snprintf(yaml, sizeof yaml,
             "teacher: {d: 20, k: 14, n: 30, rank: 3, kappa: 3, noise: 0.2}\n"
             "lora: {rank: 4}\ninit: {method: spectral, gamma: %g, normalize: %s}\n",
             gamma, normalize ? "true" : "false");
    problem *p;
    spec s;
    double *AB;
    init_product(yaml, &p, &s, &AB, NULL);
    int d = p->d, k = p->k, r = 4;
    double *G = direct_gradient(p);
    CHECK(fro_diff(G, p->G, d, k) <= 1e-12 * fro(G, d, k), "G from QR statistics != direct G");
    double *V = dalloc((size_t)k * r), *P = dalloc((size_t)d * k);
    top_right_vectors(G, d, k, r, V);
    project(G, V, d, k, r, P);
    double f = gamma;
    if (normalize) {
        double s1;
        lerr e;
        op_norm(G, d, k, &s1, &e);
        f /= s1;
    }
    for (size_t i = 0; i < (size_t)d * k; i++) P[i] *= f;
    double err = fro_diff(AB, P, d, k) / fro(P, d, k);
    CHECK(err < 1e-10, "spectral (gamma %g, normalize %d): A0 B0 vs gamma P_r(G): rel err %.3g",
          gamma, normalize, err);
    free(G), free(V), free(P), free(AB);
    problem_free(p);
    spec_free(&s);
}

static void check_pissa(void)
{
    problem *p;
    spec s;
    double *AB, base[12 * 10];
    init_product("teacher: {d: 12, k: 10, n: 50, rank: 2}\nlora: {rank: 3}\n"
                 "init: {method: pissa}\n", &p, &s, &AB, base);
    int d = 12, k = 10, r = 3;
    double *V = dalloc((size_t)k * r), *P = dalloc((size_t)d * k);
    top_right_vectors(p->W0, d, k, r, V);
    project(p->W0, V, d, k, r, P);
    CHECK(fro_diff(AB, P, d, k) < 1e-10 * fro(P, d, k), "pissa: A0 B0 != P_r(W0)");
    CHECK(fro_diff(base, p->W0, d, k) < 1e-12 * fro(p->W0, d, k),
          "pissa: model at t = 0 is not W0");
    free(V), free(P), free(AB);
    problem_free(p);
    spec_free(&s);
}

static void check_lora_ga(void)
{
    problem *p;
    spec s;
    double *AB, base[16 * 12];
    init_product("teacher: {d: 16, k: 12, n: 80, rank: 6, noise: 0.1}\nlora: {rank: 3}\n"
                 "init: {method: lora-ga, scale: 2}\n", &p, &s, &AB, base);
    int d = 16, k = 12, r = 3;
    double *G = direct_gradient(p);
    double *V = dalloc((size_t)k * 2 * r), *P1 = dalloc((size_t)d * k), *P2 = dalloc((size_t)d * k);
    top_right_vectors(G, d, k, 2 * r, V);
    // projection of A0 B0 onto the top-r right subspace is ~0, onto the top-2r is all
    double *Vr = dalloc((size_t)k * r);
    for (int i = 0; i < k; i++)
        for (int j = 0; j < r; j++) Vr[(size_t)i * r + j] = V[(size_t)i * 2 * r + j];
    project(AB, Vr, d, k, r, P1);
    project(AB, V, d, k, 2 * r, P2);
    double nab = fro(AB, d, k);
    CHECK(fro(P1, d, k) < 1e-10 * nab, "lora-ga: B0 has a component in V_1..r");
    CHECK(fro_diff(P2, AB, d, k) < 1e-10 * nab, "lora-ga: B0 not within V_1..2r");
    CHECK(fabs(nab - 4.0 * sqrt(r)) < 1e-10, "lora-ga: ||A0 B0||_F = %.17g, expected c^2 sqrt(r)", nab);
    CHECK(fro_diff(base, p->W0, d, k) < 1e-12 * fro(p->W0, d, k),
          "lora-ga: model at t = 0 is not W0");
    free(G), free(V), free(Vr), free(P1), free(P2), free(AB);
    problem_free(p);
    spec_free(&s);
}

// Noiseless: G = Sigma_hat Delta = (X^T X / N) Delta.
static void check_g_closed_form(void)
{
    spec s = spec_from_yaml("teacher: {d: 10, k: 7, n: 25, rank: 2}\nlora: {rank: 2}\n");
    problem *p;
    lerr e;
    problem_new(&s, 0, NULL, &p, &e);
    int n = p->n, d = p->d, k = p->k;
    double *S = dalloc((size_t)d * d), *G = dalloc((size_t)d * k);
    mm('T', 'N', d, d, n, 1.0 / n, linear_X(p), linear_X(p), 0.0, S);
    mm('N', 'N', d, k, d, 1.0, S, p->Delta, 0.0, G);
    CHECK(fro_diff(G, p->G, d, k) < 1e-12 * fro(G, d, k), "G != Sigma_hat Delta");
    free(S), free(G);
    problem_free(p);
    spec_free(&s);
}

// ||Sigma_hat - I||_op from GSL's eigenvalues of X^T X / N (the teacher takes
// it from the singular values of its QR factor), for N > d and N < d.
static void check_sigma_dev(const char *yaml)
{
    spec s = spec_from_yaml(yaml);
    problem *p;
    lerr e;
    problem_new(&s, 2, NULL, &p, &e);
    int n = p->n, d = p->d;
    double *S = dalloc((size_t)d * d);
    mm('T', 'N', d, d, n, 1.0 / n, linear_X(p), linear_X(p), 0.0, S);
    gsl_matrix_view Sv = gsl_matrix_view_array(S, (size_t)d, (size_t)d);
    gsl_vector *ev = gsl_vector_alloc((size_t)d);
    gsl_eigen_symm_workspace *w = gsl_eigen_symm_alloc((size_t)d);
    gsl_eigen_symm(&Sv.matrix, ev, w);
    double dev = 0;
    for (int i = 0; i < d; i++) dev = fmax(dev, fabs(gsl_vector_get(ev, (size_t)i) - 1.0));
    CHECK(close_rel(p->sigma_dev, dev, 1e-10, 0), "sigma_dev %.17g vs GSL %.17g (%s)",
          p->sigma_dev, dev, yaml);
    CHECK(close_rel(p->delta_op, s.teacher.scale, 1e-14, 0), "delta_op %.17g", p->delta_op);
    gsl_eigen_symm_free(w);
    gsl_vector_free(ev);
    free(S);
    problem_free(p);
    spec_free(&s);
}

int main(void)
{
    check_sigma_dev("teacher: {d: 12, k: 5, n: 60, rank: 2, scale: 3}\nlora: {rank: 2}\n");
    check_sigma_dev("teacher: {d: 12, k: 5, n: 7, rank: 2}\nlora: {rank: 2}\n");
    check_spectral(1.0, 0);
    check_spectral(2.0, 0);
    check_spectral(0.5, 1);
    check_pissa();
    check_lora_ga();
    check_g_closed_form();
    return check_summary("test_spectral");
}
