// problem.h: what a teacher makes, and the only way optimisers see data.
//
// A `problem` holds one teacher's data and ground truth; it is immutable once
// built.  A `model` is one run's view of it: the base weight
//     base = W0 + D0,  D0 = -A_off B_off  (zero unless the initialiser moves it,
//                                          as lora-ga and pissa do)
// and the adapted weight W = base + A B (factored optimisers) or W = base + D
// (full fine-tuning).  The model owns the run's work buffers, so evaluation
// never allocates.
//
// Losses and gradients (theory/THEORY.md sections 1, 2):
//   L(W),  J(W) = -dL/dW,  dL/dA = -J B^T,  dL/dB = -A^T J.
// Ground truth for metrics: W_nat = W0 + Delta, so the risk of the adapter is
//   R = 1/2 ||A B - T||_F^2  with  T = Delta - D0 = Tl Tr   (a low-rank product).
#ifndef LORALAB_PROBLEM_H
#define LORALAB_PROBLEM_H

#include "activation.h"
#include "spec.h"
#include "util.h"

typedef struct problem problem;
typedef struct model model;

typedef struct {
    // Loss and gradients at W = base + A B.  A: (d, r), B: (r, k),
    // gA: (d, r), gB: (r, k).
    int (*eval_factors)(model *m, const double *A, const double *B, double *loss,
                        double *gA, double *gB, lerr *e);
    // Loss and J = -dL/dW at W = base + D.  D, J: (d, k); J may be NULL.
    int (*eval_dense)(model *m, const double *D, double *loss, double *J, lerr *e);
    // Teacher-specific part of model_new (the shift is already in m): set up
    // m->impl.  Called once per run.
    int (*model_init)(model *m, lerr *e);
    void (*model_free)(model *m);
    void (*problem_free)(problem *p);
    // Optional: test loss at W = base + D (teachers whose test set is not the
    // generic act(Xt W) vs Yt).  D: (d, k).
    double (*test_loss_dense)(model *m, const double *D);
    // Optional: minibatches (NULL: the teacher does not hold its training rows,
    // e.g. linear with gram statistics, and config refuses optimizer.batch > 0).
    // With L(W) = (1/N) sum_i l_i(W) over the N training rows (points for
    // ntk), set_batch(m, rows, nb) -- rows: (nb) distinct indices in 0 .. N-1,
    // kept valid by the caller -- makes every following eval_factors and
    // eval_dense of m evaluate the batch loss and its gradients
    //   L_b(W) = (1/nb) sum_{i in rows} l_i(W)
    // (the same per-row terms, scaled by 1/nb instead of 1/N), until the next
    // call; set_batch(m, NULL, 0) returns to the full data.  Only the batch's
    // rows are read, no (N, .) pass is made: a factored evaluation costs
    // O(nb (d + k) r) besides gathering their rows of X (nonlinear, linear qr;
    // per run, the first call makes X base: (N, k) once when the teacher does
    // not keep it), a dense one O(nb d k) (ntk: O(d k r + nb K d k)).  It may
    // allocate buffers on its first call (and when nb grows); evaluations
    // still never allocate.
    int (*set_batch)(model *m, const int *rows, int nb, lerr *e);
    // 1: eval_factors spreads its work over m->threads threads of its own,
    // each making single-threaded BLAS calls.  Training then keeps BLAS at one
    // thread between steps too (train.c), so that OpenBLAS's pool, woken by
    // the optimiser's small products, never spins on the cores the step needs.
    int own_threads;
    // Optional: the loss's curvature along dD at W = base + D (of the batch,
    // as eval_dense), C = d/dt grad L(D + t dD), exact (hessian.c builds
    // exact Hessian-vector products of the LoRA objective from it; without it
    // they are finite differences of the gradient).  D, dD, C: (d, k).
    int (*curvature_dense)(model *m, const double *D, const double *dD, double *C, lerr *e);
    // Optional: the test loss at W = base + A B without forming A B
    // (A: (d, r), B: (r, k)); without it model_test_loss forms A B and calls
    // test_loss_dense.
    double (*test_loss_factors)(model *m, const double *A, const double *B);
    // Optional: classification accuracy on the test set (teachers whose
    // outputs are class scores: mlp), the fraction of test rows whose largest
    // output is their label, at W = base + A B (A: (d, r), B: (r, k)) or, with
    // A == NULL, W = base + D (D passed as B: (d, k)).  Without it the
    // test_acc column is nan.
    double (*test_acc)(model *m, const double *A, const double *B);
} problem_ops;

struct problem {
    const problem_ops *ops;
    const char *teacher;       // registered teacher name
    int d, k, n;
    double *W0;                // (d, k) pretrained weight
    double *Delta;             // (d, k) true shift: W_nat = W0 + Delta
    int dq;                    // rank of the factorisation Delta = Dl Dr
    double *Dl, *Dr;           // (d, dq), (dq, k)
    // One-step full gradient G = J(W0) and its thin SVD G = UG diag(SG) VGt,
    // truncated to the gq triplets runs use when min(d, k) is large (problem.c).
    double *G;                 // (d, k)
    int gq;                    // min(d, k), or max(r*, 2 lora.rank) above 1024
    double *UG, *SG, *VGt;     // (d, gq), (gq), (gq, k)
    int rstar;                 // r*: size of the subspaces align_a/align_b compare to
    double delta_op;           // ||Delta||_op
    // Delta's singular values SD: (dq), decreasing, and its top-r* singular
    // subspaces UD: (d, r*), VD: (k, r*) (orthonormal columns) that
    // align_a_star/align_b_star compare to (problem.c, from Dl Dr).  SD, UD, VD
    // are NULL when Delta is not the shift the adapter learns (ntk: its truth
    // lives in the linearised model); UD, VD also when rank(Delta) < r*.
    double *SD, *UD, *VD;
    int convex_reference;      // 1: runs compare with the convex optimum f_star of
                               //   min L(delta) + lambda ||delta||_* (ntk)
    double f_star;             // that optimum once solved (nan otherwise)
    double sigma_dev;          // ||Sigma_hat - I||_op (nan when the teacher has no
                               //   Sigma_hat or it was too large to compute)
    // Held-out test set (teacher.n_test > 0): Xt: (n_test, d), Yt: (n_test, k),
    // clean labels act(Xt W_nat); test_loss = 1/(2 n_test) ||act(Xt W) - Yt||^2.
    int n_test;
    double *Xt, *Yt;
    activation_fn act;         // NULL: identity
    double slope;              // leaky ReLU slope
    // 1: no ground truth at all (real data): risk and err_op are nan, as are
    //   align_*_star (SD, UD, VD NULL); Delta = 0 and dq = 0 stand in for T.
    int no_truth;
    // The pretrained network's loss and accuracy on its own (source-class)
    // training rows and its test accuracy on theirs, for summary.csv (the mlp
    // teacher sets them and pretrained = 1; problem_new makes them nan otherwise).
    int pretrained;
    double pre_train_loss, pre_train_acc, pre_test_acc;
    void *impl;                // the teacher's own data
};

struct model {
    const problem *p;
    int r;                     // LoRA rank (0 for full fine-tuning)
    double wd;                 // weight decay lambda (for the objective in metrics)
    int roff;                  // rank of the shift D0 = -A_off B_off (0: none)
    double *Aoff, *Boff;       // (d, roff), (roff, k)
    int tq;                    // T = Delta - D0 = Tl Tr, tq = dq + roff
    double *Tl, *Tr;           // (d, tq), (tq, k)
    double *XtBase;            // (n_test, k) Xt base
    double *XtA, *Zt;          // (n_test, r), (n_test, k) test-loss buffers
    double *Dbuf;              // (d, k) A B for test_loss_dense
    int threads;               // threads an own_threads step uses: the
                               //   machine's BLAS threads when the model was made
                               //   (blas_budget, also inside a serial section)
    void *impl;                // teacher's per-run buffers
};

// Build the model for one run: LoRA rank r, optional shift (Aoff: (d, roff),
// Boff: (roff, k), both copied; pass roff = 0 for none).
model *model_new(const problem *p, int r, const double *Aoff, const double *Boff, int roff,
                 lerr *e);
void model_free(model *m);

static inline int model_eval_factors(model *m, const double *A, const double *B,
                                     double *loss, double *gA, double *gB, lerr *e)
{
    return m->p->ops->eval_factors(m, A, B, loss, gA, gB, e);
}
static inline int model_eval_dense(model *m, const double *D, double *loss, double *J,
                                   lerr *e)
{
    return m->p->ops->eval_dense(m, D, loss, J, e);
}

// Evaluate on the rows `rows`: (nb) from now on, or on all data (rows NULL);
// see problem_ops.set_batch.  LERR_RUN when the teacher cannot.
static inline int model_set_batch(model *m, const int *rows, int nb, lerr *e)
{
    if (!m->p->ops->set_batch)
        return rows ? lerr_run(e, "the %s teacher does not hold its training rows, so it "
                               "cannot evaluate minibatches", m->p->teacher) : 0;
    return m->p->ops->set_batch(m, rows, nb, e);
}

// Test loss at W = base + A B (A, B: (d, r), (r, k)) or, with A == NULL,
// W = base + D (D passed as B: (d, k)); nan without a test set.
double model_test_loss(model *m, const double *A, const double *B);

// Test accuracy (problem_ops.test_acc) at the same W as model_test_loss;
// nan without a test set or when the teacher does not classify.
double model_test_acc(model *m, const double *A, const double *B);

// 0 when problem_new keeps the full SVD of G for s (min(d, k) <= 1024), else
// the number of top triplets it keeps besides r*: problems built from specs
// with the same teacher section, seed and value here are identical.
int problem_svd_need(const spec *s);

// Build the teacher named by s->teacher.model for experiment seed `seed`.
// cache_dir (may be NULL: nothing cached) is where a teacher keeps what it
// computes once for many cells (the mlp teacher's pretrained network).
int problem_new(const spec *s, long seed, const char *cache_dir, problem **out, lerr *e);
void problem_free(problem *p);

// Shared by teachers: compute G = J(W0) (if p->G is NULL) and Delta's low-rank
// factors (Dl, Dr); `rstar` is the teacher rank.  (problem_new then takes the
// SVD of G: UG, SG, VGt.)
int problem_finish(problem *p, int rstar, lerr *e);

// (Re)compute SD, UD, VD from the factors Dl, Dr (problem_new calls it for
// teachers whose Delta is the target shift).
int problem_truth_svd(problem *p, lerr *e);

#endif
