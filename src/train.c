// train.c: the training loop of one cell.
//
// teacher -> problem;  initialiser -> (A0, B0, shift);  optimiser steps
// t = 0 .. T-1, each using only the model's loss and gradient; metrics at
// every logged step (step 0 = the initialisation, step t = after t updates;
// step 0 and the last step are always logged, also the step where SIGINT
// stops a run).  A run stops as `diverged` at the first step whose loss is
// not finite or exceeds 1e12 times the initial loss; that step is not logged.
//
// Minibatches (optimizer.batch = B > 0; batch.h says which rows step t
// uses): update t uses the loss and gradients of batch t at the iterate after
// t updates -- its loss is the trace's batch_loss at step t (at step T, the
// batch the next update would use).  The trace's loss, grad_norm and the
// other metrics stay those of the full training loss, evaluated only at
// logged steps (not counted in step_seconds).  Divergence is checked on every
// step's batch loss and on the full loss where it is evaluated, both against
// the full loss at step 0.  Full-batch runs (B = 0) log batch_loss = loss.
#include "train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "config.h"
#include "convex.h"
#include "csv.h"
#include "hessian.h"
#include "init.h"
#include "linalg.h"
#include <lapacke.h>
#include "npy.h"
#include "optim.h"
#include "problem.h"

#define DIVERGENCE_FACTOR 1e12

int openblas_get_num_threads(void);
void openblas_set_num_threads(int n);

const char *const run_status_names[] = {"ok",           "diverged", "error",         "global",
                                        "spurious_min", "saddle",   "not_converged", "interrupted"};

// ---------------------------------------------------------------------------
// One seed

typedef struct {
    const spec *s;
    long seed;
    afile *trace;
    const char *prefix;
    problem *p;
    model *m;
    optim *opt;
    metrics_work *mw;
    train_state st;
    batch_stream *bs;        // minibatch rows per step (NULL: full batch)
    double *gAf, *gBf, *Jf;  // the full loss's gradients at logged steps (minibatches):
                             //   (d, r), (r, k), or J: (d, k) for full fine-tuning
} seed_run;

static void trace_row(seed_run *sr, int t, const metrics *mt)
{
    double v[NMETRICS];
    metrics_values(mt, v);
    afile_printf(sr->trace, "%s%ld,%d", sr->prefix, sr->seed, t);
    for (int i = 0; i < NMETRICS; i++) csv_num(sr->trace, v[i], 0);
    if (sr->s->log.params) {   // every entry of A then B (nan for full fine-tuning)
        const train_state *st = &sr->st;
        int r = sr->s->lora.rank, d = sr->p->d, k = sr->p->k;
        for (size_t i = 0; i < (size_t)d * r + (size_t)r * k; i++) {
            double x = NAN;
            if (st->A) x = i < (size_t)d * r ? st->A[i] : st->B[i - (size_t)d * r];
            csv_num(sr->trace, x, 0);
        }
    }
    afile_printf(sr->trace, "\n");
}

// Loss and gradients at the current iterate: into the optimiser's gA, gB
// (or J), or, with full = 1, into the full-loss buffers gAf, gBf (or Jf).
static int evaluate(seed_run *sr, int full, double *loss, lerr *e)
{
    train_state *st = &sr->st;
    if (optim_dense(sr->opt)) return model_eval_dense(sr->m, st->D, loss, full ? sr->Jf : st->J, e);
    return model_eval_factors(sr->m, st->A, st->B, loss, full ? sr->gAf : st->gA,
                              full ? sr->gBf : st->gB, e);
}

// Loss and gradients of step t's batch (minibatches; the model returns to
// the full data afterwards, for the metrics and anything else).
static int evaluate_batch(seed_run *sr, int t, double *loss, lerr *e)
{
    const int *rows;
    int nb = batch_rows(sr->bs, t, &rows);
    if (model_set_batch(sr->m, rows, nb, e)) return -1;
    int rc = evaluate(sr, 0, loss, e);
    return model_set_batch(sr->m, NULL, 0, e) || rc ? -1 : 0;
}

// Metrics with the full loss's gradients: the optimiser's own for full-batch
// runs, gAf, gBf (Jf) for minibatches.
static int measure(seed_run *sr, double loss, metrics *mt, lerr *e)
{
    train_state *st = &sr->st;
    int full = sr->bs != NULL;
    if (optim_dense(sr->opt))
        return metrics_dense(sr->mw, st->D, full ? sr->Jf : st->J, loss, mt, e);
    return metrics_factors(sr->mw, st->A, st->B, full ? sr->gAf : st->gA,
                           full ? sr->gBf : st->gB, loss, mt, e);
}

// Quantities of the cell that theory predicts (theory/THEORY.md section 6):
//   sigma_dev    = ||Sigma_hat - I||_op,  err_op_bound = sigma_dev ||Delta||_op
//                  (Theorem 3.3: the spectral init's ||A0 B0 - Delta||_op is below it)
//   t_star       = ln(sqrt(d) / theta) / ln(1 + lr s_{r*}(G))   (Theorem 3.2's
//                  time for GD from a small random init to align A with U_{r*}(G)
//                  to accuracy theta = log.align_target; compare steps_to_align)
// and the quantities the theorems' hypotheses name (section 5, "Per cell"):
//   lambda_rstar = lambda*_{r*} = s_{r*}(Delta),  kappa_delta = s_1(Delta) / s_{r*}(Delta)
//                  (0 and inf when rank(Delta) < r*), g_op = ||G||_op = s_1(G),
//   alpha_thm    = theta^{3/2} d^{-3/4} kappa^{-1/2} ||G||_op^{1/2}: Theorem 3.2's
//                  init scale with its unspecified constant taken as 1,
//   alpha_init   = sqrt(init.alpha2) when the initialiser draws with it
//   (rho_init is set from the step-0 risk in log_step).
static void predictions(const spec *s, const problem *p, train_result *res)
{
    res->sigma_dev = p->sigma_dev;
    res->err_op_bound = p->sigma_dev * p->delta_op;
    res->s_rstar_g = p->SG[p->rstar - 1];
    double g = s->optimizer.lr * res->s_rstar_g;
    res->t_star = g > 0 ? log(sqrt((double)p->d) / s->log.align_target) / log1p(g) : NAN;
    res->g_op = p->SG[0];
    if (p->SD) {
        res->lambda_rstar = p->rstar <= p->dq ? p->SD[p->rstar - 1] : 0.0;
        res->kappa_delta = p->SD[0] / res->lambda_rstar;
        res->alpha_thm = pow(s->log.align_target, 1.5) * pow((double)p->d, -0.75) *
                         sqrt(res->g_op / res->kappa_delta);
    }
    res->alpha_init = init_uses_alpha2(s->init.method) ? sqrt(s->init.alpha2) : NAN;
}

// Measure the iterate after t updates, write its trace row and fold it into
// the summary; res->steps becomes t (the last logged step).
static int log_step(seed_run *sr, int t, double loss, double batch_loss, train_result *res,
                    lerr *e)
{
    const spec *s = sr->s;
    metrics mt;
    if (measure(sr, loss, &mt, e)) return -1;
    mt.batch_loss = batch_loss;
    trace_row(sr, t, &mt);
    res->last = mt;
    res->steps = t;
    if (t == 0) {
        res->risk_init = mt.risk;
        res->err_op_init = mt.err_op;
        // sqrt(2 risk) = ||W - W_nat||_F = ||A0 B0 - Delta||_F without a base shift
        if (sr->p->SD) res->rho_init = sqrt(2.0 * mt.risk) / res->lambda_rstar;
    }
    if (isnan(res->steps_to_tol) && mt.risk <= s->log.risk_tol * res->risk_init)
        res->steps_to_tol = t;
    if (isnan(res->steps_to_align) && mt.align_a <= s->log.align_target)
        res->steps_to_align = t;
    if (mt.align_a < res->min_align_a) res->min_align_a = mt.align_a;
    return 0;
}

// Steps t = 0 .. T.  res->steps is always the step of the last trace row:
// T for a finished run, the step where SIGINT stopped it (logged then, even
// between log.every multiples), and for a diverged run the last logged step
// before the divergence (the diverged iterate is neither logged nor counted;
// the message names its step).
static int train_steps(seed_run *sr, train_result *res, lerr *e)
{
    const spec *s = sr->s;
    predictions(s, sr->p, res);
    int T = s->optimizer.steps, every = s->log.every;
    double loss0 = 0.0;
    res->min_align_a = INFINITY;
    for (int t = 0; t <= T; t++) {
        double loss = NAN, batch_loss, ts = now_seconds();
        int rc = sr->bs ? evaluate_batch(sr, t, &batch_loss, e) : evaluate(sr, 0, &loss, e);
        if (rc) return lerr_prefix(e, "step %d: ", t);
        res->step_seconds += now_seconds() - ts;
        if (!sr->bs) batch_loss = loss;
        int stop = t < T && stop_requested();   // SIGINT: log this step and stop
        int logged = t % every == 0 || t == T || stop;
        if (sr->bs && logged && evaluate(sr, 1, &loss, e)) return lerr_prefix(e, "step %d: ", t);
        if (t == 0) loss0 = loss;   // (step 0 is always logged)
        for (int which = 0; which < 1 + (sr->bs && logged); which++) {
            double l = which ? loss : batch_loss;
            if (!isfinite(l) || (loss0 > 0 && l > DIVERGENCE_FACTOR * loss0)) {
                res->status = RUN_DIVERGED;
                snprintf(res->message, sizeof res->message,
                         "diverged at step %d: %s %.3g (initial loss %.3g)", t,
                         which || !sr->bs ? "loss" : "batch loss", l, loss0);
                return 0;
            }
        }
        if (logged) {
            if (log_step(sr, t, loss, batch_loss, res, e)) return lerr_prefix(e, "step %d: ", t);
        }
        if (t == T) break;
        if (stop) {
            res->status = RUN_INTERRUPTED;
            snprintf(res->message, sizeof res->message, "interrupted at step %d", t);
            return 0;
        }
        ts = now_seconds();
        if (optim_step(sr->opt, &sr->st, t, e)) return -1;
        res->step_seconds += now_seconds() - ts;
    }
    return 0;
}

// The step loop.  A model whose factor step runs its own threads
// (problem_ops.own_threads) gets single-threaded BLAS for the whole loop: an
// optimiser's small products would otherwise wake OpenBLAS's pool, whose
// workers then spin for a while on the very cores the next step's lanes need
// (measured: step_seconds of a d = k = 4096, N = 4096 precgd run, median of 3,
// 5.34 -> 4.86 s).
static int train(seed_run *sr, train_result *res, lerr *e)
{
    int blas = openblas_get_num_threads();
    int own = sr->m->p->ops->own_threads && !optim_dense(sr->opt) && blas > 1;
    if (own) openblas_set_num_threads(1);
    int rc = train_steps(sr, res, e);
    if (own) openblas_set_num_threads(blas);
    return rc;
}

// W = base + A B = W0 - Aoff Boff + A B  (or base + D).
static double *final_weight(const seed_run *sr)
{
    const problem *p = sr->p;
    const model *m = sr->m;
    int d = p->d, k = p->k;
    double *W = dalloc((size_t)d * k);
    memcpy(W, p->W0, sizeof(double) * (size_t)d * k);
    if (m->roff) mm('N', 'N', d, k, m->roff, -1.0, m->Aoff, m->Boff, 1.0, W);
    if (optim_dense(sr->opt))
        for (size_t i = 0; i < (size_t)d * k; i++) W[i] += sr->st.D[i];
    else
        mm('N', 'N', d, k, sr->st.r, 1.0, sr->st.A, sr->st.B, 1.0, W);
    return W;
}

static int save_matrices(const spec *s, const char *dir, const char *tag, const seed_run *sr,
                         lerr *e)
{
    const train_state *st = &sr->st;
    int dense = optim_dense(sr->opt);
    struct {
        unsigned bit;
        const char *name;
    } items[] = {{SAVE_A, "a"}, {SAVE_B, "b"}, {SAVE_W, "w"}, {SAVE_G, "g"}};
    for (int i = 0; i < 4; i++) {
        if (!(s->log.save & items[i].bit)) continue;
        if (dense && (items[i].bit == SAVE_A || items[i].bit == SAVE_B)) continue;
        char name[128];
        snprintf(name, sizeof name, "%s_%s.npy", items[i].name, tag);
        char *path = path_join(dir, name);
        int rc;
        if (items[i].bit == SAVE_A)
            rc = npy_write(path, st->A, st->d, st->r, e);
        else if (items[i].bit == SAVE_B)
            rc = npy_write(path, st->B, st->r, st->k, e);
        else if (items[i].bit == SAVE_G)
            rc = npy_write(path, sr->p->G, st->d, st->k, e);
        else {
            double *W = final_weight(sr);
            rc = npy_write(path, W, st->d, st->k, e);
            free(W);
        }
        free(path);
        if (rc) return rc;
    }
    return 0;
}

// One problem per process, kept from one cell to the next: consecutive cells
// whose teacher section, seed and kept SVD of G agree (an alpha2, learning
// rate or optimiser sweep) share the teacher's data, statistics and SVD of G
// instead of rebuilding them.  Problems are immutable once built, apart from
// f_star, which is reset for each cell.
static struct {
    char *key;
    problem *p;
} shared;

void train_release_problem(void)
{
    problem_free(shared.p);
    free(shared.key);
    shared.p = NULL;
    shared.key = NULL;
}

static int problem_for(const spec *s, long seed, const char *cache_dir, problem **out,
                       lerr *e)
{
    char *tk = config_section_key(s, "teacher"), *pk = config_section_key(s, "pretrain");
    size_t n = strlen(tk) + strlen(pk) + 64;
    char *key = xmalloc(n);
    // (teacher.stats auto resolves to qr for minibatches: teacher_linear.c)
    int batched = s->optimizer.batch > 0 && !strcmp(s->teacher.model, "linear");
    // (the mlp teacher's r* is lora.rank: teacher_mlp.c)
    int rstar = !strcmp(s->teacher.model, "mlp") ? s->lora.rank : 0;
    snprintf(key, n, "%s|%s|seed=%ld|svd=%d|batched=%d|rstar=%d", tk, pk, seed,
             problem_svd_need(s), batched, rstar);
    free(tk), free(pk);
    if (shared.p && !strcmp(shared.key, key)) {
        free(key);
        shared.p->f_star = NAN;
        *out = shared.p;
        return 0;
    }
    train_release_problem();
    int rc = problem_new(s, seed, cache_dir, out, e);
    if (rc) {
        free(key);
        return rc;
    }
    shared.p = *out;
    shared.key = key;
    return 0;
}

static void seed_run_free(seed_run *sr)
{
    metrics_work_free(sr->mw);
    optim_free(sr->opt);
    model_free(sr->m);   // sr->p stays in `shared`
    free(sr->st.A), free(sr->st.B), free(sr->st.gA), free(sr->st.gB);
    free(sr->st.D), free(sr->st.J);
    batch_stream_free(sr->bs);
    free(sr->gAf), free(sr->gBf), free(sr->Jf);
}

// ---------------------------------------------------------------------------
// The convex reference (teachers with convex_reference, lambda > 0)

// The settings the convex optimum depends on, hashed into a cache file name.
static void convex_key(const spec *s, long seed, char *out, size_t n)
{
    const mat_source *ms[3] = {&s->teacher.w0, &s->teacher.delta, &s->teacher.x};
    char buf[2048];
    int len = snprintf(buf, sizeof buf,
                       "%s|d=%d|k=%d|n=%d|K=%d|loss=%s|rank=%d|kappa=%.17g|spectrum=%s|"
                       "scale=%.17g|noise=%.17g|features=%s|base=%s|lambda=%.17g|steps=%d|"
                       "tol=%.17g|seed=%ld",
                       s->teacher.model, s->teacher.d, s->teacher.k, s->teacher.n,
                       s->teacher.outputs, s->teacher.loss, s->teacher.rank, s->teacher.kappa,
                       s->teacher.spectrum, s->teacher.scale, s->teacher.noise,
                       s->teacher.features, s->teacher.base, s->optimizer.weight_decay,
                       s->convex.steps, s->convex.tol, seed);
    for (int i = 0; i < 3 && len > 0 && (size_t)len < sizeof buf; i++)
        len += snprintf(buf + len, sizeof buf - (size_t)len, "|%d:%s", (int)ms[i]->kind,
                        ms[i]->path ? ms[i]->path : "");
    unsigned long long h = fnv1a(FNV_OFFSET, buf, strlen(buf));
    if (spec_real_data(s)) {   // ntk features: mlp: the data, classes, network and pretraining
        static const char *const sections[] = {"teacher", "pretrain"};
        for (int i = 0; i < 2; i++) {
            char *key = config_section_key(s, sections[i]);
            h = fnv1a(h, "\n", 1);
            h = fnv1a(h, key, strlen(key));
            free(key);
        }
    }
    snprintf(out, n, "convex-%016llx.txt", h);
}

// f_star etc. from the cache, or solved and stored there.
static int convex_reference(const spec *s, long seed, problem *p, const char *cache_dir,
                            train_result *res, lerr *e)
{
    char name[64];
    convex_key(s, seed, name, sizeof name);
    char *path = cache_dir ? path_join(cache_dir, name) : NULL;
    FILE *f = path ? fopen(path, "r") : NULL;
    int got = 0;
    if (f) {
        got = fscanf(f, "%lf %lf %lf %lf %lf", &res->f_star, &res->rank_star, &res->cert_star,
                     &res->convex_iters, &res->test_loss_star) == 5;
        fclose(f);
    }
    int rc = 0;
    if (!got) {
        convex_result cr;
        rc = convex_solve(p, s->optimizer.weight_decay, s->convex.steps, s->convex.tol, &cr, e);
        if (!rc) {
            res->f_star = cr.f_star, res->rank_star = cr.rank_star;
            res->cert_star = cr.cert_star, res->convex_iters = cr.iters;
            if (p->n_test > 0) {   // the test loss of full fine-tuning's optimum
                model *mt = model_new(p, 0, NULL, NULL, 0, e);
                res->test_loss_star = mt ? model_test_loss(mt, NULL, cr.delta) : NAN;
                model_free(mt);
            }
            convex_result_free(&cr);
            afile a;
            if (path && afile_open(&a, path, e) == 0) {
                afile_printf(&a, "%.17g %.17g %.17g %.17g %.17g\n", res->f_star, res->rank_star,
                             res->cert_star, res->convex_iters, res->test_loss_star);
                rc = afile_commit(&a, e);
            }
        }
    }
    free(path);
    if (!rc) p->f_star = res->f_star;
    return rc;
}

// ||grad F|| (weight decay included), the Hessian's smallest eigenvalue, and
// the verdict on the final point.  The Hessian is computed only where the
// gradient has converged (grad_objective <= GRAD_TOL): the only cells whose
// verdict (saddle / spurious_min) or record (a global minimum's flat
// directions) uses it; min_hess_eig stays nan elsewhere.
static int classify(seed_run *sr, train_result *res, lerr *e)
{
    train_state *st = &sr->st;
    double lam = sr->s->optimizer.weight_decay, L;
    int d = st->d, k = st->k, r = st->r;
    if (model_eval_factors(sr->m, st->A, st->B, &L, st->gA, st->gB, e)) return -1;
    double acc = 0.0;
    for (size_t i = 0; i < (size_t)d * r; i++) acc += pow(st->gA[i] + lam * st->A[i], 2);
    for (size_t i = 0; i < (size_t)r * k; i++) acc += pow(st->gB[i] + lam * st->B[i], 2);
    res->grad_objective = sqrt(acc);
    if (res->grad_objective <= GRAD_TOL &&
        min_hessian_eig(sr->m, st->A, st->B, lam, &res->min_hess_eig, e))
        return -1;
    const metrics *mt = &res->last;
    if (mt->gap <= GLOBAL_GAP && mt->cert <= 1 + GLOBAL_CERT)
        res->status = RUN_GLOBAL;
    else if (res->grad_objective > GRAD_TOL)
        res->status = RUN_NOT_CONVERGED;
    else if (res->min_hess_eig < -HESS_TOL)
        res->status = RUN_SADDLE;
    else
        res->status = RUN_SPURIOUS;
    return 0;
}

int train_cell(const spec *s, long seed, const char *prefix, afile *trace,
               const char *save_dir, const char *cache_dir, const char *tag,
               train_result *res, lerr *e)
{
    seed_run sr = {.s = s, .seed = seed, .trace = trace, .prefix = prefix};
    // LAPACKE scans every input for NaN (7% of a small run); the loop checks
    // the loss for divergence itself, and .npy inputs are checked at load.
    LAPACKE_set_nancheck(0);
    double t0 = now_seconds();
    memset(res, 0, sizeof *res);
    res->last = (metrics){NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN,
                          NAN};
    _Static_assert(sizeof(metrics) == NMETRICS * sizeof(double), "metrics initialiser");
    res->min_align_a = INFINITY;
    res->risk_init = res->err_op_init = res->steps_to_tol = res->steps_to_align = NAN;
    res->sigma_dev = res->err_op_bound = res->t_star = res->s_rstar_g = NAN;
    res->rho_init = res->lambda_rstar = res->kappa_delta = res->g_op = NAN;
    res->alpha_thm = res->alpha_init = NAN;
    res->f_star = res->cert_star = res->rank_star = res->convex_iters = NAN;
    res->test_loss_star = NAN;
    res->min_hess_eig = res->grad_objective = NAN;
    res->pre_train_loss = res->pre_train_acc = res->pre_test_acc = NAN;
    res->rank_bound = NAN;   // N1-i's bound: the ntk teacher's K N outputs only
    if (!strcmp(s->teacher.model, "ntk")) {
        long kn = (long)s->teacher.outputs * s->teacher.n, rb = 0;
        while ((rb + 1) * (rb + 2) / 2 <= kn) rb++;
        res->rank_bound = (double)rb;
    }
    int rc = problem_for(s, seed, cache_dir, &sr.p, e);
    if (!rc) {
        res->pre_train_loss = sr.p->pre_train_loss;
        res->pre_train_acc = sr.p->pre_train_acc;
        res->pre_test_acc = sr.p->pre_test_acc;
        int d = sr.p->d, k = sr.p->k, r = s->lora.rank;
        sr.opt = optim_new(s, d, k, r, e);
        rc = sr.opt ? 0 : -1;
        if (!rc && optim_dense(sr.opt)) {
            sr.st = (train_state){.d = d, .k = k, .r = 0};
            sr.st.D = dalloc((size_t)d * k);
            sr.st.J = dalloc((size_t)d * k);
            sr.m = model_new(sr.p, 0, NULL, NULL, 0, e);
        } else if (!rc) {
            sr.st = (train_state){.d = d, .k = k, .r = r};
            sr.st.A = dalloc((size_t)d * r);
            sr.st.B = dalloc((size_t)r * k);
            sr.st.gA = dalloc((size_t)d * r);
            sr.st.gB = dalloc((size_t)r * k);
            int shift = 0;
            rc = init_factors(s, sr.p, seed, sr.st.A, sr.st.B, &shift, e);
            if (!rc)
                sr.m = model_new(sr.p, r, shift ? sr.st.A : NULL, shift ? sr.st.B : NULL,
                                 shift ? r : 0, e);
        }
        if (!rc && !sr.m) rc = -1;
        if (!rc) sr.m->wd = s->optimizer.weight_decay;
        int B = s->optimizer.batch;
        if (!rc && B > sr.p->n)   // (config checks it; a guard for other callers)
            rc = lerr_input(e, "optimizer.batch = %d exceeds the %d training rows", B, sr.p->n);
        if (!rc && B > 0) {
            sr.bs = batch_stream_new(seed, sr.p->n, B);
            if (optim_dense(sr.opt)) {
                sr.Jf = dalloc((size_t)d * k);
            } else {
                sr.gAf = dalloc((size_t)d * r);
                sr.gBf = dalloc((size_t)r * k);
            }
        }
    }
    int reference = !rc && sr.p->convex_reference && s->optimizer.weight_decay > 0;
    if (reference) rc = convex_reference(s, seed, sr.p, cache_dir, res, e);
    if (!rc) {
        sr.mw = metrics_work_new(sr.m);
        res->setup_seconds = now_seconds() - t0;
        rc = train(&sr, res, e);
    }
    if (!rc && reference && res->status == RUN_OK && !optim_dense(sr.opt))
        rc = classify(&sr, res, e);
    if (!rc && s->log.save) rc = save_matrices(s, save_dir, tag, &sr, e);
    res->seconds = now_seconds() - t0;
    seed_run_free(&sr);
    if (isinf(res->min_align_a)) res->min_align_a = NAN;
    if (rc) {
        if (e->kind == LERR_INPUT) return rc;
        res->status = e->kind == LERR_INTERRUPTED ? RUN_INTERRUPTED : RUN_ERROR;
        snprintf(res->message, sizeof res->message, "%s", e->msg);
    }
    return 0;
}

