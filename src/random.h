// random.h: random streams derived from settings, and random matrices.
//
// Every random quantity is drawn from its own stream, seeded by a hash of the
// experiment seed and a tag naming the quantity and the settings it depends
// on (e.g. "x|seed=3|d=100").  Results therefore never depend on the order in
// which runs happen, and quantities whose settings did not change are drawn
// identically (same W0 across a kappa sweep, nested X across an N sweep).
// (This file may not include cblas.h: GSL's randist header brings its own
// CBLAS declarations.)
#ifndef LORALAB_RANDOM_H
#define LORALAB_RANDOM_H

#include <gsl/gsl_rng.h>

#include "util.h"

// A new Mersenne-Twister stream seeded from (seed, tag).  Free with gsl_rng_free.
gsl_rng *stream_new(long seed, const char *tag);

// Fill X: (m, n) with i.i.d. N(0, sigma^2) entries (ziggurat method).
void gaussian_fill(gsl_rng *rng, double *X, int m, int n, double sigma);

// One draw from the chi-squared distribution with nu degrees of freedom.
double chisq_draw(gsl_rng *rng, double nu);

// Haar-random matrix with orthonormal columns, Q: (m, q), q <= m: the Q of
// the QR factorisation of an (m, q) Gaussian matrix, columns flipped so that
// diag(R) > 0 (which makes the distribution exactly uniform).
int haar_orthonormal(gsl_rng *rng, int m, int q, double *Q, lerr *e);

#endif
