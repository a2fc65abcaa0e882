// gram.c: X^T X = sum over chunks c of X_c^T X_c, X_c: (rows, d) the chunk's
// rows of the generated inputs.  Each chunk is generated (input_rows, blocks
// of 64 rows in parallel) and folded in by cblas_dsyrk, which touches only the
// upper triangle: d (d + 1) rows flops per chunk instead of a dgemm's 2 d^2 rows.
// The chunk size and thread count do not change the rows, only the order of
// the floating-point sums across chunks (fixed for a given d).
#include "gram.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "teacher_data.h"

int gram_chunk_rows(int d)
{
    long rows = (4L << 20) / (d > 0 ? d : 1);
    rows = (rows / 64) * 64;
    return rows < 64 ? 64 : (int)rows;
}

void gram_inputs(long seed, const char *stream, int n, int d, int threads, double *S,
                 gram_times *t)
{
    int ch = gram_chunk_rows(d);
    if (ch > n) ch = n;
    double *Xc = dalloc((size_t)ch * d);
    memset(S, 0, sizeof(double) * (size_t)d * d);
    double gen = 0, acc = 0;
    for (long row = 0; row < n; row += ch) {
        int rows = n - row < ch ? (int)(n - row) : ch;
        double t0 = now_seconds();
        input_rows(seed, stream, d, row, rows, threads, Xc);
        double t1 = now_seconds();
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, d, rows, 1.0, Xc, d, 1.0, S, d);
        acc += now_seconds() - t1;
        gen += t1 - t0;
    }
    free(Xc);
    if (t) t->gen_s = gen, t->acc_s = acc;
}
