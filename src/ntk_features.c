// ntk_features.c: the ntk teacher's features, dense or the rank-one
// Jacobians of a two-layer network (see ntk_features.h for the operator).
#include "ntk_features.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "linalg.h"
#include "mlp.h"

// The dense kernels below get AVX-512 and AVX2 clones on x86-64 (picked at
// load time): eight and four doubles a register against SSE2's two, and the
// same bits -- the operations and their order do not change (ISO C: no
// contraction into fused multiply-adds).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define WIDE_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define WIDE_CLONES
#endif

// Eight doubles (GCC's vector extension: one AVX-512 register, two AVX2
// ones, four SSE2 ones), loaded from any address (memcpy into the variable,
// not a function returning a vector, whose ABI differs between the clones).
typedef double v8 __attribute__((vector_size(64)));
#define LOAD8(v, x) memcpy(&(v), (x), sizeof(v8))
#define STORE8(x, v) memcpy((x), &(v), sizeof(v8))
// The fixed tree over a row's eight partial sums.
#define TREE8(s) ((((s)[0] + (s)[1]) + ((s)[2] + (s)[3])) + (((s)[4] + (s)[5]) + ((s)[6] + (s)[7])))

// z_q = <a_q, b> over n entries for the nr <= 4 rows a_q, in one pass over b.
// Each is summed in a fixed order: partial sum u of eight takes the entries
// j = u mod 8 (j < n - n mod 8) in order, the fixed tree TREE8 over them,
// plus the tail's entries summed in order -- the same bits whatever the
// rows' grouping or the thread count.  The rows' sums are independent: up to four chains of
// additions in flight, and b read once.  (Explicit vectors: GCC vectorises
// the plain loop across one row's eight sums and then adds them one by one.)
WIDE_CLONES static void dot4(const double *const *a, int nr, const double *b, int n, double *z)
{
    const double *a0 = a[0], *a1 = a[nr > 1], *a2 = a[nr > 2 ? 2 : 0], *a3 = a[nr > 3 ? 3 : 0];
    v8 s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
    int j = 0;
    for (; j + 8 <= n; j += 8) {
        v8 x, y;
        LOAD8(y, b + j);
        LOAD8(x, a0 + j), s0 += x * y;
        LOAD8(x, a1 + j), s1 += x * y;
        LOAD8(x, a2 + j), s2 += x * y;
        LOAD8(x, a3 + j), s3 += x * y;
    }
    double t[4] = {TREE8(s0), TREE8(s1), TREE8(s2), TREE8(s3)};
    for (int q = 0; q < nr; q++) {
        double tail = 0.0;
        for (int i = j; i < n; i++) tail += a[q][i] * b[i];
        z[q] = t[q] + tail;
    }
}

// y <- (((y + w_0 x_0) + w_1 x_1) + w_2 x_2) + w_3 x_3 entry by entry for the
// nr <= 4 rows x_q (missing rows skipped): the axpys one after another, the
// same bits, with y read and written once.
WIDE_CLONES static void axpy4(double *y, const double *w, const double *const *x, int nr, int n)
{
    const double *x0 = x[0], *x1 = x[nr > 1], *x2 = x[nr > 2 ? 2 : 0], *x3 = x[nr > 3 ? 3 : 0];
    double w0 = w[0], w1 = nr > 1 ? w[1] : 0, w2 = nr > 2 ? w[2] : 0, w3 = nr > 3 ? w[3] : 0;
    int j = 0;
    if (nr == 4)
        for (; j + 8 <= n; j += 8) {
            v8 v, u;
            LOAD8(v, y + j);
            LOAD8(u, x0 + j), v = v + w0 * u;
            LOAD8(u, x1 + j), v = v + w1 * u;
            LOAD8(u, x2 + j), v = v + w2 * u;
            LOAD8(u, x3 + j), v = v + w3 * u;
            STORE8(y + j, v);
        }
    else
        for (; j + 8 <= n; j += 8) {
            v8 v, u;
            LOAD8(v, y + j);
            LOAD8(u, x0 + j), v = v + w0 * u;
            if (nr > 1) LOAD8(u, x1 + j), v = v + w1 * u;
            if (nr > 2) LOAD8(u, x2 + j), v = v + w2 * u;
            STORE8(y + j, v);
        }
    for (; j < n; j++) {
        double v = y[j] + w0 * x0[j];
        if (nr > 1) v = v + w1 * x1[j];
        if (nr > 2) v = v + w2 * x2[j];
        if (nr > 3) v = v + w3 * x3[j];
        y[j] = v;
    }
}

// z_q = <P_q, b> for the nr rows P_q, four rows a pass.
static void dots(const double *const *P, int nr, const double *b, int n, double *z)
{
    for (int q = 0; q < nr; q += 4) dot4(P + q, nr - q < 4 ? nr - q : 4, b, n, z + q);
}

// y += sum_q w_q P_q for the nr rows P_q, in the order q = 0, 1, ..., four
// rows a pass.
static void axpys(double *y, const double *w, const double *const *P, int nr, int n)
{
    for (int q = 0; q < nr; q += 4) axpy4(y, w + q, P + q, nr - q < 4 ? nr - q : 4, n);
}

static double *dup(const double *x, size_t len)
{
    double *y = dalloc(len);
    memcpy(y, x, sizeof(double) * len);
    return y;
}

double *ntk_features_alloc(size_t len)
{
    void *p = NULL;
    size_t bytes = (len ? len : 1) * sizeof(double);
    if (posix_memalign(&p, 64, bytes)) return dalloc(len);   // (unaligned: slower, same bits)
    memset(p, 0, bytes);
    return p;
}

// A Phi not on a cache line's boundary (calloc's large blocks start 16
// bytes into a page) is copied to one that is: every row's AVX-512 loads
// then read whole lines, never two halves (the bench's pass took 178 -> 155
// us, medians of 4 alternated runs, shared 2-core machine).
void ntk_features_set_dense(ntk_features *F, double *Phi, int n, int K, int d, int k)
{
    if ((uintptr_t)Phi % 64) {
        size_t len = (size_t)n * K * d * k;
        double *P = ntk_features_alloc(len);
        memcpy(P, Phi, sizeof(double) * len);
        free(Phi);
        Phi = P;
    }
    *F = (ntk_features){.kind = NTK_FEATURES_DENSE, .n = n, .K = K, .d = d, .k = k, .Phi = Phi};
}

void ntk_features_set_mlp(ntk_features *F, const double *X, int n, int d, const double *W1,
                          int h, const double *V, int K)
{
    *F = (ntk_features){.kind = NTK_FEATURES_MLP, .n = n, .K = K, .d = d, .k = h};
    F->X = dup(X, (size_t)n * d);
    F->W1 = dup(W1, (size_t)d * h);
    F->V = dup(V, (size_t)h * K);
}

void ntk_features_clear(ntk_features *F)
{
    free(F->Phi), free(F->X), free(F->W1), free(F->V);
    memset(F, 0, sizeof *F);
}

// Points a dense pass takes together: their GROUP K rows in one pass over
// vec(D) (K = 2: four rows, four chains of additions in flight).  Chunks:
// the evaluated points split into NCHUNK runs of consecutive positions,
// each with its own partial sum of M.
enum { GROUP = 2, NCHUNK = 8 };
_Static_assert(NCHUNK == 8, "dense_pass sums the chunks' M by a tree over eight");

struct ntk_op {
    const ntk_features *F;
    const int *rows;       // evaluated points (nb), or NULL: all n
    int nb;
    int rmax;
    // dense
    double *z, *u, *s;     // (GROUP K): a group's outputs, directional outputs, weights
    const double **grp;    // (GROUP K): a group's rows of Phi
    double *Mc;            // (NCHUNK, d k): the chunks' partial sums of M
    int backward;          // the next dense pass takes the chunks last to first
    double *D, *M;         // (d, k): A B and mat(Phi^T s) of a factored pass
    double *Bt;            // (k, rmax rounded up to a multiple of 8): B^T (grad_left)
    // mlp
    mlp_ntk *net;          // the structured products (mlp.h)
    double *Z, *U, *S;     // (n, K): outputs, directional outputs, weights
};

ntk_op *ntk_op_new(const ntk_features *F, int rmax)
{
    ntk_op *op = xcalloc(1, sizeof *op);
    op->F = F;
    op->nb = F->n;
    op->rmax = rmax < 1 ? 1 : rmax;
    size_t K = (size_t)F->K, dk = (size_t)F->d * F->k;
    if (F->kind == NTK_FEATURES_DENSE) {
        op->z = dalloc(GROUP * K), op->u = dalloc(GROUP * K), op->s = dalloc(GROUP * K);
        op->grp = xcalloc(GROUP * K, sizeof *op->grp);
        op->Mc = ntk_features_alloc(NCHUNK * dk);
        op->D = ntk_features_alloc(dk), op->M = ntk_features_alloc(dk);
        op->Bt = ntk_features_alloc((size_t)F->k * ((op->rmax + 7) / 8 * 8));
    } else {
        op->net = mlp_ntk_new(F->X, F->n, F->d, F->W1, F->k, F->V, F->K, op->rmax);
        size_t nK = (size_t)(F->n > 0 ? F->n : 1) * K;
        op->Z = dalloc(nK), op->U = dalloc(nK), op->S = dalloc(nK);
    }
    return op;
}

void ntk_op_free(ntk_op *op)
{
    if (!op) return;
    free(op->z), free(op->u), free(op->s), free(op->D), free(op->M), free(op->Bt);
    free(op->grp), free(op->Mc);
    mlp_ntk_free(op->net);
    free(op->Z), free(op->U), free(op->S);
    free(op);
}

void ntk_op_set_rows(ntk_op *op, const int *rows, int nb)
{
    op->rows = rows;
    op->nb = rows ? nb : op->F->n;
    if (op->net) mlp_ntk_set_rows(op->net, rows, nb);
}

int ntk_op_points(const ntk_op *op) { return op->nb; }

// The chunk c's evaluated points, positions lo .. hi-1: z = Phi_i vec(D),
// u = Phi_i vec(dD) (K dot products of length d k per point), s from point,
// Mc = sum_i Phi_i^T s_i (or nothing when Mc is NULL), GROUP points at a
// time: their rows' dot products in one pass over D (dot4), point for each
// in order, the axpys in the points' and rows' order (axpy4) while the rows
// are still in L1.  The bits are those of one point and row at a time.
static void chunk_pass(ntk_op *op, int lo, int hi, const double *D, const double *dD,
                       ntk_point_fn point, void *ctx, double *Mc)
{
    const ntk_features *F = op->F;
    int K = F->K, dk = F->d * F->k;
    if (Mc) memset(Mc, 0, sizeof(double) * (size_t)dk);
    for (int b0 = lo; b0 < hi; b0 += GROUP) {
        int np = hi - b0 < GROUP ? hi - b0 : GROUP, nr = np * K;
        for (int p = 0; p < np; p++) {
            int i = op->rows ? op->rows[b0 + p] : b0 + p;
            for (int c = 0; c < K; c++) op->grp[p * K + c] = F->Phi + ((size_t)i * K + c) * dk;
        }
        if (dD) dots(op->grp, nr, dD, dk, op->u);
        if (D) dots(op->grp, nr, D, dk, op->z);
        for (int p = 0; p < np; p++) {
            int b = b0 + p, i = op->rows ? op->rows[b] : b;
            size_t o = (size_t)p * K;
            point(ctx, b, i, D ? op->z + o : NULL, dD ? op->u + o : NULL, Mc ? op->s + o : NULL);
        }
        if (Mc) axpys(Mc, op->s, op->grp, nr, dk);
    }
}

// Dense: the chunks' passes, then M = the fixed tree over the chunks'
// partial sums ((M_0 + M_1) + (M_2 + M_3)) + ((M_4 + M_5) + (M_6 + M_7)).
// The chunks run first to last and last to first on alternate passes: Phi
// (4 MB for the bench's n = 256, K = 2, d k = 1024) does not fit a core's
// L2 (2 MB), but the chunks a pass read last are the ones the next reads
// first, and those still are in L2.  With four rows a pass, the BLAS-free
// factored products (below) and Phi on cache-line boundaries, one factored
// pass at r = 12 on the bench's shape took 224 -> 156 us (CPU time, best of
// 5 alternated runs of 300 passes; medians 231 -> 198 us: the 2-core
// machine was shared).  Reading 4 MB alone took 139-255 us there in the same
// hour, 1.5 MB 14-16 us: L2 holds about 1.5 MB of Phi, the rest streams at
// 16-30 GB/s.  Each chunk runs forward and keeps its own sum, so the bits
// do not depend on the direction (nor on the thread count); the points are
// visited in the chunks' order, which a point rule must not depend on.  (The
// bits of M changed with the chunks, by rounding only; those of Phi vec(D)
// did not.)
static void dense_pass(ntk_op *op, const double *D, const double *dD, ntk_point_fn point,
                       void *ctx, double *M)
{
    size_t dk = (size_t)op->F->d * op->F->k;
    int back = op->backward, nb = op->nb;
    op->backward = !back;
    for (int t = 0; t < NCHUNK; t++) {
        int c = back ? NCHUNK - 1 - t : t;
        int lo = (int)((long)c * nb / NCHUNK), hi = (int)((long)(c + 1) * nb / NCHUNK);
        chunk_pass(op, lo, hi, D, dD, point, ctx, M ? op->Mc + c * dk : NULL);
    }
    if (!M) return;
    const double *P = op->Mc;
    for (size_t j = 0; j < dk; j++) {
        double m0 = P[j] + P[dk + j], m1 = P[2 * dk + j] + P[3 * dk + j];
        double m2 = P[4 * dk + j] + P[5 * dk + j], m3 = P[6 * dk + j] + P[7 * dk + j];
        M[j] = (m0 + m1) + (m2 + m3);
    }
}

// mlp: Z = Phi vec(D), U = Phi vec(dD) over the evaluated points (mlp.h:
// ((X D) . S) V), S's rows from point, then the caller's adjoint.
static void mlp_points(ntk_op *op, int haveZ, int haveU, ntk_point_fn point, void *ctx, int wantS)
{
    int K = op->F->K;
    for (int b = 0; b < op->nb; b++) {
        int i = op->rows ? op->rows[b] : b;
        size_t o = (size_t)b * K;
        point(ctx, b, i, haveZ ? op->Z + o : NULL, haveU ? op->U + o : NULL,
              wantS ? op->S + o : NULL);
    }
}

void ntk_op_pass(ntk_op *op, const double *D, const double *dD, ntk_point_fn point, void *ctx,
                 double *M)
{
    if (op->F->kind == NTK_FEATURES_DENSE) {
        dense_pass(op, D, dD, point, ctx, M);
        return;
    }
    if (D) mlp_ntk_apply_dense(op->net, D, op->Z);
    if (dD) mlp_ntk_apply_dense(op->net, dD, op->U);
    mlp_points(op, D != NULL, dD != NULL, point, ctx, M != NULL);
    if (M) mlp_ntk_adjoint(op->net, op->S, M);   // X^T ((S V^T) . sigma')
}

// The small products of a factored dense pass, written here rather than
// three dgemm calls, which at these shapes (d = k = 32, r <= 32) cost more
// than the products: the pass alone on 8 points (one BLAS thread, best of
// 4 alternated runs of 1000 passes, shared 2-core machine; main's pass,
// with dgemm, against this one) took 6.7 -> 5.7 us at r = 1, 12.1 -> 7.8
// us at r = 12, 22.0 -> 11.5 us at r = 32.
// Each entry is summed in a fixed order, whatever the thread count.
// y = sum_{l < n} w_l Z_l for the weights w_l = w[l ws] and the rows
// Z_l = Z + l k: (k): each y_j summed from 0 over l = 0, 1, ... (the order
// of axpys of the rows), 32 columns at a time in four independent vectors.
// y: (k).
WIDE_CLONES static void rows_combination(const double *w, size_t ws, const double *Z, int n,
                                         int k, double *y)
{
    int j = 0;
    for (; j + 32 <= k; j += 32) {
        v8 v0 = {0}, v1 = {0}, v2 = {0}, v3 = {0}, u;
        for (int l = 0; l < n; l++) {
            const double *b = Z + (size_t)l * k + j;
            double c = w[(size_t)l * ws];
            LOAD8(u, b), v0 = v0 + c * u;
            LOAD8(u, b + 8), v1 = v1 + c * u;
            LOAD8(u, b + 16), v2 = v2 + c * u;
            LOAD8(u, b + 24), v3 = v3 + c * u;
        }
        STORE8(y + j, v0), STORE8(y + j + 8, v1), STORE8(y + j + 16, v2);
        STORE8(y + j + 24, v3);
    }
    for (; j + 8 <= k; j += 8) {
        v8 v = {0}, u;
        for (int l = 0; l < n; l++) LOAD8(u, Z + (size_t)l * k + j), v = v + w[(size_t)l * ws] * u;
        STORE8(y + j, v);
    }
    for (; j < k; j++) {
        double t = 0.0;
        for (int l = 0; l < n; l++) t = t + w[(size_t)l * ws] * Z[(size_t)l * k + j];
        y[j] = t;
    }
}

// D = A B: row i of D is the combination of the rows of B with weights
// A_i (rows_combination).  A: (d, r), B: (r, k), D: (d, k).
static void factor_product(const double *A, const double *B, int d, int r, int k, double *D)
{
    for (int i = 0; i < d; i++) rows_combination(A + (size_t)i * r, 1, B, r, k, D + (size_t)i * k);
}

// gA = M B^T: gA_il = <B_l, M_i> in dot4's order (partial sum u of eight
// takes the entries j = u mod 8 below k - k mod 8, the tree over them, plus
// the tail), for eight l at a time: vector p_u holds partial sum u of the
// eight entries (i, l0 .. l0 + 7), from Bt = B^T with its columns padded
// with zeros to a multiple of eight.  M: (d, k), B: (r, k), gA: (d, r);
// Bt: (k, r rounded up to a multiple of 8), scratch.
WIDE_CLONES static void grad_left(const double *M, const double *B, int d, int r, int k,
                                  double *Bt, double *gA)
{
    int rp = (r + 7) / 8 * 8, m = k - k % 8;
    for (int j = 0; j < k; j++)
        for (int l = 0; l < rp; l++) Bt[(size_t)j * rp + l] = l < r ? B[(size_t)l * k + j] : 0.0;
    for (int i = 0; i < d; i++) {
        const double *x = M + (size_t)i * k;
        for (int l0 = 0; l0 < rp; l0 += 8) {
            v8 p0 = {0}, p1 = {0}, p2 = {0}, p3 = {0}, p4 = {0}, p5 = {0}, p6 = {0}, p7 = {0};
            v8 t = {0}, u;
            const double *c = Bt + l0;
            for (int j = 0; j < m; j += 8) {
                const double *cj = c + (size_t)j * rp;
                LOAD8(u, cj), p0 += u * x[j];
                LOAD8(u, cj + rp), p1 += u * x[j + 1];
                LOAD8(u, cj + 2 * rp), p2 += u * x[j + 2];
                LOAD8(u, cj + 3 * rp), p3 += u * x[j + 3];
                LOAD8(u, cj + 4 * rp), p4 += u * x[j + 4];
                LOAD8(u, cj + 5 * rp), p5 += u * x[j + 5];
                LOAD8(u, cj + 6 * rp), p6 += u * x[j + 6];
                LOAD8(u, cj + 7 * rp), p7 += u * x[j + 7];
            }
            for (int j = m; j < k; j++) LOAD8(u, c + (size_t)j * rp), t += u * x[j];
            v8 g = (((p0 + p1) + (p2 + p3)) + ((p4 + p5) + (p6 + p7))) + t;
            for (int q = 0; q < 8 && l0 + q < r; q++) gA[(size_t)i * r + l0 + q] = g[q];
        }
    }
}

// gB = A^T M: row l of gB is the combination of the rows of M with weights
// column l of A (rows_combination).  A: (d, r), M: (d, k), gB: (r, k).
static void grad_right(const double *A, const double *M, int d, int r, int k, double *gB)
{
    for (int l = 0; l < r; l++) rows_combination(A + l, (size_t)r, M, d, k, gB + (size_t)l * k);
}

// Dense: D = A B, the fused pass, then gA = M B^T, gB = A^T M (O(d k r)
// each, the kernels above).  mlp: Z = (((X A) B) . sigma') V, then gA = X^T (P B^T),
// gB = (X A)^T P with P = (S V^T) . sigma' (mlp_ntk_adjoint_factors): no
// (d, k) matrix at all.
int ntk_op_pass_factors(ntk_op *op, const double *A, const double *B, int r, ntk_point_fn point,
                        void *ctx, double *gA, double *gB, lerr *e)
{
    const ntk_features *F = op->F;
    int d = F->d, k = F->k, want = gA || gB;
    if (r < 1 || r > op->rmax)
        return lerr_run(e, "ntk features: rank %d outside 1 .. %d (the rank the buffers were "
                        "made for)", r, op->rmax);
    if (F->kind == NTK_FEATURES_DENSE) {
        factor_product(A, B, d, r, k, op->D);
        dense_pass(op, op->D, NULL, point, ctx, want ? op->M : NULL);
        if (gA) grad_left(op->M, B, d, r, k, op->Bt, gA);
        if (gB) grad_right(A, op->M, d, r, k, gB);
        return 0;
    }
    if (mlp_ntk_apply_factors(op->net, A, B, r, op->Z, e)) return -1;
    mlp_points(op, 1, 0, point, ctx, want);
    return want ? mlp_ntk_adjoint_factors(op->net, op->S, A, B, r, gA, gB, e) : 0;
}

// point rules of the plain products: copy z out; take s from w.
typedef struct {
    double *z;
    const double *w;
    int K;
} plain_ctx;

static void copy_out(void *ctx, int b, int i, double *z, const double *u, double *s)
{
    (void)i, (void)u, (void)s;
    plain_ctx *c = ctx;
    memcpy(c->z + (size_t)b * c->K, z, sizeof(double) * (size_t)c->K);
}

static void weights_in(void *ctx, int b, int i, double *z, const double *u, double *s)
{
    (void)i, (void)z, (void)u;
    plain_ctx *c = ctx;
    memcpy(s, c->w + (size_t)b * c->K, sizeof(double) * (size_t)c->K);
}

void ntk_op_apply(ntk_op *op, const double *D, double *z)
{
    plain_ctx c = {.z = z, .K = op->F->K};
    ntk_op_pass(op, D, NULL, copy_out, &c, NULL);
}

void ntk_op_adjoint(ntk_op *op, const double *w, double *M)
{
    plain_ctx c = {.w = w, .K = op->F->K};
    ntk_op_pass(op, NULL, NULL, weights_in, &c, M);
}
