// run.c: the training loop and the results folder.
//
// For each seed:  teacher -> problem;  initialiser -> (A0, B0, shift);
// optimiser steps t = 0 .. T-1, each using only the model's loss/gradient;
// metrics at every logged step (step 0 = the initialisation, step t = after t
// updates; step 0 and the last step are always logged).
// A run stops as `diverged` at the first step whose loss is not finite or
// exceeds 1e12 times the initial loss; that step is not logged.
#include "run.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "csv.h"
#include "init.h"
#include "linalg.h"
#include "meta.h"
#include "metrics.h"
#include "npy.h"
#include "optim.h"
#include "problem.h"

#define DIVERGENCE_FACTOR 1e12

typedef struct {
    run_status status;
    int steps;               // updates made
    metrics last;            // metrics of the last logged step
    double min_align_a;
    double seconds;
    char message[sizeof(((lerr *)0)->msg)];
} seed_result;

// The final matrices of one seed, kept for log.save.
typedef struct {
    double *A, *B, *W;       // (d, r), (r, k), (d, k)
} finals;

static const char *const status_names[] = {"ok", "diverged", "error"};

// ---------------------------------------------------------------------------
// One seed

typedef struct {
    const spec *s;
    long seed;
    afile *trace;
    problem *p;
    model *m;
    optim *opt;
    metrics_work *mw;
    train_state st;
} seed_run;

static void trace_row(seed_run *sr, int t, const metrics *mt)
{
    double v[NMETRICS];
    metrics_values(mt, v);
    afile_printf(sr->trace, "%ld,%d", sr->seed, t);
    for (int i = 0; i < NMETRICS; i++) csv_num(sr->trace, v[i], 0);
    afile_printf(sr->trace, "\n");
}

// Loss (and gradients) at the current iterate.
static int evaluate(seed_run *sr, double *loss, lerr *e)
{
    train_state *st = &sr->st;
    if (optim_dense(sr->opt)) return model_eval_dense(sr->m, st->D, loss, st->J, e);
    return model_eval_factors(sr->m, st->A, st->B, loss, st->gA, st->gB, e);
}

static int measure(seed_run *sr, double loss, metrics *mt, lerr *e)
{
    train_state *st = &sr->st;
    if (optim_dense(sr->opt)) return metrics_dense(sr->mw, st->D, st->J, loss, mt, e);
    return metrics_factors(sr->mw, st->A, st->B, st->gA, st->gB, loss, mt, e);
}

static int train(seed_run *sr, seed_result *res, lerr *e)
{
    const spec *s = sr->s;
    int T = s->optimizer.steps, every = s->log.every;
    double loss0 = 0.0;
    res->min_align_a = INFINITY;
    for (int t = 0; t <= T; t++) {
        double loss;
        if (evaluate(sr, &loss, e)) return lerr_prefix(e, "step %d: ", t);
        if (t == 0) loss0 = loss;
        if (!isfinite(loss) || (loss0 > 0 && loss > DIVERGENCE_FACTOR * loss0)) {
            res->status = RUN_DIVERGED;
            res->steps = t;
            snprintf(res->message, sizeof res->message,
                     "diverged at step %d: loss %.3g (initial %.3g)", t, loss, loss0);
            return 0;
        }
        if (t % every == 0 || t == T) {
            metrics mt;
            if (measure(sr, loss, &mt, e)) return lerr_prefix(e, "step %d: ", t);
            trace_row(sr, t, &mt);
            res->last = mt;
            if (mt.align_a < res->min_align_a) res->min_align_a = mt.align_a;
        }
        res->steps = t;
        if (t == T) break;
        if (optim_step(sr->opt, &sr->st, t, e)) return -1;
    }
    return 0;
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

static int save_matrices(const spec *s, const char *dir, const seed_run *sr, lerr *e)
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
        char name[64];
        snprintf(name, sizeof name, "%s_seed%ld.npy", items[i].name, sr->seed);
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

static void seed_run_free(seed_run *sr)
{
    metrics_work_free(sr->mw);
    optim_free(sr->opt);
    model_free(sr->m);
    problem_free(sr->p);
    free(sr->st.A), free(sr->st.B), free(sr->st.gA), free(sr->st.gB);
    free(sr->st.D), free(sr->st.J);
}

// Build everything for one seed and train.  Errors that are the run's own
// (a singular system, a failed factorisation) end up in res as `error`.
static int run_seed(const spec *s, long seed, afile *trace, const char *dir, seed_result *res,
                    lerr *e)
{
    seed_run sr = {.s = s, .seed = seed, .trace = trace};
    double t0 = now_seconds();
    memset(res, 0, sizeof *res);
    res->last = (metrics){NAN, NAN, NAN, NAN, NAN, NAN, NAN};
    int rc = problem_new(s, seed, &sr.p, e);
    if (!rc) {
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
    }
    if (!rc) {
        sr.mw = metrics_work_new(sr.m);
        rc = train(&sr, res, e);
    }
    if (!rc && s->log.save) rc = save_matrices(s, dir, &sr, e);
    res->seconds = now_seconds() - t0;
    seed_run_free(&sr);
    if (rc) {
        if (e->kind == LERR_INPUT) return rc;
        res->status = RUN_ERROR;
        snprintf(res->message, sizeof res->message, "%s", e->msg);
    }
    return 0;
}

// ---------------------------------------------------------------------------
// The results folder

static void summary_row(afile *f, long seed, const seed_result *r)
{
    double v[NMETRICS];
    metrics_values(&r->last, v);
    afile_printf(f, "%ld,%s,%d", seed, status_names[r->status], r->steps);
    for (int i = 0; i < NMETRICS; i++) csv_num(f, v[i], 0);
    csv_num(f, isinf(r->min_align_a) ? NAN : r->min_align_a, 0);
    afile_printf(f, ",%.3f", r->seconds);
    csv_text(f, r->message, 0);
    afile_printf(f, "\n");
}

static void write_headers(afile *trace, afile *summary)
{
    const char *tcols[2 + NMETRICS] = {"seed", "step"};
    for (int i = 0; i < NMETRICS; i++) tcols[2 + i] = metric_names[i];
    csv_header(trace, tcols, 2 + NMETRICS);
    const char *scols[3 + NMETRICS + 3] = {"seed", "status", "steps"};
    for (int i = 0; i < NMETRICS; i++) scols[3 + i] = metric_names[i];
    scols[3 + NMETRICS] = "min_align_a";
    scols[4 + NMETRICS] = "seconds";
    scols[5 + NMETRICS] = "message";
    csv_header(summary, scols, 6 + NMETRICS);
}

static int write_config(const spec *s, const char *dir, lerr *e)
{
    char *path = path_join(dir, "config.yaml");
    afile f;
    int rc = afile_open(&f, path, e);
    free(path);
    if (rc) return rc;
    if (config_write(s, f.f) != 0) f.failed = 1;
    return afile_commit(&f, e);
}

static char *output_dir(const spec *s, const run_opts *o)
{
    if (o->out_dir) return xstrdup(o->out_dir);
    char *base = path_join("results", s->name);
    return base;
}

int run_experiment(const spec *s, const run_opts *o, lerr *e)
{
    // every input check happens before anything is written
    if (init_check(s, e)) return -1;
    optim *probe = optim_new(s, 1, 1, 1, e);
    if (!probe) return -1;
    optim_free(probe);
    char *dir = output_dir(s, o);
    if (dir_nonempty(dir) && !o->force) {
        lerr_input(e, "output folder %s is not empty (use --force to overwrite it, or -o to "
                   "choose another)", dir);
        free(dir);
        return -1;
    }
    run_meta meta = {.command = o->command, .t0 = now_seconds(), .seeds = s->nseeds};
    utc_iso8601(meta.started, sizeof meta.started);
    if (make_dirs(dir, e)) {
        free(dir);
        return -1;
    }
    afile trace, summary;
    char *tp = path_join(dir, "trace.csv"), *sp = path_join(dir, "summary.csv");
    int rc = afile_open(&trace, tp, e);
    if (!rc && (rc = afile_open(&summary, sp, e))) afile_abort(&trace);
    free(tp), free(sp);
    if (rc) {
        free(dir);
        return -1;
    }
    write_headers(&trace, &summary);
    int failed = 0;
    lerr first_failure = {0};
    for (int i = 0; i < s->nseeds; i++) {
        seed_result res;
        long seed = s->seeds[i];
        if (run_seed(s, seed, &trace, dir, &res, e)) {
            afile_abort(&trace), afile_abort(&summary);
            free(dir);
            return -1;
        }
        summary_row(&summary, seed, &res);
        if (res.status == RUN_ERROR && !failed++) lerr_run(&first_failure, "seed %ld: %s", seed, res.message);
        if (!o->quiet)
            fprintf(stderr, "loralab: %s seed %ld: %s after %d steps, loss %.3g, risk %.3g (%.2f s)%s%s\n",
                    s->name, seed, status_names[res.status], res.steps, res.last.loss,
                    res.last.risk, res.seconds, res.message[0] ? ": " : "", res.message);
    }
    rc = afile_commit(&trace, e);
    if (rc) afile_abort(&summary);
    if (!rc) rc = afile_commit(&summary, e);
    if (!rc) rc = write_config(s, dir, e);
    if (!rc) rc = meta_write(dir, &meta, e);
    if (!rc && !o->quiet) fprintf(stderr, "loralab: wrote %s/\n", dir);
    free(dir);
    if (rc) return rc;
    if (failed) {
        *e = first_failure;
        return -1;
    }
    return 0;
}
