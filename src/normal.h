// normal.h: fast bulk N(0,1) blocks for streamed data.
//
// Counter-based: block b of a key is a fixed, infinite sequence of i.i.d.
// N(0, 1) numbers, reproducible on its own, so any thread can make any block
// and results never depend on the number of threads or on chunk sizes.
// normal_block(key, b, x, n) writes the first n numbers of that sequence:
// calls with different lengths agree on their common prefix.  For a data
// matrix, make row i block i (normal_rows): then the rows do not depend on how
// the matrix is cut into chunks.
//
// Method: per block a xoshiro256++ generator (Blackman & Vigna 2019) seeded
// from (key, block) through splitmix64 mixing, and the 256-layer ziggurat of
// Marsaglia & Tsang (2000) with Marsaglia's (1964) exact tail.  About 2 ns per
// number on one core; the rest of the project keeps using GSL streams
// (random.h) for everything that is not bulk.
#ifndef LORALAB_NORMAL_H
#define LORALAB_NORMAL_H

#include <stddef.h>

// 64-bit key for (experiment seed, tag), hashed like random.c's stream_new:
// FNV-1a of the decimal seed, '|', and the tag (no 32-bit fold).
unsigned long long normal_key(long seed, const char *tag);

// x[0..len) <- i.i.d. N(0, 1): the first len numbers of stream (key, block).
// Thread-safe (the ziggurat tables are built once, under pthread_once).
void normal_block(unsigned long long key, unsigned long long block, double *x, size_t len);

// X: (nrows, ncols) row-major <- rows first_row .. first_row + nrows - 1 of an
// N(0, 1) matrix whose row i is block i of `key`.
void normal_rows(unsigned long long key, unsigned long long first_row, size_t nrows,
                 size_t ncols, double *X);

// Diagnostic: (area of the top ziggurat layer - v) / v as left by the table
// recursion; a few 1e-13 at most when the tables are right.
double normal_top_layer_error(void);

#endif
