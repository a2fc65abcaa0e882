// ntk_features.h: the features of the ntk teacher's linearised model as an
// operator with two backends (theory/THEORY.md section 7).
//
// A set of n points has features G_{i,c}: (d, k) for point i < n and output
// c < K; stacking vec(G_{i,c}) as row i K + c gives Phi: (n K, d k), and
// the linearised outputs are z = f0 + Phi vec(delta).  Backends:
//   dense  Phi held as an array (generated features, or a .npy file);
//   mlp    the Jacobians of a two-layer ReLU network f(x) = V^T sigma(W1^T x)
//          with respect to W1: (d, h) (k = h) at its weights (mlp.h):
//            G_{i,c} = x_i u_{i,c}^T,  u_{i,c} = V_c . sigma'(W1^T x_i),
//          each of rank one, never formed: a product costs O(n d h + n h K)
//          for a dense delta, O(n r (d + h) + n h K) for delta = A B.  No
//          (n K, d h) array exists anywhere.
//
// The operator's one primitive is a pass over the evaluated points (all n,
// or a batch: ntk_op_set_rows), b = 0 .. nb-1 (the mlp backend visits them
// in that order; the dense one in runs of consecutive b, the runs first to
// last or last to first: a point rule must not depend on the order):
//   z_b = Phi_i vec(D),  u_b = Phi_i vec(dD)      (K each; i the point's index)
//   s_b = point(ctx, b, i, z_b, u_b)              (the caller's per-point rule)
//   M   = sum_b Phi_i^T s_b = mat(Phi^T s): (d, k)
// which gives a loss and its gradient (s = dl/dz), a curvature product
// (s = d2l/dz2 u) or the plain products Phi vec(D) and Phi^T w.  The dense
// backend fuses it: each point's K rows of Phi are read from memory once
// (for z, u) and again from cache (for M), the memory floor of a step; the
// direction alternates so that the part of Phi the last pass read last is
// read first, from L2 (ntk_features.c: dense_pass).  The mlp backend makes
// the nb outputs in three block products, calls point for each, then makes
// M (or, for a factored delta, the gradients M B^T and A^T M without M) in
// three more.  Sums run in a fixed order: the same bits whatever the thread
// count or the direction.
#ifndef LORALAB_NTK_FEATURES_H
#define LORALAB_NTK_FEATURES_H

#include "util.h"

typedef enum { NTK_FEATURES_DENSE = 0, NTK_FEATURES_MLP = 1 } ntk_features_kind;

// The features of n points (immutable once made).
typedef struct {
    ntk_features_kind kind;
    int n, K, d, k;      // points, outputs; delta: (d, k)
    double *Phi;         // dense: (n K, d k)
    double *X;           // mlp: (n, d), the points' inputs x_i^T as rows
    double *W1, *V;      // mlp: (d, k), (k, K): the network the Jacobians are taken at
} ntk_features;

// len doubles, zero, on a 64-byte boundary (for Phi); freed with free().
double *ntk_features_alloc(size_t len);
// Dense features; takes ownership of Phi: (n K, d k) (copied to a 64-byte
// boundary when it is not on one).
void ntk_features_set_dense(ntk_features *F, double *Phi, int n, int K, int d, int k);
// The Jacobians wrt W1 of the network (W1: (d, h), V: (h, K)) at the inputs
// X: (n, d); the three are copied.
void ntk_features_set_mlp(ntk_features *F, const double *X, int n, int d, const double *W1,
                          int h, const double *V, int K);
void ntk_features_clear(ntk_features *F);

// One run's operator on F (scratch buffers: one thread at a time; F must
// outlive it).  rmax: the largest rank ntk_op_pass_factors is called with.
typedef struct ntk_op ntk_op;
ntk_op *ntk_op_new(const ntk_features *F, int rmax);
void ntk_op_free(ntk_op *op);

// Evaluate the points `rows`: (nb) distinct indices in 0 .. n-1 (kept valid
// by the caller) from now on, NULL: all n.  The mlp backend gathers the
// points' rows here, O(nb (d + k)), allocating when nb grows.
void ntk_op_set_rows(ntk_op *op, const int *rows, int nb);
// The number of evaluated points.
int ntk_op_points(const ntk_op *op);

// The per-point rule: b the position among the evaluated points, i the
// point's index; z: (K) = Phi_i vec(D) (NULL when D is), which point may
// change in place; u: (K) = Phi_i vec(dD) (NULL when dD is); s: (K) to fill,
// NULL when no M is wanted.
typedef void (*ntk_point_fn)(void *ctx, int b, int i, double *z, const double *u, double *s);

// The pass above at a dense D: (d, k) (or NULL), dD: (d, k) (or NULL);
// M: (d, k) or NULL (then s is not asked for).
void ntk_op_pass(ntk_op *op, const double *D, const double *dD, ntk_point_fn point, void *ctx,
                 double *M);
// The pass at D = A B (A: (d, r), B: (r, k)), returning gA = M B^T: (d, r)
// and gB = A^T M: (r, k) (either may be NULL; both NULL: s is not asked
// for) -- the gradients wrt A and B of a loss whose gradient in z is s.
// LERR_RUN when r is outside 1 .. rmax.
int ntk_op_pass_factors(ntk_op *op, const double *A, const double *B, int r, ntk_point_fn point,
                        void *ctx, double *gA, double *gB, lerr *e);

// Plain products over the evaluated points (nb): z: (nb, K) = Phi vec(D);
// M: (d, k) = mat(Phi^T vec(w)), w: (nb, K).
void ntk_op_apply(ntk_op *op, const double *D, double *z);
void ntk_op_adjoint(ntk_op *op, const double *w, double *M);

#endif
