// test_optim.c: the Adam family of optimisers (src/optim.c) against updates
// worked out independently, on the 2 x 2 problem
//   L(A, B) = 1/2 ||A B - T||_F^2,  A, B: (2, 2),  gA = (A B - T) B^T,  gB = A^T (A B - T)
// whose gradients this file computes itself, scalar by scalar.
//
// Settings: eta = 0.1, lr_ratio rho = 2 (B steps with 0.2), wd = 0.05,
// beta1 = 0.9, beta2 = 0.99, eps = 0.01, damping lambda = 0.1 (eps and beta2
// are chosen large enough that misplacing eps or the bias correction shows).
//
// 1. adam, adamw, precadamw: two steps against the closed form of two Adam
//    steps from m = v = 0 (not the recursion optim.c runs): with the
//    effective gradients g1, g2 of steps 1 and 2,
//      x1 = (1 - eta wd_dec) x0 - eta g1 / (|g1| + eps)
//      x2 = (1 - eta wd_dec) x1 - eta mh / (sqrt(vh) + eps),
//      mh = (beta1 g1 + g2) / (1 + beta1),  vh = (beta2 g1^2 + g2^2) / (1 + beta2)
//    (m2 / (1 - beta1^2) = (1 - beta1)(beta1 g1 + g2) / (1 - beta1^2), the
//    same for v), where g = gradient + wd x for adam (coupled; wd_dec = 0) and
//    g = gradient, wd_dec = wd for adamw and precadamw (decoupled).  For
//    precadamw the gradient is first multiplied by explicit 2 x 2 inverses
//    (adjugate / determinant) of B B^T + lambda I (right of gA) and
//    A^T A + lambda I (left of gB).  The steps are called with t = 41 and 7:
//    the bias correction must count the optimiser's own updates (1, 2).
// 2. The same final (A, B) as literals from a plain-python run of the
//    textbook recursive Adam (17 digits; the script's loop is the recursion
//    m <- b1 m + (1 - b1) g, v <- b2 v + (1 - b2) g^2, x <- x (1 - eta wd_dec)
//    - eta (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps), with the settings
//    and start below).
// 3. Coupled vs decoupled weight decay: with wd = 0 adam and adamw agree to
//    the last bit; with wd = 0.05 they differ (by more than 1e-3 after two
//    steps), each as its own closed form says.
// 4. full-adam, full-adamw on L = 1/2 ||D - T||^2 from D = 0 (J = T - D):
//    closed form and python literals, as in 1 and 2.
// 5. precgd (whose preconditioning precadamw shares) against the explicit
//    inverses: A1 = A0 - eta (gA + wd A0) PA^{-1}, B1 = B0 - rho eta PB^{-1} (gB + wd B0).
// 6. Weight decay is counted once: the ntk teacher, whose objective holds
//    (wd/2)(|A|^2 + |B|^2), returns the same loss gradients whatever the
//    model's wd (train.c sets it from optimizer.weight_decay), so the decay
//    the optimisers add is the only one.
#include <string.h>

#include "check.h"
#include "linalg.h"
#include "optim.h"
#include "problem.h"

enum { N = 4 };   // entries of a 2 x 2 matrix, row-major

static const double A0[N] = {1.0, 0.5, -0.3, 0.8};
static const double B0[N] = {0.2, -0.1, 0.4, 0.3};
static const double T[N] = {1.0, 2.0, 0.0, -1.0};
static const double ETA = 0.1, RHO = 2.0, WD = 0.05, B1 = 0.9, B2 = 0.99, EPS = 0.01,
                    LAM = 0.1;

static void mul2(const double *X, const double *Y, double *Z)   // Z = X Y
{
    Z[0] = X[0] * Y[0] + X[1] * Y[2];
    Z[1] = X[0] * Y[1] + X[1] * Y[3];
    Z[2] = X[2] * Y[0] + X[3] * Y[2];
    Z[3] = X[2] * Y[1] + X[3] * Y[3];
}

static void tr2(const double *X, double *Y)   // Y = X^T
{
    Y[0] = X[0], Y[1] = X[2], Y[2] = X[1], Y[3] = X[3];
}

static void inv2(const double *X, double *Y)   // Y = X^{-1} (adjugate / determinant)
{
    double det = X[0] * X[3] - X[1] * X[2];
    Y[0] = X[3] / det, Y[1] = -X[1] / det, Y[2] = -X[2] / det, Y[3] = X[0] / det;
}

// gA = (A B - T) B^T, gB = A^T (A B - T)
static void grads(const double *A, const double *B, double *gA, double *gB)
{
    double R[N], Bt[N], At[N];
    mul2(A, B, R);
    for (int i = 0; i < N; i++) R[i] -= T[i];
    tr2(B, Bt), tr2(A, At);
    mul2(R, Bt, gA);
    mul2(At, R, gB);
}

// gA <- gA (B B^T + lam I)^{-1},  gB <- (A^T A + lam I)^{-1} gB
static void precond(const double *A, const double *B, double *gA, double *gB)
{
    double Bt[N], At[N], PA[N], PB[N], IA[N], IB[N], t[N];
    tr2(B, Bt), tr2(A, At);
    mul2(B, Bt, PA), mul2(At, A, PB);
    PA[0] += LAM, PA[3] += LAM, PB[0] += LAM, PB[3] += LAM;
    inv2(PA, IA), inv2(PB, IB);
    mul2(gA, IA, t), memcpy(gA, t, sizeof t);
    mul2(IB, gB, t), memcpy(gB, t, sizeof t);
}

// The closed forms of Adam's first and second steps (header, point 1);
// g1, g2 are the effective gradients (weight decay included if coupled).
static double adam_first(double x0, double g1, double eta, double wd_dec)
{
    return (1.0 - eta * wd_dec) * x0 - eta * g1 / (fabs(g1) + EPS);
}
static double adam_second(double x1, double g1, double g2, double eta, double wd_dec)
{
    double mh = (B1 * g1 + g2) / (1.0 + B1), vh = (B2 * g1 * g1 + g2 * g2) / (1.0 + B2);
    return (1.0 - eta * wd_dec) * x1 - eta * mh / (sqrt(vh) + EPS);
}

static spec spec_for(const char *method, double wd)
{
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "teacher: {d: 2, k: 2, rank: 1}\nlora: {rank: 2}\n"
             "optimizer: {method: %s, lr: %.17g, lr_ratio: %.17g, weight_decay: %.17g,\n"
             "  beta1: %.17g, beta2: %.17g, eps: %.17g, damping: %.17g}\n",
             method, ETA, RHO, wd, B1, B2, EPS, LAM);
    return spec_from_yaml(yaml);
}

// Two steps of `method` from (A0, B0) with weight decay wd, each checked
// against the closed form; the result in A, B: (2, 2) each.
static void two_factor_steps(const char *method, double wd, double *A, double *B)
{
    int coupled = !strcmp(method, "adam"), pre = !strcmp(method, "precadamw");
    double wc = coupled ? wd : 0.0, wdd = coupled ? 0.0 : wd;
    spec s = spec_for(method, wd);
    lerr e = {0};
    optim *o = optim_new(&s, 2, 2, 2, &e);
    CHECK(o != NULL, "%s: optim_new: %s", method, e.msg);
    if (!o) exit(1);
    CHECK(!optim_dense(o), "%s is a factored method", method);
    double gA[N], gB[N], g1A[N], g1B[N], xA[N], xB[N];
    memcpy(A, A0, sizeof A0), memcpy(B, B0, sizeof B0);
    train_state st = {.d = 2, .k = 2, .r = 2, .A = A, .B = B, .gA = gA, .gB = gB};
    int ts[2] = {41, 7};   // the t passed in must not matter
    for (int step = 0; step < 2; step++) {
        grads(A, B, gA, gB);
        double eA[N], eB[N];   // this step's effective gradients, computed here
        memcpy(eA, gA, sizeof eA), memcpy(eB, gB, sizeof eB);
        if (pre) precond(A, B, eA, eB);
        for (int i = 0; i < N; i++) eA[i] += wc * A[i], eB[i] += wc * B[i];
        for (int i = 0; i < N; i++) {
            xA[i] = step == 0 ? adam_first(A[i], eA[i], ETA, wdd)
                              : adam_second(A[i], g1A[i], eA[i], ETA, wdd);
            xB[i] = step == 0 ? adam_first(B[i], eB[i], RHO * ETA, wdd)
                              : adam_second(B[i], g1B[i], eB[i], RHO * ETA, wdd);
        }
        memcpy(g1A, eA, sizeof eA), memcpy(g1B, eB, sizeof eB);
        int rc = optim_step(o, &st, ts[step], &e);
        CHECK(rc == 0, "%s step %d: %s", method, step + 1, e.msg);
        for (int i = 0; i < N; i++) {
            CHECK(close_rel(A[i], xA[i], 1e-13, 1e-12), "%s step %d A[%d] = %.17g, closed form %.17g",
                  method, step + 1, i, A[i], xA[i]);
            CHECK(close_rel(B[i], xB[i], 1e-13, 1e-12), "%s step %d B[%d] = %.17g, closed form %.17g",
                  method, step + 1, i, B[i], xB[i]);
        }
    }
    optim_free(o);
    spec_free(&s);
}

// Point 2: the python script's results, A then B, row-major.
static void check_literals(const char *method, const double *A, const double *B,
                           const double *want)
{
    for (int i = 0; i < N; i++) {
        CHECK(close_rel(A[i], want[i], 1e-13, 1e-12), "%s A[%d] = %.17g, python %.17g", method,
              i, A[i], want[i]);
        CHECK(close_rel(B[i], want[N + i], 1e-13, 1e-12), "%s B[%d] = %.17g, python %.17g",
              method, i, B[i], want[N + i]);
    }
}

static const double PY_ADAM[2 * N] = {
    0.94270690103604182, 0.68984627613300498, -0.25143341246189854, 0.60658524403309788,
    0.57855915059134055, 0.29605161018748827, 0.56025555374614788,  0.25012318547965284};
static const double PY_ADAMW[2 * N] = {
    0.95568954699271058, 0.68554274265167214, -0.25677717343983641, 0.59946719042278718,
    0.57426758632529207, 0.29608821997969792, 0.61878420645966725,  0.261108278393126};
static const double PY_PRECADAMW[2 * N] = {
    0.88120447471403685, 0.68691638971300095, -0.15542354719659585, 0.60461922764666987,
    0.58503156585588378, 0.29830293089183435, 0.24150773233303138,  -0.096385344880018223};
static const double PY_FULL_ADAM[N] = {0.1975608631091037, 0.19882904352729192, 0,
                                       -0.1975608631091037};
static const double PY_FULL_ADAMW[N] = {0.19709572695030014, 0.19834176979253759, 0,
                                        -0.19709572695030014};

// Point 4: two full fine-tuning steps on 1/2 ||D - T||^2 from D = 0.
static void full_steps(const char *method, const double *want)
{
    int coupled = !strcmp(method, "full-adam");
    spec s = spec_for(method, WD);
    lerr e = {0};
    optim *o = optim_new(&s, 2, 2, 0, &e);
    CHECK(o != NULL, "%s: optim_new: %s", method, e.msg);
    if (!o) exit(1);
    CHECK(optim_dense(o), "%s is a dense method", method);
    double D[N] = {0}, J[N], g1[N], x[N];
    train_state st = {.d = 2, .k = 2, .r = 0, .D = D, .J = J};
    for (int step = 0; step < 2; step++) {
        double g[N];
        for (int i = 0; i < N; i++) {
            J[i] = T[i] - D[i];                           // J = -dL/dD
            g[i] = -J[i] + (coupled ? WD * D[i] : 0.0);   // effective gradient
            x[i] = step == 0 ? adam_first(D[i], g[i], ETA, coupled ? 0.0 : WD)
                             : adam_second(D[i], g1[i], g[i], ETA, coupled ? 0.0 : WD);
        }
        memcpy(g1, g, sizeof g);
        CHECK(optim_step(o, &st, 100 + step, &e) == 0, "%s: %s", method, e.msg);
        for (int i = 0; i < N; i++)
            CHECK(close_rel(D[i], x[i], 1e-13, 1e-12), "%s step %d D[%d] = %.17g, closed form %.17g",
                  method, step + 1, i, D[i], x[i]);
    }
    for (int i = 0; i < N; i++)
        CHECK(close_rel(D[i], want[i], 1e-13, 1e-12), "%s D[%d] = %.17g, python %.17g", method, i,
              D[i], want[i]);
    optim_free(o);
    spec_free(&s);
}

// Point 5: one precgd step against explicit inverses.
static void precgd_step(void)
{
    spec s = spec_for("precgd", WD);
    lerr e = {0};
    optim *o = optim_new(&s, 2, 2, 2, &e);
    double A[N], B[N], gA[N], gB[N], xA[N], xB[N];
    memcpy(A, A0, sizeof A0), memcpy(B, B0, sizeof B0);
    grads(A, B, gA, gB);
    double eA[N], eB[N];
    for (int i = 0; i < N; i++) eA[i] = gA[i] + WD * A[i], eB[i] = gB[i] + WD * B[i];
    precond(A, B, eA, eB);
    for (int i = 0; i < N; i++) xA[i] = A[i] - ETA * eA[i], xB[i] = B[i] - RHO * ETA * eB[i];
    train_state st = {.d = 2, .k = 2, .r = 2, .A = A, .B = B, .gA = gA, .gB = gB};
    CHECK(optim_step(o, &st, 0, &e) == 0, "precgd: %s", e.msg);
    for (int i = 0; i < N; i++) {
        CHECK(close_rel(A[i], xA[i], 1e-13, 1e-12), "precgd A[%d] = %.17g, explicit %.17g", i,
              A[i], xA[i]);
        CHECK(close_rel(B[i], xB[i], 1e-13, 1e-12), "precgd B[%d] = %.17g, explicit %.17g", i,
              B[i], xB[i]);
    }
    optim_free(o);
    spec_free(&s);
}

// Point 6: the ntk model's gradients do not depend on its wd.
static void ntk_gradient_without_decay(void)
{
    spec s = spec_from_yaml("teacher: {model: ntk, d: 5, k: 4, n: 12, rank: 2}\nlora: {rank: 3}\n"
                            "optimizer: {weight_decay: 0.5}\n");
    lerr e = {0};
    problem *p = NULL;
    if (problem_new(&s, 0, NULL, &p, &e)) {
        fprintf(stderr, "ntk problem: %s\n", e.msg);
        exit(1);
    }
    int d = p->d, k = p->k, r = 3;
    model *m = model_new(p, r, NULL, NULL, 0, &e);
    double A[15], B[12], gA0[15], gB0[12], gA1[15], gB1[12], L0, L1;
    for (int i = 0; i < d * r; i++) A[i] = 0.3 * sin(1.0 + i);
    for (int i = 0; i < r * k; i++) B[i] = 0.2 * cos(2.0 + i);
    m->wd = 0.0;
    int rc = model_eval_factors(m, A, B, &L0, gA0, gB0, &e);
    m->wd = s.optimizer.weight_decay;
    rc |= model_eval_factors(m, A, B, &L1, gA1, gB1, &e);
    CHECK(rc == 0, "ntk eval: %s", e.msg);
    CHECK(L0 == L1 && !memcmp(gA0, gA1, sizeof gA0) && !memcmp(gB0, gB1, sizeof gB0),
          "the ntk model's loss or gradients change with its wd (decay would be counted twice)");
    model_free(m);
    problem_free(p);
    spec_free(&s);
}

int main(void)
{
    double A[N], B[N], Aw[N], Bw[N];
    two_factor_steps("adam", WD, A, B);
    check_literals("adam", A, B, PY_ADAM);
    two_factor_steps("adamw", WD, Aw, Bw);
    check_literals("adamw", Aw, Bw, PY_ADAMW);
    // point 3: coupled and decoupled differ with weight decay ...
    double diff = 0.0;
    for (int i = 0; i < N; i++) diff = fmax(diff, fmax(fabs(A[i] - Aw[i]), fabs(B[i] - Bw[i])));
    CHECK(diff > 1e-3, "adam and adamw with wd = %g differ by only %.3g", WD, diff);
    // ... and agree to the last bit without it
    two_factor_steps("adam", 0.0, A, B);
    two_factor_steps("adamw", 0.0, Aw, Bw);
    CHECK(!memcmp(A, Aw, sizeof A) && !memcmp(B, Bw, sizeof B),
          "adam and adamw differ with weight decay 0");
    two_factor_steps("precadamw", WD, A, B);
    check_literals("precadamw", A, B, PY_PRECADAMW);
    full_steps("full-adam", PY_FULL_ADAM);
    full_steps("full-adamw", PY_FULL_ADAMW);
    precgd_step();
    ntk_gradient_without_decay();
    return check_summary("test_optim");
}
