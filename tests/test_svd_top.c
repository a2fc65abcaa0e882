// test_svd_top.c: the randomized top-q SVD against LAPACK's full SVD
// (svd_thin, dgesdd) on matrices with known spectra.
//
// Test matrices are M = P diag(s) R^T with P: (m, mn), R: (n, mn) Haar
// orthonormal, so the spectrum is exact by construction, optionally plus a
// Gaussian noise floor.  Each case compares singular values, subspaces
// (sin of the largest principal angle), orthonormality and the truncated
// reconstruction with the full SVD's first q triplets.
#include <string.h>

#include "check.h"
#include "linalg.h"
#include "random.h"
#include "svd_top.h"

// M: (m, n) = P diag(s) R^T + sigma * N, P, R Haar (see the top); s: (min(m, n)).
static double *make_matrix(int m, int n, const double *s, double sigma, long seed)
{
    int mn = m < n ? m : n;
    double *P = dalloc((size_t)m * mn), *R = dalloc((size_t)n * mn);
    double *M = dalloc((size_t)m * n);
    lerr e;
    gsl_rng *rng = stream_new(seed, "test_svd_top");
    haar_orthonormal(rng, m, mn, P, &e);
    haar_orthonormal(rng, n, mn, R, &e);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < mn; j++) P[(size_t)i * mn + j] *= s[j];
    if (sigma > 0) gaussian_fill(rng, M, m, n, sigma);
    mm('N', 'T', m, n, mn, 1.0, P, R, sigma > 0 ? 1.0 : 0.0, M);
    gsl_rng_free(rng);
    free(P), free(R);
    return M;
}

// The first q columns of X: (rows, ld), as a new (rows, q) matrix.
static double *first_cols(const double *X, int rows, int ld, int q)
{
    double *Y = dalloc((size_t)rows * q);
    for (int i = 0; i < rows; i++)
        memcpy(Y + (size_t)i * q, X + (size_t)i * ld, sizeof(double) * q);
    return Y;
}

// The first q rows of Xt: (ld, n), transposed to a new (n, q) matrix.
static double *first_rows_t(const double *Xt, int n, int q)
{
    double *Y = dalloc((size_t)n * q);
    for (int i = 0; i < q; i++)
        for (int j = 0; j < n; j++) Y[(size_t)j * q + i] = Xt[(size_t)i * n + j];
    return Y;
}

// max |X^T X - I| for X: (rows, q).
static double orth_err(const double *X, int rows, int q)
{
    double *G = dalloc((size_t)q * q);
    mm('T', 'N', q, q, rows, 1.0, X, X, 0.0, G);
    double worst = 0.0;
    for (int i = 0; i < q; i++)
        for (int j = 0; j < q; j++) {
            double d = fabs(G[(size_t)i * q + j] - (i == j ? 1.0 : 0.0));
            if (!(d <= worst)) worst = d;
        }
    free(G);
    return worst;
}

static int all_finite(const double *X, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!isfinite(X[i])) return 0;
    return 1;
}

// U diag(S) Vt for U: (m, q), S: (q), Vt: (q, n) with row strides ldu, ldv = n.
static double *recon(const double *U, int ldu, const double *S, const double *Vt, int m, int n,
                     int q)
{
    double *US = first_cols(U, m, ldu, q);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < q; j++) US[(size_t)i * q + j] *= S[j];
    double *X = dalloc((size_t)m * n);
    mm('N', 'N', m, n, q, 1.0, US, Vt, 0.0, X);
    free(US);
    return X;
}

// max_{i < k} max(||M v_i - s_i u_i||, ||M^T u_i - s_i v_i||), column by column,
// for U: (m, q), S: (q), Vt: (q, n), k <= q.
static double residual(const double *M, int m, int n, int q, int k, const double *U,
                       const double *S, const double *Vt)
{
    double *MV = dalloc((size_t)m * q), *MtU = dalloc((size_t)n * q);
    mm('N', 'T', m, q, n, 1.0, M, Vt, 0.0, MV);
    mm('T', 'N', n, q, m, 1.0, M, U, 0.0, MtU);
    double worst = 0.0;
    for (int i = 0; i < k; i++) {
        double a = 0.0, b = 0.0;
        for (int r = 0; r < m; r++)
            a += pow(MV[(size_t)r * q + i] - S[i] * U[(size_t)r * q + i], 2);
        for (int c = 0; c < n; c++)
            b += pow(MtU[(size_t)c * q + i] - S[i] * Vt[(size_t)i * n + c], 2);
        worst = fmax(worst, sqrt(fmax(a, b)));
    }
    free(MV), free(MtU);
    return worst;
}

typedef struct {
    double s_rel;     // |S_i - S_ref_i| <= s_rel * S_ref_1, i < s_count
    int s_count;      // how many singular values to compare (<= q)
    double sub;       // sin angle of the top sub_q left and right subspaces
    int sub_q;        // 0: no subspace check
    double rec;       // ||U S Vt - (U S Vt)_ref,q||_F <= rec * S_ref_1 (< 0: skip)
    int conv;         // must reach tol before max_iter
} expect;

// Run svd_top on M: (m, n) and compare with the full SVD.
static void compare(const char *name, const double *M, int m, int n, int q, svd_top_opts o,
                    expect x)
{
    int mn = m < n ? m : n;
    lerr e = {0};
    double *Ur = dalloc((size_t)m * mn), *Sr = dalloc((size_t)mn), *Vr = dalloc((size_t)mn * n);
    double *U = dalloc((size_t)m * q), *S = dalloc((size_t)q), *Vt = dalloc((size_t)q * n);
    if (svd_thin(M, m, n, Ur, Sr, Vr, &e)) {
        CHECK(0, "%s: reference SVD failed: %s", name, e.msg);
        goto out;
    }
    int rc = svd_top(M, m, n, q, U, S, Vt, &o, &e);
    CHECK(rc == 0, "%s: svd_top failed: %s", name, e.msg);
    if (rc) goto out;
    CHECK(all_finite(U, (size_t)m * q) && all_finite(S, q) && all_finite(Vt, (size_t)q * n),
          "%s: non-finite output", name);
    for (int i = 0; i < x.s_count; i++)
        CHECK(fabs(S[i] - Sr[i]) <= x.s_rel * Sr[0], "%s: S[%d] = %.17g, want %.17g (rel %.3g)",
              name, i, S[i], Sr[i], fabs(S[i] - Sr[i]) / Sr[0]);
    for (int i = 1; i < q; i++) CHECK(S[i] <= S[i - 1], "%s: S not decreasing at %d", name, i);
    double ou = orth_err(U, m, q);
    double *V = first_rows_t(Vt, n, q);
    double ov = orth_err(V, n, q);
    CHECK(ou <= 1e-12, "%s: U^T U - I: %.3g", name, ou);
    CHECK(ov <= 1e-12, "%s: Vt Vt^T - I: %.3g", name, ov);
    if (x.sub_q > 0) {
        int k = x.sub_q;
        double *Urk = first_cols(Ur, m, mn, k), *Vrk = first_rows_t(Vr, n, k);
        double *Uk = first_cols(U, m, q, k), *Vk = first_rows_t(Vt, n, k);
        double su, sv;
        sin_max_angle(Urk, k, Uk, k, m, &su, &e);
        sin_max_angle(Vrk, k, Vk, k, n, &sv, &e);
        CHECK(su <= x.sub, "%s: top-%d left subspace: sin angle %.3g > %.3g", name, k, su, x.sub);
        CHECK(sv <= x.sub, "%s: top-%d right subspace: sin angle %.3g > %.3g", name, k, sv,
              x.sub);
        free(Urk), free(Vrk), free(Uk), free(Vk);
    }
    if (x.rec >= 0) {
        double *A = recon(U, q, S, Vt, m, n, q), *Bq = recon(Ur, mn, Sr, Vr, m, n, q);
        double d = fro_diff(A, Bq, m, n);
        CHECK(d <= x.rec * Sr[0], "%s: reconstruction differs by %.3g (rel %.3g)", name, d,
              d / Sr[0]);
        free(A), free(Bq);
    }
    // the reported residual is the true one, and converged unless max_iter was hit
    // (over the first nconv when that was asked for)
    double tol = o.tol ? o.tol : 1e-12;
    int nconv = o.nconv ? o.nconv : q;
    double true_res = residual(M, m, n, q, q, U, S, Vt) / S[0];
    double conv_res = residual(M, m, n, q, nconv, U, S, Vt) / S[0];
    CHECK(fabs(o.resid - true_res) <= 1e-6 * true_res + 1e-15,
          "%s: reported resid %.6g, actual %.6g", name, o.resid, true_res);
    int max_iter = o.max_iter ? o.max_iter : 50;
    CHECK(o.iters >= 1 && o.iters <= max_iter, "%s: iters %d", name, o.iters);
    CHECK(o.iters == max_iter || conv_res <= tol * 1.001,
          "%s: stopped at %d < max_iter with resid %.3g", name, o.iters, conv_res);
    CHECK(!x.conv || (o.iters < max_iter && conv_res <= tol * 1.001),
          "%s: did not converge: resid %.3g after %d iterations", name, conv_res, o.iters);
    printf("%-28s q=%-3d iters %2d  resid %.2e\n", name, q, o.iters, o.resid);
    free(V);
out:
    free(Ur), free(Sr), free(Vr), free(U), free(S), free(Vt);
}

// (a) geometric spectrum s_i = 0.7^i.
static void case_geometric(int m, int n, int q, int sub_q)
{
    int mn = m < n ? m : n;
    double *s = dalloc((size_t)mn);
    for (int i = 0; i < mn; i++) s[i] = pow(0.7, i);
    double *M = make_matrix(m, n, s, 0.0, 1);
    char name[64];
    snprintf(name, sizeof name, "geometric %dx%d", m, n);
    compare(name, M, m, n, q, (svd_top_opts){.seed = 3},
            (expect){.s_rel = 1e-10, .s_count = q, .sub = 1e-8, .sub_q = sub_q, .rec = 1e-10,
                     .conv = 1});
    free(M), free(s);
}

// (b) like the one-step gradient: rank-rs signal, s = 1 .. 0.1 evenly, plus
// Gaussian noise of operator norm ~0.01; q at and beyond the signal rank.
// Beyond it, s_q .. s_{b+1} lie in the noise bulk and convergence is slow:
// with oversample p all q values must match; with the defaults (p = 10,
// 50 iterations) only the signal part is required to.  nconv = rs: stop
// once the signal triplets have converged (the bulk ones need not).
static void case_signal_noise(int m, int n, int rs, int q, int p, int nconv)
{
    int mn = m < n ? m : n;
    double *s = dalloc((size_t)mn);
    for (int i = 0; i < rs; i++) s[i] = 1.0 - 0.9 * i / (rs - 1);
    double sigma = 0.01 / (sqrt((double)m) + sqrt((double)n));
    double *M = make_matrix(m, n, s, sigma, 2);
    char name[64];
    snprintf(name, sizeof name, "signal+noise %dx%d r*=%d p=%d%s", m, n, rs, p,
             nconv ? " nconv" : "");
    compare(name, M, m, n, q, (svd_top_opts){.seed = 4, .oversample = p, .nconv = nconv},
            (expect){.s_rel = 1e-9, .s_count = (q == rs || p) ? q : rs, .sub = 1e-9,
                     .sub_q = rs, .rec = -1, .conv = q == rs || nconv});
    free(M), free(s);
}

// (c) exactly rank 3, q = 6: three exact triplets, three ~0 singular values
// with orthonormal (arbitrary) vectors; and M = 0.
static void case_low_rank(int m, int n)
{
    int mn = m < n ? m : n;
    double *s = dalloc((size_t)mn);
    s[0] = 3, s[1] = 2, s[2] = 1;
    double *M = make_matrix(m, n, s, 0.0, 5);
    compare("rank 3, q = 6", M, m, n, 6, (svd_top_opts){.seed = 6},
            (expect){.s_rel = 1e-13, .s_count = 6, .sub = 1e-12, .sub_q = 3, .rec = 1e-13,
                     .conv = 1});
    memset(M, 0, sizeof(double) * (size_t)m * n);
    int q = 5;
    double *U = dalloc((size_t)m * q), *S = dalloc((size_t)q), *Vt = dalloc((size_t)q * n);
    svd_top_opts o = {.seed = 7};
    lerr e;
    int rc = svd_top(M, m, n, q, U, S, Vt, &o, &e);
    CHECK(rc == 0, "M = 0: %s", e.msg);
    CHECK(all_finite(U, (size_t)m * q) && all_finite(S, q) && all_finite(Vt, (size_t)q * n) &&
              isfinite(o.resid),
          "M = 0: non-finite output");
    double *V = first_rows_t(Vt, n, q);
    CHECK(orth_err(U, m, q) <= 1e-14 && orth_err(V, n, q) <= 1e-14, "M = 0: not orthonormal");
    for (int i = 0; i < q; i++) CHECK(S[i] == 0.0, "M = 0: S[%d] = %g", i, S[i]);
    CHECK(o.resid == 0.0 && o.iters == 1, "M = 0: resid %g, iters %d", o.resid, o.iters);
    free(U), free(S), free(Vt), free(V), free(M), free(s);
}

// (d) a cluster of four equal singular values 0.5 (s_3 .. s_6):
// q = 6 sits at the gap after it (0.5 -> 0.2), so the top-6 subspace is
// defined and must match; q = 4 cuts the cluster, where only the top-2
// subspace is defined and the 4 vectors must lie inside the top-6 subspace.
static void case_cluster(int m, int n)
{
    int mn = m < n ? m : n;
    double *s = dalloc((size_t)mn);
    double head[] = {1.0, 0.9, 0.5, 0.5, 0.5, 0.5};
    for (int i = 0; i < mn; i++) s[i] = i < 6 ? head[i] : 0.2 * pow(0.9, i - 6);
    double *M = make_matrix(m, n, s, 0.0, 8);
    compare("cluster, q at the gap", M, m, n, 6, (svd_top_opts){.seed = 9},
            (expect){.s_rel = 1e-10, .s_count = 6, .sub = 1e-8, .sub_q = 6, .rec = 1e-10,
                     .conv = 1});
    compare("cluster, q cuts it", M, m, n, 4, (svd_top_opts){.seed = 9},
            (expect){.s_rel = 1e-10, .s_count = 4, .sub = 1e-8, .sub_q = 2, .rec = -1,
                     .conv = 1});
    // span(U) for q = 4 inside the reference top-6 left subspace
    int q = 4;
    double *U = dalloc((size_t)m * q), *S = dalloc((size_t)q), *Vt = dalloc((size_t)q * n);
    double *Ur = dalloc((size_t)m * mn), *Sr = dalloc((size_t)mn);
    lerr e;
    svd_top_opts o = {.seed = 9};
    svd_top(M, m, n, q, U, S, Vt, &o, &e);
    svd_thin(M, m, n, Ur, Sr, NULL, &e);
    double *U6 = first_cols(Ur, m, mn, 6), ang;
    sin_max_angle(U6, 6, U, q, m, &ang, &e);
    CHECK(ang <= 1e-8, "cluster cut: span(U) leaves the top-6 subspace, sin %.3g", ang);
    free(U), free(S), free(Vt), free(Ur), free(Sr), free(U6), free(M), free(s);
}

// (f) same seed, same bits; another seed, same answer; NULL options; bad q;
// max_iter reached is reported, not an error.
static void case_determinism_errors(void)
{
    int m = 120, n = 90, q = 5, mn = 90;
    double *s = dalloc((size_t)mn);
    for (int i = 0; i < mn; i++) s[i] = 1.0 / (1.0 + i);
    double *M = make_matrix(m, n, s, 0.0, 10);
    double *U[3], *S[3], *Vt[3];
    for (int k = 0; k < 3; k++)
        U[k] = dalloc((size_t)m * q), S[k] = dalloc((size_t)q), Vt[k] = dalloc((size_t)q * n);
    lerr e;
    svd_top_opts o1 = {.seed = 11}, o2 = {.seed = 11};
    svd_top(M, m, n, q, U[0], S[0], Vt[0], &o1, &e);
    svd_top(M, m, n, q, U[1], S[1], Vt[1], &o2, &e);
    CHECK(memcmp(U[0], U[1], sizeof(double) * (size_t)m * q) == 0 &&
              memcmp(S[0], S[1], sizeof(double) * q) == 0 &&
              memcmp(Vt[0], Vt[1], sizeof(double) * (size_t)q * n) == 0 && o1.iters == o2.iters &&
              o1.resid == o2.resid,
          "same seed, different bits");
    int rc = svd_top(M, m, n, q, U[2], S[2], Vt[2], NULL, &e);
    CHECK(rc == 0, "NULL options: %s", e.msg);
    for (int i = 0; i < q; i++)
        CHECK(close_rel(S[2][i], S[0][i], 1e-12, 0), "other start: S[%d] %.17g vs %.17g", i,
              S[2][i], S[0][i]);
    // a slow spectrum (s_5 / s_16 = 0.3 per power step) stopped after one iteration
    svd_top_opts o3 = {.seed = 11, .max_iter = 1, .oversample = 1};
    rc = svd_top(M, m, n, q, U[2], S[2], Vt[2], &o3, &e);
    CHECK(rc == 0 && o3.iters == 1 && o3.resid > 1e-6 && isfinite(o3.resid),
          "max_iter = 1: rc %d iters %d resid %.3g", rc, o3.iters, o3.resid);
    int bad[] = {0, -1, mn + 1};
    for (int k = 0; k < 3; k++) {
        e.msg[0] = 0;
        rc = svd_top(M, m, n, bad[k], U[2], S[2], Vt[2], &o3, &e);
        CHECK(rc == -1 && e.kind == LERR_RUN && e.msg[0], "q = %d accepted (rc %d)", bad[k], rc);
    }
    svd_top_opts neg[] = {{.tol = -1}, {.oversample = -1}, {.max_iter = -2}, {.nconv = -1},
                          {.nconv = q + 1}};
    for (size_t k = 0; k < sizeof neg / sizeof neg[0]; k++) {
        rc = svd_top(M, m, n, q, U[2], S[2], Vt[2], &neg[k], &e);
        CHECK(rc == -1, "bad options #%zu accepted", k);
    }
    for (int k = 0; k < 3; k++) free(U[k]), free(S[k]), free(Vt[k]);
    free(M), free(s);
}

int main(void)
{
    int shapes[][2] = {{200, 150}, {150, 200}, {300, 300}};
    for (int k = 0; k < 3; k++) {
        int m = shapes[k][0], n = shapes[k][1];
        case_geometric(m, n, 10, 10);
        case_signal_noise(m, n, 6, 6, 0, 0);
        case_signal_noise(m, n, 6, 10, 0, 0);
        case_signal_noise(m, n, 6, 10, 30, 0);
        case_signal_noise(m, n, 6, 10, 0, 6);
        case_signal_noise(m, n, 12, 16, 0, 0);
        case_signal_noise(m, n, 12, 16, 30, 0);
        case_signal_noise(m, n, 12, 16, 0, 12);
    }
    case_geometric(150, 200, 1, 1);
    // q = min(m, n): the block is all of R^n, exact after one step; beyond
    // s_i ~ 1e-16 (i > ~100) the singular vectors are not determined, and
    // s_30 ~ 3e-5 still allows ~1e-11 accuracy in angle
    case_geometric(200, 150, 150, 30);
    case_low_rank(200, 150);
    case_low_rank(150, 200);
    case_cluster(200, 150);
    case_cluster(300, 300);
    case_determinism_errors();
    return check_summary("test_svd_top");
}
