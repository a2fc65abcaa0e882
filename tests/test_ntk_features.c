// test_ntk_features.c: the ntk teacher's structured features (features:
// mlp, src/ntk_features.c) against materialised Jacobians (issue 17).
//
// A tiny two-layer ReLU network (d = 5 inputs, h = 4 hidden units, K = 3
// outputs) at N = 7 training and 5 test points.  The reference Phi:
// (N K, d h) is written out here by loops from the Jacobian's definition,
//   Phi[i K + c][a h + j] = d f_c(x_i) / d W1_aj = x_ia V_jc [W1^T x_i > 0]_j,
// and the dense backend is run on it.
// 1. The operator: Phi vec(D), Phi^T w and the factored gradients M B^T,
//    A^T M of both backends against naive products with that Phi, on all
//    points and on a batch of points in shuffled order; a rank above rmax
//    is refused.
// 2. The teacher on both backends (teacher_ntk_points, the same f0 and
//    targets), both losses: loss and J = -grad L (eval_dense), loss, dL/dA and
//    dL/dB (eval_factors), the curvature along dD and the test loss agree to
//    1e-12 relative, on all points and on a batch; the losses also equal a
//    naive evaluation with Phi, and the curvature central differences of J.
// 3. The convex reference min L + lambda ||delta||_* solved on both: the same
//    F*, rank and certificate.
// 4. The dense backend's kernels (four rows a pass, chunks of points taken
//    in alternating directions, the factored products without BLAS) give
//    exactly the bits of the summation orders ntk_features.c documents,
//    written here as scalar loops: Phi vec(D), Phi^T w, and a factored pass
//    (D = A B, a point rule, gA = M B^T, gB = A^T M), each twice in a row
//    (both directions), on shapes with tails (d k = 35, K = 3, r = 5; k = 37,
//    r = 9) and without (d k = 64, K = 2, r = 4), all points and a batch of
//    5; the teacher's loss and gradient have the same bits on a second
//    evaluation; a dense Phi is held on a 64-byte boundary.
#include <stdint.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "check.h"
#include "convex.h"
#include "linalg.h"
#include "ntk_features.h"
#include "random.h"
#include "teacher_ntk.h"

enum { D_ = 5, H_ = 4, K_ = 3, N_ = 7, NT_ = 5, R_ = 2, DH = D_ * H_ };
static const double TOL = 1e-12;

// max_i |a_i - b_i| / max(max_i |b_i|, 1e-300)
static double rel_diff(const double *a, const double *b, int n)
{
    double diff = 0.0, scale = 0.0;
    for (int i = 0; i < n; i++) {
        diff = fmax(diff, fabs(a[i] - b[i]));
        scale = fmax(scale, fabs(b[i]));
    }
    return diff / fmax(scale, 1e-300);
}

static void fill(double *x, int rows, int cols, const char *tag)
{
    gsl_rng *rng = stream_new(17, tag);
    gaussian_fill(rng, x, rows, cols, 1.0);
    gsl_rng_free(rng);
}

// Phi: (n K, d h) from the definition, by loops.
static void jacobians(const double *X, int n, const double *W1, const double *V, double *Phi)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < H_; j++) {
            double z = 0.0;
            for (int a = 0; a < D_; a++) z += X[i * D_ + a] * W1[a * H_ + j];
            for (int c = 0; c < K_; c++)
                for (int a = 0; a < D_; a++)
                    Phi[(size_t)(i * K_ + c) * DH + a * H_ + j] =
                        z > 0 ? X[i * D_ + a] * V[j * K_ + c] : 0.0;
        }
}

// z_b = Phi_{rows[b]} vec(D) (rows NULL: b), by loops.
static void naive_apply(const double *Phi, const int *rows, int nb, const double *D, double *z)
{
    for (int b = 0; b < nb; b++)
        for (int c = 0; c < K_; c++) {
            int i = rows ? rows[b] : b;
            double s = 0.0;
            for (int q = 0; q < DH; q++) s += Phi[(size_t)(i * K_ + c) * DH + q] * D[q];
            z[b * K_ + c] = s;
        }
}

// M = sum_b Phi_{rows[b]}^T w_b, by loops.
static void naive_adjoint(const double *Phi, const int *rows, int nb, const double *w, double *M)
{
    memset(M, 0, sizeof(double) * DH);
    for (int b = 0; b < nb; b++)
        for (int c = 0; c < K_; c++) {
            int i = rows ? rows[b] : b;
            for (int q = 0; q < DH; q++) M[q] += Phi[(size_t)(i * K_ + c) * DH + q] * w[b * K_ + c];
        }
}

// The tiny network and its points.
static double X[N_ * D_], Xt[NT_ * D_], W1[DH], V[H_ * K_];
static double Phi[N_ * K_ * DH], Phit[NT_ * K_ * DH];
static double A[D_ * R_], B[R_ * H_], Dm[DH], dDm[DH];
static double f0[N_ * K_], f0t[NT_ * K_];
static int label[N_], labelt[NT_];
static const int batch[3] = {5, 1, 3};

static void setup(void)
{
    fill(X, N_, D_, "x"), fill(Xt, NT_, D_, "xt"), fill(W1, D_, H_, "w1"), fill(V, H_, K_, "v");
    fill(A, D_, R_, "a"), fill(B, R_, H_, "b"), fill(Dm, D_, H_, "d"), fill(dDm, D_, H_, "dd");
    fill(f0, N_, K_, "f0"), fill(f0t, NT_, K_, "f0t");
    for (int i = 0; i < N_; i++) label[i] = (3 * i + 1) % K_;
    for (int i = 0; i < NT_; i++) labelt[i] = (2 * i) % K_;
    jacobians(X, N_, W1, V, Phi);
    jacobians(Xt, NT_, W1, V, Phit);
    int active = 0;   // the mask must be mixed for the test to mean anything
    for (int q = 0; q < N_ * K_ * DH; q++) active += Phi[q] != 0.0;
    CHECK(active > N_ * K_ * DH / 4 && active < N_ * K_ * DH, "degenerate ReLU mask (%d)", active);
}

static void make_features(ntk_features *F, int mlp, int test)
{
    int n = test ? NT_ : N_;
    if (mlp) {
        ntk_features_set_mlp(F, test ? Xt : X, n, D_, W1, H_, V, K_);
    } else {
        double *P = dalloc((size_t)n * K_ * DH);
        memcpy(P, test ? Phit : Phi, sizeof(double) * (size_t)n * K_ * DH);
        ntk_features_set_dense(F, P, n, K_, D_, H_);
    }
}

// The rule s_b = z_b: the pass then gives M = Phi^T Phi vec(D).
static void echo_point(void *ctx, int b, int i, double *z, const double *u, double *s)
{
    (void)ctx, (void)b, (void)i, (void)u;
    if (s) memcpy(s, z, sizeof(double) * K_);
}

// 1.
static void test_operator(void)
{
    lerr e = {0};
    for (int mlp = 0; mlp < 2; mlp++) {
        ntk_features F;
        make_features(&F, mlp, 0);
        ntk_op *op = ntk_op_new(&F, R_);
        for (int batched = 0; batched < 2; batched++) {
            const int *rows = batched ? batch : NULL;
            int nb = batched ? 3 : N_;
            ntk_op_set_rows(op, rows, nb);
            CHECK(ntk_op_points(op) == nb, "points %d", ntk_op_points(op));
            double got[N_ * K_], want[N_ * K_], w[N_ * K_], M[DH], Mw[DH], AB[DH];
            ntk_op_apply(op, Dm, got);
            naive_apply(Phi, rows, nb, Dm, want);
            CHECK(rel_diff(got, want, nb * K_) < TOL, "%s%s: Phi vec(D) off by %g",
                  mlp ? "mlp" : "dense", batched ? " batch" : "", rel_diff(got, want, nb * K_));
            fill(w, nb, K_, batched ? "wb" : "w");
            ntk_op_adjoint(op, w, M);
            naive_adjoint(Phi, rows, nb, w, Mw);
            CHECK(rel_diff(M, Mw, DH) < TOL, "%s%s: Phi^T w off by %g", mlp ? "mlp" : "dense",
                  batched ? " batch" : "", rel_diff(M, Mw, DH));
            mm('N', 'N', D_, H_, R_, 1.0, A, B, 0.0, AB);
            naive_apply(Phi, rows, nb, AB, want);
            naive_adjoint(Phi, rows, nb, want, Mw);   // s = z: M = Phi^T Phi vec(A B)
            double gA[D_ * R_], gB[R_ * H_], gAw[D_ * R_], gBw[R_ * H_];
            mm('N', 'T', D_, R_, H_, 1.0, Mw, B, 0.0, gAw);
            mm('T', 'N', R_, H_, D_, 1.0, A, Mw, 0.0, gBw);
            CHECK(!ntk_op_pass_factors(op, A, B, R_, echo_point, NULL, gA, gB, &e), "%s", e.msg);
            CHECK(rel_diff(gA, gAw, D_ * R_) < TOL && rel_diff(gB, gBw, R_ * H_) < TOL,
                  "%s%s: factored gradients off by %g, %g", mlp ? "mlp" : "dense",
                  batched ? " batch" : "", rel_diff(gA, gAw, D_ * R_), rel_diff(gB, gBw, R_ * H_));
        }
        ntk_op_set_rows(op, NULL, 0);
        CHECK(ntk_op_pass_factors(op, A, B, R_ + 1, NULL, NULL, NULL, NULL, &e) != 0 &&
                  e.kind == LERR_RUN,
              "%s: rank above rmax accepted", mlp ? "mlp" : "dense");
        ntk_op_free(op);
        ntk_features_clear(&F);
    }
}

// The teacher on one backend: targets one-hot values (squared) or the labels.
static problem *make_problem(int mlp, int ce)
{
    ntk_points tr = {0}, te = {0};
    make_features(&tr.feat, mlp, 0);
    make_features(&te.feat, mlp, 1);
    tr.f0 = dalloc(N_ * K_), te.f0 = dalloc(NT_ * K_);
    memcpy(tr.f0, f0, sizeof f0), memcpy(te.f0, f0t, sizeof f0t);
    if (ce) {
        tr.label = xcalloc(N_, sizeof(int)), te.label = xcalloc(NT_, sizeof(int));
        memcpy(tr.label, label, sizeof label), memcpy(te.label, labelt, sizeof labelt);
    } else {
        tr.y = dalloc(N_ * K_), te.y = dalloc(NT_ * K_);
        for (int i = 0; i < N_; i++) tr.y[i * K_ + label[i]] = 1.0;
        for (int i = 0; i < NT_; i++) te.y[i * K_ + labelt[i]] = 1.0;
    }
    problem *p = NULL;
    lerr e = {0};
    CHECK(!teacher_ntk_points(&tr, &te, ce, &p, &e), "%s", e.msg);
    if (!p) exit(1);
    return p;
}

// The mean loss over the points rows (NULL: all n) at D, by loops with Phi.
static double naive_loss(const double *P, const double *base, const int *lab, const int *rows,
                         int nb, const double *D, int ce)
{
    double z[N_ * K_], L = 0.0;
    naive_apply(P, rows, nb, D, z);
    for (int b = 0; b < nb; b++) {
        int i = rows ? rows[b] : b;
        double *zb = z + b * K_, sum = 0.0;
        for (int c = 0; c < K_; c++) zb[c] += base[i * K_ + c];
        for (int c = 0; c < K_; c++) {
            double t = zb[c] - (c == lab[i]);
            L += ce ? 0.0 : 0.5 * t * t;
            sum += exp(zb[c]);
        }
        if (ce) L += log(sum) - zb[lab[i]];
    }
    return L / nb;
}

// 2.
static void test_teacher(int ce)
{
    const char *loss = ce ? "cross_entropy" : "squared";
    lerr e = {0};
    problem *pd = make_problem(0, ce), *pm = make_problem(1, ce);
    model *md = model_new(pd, R_, NULL, NULL, 0, &e), *mmod = model_new(pm, R_, NULL, NULL, 0, &e);
    CHECK(md && mmod, "%s", e.msg);
    if (!md || !mmod) exit(1);
    CHECK(rel_diff(pm->G, pd->G, DH) < TOL, "%s: G = J(0) off by %g", loss,
          rel_diff(pm->G, pd->G, DH));
    for (int batched = 0; batched < 2; batched++) {
        const int *rows = batched ? batch : NULL;
        int nb = batched ? 3 : N_;
        const char *how = batched ? " (batch)" : "";
        CHECK(!model_set_batch(md, rows, nb, &e) && !model_set_batch(mmod, rows, nb, &e), "%s",
              e.msg);
        double Ld, Lm, Jd[DH], Jm[DH];
        CHECK(!model_eval_dense(md, Dm, &Ld, Jd, &e) && !model_eval_dense(mmod, Dm, &Lm, Jm, &e),
              "%s", e.msg);
        double L2, J2[DH];   // again (the dense pass runs the other way): the same bits
        CHECK(!model_eval_dense(md, Dm, &L2, J2, &e), "%s", e.msg);
        CHECK(!memcmp(&L2, &Ld, sizeof L2) && !memcmp(J2, Jd, sizeof J2),
              "%s%s: a second evaluation differs (loss %.17g vs %.17g)", loss, how, L2, Ld);
        double Lw = naive_loss(Phi, f0, label, rows, nb, Dm, ce);
        CHECK(close_rel(Ld, Lw, TOL, 0) && close_rel(Lm, Lw, TOL, 0),
              "%s%s: dense loss %.17g, mlp %.17g, naive %.17g", loss, how, Ld, Lm, Lw);
        CHECK(rel_diff(Jm, Jd, DH) < TOL, "%s%s: J off by %g", loss, how, rel_diff(Jm, Jd, DH));
        double gAd[D_ * R_], gBd[R_ * H_], gAm[D_ * R_], gBm[R_ * H_], AB[DH];
        CHECK(!model_eval_factors(md, A, B, &Ld, gAd, gBd, &e) &&
                  !model_eval_factors(mmod, A, B, &Lm, gAm, gBm, &e),
              "%s", e.msg);
        mm('N', 'N', D_, H_, R_, 1.0, A, B, 0.0, AB);
        Lw = naive_loss(Phi, f0, label, rows, nb, AB, ce);
        CHECK(close_rel(Ld, Lw, TOL, 0) && close_rel(Lm, Lw, TOL, 0),
              "%s%s: factored loss dense %.17g, mlp %.17g, naive %.17g", loss, how, Ld, Lm, Lw);
        CHECK(rel_diff(gAm, gAd, D_ * R_) < TOL && rel_diff(gBm, gBd, R_ * H_) < TOL,
              "%s%s: dL/dA off by %g, dL/dB by %g", loss, how, rel_diff(gAm, gAd, D_ * R_),
              rel_diff(gBm, gBd, R_ * H_));
        // dL/dA = -J(A B) B^T: the factored gradient against the dense one
        double J[DH], gAw[D_ * R_];
        CHECK(!model_eval_dense(md, AB, &Ld, J, &e), "%s", e.msg);
        mm('N', 'T', D_, R_, H_, -1.0, J, B, 0.0, gAw);
        CHECK(rel_diff(gAd, gAw, D_ * R_) < 1e-12, "%s%s: dL/dA != -J B^T (%g)", loss, how,
              rel_diff(gAd, gAw, D_ * R_));
        double Cd[DH], Cm[DH], Cf[DH], Dp[DH], Dn[DH], Jp[DH], Jn[DH], Lp, Ln;
        CHECK(!pd->ops->curvature_dense(md, Dm, dDm, Cd, &e) &&
                  !pm->ops->curvature_dense(mmod, Dm, dDm, Cm, &e),
              "%s", e.msg);
        CHECK(rel_diff(Cm, Cd, DH) < TOL, "%s%s: curvature off by %g", loss, how,
              rel_diff(Cm, Cd, DH));
        const double hstep = 1e-5;   // C = d/dt grad L(D + t dD) = -(J(D + h dD) - J(D - h dD)) / 2h
        for (int q = 0; q < DH; q++) Dp[q] = Dm[q] + hstep * dDm[q], Dn[q] = Dm[q] - hstep * dDm[q];
        CHECK(!model_eval_dense(md, Dp, &Lp, Jp, &e) && !model_eval_dense(md, Dn, &Ln, Jn, &e),
              "%s", e.msg);
        for (int q = 0; q < DH; q++) Cf[q] = -(Jp[q] - Jn[q]) / (2 * hstep);
        CHECK(rel_diff(Cd, Cf, DH) < 1e-7, "%s%s: curvature against differences of J: %g",
              loss, how, rel_diff(Cd, Cf, DH));
    }
    double td = model_test_loss(md, NULL, Dm), tm = model_test_loss(mmod, NULL, Dm);
    double tw = naive_loss(Phit, f0t, labelt, NULL, NT_, Dm, ce);
    CHECK(close_rel(td, tw, TOL, 0) && close_rel(tm, tw, TOL, 0),
          "%s: test loss dense %.17g, mlp %.17g, naive %.17g", loss, td, tm, tw);
    model_free(md), model_free(mmod);

    // 3.
    convex_result cd, cm;
    CHECK(!convex_solve(pd, 0.05, 20000, 1e-10, &cd, &e), "%s", e.msg);
    CHECK(!convex_solve(pm, 0.05, 20000, 1e-10, &cm, &e), "%s", e.msg);
    CHECK(cd.converged && cm.converged, "%s: not converged", loss);
    CHECK(close_rel(cm.f_star, cd.f_star, 1e-9, 0) && cm.rank_star == cd.rank_star &&
              cd.rank_star >= 1 && close_rel(cm.cert_star, cd.cert_star, 1e-6, 0),
          "%s: F* %.17g vs %.17g, rank %d vs %d, cert %g vs %g", loss, cm.f_star, cd.f_star,
          cm.rank_star, cd.rank_star, cm.cert_star, cd.cert_star);
    convex_result_free(&cd), convex_result_free(&cm);
    problem_free(pd), problem_free(pm);
}

// 4. <a, b> over n entries in the documented order: partial sum u of eight
// takes the entries j = u mod 8 below n - n mod 8, the fixed tree over them,
// plus the tail summed in order.
static double ref_dot(const double *a, const double *b, int n)
{
    double p[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int m = n - n % 8;
    for (int j = 0; j < m; j++) p[j % 8] += a[j] * b[j];
    double tail = 0.0;
    for (int j = m; j < n; j++) tail += a[j] * b[j];
    return (((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]))) + tail;
}

// The point rule of section 4: s_c = 0.75 z_c - 0.1 c + 0.01 i (or the
// weights w_b when ctx is not NULL).
static void rule_point(void *ctx, int b, int i, double *z, const double *u, double *s)
{
    (void)u;
    const int *K = ctx;
    for (int c = 0; c < *K && s; c++) s[c] = 0.75 * z[c] - 0.1 * c + 0.01 * i;
    (void)b;
}

// The pass by loops in the documented order: z_b = <row, D> (ref_dot);
// M = ((M_0 + M_1) + (M_2 + M_3)) + ((M_4 + M_5) + (M_6 + M_7)) over eight
// chunks of positions [c nb / 8, (c + 1) nb / 8), each chunk's M_c summed
// from 0 over its points and their rows in order, s by rule_point.
static void ref_pass(const double *P, int K, int dk, const int *rows, int nb, const double *D,
                     double *z, double *M)
{
    double *Mc = dalloc((size_t)8 * dk), *s = dalloc((size_t)K);
    for (int c = 0; c < 8; c++)
        for (int b = (int)((long)c * nb / 8); b < (int)((long)(c + 1) * nb / 8); b++) {
            int i = rows ? rows[b] : b;
            for (int o = 0; o < K; o++) z[b * K + o] = ref_dot(P + (size_t)(i * K + o) * dk, D, dk);
            rule_point(&K, b, i, z + b * K, NULL, s);
            for (int o = 0; o < K; o++)
                for (int j = 0; j < dk; j++)
                    Mc[c * dk + j] = Mc[c * dk + j] + s[o] * P[(size_t)(i * K + o) * dk + j];
        }
    for (int j = 0; j < dk; j++) {
        const double *m = Mc + j;
        M[j] = ((m[0] + m[dk]) + (m[2 * dk] + m[3 * dk])) +
               ((m[4 * dk] + m[5 * dk]) + (m[6 * dk] + m[7 * dk]));
    }
    free(Mc), free(s);
}

static void test_dense_bits(int n, int K, int d, int k, int r)
{
    int dk = d * k;
    double *P = dalloc((size_t)n * K * dk), *Pc = dalloc((size_t)n * K * dk);
    double *Ad = dalloc((size_t)d * r), *Bd = dalloc((size_t)r * k), *AB = dalloc(dk);
    double *z = dalloc((size_t)n * K), *zw = dalloc((size_t)n * K), *w = dalloc((size_t)n * K);
    double *M = dalloc(dk), *Mw = dalloc(dk), *Dd = dalloc(dk);
    double *gA = dalloc((size_t)d * r), *gB = dalloc((size_t)r * k);
    double *gAw = dalloc((size_t)d * r), *gBw = dalloc((size_t)r * k);
    fill(P, n * K, dk, "bits-phi"), fill(Ad, d, r, "bits-a"), fill(Bd, r, k, "bits-b");
    fill(Dd, d, k, "bits-d"), fill(w, n, K, "bits-w");
    memcpy(Pc, P, sizeof(double) * (size_t)n * K * dk);
    ntk_features F;
    ntk_features_set_dense(&F, Pc, n, K, d, k);   // (Pc: copied when not 64-byte aligned)
    CHECK((uintptr_t)F.Phi % 64 == 0 && !memcmp(F.Phi, P, sizeof(double) * (size_t)n * K * dk),
          "dense Phi not on a cache line (%p) or not the rows given", (void *)F.Phi);
    ntk_op *op = ntk_op_new(&F, r);
    static const int rows5[5] = {11, 2, 7, 0, 5};
    lerr e = {0};
    for (int batched = 0; batched < 2; batched++) {
        const int *rows = batched ? rows5 : NULL;
        int nb = batched ? 5 : n;
        ntk_op_set_rows(op, rows, nb);
        // D = A B: entry (i, j) summed from 0 over l in order
        for (int i = 0; i < d; i++)
            for (int j = 0; j < k; j++) {
                double t = 0.0;
                for (int l = 0; l < r; l++) t = t + Ad[i * r + l] * Bd[l * k + j];
                AB[i * k + j] = t;
            }
        ref_pass(P, K, dk, rows, nb, AB, zw, Mw);
        // gA_il = <M_i, B_l> (ref_dot); gB_lj summed from 0 over i in order
        for (int i = 0; i < d; i++)
            for (int l = 0; l < r; l++) gAw[i * r + l] = ref_dot(Bd + l * k, Mw + i * k, k);
        for (int l = 0; l < r; l++)
            for (int j = 0; j < k; j++) {
                double t = 0.0;
                for (int i = 0; i < d; i++) t = t + Ad[i * r + l] * Mw[i * k + j];
                gBw[l * k + j] = t;
            }
        for (int twice = 0; twice < 2; twice++) {
            const char *how = batched ? "batch" : "all points";
            CHECK(!ntk_op_pass_factors(op, Ad, Bd, r, rule_point, &K, gA, gB, &e), "%s", e.msg);
            CHECK(!memcmp(gA, gAw, sizeof(double) * d * r) &&
                      !memcmp(gB, gBw, sizeof(double) * r * k),
                  "K=%d dk=%d r=%d %s, pass %d: factored gradients not the documented bits "
                  "(off by %g, %g)", K, dk, r, how, twice, rel_diff(gA, gAw, d * r),
                  rel_diff(gB, gBw, r * k));
            ntk_op_apply(op, Dd, z);
            for (int b = 0; b < nb; b++) {
                int i = rows ? rows[b] : b;
                for (int o = 0; o < K; o++)
                    zw[b * K + o] = ref_dot(P + (size_t)(i * K + o) * dk, Dd, dk);
            }
            CHECK(!memcmp(z, zw, sizeof(double) * nb * K),
                  "K=%d dk=%d %s, pass %d: Phi vec(D) not the documented bits (off by %g)", K,
                  dk, how, twice, rel_diff(z, zw, nb * K));
            ntk_op_adjoint(op, w, M);
            // Phi^T w: the chunks' sums of w_b-weighted rows, then the tree
            double *Mc = dalloc((size_t)8 * dk);
            for (int c = 0; c < 8; c++)
                for (int b = (int)((long)c * nb / 8); b < (int)((long)(c + 1) * nb / 8); b++)
                    for (int o = 0; o < K; o++) {
                        const double *row = P + (size_t)((rows ? rows[b] : b) * K + o) * dk;
                        for (int j = 0; j < dk; j++)
                            Mc[c * dk + j] = Mc[c * dk + j] + w[b * K + o] * row[j];
                    }
            for (int j = 0; j < dk; j++) {
                const double *m = Mc + j;
                Mw[j] = ((m[0] + m[dk]) + (m[2 * dk] + m[3 * dk])) +
                        ((m[4 * dk] + m[5 * dk]) + (m[6 * dk] + m[7 * dk]));
            }
            free(Mc);
            CHECK(!memcmp(M, Mw, sizeof(double) * dk),
                  "K=%d dk=%d %s, pass %d: Phi^T w not the documented bits (off by %g)", K, dk,
                  how, twice, rel_diff(M, Mw, dk));
        }
    }
    ntk_op_free(op);
    ntk_features_clear(&F);
    free(P), free(Ad), free(Bd), free(AB), free(z), free(zw), free(w), free(M), free(Mw);
    free(Dd), free(gA), free(gB), free(gAw), free(gBw);
}

int main(void)
{
    setup();
    test_operator();
    test_teacher(0);
    test_teacher(1);
    test_dense_bits(13, 3, 5, 7, 5);
    test_dense_bits(21, 2, 4, 16, 4);
    test_dense_bits(12, 2, 3, 37, 9);
    return check_summary("test_ntk_features");
}
