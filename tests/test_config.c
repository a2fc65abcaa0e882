// test_config.c: experiment files -> spec, checked against spec.h.
//
// The expected values are written out independently of config.c's key
// table: the defaults are copied from the comments in spec.h, and every error
// case names the exact file:line:column a reader would look at.  Files are
// written into a fresh mkdtemp folder that is removed at the end.
//
// Returns 0 when every check passes; otherwise prints each failure and
// returns 1 (check.h).  TEST_CONFIG_VERBOSE=1 prints every error message.
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "npy.h"
#include "registry.h"

static char tmpdir[PATH_MAX];

// ---------------------------------------------------------------------------
// Helpers

// Write `text` to tmpdir/name; returns the path (static buffer per call site
// is not needed: the caller copies or uses it at once).
static char *write_text(const char *name, const char *text)
{
    static char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
    return path;
}

// Parse tmpdir/name holding `text`, apply the --set arguments, resolve.
static int load_text(const char *name, const char *text, const char *const *sets, spec *s,
                     lerr *e)
{
    memset(s, 0, sizeof *s);
    memset(e, 0, sizeof *e);
    config_doc *doc = config_parse_file(write_text(name, text), e);
    if (!doc) return -1;
    int rc = 0;
    for (int i = 0; !rc && sets && sets[i]; i++) rc = config_doc_set_arg(doc, sets[i], e);
    if (!rc) rc = config_resolve(doc, s, e);
    config_doc_free(doc);
    return rc;
}

// The YAML config_write produces, as a new string.
static char *written(const spec *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) exit(1);
    CHECK(config_write(s, f) == 0, "config_write failed");
    fclose(f);
    return buf;
}

static int same_str(const char *a, const char *b)
{
    if (!a || !b) return a == b;
    return strcmp(a, b) == 0;
}

static int same_matrix(const mat_source *a, const mat_source *b)
{
    if (a->kind != b->kind || !same_str(a->path, b->path)) return 0;
    if (a->kind != MAT_FILE && a->kind != MAT_INLINE) return 1;
    if (a->rows != b->rows || a->cols != b->cols) return 0;
    return memcmp(a->data, b->data, sizeof(double) * (size_t)a->rows * (size_t)a->cols) == 0;
}

// Every field but source_path.
static int same_spec(const spec *a, const spec *b)
{
#define ta (&a->teacher)
#define tb (&b->teacher)
    int ok = same_str(a->name, b->name) && same_str(ta->model, tb->model) && ta->d == tb->d &&
             ta->k == tb->k && ta->n == tb->n && ta->rank == tb->rank &&
             ta->kappa == tb->kappa && same_str(ta->spectrum, tb->spectrum) &&
             ta->scale == tb->scale && ta->noise == tb->noise && same_matrix(&ta->w0, &tb->w0) &&
             ta->w0_scale == tb->w0_scale && same_matrix(&ta->delta, &tb->delta) &&
             same_matrix(&ta->x, &tb->x);
    ok = ok && a->lora.rank == b->lora.rank && same_str(a->init.method, b->init.method) &&
         a->init.alpha2 == b->init.alpha2 && a->init.gamma == b->init.gamma &&
         a->init.normalize == b->init.normalize && a->init.scale == b->init.scale;
    ok = ok && same_str(a->optimizer.method, b->optimizer.method) &&
         a->optimizer.lr == b->optimizer.lr && a->optimizer.lr_ratio == b->optimizer.lr_ratio &&
         a->optimizer.steps == b->optimizer.steps &&
         a->optimizer.damping == b->optimizer.damping &&
         a->optimizer.weight_decay == b->optimizer.weight_decay;
    ok = ok && a->log.every == b->log.every && a->log.save == b->log.save &&
         a->nseeds == b->nseeds && a->seeds_is_count == b->seeds_is_count &&
         memcmp(a->seeds, b->seeds, sizeof(long) * (size_t)a->nseeds) == 0;
#undef ta
#undef tb
    return ok;
}

// write -> parse -> resolve -> write must give the same bytes and spec.
static void check_round_trip(const char *what, const spec *s)
{
    char *first = written(s);
    lerr e = {0};
    config_doc *doc = config_parse_string(first, "round-trip", &e);
    CHECK(doc, "%s: re-parse failed: %s", what, e.msg);
    if (!doc) {
        free(first);
        return;
    }
    spec again;
    int rc = config_resolve(doc, &again, &e);
    config_doc_free(doc);
    CHECK(rc == 0, "%s: re-resolve failed: %s\n%s", what, e.msg, first);
    if (rc == 0) {
        char *second = written(&again);
        CHECK(strcmp(first, second) == 0, "%s: round trip differs:\n%s\n---\n%s", what, first,
              second);
        CHECK(same_spec(s, &again), "%s: round trip changed the spec", what);
        free(second);
    }
    spec_free(&again);
    free(first);
}

// ---------------------------------------------------------------------------
// Defaults

static void test_defaults(void)
{
    spec s;
    lerr e;
    int rc = load_text("defaults.yaml", "{}\n", NULL, &s, &e);
    CHECK(rc == 0, "defaults: %s", e.msg);
    if (rc) return;
    CHECK(same_str(s.name, "defaults"), "default name is the stem: %s", s.name);
    CHECK(strstr(s.source_path, "/defaults.yaml") != NULL, "source_path %s", s.source_path);
    CHECK(same_str(s.teacher.model, "linear"), "teacher.model");
    CHECK(s.teacher.d == 100 && s.teacher.k == 100 && s.teacher.n == 1600, "d, k, n");
    CHECK(s.teacher.rank == 4, "teacher.rank %d", s.teacher.rank);
    CHECK(s.teacher.kappa == 1, "teacher.kappa");
    CHECK(same_str(s.teacher.spectrum, "linear"), "teacher.spectrum");
    CHECK(s.teacher.scale == 1 && s.teacher.noise == 0, "teacher.scale, noise");
    CHECK(s.teacher.w0.kind == MAT_GAUSSIAN && s.teacher.w0_scale == 1, "teacher.w0");
    CHECK(s.teacher.delta.kind == MAT_GENERATED, "teacher.delta");
    CHECK(s.teacher.x.kind == MAT_GENERATED, "teacher.x");
    CHECK(s.lora.rank == 8, "lora.rank");
    CHECK(same_str(s.init.method, "lora"), "init.method");
    CHECK(s.init.alpha2 == 1e-3 && s.init.gamma == 1 && !s.init.normalize && s.init.scale == 1,
          "init.*");
    CHECK(same_str(s.optimizer.method, "gd"), "optimizer.method");
    CHECK(s.optimizer.lr == 0.015625 && s.optimizer.lr_ratio == 1, "optimizer.lr, lr_ratio");
    CHECK(s.optimizer.steps == 1500 && s.optimizer.damping == 1e-3 &&
              s.optimizer.weight_decay == 0,
          "optimizer.*");
    CHECK(s.log.every == 1 && s.log.save == 0 && s.log.risk_tol == 1e-20 && !s.log.params, "log.*");
    CHECK(s.nseeds == 1 && s.seeds && s.seeds[0] == 0 && s.seeds_is_count, "seeds");
    check_round_trip("defaults", &s);
    spec_free(&s);

    // "name: x" and an empty file behave the same way otherwise.
    rc = load_text("named.yaml", "name: x\n", NULL, &s, &e);
    CHECK(rc == 0 && same_str(s.name, "x") && s.teacher.d == 100, "name: x: %s", e.msg);
    spec_free(&s);
    rc = load_text("empty.yaml", "", NULL, &s, &e);
    CHECK(rc == 0 && same_str(s.name, "empty") && s.lora.rank == 8, "empty file: %s", e.msg);
    spec_free(&s);

    // A file stem that is not a valid name needs an explicit name.
    rc = load_text("my exp.yaml", "{}\n", NULL, &s, &e);
    CHECK(rc != 0 && strstr(e.msg, "my exp.yaml: name (default): 'my exp' is not a valid name"),
          "invalid stem: %s", e.msg);
    spec_free(&s);

    // A string document: name "experiment", source_path its name.
    config_doc *doc = config_parse_string("teacher:\n  d: 9\n", "inline-doc", &e);
    CHECK(doc != NULL, "parse_string: %s", e.msg);
    rc = doc ? config_resolve(doc, &s, &e) : -1;
    CHECK(rc == 0 && same_str(s.name, "experiment") && same_str(s.source_path, "inline-doc") &&
              s.teacher.d == 9,
          "string document: %s", e.msg);
    config_doc_free(doc);
    spec_free(&s);
}

// ---------------------------------------------------------------------------
// A file with every key

static const char *const FULL =
    "name: full-run_1.0\n"
    "teacher:\n"
    "  model: linear\n"
    "  d: 12\n"
    "  k: 10\n"
    "  n: 1.6e3\n"
    "  rank: 3\n"
    "  kappa: 2.5\n"
    "  spectrum: geometric\n"
    "  scale: 0.5\n"
    "  noise: 0.01\n"
    "  w0: zero\n"
    "  w0_scale: 0\n"
    "  delta: generated\n"
    "  x: generated\n"
    "lora:\n"
    "  rank: 6\n"
    "init:\n"
    "  method: spectral\n"
    "  alpha2: 0\n"
    "  gamma: 2\n"
    "  normalize: Yes\n"
    "  scale: 3\n"
    "optimizer:\n"
    "  method: precgd\n"
    "  lr: 0.1\n"
    "  lr_ratio: 4\n"
    "  steps: 200.0\n"
    "  damping: 1e-6\n"
    "  weight_decay: 1e-4\n"
    "log:\n"
    "  every: 10\n"
    "  save: [w, a, g]\n"
    "seeds: [5, 0, 7]\n";

static void test_full(void)
{
    spec s;
    lerr e;
    int rc = load_text("full.yaml", FULL, NULL, &s, &e);
    CHECK(rc == 0, "full: %s", e.msg);
    if (rc) return;
    CHECK(same_str(s.name, "full-run_1.0"), "name");
    CHECK(s.teacher.d == 12 && s.teacher.k == 10 && s.teacher.n == 1600, "d k n");
    CHECK(s.teacher.rank == 3 && s.teacher.kappa == 2.5, "rank kappa");
    CHECK(same_str(s.teacher.spectrum, "geometric"), "spectrum");
    CHECK(s.teacher.scale == 0.5 && s.teacher.noise == 0.01, "scale noise");
    CHECK(s.teacher.w0.kind == MAT_ZERO && s.teacher.w0_scale == 0, "w0");
    CHECK(s.lora.rank == 6, "lora.rank");
    CHECK(same_str(s.init.method, "spectral") && s.init.alpha2 == 0 && s.init.gamma == 2 &&
              s.init.normalize && s.init.scale == 3,
          "init");
    CHECK(same_str(s.optimizer.method, "precgd") && s.optimizer.lr == 0.1 &&
              s.optimizer.lr_ratio == 4 && s.optimizer.steps == 200 &&
              s.optimizer.damping == 1e-6 && s.optimizer.weight_decay == 1e-4,
          "optimizer");
    CHECK(s.log.every == 10 && s.log.save == (SAVE_A | SAVE_W | SAVE_G), "log");
    CHECK(s.nseeds == 3 && !s.seeds_is_count && s.seeds[0] == 5 && s.seeds[1] == 0 &&
              s.seeds[2] == 7,
          "seeds");
    char *out = written(&s);
    const char *header = "# resolved by loralab; every key that applies shown\n";
    CHECK(strncmp(out, header, strlen(header)) == 0, "header line");
    CHECK(strstr(out, "\n  save: [a, w, g]\n") != NULL, "log.save written in bit order");
    CHECK(strstr(out, "\nseeds: [5, 0, 7]\n") != NULL, "seeds written as a list");
    CHECK(strstr(out, "\n  lr: 0.10000000000000001\n") != NULL, "lr with %%.17g");
    CHECK(strstr(out, "\n  n: 1600\n") != NULL, "ints with %%d");
    CHECK(strstr(out, "\n  normalize: true\n") != NULL, "bools");
    CHECK(strstr(out, "\noptimizer:\n  method: precgd\n") != NULL, "sections as mappings");
    // Every key of config_keys() is written, except the real-data keys (a
    // linear teacher: they do not apply and are left out).
    const char *const *keys = config_keys();
    int nkeys = 0;
    for (; keys[nkeys]; nkeys++) {
        const char *leaf = strrchr(keys[nkeys], '.');
        if (!strncmp(keys[nkeys], "pretrain.", 9) || !strcmp(keys[nkeys], "teacher.data") ||
            !strcmp(keys[nkeys], "teacher.hidden") || !strcmp(keys[nkeys], "teacher.pool") ||
            strstr(keys[nkeys], "_classes")) {
            continue;
        }
        char want[80];
        snprintf(want, sizeof want, "%s%s: ", leaf ? "  " : "\n", leaf ? leaf + 1 : keys[nkeys]);
        CHECK(strstr(out, want) != NULL, "key %s not written", keys[nkeys]);
    }
    CHECK(nkeys == 57, "config_keys has %d keys", nkeys);
    CHECK(strstr(out, "\npretrain:") == NULL && strstr(out, "  hidden: ") == NULL &&
              strstr(out, "  source_classes: ") == NULL,
          "real-data keys left out for a linear teacher");
    free(out);
    check_round_trip("full", &s);
    spec_free(&s);
}

// ---------------------------------------------------------------------------
// Inline matrices and dimensions taken from them

static void test_inline(void)
{
    spec s;
    lerr e;
    // A 3x2 rank-1 delta: d, k and teacher.rank all come from it.
    int rc = load_text("inl.yaml",
                       "teacher:\n"
                       "  delta: [[1, 2], [2, 4], [-3, -6]]\n"
                       "  w0: [[0.1, 0.2], [0.3, 1e-300], [5, 6]]\n"
                       "  x: [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]]\n"
                       "lora:\n"
                       "  rank: 2\n",
                       NULL, &s, &e);
    CHECK(rc == 0, "inline: %s", e.msg);
    if (rc) return;
    CHECK(s.teacher.d == 3 && s.teacher.k == 2 && s.teacher.n == 4, "dims %d %d %d",
          s.teacher.d, s.teacher.k, s.teacher.n);
    CHECK(s.teacher.rank == 1, "rank from delta: %d", s.teacher.rank);
    CHECK(s.teacher.delta.kind == MAT_INLINE && s.teacher.delta.rows == 3 &&
              s.teacher.delta.cols == 2 && s.teacher.delta.data[5] == -6,
          "delta data");
    CHECK(s.teacher.w0.data[3] == 1e-300, "tiny value kept");
    char *out = written(&s);
    CHECK(strstr(out, "\n  delta: [[1, 2], [2, 4], [-3, -6]]\n") != NULL, "inline written:\n%s",
          out);
    // kappa, spectrum and scale describe a drawn Delta: with delta given
    // they are left out of config.yaml (a comment says why), ...
    CHECK(!strstr(out, "kappa:") && !strstr(out, "spectrum:") &&
              strstr(out, "\n  base: zero\n  # kappa, spectrum, scale: not used (teacher.delta "
                          "is given)\n  noise: 0\n"),
          "unused shift keys written:\n%s", out);
    free(out);
    check_round_trip("inline", &s);
    spec_free(&s);
    // ... a value written for them beside the matrix is an error ...
    rc = load_text("inl5.yaml", "teacher:\n  kappa: 4\n  delta: [[1, 2], [2, 4], [3, 6]]\n"
                                "lora:\n  rank: 1\n",
                   NULL, &s, &e);
    CHECK(rc != 0 && strstr(e.msg, "inl5.yaml:2:10: teacher.kappa: describes the Delta the "
                                   "teacher draws, but teacher.delta is given (inline), so it "
                                   "does not apply"),
          "kappa beside delta: %s", e.msg);
    if (rc == 0) spec_free(&s);
    const char *scale_set[] = {"teacher.scale=2", NULL};
    rc = load_text("inl6.yaml", "teacher:\n  delta: [[1, 2], [2, 4], [3, 6]]\nlora:\n  rank: 1\n",
                   scale_set, &s, &e);
    CHECK(rc != 0 && strstr(e.msg, "--set teacher.scale: describes the Delta"),
          "--set scale beside delta: %s", e.msg);
    if (rc == 0) spec_free(&s);
    // ... unless a delta given with --set replaces what the file described.
    const char *delta_set[] = {"teacher.delta=[[2], [1]]", "lora.rank=1", NULL};
    rc = load_text("inl7.yaml", "teacher:\n  kappa: 4\n  spectrum: geometric\n", delta_set, &s,
                   &e);
    CHECK(rc == 0 && s.teacher.kappa == 1 && same_str(s.teacher.spectrum, "linear"),
          "--set delta replaces the file's kappa: %s", e.msg);
    if (rc == 0) spec_free(&s);

    // An explicit rank must be delta's numerical rank: r* is the rank of the
    // shift, there is no other rank it could mean.
    rc = load_text("inl2.yaml", "teacher:\n  rank: 2\n  delta: [[1, 2], [2, 4], [3, 6]]\n"
                                "lora:\n  rank: 1\n",
                   NULL, &s, &e);
    CHECK(rc != 0 && strstr(e.msg, "inl2.yaml:2:9: teacher.rank is 2 but teacher.delta (inline) "
                                   "has numerical rank 1"),
          "explicit rank that is not delta's: %s", e.msg);
    if (rc == 0) spec_free(&s);
    rc = load_text("inl4.yaml", "teacher:\n  rank: 1\n  delta: [[1, 2], [2, 4], [3, 6]]\n"
                                "lora:\n  rank: 1\n",
                   NULL, &s, &e);
    CHECK(rc == 0 && s.teacher.rank == 1, "explicit rank equal to delta's: %s", e.msg);
    spec_free(&s);

    // Explicit dimensions that agree with the matrix are fine.
    rc = load_text("inl3.yaml", "teacher:\n  d: 2\n  k: 2\n  w0: [[1, 2], [3, 4]]\n"
                                "  rank: 1\nlora:\n  rank: 1\n",
                   NULL, &s, &e);
    CHECK(rc == 0 && s.teacher.d == 2, "agreeing d: %s", e.msg);
    spec_free(&s);
}

// ---------------------------------------------------------------------------
// The ntk teacher's .npy inputs fix n, outputs (and d, k): only their headers
// are read; targets from a file mean rank 0.

static void test_ntk_files(void)
{
    char y[PATH_MAX + 64], f0[PATH_MAX + 64], text[3 * PATH_MAX];
    lerr e = {0};
    double vals[5 * 3];
    for (int i = 0; i < 15; i++) vals[i] = 0.5 * i - 2;
    snprintf(y, sizeof y, "%s/ntk_y.npy", tmpdir);
    snprintf(f0, sizeof f0, "%s/ntk_f0.npy", tmpdir);
    CHECK(npy_write(y, vals, 5, 3, &e) == 0 && npy_write(f0, vals, 5, 3, &e) == 0,
          "npy_write: %s", e.msg);
    spec s;
    snprintf(text, sizeof text, "teacher: {model: ntk, d: 2, k: 2, targets: %s, base: %s}\n"
             "lora: {rank: 1}\n", y, f0);
    int rc = load_text("ntk1.yaml", text, NULL, &s, &e);
    CHECK(rc == 0 && s.teacher.n == 5 && s.teacher.outputs == 3 && s.teacher.rank == 0,
          "n, outputs and rank from the files: %s (n %d, outputs %d, rank %d)", e.msg,
          rc ? -1 : s.teacher.n, rc ? -1 : s.teacher.outputs, rc ? -1 : s.teacher.rank);
    if (rc == 0) spec_free(&s);
    // A written value must agree (file:line:col, both named) ...
    snprintf(text, sizeof text, "teacher: {model: ntk, d: 2, k: 2, n: 4, targets: %s}\n"
             "lora: {rank: 1}\n", y);
    rc = load_text("ntk2.yaml", text, NULL, &s, &e);
    char want[2 * PATH_MAX];
    snprintf(want, sizeof want, "ntk2.yaml:1:38: teacher.n is 4 but teacher.targets (%s) has "
             "shape (5, 3)", y);
    CHECK(rc != 0 && strstr(e.msg, want), "n beside targets:\n  want: %s\n  got:  %s", want,
          e.msg);
    if (rc == 0) spec_free(&s);
    // ... and so must a planted rank; a wrong number of dimensions is named.
    const char *rank2[] = {"teacher.rank=2", NULL};
    snprintf(text, sizeof text, "teacher: {model: ntk, d: 2, k: 2, targets: %s}\n"
             "lora: {rank: 1}\n", y);
    rc = load_text("ntk3.yaml", text, rank2, &s, &e);
    CHECK(rc != 0 && strstr(e.msg, "--set teacher.rank: is 2 but teacher.targets ("),
          "rank beside file targets: %s", e.msg);
    if (rc == 0) spec_free(&s);
    snprintf(text, sizeof text, "teacher: {model: ntk, features: %s}\n", y);
    rc = load_text("ntk4.yaml", text, NULL, &s, &e);
    snprintf(want, sizeof want, "ntk4.yaml:1:33: teacher.features: %s has shape (5, 3); it "
             "must be (N, K, d, k)", y);
    CHECK(rc != 0 && strstr(e.msg, want), "2-D features:\n  want: %s\n  got:  %s", want, e.msg);
    if (rc == 0) spec_free(&s);
    // The linear teacher ignores these keys, as before.
    snprintf(text, sizeof text, "teacher: {targets: %s}\n", y);
    rc = load_text("ntk5.yaml", text, NULL, &s, &e);
    CHECK(rc == 0 && s.teacher.n == 1600 && s.teacher.rank == 4, "linear teacher: %s", e.msg);
    if (rc == 0) spec_free(&s);
}

// ---------------------------------------------------------------------------
// .npy files given by path

// The real-data keys with the mlp teacher on Debian's Fashion-MNIST (this
// part is skipped when the folder is absent): d from the images' header after
// pooling, k = hidden, outputs = the source classes, rank 0; the keys and the
// pretrain section written and read back identically; a d that disagrees
// with the data and a kappa are errors; the pretrain section's key is empty
// for the linear teacher.
static void test_real_data(void)
{
    spec s;
    lerr e = {0};
    CHECK(load_text("lin.yaml", "{}\n", NULL, &s, &e) == 0, "linear: %s", e.msg);
    char *pk = config_section_key(&s, "pretrain");
    CHECK(pk[0] == '\0', "pretrain section key of a linear spec: '%s'", pk);
    free(pk);
    spec_free(&s);
    FILE *f = fopen("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", "rb");
    if (!f) {
        printf("skip test_real_data: Fashion-MNIST not installed\n");
        return;
    }
    fclose(f);
    const char *mlp = "teacher:\n  model: mlp\n  pool: 2\n  hidden: 32\n"
                      "  source_classes: [3, 1, 5]\n  target_classes: [0, 2]\n"
                      "pretrain:\n  epochs: 2\n  n: 100\nlora:\n  rank: 4\n";
    CHECK(load_text("mlp.yaml", mlp, NULL, &s, &e) == 0, "mlp: %s", e.msg);
    CHECK(s.teacher.d == 196 && s.teacher.k == 32 && s.teacher.outputs == 3 &&
              s.teacher.rank == 0,
          "mlp: d %d (196), k %d (32), outputs %d (3), rank %d (0)", s.teacher.d, s.teacher.k,
          s.teacher.outputs, s.teacher.rank);
    char *out = written(&s);
    CHECK(strstr(out, "\n  hidden: 32\n") && strstr(out, "\n  source_classes: [3, 1, 5]\n") &&
              strstr(out, "\npretrain:\n  epochs: 2\n") && strstr(out, "\n  data: fashion-mnist\n"),
          "mlp: real-data keys written:\n%s", out);
    free(out);
    pk = config_section_key(&s, "pretrain");
    CHECK(strstr(pk, "pretrain.epochs=2;") != NULL, "pretrain section key: '%s'", pk);
    free(pk);
    check_round_trip("mlp", &s);
    spec_free(&s);
    const char *bad_d = "teacher:\n  model: mlp\n  pool: 2\n  d: 100\n";
    CHECK(load_text("mlpd.yaml", bad_d, NULL, &s, &e) != 0 &&
              strstr(e.msg, "mlpd.yaml:4:6: teacher.d is 100 but teacher.data (fashion-mnist) "
                            "has 196 inputs after 2x2 pooling (leave d out)"),
          "mlp with d: %s", e.msg);
    const char *kappa = "teacher:\n  model: mlp\n  kappa: 2\n";
    CHECK(load_text("mlpk.yaml", kappa, NULL, &s, &e) != 0 &&
              strstr(e.msg, "mlpk.yaml:3:10: teacher.kappa: describes the Delta the teacher "
                            "draws, but real data have no planted shift"),
          "mlp with kappa: %s", e.msg);
}

static void test_npy(void)
{
    char path[PATH_MAX + 64], dir[PATH_MAX + 64], want[PATH_MAX + 200];
    lerr e = {0};
    snprintf(dir, sizeof dir, "%s/data", tmpdir);
    CHECK(mkdir(dir, 0777) == 0, "mkdir data");
    snprintf(dir, sizeof dir, "%s/exp", tmpdir);
    CHECK(mkdir(dir, 0777) == 0, "mkdir exp");
    double w0[6 * 4];
    for (int i = 0; i < 24; i++) w0[i] = 0.25 * i - 1;
    snprintf(path, sizeof path, "%s/data/w0.npy", tmpdir);
    CHECK(npy_write(path, w0, 6, 4, &e) == 0, "npy_write: %s", e.msg);

    char real[PATH_MAX];
    CHECK(realpath(tmpdir, real) != NULL, "realpath");
    snprintf(want, sizeof want, "%s/data/w0.npy", real);

    spec s;
    int rc = load_text("exp/e.yaml", "teacher:\n  w0: ../data/./w0.npy\nlora:\n  rank: 2\n", NULL,
                       &s, &e);
    CHECK(rc == 0, "npy: %s", e.msg);
    if (rc == 0) {
        CHECK(s.teacher.d == 6 && s.teacher.k == 4, "dims from npy: %d %d", s.teacher.d,
              s.teacher.k);
        CHECK(s.teacher.w0.kind == MAT_FILE && same_str(s.teacher.w0.path, want),
              "absolute path %s (want %s)", s.teacher.w0.path, want);
        CHECK(s.teacher.w0.data[23] == 0.25 * 23 - 1, "npy data");
        char *out = written(&s);
        char line[sizeof want + 16];
        snprintf(line, sizeof line, "\n  w0: %s\n", want);
        CHECK(strstr(out, line) != NULL, "path written: %s", out);
        free(out);
        check_round_trip("npy", &s);
    }
    spec_free(&s);

    // A contradicting explicit d names both shapes.
    rc = load_text("exp/bad.yaml", "teacher:\n  d: 100\n  w0: ../data/w0.npy\n", NULL, &s, &e);
    snprintf(want, sizeof want, "bad.yaml:2:6: teacher.d is 100 but teacher.w0 (%s/data/w0.npy) "
                                "has shape (6, 4)", real);
    CHECK(rc != 0 && strstr(e.msg, want), "npy shape vs d: %s", e.msg);
    spec_free(&s);

    // --set paths are relative to the working directory.
    char cwd[PATH_MAX];
    CHECK(getcwd(cwd, sizeof cwd) != NULL, "getcwd");
    CHECK(chdir(tmpdir) == 0, "chdir");
    const char *sets[] = {"teacher.delta=data/w0.npy", "lora.rank=1", NULL};
    rc = load_text("exp/set.yaml", "name: s\n", sets, &s, &e);
    CHECK(chdir(cwd) == 0, "chdir back");
    snprintf(want, sizeof want, "%s/data/w0.npy", real);
    CHECK(rc == 0 && same_str(s.teacher.delta.path, want) && s.teacher.d == 6 &&
              s.teacher.rank == 2,
          "--set path from cwd: %s (rank %d)", rc ? e.msg : s.teacher.delta.path,
          s.teacher.rank);
    spec_free(&s);

    // A folder name with a space: the path is written quoted and read back.
    snprintf(dir, sizeof dir, "%s/my data", tmpdir);
    CHECK(mkdir(dir, 0777) == 0, "mkdir 'my data'");
    double x[2 * 6] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    snprintf(path, sizeof path, "%s/my data/x: 1.npy", tmpdir);
    CHECK(npy_write(path, x, 2, 6, &e) == 0, "npy_write: %s", e.msg);
    rc = load_text("exp/q.yaml", "teacher:\n  x: \"../my data/x: 1.npy\"\n  w0: ../data/w0.npy\n"
                                 "lora:\n  rank: 2\n",
                   NULL, &s, &e);
    CHECK(rc == 0 && s.teacher.n == 2 && s.teacher.d == 6, "quoted path: %s", e.msg);
    if (rc == 0) {
        char *out = written(&s);
        snprintf(want, sizeof want, "\n  x: \"%s/my data/x: 1.npy\"\n", real);
        CHECK(strstr(out, want) != NULL, "quoted path written: %s", out);
        free(out);
        check_round_trip("quoted path", &s);
    }
    spec_free(&s);

    // Non-finite values in a file are refused.
    double bad[4] = {1, NAN, 3, 4};
    snprintf(path, sizeof path, "%s/data/nan.npy", tmpdir);
    CHECK(npy_write(path, bad, 2, 2, &e) == 0, "npy_write: %s", e.msg);
    rc = load_text("exp/nan.yaml", "teacher:\n  delta: ../data/nan.npy\n", NULL, &s, &e);
    CHECK(rc != 0 && strstr(e.msg, "nan.yaml:2:10: teacher.delta: ") &&
              strstr(e.msg, "non-finite value"),
          "nan in npy: %s", e.msg);
    spec_free(&s);

    // A missing file: npy_read's message behind the location.
    rc = load_text("exp/missing.yaml", "teacher:\n  x: nothere.npy\n", NULL, &s, &e);
    CHECK(rc != 0 && strstr(e.msg, "missing.yaml:2:6: teacher.x: ") &&
              strstr(e.msg, "/exp/nothere.npy"),
          "missing npy: %s", e.msg);
    spec_free(&s);
}

// ---------------------------------------------------------------------------
// --set

static void test_set(void)
{
    spec s;
    lerr e;
    const char *sets[] = {"optimizer.lr=0.5",  "seeds=[3, 4]", "init.gamma=2",
                          "log.save=[b]",      "teacher.w0=[[1,2],[3,4]]",
                          "lora.rank = 1",     "teacher.rank=2", "name=setname",
                          "teacher.x=generated", NULL};
    int rc = load_text("set.yaml", "optimizer:\n  lr: 0.25\nteacher:\n  x: [[1, 2]]\n", sets,
                       &s, &e);
    CHECK(rc == 0, "--set: %s", e.msg);
    if (rc == 0) {
        CHECK(s.optimizer.lr == 0.5, "--set number replaces the file's value");
        CHECK(s.nseeds == 2 && s.seeds[0] == 3 && s.seeds[1] == 4 && !s.seeds_is_count,
              "--set list");
        CHECK(s.init.gamma == 2, "--set into a new section");
        CHECK(s.log.save == SAVE_B, "--set log.save");
        CHECK(s.teacher.w0.kind == MAT_INLINE && s.teacher.d == 2 && s.teacher.k == 2 &&
                  s.teacher.w0.data[3] == 4,
              "--set inline matrix");
        CHECK(s.lora.rank == 1 && same_str(s.name, "setname"), "--set with spaces, name");
        CHECK(s.teacher.x.kind == MAT_GENERATED, "--set word replaces inline");
        check_round_trip("set", &s);
    }
    spec_free(&s);

    // A matrix given with --set replaces the d, k and rank the file wrote.
    const char *over[] = {"teacher.delta=[[2], [1]]", "lora.rank=1", NULL};
    rc = load_text("over.yaml", "teacher:\n  d: 100\n  k: 100\n  rank: 4\n", over, &s, &e);
    CHECK(rc == 0 && s.teacher.d == 2 && s.teacher.k == 1 && s.teacher.rank == 1,
          "--set matrix outranks the file: %s", e.msg);
    spec_free(&s);
    // ... but not a matrix the file gives as well, nor values given with --set.
    const char *clash[] = {"teacher.delta=[[2], [1]]", "lora.rank=1", NULL};
    rc = load_text("clash.yaml", "teacher:\n  x: [[1, 2, 3]]\n", clash, &s, &e);
    CHECK(rc != 0 && strstr(e.msg, "clash.yaml:2:6: teacher.x (inline) has shape (1, 3), so d = 3, "
                                   "but teacher.delta (inline) has shape (2, 1)"),
          "--set matrix vs file matrix: %s", e.msg);
    spec_free(&s);
    const char *both[] = {"teacher.delta=[[2], [1]]", "teacher.rank=2", NULL};
    rc = load_text("both.yaml", "{}\n", both, &s, &e);
    CHECK(rc != 0 && strstr(e.msg, "--set teacher.rank: is 2 but teacher.delta (inline) has "
                                   "numerical rank 1"),
          "--set rank next to --set delta: %s", e.msg);
    spec_free(&s);

    // config_doc_set with its own origin.
    config_doc *doc = config_parse_string("{}", "doc", &e);
    CHECK(doc && config_doc_set(doc, "optimizer.lr", "-2", "--sweep", &e) == 0, "doc_set");
    rc = doc ? config_resolve(doc, &s, &e) : 0;
    CHECK(rc != 0 && strstr(e.msg, "--sweep optimizer.lr: must be > 0 (got -2)"), "origin: %s",
          e.msg);
    spec_free(&s);
    config_doc_free(doc);
}

// ---------------------------------------------------------------------------
// Errors: {file text, --set arguments, expected fragment, also expected}

typedef struct {
    const char *text;
    const char *set1, *set2;
    const char *want;
    const char *(*names)(void);   // the message must also list these
} error_case;

#define ERR(text, set1, set2, want) {text, set1, set2, want, NULL}
#define ERRN(text, set1, set2, want, names) {text, set1, set2, want, names}

static const error_case ERRORS[] = {
    // syntax and structure
    ERR("a: b: c\n", NULL, NULL, "c.yaml:1:5: YAML syntax error: mapping values are not allowed"),
    ERR("teacher:\n  d: [1, 2\n", NULL, NULL,
        "c.yaml:3:1: YAML syntax error: did not find expected"),
    ERR("name: \"abc\n", NULL, NULL,
        "c.yaml:2:1: YAML syntax error: found unexpected end of stream"),
    ERR("teacher:\n  d: 5\n  d: 6\n", NULL, NULL,
        "c.yaml:3:3: duplicate key 'teacher.d' (first at line 2, column 3)"),
    ERR("- 1\n- 2\n", NULL, NULL, "c.yaml:1:1: the top level must be a mapping"),
    ERR("a: &x 1\nb: *x\n", NULL, NULL, "c.yaml:2:4: aliases (*x) are not supported"),
    ERR("name: x\n---\nname: y\n", NULL, NULL, "c.yaml:2:1: only one YAML document is allowed"),
    ERR("? [a]\n: 1\n", NULL, NULL, "c.yaml:1:3: a mapping key must be a string"),
    ERR("seeds: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1"
        "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
        NULL, NULL, "nesting deeper than 64 levels"),
    // unknown keys
    ERR("nmae: x\n", NULL, NULL, "c.yaml:1:1: unknown key 'nmae' (did you mean 'name'?)"),
    ERR("optimiser:\n  lr: 1\n", NULL, NULL,
        "c.yaml:1:1: unknown key 'optimiser' (did you mean 'optimizer'?)"),
    ERR("name: x\nfoo: 1\n", NULL, NULL,
        "c.yaml:2:1: unknown key 'foo' (valid top-level keys: name, teacher, lora, init, optimizer, "
        "log, pretrain, convex, seeds, sweep)"),
    ERR("swep:\n  teacher.d: [1]\n", NULL, NULL,
        "c.yaml:1:1: unknown key 'swep' (did you mean 'sweep'?)"),
    ERR("sweep:\n  teacher.d: [1]\nzip:\n  teacher.n: [1]\n", NULL, NULL,
        "c.yaml:3:1: unknown key 'zip' (valid top-level keys: name, teacher, lora, init, "
        "optimizer, log, pretrain, convex, seeds, sweep)"),
    ERR("teacher:\n  d: 5\n  dd: 5\n", NULL, NULL,
        "c.yaml:3:3: unknown key 'teacher.dd' (did you mean 'teacher.d'?)"),
    ERR("teacher:\n  kapa: 2\n", NULL, NULL,
        "c.yaml:2:3: unknown key 'teacher.kapa' (did you mean 'teacher.kappa'?)"),
    ERR("init:\n  lr: 0.1\n", NULL, NULL,
        "c.yaml:2:3: unknown key 'init.lr' (did you mean 'optimizer.lr'?)"),
    ERR("optimizer:\n  learning_rate: 0.1\n", NULL, NULL,
        "c.yaml:2:3: unknown key 'optimizer.learning_rate' (valid keys in optimizer: method, lr, "
        "lr_ratio, steps, batch, damping, weight_decay, beta1, beta2, eps)"),
    ERR("teacher.d: 5\n", NULL, NULL,
        "c.yaml:1:1: unknown key 'teacher.d' (write it as 'd:' inside the 'teacher:' section)"),
    ERR("teacher: 5\n", NULL, NULL,
        "c.yaml:1:10: teacher must be a mapping of keys (model, activation, leaky_slope, d, k, n, "
        "n_test, rank, outputs, loss, features, targets, base, kappa, spectrum, "
        "scale, noise, w0, w0_scale, delta, x, stats, data, hidden, pool, source_classes, target_classes), got '5'"),
    ERR("lora: [1]\n", NULL, NULL, "c.yaml:1:7: lora must be a mapping of keys (rank), got a list"),
    // types
    ERR("teacher:\n  d: abc\n", NULL, NULL,
        "c.yaml:2:6: teacher.d: expected an integer, got 'abc'"),
    ERR("teacher:\n  d: 1.5\n", NULL, NULL,
        "c.yaml:2:6: teacher.d: expected an integer, got '1.5'"),
    ERR("teacher:\n  d: 0x10\n", NULL, NULL,
        "c.yaml:2:6: teacher.d: expected an integer, got '0x10'"),
    ERR("optimizer:\n  steps: 99999999999\n", NULL, NULL,
        "c.yaml:2:10: optimizer.steps: expected an integer, got '99999999999' (out of range)"),
    ERR("teacher:\n  kappa: [1, 2]\n", NULL, NULL,
        "c.yaml:2:10: teacher.kappa: expected a number, got a list"),
    ERR("teacher:\n  n: {a: 1}\n", NULL, NULL,
        "c.yaml:2:6: teacher.n: expected an integer, got a mapping"),
    ERR("optimizer:\n  lr: \"0.1\"\n", NULL, NULL,
        "c.yaml:2:7: optimizer.lr: expected a number, got a quoted string \"0.1\""),
    ERR("lora:\n  rank: '4'\n", NULL, NULL,
        "c.yaml:2:9: lora.rank: expected an integer, got a quoted string \"4\""),
    ERR("optimizer:\n  lr:\n", NULL, NULL, "optimizer.lr: expected a number, got no value"),
    ERR("teacher:\n  noise: 1e999\n", NULL, NULL,
        "c.yaml:2:10: teacher.noise: expected a number, got '1e999' (too large)"),
    ERR("teacher:\n  noise: .inf\n", NULL, NULL,
        "c.yaml:2:10: teacher.noise: expected a number, got '.inf'"),
    ERR("init:\n  normalize: maybe\n", NULL, NULL,
        "c.yaml:2:14: init.normalize: expected true or false, got 'maybe'"),
    ERR("init:\n  normalize: \"true\"\n", NULL, NULL,
        "c.yaml:2:14: init.normalize: expected true or false, got a quoted string"),
    ERR("name: [a]\n", NULL, NULL, "c.yaml:1:7: name: expected a string, got a list"),
    ERR("name: my exp\n", NULL, NULL, "c.yaml:1:7: name: 'my exp' is not a valid name"),
    ERR("name: .hidden\n", NULL, NULL, "c.yaml:1:7: name: '.hidden' is not a valid name"),
    // ranges
    ERR("teacher:\n  d: 0\n", NULL, NULL, "c.yaml:2:6: teacher.d must be >= 1 (got 0)"),
    ERR("teacher:\n  k: -3\n", NULL, NULL, "c.yaml:2:6: teacher.k must be >= 1 (got -3)"),
    ERR("teacher:\n  n: 0\n", NULL, NULL, "c.yaml:2:6: teacher.n must be >= 1 (got 0)"),
    ERR("teacher:\n  rank: 0\n", NULL, NULL, "c.yaml:2:9: teacher.rank = 0: the linear teacher needs rank >= 1"),
    ERR("teacher:\n  kappa: 0.5\n", NULL, NULL,
        "c.yaml:2:10: teacher.kappa must be >= 1 (got 0.5)"),
    ERR("teacher:\n  scale: 0\n", NULL, NULL, "c.yaml:2:10: teacher.scale must be > 0 (got 0)"),
    ERR("teacher:\n  noise: -1e-9\n", NULL, NULL,
        "c.yaml:2:10: teacher.noise must be >= 0 (got -1e-9)"),
    ERR("teacher:\n  w0_scale: -1\n", NULL, NULL,
        "c.yaml:2:13: teacher.w0_scale must be >= 0 (got -1)"),
    ERR("lora:\n  rank: 0\n", NULL, NULL, "c.yaml:2:9: lora.rank must be >= 1 (got 0)"),
    ERR("init:\n  alpha2: -1\n", NULL, NULL, "c.yaml:2:11: init.alpha2 must be >= 0 (got -1)"),
    ERR("init:\n  gamma: 0\n", NULL, NULL, "c.yaml:2:10: init.gamma must be > 0 (got 0)"),
    ERR("init:\n  scale: -2\n", NULL, NULL, "c.yaml:2:10: init.scale must be > 0 (got -2)"),
    ERR("optimizer:\n  lr: 0\n", NULL, NULL, "c.yaml:2:7: optimizer.lr must be > 0 (got 0)"),
    ERR("optimizer:\n  lr: -1\n", NULL, NULL, "c.yaml:2:7: optimizer.lr must be > 0 (got -1)"),
    ERR("optimizer:\n  lr_ratio: 0\n", NULL, NULL,
        "c.yaml:2:13: optimizer.lr_ratio must be > 0 (got 0)"),
    ERR("optimizer:\n  steps: -1\n", NULL, NULL,
        "c.yaml:2:10: optimizer.steps must be >= 0 (got -1)"),
    ERR("optimizer:\n  damping: -1\n", NULL, NULL,
        "c.yaml:2:12: optimizer.damping must be >= 0 (got -1)"),
    ERR("optimizer:\n  weight_decay: -0.5\n", NULL, NULL,
        "c.yaml:2:17: optimizer.weight_decay must be >= 0 (got -0.5)"),
    ERR("log:\n  every: 0\n", NULL, NULL, "c.yaml:2:10: log.every must be >= 1 (got 0)"),
    // cross-field
    ERR("teacher:\n  d: 10\n  k: 20\nlora:\n  rank: 12\n", NULL, NULL,
        "c.yaml:5:9: lora.rank = 12 exceeds min(d, k) = 10"),
    ERR("teacher:\n  d: 10\n  k: 3\n  rank: 5\nlora:\n  rank: 2\n", NULL, NULL,
        "c.yaml:4:9: teacher.rank = 5 exceeds min(d, k) = 3"),
    ERR("teacher:\n  d: 5\n  k: 6\n", NULL, NULL,
        "c.yaml: lora.rank (default) = 8 exceeds min(d, k) = 5"),
    // names from the registries and enums
    ERRN("init:\n  method: foo\n", NULL, NULL, "c.yaml:2:11: init.method: 'foo' is not one of: ",
        init_names),
    ERRN("optimizer:\n  method: adamax\n", NULL, NULL,
        "c.yaml:2:11: optimizer.method: 'adamax' is not one of: ", optim_names),
    ERRN("teacher:\n  model: cnn\n", NULL, NULL,
        "c.yaml:2:10: teacher.model: 'cnn' is not one of: ",
        teacher_names),
    ERR("teacher:\n  spectrum: geo\n", NULL, NULL,
        "c.yaml:2:13: teacher.spectrum: 'geo' is not one of: linear, geometric"),
    // the real-data keys (checks that need no data files)
    ERR("teacher:\n  model: mlp\n  source_classes: [1, 1]\n", NULL, NULL,
        "c.yaml:3:23: teacher.source_classes: entry 2 (1) repeats entry 1"),
    ERR("teacher:\n  model: mlp\n  target_classes: [0, -2]\n", NULL, NULL,
        "c.yaml:3:23: teacher.target_classes: entry 2 must be >= 0 (got -2)"),
    ERR("teacher:\n  model: mlp\n  source_classes: []\n", NULL, NULL,
        "c.yaml:3:19: teacher.source_classes: the list is empty; give at least one class"),
    ERR("teacher:\n  model: mlp\n  source_classes: 1\n", NULL, NULL,
        "c.yaml:3:19: teacher.source_classes: expected a list of class labels such as [0, 2, 4]"),
    ERR("teacher:\n  model: mlp\n  source_classes: [a]\n", NULL, NULL,
        "c.yaml:3:20: teacher.source_classes: entry 1: expected an integer"),
    ERR("teacher:\n  model: mlp\n  pool: 3\n", NULL, NULL,
        "c.yaml:3:9: teacher.pool must be 1 or 2 (got 3)"),
    ERR("teacher:\n  model: mlp\n  target_classes: [0, 2, 4, 6, 8, 10]\n", NULL, NULL,
        "c.yaml:3:19: teacher.target_classes: 6 classes, but the network has 5 outputs"),
    ERR("teacher:\n  model: mlp\n  data: /nonexistent/folder\n", NULL, NULL,
        "c.yaml:3:9: teacher.data: no data: neither .npy files"),
    ERR("teacher:\n  hidden: 10\n", NULL, NULL,
        "c.yaml:2:11: teacher.hidden: applies to real data only (teacher.model: mlp, or the "
        "ntk teacher's features: mlp), and teacher.model is linear; leave it out"),
    ERR("pretrain:\n  epochs: 2\n", NULL, NULL,
        "c.yaml:2:11: pretrain.epochs: applies to real data only"),
    ERR("pretrain:\n  lr: 0\n", NULL, NULL, "c.yaml:2:7: pretrain.lr must be > 0 (got 0)"),
    // matrices
    ERR("teacher:\n  w0: [[1, 2], [3]]\n", NULL, NULL,
        "c.yaml:2:16: teacher.w0: row 2 has 1 entry but row 1 has 2"),
    ERR("teacher:\n  w0: [[1, 2], []]\n", NULL, NULL, "c.yaml:2:16: teacher.w0: row 2 is empty"),
    ERR("teacher:\n  w0: [1, 2]\n", NULL, NULL,
        "c.yaml:2:8: teacher.w0: row 1: expected a list of numbers, got '1'"),
    ERR("teacher:\n  w0: []\n", NULL, NULL,
        "c.yaml:2:7: teacher.w0: an inline matrix needs at least"),
    ERR("teacher:\n  x:\n    - [1, 2]\n    - [3, x]\n", NULL, NULL,
        "c.yaml:4:11: teacher.x: row 2, column 2: expected a number, got 'x'"),
    ERR("teacher:\n  d: 3\n  w0: [[1, 2], [3, 4]]\n", NULL, NULL,
        "c.yaml:2:6: teacher.d is 3 but teacher.w0 (inline) has shape (2, 2)"),
    ERR("teacher:\n  w0: [[1, 2], [3, 4]]\n  delta: [[1, 2, 3], [4, 5, 6]]\n", NULL, NULL,
        "c.yaml:3:10: teacher.delta (inline) has shape (2, 3), so k = 3, but teacher.w0 (inline) "
        "has shape (2, 2)"),
    ERR("teacher:\n  w0: [[1, 2], [3, 4]]\n  x: [[1, 2, 3]]\n", NULL, NULL,
        "c.yaml:3:6: teacher.x (inline) has shape (1, 3), so d = 3, but teacher.w0 (inline) has "
        "shape (2, 2)"),
    ERR("teacher:\n  n: 5\n  x: [[1, 2]]\n", NULL, NULL,
        "c.yaml:2:6: teacher.n is 5 but teacher.x (inline) has shape (1, 2)"),
    ERR("teacher:\n  delta: [[0, 0], [0, 0]]\n", NULL, NULL,
        "c.yaml:2:10: teacher.delta: the matrix is zero"),
    ERR("teacher:\n  delta: gaussian\n", NULL, NULL,
        "c.yaml:2:10: teacher.delta: 'gaussian' does not apply here; expected one of: generated, a "
        "path to a .npy file, or an inline matrix"),
    ERR("teacher:\n  w0: generated\n", NULL, NULL,
        "c.yaml:2:7: teacher.w0: 'generated' does not apply here; expected one of: gaussian, zero,"),
    ERR("teacher:\n  x: {a: 1}\n", NULL, NULL,
        "c.yaml:2:6: teacher.x: got a mapping; expected one of: generated, a path"),
    ERR("teacher:\n  w0: gausian\n", NULL, NULL,
        "('gausian' is not one of: gaussian, zero, so it was taken as a path)"),
    // seeds and log.save
    ERR("seeds: 0\n", NULL, NULL, "c.yaml:1:8: seeds must be >= 1 (got 0)"),
    ERR("seeds: -2\n", NULL, NULL, "c.yaml:1:8: seeds must be >= 1 (got -2)"),
    ERR("seeds: [1, 2, 1]\n", NULL, NULL, "c.yaml:1:15: seeds: entry 3 (1) repeats entry 1"),
    ERR("seeds: [3, -1]\n", NULL, NULL, "c.yaml:1:12: seeds: entry 2 must be >= 0 (got -1)"),
    ERR("seeds: []\n", NULL, NULL, "c.yaml:1:8: seeds: the list is empty"),
    ERR("seeds: many\n", NULL, NULL,
        "c.yaml:1:8: seeds: expected a count or a list of seeds, got 'many'"),
    ERR("seeds: [1, 2.5]\n", NULL, NULL,
        "c.yaml:1:12: seeds: entry 2: expected an integer, got '2.5'"),
    ERR("log:\n  save: [a, x]\n", NULL, NULL,
        "c.yaml:2:13: log.save: 'x' is not one of: a, b, w, g"),
    ERR("log:\n  save: [a, a]\n", NULL, NULL, "c.yaml:2:13: log.save: 'a' is listed twice"),
    ERR("log:\n  save: a\n", NULL, NULL,
        "c.yaml:2:9: log.save: expected a list such as [a, w], got 'a'"),
    // --set
    ERR("{}\n", "optimizer.lrr=0.1", NULL,
        "--set optimizer.lrr: unknown key (did you mean 'optimizer.lr'?)"),
    ERR("{}\n", "bogus.key=1", NULL, "--set bogus.key: unknown key (valid top-level keys: name,"),
    ERR("{}\n", "teacher=1", NULL,
        "--set teacher: a section, not a key; set one of its keys (model,"),
    ERR("{}\n", "abc", NULL, "--set expects key=value, got 'abc'"),
    ERR("{}\n", "optimizer.lr=-1", NULL, "--set optimizer.lr: must be > 0 (got -1)"),
    ERR("optimizer:\n  lr: 0.1\n", "optimizer.lr=[1,", NULL,
        "--set optimizer.lr: YAML syntax error in '[1,': did not find expected node "
        "content"),
    ERR("{}\n", "teacher.d=abc", NULL, "--set teacher.d: expected an integer, got 'abc'"),
    ERR("{}\n", "teacher.d=\"3\"", NULL,
        "--set teacher.d: expected an integer, got a quoted string"),
    ERR("{}\n", "lora.rank=200", NULL, "--set lora.rank: 200 exceeds min(d, k) = 100"),
    ERR("teacher: 5\n", "teacher.d=3", NULL,
        "--set teacher.d: cannot set it: " /* then the file's location */),
    ERR("teacher:\n  w0: [[1, 2]]\n", "teacher.d=3", NULL,
        "--set teacher.d: is 3 but teacher.w0 (inline) has shape (1, 2)"),
    ERR("{}\n", "teacher.x=[[1,2],[3]]", NULL,
        "--set teacher.x: row 2 has 1 entry but row 1 has 2"),
    ERR("{}\n", "log.save=[a, q]", NULL, "--set log.save: 'q' is not one of: a, b, w, g"),
    ERR("{}\n", "seeds=[1, 1]", NULL, "--set seeds: entry 2 (1) repeats entry 1"),
    ERR("{}\n", "teacher.w0=[[1]]", "teacher.d=2",
        "--set teacher.d: is 2 but teacher.w0 (inline) has shape (1, 1)"),
};

static void test_errors(void)
{
    for (size_t i = 0; i < sizeof ERRORS / sizeof ERRORS[0]; i++) {
        const error_case *c = &ERRORS[i];
        const char *sets[3] = {c->set1, c->set2, NULL};
        spec s;
        lerr e;
        int rc = load_text("c.yaml", c->text, sets, &s, &e);
        CHECK(rc != 0, "case %zu (%s) was accepted", i, c->want);
        if (rc == 0) {
            spec_free(&s);
            continue;
        }
        if (getenv("TEST_CONFIG_VERBOSE")) printf("%s\n", e.msg);
        CHECK(e.kind == LERR_INPUT, "case %zu: kind %d", i, e.kind);
        CHECK(strstr(e.msg, c->want) != NULL, "case %zu:\n  want: %s\n  got:  %s", i, c->want,
              e.msg);
        CHECK(!c->names || strstr(e.msg, c->names()), "case %zu lists the names: %s", i, e.msg);
        spec_free(&s);   // must be harmless after a failure
    }
}

// Values at the edge of what is accepted.
static void test_accepted(void)
{
    static const struct {
        const char *text;
        const char *set;
    } cases[] = {
        {"teacher:\n  n: 1e4\n", NULL},
        {"optimizer:\n  steps: 0\n", NULL},
        {"init:\n  normalize: NO\n", NULL},
        {"teacher:\n  noise: 0\n  w0_scale: 0\n", NULL},
        {"teacher:\n", NULL},
        {"teacher: ~\nlog:\n  save: []\n", NULL},
        {"seeds: 3\n", NULL},
        {"{}\n", "teacher.d=+9"},
        {"{}\n", "init.alpha2=0"},
        {"name: 'quoted-name'\n", NULL},
        {"teacher:\n", "teacher.d=9"},
        {"lora: null\n", "lora.rank=3"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *sets[2] = {cases[i].set, NULL};
        spec s;
        lerr e;
        int rc = load_text("ok.yaml", cases[i].text, sets, &s, &e);
        CHECK(rc == 0, "accepted case %zu: %s", i, e.msg);
        if (rc == 0) check_round_trip("accepted", &s);
        spec_free(&s);
    }
    spec s;
    lerr e;
    CHECK(load_text("ok.yaml", "teacher:\n  n: 1e4\nseeds: 3\n", NULL, &s, &e) == 0 &&
              s.teacher.n == 10000 && s.nseeds == 3 && s.seeds[2] == 2 && s.seeds_is_count,
          "1e4 and seeds: 3");
    spec_free(&s);
}

// ---------------------------------------------------------------------------
// Sweeps

// Parse tmpdir/name holding `text` into *doc and read its sweep block.
static int load_sweep(const char *name, const char *text, config_doc **doc, sweep_def *sw,
                      lerr *e)
{
    memset(sw, 0, sizeof *sw);
    memset(e, 0, sizeof *e);
    *doc = config_parse_file(write_text(name, text), e);
    if (!*doc) return -1;
    return config_sweep(*doc, sw, e);
}

// What one axis should hold (at most 5 values).
typedef struct {
    const char *key;
    int zip, n;
    const char *values[5], *labels[5];
    int lines[5], cols[5];
} axis_want;

static void check_axis(const char *what, const sweep_axis *got, const axis_want *w)
{
    CHECK(same_str(got->key, w->key), "%s: key %s, want %s", what, got->key, w->key);
    CHECK(got->zip == w->zip, "%s %s: zip %d", what, w->key, got->zip);
    CHECK(got->nvalues == w->n, "%s %s: %d values, want %d", what, w->key, got->nvalues, w->n);
    for (int i = 0; i < w->n && i < got->nvalues; i++) {
        CHECK(same_str(got->values[i], w->values[i]), "%s %s value %d: [%s], want [%s]", what,
              w->key, i, got->values[i], w->values[i]);
        CHECK(same_str(got->labels[i], w->labels[i]), "%s %s label %d: [%s], want [%s]", what,
              w->key, i, got->labels[i], w->labels[i]);
        CHECK(got->lines[i] == w->lines[i] && got->cols[i] == w->cols[i],
              "%s %s value %d at %d:%d, want %d:%d", what, w->key, i, got->lines[i],
              got->cols[i], w->lines[i], w->cols[i]);
    }
}

// Resolve one cell the way the sweep runner does: a copy of the document,
// one override per axis (origin: the value's place in the file), the seed.
static int resolve_cell(const config_doc *doc, const sweep_def *sw, const int *choice, long seed,
                        spec *s, lerr *e)
{
    config_doc *d = config_doc_copy(doc);
    int rc = 0;
    for (int a = 0; !rc && a < sw->naxes; a++) {
        const sweep_axis *ax = &sw->axes[a];
        char origin[PATH_MAX + 64];
        snprintf(origin, sizeof origin, "%s:%d:%d", sw->file, ax->lines[choice[a]],
                 ax->cols[choice[a]]);
        rc = config_doc_set(d, ax->key, ax->values[choice[a]], origin, e);
    }
    char seeds[32];
    snprintf(seeds, sizeof seeds, "[%ld]", seed);
    if (!rc) rc = config_doc_set(d, "seeds", seeds, NULL, e);
    if (!rc) rc = config_resolve(d, s, e);
    config_doc_free(d);
    return rc;
}

// config_write + config_write_sweep, parsed again: the same spec and values.
static void check_sweep_round_trip(const char *what, const spec *s, const sweep_def *sw)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) exit(1);
    CHECK(config_write(s, f) == 0 && config_write_sweep(sw, f) == 0, "%s: write", what);
    fclose(f);
    lerr e = {0};
    config_doc *doc = config_parse_string(buf, "rt.yaml", &e);
    CHECK(doc != NULL, "%s: re-parse: %s\n%s", what, e.msg, buf);
    sweep_def again = {0};
    spec s2;
    int rc = doc ? config_sweep(doc, &again, &e) : -1;
    CHECK(rc == 0, "%s: re-read sweep: %s\n%s", what, e.msg, buf);
    CHECK(again.naxes == sw->naxes, "%s: %d axes, want %d", what, again.naxes, sw->naxes);
    for (int a = 0; rc == 0 && a < sw->naxes && a < again.naxes; a++) {
        const sweep_axis *x = &sw->axes[a], *y = &again.axes[a];
        CHECK(same_str(x->key, y->key) && x->zip == y->zip && x->nvalues == y->nvalues,
              "%s: axis %d differs (%s)", what, a, x->key);
        for (int i = 0; i < x->nvalues && i < y->nvalues; i++)
            CHECK(same_str(x->values[i], y->values[i]) && same_str(x->labels[i], y->labels[i]),
                  "%s: %s value %d: [%s] became [%s]", what, x->key, i, x->values[i],
                  y->values[i]);
    }
    rc = doc ? config_resolve(doc, &s2, &e) : -1;
    CHECK(rc == 0, "%s: re-resolve: %s\n%s", what, e.msg, buf);
    if (rc == 0) CHECK(same_spec(s, &s2), "%s: round trip changed the spec", what);
    spec_free(&s2);
    sweep_def_free(&again);
    config_doc_free(doc);
    free(buf);
}

static const char *const SWEEP_MAIN =
    "name: sw\n"
    "sweep:\n"
    "  init.alpha2: [1, 0.1, 1e-3]\n"
    "  zip:\n"
    "    teacher.d: [50, 100, 200]\n"
    "    teacher.n:\n"
    "      - 800\n"
    "      - 1.6e3\n"
    "      - 3200\n"
    "  init.method: ['lora', \"spectral\"]\n"
    "  teacher.kappa: [1, +4]\n"
    "seeds: 5\n";

// Product keys in file order, then zip keys in file order, with marks.
static void test_sweep_parse(void)
{
    static const axis_want want[] = {
        {"init.alpha2", 0, 3, {"1", "0.1", "1e-3"}, {"1", "0.1", "1e-3"}, {3, 3, 3},
         {17, 20, 25}},
        {"init.method", 0, 2, {"\"lora\"", "\"spectral\""}, {"lora", "spectral"}, {10, 10},
         {17, 25}},
        {"teacher.kappa", 0, 2, {"1", "+4"}, {"1", "+4"}, {11, 11}, {19, 22}},
        {"teacher.d", 1, 3, {"50", "100", "200"}, {"50", "100", "200"}, {5, 5, 5}, {17, 21, 26}},
        {"teacher.n", 1, 3, {"800", "1.6e3", "3200"}, {"800", "1.6e3", "3200"}, {7, 8, 9},
         {9, 9, 9}},
    };
    config_doc *doc;
    sweep_def sw;
    lerr e;
    int rc = load_sweep("sw.yaml", SWEEP_MAIN, &doc, &sw, &e);
    CHECK(rc == 0, "sweep: %s", e.msg);
    if (rc) {
        config_doc_free(doc);
        return;
    }
    CHECK(sw.naxes == 5, "%d axes", sw.naxes);
    CHECK(sw.file && strstr(sw.file, "/sw.yaml"), "file %s", sw.file);
    for (int a = 0; a < 5 && a < sw.naxes; a++) check_axis("main", &sw.axes[a], &want[a]);

    // config_resolve skips the block: the file's own values and defaults.
    spec s;
    rc = config_resolve(doc, &s, &e);
    CHECK(rc == 0 && same_str(s.name, "sw") && s.teacher.d == 100 && s.nseeds == 5 &&
              s.init.alpha2 == 1e-3,
          "resolve ignores sweep: %s", e.msg);
    if (rc == 0) check_sweep_round_trip("main", &s, &sw);

    // The block as written back.
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) exit(1);
    CHECK(config_write_sweep(&sw, f) == 0, "write_sweep");
    fclose(f);
    CHECK(same_str(buf, "sweep:\n"
                        "  init.alpha2: [1, 0.1, 1e-3]\n"
                        "  init.method: [\"lora\", \"spectral\"]\n"
                        "  teacher.kappa: [1, +4]\n"
                        "  zip:\n"
                        "    teacher.d: [50, 100, 200]\n"
                        "    teacher.n: [800, 1.6e3, 3200]\n"),
          "written sweep:\n%s", buf);
    free(buf);
    spec_free(&s);

    // Cells: every value reaches its field; the zip pair moves together.
    const int pick[5] = {2, 1, 1, 1, 1};
    rc = resolve_cell(doc, &sw, pick, 7, &s, &e);
    CHECK(rc == 0, "cell: %s", e.msg);
    if (rc == 0)
        CHECK(s.init.alpha2 == 1e-3 && same_str(s.init.method, "spectral") &&
                  s.teacher.kappa == 4 && s.teacher.d == 100 && s.teacher.n == 1600 &&
                  s.nseeds == 1 && s.seeds[0] == 7 && same_str(s.name, "sw"),
              "cell values");
    spec_free(&s);
    const int first[5] = {0, 0, 0, 0, 0};
    rc = resolve_cell(doc, &sw, first, 0, &s, &e);
    CHECK(rc == 0 && s.init.alpha2 == 1 && same_str(s.init.method, "lora") &&
              s.teacher.kappa == 1 && s.teacher.d == 50 && s.teacher.n == 800,
          "first cell: %s", e.msg);
    spec_free(&s);
    sweep_def_free(&sw);
    config_doc_free(doc);

    // No block, a null block and an empty one: no axes (and nothing written).
    static const char *const none[] = {"name: x\n", "sweep:\n", "sweep: {}\n"};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        rc = load_sweep("none.yaml", none[i], &doc, &sw, &e);
        CHECK(rc == 0 && sw.naxes == 0 && sw.axes == NULL, "no sweep %zu: %s", i, e.msg);
        f = open_memstream(&buf, &len);
        if (!f) exit(1);
        CHECK(config_write_sweep(&sw, f) == 0, "write nothing");
        fclose(f);
        CHECK(len == 0, "nothing written: %s", buf);
        free(buf);
        sweep_def_free(&sw);
        config_doc_free(doc);
    }
}

// Matrices, lists and paths as values.
static const char *const SWEEP_MATRIX =
    "lora:\n"
    "  rank: 1\n"
    "sweep:\n"
    "  teacher.w0: [[[1, 2], [3, 4]], zero, \"my w0.npy\"]\n"
    "  teacher.delta:\n"
    "    - [[1, 0], [0, 1]]\n"
    "    - - [1, 1]\n"
    "      - [1, -1]\n"
    "  log.save: [[a], [a, w], []]\n";

static void test_sweep_values(void)
{
    static const axis_want want[] = {
        {"teacher.w0", 0, 3, {"[[1, 2], [3, 4]]", "zero", "\"my w0.npy\""},
         {"[[1, 2], [3, 4]]", "zero", "my w0.npy"}, {4, 4, 4}, {16, 34, 40}},
        {"teacher.delta", 0, 2, {"[[1, 0], [0, 1]]", "[[1, 1], [1, -1]]"},
         {"[[1, 0], [0, 1]]", "[[1, 1], [1, -1]]"}, {6, 7}, {7, 7}},
        {"log.save", 0, 3, {"[a]", "[a, w]", "[]"}, {"[a]", "[a, w]", "[]"}, {9, 9, 9},
         {14, 19, 27}},
    };
    config_doc *doc;
    sweep_def sw;
    lerr e;
    int rc = load_sweep("mat.yaml", SWEEP_MATRIX, &doc, &sw, &e);
    CHECK(rc == 0 && sw.naxes == 3, "matrix sweep: %s", e.msg);
    if (rc) {
        config_doc_free(doc);
        return;
    }
    for (int a = 0; a < 3 && a < sw.naxes; a++) check_axis("matrix", &sw.axes[a], &want[a]);

    spec s;
    const int c1[3] = {0, 1, 1};
    rc = resolve_cell(doc, &sw, c1, 0, &s, &e);
    CHECK(rc == 0, "matrix cell: %s", e.msg);
    if (rc == 0) {
        CHECK(s.teacher.w0.kind == MAT_INLINE && s.teacher.w0.data[3] == 4 && s.teacher.d == 2 &&
                  s.teacher.k == 2,
              "w0 inline");
        CHECK(s.teacher.delta.kind == MAT_INLINE && s.teacher.delta.data[3] == -1 &&
                  s.teacher.rank == 2,
              "delta inline, rank from it: %d", s.teacher.rank);
        CHECK(s.log.save == (SAVE_A | SAVE_W), "log.save");
        check_sweep_round_trip("matrix", &s, &sw);
    }
    spec_free(&s);
    const int c2[3] = {1, 0, 2};
    rc = resolve_cell(doc, &sw, c2, 0, &s, &e);
    CHECK(rc == 0 && s.teacher.w0.kind == MAT_ZERO && s.log.save == 0, "zero, []: %s", e.msg);
    spec_free(&s);
    // A path value that does not exist: the value's place, taken from the file's folder.
    const int c3[3] = {2, 0, 0};
    rc = resolve_cell(doc, &sw, c3, 0, &s, &e);
    char want_msg[PATH_MAX + 64];
    snprintf(want_msg, sizeof want_msg, "mat.yaml:4:40: teacher.w0: ");
    CHECK(rc != 0 && strstr(e.msg, want_msg) && strstr(e.msg, "/my w0.npy"), "path: %s", e.msg);
    spec_free(&s);
    sweep_def_free(&sw);
    config_doc_free(doc);
}

// Relative .npy paths in sweep values start at the experiment's folder,
// whatever the working directory (test_npy made data/w0.npy, 6 x 4).
static void test_sweep_paths(void)
{
    char real[PATH_MAX], want[PATH_MAX + 64];
    CHECK(realpath(tmpdir, real) != NULL, "realpath");
    snprintf(want, sizeof want, "%s/data/w0.npy", real);
    config_doc *doc;
    sweep_def sw;
    lerr e;
    int rc = load_sweep("exp/swp.yaml", "lora:\n  rank: 2\nsweep:\n"
                                        "  teacher.w0: [../data/w0.npy, zero]\n",
                        &doc, &sw, &e);
    CHECK(rc == 0 && sw.naxes == 1 && same_str(sw.axes[0].values[0], "../data/w0.npy"),
          "path sweep: %s", e.msg);
    if (rc == 0) {
        spec s;
        const int c0[1] = {0};
        rc = resolve_cell(doc, &sw, c0, 0, &s, &e);
        CHECK(rc == 0 && s.teacher.w0.kind == MAT_FILE && same_str(s.teacher.w0.path, want) &&
                  s.teacher.d == 6 && s.teacher.k == 4,
              "sweep path from the file's folder: %s", rc ? e.msg : s.teacher.w0.path);
        spec_free(&s);
    }
    sweep_def_free(&sw);
    config_doc_free(doc);
}

// config_doc_copy: a deep copy; overrides on it leave the original alone.
static void test_doc_copy(void)
{
    lerr e = {0};
    config_doc *doc = config_parse_string("teacher:\n  d: 20\n  k: 30\n", "cp.yaml", &e);
    CHECK(doc != NULL, "parse: %s", e.msg);
    if (!doc) return;
    config_doc *copy = config_doc_copy(doc);
    CHECK(config_doc_set(copy, "teacher.d", "25", NULL, &e) == 0 &&
              config_doc_set(copy, "optimizer.lr", "0.5", "cp.yaml:3:4", &e) == 0 &&
              config_doc_set(copy, "lora.rank", "2", NULL, &e) == 0,
          "set on copy: %s", e.msg);
    config_doc *copy2 = config_doc_copy(copy);   // sections made by set are copied too
    CHECK(config_doc_set(copy2, "lora.rank", "3", NULL, &e) == 0, "set on copy2: %s", e.msg);
    spec a, b, c;
    int ra = config_resolve(doc, &a, &e);
    CHECK(ra == 0 && a.teacher.d == 20 && a.optimizer.lr == 0.015625 && a.lora.rank == 8,
          "original unchanged? %s (d %d, lr %g, rank %d)", e.msg, a.teacher.d, a.optimizer.lr,
          a.lora.rank);
    config_doc_free(doc);   // the copies must not depend on it
    int rb = config_resolve(copy, &b, &e);
    CHECK(rb == 0 && b.teacher.d == 25 && b.teacher.k == 30 && b.optimizer.lr == 0.5 &&
              b.lora.rank == 2,
          "copy: %s", e.msg);
    int rc = config_resolve(copy2, &c, &e);
    CHECK(rc == 0 && c.lora.rank == 3 && c.teacher.d == 25, "copy of a copy: %s", e.msg);
    CHECK(rb == 0 && rc == 0 && same_str(b.source_path, "cp.yaml"), "name copied");
    spec_free(&a);
    spec_free(&b);
    spec_free(&c);
    config_doc_free(copy);
    config_doc_free(copy2);
}

// Messages for values set with a place in the file as origin.
static void test_origin_messages(void)
{
    static const struct {
        const char *key, *value, *want;
        int at_set;   // 1: config_doc_set fails, 0: config_resolve does
    } cases[] = {
        {"lora.rank", "200", "o.yaml:5:18: lora.rank: 200 exceeds min(d, k) = 100 (d = 100, "
                             "k = 100)", 0},
        {"optimizer.lr", "-1", "o.yaml:5:18: optimizer.lr: must be > 0 (got -1)", 0},
        {"teacher.d", "abc", "o.yaml:5:18: teacher.d: expected an integer, got 'abc'", 0},
        {"teacher.x", "[[1, 2], [3]]", "o.yaml:5:18: teacher.x: row 2 has 1 entry but row 1 "
                                       "has 2", 0},
        {"optimizer.lrr", "1", "o.yaml:5:18: optimizer.lrr: unknown key (did you mean "
                               "'optimizer.lr'?)", 1},
        {"teacher", "1", "o.yaml:5:18: teacher: a section, not a key; set one of its keys", 1},
        {"optimizer.lr", "[1,", "o.yaml:5:18: optimizer.lr: YAML syntax error in '[1,'", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lerr e = {0};
        config_doc *doc = config_parse_string("{}\n", "o.yaml", &e);
        if (!doc) exit(1);
        int rc = config_doc_set(doc, cases[i].key, cases[i].value, "o.yaml:5:18", &e);
        CHECK((rc != 0) == cases[i].at_set, "origin case %zu: set gave %d (%s)", i, rc, e.msg);
        spec s;
        if (rc == 0) {
            rc = config_resolve(doc, &s, &e);
            CHECK(rc != 0, "origin case %zu accepted", i);
            if (rc == 0) spec_free(&s);
        }
        if (getenv("TEST_CONFIG_VERBOSE")) printf("%s\n", e.msg);
        CHECK(strncmp(e.msg, cases[i].want, strlen(cases[i].want)) == 0,
              "origin case %zu:\n  want: %s\n  got:  %s", i, cases[i].want, e.msg);
        config_doc_free(doc);
    }
    // The exact form of the first case, whole.
    lerr e = {0};
    config_doc *doc = config_parse_string("{}\n", "o.yaml", &e);
    spec s;
    CHECK(doc && config_doc_set(doc, "lora.rank", "200", "exp.yaml:5:18", &e) == 0 &&
              config_resolve(doc, &s, &e) != 0 &&
              same_str(e.msg, "exp.yaml:5:18: lora.rank: 200 exceeds min(d, k) = 100 (d = 100, "
                              "k = 100)"),
          "whole message: %s", e.msg);
    config_doc_free(doc);
}

// Sweep blocks that are refused, each with its place.
static void test_sweep_errors(void)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"sweep:\n  init.alpha2: []\n",
         "s.yaml:2:16: sweep: init.alpha2: the list of values is empty"},
        {"sweep:\n  init.alpha2: 0.1\n",
         "s.yaml:2:16: sweep: init.alpha2: expected a list of values such as [1, 0.1], got "
         "'0.1'"},
        {"sweep:\n  log.save: a\n",
         "s.yaml:2:13: sweep: log.save: expected a list of values such as [[a], [a, w]], got "
         "'a'"},
        {"sweep:\n  zip:\n    teacher.d: [50, 100, 200]\n    teacher.n: [800, 1600]\n",
         "s.yaml:4:16: sweep.zip: teacher.n has 2 values but teacher.d has 3; keys under zip "
         "vary together"},
        {"sweep:\n  zip:\n    teacher.d: [50]\n    teacher.n: [800, 1600]\n    teacher.k: [1]\n",
         "s.yaml:4:16: sweep.zip: teacher.n has 2 values but teacher.d has 1"},
        {"sweep:\n  init.alpah2: [1]\n",
         "s.yaml:2:3: sweep: unknown key 'init.alpah2' (did you mean 'init.alpha2'?)"},
        {"sweep:\n  alpha2: [1]\n",
         "s.yaml:2:3: sweep: unknown key 'alpha2' (did you mean 'init.alpha2'?)"},
        {"sweep:\n  zip:\n    teacher.dd: [1]\n",
         "s.yaml:3:5: sweep.zip: unknown key 'teacher.dd' (did you mean 'teacher.d'?)"},
        {"sweep:\n  optimizer.learning_rate: [1]\n",
         "s.yaml:2:3: sweep: unknown key 'optimizer.learning_rate' (valid keys in optimizer: "
         "method, lr,"},
        {"sweep:\n  foo: [1]\n",
         "s.yaml:2:3: sweep: unknown key 'foo' (sweep keys are dotted keys such as teacher.d"},
        {"sweep:\n  teacher: [1]\n",
         "s.yaml:2:3: sweep: 'teacher' is a section, not a key; sweep one of its keys as "
         "teacher.KEY (model, activation,"},
        {"sweep:\n  seeds: [1, 2]\n", "s.yaml:2:3: sweep: 'seeds' cannot be swept"},
        {"sweep:\n  zip:\n    name: [a, b]\n", "s.yaml:3:5: sweep.zip: 'name' cannot be swept"},
        {"sweep:\n  teacher.d: [1, 2]\n  zip:\n    teacher.d: [3, 4]\n",
         "s.yaml:4:5: sweep.zip: teacher.d is swept twice (first at line 2, column 3)"},
        {"sweep:\n  zip:\n    teacher.d: [3, 4]\n  teacher.d: [1, 2]\n",
         "s.yaml:4:3: sweep: teacher.d is swept twice (first at line 3, column 5)"},
        {"sweep:\n  teacher.d: [1]\n  teacher.d: [2]\n",
         "s.yaml:3:3: duplicate key 'sweep.teacher.d' (first at line 2, column 3)"},
        {"sweep:\n  zip: {}\n", "s.yaml:2:8: sweep.zip: no keys; list the keys"},
        {"sweep:\n  zip:\n  teacher.d: [1]\n", "s.yaml:2:3: sweep.zip: no keys"},
        {"sweep:\n  zip: [teacher.d]\n",
         "s.yaml:2:8: sweep.zip: must be a mapping of dotted keys to lists of the same length"},
        {"sweep:\n  zip:\n    zip: {}\n", "s.yaml:3:5: sweep.zip: zip groups cannot be nested"},
        {"sweep: [1, 2]\n", "s.yaml:1:8: sweep: must be a mapping of dotted keys to lists of "
                            "values (as in init.alpha2: [1, 0.1]), got a list"},
        {"sweep:\n  teacher.w0: [zero, {a: 1}]\n",
         "s.yaml:2:22: sweep: teacher.w0: value 2: a mapping is not a value of any key"},
        {"sweep:\n  teacher.w0: [[[1, {a: 1}]]]\n",
         "s.yaml:2:21: sweep: teacher.w0: value 1: a mapping is not a value of any key"},
        {"sweep:\n  teacher.d: [1, [2]]\n",
         "s.yaml:2:18: sweep: teacher.d: value 2: expected a single value, got a list"},
        {"sweep:\n  teacher.d:\n    - 1\n    -\n",
         "s.yaml:4:6: sweep: teacher.d: value 2 is empty"},
        {"sweep:\n  teacher.d: [1, ~]\n", "s.yaml:2:18: sweep: teacher.d: value 2 is empty"},
        {"sweep:\n  log.save: [a, w]\n",
         "s.yaml:2:14: sweep: log.save: value 1: expected a list such as [a, w] (sweep log.save "
         "as a list of lists: [[a], [a, w]]), got 'a'"},
        {"sweep:\n  teacher.w0: [[1, 2], [3, 4]]\n",
         "s.yaml:2:16: sweep: teacher.w0: value 1 is a list but not a matrix"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        config_doc *doc;
        sweep_def sw;
        lerr e;
        int rc = load_sweep("s.yaml", cases[i].text, &doc, &sw, &e);
        CHECK(rc != 0, "sweep case %zu (%s) was accepted", i, cases[i].want);
        if (getenv("TEST_CONFIG_VERBOSE")) printf("%s\n", e.msg);
        CHECK(e.kind == LERR_INPUT, "sweep case %zu: kind %d", i, e.kind);
        CHECK(strstr(e.msg, cases[i].want) != NULL, "sweep case %zu:\n  want: %s\n  got:  %s", i,
              cases[i].want, e.msg);
        CHECK(sw.naxes == 0 && sw.axes == NULL && sw.file == NULL, "sweep case %zu: not emptied",
              i);
        sweep_def_free(&sw);
        config_doc_free(doc);
    }
}

// A value fine in shape but wrong for its key: found when its cell resolves,
// named by its place in the file.
static void test_sweep_cell_errors(void)
{
    config_doc *doc;
    sweep_def sw;
    lerr e;
    int rc = load_sweep("ce.yaml",
                        "sweep:\n  lora.rank: [2, 200]\n  init.method: [lora, nope]\n", &doc,
                        &sw, &e);
    CHECK(rc == 0 && sw.naxes == 2, "cell errors: %s", e.msg);
    if (rc == 0) {
        spec s;
        const int bad_rank[2] = {1, 0}, bad_method[2] = {0, 1};
        rc = resolve_cell(doc, &sw, bad_rank, 0, &s, &e);
        CHECK(rc != 0 && strstr(e.msg, "ce.yaml:2:18: lora.rank: 200 exceeds min(d, k) = 100 "
                                       "(d = 100, k = 100)"),
              "bad rank: %s", e.msg);
        if (rc == 0) spec_free(&s);
        rc = resolve_cell(doc, &sw, bad_method, 0, &s, &e);
        CHECK(rc != 0 && strstr(e.msg, "ce.yaml:3:23: init.method: 'nope' is not one of: "),
              "bad method: %s", e.msg);
        if (rc == 0) spec_free(&s);
    }
    sweep_def_free(&sw);
    config_doc_free(doc);
}

// Plain scalars that flow text would read otherwise come back quoted; the
// values still round-trip and reach the same field.
static void test_sweep_quoting(void)
{
    config_doc *doc;
    sweep_def sw;
    lerr e;
    int rc = load_sweep("qt.yaml", "sweep:\n  teacher.x:\n    - a b, c.npy\n    - x:y#z.npy\n"
                                   "    - '-'\n  teacher.noise: [-1e-3, .5]\n",
                        &doc, &sw, &e);
    CHECK(rc == 0 && sw.naxes == 2, "quoting: %s", e.msg);
    if (rc == 0 && sw.naxes == 2) {
        const sweep_axis *x = &sw.axes[0], *n = &sw.axes[1];
        CHECK(same_str(x->values[0], "\"a b, c.npy\"") && same_str(x->labels[0], "a b, c.npy"),
              "spaces and comma: %s", x->values[0]);
        CHECK(same_str(x->values[1], "\"x:y#z.npy\"") && same_str(x->values[2], "\"-\""),
              "indicators: %s %s", x->values[1], x->values[2]);
        CHECK(same_str(n->values[0], "-1e-3") && same_str(n->values[1], ".5"), "numbers plain");
        spec s;
        rc = config_resolve(doc, &s, &e);
        if (rc == 0) check_sweep_round_trip("quoting", &s, &sw);
        spec_free(&s);
        const int c[2] = {0, 1};
        rc = resolve_cell(doc, &sw, c, 0, &s, &e);
        CHECK(rc != 0 && strstr(e.msg, "qt.yaml:3:7: teacher.x: ") &&
                  strstr(e.msg, "/a b, c.npy"),
              "quoted path reaches the field: %s", e.msg);
        if (rc == 0) spec_free(&s);
    }
    sweep_def_free(&sw);
    config_doc_free(doc);
}

// ---------------------------------------------------------------------------
// --set on swept keys and on the sweep block

static const char *const SWEEP_SET =
    "teacher: {d: 10, k: 10, n: 50, rank: 2}\n"
    "lora: {rank: 2}\n"
    "sweep:\n"
    "  optimizer.lr: [0.01, 0.02]\n"
    "  zip:\n"
    "    init.alpha2: [1, 0.1]\n"
    "    init.gamma: [1, 2]\n";

// The axes of a sweep as "key[v1,v2] zip:key[v1] ..." (static buffer).
static const char *sweep_shape(const sweep_def *sw)
{
    static char buf[1024];
    buf[0] = '\0';
    for (int a = 0; a < sw->naxes; a++) {
        const sweep_axis *ax = &sw->axes[a];
        size_t n = strlen(buf);
        snprintf(buf + n, sizeof buf - n, "%s%s%s[", a ? " " : "", ax->zip ? "zip:" : "",
                 ax->key);
        for (int i = 0; i < ax->nvalues; i++) {
            n = strlen(buf);
            snprintf(buf + n, sizeof buf - n, "%s%s", i ? "," : "", ax->values[i]);
        }
        n = strlen(buf);
        snprintf(buf + n, sizeof buf - n, "]");
    }
    return buf;
}

// Resolve one cell the way cells.c does: each value with its axis' origin.
static int resolve_cell_origins(const config_doc *doc, const sweep_def *sw, const int *choice,
                                spec *s, lerr *e)
{
    config_doc *d = config_doc_copy(doc);
    int rc = 0;
    for (int a = 0; !rc && a < sw->naxes; a++)
        rc = config_doc_set(d, sw->axes[a].key, sw->axes[a].values[choice[a]],
                            sw->axes[a].origins[choice[a]], e);
    if (!rc) rc = config_resolve(d, s, e);
    config_doc_free(d);
    return rc;
}

// Apply --set arguments (NULL-terminated) to `text` and read the sweep:
// 0, or -1 when a --set failed, -2 when config_sweep did.
static int set_sweep(const char *text, const char *const *sets, config_doc **doc,
                     sweep_def *sw, lerr *e)
{
    memset(sw, 0, sizeof *sw);
    memset(e, 0, sizeof *e);
    *doc = config_parse_file(write_text("ss.yaml", text), e);
    if (!*doc) return -1;
    for (int i = 0; sets[i]; i++)
        if (config_doc_set_arg(*doc, sets[i], e)) return -1;
    return config_sweep(*doc, sw, e) ? -2 : 0;
}

static void test_set_sweep(void)
{
    static const struct {
        const char *text;
        const char *sets[3];
        const char *shape;   // the axes after the --set arguments
        double lr;           // optimizer.lr of the cell with every first value
    } cases[] = {
        // KEY=VALUE on a swept key: the axis becomes the single value
        {SWEEP_SET, {"optimizer.lr=0.5"}, "zip:init.alpha2[1,0.1] zip:init.gamma[1,2]", 0.5},
        {SWEEP_SET, {"init.alpha2=0.5"}, "optimizer.lr[0.01,0.02] zip:init.gamma[1,2]", 0.01},
        {SWEEP_SET, {"init.alpha2=0.5", "init.gamma=3"}, "optimizer.lr[0.01,0.02]", 0.01},
        // sweep.KEY: replace in place or add a product axis
        {SWEEP_SET, {"sweep.optimizer.lr=[0.5, 0.6, 0.7]"},
         "optimizer.lr[0.5,0.6,0.7] zip:init.alpha2[1,0.1] zip:init.gamma[1,2]", 0.5},
        {SWEEP_SET, {"sweep.lora.rank=[1, 2]"},
         "optimizer.lr[0.01,0.02] lora.rank[1,2] zip:init.alpha2[1,0.1] zip:init.gamma[1,2]",
         0.01},
        {"optimizer: {lr: 0.3}\n", {"sweep.optimizer.lr=[0.1, 0.2]"}, "optimizer.lr[0.1,0.2]",
         0.1},
        {"sweep:\n", {"sweep.optimizer.lr=[0.1]"}, "optimizer.lr[0.1]", 0.1},
        // a zip key named as a product axis moves out of zip, and back
        {SWEEP_SET, {"sweep.init.alpha2=[1, 2, 3]"},
         "optimizer.lr[0.01,0.02] init.alpha2[1,2,3] zip:init.gamma[1,2]", 0.01},
        {SWEEP_SET, {"sweep.zip.optimizer.lr=[0.3, 0.4]"},
         "zip:init.alpha2[1,0.1] zip:init.gamma[1,2] zip:optimizer.lr[0.3,0.4]", 0.3},
        {SWEEP_SET, {"sweep.zip.init.gamma=[5, 6]"},
         "optimizer.lr[0.01,0.02] zip:init.alpha2[1,0.1] zip:init.gamma[5,6]", 0.01},
        {"lora: {rank: 2}\n", {"sweep.zip.teacher.d=[5, 6]", "sweep.zip.teacher.n=[50, 60]"},
         "zip:teacher.d[5,6] zip:teacher.n[50,60]", 0.015625},
        // [] removes a key wherever it is; an emptied zip goes
        {SWEEP_SET, {"sweep.optimizer.lr=[]"}, "zip:init.alpha2[1,0.1] zip:init.gamma[1,2]",
         0.015625},
        {SWEEP_SET, {"sweep.zip.init.gamma=[]", "sweep.init.alpha2=[]"},
         "optimizer.lr[0.01,0.02]", 0.01},
        {SWEEP_SET, {"sweep.teacher.d=[]"},
         "optimizer.lr[0.01,0.02] zip:init.alpha2[1,0.1] zip:init.gamma[1,2]", 0.01},
        // the zip group and the whole block
        {SWEEP_SET, {"sweep.zip={}"}, "optimizer.lr[0.01,0.02]", 0.01},
        {SWEEP_SET, {"sweep.zip={optimizer.lr: [3, 4], teacher.d: [5, 6]}"},
         "zip:optimizer.lr[3,4] zip:teacher.d[5,6]", 3},
        {SWEEP_SET, {"sweep={}"}, "", 0.015625},
        {SWEEP_SET, {"sweep=null"}, "", 0.015625},
        {SWEEP_SET, {"sweep="}, "", 0.015625},
        {SWEEP_SET, {"sweep={teacher.d: [5, 6]}"}, "teacher.d[5,6]", 0.015625},
        // later arguments act on what earlier ones left
        {SWEEP_SET, {"sweep.optimizer.lr=[0.3]", "optimizer.lr=0.5"},
         "zip:init.alpha2[1,0.1] zip:init.gamma[1,2]", 0.5},
        {SWEEP_SET, {"optimizer.lr=0.5", "sweep.optimizer.lr=[0.3]"},
         "optimizer.lr[0.3] zip:init.alpha2[1,0.1] zip:init.gamma[1,2]", 0.3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        config_doc *doc;
        sweep_def sw;
        lerr e;
        int rc = set_sweep(cases[i].text, cases[i].sets, &doc, &sw, &e);
        CHECK(rc == 0, "set sweep case %zu (%s): %s", i, cases[i].sets[0], e.msg);
        if (rc == 0) {
            CHECK(same_str(sweep_shape(&sw), cases[i].shape),
                  "set sweep case %zu (%s):\n  want: %s\n  got:  %s", i, cases[i].sets[0],
                  cases[i].shape, sweep_shape(&sw));
            int first[8] = {0};
            spec s;
            rc = resolve_cell_origins(doc, &sw, first, &s, &e);
            CHECK(rc == 0 && s.optimizer.lr == cases[i].lr, "set sweep case %zu: lr %g, want %g "
                  "(%s)", i, rc == 0 ? s.optimizer.lr : -1, cases[i].lr, e.msg);
            if (rc == 0) spec_free(&s);
        }
        sweep_def_free(&sw);
        config_doc_free(doc);
    }

    // Origins: a file value by its place, a --set value by its argument.
    config_doc *doc;
    sweep_def sw;
    lerr e;
    const char *const add[] = {"sweep.lora.rank=[1, 2]", NULL};
    int rc = set_sweep(SWEEP_SET, add, &doc, &sw, &e);
    CHECK(rc == 0 && sw.naxes == 4, "origins: %s", e.msg);
    if (rc == 0 && sw.naxes == 4) {
        char want[PATH_MAX + 32];
        snprintf(want, sizeof want, "%s/ss.yaml:4:24", tmpdir);
        CHECK(same_str(sw.axes[0].origins[1], want), "file origin %s, want %s",
              sw.axes[0].origins[1], want);
        CHECK(same_str(sw.axes[1].origins[0], "--set sweep.lora.rank"), "--set origin %s",
              sw.axes[1].origins[0]);
    }
    sweep_def_free(&sw);
    config_doc_free(doc);
}

// Bad values given with --set, wherever they land, are input errors that
// name the argument.
static void test_set_sweep_errors(void)
{
    static const struct {
        const char *text;
        const char *set;
        int stage;           // where it fails: 0 --set, 1 config_sweep, 2 the cell
        int choice[3];       // the cell (stage 2)
        const char *want;
    } cases[] = {
        {SWEEP_SET, "optimizer.lr=abc", 2, {0, 0, 0},
         "--set optimizer.lr: expected a number, got 'abc'"},
        {SWEEP_SET, "init.alpha2=-1", 2, {0, 0, 0}, "--set init.alpha2: must be >= 0 (got -1)"},
        {SWEEP_SET, "sweep.optimizer.lr=[0.1, -1]", 2, {1, 0, 0},
         "--set sweep.optimizer.lr: optimizer.lr: must be > 0 (got -1)"},
        {SWEEP_SET, "sweep.optimizer.lr=0.5", 1, {0},
         "--set sweep.optimizer.lr: sweep: optimizer.lr: expected a list of values such as "
         "[1, 0.1], got '0.5'"},
        {SWEEP_SET, "sweep.zip.teacher.n=[1, 2, 3]", 1, {0},
         "--set sweep.zip.teacher.n: sweep.zip: teacher.n has 3 values but init.alpha2 has 2"},
        {SWEEP_SET, "sweep.seeds=[1, 2]", 1, {0},
         "--set sweep.seeds: sweep: 'seeds' cannot be swept"},
        {SWEEP_SET, "sweep=3", 1, {0},
         "--set sweep: sweep: must be a mapping of dotted keys to lists of values"},
        {SWEEP_SET, "sweep.optimizr.lr=[1]", 0, {0},
         "--set sweep.optimizr.lr: unknown key 'optimizr.lr' (did you mean 'optimizer.lr'?)"},
        {SWEEP_SET, "sweep.teacher=[1]", 0, {0},
         "--set sweep.teacher: 'teacher' is a section, not a key; sweep one of its keys as "
         "teacher.KEY (model,"},
        {SWEEP_SET, "sweep.optimizer.lr=[1,", 0, {0},
         "--set sweep.optimizer.lr: YAML syntax error in '[1,'"},
        {"sweep: 3\n", "sweep.optimizer.lr=[1]", 0, {0},
         "--set sweep.optimizer.lr: cannot set it: "},
        {"{}\n", "foo=1", 0, {0},
         "--set foo: unknown key (valid top-level keys: name, teacher, lora, init, optimizer, "
         "log, pretrain, convex, seeds, sweep)"},
        {"{}\n", "swep=1", 0, {0}, "--set swep: unknown key (did you mean 'sweep'?)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        config_doc *doc;
        sweep_def sw;
        lerr e;
        const char *const sets[] = {cases[i].set, NULL};
        int rc = set_sweep(cases[i].text, sets, &doc, &sw, &e);
        int stage = rc == -1 ? 0 : rc == -2 ? 1 : 2;
        if (rc == 0) {
            spec s;
            rc = resolve_cell_origins(doc, &sw, cases[i].choice, &s, &e);
            CHECK(rc != 0, "set sweep error %zu (%s) accepted", i, cases[i].set);
            if (rc == 0) spec_free(&s);
        }
        if (getenv("TEST_CONFIG_VERBOSE")) printf("%s\n", e.msg);
        CHECK(stage == cases[i].stage, "set sweep error %zu: failed at stage %d, want %d (%s)", i,
              stage, cases[i].stage, e.msg);
        CHECK(e.kind == LERR_INPUT && strncmp(e.msg, cases[i].want, strlen(cases[i].want)) == 0,
              "set sweep error %zu:\n  want: %s\n  got:  %s", i, cases[i].want, e.msg);
        sweep_def_free(&sw);
        config_doc_free(doc);
    }
}

// ---------------------------------------------------------------------------

static void remove_tree(const char *dir)
{
    char cmd[PATH_MAX + 32];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", dir);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_config.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_defaults();
    test_full();
    test_inline();
    test_npy();
    test_real_data();
    test_ntk_files();
    test_set();
    test_errors();
    test_accepted();
    test_sweep_parse();
    test_sweep_values();
    test_sweep_paths();
    test_doc_copy();
    test_origin_messages();
    test_sweep_errors();
    test_sweep_cell_errors();
    test_sweep_quoting();
    test_set_sweep();
    test_set_sweep_errors();
    remove_tree(tmpdir);
    return check_summary("test_config");
}
