// dataset.h: labelled data sets (inputs and integer class labels) from real
// files, and the preprocessing the real-data teachers apply to them.
//
// Sources: an IDX folder (MNIST, Fashion-MNIST: train-* / t10k-* files,
// gzipped or not; Debian's dataset-fashion-mnist installs them under
// DATASET_FASHION_MNIST_DIR), or a pair of .npy files, inputs (N, d) and
// integer labels (N,).  A typical pipeline (train and test alike, the mean
// from the training set only):
//
//   dataset_load_idx(dir, DATA_TRAIN, &tr, e); dataset_load_idx(dir, DATA_TEST, &te, e);
//   dataset_scale_bytes(&tr); dataset_scale_bytes(&te);      // [0, 255] -> [0, 1]
//   dataset_pool2(&tr, e); dataset_pool2(&te, e);            // optional: 784 -> 196
//   dataset_select_classes(&tr, odd, 5, &src, e);            // labels -> 0..4
//   dataset_subsample(&src, 1000, seed, "train", &sub, e);
//   labelled_data *others[] = {&te_src};
//   dataset_centre(&sub, others, 1);                         // subtract sub's mean
//
// Every function that makes a new set leaves its inputs untouched; free each
// set with dataset_free.
#ifndef LORALAB_DATASET_H
#define LORALAB_DATASET_H

#include "util.h"

#define DATASET_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

typedef struct {
    int n, d;            // examples, inputs per example
    double *X;           // (n, d) row-major: one example per row, as loralab stores X
    int *label;          // (n) class labels, >= 0
    int height, width;   // image geometry, height * width == d (0, 0: not images)
    char *source;        // the file(s) the set came from, for messages
} labelled_data;

typedef enum { DATA_TRAIN, DATA_TEST } data_split;

// Load a split of an IDX folder: for DATA_TRAIN the files
// train-images-idx3-ubyte and train-labels-idx1-ubyte, for DATA_TEST
// t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each found as is, with
// ".gz", or with the '.' before "idx" that some unpackers write
// (train-images.idx3-ubyte).  X holds the raw pixel bytes 0..255 as doubles,
// image by image, row by row; height and width are the images'.  Input
// errors: a missing file (naming the folder and the names tried), any IDX
// error (idx.h) and a count mismatch between images and labels (naming both).
int dataset_load_idx(const char *dir, data_split split, labelled_data *out, lerr *e);

// The path (a new string) of the split's images (labels = 0) or labels
// (labels = 1) file in dir, found as dataset_load_idx finds it; NULL and the
// input error of a missing file otherwise.
char *dataset_idx_path(const char *dir, data_split split, int labels, lerr *e);

// Load inputs X: (N, d) from a float .npy file and labels (N,) from an
// integer .npy file (npy.h).  Input errors: either file's, N differing
// between them, a negative label.  height, width are 0.
int dataset_load_npy(const char *x_path, const char *label_path, labelled_data *out, lerr *e);

// x <- x / 255 for every input: IDX pixel bytes 0..255 onto [0, 1].
void dataset_scale_bytes(labelled_data *ds);

// mean: (d), the mean input of ds: mean_j = (1/n) sum_i X_ij.
void dataset_mean(const labelled_data *ds, double *mean);

// X_ij <- X_ij - mean_j for every row of ds (mean: (d)).
void dataset_subtract(labelled_data *ds, const double *mean);

// Centre by the training mean: mu = dataset_mean(train), then subtract mu
// from train and from every set in others[0 .. n_others) (same d), so that
// the test inputs are shifted by the training mean, never their own.
void dataset_centre(labelled_data *train, labelled_data *const *others, int n_others);

// 2x2 average pooling of every image: an (h, w) image becomes (h/2, w/2)
// with P[a][b] = (I[2a][2b] + I[2a][2b+1] + I[2a+1][2b] + I[2a+1][2b+1]) / 4,
// so 28x28 = 784 inputs become 14x14 = 196.  In place (X shrinks to d/4);
// an input error when the set has no image geometry or h or w is odd.
int dataset_pool2(labelled_data *ds, lerr *e);

// The examples whose label is in classes[0 .. nclasses), in their original
// order, relabelled by their class's position in the list: an example of
// label classes[j] gets label j (the label map; e.g. {1, 3, 5, 7, 9} maps
// 1 -> 0, 3 -> 1, ..., 9 -> 4).  Input errors: an empty list, a repeated or
// negative class, a class with no example in `in` (the message names
// in->source).
int dataset_select_classes(const labelled_data *in, const int *classes, int nclasses,
                           labelled_data *out, lerr *e);

// n examples drawn uniformly without replacement, kept in their original
// order, from the random stream (seed, "subsample|<tag>|N=<in->n>|n=<n>")
// (random.h): the same seed, tag and sizes always pick the same rows.
// n == in->n copies the set.  An input error when n < 1 or n > in->n.
int dataset_subsample(const labelled_data *in, int n, long seed, const char *tag,
                      labelled_data *out, lerr *e);

void dataset_free(labelled_data *ds);

#endif
