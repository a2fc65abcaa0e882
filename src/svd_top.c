// TEMP stub
#include "svd_top.h"
#include <stdlib.h>
#include <string.h>
#include "linalg.h"
int svd_top(const double *M, int m, int n, int q, double *U, double *S, double *Vt,
            svd_top_opts *o, lerr *e)
{
    (void)o;
    int mn = m < n ? m : n;
    double *Uf = dalloc((size_t)m * mn), *Sf = dalloc(mn), *Vf = dalloc((size_t)mn * n);
    int rc = svd_thin(M, m, n, Uf, Sf, Vf, e);
    for (int i = 0; i < m; i++) memcpy(U + (size_t)i * q, Uf + (size_t)i * mn, sizeof(double) * q);
    memcpy(S, Sf, sizeof(double) * q);
    memcpy(Vt, Vf, sizeof(double) * (size_t)q * n);
    free(Uf), free(Sf), free(Vf);
    return rc;
}
