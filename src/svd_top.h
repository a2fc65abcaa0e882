// svd_top.h: the top q singular triplets of a large dense matrix by randomized
// block subspace iteration, for when a full SVD (dgesdd) is too slow -- the
// one-step gradient G of a 4096 x 4096 layer, whose top r singular vectors
// give the spectral initialisation and the alignment metrics.
//
// Conventions as in linalg.h: double, row-major, contiguous; shapes (rows, cols).
#ifndef LORALAB_SVD_TOP_H
#define LORALAB_SVD_TOP_H

#include "util.h"

typedef struct {
    int oversample;     // extra block columns p (default 10 when 0)
    int max_iter;       // cap on subspace iterations (default 50 when 0)
    double tol;         // stop when every residual below is <= tol * s_1 (default 1e-12 when 0)
    long seed;          // random start block, via stream_new(seed, "svd_top|m=..|n=..|q=..")
    int nconv;          // only the first nconv triplets must meet tol to stop (default q
                        // when 0); useful when q exceeds the signal rank and s_q .. s_b
                        // sit in a noise bulk, where convergence is very slow
    int iters;          // out: iterations used (Rayleigh-Ritz steps)
    double resid;       // out: max_i max(||M v_i - s_i u_i||, ||M^T u_i - s_i v_i||) / s_1
                        //      (0 when s_1 = 0)
} svd_top_opts;

// Top-q singular triplets of M: (m, n), 1 <= q <= min(m, n), row-major:
//   M ~ U diag(S) Vt,  U: (m, q), S: (q) decreasing, Vt: (q, n).
// U has orthonormal columns and Vt orthonormal rows, also when M has rank < q
// (then the trailing S are ~0 and those vectors span some complement).
// `o` may be NULL (all defaults; nothing reported).  Reaching max_iter is not
// an error: o->resid says how far the triplets are from converged.
// Returns 0, or -1 with e filled (lerr_run) on LAPACK failure / bad q.
int svd_top(const double *M, int m, int n, int q, double *U, double *S, double *Vt,
            svd_top_opts *o, lerr *e);

#endif
