// bench.c: benchmarks (issue 8).  Each workload runs in a forked child (so
// its peak resident memory, from wait4, is its own): one warm-up, then `reps`
// timed repetitions (5 by default); medians are reported.  For each run the
// cells' summaries give the time spent building problems and initialising
// (setup_seconds) and the time spent in training steps (step_seconds: loss,
// gradients and updates, not the logged metrics); the GFLOP/s column is the
// per-step matrix-product flops (formulas below) over the step time, and "of
// dgemm" compares it with the machine's dgemm rate measured in the same
// invocation (n = 2048 square products, median of 5) for the same number of
// threads.  Benchmarks print figures; they never assert.
//
// Per-step flops (2 per multiply-add):
//   linear (factored, m = d <= N):  2 d^2 r + 6 d k r
//       (Rs A, Rs^T (Res B^T): triangular, d^2 r each; RA B, Res B^T, RA^T Res: 2 d k r each)
//   nonlinear:                      2 N r (2 d + 3 k)
//       (X A, X^T RB: 2 N d r each; XA B, R B^T, XA^T R: 2 N k r each)
//   nonlinear minibatch of B rows:  2 B r (2 d + 3 k)   (the same on the batch)
//
// Floors (issue 18): the header also gives the machine's stream bandwidth
// (stream_bandwidth: a read-sum over an array much larger than the caches,
// median of 5, on one thread and on all cores).  For every workload, the
// work a step must do is counted as flops F and bytes M it must move between
// memory and the cores (formulas below); the step's floor is
//   max(F / dgemm rate, M / bandwidth)
// (the rates for its thread count: one core or all), whichever binds, and
// "floor s" is that times the run's steps, plus for `layer` and `wide-n`
// the floor of the set-up's X^T X (N d (d + 1) flops, dsyrk, X never held),
// which is most of those runs.  "x floor" is the measured time of the same
// work (step s, plus setup s where the set-up is counted) over the floor,
// so each line says how far it is from the limit; "bound" says which binds.
// Per-step bytes (8 per double, each array read once; small factors, which
// stay in cache, are not counted):
//   linear (factored):              8 (d^2 + d k)      (Rs and C, read once)
//   nonlinear:                      8 N (d + 2 k + 2 r) (X, X base, Y read;
//                                                        XA, RB written)
//   nonlinear minibatch of B rows:  8 B (d + 2 k)      (its rows of X, X base, Y)
//   ntk (N K outputs, P = d k):     8 N K P            (Phi: (N K, P) read once:
//       z = Phi vec(D) and Phi^T r need every entry, and the fused pass reads
//       each point's rows once from memory), with flops 4 N K P + 6 d k r (the
//       two products with Phi; D = A B and the two factor gradients), r the
//       sweep's mean rank
// Extra measurements (printed under the table):
//   toy      the sweep with metrics logged only at the ends, run alternately
//            with the full sweep in one child: their difference in CPU time
//            (not wall time, which counts the time other processes hold the
//            core) is the cost of the per-step metric rows; metrics_factors
//            alone per row (small-matrix path and LAPACK); the same sweep in
//            NumPy (bench/toy_numpy.py), CPU and wall time;
//   relu     the same five products alone (no activation, no loss), per step;
//   minibatch  the five products of a B = 256 batch alone, on its rows already
//            gathered into contiguous buffers, and the gathering alone, per
//            step, against the run's step time (the goal: a step within
//            2x of its products);
//   wide-n   X^T X alone, with its split between generating rows and the
//            symmetric rank-k updates; the whole run at N / 4 (time ratio,
//            peak memory);
//   jobs     the same CPU-bound sweep with -j 1 and -j <cores>.
#include "bench.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "blas_core.h"
#include "build_info.h"
#include "csv.h"
#include "gram.h"
#include "config.h"
#include "dataset.h"
#include "linalg.h"
#include "metrics.h"
#include "mlp.h"
#include "problem.h"
#include "random.h"
#include "run.h"
#include "teacher_data.h"
#include "util.h"

int openblas_get_num_threads(void);
void openblas_set_num_threads(int n);
char *openblas_get_corename(void);

// What a child reports about one workload: medians over the repetitions.
typedef struct {
    double wall, setup, step;   // seconds: whole run, summed setup, summed steps
    long steps;                 // training steps in one run (all cells)
    double cpu;                 // seconds of CPU (user + system) of the whole run, all threads
} timing;

typedef struct workload workload;
struct workload {
    const char *name, *what, *yaml;
    int one_core;           // 1: one BLAS thread and one worker; 0: all cores
    double flops_per_step;  // matrix-product flops of one training step (0: not counted)
    void (*extra)(const workload *w, int cores, int reps);
    // instead of yaml: one run made by this function (timing filled as
    // run_once fills it from summary.csv); NULL for the YAML workloads
    int (*direct)(timing *t, lerr *e);
};


// ---------------------------------------------------------------------------
// Workloads

static const char toy_yaml[] =
    "name: bench-toy\nteacher: {d: 100, k: 100, n: 1600, rank: 4}\nlora: {rank: 8}\n"
    "init: {method: lora}\noptimizer: {method: gd, lr: 0.015625, steps: 1500}\nlog: {every: 1}\n"
    "sweep:\n  init.alpha2: [1, 0.1, 0.01, 0.001, 0.0001]\n";
static const char layer_yaml[] =
    "name: bench-layer\nteacher: {d: 4096, k: 4096, n: 65536, rank: 16, stats: gram}\n"
    "lora: {rank: 16}\ninit: {method: spectral}\n"
    "optimizer: {method: precgd, lr: 0.5, damping: 1.0e-6, steps: 100}\nlog: {every: 10}\n";
static const char widen_yaml[] =
    "name: bench-wide-n\nteacher: {d: 256, k: 256, n: 10000000, rank: 8, stats: gram}\n"
    "lora: {rank: 8}\ninit: {method: spectral}\n"
    "optimizer: {method: precgd, lr: 0.5, damping: 1.0e-6, steps: 100}\nlog: {every: 10}\n";
static const char relu_yaml[] =
    "name: bench-relu\nteacher: {model: nonlinear, activation: relu, d: 512, k: 512, n: 16384, rank: 8}\n"
    "lora: {rank: 8}\ninit: {method: spectral, gamma: 2}\n"
    "optimizer: {method: precgd, lr: 0.5, damping: 1.0e-4, steps: 200}\nlog: {every: 20}\n";
// One core: a 256-row batch is one chunk of the nonlinear teacher's pass
// (teacher_nonlinear.c), so a step runs on one thread anyway.
static const char minibatch_yaml[] =
    "name: bench-minibatch\nteacher: {model: nonlinear, activation: relu, d: 512, k: 512, n: 16384, rank: 8}\n"
    "lora: {rank: 8}\ninit: {method: spectral, gamma: 2}\n"
    "optimizer: {method: gd, lr: 0.5, steps: 2000, batch: 256}\nlog: {every: 500}\n";
static const char ntk_yaml[] =
    "name: bench-ntk\nteacher: {model: ntk, d: 32, k: 32, n: 256, outputs: 2, rank: 4, noise: 0.1}\n"
    "init: {method: gaussian, alpha2: 0.01}\n"
    "optimizer: {method: gd, lr: 0.02, steps: 2000, weight_decay: 0.05}\nlog: {every: 100}\n"
    "sweep:\n  lora.rank: [1, 2, 4, 8, 12, 16, 24, 32]\nseeds: 4\n";
// the toy sweep with 4 seeds (20 cells): CPU-bound cells for the -j comparison
static const char jobs_yaml[] =
    "name: bench-jobs\nteacher: {d: 100, k: 100, n: 1600, rank: 4}\nlora: {rank: 8}\n"
    "init: {method: lora}\noptimizer: {method: gd, lr: 0.015625, steps: 1500}\nlog: {every: 10}\n"
    "sweep:\n  init.alpha2: [1, 0.1, 0.01, 0.001, 0.0001]\nseeds: 4\n";

// The mlp workload (mlp.h's LoRA fine-tuning of a two-layer ReLU network).
enum { MLP_N = 6000, MLP_D = 784, MLP_H = 128, MLP_K = 5, MLP_R = 8, MLP_STEPS = 100 };
// Per step, over N rows in blocks: X_b A, XA B, H V, dF V^T, XA^T dZ, dZ B^T,
// X_b^T T: 2 N (2 d r + 3 r h + 2 h K).
static double mlp_flops(double n, double d, double h, double k, double r)
{
    return 2 * n * (2 * d * r + 3 * r * h + 2 * h * k);
}

static double linear_flops(double d, double k, double r) { return 2 * d * d * r + 6 * d * k * r; }
static double nonlinear_flops(double n, double d, double k, double r)
{
    return 2 * n * r * (2 * d + 3 * k);
}

static void toy_extra(const workload *w, int cores, int reps);
static void relu_extra(const workload *w, int cores, int reps);
static void toy_numpy_line(double loralab_cpu, double loralab_wall, int reps);
static void widen_extra(const workload *w, int cores, int reps);
static void jobs_extra(const workload *w, int cores, int reps);
static void minibatch_extra(const workload *w, int cores, int reps);
static void mlp_extra(const workload *w, int cores, int reps);
static int mlp_run(timing *t, lerr *e);

static workload workloads[] = {
    {"toy", "alignment sweep: d=k=100, N=1600, r=8, 5 alpha2 x 1500 GD steps, all metrics each step (one core)",
     toy_yaml, 1, 0, toy_extra, NULL},
    {"layer", "d=k=4096, N=65536, r=16: streamed X^T X, G, top-16 SVD, spectral init, 100 precgd steps",
     layer_yaml, 0, 0, NULL, NULL},
    {"wide-n", "d=k=256, r=8, N=10^7 linear samples streamed in chunks, 100 precgd steps",
     widen_yaml, 0, 0, widen_extra, NULL},
    {"relu", "nonlinear ReLU: d=k=512, N=16384, r=8, 200 precgd steps", relu_yaml, 0, 0,
     relu_extra, NULL},
    {"minibatch", "nonlinear ReLU as relu, minibatches of B=256 rows: 2000 GD steps (one core)",
     minibatch_yaml, 1, 0, minibatch_extra, NULL},
    {"ntk", "ntk: d=k=32, N=256, K=2: convex solve + 8 LoRA ranks x 4 seeds, 2000 GD steps",
     ntk_yaml, 0, 0, NULL, NULL},
    {"jobs", "the toy sweep x 4 seeds (20 cells): -j 1 against -j all cores", jobs_yaml, 0, 0,
     jobs_extra, NULL},
    {"mlp", "two-layer ReLU net (mlp.h), LoRA of its first layer: d=784, h=128, K=5, N=6000, "
     "r=8, 100 GD steps (one core)", NULL, 1, 0, mlp_extra, mlp_run},
};
enum { NWORK = sizeof workloads / sizeof workloads[0] };

static void set_flops(void)
{
    workloads[0].flops_per_step = linear_flops(100, 100, 8);
    workloads[1].flops_per_step = linear_flops(4096, 4096, 16);
    workloads[2].flops_per_step = linear_flops(256, 256, 8);
    workloads[3].flops_per_step = nonlinear_flops(16384, 512, 512, 8);
    workloads[4].flops_per_step = nonlinear_flops(256, 512, 512, 8);
    workloads[7].flops_per_step = mlp_flops(MLP_N, MLP_D, MLP_H, MLP_K, MLP_R);
}

// For each workload's floor (in the order of workloads[]): the flops a step
// must do (ntk's are counted only here), the bytes it must move, and the
// flops of the set-up's X^T X when the set-up is counted (else 0); formulas
// at the top of the file.
typedef struct {
    double flops, bytes, setup_flops;
} floor_work;
static floor_work floors[NWORK];

static void set_floors(void)
{
    for (int j = 0; j < NWORK; j++) floors[j].flops = workloads[j].flops_per_step;
    floors[0].bytes = 8.0 * (100.0 * 100 + 100.0 * 100);          // toy
    floors[1].bytes = 8.0 * (4096.0 * 4096 + 4096.0 * 4096);      // layer
    floors[1].setup_flops = 65536.0 * 4096 * 4097;
    floors[2].bytes = 8.0 * (256.0 * 256 + 256.0 * 256);          // wide-n
    floors[2].setup_flops = 1e7 * 256 * 257;
    floors[3].bytes = 8.0 * 16384 * (512 + 2 * 512 + 2 * 8);      // relu
    floors[4].bytes = 8.0 * 256 * (512 + 2 * 512);                // minibatch
    // ntk: N K = 256 * 2 outputs, P = d k = 32 * 32, the sweep's mean rank
    // (1 + 2 + 4 + 8 + 12 + 16 + 24 + 32) / 8 = 99 / 8
    floors[5].flops = 4.0 * 512 * 1024 + 6.0 * 32 * 32 * (99.0 / 8);
    floors[5].bytes = 8.0 * 512 * 1024;
    floors[6] = floors[0];                                        // jobs: the toy's steps
    floors[7].bytes = 8.0 * MLP_N * (MLP_D + MLP_H);              // mlp: X, XW0 read once
}

// The timing of the workload whose extra measurement runs (bench_main).
static timing last_timing;

// ---------------------------------------------------------------------------
// Timing helpers

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// GFLOP/s of C = A B for n x n matrices with `threads` OpenBLAS threads.
static double dgemm_rate(int threads)
{
    int n = 2048;
    double *A = dalloc((size_t)n * n), *B = dalloc((size_t)n * n), *C = dalloc((size_t)n * n), t[5];
    for (size_t i = 0; i < (size_t)n * n; i++) A[i] = B[i] = 1.0 / (double)(1 + i % 97);
    openblas_set_num_threads(threads);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, A, n, B, n, 0.0, C, n);
    for (int r = 0; r < 5; r++) {
        double t0 = now_seconds();
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, A, n, B, n, 0.0, C, n);
        t[r] = now_seconds() - t0;
    }
    free(A), free(B), free(C);
    return 2.0 * n * n * n / median(t, 5) / 1e9;
}

// Bytes per second read from memory by one thread (*bw_one) and by `cores`
// threads (*bw_all), each summing its slice of one array of max(2 x the
// last-level cache, 512 MB) (so that nothing of it is left in cache from the
// previous pass); median of 5 passes after a warm-up one.  Sixteen partial
// sums per thread keep the adds off the critical path.
typedef struct {
    const double *x;
    size_t n;
    double sum;
} sum_slice;

static void *sum_slice_run(void *arg)
{
    sum_slice *s = arg;
    double acc[16] = {0};
    size_t i = 0;
    for (; i + 16 <= s->n; i += 16)
        for (int j = 0; j < 16; j++) acc[j] += s->x[i + j];
    for (; i < s->n; i++) acc[0] += s->x[i];
    double t = 0;
    for (int j = 0; j < 16; j++) t += acc[j];
    s->sum = t;
    return NULL;
}

static double read_rate(const double *x, size_t n, int threads);

static void stream_bandwidth(int cores, double *bw_one, double *bw_all)
{
    long llc = 0;
#ifdef _SC_LEVEL3_CACHE_SIZE
    llc = sysconf(_SC_LEVEL3_CACHE_SIZE);
#endif
    size_t bytes = (size_t)2 * (llc > 0 ? (size_t)llc : 0);
    if (bytes < ((size_t)512 << 20)) bytes = (size_t)512 << 20;
    size_t n = bytes / sizeof(double);
    double *x = dalloc(n);
    for (size_t i = 0; i < n; i++) x[i] = 1.0 / (double)(1 + i % 89);
    *bw_one = read_rate(x, n, 1);
    *bw_all = read_rate(x, n, cores);
    free(x);
}

// Bytes per second of `threads` threads summing x: (n) in slices.
static double read_rate(const double *x, size_t n, int threads)
{
    enum { MAXT = 64 };
    double t[5], sink = 0;
    if (threads < 1) threads = 1;
    if (threads > MAXT) threads = MAXT;
    sum_slice sl[MAXT];
    pthread_t tid[MAXT];
    int started[MAXT];
    for (int rep = -1; rep < 5; rep++) {
        double t0 = now_seconds();
        for (int k = 0; k < threads; k++) {
            size_t a = n / threads * k, b = k == threads - 1 ? n : n / threads * (k + 1);
            sl[k] = (sum_slice){.x = x + a, .n = b - a};
            started[k] = k > 0 && !pthread_create(&tid[k], NULL, sum_slice_run, &sl[k]);
        }
        for (int k = 0; k < threads; k++)   // slice 0, and any whose thread did not start
            if (!started[k]) sum_slice_run(&sl[k]);
        for (int k = 1; k < threads; k++)
            if (started[k]) pthread_join(tid[k], NULL);
        if (rep >= 0) t[rep] = now_seconds() - t0;
        for (int k = 0; k < threads; k++) sink += sl[k].sum;
    }
    if (!(sink > 0)) return NAN;   // the sums are used, so the passes are not optimised away
    return (double)(n * sizeof(double)) / median(t, 5);
}

// OpenBLAS picks its kernels from the CPU it detects (openblas_get_corename);
// on a CPU it does not know it falls back to generic ones (Prescott: SSE3,
// no AVX), several times slower at dgemm; loralab then chooses others itself
// (blas_core.h) unless told not to.  When the kernels in use are still older
// than what this CPU runs (LORALAB_BLAS_CORE=keep, OPENBLAS_CORETYPE set by
// hand, or an OpenBLAS without DYNAMIC_ARCH), the result is the OPENBLAS_CORETYPE
// to try (AVX-512: SkylakeX; AVX2: Haswell), else NULL.
static const char *blas_core_hint(const char *core)
{
    static const char *const avx512[] = {"SkylakeX", "Cooperlake", "SapphireRapids"};
    static const char *const avx2[] = {"Haswell", "Zen", "SkylakeX", "Cooperlake",
                                       "SapphireRapids"};
    const char *best = blas_core_for_cpu();
    int big = best && !strcmp(best, "SkylakeX"), known = 0;
    const char *const *list = big ? avx512 : avx2;
    int n = big ? (int)(sizeof avx512 / sizeof *avx512) : (int)(sizeof avx2 / sizeof *avx2);
    for (int i = 0; best && i < n; i++) known |= !strcmp(core, list[i]);
    return best && !known ? best : NULL;
}

// Sum the columns setup_seconds and step_seconds and `steps` over summary.csv.
static int read_summary(const char *dir, timing *t)
{
    char path[600];
    snprintf(path, sizeof path, "%s/summary.csv", dir);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    csv_row h = {0}, r = {0};
    int ok = csv_read_row(f, &h), isu = -1, ist = -1, isn = -1;
    for (int i = 0; ok && i < h.nf; i++) {
        if (!strcmp(h.f[i], "setup_seconds")) isu = i;
        if (!strcmp(h.f[i], "step_seconds")) ist = i;
        if (!strcmp(h.f[i], "steps")) isn = i;
    }
    t->setup = t->step = 0;
    t->steps = 0;
    while (ok && csv_read_row(f, &r)) {
        if (isu >= 0 && isu < r.nf) t->setup += atof(r.f[isu]);
        if (ist >= 0 && ist < r.nf) t->step += atof(r.f[ist]);
        if (isn >= 0 && isn < r.nf) t->steps += atol(r.f[isn]);
        csv_row_free(&r);
    }
    csv_row_free(&h);
    fclose(f);
    return isu >= 0 && ist >= 0 ? 0 : -1;
}

// CPU seconds (user + system) used so far by this process, all its threads.
static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           1e-6 * (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

// One repetition: run `yaml` (with --set overrides) into dir/out.
static int run_once(const char *yaml, const char *name, const char *dir, int threads,
                    int workers, char *const *sets, int nsets, timing *t, lerr *e)
{
    for (int j = 0; j < NWORK; j++)
        if (!strcmp(workloads[j].name, name) && workloads[j].direct) {
            openblas_set_num_threads(threads);
            return workloads[j].direct(t, e);
        }
    char file[512];
    snprintf(file, sizeof file, "%s/%s.yaml", dir, name);
    FILE *f = fopen(file, "w");
    if (!f) return lerr_run(e, "cannot write %s", file);
    fputs(yaml, f);
    fclose(f);
    char out[512];
    snprintf(out, sizeof out, "%s/out", dir);
    openblas_set_num_threads(threads);
    run_opts o = {.out_dir = out, .force = 1, .quiet = 1, .workers = workers,
                  .command = "loralab bench"};
    double c0 = cpu_seconds(), t0 = now_seconds();
    int rc = run_experiment(file, sets, nsets, &o, NULL, e);
    t->wall = now_seconds() - t0;
    t->cpu = cpu_seconds() - c0;
    if (!rc && read_summary(out, t)) return lerr_run(e, "cannot read %s/summary.csv", out);
    return rc;
}

// In a child, after its runs: remove its folder dir, and on failure (rc)
// name the workload and the error and exit 1.
static void child_done(const char *dir, const char *name, int rc, const lerr *e)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {}
    if (rc) {
        fprintf(stderr, "loralab bench %s: %s\n", name, e->msg);
        _exit(1);
    }
}

// In a child: warm-up + reps timed runs; writes the median timing to fd.
static void child(const char *yaml, const char *name, int threads, int workers,
                  char *const *sets, int nsets, int reps, int fd)
{
    char dir[] = "/tmp/loralab-bench.XXXXXX";
    if (!mkdtemp(dir)) _exit(3);
    lerr e = {0};
    timing t, all[64];
    if (reps > 64) reps = 64;
    int rc = run_once(yaml, name, dir, threads, workers, sets, nsets, &t, &e);
    for (int r = 0; r < reps && !rc; r++)
        rc = run_once(yaml, name, dir, threads, workers, sets, nsets, &all[r], &e);
    child_done(dir, name, rc, &e);
    double v[4][64];
    for (int r = 0; r < reps; r++)
        v[0][r] = all[r].wall, v[1][r] = all[r].setup, v[2][r] = all[r].step, v[3][r] = all[r].cpu;
    timing med = {median(v[0], reps), median(v[1], reps), median(v[2], reps), all[0].steps,
                  median(v[3], reps)};
    if (write(fd, &med, sizeof med) != (ssize_t)sizeof med) _exit(2);
    _exit(0);
}

// Run body(args, fd) in a forked child, which writes `size` bytes of results
// to fd and exits 0; read them into out.  *peak_mb (if not NULL) = the
// child's peak resident memory.  Returns 0 on success.
static int in_child(void (*body)(const void *args, int fd), const void *args, void *out,
                    size_t size, double *peak_mb)
{
    int fds[2];
    if (pipe(fds) != 0) return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        close(fds[0]);
        body(args, fds[1]);
        _exit(0);
    }
    close(fds[1]);
    ssize_t got = read(fds[0], out, size);
    close(fds[0]);
    int st;
    struct rusage ru;
    wait4(pid, &st, 0, &ru);
    if (peak_mb) *peak_mb = ru.ru_maxrss / 1024.0;
    return got == (ssize_t)size && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

typedef struct {
    const char *yaml, *name;
    int threads, workers;
    char *const *sets;
    int nsets, reps;
} child_args;

static void child_body(const void *args, int fd)
{
    const child_args *c = args;
    child(c->yaml, c->name, c->threads, c->workers, c->sets, c->nsets, c->reps, fd);
}

// Run a child for `yaml`; fills *t and *peak_mb; returns 0 on success.
static int measure(const char *yaml, const char *name, int threads, int workers,
                   char *const *sets, int nsets, int reps, timing *t, double *peak_mb)
{
    child_args c = {yaml, name, threads, workers, sets, nsets, reps};
    return in_child(child_body, &c, t, sizeof *t, peak_mb);
}

// Two configurations of one workload, timed alternately (a, b, a, b, ...)
// in one child after a warm-up of each, so that both see the same machine:
// the medians of each, and the medians of the paired differences a - b.
typedef struct {
    timing a, b;
    double d_wall, d_cpu;   // medians over the pairs of a.wall - b.wall, a.cpu - b.cpu
} timing_pair;

static void child_pair(const char *yaml, const char *name, char *const *sets_a, int na,
                       char *const *sets_b, int nb, int reps, int fd)
{
    char dir[] = "/tmp/loralab-bench.XXXXXX";
    if (!mkdtemp(dir)) _exit(3);
    lerr e = {0};
    timing t, a[64], b[64];
    if (reps > 64) reps = 64;
    int rc = run_once(yaml, name, dir, 1, 1, sets_a, na, &t, &e);
    if (!rc) rc = run_once(yaml, name, dir, 1, 1, sets_b, nb, &t, &e);
    for (int r = 0; r < reps && !rc; r++) {
        rc = run_once(yaml, name, dir, 1, 1, sets_a, na, &a[r], &e);
        if (!rc) rc = run_once(yaml, name, dir, 1, 1, sets_b, nb, &b[r], &e);
    }
    child_done(dir, name, rc, &e);
    double v[10][64];
    for (int r = 0; r < reps; r++) {
        v[0][r] = a[r].wall, v[1][r] = a[r].setup, v[2][r] = a[r].step, v[3][r] = a[r].cpu;
        v[4][r] = b[r].wall, v[5][r] = b[r].setup, v[6][r] = b[r].step, v[7][r] = b[r].cpu;
        v[8][r] = a[r].wall - b[r].wall, v[9][r] = a[r].cpu - b[r].cpu;
    }
    timing_pair med = {
        .a = {median(v[0], reps), median(v[1], reps), median(v[2], reps), a[0].steps, median(v[3], reps)},
        .b = {median(v[4], reps), median(v[5], reps), median(v[6], reps), b[0].steps, median(v[7], reps)},
        .d_wall = median(v[8], reps), .d_cpu = median(v[9], reps)};
    if (write(fd, &med, sizeof med) != (ssize_t)sizeof med) _exit(2);
    _exit(0);
}

typedef struct {
    const char *yaml, *name;
    char *const *sets_a, *const *sets_b;
    int na, nb, reps;
} pair_args;

static void pair_body(const void *args, int fd)
{
    const pair_args *c = args;
    child_pair(c->yaml, c->name, c->sets_a, c->na, c->sets_b, c->nb, c->reps, fd);
}

// measure_pair: child_pair in a forked child (one BLAS thread, one worker).
static int measure_pair(const char *yaml, const char *name, char *const *sets_a, int na,
                        char *const *sets_b, int nb, int reps, timing_pair *t)
{
    pair_args c = {yaml, name, sets_a, sets_b, na, nb, reps};
    return in_child(pair_body, &c, t, sizeof *t, NULL);
}

// ---------------------------------------------------------------------------
// Extra measurements

// This thread's CPU seconds.
static double thread_cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// CPU microseconds of one metrics_factors call at the toy's shapes on the
// small-matrix path (*small_us) and on LAPACK (*lapack_us): the toy's
// teacher, A ~ N(0, 1), B ~ N(0, 0.01), their loss gradients; median of
// `reps` batches of 2000 calls after a warm-up batch, one BLAS thread.
static int toy_row_alone(int reps, double *small_us, double *lapack_us)
{
    enum { ITER = 2000 };
    lerr e = {0};
    spec s;
    config_doc *doc = config_parse_string(toy_yaml, "bench-toy", &e);
    if (!doc || config_resolve(doc, &s, &e)) {
        config_doc_free(doc);
        return -1;
    }
    config_doc_free(doc);
    problem *p = NULL;
    model *m = NULL;
    metrics_work *mw = NULL;
    int rc = problem_new(&s, 0, NULL, &p, &e);
    if (!rc) rc = (m = model_new(p, s.lora.rank, NULL, NULL, 0, &e)) ? 0 : -1;
    if (rc) {
        problem_free(p);
        spec_free(&s);
        return -1;
    }
    int d = p->d, k = p->k, r = s.lora.rank;
    double *A = dalloc((size_t)d * r), *B = dalloc((size_t)r * k), *gA = dalloc((size_t)d * r);
    double *gB = dalloc((size_t)r * k), loss, t[64];
    gsl_rng *rng = stream_new(1, "bench-row");
    gaussian_fill(rng, A, d, r, 1.0);
    gaussian_fill(rng, B, r, k, 0.1);
    gsl_rng_free(rng);
    openblas_set_num_threads(1);
    mw = metrics_work_new(m);
    rc = model_eval_factors(m, A, B, &loss, gA, gB, &e);
    if (reps > 64) reps = 64;
    for (int path = 0; path < 2 && !rc; path++) {
        rc = metrics_work_use_small(mw, path == 0);
        for (int rep = -1; rep < reps && !rc; rep++) {
            metrics mt;
            double t0 = thread_cpu_seconds();
            for (int it = 0; it < ITER && !rc; it++)
                rc = metrics_factors(mw, A, B, gA, gB, loss, &mt, &e);
            if (rep >= 0) t[rep] = (thread_cpu_seconds() - t0) / ITER;
        }
        *(path == 0 ? small_us : lapack_us) = rc ? NAN : 1e6 * median(t, reps);
    }
    metrics_work_free(mw);
    model_free(m);
    problem_free(p);
    spec_free(&s);
    free(A), free(B), free(gA), free(gB);
    return rc;
}

// toy: the sweep with every metric every step (a) and with log.every = 1500
// (b: metrics at steps 0 and 1500 only), run alternately in one child; a
// logged row (its metrics, its CSV row and whatever they cost the steps
// around them) costs the median of the paired differences a - b over the
// 5 x 1499 extra rows.  CPU time (user + system of the child) is the figure:
// the wall-clock difference also counts the time other processes hold the
// core, which on a shared machine is most of it (so it is printed beside it,
// not used).  Then metrics_factors alone on a point of the toy's shapes
// (d = k = 100, r = 8, r* = 4: s = r + tq = 12), on this thread's CPU clock,
// by the small-matrix path the run takes and by LAPACK, median of `reps`
// batches of 2000 rows.
static void toy_extra(const workload *w, int cores, int reps)
{
    (void)cores;
    timing_pair tp;
    char *sets_b[] = {"log.every=1500"};
    if (measure_pair(w->yaml, w->name, NULL, 0, sets_b, 1, reps, &tp)) return;
    double extra_rows = 5.0 * 1501 - 5.0 * 2;
    double row_cpu = tp.d_cpu / extra_rows, row_wall = tp.d_wall / extra_rows;
    printf("  toy: CPU time of the sweep %.3f s, with metrics only at steps 0 and 1500 %.3f s "
           "(alternated, medians over %d pairs): a metric row with its CSV row costs %.1f us of CPU "
           "(%.0f%% of the run); by wall clock %.1f us (%.3f against %.3f s: the wall "
           "difference also counts time other processes held the core)\n",
           tp.a.cpu, tp.b.cpu, reps, 1e6 * row_cpu, 100 * row_cpu * 5 * 1501 / tp.a.cpu,
           1e6 * row_wall, tp.a.wall, tp.b.wall);
    double small_us, lapack_us;
    if (toy_row_alone(reps, &small_us, &lapack_us) == 0)
        printf("  toy: metrics_factors alone (CPU time per row): %.1f us on the small-matrix "
               "path (small_linalg.c, what the run uses), %.1f us through LAPACK\n",
               small_us, lapack_us);
    toy_numpy_line(tp.a.cpu, tp.a.wall, reps);
}

// toy: the same sweep written in NumPy (bench/toy_numpy.py under the source
// root: same shapes, steps and per-step metric rows, written round-trip exact),
// run min(reps, 3) times on one BLAS thread in this invocation; the medians
// of the CPU time and the wall time the script reports for its sweep
// (interpreter start-up and imports excluded) against loralab's.  Skipped
// with a note when no python3 imports numpy.
static void toy_numpy_line(double loralab_cpu, double loralab_wall, int reps)
{
    char *script = path_join(LORALAB_SOURCE_ROOT, "bench/toy_numpy.py");
    const char *pythons[] = {"python3", "/usr/bin/python3"}, *py = NULL;
    char cmd[1400];
    for (int i = 0; i < 2 && !py && access(script, R_OK) == 0; i++) {
        snprintf(cmd, sizeof cmd, "%s -c 'import numpy' >/dev/null 2>&1", pythons[i]);
        if (system(cmd) == 0) py = pythons[i];
    }
    if (!py) {
        printf("  toy: NumPy comparison skipped (%s and a python3 with numpy needed)\n", script);
        free(script);
        return;
    }
    snprintf(cmd, sizeof cmd, "OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 %s '%s'", py, script);
    double tw[3], tc[3];
    int n = 0;
    for (int i = 0; i < (reps < 3 ? reps : 3); i++) {
        FILE *f = popen(cmd, "r");
        if (f && fscanf(f, "%lf %lf", &tw[n], &tc[n]) == 2) n++;
        if (f) pclose(f);
    }
    if (n == 0) {
        printf("  toy: NumPy comparison failed (%s)\n", cmd);
    } else {
        double c = median(tc, n), wl = median(tw, n);
        printf("  toy: the same sweep in NumPy (bench/toy_numpy.py, one thread, median of %d): "
               "%.3f s of CPU, %.1fx loralab's %.3f s (wall: %.3f s, %.1fx loralab's %.3f s)\n",
               n, c, c / loralab_cpu, loralab_cpu, wl, wl / loralab_wall, loralab_wall);
    }
    free(script);
}

// Per step, the relu workload's five products alone on buffers of the same
// shapes: X A (N,d)(d,r); XA B (N,r)(r,k); R B^T (N,k)(k,r); X^T RB (d,N)(N,r);
// XA^T R (r,N)(N,k).  Median of reps runs of 200 steps.
static void relu_extra(const workload *w, int cores, int reps)
{
    (void)w;
    int n = 16384, d = 512, k = 512, r = 8, steps = 200;
    double *X = dalloc((size_t)n * d), *A = dalloc((size_t)d * r), *B = dalloc((size_t)r * k);
    double *XA = dalloc((size_t)n * r), *Z = dalloc((size_t)n * k), *RB = dalloc((size_t)n * r);
    double *gA = dalloc((size_t)d * r), *gB = dalloc((size_t)r * k);
    input_rows(0, "bench", d, 0, n, cores, X);
    for (size_t i = 0; i < (size_t)d * r; i++) A[i] = 0.01 * (double)(i % 7);
    for (size_t i = 0; i < (size_t)r * k; i++) B[i] = 0.01 * (double)(i % 5);
    openblas_set_num_threads(cores);
    double t[64];
    if (reps > 64) reps = 64;
    for (int rep = -1; rep < reps; rep++) {
        double t0 = now_seconds();
        for (int s = 0; s < steps; s++) {
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, r, d, 1.0, X, d, A, r, 0.0, XA, r);
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, k, r, 1.0, XA, r, B, k, 0.0, Z, k);
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, r, k, 1.0, Z, k, B, k, 0.0, RB, r);
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d, r, n, 1.0, X, d, RB, r, 0.0, gA, r);
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, r, k, n, 1.0, XA, r, Z, k, 0.0, gB, k);
        }
        if (rep >= 0) t[rep] = (now_seconds() - t0) / steps;
    }
    double per = median(t, reps);
    printf("  relu: the five products alone: %.2f ms per step (%.1f GFLOP/s)\n", 1e3 * per,
           nonlinear_flops(n, d, k, r) / per / 1e9);
    free(X), free(A), free(B), free(XA), free(Z), free(RB), free(gA), free(gB);
}

// wide-n: the accumulation as the run does it (gram_inputs), with its own
// split of each lane's time between generating rows and dsyrk; then the whole
// run at N / 4 for the time ratio and the peak memory.
static void widen_extra(const workload *w, int cores, int reps)
{
    int d = 256, n = 10000000;
    double *S = dalloc((size_t)d * d), tw[64], tg[64], ta[64];
    openblas_set_num_threads(cores);
    if (reps > 64) reps = 64;
    for (int rep = 0; rep < reps; rep++) {
        gram_times gt;
        double t0 = now_seconds();
        gram_inputs(0, "bench", n, d, cores, S, &gt);
        tw[rep] = now_seconds() - t0;
        tg[rep] = gt.gen_s, ta[rep] = gt.acc_s;
    }
    double wall = median(tw, reps), g = median(tg, reps), a = median(ta, reps);
    double flops = (double)n * d * (d + 1);
    printf("  wide-n: X^T X of 10^7 rows alone: %.2f s (%.1f GFLOP/s); per lane %.2f s "
           "generating rows (%.2f ns per entry), %.2f s in dsyrk (%.1f GFLOP/s on 2 lanes): "
           "generation/accumulation = %.2f\n", wall, flops / wall / 1e9, g,
           1e9 * g * 2 / ((double)n * d), a, flops / a / 1e9, g / a);
    free(S);
    timing full, quarter;
    double mb_full, mb_quarter;
    char *sets[] = {"teacher.n=2500000"};
    if (measure(w->yaml, w->name, cores, 1, NULL, 0, reps, &full, &mb_full) == 0 &&
        measure(w->yaml, w->name, cores, 1, sets, 1, reps, &quarter, &mb_quarter) == 0)
        printf("  wide-n: N = 10^7 %.2f s, %.0f MB;  N = 2.5 10^6 %.2f s, %.0f MB;  time ratio "
               "%.2f for 4x the samples\n", full.wall, mb_full, quarter.wall, mb_quarter,
               full.wall / quarter.wall);
}

// minibatch: per step, the batch's five products alone, on one thread, on
// contiguous buffers of its B = 256 rows (X_b A (B,d)(d,r); XA B (B,r)(r,k);
// R B^T (B,k)(k,r); X_b^T RB (d,B)(B,r); XA^T R (r,B)(B,k)), and gathering a
// batch's rows of X (batch.h: gather_rows, as the step does) alone; median of
// reps runs of 2000 steps, against the run's step time (step_seconds / steps:
// gathering, products, activation, loss and the GD update).
static void minibatch_extra(const workload *w, int cores, int reps)
{
    (void)w;
    int n = 16384, d = 512, k = 512, r = 8, b = 256, steps = 2000;
    double *X = dalloc((size_t)n * d), *Xb = dalloc((size_t)b * d);
    double *A = dalloc((size_t)d * r), *B = dalloc((size_t)r * k), *XA = dalloc((size_t)b * r);
    double *Z = dalloc((size_t)b * k), *RB = dalloc((size_t)b * r);
    double *gA = dalloc((size_t)d * r), *gB = dalloc((size_t)r * k);
    input_rows(0, "bench", d, 0, n, cores, X);
    for (size_t i = 0; i < (size_t)d * r; i++) A[i] = 0.01 * (double)(i % 7);
    for (size_t i = 0; i < (size_t)r * k; i++) B[i] = 0.01 * (double)(i % 5);
    batch_stream *bs = batch_stream_new(0, n, b);
    openblas_set_num_threads(1);
    double tp[64], tg[64];
    if (reps > 64) reps = 64;
    for (int rep = -1; rep < reps; rep++) {
        double t0 = now_seconds();
        for (int s = 0; s < steps; s++) {
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, b, r, d, 1.0, Xb, d, A, r, 0.0, XA, r);
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, b, k, r, 1.0, XA, r, B, k, 0.0, Z, k);
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, b, r, k, 1.0, Z, k, B, k, 0.0, RB, r);
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d, r, b, 1.0, Xb, d, RB, r, 0.0, gA, r);
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, r, k, b, 1.0, XA, r, Z, k, 0.0, gB, k);
        }
        double t1 = now_seconds();
        for (int s = 0; s < steps; s++) {
            const int *rows;
            int nb = batch_rows(bs, s, &rows);
            gather_rows(X, d, rows, nb, Xb);
        }
        if (rep >= 0) tp[rep] = (t1 - t0) / steps, tg[rep] = (now_seconds() - t1) / steps;
    }
    double prod = median(tp, reps), gath = median(tg, reps);
    double step = last_timing.steps > 0 ? last_timing.step / (double)last_timing.steps : NAN;
    printf("  minibatch: per step %.3f ms; the batch's five products alone %.3f ms (%.1f GFLOP/s), "
           "gathering its rows of X alone %.3f ms: step / products = %.2f\n", 1e3 * step, 1e3 * prod,
           nonlinear_flops(b, d, k, r) / prod / 1e9, 1e3 * gath, step / prod);
    batch_stream_free(bs);
    free(X), free(Xb), free(A), free(B), free(XA);
    free(Z), free(RB), free(gA), free(gB);
}

static void jobs_extra(const workload *w, int cores, int reps)
{
    timing one, all;
    double mb1, mb2;
    if (measure(w->yaml, w->name, 1, 1, NULL, 0, reps, &one, &mb1) == 0 &&
        measure(w->yaml, w->name, 1, cores, NULL, 0, reps, &all, &mb2) == 0)
        printf("  jobs: -j 1 %.2f s, -j %d %.2f s: ratio %.2f\n", one.wall, cores, all.wall,
               all.wall / one.wall);
}

// mlp: the data of the workload.  Real Fashion-MNIST when its folder is
// there (LORALAB_FASHION_MNIST, else dataset.h's default): the training
// split scaled to [0, 1], its odd classes 1 3 5 7 9 as labels 0 .. 4, 6000
// rows drawn with seed 1, centred by their mean.  Otherwise synthetic: rows
// x_i ~ N(0, I_784), labels argmax_c x_i^T M_c for a Gaussian M: (784, 5).
// *real says which; *dir names the folder.  X: (N, d) and y: (N) are new
// arrays.
static const char *mlp_data_dir(void)
{
    const char *env = getenv("LORALAB_FASHION_MNIST");
    return env && *env ? env : DATASET_FASHION_MNIST_DIR;
}

static int mlp_data(double **X, int **y, int *real, lerr *e)
{
    labelled_data tr = {0}, odd = {0}, sub = {0};
    const int classes[MLP_K] = {1, 3, 5, 7, 9};
    struct stat st;
    *real = stat(mlp_data_dir(), &st) == 0 && S_ISDIR(st.st_mode);
    if (*real) {
        int rc = dataset_load_idx(mlp_data_dir(), DATA_TRAIN, &tr, e);
        if (!rc) {
            dataset_scale_bytes(&tr);
            rc = dataset_select_classes(&tr, classes, MLP_K, &odd, e);
        }
        if (!rc) rc = dataset_subsample(&odd, MLP_N, 1, "bench", &sub, e);
        dataset_free(&tr), dataset_free(&odd);
        if (rc || sub.d != MLP_D) {
            dataset_free(&sub);
            return rc ? rc : lerr_run(e, "%s: %d inputs, not %d", mlp_data_dir(), sub.d, MLP_D);
        }
        dataset_centre(&sub, NULL, 0);
        *X = sub.X, *y = sub.label;
        sub.X = NULL, sub.label = NULL;
        dataset_free(&sub);
        return 0;
    }
    double *M = dalloc((size_t)MLP_D * MLP_K);
    *X = dalloc((size_t)MLP_N * MLP_D);
    *y = xcalloc(MLP_N, sizeof(int));
    gsl_rng *rng = stream_new(1, "bench-mlp");
    gaussian_fill(rng, *X, MLP_N, MLP_D, 1.0);
    gaussian_fill(rng, M, MLP_D, MLP_K, 1.0);
    gsl_rng_free(rng);
    for (int i = 0; i < MLP_N; i++) {
        double best = -INFINITY, z;
        for (int c = 0; c < MLP_K; c++) {
            z = 0.0;
            for (int j = 0; j < MLP_D; j++) z += (*X)[(size_t)i * MLP_D + j] * M[(size_t)j * MLP_K + c];
            if (z > best) best = z, (*y)[i] = c;
        }
    }
    free(M);
    return 0;
}

// One run of the mlp workload: the data (mlp_data), W0 and V from mlp.h's
// standard init (seed 1; not pretrained: a step's cost does not depend on the
// weights), mlp_ft_new (X W0 computed once), A ~ N(0, 1/d), B = 0; then
// MLP_STEPS full-batch GD steps (lr 0.1) on the cross-entropy loss:
// mlp_ft_eval_factors, A -= lr gA, B -= lr gB.  setup = everything before
// the first step.
static int mlp_run(timing *t, lerr *e)
{
    double t0 = now_seconds(), c0 = cpu_seconds();
    double *X = NULL, lr = 0.1, L;
    int *y = NULL, real, d = MLP_D, h = MLP_H, r = MLP_R;
    if (mlp_data(&X, &y, &real, e)) return -1;
    mlp_net *net = mlp_net_new(d, h, MLP_K);
    mlp_net_init(net, 1);
    mlp_ft *ft = NULL;
    int rc = mlp_ft_new(X, y, MLP_N, d, net->W1, h, net->V, MLP_K, MLP_CROSS_ENTROPY, r, &ft, e);
    double *A = dalloc((size_t)d * r), *B = dalloc((size_t)r * h);
    double *gA = dalloc((size_t)d * r), *gB = dalloc((size_t)r * h);
    gsl_rng *rng = stream_new(1, "bench-mlp-A");
    gaussian_fill(rng, A, d, r, 1.0 / sqrt((double)d));
    gsl_rng_free(rng);
    t->setup = now_seconds() - t0;
    t->step = 0;
    t->steps = MLP_STEPS;
    for (int s = 0; s < MLP_STEPS && !rc; s++) {
        double ts = now_seconds();
        rc = mlp_ft_eval_factors(ft, A, B, r, &L, gA, gB, e);
        for (int i = 0; i < d * r; i++) A[i] -= lr * gA[i];
        for (int i = 0; i < r * h; i++) B[i] -= lr * gB[i];
        t->step += now_seconds() - ts;
    }
    if (!rc && !isfinite(L)) rc = lerr_run(e, "mlp: loss %g after %d steps", L, MLP_STEPS);
    t->wall = now_seconds() - t0;
    t->cpu = cpu_seconds() - c0;
    mlp_ft_free(ft);
    mlp_net_free(net);
    free(X), free(y), free(A), free(B), free(gA), free(gB);
    return rc;
}

// mlp: which data it ran on; and per step, the seven products of
// mlp_ft_eval_factors alone, on one thread, block by block (MLP_ROWS rows)
// on buffers of the same shapes (X_b A (m,d)(d,r); XA B (m,r)(r,h); H V
// (m,h)(h,K); dF V^T (m,K)(K,h); XA^T dZ (r,m)(m,h); dZ B^T (m,h)(h,r);
// X_b^T T (d,m)(m,r)), median of reps runs of 20 steps, against the run's
// step time: the products' share of a step (the rest: the ReLU and its
// mask, the softmax loss, copying X W0's rows, the update).
static void mlp_extra(const workload *w, int cores, int reps)
{
    (void)w, (void)cores;
    int n = MLP_N, d = MLP_D, h = MLP_H, K = MLP_K, r = MLP_R, steps = 20, mb = MLP_ROWS;
    double *X = dalloc((size_t)n * d), *A = dalloc((size_t)d * r), *B = dalloc((size_t)r * h);
    double *XA = dalloc((size_t)mb * r), *Z = dalloc((size_t)mb * h), *V = dalloc((size_t)h * K);
    double *F = dalloc((size_t)mb * K), *T = dalloc((size_t)mb * r);
    double *gA = dalloc((size_t)d * r), *gB = dalloc((size_t)r * h);
    for (size_t i = 0; i < (size_t)n * d; i++) X[i] = 0.01 * (double)(i % 13);
    for (size_t i = 0; i < (size_t)d * r; i++) A[i] = 0.01 * (double)(i % 7);
    for (size_t i = 0; i < (size_t)r * h; i++) B[i] = 0.01 * (double)(i % 5);
    for (size_t i = 0; i < (size_t)h * K; i++) V[i] = 0.01 * (double)(i % 3);
    openblas_set_num_threads(1);
    double tp[64];
    if (reps > 64) reps = 64;
    for (int rep = -1; rep < reps; rep++) {
        double t0 = now_seconds();
        for (int s = 0; s < steps; s++)
            for (int b0 = 0; b0 < n; b0 += mb) {
                int m = n - b0 < mb ? n - b0 : mb;
                double beta = b0 == 0 ? 0.0 : 1.0;
                const double *Xb = X + (size_t)b0 * d;
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, r, d, 1.0, Xb, d, A, r, 0.0, XA, r);
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, h, r, 1.0, XA, r, B, h, 1.0, Z, h);
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, K, h, 1.0, Z, h, V, K, 0.0, F, K);
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, h, K, 1.0, F, K, V, K, 0.0, Z, h);
                cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, r, h, m, 1.0, XA, r, Z, h, beta, gB, h);
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, r, h, 1.0, Z, h, B, h, 0.0, T, r);
                cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d, r, m, 1.0, Xb, d, T, r, beta, gA, r);
            }
        if (rep >= 0) tp[rep] = (now_seconds() - t0) / steps;
    }
    double prod = median(tp, reps);
    double step = last_timing.steps > 0 ? last_timing.step / (double)last_timing.steps : NAN;
    struct stat st;
    int real = stat(mlp_data_dir(), &st) == 0 && S_ISDIR(st.st_mode);
    if (real)
        printf("  mlp: data: Fashion-MNIST (%s; train split, classes 1 3 5 7 9, %d rows, "
               "centred)\n", mlp_data_dir(), n);
    else
        printf("  mlp: data: synthetic (Gaussian rows, labels from a random linear map; %s "
               "absent)\n", mlp_data_dir());
    printf("  mlp: per step %.2f ms; its seven matrix products alone %.2f ms (%.1f GFLOP/s): "
           "the products' share of a step = %.2f\n", 1e3 * step, 1e3 * prod,
           mlp_flops(n, d, h, K, r) / prod / 1e9, prod / step);
    free(X), free(A), free(B), free(XA), free(Z), free(V), free(F), free(T), free(gA), free(gB);
}

// A workload's floor (formulas at the top of the file) for a run timed t, at
// `gflops` GFLOP/s and `bw` bytes per second.
typedef struct {
    double seconds, ratio;
    const char *bound;   // "flops" or "bytes": which of the two sets the steps' floor
} floor_t;

static floor_t workload_floor(const floor_work *w, const timing *t, double gflops, double bw)
{
    double steps = (double)t->steps, tf = w->flops / (gflops * 1e9), tb = w->bytes / bw;
    floor_t f = {.bound = tf >= tb ? "flops" : "bytes"};
    f.seconds = steps * (tf > tb ? tf : tb) + w->setup_flops / (gflops * 1e9);
    f.ratio = (t->step + (w->setup_flops > 0 ? t->setup : 0.0)) / f.seconds;
    return f;
}

// ---------------------------------------------------------------------------

void bench_list(FILE *f)
{
    for (int j = 0; j < NWORK; j++) fprintf(f, "  %-9s %s\n", workloads[j].name, workloads[j].what);
}

int bench_main(char *const *args, int nargs)
{
    int reps = 5;
    char *names[NWORK + 8];
    int n = 0;
    for (int i = 0; i < nargs; i++) {
        if (!strcmp(args[i], "--reps") && i + 1 < nargs) {
            reps = atoi(args[++i]);
            if (reps < 1 || reps > 64) {
                fprintf(stderr, "loralab bench: --reps must be 1..64\n");
                return EXIT_INPUT;
            }
            continue;
        }
        if (!strcmp(args[i], "--list")) {
            bench_list(stdout);
            return EXIT_OK;
        }
        if (args[i][0] == '-') {
            if (!strcmp(args[i], "--reps"))
                fprintf(stderr, "loralab bench: --reps needs a value\n");
            else
                fprintf(stderr, "loralab bench: unknown option %s (see 'loralab help bench')\n", args[i]);
            return EXIT_INPUT;
        }
        int ok = 0;
        for (int j = 0; j < NWORK; j++) ok |= !strcmp(args[i], workloads[j].name);
        if (!ok || n >= NWORK + 8) {
            fprintf(stderr, "loralab bench: unknown workload '%s'; the workloads are:\n", args[i]);
            bench_list(stderr);
            return EXIT_INPUT;
        }
        names[n++] = args[i];
    }
    set_flops();
    set_floors();
    int cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1) cores = 1;
    double one = dgemm_rate(1), all = dgemm_rate(cores);
    double bw_one, bw_all;
    stream_bandwidth(cores, &bw_one, &bw_all);
    printf("machine: %d cores; dgemm (n = 2048, median of 5): %.1f GFLOP/s on one core, "
           "%.1f GFLOP/s on %d; stream (read-sum, median of 5): %.1f GB/s on one core, "
           "%.1f GB/s on %d; medians of %d runs after a warm-up\n",
           cores, one, all, cores, bw_one / 1e9, bw_all / 1e9, cores, reps);
    const char *hint = blas_core_hint(openblas_get_corename());
    printf("OpenBLAS kernels: %s", blas_core_description());
    if (hint)
        printf(" (generic for this CPU, which has %s: OpenBLAS did not recognise it; "
               "OPENBLAS_CORETYPE=%s selects its kernels for such CPUs, several times "
               "faster at dgemm, with other roundings; OPENBLAS_VERBOSE=2 shows the choice)",
               !strcmp(hint, "SkylakeX") ? "AVX-512" : "AVX2", hint);
    printf("\n\n");
    printf("%-9s %9s %9s %9s %10s %9s %8s %9s %9s %7s %5s\n", "name", "seconds", "setup s", "step s",
           "steps/s", "GFLOP/s", "of dgemm", "peak MB", "floor s", "x floor", "bound");
    int failed = 0;
    for (int j = 0; j < NWORK; j++) {
        workload *w = &workloads[j];
        int want = n == 0;
        for (int i = 0; i < n; i++) want |= !strcmp(names[i], w->name);
        if (!want) continue;
        int threads = w->one_core ? 1 : cores, workers = w->one_core ? 1 : cores;
        timing t;
        double mb;
        if (measure(w->yaml, w->name, threads, workers, NULL, 0, reps, &t, &mb)) {
            printf("%-9s failed\n", w->name);
            failed = 1;
            continue;
        }
        char gf[32] = "-", frac[32] = "-";
        if (w->flops_per_step > 0 && t.step > 0) {
            double rate = w->flops_per_step * (double)t.steps / t.step / 1e9;
            snprintf(gf, sizeof gf, "%.2f", rate);
            snprintf(frac, sizeof frac, "%.0f%%", 100 * rate / (threads == 1 ? one : all));
        }
        floor_t fl = workload_floor(&floors[j], &t, threads == 1 ? one : all, threads == 1 ? bw_one : bw_all);
        printf("%-9s %9.3f %9.3f %9.3f %10.0f %9s %8s %9.0f %9.4g %7.2f %5s\n", w->name, t.wall,
               t.setup, t.step, t.step > 0 ? (double)t.steps / t.step : 0.0, gf, frac, mb,
               fl.seconds, fl.ratio, fl.bound);
        fflush(stdout);
        last_timing = t;
        if (w->extra) w->extra(w, cores, reps);
    }
    printf("\nseconds: wall time of the whole run; setup s / step s: summed over its cells "
           "(building the problem and initialising / training steps without the logged "
           "metrics); GFLOP/s: per-step matrix-product flops over the step time; floor s: "
           "the steps' flops at the dgemm rate or their bytes at the stream bandwidth, "
           "whichever takes longer (plus the set-up's X^T X flops for layer and wide-n); "
           "x floor: step s (plus setup s where counted) / floor s; bound: flops or bytes.\n");
    for (int j = 0; j < NWORK; j++) {
        int want = n == 0;
        for (int i = 0; i < n; i++) want |= !strcmp(names[i], workloads[j].name);
        if (want) printf("  %-9s %s\n", workloads[j].name, workloads[j].what);
    }
    return failed ? EXIT_RUN : EXIT_OK;
}
