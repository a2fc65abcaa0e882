// metrics.h: what is logged at each step (theory/THEORY.md section 5).
#ifndef LORALAB_METRICS_H
#define LORALAB_METRICS_H

#include "problem.h"

typedef struct {
    double loss;       // training loss L
    double risk;       // 1/2 ||A B - T||_F^2  (= 1/2 ||W - W_nat||_F^2)
    double align_a;    // sin of the largest angle, U_{q}(A) vs U_{r*}(G)
    double align_b;    // sin of the largest angle, V_{q}(B^T) vs V_{r*}(G)
    double align_a_star;   // the same against U_{r*}(Delta) (nan without a target shift)
    double align_b_star;   // the same against V_{r*}(Delta)
    double grad_norm;  // (||dL/dA||^2 + ||dL/dB||^2)^(1/2)  (full: ||J||_F)
    double err_op;     // ||A B - T||_op
    double balance;    // ||A^T A - B B^T||_F  (full: nan)
    double test_loss;  // loss on the held-out test set (nan without one)
    double objective;  // loss + lambda/2 (||A||^2 + ||B||^2)  (full: + lambda ||D||_*)
    double gap;        // (objective - f_star) / |f_star|  (nan without a convex reference)
    double cert;       // ||grad L(A B)||_op / lambda  (nan when lambda = 0)
    double rank_ab;    // singular values of A B above RANK_REL_TOL s_1
    double batch_loss; // loss of the batch the step's update uses (optimizer.batch > 0;
                       //   train.c); = loss for full-batch runs
    double test_acc;   // test accuracy (problem_ops.test_acc; nan without it)
} metrics;

// Names of the metrics in CSV column order, and the values in that order.
extern const char *const metric_names[];
enum { NMETRICS = 16 };
void metrics_values(const metrics *m, double *out);

typedef struct metrics_work metrics_work;

// Work space for one run (no allocation per logged step).
metrics_work *metrics_work_new(model *m);
void metrics_work_free(metrics_work *w);

// Choose the small-matrix kernels (on = 1, small_linalg.c) or LAPACK (on = 0)
// for this work space; metrics_work_new picks by size.  Returns -1 (nothing
// changed) when the small kernels cannot serve it (dense route, or s > 64).
// For tests and benchmarks.
int metrics_work_use_small(metrics_work *w, int on);

// Metrics at W = base + A B.  A: (d, r), B: (r, k); gA, gB: loss gradients.
// Both set batch_loss = loss (train.c overwrites it for minibatch runs).
int metrics_factors(metrics_work *w, const double *A, const double *B, const double *gA,
                    const double *gB, double loss, metrics *out, lerr *e);
// Metrics at W = base + D (full fine-tuning).  D, J: (d, k).
int metrics_dense(metrics_work *w, const double *D, const double *J, double loss,
                  metrics *out, lerr *e);

#endif
