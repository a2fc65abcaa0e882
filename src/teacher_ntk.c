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
    double *D, *z, *r, *grad;   // (d, k), (N K), (N K), (d, k)
    double *zt;                 // (n_test K)
    const int *rows;            // the batch's points (nb), or NULL: all N
    int nb;
    double *yb;                 // (N K) the batch's targets (squared)
    int *labelb;                // (N) the batch's labels (cross-entropy)
} ntk_run;

// Loss of outputs z: (n, K) against the targets; r (if not NULL) = dL/dz.
static double ntk_loss_of(const ntk_data *T, int n, const double *z, const double *y,
                          const int *label, double *r)
{
    int K = T->K;
    double L = 0.0;
    for (int i = 0; i < n; i++) {
        const double *zi = z + (size_t)i * K;
        if (!T->ce) {
            for (int c = 0; c < K; c++) {
                double d = zi[c] - y[(size_t)i * K + c];
                L += 0.5 * d * d;
                if (r) r[(size_t)i * K + c] = d / n;
            }
            continue;
        }
        double mx = zi[0];
        for (int c = 1; c < K; c++) mx = fmax(mx, zi[c]);
        double sum = 0.0;
        for (int c = 0; c < K; c++) sum += exp(zi[c] - mx);
        L += mx + log(sum) - zi[label[i]];
        if (r)
            for (int c = 0; c < K; c++)
                r[(size_t)i * K + c] = (exp(zi[c] - mx) / sum - (c == label[i])) / n;
    }
    return L / n;
}

// z = f0 + Phi vec(D) for n points.
static void outputs(const ntk_data *T, int n, int dk, const double *Phi, const double *f0,
                    const double *D, double *z)
{
    memcpy(z, f0, sizeof(double) * (size_t)n * T->K);
    mm('N', 'N', n * T->K, 1, dk, 1.0, Phi, D, 1.0, z);
}

// A batch: for each of its points i (position b), z_b = f0_i + Phi_i vec(D)
// with Phi_i: (K, d k) its rows of Phi; L = the loss of those nb points;
// J = -sum_b Phi_i^T r_b.
static double ntk_batch_dense(const ntk_data *T, ntk_run *w, int dk, const double *D,
                              double *J)
{
    int K = T->K;
    for (int b = 0; b < w->nb; b++) {
        size_t i = (size_t)w->rows[b];
        memcpy(w->z + (size_t)b * K, T->f0 + i * K, sizeof(double) * K);
        mm('N', 'N', K, 1, dk, 1.0, T->Phi + i * K * dk, D, 1.0, w->z + (size_t)b * K);
        if (T->y) memcpy(w->yb + (size_t)b * K, T->y + i * K, sizeof(double) * K);
        if (T->label) w->labelb[b] = T->label[i];
    }
    double L = ntk_loss_of(T, w->nb, w->z, w->yb, w->labelb, J ? w->r : NULL);
    if (J) {
        memset(J, 0, sizeof(double) * (size_t)dk);
        for (int b = 0; b < w->nb; b++)
            mm('T', 'N', dk, 1, K, -1.0, T->Phi + (size_t)w->rows[b] * K * dk,
               w->r + (size_t)b * K, 1.0, J);
    }
    return L;
}

static int ntk_eval_dense(model *m, const double *D, double *loss, double *J, lerr *e)
{
    (void)e;
    const problem *p = m->p;
    const ntk_data *T = p->impl;
    ntk_run *w = m->impl;
    int n = p->n, dk = p->d * p->k;
    if (w->rows) {
        *loss = ntk_batch_dense(T, w, dk, D, J);
        return 0;
    }
    outputs(T, n, dk, T->Phi, T->f0, D, w->z);
    *loss = ntk_loss_of(T, n, w->z, T->y, T->label, J ? w->r : NULL);
    if (J) mm('T', 'N', dk, 1, n * T->K, -1.0, T->Phi, w->r, 0.0, J);   // J = -Phi^T r
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
    outputs(T, p->n_test, p->d * p->k, T->Phit, T->f0t, D, w->zt);
    return ntk_loss_of(T, p->n_test, w->zt, T->yt, T->labelt, NULL);
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
    w->z = dalloc((size_t)p->n * T->K);
    w->r = dalloc((size_t)p->n * T->K);
    w->zt = dalloc((size_t)(p->n_test > 0 ? p->n_test : 1) * T->K);
    w->yb = dalloc((size_t)p->n * T->K);
    w->labelb = xcalloc((size_t)p->n, sizeof(int));
    m->impl = w;
    return 0;
}

static void ntk_model_free(model *m)
{
    ntk_run *w = m->impl;
    if (!w) return;
    free(w->D), free(w->grad), free(w->z), free(w->r), free(w->zt);
    free(w->yb), free(w->labelb);
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
    .test_loss_dense = ntk_test_loss,
};

int teacher_ntk_new(const spec *s, long seed, problem **out, lerr *e);

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
    int rc = teacher_ntk_new(s, 0, &p, e);   // reads and checks every file
    if (!rc) problem_free(p);
    return rc;
}

int teacher_ntk_new(const spec *s, long seed, problem **out, lerr *e)
{
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
