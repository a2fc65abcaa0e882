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
    CHECK(s.log.every == 1 && s.log.save == 0, "log.*");
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
    CHECK(strncmp(out, "# resolved by loralab; every key shown\n", 39) == 0, "header line");
    CHECK(strstr(out, "\n  save: [a, w, g]\n") != NULL, "log.save written in bit order");
    CHECK(strstr(out, "\nseeds: [5, 0, 7]\n") != NULL, "seeds written as a list");
    CHECK(strstr(out, "\n  lr: 0.10000000000000001\n") != NULL, "lr with %%.17g");
    CHECK(strstr(out, "\n  n: 1600\n") != NULL, "ints with %%d");
    CHECK(strstr(out, "\n  normalize: true\n") != NULL, "bools");
    CHECK(strstr(out, "\noptimizer:\n  method: precgd\n") != NULL, "sections as mappings");
    // Every key of config_keys() is written.
    const char *const *keys = config_keys();
    int nkeys = 0;
    for (; keys[nkeys]; nkeys++) {
        const char *leaf = strrchr(keys[nkeys], '.');
        char want[80];
        snprintf(want, sizeof want, "%s%s: ", leaf ? "  " : "\n", leaf ? leaf + 1 : keys[nkeys]);
        CHECK(strstr(out, want) != NULL, "key %s not written", keys[nkeys]);
    }
    CHECK(nkeys == 29, "config_keys has %d keys", nkeys);
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
    free(out);
    check_round_trip("inline", &s);
    spec_free(&s);

    // An explicit rank is kept even though delta's numerical rank differs.
    rc = load_text("inl2.yaml", "teacher:\n  rank: 2\n  delta: [[1, 2], [2, 4], [3, 6]]\n"
                                "lora:\n  rank: 1\n",
                   NULL, &s, &e);
    CHECK(rc == 0 && s.teacher.rank == 2, "explicit rank with delta: %s", e.msg);
    spec_free(&s);

    // Explicit dimensions that agree with the matrix are fine.
    rc = load_text("inl3.yaml", "teacher:\n  d: 2\n  k: 2\n  w0: [[1, 2], [3, 4]]\n"
                                "  rank: 1\nlora:\n  rank: 1\n",
                   NULL, &s, &e);
    CHECK(rc == 0 && s.teacher.d == 2, "agreeing d: %s", e.msg);
    spec_free(&s);
}

// ---------------------------------------------------------------------------
// .npy files given by path

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
    CHECK(rc != 0 && strstr(e.msg, "--set teacher.rank: 2 exceeds min(d, k) = 1"),
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
        "log, seeds)"),
    ERR("teacher:\n  d: 5\n  dd: 5\n", NULL, NULL,
        "c.yaml:3:3: unknown key 'teacher.dd' (did you mean 'teacher.d'?)"),
    ERR("teacher:\n  kapa: 2\n", NULL, NULL,
        "c.yaml:2:3: unknown key 'teacher.kapa' (did you mean 'teacher.kappa'?)"),
    ERR("init:\n  lr: 0.1\n", NULL, NULL,
        "c.yaml:2:3: unknown key 'init.lr' (did you mean 'optimizer.lr'?)"),
    ERR("optimizer:\n  learning_rate: 0.1\n", NULL, NULL,
        "c.yaml:2:3: unknown key 'optimizer.learning_rate' (valid keys in optimizer: method, lr, "
        "lr_ratio, steps, damping, weight_decay)"),
    ERR("teacher.d: 5\n", NULL, NULL,
        "c.yaml:1:1: unknown key 'teacher.d' (write it as 'd:' inside the 'teacher:' section)"),
    ERR("teacher: 5\n", NULL, NULL,
        "c.yaml:1:10: teacher must be a mapping of keys (model, d, k, n, rank, kappa, spectrum, "
        "scale, noise, w0, w0_scale, delta, x), got '5'"),
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
    ERR("teacher:\n  rank: 0\n", NULL, NULL, "c.yaml:2:9: teacher.rank must be >= 1 (got 0)"),
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
    ERRN("optimizer:\n  method: adam\n", NULL, NULL,
        "c.yaml:2:11: optimizer.method: 'adam' is not one of: ", optim_names),
    ERRN("teacher:\n  model: mlp\n", NULL, NULL,
        "c.yaml:2:10: teacher.model: 'mlp' is not one of: ",
        teacher_names),
    ERR("teacher:\n  spectrum: geo\n", NULL, NULL,
        "c.yaml:2:13: teacher.spectrum: 'geo' is not one of: linear, geometric"),
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
    test_set();
    test_errors();
    test_accepted();
    remove_tree(tmpdir);
    return check_summary("test_config");
}
