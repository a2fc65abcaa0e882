// spec.h: the experiment description, as a plain validated struct.
//
// An experiment file (YAML) is parsed, overridden by --set, checked and
// completed with defaults by config.c; everything downstream reads only this
// struct.  Every field lists its YAML key, default and valid range: that list
// is the documentation of the file format and config.c's table mirrors it.
#ifndef LORALAB_SPEC_H
#define LORALAB_SPEC_H

#include <stdbool.h>

// Where a matrix comes from.
typedef enum {
    MAT_GENERATED = 0,   // "generated": drawn by the teacher (delta, x)
    MAT_GAUSSIAN,        // "gaussian": i.i.d. N(0,1) entries (w0)
    MAT_ZERO,            // "zero": all zeros (w0)
    MAT_FILE,            // a path to a .npy file
    MAT_INLINE,          // an inline matrix [[..], [..]] (a list of rows)
} mat_kind;

typedef struct {
    mat_kind kind;
    char *path;          // MAT_FILE: absolute path (relative paths are taken
                         // from the experiment file's folder)
    int rows, cols;      // MAT_FILE, MAT_INLINE: shape of `data`
    double *data;        // MAT_FILE, MAT_INLINE: values, row-major (rows, cols)
} mat_source;

// A list of small non-negative integers (class labels).
typedef struct {
    int n;
    int *v;              // (n)
} int_list;

// Which final matrices `log.save` asks for (bit flags).
enum { SAVE_A = 1, SAVE_B = 2, SAVE_W = 4, SAVE_G = 8 };

typedef struct {
    char *name;              // name: default the experiment file's stem; [A-Za-z0-9._-]+
    char *source_path;       // the experiment file as given (not a YAML key)

    struct {
        char *model;         // teacher.model: "linear" (default) | nonlinear
        char *activation;    // teacher.activation: "relu" (default) | leaky_relu | tanh |
                             //   gelu | linear  (nonlinear teacher only)
        double leaky_slope;  // teacher.leaky_slope: 0.01, >= 0
        int d;               // teacher.d: 100, >= 1 (from files when given: w0, delta, x;
                             //   ntk: features; d, k, n, outputs must agree with them)
        int k;               // teacher.k: 100, >= 1
        int n;               // teacher.n: 1600, >= 1
        int n_test;          // teacher.n_test: 0, >= 0; fresh samples for test_loss
        int outputs;         // teacher.outputs: 1, >= 1 (ntk: K outputs per point)
        char *loss;          // teacher.loss: "squared" | cross_entropy (ntk; K >= 2)
        char *features;      // teacher.features: "generated" | orthogonal | mlp | path to a
                             //   .npy of shape (N, K, d, k) (ntk; an orthogonal design
                             //   needs n * outputs >= d * k; mlp: the Jacobians wrt W1
                             //   of the network pretrained on real data, the real-data
                             //   keys below; targets, base and noise do not apply)
        char *targets;       // teacher.targets: "generated" | path to a .npy: (N, K)
                             //   values (squared) or (N,) labels / (N, K) one-hot
        char *base;          // teacher.base: "zero" | generated | path (N, K): ntk f0
        int rank;            // teacher.rank: 4, <= min(d, k), >= 1 (ntk: >= 0); with delta
                             //   from a file/inline: its numerical rank (a value written
                             //   must equal it); with ntk targets from a file: 0
        double kappa;        // teacher.kappa: 1, >= 1 (kappa, spectrum, scale describe the
                             //   drawn Delta: with delta given or rank 0 they must not be
                             //   written and keep their defaults)
        char *spectrum;      // teacher.spectrum: "linear" | "geometric"
        double scale;        // teacher.scale: 1, > 0
        double noise;        // teacher.noise: 0, >= 0
        mat_source w0;       // teacher.w0: gaussian (default) | zero | path | inline (d, k)
        double w0_scale;     // teacher.w0_scale: 1, >= 0; W0 = w0_scale * source
        mat_source delta;    // teacher.delta: generated (default) | path | inline (d, k)
        mat_source x;        // teacher.x: generated (default) | path | inline (n, d)
        char *stats;         // teacher.stats: "auto" | qr | gram (linear teacher: hold X
                             //   and take its QR, or stream X^T X in chunks and never
                             //   hold X; gram needs n >= d and generated x; auto =
                             //   gram when n * d > 2^26 and it can, else qr)
        // The real-data keys (teacher.model: mlp, and the ntk teacher's features: mlp;
        // mlp_source.h).  For them d is the data's input count (after pooling),
        // k = hidden, outputs = the number of source classes and rank = 0; n and
        // n_test are the target-class rows subsampled for fine-tuning and testing.
        char *data;          // teacher.data: "fashion-mnist" (DATASET_FASHION_MNIST_DIR) |
                             //   path to a folder holding the IDX files (MNIST layout) or
                             //   x_train.npy, y_train.npy, x_test.npy, y_test.npy
        int hidden;          // teacher.hidden: 128, >= 1 (the network's hidden units h)
        int pool;            // teacher.pool: 1 | 2 (2x2 average pooling of the images)
        int_list source_classes;  // teacher.source_classes: [1, 3, 5, 7, 9]; distinct, >= 0
        int_list target_classes;  // teacher.target_classes: [0, 2, 4, 6, 8]; distinct, >= 0,
                                  //   no more than the source classes (class
                                  //   target_classes[j] -> output unit j)
    } teacher;

    struct {
        int rank;            // lora.rank: 8, 1 <= r <= min(d, k)
    } lora;

    struct {
        char *method;        // init.method: "lora" (default) | spectral | lora-ga | pissa | gaussian
        double alpha2;       // init.alpha2: 1e-3, >= 0 (variance of random factors)
        double gamma;        // init.gamma: 1, > 0 (spectral scale)
        bool normalize;      // init.normalize: false (spectral: S <- S / S[0])
        double scale;        // init.scale: 1, > 0 (lora-ga scale c)
    } init;

    struct {
        char *method;        // optimizer.method: "gd" (default) | precgd | full | adam |
                             //   adamw | precadamw | full-adam | full-adamw (full-*: full
                             //   fine-tuning of D with Adam, weight decay coupled / decoupled)
        double lr;           // optimizer.lr: 0.015625, > 0
        double lr_ratio;     // optimizer.lr_ratio: 1, > 0 (LoRA+: lr_B = lr_ratio * lr)
        int steps;           // optimizer.steps: 1500, >= 0
        int batch;           // optimizer.batch: 0, >= 0; 0 = full batch, else B rows per
                             //   step (1 <= B <= n; minibatches need a teacher that holds
                             //   its data: nonlinear, ntk, linear with qr statistics)
        double damping;      // optimizer.damping: 1e-3, >= 0 (precgd, precadamw)
        double weight_decay; // optimizer.weight_decay: 0, >= 0 (coupled: gd, precgd, full,
                             //   adam, full-adam; decoupled: adamw, precadamw, full-adamw)
        double beta1;        // optimizer.beta1: 0.9, 0 <= beta1 < 1 (Adam methods)
        double beta2;        // optimizer.beta2: 0.999, 0 <= beta2 < 1 (Adam methods)
        double eps;          // optimizer.eps: 1e-8, > 0 (Adam methods)
    } optimizer;

    struct {
        int every;           // log.every: 1, >= 1 (step 0 and the last step always logged)
        unsigned save;       // log.save: [] ; any of a, b, w, g (SAVE_* bits)
        double risk_tol;     // log.risk_tol: 1e-20, > 0; summary's steps_to_tol is the
                             //   first logged step with risk <= risk_tol * risk at step 0
        double align_target; // log.align_target: 0.5, > 0; the sine theta of Theorem
                             //   3.2's alignment time t_star, and of steps_to_align
        bool params;         // log.params: false; trace gets every entry of A and B
                             //   (columns a_I_J, b_I_J; for tiny problems)
    } log;

    struct {                 // pretraining of the real-data network (mlp_source.h)
        int epochs;          // pretrain.epochs: 5, >= 1
        int batch;           // pretrain.batch: 128, >= 1 (capped at the source rows)
        double lr;           // pretrain.lr: 1e-3, > 0 (Adam, both layers)
        int seed;            // pretrain.seed: 0, >= 0 (init and batches; not the cell's seed)
        int n;               // pretrain.n: 0, >= 0; source-class training rows used (0: all)
    } pretrain;

    struct {
        int steps;           // convex.steps: 20000, >= 1 (ntk: accelerated proximal gradient)
        double tol;          // convex.tol: 1e-10, > 0 (relative optimality residual)
    } convex;

    int nseeds;              // seeds: 1; a count n (seeds 0..n-1) or a list of
    long *seeds;             //   distinct integers >= 0
    bool seeds_is_count;     // how `seeds` was written (kept when re-emitted)
} spec;

void spec_free(spec *s);

#endif
