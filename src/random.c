// random.c: seeded streams and random matrices (see random.h).
#include "random.h"

#include <lapacke.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

// seed' = fold32(FNV-1a(decimal seed, '|', tag)); mt19937 takes 32-bit seeds.
gsl_rng *stream_new(long seed, const char *tag)
{
    char head[32];
    int n = snprintf(head, sizeof head, "%ld|", seed);
    unsigned long long h = fnv1a(FNV_OFFSET, head, (size_t)n);
    h = fnv1a(h, tag, strlen(tag));
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r) {
        fprintf(stderr, "loralab: out of memory allocating a random stream\n");
        exit(EXIT_RUN);
    }
    gsl_rng_set(r, (unsigned long)((h ^ (h >> 32)) & 0xffffffffULL));
    return r;
}

void gaussian_fill(gsl_rng *rng, double *X, int m, int n, double sigma)
{
    size_t len = (size_t)m * n;
    for (size_t i = 0; i < len; i++) X[i] = gsl_ran_gaussian_ziggurat(rng, 1.0) * sigma;
}

double chisq_draw(gsl_rng *rng, double nu) { return gsl_ran_chisq(rng, nu); }

int haar_orthonormal(gsl_rng *rng, int m, int q, double *Q, lerr *e)
{
    double *tau = dalloc((size_t)q);
    double *sign = dalloc((size_t)q);
    gaussian_fill(rng, Q, m, q, 1.0);
    lapack_int info = LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, m, q, Q, q, tau);
    for (int j = 0; j < q && info == 0; j++) sign[j] = Q[(size_t)j * q + j] < 0 ? -1.0 : 1.0;
    if (info == 0) info = LAPACKE_dorgqr(LAPACK_ROW_MAJOR, m, q, q, Q, q, tau);
    if (info == 0)
        for (int i = 0; i < m; i++)
            for (int j = 0; j < q; j++) Q[(size_t)i * q + j] *= sign[j];
    free(tau);
    free(sign);
    if (info != 0)
        return lerr_run(e, "QR of a %dx%d Gaussian matrix failed (LAPACK info %d)", m, q,
                        (int)info);
    return 0;
}
