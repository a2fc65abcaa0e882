// teacher_ntk.h: the NTK-linearised teacher (theory/THEORY.md section 7;
// teacher_ntk.c describes the model and its inputs).
#ifndef LORALAB_TEACHER_NTK_H
#define LORALAB_TEACHER_NTK_H

#include "ntk_features.h"
#include "problem.h"

int teacher_ntk_new(const spec *s, long seed, const char *cache_dir, problem **out, lerr *e);
int teacher_ntk_check(const spec *s, lerr *e);

// One set of points of the linearised model: the features of n points with
// K outputs, the base outputs f0: (n, K), and the targets: y: (n, K) values
// (squared loss) or label: (n) classes in 0 .. K-1 (cross-entropy; label may
// also be given next to y, it is then only checked).
typedef struct {
    ntk_features feat;
    double *f0, *y;
    int *label;
} ntk_points;

// The ntk problem on given points, with no planted shift (Delta = 0, the
// weight change starts at 0): the training points and a test set (test NULL
// or test->feat.n == 0: none; the same K, d, k).  ce: 1 for softmax
// cross-entropy, 0 for squared.  Takes ownership of every array of both
// sets, also on failure.  G = J(0) is computed; its SVD (problem_new's) is
// not.  For features: mlp, and for tests comparing feature backends.
int teacher_ntk_points(ntk_points *train, ntk_points *test, int ce, problem **out, lerr *e);

#endif
