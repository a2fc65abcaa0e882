// config_resolve.c: layer 3 of the config layer (config.h): a document ->
// a validated spec, and a spec -> YAML.
//
// config_resolve, in phases: collect (sections, unknown keys, in document
// order; the sweep block is skipped), set (every key in table order: type
// and range, config_keys.c), derive (d, k, n from matrices given by file or
// inline; teacher.rank from an explicit delta), cross-check (ranks <= min(d,
// k)).
//
// Message formats (every error is LERR_INPUT):
//   FILE:L:C: unknown key 'teacher.dd' (did you mean 'teacher.d'?)
//   FILE:L:C: unknown key 'teacher.foo' (valid keys in teacher: model, d, ...)
//   FILE:L:C: teacher must be a mapping of keys (model, d, ...), got a list
//   FILE:L:C: teacher.d is 100 but teacher.w0 (/abs/w0.npy) has shape (50, 30)
//   FILE:L:C: lora.rank = 12 exceeds min(d, k) = 10 (d = 10, k = 20)
//   FILE: lora.rank (default) = 8 exceeds min(d, k) = 2 (d = 3, k = 2)
//   exp.yaml:5:18: lora.rank: 200 exceeds min(d, k) = 100 (d = 100, k = 100)
//                  (a value set with a place in the file as origin: a sweep value)
//
// Dimensions come from matrices given by file or inline: teacher.d, k from
// w0 and delta (d, k), teacher.d, n from x (n, d); teacher.rank defaults to
// delta's numerical rank.  A value written next to such a matrix must agree
// with it, except that --set outranks the file: a matrix given with --set
// replaces the d, k, n and rank the file wrote.
#include "config_internal.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "linalg.h"
#include "registry.h"

// ===========================================================================
// Tables of the cross-field phases

// Dimensions that matrices given by file or inline determine:
// teacher.<dim> = axis `axis` (0 rows, 1 columns) of teacher.<mat>.
static const struct {
    const char *dim, *mat;
    int axis;
} DIM_SOURCES[] = {
    {"teacher.d", "teacher.w0", 0},    {"teacher.k", "teacher.w0", 1},
    {"teacher.d", "teacher.delta", 0}, {"teacher.k", "teacher.delta", 1},
    {"teacher.d", "teacher.x", 1},     {"teacher.n", "teacher.x", 0},
};

// Keys bounded above by min(d, k).
static const char *const RANK_KEYS[] = {"teacher.rank", "lora.rank"};

// ===========================================================================
// Phases

// An unknown key met in the document (`at` is its key node).
static int unknown_key(const rctx *c, const node *at, const char *typed, bool top_level)
{
    char hint[1200];
    if (top_level && key_section_len(typed) && key_index(typed) >= 0)
        snprintf(hint, sizeof hint, "(write it as '%s:' inside the '%.*s:' section)",
                 key_leaf(typed), (int)key_section_len(typed), typed);
    else if (top_level)
        key_top_level_hint(typed, hint, sizeof hint);
    else
        key_unknown_hint(typed, hint, sizeof hint);
    if (at->src == SRC_SET) {
        char body[1300];
        snprintf(body, sizeof body, "unknown key %s", hint);
        return origin_fail(c->e, at->origin, typed, body);
    }
    return lerr_input(c->e, "%s:%d:%d: unknown key '%s' %s", c->doc->name, at->line, at->col,
                      typed, hint);
}

static int collect_section(rctx *c, const node *key, const node *v)
{
    if (node_is_null(v)) return 0;   // "teacher:" with nothing under it
    if (v->kind != NODE_MAP) {
        char list[1024], got[128];
        key_section_list(key->text, list, sizeof list);
        return key_fail(c, key->text, v, " must be a mapping of keys (%s), got %s", list,
                    node_describe(v, got, sizeof got));
    }
    for (int i = 0; i < v->n; i++) {
        char *full = key_join(key->text, v->keys[i]->text);
        int ki = key_index(full);
        if (ki < 0) {
            unknown_key(c, v->keys[i], full, false);
            free(full);
            return -1;
        }
        free(full);
        c->val[ki] = v->vals[i];
    }
    return 0;
}

// Phase 1: find each key's node; unknown keys are errors (document order).
static int collect(rctx *c)
{
    const node *root = c->doc->root;
    for (int i = 0; i < root->n; i++) {
        const node *key = root->keys[i], *v = root->vals[i];
        if (strcmp(key->text, SWEEP_KEY) == 0) continue;   // config_sweep's business
        if (key_is_section(key->text)) {
            if (collect_section(c, key, v)) return -1;
            continue;
        }
        int ki = key_index(key->text);
        if (ki < 0 || key_section_len(key->text)) return unknown_key(c, key, key->text, true);
        c->val[ki] = v;
    }
    return 0;
}

// The default of row k as YAML text (a new string).
static char *default_text(const rctx *c, const keydef *k)
{
    if (k->def) return xstrdup(k->def);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return xstrdup("\"\"");
    text_write_quoted(f, c->doc->stem);
    fclose(f);
    return buf;
}

// Phase 2: every key from its node or its default, in table order.
static int set_all(rctx *c)
{
    for (size_t i = 0; i < NKEYS; i++) {
        const keydef *k = &KEYS[i];
        if (c->val[i]) {
            if (KEY_OPS[k->type].set(c, k, c->val[i])) return -1;
            continue;
        }
        char *text = default_text(c, k);
        node *v = NULL;
        int rc = node_parse_value(text, SRC_DEFAULT, NULL, k->key, c->e, &v);
        free(text);
        if (!rc) rc = KEY_OPS[k->type].set(c, k, v);
        node_free(v);
        if (rc) return -1;
    }
    return 0;
}

static const mat_source *matrix_of(const rctx *c, const char *key)
{
    return cfield_of(c->s, &KEYS[key_index(key)]);
}

static bool has_data(const mat_source *m)
{
    return m->kind == MAT_FILE || m->kind == MAT_INLINE;
}

// "(inline)" or "(/abs/path.npy)".
static void matrix_label(const mat_source *m, char *buf, size_t size)
{
    snprintf(buf, size, "(%s)", m->kind == MAT_INLINE ? "inline" : m->path);
}

// Whether a value the user wrote for a dimension or teacher.rank still binds
// next to a matrix given at node `matrix`.  --set outranks the file: a matrix
// given with --set replaces what the file wrote for d, k, n and rank (those
// described the matrix it replaces), while a value given with --set itself,
// or a file value next to a file matrix, must agree with the matrix.
static bool still_binds(const node *written, const node *matrix)
{
    return written && (written->src == SRC_SET || matrix->src != SRC_SET);
}

// Phase 3a: teacher.<dim> from the matrices that fix it; they must agree
// with each other and with a value that still binds (see still_binds).
static int derive_dim(rctx *c, const char *dim)
{
    int ki = key_index(dim), value = 0;
    const char *from = NULL;
    int *field = field_of(c->s, &KEYS[ki]);
    for (size_t i = 0; i < COUNT(DIM_SOURCES); i++) {
        if (strcmp(DIM_SOURCES[i].dim, dim) != 0) continue;
        const char *mkey = DIM_SOURCES[i].mat;
        const mat_source *m = matrix_of(c, mkey);
        if (!has_data(m)) continue;
        int v = DIM_SOURCES[i].axis ? m->cols : m->rows;
        char label[1200];
        matrix_label(m, label, sizeof label);
        if (still_binds(c->val[ki], c->val[key_index(mkey)]) && v != *field)
            return key_fail(c, dim, c->val[ki], " is %d but %s %s has shape (%d, %d)", *field, mkey,
                        label, m->rows, m->cols);
        if (from && v != value) {
            const mat_source *f = matrix_of(c, from);
            char flabel[1200];
            matrix_label(f, flabel, sizeof flabel);
            return key_fail(c, mkey, c->val[key_index(mkey)],
                        " %s has shape (%d, %d), so %s = %d, but %s %s has shape (%d, %d)",
                        label, m->rows, m->cols, key_leaf(dim), v, from, flabel, f->rows,
                        f->cols);
        }
        if (!from) {
            from = mkey;
            value = v;
        }
    }
    if (from) *field = value;
    return 0;
}

// Phase 3b: teacher.rank defaults to the numerical rank of a delta given by
// file or inline (unless a rank that still binds was written).
static int derive_rank(rctx *c)
{
    int ki = key_index("teacher.rank"), di = key_index("teacher.delta");
    const mat_source *m = matrix_of(c, "teacher.delta");
    if (!has_data(m) || still_binds(c->val[ki], c->val[di])) return 0;
    int r = numerical_rank(m->data, m->rows, m->cols);
    if (r < 0) return key_fail(c, "teacher.delta", c->val[di], ": cannot compute its rank");
    if (r == 0)
        return key_fail(c, "teacher.delta", c->val[di],
                    ": the matrix is zero (numerical rank 0); the shift needs rank >= 1");
    c->s->teacher.rank = r;
    return 0;
}

// Phase 4: checks that involve several keys.
static int cross_check(rctx *c)
{
    int d = c->s->teacher.d, k = c->s->teacher.k, q = d < k ? d : k;
    for (size_t i = 0; i < COUNT(RANK_KEYS); i++) {
        int ki = key_index(RANK_KEYS[i]);
        int r = *(const int *)cfield_of(c->s, &KEYS[ki]);
        if (r > q)
            return key_fail(c, RANK_KEYS[i], c->val[ki],
                        " = %d exceeds min(d, k) = %d (d = %d, k = %d)", r, q, d, k);
    }
    const spec *s = c->s;
    int ri = key_index("teacher.rank"), mi = key_index("teacher.model");
    if (s->teacher.rank < teacher_min_rank(s->teacher.model))
        return key_fail(c, "teacher.rank", c->val[ri],
                    " = %d: the %s teacher needs rank >= %d (rank 0, random targets, is for "
                    "the ntk teacher)", s->teacher.rank, s->teacher.model,
                    teacher_min_rank(s->teacher.model));
    if (!strcmp(s->teacher.loss, "cross_entropy") && s->teacher.outputs < 2)
        return key_fail(c, "teacher.loss", c->val[key_index("teacher.loss")],
                    ": cross_entropy needs teacher.outputs >= 2 classes (got %d)",
                    s->teacher.outputs);
    if (!strcmp(s->teacher.features, "orthogonal") &&
        (long)s->teacher.n * s->teacher.outputs < (long)d * k)
        return key_fail(c, "teacher.features", c->val[key_index("teacher.features")],
                    ": orthogonal features need n * outputs >= d * k (%ld < %ld)",
                    (long)s->teacher.n * s->teacher.outputs, (long)d * k);
    if (!strcmp(s->teacher.stats, "gram")) {
        int si = key_index("teacher.stats");
        if (strcmp(s->teacher.model, "linear"))
            return key_fail(c, "teacher.stats", c->val[si],
                        ": gram statistics are for the linear teacher (teacher.model is %s)",
                        s->teacher.model);
        if (s->teacher.x.kind == MAT_FILE || s->teacher.x.kind == MAT_INLINE)
            return key_fail(c, "teacher.stats", c->val[si],
                        ": gram statistics stream generated inputs; teacher.x is given, use "
                        "qr");
        if (s->teacher.n < d)
            return key_fail(c, "teacher.stats", c->val[si],
                        ": gram statistics need n >= d (n = %d, d = %d); use qr",
                        s->teacher.n, d);
    }
    (void)mi;
    return 0;
}

int config_resolve(const config_doc *doc, spec *out, lerr *e)
{
    memset(out, 0, sizeof *out);
    rctx c = {.doc = doc, .s = out, .e = e};
    out->source_path = xstrdup(doc->name);
    int rc = collect(&c) || set_all(&c) || derive_dim(&c, "teacher.d") ||
             derive_dim(&c, "teacher.k") || derive_dim(&c, "teacher.n") || derive_rank(&c) ||
             cross_check(&c);
    if (rc) {
        spec_free(out);
        return -1;
    }
    return 0;
}

int config_load(const char *path, char *const *sets, int nsets, spec *out, lerr *e)
{
    memset(out, 0, sizeof *out);
    config_doc *doc = config_parse_file(path, e);
    if (!doc) return -1;
    int rc = 0;
    for (int i = 0; !rc && i < nsets; i++) rc = config_doc_set_arg(doc, sets[i], e);
    if (!rc) rc = config_resolve(doc, out, e);
    config_doc_free(doc);
    return rc;
}

// ===========================================================================
// Writing

// Every key of `section` ("teacher") of s as "key=value;" text, doubles as
// %.17g, matrices as kind, path, shape and a 64-bit hash of their values
// (malloc'ed).  Two specs with the same text agree on every key of the
// section, including keys added to the table later.
char *config_section_key(const spec *s, const char *section)
{
    char *buf = NULL;
    size_t len = 0, sl = strlen(section);
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        fprintf(stderr, "loralab: out of memory\n");
        exit(EXIT_RUN);
    }
    for (size_t i = 0; i < NKEYS; i++) {
        const keydef *k = &KEYS[i];
        if (strncmp(k->key, section, sl) || k->key[sl] != '.') continue;
        const void *v = cfield_of(s, k);
        fprintf(f, "%s=", k->key);
        switch (k->type) {
        case T_INT: fprintf(f, "%d", *(const int *)v); break;
        case T_DOUBLE: fprintf(f, "%.17g", *(const double *)v); break;
        case T_BOOL: fprintf(f, "%d", (int)*(const bool *)v); break;
        case T_STRING:
        case T_NAME: fprintf(f, "%s", *(char *const *)v ? *(char *const *)v : ""); break;
        case T_MATRIX: {
            const mat_source *m = v;
            unsigned long long h = FNV_OFFSET;
            if (m->data) h = fnv1a(h, m->data, sizeof(double) * (size_t)m->rows * m->cols);
            fprintf(f, "%d|%s|%dx%d|%016llx", (int)m->kind, m->path ? m->path : "", m->rows,
                    m->cols, h);
            break;
        }
        case T_SEEDS:
        case T_SAVE: fprintf(f, "?"); break;
        }
        fputc(';', f);
    }
    fclose(f);
    return buf;
}

int config_write(const spec *s, FILE *f)
{
    fputs("# resolved by loralab; every key shown\n", f);
    const char *section = NULL;
    size_t open_len = 0;
    for (size_t i = 0; i < NKEYS; i++) {
        const keydef *k = &KEYS[i];
        size_t sl = key_section_len(k->key);
        if (sl && !(section && open_len == sl && strncmp(section, k->key, sl) == 0)) {
            fprintf(f, "%.*s:\n", (int)sl, k->key);
            section = k->key;
            open_len = sl;
        }
        if (!sl) section = NULL;
        fprintf(f, "%s%s: ", sl ? "  " : "", key_leaf(k->key));
        KEY_OPS[k->type].write(f, k, s);
        fputc('\n', f);
    }
    return ferror(f) ? -1 : 0;
}
