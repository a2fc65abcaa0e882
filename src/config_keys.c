// config_keys.c: layer 2 of the config layer (config.h): the key table.
//
// One table, KEYS[], with a row per dotted key: its type, the spec field it
// fills, its default written as YAML text and its valid range.  A default is
// parsed by the very code that parses a user's value, so the two cannot
// drift apart.  Adding a key is one row here, one field in spec.h and NKEYS
// in config_internal.h.  The row order is the order of config_write.
//
// Per key type (KEY_OPS): a setter (node -> field: type and range), a writer
// (field -> YAML text that reads back to the same field) and a release.
// Also here: key lookup, the keys of a section and the "did you mean" of an
// unknown key.
//
// Message formats of the setters (every error is LERR_INPUT):
//   FILE:L:C: teacher.d: expected an integer, got '1.5'
//   FILE:L:C: optimizer.lr: expected a number, got a quoted string "0.1"
//   FILE:L:C: teacher.kappa must be >= 1 (got 0.5)
//   FILE:L:C: optimizer.beta1 must be < 1 (got 1)
//   FILE:L:C: teacher.spectrum: 'geo' is not one of: linear, geometric
//   FILE:L:C: teacher.w0: <npy_read's message>
//   FILE:L:C: teacher.w0: row 2 has 3 entries but row 1 has 2
//   --set optimizer.lr: must be > 0 (got -1)        (a value given by --set)
//   exp.yaml:5:18: init.alpha2: must be >= 0 (got -1)
//                  (a value set with a place in the file as origin: a sweep value)
#include "config_internal.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <threads.h>

#include "activation.h"
#include "npy.h"
#include "registry.h"

enum { MAX_SEED_COUNT = 1000000 };   // `seeds: n` materialises n seeds

// ===========================================================================
// The key table

#define OFF(field) offsetof(spec, field)
#define ANY .lo_op = LO_NONE
#define GE(x) .lo_op = LO_GE, .lo = (x)
#define GT(x) .lo_op = LO_GT, .lo = (x)
#define LT(x) .hi_lt = true, .hi = (x)
#define WORD(kind) (1u << (kind))

const keydef KEYS[] = {
    {"name", T_NAME, OFF(name), NULL, ANY},
    {"teacher.model", T_STRING, OFF(teacher.model), "linear",
     .known = teacher_known, .names = teacher_names},
    {"teacher.activation", T_STRING, OFF(teacher.activation), "relu",
     .known = activation_known, .names = activation_names},
    {"teacher.leaky_slope", T_DOUBLE, OFF(teacher.leaky_slope), "0.01", GE(0)},
    {"teacher.d", T_INT, OFF(teacher.d), "100", GE(1)},
    {"teacher.k", T_INT, OFF(teacher.k), "100", GE(1)},
    {"teacher.n", T_INT, OFF(teacher.n), "1600", GE(1)},
    {"teacher.n_test", T_INT, OFF(teacher.n_test), "0", GE(0)},
    {"teacher.rank", T_INT, OFF(teacher.rank), "4", GE(0)},
    {"teacher.outputs", T_INT, OFF(teacher.outputs), "1", GE(1)},
    {"teacher.loss", T_STRING, OFF(teacher.loss), "squared",
     .choices = "squared, cross_entropy"},
    {"teacher.features", T_STRING, OFF(teacher.features), "generated",
     .choices = "generated, orthogonal, mlp", .path_ok = true},
    {"teacher.targets", T_STRING, OFF(teacher.targets), "generated", .choices = "generated",
     .path_ok = true},
    {"teacher.base", T_STRING, OFF(teacher.base), "zero", .choices = "zero, generated",
     .path_ok = true},
    {"teacher.kappa", T_DOUBLE, OFF(teacher.kappa), "1", GE(1)},
    {"teacher.spectrum", T_STRING, OFF(teacher.spectrum), "linear",
     .choices = "linear, geometric"},
    {"teacher.scale", T_DOUBLE, OFF(teacher.scale), "1", GT(0)},
    {"teacher.noise", T_DOUBLE, OFF(teacher.noise), "0", GE(0)},
    {"teacher.w0", T_MATRIX, OFF(teacher.w0), "gaussian",
     .words = WORD(MAT_GAUSSIAN) | WORD(MAT_ZERO)},
    {"teacher.w0_scale", T_DOUBLE, OFF(teacher.w0_scale), "1", GE(0)},
    {"teacher.delta", T_MATRIX, OFF(teacher.delta), "generated", .words = WORD(MAT_GENERATED)},
    {"teacher.x", T_MATRIX, OFF(teacher.x), "generated", .words = WORD(MAT_GENERATED)},
    {"teacher.stats", T_STRING, OFF(teacher.stats), "auto", .choices = "auto, qr, gram"},
    {"teacher.data", T_STRING, OFF(teacher.data), "fashion-mnist", .choices = "fashion-mnist",
     .path_ok = true},
    {"teacher.hidden", T_INT, OFF(teacher.hidden), "128", GE(1)},
    {"teacher.pool", T_INT, OFF(teacher.pool), "1", GE(1)},
    {"teacher.source_classes", T_CLASSES, OFF(teacher.source_classes), "[1, 3, 5, 7, 9]", ANY},
    {"teacher.target_classes", T_CLASSES, OFF(teacher.target_classes), "[0, 2, 4, 6, 8]", ANY},
    {"lora.rank", T_INT, OFF(lora.rank), "8", GE(1)},
    {"init.method", T_STRING, OFF(init.method), "lora",
     .known = init_known, .names = init_names},
    {"init.alpha2", T_DOUBLE, OFF(init.alpha2), "1e-3", GE(0)},
    {"init.gamma", T_DOUBLE, OFF(init.gamma), "1", GT(0)},
    {"init.normalize", T_BOOL, OFF(init.normalize), "false", ANY},
    {"init.scale", T_DOUBLE, OFF(init.scale), "1", GT(0)},
    {"optimizer.method", T_STRING, OFF(optimizer.method), "gd",
     .known = optim_known, .names = optim_names},
    {"optimizer.lr", T_DOUBLE, OFF(optimizer.lr), "0.015625", GT(0)},
    {"optimizer.lr_ratio", T_DOUBLE, OFF(optimizer.lr_ratio), "1", GT(0)},
    {"optimizer.steps", T_INT, OFF(optimizer.steps), "1500", GE(0)},
    {"optimizer.batch", T_INT, OFF(optimizer.batch), "0", GE(0)},
    {"optimizer.damping", T_DOUBLE, OFF(optimizer.damping), "1e-3", GE(0)},
    {"optimizer.weight_decay", T_DOUBLE, OFF(optimizer.weight_decay), "0", GE(0)},
    {"optimizer.beta1", T_DOUBLE, OFF(optimizer.beta1), "0.9", GE(0), LT(1)},
    {"optimizer.beta2", T_DOUBLE, OFF(optimizer.beta2), "0.999", GE(0), LT(1)},
    {"optimizer.eps", T_DOUBLE, OFF(optimizer.eps), "1e-8", GT(0)},
    {"log.every", T_INT, OFF(log.every), "1", GE(1)},
    {"log.save", T_SAVE, OFF(log.save), "[]", ANY},
    {"log.risk_tol", T_DOUBLE, OFF(log.risk_tol), "1e-20", GT(0)},
    {"log.align_target", T_DOUBLE, OFF(log.align_target), "0.5", GT(0)},
    {"log.params", T_BOOL, OFF(log.params), "false", ANY},
    {"pretrain.epochs", T_INT, OFF(pretrain.epochs), "5", GE(1)},
    {"pretrain.batch", T_INT, OFF(pretrain.batch), "128", GE(1)},
    {"pretrain.lr", T_DOUBLE, OFF(pretrain.lr), "1e-3", GT(0)},
    {"pretrain.seed", T_INT, OFF(pretrain.seed), "0", GE(0)},
    {"pretrain.n", T_INT, OFF(pretrain.n), "0", GE(0)},
    {"convex.steps", T_INT, OFF(convex.steps), "20000", GE(1)},
    {"convex.tol", T_DOUBLE, OFF(convex.tol), "1e-10", GT(0)},
    {"seeds", T_SEEDS, OFF(nseeds), "1", ANY},
};

_Static_assert(COUNT(KEYS) == NKEYS, "NKEYS in config_internal.h must count the rows of KEYS");

// Words naming a matrix kind.
static const struct {
    const char *word;
    mat_kind kind;
} MAT_WORDS[] = {
    {"generated", MAT_GENERATED},
    {"gaussian", MAT_GAUSSIAN},
    {"zero", MAT_ZERO},
};

// log.save items.
static const struct {
    const char *item;
    unsigned bit;
} SAVE_ITEMS[] = {{"a", SAVE_A}, {"b", SAVE_B}, {"w", SAVE_W}, {"g", SAVE_G}};

int key_index(const char *key)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(KEYS[i].key, key) == 0) return (int)i;
    return -1;
}

const char *key_leaf(const char *key)
{
    const char *dot = strrchr(key, '.');
    return dot ? dot + 1 : key;
}

// Length of the section part of a dotted key (0 for a top-level key).
size_t key_section_len(const char *key)
{
    const char *dot = strchr(key, '.');
    return dot ? (size_t)(dot - key) : 0;
}

// Whether `name` is a section (the part before the dot of some key).
bool key_is_section(const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < NKEYS; i++)
        if (key_section_len(KEYS[i].key) == n && strncmp(KEYS[i].key, name, n) == 0) return true;
    return false;
}

static void append(char *buf, size_t size, const char *s)
{
    size_t used = strlen(buf);
    if (used + 1 < size) snprintf(buf + used, size - used, "%s", s);
}

// The keys of `section` ("" for the top level: its keys and section names),
// ", "-separated, into buf.
void key_section_list(const char *section, char *buf, size_t size)
{
    size_t n = strlen(section);
    const char *last = NULL;
    size_t last_len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < NKEYS; i++) {
        const char *k = KEYS[i].key;
        size_t sl = key_section_len(k);
        const char *item;
        size_t item_len;
        if (n == 0) {
            item = k;
            item_len = sl ? sl : strlen(k);
        } else if (sl == n && strncmp(k, section, n) == 0) {
            item = k + n + 1;
            item_len = strlen(item);
        } else {
            continue;
        }
        if (last && last_len == item_len && strncmp(last, item, item_len) == 0) continue;
        char part[128];
        snprintf(part, sizeof part, "%s%.*s", buf[0] ? ", " : "", (int)item_len, item);
        append(buf, size, part);
        last = item;
        last_len = item_len;
    }
}

// ---------------------------------------------------------------------------
// Suggestions for unknown keys

// The valid key or section closest to `typed`, into buf (false if none is
// close enough).  Keys are compared whole ("teacher.dd" ~ "teacher.d") and
// by their last part at one extra edit when in another section ("init.lr" ~
// "optimizer.lr"); sections by name ("optimiser" ~ "optimizer").
bool key_suggest(const char *typed, char *buf, size_t size)
{
    const char *leaf = key_leaf(typed);
    int best = typo_budget(strlen(leaf)) + 1;
    for (size_t i = 0; i < NKEYS; i++) {
        const char *key = KEYS[i].key;
        size_t sl = key_section_len(key);
        int d = edit_distance(typed, key);
        if (sl) {
            bool same = key_section_len(typed) == sl && strncmp(typed, key, sl) == 0;
            int dl = edit_distance(leaf, key_leaf(key)) + (same ? 0 : 1);
            if (dl < d) d = dl;
        }
        if (d < best) {
            best = d;
            snprintf(buf, size, "%s", key);
        }
        char section[64];
        snprintf(section, sizeof section, "%.*s", (int)sl, key);
        int ds = sl ? edit_distance(typed, section) : INT_MAX;
        if (ds < best) {
            best = ds;
            snprintf(buf, size, "%s", section);
        }
    }
    return best <= typo_budget(strlen(leaf));
}

// "(did you mean 'x'?)" or "(valid keys in S: ...)" for an unknown key.
void key_unknown_hint(const char *typed, char *buf, size_t size)
{
    char best[64];
    if (key_suggest(typed, best, sizeof best)) {
        snprintf(buf, size, "(did you mean '%s'?)", best);
        return;
    }
    char section[64] = "", list[1024];
    size_t sl = key_section_len(typed);
    if (sl && sl < sizeof section) {
        memcpy(section, typed, sl);
        section[sl] = '\0';
    }
    if (!key_is_section(section)) section[0] = '\0';
    key_section_list(section, list, sizeof list);
    if (section[0])
        snprintf(buf, size, "(valid keys in %s: %s)", section, list);
    else
        snprintf(buf, size, "(valid top-level keys: %s)", list);
}

// The hint for an unknown key at the top level (of a file, or given with
// --set), where `sweep` is valid as well as the keys of the table.
void key_top_level_hint(const char *typed, char *buf, size_t size)
{
    char best[64], section[64] = "", list[1024];
    bool near_key = key_suggest(typed, best, sizeof best);
    int to_sweep = edit_distance(typed, SWEEP_KEY);
    if (to_sweep <= typo_budget(strlen(typed)) &&
        (!near_key || to_sweep < edit_distance(typed, best))) {
        snprintf(buf, size, "(did you mean '%s'?)", SWEEP_KEY);
        return;
    }
    size_t sl = key_section_len(typed);
    if (sl && sl < sizeof section) snprintf(section, sizeof section, "%.*s", (int)sl, typed);
    if (near_key || (section[0] && key_is_section(section))) {
        key_unknown_hint(typed, buf, size);
        return;
    }
    key_section_list("", list, sizeof list);
    snprintf(buf, size, "(valid top-level keys: %s, %s)", list, SWEEP_KEY);
}

// ===========================================================================
// Messages

// Skip the separator that joins a key to a message body in file messages
// ("KEY must be", "KEY: expected", "KEY = 8 exceeds") for "--set KEY: ...".
static const char *body_without_separator(const char *body)
{
    if (strncmp(body, ": ", 2) == 0) return body + 2;
    if (strncmp(body, " = ", 3) == 0) return body + 3;
    if (body[0] == ' ') return body + 1;
    return body;
}

// Report a problem with `key`, located at node `at` (NULL: the default).
// `fmt` starts with its separator: " must be ..." or ": expected ...".
int key_fail(const rctx *c, const char *key, const node *at, const char *fmt, ...)
{
    char body[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    if (at && at->src == SRC_SET)
        return origin_fail(c->e, at->origin, key, body_without_separator(body));
    if (!at || at->src == SRC_DEFAULT)
        return lerr_input(c->e, "%s: %s (default)%s", c->doc->name, key, body);
    return lerr_input(c->e, "%s:%d:%d: %s%s", c->doc->name, at->line, at->col, key, body);
}

// ---------------------------------------------------------------------------
// Scalars

// Decimal number syntax: [+-] (digits [. digits] | . digits) [e [+-] digits].
// *integral is set when there is neither a point nor an exponent.
static bool decimal_syntax(const char *s, bool *integral)
{
    size_t i = 0, digits = 0;
    *integral = true;
    if (s[i] == '+' || s[i] == '-') i++;
    while (s[i] >= '0' && s[i] <= '9') i++, digits++;
    if (s[i] == '.') {
        *integral = false;
        i++;
        while (s[i] >= '0' && s[i] <= '9') i++, digits++;
    }
    if (digits == 0) return false;
    if (s[i] == 'e' || s[i] == 'E') {
        *integral = false;
        i++;
        if (s[i] == '+' || s[i] == '-') i++;
        size_t exp = 0;
        while (s[i] >= '0' && s[i] <= '9') i++, exp++;
        if (exp == 0) return false;
    }
    return s[i] == '\0';
}

// A plain scalar that is a finite number; otherwise `got` describes it.
static bool read_double(const node *v, double *out, char *got, size_t size)
{
    bool integral;
    if (v->kind != NODE_SCALAR || !v->plain || !decimal_syntax(v->text, &integral)) {
        node_describe(v, got, size);
        return false;
    }
    double x = strtod(v->text, NULL);
    if (!isfinite(x)) {
        snprintf(got, size, "'%.60s' (too large)", v->text);
        return false;
    }
    *out = x;
    return true;
}

// A plain scalar that is an integer in [lo, hi]: "12", or a float with an
// integral value ("1e4", "1600.0").  Otherwise `got` describes it.
static bool read_integer(const node *v, long lo, long hi, long *out, char *got, size_t size)
{
    bool integral;
    if (v->kind != NODE_SCALAR || !v->plain || !decimal_syntax(v->text, &integral)) {
        node_describe(v, got, size);
        return false;
    }
    bool in_range;
    long x = 0;
    if (integral) {
        errno = 0;
        long long y = strtoll(v->text, NULL, 10);
        in_range = errno != ERANGE && y >= lo && y <= hi;
        x = (long)y;
    } else {
        double y = strtod(v->text, NULL);
        if (floor(y) != y) {
            node_describe(v, got, size);
            return false;
        }
        in_range = y >= (double)lo && y < (double)hi + 1.0;   // hi + 1: exact power of 2
        if (in_range) x = (long)y;
    }
    if (!in_range) {
        snprintf(got, size, "'%.60s' (out of range)", v->text);
        return false;
    }
    *out = x;
    return true;
}

// The bounds of row k (lower, and the strict upper bound of `hi_lt` rows),
// checked against x (the message quotes the text as written).
static int check_bounds(const rctx *c, const keydef *k, const node *v, double x)
{
    bool ok = k->lo_op == LO_NONE || (k->lo_op == LO_GE ? x >= k->lo : x > k->lo);
    if (!ok)
        return key_fail(c, k->key, v, " must be %s %g (got %s)", k->lo_op == LO_GE ? ">=" : ">",
                        k->lo, v->text);
    if (k->hi_lt && !(x < k->hi))
        return key_fail(c, k->key, v, " must be < %g (got %s)", k->hi, v->text);
    return 0;
}

// ---------------------------------------------------------------------------
// Setters: node -> field, one per type

static int set_int(rctx *c, const keydef *k, const node *v)
{
    char got[128];
    long x;
    if (!read_integer(v, INT_MIN, INT_MAX, &x, got, sizeof got))
        return key_fail(c, k->key, v, ": expected an integer, got %s", got);
    if (check_bounds(c, k, v, (double)x)) return -1;
    *(int *)field_of(c->s, k) = (int)x;
    return 0;
}

static int set_double(rctx *c, const keydef *k, const node *v)
{
    char got[128];
    double x;
    if (!read_double(v, &x, got, sizeof got))
        return key_fail(c, k->key, v, ": expected a number, got %s", got);
    if (check_bounds(c, k, v, x)) return -1;
    *(double *)field_of(c->s, k) = x;
    return 0;
}

static int set_bool(rctx *c, const keydef *k, const node *v)
{
    char got[128];
    bool *field = field_of(c->s, k);
    if (v->kind == NODE_SCALAR && v->plain) {
        if (strcasecmp(v->text, "true") == 0 || strcasecmp(v->text, "yes") == 0) {
            *field = true;
            return 0;
        }
        if (strcasecmp(v->text, "false") == 0 || strcasecmp(v->text, "no") == 0) {
            *field = false;
            return 0;
        }
    }
    return key_fail(c, k->key, v, ": expected true or false, got %s", node_describe(v, got, sizeof got));
}

// Whether `s` is one item of the ", "-separated list `list`.
static bool in_choices(const char *s, const char *list)
{
    size_t n = strlen(s);
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, s, n) == 0) return true;
        p += len;
        while (*p == ',' || *p == ' ') p++;
    }
    return false;
}

// 0 if v is a scalar with a value, else an error naming what was found.
static int scalar_text(rctx *c, const keydef *k, const node *v)
{
    char got[128];
    if (v->kind == NODE_SCALAR && !node_is_null(v)) return 0;
    return key_fail(c, k->key, v, ": expected a string, got %s", node_describe(v, got, sizeof got));
}

static int set_string(rctx *c, const keydef *k, const node *v)
{
    if (scalar_text(c, k, v)) return -1;
    if (k->path_ok && !(v->plain && in_choices(v->text, k->choices))) {   // a file
        bool from_cwd = v->src == SRC_SET && origin_is_option(v->origin);
        const char *base = from_cwd ? c->doc->set_dir : c->doc->base_dir;
        *(char **)field_of(c->s, k) = path_absolute(base, v->text);
        return 0;
    }
    if (k->choices && !in_choices(v->text, k->choices))
        return key_fail(c, k->key, v, ": '%s' is not one of: %s", v->text, k->choices);
    if (k->known && !k->known(v->text))
        return key_fail(c, k->key, v, ": '%s' is not one of: %s", v->text, k->names());
    *(char **)field_of(c->s, k) = xstrdup(v->text);
    return 0;
}

static bool valid_name(const char *s)
{
    if (!s[0] || s[0] == '.') return false;
    for (; *s; s++) {
        char ch = *s;
        bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
        if (!ok) return false;
    }
    return true;
}

static int set_name(rctx *c, const keydef *k, const node *v)
{
    if (scalar_text(c, k, v)) return -1;
    if (!valid_name(v->text))
        return key_fail(c, k->key, v,
                    ": '%s' is not a valid name (letters, digits, '.', '_' and '-', "
                    "not starting with '.')%s",
                    v->text, v->src == SRC_DEFAULT ? "; set name: in the file" : "");
    *(char **)field_of(c->s, k) = xstrdup(v->text);
    return 0;
}

static int set_seed_count(rctx *c, const keydef *k, const node *v)
{
    char got[128];
    long n;
    if (!read_integer(v, LONG_MIN, LONG_MAX, &n, got, sizeof got))
        return key_fail(c, k->key, v, ": expected a count or a list of seeds, got %s", got);
    if (n < 1) return key_fail(c, k->key, v, " must be >= 1 (got %s)", v->text);
    if (n > MAX_SEED_COUNT)
        return key_fail(c, k->key, v, " must be <= %d (got %s)", MAX_SEED_COUNT, v->text);
    spec *s = c->s;
    s->nseeds = (int)n;
    s->seeds = xmalloc(sizeof(long) * (size_t)n);
    for (long i = 0; i < n; i++) s->seeds[i] = i;
    s->seeds_is_count = true;
    return 0;
}

static int set_seed_list(rctx *c, const keydef *k, const node *v)
{
    if (v->n == 0)
        return key_fail(c, k->key, v, ": the list is empty; give a count or at least one seed");
    long *seeds = xmalloc(sizeof(long) * (size_t)v->n);
    for (int i = 0; i < v->n; i++) {
        const node *item = v->vals[i];
        char got[128];
        int rc = 0;
        if (!read_integer(item, LONG_MIN, LONG_MAX, &seeds[i], got, sizeof got))
            rc = key_fail(c, k->key, item, ": entry %d: expected an integer, got %s", i + 1, got);
        else if (seeds[i] < 0)
            rc = key_fail(c, k->key, item, ": entry %d must be >= 0 (got %s)", i + 1, item->text);
        for (int j = 0; !rc && j < i; j++)
            if (seeds[j] == seeds[i])
                rc = key_fail(c, k->key, item, ": entry %d (%ld) repeats entry %d", i + 1, seeds[i],
                          j + 1);
        if (rc) {
            free(seeds);
            return -1;
        }
    }
    c->s->nseeds = v->n;
    c->s->seeds = seeds;
    c->s->seeds_is_count = false;
    return 0;
}

static int set_seeds(rctx *c, const keydef *k, const node *v)
{
    return v->kind == NODE_SEQ ? set_seed_list(c, k, v) : set_seed_count(c, k, v);
}

// A class list: [c1, c2, ...], non-empty, each an integer >= 0, no repeats.
static int set_classes(rctx *c, const keydef *k, const node *v)
{
    char got[128];
    if (v->kind != NODE_SEQ)
        return key_fail(c, k->key, v, ": expected a list of class labels such as [0, 2, 4], "
                        "got %s", node_describe(v, got, sizeof got));
    if (v->n == 0) return key_fail(c, k->key, v, ": the list is empty; give at least one class");
    int *cls = xmalloc(sizeof(int) * (size_t)v->n);
    for (int i = 0; i < v->n; i++) {
        const node *item = v->vals[i];
        long x = 0;
        int rc = 0;
        if (!read_integer(item, INT_MIN, INT_MAX, &x, got, sizeof got))
            rc = key_fail(c, k->key, item, ": entry %d: expected an integer, got %s", i + 1, got);
        else if (x < 0)
            rc = key_fail(c, k->key, item, ": entry %d must be >= 0 (got %s)", i + 1, item->text);
        for (int j = 0; !rc && j < i; j++)
            if (cls[j] == x)
                rc = key_fail(c, k->key, item, ": entry %d (%ld) repeats entry %d", i + 1, x,
                              j + 1);
        if (rc) {
            free(cls);
            return -1;
        }
        cls[i] = (int)x;
    }
    int_list *l = field_of(c->s, k);
    l->n = v->n;
    l->v = cls;
    return 0;
}

static int set_save(rctx *c, const keydef *k, const node *v)
{
    char got[128];
    if (v->kind != NODE_SEQ)
        return key_fail(c, k->key, v, ": expected a list such as [a, w], got %s",
                    node_describe(v, got, sizeof got));
    unsigned bits = 0;
    for (int i = 0; i < v->n; i++) {
        const node *item = v->vals[i];
        unsigned bit = 0;
        for (size_t j = 0; item->kind == NODE_SCALAR && j < COUNT(SAVE_ITEMS); j++)
            if (strcmp(item->text, SAVE_ITEMS[j].item) == 0) bit = SAVE_ITEMS[j].bit;
        if (!bit)
            return key_fail(c, k->key, item, ": %s is not one of: a, b, w, g",
                        node_describe(item, got, sizeof got));
        if (bits & bit) return key_fail(c, k->key, item, ": '%s' is listed twice", item->text);
        bits |= bit;
    }
    *(unsigned *)field_of(c->s, k) = bits;
    return 0;
}

// ---------------------------------------------------------------------------
// Matrices

// "gaussian, zero" for the words of row k.
static void word_list(const keydef *k, char *buf, size_t size)
{
    buf[0] = '\0';
    for (size_t i = 0; i < COUNT(MAT_WORDS); i++) {
        if (!(k->words & WORD(MAT_WORDS[i].kind))) continue;
        if (buf[0]) append(buf, size, ", ");
        append(buf, size, MAT_WORDS[i].word);
    }
}

static int matrix_expected(rctx *c, const keydef *k, const node *v, const char *what)
{
    char words[128];
    word_list(k, words, sizeof words);
    return key_fail(c, k->key, v,
                ": %s; expected one of: %s, a path to a .npy file, or an inline matrix "
                "[[..], ..]",
                what, words);
}

static int check_finite(rctx *c, const keydef *k, const node *v, const mat_source *m)
{
    for (int i = 0; i < m->rows; i++)
        for (int j = 0; j < m->cols; j++)
            if (!isfinite(m->data[(size_t)i * (size_t)m->cols + (size_t)j]))
                return key_fail(c, k->key, v, ": %s holds a non-finite value at row %d, column %d",
                            m->path, i + 1, j + 1);
    return 0;
}

static int read_matrix_file(rctx *c, const keydef *k, const node *v, mat_source *m)
{
    bool from_cwd = v->src == SRC_SET && origin_is_option(v->origin);
    const char *base = from_cwd ? c->doc->set_dir : c->doc->base_dir;
    m->path = path_absolute(base, v->text);
    lerr ne = {0};
    if (npy_read(m->path, &m->data, &m->rows, &m->cols, &ne)) {
        m->data = NULL;
        char words[128], hint[256] = "";
        word_list(k, words, sizeof words);
        if (v->plain && !strchr(v->text, '/') && !strstr(v->text, ".npy"))
            snprintf(hint, sizeof hint, " ('%s' is not one of: %s, so it was taken as a path)",
                     v->text, words);
        return key_fail(c, k->key, v, ": %s%s", ne.msg, hint);
    }
    m->kind = MAT_FILE;
    if (m->rows < 1 || m->cols < 1)
        return key_fail(c, k->key, v, ": %s has shape (%d, %d); a matrix needs at least one entry",
                    m->path, m->rows, m->cols);
    return check_finite(c, k, v, m);
}

// The columns of row `row` (index i) of an inline matrix, checked.
static int inline_row(rctx *c, const keydef *k, const node *row, int i, int cols)
{
    char got[128];
    if (row->kind != NODE_SEQ)
        return key_fail(c, k->key, row, ": row %d: expected a list of numbers, got %s", i + 1,
                    node_describe(row, got, sizeof got));
    if (row->n == 0) return key_fail(c, k->key, row, ": row %d is empty", i + 1);
    if (i > 0 && row->n != cols)
        return key_fail(c, k->key, row, ": row %d has %d %s but row 1 has %d", i + 1, row->n,
                    row->n == 1 ? "entry" : "entries", cols);
    return 0;
}

static int read_inline(rctx *c, const keydef *k, const node *v, mat_source *m)
{
    if (v->n == 0)
        return key_fail(c, k->key, v, ": an inline matrix needs at least one row, as in [[1, 2]]");
    int cols = 0;
    for (int i = 0; i < v->n; i++) {
        if (inline_row(c, k, v->vals[i], i, cols)) return -1;
        if (i == 0) cols = v->vals[0]->n;
    }
    m->kind = MAT_INLINE;
    m->rows = v->n;
    m->cols = cols;
    m->data = dalloc((size_t)m->rows * (size_t)cols);
    for (int i = 0; i < m->rows; i++) {
        for (int j = 0; j < cols; j++) {
            const node *x = v->vals[i]->vals[j];
            char got[128];
            if (!read_double(x, &m->data[(size_t)i * (size_t)cols + (size_t)j], got, sizeof got))
                return key_fail(c, k->key, x, ": row %d, column %d: expected a number, got %s", i + 1,
                            j + 1, got);
        }
    }
    return 0;
}

static int set_matrix(rctx *c, const keydef *k, const node *v)
{
    mat_source *m = field_of(c->s, k);
    if (v->kind == NODE_SEQ) return read_inline(c, k, v, m);
    if (v->kind == NODE_MAP) return matrix_expected(c, k, v, "got a mapping");
    if (node_is_null(v)) return matrix_expected(c, k, v, "got no value");
    for (size_t i = 0; v->plain && i < COUNT(MAT_WORDS); i++) {
        if (strcmp(v->text, MAT_WORDS[i].word) != 0) continue;
        if (!(k->words & WORD(MAT_WORDS[i].kind))) {
            char what[64];
            snprintf(what, sizeof what, "'%s' does not apply here", v->text);
            return matrix_expected(c, k, v, what);
        }
        m->kind = MAT_WORDS[i].kind;
        return 0;
    }
    return read_matrix_file(c, k, v, m);
}

// ---------------------------------------------------------------------------
// Writers: field -> YAML text, one per type

// Only letters, digits and . _ / + - (safe unquoted in block and flow YAML).
bool text_safe_chars(const char *s)
{
    for (const char *p = s; *p; p++) {
        char ch = *p;
        bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                  (ch >= '0' && ch <= '9') || strchr("._/+-", ch);
        if (!ok) return false;
    }
    return true;
}

// Whether a string can be written plain and read back as the same string by
// any YAML reader (not a number, bool or null, no special characters).
static bool plain_safe(const char *s)
{
    static const char *const special[] = {"true", "false", "yes", "no", "on", "off",
                                          "null", "y", "n"};
    bool integral;
    if (!s[0] || s[0] == '-' || s[0] == '.' || decimal_syntax(s, &integral)) return false;
    for (size_t i = 0; i < COUNT(special); i++)
        if (strcasecmp(s, special[i]) == 0) return false;
    return text_safe_chars(s);
}

// `s` as a YAML double-quoted scalar.
void text_write_quoted(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(f, "\\x%02X", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void write_string_value(FILE *f, const char *s)
{
    if (!s) s = "";
    if (plain_safe(s))
        fputs(s, f);
    else
        text_write_quoted(f, s);
}

static void write_int(FILE *f, const keydef *k, const spec *s)
{
    fprintf(f, "%d", *(const int *)cfield_of(s, k));
}

static void write_double(FILE *f, const keydef *k, const spec *s)
{
    fprintf(f, "%.17g", *(const double *)cfield_of(s, k));
}

static void write_bool(FILE *f, const keydef *k, const spec *s)
{
    fputs(*(const bool *)cfield_of(s, k) ? "true" : "false", f);
}

static void write_string(FILE *f, const keydef *k, const spec *s)
{
    write_string_value(f, *(char *const *)cfield_of(s, k));
}

static void write_matrix(FILE *f, const keydef *k, const spec *s)
{
    const mat_source *m = cfield_of(s, k);
    if (m->kind == MAT_FILE) {
        write_string_value(f, m->path);
        return;
    }
    if (m->kind == MAT_INLINE) {
        fputc('[', f);
        for (int i = 0; i < m->rows; i++) {
            fputs(i ? ", [" : "[", f);
            for (int j = 0; j < m->cols; j++)
                fprintf(f, "%s%.17g", j ? ", " : "",
                        m->data[(size_t)i * (size_t)m->cols + (size_t)j]);
            fputc(']', f);
        }
        fputc(']', f);
        return;
    }
    for (size_t i = 0; i < COUNT(MAT_WORDS); i++)
        if (MAT_WORDS[i].kind == m->kind) fputs(MAT_WORDS[i].word, f);
}

static void write_seeds(FILE *f, const keydef *k, const spec *s)
{
    (void)k;
    if (s->seeds_is_count) {
        fprintf(f, "%d", s->nseeds);
        return;
    }
    fputc('[', f);
    for (int i = 0; i < s->nseeds; i++) fprintf(f, "%s%ld", i ? ", " : "", s->seeds[i]);
    fputc(']', f);
}

static void write_classes(FILE *f, const keydef *k, const spec *s)
{
    const int_list *l = cfield_of(s, k);
    fputc('[', f);
    for (int i = 0; i < l->n; i++) fprintf(f, "%s%d", i ? ", " : "", l->v[i]);
    fputc(']', f);
}

static void write_save(FILE *f, const keydef *k, const spec *s)
{
    unsigned bits = *(const unsigned *)cfield_of(s, k);
    bool first = true;
    fputc('[', f);
    for (size_t i = 0; i < COUNT(SAVE_ITEMS); i++) {
        if (!(bits & SAVE_ITEMS[i].bit)) continue;
        fprintf(f, "%s%s", first ? "" : ", ", SAVE_ITEMS[i].item);
        first = false;
    }
    fputc(']', f);
}

// ---------------------------------------------------------------------------
// Releasing fields

static void free_string(spec *s, const keydef *k)
{
    char **p = field_of(s, k);
    free(*p);
    *p = NULL;
}

static void free_matrix(spec *s, const keydef *k)
{
    mat_source *m = field_of(s, k);
    free(m->path);
    free(m->data);
    memset(m, 0, sizeof *m);
}

static void free_classes(spec *s, const keydef *k)
{
    int_list *l = field_of(s, k);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static void free_seeds(spec *s, const keydef *k)
{
    (void)k;
    free(s->seeds);
    s->seeds = NULL;
    s->nseeds = 0;
}

// ---------------------------------------------------------------------------
// The operations of each type

const key_ops KEY_OPS[] = {
    [T_INT] = {set_int, write_int, NULL},
    [T_DOUBLE] = {set_double, write_double, NULL},
    [T_BOOL] = {set_bool, write_bool, NULL},
    [T_STRING] = {set_string, write_string, free_string},
    [T_NAME] = {set_name, write_string, free_string},
    [T_MATRIX] = {set_matrix, write_matrix, free_matrix},
    [T_SEEDS] = {set_seeds, write_seeds, free_seeds},
    [T_SAVE] = {set_save, write_save, NULL},
    [T_CLASSES] = {set_classes, write_classes, free_classes},
};

// ===========================================================================
// Freeing, listing

void spec_free(spec *s)
{
    if (!s) return;
    for (size_t i = 0; i < NKEYS; i++)
        if (KEY_OPS[KEYS[i].type].release) KEY_OPS[KEYS[i].type].release(s, &KEYS[i]);
    free(s->source_path);
    memset(s, 0, sizeof *s);
}

static const char *key_names[NKEYS + 1];
static once_flag key_names_once = ONCE_FLAG_INIT;

static void fill_key_names(void)
{
    for (size_t i = 0; i < NKEYS; i++) key_names[i] = KEYS[i].key;
    key_names[NKEYS] = NULL;
}

const char *const *config_keys(void)
{
    call_once(&key_names_once, fill_key_names);
    return key_names;
}

