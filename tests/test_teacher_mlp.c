// test_teacher_mlp.c: the mlp teacher (teacher_mlp.c) through problem_ops, on a
// tiny .npy data set written here byte by byte:
//  - the loss of eval_factors and eval_dense, the batch loss after set_batch,
//    model_test_loss and model_test_acc equal a direct computation written
//    here (the preprocessing by hand: centring by the mean of the source
//    classes' training rows, target class target_classes[j] -> output j, the
//    network's forward pass with loops), for both losses;
//  - dL/dA, dL/dB (eval_factors) and J = -dL/dD (eval_dense), full data and a
//    minibatch, against central finite differences of the loss;
//  - G = J(W0) = eval_dense's J at D = 0, and W0 = the pretrained W1;
//  - risk and err_op are nan (no ground truth), test_acc is a metric;
//  - the pretrained network comes back bit for bit from the cache, and a
//    cache file cut short is recomputed (the same bits) and rewritten.
#include <dirent.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "byte_files.h"
#include "check.h"
#include "metrics.h"
#include "mlp_source.h"
#include "problem.h"
#include "random.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

enum { NTR = 40, NTE = 24, DIN = 6, NCLS = 4 };

// A version-1.0 .npy header for `descr` and `shape` (a tuple's text).
static void npy_header(bytes *b, const char *descr, const char *shape)
{
    char hdr[256];
    int n = snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                     descr, shape);
    int pad = 64 - (10 + n + 1) % 64;
    memset(hdr + n, ' ', (size_t)pad);
    hdr[n + pad] = '\n';
    uint16_t len = (uint16_t)(n + pad + 1);
    put(b, "\x93NUMPY\x01\x00", 8);
    put(b, &len, 2);
    put(b, hdr, len);
}

static void write_bytes(const char *name, const bytes *b)
{
    char path[256];
    tpath(path, sizeof path, name);
    FILE *f = fopen(path, "wb");
    fwrite(b->b, 1, b->n, f);
    fclose(f);
}

// x: (n, DIN) '<f8', labels: (n,) '<i8'.
static void write_split(const char *xname, const char *yname, const double *X, const int *y,
                        int n)
{
    bytes b = {0};
    char shape[64];
    snprintf(shape, sizeof shape, "(%d, %d)", n, DIN);
    npy_header(&b, "<f8", shape);
    put(&b, X, sizeof(double) * (size_t)n * DIN);
    write_bytes(xname, &b);
    b.n = 0;
    snprintf(shape, sizeof shape, "(%d,)", n);
    npy_header(&b, "<i8", shape);
    for (int i = 0; i < n; i++) {
        int64_t v = y[i];
        put(&b, &v, 8);
    }
    write_bytes(yname, &b);
    free(b.b);
}

// Inputs N(0, 1) shifted by their class, labels cycling through 0 .. NCLS-1.
static double Xtr[NTR * DIN], Xte[NTE * DIN];
static int ytr[NTR], yte[NTE];

static void make_data(void)
{
    gsl_rng *rng = stream_new(3, "test-mlp-data");
    for (int i = 0; i < NTR; i++) ytr[i] = (i * 7 + i / 5) % NCLS;
    for (int i = 0; i < NTE; i++) yte[i] = (i * 3 + 1) % NCLS;
    for (int i = 0; i < NTR * DIN; i++) Xtr[i] = gsl_ran_gaussian(rng, 1.0) + 0.5 * ytr[i / DIN];
    for (int i = 0; i < NTE * DIN; i++) Xte[i] = gsl_ran_gaussian(rng, 1.0) + 0.5 * yte[i / DIN];
    gsl_rng_free(rng);
    write_split("x_train.npy", "y_train.npy", Xtr, ytr, NTR);
    write_split("x_test.npy", "y_test.npy", Xte, yte, NTE);
}

// The source classes {1, 3}, the target classes {2, 0}: class 2 -> output 0,
// class 0 -> output 1.
static const int SRC[2] = {1, 3}, TGT[2] = {2, 0};

// The direct computation: rows of X: (n, DIN) with labels in TGT, centred by
// mu, through W: (DIN, h) and V: (h, 2); mean loss (ce: cross-entropy) and
// accuracy.
static void direct(const double *X, const int *y, int n, const double *mu, const double *W,
                   const double *V, int h, int ce, double *loss, double *acc)
{
    double L = 0.0;
    int right = 0;
    for (int i = 0; i < n; i++) {
        int unit = -1;
        for (int j = 0; j < 2; j++)
            if (y[i] == TGT[j]) unit = j;
        if (unit < 0) continue;   // (never: callers pass target rows only)
        double f[2] = {0, 0};
        for (int u = 0; u < h; u++) {
            double z = 0.0;
            for (int a = 0; a < DIN; a++) z += (X[i * DIN + a] - mu[a]) * W[a * h + u];
            if (z > 0)
                for (int c = 0; c < 2; c++) f[c] += z * V[u * 2 + c];
        }
        if (ce) {
            double mx = fmax(f[0], f[1]);
            L += mx + log(exp(f[0] - mx) + exp(f[1] - mx)) - f[unit];
        } else {
            for (int c = 0; c < 2; c++) L += 0.5 * pow(f[c] - (c == unit), 2);
        }
        int best = f[1] > f[0] ? 1 : 0;
        right += best == unit;
    }
    *loss = L / n;
    *acc = (double)right / n;
}

// Rows of (X, y) whose label is in TGT, in order: Xo: (no, DIN).
static int target_rows(const double *X, const int *y, int n, double *Xo, int *yo)
{
    int no = 0;
    for (int i = 0; i < n; i++)
        if (y[i] == TGT[0] || y[i] == TGT[1]) {
            memcpy(Xo + (size_t)no * DIN, X + (size_t)i * DIN, sizeof(double) * DIN);
            yo[no++] = y[i];
        }
    return no;
}

static double loss_at_factors(model *m, const double *A, const double *B)
{
    double L;
    lerr e = {0};
    model_eval_factors(m, A, B, &L, NULL, NULL, &e);
    return L;
}

static double loss_at_dense(model *m, const double *D)
{
    double L;
    lerr e = {0};
    model_eval_dense(m, D, &L, NULL, &e);
    return L;
}

// Central differences along random directions: <grad, P> against
// (L(x + t P) - L(x - t P)) / 2t for the factors (A, B) and for D.
static void check_fd(model *m, const double *A, const double *B, const double *D, int d, int h,
                     int r, const char *what)
{
    lerr e = {0};
    size_t na = (size_t)d * r, nb = (size_t)r * h, nd = (size_t)d * h;
    double *gA = dalloc(na), *gB = dalloc(nb), *J = dalloc(nd), L;
    CHECK(model_eval_factors(m, A, B, &L, gA, gB, &e) == 0, "eval_factors: %s", e.msg);
    CHECK(model_eval_dense(m, D, &L, J, &e) == 0, "eval_dense: %s", e.msg);
    double *Ap = dalloc(na), *Bp = dalloc(nb), *Dp = dalloc(nd);
    double *PA = dalloc(na), *PB = dalloc(nb), *PD = dalloc(nd);
    gsl_rng *rng = stream_new(11, what);
    const double t = 1e-6;
    for (int trial = 0; trial < 4; trial++) {
        double ga = 0, gb = 0, gd = 0;
        for (size_t i = 0; i < na; i++) ga += gA[i] * (PA[i] = gsl_ran_gaussian(rng, 1.0));
        for (size_t i = 0; i < nb; i++) gb += gB[i] * (PB[i] = gsl_ran_gaussian(rng, 1.0));
        for (size_t i = 0; i < nd; i++) gd += -J[i] * (PD[i] = gsl_ran_gaussian(rng, 1.0));
        for (size_t i = 0; i < na; i++) Ap[i] = A[i] + t * PA[i];
        double fa = loss_at_factors(m, Ap, B);
        for (size_t i = 0; i < na; i++) Ap[i] = A[i] - t * PA[i];
        fa = (fa - loss_at_factors(m, Ap, B)) / (2 * t);
        for (size_t i = 0; i < nb; i++) Bp[i] = B[i] + t * PB[i];
        double fb = loss_at_factors(m, A, Bp);
        for (size_t i = 0; i < nb; i++) Bp[i] = B[i] - t * PB[i];
        fb = (fb - loss_at_factors(m, A, Bp)) / (2 * t);
        for (size_t i = 0; i < nd; i++) Dp[i] = D[i] + t * PD[i];
        double fdd = loss_at_dense(m, Dp);
        for (size_t i = 0; i < nd; i++) Dp[i] = D[i] - t * PD[i];
        fdd = (fdd - loss_at_dense(m, Dp)) / (2 * t);
        CHECK(close_rel(ga, fa, 1e-5, 1e-6), "%s: <dL/dA, P> = %.10g, finite difference %.10g",
              what, ga, fa);
        CHECK(close_rel(gb, fb, 1e-5, 1e-6), "%s: <dL/dB, P> = %.10g, finite difference %.10g",
              what, gb, fb);
        CHECK(close_rel(gd, fdd, 1e-5, 1e-6), "%s: <-J, P> = %.10g, finite difference %.10g",
              what, gd, fdd);
    }
    gsl_rng_free(rng);
    free(gA), free(gB), free(J), free(Ap), free(Bp), free(Dp), free(PA), free(PB), free(PD);
}

static spec make_spec(const char *loss, const char *extra)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "teacher:\n  model: mlp\n  data: %s\n  hidden: 5\n  loss: %s\n"
             "  source_classes: [1, 3]\n  target_classes: [2, 0]\n  n: %%d\n  n_test: %%d\n"
             "pretrain:\n  epochs: 3\n  batch: 8\n  lr: 0.01\n  seed: 4\n"
             "lora:\n  rank: 2\n%s",
             tmpdir, loss, extra);
    char full[2048];
    double X[NTR * DIN];
    int y[NTR];
    int ntr = target_rows(Xtr, ytr, NTR, X, y), nte = target_rows(Xte, yte, NTE, X, y);
    snprintf(full, sizeof full, yaml, ntr, nte);
    return spec_from_yaml(full);
}

static void check_loss(const char *loss)
{
    int ce = !strcmp(loss, "cross_entropy");
    spec s = make_spec(loss, "");
    problem *p;
    lerr e = {0};
    if (problem_new(&s, 5, NULL, &p, &e)) {
        fprintf(stderr, "problem_new: %s\n", e.msg);
        exit(1);
    }
    const mlp_source *ms = p->impl;
    int d = p->d, h = p->k, r = 2;
    CHECK(d == DIN && h == 5 && ms->K == 2, "%s: d = %d, k = %d, K = %d", loss, d, h, ms->K);
    CHECK(!memcmp(p->W0, ms->net->W1, sizeof(double) * (size_t)d * h), "%s: W0 = W1", loss);
    // the pretraining rows' mean: every source-class training row
    double mu[DIN] = {0};
    int nsrc = 0;
    for (int i = 0; i < NTR; i++)
        if (ytr[i] == SRC[0] || ytr[i] == SRC[1]) {
            for (int a = 0; a < DIN; a++) mu[a] += Xtr[i * DIN + a];
            nsrc++;
        }
    for (int a = 0; a < DIN; a++) mu[a] /= nsrc;
    double Xt[NTR * DIN], Xs[NTE * DIN];
    int yt[NTR], ys[NTE];
    int ntr = target_rows(Xtr, ytr, NTR, Xt, yt), nte = target_rows(Xte, yte, NTE, Xs, ys);
    CHECK(p->n == ntr && p->n_test == nte, "%s: n = %d (want %d), n_test = %d (want %d)", loss,
          p->n, ntr, p->n_test, nte);

    model *m = model_new(p, r, NULL, NULL, 0, &e);
    model *mf = model_new(p, 0, NULL, NULL, 0, &e);
    gsl_rng *rng = stream_new(9, "test-mlp-ab");
    double A[DIN * 2], B[2 * 5], D[DIN * 5], W[DIN * 5];
    for (int i = 0; i < d * r; i++) A[i] = gsl_ran_gaussian(rng, 0.3);
    for (int i = 0; i < r * h; i++) B[i] = gsl_ran_gaussian(rng, 0.3);
    for (int i = 0; i < d * h; i++) D[i] = gsl_ran_gaussian(rng, 0.2);
    gsl_rng_free(rng);

    // W = W0 + A B: the loss, test loss and accuracy against the direct computation
    for (int a = 0; a < d; a++)
        for (int u = 0; u < h; u++) {
            double v = p->W0[a * h + u];
            for (int q = 0; q < r; q++) v += A[a * r + q] * B[q * h + u];
            W[a * h + u] = v;
        }
    double Ld, accd, Lt, acct, L;
    direct(Xt, yt, ntr, mu, W, ms->net->V, h, ce, &Ld, &accd);
    direct(Xs, ys, nte, mu, W, ms->net->V, h, ce, &Lt, &acct);
    CHECK(model_eval_factors(m, A, B, &L, NULL, NULL, &e) == 0, "eval_factors");
    CHECK(close_rel(L, Ld, 1e-12, 1e-12), "%s: factored loss %.15g, direct %.15g", loss, L, Ld);
    CHECK(close_rel(model_test_loss(m, A, B), Lt, 1e-12, 1e-12), "%s: test loss %.15g, direct %.15g",
          loss, model_test_loss(m, A, B), Lt);
    CHECK(model_test_acc(m, A, B) == acct, "%s: test accuracy %g, direct %g", loss,
          model_test_acc(m, A, B), acct);
    // W = W0 + D
    for (int i = 0; i < d * h; i++) W[i] = p->W0[i] + D[i];
    direct(Xt, yt, ntr, mu, W, ms->net->V, h, ce, &Ld, &accd);
    direct(Xs, ys, nte, mu, W, ms->net->V, h, ce, &Lt, &acct);
    CHECK(model_eval_dense(mf, D, &L, NULL, &e) == 0, "eval_dense");
    CHECK(close_rel(L, Ld, 1e-12, 1e-12), "%s: dense loss %.15g, direct %.15g", loss, L, Ld);
    CHECK(close_rel(model_test_loss(mf, NULL, D), Lt, 1e-12, 1e-12), "%s: dense test loss", loss);
    CHECK(model_test_acc(mf, NULL, D) == acct, "%s: dense test accuracy", loss);

    // G = J(W0) = -dL/dW1 at D = 0
    double Z[DIN * 5] = {0}, J[DIN * 5];
    CHECK(model_eval_dense(mf, Z, &L, J, &e) == 0, "eval_dense at 0");
    CHECK(!memcmp(J, p->G, sizeof J), "%s: G = J(W0) from eval_dense at D = 0", loss);

    check_fd(m, A, B, D, d, h, r, ce ? "ce, all rows" : "squared, all rows");
    // a minibatch: rows 5, 2, 9 (the batch loss is their mean)
    int rows[3] = {2, 5, 9};
    CHECK(model_set_batch(m, rows, 3, &e) == 0 && model_set_batch(mf, rows, 3, &e) == 0,
          "set_batch");
    double Xb[3 * DIN];
    int yb[3];
    for (int i = 0; i < 3; i++) {
        memcpy(Xb + i * DIN, Xt + rows[i] * DIN, sizeof(double) * DIN);
        yb[i] = yt[rows[i]];
    }
    direct(Xb, yb, 3, mu, W, ms->net->V, h, ce, &Ld, &accd);
    CHECK(model_eval_dense(mf, D, &L, NULL, &e) == 0 && close_rel(L, Ld, 1e-12, 1e-12),
          "%s: batch loss %.15g, direct %.15g", loss, L, Ld);
    check_fd(m, A, B, D, d, h, r, ce ? "ce, batch" : "squared, batch");
    model_set_batch(mf, NULL, 0, &e);
    CHECK(model_eval_dense(mf, D, &L, NULL, &e) == 0 && L != Ld, "%s: back to all rows", loss);

    // no ground truth: risk and err_op nan; test_acc measured
    metrics_work *w = metrics_work_new(m);
    metrics mt;
    double gA[DIN * 2], gB[2 * 5];
    model_set_batch(m, NULL, 0, &e);
    model_eval_factors(m, A, B, &L, gA, gB, &e);
    CHECK(metrics_factors(w, A, B, gA, gB, L, &mt, &e) == 0, "metrics: %s", e.msg);
    CHECK(isnan(mt.risk) && isnan(mt.err_op) && isnan(mt.align_a_star) && !isnan(mt.align_a) &&
              mt.test_acc == model_test_acc(m, A, B),
          "%s: risk %g, err_op %g nan; align_a %g; test_acc %g", loss, mt.risk, mt.err_op,
          mt.align_a, mt.test_acc);
    metrics_work_free(w);
    model_free(m);
    model_free(mf);
    problem_free(p);
    spec_free(&s);
}

// The cache: a fresh process-free comparison is not possible in one process
// (mlp_source keeps its last network), so the cache file is checked by
// content: a second cache folder gets the same bytes, a cut file is rewritten
// to them.
static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static int first_bin(const char *dir, char *out, size_t n)
{
    DIR *dd = opendir(dir);
    struct dirent *de;
    int found = 0;
    while (dd && (de = readdir(dd)))
        if (strstr(de->d_name, ".bin") && !strstr(de->d_name, ".lock")) {
            snprintf(out, n, "%s/%s", dir, de->d_name);
            found = 1;
        }
    if (dd) closedir(dd);
    return found;
}

static void check_cache(void)
{
    char c1[256], c2[256], f1[512], f2[512];
    tpath(c1, sizeof c1, "cache1");
    tpath(c2, sizeof c2, "cache2");
    mkdir(c1, 0755), mkdir(c2, 0755);
    spec s = make_spec("squared", "");
    spec s2 = make_spec("squared", "");   // the same settings, but another lr
    s2.pretrain.lr = 0.02;
    mlp_source *a, *b, *c;
    lerr e = {0};
    // a: pretrained, written to c1; b (other settings) evicts it from memory;
    // c: the first settings again, read back from c1
    CHECK(mlp_source_load(&s, 1, c1, &a, &e) == 0 && !a->cache_hit, "fresh: %s", e.msg);
    CHECK(mlp_source_load(&s2, 1, c2, &b, &e) == 0 && !b->cache_hit, "other lr: %s", e.msg);
    CHECK(mlp_source_load(&s, 1, c1, &c, &e) == 0 && c->cache_hit, "from the cache: %s", e.msg);
    size_t nw = (size_t)a->net->d * a->net->h, nv = (size_t)a->net->h * a->net->K;
    CHECK(!memcmp(a->net->W1, c->net->W1, sizeof(double) * nw) &&
              !memcmp(a->net->V, c->net->V, sizeof(double) * nv) &&
              a->pre_train_acc == c->pre_train_acc && a->pre_test_acc == c->pre_test_acc,
          "the cached network is the fresh one, bit for bit");
    CHECK(memcmp(a->net->W1, b->net->W1, sizeof(double) * nw) != 0,
          "another pretrain.lr gives another network");
    CHECK(first_bin(c1, f1, sizeof f1), "a cache file in %s", c1);
    long full = file_size(f1);
    mlp_source_free(c);
    // cut the file short: the next load (after evicting) recomputes and rewrites it
    CHECK(truncate(f1, full - 9) == 0, "truncate");
    mlp_source_free(b);
    CHECK(mlp_source_load(&s2, 1, c2, &b, &e) == 0, "evict");
    CHECK(mlp_source_load(&s, 1, c1, &c, &e) == 0 && !c->cache_hit,
          "a cut cache file is not trusted (cache_hit %d)", c->cache_hit);
    CHECK(file_size(f1) == full, "the cut file rewritten (%ld bytes, want %ld)", file_size(f1),
          full);
    CHECK(!memcmp(a->net->W1, c->net->W1, sizeof(double) * nw), "recomputed: the same bits");
    // a cache file whose numbers were altered (checksum) is not trusted either
    FILE *f = fopen(f1, "r+b");
    fseek(f, -20, SEEK_END);
    fputc(0x5a, f);
    fclose(f);
    mlp_source_free(b), mlp_source_free(c);
    CHECK(mlp_source_load(&s2, 1, c2, &b, &e) == 0, "evict");
    CHECK(mlp_source_load(&s, 1, c1, &c, &e) == 0 && !c->cache_hit &&
              !memcmp(a->net->W1, c->net->W1, sizeof(double) * nw),
          "an altered cache file is recomputed");
    (void)f2;
    mlp_source_free(a), mlp_source_free(b), mlp_source_free(c);
    spec_free(&s), spec_free(&s2);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_teacher_mlp.XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    make_data();
    check_loss("squared");
    check_loss("cross_entropy");
    check_cache();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", tmpdir);
    if (check_failures) {
        fprintf(stderr, "test_teacher_mlp: %d check(s) failed\n", check_failures);
        return 1;
    }
    printf("test_teacher_mlp: all checks passed\n");
    return 0;
}
