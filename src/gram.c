// gram.c: X^T X = sum over chunks c of X_c^T X_c, X_c: (rows, d) the chunk's
// rows of the generated inputs.  Each chunk is generated (input_rows) and
// folded in by cblas_dsyrk, which touches only the upper triangle: d (d + 1)
// rows flops per chunk instead of a dgemm's 2 d^2 rows.
//
// Chunks are dealt to GRAM_LANES lanes (chunk c to lane c mod GRAM_LANES),
// each with its own chunk buffer and partial sum S_l; S = S_0 + S_1 + ... in
// lane order.  Lanes run on up to `threads` threads, each generating and
// accumulating on its own core with single-threaded BLAS -- no hand-over
// between a generating thread and BLAS's own threads, which would otherwise
// spin-wait for each other at every chunk -- and the result is the same for
// any thread count.
#include "gram.h"

#include <cblas.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "linalg.h"
#include "par.h"
#include "teacher_data.h"

#define GRAM_LANES 2

int gram_chunk_rows(int d)
{
    long rows = (4L << 20) / (d > 0 ? d : 1);
    rows = (rows / 64) * 64;
    return rows < 64 ? 64 : (int)rows;
}

typedef struct {
    long seed;
    const char *stream;
    int n, d, ch;
    double *S[GRAM_LANES];   // (d, d) partial sums (S[0] is the caller's S)
    double gen[GRAM_LANES], acc[GRAM_LANES];
    atomic_int stopped;          // set by any lane on SIGINT
} gram_job;

static void gram_lane(void *ctx, int l)
{
    gram_job *j = ctx;
    int d = j->d;
    double *Xc = dalloc((size_t)j->ch * d);
    j->gen[l] = j->acc[l] = 0.0;
    for (long row = (long)l * j->ch; row < j->n; row += (long)GRAM_LANES * j->ch) {
        if (stop_requested()) {   // SIGINT: give up at the next chunk
            atomic_store(&j->stopped, 1);
            break;
        }
        int rows = j->n - row < j->ch ? (int)(j->n - row) : j->ch;
        double t0 = now_seconds();
        input_rows(j->seed, j->stream, d, row, rows, 1, Xc);
        double t1 = now_seconds();
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, d, rows, 1.0, Xc, d, 1.0, j->S[l], d);
        j->acc[l] += now_seconds() - t1;
        j->gen[l] += t1 - t0;
    }
    free(Xc);
}

int gram_inputs(long seed, const char *stream, int n, int d, int threads, double *S,
                gram_times *t)
{
    int ch = gram_chunk_rows(d);
    if (ch > n) ch = n;
    gram_job j = {.seed = seed, .stream = stream, .n = n, .d = d, .ch = ch};
    int lanes = (n + ch - 1) / ch < GRAM_LANES ? (n + ch - 1) / ch : GRAM_LANES;
    memset(S, 0, sizeof(double) * (size_t)d * d);
    j.S[0] = S;
    for (int l = 1; l < lanes; l++) j.S[l] = dalloc((size_t)d * d);
    blas_serial_begin();   // BLAS back at its count (not `threads`) at the end
    if (threads > 1 && lanes > 1)
        par_for(lanes, threads, gram_lane, &j);
    else
        for (int l = 0; l < lanes; l++) gram_lane(&j, l);
    blas_serial_end();
    for (int l = 1; l < lanes; l++) {
        cblas_daxpy(d * d, 1.0, j.S[l], 1, S, 1);
        free(j.S[l]);
    }
    if (t) {   // per lane, averaged: the wall-time share of each phase
        t->gen_s = t->acc_s = 0.0;
        for (int l = 0; l < lanes; l++) t->gen_s += j.gen[l] / lanes, t->acc_s += j.acc[l] / lanes;
    }
    return atomic_load(&j.stopped) ? 1 : 0;
}
