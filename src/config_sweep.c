// config_sweep.c: the sweep block of an experiment file (config.h: Sweeps).
//
// The `sweep:` block is read straight from the document tree: every value is
// kept as flow text for config_doc_set (so each cell is checked by the very
// code that checks a --set value) and as a label for CSV cells.  Only the
// shape of values is checked here; config_resolve checks each cell.
#include "config_internal.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const config_doc *doc;
    sweep_def *out;
    lerr *e;
    const char *where;          // "sweep" or "sweep.zip", for messages
    const node *seen[NKEYS];    // the key node where each key was swept first
    int zip_first;              // index in out->axes of the first zip axis, or -1
} sctx;

// An error at node `at` of the sweep block: "FILE:L:C: WHERE: BODY".
static int sweep_fail(const sctx *c, const node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int sweep_fail(const sctx *c, const node *at, const char *fmt, ...)
{
    char body[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    if (at->src == SRC_SET)   // given with --set: "--set sweep.KEY: WHERE: BODY"
        return lerr_input(c->e, "%s: %s: %s", at->origin, c->where, body);
    return lerr_input(c->e, "%s:%d:%d: %s: %s", c->doc->name, at->line, at->col, c->where, body);
}

// "(did you mean 'x'?)", the keys of a valid section, or a reminder that
// sweep keys are dotted, for an unknown key under sweep.
static void sweep_hint(const char *typed, char *buf, size_t size)
{
    char best[64], section[64] = "";
    if (key_suggest(typed, best, sizeof best)) {
        snprintf(buf, size, "(did you mean '%s'?)", best);
        return;
    }
    size_t sl = key_section_len(typed);
    if (sl && sl < sizeof section) snprintf(section, sizeof section, "%.*s", (int)sl, typed);
    if (section[0] && key_is_section(section)) {
        key_unknown_hint(typed, buf, size);
        return;
    }
    snprintf(buf, size, "(sweep keys are dotted keys such as teacher.d or init.alpha2)");
}

// Check a key of the sweep block; returns its row in KEYS, or -1.
static int sweep_key(sctx *c, const node *key)
{
    const char *k = key->text;
    int ki = key_index(k);
    if (ki < 0 && strcmp(k, ZIP_KEY) == 0)
        return sweep_fail(c, key, "zip groups cannot be nested");
    if (ki < 0 && key_is_section(k)) {
        char list[1024];
        key_section_list(k, list, sizeof list);
        return sweep_fail(c, key, "'%s' is a section, not a key; sweep one of its keys as %s.KEY "
                          "(%s)", k, k, list);
    }
    if (ki < 0) {
        char hint[1200];
        sweep_hint(k, hint, sizeof hint);
        return sweep_fail(c, key, "unknown key '%s' %s", k, hint);
    }
    if (KEYS[ki].type == T_SEEDS)
        return sweep_fail(c, key, "'%s' cannot be swept: every grid point runs each seed; "
                          "give them as seeds: at the top level", k);
    if (KEYS[ki].type == T_NAME)
        return sweep_fail(c, key, "'%s' cannot be swept: an experiment has one name", k);
    if (c->seen[ki])
        return sweep_fail(c, key, "%s is swept twice (first at line %d, column %d); a key is "
                          "either a product key or under zip, once", k, c->seen[ki]->line,
                          c->seen[ki]->col);
    c->seen[ki] = key;
    return ki;
}

// The first mapping inside `v` (itself included), or NULL.
static const node *find_mapping(const node *v)
{
    if (v->kind == NODE_MAP) return v;
    for (int i = 0; v->kind == NODE_SEQ && i < v->n; i++) {
        const node *m = find_mapping(v->vals[i]);
        if (m) return m;
    }
    return NULL;
}

// Whether every item of sequence `v` is a sequence (the rows of a matrix).
static bool all_rows(const node *v)
{
    for (int i = 0; i < v->n; i++)
        if (v->vals[i]->kind != NODE_SEQ) return false;
    return true;
}

// The shape of value i of key k: what no cell could accept is refused here.
static int sweep_value(const sctx *c, const keydef *k, const node *v, int i)
{
    char got[128];
    const node *m = find_mapping(v);
    if (m) return sweep_fail(c, m, "%s: value %d: a mapping is not a value of any key", k->key, i);
    if (node_is_null(v)) return sweep_fail(c, v, "%s: value %d is empty", k->key, i);
    if (k->type == T_SAVE && v->kind != NODE_SEQ)
        return sweep_fail(c, v, "%s: value %d: expected a list such as [a, w] (sweep log.save "
                          "as a list of lists: [[a], [a, w]]), got %s",
                          k->key, i, node_describe(v, got, sizeof got));
    if (k->type == T_CLASSES && v->kind != NODE_SEQ)
        return sweep_fail(c, v, "%s: value %d: expected a list of classes such as [0, 2] (sweep "
                          "it as a list of lists: [[0, 2], [4, 6]]), got %s",
                          k->key, i, node_describe(v, got, sizeof got));
    if (k->type == T_MATRIX && v->kind == NODE_SEQ && !all_rows(v))
        return sweep_fail(c, v, "%s: value %d is a list but not a matrix (a list of rows); "
                          "sweep inline matrices as a list of them: [[[1, 2]], [[3, 4]]]",
                          k->key, i);
    if (k->type != T_SAVE && k->type != T_MATRIX && k->type != T_CLASSES &&
        v->kind != NODE_SCALAR)
        return sweep_fail(c, v, "%s: value %d: expected a single value, got %s", k->key, i,
                          node_describe(v, got, sizeof got));
    return 0;
}

// The list of values of key k: a non-empty sequence of well-shaped values.
static int sweep_list(const sctx *c, const keydef *k, const node *list)
{
    char got[128];
    if (list->kind != NODE_SEQ)
        return sweep_fail(c, list, "%s: expected a list of values such as %s, got %s", k->key,
                          k->type == T_SAVE ? "[[a], [a, w]]" : "[1, 0.1]",
                          node_describe(list, got, sizeof got));
    if (list->n == 0) return sweep_fail(c, list, "%s: the list of values is empty", k->key);
    for (int i = 0; i < list->n; i++)
        if (sweep_value(c, k, list->vals[i], i + 1)) return -1;
    return 0;
}

// Whether a plain scalar reads back as the same plain scalar when written
// as is, alone or as an item of a flow list: only characters that are never
// YAML indicators, and neither a lone "-" nor a document marker.
static bool flow_plain_ok(const char *s)
{
    if (!s[0] || strcmp(s, "-") == 0 || strcmp(s, "---") == 0 || strcmp(s, "...") == 0)
        return false;
    return text_safe_chars(s);
}

// `v` as YAML flow text: plain scalars as written where that is safe, other
// scalars double-quoted, sequences as [a, b].
static void write_flow(FILE *f, const node *v)
{
    if (v->kind == NODE_SCALAR) {
        if (v->plain && flow_plain_ok(v->text))
            fputs(v->text, f);
        else
            text_write_quoted(f, v->text);
        return;
    }
    fputc('[', f);
    for (int i = 0; i < v->n; i++) {
        if (i) fputs(", ", f);
        write_flow(f, v->vals[i]);
    }
    fputc(']', f);
}

// write_flow into a new string.
static char *flow_text(const node *v)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        fprintf(stderr, "loralab: out of memory (%s:%d)\n", __FILE__, __LINE__);
        exit(1);
    }
    write_flow(f, v);
    fclose(f);
    return buf;
}

// Fill an axis from a checked list of values.
static void fill_axis(const sctx *c, sweep_axis *ax, const keydef *k, const node *list, int zip)
{
    size_t n = (size_t)list->n;
    ax->key = xstrdup(k->key);
    ax->zip = zip;
    ax->nvalues = list->n;
    ax->values = xcalloc(n, sizeof(char *));
    ax->labels = xcalloc(n, sizeof(char *));
    ax->lines = xcalloc(n, sizeof(int));
    ax->cols = xcalloc(n, sizeof(int));
    ax->origins = xcalloc(n, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        const node *v = list->vals[i];
        ax->values[i] = flow_text(v);
        ax->labels[i] = xstrdup(v->kind == NODE_SCALAR ? v->text : ax->values[i]);
        ax->lines[i] = v->line;
        ax->cols[i] = v->col;
        if (v->src == SRC_SET) {
            ax->origins[i] = xstrdup(v->origin);
        } else {
            size_t len = strlen(c->doc->name) + 32;
            ax->origins[i] = xmalloc(len);
            snprintf(ax->origins[i], len, "%s:%d:%d", c->doc->name, v->line, v->col);
        }
    }
}

// One key: list pair of the sweep block (or of its zip group) -> an axis.
static int sweep_axis_from(sctx *c, const node *key, const node *list, int zip)
{
    int ki = sweep_key(c, key);
    if (ki < 0 || sweep_list(c, &KEYS[ki], list)) return -1;
    if (zip && c->zip_first >= 0 && list->n != c->out->axes[c->zip_first].nvalues) {
        const sweep_axis *first = &c->out->axes[c->zip_first];
        return sweep_fail(c, list, "%s has %d value%s but %s has %d; keys under zip vary "
                          "together, so their lists need the same length", KEYS[ki].key,
                          list->n, list->n == 1 ? "" : "s", first->key, first->nvalues);
    }
    if (zip && c->zip_first < 0) c->zip_first = c->out->naxes;
    fill_axis(c, &c->out->axes[c->out->naxes++], &KEYS[ki], list, zip);
    return 0;
}

// The zip group: a non-empty mapping of keys to lists of one length.
static int sweep_zip(sctx *c, const node *key, const node *v)
{
    char got[128];
    c->where = "sweep.zip";
    if (node_is_null(v) || (v->kind == NODE_MAP && v->n == 0))
        return sweep_fail(c, node_is_null(v) ? key : v, "no keys; list the keys that vary together "
                          "under it (or remove zip:)");
    if (v->kind != NODE_MAP)
        return sweep_fail(c, v, "must be a mapping of dotted keys to lists of the same length "
                          "(as in teacher.d: [50, 100]), got %s", node_describe(v, got, sizeof got));
    for (int i = 0; i < v->n; i++)
        if (sweep_axis_from(c, v->keys[i], v->vals[i], 1)) return -1;
    c->where = "sweep";
    return 0;
}

// Move the zip axes behind the product axes, keeping file order in each.
static void zip_last(sweep_def *d)
{
    if (d->naxes == 0) {   // an empty block: no axes, no array
        free(d->axes);
        d->axes = NULL;
        return;
    }
    sweep_axis *sorted = xcalloc((size_t)d->naxes, sizeof *sorted);
    int n = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int a = 0; a < d->naxes; a++)
            if (d->axes[a].zip == pass) sorted[n++] = d->axes[a];
    free(d->axes);
    d->axes = sorted;
}

// Read the sweep mapping `block` into c->out.
static int sweep_block(sctx *c, const node *block)
{
    char got[128];
    if (block->kind != NODE_MAP)
        return sweep_fail(c, block, "must be a mapping of dotted keys to lists of values "
                          "(as in init.alpha2: [1, 0.1]), got %s",
                          node_describe(block, got, sizeof got));
    c->out->axes = xcalloc(NKEYS, sizeof(sweep_axis));
    for (int i = 0; i < block->n; i++) {
        const node *key = block->keys[i], *v = block->vals[i];
        int rc = strcmp(key->text, ZIP_KEY) == 0 ? sweep_zip(c, key, v)
                                                 : sweep_axis_from(c, key, v, 0);
        if (rc) return -1;
    }
    zip_last(c->out);
    return 0;
}

int config_sweep(const config_doc *doc, sweep_def *out, lerr *e)
{
    memset(out, 0, sizeof *out);
    out->file = xstrdup(doc->name);
    int i = node_find(doc->root, SWEEP_KEY);
    if (i < 0 || node_is_null(doc->root->vals[i])) return 0;
    sctx c = {.doc = doc, .out = out, .e = e, .where = SWEEP_KEY, .zip_first = -1};
    if (sweep_block(&c, doc->root->vals[i]) == 0) return 0;
    sweep_def_free(out);
    return -1;
}

// Release one axis.
static void axis_free(sweep_axis *ax)
{
    for (int i = 0; i < ax->nvalues; i++) {
        free(ax->values[i]);
        free(ax->labels[i]);
        free(ax->origins[i]);
    }
    free(ax->origins);
    free(ax->values);
    free(ax->labels);
    free(ax->lines);
    free(ax->cols);
    free(ax->key);
}

void sweep_def_free(sweep_def *d)
{
    if (!d) return;
    for (int a = 0; a < d->naxes; a++) axis_free(&d->axes[a]);
    free(d->axes);
    free(d->file);
    memset(d, 0, sizeof *d);
}

// "  KEY: [v1, v2]" with `indent` leading spaces.
static void write_axis(FILE *f, const sweep_axis *ax, int indent)
{
    fprintf(f, "%*s%s: [", indent, "", ax->key);
    for (int i = 0; i < ax->nvalues; i++) fprintf(f, "%s%s", i ? ", " : "", ax->values[i]);
    fputs("]\n", f);
}

int config_write_sweep(const sweep_def *d, FILE *f)
{
    bool any_zip = false;
    if (d->naxes > 0) fprintf(f, "%s:\n", SWEEP_KEY);
    for (int a = 0; a < d->naxes; a++) {
        if (d->axes[a].zip)
            any_zip = true;
        else
            write_axis(f, &d->axes[a], 2);
    }
    if (any_zip) fprintf(f, "  %s:\n", ZIP_KEY);
    for (int a = 0; any_zip && a < d->naxes; a++)
        if (d->axes[a].zip) write_axis(f, &d->axes[a], 4);
    return ferror(f) ? -1 : 0;
}

// ===========================================================================
// Editing the block with --set
//
//   KEY=VALUE             KEY leaves the sweep (sweep_doc_drop, called by
//                         config_doc_set): one value replaces the axis
//   sweep.KEY=[v1, ...]   product axis KEY replaced or added (moved out of
//                         zip if it was there); [] removes it
//   sweep.zip.KEY=[...]   zip key KEY replaced or added (moved out of the
//                         product axes if it was there); [] removes it
//   sweep.zip={...}       the zip group replaced; {} or null removes it
//   sweep={...}           the whole block replaced; {} or null removes it
// Removing the last key of zip removes zip.  Later --set arguments act on
// what earlier ones left.  Values are checked by config_sweep, and each cell
// by config_resolve, with "--set sweep.KEY" as their origin.

static const char SWEEP_ZIP[] = "sweep.zip";

bool sweep_set_key(const char *key)
{
    size_t n = strlen(SWEEP_KEY);
    return strncmp(key, SWEEP_KEY, n) == 0 && (key[n] == '\0' || key[n] == '.');
}

// Give every node of a tree `origin` (what messages call the value).
static void label_tree(node *v, const char *origin)
{
    free(v->origin);
    v->origin = xstrdup(origin);
    for (int i = 0; i < v->n; i++) {
        if (v->keys) label_tree(v->keys[i], origin);
        label_tree(v->vals[i], origin);
    }
}

// Whether a --set value asks for removal: null, [] or {}.
static bool empty_value(const node *v)
{
    return node_is_null(v) || (v->kind != NODE_SCALAR && v->n == 0);
}

// Remove `key` from mapping `map` (nothing when it is not there); true if removed.
static bool map_drop(node *map, const char *key)
{
    int i = node_find(map, key);
    if (i < 0) return false;
    node_remove(map, i);
    return true;
}

// Set map[key] = v (owned), in place if present, else appended.
static void map_put(node *map, const char *key, node *v, const char *origin)
{
    int i = node_find(map, key);
    if (i >= 0) {
        node_free(map->vals[i]);
        map->vals[i] = v;
        return;
    }
    node *k = node_new(NODE_SCALAR, SRC_SET, origin, 1, 1);
    k->text = xstrdup(key);
    k->plain = true;
    node_push(map, k, v);
}

// The mapping under root's `sweep` (created when missing or null), or NULL
// after an error when the file's sweep is something else.
static node *sweep_map(config_doc *doc, const char *key, const char *origin, lerr *e)
{
    node *root = doc->root;
    int i = node_find(root, SWEEP_KEY);
    if (i < 0) {
        map_put(root, SWEEP_KEY, node_new(NODE_MAP, SRC_SET, origin, 1, 1), origin);
        return root->vals[root->n - 1];
    }
    node *v = root->vals[i];
    if (node_is_null(v)) {
        node_free(v);
        v = root->vals[i] = node_new(NODE_MAP, SRC_SET, origin, 1, 1);
    }
    if (v->kind == NODE_MAP) return v;
    char body[1536];
    snprintf(body, sizeof body, "cannot set it: %s:%d:%d: sweep is not a mapping", doc->name,
             v->line, v->col);
    origin_fail(e, origin, key, body);
    return NULL;
}

// The zip mapping of sweep mapping `sw`, or NULL when it has none that is a
// mapping (with create: a new one when it has none at all or a null one).
static node *zip_map(node *sw, bool create, const char *origin)
{
    int i = node_find(sw, ZIP_KEY);
    if (i >= 0 && node_is_null(sw->vals[i]) && create) {
        node_free(sw->vals[i]);
        sw->vals[i] = node_new(NODE_MAP, SRC_SET, origin, 1, 1);
    }
    if (i < 0 && create) {
        map_put(sw, ZIP_KEY, node_new(NODE_MAP, SRC_SET, origin, 1, 1), origin);
        i = sw->n - 1;
    }
    return i >= 0 && sw->vals[i]->kind == NODE_MAP ? sw->vals[i] : NULL;
}

// Remove `key` from the zip group of `sw`; the group goes when this empties it.
static void zip_drop(node *sw, const char *key)
{
    node *zip = zip_map(sw, false, NULL);
    if (zip && map_drop(zip, key) && zip->n == 0) map_drop(sw, ZIP_KEY);
}

void sweep_doc_drop(config_doc *doc, const char *key)
{
    int i = node_find(doc->root, SWEEP_KEY);
    if (i < 0 || doc->root->vals[i]->kind != NODE_MAP) return;
    node *sw = doc->root->vals[i];
    map_drop(sw, key);
    zip_drop(sw, key);
}

// sweep.KEY / sweep.zip.KEY: KEY must be a key of the table.
static int check_axis_key(const char *setkey, const char *key, const char *origin, lerr *e)
{
    if (key_index(key) >= 0) return 0;
    char hint[1200], body[1400];
    if (key[0] && key_is_section(key)) {
        key_section_list(key, hint, sizeof hint);
        snprintf(body, sizeof body, "'%s' is a section, not a key; sweep one of its keys as "
                 "%s.KEY (%s)", key, key, hint);
    } else {
        key_unknown_hint(key, hint, sizeof hint);
        snprintf(body, sizeof body, "unknown key '%s' %s", key, hint);
    }
    return origin_fail(e, origin, setkey, body);
}

int sweep_doc_set(config_doc *doc, const char *key, const char *yaml_value, const char *origin,
                  lerr *e)
{
    size_t zn = strlen(SWEEP_ZIP), sn = strlen(SWEEP_KEY);
    bool whole = strcmp(key, SWEEP_KEY) == 0, whole_zip = strcmp(key, SWEEP_ZIP) == 0;
    bool in_zip = !whole_zip && strncmp(key, SWEEP_ZIP, zn) == 0 && key[zn] == '.';
    const char *axis = whole || whole_zip ? NULL : key + (in_zip ? zn : sn) + 1;
    if (axis && check_axis_key(key, axis, origin, e)) return -1;
    node *v = NULL;
    if (node_parse_value(yaml_value, SRC_SET, origin, key, e, &v)) return -1;
    // messages about the value name the argument: "--set sweep.KEY: ..."
    char label[1024];
    if (origin_is_option(origin))
        snprintf(label, sizeof label, "%s %s", origin, key);
    else
        snprintf(label, sizeof label, "%s", origin);
    label_tree(v, label);
    if (whole) {
        map_drop(doc->root, SWEEP_KEY);
        if (!empty_value(v)) map_put(doc->root, SWEEP_KEY, v, label);
        else node_free(v);
        return 0;
    }
    node *sw = sweep_map(doc, key, origin, e);
    if (!sw) {
        node_free(v);
        return -1;
    }
    if (whole_zip) {
        map_drop(sw, ZIP_KEY);
        for (int i = 0; v->kind == NODE_MAP && i < v->n; i++) map_drop(sw, v->keys[i]->text);
        if (!empty_value(v)) map_put(sw, ZIP_KEY, v, label);
        else node_free(v);
        return 0;
    }
    if (in_zip) {
        map_drop(sw, axis);
        if (empty_value(v)) {
            node_free(v);
            zip_drop(sw, axis);
            return 0;
        }
        node *zip = zip_map(sw, true, label);
        if (!zip) {   // the file's zip is not a mapping: config_sweep will say so
            node_free(v);
            return 0;
        }
        map_put(zip, axis, v, label);
        return 0;
    }
    zip_drop(sw, axis);
    if (empty_value(v)) {
        node_free(v);
        map_drop(sw, axis);
        return 0;
    }
    map_put(sw, axis, v, label);
    return 0;
}
