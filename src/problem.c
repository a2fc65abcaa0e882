// problem.c: the teacher registry, and the parts of problems and models that
// every teacher shares (ground-truth factors, the SVD of G, the shifted base).
#include "problem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linalg.h"
#include "registry.h"
#include "svd_top.h"

// ---------------------------------------------------------------------------
// Registry: one row per teacher.

int teacher_linear_new(const spec *s, long seed, const char *cache_dir, problem **out, lerr *e);
int teacher_nonlinear_new(const spec *s, long seed, const char *cache_dir, problem **out,
                          lerr *e);
int teacher_ntk_new(const spec *s, long seed, const char *cache_dir, problem **out, lerr *e);
int teacher_ntk_check(const spec *s, lerr *e);
int teacher_mlp_new(const spec *s, long seed, const char *cache_dir, problem **out, lerr *e);
int teacher_mlp_check(const spec *s, lerr *e);

static const struct {
    const char *name;
    int (*make)(const spec *s, long seed, const char *cache_dir, problem **out, lerr *e);
    int min_rank;
    int (*check)(const spec *s, lerr *e);   // input checks beyond config (may be NULL)
    int target_shift;   // 1: W_nat = W0 + Delta is what the adapter learns (the
                        //   truth columns rho_init, align_a_star... are defined)
} teachers[] = {
    {"linear", teacher_linear_new, 1, NULL, 1},
    {"nonlinear", teacher_nonlinear_new, 1, NULL, 1},
    {"ntk", teacher_ntk_new, 0, teacher_ntk_check, 0},
    {"mlp", teacher_mlp_new, 0, teacher_mlp_check, 0},
};
enum { NTEACHERS = sizeof teachers / sizeof teachers[0] };

int teacher_known(const char *name)
{
    for (int i = 0; i < NTEACHERS; i++)
        if (strcmp(teachers[i].name, name) == 0) return 1;
    return 0;
}

int teacher_check(const spec *s, lerr *e)
{
    for (int i = 0; i < NTEACHERS; i++)
        if (strcmp(teachers[i].name, s->teacher.model) == 0)
            return teachers[i].check ? teachers[i].check(s, e) : 0;
    return 0;
}

int teacher_min_rank(const char *name)
{
    for (int i = 0; i < NTEACHERS; i++)
        if (strcmp(teachers[i].name, name) == 0) return teachers[i].min_rank;
    return 1;
}

const char *teacher_names(void)
{
    static char buf[256];
    return join_names(buf, sizeof buf, teachers, sizeof teachers[0], NTEACHERS);
}

// The singular triplets of G a run uses: r* for the alignment metrics, r for
// the spectral initialisation, 2r for lora-ga.
static int svd_needed(const spec *s, int rstar)
{
    int need = s->lora.rank * (strcmp(s->init.method, "lora-ga") ? 1 : 2);
    return need > rstar ? need : rstar;
}

// G = UG diag(SG) VGt truncated to gq triplets.  Up to SVD_DENSE_MAX = min(d, k)
// this is the full thin SVD (gq = min(d, k), LAPACK dgesdd); above it only the
// top `need` triplets, by randomised block subspace iteration (svd_top.h):
// O(d k need) per iteration instead of O(d k min(d, k)).  The iteration stops
// when the top min(r*, need) triplets -- the signal the metrics compare with --
// have residuals below 1e-12 s_1; triplets past r* lie in G's noise bulk, where
// singular values crowd together and vectors are ill-determined anyway (a
// spectral init with r > r* gets them to about 1e-4 s_1).
#define SVD_DENSE_MAX 1024
int problem_svd_need(const spec *s)
{
    int d = s->teacher.d, k = s->teacher.k;
    return (d < k ? d : k) <= SVD_DENSE_MAX ? 0 : svd_needed(s, 0);
}

static int svd_of_g(problem *p, int need, long seed, lerr *e)
{
    int d = p->d, k = p->k, mn = d < k ? d : k;
    p->gq = mn <= SVD_DENSE_MAX ? mn : (need < mn ? need : mn);
    p->UG = dalloc((size_t)d * p->gq);
    p->SG = dalloc((size_t)p->gq);
    p->VGt = dalloc((size_t)p->gq * k);
    int rc;
    if (p->gq == mn) {
        rc = svd_thin(p->G, d, k, p->UG, p->SG, p->VGt, e);
    } else {
        int nconv = p->rstar < p->gq ? p->rstar : p->gq;
        svd_top_opts o = {.tol = 1e-12, .max_iter = 60, .seed = seed, .nconv = nconv};
        rc = svd_top(p->G, d, k, p->gq, p->UG, p->SG, p->VGt, &o, e);
        if (!rc && o.iters >= o.max_iter && nconv == p->gq && o.resid > 1e-8)
            fprintf(stderr, "loralab: warning: top-%d SVD of the one-step gradient reached a "
                            "relative residual of %.1e only (after %d iterations)\n",
                    p->gq, o.resid, o.iters);
    }
    return rc ? lerr_prefix(e, "one-step gradient: ") : 0;
}

// R: (n, n) row-major = the upper triangle of a qr_cm result X: (m, >= n) cm.
static void upper_rm(const double *X, int m, int n, double *R)
{
    memset(R, 0, sizeof(double) * (size_t)n * n);
    for (int j = 0; j < n; j++)
        for (int i = 0; i <= j; i++) R[(size_t)i * n + j] = X[(size_t)j * m + i];
}

// Out: (n, c) row-major = Q [Y; 0] with Q the orthogonal factor of a qr_cm
// result QR: (n, q) cm, tau, and Y: (q, >= c) row-major with leading dimension ly.
static int apply_q(const double *QR, const double *tau, int n, int q, const double *Y,
                   int ly, int c, double *Out)
{
    int lwork = qr_apply_cm_lwork(n, q, c);
    double *Z = dalloc((size_t)n * c), *work = dalloc((size_t)lwork);   // Z: (n, c) cm
    for (int j = 0; j < c; j++)
        for (int i = 0; i < q; i++) Z[(size_t)j * n + i] = Y[(size_t)i * ly + j];
    int rc = qr_apply_cm(QR, n, q, tau, Z, c, work, lwork);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < c; j++) Out[(size_t)i * c + j] = Z[(size_t)j * n + i];
    free(Z), free(work);
    return rc;
}

// Delta's singular values and top-r* subspaces from its factors Delta = Dl Dr,
// Dl: (d, q), Dr: (q, k), q = dq: with Dl = Q1 R1 and Dr^T = Q2 R2 (Householder
// QR) and the (q, q) SVD R1 R2^T = Uc diag(SD) Vc^T,
//   Delta = (Q1 Uc) diag(SD) (Q2 Vc)^T,  UD = Q1 Uc[:, :r*],  VD = Q2 Vc[:, :r*]:
// O((d + k) q^2), exact to rounding whatever the factors' own normalisation.
int problem_truth_svd(problem *p, lerr *e)
{
    int d = p->d, k = p->k, q = p->dq, rs = p->rstar;
    free(p->SD), free(p->UD), free(p->VD);
    p->SD = p->UD = p->VD = NULL;
    if (q < 1) return 0;
    int lwork = qr_cm_lwork(d > k ? d : k, q);
    double *M = dalloc((size_t)d * q), *N = dalloc((size_t)k * q);   // cm: Dl, Dr^T
    double *tau1 = dalloc((size_t)q), *tau2 = dalloc((size_t)q), *work = dalloc((size_t)lwork);
    double *R1 = dalloc((size_t)q * q), *R2 = dalloc((size_t)q * q), *C = dalloc((size_t)q * q);
    double *Uc = dalloc((size_t)q * q), *Vct = dalloc((size_t)q * q);
    for (int i = 0; i < d; i++)
        for (int j = 0; j < q; j++) M[(size_t)j * d + i] = p->Dl[(size_t)i * q + j];
    memcpy(N, p->Dr, sizeof(double) * (size_t)q * k);   // Dr row-major = Dr^T cm
    int rc = qr_cm(M, d, q, tau1, work, lwork) || qr_cm(N, k, q, tau2, work, lwork);
    if (rc) rc = lerr_run(e, "delta: QR of its factors failed");
    if (!rc) {
        p->SD = dalloc((size_t)q);
        upper_rm(M, d, q, R1);
        upper_rm(N, k, q, R2);
        mm('N', 'T', q, q, q, 1.0, R1, R2, 0.0, C);
        rc = svd_thin(C, q, q, Uc, p->SD, Vct, e);
    }
    if (!rc && rs <= q) {   // Vc = Vct^T: Vc[:, :r*] is the (q, r*) block of Vct^T
        for (int i = 0; i < q; i++)
            for (int j = 0; j < i; j++) {
                double t = Vct[(size_t)i * q + j];
                Vct[(size_t)i * q + j] = Vct[(size_t)j * q + i];
                Vct[(size_t)j * q + i] = t;
            }
        p->UD = dalloc((size_t)d * rs);
        p->VD = dalloc((size_t)k * rs);
        if (apply_q(M, tau1, d, q, Uc, q, rs, p->UD) || apply_q(N, tau2, k, q, Vct, q, rs, p->VD))
            rc = lerr_run(e, "delta: applying Q failed");
    }
    free(M), free(N), free(tau1), free(tau2), free(work), free(R1), free(R2), free(C);
    free(Uc), free(Vct);
    return rc ? lerr_prefix(e, "truth subspaces: ") : 0;
}

// The whole set-up runs BLAS on one thread (linalg.h: blas_serial_begin): its
// LAPACK calls (QR of the data, SVDs of G and Delta, Cholesky of X^T X) and
// its products then have bits that depend on the sizes only, not on the
// thread count; the large products (mm_fixed, trmm_upper_fixed, gram_inputs) use
// the machine's threads through fixed pieces.
static int problem_make(int i, const spec *s, long seed, const char *cache_dir, problem **out,
                        lerr *e)
{
    int rc = teachers[i].make(s, seed, cache_dir, out, e);
    if (rc) return rc;
    (*out)->f_star = NAN;   // until a convex solve sets it
    if (!(*out)->pretrained)
        (*out)->pre_train_loss = (*out)->pre_train_acc = (*out)->pre_test_acc = NAN;
    rc = svd_of_g(*out, svd_needed(s, (*out)->rstar), seed, e);
    if (!rc && teachers[i].target_shift) rc = problem_truth_svd(*out, e);
    if (rc) {
        problem_free(*out);
        *out = NULL;
    }
    return rc;
}

int problem_new(const spec *s, long seed, const char *cache_dir, problem **out, lerr *e)
{
    for (int i = 0; i < NTEACHERS; i++)
        if (strcmp(teachers[i].name, s->teacher.model) == 0) {
            blas_serial_begin();
            int rc = problem_make(i, s, seed, cache_dir, out, e);
            blas_serial_end();
            return rc;
        }
    return lerr_input(e, "unknown teacher '%s' (valid: %s)", s->teacher.model, teacher_names());
}

void problem_free(problem *p)
{
    if (!p) return;
    if (p->ops && p->ops->problem_free) p->ops->problem_free(p);
    free(p->W0);
    free(p->Delta);
    free(p->Dl);
    free(p->Dr);
    free(p->G);
    free(p->UG);
    free(p->SG);
    free(p->VGt);
    free(p->SD);
    free(p->UD);
    free(p->VD);
    free(p->Xt);
    free(p->Yt);
    free(p);
}

// G = J(W0) unless the teacher computed it and, when the teacher did not supply them, Delta = Dl Dr with Dl = U_q diag(s_q), Dr = Vt_q
// truncated to Delta's numerical rank q.
int problem_finish(problem *p, int rstar, lerr *e)
{
    int d = p->d, k = p->k;
    if (!p->G) {   // G = J(W0), through a throw-away run at D = 0
        model *m = model_new(p, 1, NULL, NULL, 0, e);
        if (!m) return -1;
        double L, *Zero = dalloc((size_t)d * k);
        p->G = dalloc((size_t)d * k);
        int rc = model_eval_dense(m, Zero, &L, p->G, e);
        free(Zero);
        model_free(m);
        if (rc) return rc;
    }
    p->rstar = rstar;
    if (p->Dl) return 0;
    int q = d < k ? d : k;
    double *U = dalloc((size_t)d * q), *S = dalloc((size_t)q), *Vt = dalloc((size_t)q * k);
    if (svd_thin(p->Delta, d, k, U, S, Vt, e)) {
        free(U), free(S), free(Vt);
        return lerr_prefix(e, "delta: ");
    }
    int rank = numerical_rank(p->Delta, d, k);
    if (rank < 1) rank = 1;
    p->dq = rank;
    p->delta_op = S[0];
    p->Dl = dalloc((size_t)d * rank);
    p->Dr = dalloc((size_t)rank * k);
    for (int i = 0; i < d; i++)
        for (int j = 0; j < rank; j++) p->Dl[(size_t)i * rank + j] = U[(size_t)i * q + j] * S[j];
    memcpy(p->Dr, Vt, sizeof(double) * (size_t)rank * k);
    free(U), free(S), free(Vt);
    return 0;
}

// ---------------------------------------------------------------------------
// Models

// T = Delta - D0 = Delta + Aoff Boff = [Dl, Aoff] [Dr; Boff].
model *model_new(const problem *p, int r, const double *Aoff, const double *Boff, int roff,
                 lerr *e)
{
    int d = p->d, k = p->k;
    model *m = xcalloc(1, sizeof *m);
    m->p = p;
    m->r = r;
    m->threads = blas_budget();
    blas_serial_begin();   // as problem_new: bits independent of the thread count
    m->roff = roff;
    m->tq = p->dq + roff;
    m->Tl = dalloc((size_t)d * m->tq);
    m->Tr = dalloc((size_t)m->tq * k);
    for (int i = 0; i < d; i++)
        memcpy(m->Tl + (size_t)i * m->tq, p->Dl + (size_t)i * p->dq, sizeof(double) * p->dq);
    memcpy(m->Tr, p->Dr, sizeof(double) * (size_t)p->dq * k);
    if (roff > 0) {
        m->Aoff = dalloc((size_t)d * roff);
        m->Boff = dalloc((size_t)roff * k);
        memcpy(m->Aoff, Aoff, sizeof(double) * (size_t)d * roff);
        memcpy(m->Boff, Boff, sizeof(double) * (size_t)roff * k);
        for (int i = 0; i < d; i++)
            memcpy(m->Tl + (size_t)i * m->tq + p->dq, Aoff + (size_t)i * roff,
                   sizeof(double) * roff);
        memcpy(m->Tr + (size_t)p->dq * k, Boff, sizeof(double) * (size_t)roff * k);
    }
    if (p->n_test > 0 && p->Xt) {   // Xt base = Xt W0 - (Xt Aoff) Boff
        int nt = p->n_test, rr = r > 0 ? r : 1;
        m->XtBase = dalloc((size_t)nt * k);
        m->XtA = dalloc((size_t)nt * (rr > roff ? rr : roff));
        m->Zt = dalloc((size_t)nt * k);
        mm_fixed('N', 'N', nt, k, d, 1.0, p->Xt, p->W0, 0.0, m->XtBase);
        if (roff > 0) {
            mm_fixed('N', 'N', nt, roff, d, 1.0, p->Xt, Aoff, 0.0, m->XtA);
            mm_fixed('N', 'N', nt, k, roff, -1.0, m->XtA, Boff, 1.0, m->XtBase);
        }
    }
    int rc = p->ops->model_init(m, e);
    blas_serial_end();
    if (rc) {
        model_free(m);
        return NULL;
    }
    return m;
}

void model_free(model *m)
{
    if (!m) return;
    if (m->p->ops->model_free) m->p->ops->model_free(m);
    free(m->Aoff);
    free(m->Boff);
    free(m->Tl);
    free(m->Tr);
    free(m->XtBase);
    free(m->XtA);
    free(m->Zt);
    free(m->Dbuf);
    free(m);
}

// Zt = Xt base + Xt A B (or + Xt D);  test_loss = ||act(Zt) - Yt||^2 / (2 n_test).
double model_test_loss(model *m, const double *A, const double *B)
{
    const problem *p = m->p;
    if (p->n_test <= 0) return NAN;
    int nt = p->n_test, d = p->d, k = p->k;
    if (A && p->ops->test_loss_factors) return p->ops->test_loss_factors(m, A, B);
    if (p->ops->test_loss_dense) {
        if (!A) return p->ops->test_loss_dense(m, B);
        if (!m->Dbuf) m->Dbuf = dalloc((size_t)d * k);   // once per run
        mm_fixed('N', 'N', d, k, m->r, 1.0, A, B, 0.0, m->Dbuf);
        return p->ops->test_loss_dense(m, m->Dbuf);
    }
    size_t len = (size_t)nt * k;
    memcpy(m->Zt, m->XtBase, sizeof(double) * len);
    if (A) {
        mm_fixed('N', 'N', nt, m->r, d, 1.0, p->Xt, A, 0.0, m->XtA);
        mm_fixed('N', 'N', nt, k, m->r, 1.0, m->XtA, B, 1.0, m->Zt);
    } else {
        mm_fixed('N', 'N', nt, k, d, 1.0, p->Xt, B, 1.0, m->Zt);
    }
    if (p->act) p->act(m->Zt, m->Zt, NULL, len, p->slope);
    double acc = 0.0;
    for (size_t i = 0; i < len; i++) {
        double r = m->Zt[i] - p->Yt[i];
        acc += r * r;
    }
    return acc / (2.0 * nt);
}

double model_test_acc(model *m, const double *A, const double *B)
{
    const problem *p = m->p;
    if (p->n_test <= 0 || !p->ops->test_acc) return NAN;
    return p->ops->test_acc(m, A, B);
}
