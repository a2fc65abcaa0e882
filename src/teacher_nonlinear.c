// teacher_nonlinear.c: the nonlinear teacher-student model of LoRA-One,
// section 4 (theory/THEORY.md section 2).
//
//   f(x) = sigma((W0 + A B)^T x),  Y = sigma(X W_nat) + noise,
//   L(W) = 1/(2N) ||sigma(X W) - Y||_F^2,
//   J(W) = -dL/dW = (1/N) X^T [(Y - sigma(X W)) . sigma'(X W)]
// (. the entrywise product; sigma'(0) = 0 for ReLU).  No sufficient
// statistics exist, so every evaluation touches X, but never a (d, k) product
// that is not needed: with XB = X base kept per run,
//   XA = X A (N, r);  Z = XB + XA B (N, k);  F = sigma(Z), S = sigma'(Z);
//   R = (F - Y) . S;  L = ||F - Y||^2 / 2N;
//   dL/dA = X^T (R B^T) / N,  dL/dB = XA^T R / N,
// O(N r (d + k)) per step with every buffer allocated once per run.
//
// A factored evaluation is memory-bound (r = 8 columns against N = 16384
// rows), so it is one pass over the rows of X, XB and Y in blocks of NL_ROWS
// rows: the products of a block stay in cache and the (N, k) arrays Z and R
// are never formed.  The sums over rows (L, dL/dA, dL/dB) are split into
// chunks of NL_CHUNK rows: each chunk is summed in row order, the chunks in
// chunk order.  Chunks are shared among threads (as many as OpenBLAS may
// use; each calls OpenBLAS on small blocks, which run single-threaded), and
// since the partition depends on N alone the result is the same bit for bit
// for any number of threads.
//
// Minibatches (problem.h: set_batch; rows i_0 < ... < i_{nb-1}): the same
// pass over the batch's nb rows instead of all N, each block's rows of X
// gathered into the worker's (NL_ROWS, d) buffer first (the products need
// them contiguous; the residual reads the rows of XB and Y where they are,
// one row at a time), and the sums scaled by 1/nb: O(nb r (d + k)) per step,
// O(nb d) of it copying.  The chunks are those of positions 0 .. nb-1 in the
// batch, so the result does not depend on the thread count either.
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "linalg.h"
#include "problem.h"
#include "teacher_data.h"

// Rows per block: a block product ((NL_ROWS, d) (d, r) and the like) has
// m n p <= 64 * 8 * 512 for r <= 8 and d, k <= 512, within OpenBLAS's
// single-thread threshold (m n p <= 4 * 65536), so it runs on the thread
// calling it.  (Larger products would use OpenBLAS's threads too: slower, as
// the threads then share the cores, and not always the same bits: OpenBLAS's
// threaded driver may block a long sum differently from its single-threaded
// one, measured for 0.3.21 on every kernel set, e.g. X^T R with N = 3000.)
#define NL_ROWS 64
#define NL_CHUNK (16 * NL_ROWS)
#define NL_MAX_THREADS 16

typedef struct {
    double *X, *Y;       // (N, d), (N, k)
} nl_data;

typedef struct nl_run nl_run;

// One thread's share of a factored evaluation: chunks t, t + T, t + 2T, ...
typedef struct {
    nl_run *w;
    int t;
    double *Zs;          // (NL_ROWS, k): a block's Z, then R
    double *Xs;          // (NL_ROWS, d): a batch block's rows of X
} nl_worker;

struct nl_run {
    double *XB;          // (N, k) X base
    double *XA, *RB;     // (N, r)
    double *Z;           // (N, k): pre-activations, then R (dense evaluations)
    // The batch (set_batch): rows: (nb) or NULL for all N rows; n_now rows are
    // evaluated, in nchunks_now chunks.  Dense evaluations of a batch gather
    // its rows into Xg: (cap, d), XBg, Yg: (cap, k) (made on first use).
    const int *rows;
    int n_now, nchunks_now, cap;
    double *Xg, *XBg, *Yg;
    // Factored evaluations: the chunks' partial sums and the arguments.
    int nchunks;
    double *gAc, *gBc;   // (nchunks, d, r), (nchunks, r, k)
    double *Lc;          // (nchunks)
    const problem *p;
    const double *A, *B; // (d, r), (r, k)
    int r, want_gA, want_gB;
    // Threads 1 .. nthreads-1 wait for a new `gen`, run their share and count
    // `busy` down; thread 0 is the caller.
    int nthreads;
    nl_worker work[NL_MAX_THREADS];
    pthread_t tid[NL_MAX_THREADS];
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    unsigned gen;
    int busy, quit;
};

// For len entries (Z, XB, Y: (len), e.g. a block of rows): z = Z + XB;
// f = sigma(z), s = sigma'(z); Z <- (f - y) . s when the gradient is wanted
// (R), f - y otherwise.  Returns sum (f - y)^2, accumulated in 8 interleaved partial
// sums (entry i into sum i mod 8, added at the end) so the additions overlap.
// ReLU, leaky ReLU and linear do it in one fused pass (activation.h:
// activation_residual_for), each entry of Z, XB and Y read once while the
// block is in cache; the others in pieces of NL_PIECE entries, a pass for the
// sum, one for the activation and one for the residual (the same numbers).
#define NL_PIECE 2048
static double residual(const problem *p, double *Z, const double *XB, const double *Y,
                       size_t len, int want_grad)
{
    activation_residual_fn fused = activation_residual_for(p->act);
    if (fused) return fused(Z, XB, Y, len, p->slope, want_grad);
    double f[NL_PIECE], s[NL_PIECE], acc[8] = {0};
    for (size_t b = 0; b < len; b += NL_PIECE) {
        size_t m = len - b < NL_PIECE ? len - b : NL_PIECE;
        double *z = Z + b;
        const double *xb = XB + b, *y = Y + b;
        for (size_t i = 0; i < m; i++) z[i] += xb[i];
        p->act(z, f, s, m, p->slope);
        size_t i = 0;   // NL_PIECE is a multiple of 8: entry b + i goes to sum i mod 8
        for (; i + 8 <= m; i += 8)
            for (int j = 0; j < 8; j++) {
                double r = f[i + j] - y[i + j];
                acc[j] += r * r;
                z[i + j] = want_grad ? r * s[i + j] : r;
            }
        for (; i < m; i++) {
            double r = f[i] - y[i];
            acc[i % 8] += r * r;
            z[i] = want_grad ? r * s[i] : r;
        }
    }
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

// Chunk c (rows i0 <= i < i1) of a factored evaluation, block by block
// (subscript b: rows b0 .. b0 + m - 1):
//   XA_b = X_b A;  Z_b = XB_b + XA_b B;  R_b;  L_c += ||F_b - Y_b||^2;
//   RB_b = R_b B^T;  gA_c += X_b^T RB_b;  gB_c += XA_b^T R_b.
// With a batch, block b's rows are the batch's positions b0 .. b0 + m - 1:
// their rows of X gathered into the worker's Xs, the residual made row by row
// from their rows of XB and Y.
static void nl_chunk(nl_run *w, nl_worker *wk, int c)
{
    const problem *p = w->p;
    const nl_data *D = p->impl;
    double *Zs = wk->Zs;
    int n = w->n_now, d = p->d, k = p->k, r = w->r, grad = w->want_gA || w->want_gB;
    int i0 = c * NL_CHUNK, i1 = i0 + NL_CHUNK < n ? i0 + NL_CHUNK : n;
    double *gA = w->gAc + (size_t)c * d * r, *gB = w->gBc + (size_t)c * r * k, L = 0.0;
    for (int b0 = i0; b0 < i1; b0 += NL_ROWS) {
        int m = i1 - b0 < NL_ROWS ? i1 - b0 : NL_ROWS;
        double beta = b0 == i0 ? 0.0 : 1.0;
        const double *Xb = D->X + (size_t)b0 * d;                            // (m, d)
        if (w->rows) {
            gather_rows(D->X, d, w->rows + b0, m, wk->Xs);
            Xb = wk->Xs;
        }
        double *XAb = w->XA + (size_t)b0 * r, *RBb = w->RB + (size_t)b0 * r;   // (m, r)
        mm('N', 'N', m, r, d, 1.0, Xb, w->A, 0.0, XAb);               // XA_b = X_b A
        mm('N', 'N', m, k, r, 1.0, XAb, w->B, 0.0, Zs);               // Z_b = XA_b B (+ XB_b)
        if (!w->rows)                                                 // Z_b <- R_b
            L += residual(p, Zs, w->XB + (size_t)b0 * k, D->Y + (size_t)b0 * k, (size_t)m * k,
                          grad);
        else
            for (int i = 0; i < m; i++) {
                size_t at = (size_t)w->rows[b0 + i] * k;
                L += residual(p, Zs + (size_t)i * k, w->XB + at, D->Y + at, (size_t)k, grad);
            }
        if (w->want_gA) {
            mm('N', 'T', m, r, k, 1.0, Zs, w->B, 0.0, RBb);           // RB_b = R_b B^T
            mm('T', 'N', d, r, m, 1.0, Xb, RBb, beta, gA);            // gA_c += X_b^T RB_b
        }
        if (w->want_gB) mm('T', 'N', r, k, m, 1.0, XAb, Zs, beta, gB);   // gB_c += XA_b^T R_b
    }
    w->Lc[c] = L;
}

static void nl_share(nl_worker *wk)
{
    nl_run *w = wk->w;
    for (int c = wk->t; c < w->nchunks_now; c += w->nthreads) nl_chunk(w, wk, c);
}

static void *nl_thread(void *arg)
{
    nl_worker *wk = arg;
    nl_run *w = wk->w;
    unsigned seen = 0;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (w->gen == seen && !w->quit) pthread_cond_wait(&w->go, &w->mu);
        if (w->quit) break;
        seen = w->gen;
        pthread_mutex_unlock(&w->mu);
        nl_share(wk);
        pthread_mutex_lock(&w->mu);
        if (--w->busy == 0) pthread_cond_signal(&w->done);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

// out = scale * sum_c P_c for P: (nchunks, len), added in chunk order.
static void sum_chunks(const double *P, int nchunks, size_t len, double scale, double *out)
{
    memcpy(out, P, sizeof(double) * len);
    for (int c = 1; c < nchunks; c++) {
        const double *Pc = P + (size_t)c * len;
        for (size_t i = 0; i < len; i++) out[i] += Pc[i];
    }
    for (size_t i = 0; i < len; i++) out[i] *= scale;
}

// Loss and gradients at W = base + A B (A: (d, r), B: (r, k)); gA: (d, r),
// gB: (r, k), either may be NULL.  From the chunks' sums (n = N, or nb for a
// batch):
//   L = sum_c L_c / 2n,  gA = sum_c gA_c / n,  gB = sum_c gB_c / n.
// The other threads are woken only when there is more than one chunk.
static int nl_eval_factors(model *m, const double *A, const double *B, double *loss,
                           double *gA, double *gB, lerr *e)
{
    (void)e;
    const problem *p = m->p;
    nl_run *w = m->impl;
    int n = w->n_now, d = p->d, k = p->k, r = m->r;
    w->A = A, w->B = B, w->r = r, w->want_gA = gA != NULL, w->want_gB = gB != NULL;
    int wake = w->nthreads > 1 && w->nchunks_now > 1;
    if (wake) {
        pthread_mutex_lock(&w->mu);
        w->gen++;
        w->busy = w->nthreads - 1;
        pthread_cond_broadcast(&w->go);
        pthread_mutex_unlock(&w->mu);
    }
    nl_share(&w->work[0]);
    if (wake) {
        pthread_mutex_lock(&w->mu);
        while (w->busy > 0) pthread_cond_wait(&w->done, &w->mu);
        pthread_mutex_unlock(&w->mu);
    }
    double L = 0.0;
    for (int c = 0; c < w->nchunks_now; c++) L += w->Lc[c];
    *loss = L / (2.0 * n);
    if (gA) sum_chunks(w->gAc, w->nchunks_now, (size_t)d * r, 1.0 / n, gA);
    if (gB) sum_chunks(w->gBc, w->nchunks_now, (size_t)r * k, 1.0 / n, gB);
    return 0;
}

// Loss and J = -dL/dW at W = base + D (D: (d, k)); J: (d, k) or NULL:
//   Z = X D + XB (X D skipped when D = 0, as for G = J(W0));  R as above;
//   J = -X^T R / n,
// over all n = N rows, or over a batch's n = nb rows gathered into Xg, XBg, Yg.
// The products are mm_fixed's (linalg.h), whose pieces depend on the sizes
// only: G = J(W0) and every full fine-tuning step give the same bits for any
// thread count.
static int nl_eval_dense(model *m, const double *Dw, double *loss, double *J, lerr *e)
{
    (void)e;
    const problem *p = m->p;
    const nl_data *D = p->impl;
    nl_run *w = m->impl;
    int n = w->n_now, d = p->d, k = p->k;
    const double *X = D->X, *XB = w->XB, *Y = D->Y;   // (n, d), (n, k), (n, k)
    if (w->rows) {
        if (w->cap < n) {   // once per run
            free(w->Xg), free(w->XBg), free(w->Yg);
            w->cap = n;
            w->Xg = dalloc((size_t)n * d);
            w->XBg = dalloc((size_t)n * k);
            w->Yg = dalloc((size_t)n * k);
        }
        gather_rows(D->X, d, w->rows, n, w->Xg);
        gather_rows(w->XB, k, w->rows, n, w->XBg);
        gather_rows(D->Y, k, w->rows, n, w->Yg);
        X = w->Xg, XB = w->XBg, Y = w->Yg;
    }
    size_t dk = (size_t)d * k, nk = (size_t)n * k, i = 0;
    while (i < dk && Dw[i] == 0.0) i++;
    if (i < dk) mm_fixed('N', 'N', n, k, d, 1.0, X, Dw, 0.0, w->Z);   // Z = X D (+ XB below)
    else memset(w->Z, 0, sizeof(double) * nk);
    *loss = residual(p, w->Z, XB, Y, nk, J != NULL) / (2.0 * n);
    if (!J) return 0;
    mm_fixed('T', 'N', d, k, n, -1.0 / n, X, w->Z, 0.0, J);        // J = -X^T R / n
    return 0;
}

// Evaluate on the batch rows: (nb) from now on (NULL: all N rows); the
// workers' gather buffers are made on the first call.
static int nl_set_batch(model *m, const int *rows, int nb, lerr *e)
{
    (void)e;
    const problem *p = m->p;
    nl_run *w = m->impl;
    w->rows = rows;
    w->n_now = rows ? nb : p->n;
    w->nchunks_now = (w->n_now + NL_CHUNK - 1) / NL_CHUNK;
    for (int t = 0; rows && t < w->nthreads; t++) {
        nl_worker *wk = &w->work[t];
        if (!wk->Xs) wk->Xs = dalloc((size_t)NL_ROWS * p->d);
    }
    return 0;
}

// Per-run buffers, XB = X W0 - (X Aoff) Boff, and the evaluation threads.
static int nl_model_init(model *m, lerr *e)
{
    const problem *p = m->p;
    const nl_data *D = p->impl;
    int n = p->n, d = p->d, k = p->k, r = m->r > 0 ? m->r : 1;
    nl_run *w = xcalloc(1, sizeof *w);
    m->impl = w;
    w->XB = dalloc((size_t)n * k);
    w->XA = dalloc((size_t)n * (r > m->roff ? r : m->roff));
    w->RB = dalloc((size_t)n * r);
    w->Z = dalloc((size_t)n * k);
    mm_fixed('N', 'N', n, k, d, 1.0, D->X, p->W0, 0.0, w->XB);
    if (m->roff > 0) {
        mm_fixed('N', 'N', n, m->roff, d, 1.0, D->X, m->Aoff, 0.0, w->XA);
        mm_fixed('N', 'N', n, k, m->roff, -1.0, w->XA, m->Boff, 1.0, w->XB);
    }
    w->p = p;
    w->nchunks = (n + NL_CHUNK - 1) / NL_CHUNK;
    w->n_now = n, w->nchunks_now = w->nchunks;
    w->gAc = dalloc((size_t)w->nchunks * d * r);
    w->gBc = dalloc((size_t)w->nchunks * r * k);
    w->Lc = dalloc((size_t)w->nchunks);
    int T = m->threads;
    T = T < 1 ? 1 : T > NL_MAX_THREADS ? NL_MAX_THREADS : T;
    T = T > w->nchunks ? w->nchunks : T;
    for (int t = 0; t < T; t++)
        w->work[t] = (nl_worker){.w = w, .t = t, .Zs = dalloc((size_t)NL_ROWS * k)};
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->go, NULL);
    pthread_cond_init(&w->done, NULL);
    w->nthreads = T;   // the workers read it only once a new gen starts them
    for (int t = 1; t < T; t++)
        if (pthread_create(&w->tid[t], NULL, nl_thread, &w->work[t])) {
            w->nthreads = t;   // model_new's model_free stops the ones started
            return lerr_run(e, "cannot start evaluation thread %d of %d", t + 1, T);
        }
    return 0;
}

static void nl_model_free(model *m)
{
    nl_run *w = m->impl;
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    w->quit = 1;
    pthread_cond_broadcast(&w->go);
    pthread_mutex_unlock(&w->mu);
    for (int t = 1; t < w->nthreads; t++) pthread_join(w->tid[t], NULL);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->go);
    pthread_cond_destroy(&w->done);
    for (int t = 0; t < NL_MAX_THREADS; t++) {
        nl_worker *wk = &w->work[t];
        free(wk->Zs), free(wk->Xs);
    }
    free(w->XB), free(w->XA), free(w->RB), free(w->Z);
    free(w->Xg), free(w->XBg), free(w->Yg);
    free(w->gAc), free(w->gBc), free(w->Lc);
    free(w);
}

static void nl_problem_free(problem *p)
{
    nl_data *D = p->impl;
    if (!D) return;
    free(D->X), free(D->Y);
    free(D);
}

static const problem_ops nonlinear_ops = {
    .eval_factors = nl_eval_factors,
    .eval_dense = nl_eval_dense,
    .model_init = nl_model_init,
    .model_free = nl_model_free,
    .problem_free = nl_problem_free,
    .set_batch = nl_set_batch,
    .own_threads = 1,
};

int teacher_nonlinear_new(const spec *s, long seed, const char *cache_dir, problem **out,
                          lerr *e)
{
    (void)cache_dir;   // nothing to cache
    problem *p = xcalloc(1, sizeof *p);
    nl_data *D = xcalloc(1, sizeof *D);
    p->ops = &nonlinear_ops;
    p->impl = D;
    p->teacher = "nonlinear";
    p->d = s->teacher.d, p->k = s->teacher.k, p->n = s->teacher.n;
    p->act = activation_find(s->teacher.activation);
    p->slope = s->teacher.leaky_slope;
    if (!p->act) {
        problem_free(p);
        return lerr_input(e, "unknown teacher.activation '%s' (valid: %s)",
                          s->teacher.activation, activation_names());
    }
    int rc = teacher_truth(s, seed, p, e);
    if (!rc) {
        D->X = teacher_inputs(s, seed, "x", p->n, p->d);
        D->Y = teacher_labels(s, seed, "x", p, D->X, p->n, p->act, s->teacher.noise);
        p->sigma_dev = sigma_deviation(D->X, p->n, p->d, 1.0 / sqrt((double)p->n));
        if (s->teacher.n_test > 0) {   // clean test labels sigma(Xt W_nat)
            p->n_test = s->teacher.n_test;
            p->Xt = teacher_inputs(s, seed, "xtest", p->n_test, p->d);
            p->Yt = teacher_labels(s, seed, "xtest", p, p->Xt, p->n_test, p->act, 0.0);
        }
    }
    if (!rc) rc = problem_finish(p, s->teacher.rank, e);
    if (rc) {
        problem_free(p);
        return rc;
    }
    *out = p;
    return 0;
}
