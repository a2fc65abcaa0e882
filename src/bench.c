// bench.c: benchmarks (issue 8).  Each workload runs in a forked child (so
// its peak resident memory, from wait4, is its own): one warm-up, then 5
// timed repetitions; the median wall time is reported with the steps per
// second, the GFLOP/s achieved by the per-step matrix products (counted by
// formula below) and their ratio to the machine's dgemm rate, measured in the
// same run on one core and on all cores (n = 1024 square products, median of
// 5).  Benchmarks print figures; they never assert.
//
// Per-step flops (2 per multiply-add):
//   linear (factored, m = d <= N):  2 d^2 r + 6 d k r
//       (Rs A, Rs^T (Res B^T): triangular, d^2 r each; RA B, Res B^T, RA^T Res: 2 d k r each)
//   nonlinear:                      2 N r (2 d + 3 k)
//       (X A, X^T RB: 2 N d r each; XA B, R B^T, XA^T R: 2 N k r each)
#include "bench.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "run.h"
#include "util.h"

int openblas_get_num_threads(void);
void openblas_set_num_threads(int n);

typedef struct {
    const char *name, *what, *yaml;
    int workers;
    double flops_per_run;   // matrix-product flops of one repetition
    long steps_per_run;
} workload;

// d = k = 100, N = 1600, r = 8, 5 alpha2, 1500 GD steps each, every metric every step
static const char toy_yaml[] =
    "name: bench-toy\nteacher: {d: 100, k: 100, n: 1600, rank: 4}\nlora: {rank: 8}\n"
    "init: {method: lora}\noptimizer: {method: gd, lr: 0.015625, steps: 1500}\nlog: {every: 1}\n"
    "sweep:\n  init.alpha2: [1, 0.1, 0.01, 0.001, 0.0001]\n";
static const char relu_yaml[] =
    "name: bench-relu\nteacher: {model: nonlinear, activation: relu, d: 512, k: 512, n: 16384, rank: 8}\n"
    "lora: {rank: 8}\ninit: {method: spectral, gamma: 2}\n"
    "optimizer: {method: precgd, lr: 0.5, damping: 1.0e-4, steps: 200}\nlog: {every: 20}\n";
static const char ntk_yaml[] =
    "name: bench-ntk\nteacher: {model: ntk, d: 32, k: 32, n: 256, outputs: 2, rank: 4, noise: 0.1}\n"
    "init: {method: gaussian, alpha2: 0.01}\n"
    "optimizer: {method: gd, lr: 0.02, steps: 2000, weight_decay: 0.05}\nlog: {every: 100}\n"
    "sweep:\n  lora.rank: [1, 2, 4, 8, 12, 16, 24, 32]\nseeds: 4\n";

static workload workloads[] = {
    {"toy", "alignment sweep: d=k=100, N=1600, r=8, 5 alpha2 x 1500 GD steps, all metrics each step",
     toy_yaml, 1, 5.0 * 1500 * (2.0 * 100 * 100 * 8 + 6.0 * 100 * 100 * 8), 5 * 1500},
    {"relu", "nonlinear ReLU: d=k=512, N=16384, r=8, 200 precgd steps (one process, all cores)",
     relu_yaml, 1, 200 * 2.0 * 16384 * 8 * (2 * 512 + 3 * 512), 200},
    {"ntk", "ntk: d=k=32, N=256, K=2: convex solve + 8 LoRA ranks x 4 seeds, 2000 GD steps (-j all)",
     ntk_yaml, 0, 0, 32 * 2000},
};
enum { NWORK = sizeof workloads / sizeof workloads[0] };

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median5(double *v)
{
    qsort(v, 5, sizeof *v, cmp_double);
    return v[2];
}

// GFLOP/s of C = A B for n x n matrices with `threads` OpenBLAS threads.
static double dgemm_rate(int threads)
{
    int n = 1024;
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
    return 2.0 * n * n * n / median5(t) / 1e9;
}

// One repetition: run the workload into a scratch folder.
static int run_once(const workload *w, const char *dir, int threads, lerr *e)
{
    char file[512];
    snprintf(file, sizeof file, "%s/%s.yaml", dir, w->name);
    FILE *f = fopen(file, "w");
    if (!f) return lerr_run(e, "cannot write %s", file);
    fputs(w->yaml, f);
    fclose(f);
    char out[512];
    snprintf(out, sizeof out, "%s/out", dir);
    openblas_set_num_threads(threads);
    run_opts o = {.out_dir = out, .force = 1, .quiet = 1,
                  .workers = w->workers ? w->workers : threads, .command = "loralab bench"};
    return run_experiment(file, NULL, 0, &o, NULL, e);
}

// In a child: warm-up + 5 timed runs; writes the median seconds to fd.
static void child(const workload *w, int threads, int fd)
{
    char dir[] = "/tmp/loralab-bench.XXXXXX";
    if (!mkdtemp(dir)) _exit(3);
    lerr e = {0};
    double t[5];
    int rc = run_once(w, dir, threads, &e);
    for (int r = 0; r < 5 && !rc; r++) {
        double t0 = now_seconds();
        rc = run_once(w, dir, threads, &e);
        t[r] = now_seconds() - t0;
    }
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {}
    if (rc) {
        fprintf(stderr, "loralab bench %s: %s\n", w->name, e.msg);
        _exit(1);
    }
    double med = median5(t);
    if (write(fd, &med, sizeof med) != (ssize_t)sizeof med) _exit(2);
    _exit(0);
}

int bench_main(char *const *names, int n)
{
    for (int i = 0; i < n; i++) {
        int ok = 0;
        for (int j = 0; j < NWORK; j++) ok |= !strcmp(names[i], workloads[j].name);
        if (!ok) {
            fprintf(stderr, "loralab bench: unknown workload '%s' (have: toy, relu, ntk; layer and "
                            "wide-n are not implemented yet)\n", names[i]);
            return EXIT_INPUT;
        }
    }
    int cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1) cores = 1;
    double one = dgemm_rate(1), all = dgemm_rate(cores);
    printf("machine: %d cores; dgemm (n = 1024, median of 5): %.1f GFLOP/s on one core, "
           "%.1f GFLOP/s on %d\n\n", cores, one, all, cores);
    printf("%-6s %10s %12s %10s %10s %10s  %s\n", "name", "seconds", "steps/s", "GFLOP/s",
           "of dgemm", "peak MB", "workload");
    for (int j = 0; j < NWORK; j++) {
        const workload *w = &workloads[j];
        int want = n == 0;
        for (int i = 0; i < n; i++) want |= !strcmp(names[i], w->name);
        if (!want) continue;
        int threads = w == &workloads[0] ? 1 : cores;   // toy: one core, as its target says
        int fds[2];
        if (pipe(fds) != 0) return EXIT_RUN;
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            child(w, threads, fds[1]);
        }
        close(fds[1]);
        double med = -1;
        ssize_t got = read(fds[0], &med, sizeof med);
        close(fds[0]);
        int st;
        struct rusage ru;
        wait4(pid, &st, 0, &ru);
        if (got != (ssize_t)sizeof med || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            printf("%-6s failed\n", w->name);
            continue;
        }
        double rate = w->flops_per_run / med / 1e9, ref = threads == 1 ? one : all;
        char gf[32] = "-", frac[32] = "-";
        if (w->flops_per_run > 0) {
            snprintf(gf, sizeof gf, "%.2f", rate);
            snprintf(frac, sizeof frac, "%.0f%%", 100 * rate / ref);
        }
        printf("%-6s %10.3f %12.0f %10s %10s %10.0f  %s\n", w->name, med,
               (double)w->steps_per_run / med, gf, frac, ru.ru_maxrss / 1024.0, w->what);
    }
    printf("\nnot yet: layer (d = k = 4096, N = 65536) and wide-n (N = 10^7): they need "
           "streamed sufficient statistics and a randomised top-r SVD\n");
    return EXIT_OK;
}
