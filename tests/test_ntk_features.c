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

int main(void)
{
    setup();
    test_operator();
    test_teacher(0);
    test_teacher(1);
    return check_summary("test_ntk_features");
}
