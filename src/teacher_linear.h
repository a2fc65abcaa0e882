// teacher_linear.h: the linear teacher-student model (theory/THEORY.md section 1).
#ifndef LORALAB_TEACHER_LINEAR_H
#define LORALAB_TEACHER_LINEAR_H

#include "problem.h"

int teacher_linear_new(const spec *s, long seed, const char *cache_dir, problem **out,
                       lerr *e);

// The loss computed the slow, direct way: 1/(2N) ||X W - Y||_F^2 for a full
// weight W: (d, k).  For tests that check the fast path.
double linear_direct_loss(const problem *p, const double *W);

// The data, for tests: X: (n, d), Y: (n, k).
const double *linear_X(const problem *p);
const double *linear_Y(const problem *p);

#endif
