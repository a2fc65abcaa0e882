// teacher_data.c: W0, Delta, inputs and labels for the teachers.
#include "teacher_data.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linalg.h"
#include "normal.h"
#include "par.h"
#include "random.h"

// Singular values of Delta: s_1 = scale >= ... >= s_r = scale / kappa, spaced
// linearly or geometrically.
static void delta_spectrum(const spec *s, int r, double *sv)
{
    double hi = s->teacher.scale, lo = s->teacher.scale / s->teacher.kappa;
    int geometric = strcmp(s->teacher.spectrum, "geometric") == 0;
    for (int i = 0; i < r; i++) {
        double t = r > 1 ? (double)i / (r - 1) : 0.0;
        sv[i] = geometric ? hi * pow(lo / hi, t) : hi + (lo - hi) * t;
    }
}

// Delta = U* diag(s) V*^T with U*: (d, r), V*: (k, r) Haar; stored as
// Dl = U* diag(s), Dr = V*^T.  The stream depends on (seed, d, k, r) only, so
// kappa/scale/spectrum sweeps keep the same singular vectors.
static int make_delta(const spec *s, long seed, problem *p, lerr *e)
{
    int d = p->d, k = p->k, r = s->teacher.rank;
    char tag[128];
    snprintf(tag, sizeof tag, "delta|d=%d|k=%d|rank=%d", d, k, r);
    gsl_rng *rng = stream_new(seed, tag);
    double *U = dalloc((size_t)d * r), *V = dalloc((size_t)k * r), *sv = dalloc((size_t)r);
    int rc = haar_orthonormal(rng, d, r, U, e);
    if (!rc) rc = haar_orthonormal(rng, k, r, V, e);
    gsl_rng_free(rng);
    if (rc) {
        free(U), free(V), free(sv);
        return rc;
    }
    delta_spectrum(s, r, sv);
    p->dq = r;
    p->delta_op = sv[0];
    p->Dl = U;
    for (int i = 0; i < d; i++)
        for (int j = 0; j < r; j++) U[(size_t)i * r + j] *= sv[j];
    p->Dr = dalloc((size_t)r * k);
    for (int j = 0; j < r; j++)
        for (int i = 0; i < k; i++) p->Dr[(size_t)j * k + i] = V[(size_t)i * r + j];
    p->Delta = dalloc((size_t)d * k);
    mm('N', 'N', d, k, r, 1.0, p->Dl, p->Dr, 0.0, p->Delta);
    free(V);
    free(sv);
    return 0;
}

static double *copy_source(const mat_source *src, double scale)
{
    size_t len = (size_t)src->rows * src->cols;
    double *M = dalloc(len);
    for (size_t i = 0; i < len; i++) M[i] = src->data[i] * scale;
    return M;
}

static double *make_w0(const spec *s, long seed, int d, int k)
{
    const mat_source *src = &s->teacher.w0;
    if (src->kind == MAT_FILE || src->kind == MAT_INLINE) return copy_source(src, s->teacher.w0_scale);
    double *W0 = dalloc((size_t)d * k);
    if (src->kind == MAT_GAUSSIAN) {
        char tag[96];
        snprintf(tag, sizeof tag, "w0|d=%d|k=%d", d, k);
        gsl_rng *rng = stream_new(seed, tag);
        gaussian_fill(rng, W0, d, k, s->teacher.w0_scale);
        gsl_rng_free(rng);
    }
    return W0;
}

// Streamed inputs (the linear teacher's gram statistics): row i is
// normal_rows' row i of the key for (seed, stream, d), so any row range can be
// made on its own, by any thread, in any order, with identical values, and
// more samples extend the rows of fewer.  Threads take groups of ROW_GROUP rows.
#define ROW_GROUP 64

typedef struct {
    unsigned long long key;
    int d, nrows;
    long row0;
    double *X;
} rows_job;

static void rows_group(void *ctx, int g)
{
    const rows_job *j = ctx;
    long first = (long)g * ROW_GROUP;
    long count = j->nrows - first < ROW_GROUP ? j->nrows - first : ROW_GROUP;
    normal_rows(j->key, (unsigned long long)(j->row0 + first), (size_t)count, (size_t)j->d,
                j->X + (size_t)first * j->d);
}

void input_rows(long seed, const char *stream, int d, long row0, int nrows, int threads,
                double *X)
{
    if (nrows <= 0) return;
    char tag[64];
    snprintf(tag, sizeof tag, "%s-rows|d=%d", stream, d);
    rows_job j = {normal_key(seed, tag), d, nrows, row0, X};
    par_for((nrows + ROW_GROUP - 1) / ROW_GROUP, threads, rows_group, &j);
}

// X rows of teacher_inputs are drawn in order from a stream that depends on
// (stream, seed, d) only, so a run with more samples extends the data of a
// run with fewer.
double *teacher_inputs(const spec *s, long seed, const char *stream, int n, int d)
{
    if (!strcmp(stream, "x") && (s->teacher.x.kind == MAT_FILE || s->teacher.x.kind == MAT_INLINE))
        return copy_source(&s->teacher.x, 1.0);
    double *X = dalloc((size_t)n * d);
    char tag[64];
    snprintf(tag, sizeof tag, "%s|d=%d", stream, d);
    gsl_rng *rng = stream_new(seed, tag);
    gaussian_fill(rng, X, n, d, 1.0);
    gsl_rng_free(rng);
    return X;
}

double *teacher_labels(const spec *s, long seed, const char *stream, const problem *p,
                       const double *X, int n, activation_fn act, double noise)
{
    (void)s;
    int d = p->d, k = p->k;
    double *Wn = dalloc((size_t)d * k);
    for (size_t i = 0; i < (size_t)d * k; i++) Wn[i] = p->W0[i] + p->Delta[i];
    double *Y = dalloc((size_t)n * k);
    mm_fixed('N', 'N', n, k, d, 1.0, X, Wn, 0.0, Y);
    free(Wn);
    if (act) act(Y, Y, NULL, (size_t)n * k, s->teacher.leaky_slope);
    if (noise > 0) {
        char tag[64];
        snprintf(tag, sizeof tag, "%s|k=%d", strcmp(stream, "x") ? "xtest-noise" : "noise", k);
        gsl_rng *rng = stream_new(seed, tag);
        double *E = dalloc((size_t)n * k);
        gaussian_fill(rng, E, n, k, noise);
        for (size_t i = 0; i < (size_t)n * k; i++) Y[i] += E[i];
        free(E);
        gsl_rng_free(rng);
    }
    return Y;
}

// ||c^2 M^T M - I||_op = max_i |lambda_i(c^2 M^T M) - 1| over the eigenvalues
// of the (d, d) Gram matrix (dsyrk, then LAPACK dsyevd for values only):
// O(m d^2 + d^3), less than an SVD of M when m >> d, and accurate to
// eps ||c^2 M^T M|| in absolute terms, which is what |lambda - 1| needs.  When
// m < d the Gram matrix is singular and its zero eigenvalues give the 1.
double sigma_deviation(const double *M, int m, int d, double c)
{
    if (d > 2000) return NAN;
    double *Gm = dalloc((size_t)d * d), *w = dalloc((size_t)d), dev = NAN;
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, d, m, c * c, M, d, 0.0, Gm, d);
    if (LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'N', 'U', d, Gm, d, w) == 0) {
        dev = 0.0;
        for (int i = 0; i < d; i++) dev = fmax(dev, fabs(w[i] - 1.0));
    }
    free(Gm), free(w);
    return dev;
}

int teacher_truth(const spec *s, long seed, problem *p, lerr *e)
{
    p->W0 = make_w0(s, seed, p->d, p->k);
    if (s->teacher.delta.kind == MAT_FILE || s->teacher.delta.kind == MAT_INLINE) {
        p->Delta = copy_source(&s->teacher.delta, 1.0);
        return 0;
    }
    return make_delta(s, seed, p, e);
}
