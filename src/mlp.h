// mlp.h: the maths of a two-layer ReLU network on real data (issue 17):
// forward and backward passes, the LoRA and dense fine-tuning views of its
// first layer, minibatch Adam pretraining and the structured NTK features.
//
// The network, for an input x: (d) and K outputs,
//   f(x) = V^T sigma(W1^T x),   W1: (d, h),  V: (h, K),  sigma = ReLU
// (sigma'(z) = 1 for z > 0, 0 for z <= 0, activation.c's choice).  Data are
// row-major as everywhere in loralab: X: (N, d) holds x_i^T in row i, so the
// hidden pre-activations of all rows are Z = X W1: (N, h), the outputs
// F = sigma(Z) V: (N, K); labels y: (N) are classes 0 .. K-1.
//
// Losses (the same conventions as the ntk teacher's):
//   squared        L = 1/(2N) sum_i ||F_i - e_{y_i}||^2       (one-hot targets)
//   cross_entropy  L = 1/N sum_i -log softmax(F_i)_{y_i}
// The loss evaluations (mlp_loss_grad, mlp_ft after mlp_ft_set_batch) take a
// row subset `rows`: (nb) distinct indices in 0 .. N-1 (NULL: all N rows) and
// then evaluate the mean over those rows (1/nb instead of 1/N): a minibatch
// in batch.h's sense.
//
// Threads: the routines start none of their own (OpenBLAS may use its
// threads inside the larger block products, without changing any result);
// an mlp_work, mlp_ft or mlp_ntk holds scratch, so it serves one thread at a
// time.
//
// Gradients here are dL/d(.) (not J = -dL/dW as in problem.h: a teacher
// built on this negates them).  Sums over rows are made in blocks of
// MLP_ROWS rows, in row order, so every result is the same bit for bit on
// every run (OpenBLAS splits a product's rows and columns among threads,
// never its sums).
#ifndef LORALAB_MLP_H
#define LORALAB_MLP_H

#include <stddef.h>

#include "util.h"

typedef enum { MLP_SQUARED = 0, MLP_CROSS_ENTROPY = 1 } mlp_loss;

// Rows per block of every pass over the data.
#define MLP_ROWS 128

// "squared" / "cross_entropy" -> loss; returns 0, or -1 for an unknown name.
int mlp_loss_find(const char *name, mlp_loss *out);

// Loss of outputs F: (n, K) against labels y: (n) (all in 0 .. K-1), summed
// over the n rows and multiplied by `scale` (1/N for a mean); dF: (n, K) =
// scale * d(sum_i l_i)/dF when not NULL:
//   squared        l_i = ||F_i - e_{y_i}||^2 / 2,       dl_i/dF_i = F_i - e_{y_i}
//   cross_entropy  l_i = logsumexp(F_i) - F_{i,y_i},     dl_i/dF_i = softmax(F_i) - e_{y_i}
// (logsumexp shifted by max_c F_ic, so no overflow).
double mlp_output_loss(mlp_loss loss, const double *F, const int *y, int n, int K, double scale,
                       double *dF);

// 0 when every label y: (n) is in 0 .. K-1; else an input error naming the
// first bad one (`what` names the data in the message).
int mlp_check_labels(const int *y, int n, int K, const char *what, lerr *e);

// ---------------------------------------------------------------------------
// The whole network (pretraining).

typedef struct {
    int d, h, K;
    double *W1;   // (d, h)
    double *V;    // (h, K)
} mlp_net;

mlp_net *mlp_net_new(int d, int h, int K);   // zero weights
void mlp_net_free(mlp_net *net);

// The standard init (He / Kaiming normal for the ReLU layer, LeCun for the
// linear output layer):
//   W1_jk ~ N(0, 2/d),  V_kc ~ N(0, 1/h),  all independent,
// W1 from the stream (seed, "mlp-W1|d=..|h=.."), V from (seed, "mlp-V|h=..|K=..")
// (random.h).
void mlp_net_init(mlp_net *net, long seed);

// Scratch for mlp_loss_grad and mlp_predict: buffers for one block of rows,
// allocated once (no allocation per evaluation).
typedef struct mlp_work mlp_work;
mlp_work *mlp_work_new(int d, int h, int K);
void mlp_work_free(mlp_work *w);

// Loss and gradients of both layers over the rows `rows`: (nb) of X: (N, d),
// y: (N) (rows NULL: all n = N rows; else n = nb), block by block:
//   Z = X_b W1 (m, h);  H = sigma(Z), S = sigma'(Z);  F = H V (m, K);
//   dF = dL/dF (loss above, scale 1/n);
//   dL/dV += H^T dF;    dZ = (dF V^T) . S;    dL/dW1 += X_b^T dZ.
// gW1: (d, h), gV: (h, K), either may be NULL.  Cost O(n h (d + K)).
void mlp_loss_grad(const mlp_net *net, mlp_loss loss, const double *X, const int *y, int N,
                   const int *rows, int nb, mlp_work *w, double *L, double *gW1, double *gV);

// Outputs F: (N, K) = sigma(X W1) V of X: (N, d).
void mlp_forward(const mlp_net *net, const double *X, int N, mlp_work *w, double *F);

// Fraction of the N rows of X: (N, d) whose largest output is the label
// y: (N) (ties to the lowest class index).
double mlp_accuracy(const mlp_net *net, const double *X, const int *y, int N, mlp_work *w);

// ---------------------------------------------------------------------------
// Pretraining: both layers by minibatch Adam.

typedef struct {
    int epochs;          // >= 1
    int batch;           // 1 <= batch <= N rows per step (batch.h's stream)
    double lr;           // Adam's eta (both layers)
    long seed;           // init and batches
    double beta1, beta2, eps;   // Adam's constants (0.9, 0.999, 1e-8 are standard)
} mlp_pretrain_opts;

// From mlp_net_init(net, o->seed), o->epochs epochs of ceil(N / batch) steps;
// step t uses the rows batch_rows(stream(o->seed, N, batch), t) (batch.h) and
// updates W1 and V by Adam with their batch gradients (adam_apply, optim.h:
// the formulas of optim.c, one (m, v) pair per layer, update counter t + 1,
// no weight decay).  *train_acc (if not NULL) = mlp_accuracy on all N rows
// afterwards; *train_loss (if not NULL) the full-data loss.  Input errors:
// bad options or labels; LERR_INTERRUPTED on SIGINT (checked every epoch).
// Deterministic: the same bits for the same inputs.
int mlp_pretrain(mlp_net *net, mlp_loss loss, const double *X, const int *y, int N,
                 const mlp_pretrain_opts *o, double *train_loss, double *train_acc, lerr *e);

// ---------------------------------------------------------------------------
// Fine-tuning W1 with V frozen: W1 = W0 + A B (LoRA, A: (d, r), B: (r, h)) or
// W1 = W0 + D (full fine-tuning of W1, D: (d, h)).  XW0 = X W0: (N, h) is
// computed once, so a factored evaluation of n rows costs
// O(n r (d + h) + n h K), never O(n d h).

typedef struct mlp_ft mlp_ft;

// Keeps pointers to X: (N, d), y: (N), W0: (d, h), V: (h, K) (valid while
// the mlp_ft lives); computes XW0.  rmax: the largest LoRA rank evaluated.
// Input error when a label is outside 0 .. K-1.
int mlp_ft_new(const double *X, const int *y, int N, int d, const double *W0, int h,
               const double *V, int K, mlp_loss loss, int rmax, mlp_ft **out, lerr *e);
void mlp_ft_free(mlp_ft *ft);

// Evaluate the rows `rows`: (nb) from now on (NULL: all N rows again); the
// caller keeps rows valid.  (The block buffers are made by mlp_ft_new, so
// no evaluation allocates.)
void mlp_ft_set_batch(mlp_ft *ft, const int *rows, int nb);

// Loss and gradients at W1 = W0 + A B, A: (d, r), B: (r, h), r <= rmax;
// gA: (d, r), gB: (r, h), either may be NULL.  Block by block:
//   XA = X_b A (m, r);  Z = XW0_b + XA B (m, h);  H = sigma(Z), S = sigma'(Z);
//   F = H V;  dF;  dZ = (dF V^T) . S;
//   dL/dB += XA^T dZ (r, h);   dL/dA += X_b^T (dZ B^T) (d, r),
// which are dL/dA = X^T dZ B^T = (dL/dW1) B^T and dL/dB = A^T (dL/dW1).
// LERR_RUN (nothing evaluated) when r > rmax.
int mlp_ft_eval_factors(mlp_ft *ft, const double *A, const double *B, int r, double *L,
                        double *gA, double *gB, lerr *e);

// Loss and gD = dL/dD (d, h) (may be NULL) at W1 = W0 + D, D: (d, h) or NULL
// for D = 0 (then no X D product):
//   Z = XW0_b + X_b D;  ...;  dL/dD += X_b^T dZ.   Cost O(n d h).
void mlp_ft_eval_dense(mlp_ft *ft, const double *D, double *L, double *gD);

// *acc = the fraction of the evaluated rows (the batch, or all N) whose
// largest output (first on ties) is their label, at W1 = W0 + A B (A not
// NULL; A: (d, r), B: (r, h)), W0 + D (A NULL, D: (d, h)) or W0 (both NULL).
// LERR_RUN when A is given and r > rmax.  Cost as the loss evaluations.
int mlp_ft_accuracy(mlp_ft *ft, const double *A, const double *B, int r, const double *D,
                    double *acc, lerr *e);

// The one-step full gradient G = dL/dW1 at W1 = W0 over all N rows (whatever
// the batch): G: (d, h).  (J(W0) = -G in problem.h's terms.)
void mlp_ft_full_gradient(mlp_ft *ft, double *G);

// ---------------------------------------------------------------------------
// The NTK features of the network at W1 with respect to W1: for row i and
// output c,
//   G_{i,c} = d f_c(x_i) / d W1 = x_i u_{i,c}^T  (d, h),
//   u_{i,c} = V_c . s_i,  s_i = sigma'(W1^T x_i)  (h),   V_c column c of V,
// each of rank one.  Phi: (N K, d h) stacks vec(G_{i,c}) (row i K + c) but is
// never formed: with S: (N, h) the rows s_i^T,
//   (Phi vec(D))_{i,c} = <G_{i,c}, D> = x_i^T D u_{i,c} = (((X D) . S) V)_{i,c},
//   <G_{i,c}, A B>     = (x_i^T A)(B u_{i,c}) = ((((X A) B) . S) V)_{i,c},
//   Phi^T w  = sum_{i,c} w_{i,c} G_{i,c} = X^T ((w V^T) . S)   (w: (N, K)),
//   <G_{i,c}, G_{j,e}> = (x_i^T x_j)(u_{i,c}^T u_{j,e}).

typedef struct mlp_ntk mlp_ntk;

// Keeps pointers to X: (N, d) and V: (h, K); computes S = sigma'(X W1): (N, h)
// from W1: (d, h) (not kept).  rmax: the largest rank mlp_ntk_apply_factors
// is called with.
mlp_ntk *mlp_ntk_new(const double *X, int N, int d, const double *W1, int h, const double *V,
                     int K, int rmax);
void mlp_ntk_free(mlp_ntk *t);

// Evaluate the rows `rows`: (nb) distinct indices in 0 .. N-1 from now on
// (NULL: all N rows again): every product below then uses the features of
// those rows only, in their order, with n = nb in place of N (outputs and
// output weights (nb, K), the kernel (nb K, nb K)) -- a minibatch of points.
// The rows' x_i and s_i are gathered here, O(nb (d + h)); buffers grow on the
// first call with a larger nb, products never allocate.  rows need not stay
// valid afterwards.
void mlp_ntk_set_rows(mlp_ntk *t, const int *rows, int nb);

// out: (N, K) = Phi vec(A B), A: (d, r), B: (r, h).  O(N r (d + h) + N h K).
// LERR_RUN when r > rmax (also for mlp_ntk_adjoint_factors).
int mlp_ntk_apply_factors(mlp_ntk *t, const double *A, const double *B, int r, double *out,
                          lerr *e);
// out: (N, K) = Phi vec(D), D: (d, h).  O(N d h + N h K).
void mlp_ntk_apply_dense(mlp_ntk *t, const double *D, double *out);
// out: (d, h) = mat(Phi^T vec(w)), w: (N, K).  O(N h K + N d h).
void mlp_ntk_adjoint(mlp_ntk *t, const double *w, double *out);
// With M = mat(Phi^T vec(w)) (w: (N, K)): gA = M B^T: (d, r), gB = A^T M: (r, h)
// (the gradients wrt A, B of a loss of Phi vec(A B) whose gradient in the
// outputs is w), without forming M: P = (w V^T) . S (N, h);
// gA = X^T (P B^T), gB = (X A)^T P.  O(N r (d + h) + N h K).
int mlp_ntk_adjoint_factors(mlp_ntk *t, const double *w, const double *A, const double *B,
                            int r, double *gA, double *gB, lerr *e);
// The kernel Phi Phi^T: Kmat: (N K, N K), entry (i K + c, j K + e) =
// (x_i^T x_j)(u_{i,c}^T u_{j,e}).  O(N^2 (d + K^2 h)).
void mlp_ntk_gram(mlp_ntk *t, double *Kmat);

#endif
