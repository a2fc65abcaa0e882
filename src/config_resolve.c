// config_resolve.c: layer 3 of the config layer (config.h): a document ->
// a validated spec, and a spec -> YAML.
//
// config_resolve, in phases: collect (sections, unknown keys, in document
// order; the sweep block is skipped), set (every key in table order: type
// and range, config_keys.c), derive (the shapes of the ntk teacher's .npy
// inputs; d, k, n, outputs from inputs given by file or inline; teacher.rank
// from an explicit delta or ntk file targets), cross-check (ranks <= min(d,
// k), ...).
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
// Dimensions come from inputs given by file or inline: teacher.d, k from
// w0 and delta (d, k), teacher.d, n from x (n, d); for the ntk teacher
// teacher.n, outputs, d, k from features (N, K, d, k), teacher.n, outputs
// from targets (N, K) (labels: (N,)) and base (N, K), read from the .npy
// headers.  teacher.rank is delta's numerical rank, and 0 next to ntk targets
// from a file (no planted shift).  A value written next to such an input must
// agree with it, except that --set outranks the file: an input given with
// --set replaces the d, k, n, outputs and rank the file wrote.  Messages:
//   FILE:L:C: teacher.d is 5 but teacher.features (/abs/phi.npy) has shape (6, 2, 4, 3)
//   --set teacher.targets: (/abs/y.npy) has shape (5, 2), so n = 5, but
//       teacher.features (/abs/phi.npy) has shape (6, 2, 4, 3)
//   FILE:L:C: teacher.rank is 2 but teacher.delta (/abs/d.npy) has numerical rank 3 (...)
//   --set teacher.rank: is 2 but teacher.targets (/abs/y.npy) comes from a file: ...
#include "config_internal.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "linalg.h"
#include "mlp_source.h"
#include "npy.h"
#include "registry.h"

// ===========================================================================
// Tables of the cross-field phases

// Dimensions that inputs given by file or inline determine:
// teacher.<dim> = axis `axis` of teacher.<mat> (matrices: 0 rows, 1 columns;
// the ntk teacher's .npy files: features (N, K, d, k), targets (N, K) or
// labels (N,), base (N, K)).
static const struct {
    const char *dim, *mat;
    int axis;
} DIM_SOURCES[] = {
    {"teacher.d", "teacher.w0", 0},          {"teacher.k", "teacher.w0", 1},
    {"teacher.d", "teacher.delta", 0},       {"teacher.k", "teacher.delta", 1},
    {"teacher.d", "teacher.x", 1},           {"teacher.n", "teacher.x", 0},
    {"teacher.n", "teacher.features", 0},    {"teacher.outputs", "teacher.features", 1},
    {"teacher.d", "teacher.features", 2},    {"teacher.k", "teacher.features", 3},
    {"teacher.n", "teacher.targets", 0},     {"teacher.outputs", "teacher.targets", 1},
    {"teacher.n", "teacher.base", 0},        {"teacher.outputs", "teacher.base", 1},
};

// The ntk teacher's inputs that may be .npy files, with the numbers of
// dimensions they may have and their layout for messages.
static const struct {
    const char *key;
    int min_ndim, max_ndim;
    const char *layout;
} NTK_FILES[] = {
    {"teacher.features", 4, 4, "(N, K, d, k)"},
    {"teacher.targets", 1, 2, "(N, K) values, or (N,) labels / (N, K) one-hot rows"},
    {"teacher.base", 2, 2, "(N, K)"},
};

// Keys that describe the Delta the teacher draws (config_write leaves them
// out when none is drawn).
static const char *const SHIFT_KEYS[] = {"teacher.kappa", "teacher.spectrum", "teacher.scale"};

// The real-data keys (mlp_source.h): they apply only when spec_real_data(s);
// elsewhere a written one is an error, they keep their defaults and
// config_write, config_section_key leave them out (the pretrain section is
// all of them).
static const char *const REAL_DATA_KEYS[] = {"teacher.data", "teacher.hidden", "teacher.pool",
                                             "teacher.source_classes",
                                             "teacher.target_classes"};
static const char PRETRAIN_SECTION[] = "pretrain";

// The ntk teacher's keys that features: mlp fixes (ntk_mlp_features), with
// the reason; like the real-data keys elsewhere, config_write and
// config_section_key leave them out then.
static const char *const NTK_MLP_FIXED[][2] = {
    {"teacher.targets", "the targets are the target classes' labels (one-hot values under "
                        "the squared loss)"},
    {"teacher.base", "the base outputs are the pretrained network's, f0 = f(x; W0)"},
    {"teacher.noise", "the labels are the real data's, no noise is drawn"},
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

// Row k's field from its default.
static int set_default(rctx *c, const keydef *k)
{
    char *text = default_text(c, k);
    node *v = NULL;
    int rc = node_parse_value(text, SRC_DEFAULT, NULL, k->key, c->e, &v);
    free(text);
    if (!rc) rc = KEY_OPS[k->type].set(c, k, v);
    node_free(v);
    return rc;
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
        if (set_default(c, k)) return -1;
    }
    return 0;
}

// Whether a string key's value is a file (stored as an absolute path; the
// words of the key's `choices` have no '/').
static bool is_path(const char *value) { return value && strchr(value, '/') != NULL; }

// "(6, 2, 4, 3)" into buf.
static void shape_text(int ndim, const long *dims, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int a = 0; a < ndim && n < size; a++)
        n += (size_t)snprintf(buf + n, size - n, "%s%ld", a ? ", " : "(", dims[a]);
    if (n < size) snprintf(buf + n, size - n, "%s)", ndim ? "" : "(");
}

// The shape of teacher.<mat> when it holds data given by file or inline (a
// matrix, or an ntk .npy input), with "(inline)" or "(/abs/path)" as label.
static bool shape_of(const rctx *c, const char *key, int *ndim, long *dims, char *label,
                     size_t size)
{
    int ki = key_index(key);
    if (KEYS[ki].type == T_MATRIX) {
        const mat_source *m = cfield_of(c->s, &KEYS[ki]);
        if (m->kind != MAT_FILE && m->kind != MAT_INLINE) return false;
        *ndim = 2;
        dims[0] = m->rows;
        dims[1] = m->cols;
        snprintf(label, size, "(%s)", m->kind == MAT_INLINE ? "inline" : m->path);
        return true;
    }
    if (!c->file_ndim[ki]) return false;
    *ndim = c->file_ndim[ki];
    memcpy(dims, c->file_dims[ki], sizeof(long) * (size_t)*ndim);
    snprintf(label, size, "(%s)", *(char *const *)cfield_of(c->s, &KEYS[ki]));
    return true;
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

// Phase 3a: the shapes of the ntk teacher's .npy inputs, from their headers
// (the teacher reads the data).
static int read_file_shapes(rctx *c)
{
    if (strcmp(c->s->teacher.model, "ntk") != 0) return 0;
    for (size_t i = 0; i < COUNT(NTK_FILES); i++) {
        int ki = key_index(NTK_FILES[i].key);
        const char *path = *(char *const *)cfield_of(c->s, &KEYS[ki]);
        if (!is_path(path)) continue;
        lerr ne = {0};
        int ndim;
        long dims[4];
        if (npy_shape(path, 4, &ndim, dims, &ne))
            return key_fail(c, NTK_FILES[i].key, c->val[ki], ": %s", ne.msg);
        if (ndim < NTK_FILES[i].min_ndim || ndim > NTK_FILES[i].max_ndim) {
            char shape[128];
            shape_text(ndim, dims, shape, sizeof shape);
            return key_fail(c, NTK_FILES[i].key, c->val[ki], ": %s has shape %s; it must be %s",
                            path, shape, NTK_FILES[i].layout);
        }
        c->file_ndim[ki] = ndim;
        memcpy(c->file_dims[ki], dims, sizeof dims);
    }
    return 0;
}

// Phase 3b: teacher.<dim> from the inputs that fix it; they must agree
// with each other and with a value that still binds (see still_binds).
static int derive_dim(rctx *c, const char *dim)
{
    int ki = key_index(dim), value = 0;
    const char *from = NULL;
    int *field = field_of(c->s, &KEYS[ki]);
    int from_ndim = 0;
    long from_dims[4];
    char from_label[1200];
    for (size_t i = 0; i < COUNT(DIM_SOURCES); i++) {
        if (strcmp(DIM_SOURCES[i].dim, dim) != 0) continue;
        const char *mkey = DIM_SOURCES[i].mat;
        int ndim;
        long dims[4];
        char label[1200], shape[128];
        if (!shape_of(c, mkey, &ndim, dims, label, sizeof label) || DIM_SOURCES[i].axis >= ndim)
            continue;
        int v = (int)dims[DIM_SOURCES[i].axis];
        shape_text(ndim, dims, shape, sizeof shape);
        if (still_binds(c->val[ki], c->val[key_index(mkey)]) && v != *field)
            return key_fail(c, dim, c->val[ki], " is %d but %s %s has shape %s", *field, mkey,
                            label, shape);
        if (from && v != value) {
            char fshape[128];
            shape_text(from_ndim, from_dims, fshape, sizeof fshape);
            return key_fail(c, mkey, c->val[key_index(mkey)],
                            " %s has shape %s, so %s = %d, but %s %s has shape %s", label, shape,
                            key_leaf(dim), v, from, from_label, fshape);
        }
        if (!from) {
            from = mkey;
            value = v;
            from_ndim = ndim;
            memcpy(from_dims, dims, sizeof dims);
            snprintf(from_label, sizeof from_label, "%s", label);
        }
    }
    if (from) *field = value;
    return 0;
}

// Phase 3c: teacher.rank from the inputs.  A delta given by file or inline
// has its numerical rank (singular values above max(d, k) eps s_1); ntk
// targets from a file have no planted shift: rank 0.  A rank that still
// binds must agree.
static int derive_rank(rctx *c)
{
    int ki = key_index("teacher.rank"), di = key_index("teacher.delta");
    int ti = key_index("teacher.targets");
    int *rank = &c->s->teacher.rank;
    if (c->file_ndim[ti]) {
        char label[1200];
        snprintf(label, sizeof label, "(%s)", c->s->teacher.targets);
        if (still_binds(c->val[ki], c->val[ti]) && *rank != 0)
            return key_fail(c, "teacher.rank", c->val[ki],
                            " is %d but teacher.targets %s comes from a file: there is no "
                            "planted shift, so the rank is 0 (leave teacher.rank out)",
                            *rank, label);
        *rank = 0;
    }
    const mat_source *m = cfield_of(c->s, &KEYS[di]);
    if (m->kind != MAT_FILE && m->kind != MAT_INLINE) return 0;
    int r = numerical_rank(m->data, m->rows, m->cols);
    if (r < 0) return key_fail(c, "teacher.delta", c->val[di], ": cannot compute its rank");
    if (still_binds(c->val[ki], c->val[di])) {
        if (r == *rank) return 0;
        char label[1200];
        snprintf(label, sizeof label, "(%s)", m->kind == MAT_INLINE ? "inline" : m->path);
        return key_fail(c, "teacher.rank", c->val[ki],
                        " is %d but teacher.delta %s has numerical rank %d (leave "
                        "teacher.rank out to take it from the matrix)", *rank, label, r);
    }
    if (r == 0)
        return key_fail(c, "teacher.delta", c->val[di],
                        ": the matrix is zero (numerical rank 0); the shift needs rank >= 1");
    *rank = r;
    return 0;
}

// Whether the teacher draws Delta (from teacher.rank, kappa, spectrum and
// scale): not when it is given by file or inline, nor at rank 0 (ntk).
static bool shift_drawn(const spec *s)
{
    return s->teacher.delta.kind != MAT_FILE && s->teacher.delta.kind != MAT_INLINE &&
           s->teacher.rank > 0;
}

// Phase 3d: kappa, spectrum and scale describe the drawn Delta.  When none
// is drawn, a value that still binds (see still_binds; next to the input
// that decided it: delta, ntk file targets or rank 0) is an error, and the
// fields keep their defaults, so config_write can leave them out.
static int unused_shift_keys(rctx *c)
{
    if (shift_drawn(c->s)) return 0;
    int di = key_index("teacher.delta"), ti = key_index("teacher.targets");
    int ri = key_index("teacher.rank");
    const node *why = c->val[di];
    char reason[1300];
    if (c->s->teacher.delta.kind == MAT_FILE || c->s->teacher.delta.kind == MAT_INLINE) {
        snprintf(reason, sizeof reason, "teacher.delta is given (%s)",
                 c->s->teacher.delta.kind == MAT_INLINE ? "inline" : c->s->teacher.delta.path);
    } else if (c->file_ndim[ti]) {
        why = c->val[ti];
        snprintf(reason, sizeof reason, "teacher.targets come from a file (%s)",
                 c->s->teacher.targets);
    } else if (spec_real_data(c->s)) {
        why = NULL;
        snprintf(reason, sizeof reason, "real data have no planted shift");
    } else {
        why = c->val[ri];
        snprintf(reason, sizeof reason, "teacher.rank is 0 (no planted shift)");
    }
    for (size_t i = 0; i < COUNT(SHIFT_KEYS); i++) {
        int ki = key_index(SHIFT_KEYS[i]);
        if (c->val[ki] && (!why || still_binds(c->val[ki], why)))
            return key_fail(c, SHIFT_KEYS[i], c->val[ki],
                            ": describes the Delta the teacher draws, but %s, so it does not "
                            "apply; leave it out", reason);
        const keydef *k = &KEYS[ki];
        if (KEY_OPS[k->type].release) KEY_OPS[k->type].release(c->s, k);
        if (set_default(c, k)) return -1;
    }
    return 0;
}

bool spec_real_data(const spec *s)
{
    return !strcmp(s->teacher.model, "mlp") ||
           (!strcmp(s->teacher.model, "ntk") && s->teacher.features &&
            !strcmp(s->teacher.features, "mlp"));
}

// Whether row k is a real-data key.
static bool is_real_data_key(const keydef *k)
{
    size_t pl = strlen(PRETRAIN_SECTION);
    if (key_section_len(k->key) == pl && !strncmp(k->key, PRETRAIN_SECTION, pl)) return true;
    for (size_t i = 0; i < COUNT(REAL_DATA_KEYS); i++)
        if (strcmp(k->key, REAL_DATA_KEYS[i]) == 0) return true;
    return false;
}

// Whether row k applies to s (written by config_write, in section keys).
static bool key_applies(const spec *s, const keydef *k)
{
    if (!strcmp(s->teacher.features, "mlp"))
        for (size_t i = 0; i < COUNT(NTK_MLP_FIXED); i++)
            if (!strcmp(k->key, NTK_MLP_FIXED[i][0])) return false;
    return !is_real_data_key(k) || spec_real_data(s);
}

// A dimension the real data fixes: a written value must agree with it.
static int real_dim(rctx *c, const char *key, int value, const char *why)
{
    int ki = key_index(key);
    int *field = field_of(c->s, &KEYS[ki]);
    if (c->val[ki] && *field != value)
        return key_fail(c, key, c->val[ki], " is %d but %s (leave %s out)", *field, why,
                        key_leaf(key));
    *field = value;
    return 0;
}

// Phase 3e: the real-data setting.  When it applies: teacher.pool is 1 or 2,
// no more target than source classes, and d = the data's input count after
// pooling (read from the training inputs' header), k = hidden, outputs = the
// number of source classes, rank = 0 (no planted shift); a value written for
// them must agree.  When it does not apply, a written real-data key is an
// error and all of them keep their defaults.
static int real_data(rctx *c)
{
    spec *s = c->s;
    if (!spec_real_data(s)) {
        for (size_t i = 0; i < NKEYS; i++)
            if (is_real_data_key(&KEYS[i]) && c->val[i])
                return key_fail(c, KEYS[i].key, c->val[i],
                                ": applies to real data only (teacher.model: mlp, or the ntk "
                                "teacher's features: mlp), and teacher.model is %s; leave it "
                                "out", s->teacher.model);
        return 0;
    }
    int pi = key_index("teacher.pool"), ti = key_index("teacher.target_classes");
    if (s->teacher.pool != 1 && s->teacher.pool != 2)
        return key_fail(c, "teacher.pool", c->val[pi], " must be 1 or 2 (got %d)",
                        s->teacher.pool);
    if (s->teacher.target_classes.n > s->teacher.source_classes.n)
        return key_fail(c, "teacher.target_classes", c->val[ti],
                        ": %d classes, but the network has %d outputs (one per source class); "
                        "target class j is taught on output j, so give at most %d",
                        s->teacher.target_classes.n, s->teacher.source_classes.n,
                        s->teacher.source_classes.n);
    int d = 0;
    lerr de = {0};
    if (mlp_source_input_dim(s, &d, &de))
        return key_fail(c, "teacher.data", c->val[key_index("teacher.data")], ": %s", de.msg);
    char why[1400];
    snprintf(why, sizeof why, "teacher.data (%s) has %d inputs%s", s->teacher.data, d,
             s->teacher.pool == 2 ? " after 2x2 pooling" : "");
    if (real_dim(c, "teacher.d", d, why)) return -1;
    snprintf(why, sizeof why, "the network's width is teacher.hidden = %d", s->teacher.hidden);
    if (real_dim(c, "teacher.k", s->teacher.hidden, why)) return -1;
    snprintf(why, sizeof why, "the network has one output per source class (%d)",
             s->teacher.source_classes.n);
    if (real_dim(c, "teacher.outputs", s->teacher.source_classes.n, why)) return -1;
    return real_dim(c, "teacher.rank", 0,
                    "real data have no planted shift, so the rank is 0");
}

// Phase 3f: the ntk teacher's features: mlp (the pretrained network's
// Jacobians at the target-class points) take the base outputs and the
// targets from the network and the labels, so teacher.targets, base and
// noise must not be written; features: mlp is for the ntk teacher only.
static int ntk_mlp_features(rctx *c)
{
    const spec *s = c->s;
    if (strcmp(s->teacher.features, "mlp") != 0) return 0;
    int fi = key_index("teacher.features");
    if (strcmp(s->teacher.model, "ntk") != 0)
        return key_fail(c, "teacher.features", c->val[fi],
                        ": mlp features are the ntk teacher's (teacher.model: ntk), and "
                        "teacher.model is %s", s->teacher.model);
    for (size_t i = 0; i < COUNT(NTK_MLP_FIXED); i++) {
        int ki = key_index(NTK_MLP_FIXED[i][0]);
        if (c->val[ki])
            return key_fail(c, NTK_MLP_FIXED[i][0], c->val[ki],
                            ": does not apply with teacher.features: mlp (%s); leave it out",
                            NTK_MLP_FIXED[i][1]);
    }
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
    // Minibatches draw rows of the training data, so the teacher must hold it:
    // nonlinear, ntk, and linear with qr statistics (auto resolves to qr when
    // batch > 0, teacher_linear.c); gram statistics never hold X.
    if (s->optimizer.batch > 0) {
        int bi = key_index("optimizer.batch");
        if (s->optimizer.batch > s->teacher.n)
            return key_fail(c, "optimizer.batch", c->val[bi],
                        " = %d exceeds the %d training rows (teacher.n); use 1 <= batch <= n, "
                        "or 0 for full batch", s->optimizer.batch, s->teacher.n);
        if (!strcmp(s->teacher.stats, "gram"))
            return key_fail(c, "optimizer.batch", c->val[bi],
                        " = %d needs the training rows, but teacher.stats is gram, which "
                        "never holds X (only X^T X); use teacher.stats: qr (or auto) for "
                        "minibatches, or batch: 0", s->optimizer.batch);
    }
    (void)mi;
    return 0;
}

int config_resolve(const config_doc *doc, spec *out, lerr *e)
{
    memset(out, 0, sizeof *out);
    rctx c = {.doc = doc, .s = out, .e = e};
    out->source_path = xstrdup(doc->name);
    int rc = collect(&c) || set_all(&c) || read_file_shapes(&c) ||
             derive_dim(&c, "teacher.d") || derive_dim(&c, "teacher.k") ||
             derive_dim(&c, "teacher.n") || derive_dim(&c, "teacher.outputs") ||
             derive_rank(&c) || ntk_mlp_features(&c) || real_data(&c) || unused_shift_keys(&c) ||
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
        if (strncmp(k->key, section, sl) || k->key[sl] != '.' || !key_applies(s, k)) continue;
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
        case T_CLASSES: {
            const int_list *l = v;
            for (int j = 0; j < l->n; j++) fprintf(f, "%s%d", j ? "," : "", l->v[j]);
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

// Whether row k is one of SHIFT_KEYS.
static bool is_shift_key(const keydef *k)
{
    for (size_t i = 0; i < COUNT(SHIFT_KEYS); i++)
        if (strcmp(k->key, SHIFT_KEYS[i]) == 0) return true;
    return false;
}

int config_write(const spec *s, FILE *f)
{
    fputs("# resolved by loralab; every key that applies shown\n", f);
    const char *section = NULL;
    size_t open_len = 0;
    bool noted = false;
    for (size_t i = 0; i < NKEYS; i++) {
        const keydef *k = &KEYS[i];
        if (!key_applies(s, k)) continue;   // real-data keys elsewhere
        size_t sl = key_section_len(k->key);
        if (sl && !(section && open_len == sl && strncmp(section, k->key, sl) == 0)) {
            fprintf(f, "%.*s:\n", (int)sl, k->key);
            section = k->key;
            open_len = sl;
        }
        if (!sl) section = NULL;
        if (is_shift_key(k) && !shift_drawn(s)) {   // they describe nothing that runs
            if (!noted)
                fprintf(f, "  # kappa, spectrum, scale: not used (%s)\n",
                        s->teacher.rank == 0 ? "no planted shift" : "teacher.delta is given");
            noted = true;
            continue;
        }
        fprintf(f, "%s%s: ", sl ? "  " : "", key_leaf(k->key));
        KEY_OPS[k->type].write(f, k, s);
        fputc('\n', f);
    }
    return ferror(f) ? -1 : 0;
}
