// teacher_mlp.c: fine-tuning a pretrained two-layer ReLU network on real data
// (issue 17; the maths in mlp.h, the data and the pretraining in
// mlp_source.h).
//
// The network f(x) = V^T sigma(W1^T x) was pretrained on the source classes;
// fine-tuning on the target classes adapts W1 only, V stays frozen:
//   W = W1 = base + A B   (LoRA: A: (d, r), B: (r, h)),  or  base + D   (full),
// so the problem's d is the input count, k = h the hidden width, and W0 the
// pretrained W1.  The loss (teacher.loss) is the mean over the teacher.n
// target rows of the squared error on one-hot targets or the cross-entropy
// (mlp.h), and
//   G = J(W0) = -dL/dW1 at W1 = W0 over all rows (problem.h's sign).
// There is no ground truth: Delta = 0 stands in for it (dq = 0), no_truth = 1
// makes risk and err_op nan, and align_a/align_b compare with the top r* =
// lora.rank singular subspaces of G.  test_loss and test_acc are measured on
// teacher.n_test target test rows.
//
// Per run, X base: (N, h) is formed once (mlp_ft_new: O(N d h)); a factored
// evaluation then costs O(n r (d + h) + n h K) for n evaluated rows (the
// batch's, or all N), a dense one O(n d h).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linalg.h"
#include "mlp.h"
#include "mlp_source.h"
#include "problem.h"

// X <- -X over n entries.
static void negate(double *X, size_t n)
{
    for (size_t i = 0; i < n; i++) X[i] = -X[i];
}

typedef struct {
    double *base;       // (d, h) = W0 - A_off B_off
    mlp_ft *ft;         // the training rows at base
    mlp_ft *ft_test;    // the test rows at base (NULL without a test set)
} mlp_run;

static int mlp_eval_factors(model *m, const double *A, const double *B, double *loss,
                            double *gA, double *gB, lerr *e)
{
    mlp_run *w = m->impl;
    return mlp_ft_eval_factors(w->ft, A, B, m->r, loss, gA, gB, e);
}

// J = -dL/dD.
static int mlp_eval_dense(model *m, const double *D, double *loss, double *J, lerr *e)
{
    (void)e;
    mlp_run *w = m->impl;
    mlp_ft_eval_dense(w->ft, D, loss, J);
    if (J) negate(J, (size_t)m->p->d * m->p->k);
    return 0;
}

static int mlp_set_batch(model *m, const int *rows, int nb, lerr *e)
{
    (void)e;
    mlp_run *w = m->impl;
    mlp_ft_set_batch(w->ft, rows, nb);
    return 0;
}

static double mlp_test_loss(model *m, const double *D)
{
    mlp_run *w = m->impl;
    if (!w->ft_test) return NAN;
    double L;
    mlp_ft_eval_dense(w->ft_test, D, &L, NULL);
    return L;
}

// The test loss at base + A B, factored: O(n_test r (d + h) + n_test h K).
static double mlp_test_loss_factors(model *m, const double *A, const double *B)
{
    mlp_run *w = m->impl;
    double L = NAN;
    lerr e = {0};
    if (w->ft_test && mlp_ft_eval_factors(w->ft_test, A, B, m->r, &L, NULL, NULL, &e)) L = NAN;
    return L;
}

// Accuracy at base + A B (A not NULL) or base + D (D passed as B).
static double mlp_test_acc(model *m, const double *A, const double *B)
{
    mlp_run *w = m->impl;
    double acc = NAN;
    lerr e = {0};
    if (w->ft_test && mlp_ft_accuracy(w->ft_test, A, A ? B : NULL, m->r, A ? NULL : B, &acc, &e))
        acc = NAN;
    return acc;
}

// base = W0 - A_off B_off; the training and test views at base.
static int mlp_model_init(model *m, lerr *e)
{
    const problem *p = m->p;
    const mlp_source *ms = p->impl;
    const mlp_net *net = ms->net;
    int d = p->d, h = p->k, K = ms->K;
    mlp_run *w = xcalloc(1, sizeof *w);
    m->impl = w;
    w->base = dalloc((size_t)d * h);
    memcpy(w->base, p->W0, sizeof(double) * (size_t)d * h);
    if (m->roff > 0) mm('N', 'N', d, h, m->roff, -1.0, m->Aoff, m->Boff, 1.0, w->base);
    int rmax = m->r > 0 ? m->r : 1;
    if (mlp_ft_new(ms->train.X, ms->train.label, ms->train.n, d, w->base, h, net->V, K, ms->loss,
                   rmax, &w->ft, e))
        return -1;
    if (ms->test.n > 0 && mlp_ft_new(ms->test.X, ms->test.label, ms->test.n, d, w->base, h,
                                     net->V, K, ms->loss, rmax, &w->ft_test, e))
        return -1;
    return 0;
}

static void mlp_model_free(model *m)
{
    mlp_run *w = m->impl;
    if (!w) return;
    mlp_ft_free(w->ft);
    mlp_ft_free(w->ft_test);
    free(w->base);
    free(w);
}

static void mlp_problem_free(problem *p) { mlp_source_free(p->impl); }

static const problem_ops mlp_ops = {
    .eval_factors = mlp_eval_factors,
    .eval_dense = mlp_eval_dense,
    .model_init = mlp_model_init,
    .model_free = mlp_model_free,
    .problem_free = mlp_problem_free,
    .test_loss_dense = mlp_test_loss,
    .set_batch = mlp_set_batch,
    .test_loss_factors = mlp_test_loss_factors,
    .test_acc = mlp_test_acc,
};

// The data and the pretrained network (mlp_source_load), W0 = W1,
// G = -dL/dW1 at W0 over all training rows, no ground truth.
int teacher_mlp_new(const spec *s, long seed, const char *cache_dir, problem **out, lerr *e)
{
    mlp_source *ms;
    if (mlp_source_load(s, seed, cache_dir, &ms, e)) return -1;
    const mlp_net *net = ms->net;
    int d = net->d, h = net->h;
    problem *p = xcalloc(1, sizeof *p);
    p->ops = &mlp_ops;
    p->impl = ms;
    p->teacher = "mlp";
    p->d = d, p->k = h, p->n = ms->train.n;
    p->n_test = ms->test.n;
    p->W0 = dalloc((size_t)d * h);
    memcpy(p->W0, net->W1, sizeof(double) * (size_t)d * h);
    p->Delta = dalloc((size_t)d * h);   // no truth: T = 0 (dq = 0)
    p->dq = 0;
    p->Dl = dalloc(1), p->Dr = dalloc(1);
    p->no_truth = 1;
    p->sigma_dev = NAN;
    p->pretrained = 1;
    p->pre_train_loss = ms->pre_train_loss;
    p->pre_train_acc = ms->pre_train_acc;
    p->pre_test_acc = ms->pre_test_acc;
    mlp_ft *ft;
    int rc = mlp_ft_new(ms->train.X, ms->train.label, ms->train.n, d, p->W0, h, net->V, ms->K,
                        ms->loss, 1, &ft, e);
    if (!rc) {
        p->G = dalloc((size_t)d * h);
        mlp_ft_full_gradient(ft, p->G);   // dL/dW1
        negate(p->G, (size_t)d * h);   // J(W0) = -dL/dW1
        mlp_ft_free(ft);
        rc = problem_finish(p, s->lora.rank, e);
    }
    if (rc) {
        problem_free(p);
        return -1;
    }
    *out = p;
    return 0;
}

// The data's input errors before any cell runs (mlp_source_check).
int teacher_mlp_check(const spec *s, lerr *e) { return mlp_source_check(s, e); }
