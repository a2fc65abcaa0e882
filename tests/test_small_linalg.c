// test_small_linalg.c: the LAPACK-free metric row (small_linalg.c through
// metrics.c's small path) against references computed independently in long
// double (64-bit mantissa, eps 5.4e-20): the error A B - Tl Tr formed entry by
// entry, its largest singular value from a cyclic Jacobi eigensolver on its
// Gram matrix, each factor's top-q subspace from the Jacobi eigenvectors of
// its r x r Gram matrix mapped back and orthonormalised twice (Gram-Schmidt
// with reorthogonalisation), and the angles from the explicitly formed
// residual (I - U U^T) Q.  Also the LAPACK path (metrics_work_use_small(w, 0),
// a second algorithm) on the same points.  Cases: generic, near-aligned
// (true sine 1e-10 .. 1e-16), tiny factors (scaled by 1e-3 .. 1e-6),
// rank-deficient (B = 0: B's angles nan, rank_ab 0), near-converged (risk
// ~1e-24).  Then the kernels alone: sl_qr against the long-double R, and
// sl_sym_eig, sl_sym_eig_max and sl_eig_batch against Jacobi eigenvalues (the
// batch also bit for bit against the single calls); sl_gram_rank on singular
// values graded across its threshold; sl_norm against the long double norm.
#include <float.h>
#include <stdio.h>
#include <math.h>
#include <string.h>

#include "check.h"
#include "linalg.h"
#include "metrics.h"
#include "problem.h"
#include "random.h"
#include "small_linalg.h"

typedef long double ld;

// Eigenvalues w: (n), decreasing, and eigenvectors V: (n, n) row-major
// (column j for w[j]) of the symmetric S: (n, n) row-major (destroyed), by
// cyclic Jacobi rotations until every off-diagonal entry is negligible.
static void ld_jacobi(ld *S, int n, ld *w, ld *V)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) V[i * n + j] = i == j;
    for (int sweep = 0; sweep < 100; sweep++) {
        ld off = 0, diag = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (i != j) off += S[i * n + j] * S[i * n + j];
                else diag += S[i * n + i] * S[i * n + i];
        if (off <= 1e-42L * diag || off == 0) break;
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++) {
                ld apq = S[p * n + q];
                if (apq == 0) continue;
                ld theta = (S[q * n + q] - S[p * n + p]) / (2 * apq);
                ld t = (theta >= 0 ? 1 : -1) / (fabsl(theta) + sqrtl(theta * theta + 1));
                ld c = 1 / sqrtl(t * t + 1), s = t * c;
                for (int k = 0; k < n; k++) {   // S <- J^T S J
                    ld a = S[k * n + p], b = S[k * n + q];
                    S[k * n + p] = c * a - s * b, S[k * n + q] = s * a + c * b;
                }
                for (int k = 0; k < n; k++) {
                    ld a = S[p * n + k], b = S[q * n + k];
                    S[p * n + k] = c * a - s * b, S[q * n + k] = s * a + c * b;
                }
                for (int k = 0; k < n; k++) {
                    ld a = V[k * n + p], b = V[k * n + q];
                    V[k * n + p] = c * a - s * b, V[k * n + q] = s * a + c * b;
                }
            }
    }
    for (int i = 0; i < n; i++) w[i] = S[i * n + i];
    for (int i = 0; i < n; i++) {   // sort decreasing, vectors alongside
        int b = i;
        for (int j = i + 1; j < n; j++)
            if (w[j] > w[b]) b = j;
        ld t = w[i];
        w[i] = w[b], w[b] = t;
        for (int k = 0; k < n; k++) {
            t = V[k * n + i];
            V[k * n + i] = V[k * n + b], V[k * n + b] = t;
        }
    }
}

// Largest singular value of X: (m, n) row-major, sqrt(lambda_max(X^T X)).
static ld ld_op_norm(const ld *X, int m, int n)
{
    ld *S = calloc((size_t)n * n, sizeof *S), *V = calloc((size_t)n * n, sizeof *V);
    ld *w = calloc((size_t)n, sizeof *w);
    for (int a = 0; a < n; a++)
        for (int b = 0; b < n; b++)
            for (int i = 0; i < m; i++) S[a * n + b] += X[i * n + a] * X[i * n + b];
    ld_jacobi(S, n, w, V);
    ld out = sqrtl(w[0] > 0 ? w[0] : 0);
    free(S), free(V), free(w);
    return out;
}

// Orthonormal basis Q: (m, q) row-major of the top-q left singular subspace of
// X: (m, r) row-major: eigenvectors V of X^T X, Y = X V_q, then Gram-Schmidt
// twice on Y's columns.
static void ld_top_subspace(const double *X, int m, int r, int q, ld *Q)
{
    ld *S = calloc((size_t)r * r, sizeof *S), *V = calloc((size_t)r * r, sizeof *V);
    ld *w = calloc((size_t)r, sizeof *w);
    for (int a = 0; a < r; a++)
        for (int b = 0; b < r; b++)
            for (int i = 0; i < m; i++) S[a * r + b] += (ld)X[i * r + a] * X[i * r + b];
    ld_jacobi(S, r, w, V);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < q; j++) {
            ld t = 0;
            for (int a = 0; a < r; a++) t += (ld)X[i * r + a] * V[a * r + j];
            Q[i * q + j] = t;
        }
    for (int j = 0; j < q; j++) {
        for (int pass = 0; pass < 2; pass++)
            for (int l = 0; l < j; l++) {
                ld t = 0;
                for (int i = 0; i < m; i++) t += Q[i * q + l] * Q[i * q + j];
                for (int i = 0; i < m; i++) Q[i * q + j] -= t * Q[i * q + l];
            }
        ld nn = 0;
        for (int i = 0; i < m; i++) nn += Q[i * q + j] * Q[i * q + j];
        for (int i = 0; i < m; i++) Q[i * q + j] /= sqrtl(nn);
    }
    free(S), free(V), free(w);
}

// ||(I - U U^T) Q||_op, U: (m, p) row-major double, Q: (m, q) row-major.
static ld ld_angle(const double *U, int ldu, int p, const ld *Q, int m, int q)
{
    ld *P = calloc((size_t)m * q, sizeof *P);
    for (int j = 0; j < q; j++) {
        for (int i = 0; i < m; i++) P[i * q + j] = Q[i * q + j];
        for (int a = 0; a < p; a++) {
            ld c = 0;
            for (int i = 0; i < m; i++) c += (ld)U[i * ldu + a] * Q[i * q + j];
            for (int i = 0; i < m; i++) P[i * q + j] -= (ld)U[i * ldu + a] * c;
        }
    }
    ld out = ld_op_norm(P, m, q);
    free(P);
    return out;
}

typedef struct {
    ld risk, err_op, align[4], balance;
} reference;

// The reference metrics at (A, B) for model m: align[] = a, b, a_star, b_star.
static reference ld_reference(const model *m, const double *A, const double *B)
{
    const problem *p = m->p;
    int d = p->d, k = p->k, r = m->r, tq = m->tq, rs = p->rstar, q = r < rs ? r : rs;
    reference R;
    ld *E = calloc((size_t)d * k, sizeof *E);
    R.risk = 0;
    for (int i = 0; i < d; i++)
        for (int j = 0; j < k; j++) {
            ld t = 0;
            for (int a = 0; a < r; a++) t += (ld)A[i * r + a] * B[a * k + j];
            for (int a = 0; a < tq; a++) t -= (ld)m->Tl[i * tq + a] * m->Tr[a * k + j];
            E[i * k + j] = t;
            R.risk += t * t / 2;
        }
    R.err_op = ld_op_norm(E, d, k);
    free(E);
    double *Bt = dalloc((size_t)k * r), *VG = dalloc((size_t)k * rs);
    for (int a = 0; a < r; a++)
        for (int j = 0; j < k; j++) Bt[j * r + a] = B[a * k + j];
    for (int j = 0; j < k; j++)
        for (int a = 0; a < rs; a++) VG[j * rs + a] = p->VGt[a * k + j];
    ld *QA = calloc((size_t)d * q, sizeof *QA), *QB = calloc((size_t)k * q, sizeof *QB);
    ld_top_subspace(A, d, r, q, QA);
    ld_top_subspace(Bt, k, r, q, QB);
    R.align[0] = ld_angle(p->UG, p->gq, rs, QA, d, q);
    R.align[1] = ld_angle(VG, rs, rs, QB, k, q);
    R.align[2] = ld_angle(p->UD, rs, rs, QA, d, q);
    R.align[3] = ld_angle(p->VD, rs, rs, QB, k, q);
    ld bal = 0;
    for (int a = 0; a < r; a++)
        for (int b = 0; b < r; b++) {
            ld t = 0;
            for (int i = 0; i < d; i++) t += (ld)A[i * r + a] * A[i * r + b];
            for (int j = 0; j < k; j++) t -= (ld)B[a * k + j] * B[b * k + j];
            bal += t * t;
        }
    R.balance = sqrtl(bal);
    free(Bt), free(VG), free(QA), free(QB);
    return R;
}

// Tolerances of one case: alignment absolute error, risk and err_op relative.
typedef struct {
    const char *name;
    double align_abs, norm_rel;
} tolerance;

// Both paths at (A, B) against the reference (and each other).  nan_b: B = 0.
static void check_point(model *m, const double *A, const double *B, tolerance tol, int nan_b)
{
    const problem *p = m->p;
    int d = p->d, k = p->k, r = m->r;
    lerr e = {0};
    metrics_work *w = metrics_work_new(m);
    double *gA = dalloc((size_t)d * r), *gB = dalloc((size_t)r * k), loss;
    model_eval_factors(m, A, B, &loss, gA, gB, &e);
    metrics mt[2];
    for (int small = 0; small < 2; small++) {
        CHECK(metrics_work_use_small(w, small) == 0, "%s: no small path", tol.name);
        CHECK(metrics_factors(w, A, B, gA, gB, loss, &mt[small], &e) == 0, "%s: %s", tol.name,
              e.msg);
    }
    reference R = ld_reference(m, A, B);
    const char *path[2] = {"lapack", "small"};
    for (int s = 0; s < 2; s++) {
        const metrics *x = &mt[s];
        double al[4] = {x->align_a, x->align_b, x->align_a_star, x->align_b_star};
        CHECK(fabsl(x->risk - R.risk) <= tol.norm_rel * R.risk, "%s %s: risk %.17g, reference %.17Lg",
              tol.name, path[s], x->risk, R.risk);
        CHECK(fabsl(x->err_op - R.err_op) <= tol.norm_rel * R.err_op,
              "%s %s: err_op %.17g, reference %.17Lg", tol.name, path[s], x->err_op, R.err_op);
        for (int i = 0; i < 4; i++) {
            if (nan_b && (i == 1 || i == 3)) {
                CHECK(isnan(al[i]), "%s %s: angle %d %g, want nan (B = 0)", tol.name, path[s], i,
                      al[i]);
                continue;
            }
            CHECK(fabsl(al[i] - R.align[i]) <= tol.align_abs,
                  "%s %s: angle %d %.17g, reference %.17Lg (error %.2Lg)", tol.name, path[s], i,
                  al[i], R.align[i], fabsl(al[i] - R.align[i]));
        }
        double nab = pow(fro(A, d, r), 2) + pow(fro(B, r, k), 2);
        CHECK(fabsl(x->balance - R.balance) <= 1e-12 * R.balance + 16 * DBL_EPSILON * nab,
              "%s %s: balance %.17g, reference %.17Lg", tol.name, path[s], x->balance, R.balance);
    }
    for (int s = 0; s < 2; s++) {   // the observed errors, for the log
        const metrics *x = &mt[s];
        double al[4] = {x->align_a, x->align_b, x->align_a_star, x->align_b_star}, amax = 0;
        for (int i = 0; i < 4; i++)
            if (!isnan(al[i])) amax = fmax(amax, (double)fabsl(al[i] - R.align[i]));
        printf("%-15s %-6s  angle error %.1e (angle_a %.2Le)  risk rel %.1e  err_op rel %.1e\n",
               tol.name, path[s], amax, R.align[0], (double)(fabsl(x->risk - R.risk) / R.risk),
               (double)(fabsl(x->err_op - R.err_op) / R.err_op));
    }
    CHECK(mt[0].rank_ab == mt[1].rank_ab, "%s: rank_ab %g (lapack) %g (small)", tol.name,
          mt[0].rank_ab, mt[1].rank_ab);
    if (nan_b) CHECK(mt[1].rank_ab == 0, "%s: rank_ab %g with B = 0", tol.name, mt[1].rank_ab);
    free(gA), free(gB);
    metrics_work_free(w);
}

// The problem of a set of cases: d, k, r* and LoRA rank r (s = r + r*).
static problem *make_problem(spec *s, int d, int k, int rs, int r)
{
    char yaml[160];
    snprintf(yaml, sizeof yaml, "teacher: {d: %d, k: %d, n: %d, rank: %d}\nlora: {rank: %d}\n", d,
             k, 5 * d, rs, r);
    *s = spec_from_yaml(yaml);
    problem *p;
    lerr e = {0};
    CHECK(problem_new(s, 5, NULL, &p, &e) == 0, "problem_new: %s", e.msg);
    return p;
}

// Columns of Z: (n, c) row-major made orthogonal to those of U: (n, p)
// (row stride ldu) and orthonormal, by Gram-Schmidt applied twice.
static void orthogonalise(double *Z, int n, int c, const double *U, int ldu, int p)
{
    for (int j = 0; j < c; j++) {
        for (int pass = 0; pass < 2; pass++) {
            for (int a = 0; a < p; a++) {
                double t = 0;
                for (int i = 0; i < n; i++) t += U[i * ldu + a] * Z[i * c + j];
                for (int i = 0; i < n; i++) Z[i * c + j] -= t * U[i * ldu + a];
            }
            for (int l = 0; l < j; l++) {
                double t = 0;
                for (int i = 0; i < n; i++) t += Z[i * c + l] * Z[i * c + j];
                for (int i = 0; i < n; i++) Z[i * c + j] -= t * Z[i * c + l];
            }
        }
        double nn = 0;
        for (int i = 0; i < n; i++) nn += Z[i * c + j] * Z[i * c + j];
        for (int i = 0; i < n; i++) Z[i * c + j] /= sqrt(nn);
    }
}

// X: (n, r) row-major whose top-q left singular subspace makes the angle
// theta with span(U) (U: (n, q), row stride ldu): columns j < q are
// sv_j (cos theta U_j + sin theta W_j), sv_j = 3 / (1 + j / 2) (distinct),
// columns j >= q are 0.05 Z_j, with W, Z orthonormal and orthogonal to U and
// to each other.
static void near_aligned(gsl_rng *rng, const double *U, int ldu, int n, int r, int q,
                         double theta, double *X)
{
    double *WZ = dalloc((size_t)n * r);
    int c = r;   // W: the first q columns, Z: the other r - q
    gaussian_fill(rng, WZ, n, c, 1.0);
    orthogonalise(WZ, n, c, U, ldu, q);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < r; j++)
            X[i * r + j] = j < q ? 3.0 / (1.0 + 0.5 * j) *
                                       (cos(theta) * U[i * ldu + j] + sin(theta) * WZ[i * c + j])
                                 : 0.05 * WZ[i * c + j];
    free(WZ);
}

// Every case at d, k, r* = rs, LoRA rank r > rs (so q = rs).
static void check_rows(int d, int k, int rs, int r)
{
    spec s;
    problem *p = make_problem(&s, d, k, rs, r);
    lerr e = {0};
    model *m = model_new(p, r, NULL, NULL, 0, &e);
    printf("d = %d, k = %d, r* = %d, r = %d (s = %d)\n", d, k, rs, r, r + m->tq);
    gsl_rng *rng = stream_new(7, "small-rows");
    double *A = dalloc((size_t)d * r), *B = dalloc((size_t)r * k), *Bt = dalloc((size_t)k * r);
    double *VG = dalloc((size_t)k * rs);
    for (int j = 0; j < k; j++)
        for (int a = 0; a < rs; a++) VG[j * rs + a] = p->VGt[a * k + j];

    // generic
    gaussian_fill(rng, A, d, r, 1.0);
    gaussian_fill(rng, B, r, k, 1.0);
    check_point(m, A, B, (tolerance){"generic", 1e-14, 1e-13}, 0);

    // tiny factors: the whole error is Delta's, the angles are of A's, B's own subspaces
    for (double scale = 1e-3; scale >= 1e-6; scale /= 10) {
        gaussian_fill(rng, A, d, r, scale);
        gaussian_fill(rng, B, r, k, scale);
        check_point(m, A, B, (tolerance){"tiny factors", 1e-14, 1e-13}, 0);
    }

    // near-aligned: A's top-r* subspace at angle theta from U_G, B^T's from V_G
    const double thetas[] = {1e-10, 1e-12, 1e-14, 1e-16};
    for (int t = 0; t < 4; t++) {
        near_aligned(rng, p->UG, p->gq, d, r, rs, thetas[t], A);
        near_aligned(rng, VG, rs, k, r, rs, thetas[t], Bt);
        for (int a = 0; a < r; a++)
            for (int j = 0; j < k; j++) B[a * k + j] = Bt[j * r + a];
        // at r* = 16 the small path's angles near alignment err by up to
        // 2.5e-15 (observed; LAPACK's 4e-16): the reason metrics.c keeps
        // SMALL_MAX_RSTAR = 8, where both stay within 1e-15
        check_point(m, A, B, (tolerance){"near-aligned", rs <= 8 ? 1e-15 : 1e-14, 1e-13}, 0);
    }

    // rank-deficient: B = 0 (the lora init's step 0)
    gaussian_fill(rng, A, d, r, 1.0);
    memset(B, 0, sizeof(double) * (size_t)r * k);
    check_point(m, A, B, (tolerance){"B = 0", 1e-14, 1e-13}, 1);

    // near-converged: A = [Tl, Z], B = [Tr; 0] + 1e-13 noise: risk ~1e-24
    int tq = m->tq;
    CHECK(tq == rs, "tq %d", tq);
    gaussian_fill(rng, A, d, r, 0.3);
    gaussian_fill(rng, B, r, k, 1e-13);
    for (int i = 0; i < d; i++)
        for (int a = 0; a < tq; a++) A[i * r + a] = m->Tl[i * tq + a];
    for (int a = 0; a < tq; a++)
        for (int j = 0; j < k; j++) B[a * k + j] += m->Tr[a * k + j];
    reference R = ld_reference(m, A, B);
    CHECK(R.risk > 1e-26 && R.risk < 1e-22, "near-converged setup: risk %Lg", R.risk);
    check_point(m, A, B, (tolerance){"near-converged", 1e-14, 1e-4}, 0);

    free(A), free(B), free(Bt), free(VG);
    gsl_rng_free(rng);
    model_free(m);
    problem_free(p);
    spec_free(&s);
}

// The kernels alone: |R| of sl_qr against the long double Cholesky factor of
// X^T X (R^T R = X^T X, unique up to the signs of R's rows) on a graded
// X: (m, n); sl_sym_eig's eigenvalues and eigenvector residuals against Jacobi.
static void check_kernels(void)
{
    enum { M = 60, N = 10 };
    gsl_rng *rng = stream_new(9, "small-kernels");
    double X[M * N], Xc[M * N], tau[N];   // Xc: cm
    gaussian_fill(rng, X, M, N, 1.0);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) Xc[i + j * M] = X[i * N + j] * pow(10.0, -j);   // graded columns
    double X0[M * N];
    memcpy(X0, Xc, sizeof Xc);
    sl_qr(Xc, M, N, tau);
    // R^T R against X^T X entry by entry, in long double
    for (int a = 0; a < N; a++)
        for (int b = 0; b < N; b++) {
            ld g = 0, rr = 0;
            for (int i = 0; i < M; i++) g += (ld)X0[i + a * M] * X0[i + b * M];
            for (int c = 0; c <= (a < b ? a : b); c++) rr += (ld)Xc[c + a * M] * Xc[c + b * M];
            ld scale = pow(10.0, -a) * pow(10.0, -b);   // columns a, b are graded so
            CHECK(fabsl(g - rr) <= 1e-13L * scale * M, "sl_qr: (R^T R - X^T X)[%d,%d] = %Lg", a, b,
                  g - rr);
        }
    // Q^T Q = I from sl_qr_apply on the identity's first N columns
    double Q[M * N];
    memset(Q, 0, sizeof Q);
    for (int j = 0; j < N; j++) Q[j + j * M] = 1.0;
    sl_qr_apply(Xc, M, N, tau, Q, N);
    for (int a = 0; a < N; a++)
        for (int b = 0; b < N; b++) {
            double t = 0;
            for (int i = 0; i < M; i++) t += Q[i + a * M] * Q[i + b * M];
            CHECK(fabs(t - (a == b)) <= 1e-14, "sl_qr_apply: (Q^T Q)[%d,%d] = %g", a, b, t);
        }
    // Q R = X
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double t = 0;
            for (int c = 0; c <= j; c++) t += Q[i + c * M] * Xc[c + j * M];
            CHECK(fabs(t - X0[i + j * M]) <= 1e-14 * pow(10.0, -j) * 10,
                  "sl_qr: (Q R - X)[%d,%d] = %g", i, j, t - X0[i + j * M]);
        }
    // sl_norm against the long double norm: lengths around its 16-wide blocks,
    // and entries scaled to under- and overflow its plain sum of squares
    {
        const int lens[] = {1, 3, 15, 16, 17, 63, 800, 801};
        const double scales[] = {1.0, 1e-160, 1e160, 1e-300};
        double x[801];
        for (int li = 0; li < 8; li++)
            for (int si = 0; si < 4; si++) {
                int len = lens[li];
                gaussian_fill(rng, x, len, 1, 1.0);
                ld ref = 0;
                for (int i = 0; i < len; i++) {
                    x[i] *= scales[si];
                    ref += ((ld)x[i] / scales[si]) * ((ld)x[i] / scales[si]);
                }
                ref = sqrtl(ref) * scales[si];
                double got = sl_norm(x, (size_t)len);
                CHECK(fabsl(got - ref) <= 1e-14L * ref, "sl_norm length %d scale %g: %.17g, reference %.17Lg",
                      len, scales[si], got, ref);
            }
    }
    // eigenproblems of n = 1 .. 16, including a repeated eigenvalue and zeros
    for (int n = 1; n <= 16; n++) {
        double Y[16 * 16], G[16 * 16], w[16], ework[16];
        ld S[16 * 16], V[16 * 16], wl[16];
        gaussian_fill(rng, Y, n, n, 1.0);
        if (n >= 4)
            for (int i = 0; i < n; i++) Y[i + 2 * n] = Y[i + 1 * n], Y[i + 3 * n] = 0;   // rank n - 2
        sl_gram(Y, n, n, G);
        for (int i = 0; i < n * n; i++) S[i] = G[i];
        ld_jacobi(S, n, wl, V);
        double A0[16 * 16], A1[16 * 16], d1[16], lmax;
        memcpy(A0, G, sizeof(double) * n * n);
        memcpy(A1, G, sizeof(double) * n * n);
        CHECK(sl_sym_eig_max(A1, n, &lmax, d1, ework) == 0, "sl_sym_eig_max n = %d failed", n);
        CHECK(fabsl(lmax - wl[0]) <= 4 * n * DBL_EPSILON * wl[0],
              "sl_sym_eig_max n = %d: %.17g, Jacobi %.17Lg", n, lmax, wl[0]);
        CHECK(sl_sym_eig(G, n, w, 1, ework) == 0, "sl_sym_eig n = %d failed", n);
        for (int j = 0; j < n; j++) {
            CHECK(fabsl(w[j] - wl[j]) <= 8 * n * DBL_EPSILON * wl[0],
                  "sl_sym_eig n = %d: lambda_%d %.17g, Jacobi %.17Lg", n, j, w[j], wl[j]);
            double res = 0, nv = 0;   // ||A v - lambda v||, ||v||
            for (int i = 0; i < n; i++) {
                double t = -w[j] * G[i + j * n];
                for (int l = 0; l < n; l++) t += A0[i + l * n] * G[l + j * n];
                res += t * t, nv += G[i + j * n] * G[i + j * n];
            }
            CHECK(sqrt(res) <= 8 * n * DBL_EPSILON * wl[0] && fabs(nv - 1) <= 1e-14,
                  "sl_sym_eig n = %d: vector %d residual %g, norm^2 %.17g", n, j, sqrt(res), nv);
        }
        // sl_eig_batch on (A0: vectors, a second Gram matrix G2: vectors,
        // A0: lambda_max, G2: rank at 1e-3): the second's eigenvalues against
        // Jacobi, and every result bit for bit what the problem gets alone
        // (the interleaving must not change it)
        double Y2[16 * 16], P[4][16 * 16], G2[16 * 16], wb[4][16], eb[4][16];
        gaussian_fill(rng, Y2, n, n, 1.0);
        sl_gram(Y2, n, n, G2);
        for (int i = 0; i < n * n; i++) S[i] = G2[i];
        ld_jacobi(S, n, wl, V);
        for (int b = 0; b < 4; b++) memcpy(P[b], b % 2 ? G2 : A0, sizeof(double) * n * n);
        sl_eig batch[4] = {{.A = P[0], .n = n, .want = SL_VECTORS, .w = wb[0], .e = eb[0]},
                           {.A = P[1], .n = n, .want = SL_VECTORS, .w = wb[1], .e = eb[1]},
                           {.A = P[2], .n = n, .want = SL_MAX, .w = wb[2], .e = eb[2]},
                           {.A = P[3], .n = n, .want = SL_RANK, .rel = 1e-3, .w = wb[3], .e = eb[3]}};
        CHECK(sl_eig_batch(batch, 4) == 0, "sl_eig_batch n = %d failed", n);
        for (int j = 0; j < n; j++)
            CHECK(fabsl(wb[1][j] - wl[j]) <= 8 * n * DBL_EPSILON * wl[0],
                  "sl_eig_batch n = %d: lambda_%d %.17g, Jacobi %.17Lg", n, j, wb[1][j], wl[j]);
        int want_rank = 0;
        for (int j = 0; j < n; j++) want_rank += wl[j] > 1e-6L * wl[0];
        CHECK(batch[3].rank == want_rank, "sl_eig_batch n = %d: rank %d, Jacobi %d", n,
              batch[3].rank, want_rank);
        CHECK(memcmp(P[0], G, sizeof(double) * n * n) == 0 && memcmp(wb[0], w, sizeof(double) * n) == 0,
              "sl_eig_batch n = %d: first problem differs from sl_sym_eig", n);
        CHECK(batch[2].lmax == lmax, "sl_eig_batch n = %d: lambda_max %.17g, alone %.17g", n,
              batch[2].lmax, lmax);
        double G3[16 * 16], w3[16], e3[16];
        memcpy(G3, G2, sizeof(double) * n * n);
        CHECK(sl_gram_rank(Y2, n, n, 1e-3, G3, w3, e3) == batch[3].rank,
              "sl_eig_batch n = %d: rank differs from sl_gram_rank", n);
        sl_sym_eig(G2, n, w, 1, ework);
        CHECK(memcmp(P[1], G2, sizeof(double) * n * n) == 0 && memcmp(wb[1], w, sizeof(double) * n) == 0,
              "sl_eig_batch n = %d: second problem differs from sl_sym_eig", n);
    }
    // lambda_max of a double top eigenvalue, of graded and of zero matrices
    for (int kind = 0; kind < 3; kind++) {
        enum { n = 6 };
        double Y[n * n], G[n * n], dd[n], ee[n], lmax;
        ld S[n * n], V[n * n], wl[n];
        gaussian_fill(rng, Y, n, n, 1.0);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                if (kind == 0 && j == 1) Y[i + j * n] = Y[(i + 1) % n];   // equal top pair
                if (kind == 1) Y[i + j * n] *= pow(10.0, -3.0 * j);
                if (kind == 2) Y[i + j * n] = 0.0;
            }
        sl_gram(Y, n, n, G);
        for (int i = 0; i < n * n; i++) S[i] = G[i];
        ld_jacobi(S, n, wl, V);
        CHECK(sl_sym_eig_max(G, n, &lmax, dd, ee) == 0, "sl_sym_eig_max kind %d failed", kind);
        CHECK(fabsl(lmax - wl[0]) <= 4 * n * DBL_EPSILON * wl[0],
              "sl_sym_eig_max kind %d: %.17g, Jacobi %.17Lg", kind, lmax, wl[0]);
    }
    // sl_gram_rank: X = U diag(sv) V^T with sv graded across the 1e-6 threshold
    {
        enum { m = 9, n = 7 };
        const double sv[n] = {1.0, 3e-2, 1e-4, 2e-6, 4e-7, 1e-9, 0.0};   // rank 4 at 1e-6
        double U[m * n], V[n * n], Xs[m * n], gram[n * n], dd[n], ee[n];
        lerr e = {0};
        haar_orthonormal(rng, m, n, U, &e);
        haar_orthonormal(rng, n, n, V, &e);
        for (double scale = 1.0; scale >= 1e-12; scale *= 1e-6) {
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) {
                    double t = 0;
                    for (int a = 0; a < n; a++) t += U[i * n + a] * sv[a] * V[j * n + a];
                    Xs[i + j * m] = scale * t;
                }
            int rank = sl_gram_rank(Xs, m, n, 1e-6, gram, dd, ee);
            CHECK(rank == 4, "sl_gram_rank %d, want 4 (scale %g)", rank, scale);
        }
        memset(Xs, 0, sizeof Xs);
        CHECK(sl_gram_rank(Xs, m, n, 1e-6, gram, dd, ee) == 0, "sl_gram_rank of 0");
    }
    gsl_rng_free(rng);
}

int main(void)
{
    gsl_set_error_handler_off();
    check_kernels();
    check_rows(40, 30, 4, 8);     // the toy's r* and r (s = 12)
    check_rows(100, 80, 16, 20);  // r* = 16 (s = 36): metrics.c's SMALL_MAX_RSTAR
    return check_summary("test_small_linalg");
}
