// teacher_data.h: the synthetic data the teachers share (theory/THEORY.md sections 1-2).
//
// Each random quantity has its own stream (random.h), seeded by the
// experiment seed and only the settings it depends on:
//   W0 from (d, k);  U*, V* of Delta from (d, k, r*);  rows of X from d
//   (stream "x"; the test inputs from stream "xtest");  label noise from k.
// Streamed inputs (input_rows) are a separate, block-structured stream.
#ifndef LORALAB_TEACHER_DATA_H
#define LORALAB_TEACHER_DATA_H

#include "activation.h"
#include "problem.h"

// Fill p->W0 and p->Delta (and, when generated, its factors Dl, Dr and
// p->delta_op) for p->d, p->k.
int teacher_truth(const spec *s, long seed, problem *p, lerr *e);

// Inputs X: (n, d): from teacher.x (file or inline) when `stream` is "x" and
// the spec gives one, else i.i.d. N(0, 1) rows from the named stream.
double *teacher_inputs(const spec *s, long seed, const char *stream, int n, int d);

// Rows [row0, row0 + nrows) of the streamed inputs of `stream` for dimension
// d: X: (nrows, d) of i.i.d. N(0, 1), one normal.h stream per row, made on up
// to `threads` threads.  The values depend only on (seed, stream, d) and
// the row index, never on the range asked for or the thread count.  (A
// different stream from teacher_inputs': the gram statistics use it.)
void input_rows(long seed, const char *stream, int d, long row0, int nrows, int threads,
                double *X);

// Labels Y: (n, k) = act(X (W0 + Delta)) + noise * E (act NULL: identity;
// E from the stream "<stream>-noise|k", none when noise is 0).
double *teacher_labels(const spec *s, long seed, const char *stream, const problem *p,
                       const double *X, int n, activation_fn act, double noise);

// ||Sigma_hat - I||_op for Sigma_hat = c^2 M^T M, M: (m, d), from the
// eigenvalues of Sigma_hat (O(m d^2 + d^3)); nan for d above 2000.
double sigma_deviation(const double *M, int m, int d, double c);

#endif
