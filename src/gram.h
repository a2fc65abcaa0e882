// gram.h: the Gram matrix X^T X of generated inputs, streamed in row chunks.
#ifndef LORALAB_GRAM_H
#define LORALAB_GRAM_H

#include "util.h"

// Seconds spent making the rows and accumulating them, per lane (optional output).
typedef struct {
    double gen_s, acc_s;
} gram_times;

// Rows per chunk for dimension d: a multiple of the 64-row input block, about
// 4M entries (32 MB) per chunk.
int gram_chunk_rows(int d);

// S: (d, d) <- X^T X (upper triangle; the strict lower triangle is zeroed) for
// rows [0, n) of the input stream `stream` (teacher_data.h: input_rows), made
// gram_chunk_rows(d) rows at a time and accumulated by a symmetric rank-k
// update (dsyrk) per chunk, in two lanes on up to `threads` threads.  Holds
// one chunk and one partial sum per lane: memory O(d^2 + chunk d), independent
// of n.  The result does not depend on `threads`.  `t` may be NULL.
// Returns 0, or 1 when SIGINT was seen (stop_requested) and the sum is incomplete.
int gram_inputs(long seed, const char *stream, int n, int d, int threads, double *S,
                gram_times *t);

#endif
