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
// Minibatches (problem.h: set_batch) take points: a batch of nb points uses
// their K rows of Phi each, z_i = f0_i + Phi_i vec(delta) and
// grad L_b = mat(sum_i Phi_i^T r_i) with r scaled by 1/nb: O(nb K d k) per
// evaluation (plus d k r to form delta = A B), never a pass over all N K rows.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "linalg.h"
#include "npy.h"
#include "problem.h"
#include "random.h"
#include "teacher_data.h"

typedef struct {
    int K, ce;            // outputs; 1 for cross-entropy
    double *Phi, *f0, *y; // train: (N K, d k), (N, K), (N, K) values (squared)
    int *label;           // (N) classes (cross-entropy)
    double *Phit, *f0t, *yt;
    int *labelt;          // the same for the test set
} ntk_data;

typedef struct {
    double *D, *grad;           // (d, k), (d, k)
    double *z, *r, *s;          // (K) one point's outputs, dl/dz, curvature weights
    const int *rows;            // the batch's points (nb), or NULL: all N
    int nb;
} ntk_run;

// The two kernels below get an AVX2 clone on x86-64 (picked at load time):
// twice the SSE2 width, and the same bits -- the operations and their order
// do not change (ISO C: no contraction into fused multiply-adds).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define WIDE_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define WIDE_CLONES
#endif

// <a, b> over n entries, summed in a fixed order (eight running partial
// sums, then a fixed tree): the same bits whatever the thread count.
WIDE_CLONES static double dot(const double *a, const double *b, int n)
{
    double s[8] = {0, 0, 0, 0, 0, 0, 0, 0}, tail = 0.0;
    int j = 0;
    for (; j + 8 <= n; j += 8)
        for (int u = 0; u < 8; u++) s[u] += a[j + u] * b[j + u];
    for (; j < n; j++) tail += a[j] * b[j];
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])) + tail;
}

// y += alpha x over n entries.
WIDE_CLONES static void axpy(double *y, double alpha, const double *x, int n)
{
    for (int j = 0; j < n; j++) y[j] += alpha * x[j];
}

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

// A set of points: features Phi: (n K, d k), base f0: (n, K), targets y:
// (n, K) (squared) or label: (n) (cross-entropy).
typedef struct {
    const double *Phi, *f0, *y;
    const int *label;
} ntk_set;

// z_i = f0_i + Phi_i vec(D) for point i of set S; Phi_i: (K, d k), z: (K).
static void point_outputs(const ntk_set *S, int K, int dk, size_t i, const double *D, double *z)
{
    const double *P = S->Phi + i * K * dk;
    for (int c = 0; c < K; c++) z[c] = S->f0[i * K + c] + dot(P + (size_t)c * dk, D, dk);
}

// z = f0 + Phi vec(D) for n points: z: (n, K).
static void outputs(const ntk_data *T, int n, int dk, const double *Phi, const double *f0,
                    const double *D, double *z)
{
    ntk_set S = {Phi, f0, NULL, NULL};
    for (int i = 0; i < n; i++) point_outputs(&S, T->K, dk, (size_t)i, D, z + (size_t)i * T->K);
}

// The loss L = (1/n) sum_b l(z_b) over n points of S (rows[b], or b when rows
// is NULL) and, if J is not NULL, J = -sum_b Phi_b^T r_b (r_b = dl/dz_b / n),
// in one pass over the points' rows of Phi: each point's K rows are read from
// memory once, for z_b, and again from cache for Phi_b^T r_b.  That is the
// memory floor of the step (Phi read once); the sums run in a fixed order, so
// the result does not depend on threads.  z, r: (K) work.
static double ntk_pass(const ntk_data *T, const ntk_set *S, const int *rows, int n, int dk,
                       const double *D, double *J, double *z, double *r)
{
    int K = T->K;
    double L = 0.0;
    if (J) memset(J, 0, sizeof(double) * (size_t)dk);
    for (int b = 0; b < n; b++) {
        size_t i = rows ? (size_t)rows[b] : (size_t)b;
        point_outputs(S, K, dk, i, D, z);
        L += point_loss(T, z, S->y ? S->y + i * K : NULL, S->label ? S->label[i] : 0, n,
                        J ? r : NULL);
        if (J)
            for (int c = 0; c < K; c++) axpy(J, -r[c], S->Phi + (i * K + c) * dk, dk);
    }
    return L / n;
}

static ntk_set train_set(const ntk_data *T) { return (ntk_set){T->Phi, T->f0, T->y, T->label}; }

static int ntk_eval_dense(model *m, const double *D, double *loss, double *J, lerr *e)
{
    (void)e;
    const problem *p = m->p;
    const ntk_data *T = p->impl;
    ntk_run *w = m->impl;
    ntk_set S = train_set(T);
    *loss = ntk_pass(T, &S, w->rows, w->rows ? w->nb : p->n, p->d * p->k, D, J, w->z, w->r);
    return 0;
}

// The curvature of the loss along dD at D: C = mat(Phi^T S Phi vec(dD)) =
// d/dt grad L(D + t dD), with S = dr/dz block-diagonal over the points:
//   squared        S_b = I / n
//   cross_entropy  S_b = (diag(p_b) - p_b p_b^T) / n,  p_b = softmax(z_b)
// One pass over the points' rows (as ntk_pass).  D, dD, C: (d, k).
static int ntk_curvature(model *m, const double *D, const double *dD, double *C, lerr *e)
{
    (void)e;
    const problem *p = m->p;
    const ntk_data *T = p->impl;
    ntk_run *w = m->impl;
    ntk_set S = train_set(T);
    int K = T->K, dk = p->d * p->k, n = w->rows ? w->nb : p->n;
    double *z = w->z, *u = w->r, *s = w->s;
    memset(C, 0, sizeof(double) * (size_t)dk);
    for (int b = 0; b < n; b++) {
        size_t i = w->rows ? (size_t)w->rows[b] : (size_t)b;
        const double *P = T->Phi + i * K * dk;
        for (int c = 0; c < K; c++) u[c] = dot(P + (size_t)c * dk, dD, dk);
        if (!T->ce) {
            for (int c = 0; c < K; c++) s[c] = u[c] / n;
        } else {
            point_outputs(&S, K, dk, i, D, z);
            double mx = z[0], sum = 0.0, pu = 0.0;
            for (int c = 1; c < K; c++) mx = fmax(mx, z[c]);
            for (int c = 0; c < K; c++) sum += (z[c] = exp(z[c] - mx));
            for (int c = 0; c < K; c++) pu += (z[c] /= sum) * u[c];
            for (int c = 0; c < K; c++) s[c] = z[c] * (u[c] - pu) / n;
        }
        for (int c = 0; c < K; c++) axpy(C, s[c], P + (size_t)c * dk, dk);
    }
    return 0;
}

static int ntk_eval_factors(model *m, const double *A, const double *B, double *loss,
                            double *gA, double *gB, lerr *e)
{
    const problem *p = m->p;
    ntk_run *w = m->impl;
    int d = p->d, k = p->k, r = m->r;
    mm('N', 'N', d, k, r, 1.0, A, B, 0.0, w->D);
    int want = gA || gB;
    if (ntk_eval_dense(m, w->D, loss, want ? w->grad : NULL, e)) return -1;
    // grad = -J:  dL/dA = grad B^T,  dL/dB = A^T grad
    if (gA) mm('N', 'T', d, r, k, -1.0, w->grad, B, 0.0, gA);
    if (gB) mm('T', 'N', r, k, d, -1.0, A, w->grad, 0.0, gB);
    return 0;
}

static int ntk_set_batch(model *m, const int *rows, int nb, lerr *e)
{
    (void)e;
    ntk_run *w = m->impl;
    w->rows = rows;
    w->nb = rows ? nb : 0;
    return 0;
}

static double ntk_test_loss(model *m, const double *D)
{
    const problem *p = m->p;
    const ntk_data *T = p->impl;
    ntk_run *w = m->impl;
    ntk_set S = {T->Phit, T->f0t, T->yt, T->labelt};
    return ntk_pass(T, &S, NULL, p->n_test, p->d * p->k, D, NULL, w->z, NULL);
}

static int ntk_model_init(model *m, lerr *e)
{
    (void)e;
    const problem *p = m->p;
    const ntk_data *T = p->impl;
    ntk_run *w = xcalloc(1, sizeof *w);
    size_t dk = (size_t)p->d * p->k;
    w->D = dalloc(dk);
    w->grad = dalloc(dk);
    w->z = dalloc((size_t)T->K);
    w->r = dalloc((size_t)T->K);
    w->s = dalloc((size_t)T->K);
    m->impl = w;
    return 0;
}

static void ntk_model_free(model *m)
{
    ntk_run *w = m->impl;
    if (!w) return;
    free(w->D), free(w->grad), free(w->z), free(w->r), free(w->s);
    free(w);
}

static void ntk_problem_free(problem *p)
{
    ntk_data *T = p->impl;
    if (!T) return;
    free(T->Phi), free(T->f0), free(T->y), free(T->label);
    free(T->Phit), free(T->f0t), free(T->yt), free(T->labelt);
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
    double *Phi = dalloc((size_t)n * K * dk);
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

// Base outputs, targets and labels for n points with features Phi.
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
                   const ntk_data *T, int n, const double *Phi, double noise, double **f0,
                   double **y, int **label, lerr *e)
{
    int K = T->K, dk = p->d * p->k;
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
    double *z = dalloc((size_t)n * K);
    outputs(T, n, dk, Phi, *f0, p->Delta, z);
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

int teacher_ntk_new(const spec *s, long seed, const char *cache_dir, problem **out, lerr *e);

// Settings the files force (checked before anything is written): targets
// from a file have no planted shift, so teacher.rank must be 0; a test set
// needs generated features and targets.  The files themselves are read and
// their shapes checked.
int teacher_ntk_check(const spec *s, lerr *e)
{
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

int teacher_ntk_new(const spec *s, long seed, const char *cache_dir, problem **out, lerr *e)
{
    (void)cache_dir;   // (features: mlp will keep its pretrained network there)
    problem *p = xcalloc(1, sizeof *p);
    ntk_data *T = xcalloc(1, sizeof *T);
    p->ops = &ntk_ops;
    p->impl = T;
    p->teacher = "ntk";
    p->convex_reference = 1;
    p->sigma_dev = NAN;   // no input covariance: sigma_dev and err_op_bound do not apply
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
    if (!rc && !(T->Phi = features(s, seed, "ntk-features", p->n, T->K, dk, e))) rc = -1;
    if (!rc)
        rc = targets(s, seed, "ntk", p, T, p->n, T->Phi, s->teacher.noise, &T->f0, &T->y,
                     &T->label, e);
    if (!rc && s->teacher.n_test > 0) {
        p->n_test = s->teacher.n_test;
        T->Phit = features(s, seed, "ntk-features-test", p->n_test, T->K, dk, e);
        rc = targets(s, seed, "ntk-test", p, T, p->n_test, T->Phit, 0.0, &T->f0t, &T->yt,
                     &T->labelt, e);
    }
    if (!rc) rc = problem_finish(p, s->teacher.rank > 0 ? s->teacher.rank : 1, e);
    if (rc) {
        problem_free(p);
        return rc;
    }
    *out = p;
    return 0;
}
