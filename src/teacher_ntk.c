// teacher_ntk.c: fine-tuning in the NTK regime (theory/THEORY.md section 7, [N1]).
//
// Linearised around the pretrained network, the outputs are affine in the
// weight change delta: (d, k):
//   z_{i,c} = f0_{i,c} + <G_{i,c}, delta>,   i < N points, c < K outputs,
// with features G_{i,c}: (d, k).  Stacking vec(G_{i,c}) as the rows of
// Phi: (N K, d k) gives z = f0 + Phi vec(delta).  Losses (both convex):
//   squared        L = 1/(2N) sum_i ||z_i - y_i||^2,     r = (z - y) / N
//   cross_entropy  L = 1/N sum_i -log softmax(z_i)_{y_i}, r = (softmax(z) - onehot(y)) / N
// and grad L = mat(Phi^T r), J = -grad L.  LoRA sets delta = A B and adds
// weight decay (lambda/2)(||A||^2 + ||B||^2) (the optimiser's weight_decay).
//
// Synthetic construction:
//   features   generated: i.i.d. N(0, 1) entries, so <G, delta> ~ N(0, ||delta||_F^2);
//              orthogonal: Phi = sqrt(N) Q, Q with orthonormal columns (Phi^T Phi / N = I),
//              an orthogonal design whose convex optimum has a closed form;
//   base f0    zero or i.i.d. N(0, 1);
//   from files features (N, K, d, k), targets (N, K) or labels (N,) / one-hot
//              (N, K), base (N, K): .npy (e.g. empirical NTK Jacobians of a real
//              network, G_{i,c} = d f_c(x_i) / d W at the pretrained weights);
//   targets    planted delta_nat of rank r* (teacher.rank, spectrum as the linear
//              teacher's): squared y = f0 + Phi vec(delta_nat) + noise E; cross_entropy
//              y_i = argmax_c(z_nat_{i,c} + noise g_{i,c}), g standard Gumbel;
//              rank 0: random targets (N(0, 1) values, or uniform labels).
// The held-out test set uses fresh features and clean targets (noise 0).
//
// Real data (features: mlp, mlp_source.h): the Jacobians wrt W1 of the
// network pretrained on the source classes, G_{i,c} = x_i (V_c . sigma'(W1^T
// x_i))^T, at teacher.n target-class images; base f0 = f(x_i; W0), the
// pretrained outputs (the linearisation is around W0, so delta = 0 is the
// pretrained network); targets the labels (one-hot values under the squared
// loss); the test set at teacher.n_test target-class test images, with a
// test accuracy.  No ground truth: risk and err_op are nan.
//
// The features are an operator (ntk_features.h) with two backends: the
// materialised Phi above, and the rank-one Jacobians of a two-layer network,
// which are never formed.  Every evaluation is one pass of the operator with
// a per-point rule of this file (the loss and dl/dz, or the curvature), so
// both backends give the same loss, gradients and curvature products.
//
// Minibatches (problem.h: set_batch) take points: a batch of nb points uses
// their K rows of Phi each, z_i = f0_i + Phi_i vec(delta) and
// grad L_b = mat(sum_i Phi_i^T r_i) with r scaled by 1/nb: O(nb K d k) per
// evaluation with dense features (plus d k r to form delta = A B), never a
// pass over all N K rows.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "linalg.h"
#include "mlp.h"
#include "mlp_source.h"
#include "npy.h"
#include "problem.h"
#include "random.h"
#include "teacher_data.h"
#include "teacher_ntk.h"

typedef struct {
    int K, ce;            // outputs; 1 for cross-entropy
    ntk_features feat;    // train features: N points (ntk_features.h)
    double *f0, *y;       // (N, K) base, (N, K) values (squared)
    int *label;           // (N) classes (cross-entropy)
    ntk_features feat_t;  // the same for the test set (n_test points)
    double *f0t, *yt;
    int *labelt;
} ntk_data;

typedef struct {
    ntk_op *op;           // the train features' operator (batch: ntk_op_set_rows)
    ntk_op *op_test;      // the test set's (NULL without one)
    double *l, *l_test;   // (N), (n_test): the points' losses of a pass (loss_ctx)
} ntk_run;

// One point's loss of outputs z: (K) against its target (y: (K) values,
// squared) or class (label, cross-entropy); r (if not NULL) = dl/dz / n.
static double point_loss(const ntk_data *T, const double *z, const double *y, int label, int n,
                         double *r)
{
    int K = T->K;
    if (!T->ce) {
        double L = 0.0;
        for (int c = 0; c < K; c++) {
            double d = z[c] - y[c];
            L += 0.5 * d * d;
            if (r) r[c] = d / n;
        }
        return L;
    }
    double mx = z[0];
    for (int c = 1; c < K; c++) mx = fmax(mx, z[c]);
    double sum = 0.0;
    for (int c = 0; c < K; c++) sum += exp(z[c] - mx);
    if (r)
        for (int c = 0; c < K; c++) r[c] = (exp(z[c] - mx) / sum - (c == label)) / n;
    return mx + log(sum) - z[label];
}

// The per-point rule of a loss evaluation over n evaluated points of a set
// (base f0: (., K), targets y: (., K) or label: (.)): z_i <- f0_i + Phi_i
// vec(D), l_b = l(z_i), s_i = sign dl/dz_i / n -- so the pass's M is
// sign grad L (sign -1: J = -grad L).  The dense pass visits the points in
// an order of its own (ntk_features.h), so the losses are kept by position
// and summed in order after it (loss_total): the same bits either way.
typedef struct {
    const ntk_data *T;
    const double *f0, *y;
    const int *label;
    int n;
    double sign;
    double *l;            // (n): the points' losses by position
} loss_ctx;

static void loss_point(void *ctx, int b, int i, double *z, const double *u, double *s)
{
    (void)u;
    loss_ctx *c = ctx;
    int K = c->T->K;
    const double *f0 = c->f0 + (size_t)i * K;
    for (int o = 0; o < K; o++) z[o] = f0[o] + z[o];
    c->l[b] = point_loss(c->T, z, c->y ? c->y + (size_t)i * K : NULL,
                         c->label ? c->label[i] : 0, c->n, s);
    if (s && c->sign < 0)
        for (int o = 0; o < K; o++) s[o] = -s[o];
}

// (1/n) sum_b l_b, in the order b = 0, 1, ...
static double loss_total(const loss_ctx *c)
{
    double L = 0.0;
    for (int b = 0; b < c->n; b++) L += c->l[b];
    return L / c->n;
}

// L = (1/n) sum_b l(z_b) over the train set's evaluated points (the batch, or
// all N) and, if J is not NULL, J = -grad L = -sum_b Phi_b^T r_b
// (r_b = dl/dz_b / n): one pass of the operator (ntk_features.h).
static int ntk_eval_dense(model *m, const double *D, double *loss, double *J, lerr *e)
{
    (void)e;
    const ntk_data *T = m->p->impl;
    ntk_run *w = m->impl;
    loss_ctx c = {T, T->f0, T->y, T->label, ntk_op_points(w->op), -1.0, w->l};
    ntk_op_pass(w->op, D, NULL, loss_point, &c, J);
    *loss = loss_total(&c);
    return 0;
}

// The per-point rule of the curvature: S_b u_b with u_b = Phi_b vec(dD) and
// S = dr/dz block-diagonal over the points:
//   squared        S_b = I / n
//   cross_entropy  S_b = (diag(p_b) - p_b p_b^T) / n,  p_b = softmax(z_b)
// (z_b = f0_b + Phi_b vec(D), asked for under cross-entropy only).
typedef struct {
    const ntk_data *T;
    int n;
} curv_ctx;

static void curv_point(void *ctx, int b, int i, double *z, const double *u, double *s)
{
    (void)b;
    const curv_ctx *c = ctx;
    const ntk_data *T = c->T;
    int K = T->K, n = c->n;
    if (!T->ce) {
        for (int o = 0; o < K; o++) s[o] = u[o] / n;
        return;
    }
    const double *f0 = T->f0 + (size_t)i * K;
    for (int o = 0; o < K; o++) z[o] = f0[o] + z[o];
    double mx = z[0], sum = 0.0, pu = 0.0;
    for (int o = 1; o < K; o++) mx = fmax(mx, z[o]);
    for (int o = 0; o < K; o++) sum += (z[o] = exp(z[o] - mx));
    for (int o = 0; o < K; o++) pu += (z[o] /= sum) * u[o];
    for (int o = 0; o < K; o++) s[o] = z[o] * (u[o] - pu) / n;
}

// The curvature of the loss along dD at D: C = mat(Phi^T S Phi vec(dD)) =
// d/dt grad L(D + t dD), exact (the loss is a function of z only, and z is
// affine in delta).  One pass.  D, dD, C: (d, k).
static int ntk_curvature(model *m, const double *D, const double *dD, double *C, lerr *e)
{
    (void)e;
    const ntk_data *T = m->p->impl;
    ntk_run *w = m->impl;
    curv_ctx c = {T, ntk_op_points(w->op)};
    ntk_op_pass(w->op, T->ce ? D : NULL, dD, curv_point, &c, C);
    return 0;
}

// Loss and dL/dA = grad B^T, dL/dB = A^T grad at delta = A B: the factored
// pass (dense features: D = A B formed; mlp: never a (d, k) matrix).
static int ntk_eval_factors(model *m, const double *A, const double *B, double *loss,
                            double *gA, double *gB, lerr *e)
{
    const ntk_data *T = m->p->impl;
    ntk_run *w = m->impl;
    loss_ctx c = {T, T->f0, T->y, T->label, ntk_op_points(w->op), 1.0, w->l};
    if (ntk_op_pass_factors(w->op, A, B, m->r, loss_point, &c, gA, gB, e)) return -1;
    *loss = loss_total(&c);
    return 0;
}

static int ntk_set_batch(model *m, const int *rows, int nb, lerr *e)
{
    (void)e;
    ntk_run *w = m->impl;
    ntk_op_set_rows(w->op, rows, nb);
    return 0;
}

static double ntk_test_loss(model *m, const double *D)
{
    const ntk_data *T = m->p->impl;
    ntk_run *w = m->impl;
    if (!w->op_test) return NAN;
    loss_ctx c = {T, T->f0t, T->yt, T->labelt, m->p->n_test, 1.0, w->l_test};
    ntk_op_pass(w->op_test, D, NULL, loss_point, &c, NULL);
    return loss_total(&c);
}

static int ntk_model_init(model *m, lerr *e)
{
    (void)e;
    const problem *p = m->p;
    const ntk_data *T = p->impl;
    ntk_run *w = xcalloc(1, sizeof *w);
    w->op = ntk_op_new(&T->feat, m->r);
    w->l = dalloc((size_t)(p->n > 0 ? p->n : 1));
    if (p->n_test > 0) {
        w->op_test = ntk_op_new(&T->feat_t, m->r);
        w->l_test = dalloc((size_t)p->n_test);
    }
    m->impl = w;
    return 0;
}

static void ntk_model_free(model *m)
{
    ntk_run *w = m->impl;
    if (!w) return;
    ntk_op_free(w->op), ntk_op_free(w->op_test);
    free(w->l), free(w->l_test);
    free(w);
}

static void ntk_problem_free(problem *p)
{
    ntk_data *T = p->impl;
    if (!T) return;
    ntk_features_clear(&T->feat), ntk_features_clear(&T->feat_t);
    free(T->f0), free(T->y), free(T->label);
    free(T->f0t), free(T->yt), free(T->labelt);
    free(T);
}

static int is_file(const char *value) { return strchr(value, '/') != NULL; }

// A .npy input of the ntk teacher, checked against the shape it must have:
// dims[0 .. nd) with -1 for "any"; alt_nd/alt (if alt_nd > 0) a second
// accepted shape.  `what` names the key in messages.
static double *read_input(const char *path, const char *what, int nd, const long *dims,
                          int alt_nd, const long *alt, int *got_nd, lerr *e)
{
    double *x;
    int ndim;
    long shape[8];
    if (npy_read_nd(path, 4, &x, &ndim, shape, e)) {
        lerr_prefix(e, "%s: ", what);
        return NULL;
    }
    for (int pass = 0; pass < 2; pass++) {
        int want_nd = pass ? alt_nd : nd;
        const long *want = pass ? alt : dims;
        if (want_nd <= 0 || ndim != want_nd) continue;
        int ok = 1;
        for (int a = 0; a < ndim; a++) ok &= want[a] < 0 || want[a] == shape[a];
        if (ok) {
            *got_nd = ndim;
            return x;
        }
    }
    char have[128] = "", need[128] = "";
    for (int a = 0; a < ndim; a++)
        snprintf(have + strlen(have), sizeof have - strlen(have), "%s%ld", a ? ", " : "", shape[a]);
    for (int a = 0; a < nd; a++)
        snprintf(need + strlen(need), sizeof need - strlen(need), "%s%ld", a ? ", " : "", dims[a]);
    free(x);
    lerr_input(e, "%s: %s has shape (%s) but this experiment needs (%s)%s", what, path, have,
               need, alt_nd > 0 ? " (or the alternative layout in the README)" : "");
    return NULL;
}

// Features for n points: (n K, d k).
static double *features(const spec *s, long seed, const char *stream, int n, int K, int dk,
                        lerr *e)
{
    if (is_file(s->teacher.features) && !strcmp(stream, "ntk-features")) {
        long dims[4] = {n, K, s->teacher.d, s->teacher.k};
        int nd;
        return read_input(s->teacher.features, "teacher.features", 4, dims, 0, NULL, &nd, e);
    }
    char tag[96];
    snprintf(tag, sizeof tag, "%s|K=%d|dk=%d", stream, K, dk);
    double *Phi = ntk_features_alloc((size_t)n * K * dk);
    gsl_rng *rng = stream_new(seed, tag);
    int rc = 0;
    if (!strcmp(s->teacher.features, "orthogonal") && !strcmp(stream, "ntk-features")) {
        rc = haar_orthonormal(rng, n * K, dk, Phi, e);
        for (size_t i = 0; i < (size_t)n * K * dk; i++) Phi[i] *= sqrt((double)n);
    } else {
        gaussian_fill(rng, Phi, n * K, dk, 1.0);
    }
    gsl_rng_free(rng);
    if (rc) {
        free(Phi);
        return NULL;
    }
    return Phi;
}

// Base outputs, targets and labels for the n points of the features F.
// Targets from a file: (n, K) values (squared loss) or, for cross-entropy,
// (n,) class indices or (n, K) one-hot rows.
static int file_targets(const spec *s, const ntk_data *T, int n, double **y, int **label,
                        lerr *e)
{
    int K = T->K, nd;
    long vals[2] = {n, K}, labels[1] = {n};
    double *x = T->ce ? read_input(s->teacher.targets, "teacher.targets", 1, labels, 2, vals, &nd, e)
                      : read_input(s->teacher.targets, "teacher.targets", 2, vals, 0, NULL, &nd, e);
    if (!x) return -1;
    if (!T->ce) {
        *y = x;
        return 0;
    }
    *label = xcalloc((size_t)n, sizeof(int));
    for (int i = 0; i < n; i++) {
        double v = -1;
        if (nd == 1) v = x[i];
        else
            for (int c = 0; c < K; c++) {
                double o = x[(size_t)i * K + c];
                if (o == 1.0 && v < 0) v = c;
                else if (o != 0.0) v = -2;
            }
        if (!(v >= 0 && v < K && v == floor(v))) {
            free(x);
            return lerr_input(e, "teacher.targets: %s row %d is not a class in 0..%d (as an "
                              "index, or a one-hot row)", s->teacher.targets, i, K - 1);
        }
        (*label)[i] = (int)v;
    }
    free(x);
    return 0;
}

static int targets(const spec *s, long seed, const char *stream, const problem *p,
                   const ntk_data *T, const ntk_features *F, double noise, double **f0,
                   double **y, int **label, lerr *e)
{
    int K = T->K, n = F->n;
    char tag[96];
    int train = !strcmp(stream, "ntk");
    if (train && is_file(s->teacher.base)) {
        long dims[2] = {n, K};
        int nd;
        if (!(*f0 = read_input(s->teacher.base, "teacher.base", 2, dims, 0, NULL, &nd, e)))
            return -1;
    } else {
        *f0 = dalloc((size_t)n * K);
    }
    if (train && is_file(s->teacher.targets)) return file_targets(s, T, n, y, label, e);
    if (!is_file(s->teacher.base) && !strcmp(s->teacher.base, "generated")) {
        snprintf(tag, sizeof tag, "%s-base|K=%d", stream, K);
        gsl_rng *rng = stream_new(seed, tag);
        gaussian_fill(rng, *f0, n, K, 1.0);
        gsl_rng_free(rng);
    }
    double *z = dalloc((size_t)n * K);   // z = f0 + Phi vec(Delta)
    ntk_op *op = ntk_op_new(F, 1);
    ntk_op_apply(op, p->Delta, z);
    ntk_op_free(op);
    for (size_t i = 0; i < (size_t)n * K; i++) z[i] = (*f0)[i] + z[i];
    snprintf(tag, sizeof tag, "%s-targets|K=%d", stream, K);
    gsl_rng *rng = stream_new(seed, tag);
    int random = s->teacher.rank == 0;
    if (!T->ce) {
        *y = z;
        double *E = dalloc((size_t)n * K);
        gaussian_fill(rng, E, n, K, 1.0);
        for (size_t i = 0; i < (size_t)n * K; i++) (*y)[i] = random ? E[i] : z[i] + noise * E[i];
        free(E);
    } else {
        *y = NULL;
        *label = xcalloc((size_t)n, sizeof(int));
        for (int i = 0; i < n; i++) {
            int best = 0;
            double bv = -INFINITY;
            for (int c = 0; c < K; c++) {
                double g = -log(-log(gsl_rng_uniform_pos(rng)));   // standard Gumbel
                double v = random ? g : z[(size_t)i * K + c] + noise * g;
                if (v > bv) bv = v, best = c;
            }
            (*label)[i] = best;
        }
        free(z);
    }
    gsl_rng_free(rng);
    return 0;
}

static const problem_ops ntk_ops = {
    .eval_factors = ntk_eval_factors,
    .eval_dense = ntk_eval_dense,
    .model_init = ntk_model_init,
    .model_free = ntk_model_free,
    .problem_free = ntk_problem_free,
    .set_batch = ntk_set_batch,
    .curvature_dense = ntk_curvature,
    .test_loss_dense = ntk_test_loss,
};

// The test loss at delta = A B through the factored pass (features: mlp: no
// (d, k) matrix is formed).
static double ntk_test_loss_factors(model *m, const double *A, const double *B)
{
    const ntk_data *T = m->p->impl;
    ntk_run *w = m->impl;
    lerr e = {0};
    if (!w->op_test) return NAN;
    loss_ctx c = {T, T->f0t, T->yt, T->labelt, m->p->n_test, 1.0, w->l_test};
    if (ntk_op_pass_factors(w->op_test, A, B, m->r, loss_point, &c, NULL, NULL, &e)) return NAN;
    return loss_total(&c);
}

// The per-point rule of the test accuracy: z_i <- f0_i + z_i; a hit when
// its largest entry (the first on ties) is the label.
typedef struct {
    const ntk_data *T;
    long hits;
} acc_ctx;

static void acc_point(void *ctx, int b, int i, double *z, const double *u, double *s)
{
    (void)b, (void)u, (void)s;
    acc_ctx *c = ctx;
    int K = c->T->K, best = 0;
    const double *f0 = c->T->f0t + (size_t)i * K;
    for (int o = 0; o < K; o++) z[o] = f0[o] + z[o];
    for (int o = 1; o < K; o++)
        if (z[o] > z[best]) best = o;
    c->hits += best == c->T->labelt[i];
}

// The fraction of test points whose linearised outputs f0 + Phi vec(delta)
// pick their class, at delta = A B (A not NULL) or delta = D (passed as B).
static double ntk_test_acc(model *m, const double *A, const double *B)
{
    const ntk_data *T = m->p->impl;
    ntk_run *w = m->impl;
    lerr e = {0};
    if (!w->op_test || !T->labelt) return NAN;
    acc_ctx c = {T, 0};
    if (!A) ntk_op_pass(w->op_test, B, NULL, acc_point, &c, NULL);
    else if (ntk_op_pass_factors(w->op_test, A, B, m->r, acc_point, &c, NULL, NULL, &e))
        return NAN;
    return (double)c.hits / m->p->n_test;
}

// features: mlp: the same, with the factored test loss and the test accuracy
// (the targets are classes).
static const problem_ops ntk_mlp_ops = {
    .eval_factors = ntk_eval_factors,
    .eval_dense = ntk_eval_dense,
    .model_init = ntk_model_init,
    .model_free = ntk_model_free,
    .problem_free = ntk_problem_free,
    .set_batch = ntk_set_batch,
    .curvature_dense = ntk_curvature,
    .test_loss_dense = ntk_test_loss,
    .test_loss_factors = ntk_test_loss_factors,
    .test_acc = ntk_test_acc,
};

// Settings the files force (checked before anything is written): targets
// from a file have no planted shift, so teacher.rank must be 0; a test set
// needs generated features and targets.  The files themselves are read and
// their shapes checked.
int teacher_ntk_check(const spec *s, lerr *e)
{
    // features: mlp: the data's input errors (files, classes, teacher.n and
    // n_test above the target classes' rows), without pretraining
    if (!strcmp(s->teacher.features, "mlp")) return mlp_source_check(s, e);
    int fromfile = is_file(s->teacher.features) || is_file(s->teacher.targets) ||
                   is_file(s->teacher.base);
    if (is_file(s->teacher.targets) && s->teacher.rank != 0)
        return lerr_input(e, "teacher.targets comes from %s: there is no planted shift, so set "
                          "teacher.rank: 0 (it is %d)", s->teacher.targets, s->teacher.rank);
    if (fromfile && s->teacher.n_test > 0)
        return lerr_input(e, "teacher.n_test = %d needs generated features, targets and base "
                          "(a test set cannot be drawn for data read from files)",
                          s->teacher.n_test);
    if (!fromfile) return 0;
    problem *p;
    int rc = teacher_ntk_new(s, 0, NULL, &p, e);   // reads and checks every file
    if (!rc) problem_free(p);
    return rc;
}

// A problem of this teacher with its data T (owned from now on).
static problem *ntk_problem(ntk_data *T)
{
    problem *p = xcalloc(1, sizeof *p);
    p->ops = &ntk_ops;
    p->impl = T;
    p->teacher = "ntk";
    p->convex_reference = 1;
    p->sigma_dev = NAN;   // no input covariance: sigma_dev and err_op_bound do not apply
    return p;
}

int teacher_ntk_points(ntk_points *train, ntk_points *test, int ce, problem **out, lerr *e)
{
    ntk_data *T = xcalloc(1, sizeof *T);
    T->feat = train->feat, T->f0 = train->f0, T->y = train->y, T->label = train->label;
    if (test) {
        T->feat_t = test->feat, T->f0t = test->f0, T->yt = test->y, T->labelt = test->label;
        memset(test, 0, sizeof *test);
    }
    memset(train, 0, sizeof *train);
    problem *p = ntk_problem(T);
    T->K = T->feat.K;
    T->ce = ce;
    p->d = T->feat.d, p->k = T->feat.k, p->n = T->feat.n;
    p->n_test = T->feat_t.n;
    size_t dk = (size_t)p->d * p->k;
    p->W0 = dalloc(dk);      // the change delta starts at 0
    p->Delta = dalloc(dk);   // no planted shift
    p->dq = 0;
    p->Dl = dalloc(1), p->Dr = dalloc(1);
    int rc = 0;
    if (T->label || T->labelt)
        rc = (T->label && mlp_check_labels(T->label, p->n, T->K, "ntk training points", e)) ||
             (T->labelt && mlp_check_labels(T->labelt, p->n_test, T->K, "ntk test points", e));
    if (!rc) rc = problem_finish(p, 1, e);
    if (rc) {
        problem_free(p);
        return -1;
    }
    *out = p;
    return 0;
}

// One set of target-class points of the real-data setting: the network's
// Jacobians wrt W1 at their inputs, the base f0 = f(x; W0): (n, K) and the
// targets (labels, one-hot values under the squared loss).
static void mlp_set(const mlp_net *net, const labelled_data *ds, int ce, ntk_points *P)
{
    int n = ds->n, K = net->K;
    ntk_features_set_mlp(&P->feat, ds->X, n, net->d, net->W1, net->h, net->V, K);
    P->f0 = dalloc((size_t)(n > 0 ? n : 1) * K);
    mlp_work *w = mlp_work_new(net->d, net->h, K);
    mlp_forward(net, ds->X, n, w, P->f0);
    mlp_work_free(w);
    P->label = xcalloc((size_t)(n > 0 ? n : 1), sizeof(int));   // (also for test_acc)
    memcpy(P->label, ds->label, sizeof(int) * (size_t)n);
    if (!ce) {
        P->y = dalloc((size_t)(n > 0 ? n : 1) * K);
        for (int i = 0; i < n; i++) P->y[(size_t)i * K + ds->label[i]] = 1.0;
    }
}

// features: mlp -- the linearisation of the network pretrained on the source
// classes around its weights W0, at teacher.n target-class training points
// (and teacher.n_test test points): z = f(x; W0) + <G(x), delta> with
// G_c(x) = d f_c(x) / d W1, the structured backend of ntk_features.h.
static int mlp_problem(const spec *s, long seed, const char *cache_dir, problem **out, lerr *e)
{
    mlp_source *ms;
    if (mlp_source_load(s, seed, cache_dir, &ms, e)) return -1;
    int ce = ms->loss == MLP_CROSS_ENTROPY;
    ntk_points tr = {0}, te = {0};
    mlp_set(ms->net, &ms->train, ce, &tr);
    if (ms->test.n > 0) mlp_set(ms->net, &ms->test, ce, &te);
    double pre[3] = {ms->pre_train_loss, ms->pre_train_acc, ms->pre_test_acc};
    mlp_source_free(ms);
    if (teacher_ntk_points(&tr, &te, ce, out, e)) return -1;
    problem *p = *out;
    p->ops = &ntk_mlp_ops;
    p->no_truth = 1;   // real data: risk and err_op are nan
    p->pretrained = 1;
    p->pre_train_loss = pre[0], p->pre_train_acc = pre[1], p->pre_test_acc = pre[2];
    return 0;
}

int teacher_ntk_new(const spec *s, long seed, const char *cache_dir, problem **out, lerr *e)
{
    if (!strcmp(s->teacher.features, "mlp")) return mlp_problem(s, seed, cache_dir, out, e);
    ntk_data *T = xcalloc(1, sizeof *T);
    problem *p = ntk_problem(T);
    p->d = s->teacher.d, p->k = s->teacher.k, p->n = s->teacher.n;
    T->K = s->teacher.outputs;
    T->ce = !strcmp(s->teacher.loss, "cross_entropy");
    int d = p->d, k = p->k, dk = d * k, rc = 0;
    if (s->teacher.rank > 0) {
        rc = teacher_truth(s, seed, p, e);   // Delta (and a W0 we do not use)
        free(p->W0);
    }
    p->W0 = dalloc((size_t)dk);   // the change delta starts at 0
    if (s->teacher.rank == 0) {
        p->Delta = dalloc((size_t)dk);
        p->dq = 0;
        p->Dl = dalloc(1), p->Dr = dalloc(1);
    }
    double *Phi = NULL;
    if (!rc && !(Phi = features(s, seed, "ntk-features", p->n, T->K, dk, e))) rc = -1;
    if (!rc) {
        ntk_features_set_dense(&T->feat, Phi, p->n, T->K, d, k);
        rc = targets(s, seed, "ntk", p, T, &T->feat, s->teacher.noise, &T->f0, &T->y,
                     &T->label, e);
    }
    if (!rc && s->teacher.n_test > 0) {
        p->n_test = s->teacher.n_test;
        if (!(Phi = features(s, seed, "ntk-features-test", p->n_test, T->K, dk, e))) rc = -1;
        if (!rc) {
            ntk_features_set_dense(&T->feat_t, Phi, p->n_test, T->K, d, k);
            rc = targets(s, seed, "ntk-test", p, T, &T->feat_t, 0.0, &T->f0t, &T->yt,
                         &T->labelt, e);
        }
    }
    if (!rc) rc = problem_finish(p, s->teacher.rank > 0 ? s->teacher.rank : 1, e);
    if (rc) {
        problem_free(p);
        return rc;
    }
    *out = p;
    return 0;
}
