// TEMP stub (replaced by helper's svd_top.h)
#ifndef LORALAB_SVD_TOP_H
#define LORALAB_SVD_TOP_H
#include "util.h"
typedef struct {
    int oversample; int max_iter; double tol; long seed; int iters; double resid;
} svd_top_opts;
int svd_top(const double *M, int m, int n, int q, double *U, double *S, double *Vt,
            svd_top_opts *o, lerr *e);
#endif
