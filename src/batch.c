// batch.c: the minibatch stream (see batch.h for the sampling scheme).
#include "batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "random.h"
#include "util.h"

struct batch_stream {
    long seed;
    int n, b, per_epoch;
    long epoch;          // epoch whose permutation `perm` holds (-1: none yet)
    int *perm;           // (n) pi_epoch
    int *rows;           // (b) the last batch asked for, sorted
};

batch_stream *batch_stream_new(long seed, int n, int b)
{
    batch_stream *bs = xcalloc(1, sizeof *bs);
    bs->seed = seed, bs->n = n, bs->b = b;
    bs->per_epoch = (n + b - 1) / b;
    bs->epoch = -1;
    bs->perm = xcalloc((size_t)n, sizeof *bs->perm);
    bs->rows = xcalloc((size_t)b, sizeof *bs->rows);
    return bs;
}

void batch_stream_free(batch_stream *bs)
{
    if (!bs) return;
    free(bs->perm), free(bs->rows);
    free(bs);
}

int batch_steps_per_epoch(const batch_stream *bs) { return bs->per_epoch; }

static int by_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

// pi_e: the identity shuffled by epoch e's own stream.
static void draw_epoch(batch_stream *bs, long e)
{
    char tag[96];
    snprintf(tag, sizeof tag, "batch|n=%d|B=%d|epoch=%ld", bs->n, bs->b, e);
    gsl_rng *rng = stream_new(bs->seed, tag);
    for (int i = 0; i < bs->n; i++) bs->perm[i] = i;
    gsl_ran_shuffle(rng, bs->perm, (size_t)bs->n, sizeof *bs->perm);
    gsl_rng_free(rng);
    bs->epoch = e;
}

int batch_rows(batch_stream *bs, long t, const int **rows)
{
    long e = t / bs->per_epoch;
    int j = (int)(t % bs->per_epoch);
    if (e != bs->epoch) draw_epoch(bs, e);
    int i0 = j * bs->b, nb = bs->n - i0 < bs->b ? bs->n - i0 : bs->b;
    memcpy(bs->rows, bs->perm + i0, sizeof(int) * (size_t)nb);
    qsort(bs->rows, (size_t)nb, sizeof *bs->rows, by_int);
    *rows = bs->rows;
    return nb;
}

void gather_rows(const double *M, int cols, const int *rows, int nb, double *out)
{
    for (int i = 0; i < nb; i++)
        memcpy(out + (size_t)i * cols, M + (size_t)rows[i] * cols, sizeof(double) * (size_t)cols);
}
