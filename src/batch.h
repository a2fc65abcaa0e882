// batch.h: the minibatch stream -- which training rows each step uses.
//
// With optimizer.batch = B (1 <= B <= N) training runs in epochs of
// E = ceil(N / B) steps.  Epoch e draws a uniformly random permutation pi_e of
// the rows 0 .. N-1 (GSL's Fisher-Yates shuffle, gsl_ran_shuffle) from its own
// stream, seeded (random.h) by the experiment seed and the tag
//   "batch|n=N|B=B|epoch=e",
// and step t = e E + j (0 <= j < E) uses the rows
//   pi_e[j B], ..., pi_e[min((j + 1) B, N) - 1],
// sorted increasingly (the set is what the draw decides; the order only
// fixes the order of the sums and reads the rows front to back).  So within
// an epoch the batches are disjoint and together hold every row exactly once;
// when B does not divide N the epoch's last batch is the partial one of
// N - (E - 1) B rows (it is kept, not dropped, so that no row is skipped; its
// loss and gradient are its own mean, scaled by 1 / (its rows)).  B = N gives
// every step the whole data (one batch per epoch).
//
// The rows depend on (seed, N, B, t) only: a permutation of row indices needs
// nothing else about the data, so runs that differ in anything else -- the
// learning rate, the optimiser, the initialisation, kappa, d, the noise --
// see the same batches.  Any step can be asked for in any order (a new epoch
// redraws its permutation from its own stream).
#ifndef LORALAB_BATCH_H
#define LORALAB_BATCH_H

typedef struct batch_stream batch_stream;

// The stream of B-row batches of N rows for experiment seed `seed`
// (1 <= B <= N).
batch_stream *batch_stream_new(long seed, int n, int b);
void batch_stream_free(batch_stream *bs);

// Steps per epoch: ceil(N / B).
int batch_steps_per_epoch(const batch_stream *bs);

// The rows of step t >= 0: *rows points to nb increasing row indices (valid
// until the next call); returns nb.
int batch_rows(batch_stream *bs, long t, const int **rows);

// out: (nb, cols) = rows `rows` of M: (any, cols), all row-major.
void gather_rows(const double *M, int cols, const int *rows, int nb, double *out);

#endif
