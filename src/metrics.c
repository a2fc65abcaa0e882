// metrics.c: risk, operator-norm error, subspace alignment, balance.
//
// Risk and err_op without forming the (d, k) error: with T = Tl Tr,
//   A B - T = M N^T,  M = [A, -Tl]: (d, s),  N = [B^T, Tr^T]: (k, s),  s = r + tq.
// Thin QR M = Q1 R1, N = Q2 R2 gives A B - T = Q1 (R1 R2^T) Q2^T, so the
// singular values of A B - T are those of the small (s, s) matrix R1 R2^T:
// O((d + k) s^2) per logged step instead of O(d k min(d, k)).  When s is not
// small compared with min(d, k) the (d, k) error is formed and its singular
// values taken directly.
//
// Alignment (theory/THEORY.md section 5): with q = min(r, r*),
//   align_a = ||(I - U_G U_G^T) U_q(A)||_op,  U_G = first r* left singular
//   vectors of G, U_q(A) = first q left singular vectors of A (thin SVD of the
//   (d, r) factor: O(d r^2));  align_b likewise with B^T and V_G.
// align_a_star, align_b_star: the same angles against the truth's subspaces
// U_{r*}(Delta), V_{r*}(Delta) (problem.h: UD, VD); each factor's subspace is
// computed once and serves both references.
// A factor whose q-th singular value is exactly zero (B = 0 at step 0 of the
// lora init) has no defined subspace: the metric is nan.
//
// Small shapes (see SMALL_MAX_S) take the same steps through small_linalg.c
// instead of LAPACK (row_small): the factor's left singular vectors as the
// eigenvectors of R R^T, and every ||.||_op as sqrt(lambda_max) of the Gram
// matrix of an explicitly formed matrix (full relative accuracy for s_1).
// Their small eigenproblems go in two batches (sl_eig_batch, whose
// iterations, chains of dependent divisions and square roots, overlap).
#include "metrics.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "convex.h"
#include "linalg.h"
#include "small_linalg.h"

const char *const metric_names[] = {"loss",         "risk",         "align_a",   "align_b",
                                    "align_a_star", "align_b_star", "grad_norm", "err_op",
                                    "balance",      "test_loss",    "objective", "gap",
                                    "cert",         "rank_ab",      "batch_loss", "test_acc"};

void metrics_values(const metrics *m, double *out)
{
    out[0] = m->loss;
    out[1] = m->risk;
    out[2] = m->align_a;
    out[3] = m->align_b;
    out[4] = m->align_a_star;
    out[5] = m->align_b_star;
    out[6] = m->grad_norm;
    out[7] = m->err_op;
    out[8] = m->balance;
    out[9] = m->test_loss;
    out[10] = m->objective;
    out[11] = m->gap;
    out[12] = m->cert;
    out[13] = m->rank_ab;
    out[14] = m->batch_loss;
    out[15] = m->test_acc;
}

struct metrics_work {
    model *m;
    int d, k, r, rs, q, s;    // rs = r*, q = min(r, r*), s = r + tq
    int c;                    // columns of Mc, Nc: s (low-rank path) or r (dense path)
    double *UGr, *VGr;        // (d, rs), (k, rs): G's top subspaces
    const double *UDr, *VDr;  // (d, rs), (k, rs): Delta's (the problem's UD, VD; may be NULL)
    double *UGc, *VGc, *UDc, *VDc;   // the same four, column-major (UDc, VDc NULL with UDr)
    double *Mc, *Nc;          // (d, c), (k, c) cm: [A, -Tl], [B^T, Tr^T], then their QR
    double *negTlc;           // (d, tq) cm: -Tl, copied into Mc by each row
    double *tau1, *tau2;      // (c)
    double *R1, *R2, *small;  // (s, s) cm, low-rank path only
    double *Rf, *U, *core;    // (r, r) cm: a factor's R, its left singular vectors; RA RB^T
    // small path: B^T's eigenvectors; the rank core's Gram; the four angles'
    // residual Gram matrices; eigen scratch for the batches, (max(s, r)) each
    double *U2, *gram_r, *agram[4], *ew[4], *ee[4];
    double *Q, *C;            // (max(d, k), q) cm, (rs, q) cm
    double *P;                // (max(d, k), q) cm: Q's residual against a reference
    double *gram, *ev;        // (q, q), (q)
    double *gram_s;           // (max(s, r), max(s, r)) Gram of the small core
    double *work;             // (lwork)
    int lwork, *iwork;        // iwork: (8 max(s, r))
    double *E;                // (d, k) when the dense path is used
    double *gram1, *gram2;    // (r, r)
    double *Dw, *Jw;          // (d, k) A B and J(A B), when lambda > 0 (cert)
    double *Sv;               // (max(min(d, k), s)) singular values
    double *ework;            // (max(s, r)) eigensolver scratch (small path)
    int use_small;            // 1: small_linalg.c's kernels, 0: LAPACK (see SMALL_MAX_S)
};

static int imax(int a, int b) { return a > b ? a : b; }

// The small path (small_linalg.c: own Householder QR, tridiagonal QL
// eigensolver, explicitly projected residuals; no LAPACK call) serves the
// low-rank route while s = r + tq <= SMALL_MAX_S and r* <= SMALL_MAX_RSTAR;
// LAPACK (dgeqrf, dormqr, dgesvd, dsyev, dgemm) above.  Measured: CPU time of
// metrics_factors per row, d = k, lora init (tq = r*), one BLAS thread, small /
// LAPACK path in one process (medians of 9), medians of 3 such runs, on the
// 2-core development machine under load (load average 2-3: read the ratios,
// not the times), with the eigenproblems batched (sl_eig_batch); in brackets
// the small path before that, runs alternated with these:
//   d = 100, r =  8, r* =  4 (toy, s = 12):  19.8 / 58.5 us   (0.34) [28.0]
//   d = 200, r = 16, r* =  4 (s = 20):       76 / 212 us      (0.36) [88]
//   d = 200, r = 32, r* =  8 (s = 40):      384 / 721 us      (0.53) [494]
//   d = 200, r = 60, r* =  4 (s = 64):     1625 / 4004 us     (0.41) [1589]
//   d = 1000, r = 8, r* =  4 (s = 12):      155 / 232 us      (0.67) [141]
//   d = 200, r = 16, r* = 16 (s = 32):      218 / 401 us      (0.54) [319]
//   d = 400, r =  8, r* = 16 (s = 24):      170 / 290 us      (0.59) [272]
//   d = 400, r = 16, r* = 16 (s = 32):      381 / 637 us      (0.60) [477]
// (single runs varied by up to 40%: the batching shows no gain at s = 64 or
// d = 1000, where the eigenproblems are a smaller share.)
// An earlier measurement had LAPACK ahead from r* = 16 as d grew (1.02 and
// 1.05 at d = 400: the four angles' projections, r* dot products and axpys
// per column, against dgemm), which set SMALL_MAX_RSTAR; on these numbers
// the small path wins there too, but the limit stays at 8 for accuracy:
// tests/test_small_linalg.c runs every case at r* = 4 and r* = 16 (d = 100,
// k = 80, r = 20), and near alignment (true sines 1e-10 .. 1e-16) the small
// path's angles at r* = 16 err by up to 2.5e-15 absolute against LAPACK's
// 4e-16 (at r* = 4 both stay within 1e-15; the eigenvectors of the (r, r)
// Gram matrix R R^T, where LAPACK takes the SVD of R itself, lose more as r
// grows).  Not measured above s = 64: LAPACK there.
enum { SMALL_MAX_S = 64, SMALL_MAX_RSTAR = 8 };

// X: (n, c) row-major as a new (n, c) cm array; NULL for NULL.
static double *cm_copy(const double *X, int n, int c)
{
    if (!X) return NULL;
    double *Y = dalloc((size_t)n * c);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < c; j++) Y[i + (size_t)j * n] = X[(size_t)i * c + j];
    return Y;
}

metrics_work *metrics_work_new(model *m)
{
    const problem *p = m->p;
    metrics_work *w = xcalloc(1, sizeof *w);
    int d = p->d, k = p->k, r = m->r, rs = p->rstar;
    w->m = m;
    w->d = d, w->k = k, w->r = r, w->rs = rs;
    w->q = r > 0 && r < rs ? r : rs;
    w->s = r + m->tq;
    w->UGr = dalloc((size_t)d * rs);
    w->VGr = dalloc((size_t)k * rs);
    for (int i = 0; i < d; i++)
        memcpy(w->UGr + (size_t)i * rs, p->UG + (size_t)i * p->gq, sizeof(double) * rs);
    for (int j = 0; j < rs; j++)
        for (int i = 0; i < k; i++) w->VGr[(size_t)i * rs + j] = p->VGt[(size_t)j * k + i];
    w->UDr = p->UD, w->VDr = p->VD;
    w->UGc = cm_copy(w->UGr, d, rs), w->VGc = cm_copy(w->VGr, k, rs);
    w->UDc = cm_copy(w->UDr, d, rs), w->VDc = cm_copy(w->VDr, k, rs);
    int rr = r > 0 ? r : 1, mn = d < k ? d : k, dk = d > k ? d : k, q = w->q;
    int lowrank = r > 0 && 2 * w->s <= mn;
    w->c = lowrank ? w->s : rr;
    w->gram1 = dalloc((size_t)rr * rr);
    w->gram2 = dalloc((size_t)rr * rr);
    w->Sv = dalloc((size_t)imax(mn, w->s));
    if (m->wd > 0) {   // cert needs J(A B) on a dense A B
        w->Dw = dalloc((size_t)d * k);
        w->Jw = dalloc((size_t)d * k);
    }
    w->Mc = dalloc((size_t)d * w->c);
    w->negTlc = dalloc((size_t)d * (m->tq > 0 ? m->tq : 1));
    for (int j = 0; j < m->tq; j++)
        for (int i = 0; i < d; i++) w->negTlc[i + (size_t)j * d] = -m->Tl[(size_t)i * m->tq + j];
    w->Nc = dalloc((size_t)k * w->c);
    w->tau1 = dalloc((size_t)w->c);
    w->tau2 = dalloc((size_t)w->c);
    w->Rf = dalloc((size_t)rr * rr);
    w->U = dalloc((size_t)rr * rr);
    w->core = dalloc((size_t)rr * rr);
    w->Q = dalloc((size_t)dk * q);
    w->P = dalloc((size_t)dk * q);
    w->C = dalloc((size_t)rs * q);
    w->gram = dalloc((size_t)q * q);
    int sr = imax(w->s, rr);
    w->gram_s = dalloc((size_t)sr * sr);
    w->ev = dalloc((size_t)q);
    int lw = imax(qr_cm_lwork(dk, w->c), qr_apply_cm_lwork(dk, rr, q));
    lw = imax(lw, imax(svd_cm_lwork(rr, rr, 0), svd_cm_lwork(rr, rr, 1)));
    lw = imax(lw, imax(op_norm_cm_lwork(dk, q), op_norm_cm_lwork(sr, sr)));
    if (lowrank) {
        w->R1 = dalloc((size_t)w->s * w->s);
        w->R2 = dalloc((size_t)w->s * w->s);
        w->small = dalloc((size_t)w->s * w->s);
        lw = imax(lw, svd_cm_lwork(w->s, w->s, 0));
    } else {
        w->E = dalloc((size_t)d * k);
    }
    w->lwork = lw;
    w->work = dalloc((size_t)lw);
    w->ework = dalloc((size_t)sr);
    w->U2 = dalloc((size_t)rr * rr);
    w->gram_r = dalloc((size_t)rr * rr);
    for (int i = 0; i < 4; i++) {
        w->agram[i] = dalloc((size_t)q * q);
        w->ew[i] = dalloc((size_t)sr);
        w->ee[i] = dalloc((size_t)sr);
    }
    w->use_small = lowrank && w->s <= SMALL_MAX_S && rs <= SMALL_MAX_RSTAR;
    w->iwork = xcalloc((size_t)8 * imax(w->s, rr), sizeof(int));
    return w;
}

void metrics_work_free(metrics_work *w)
{
    if (!w) return;
    free(w->UGr), free(w->VGr), free(w->Mc), free(w->Nc), free(w->tau1), free(w->tau2);
    free(w->R1), free(w->R2), free(w->small), free(w->Rf), free(w->U), free(w->core);
    free(w->Q), free(w->P), free(w->C), free(w->gram), free(w->gram_s), free(w->ev), free(w->work), free(w->iwork);
    free(w->E), free(w->gram1), free(w->gram2);
    free(w->Dw), free(w->Jw), free(w->Sv), free(w->ework);
    free(w->UGc), free(w->VGc), free(w->UDc), free(w->VDc);
    free(w->U2), free(w->gram_r), free(w->negTlc);
    for (int i = 0; i < 4; i++) free(w->agram[i]), free(w->ew[i]), free(w->ee[i]);
    free(w);
}

// ||X||_F of X: (m, n) by sl_norm (fro's signature).
static double fro_small(const double *X, int m, int n) { return sl_norm(X, (size_t)m * n); }

// R: (n, n) cm = the leading n x n upper triangle of a qr_cm result X: (m, >= n) cm.
static void upper_of(const double *X, int m, int n, double *R)
{
    memset(R, 0, sizeof(double) * (size_t)n * n);
    for (int j = 0; j < n; j++) memcpy(R + (size_t)j * n, X + (size_t)j * m, sizeof(double) * (j + 1));
}

// risk = 1/2 ||E||_F^2 and err_op = ||E||_op from the singular values of E: (m, n).
static int norms_of(const double *E, int m, int n, double *risk, double *err_op, lerr *e)
{
    int q = m < n ? m : n;
    double *S = dalloc((size_t)q);
    int rc = svd_thin(E, m, n, NULL, S, NULL, e);
    double f = fro(E, m, n);
    *risk = 0.5 * f * f;
    *err_op = rc ? NAN : S[0];
    free(S);
    return rc;
}

// Mc = [A, -Tl]: (d, c) cm and Nc = [B^T, Tr^T]: (k, c) cm (only A and B^T on
// the dense path, c = r), each replaced by its Householder QR.  The first r
// reflectors and the leading (r, r) block of R are A's (B^T's) own QR: one
// factorisation serves the risk, the alignments and rank_ab.
static int factor_qrs(metrics_work *w, const double *A, const double *B, lerr *e)
{
    const model *m = w->m;
    int d = w->d, k = w->k, r = w->r, c = w->c;
    for (int j = 0; j < r; j++) {
        double *col = w->Mc + (size_t)j * d;
        for (int i = 0; i < d; i++) col[i] = A[(size_t)i * r + j];
        memcpy(w->Nc + (size_t)j * k, B + (size_t)j * k, sizeof(double) * k);
    }
    if (c > r) {
        memcpy(w->Mc + (size_t)r * d, w->negTlc, sizeof(double) * (size_t)d * (c - r));
        memcpy(w->Nc + (size_t)r * k, m->Tr, sizeof(double) * (size_t)k * (c - r));
    }
    if (w->use_small) {
        sl_qr(w->Mc, d, c, w->tau1);
        sl_qr(w->Nc, k, c, w->tau2);
        return 0;
    }
    if (qr_cm(w->Mc, d, c, w->tau1, w->work, w->lwork) ||
        qr_cm(w->Nc, k, c, w->tau2, w->work, w->lwork))
        return lerr_run(e, "QR factorisation failed while computing the metrics");
    return 0;
}

// P = R1 R2^T for the upper triangles R1, R2: (n, n) of X: (ldx, >= n) cm and
// Y: (ldy, >= n) cm (qr results): P_ab = sum_{c >= max(a, b)} R1_ac R2_bc,
// accumulated as rank-one updates P[0:c+1, 0:c+1] += R1[0:c+1, c] R2[0:c+1, c]^T
// for c = 0 .. n-1 (contiguous columns: vector loops), which adds each entry's
// terms in the order of the plain sum (the same bits).  P: (n, n) cm.
static void upper_times_upper_t(const double *X, int ldx, const double *Y, int ldy, int n,
                                double *P)
{
    memset(P, 0, sizeof(double) * (size_t)n * n);
    for (int c = 0; c < n; c++) {
        const double *xc = X + (size_t)c * ldx, *yc = Y + (size_t)c * ldy;
        for (int b = 0; b <= c; b++) {
            double *pb = P + (size_t)b * n, ybc = yc[b];
            for (int a = 0; a <= c; a++) pb[a] += xc[a] * ybc;
        }
    }
}

// G = R^T R for the upper triangle R: (n, n) of X: (ldx, >= n) cm (a qr
// result): G_ab = sum_{c <= min(a, b)} R_ca R_cb.  G: (n, n) cm.  With A = Q R
// this is A^T A, within about eps ||A||^2 as a Gram matrix formed from A is,
// in O(n^3 / 3) instead of O(d n^2) flops.
static void upper_t_times_upper(const double *X, int ldx, int n, double *G)
{
    for (int b = 0; b < n; b++)
        for (int a = 0; a <= b; a++) {
            double t = 0.0;
            for (int c = 0; c <= a; c++) t += X[c + (size_t)a * ldx] * X[c + (size_t)b * ldx];
            G[a + (size_t)b * n] = G[b + (size_t)a * n] = t;
        }
}

// Risk and err_op of A B - Tl Tr (see the file header), after factor_qrs.
static int error_norms(metrics_work *w, const double *A, const double *B, double *risk,
                       double *err_op, lerr *e)
{
    const model *m = w->m;
    int d = w->d, k = w->k, r = w->r, tq = m->tq, s = w->s;
    if (!w->R1) {
        mm_fixed('N', 'N', d, k, r, 1.0, A, B, 0.0, w->E);
        mm_fixed('N', 'N', d, k, tq, -1.0, m->Tl, m->Tr, 1.0, w->E);
        return norms_of(w->E, d, k, risk, err_op, e);
    }
    upper_of(w->Mc, d, s, w->R1);
    upper_of(w->Nc, k, s, w->R2);
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, s, s, s, 1.0, w->R1, s, w->R2, s, 0.0,
                w->small, s);
    double f = fro(w->small, s, s);
    *risk = 0.5 * f * f;
    // s_1 alone, from the Gram matrix (full relative accuracy, op_norm_cm):
    // half the time of an (s, s) SVD
    if (op_norm_cm(w->small, s, s, w->gram_s, w->Sv, err_op, w->work, w->lwork))
        return lerr_run(e, "eigenvalue solver failed while computing err_op");
    return 0;
}

// The top-q left singular subspace of a factor X: (n, r) whose QR is
// QR: (n, >= r) cm, tau, into w->Q: (n, q) cm.  With X = Q_X R_X and
// R_X = U S V^T (an (r, r) SVD), that subspace is Q_X U_q: O(n r^2) instead of
// an (n, r) SVD (LAPACK path; alignments_small for the small one).  Returns 1
// (w->Q undefined) when s_q(X) = 0 (no subspace).
static int factor_subspace(metrics_work *w, const double *QR, const double *tau, int n, lerr *e)
{
    int r = w->r, q = w->q;
    upper_of(QR, n, r, w->Rf);
    if (svd_cm(w->Rf, r, r, w->Sv, w->U, w->work, w->lwork, w->iwork))
        return lerr_run(e, "SVD failed while computing the alignment");
    if (!(w->Sv[q - 1] > 0.0)) return 1;
    memset(w->Q, 0, sizeof(double) * (size_t)n * q);   // Q = Q_X [U_q; 0]: (n, q) cm
    for (int j = 0; j < q; j++) memcpy(w->Q + (size_t)j * n, w->U + (size_t)j * r, sizeof(double) * r);
    if (qr_apply_cm(QR, n, r, tau, w->Q, q, w->work, w->lwork))
        return lerr_run(e, "applying Q failed while computing the alignment");
    return 0;
}

// sin of the largest principal angle between span(Uref) (Uref: (n, rs)
// row-major, i.e. (rs, n) cm) and span(w->Q: (n, q) cm, orthonormal):
// ||(I - Uref Uref^T) Q||_op, with the residual formed explicitly so tiny
// angles keep their accuracy.  nan when Uref is NULL (no such reference).
static int residual_angle(metrics_work *w, const double *Uref, int n, double *out, lerr *e)
{
    int q = w->q, rs = w->rs;
    if (!Uref) {
        *out = NAN;
        return 0;
    }
    // C = Uref^T Q: (rs, q);  P = Q - Uref C
    memcpy(w->P, w->Q, sizeof(double) * (size_t)n * q);
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, rs, q, n, 1.0, Uref, rs, w->Q, n,
                0.0, w->C, rs);
    cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, n, q, rs, -1.0, Uref, rs, w->C, rs,
                1.0, w->P, n);
    if (op_norm_cm(w->P, n, q, w->gram, w->ev, out, w->work, w->lwork))
        return lerr_run(e, "eigenvalue solver failed while computing the alignment");
    return 0;
}

// The factor's (QR: (n, >= r) cm, tau) angles to G's subspace Uref_g and to
// the truth's Uref_t (both (n, rs) row-major; Uref_t may be NULL): nan when
// the factor has no top-q subspace.
static int alignments(metrics_work *w, const double *QR, const double *tau, int n,
                      const double *Uref_g, const double *Uref_t, double *out_g, double *out_t,
                      lerr *e)
{
    int rc = factor_subspace(w, QR, tau, n, e);
    if (rc < 0) return rc;
    if (rc == 1) {
        *out_g = *out_t = NAN;
        return 0;
    }
    if (residual_angle(w, Uref_g, n, out_g, e)) return -1;
    return residual_angle(w, Uref_t, n, out_t, e);
}

// The small path's risk, err_op, rank_ab and four angles, after factor_qrs,
// in two batches of eigenproblems (sl_eig_batch: their iterations
// interleaved, each result the bits it gets alone):
//   1. err_op = sqrt(lambda_max) of the Gram matrix of R1 R2^T: (s, s) (the
//      file header), rank_ab from that of the (r, r) core (R_A R_B^T, the
//      leading blocks), and each factor's left singular vectors as the
//      eigenvectors of R R^T: (r, r) (R_A of A, R_B of B^T);
//   2. per factor with s_q > 0, Q = Q_X [U_q; 0] and its residuals against
//      the two references, explicitly formed (sl_project_out); each angle
//      sqrt(lambda_max) of its residual's (q, q) Gram matrix.
// Angles nan without a reference or for a factor with s_q = 0.
static int row_small(metrics_work *w, metrics *out, int *rank, lerr *e)
{
    int d = w->d, k = w->k, r = w->r, s = w->s, q = w->q, rs = w->rs;
    upper_times_upper_t(w->Mc, d, w->Nc, k, s, w->small);
    double f = sl_norm(w->small, (size_t)s * s);
    out->risk = 0.5 * f * f;
    sl_gram(w->small, s, s, w->gram_s);
    upper_times_upper_t(w->Mc, d, w->Nc, k, r, w->core);
    sl_gram(w->core, r, r, w->gram_r);
    upper_times_upper_t(w->Mc, d, w->Mc, d, r, w->U);
    upper_times_upper_t(w->Nc, k, w->Nc, k, r, w->U2);
    sl_eig b1[4] = {{.A = w->gram_s, .n = s, .want = SL_MAX, .w = w->ew[0], .e = w->ee[0]},
                    {.A = w->gram_r, .n = r, .want = SL_RANK, .rel = RANK_REL_TOL, .w = w->ew[1],
                     .e = w->ee[1]},
                    {.A = w->U, .n = r, .want = SL_VECTORS, .w = w->ew[2], .e = w->ee[2]},
                    {.A = w->U2, .n = r, .want = SL_VECTORS, .w = w->ew[3], .e = w->ee[3]}};
    if (sl_eig_batch(b1, 4))
        return lerr_run(e, "eigenvalue solver failed while computing the metrics");
    out->err_op = sqrt(b1[0].lmax > 0.0 ? b1[0].lmax : 0.0);
    *rank = b1[1].rank;

    const double *QR[2] = {w->Mc, w->Nc}, *tau[2] = {w->tau1, w->tau2};
    const double *refc[4] = {w->UGc, w->UDc, w->VGc, w->VDc};
    double *angle[4] = {&out->align_a, &out->align_a_star, &out->align_b, &out->align_b_star};
    sl_eig b2[4];
    int nb = 0, slot[4];
    for (int f2 = 0; f2 < 2; f2++) {
        int n = f2 == 0 ? d : k;
        const sl_eig *eig = &b1[2 + f2];
        *angle[2 * f2] = *angle[2 * f2 + 1] = NAN;
        if (!(eig->w[q - 1] > 0.0)) continue;   // no top-q subspace
        memset(w->Q, 0, sizeof(double) * (size_t)n * q);   // Q = Q_X [U_q; 0]: (n, q) cm
        for (int j = 0; j < q; j++)
            memcpy(w->Q + (size_t)j * n, eig->A + (size_t)j * r, sizeof(double) * r);
        sl_qr_apply(QR[f2], n, r, tau[f2], w->Q, q);
        for (int t = 2 * f2; t < 2 * f2 + 2; t++) {
            if (!refc[t]) continue;   // no such reference (the truth's, unknown)
            memcpy(w->P, w->Q, sizeof(double) * (size_t)n * q);
            sl_project_out(refc[t], n, rs, w->P, q, w->C);
            sl_gram(w->P, n, q, w->agram[nb]);
            b2[nb] = (sl_eig){.A = w->agram[nb], .n = q, .want = SL_MAX, .w = w->ew[nb],
                              .e = w->ee[nb]};
            slot[nb++] = t;
        }
    }
    if (sl_eig_batch(b2, nb))
        return lerr_run(e, "eigenvalue solver failed while computing the alignment");
    for (int i = 0; i < nb; i++) *angle[slot[i]] = sqrt(b2[i].lmax > 0.0 ? b2[i].lmax : 0.0);
    return 0;
}

// Number of values of S: (q) (decreasing) above RANK_REL_TOL S[0].
static int count_rank(const double *S, int q)
{
    int rank = 0;
    while (rank < q && S[0] > 0 && S[rank] > RANK_REL_TOL * S[0]) rank++;
    return rank;
}

// rank(A B) from the (r, r) core: A = Q1 R1, B^T = Q2 R2 (leading blocks of
// factor_qrs), A B = Q1 (R1 R2^T) Q2^T.  The core's singular values come from
// its Gram matrix (gram_svals_cm): exact enough for the 1e-6 s_1 threshold.
static int rank_of_product(metrics_work *w, lerr *e)
{
    int d = w->d, k = w->k, r = w->r;
    upper_of(w->Mc, d, r, w->Rf);
    upper_of(w->Nc, k, r, w->U);
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, r, r, r, 1.0, w->Rf, r, w->U, r, 0.0,
                w->core, r);
    if (gram_svals_cm(w->core, r, r, w->gram_s, w->Sv, w->work, w->lwork))
        return lerr_run(e, "eigenvalue solver failed while computing rank_ab");
    return count_rank(w->Sv, r);
}

// sin of the largest principal angles between the top-q left singular
// subspace of X: (n, c) and span(Uref_g), span(Uref_t) (both (n, rs); Uref_t
// may be NULL: nan); both nan when that subspace is undefined.  Q: (n, q) scratch.
static int alignments_dense(const double *Uref_g, const double *Uref_t, int rs, const double *X,
                            int n, int c, int q, double *Q, double *out_g, double *out_t,
                            lerr *e)
{
    *out_g = *out_t = NAN;
    int rc = top_left_subspace(X, n, c, q, Q, e);
    if (rc < 0) return rc;
    if (rc == 1) return 0;
    if (sin_max_angle(Uref_g, rs, Q, q, n, out_g, e)) return -1;
    return Uref_t ? sin_max_angle(Uref_t, rs, Q, q, n, out_t, e) : 0;
}

// The NTK-regime measures (theory/THEORY.md section 7) of the shift D: (d, k) with
// regulariser value `reg` and rank `rank`: objective, gap to f_star, and
// cert = ||grad L(D)||_op / lambda.
static int regularised(metrics_work *w, const double *D, double reg, int rank, metrics *out,
                       lerr *e)
{
    const model *m = w->m;
    int d = w->d, k = w->k;
    out->objective = out->loss + reg;
    double fs = m->p->f_star;
    out->gap = isfinite(fs) && fs != 0 ? (out->objective - fs) / fabs(fs) : NAN;
    out->rank_ab = rank;
    out->cert = NAN;
    if (m->wd > 0) {
        double L, gop;
        if (model_eval_dense(w->m, D, &L, w->Jw, e) || op_norm(w->Jw, d, k, &gop, e)) return -1;
        out->cert = gop / m->wd;
    }
    return 0;
}

int metrics_work_use_small(metrics_work *w, int on)
{
    if (on && !w->R1) return -1;
    if (on && w->s > SMALL_MAX_S) return -1;
    w->use_small = on;
    return 0;
}

int metrics_factors(metrics_work *w, const double *A, const double *B, const double *gA,
                    const double *gB, double loss, metrics *out, lerr *e)
{
    int d = w->d, k = w->k, r = w->r;
    out->loss = out->batch_loss = loss;
    int rank = -1;
    if (factor_qrs(w, A, B, e)) return -1;
    if (w->use_small) {
        if (row_small(w, out, &rank, e)) return -1;
    } else if (error_norms(w, A, B, &out->risk, &out->err_op, e) ||
               alignments(w, w->Mc, w->tau1, d, w->UGr, w->UDr, &out->align_a,
                          &out->align_a_star, e) ||
               alignments(w, w->Nc, w->tau2, k, w->VGr, w->VDr, &out->align_b,
                          &out->align_b_star, e)) {
        return -1;
    }
    // Frobenius norms: sl_norm on the small path (BLAS's call costs more
    // than these 800-entry sums)
    double (*fnorm)(const double *, int, int) = w->use_small ? fro_small : fro;
    double ga = fnorm(gA, d, r), gb = fnorm(gB, r, k);
    out->grad_norm = sqrt(ga * ga + gb * gb);
    if (w->use_small) {   // A^T A = R_A^T R_A, B B^T = R_B^T R_B (factor_qrs)
        upper_t_times_upper(w->Mc, d, r, w->gram1);
        upper_t_times_upper(w->Nc, k, r, w->gram2);
    } else {
        mm_fixed('T', 'N', r, r, d, 1.0, A, A, 0.0, w->gram1);
        mm_fixed('N', 'T', r, r, k, 1.0, B, B, 0.0, w->gram2);
    }
    out->balance = fro_diff(w->gram1, w->gram2, r, r);
    out->test_loss = model_test_loss(w->m, A, B);
    out->test_acc = model_test_acc(w->m, A, B);
    if (w->m->p->no_truth) out->risk = out->err_op = NAN;
    if (!w->use_small && (rank = rank_of_product(w, e)) < 0) return -1;
    if (w->Dw) mm_fixed('N', 'N', d, k, r, 1.0, A, B, 0.0, w->Dw);
    double na = fnorm(A, d, r), nb = fnorm(B, r, k);
    return regularised(w, w->Dw, 0.5 * w->m->wd * (na * na + nb * nb), rank, out, e);
}

int metrics_dense(metrics_work *w, const double *D, const double *J, double loss,
                  metrics *out, lerr *e)
{
    const model *m = w->m;
    int d = w->d, k = w->k, tq = m->tq;
    out->loss = out->batch_loss = loss;
    memcpy(w->E, D, sizeof(double) * (size_t)d * k);
    mm_fixed('N', 'N', d, k, tq, -1.0, m->Tl, m->Tr, 1.0, w->E);
    if (m->p->no_truth) out->risk = out->err_op = NAN;
    else if (norms_of(w->E, d, k, &out->risk, &out->err_op, e)) return -1;
    // the subspaces of the shift D itself play the roles of A and B^T
    double *Dt = dalloc((size_t)k * d), *Q = dalloc((size_t)(d > k ? d : k) * w->rs);
    for (int i = 0; i < d; i++)
        for (int j = 0; j < k; j++) Dt[(size_t)j * d + i] = D[(size_t)i * k + j];
    int rc = alignments_dense(w->UGr, w->UDr, w->rs, D, d, k, w->rs, Q, &out->align_a,
                              &out->align_a_star, e);
    if (!rc)
        rc = alignments_dense(w->VGr, w->VDr, w->rs, Dt, k, d, w->rs, Q, &out->align_b,
                              &out->align_b_star, e);
    free(Dt), free(Q);
    out->grad_norm = fro(J, d, k);
    out->balance = NAN;
    out->test_loss = model_test_loss(w->m, NULL, D);
    out->test_acc = model_test_acc(w->m, NULL, D);
    if (rc) return rc;
    int q = d < k ? d : k;
    double nuc = 0.0;
    if (svd_thin(D, d, k, NULL, w->Sv, NULL, e)) return -1;
    for (int j = 0; j < q; j++) nuc += w->Sv[j];
    return regularised(w, D, w->m->wd * nuc, count_rank(w->Sv, q), out, e);
}
