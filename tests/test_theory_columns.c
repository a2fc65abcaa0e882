// test_theory_columns.c: the per-cell quantities of the theorems' hypotheses
// (summary.csv: rho_init, lambda_rstar, kappa_delta, g_op, alpha_thm,
// alpha_init) and the angles to the truth (trace.csv: align_a_star,
// align_b_star) against direct computations that share no code with them:
//   - Delta's and G's singular values by LAPACK's dgesvd on the dense
//     matrices, with G formed explicitly as X^T (Y - X W0) / N from the data;
//   - rho_init = ||A0 B0 - Delta||_F / lambda*_{r*} with A0 B0 formed densely;
//   - principal angles from the cosines: the sine of the largest angle between
//     span(U) (orthonormal, (n, r*)) and span(Q) ((n, q), q <= r*) is
//     sqrt(1 - s_min(U^T Q)^2), U and Q from dgesvd of Delta and of the factor.
// Cases: noisy labels with Sigma_hat != I (G's and Delta's subspaces differ:
// align_a != align_a_star), and Sigma_hat = I exactly (X = a Hadamard block,
// noiseless labels, so G = Delta): the angles to G and to Delta coincide, for a
// random init and for the spectral init with r = r*.
#include <lapacke.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "init.h"
#include "linalg.h"
#include "metrics.h"
#include "problem.h"
#include "random.h"
#include "teacher_linear.h"
#include "train.h"

// Singular values S: (min(m, n)) and, if wanted, U: (m, min(m, n)) and
// Vt: (min(m, n), n) of M: (m, n) by LAPACK dgesvd (M is not modified).
static void lapack_svd(const double *M, int m, int n, double *U, double *S, double *Vt)
{
    int q = m < n ? m : n;
    double *C = dalloc((size_t)m * n), *sup = dalloc((size_t)q);
    double *Uw = dalloc((size_t)m * q), *Vw = dalloc((size_t)q * n);
    memcpy(C, M, sizeof(double) * (size_t)m * n);
    int info = LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'S', 'S', m, n, C, n, S, Uw, q, Vw, n, sup);
    CHECK(info == 0, "dgesvd info %d", info);
    if (U) memcpy(U, Uw, sizeof(double) * (size_t)m * q);
    if (Vt) memcpy(Vt, Vw, sizeof(double) * (size_t)q * n);
    free(C), free(sup), free(Uw), free(Vw);
}

// The first c columns of X: (n, ld) into Out: (n, c).
static void first_cols(const double *X, int n, int ld, int c, double *Out)
{
    for (int i = 0; i < n; i++) memcpy(Out + (size_t)i * c, X + (size_t)i * ld, sizeof(double) * c);
}

// Top-c left (right with `right`) singular vectors of M: (m, n), into Out: (m, c) (or (n, c)).
static void top_vectors(const double *M, int m, int n, int c, int right, double *Out)
{
    int q = m < n ? m : n;
    double *U = dalloc((size_t)m * q), *S = dalloc((size_t)q), *Vt = dalloc((size_t)q * n);
    lapack_svd(M, m, n, U, S, Vt);
    if (!right) {
        first_cols(U, m, q, c, Out);
    } else {
        for (int i = 0; i < n; i++)
            for (int j = 0; j < c; j++) Out[(size_t)i * c + j] = Vt[(size_t)j * n + i];
    }
    free(U), free(S), free(Vt);
}

// sin of the largest principal angle between span(U: (n, p)) and span(Q: (n, q)),
// q <= p, both orthonormal: sqrt(1 - s_min(U^T Q)^2).
static double sin_angle_by_cosines(const double *U, int p, const double *Q, int q, int n)
{
    double *C = dalloc((size_t)p * q), *S = dalloc((size_t)q);
    mm('T', 'N', p, q, n, 1.0, U, Q, 0.0, C);
    lapack_svd(C, p, q, NULL, S, NULL);
    double c = S[q - 1] < 1.0 ? S[q - 1] : 1.0, out = sqrt(1.0 - c * c);
    free(C), free(S);
    return out;
}

// A Sylvester Hadamard matrix H: (n, n), n a power of 2: H^T H = n I exactly.
static void hadamard(int n, double *H)
{
    H[0] = 1.0;
    for (int m = 1; m < n; m *= 2)
        for (int i = 0; i < m; i++)
            for (int j = 0; j < m; j++) {
                double h = H[(size_t)i * n + j];
                H[(size_t)i * n + j + m] = h;
                H[(size_t)(i + m) * n + j] = h;
                H[(size_t)(i + m) * n + j + m] = -h;
            }
}

// Metrics of the problem's model at A: (d, r), B: (r, k).
static metrics metrics_at(const problem *p, int r, const double *A, const double *B)
{
    lerr e = {0};
    int d = p->d, k = p->k;
    model *m = model_new(p, r, NULL, NULL, 0, &e);
    metrics_work *w = metrics_work_new(m);
    double *gA = dalloc((size_t)d * r), *gB = dalloc((size_t)r * k), loss;
    metrics mt;
    CHECK(model_eval_factors(m, A, B, &loss, gA, gB, &e) == 0, "eval: %s", e.msg);
    CHECK(metrics_factors(w, A, B, gA, gB, loss, &mt, &e) == 0, "metrics: %s", e.msg);
    free(gA), free(gB);
    metrics_work_free(w);
    model_free(m);
    return mt;
}

// align_a_star and align_b_star of the factors A: (d, r), B: (r, k) against
// the cosine formula on Delta's top-r* subspaces; returns the metrics.
static metrics check_star_angles(const problem *p, int r, const double *A, const double *B,
                                 const char *label)
{
    int d = p->d, k = p->k, rs = p->rstar, q = r < rs ? r : rs;
    metrics mt = metrics_at(p, r, A, B);
    double *UD = dalloc((size_t)d * rs), *VD = dalloc((size_t)k * rs);
    double *QA = dalloc((size_t)d * q), *QB = dalloc((size_t)k * q);
    double *Bt = dalloc((size_t)k * r);
    top_vectors(p->Delta, d, k, rs, 0, UD);
    top_vectors(p->Delta, d, k, rs, 1, VD);
    top_vectors(A, d, r, q, 0, QA);
    for (int i = 0; i < r; i++)
        for (int j = 0; j < k; j++) Bt[(size_t)j * r + i] = B[(size_t)i * k + j];
    top_vectors(Bt, k, r, q, 0, QB);
    double wa = sin_angle_by_cosines(UD, rs, QA, q, d), wb = sin_angle_by_cosines(VD, rs, QB, q, k);
    // the cosine formula resolves sines to a few sqrt(eps) ~ 1e-8 only
    CHECK(fabs(mt.align_a_star - wa) <= 1e-7, "%s: align_a_star %.17g, direct %.17g", label,
          mt.align_a_star, wa);
    CHECK(fabs(mt.align_b_star - wb) <= 1e-7, "%s: align_b_star %.17g, direct %.17g", label,
          mt.align_b_star, wb);
    free(UD), free(VD), free(QA), free(QB), free(Bt);
    return mt;
}

// Random factors A: (d, r), B: (r, k) with entries N(0, sd^2).
static void random_factors(int d, int k, int r, long seed, double sd, double *A, double *B)
{
    gsl_rng *rng = stream_new(seed, "theory-columns");
    gaussian_fill(rng, A, d, r, sd);
    gaussian_fill(rng, B, r, k, sd);
    gsl_rng_free(rng);
}

// Noisy labels, N = 2 d (Sigma_hat far from I), kappa = 4: the summary columns
// against dense LAPACK, and the angles to Delta, which here differ from those to G.
static void check_noisy(void)
{
    const char *yaml = "teacher: {d: 12, k: 9, n: 24, rank: 3, kappa: 4, scale: 2, noise: 0.5}\n"
                       "lora: {rank: 5}\ninit: {method: gaussian, alpha2: 0.04}\n"
                       "optimizer: {method: gd, lr: 0.01, steps: 2}\n"
                       "log: {align_target: 0.3}\n";
    spec s = spec_from_yaml(yaml);
    lerr e = {0};
    problem *p;
    CHECK(problem_new(&s, 7, NULL, &p, &e) == 0, "problem_new: %s", e.msg);
    int d = p->d, k = p->k, n = p->n, r = 5, rs = 3;
    // Delta's and G's singular values, G = X^T (Y - X W0) / N formed here
    double SD[9], SG[9];
    lapack_svd(p->Delta, d, k, NULL, SD, NULL);
    const double *X = linear_X(p), *Y = linear_Y(p);
    double *R = dalloc((size_t)n * k), *G = dalloc((size_t)d * k);
    memcpy(R, Y, sizeof(double) * (size_t)n * k);
    mm('N', 'N', n, k, d, -1.0, X, p->W0, 1.0, R);
    mm('T', 'N', d, k, n, 1.0 / n, X, R, 0.0, G);
    lapack_svd(G, d, k, NULL, SG, NULL);
    // the columns as train_cell computes them
    char path[] = "/tmp/loralab-theory-columns-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp");
    close(fd);
    afile trace;
    train_result res;
    CHECK(afile_open(&trace, path, &e) == 0, "afile_open: %s", e.msg);
    CHECK(train_cell(&s, 7, "", &trace, NULL, NULL, "t", &res, &e) == 0, "train_cell: %s", e.msg);
    afile_abort(&trace);
    remove(path);
    CHECK(res.status == RUN_OK, "status %d: %s", res.status, res.message);
    CHECK(close_rel(res.lambda_rstar, SD[rs - 1], 1e-12, 0), "lambda_rstar %.17g, LAPACK %.17g",
          res.lambda_rstar, SD[rs - 1]);
    CHECK(close_rel(res.lambda_rstar, 0.5, 1e-12, 0), "lambda_rstar %.17g, scale/kappa 0.5",
          res.lambda_rstar);
    CHECK(close_rel(res.kappa_delta, SD[0] / SD[rs - 1], 1e-12, 0), "kappa_delta %.17g, LAPACK %.17g",
          res.kappa_delta, SD[0] / SD[rs - 1]);
    CHECK(close_rel(res.g_op, SG[0], 1e-12, 0), "g_op %.17g, LAPACK on X^T(Y - X W0)/N %.17g",
          res.g_op, SG[0]);
    double want_alpha = pow(0.3, 1.5) * pow(12.0, -0.75) * sqrt(SG[0] / (SD[0] / SD[rs - 1]));
    CHECK(close_rel(res.alpha_thm, want_alpha, 1e-12, 0), "alpha_thm %.17g, want %.17g",
          res.alpha_thm, want_alpha);
    CHECK(close_rel(res.alpha_init, 0.2, 1e-15, 0), "alpha_init %.17g, sqrt(0.04) = 0.2",
          res.alpha_init);
    // rho_init: the gaussian init's A0 B0 (same stream as init.c) against Delta
    double *A = dalloc((size_t)d * r), *B = dalloc((size_t)r * k), *E = dalloc((size_t)d * k);
    int shift = 0;
    CHECK(init_factors(&s, p, 7, A, B, &shift, &e) == 0 && !shift, "init: %s", e.msg);
    memcpy(E, p->Delta, sizeof(double) * (size_t)d * k);
    mm('N', 'N', d, k, r, 1.0, A, B, -1.0, E);
    double want_rho = fro(E, d, k) / SD[rs - 1];
    CHECK(close_rel(res.rho_init, want_rho, 1e-10, 0), "rho_init %.17g, direct %.17g",
          res.rho_init, want_rho);
    // the angles, at the init and at a random point
    check_star_angles(p, r, A, B, "noisy, init");
    random_factors(d, k, r, 3, 1.0, A, B);
    check_star_angles(p, r, A, B, "noisy, random");
    // A = U_r(G) diag(r..1), B = diag(r..1) V_r(G)^T (graded, so the top-q
    // subspaces are U_q(G), V_q(G)): aligned with G, not with Delta when
    // Sigma_hat != I and labels are noisy
    double *UG = dalloc((size_t)d * r), *VG = dalloc((size_t)k * r);
    top_vectors(G, d, k, r, 0, UG);
    top_vectors(G, d, k, r, 1, VG);
    for (int i = 0; i < r; i++) {
        for (int j = 0; j < k; j++) B[(size_t)i * k + j] = (r - i) * VG[(size_t)j * r + i];
        for (int j = 0; j < d; j++) UG[(size_t)j * r + i] *= r - i;
    }
    metrics mg = check_star_angles(p, r, UG, B, "noisy, G's subspaces");
    CHECK(mg.align_a < 1e-10 && mg.align_b < 1e-10, "align_a %g, align_b %g at G's subspaces",
          mg.align_a, mg.align_b);
    CHECK(mg.align_a_star > 0.05 && mg.align_b_star > 0.05,
          "align_a_star %g, align_b_star %g: Delta's subspaces should differ from G's",
          mg.align_a_star, mg.align_b_star);
    free(UG), free(VG);
    // full fine-tuning (metrics_dense): the shift D's top-r* subspaces play A's
    // and B^T's roles
    {
        double *Dm = dalloc((size_t)d * k), *UDl = dalloc((size_t)d * rs), *VDl = dalloc((size_t)k * rs);
        double *QD = dalloc((size_t)d * rs), *VQ = dalloc((size_t)k * rs), *J = dalloc((size_t)d * k);
        random_factors(d, k, k, 21, 1.0, Dm, E);   // Dm: (d, k) random
        model *m = model_new(p, 0, NULL, NULL, 0, &e);
        metrics_work *w = metrics_work_new(m);
        double loss;
        metrics mt;
        CHECK(model_eval_dense(m, Dm, &loss, J, &e) == 0, "eval dense: %s", e.msg);
        CHECK(metrics_dense(w, Dm, J, loss, &mt, &e) == 0, "metrics dense: %s", e.msg);
        top_vectors(p->Delta, d, k, rs, 0, UDl);
        top_vectors(p->Delta, d, k, rs, 1, VDl);
        top_vectors(Dm, d, k, rs, 0, QD);
        top_vectors(Dm, d, k, rs, 1, VQ);
        double wa = sin_angle_by_cosines(UDl, rs, QD, rs, d), wb = sin_angle_by_cosines(VDl, rs, VQ, rs, k);
        CHECK(fabs(mt.align_a_star - wa) <= 1e-7 && fabs(mt.align_b_star - wb) <= 1e-7,
              "full: align_a_star %.17g (direct %.17g), align_b_star %.17g (direct %.17g)",
              mt.align_a_star, wa, mt.align_b_star, wb);
        metrics_work_free(w);
        model_free(m);
        free(Dm), free(UDl), free(VDl), free(QD), free(VQ), free(J);
    }
    free(R), free(G), free(A), free(B), free(E);
    problem_free(p);
    spec_free(&s);
}

// Sigma_hat = I exactly: X = the first d columns of a (32, 32) Hadamard matrix
// (X^T X = 32 I), N = 32, noiseless labels, so G = Sigma_hat Delta = Delta
// and the angles to G and to Delta coincide.
static void check_identity_covariance(void)
{
    enum { N = 32, D = 10, K = 7, RS = 2 };
    double H[N * N];
    hadamard(N, H);
    // teacher.x inline: the rows of X
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    fprintf(f, "teacher:\n  d: %d\n  k: %d\n  n: %d\n  rank: %d\n  kappa: 3\n  noise: 0\n  x: [", D, K,
            N, RS);
    for (int i = 0; i < N; i++) {
        fprintf(f, "%s[", i ? ", " : "");
        for (int j = 0; j < D; j++) fprintf(f, "%s%g", j ? ", " : "", H[i * N + j]);
        fprintf(f, "]");
    }
    fprintf(f, "]\nlora: {rank: %d}\ninit: {method: spectral}\n", RS);
    fclose(f);
    spec s = spec_from_yaml(text);
    free(text);
    lerr e = {0};
    problem *p;
    CHECK(problem_new(&s, 2, NULL, &p, &e) == 0, "problem_new: %s", e.msg);
    CHECK(p->sigma_dev < 1e-13, "sigma_dev %g: Sigma_hat should be I", p->sigma_dev);
    double *A = dalloc((size_t)D * RS), *B = dalloc((size_t)RS * K);
    int shift = 0;
    CHECK(init_factors(&s, p, 2, A, B, &shift, &e) == 0, "spectral init: %s", e.msg);
    metrics ms = check_star_angles(p, RS, A, B, "Sigma = I, spectral");
    CHECK(ms.align_a < 1e-12 && ms.align_a_star < 1e-12 && ms.align_b < 1e-12 &&
              ms.align_b_star < 1e-12,
          "spectral init with r = r*: angles %g %g %g %g should all vanish", ms.align_a,
          ms.align_a_star, ms.align_b, ms.align_b_star);
    free(A), free(B);
    int r = 4;
    A = dalloc((size_t)D * r), B = dalloc((size_t)r * K);
    random_factors(D, K, r, 11, 1.0, A, B);
    metrics mr = check_star_angles(p, r, A, B, "Sigma = I, random");
    CHECK(mr.align_a_star > 0.1 && close_rel(mr.align_a, mr.align_a_star, 1e-10, 1e-12),
          "align_a %.17g and align_a_star %.17g should coincide", mr.align_a, mr.align_a_star);
    CHECK(mr.align_b_star > 0.1 && close_rel(mr.align_b, mr.align_b_star, 1e-10, 1e-12),
          "align_b %.17g and align_b_star %.17g should coincide", mr.align_b, mr.align_b_star);
    free(A), free(B);
    problem_free(p);
    spec_free(&s);
}

// Delta's SVD from factors that are not its SVD: Dl <- Dl M, Dr <- M^-1 Dr
// with M unit upper triangular (the same Delta), against LAPACK on Delta.
static void check_truth_svd_general_factors(void)
{
    spec s = spec_from_yaml("teacher: {d: 11, k: 8, n: 30, rank: 3, kappa: 5}\nlora: {rank: 3}\n");
    lerr e = {0};
    problem *p;
    CHECK(problem_new(&s, 9, NULL, &p, &e) == 0, "problem_new: %s", e.msg);
    int d = p->d, k = p->k, q = p->dq, rs = p->rstar;
    CHECK(q == 3, "dq %d", q);
    // M = [[1, a, b], [0, 1, c], [0, 0, 1]] and its inverse
    double a = 0.7, b = -1.3, c = 2.1;
    double M[9] = {1, a, b, 0, 1, c, 0, 0, 1}, Mi[9] = {1, -a, a * c - b, 0, 1, -c, 0, 0, 1};
    double *Dl = dalloc((size_t)d * q), *Dr = dalloc((size_t)q * k);
    mm('N', 'N', d, q, q, 1.0, p->Dl, M, 0.0, Dl);
    mm('N', 'N', q, k, q, 1.0, Mi, p->Dr, 0.0, Dr);
    memcpy(p->Dl, Dl, sizeof(double) * (size_t)d * q);
    memcpy(p->Dr, Dr, sizeof(double) * (size_t)q * k);
    CHECK(problem_truth_svd(p, &e) == 0, "truth svd: %s", e.msg);
    double S[8];
    lapack_svd(p->Delta, d, k, NULL, S, NULL);
    for (int j = 0; j < q; j++)
        CHECK(close_rel(p->SD[j], S[j], 1e-12, 0), "SD[%d] %.17g, LAPACK %.17g", j, p->SD[j], S[j]);
    double *U = dalloc((size_t)d * rs), *V = dalloc((size_t)k * rs);
    top_vectors(p->Delta, d, k, rs, 0, U);
    top_vectors(p->Delta, d, k, rs, 1, V);
    double sa = sin_angle_by_cosines(U, rs, p->UD, rs, d), sb = sin_angle_by_cosines(V, rs, p->VD, rs, k);
    CHECK(sa < 1e-7 && sb < 1e-7, "UD, VD off Delta's subspaces by sin %g, %g", sa, sb);
    // each column pair is a singular pair: Delta v_j = s_j u_j
    double *DV = dalloc((size_t)d * rs);
    mm('N', 'N', d, rs, k, 1.0, p->Delta, p->VD, 0.0, DV);
    double worst = 0;
    for (int i = 0; i < d; i++)
        for (int j = 0; j < rs; j++)
            worst = fmax(worst, fabs(DV[(size_t)i * rs + j] - S[j] * p->UD[(size_t)i * rs + j]));
    CHECK(worst < 1e-12 * S[0], "Delta VD - UD diag(SD): max entry %g", worst);
    free(Dl), free(Dr), free(U), free(V), free(DV);
    problem_free(p);
    spec_free(&s);
}

// The ntk teacher has no target shift of W: no truth subspaces, nan columns.
static void check_ntk(void)
{
    spec s = spec_from_yaml("teacher: {model: ntk, d: 4, k: 3, n: 12, rank: 2, outputs: 1}\n"
                            "lora: {rank: 2}\noptimizer: {steps: 1}\n");
    lerr e = {0};
    problem *p;
    CHECK(problem_new(&s, 1, NULL, &p, &e) == 0, "problem_new: %s", e.msg);
    CHECK(!p->SD && !p->UD && !p->VD, "ntk: truth subspaces should be absent");
    double A[8], B[6];
    random_factors(4, 3, 2, 5, 1.0, A, B);
    metrics mt = metrics_at(p, 2, A, B);
    CHECK(isnan(mt.align_a_star) && isnan(mt.align_b_star) && !isnan(mt.align_a),
          "ntk: align_a_star %g, align_b_star %g should be nan (align_a %g not)", mt.align_a_star,
          mt.align_b_star, mt.align_a);
    problem_free(p);
    spec_free(&s);
}

int main(void)
{
    check_noisy();
    check_identity_covariance();
    check_truth_svd_general_factors();
    check_ntk();
    return check_summary("test_theory_columns");
}
