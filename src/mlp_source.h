// mlp_source.h: the real-data setting shared by `teacher.model: mlp` and the
// ntk teacher's `features: mlp` (issue 17): the labelled data of the source
// and target classes, and the network pretrained on the source classes
// (computed once per data and pretraining settings, cached in DIR/cache/).
//
// The pipeline (the README's "Real data" section documents it):
//   load the train and test splits (teacher.data: an IDX folder, default
//   Fashion-MNIST's, or .npy files); scale bytes to [0, 1]; optionally pool
//   2x2 (teacher.pool); centre by the training mean;
//   source classes (teacher.source_classes, default the odd labels) ->
//   outputs 0 .. K-1 in list order; pretrain both layers by minibatch Adam
//   (pretrain.*, seed pretrain.seed, not the cell's seed, so every cell and
//   seed of an experiment shares one pretrained network);
//   target classes (teacher.target_classes, default the even labels) ->
//   the same output units, in list order (class target_classes[j] -> unit j);
//   teacher.n / teacher.n_test target rows subsampled with the cell's seed.
#ifndef LORALAB_MLP_SOURCE_H
#define LORALAB_MLP_SOURCE_H

#include "dataset.h"
#include "mlp.h"
#include "spec.h"
#include "util.h"

typedef struct {
    mlp_net *net;              // pretrained: W1: (d, h), V: (h, K)
    int K;                     // outputs = the number of source classes
    mlp_loss loss;             // teacher.loss
    labelled_data train;       // target-class fine-tuning rows: (teacher.n, d), labels 0 .. K-1
    labelled_data test;        // target-class test rows: (teacher.n_test, d) (n = 0: none)
    double pre_train_loss;     // the pretrained network on the source classes' training rows
    double pre_train_acc;      //   (loss, accuracy) and on their test rows (accuracy)
    double pre_test_acc;
    int cache_hit;             // 1: the pretrained network was read from cache_dir
                               //   (or this process's copy), 0: pretrained now
} mlp_source;

// Build the setting of spec s for the cell seed `seed` (which only picks the
// target subsample).  cache_dir (may be NULL: no cache) holds the pretrained
// network, keyed by the data files, preprocessing, classes, hidden width,
// loss and pretrain settings; a cached network is read back bit for bit.
// Input errors (exit 2): the data's (idx.h, dataset.h), bad class lists.
int mlp_source_load(const spec *s, long seed, const char *cache_dir, mlp_source **out, lerr *e);
void mlp_source_free(mlp_source *ms);

// The input errors mlp_source_load would meet in the data (files, classes
// missing from a split, teacher.n, n_test or pretrain.n above the rows there
// are), without pretraining: for the teacher's check before any cell runs.
// The data stay loaded in this process for the next call (mlp_source.c).
int mlp_source_check(const spec *s, lerr *e);

// The folder teacher.data names (DATASET_FASHION_MNIST_DIR for the word
// "fashion-mnist") and its four files: paths[0] training inputs, [1] training
// labels, [2] test inputs, [3] test labels (new strings).  *npy = 1 when the
// folder holds x_train.npy, y_train.npy, x_test.npy and y_test.npy (inputs
// (N, d) floats, labels (N,) integers), 0 for the IDX files (dataset.h).
// An input error names the folder and what is missing.
int mlp_source_files(const spec *s, char *paths[4], int *npy, lerr *e);

// The network's input count d from the training inputs' header alone (rows x
// columns of the IDX images, / 4 with teacher.pool 2; the columns of
// x_train.npy), for config_resolve.  Input errors: the files', pooling of
// odd image sides or of .npy inputs (which have no image shape).
int mlp_source_input_dim(const spec *s, int *d, lerr *e);

#endif
