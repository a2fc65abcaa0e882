// mlp.c: the two-layer ReLU network's maths (see mlp.h for the model, the
// losses and the conventions).
//
// Every pass over the data runs in blocks of MLP_ROWS rows (positions
// b0 .. b0 + m - 1 of the evaluated rows: rows 0 .. N-1, or a batch's rows
// gathered into a block buffer): a block's products stay in cache and no
// (N, h) array is formed except the fine-tuning view's XW0, which is held.
// Sums over rows accumulate block by block in row order (beta = 1 from the
// second block on).
#include "mlp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "batch.h"
#include "linalg.h"
#include "optim.h"
#include "random.h"

int mlp_loss_find(const char *name, mlp_loss *out)
{
    if (!strcmp(name, "squared")) *out = MLP_SQUARED;
    else if (!strcmp(name, "cross_entropy")) *out = MLP_CROSS_ENTROPY;
    else return -1;
    return 0;
}

int mlp_check_labels(const int *y, int n, int K, const char *what, lerr *e)
{
    for (int i = 0; i < n; i++)
        if (y[i] < 0 || y[i] >= K)
            return lerr_input(e, "%s: label %d of row %d is outside the %d output classes 0 .. %d",
                              what, y[i], i, K, K - 1);
    return 0;
}

// ReLU in place on Z: (len): S = sigma'(Z) (1 for z > 0, 0 for z <= 0), Z <- max(Z, 0).
static void relu(double *Z, double *S, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        int pos = Z[i] > 0.0;
        S[i] = pos ? 1.0 : 0.0;
        if (!pos) Z[i] = 0.0;
    }
}

// X <- X . S entrywise, X, S: (len).
static void mask(double *X, const double *S, size_t len)
{
    for (size_t i = 0; i < len; i++) X[i] *= S[i];
}

// See mlp.h: per row, squared l = ||F_i - e_y||^2 / 2, dl = F_i - e_y; cross-entropy
// with mx = max_c F_ic, lse = mx + log sum_c exp(F_ic - mx): l = lse - F_iy,
// dl = exp(F_i - lse) - e_y.
double mlp_output_loss(mlp_loss loss, const double *F, const int *y, int n, int K, double scale,
                       double *dF)
{
    double L = 0.0;
    for (int i = 0; i < n; i++) {
        const double *f = F + (size_t)i * K;
        double *g = dF ? dF + (size_t)i * K : NULL;
        int yi = y[i];
        if (loss == MLP_SQUARED) {
            for (int c = 0; c < K; c++) {
                double r = f[c] - (c == yi ? 1.0 : 0.0);
                L += 0.5 * r * r;
                if (g) g[c] = scale * r;
            }
            continue;
        }
        double mx = f[0];
        for (int c = 1; c < K; c++) mx = f[c] > mx ? f[c] : mx;
        double sum = 0.0;
        for (int c = 0; c < K; c++) sum += exp(f[c] - mx);
        double lse = mx + log(sum);
        L += lse - f[yi];
        if (g)
            for (int c = 0; c < K; c++) g[c] = scale * (exp(f[c] - lse) - (c == yi ? 1.0 : 0.0));
    }
    return scale * L;
}

// ---------------------------------------------------------------------------
// The whole network.

mlp_net *mlp_net_new(int d, int h, int K)
{
    mlp_net *net = xcalloc(1, sizeof *net);
    net->d = d, net->h = h, net->K = K;
    net->W1 = dalloc((size_t)d * h);
    net->V = dalloc((size_t)h * K);
    return net;
}

void mlp_net_free(mlp_net *net)
{
    if (!net) return;
    free(net->W1), free(net->V);
    free(net);
}

// W1 ~ N(0, 2/d) entrywise (He), V ~ N(0, 1/h) (LeCun), each from its own stream.
void mlp_net_init(mlp_net *net, long seed)
{
    char tag[96];
    snprintf(tag, sizeof tag, "mlp-W1|d=%d|h=%d", net->d, net->h);
    gsl_rng *rng = stream_new(seed, tag);
    gaussian_fill(rng, net->W1, net->d, net->h, sqrt(2.0 / net->d));
    gsl_rng_free(rng);
    snprintf(tag, sizeof tag, "mlp-V|h=%d|K=%d", net->h, net->K);
    rng = stream_new(seed, tag);
    gaussian_fill(rng, net->V, net->h, net->K, sqrt(1.0 / net->h));
    gsl_rng_free(rng);
}

struct mlp_work {
    double *Xs;      // (MLP_ROWS, d): a batch block's rows of X
    int *ys;         // (MLP_ROWS): their labels
    double *Z, *S;   // (MLP_ROWS, h): pre-activations (then H, then dZ); sigma'
    double *F, *dF;  // (MLP_ROWS, K)
};

mlp_work *mlp_work_new(int d, int h, int K)
{
    mlp_work *w = xcalloc(1, sizeof *w);
    w->Xs = dalloc((size_t)MLP_ROWS * d);
    w->ys = xcalloc(MLP_ROWS, sizeof *w->ys);
    w->Z = dalloc((size_t)MLP_ROWS * h);
    w->S = dalloc((size_t)MLP_ROWS * h);
    w->F = dalloc((size_t)MLP_ROWS * K);
    w->dF = dalloc((size_t)MLP_ROWS * K);
    return w;
}

void mlp_work_free(mlp_work *w)
{
    if (!w) return;
    free(w->Xs), free(w->ys), free(w->Z), free(w->S), free(w->F), free(w->dF);
    free(w);
}

// The block at positions b0 .. b0 + m - 1 of the evaluated rows: *Xb: (m, d)
// and *yb: (m) point into X, y (rows NULL) or at the gathered copies Xs, ys
// (y and ys may be NULL: no labels wanted).
static void block_rows(const double *X, const int *y, int d, const int *rows, int b0, int m,
                       double *Xs, int *ys, const double **Xb, const int **yb)
{
    if (!rows) {
        *Xb = X + (size_t)b0 * d;
        if (yb) *yb = y + b0;
        return;
    }
    gather_rows(X, d, rows + b0, m, Xs);
    *Xb = Xs;
    if (yb) {
        for (int i = 0; i < m; i++) ys[i] = y[rows[b0 + i]];
        *yb = ys;
    }
}

// Block by block (mlp.h):
//   Z = X_b W1;  H = sigma(Z), S = sigma'(Z);  F = H V;  L += l(F) / n;  dF;
//   gV += H^T dF;  dZ = (dF V^T) . S;  gW1 += X_b^T dZ.
void mlp_loss_grad(const mlp_net *net, mlp_loss loss, const double *X, const int *y, int N,
                   const int *rows, int nb, mlp_work *w, double *L, double *gW1, double *gV)
{
    int d = net->d, h = net->h, K = net->K, n = rows ? nb : N;
    double scale = 1.0 / n, sum = 0.0;
    for (int b0 = 0; b0 < n; b0 += MLP_ROWS) {
        int m = n - b0 < MLP_ROWS ? n - b0 : MLP_ROWS;
        double beta = b0 == 0 ? 0.0 : 1.0;
        const double *Xb;   // (m, d)
        const int *yb;      // (m)
        block_rows(X, y, d, rows, b0, m, w->Xs, w->ys, &Xb, &yb);
        mm('N', 'N', m, h, d, 1.0, Xb, net->W1, 0.0, w->Z);          // Z = X_b W1
        relu(w->Z, w->S, (size_t)m * h);                              // Z <- H
        mm('N', 'N', m, K, h, 1.0, w->Z, net->V, 0.0, w->F);          // F = H V
        sum += mlp_output_loss(loss, w->F, yb, m, K, scale, w->dF);
        if (gV) mm('T', 'N', h, K, m, 1.0, w->Z, w->dF, beta, gV);    // gV += H^T dF
        if (gW1) {
            mm('N', 'T', m, h, K, 1.0, w->dF, net->V, 0.0, w->Z);     // Z <- dF V^T
            mask(w->Z, w->S, (size_t)m * h);                          // dZ
            mm('T', 'N', d, h, m, 1.0, Xb, w->Z, beta, gW1);          // gW1 += X_b^T dZ
        }
    }
    *L = sum;
}

// F_b = sigma(X_b W1) V, block by block.
void mlp_forward(const mlp_net *net, const double *X, int N, mlp_work *w, double *F)
{
    int d = net->d, h = net->h, K = net->K;
    for (int b0 = 0; b0 < N; b0 += MLP_ROWS) {
        int m = N - b0 < MLP_ROWS ? N - b0 : MLP_ROWS;
        mm('N', 'N', m, h, d, 1.0, X + (size_t)b0 * d, net->W1, 0.0, w->Z);
        relu(w->Z, w->S, (size_t)m * h);
        mm('N', 'N', m, K, h, 1.0, w->Z, net->V, 0.0, F + (size_t)b0 * K);
    }
}

// #{i < m : argmax_c F_ic = y_i} for F: (m, K), y: (m); the first maximum on ties.
static long count_right(const double *F, const int *y, int m, int K)
{
    long right = 0;
    for (int i = 0; i < m; i++) {
        const double *f = F + (size_t)i * K;
        int best = 0;
        for (int c = 1; c < K; c++)
            if (f[c] > f[best]) best = c;
        right += best == y[i];
    }
    return right;
}

// (1/N) #{i : argmax_c F_ic = y_i}.
double mlp_accuracy(const mlp_net *net, const double *X, const int *y, int N, mlp_work *w)
{
    int d = net->d, h = net->h, K = net->K;
    long right = 0;
    for (int b0 = 0; b0 < N; b0 += MLP_ROWS) {
        int m = N - b0 < MLP_ROWS ? N - b0 : MLP_ROWS;
        mm('N', 'N', m, h, d, 1.0, X + (size_t)b0 * d, net->W1, 0.0, w->Z);
        relu(w->Z, w->S, (size_t)m * h);
        mm('N', 'N', m, K, h, 1.0, w->Z, net->V, 0.0, w->F);
        right += count_right(w->F, y + b0, m, K);
    }
    return N > 0 ? (double)right / N : NAN;
}

// ---------------------------------------------------------------------------
// Pretraining (mlp.h): init, then per step t the batch gradients and one Adam
// update of each layer (adam_apply: the update rule of optim.c).
int mlp_pretrain(mlp_net *net, mlp_loss loss, const double *X, const int *y, int N,
                 const mlp_pretrain_opts *o, double *train_loss, double *train_acc, lerr *e)
{
    int d = net->d, h = net->h, K = net->K;
    if (N < 1) return lerr_input(e, "pretraining needs at least one row, got %d", N);
    if (o->epochs < 1) return lerr_input(e, "pretrain epochs must be >= 1, got %d", o->epochs);
    if (o->batch < 1 || o->batch > N)
        return lerr_input(e, "pretrain batch must be in 1 .. %d (the rows), got %d", N, o->batch);
    if (!(o->lr > 0.0) || !isfinite(o->lr))
        return lerr_input(e, "pretrain lr must be a positive number, got %g", o->lr);
    if (!(o->beta1 >= 0.0 && o->beta1 < 1.0) || !(o->beta2 >= 0.0 && o->beta2 < 1.0) ||
        !(o->eps > 0.0))
        return lerr_input(e, "pretrain Adam constants need 0 <= beta1, beta2 < 1 and eps > 0 "
                          "(got %g, %g, %g)", o->beta1, o->beta2, o->eps);
    if (mlp_check_labels(y, N, K, "pretraining data", e)) return -1;
    mlp_net_init(net, o->seed);
    size_t nW = (size_t)d * h, nV = (size_t)h * K;
    double *gW = dalloc(nW), *mW = dalloc(nW), *vW = dalloc(nW);
    double *gV = dalloc(nV), *mV = dalloc(nV), *vV = dalloc(nV);
    mlp_work *w = mlp_work_new(d, h, K);
    batch_stream *bs = batch_stream_new(o->seed, N, o->batch);
    long per = batch_steps_per_epoch(bs), steps = (long)o->epochs * per;
    int rc = 0;
    for (long t = 0; t < steps; t++) {
        if (t % per == 0 && stop_requested()) {
            rc = lerr_run(e, "interrupted while pretraining (epoch %ld of %d)", t / per + 1,
                          o->epochs);
            e->kind = LERR_INTERRUPTED;
            break;
        }
        const int *rows;
        int nb = batch_rows(bs, t, &rows);
        double L;
        mlp_loss_grad(net, loss, X, y, N, rows, nb, w, &L, gW, gV);
        adam_apply(net->W1, gW, mW, vW, nW, t + 1, o->lr, o->beta1, o->beta2, o->eps, 0.0, 0.0);
        adam_apply(net->V, gV, mV, vV, nV, t + 1, o->lr, o->beta1, o->beta2, o->eps, 0.0, 0.0);
    }
    if (!rc && train_loss) mlp_loss_grad(net, loss, X, y, N, NULL, 0, w, train_loss, NULL, NULL);
    if (!rc && train_acc) *train_acc = mlp_accuracy(net, X, y, N, w);
    batch_stream_free(bs);
    mlp_work_free(w);
    free(gW), free(mW), free(vW), free(gV), free(mV), free(vV);
    return rc;
}

// ---------------------------------------------------------------------------
// Fine-tuning W1 (V frozen).

struct mlp_ft {
    const double *X;     // (N, d)
    const int *y;        // (N)
    const double *V;     // (h, K)
    int N, d, h, K, rmax;
    mlp_loss loss;
    double *XW0;         // (N, h) = X W0
    const int *rows;     // the batch (n_now rows), or NULL: all N
    int n_now;
    mlp_work *w;         // block buffers (Xs, ys, Z, S, F, dF)
    double *XA, *T;      // (MLP_ROWS, rmax): X_b A and dZ B^T
};

int mlp_ft_new(const double *X, const int *y, int N, int d, const double *W0, int h,
               const double *V, int K, mlp_loss loss, int rmax, mlp_ft **out, lerr *e)
{
    if (mlp_check_labels(y, N, K, "fine-tuning data", e)) return -1;
    mlp_ft *ft = xcalloc(1, sizeof *ft);
    ft->X = X, ft->y = y, ft->V = V;
    ft->N = N, ft->d = d, ft->h = h, ft->K = K, ft->rmax = rmax < 1 ? 1 : rmax;
    ft->loss = loss;
    ft->XW0 = dalloc((size_t)N * h);
    mm_fixed('N', 'N', N, h, d, 1.0, X, W0, 0.0, ft->XW0);   // once per fine-tuning run
    ft->n_now = N;
    ft->w = mlp_work_new(d, h, K);
    ft->XA = dalloc((size_t)MLP_ROWS * ft->rmax);
    ft->T = dalloc((size_t)MLP_ROWS * ft->rmax);
    *out = ft;
    return 0;
}

void mlp_ft_free(mlp_ft *ft)
{
    if (!ft) return;
    free(ft->XW0), free(ft->XA), free(ft->T);
    mlp_work_free(ft->w);
    free(ft);
}

void mlp_ft_set_batch(mlp_ft *ft, const int *rows, int nb)
{
    ft->rows = rows;
    ft->n_now = rows ? nb : ft->N;
}

// Z: (m, h) = the block's rows of XW0 (copied: the block's products add to it).
static void base_rows(const mlp_ft *ft, int b0, int m, double *Z)
{
    if (!ft->rows) memcpy(Z, ft->XW0 + (size_t)b0 * ft->h, sizeof(double) * (size_t)m * ft->h);
    else gather_rows(ft->XW0, ft->h, ft->rows + b0, m, Z);
}

// The forward pass of the block at positions b0 .. b0 + m - 1 of the
// evaluated rows, at W1 = W0 + A B (A not NULL; XA = X_b A kept for the
// gradient), W0 + D (D not NULL) or W0:
//   Z = XW0_b (+ XA B or + X_b D);  Z <- H = sigma(Z), S = sigma'(Z);  F = H V.
// *Xb: (m, d), *yb: (m) the block's rows and labels.
static void ft_block(mlp_ft *ft, int b0, int m, const double *A, const double *B, int r,
                     const double *D, const double **Xb, const int **yb)
{
    mlp_work *w = ft->w;
    int d = ft->d, h = ft->h;
    block_rows(ft->X, ft->y, d, ft->rows, b0, m, w->Xs, w->ys, Xb, yb);
    base_rows(ft, b0, m, w->Z);
    if (A) {
        mm('N', 'N', m, r, d, 1.0, *Xb, A, 0.0, ft->XA);              // XA = X_b A
        mm('N', 'N', m, h, r, 1.0, ft->XA, B, 1.0, w->Z);             // Z = XW0_b + XA B
    } else if (D) {
        mm('N', 'N', m, h, d, 1.0, *Xb, D, 1.0, w->Z);                // Z = XW0_b + X_b D
    }
    relu(w->Z, w->S, (size_t)m * h);
    mm('N', 'N', m, ft->K, h, 1.0, w->Z, ft->V, 0.0, w->F);          // F = H V
}

// LERR_RUN when the rank r is outside 1 .. rmax (what the buffers were made
// for); `what` names the view ("LoRA", "NTK").
static int check_rank(const char *what, int r, int rmax, lerr *e)
{
    if (r < 1 || r > rmax)
        return lerr_run(e, "mlp: %s rank %d outside 1 .. %d (the rank the buffers were made for)",
                        what, r, rmax);
    return 0;
}

// Block by block (mlp.h): ft_block with A, B;  dF;  dZ = (dF V^T) . S;
//   gB += XA^T dZ;  T = dZ B^T;  gA += X_b^T T.
int mlp_ft_eval_factors(mlp_ft *ft, const double *A, const double *B, int r, double *L,
                        double *gA, double *gB, lerr *e)
{
    if (check_rank("LoRA", r, ft->rmax, e)) return -1;
    mlp_work *w = ft->w;
    int n = ft->n_now, d = ft->d, h = ft->h, K = ft->K;
    double scale = 1.0 / n, sum = 0.0;
    for (int b0 = 0; b0 < n; b0 += MLP_ROWS) {
        int m = n - b0 < MLP_ROWS ? n - b0 : MLP_ROWS;
        double beta = b0 == 0 ? 0.0 : 1.0;
        const double *Xb;
        const int *yb;
        ft_block(ft, b0, m, A, B, r, NULL, &Xb, &yb);
        sum += mlp_output_loss(ft->loss, w->F, yb, m, K, scale, w->dF);
        if (!gA && !gB) continue;
        mm('N', 'T', m, h, K, 1.0, w->dF, ft->V, 0.0, w->Z);          // Z <- dF V^T
        mask(w->Z, w->S, (size_t)m * h);                              // dZ
        if (gB) mm('T', 'N', r, h, m, 1.0, ft->XA, w->Z, beta, gB);   // gB += XA^T dZ
        if (gA) {
            mm('N', 'T', m, r, h, 1.0, w->Z, B, 0.0, ft->T);          // T = dZ B^T
            mm('T', 'N', d, r, m, 1.0, Xb, ft->T, beta, gA);          // gA += X_b^T T
        }
    }
    *L = sum;
    return 0;
}

// Block by block: ft_block with D;  dF;  dZ = (dF V^T) . S;  gD += X_b^T dZ.
void mlp_ft_eval_dense(mlp_ft *ft, const double *D, double *L, double *gD)
{
    mlp_work *w = ft->w;
    int n = ft->n_now, d = ft->d, h = ft->h, K = ft->K;
    double scale = 1.0 / n, sum = 0.0;
    for (int b0 = 0; b0 < n; b0 += MLP_ROWS) {
        int m = n - b0 < MLP_ROWS ? n - b0 : MLP_ROWS;
        double beta = b0 == 0 ? 0.0 : 1.0;
        const double *Xb;
        const int *yb;
        ft_block(ft, b0, m, NULL, NULL, 0, D, &Xb, &yb);
        sum += mlp_output_loss(ft->loss, w->F, yb, m, K, scale, w->dF);
        if (!gD) continue;
        mm('N', 'T', m, h, K, 1.0, w->dF, ft->V, 0.0, w->Z);
        mask(w->Z, w->S, (size_t)m * h);
        mm('T', 'N', d, h, m, 1.0, Xb, w->Z, beta, gD);               // gD += X_b^T dZ
    }
    *L = sum;
}

// (1/n) #{evaluated rows i : argmax_c F_ic = y_i}, F from ft_block.
int mlp_ft_accuracy(mlp_ft *ft, const double *A, const double *B, int r, const double *D,
                    double *acc, lerr *e)
{
    if (A && check_rank("LoRA", r, ft->rmax, e)) return -1;
    int n = ft->n_now;
    long right = 0;
    for (int b0 = 0; b0 < n; b0 += MLP_ROWS) {
        int m = n - b0 < MLP_ROWS ? n - b0 : MLP_ROWS;
        const double *Xb;
        const int *yb;
        ft_block(ft, b0, m, A, B, r, D, &Xb, &yb);
        right += count_right(ft->w->F, yb, m, ft->K);
    }
    *acc = n > 0 ? (double)right / n : NAN;
    return 0;
}

// G = dL/dD at D = 0 over all N rows; the batch is restored afterwards.
void mlp_ft_full_gradient(mlp_ft *ft, double *G)
{
    const int *rows = ft->rows;
    int n_now = ft->n_now;
    double L;
    mlp_ft_set_batch(ft, NULL, 0);
    mlp_ft_eval_dense(ft, NULL, &L, G);
    ft->rows = rows, ft->n_now = n_now;
}

// ---------------------------------------------------------------------------
// The NTK features (mlp.h).  The data sets the ntk teacher uses are small
// (N up to a few thousand), so each product is made on whole (N, .) buffers
// allocated once, by mm_fixed (linalg.h): its pieces depend on the sizes
// only, so the ntk teacher's steps give the same bits for any BLAS thread
// count.

struct mlp_ntk {
    const double *X;     // (N, d)
    const double *V;     // (h, K)
    int N, d, h, K, rmax;
    double *S;           // (N, h) = sigma'(X W1)
    double *P;           // (N, h) scratch
    double *XA, *T;      // (N, rmax) scratch
    // The evaluated rows (mlp_ntk_set_rows): Xe: (n, d), Se: (n, h) -- X and S
    // themselves, or the batch's rows gathered into Xg: (cap, d), Sg: (cap, h).
    const double *Xe, *Se;
    int n;
    double *Xg, *Sg;
    int cap;
};

mlp_ntk *mlp_ntk_new(const double *X, int N, int d, const double *W1, int h, const double *V,
                     int K, int rmax)
{
    mlp_ntk *t = xcalloc(1, sizeof *t);
    t->X = X, t->V = V;
    t->N = N, t->d = d, t->h = h, t->K = K, t->rmax = rmax < 1 ? 1 : rmax;
    t->S = dalloc((size_t)N * h);
    t->P = dalloc((size_t)N * h);
    t->XA = dalloc((size_t)N * t->rmax);
    t->T = dalloc((size_t)N * t->rmax);
    mm_fixed('N', 'N', N, h, d, 1.0, X, W1, 0.0, t->P);   // Z = X W1
    relu(t->P, t->S, (size_t)N * h);
    t->Xe = X, t->Se = t->S, t->n = N;
    return t;
}

void mlp_ntk_free(mlp_ntk *t)
{
    if (!t) return;
    free(t->S), free(t->P), free(t->XA), free(t->T), free(t->Xg), free(t->Sg);
    free(t);
}

// Xe, Se = X, S (rows NULL) or their rows `rows` gathered (buffers grown to nb).
void mlp_ntk_set_rows(mlp_ntk *t, const int *rows, int nb)
{
    if (!rows) {
        t->Xe = t->X, t->Se = t->S, t->n = t->N;
        return;
    }
    if (nb > t->cap) {
        free(t->Xg), free(t->Sg);
        t->Xg = dalloc((size_t)nb * t->d);
        t->Sg = dalloc((size_t)nb * t->h);
        t->cap = nb;
    }
    gather_rows(t->X, t->d, rows, nb, t->Xg);
    gather_rows(t->S, t->h, rows, nb, t->Sg);
    t->Xe = t->Xg, t->Se = t->Sg, t->n = nb;
}

// out = (((X A) B) . S) V.
int mlp_ntk_apply_factors(mlp_ntk *t, const double *A, const double *B, int r, double *out,
                          lerr *e)
{
    if (check_rank("NTK", r, t->rmax, e)) return -1;
    int N = t->n, h = t->h;
    mm_fixed('N', 'N', N, r, t->d, 1.0, t->Xe, A, 0.0, t->XA);
    mm_fixed('N', 'N', N, h, r, 1.0, t->XA, B, 0.0, t->P);
    mask(t->P, t->Se, (size_t)N * h);
    mm_fixed('N', 'N', N, t->K, h, 1.0, t->P, t->V, 0.0, out);
    return 0;
}

// out = ((X D) . S) V.
void mlp_ntk_apply_dense(mlp_ntk *t, const double *D, double *out)
{
    int N = t->n, h = t->h;
    mm_fixed('N', 'N', N, h, t->d, 1.0, t->Xe, D, 0.0, t->P);
    mask(t->P, t->Se, (size_t)N * h);
    mm_fixed('N', 'N', N, t->K, h, 1.0, t->P, t->V, 0.0, out);
}

// P = (w V^T) . S: (N, h), the hidden-layer image of output weights w: (N, K).
static void ntk_hidden(mlp_ntk *t, const double *w)
{
    mm_fixed('N', 'T', t->n, t->h, t->K, 1.0, w, t->V, 0.0, t->P);
    mask(t->P, t->Se, (size_t)t->n * t->h);
}

// out = X^T ((w V^T) . S).
void mlp_ntk_adjoint(mlp_ntk *t, const double *w, double *out)
{
    ntk_hidden(t, w);
    mm_fixed('T', 'N', t->d, t->h, t->n, 1.0, t->Xe, t->P, 0.0, out);
}

// P = (w V^T) . S;  gA = X^T (P B^T);  gB = (X A)^T P.
int mlp_ntk_adjoint_factors(mlp_ntk *t, const double *w, const double *A, const double *B,
                            int r, double *gA, double *gB, lerr *e)
{
    if (check_rank("NTK", r, t->rmax, e)) return -1;
    int N = t->n, d = t->d, h = t->h;
    ntk_hidden(t, w);
    if (gA) {
        mm_fixed('N', 'T', N, r, h, 1.0, t->P, B, 0.0, t->T);
        mm_fixed('T', 'N', d, r, N, 1.0, t->Xe, t->T, 0.0, gA);
    }
    if (gB) {
        mm_fixed('N', 'N', N, r, d, 1.0, t->Xe, A, 0.0, t->XA);
        mm_fixed('T', 'N', r, h, N, 1.0, t->XA, t->P, 0.0, gB);
    }
    return 0;
}

// U: (N K, h), row i K + c = u_{i,c} = V_c . s_i;  UU = U U^T;  XX = X X^T;
// Kmat_{iK+c, jK+e} = XX_ij UU_{iK+c, jK+e}.
void mlp_ntk_gram(mlp_ntk *t, double *Kmat)
{
    int N = t->n, h = t->h, K = t->K, NK = N * K;
    double *U = dalloc((size_t)NK * h), *XX = dalloc((size_t)N * N);
    for (int i = 0; i < N; i++)
        for (int c = 0; c < K; c++)
            for (int j = 0; j < h; j++)
                U[((size_t)i * K + c) * h + j] = t->V[(size_t)j * K + c] * t->Se[(size_t)i * h + j];
    mm_fixed('N', 'T', NK, NK, h, 1.0, U, U, 0.0, Kmat);
    mm_fixed('N', 'T', N, N, t->d, 1.0, t->Xe, t->Xe, 0.0, XX);
    for (int a = 0; a < NK; a++)
        for (int b = 0; b < NK; b++) Kmat[(size_t)a * NK + b] *= XX[(size_t)(a / K) * N + b / K];
    free(U), free(XX);
}
