// teacher_linear.c: the linear teacher-student model of LoRA-One, section 3.
//
//   x ~ N(0, I_d),  X: (N, d);   W_nat = W0 + Delta,  Delta = U* diag(s) V*^T;
//   Y = X W_nat + sigma E;       L(W) = 1/(2N) ||X W - Y||_F^2.
//
// Steps never touch the (N, d) data.  At construction we take the QR
// factorisation X = Q R (Q: (N, m), R: (m, d), m = min(N, d)) and keep
//   Rs = R / sqrt(N)                (so that Sigma_hat = X^T X / N = Rs^T Rs),
//   c  = Q^T Y / sqrt(N),           (m, k)
//   L_ls = ||(I - Q Q^T) Y||^2 / (2N)   (the least-squares residual),
// and then, exactly,
//   L(W) = L_ls + 1/2 ||Rs W - c||_F^2,      J(W) = -Rs^T (Rs W - c).
// This is the "loss through the least-squares solution" of theory/THEORY.md section
// 1 with the square root of Sigma_hat taken by QR instead of Cholesky: the
// loss is a sum of squares of small residuals, so it keeps full relative
// accuracy near the optimum and can never come out negative, where the
// expansion 1/2<W, Sigma W> - <W, X^T Y/N> + ||Y||^2/2N cancels.
//
// Two ways to get (Rs, c, L_ls), chosen by teacher.stats:
//   qr    hold X and Y and take the QR above (exact to rounding; memory N (d + k));
//   gram  never hold X: accumulate X^T X = R^T R over row chunks (gram.h,
//         dsyrk) and take its Cholesky factor R; needs N >= d.  The labels are
//         never formed either.  With Y = X W_nat + sigma E and E independent of
//         X, the statistics have, given X, the exact joint law
//           c = Rs W_nat + sigma Z / sqrt(N),   Z: (d, k) i.i.d. N(0, 1),
//           L_ls = sigma^2 chi2_{(N - d) k} / (2N),  independent of Z,
//         (Q^T E and the residual part of E are independent Gaussians when the
//         columns of Q are orthonormal), so they are drawn from it: O(N d^2)
//         for X^T X and nothing of size N k.  The rows come from their own
//         block-structured stream (teacher_data.h: input_rows), not qr's, so
//         the two agree in law; tests/test_gram.c checks noise-free gram
//         statistics against the direct loss and gradients on the same rows,
//         and the noise law (chi2_{Nk} at W_nat) for both.
//   auto  gram when N d > 2^26 entries (512 MB) and N >= d with generated X,
//         else qr.
//
// For a run with base = W0 + D0 and W = base + A B the per-run constant is
//   C = c - Rs base = C0 - Rs D0,   C0 = c - Rs W0,
// and a step costs O(d^2 r + d k r) (m <= d):
//   RA = Rs A (m, r);  Res = RA B - C (m, k);  L = L_ls + 1/2 ||Res||^2;
//   dL/dA = Rs^T (Res B^T),  dL/dB = RA^T Res.
// Rs A and Res are made a block of rows at a time and used at once for that
// block's share of L, Rs^T (Res B^T) and RA^T Res (step_lane): Rs and C are
// read once per step and the residual never goes to memory.
//
// Minibatches (problem.h: set_batch) need the rows themselves, so only qr
// statistics support them (gram never holds X; config refuses the pair, and
// teacher.stats: auto resolves to qr when optimizer.batch > 0).  The batch
// loss of rows I (nb of them) is the direct one,
//   L_I(W) = 1/(2 nb) ||X_I W - Y_I||^2,
// made like the nonlinear teacher's step (identity activation) from
// XB = X base: (N, k), computed once per run on the first set_batch
// (O(N d k)); then per step, in blocks of LB_ROWS batch rows gathered from
// X, XB and Y:
//   XA_b = X_b A;  Res_b = XB_b + XA_b B - Y_b;  L += ||Res_b||^2;
//   gA += X_b^T (Res_b B^T);  gB += XA_b^T Res_b;   all / nb (L / 2 nb),
// O(nb r (d + k)) on one thread.  Unlike the statistics' form it cancels
// (Res_b is a difference of O(||Y||) terms), so near an exact fit the batch
// loss has absolute, not relative, accuracy.
#include "teacher_linear.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "gram.h"
#include "linalg.h"
#include "par.h"
#include "random.h"
#include "teacher_data.h"

int openblas_get_num_threads(void);
void openblas_set_num_threads(int n);

typedef struct {
    int m;              // min(N, d)
    double *X, *Y;      // (N, d), (N, k): kept only for linear_direct_loss
    double *Rs;         // (m, d) upper trapezoidal
    double *C0;         // (m, k)
    double loss_ls;
} linear_data;

// A step works through the rows of the (m, k) residual in blocks; blocks are
// dealt to LANES lanes (block b to lane b mod LANES), each with its own
// buffers and partial sums, which are added in lane order at the end.  Lanes
// run on up to m->threads threads (BLAS's count when the model was made), so a
// single run uses the cores while the result never depends on the thread count.
#define LANES 4

typedef struct {
    double *Res;        // (rows, k) the block's residual
    double *RA, *RB;    // (rows, r) its rows of Rs A and Res B^T
    double *gA;         // (d, r) the lane's share of dL/dA
    double *gB;         // (r, k) the lane's share of dL/dB
    double sq;          // the lane's share of ||Res||^2
} lane_buf;

typedef struct {
    double *C;          // (m, k)  c - Rs base
    int rows, nblocks, nlanes;
    lane_buf lane[LANES];
    double *Full;       // (m, k) the whole residual, for eval_dense (made on first use)
    // Minibatches (set_batch): the batch's rows (nb) or NULL, XB = X base:
    // (N, k) (first set_batch), a block's gathered rows Xs: (LB_ROWS, d),
    // its residual Zs: (LB_ROWS, k) and XAs, RBs: (LB_ROWS, r); for eval_dense
    // the batch's rows Xg: (cap, d), Zg: (cap, k) (first use).
    const int *brows;
    int nb, cap;
    double *XB, *Xs, *Zs, *XAs, *RBs, *Xg, *Zg;
} linear_run;

#define LB_ROWS 64

// Rows per block: about 2^17 entries (1 MB) of Rs and of the residual, so a
// block's rows stay in cache between the products that use them.
static int res_block_rows(int m, int d, int k)
{
    int wide = d > k ? d : k;
    int rows = (1 << 17) / (wide > 0 ? wide : 1);
    if (rows < 16) rows = 16;
    return rows < m ? rows : m;
}

// ---------------------------------------------------------------------------
// Evaluation

// out = Rs X for X: (d, c); out: (m, c).  Triangular multiply when Rs is square.
static void rs_times(const linear_data *L, int d, int c, const double *X, double *out)
{
    if (L->m == d) {
        memcpy(out, X, sizeof(double) * (size_t)d * c);
        trmm_upper_fixed('N', d, c, 1.0, L->Rs, out);
    } else {
        mm_fixed('N', 'N', L->m, c, d, 1.0, L->Rs, X, 0.0, out);
    }
}

// out = alpha Rs^T Y for Y: (m, c); out: (d, c).
static void rst_times(const linear_data *L, int d, int c, double alpha, const double *Y,
                      double *out)
{
    if (L->m == d) {
        memcpy(out, Y, sizeof(double) * (size_t)d * c);
        trmm_upper_fixed('T', d, c, alpha, L->Rs, out);
    } else {
        mm_fixed('T', 'N', d, c, L->m, alpha, L->Rs, Y, 0.0, out);
    }
}

// 1/2 ||X||^2 for X of length len (fro: ddot, dnrm2 only on under/overflow).
static double half_sq(const double *X, size_t len)
{
    double nrm = fro(X, (int)len, 1);
    return 0.5 * nrm * nrm;
}

// One lane of a step at W = base + A B.  For each of its row blocks
// I = [i0, i0 + nb) (Rs is upper trapezoidal, so row i of Rs is zero left of
// column i and Rs_I = Rs[I, i0:]):
//   RA_I  = Rs_I A[i0:]                 (nb, r)
//   Res_I = RA_I B - C_I                (nb, k);   sq += ||Res_I||^2
//   RB_I  = Res_I B^T                   (nb, r);   gA[i0:] += Rs_I^T RB_I
//                                                  gB      += RA_I^T Res_I
// so Rs and C are read once per step and the residual never leaves the cache.
typedef struct {
    const linear_data *L;
    linear_run *w;
    int d, k, r;
    const double *A, *B;
    int want_a, want_b;
} step_job;

// Thin products (one side r columns) are made in pieces of at most
// SMALL_GEMM = m n p multiply-adds: OpenBLAS 0.3.21's x86-64 kernels multiply
// products below about 10^6 without packing the operands, and for these shapes
// that is nearly twice as fast (d = k = 4096, r = 16, one core, a stand-alone
// copy of this loop: Rs_I A 11.6 -> 6.1 ms and Res_I B^T 20.1 -> 12.0 ms per
// step; `loralab bench layer`'s whole step went from 52 to 40 ms with this and
// own_threads).  The pieces depend only on the sizes, so results stay
// independent of the thread count.
#define SMALL_GEMM (1 << 19)

// Width of the pieces of a length-n dimension of a product whose two other
// dimensions are a and b.
static int piece(int n, int a, int b)
{
    long w = SMALL_GEMM / ((long)a * b > 0 ? (long)a * b : 1);
    return w >= n ? n : w < 64 ? 64 : (int)w;
}

// X: (nb, r) = Z: (nb, p) ld ldz  times  op(Y): (p, r), summed over pieces of
// p.  op(Y) = Y: (p, r) ld r (tr = 0) or Y^T with Y: (r, p) ld ldy (tr = 1).
static void thin_times(int nb, int p, int r, const double *Z, int ldz, int tr, const double *Y,
                       int ldy, double *X)
{
    int w = piece(p, nb, r);
    for (int c0 = 0; c0 < p; c0 += w)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, tr ? CblasTrans : CblasNoTrans, nb, r,
                    p - c0 < w ? p - c0 : w, 1.0, Z + c0, ldz,
                    tr ? Y + c0 : Y + (size_t)c0 * r, tr ? ldy : r, c0 ? 1.0 : 0.0, X, r);
}

static void step_lane(void *ctx, int l)
{
    const step_job *j = ctx;
    const linear_data *L = j->L;
    linear_run *w = j->w;
    lane_buf *b = &w->lane[l];
    int d = j->d, k = j->k, r = j->r;
    b->sq = 0.0;
    if (j->want_a) memset(b->gA, 0, sizeof(double) * (size_t)d * r);
    for (int blk = l, first = 1; blk < w->nblocks; blk += w->nlanes, first = 0) {
        int i0 = blk * w->rows, nb = L->m - i0 < w->rows ? L->m - i0 : w->rows, cols = d - i0;
        const double *Rs = L->Rs + (size_t)i0 * d + i0;            // (nb, cols), ld d
        thin_times(nb, cols, r, Rs, d, 0, j->A + (size_t)i0 * r, r, b->RA);   // RA_I
        // Res = -C_I, then += RA_I B with beta = 1: OpenBLAS makes no separate
        // pass to scale by beta (3% of the d = k = 4096 step), same bits.
        const double *restrict CI = w->C + (size_t)i0 * k;
        double *restrict Res = b->Res;   // (a local pointer, so the loop vectorises)
        for (size_t i = 0; i < (size_t)nb * k; i++) Res[i] = -CI[i];
        mm('N', 'N', nb, k, r, 1.0, b->RA, j->B, 1.0, b->Res);
        double f = fro(b->Res, nb, k);
        b->sq += f * f;
        if (j->want_a) {
            thin_times(nb, k, r, b->Res, k, 1, j->B, k, b->RB);   // RB_I = Res_I B^T
            int wc = piece(cols, nb, r);
            for (int c0 = 0; c0 < cols; c0 += wc)  // gA[i0:] += Rs_I^T RB_I, in row pieces
                cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans,
                            cols - c0 < wc ? cols - c0 : wc, r, nb, 1.0, Rs + c0, d, b->RB, r,
                            1.0, b->gA + (size_t)(i0 + c0) * r, r);
        }
        if (j->want_b) mm('T', 'N', r, k, nb, 1.0, b->RA, b->Res, first ? 0.0 : 1.0, b->gB);
    }
}

// A batch's block of rows b0 .. b0 + m - 1 (positions in the batch): X_b
// gathered into Xs, and Zs = XB_b - Y_b made from the rows where they are.
static void batch_block(const linear_data *L, linear_run *w, int k, int d, int b0, int m)
{
    const int *rows = w->brows + b0;
    gather_rows(L->X, d, rows, m, w->Xs);
    for (int i = 0; i < m; i++) {
        const double *xb = w->XB + (size_t)rows[i] * k, *y = L->Y + (size_t)rows[i] * k;
        double *z = w->Zs + (size_t)i * k;
        for (int j = 0; j < k; j++) z[j] = xb[j] - y[j];
    }
}

// The batch loss and gradients (see the file header), block by block.
static double batch_factors(const linear_data *L, linear_run *w, int d, int k, int r,
                            const double *A, const double *B, double *gA, double *gB)
{
    double sq = 0.0;
    int nb = w->nb;
    for (int b0 = 0; b0 < nb; b0 += LB_ROWS) {
        int m = nb - b0 < LB_ROWS ? nb - b0 : LB_ROWS;
        double beta = b0 == 0 ? 0.0 : 1.0;
        batch_block(L, w, k, d, b0, m);
        mm('N', 'N', m, r, d, 1.0, w->Xs, A, 0.0, w->XAs);             // XA_b = X_b A
        mm('N', 'N', m, k, r, 1.0, w->XAs, B, 1.0, w->Zs);             // Res_b
        double f = fro(w->Zs, m, k);
        sq += f * f;
        if (gA) {
            mm('N', 'T', m, r, k, 1.0, w->Zs, B, 0.0, w->RBs);         // RB_b = Res_b B^T
            mm('T', 'N', d, r, m, 1.0, w->Xs, w->RBs, beta, gA);       // gA += X_b^T RB_b
        }
        if (gB) mm('T', 'N', r, k, m, 1.0, w->XAs, w->Zs, beta, gB);   // gB += XA_b^T Res_b
    }
    if (gA) for (size_t i = 0; i < (size_t)d * r; i++) gA[i] /= nb;
    if (gB) for (size_t i = 0; i < (size_t)r * k; i++) gB[i] /= nb;
    return sq / (2.0 * nb);
}

static int linear_eval_factors(model *mo, const double *A, const double *B, double *loss,
                               double *gA, double *gB, lerr *e)
{
    (void)e;
    const problem *p = mo->p;
    linear_run *w = mo->impl;
    int d = p->d, k = p->k, r = mo->r;
    if (w->brows) {
        int blas = openblas_get_num_threads();   // one thread: bits independent of it
        if (blas != 1) openblas_set_num_threads(1);
        *loss = batch_factors(p->impl, w, d, k, r, A, B, gA, gB);
        if (blas != 1) openblas_set_num_threads(blas);
        return 0;
    }
    step_job j = {p->impl, w, d, k, r, A, B, gA != NULL, gB != NULL};
    // Each lane runs on one BLAS thread, in parallel or in turn: a threaded
    // BLAS call (OpenBLAS splits ddot's sum across threads on some kernels)
    // would make the bits depend on the thread count.
    int blas = openblas_get_num_threads();
    if (blas != 1) openblas_set_num_threads(1);
    if (mo->threads > 1 && w->nlanes > 1) par_for(w->nlanes, mo->threads, step_lane, &j);
    else for (int l = 0; l < w->nlanes; l++) step_lane(&j, l);
    if (blas != 1) openblas_set_num_threads(blas);
    double sq = 0.0;
    for (int l = 0; l < w->nlanes; l++) sq += w->lane[l].sq;
    *loss = ((const linear_data *)p->impl)->loss_ls + 0.5 * sq;
    // (plain loops: a threaded BLAS call here would leave OpenBLAS's workers
    // spinning on the cores the next step's lanes need)
    for (int l = 0; l < w->nlanes; l++) {
        const lane_buf *b = &w->lane[l];
        if (gA) {
            if (l == 0) memcpy(gA, b->gA, sizeof(double) * (size_t)d * r);
            else for (size_t i = 0; i < (size_t)d * r; i++) gA[i] += b->gA[i];
        }
        if (gB) {
            if (l == 0) memcpy(gB, b->gB, sizeof(double) * (size_t)r * k);
            else for (size_t i = 0; i < (size_t)r * k; i++) gB[i] += b->gB[i];
        }
    }
    return 0;
}

static int linear_eval_dense(model *mo, const double *D, double *loss, double *J, lerr *e)
{
    (void)e;
    const problem *p = mo->p;
    const linear_data *L = p->impl;
    linear_run *w = mo->impl;
    int d = p->d, k = p->k, m = L->m;
    if (w->brows) {   // Res = X_I D + XB_I - Y_I;  J = -X_I^T Res / nb
        int nb = w->nb;
        if (w->cap < nb) {                                         // once per run
            free(w->Xg), free(w->Zg);
            w->cap = nb;
            w->Xg = dalloc((size_t)nb * d);
            w->Zg = dalloc((size_t)nb * k);
        }
        gather_rows(L->X, d, w->brows, nb, w->Xg);
        gather_rows(w->XB, k, w->brows, nb, w->Zg);
        for (int b = 0; b < nb; b++) {
            const double *y = L->Y + (size_t)w->brows[b] * k;
            for (int j = 0; j < k; j++) w->Zg[(size_t)b * k + j] -= y[j];
        }
        mm_fixed('N', 'N', nb, k, d, 1.0, w->Xg, D, 1.0, w->Zg);
        *loss = half_sq(w->Zg, (size_t)nb * k) / nb;
        if (J) mm_fixed('T', 'N', d, k, nb, -1.0 / nb, w->Xg, w->Zg, 0.0, J);
        return 0;
    }
    if (!w->Full) w->Full = dalloc((size_t)m * k);                 // once per run
    rs_times(L, d, k, D, w->Full);                                 // Res = Rs D - C
    for (size_t i = 0; i < (size_t)m * k; i++) w->Full[i] -= w->C[i];
    *loss = L->loss_ls + half_sq(w->Full, (size_t)m * k);
    if (J) rst_times(L, d, k, -1.0, w->Full, J);                   // J = -Rs^T Res
    return 0;
}

static int linear_model_init(model *mo, lerr *e)
{
    (void)e;
    const problem *p = mo->p;
    const linear_data *L = p->impl;
    int d = p->d, k = p->k, m = L->m, r = mo->r;
    linear_run *w = xcalloc(1, sizeof *w);
    w->C = dalloc((size_t)m * k);
    memcpy(w->C, L->C0, sizeof(double) * (size_t)m * k);
    if (mo->roff > 0) {                                            // C = C0 + (Rs Aoff) Boff
        double *RAo = dalloc((size_t)m * mo->roff);
        rs_times(L, d, mo->roff, mo->Aoff, RAo);
        mm('N', 'N', m, k, mo->roff, 1.0, RAo, mo->Boff, 1.0, w->C);
        free(RAo);
    }
    int rr = r > 0 ? r : 1;
    w->rows = res_block_rows(m, d, k);
    w->nblocks = (m + w->rows - 1) / w->rows;
    w->nlanes = w->nblocks < LANES ? w->nblocks : LANES;
    for (int l = 0; l < w->nlanes; l++) {
        lane_buf *b = &w->lane[l];
        b->Res = dalloc((size_t)w->rows * k);
        b->RA = dalloc((size_t)w->rows * rr);
        b->RB = dalloc((size_t)w->rows * rr);
        b->gA = dalloc((size_t)d * rr);
        b->gB = dalloc((size_t)rr * k);
    }
    mo->impl = w;
    return 0;
}

// Evaluate on the batch rows: (nb) from now on (NULL: all data).  The first
// call makes XB = X W0 - (X Aoff) Boff and the block buffers.
static int linear_set_batch(model *mo, const int *rows, int nb, lerr *e)
{
    const problem *p = mo->p;
    const linear_data *L = p->impl;
    linear_run *w = mo->impl;
    int n = p->n, d = p->d, k = p->k, rr = mo->r > 0 ? mo->r : 1;
    if (rows && !L->X)
        return lerr_run(e, "minibatches need the training rows, and teacher.stats gram never "
                        "holds X");
    w->brows = rows;
    w->nb = rows ? nb : 0;
    if (!rows || w->XB) return 0;
    w->XB = dalloc((size_t)n * k);
    mm_fixed('N', 'N', n, k, d, 1.0, L->X, p->W0, 0.0, w->XB);
    if (mo->roff > 0) {
        double *XAo = dalloc((size_t)n * mo->roff);
        mm_fixed('N', 'N', n, mo->roff, d, 1.0, L->X, mo->Aoff, 0.0, XAo);
        mm_fixed('N', 'N', n, k, mo->roff, -1.0, XAo, mo->Boff, 1.0, w->XB);
        free(XAo);
    }
    w->Xs = dalloc((size_t)LB_ROWS * d);
    w->Zs = dalloc((size_t)LB_ROWS * k);
    w->XAs = dalloc((size_t)LB_ROWS * rr);
    w->RBs = dalloc((size_t)LB_ROWS * rr);
    return 0;
}

static void linear_model_free(model *mo)
{
    linear_run *w = mo->impl;
    if (!w) return;
    free(w->C);
    free(w->XB), free(w->Xs), free(w->Zs), free(w->XAs), free(w->RBs);
    free(w->Xg), free(w->Zg);
    for (int l = 0; l < w->nlanes; l++) {
        lane_buf *b = &w->lane[l];
        free(b->Res), free(b->RA), free(b->RB), free(b->gA), free(b->gB);
    }
    free(w->Full);
    free(w);
}

static void linear_problem_free(problem *p)
{
    linear_data *L = p->impl;
    if (!L) return;
    free(L->X);
    free(L->Y);
    free(L->Rs);
    free(L->C0);
    free(L);
}

static const problem_ops linear_ops = {
    .eval_factors = linear_eval_factors,
    .eval_dense = linear_eval_dense,
    .model_init = linear_model_init,
    .model_free = linear_model_free,
    .problem_free = linear_problem_free,
    .set_batch = linear_set_batch,
    .own_threads = 1,
};

// QR of X and the sufficient statistics Rs, c, L_ls (see the file header).
static int sufficient_stats(problem *p, linear_data *L, lerr *e)
{
    int n = p->n, d = p->d, k = p->k, m = n < d ? n : d;
    L->m = m;
    double *QR = xmalloc(sizeof(double) * (size_t)n * d);
    double *QtY = xmalloc(sizeof(double) * (size_t)n * k);
    double *tau = dalloc((size_t)m);
    memcpy(QR, L->X, sizeof(double) * (size_t)n * d);
    memcpy(QtY, L->Y, sizeof(double) * (size_t)n * k);
    lapack_int info = LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, n, d, QR, d, tau);
    if (info == 0)
        info = LAPACKE_dormqr(LAPACK_ROW_MAJOR, 'L', 'T', n, k, m, QR, d, tau, QtY, k);
    if (info != 0) {
        free(QR), free(QtY), free(tau);
        return lerr_run(e, "QR factorisation of the %dx%d data failed (LAPACK info %d)", n, d,
                        (int)info);
    }
    double sn = 1.0 / sqrt((double)n);
    L->Rs = dalloc((size_t)m * d);
    for (int i = 0; i < m; i++)
        for (int j = i; j < d; j++) L->Rs[(size_t)i * d + j] = QR[(size_t)i * d + j] * sn;
    // C0 = Q^T Y / sqrt(N) - Rs W0
    L->C0 = dalloc((size_t)m * k);
    for (size_t i = 0; i < (size_t)m * k; i++) L->C0[i] = QtY[i] * sn;
    double *RW = dalloc((size_t)m * k);
    rs_times(L, d, k, p->W0, RW);
    for (size_t i = 0; i < (size_t)m * k; i++) L->C0[i] -= RW[i];
    free(RW);
    // rows m..N-1 of Q_full^T Y are the least-squares residual's coordinates
    double rn = n > m ? cblas_dnrm2((long)(n - m) * k, QtY + (size_t)m * k, 1) : 0.0;
    L->loss_ls = rn * rn / (2.0 * n);
    free(QR), free(QtY), free(tau);
    return 0;
}

// Sufficient statistics without X (teacher.stats = gram; see the file header):
// Rs from the Cholesky factor of X^T X / N, C0 = c - Rs W0 = Rs Delta + sigma Z
// / sqrt(N) and L_ls = sigma^2 chi2_{(N-d)k} / 2N drawn from their law given X.
static int gram_stats(const spec *s, long seed, problem *p, linear_data *L, lerr *e)
{
    int n = p->n, d = p->d, k = p->k;
    L->m = d;
    L->Rs = dalloc((size_t)d * d);
    int threads = blas_budget();   // set-up runs BLAS on one thread (problem.c)
    if (gram_inputs(seed, "x", n, d, threads, L->Rs, NULL)) {
        lerr_run(e, "interrupted while accumulating X^T X");
        e->kind = LERR_INTERRUPTED;
        return -1;
    }
    lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'U', d, L->Rs, d);
    if (info != 0)
        return lerr_run(e, "Cholesky factorisation of X^T X (d = %d, N = %d) failed (LAPACK "
                        "info %d): the inputs are rank-deficient", d, n, (int)info);
    double sn = 1.0 / sqrt((double)n);
    for (size_t i = 0; i < (size_t)d * d; i++) L->Rs[i] *= sn;
    L->C0 = dalloc((size_t)d * k);
    if (p->Dl) {                                                   // Rs Delta = (Rs Dl) Dr
        double *RD = dalloc((size_t)d * p->dq);
        rs_times(L, d, p->dq, p->Dl, RD);
        mm('N', 'N', d, k, p->dq, 1.0, RD, p->Dr, 0.0, L->C0);
        free(RD);
    } else {
        rs_times(L, d, k, p->Delta, L->C0);
    }
    double sigma = s->teacher.noise;
    L->loss_ls = 0.0;
    if (sigma > 0) {
        char tag[64];
        snprintf(tag, sizeof tag, "noise-stats|k=%d", k);
        gsl_rng *rng = stream_new(seed, tag);
        double *Z = dalloc((size_t)d * k);
        gaussian_fill(rng, Z, d, k, sigma * sn);
        for (size_t i = 0; i < (size_t)d * k; i++) L->C0[i] += Z[i];
        L->loss_ls = sigma * sigma * chisq_draw(rng, (double)(n - d) * k) / (2.0 * n);
        free(Z);
        gsl_rng_free(rng);
    }
    return 0;
}

// teacher.stats resolved: 1 for gram, 0 for qr (auto: qr for minibatches,
// which need X).
static int use_gram(const spec *s)
{
    const char *m = s->teacher.stats;
    if (!strcmp(m, "gram")) return 1;
    if (!strcmp(m, "qr") || s->optimizer.batch > 0) return 0;
    int generated = s->teacher.x.kind != MAT_FILE && s->teacher.x.kind != MAT_INLINE;
    return generated && s->teacher.n >= s->teacher.d &&
           (double)s->teacher.n * s->teacher.d > (double)(1L << 26);
}

int teacher_linear_new(const spec *s, long seed, const char *cache_dir, problem **out,
                       lerr *e)
{
    (void)cache_dir;   // nothing to cache
    problem *p = xcalloc(1, sizeof *p);
    linear_data *L = xcalloc(1, sizeof *L);
    p->ops = &linear_ops;
    p->impl = L;
    p->teacher = "linear";
    p->d = s->teacher.d;
    p->k = s->teacher.k;
    p->n = s->teacher.n;
    int rc = teacher_truth(s, seed, p, e);
    if (!rc && use_gram(s)) {
        rc = gram_stats(s, seed, p, L, e);
    } else if (!rc) {
        L->X = teacher_inputs(s, seed, "x", p->n, p->d);
        L->Y = teacher_labels(s, seed, "x", p, L->X, p->n, NULL, s->teacher.noise);
        rc = sufficient_stats(p, L, e);
    }
    if (!rc) p->sigma_dev = sigma_deviation(L->Rs, L->m, p->d, 1.0);
    if (!rc && s->teacher.n_test > 0) {   // clean test labels Xt W_nat
        p->n_test = s->teacher.n_test;
        p->Xt = teacher_inputs(s, seed, "xtest", p->n_test, p->d);
        p->Yt = teacher_labels(s, seed, "xtest", p, p->Xt, p->n_test, NULL, 0.0);
    }
    if (!rc) {
        // G = J(W0) = Rs^T C0
        p->G = dalloc((size_t)p->d * p->k);
        rst_times(L, p->d, p->k, 1.0, L->C0, p->G);
        rc = problem_finish(p, s->teacher.rank, e);
    }
    if (rc) {
        problem_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

double linear_direct_loss(const problem *p, const double *W)
{
    const linear_data *L = p->impl;
    int n = p->n, d = p->d, k = p->k;
    if (!L->X) return NAN;   // gram statistics: X was never held
    double *R = xmalloc(sizeof(double) * (size_t)n * k);
    memcpy(R, L->Y, sizeof(double) * (size_t)n * k);
    mm('N', 'N', n, k, d, 1.0, L->X, W, -1.0, R);
    double v = half_sq(R, (size_t)n * k) / n;
    free(R);
    return v;
}

const double *linear_X(const problem *p) { return ((const linear_data *)p->impl)->X; }
const double *linear_Y(const problem *p) { return ((const linear_data *)p->impl)->Y; }
