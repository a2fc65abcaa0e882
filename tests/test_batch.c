// test_batch.c: minibatches (batch.h, problem.h: set_batch).
//
// The stream: within every epoch the batches are disjoint, hold every row
// exactly once, have B rows except a final partial one of N - (E - 1) B, are
// sorted; epochs draw different permutations; any step can be asked for in
// any order with the same answer; the rows depend on (seed, N, B) only.
//
// The evaluations, for linear (qr), nonlinear and ntk (squared and
// cross-entropy) models at a generic point with a shifted base, checked
// against things computed without set_batch:
//   - the batches of one epoch partition the rows, so with L = (1/N) sum_i l_i
//     and L_b = (1/nb) sum_{i in b} l_i,  sum_b (nb / N) L_b = L  and the same
//     for dL/dA, dL/dB and J (the full loss and gradients from the full path);
//   - a batch's factored gradients against central finite differences of its
//     loss;
//   - linear: the batch loss is the direct 1/(2 nb) ||X_I W - Y_I||^2;
//   - set_batch(NULL) returns to the full loss exactly;
//   - linear with gram statistics refuses a batch (it never holds X).
#include <string.h>

#include "batch.h"
#include "check.h"
#include "linalg.h"
#include "problem.h"
#include "random.h"
#include "teacher_linear.h"

static void check_stream(long seed, int n, int b)
{
    batch_stream *bs = batch_stream_new(seed, n, b);
    int E = batch_steps_per_epoch(bs);
    CHECK(E == (n + b - 1) / b, "steps per epoch %d for N = %d, B = %d", E, n, b);
    int *count = xcalloc((size_t)n, sizeof *count), *first = xcalloc((size_t)b, sizeof *first);
    int differs = 0;
    for (int ep = 0; ep < 4; ep++) {
        memset(count, 0, sizeof *count * (size_t)n);
        for (int j = 0; j < E; j++) {
            const int *rows;
            int nb = batch_rows(bs, (long)ep * E + j, &rows);
            int want = j < E - 1 ? b : n - (E - 1) * b;
            CHECK(nb == want, "N = %d, B = %d, epoch %d, batch %d: %d rows, wanted %d", n, b,
                  ep, j, nb, want);
            for (int i = 0; i < nb; i++) {
                CHECK(rows[i] >= 0 && rows[i] < n, "row %d out of range", rows[i]);
                if (rows[i] >= 0 && rows[i] < n) count[rows[i]]++;
                if (i) CHECK(rows[i - 1] < rows[i], "batch rows not increasing");
            }
            if (j == 0 && ep == 0) memcpy(first, rows, sizeof(int) * (size_t)nb);
            if (j == 0 && ep > 0) differs |= memcmp(first, rows, sizeof(int) * (size_t)nb) != 0;
        }
        int once = 1;
        for (int i = 0; i < n; i++) once &= count[i] == 1;
        CHECK(once, "N = %d, B = %d, epoch %d does not visit every row exactly once", n, b, ep);
    }
    if (b < n && n > 8) CHECK(differs, "N = %d, B = %d: every epoch starts with the same batch", n, b);
    // random access, and a second stream with the same (seed, N, B): same rows
    batch_stream *again = batch_stream_new(seed, n, b);
    for (long t = 4L * E - 1; t >= 0; t -= 3) {
        const int *r1, *r2;
        int n1 = batch_rows(bs, t, &r1);
        int *copy = xcalloc((size_t)n1, sizeof *copy);
        memcpy(copy, r1, sizeof(int) * (size_t)n1);
        int n2 = batch_rows(again, t, &r2);
        CHECK(n1 == n2 && !memcmp(copy, r2, sizeof(int) * (size_t)n1),
              "step %ld: rows differ between two streams of the same seed, asked in other orders", t);
        free(copy);
    }
    // another seed: another order
    batch_stream *other = batch_stream_new(seed + 1, n, b);
    const int *r1, *r2;
    int n1 = batch_rows(bs, 0, &r1);
    int *copy = xcalloc((size_t)n1, sizeof *copy);
    memcpy(copy, r1, sizeof(int) * (size_t)n1);
    batch_rows(other, 0, &r2);
    if (b < n && n > 8) CHECK(memcmp(copy, r2, sizeof(int) * (size_t)n1), "seeds %ld and %ld draw "
                              "the same first batch", seed, seed + 1);
    free(copy), free(count), free(first);
    batch_stream_free(bs), batch_stream_free(again), batch_stream_free(other);
}

typedef struct {
    model *m;
    double *A, *B;
} point;

static double loss_at(point *x)
{
    double L;
    lerr e;
    model_eval_factors(x->m, x->A, x->B, &L, NULL, NULL, &e);
    return L;
}

static double fd(point *x, double *v, double h)
{
    double v0 = *v;
    *v = v0 + h;
    double fp = loss_at(x);
    *v = v0 - h;
    double fm = loss_at(x);
    *v = v0;
    return (fp - fm) / (2 * h);
}

static void check_model(const char *yaml, int b)
{
    spec s = spec_from_yaml(yaml);
    problem *p;
    lerr e = {0};
    if (problem_new(&s, 5, NULL, &p, &e)) {
        fprintf(stderr, "setup: %s\n", e.msg);
        exit(1);
    }
    int d = p->d, k = p->k, n = p->n, r = s.lora.rank;
    size_t dr = (size_t)d * r, rk = (size_t)r * k, dk = (size_t)d * k;
    gsl_rng *rng = stream_new(3, "test-batch");
    double *A = dalloc(dr), *B = dalloc(rk);
    gaussian_fill(rng, A, d, r, 0.4);
    gaussian_fill(rng, B, r, k, 0.4);
    model *m = model_new(p, r, A, B, r, &e);   // a shifted base
    gaussian_fill(rng, A, d, r, 0.4);
    gaussian_fill(rng, B, r, k, 0.4);
    double *D = dalloc(dk);
    mm('N', 'N', d, k, r, 1.0, A, B, 0.0, D);

    double Lf, Ldf, *gA = dalloc(dr), *gB = dalloc(rk), *J = dalloc(dk);
    model_eval_factors(m, A, B, &Lf, gA, gB, &e);
    model_eval_dense(m, D, &Ldf, J, &e);

    // one epoch's batches, weighted by nb / N, add up to the full loss
    batch_stream *bs = batch_stream_new(11, n, b);
    double L = 0, Ld = 0, *sA = dalloc(dr), *sB = dalloc(rk), *sJ = dalloc(dk);
    double *bA = dalloc(dr), *bB = dalloc(rk), *bJ = dalloc(dk), worst_fd = 0, worst_direct = 0;
    for (int j = 0; j < batch_steps_per_epoch(bs); j++) {
        const int *rows;
        int nb = batch_rows(bs, j, &rows);
        double Lb, Ldb, wgt = (double)nb / n;
        CHECK(model_set_batch(m, rows, nb, &e) == 0, "set_batch: %s", e.msg);
        model_eval_factors(m, A, B, &Lb, bA, bB, &e);
        model_eval_dense(m, D, &Ldb, bJ, &e);
        CHECK(close_rel(Lb, Ldb, 1e-12, 0), "batch %d: factored loss %.17g, dense %.17g", j, Lb, Ldb);
        L += wgt * Lb, Ld += wgt * Ldb;
        for (size_t i = 0; i < dr; i++) sA[i] += wgt * bA[i];
        for (size_t i = 0; i < rk; i++) sB[i] += wgt * bB[i];
        for (size_t i = 0; i < dk; i++) sJ[i] += wgt * bJ[i];
        if (j == 0) {   // finite differences of this batch's loss
            point x = {m, A, B};
            for (size_t i = 0; i < dr; i += 3) {
                double g = fd(&x, &A[i], 1e-5);
                worst_fd = fmax(worst_fd, fabs(g - bA[i]) / fmax(1.0, fabs(g)));
            }
            for (size_t i = 0; i < rk; i += 3) {
                double g = fd(&x, &B[i], 1e-5);
                worst_fd = fmax(worst_fd, fabs(g - bB[i]) / fmax(1.0, fabs(g)));
            }
        }
        if (!strcmp(p->teacher, "linear")) {   // 1/(2 nb) ||X_I W - Y_I||^2, W = base + A B
            const double *X = linear_X(p), *Y = linear_Y(p);
            double *W = dalloc(dk), acc = 0;
            memcpy(W, p->W0, sizeof(double) * dk);
            mm('N', 'N', d, k, m->roff, -1.0, m->Aoff, m->Boff, 1.0, W);
            for (size_t i = 0; i < dk; i++) W[i] += D[i];
            for (int t = 0; t < nb; t++)
                for (int c = 0; c < k; c++) {
                    double z = -Y[(size_t)rows[t] * k + c];
                    for (int a = 0; a < d; a++) z += X[(size_t)rows[t] * d + a] * W[(size_t)a * k + c];
                    acc += z * z;
                }
            worst_direct = fmax(worst_direct, fabs(acc / (2.0 * nb) - Lb) / (acc / (2.0 * nb)));
            free(W);
        }
    }
    CHECK(worst_fd < 1e-7, "batch gradients vs finite differences: worst rel err %.3g (%s)",
          worst_fd, yaml);
    CHECK(worst_direct < 1e-12, "linear batch loss vs direct: rel err %.3g", worst_direct);
    CHECK(close_rel(L, Lf, 1e-12, 0), "sum of weighted batch losses %.17g, full %.17g (%s)", L,
          Lf, yaml);
    CHECK(close_rel(Ld, Ldf, 1e-12, 0), "dense: sum of weighted batch losses %.17g, full %.17g",
          Ld, Ldf);
    CHECK(fro_diff(sA, gA, d, r) <= 1e-12 * fro(gA, d, r), "weighted batch dL/dA != full (%s)", yaml);
    CHECK(fro_diff(sB, gB, r, k) <= 1e-12 * fro(gB, r, k), "weighted batch dL/dB != full (%s)", yaml);
    CHECK(fro_diff(sJ, J, d, k) <= 1e-12 * fro(J, d, k), "weighted batch J != full (%s)", yaml);

    // back to the full data
    double L2;
    model_set_batch(m, NULL, 0, &e);
    model_eval_factors(m, A, B, &L2, NULL, NULL, &e);
    CHECK(L2 == Lf, "after set_batch(NULL) the loss is %.17g, not the full %.17g", L2, Lf);

    free(A), free(B), free(D), free(gA), free(gB), free(J), free(sA), free(sB), free(sJ);
    free(bA), free(bB), free(bJ);
    batch_stream_free(bs);
    gsl_rng_free(rng);
    model_free(m);
    problem_free(p);
    spec_free(&s);
}

static void check_gram_refuses(void)
{
    spec s = spec_from_yaml("teacher: {d: 6, k: 5, n: 40, rank: 2, stats: gram}\nlora: {rank: 2}\n");
    problem *p;
    lerr e = {0};
    if (problem_new(&s, 1, NULL, &p, &e)) {
        fprintf(stderr, "setup: %s\n", e.msg);
        exit(1);
    }
    model *m = model_new(p, 2, NULL, NULL, 0, &e);
    int rows[3] = {0, 1, 2};
    CHECK(model_set_batch(m, rows, 3, &e) != 0 && strstr(e.msg, "gram"),
          "gram statistics accepted a batch (%s)", e.msg);
    model_free(m);
    problem_free(p);
    spec_free(&s);
}

int main(void)
{
    check_stream(0, 10, 3);
    check_stream(1, 10, 10);
    check_stream(2, 7, 1);
    check_stream(3, 300, 64);
    check_stream(4, 256, 16);
    check_model("teacher: {d: 12, k: 9, n: 40, rank: 2, noise: 0.3, stats: qr}\nlora: {rank: 3}\n", 7);
    check_model("teacher: {d: 12, k: 9, n: 8, rank: 2, noise: 0.3, stats: qr}\nlora: {rank: 3}\n", 3);
    check_model("teacher: {model: nonlinear, activation: tanh, d: 12, k: 9, n: 150, rank: 2, "
                "noise: 0.1}\nlora: {rank: 3}\n", 16);
    check_model("teacher: {model: nonlinear, activation: gelu, d: 10, k: 7, n: 2100, rank: 2}\n"
                "lora: {rank: 3}\n", 1500);   // a batch of more than one chunk (1024 rows)
    check_model("teacher: {model: ntk, d: 5, k: 4, n: 30, outputs: 2, rank: 2, noise: 0.1}\n"
                "lora: {rank: 2}\n", 4);
    check_model("teacher: {model: ntk, d: 5, k: 4, n: 30, outputs: 3, loss: cross_entropy, "
                "rank: 2}\nlora: {rank: 2}\n", 8);
    check_gram_refuses();
    return check_summary("test_batch");
}
