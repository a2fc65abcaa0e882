// ntk_features.c: the ntk teacher's features, dense or the rank-one
// Jacobians of a two-layer network (see ntk_features.h for the operator).
#include "ntk_features.h"

#include <stdlib.h>
#include <string.h>

#include "linalg.h"
#include "mlp.h"

// The dense kernels below get an AVX2 clone on x86-64 (picked at load
// time): twice the SSE2 width, and the same bits -- the operations and their
// order do not change (ISO C: no contraction into fused multiply-adds).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define WIDE_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define WIDE_CLONES
#endif

// <a, b> over n entries, summed in a fixed order (eight running partial
// sums, then a fixed tree): the same bits whatever the thread count.
WIDE_CLONES static double dot(const double *a, const double *b, int n)
{
    double s[8] = {0, 0, 0, 0, 0, 0, 0, 0}, tail = 0.0;
    int j = 0;
    for (; j + 8 <= n; j += 8)
        for (int u = 0; u < 8; u++) s[u] += a[j + u] * b[j + u];
    for (; j < n; j++) tail += a[j] * b[j];
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])) + tail;
}

// Four doubles (GCC's vector extension: one AVX2 register, two SSE2 ones),
// loaded from any address (memcpy into the variable, not a function
// returning a vector, whose ABI differs between the clones).
typedef double v4 __attribute__((vector_size(32)));
#define LOAD4(v, x) memcpy(&(v), (x), sizeof(v4))

// *z0 = <a0, b>, *z1 = <a1, b> over n entries in one pass: each exactly as
// dot() sums it (the same bits: partial sum u of eight takes the entries
// j = u mod 8 in order, then the same tree), with the two rows' sums
// independent, so twice as many additions are in flight and b is read once.
// (Written with explicit vectors: GCC vectorises the plain loop across the
// eight sums of one row and then adds them one by one.)
WIDE_CLONES static void dot2(const double *a0, const double *a1, const double *b, int n,
                             double *z0, double *z1)
{
    v4 s0 = {0, 0, 0, 0}, s1 = {0, 0, 0, 0}, t0 = {0, 0, 0, 0}, t1 = {0, 0, 0, 0};
    int j = 0;
    for (; j + 8 <= n; j += 8) {
        v4 b0, b1, x0, x1, y0, y1;
        LOAD4(b0, b + j), LOAD4(b1, b + j + 4);
        LOAD4(x0, a0 + j), LOAD4(x1, a0 + j + 4), LOAD4(y0, a1 + j), LOAD4(y1, a1 + j + 4);
        s0 += x0 * b0, s1 += x1 * b1;
        t0 += y0 * b0, t1 += y1 * b1;
    }
    double tail0 = 0.0, tail1 = 0.0;
    for (; j < n; j++) tail0 += a0[j] * b[j], tail1 += a1[j] * b[j];
    *z0 = ((s0[0] + s0[1]) + (s0[2] + s0[3])) + ((s1[0] + s1[1]) + (s1[2] + s1[3])) + tail0;
    *z1 = ((t0[0] + t0[1]) + (t0[2] + t0[3])) + ((t1[0] + t1[1]) + (t1[2] + t1[3])) + tail1;
}

// z_c = <P_c, b> for the K rows P_c = P + c n (P: (K, n)), two rows a pass.
static void dots(const double *P, int K, int n, const double *b, double *z)
{
    int c = 0;
    for (; c + 2 <= K; c += 2)
        dot2(P + (size_t)c * n, P + (size_t)(c + 1) * n, b, n, &z[c], &z[c + 1]);
    if (c < K) z[c] = dot(P + (size_t)c * n, b, n);
}

// y += alpha x over n entries.
WIDE_CLONES static void axpy(double *y, double alpha, const double *x, int n)
{
    for (int j = 0; j < n; j++) y[j] += alpha * x[j];
}

// y <- (y + a0 x0) + a1 x1 entry by entry: the two axpys in a row, the same
// bits, with y read and written once.
WIDE_CLONES static void axpy2(double *y, double a0, const double *x0, double a1,
                              const double *x1, int n)
{
    for (int j = 0; j < n; j++) y[j] = (y[j] + a0 * x0[j]) + a1 * x1[j];
}

// y += sum_c w_c P_c for the K rows of P: (K, n), in the order c = 0, 1, ...
static void axpys(double *y, const double *w, const double *P, int K, int n)
{
    int c = 0;
    for (; c + 2 <= K; c += 2)
        axpy2(y, w[c], P + (size_t)c * n, w[c + 1], P + (size_t)(c + 1) * n, n);
    if (c < K) axpy(y, w[c], P + (size_t)c * n, n);
}

static double *dup(const double *x, size_t len)
{
    double *y = dalloc(len);
    memcpy(y, x, sizeof(double) * len);
    return y;
}

void ntk_features_set_dense(ntk_features *F, double *Phi, int n, int K, int d, int k)
{
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

struct ntk_op {
    const ntk_features *F;
    const int *rows;       // evaluated points (nb), or NULL: all n
    int nb;
    int rmax;
    // dense
    double *z, *u, *s;     // (K): one point's outputs, directional outputs, weights
    double *D, *M;         // (d, k): A B and mat(Phi^T s) of a factored pass
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
        op->z = dalloc(K), op->u = dalloc(K), op->s = dalloc(K);
        op->D = dalloc(dk), op->M = dalloc(dk);
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
    free(op->z), free(op->u), free(op->s), free(op->D), free(op->M);
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

// Dense: per point, z = Phi_i vec(D), u = Phi_i vec(dD) (K dot products of
// length d k each), s from point, M += Phi_i^T s (K axpys): the fused pass.
static void dense_pass(ntk_op *op, const double *D, const double *dD, ntk_point_fn point,
                       void *ctx, double *M)
{
    const ntk_features *F = op->F;
    int K = F->K, dk = F->d * F->k;
    if (M) memset(M, 0, sizeof(double) * (size_t)dk);
    for (int b = 0; b < op->nb; b++) {
        int i = op->rows ? op->rows[b] : b;
        const double *P = F->Phi + (size_t)i * K * dk;
        if (dD) dots(P, K, dk, dD, op->u);
        if (D) dots(P, K, dk, D, op->z);
        point(ctx, b, i, D ? op->z : NULL, dD ? op->u : NULL, M ? op->s : NULL);
        if (M) axpys(M, op->s, P, K, dk);
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

// Dense: D = A B, the fused pass, then gA = M B^T, gB = A^T M (O(d k r)
// each).  mlp: Z = (((X A) B) . sigma') V, then gA = X^T (P B^T),
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
        mm('N', 'N', d, k, r, 1.0, A, B, 0.0, op->D);
        dense_pass(op, op->D, NULL, point, ctx, want ? op->M : NULL);
        if (gA) mm('N', 'T', d, r, k, 1.0, op->M, B, 0.0, gA);
        if (gB) mm('T', 'N', r, k, d, 1.0, A, op->M, 0.0, gB);
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
