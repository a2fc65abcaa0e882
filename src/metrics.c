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
// Alignment (THEORY.md section 5): with q = min(r, r*),
//   align_a = ||(I - U_G U_G^T) U_q(A)||_op,  U_G = first r* left singular
//   vectors of G, U_q(A) = first q left singular vectors of A (thin SVD of the
//   (d, r) factor: O(d r^2));  align_b likewise with B^T and V_G.
// A factor whose q-th singular value is exactly zero (B = 0 at step 0 of the
// lora init) has no defined subspace: the metric is nan.
#include "metrics.h"

#include <lapacke.h>
#include <math.h>
#include <string.h>

#include "convex.h"
#include "linalg.h"

const char *const metric_names[] = {"loss",      "risk",   "align_a",   "align_b",
                                    "grad_norm", "err_op", "balance",   "test_loss",
                                    "objective", "gap",    "cert",      "rank_ab"};

void metrics_values(const metrics *m, double *out)
{
    out[0] = m->loss;
    out[1] = m->risk;
    out[2] = m->align_a;
    out[3] = m->align_b;
    out[4] = m->grad_norm;
    out[5] = m->err_op;
    out[6] = m->balance;
    out[7] = m->test_loss;
    out[8] = m->objective;
    out[9] = m->gap;
    out[10] = m->cert;
    out[11] = m->rank_ab;
}

struct metrics_work {
    model *m;
    int d, k, r, rs, q, s;    // rs = r*, q = min(r, r*), s = r + tq
    double *UGr, *VGr;        // (d, rs), (k, rs): G's top subspaces
    double *UA, *VB;          // (d, q), (k, q)
    double *Bt;               // (k, r)
    double *M, *N;            // (d, s), (k, s)
    double *tau;              // (s)
    double *R1, *R2, *small;  // (s, s)
    double *E;                // (d, k) when the dense path is used
    double *gram1, *gram2;    // (r, r)
    double *Dw, *Jw;          // (d, k) A B and J(A B), when lambda > 0 (cert)
    double *Sv;               // (min(d, k)) singular values
    double *QA, *tauq;        // (d, r), (r): QR of A for rank_ab
    double *R1q, *R2q, *core; // (r, r)
};

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
    w->UA = dalloc((size_t)d * w->q);
    w->VB = dalloc((size_t)k * w->q);
    int rr = r > 0 ? r : 1;
    w->Bt = dalloc((size_t)k * rr);
    w->gram1 = dalloc((size_t)rr * rr);
    w->gram2 = dalloc((size_t)rr * rr);
    int mn = d < k ? d : k;
    w->Sv = dalloc((size_t)mn);
    if (m->wd > 0) {   // cert needs J(A B) on a dense A B
        w->Dw = dalloc((size_t)d * k);
        w->Jw = dalloc((size_t)d * k);
    }
    w->QA = dalloc((size_t)d * rr);
    w->tauq = dalloc((size_t)rr);
    w->R1q = dalloc((size_t)rr * rr);
    w->R2q = dalloc((size_t)rr * rr);
    w->core = dalloc((size_t)rr * rr);
    if (r > 0 && 2 * w->s <= mn) {
        w->M = dalloc((size_t)d * w->s);
        w->N = dalloc((size_t)k * w->s);
        w->tau = dalloc((size_t)w->s);
        w->R1 = dalloc((size_t)w->s * w->s);
        w->R2 = dalloc((size_t)w->s * w->s);
        w->small = dalloc((size_t)w->s * w->s);
    } else {
        w->E = dalloc((size_t)d * k);
    }
    return w;
}

void metrics_work_free(metrics_work *w)
{
    if (!w) return;
    free(w->UGr), free(w->VGr), free(w->UA), free(w->VB), free(w->Bt);
    free(w->M), free(w->N), free(w->tau), free(w->R1), free(w->R2), free(w->small);
    free(w->E), free(w->gram1), free(w->gram2);
    free(w->Dw), free(w->Jw), free(w->Sv);
    free(w->QA), free(w->tauq), free(w->R1q), free(w->R2q), free(w->core);
    free(w);
}

// R: (s, s) upper triangle of the QR factorisation of X: (rows, s), X destroyed.
static int qr_r(double *X, int rows, int s, double *tau, double *R)
{
    if (LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, rows, s, X, s, tau) != 0) return -1;
    memset(R, 0, sizeof(double) * (size_t)s * s);
    for (int i = 0; i < s; i++)
        for (int j = i; j < s; j++) R[(size_t)i * s + j] = X[(size_t)i * s + j];
    return 0;
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

// Risk and err_op of A B - Tl Tr (see the file header).
static int error_norms(metrics_work *w, const double *A, const double *B, double *risk,
                       double *err_op, lerr *e)
{
    const model *m = w->m;
    int d = w->d, k = w->k, r = w->r, tq = m->tq, s = w->s;
    if (!w->M) {
        mm('N', 'N', d, k, r, 1.0, A, B, 0.0, w->E);
        mm('N', 'N', d, k, tq, -1.0, m->Tl, m->Tr, 1.0, w->E);
        return norms_of(w->E, d, k, risk, err_op, e);
    }
    for (int i = 0; i < d; i++) {
        memcpy(w->M + (size_t)i * s, A + (size_t)i * r, sizeof(double) * r);
        for (int j = 0; j < tq; j++) w->M[(size_t)i * s + r + j] = -m->Tl[(size_t)i * tq + j];
    }
    for (int i = 0; i < k; i++) {
        for (int j = 0; j < r; j++) w->N[(size_t)i * s + j] = B[(size_t)j * k + i];
        for (int j = 0; j < tq; j++) w->N[(size_t)i * s + r + j] = m->Tr[(size_t)j * k + i];
    }
    if (qr_r(w->M, d, s, w->tau, w->R1) || qr_r(w->N, k, s, w->tau, w->R2))
        return lerr_run(e, "QR factorisation failed while computing the risk");
    mm('N', 'T', s, s, s, 1.0, w->R1, w->R2, 0.0, w->small);
    return norms_of(w->small, s, s, risk, err_op, e);
}

// sin of the largest principal angle between span(Uref: (n, rs)) and the top-q
// left singular subspace of X: (n, c); nan when that subspace is undefined.
static int alignment(const double *Uref, int rs, const double *X, int n, int c, int q,
                     double *Q, double *out, lerr *e)
{
    int rc = top_left_subspace(X, n, c, q, Q, e);
    if (rc < 0) return rc;
    if (rc == 1) {
        *out = NAN;
        return 0;
    }
    return sin_max_angle(Uref, rs, Q, q, n, out, e);
}

// Number of values of S: (q) (decreasing) above RANK_REL_TOL S[0].
static int count_rank(const double *S, int q)
{
    int rank = 0;
    while (rank < q && S[0] > 0 && S[rank] > RANK_REL_TOL * S[0]) rank++;
    return rank;
}

// rank(A B) from the (r, r) core: A = Q1 R1, B^T = Q2 R2 (B^T in w->Bt),
// A B = Q1 (R1 R2^T) Q2^T.
static int rank_of_product(metrics_work *w, const double *A, lerr *e)
{
    int d = w->d, k = w->k, r = w->r;
    memcpy(w->QA, A, sizeof(double) * (size_t)d * r);
    if (qr_r(w->QA, d, r, w->tauq, w->R1q) || qr_r(w->Bt, k, r, w->tauq, w->R2q))
        return lerr_run(e, "QR factorisation failed while computing rank_ab");
    mm('N', 'T', r, r, r, 1.0, w->R1q, w->R2q, 0.0, w->core);
    if (svd_thin(w->core, r, r, NULL, w->Sv, NULL, e)) return -1;
    return count_rank(w->Sv, r);
}

// The NTK-regime measures (THEORY.md section 7) of the shift D: (d, k) with
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

int metrics_factors(metrics_work *w, const double *A, const double *B, const double *gA,
                    const double *gB, double loss, metrics *out, lerr *e)
{
    int d = w->d, k = w->k, r = w->r;
    out->loss = loss;
    if (error_norms(w, A, B, &out->risk, &out->err_op, e)) return -1;
    if (alignment(w->UGr, w->rs, A, d, r, w->q, w->UA, &out->align_a, e)) return -1;
    for (int j = 0; j < r; j++)
        for (int i = 0; i < k; i++) w->Bt[(size_t)i * r + j] = B[(size_t)j * k + i];
    if (alignment(w->VGr, w->rs, w->Bt, k, r, w->q, w->VB, &out->align_b, e)) return -1;
    double ga = fro(gA, d, r), gb = fro(gB, r, k);
    out->grad_norm = sqrt(ga * ga + gb * gb);
    mm('T', 'N', r, r, d, 1.0, A, A, 0.0, w->gram1);
    mm('N', 'T', r, r, k, 1.0, B, B, 0.0, w->gram2);
    out->balance = fro_diff(w->gram1, w->gram2, r, r);
    out->test_loss = model_test_loss(w->m, A, B);
    int rank = rank_of_product(w, A, e);   // uses (and destroys) w->Bt = B^T: after align_b
    if (rank < 0) return -1;
    if (w->Dw) mm('N', 'N', d, k, r, 1.0, A, B, 0.0, w->Dw);
    double na = fro(A, d, r), nb = fro(B, r, k);
    return regularised(w, w->Dw, 0.5 * w->m->wd * (na * na + nb * nb), rank, out, e);
}

int metrics_dense(metrics_work *w, const double *D, const double *J, double loss,
                  metrics *out, lerr *e)
{
    const model *m = w->m;
    int d = w->d, k = w->k, tq = m->tq;
    out->loss = loss;
    memcpy(w->E, D, sizeof(double) * (size_t)d * k);
    mm('N', 'N', d, k, tq, -1.0, m->Tl, m->Tr, 1.0, w->E);
    if (norms_of(w->E, d, k, &out->risk, &out->err_op, e)) return -1;
    // the subspaces of the shift D itself play the roles of A and B^T
    double *Dt = dalloc((size_t)k * d), *Q = dalloc((size_t)(d > k ? d : k) * w->rs);
    for (int i = 0; i < d; i++)
        for (int j = 0; j < k; j++) Dt[(size_t)j * d + i] = D[(size_t)i * k + j];
    int rc = alignment(w->UGr, w->rs, D, d, k, w->rs, Q, &out->align_a, e);
    if (!rc) rc = alignment(w->VGr, w->rs, Dt, k, d, w->rs, Q, &out->align_b, e);
    free(Dt), free(Q);
    out->grad_norm = fro(J, d, k);
    out->balance = NAN;
    out->test_loss = model_test_loss(w->m, NULL, D);
    if (rc) return rc;
    int q = d < k ? d : k;
    double nuc = 0.0;
    if (svd_thin(D, d, k, NULL, w->Sv, NULL, e)) return -1;
    for (int j = 0; j < q; j++) nuc += w->Sv[j];
    return regularised(w, D, w->m->wd * nuc, count_rank(w->Sv, q), out, e);
}
