// test_training.c: properties of whole training runs on small problems.
//
// 1. theory/THEORY.md claim L1-T3.1: under the lora init (B0 = 0) and GD, the rows of
//    B_t lie in row(G) for every t >= 1, so align_b is at machine precision.
//    Control: with the gaussian init (B0 != 0) it is not.
// 2. The fast loss (QR statistics) equals the direct 1/(2N)||XW - Y||^2 to
//    1e-8 relative at every step while the loss is above 1e-10 of its start,
//    in a run that converges to machine precision, and is never negative.
//    Control: the textbook expansion 1/2<W, S W> - <W, X^T Y/N> + ||Y||^2/2N
//    is far off at the end of the same run (so this check can tell them apart).
// 3. precgd with damping 0 from B0 = 0 is an error naming the step.
#include <string.h>

#include "check.h"
#include "init.h"
#include "linalg.h"
#include "metrics.h"
#include "optim.h"
#include "problem.h"
#include "teacher_linear.h"

typedef struct {
    spec s;
    problem *p;
    model *m;
    optim *o;
    metrics_work *w;
    train_state st;
} trainer;

static void trainer_new(trainer *t, const char *yaml)
{
    lerr e = {0};
    t->s = spec_from_yaml(yaml);
    if (problem_new(&t->s, 0, NULL, &t->p, &e)) exit(1);
    int d = t->p->d, k = t->p->k, r = t->s.lora.rank, shift = 0;
    t->st = (train_state){.d = d, .k = k, .r = r};
    t->st.A = dalloc((size_t)d * r);
    t->st.B = dalloc((size_t)r * k);
    t->st.gA = dalloc((size_t)d * r);
    t->st.gB = dalloc((size_t)r * k);
    init_factors(&t->s, t->p, 0, t->st.A, t->st.B, &shift, &e);
    t->m = model_new(t->p, r, NULL, NULL, 0, &e);
    t->o = optim_new(&t->s, d, k, r, &e);
    t->w = metrics_work_new(t->m);
}

static void trainer_free(trainer *t)
{
    metrics_work_free(t->w);
    optim_free(t->o);
    model_free(t->m);
    problem_free(t->p);
    free(t->st.A), free(t->st.B), free(t->st.gA), free(t->st.gB);
    spec_free(&t->s);
}

static void claim_t31(const char *init, int expect_aligned)
{
    char yaml[256];
    snprintf(yaml, sizeof yaml,
             "teacher: {d: 30, k: 20, n: 300, rank: 2}\nlora: {rank: 4}\n"
             "init: {method: %s, alpha2: 1.0e-3}\noptimizer: {method: gd, lr: 0.05}\n", init);
    trainer t;
    trainer_new(&t, yaml);
    lerr e;
    double worst = 0, first = NAN;
    for (int step = 0; step <= 200; step++) {
        double loss;
        model_eval_factors(t.m, t.st.A, t.st.B, &loss, t.st.gA, t.st.gB, &e);
        if (step >= 1) {
            metrics mt;
            metrics_factors(t.w, t.st.A, t.st.B, t.st.gA, t.st.gB, loss, &mt, &e);
            if (step == 1) first = mt.align_b;
            if (!(mt.align_b <= worst)) worst = mt.align_b;
        }
        optim_step(t.o, &t.st, step, &e);
    }
    if (expect_aligned)
        CHECK(worst <= 1e-10, "L1-T3.1: max_{t>=1} align_b = %.3g > 1e-10", worst);
    else
        CHECK(first > 1e-3, "control (%s init): align_b at t=1 is %.3g, expected O(1)", init, first);
    trainer_free(&t);
}

// 1/2 <W, S W> - <W, X^T Y / N> + ||Y||^2 / (2N): the expansion that cancels.
static double naive_loss(const problem *p, const double *W)
{
    int n = p->n, d = p->d, k = p->k;
    double *XW = dalloc((size_t)n * k), *XtY = dalloc((size_t)d * k);
    mm('N', 'N', n, k, d, 1.0, linear_X(p), W, 0.0, XW);
    mm('T', 'N', d, k, n, 1.0 / n, linear_X(p), linear_Y(p), 0.0, XtY);
    double q = fro_dot(XW, XW, n, k) / (2.0 * n), l = fro_dot(W, XtY, d, k);
    double y = fro_dot(linear_Y(p), linear_Y(p), n, k) / (2.0 * n);
    free(XW), free(XtY);
    return q - l + y;
}

static void loss_accuracy(void)
{
    trainer t;
    trainer_new(&t, "teacher: {d: 20, k: 15, n: 400, rank: 3, kappa: 2}\nlora: {rank: 3}\n"
                    "init: {method: spectral}\n"
                    "optimizer: {method: precgd, lr: 0.5, damping: 0}\n");
    int d = t.p->d, k = t.p->k, r = 3;
    lerr e;
    double *W = dalloc((size_t)d * k);
    double loss0 = 0, worst = 0, last = 0, naive = 0, direct = 0;
    int negative = 0, checked = 0;
    for (int step = 0; step <= 120; step++) {
        double loss;
        model_eval_factors(t.m, t.st.A, t.st.B, &loss, t.st.gA, t.st.gB, &e);
        memcpy(W, t.p->W0, sizeof(double) * (size_t)d * k);
        mm('N', 'N', d, k, r, 1.0, t.st.A, t.st.B, 1.0, W);
        direct = linear_direct_loss(t.p, W);
        if (step == 0) loss0 = loss;
        if (loss < 0) negative++;
        if (loss > 1e-10 * loss0) {
            double rel = fabs(loss - direct) / direct;
            if (rel > worst) worst = rel;
            checked++;
        }
        last = loss;
        if (step == 120) naive = naive_loss(t.p, W);
        optim_step(t.o, &t.st, step, &e);
    }
    CHECK(worst <= 1e-8, "fast vs direct loss: worst relative difference %.3g", worst);
    CHECK(negative == 0, "%d negative losses", negative);
    CHECK(last < 1e-24 * loss0, "run did not converge to machine precision: %.3g of the start",
          last / loss0);
    CHECK(checked > 10, "only %d steps compared", checked);
    CHECK(fabs(naive - direct) > 1e6 * fabs(direct),
          "control: the naive expansion (%.3g) should be far from the direct loss (%.3g)", naive,
          direct);
    free(W);
    trainer_free(&t);
}

static void precgd_singular(void)
{
    trainer t;
    trainer_new(&t, "teacher: {d: 10, k: 8, n: 50, rank: 2}\nlora: {rank: 2}\n"
                    "init: {method: lora}\noptimizer: {method: precgd, damping: 0}\n");
    lerr e = {0};
    double loss;
    model_eval_factors(t.m, t.st.A, t.st.B, &loss, t.st.gA, t.st.gB, &e);
    int rc = optim_step(t.o, &t.st, 0, &e);
    CHECK(rc != 0, "precgd with damping 0 and B = 0 should fail");
    CHECK(strstr(e.msg, "singular at step 0") != NULL, "message should name the step: %s", e.msg);
    trainer_free(&t);
}

int main(void)
{
    claim_t31("lora", 1);
    claim_t31("gaussian", 0);
    loss_accuracy();
    precgd_singular();
    return check_summary("test_training");
}
