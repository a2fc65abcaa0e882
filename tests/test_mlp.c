// test_mlp.c: the two-layer ReLU network's maths (src/mlp.c, issue 17).
//
// The reference throughout is a naive per-row implementation written here
// (loops over rows, hidden units and outputs; no BLAS, no blocks), and
// central finite differences of its loss or outputs (step 1e-6) on a tiny
// network, d = 5, h = 4, K = 3, N = 7, r = 2.  ReLU is piecewise linear, so
// finite differences are exact up to rounding as long as no pre-activation
// lies within the step of 0: each test checks that (min |Z| > 1e-3) at the
// points it differentiates, so it cannot pass by luck on a kink.
// 1. The losses: stable cross-entropy at logits +-1000; labels checked.
// 2. mlp_loss_grad: L against the naive loss, dL/dW1 and dL/dV against
//    finite differences, both losses, all rows and a row subset; accuracy
//    against a naive argmax count.
// 3. mlp_ft: dL/dA, dL/dB (W1 = W0 + A B) and dL/dD (W1 = W0 + D) against
//    finite differences, both losses, all rows and a batch; the factored loss
//    equals the dense loss at D = A B, and gA = gD B^T, gB = A^T gD there; the
//    one-step gradient G equals mlp_loss_grad's dL/dW1 at W0 over all rows
//    even while a batch is set; W0 is overwritten with NaN once mlp_ft_new
//    has made X W0 (it is held, never recomputed).
// 4. mlp_ntk: every structured product (Phi vec(A B), Phi vec(D), Phi^T w,
//    its factored gradients, Phi Phi^T) against Phi materialised by finite
//    differences of the naive outputs in W1.
// 5. The init's scales.  mlp_pretrain: one full-batch step equals Adam's first update written out
//    here (W1 - lr g / (|g| + eps), g the full gradient at the documented
//    init); on a separable three-class problem both losses reach train
//    accuracy >= 0.95 and lower the loss; the same seed gives the same bits
//    twice, another seed other weights; bad options are input errors.
// 6. The same gradient checks over several blocks of rows (N = 300) and a
//    batch spanning two blocks; mlp_ft_accuracy at W0 + A B, W0 + D and W0
//    against a naive count.
#include <string.h>

#include <gsl/gsl_rng.h>

#include "check.h"
#include "linalg.h"
#include "mlp.h"
#include "random.h"

enum { D_ = 5, H_ = 4, K_ = 3, N_ = 7, R_ = 2 };
static const double FD_H = 1e-6;

// f: (K) = V^T relu(W1^T x), x: (d), W1: (d, h), V: (h, K), by loops.
static void naive_forward(const double *W1, const double *V, const double *x, int d, int h,
                          int K, double *f)
{
    for (int c = 0; c < K; c++) f[c] = 0.0;
    for (int j = 0; j < h; j++) {
        double z = 0.0;
        for (int a = 0; a < d; a++) z += x[a] * W1[a * h + j];
        double hj = z > 0 ? z : 0.0;
        for (int c = 0; c < K; c++) f[c] += hj * V[j * K + c];
    }
}

// The mean loss over rows (NULL: all n rows), by loops; CE without the max shift.
static double naive_loss(const double *W1, const double *V, const double *X, const int *y, int n,
                         const int *rows, int nb, int d, int h, int K, mlp_loss loss)
{
    int m = rows ? nb : n;
    double L = 0.0, f[16];
    for (int q = 0; q < m; q++) {
        int i = rows ? rows[q] : q;
        naive_forward(W1, V, X + i * d, d, h, K, f);
        if (loss == MLP_SQUARED) {
            for (int c = 0; c < K; c++) {
                double t = f[c] - (c == y[i]);
                L += 0.5 * t * t;
            }
        } else {
            double s = 0.0;
            for (int c = 0; c < K; c++) s += exp(f[c]);
            L += log(s) - f[y[i]];
        }
    }
    return L / m;
}

// Accuracy over rows (NULL: all n), by loops: argmax of the naive outputs, first on ties.
static double naive_acc(const double *W1, const double *V, const double *X, const int *y, int n,
                        const int *rows, int nb, int d, int h, int K)
{
    int m = rows ? nb : n, right = 0;
    double f[16];
    for (int q = 0; q < m; q++) {
        int i = rows ? rows[q] : q, best = 0;
        naive_forward(W1, V, X + i * d, d, h, K, f);
        for (int c = 1; c < K; c++)
            if (f[c] > f[best]) best = c;
        right += best == y[i];
    }
    return (double)right / m;
}

// min over rows and units of |x_i^T W1_j|.
static double min_abs_preact(const double *W1, const double *X, int n, int d, int h)
{
    double mn = INFINITY;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < h; j++) {
            double z = 0.0;
            for (int a = 0; a < d; a++) z += X[i * d + a] * W1[a * h + j];
            mn = fmin(mn, fabs(z));
        }
    return mn;
}

// W: (d, h) = W0 + A B by loops (A: (d, r), B: (r, h)).
static void naive_w(const double *W0, const double *A, const double *B, int d, int r, int h,
                    double *W)
{
    for (int a = 0; a < d; a++)
        for (int j = 0; j < h; j++) {
            double s = W0[a * h + j];
            for (int q = 0; q < r; q++) s += A[a * r + q] * B[q * h + j];
            W[a * h + j] = s;
        }
}

static double max_abs_diff(const double *a, const double *b, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i] - b[i]));
    return m;
}

static double max_abs(const double *a, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i]));
    return m;
}

// The data of every test: X: (N, d) ~ N(0, 1), labels i mod K (every class present).
typedef struct {
    double X[N_ * D_];
    int y[N_];
    double W0[D_ * H_], V[H_ * K_], A[D_ * R_], B[R_ * H_], Dm[D_ * H_];
} tiny;

static void tiny_make(tiny *t, long seed)
{
    gsl_rng *rng = stream_new(seed, "test-mlp");
    gaussian_fill(rng, t->X, N_, D_, 1.0);
    gaussian_fill(rng, t->W0, D_, H_, 1.0);
    gaussian_fill(rng, t->V, H_, K_, 1.0);
    gaussian_fill(rng, t->A, D_, R_, 0.5);
    gaussian_fill(rng, t->B, R_, H_, 0.5);
    gaussian_fill(rng, t->Dm, D_, H_, 0.3);
    gsl_rng_free(rng);
    for (int i = 0; i < N_; i++) t->y[i] = i % K_;
}

static const int batch_rows_[] = {0, 2, 3, 6};
static const char *loss_name(mlp_loss l) { return l == MLP_SQUARED ? "squared" : "cross_entropy"; }

// 1.
static void test_losses(void)
{
    double F[] = {1000.0, 0.0, -1000.0}, dF[3];
    int y0 = 0, y1 = 1;
    double L = mlp_output_loss(MLP_CROSS_ENTROPY, F, &y0, 1, 3, 1.0, dF);
    CHECK(isfinite(L) && fabs(L) < 1e-12, "CE at the right logit 1000: %g", L);
    L = mlp_output_loss(MLP_CROSS_ENTROPY, F, &y1, 1, 3, 0.5, dF);
    CHECK(close_rel(L, 500.0, 1e-12, 1.0), "CE at a logit 1000 below: %g (want 500)", L);
    CHECK(close_rel(dF[0], 0.5, 1e-12, 1.0) && close_rel(dF[1], -0.5, 1e-12, 1.0) &&
              fabs(dF[2]) < 1e-300,
          "CE gradient (%g, %g, %g)", dF[0], dF[1], dF[2]);
    double G[] = {0.5, 2.0, -1.0};
    L = mlp_output_loss(MLP_SQUARED, G, &y1, 1, 3, 1.0, dF);
    CHECK(close_rel(L, 0.5 * (0.25 + 1.0 + 1.0), 1e-15, 1.0), "squared loss %g", L);
    CHECK(dF[0] == 0.5 && dF[1] == 1.0 && dF[2] == -1.0, "squared gradient");
    mlp_loss l;
    CHECK(!mlp_loss_find("cross_entropy", &l) && l == MLP_CROSS_ENTROPY, "loss name");
    CHECK(mlp_loss_find("hinge", &l) == -1, "unknown loss name accepted");
    int bad[] = {0, 2, 3};
    lerr e = {0};
    CHECK(mlp_check_labels(bad, 3, 3, "t", &e) && e.kind == LERR_INPUT && strstr(e.msg, "row 2"),
          "label 3 of 3 classes: %s", e.msg);
    double X[3] = {1, 2, 3}, W0[1] = {1}, V[3] = {1, 1, 1};
    mlp_ft *ft = NULL;
    e = (lerr){0};
    CHECK(mlp_ft_new(X, bad, 3, 1, W0, 1, V, 3, MLP_SQUARED, 1, &ft, &e) && e.kind == LERR_INPUT &&
              !ft, "mlp_ft_new accepted label 3 of 3 classes");
}

// 2.
static void test_network(mlp_loss loss, int batched)
{
    tiny t;
    tiny_make(&t, 1);
    const int *rows = batched ? batch_rows_ : NULL;
    int nb = batched ? 4 : 0;
    CHECK(min_abs_preact(t.W0, t.X, N_, D_, H_) > 1e-3, "a pre-activation near the kink");
    mlp_net *net = mlp_net_new(D_, H_, K_);
    memcpy(net->W1, t.W0, sizeof t.W0);
    memcpy(net->V, t.V, sizeof t.V);
    mlp_work *w = mlp_work_new(D_, H_, K_);
    double L, gW[D_ * H_], gV[H_ * K_];
    mlp_loss_grad(net, loss, t.X, t.y, N_, rows, nb, w, &L, gW, gV);
    double Ln = naive_loss(t.W0, t.V, t.X, t.y, N_, rows, nb, D_, H_, K_, loss);
    CHECK(close_rel(L, Ln, 1e-13, 1e-300), "%s batch %d: loss %.17g, naive %.17g",
          loss_name(loss), batched, L, Ln);
    double worst = 0.0;
    for (int i = 0; i < D_ * H_; i++) {   // every entry of W1
        double W[D_ * H_];
        memcpy(W, t.W0, sizeof W);
        W[i] += FD_H;
        double fp = naive_loss(W, t.V, t.X, t.y, N_, rows, nb, D_, H_, K_, loss);
        W[i] -= 2 * FD_H;
        double fm = naive_loss(W, t.V, t.X, t.y, N_, rows, nb, D_, H_, K_, loss);
        worst = fmax(worst, fabs((fp - fm) / (2 * FD_H) - gW[i]));
    }
    CHECK(worst < 1e-7 && max_abs(gW, D_ * H_) > 1e-3, "%s batch %d: dL/dW1 off by %g",
          loss_name(loss), batched, worst);
    worst = 0.0;
    for (int i = 0; i < H_ * K_; i++) {
        double V[H_ * K_];
        memcpy(V, t.V, sizeof V);
        V[i] += FD_H;
        double fp = naive_loss(t.W0, V, t.X, t.y, N_, rows, nb, D_, H_, K_, loss);
        V[i] -= 2 * FD_H;
        double fm = naive_loss(t.W0, V, t.X, t.y, N_, rows, nb, D_, H_, K_, loss);
        worst = fmax(worst, fabs((fp - fm) / (2 * FD_H) - gV[i]));
    }
    CHECK(worst < 1e-7 && max_abs(gV, H_ * K_) > 1e-3, "%s batch %d: dL/dV off by %g",
          loss_name(loss), batched, worst);
    if (!batched) {   // accuracy against a naive count
        int right = 0;
        for (int i = 0; i < N_; i++) {
            double f[K_];
            naive_forward(t.W0, t.V, t.X + i * D_, D_, H_, K_, f);
            int best = 0;
            for (int c = 1; c < K_; c++)
                if (f[c] > f[best]) best = c;
            right += best == t.y[i];
        }
        double acc = mlp_accuracy(net, t.X, t.y, N_, w);
        CHECK(acc == (double)right / N_, "accuracy %g, naive %d/%d", acc, right, N_);
        double F[N_ * K_], f[K_];
        mlp_forward(net, t.X, N_, w, F);
        naive_forward(t.W0, t.V, t.X + 6 * D_, D_, H_, K_, f);
        CHECK(max_abs_diff(F + 6 * K_, f, K_) < 1e-13, "forward of row 6");
    }
    mlp_work_free(w);
    mlp_net_free(net);
}

// 3.  Loss as a function of A (which = 0), B (1) or D (2) at the tiny point.
static double ft_naive(const tiny *t, const double *A, const double *B, const double *Dm,
                       int which, const int *rows, int nb, mlp_loss loss)
{
    double W[D_ * H_];
    if (which == 2) {
        for (int i = 0; i < D_ * H_; i++) W[i] = t->W0[i] + Dm[i];
    } else {
        naive_w(t->W0, A, B, D_, R_, H_, W);
    }
    return naive_loss(W, t->V, t->X, t->y, N_, rows, nb, D_, H_, K_, loss);
}

static double ft_fd_error(const tiny *t, int which, const double *g, const int *rows, int nb,
                          mlp_loss loss)
{
    double A[D_ * R_], B[R_ * H_], Dm[D_ * H_];
    memcpy(A, t->A, sizeof A), memcpy(B, t->B, sizeof B), memcpy(Dm, t->Dm, sizeof Dm);
    double *x = which == 0 ? A : which == 1 ? B : Dm;
    int n = which == 0 ? D_ * R_ : which == 1 ? R_ * H_ : D_ * H_;
    double worst = 0.0;
    for (int i = 0; i < n; i++) {
        double x0 = x[i];
        x[i] = x0 + FD_H;
        double fp = ft_naive(t, A, B, Dm, which, rows, nb, loss);
        x[i] = x0 - FD_H;
        double fm = ft_naive(t, A, B, Dm, which, rows, nb, loss);
        x[i] = x0;
        worst = fmax(worst, fabs((fp - fm) / (2 * FD_H) - g[i]));
    }
    return worst;
}

static void test_finetune(mlp_loss loss, int batched)
{
    tiny t;
    tiny_make(&t, 2);
    const int *rows = batched ? batch_rows_ : NULL;
    int nb = batched ? 4 : 0;
    double W[D_ * H_];
    naive_w(t.W0, t.A, t.B, D_, R_, H_, W);
    CHECK(min_abs_preact(W, t.X, N_, D_, H_) > 1e-3, "W0 + A B: pre-activation near the kink");
    for (int i = 0; i < D_ * H_; i++) W[i] = t.W0[i] + t.Dm[i];
    CHECK(min_abs_preact(W, t.X, N_, D_, H_) > 1e-3, "W0 + D: pre-activation near the kink");
    mlp_ft *ft;
    lerr e = {0};
    double W0c[D_ * H_];   // X W0 is made once: W0 is not read afterwards
    memcpy(W0c, t.W0, sizeof W0c);
    if (mlp_ft_new(t.X, t.y, N_, D_, W0c, H_, t.V, K_, loss, R_, &ft, &e)) {
        CHECK(0, "mlp_ft_new: %s", e.msg);
        return;
    }
    for (int i = 0; i < D_ * H_; i++) W0c[i] = NAN;
    mlp_ft_set_batch(ft, rows, nb);
    double L, gA[D_ * R_], gB[R_ * H_], gD[D_ * H_];
    CHECK(!mlp_ft_eval_factors(ft, t.A, t.B, R_, &L, gA, gB, &e), "%s", e.msg);
    double Ln = ft_naive(&t, t.A, t.B, NULL, 0, rows, nb, loss);
    CHECK(close_rel(L, Ln, 1e-13, 1e-300), "%s batch %d: factored loss %.17g, naive %.17g",
          loss_name(loss), batched, L, Ln);
    double ea = ft_fd_error(&t, 0, gA, rows, nb, loss), eb = ft_fd_error(&t, 1, gB, rows, nb, loss);
    CHECK(ea < 1e-7 && max_abs(gA, D_ * R_) > 1e-3, "%s batch %d: dL/dA off by %g",
          loss_name(loss), batched, ea);
    CHECK(eb < 1e-7 && max_abs(gB, R_ * H_) > 1e-3, "%s batch %d: dL/dB off by %g",
          loss_name(loss), batched, eb);
    mlp_ft_eval_dense(ft, t.Dm, &L, gD);
    Ln = ft_naive(&t, NULL, NULL, t.Dm, 2, rows, nb, loss);
    CHECK(close_rel(L, Ln, 1e-13, 1e-300), "%s batch %d: dense loss %.17g, naive %.17g",
          loss_name(loss), batched, L, Ln);
    double ed = ft_fd_error(&t, 2, gD, rows, nb, loss);
    CHECK(ed < 1e-7 && max_abs(gD, D_ * H_) > 1e-3, "%s batch %d: dL/dD off by %g",
          loss_name(loss), batched, ed);
    // Factored = dense at D = A B, and the chain rule between them.
    double AB[D_ * H_], zero[D_ * H_] = {0}, Lf, Ld, gAd[D_ * R_], gBd[R_ * H_];
    naive_w(zero, t.A, t.B, D_, R_, H_, AB);
    CHECK(!mlp_ft_eval_factors(ft, t.A, t.B, R_, &Lf, gA, gB, &e), "%s", e.msg);
    mlp_ft_eval_dense(ft, AB, &Ld, gD);
    CHECK(close_rel(Lf, Ld, 1e-14, 1e-300), "%s batch %d: factored %.17g != dense %.17g at D = AB",
          loss_name(loss), batched, Lf, Ld);
    mm('N', 'T', D_, R_, H_, 1.0, gD, t.B, 0.0, gAd);
    mm('T', 'N', R_, H_, D_, 1.0, t.A, gD, 0.0, gBd);
    CHECK(max_abs_diff(gA, gAd, D_ * R_) < 1e-13 && max_abs_diff(gB, gBd, R_ * H_) < 1e-13,
          "%s batch %d: gA != gD B^T or gB != A^T gD", loss_name(loss), batched);
    // G over all rows, even with a batch set; the batch stays set.
    double G[D_ * H_], gW[D_ * H_], gV[H_ * K_], Lnet;
    mlp_ft_full_gradient(ft, G);
    mlp_net *net = mlp_net_new(D_, H_, K_);
    memcpy(net->W1, t.W0, sizeof t.W0);
    memcpy(net->V, t.V, sizeof t.V);
    mlp_work *w = mlp_work_new(D_, H_, K_);
    mlp_loss_grad(net, loss, t.X, t.y, N_, NULL, 0, w, &Lnet, gW, gV);
    CHECK(max_abs_diff(G, gW, D_ * H_) < 1e-14 && max_abs(G, D_ * H_) > 1e-3,
          "%s batch %d: G differs from dL/dW1 at W0 by %g", loss_name(loss), batched,
          max_abs_diff(G, gW, D_ * H_));
    CHECK(!mlp_ft_eval_factors(ft, t.A, t.B, R_, &L, NULL, NULL, &e), "%s", e.msg);
    CHECK(mlp_ft_eval_factors(ft, t.A, t.B, R_ + 1, &L, NULL, NULL, &e) && e.kind == LERR_RUN,
          "rank above rmax accepted");
    CHECK(L == Lf, "%s batch %d: the batch was not restored after G", loss_name(loss), batched);
    mlp_work_free(w);
    mlp_net_free(net);
    mlp_ft_free(ft);
}

// 4.  Phi: (N K, d h) by central differences of the naive outputs in W1.
static void test_ntk(void)
{
    tiny t;
    tiny_make(&t, 3);
    enum { NK = N_ * K_, DH = D_ * H_ };
    CHECK(min_abs_preact(t.W0, t.X, N_, D_, H_) > 1e-3, "a pre-activation near the kink");
    static double Phi[NK * DH];
    for (int q = 0; q < DH; q++) {
        double W[DH];
        memcpy(W, t.W0, sizeof W);
        for (int i = 0; i < N_; i++) {
            double fp[K_], fm[K_];
            W[q] = t.W0[q] + FD_H;
            naive_forward(W, t.V, t.X + i * D_, D_, H_, K_, fp);
            W[q] = t.W0[q] - FD_H;
            naive_forward(W, t.V, t.X + i * D_, D_, H_, K_, fm);
            W[q] = t.W0[q];
            for (int c = 0; c < K_; c++) Phi[(i * K_ + c) * DH + q] = (fp[c] - fm[c]) / (2 * FD_H);
        }
    }
    mlp_ntk *nt = mlp_ntk_new(t.X, N_, D_, t.W0, H_, t.V, K_, R_);
    lerr e = {0};
    double AB[DH], zero[DH] = {0}, want[NK], got[NK];
    naive_w(zero, t.A, t.B, D_, R_, H_, AB);
    mm('N', 'N', NK, 1, DH, 1.0, Phi, AB, 0.0, want);
    CHECK(!mlp_ntk_apply_factors(nt, t.A, t.B, R_, got, &e), "%s", e.msg);
    CHECK(max_abs_diff(got, want, NK) < 1e-8 && max_abs(want, NK) > 1e-2,
          "Phi vec(A B) off by %g", max_abs_diff(got, want, NK));
    mm('N', 'N', NK, 1, DH, 1.0, Phi, t.Dm, 0.0, want);
    mlp_ntk_apply_dense(nt, t.Dm, got);
    CHECK(max_abs_diff(got, want, NK) < 1e-8 && max_abs(want, NK) > 1e-2,
          "Phi vec(D) off by %g", max_abs_diff(got, want, NK));
    double wv[NK], M[DH], Mw[DH], gA[D_ * R_], gB[R_ * H_], gAw[D_ * R_], gBw[R_ * H_];
    gsl_rng *rng = stream_new(3, "test-mlp-w");
    gaussian_fill(rng, wv, N_, K_, 1.0);
    gsl_rng_free(rng);
    mm('T', 'N', DH, 1, NK, 1.0, Phi, wv, 0.0, Mw);
    mlp_ntk_adjoint(nt, wv, M);
    CHECK(max_abs_diff(M, Mw, DH) < 1e-8 && max_abs(Mw, DH) > 1e-2, "Phi^T w off by %g",
          max_abs_diff(M, Mw, DH));
    mm('N', 'T', D_, R_, H_, 1.0, Mw, t.B, 0.0, gAw);
    mm('T', 'N', R_, H_, D_, 1.0, t.A, Mw, 0.0, gBw);
    CHECK(!mlp_ntk_adjoint_factors(nt, wv, t.A, t.B, R_, gA, gB, &e), "%s", e.msg);
    CHECK(mlp_ntk_adjoint_factors(nt, wv, t.A, t.B, R_ + 1, gA, gB, &e) && e.kind == LERR_RUN,
          "rank above rmax accepted");
    CHECK(max_abs_diff(gA, gAw, D_ * R_) < 1e-8 && max_abs_diff(gB, gBw, R_ * H_) < 1e-8,
          "factored Phi^T w: gA off by %g, gB by %g", max_abs_diff(gA, gAw, D_ * R_),
          max_abs_diff(gB, gBw, R_ * H_));
    static double Kw[NK * NK], Kg[NK * NK];
    mm('N', 'T', NK, NK, DH, 1.0, Phi, Phi, 0.0, Kw);
    mlp_ntk_gram(nt, Kg);
    CHECK(max_abs_diff(Kg, Kw, NK * NK) < 1e-7 * max_abs(Kw, NK * NK),
          "Phi Phi^T off by %g (scale %g)", max_abs_diff(Kg, Kw, NK * NK), max_abs(Kw, NK * NK));
    mlp_ntk_free(nt);
}

// 5.  Three Gaussian clusters x = 3 e_y + 0.5 N(0, I) in d = 5.
enum { PN = 150, PD = 5, PH = 16, PK = 3 };

static void cluster_data(double *X, int *y)
{
    gsl_rng *rng = stream_new(5, "test-mlp-clusters");
    gaussian_fill(rng, X, PN, PD, 0.5);
    gsl_rng_free(rng);
    for (int i = 0; i < PN; i++) {
        y[i] = (i * 7) % PK;
        X[i * PD + y[i]] += 3.0;
    }
}

// The documented init: W1 ~ N(0, 2/d), V ~ N(0, 1/h) (the rms of 2000 and
// 400 draws within 10%: 2.9 and 7 standard errors), the same for a seed.
static void test_init(void)
{
    int d = 50, h = 40, K = 10;
    mlp_net *a = mlp_net_new(d, h, K), *b = mlp_net_new(d, h, K);
    mlp_net_init(a, 3);
    mlp_net_init(b, 3);
    double sw = 0.0, sv = 0.0;
    for (int i = 0; i < d * h; i++) sw += a->W1[i] * a->W1[i];
    for (int i = 0; i < h * K; i++) sv += a->V[i] * a->V[i];
    sw = sqrt(sw / (d * h)), sv = sqrt(sv / (h * K));
    CHECK(fabs(sw / sqrt(2.0 / d) - 1.0) < 0.1, "W1 rms %g, want %g", sw, sqrt(2.0 / d));
    CHECK(fabs(sv / sqrt(1.0 / h) - 1.0) < 0.1, "V rms %g, want %g", sv, sqrt(1.0 / h));
    CHECK(!memcmp(a->W1, b->W1, sizeof(double) * d * h) &&
              !memcmp(a->V, b->V, sizeof(double) * h * K), "init not reproducible");
    mlp_net_free(a), mlp_net_free(b);
}

static void test_pretrain_step(void)
{
    static double X[PN * PD];
    static int y[PN];
    cluster_data(X, y);
    mlp_pretrain_opts o = {.epochs = 1, .batch = PN, .lr = 0.01, .seed = 11,
                           .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
    mlp_net *net = mlp_net_new(PD, PH, PK), *ref = mlp_net_new(PD, PH, PK);
    mlp_work *w = mlp_work_new(PD, PH, PK);
    lerr e = {0};
    CHECK(!mlp_pretrain(net, MLP_CROSS_ENTROPY, X, y, PN, &o, NULL, NULL, &e), "%s", e.msg);
    // Adam's first update from zero moments: mhat = g, vhat = g^2.
    mlp_net_init(ref, 11);
    double L, gW[PD * PH], gV[PH * PK];
    mlp_loss_grad(ref, MLP_CROSS_ENTROPY, X, y, PN, NULL, 0, w, &L, gW, gV);
    for (int i = 0; i < PD * PH; i++) ref->W1[i] -= 0.01 * gW[i] / (fabs(gW[i]) + 1e-8);
    for (int i = 0; i < PH * PK; i++) ref->V[i] -= 0.01 * gV[i] / (fabs(gV[i]) + 1e-8);
    CHECK(max_abs_diff(net->W1, ref->W1, PD * PH) < 1e-15 &&
              max_abs_diff(net->V, ref->V, PH * PK) < 1e-15,
          "one full-batch step: W1 off by %g, V by %g", max_abs_diff(net->W1, ref->W1, PD * PH),
          max_abs_diff(net->V, ref->V, PH * PK));
    // Bad options are input errors.
    mlp_pretrain_opts bad = o;
    bad.batch = PN + 1;
    e = (lerr){0};
    CHECK(mlp_pretrain(net, MLP_SQUARED, X, y, PN, &bad, NULL, NULL, &e) && e.kind == LERR_INPUT,
          "batch > N accepted");
    bad = o, bad.lr = -1;
    e = (lerr){0};
    CHECK(mlp_pretrain(net, MLP_SQUARED, X, y, PN, &bad, NULL, NULL, &e) && e.kind == LERR_INPUT,
          "lr < 0 accepted");
    mlp_work_free(w);
    mlp_net_free(net), mlp_net_free(ref);
}

static void test_pretrain(mlp_loss loss)
{
    static double X[PN * PD];
    static int y[PN];
    cluster_data(X, y);
    mlp_pretrain_opts o = {.epochs = 30, .batch = 16, .lr = 0.01, .seed = 7,
                           .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
    mlp_net *a = mlp_net_new(PD, PH, PK), *b = mlp_net_new(PD, PH, PK);
    mlp_work *w = mlp_work_new(PD, PH, PK);
    double L0, La, Lb, acc_a, acc_b, acc0;
    mlp_net_init(a, 7);
    mlp_loss_grad(a, loss, X, y, PN, NULL, 0, w, &L0, NULL, NULL);
    acc0 = mlp_accuracy(a, X, y, PN, w);
    lerr e = {0};
    CHECK(!mlp_pretrain(a, loss, X, y, PN, &o, &La, &acc_a, &e), "%s", e.msg);
    CHECK(!mlp_pretrain(b, loss, X, y, PN, &o, &Lb, &acc_b, &e), "%s", e.msg);
    printf("%s: init loss %.4f acc %.3f -> loss %.4f acc %.3f\n", loss_name(loss), L0, acc0, La,
           acc_a);
    CHECK(acc_a >= 0.95, "%s: train accuracy %g < 0.95", loss_name(loss), acc_a);
    CHECK(La < 0.5 * L0, "%s: loss %g not below half the initial %g", loss_name(loss), La, L0);
    CHECK(!memcmp(a->W1, b->W1, sizeof(double) * PD * PH) &&
              !memcmp(a->V, b->V, sizeof(double) * PH * PK) && La == Lb && acc_a == acc_b,
          "%s: the same seed gave different bits", loss_name(loss));
    o.seed = 8;
    CHECK(!mlp_pretrain(b, loss, X, y, PN, &o, &Lb, &acc_b, &e), "%s", e.msg);
    CHECK(memcmp(a->W1, b->W1, sizeof(double) * PD * PH) != 0, "%s: seed 8 gave seed 7's weights",
          loss_name(loss));
    mlp_work_free(w);
    mlp_net_free(a), mlp_net_free(b);
}

// 6.  Several blocks: N = 300 rows (blocks of MLP_ROWS = 128: 128, 128, 44) and
// a batch of the 150 even rows (128, 22), so the sums across blocks and the
// gathered batch blocks are checked too.  Loss as a function of one argument:
// which = 0 A, 1 B, 2 D (W1 = W0 + A B or W0 + D), 3 W1 (= W0 + D), 4 V.
enum { BN = 300, BB = 150 };
typedef struct {
    const double *X;
    const int *y, *rows;
    int nb;
    mlp_loss loss;
    const double *W0;
    double *A, *B, *Dm, *V;
} fd_ctx;

static double ctx_loss(const fd_ctx *c, int which)
{
    double W[D_ * H_];
    if (which == 0 || which == 1) naive_w(c->W0, c->A, c->B, D_, R_, H_, W);
    else
        for (int i = 0; i < D_ * H_; i++) W[i] = c->W0[i] + c->Dm[i];
    return naive_loss(W, c->V, c->X, c->y, BN, c->rows, c->nb, D_, H_, K_, c->loss);
}

// max_i |central difference in x[i] - g[i]| over the n entries of x (one of c's arrays).
static double ctx_fd(const fd_ctx *c, int which, double *x, int n, const double *g)
{
    double worst = 0.0;
    for (int i = 0; i < n; i++) {
        double x0 = x[i];
        x[i] = x0 + FD_H;
        double fp = ctx_loss(c, which);
        x[i] = x0 - FD_H;
        double fm = ctx_loss(c, which);
        x[i] = x0;
        worst = fmax(worst, fabs((fp - fm) / (2 * FD_H) - g[i]));
    }
    return worst;
}

static void test_blocks(mlp_loss loss)
{
    tiny t;
    tiny_make(&t, 4);
    static double X[BN * D_];
    static int y[BN], rows[BB];
    gsl_rng *rng = stream_new(4, "test-mlp-blocks");
    gaussian_fill(rng, X, BN, D_, 1.0);
    gsl_rng_free(rng);
    for (int i = 0; i < BN; i++) y[i] = (i * 5) % K_;
    for (int i = 0; i < BB; i++) rows[i] = 2 * i;
    double W[D_ * H_];
    naive_w(t.W0, t.A, t.B, D_, R_, H_, W);
    CHECK(min_abs_preact(W, X, BN, D_, H_) > 1e-4, "W0 + A B: pre-activation near the kink");
    for (int i = 0; i < D_ * H_; i++) W[i] = t.W0[i] + t.Dm[i];
    CHECK(min_abs_preact(W, X, BN, D_, H_) > 1e-4, "W0 + D: pre-activation near the kink");
    mlp_ft *ft;
    lerr e = {0};
    if (mlp_ft_new(X, y, BN, D_, t.W0, H_, t.V, K_, loss, R_, &ft, &e)) {
        CHECK(0, "mlp_ft_new: %s", e.msg);
        return;
    }
    mlp_net *net = mlp_net_new(D_, H_, K_);
    mlp_work *w = mlp_work_new(D_, H_, K_);
    for (int batched = 0; batched < 2; batched++) {
        fd_ctx c = {X, y, batched ? rows : NULL, batched ? BB : 0, loss, t.W0,
                    t.A, t.B, t.Dm, t.V};
        double L, gA[D_ * R_], gB[R_ * H_], gD[D_ * H_], gV[H_ * K_];
        mlp_ft_set_batch(ft, c.rows, c.nb);
        CHECK(!mlp_ft_eval_factors(ft, t.A, t.B, R_, &L, gA, gB, &e), "%s", e.msg);
        CHECK(close_rel(L, ctx_loss(&c, 0), 1e-13, 1e-300), "%s batch %d: factored loss %.17g",
              loss_name(loss), batched, L);
        double ea = ctx_fd(&c, 0, t.A, D_ * R_, gA), eb = ctx_fd(&c, 1, t.B, R_ * H_, gB);
        // Rounding in the naive loss's sum of N terms: about N eps L / FD_H.
        double tol = 1e-7 * fmax(1.0, L);
        CHECK(ea < tol && eb < tol, "%s batch %d, %d rows: dL/dA off by %g, dL/dB by %g (L = %g)",
              loss_name(loss), batched, batched ? BB : BN, ea, eb, L);
        mlp_ft_eval_dense(ft, t.Dm, &L, gD);
        CHECK(close_rel(L, ctx_loss(&c, 2), 1e-13, 1e-300), "%s batch %d: dense loss %.17g",
              loss_name(loss), batched, L);
        double ed = ctx_fd(&c, 2, t.Dm, D_ * H_, gD);
        CHECK(ed < 1e-7 * fmax(1.0, L), "%s batch %d: dL/dD off by %g", loss_name(loss), batched, ed);
        // The whole network at W1 = W0 + D: both layers.
        double gW[D_ * H_];
        for (int i = 0; i < D_ * H_; i++) net->W1[i] = W[i];
        memcpy(net->V, t.V, sizeof t.V);
        mlp_loss_grad(net, loss, X, y, BN, c.rows, c.nb, w, &L, gW, gV);
        CHECK(close_rel(L, ctx_loss(&c, 3), 1e-13, 1e-300), "%s batch %d: network loss %.17g",
              loss_name(loss), batched, L);
        double ew = ctx_fd(&c, 3, t.Dm, D_ * H_, gW), ev = ctx_fd(&c, 4, t.V, H_ * K_, gV);
        CHECK(ew < 1e-7 * fmax(1.0, L) && ev < 1e-7 * fmax(1.0, L), "%s batch %d: dL/dW1 off by %g, dL/dV by %g",
              loss_name(loss), batched, ew, ev);
        // Accuracy at W0 + A B, W0 + D (= W here) and W0 against a naive count.
        double acc, Wab[D_ * H_];
        naive_w(t.W0, t.A, t.B, D_, R_, H_, Wab);
        double want[3] = {naive_acc(Wab, t.V, X, y, BN, c.rows, c.nb, D_, H_, K_),
                          naive_acc(W, t.V, X, y, BN, c.rows, c.nb, D_, H_, K_),
                          naive_acc(t.W0, t.V, X, y, BN, c.rows, c.nb, D_, H_, K_)};
        CHECK(!mlp_ft_accuracy(ft, t.A, t.B, R_, NULL, &acc, &e) && acc == want[0],
              "%s batch %d: accuracy at W0 + A B %g, naive %g", loss_name(loss), batched, acc,
              want[0]);
        CHECK(!mlp_ft_accuracy(ft, NULL, NULL, 0, t.Dm, &acc, &e) && acc == want[1],
              "%s batch %d: accuracy at W0 + D %g, naive %g", loss_name(loss), batched, acc, want[1]);
        CHECK(!mlp_ft_accuracy(ft, NULL, NULL, 0, NULL, &acc, &e) && acc == want[2],
              "%s batch %d: accuracy at W0 %g, naive %g", loss_name(loss), batched, acc, want[2]);
        CHECK(want[0] != want[1] || want[1] != want[2], "the three accuracies coincide (%g)",
              want[0]);
    }
    mlp_work_free(w);
    mlp_net_free(net);
    mlp_ft_free(ft);
}

int main(void)
{
    test_losses();
    for (int l = 0; l < 2; l++)
        for (int batched = 0; batched < 2; batched++) {
            test_network((mlp_loss)l, batched);
            test_finetune((mlp_loss)l, batched);
        }
    test_blocks(MLP_SQUARED);
    test_blocks(MLP_CROSS_ENTROPY);
    test_ntk();
    test_init();
    test_pretrain_step();
    test_pretrain(MLP_SQUARED);
    test_pretrain(MLP_CROSS_ENTROPY);
    return check_summary("test_mlp");
}
