// config.c: experiment files (YAML) -> validated `spec`, and back.
//
// Three layers, read top to bottom:
//
//   1. A small document tree built from libyaml's event stream.  Every node
//      keeps its start mark (1-based line and column), whether a scalar was
//      plain (neither quoted nor tagged) and where it came from: the file, a
//      --set override or a default.  Quoted scalars are always strings, so a
//      quoted "1" is not a number.  Duplicate keys, aliases, several
//      documents and a top level that is not a mapping are rejected here.
//   2. One table, KEYS[], with a row per dotted key: its type, the spec field
//      it fills, its default written as YAML text and its valid range.  A
//      default is parsed by the very code that parses a user's value, so
//      the two cannot drift apart.  Adding a key is one row here and one
//      field in spec.h.  The row order is the order of config_write.
//   3. config_resolve, in phases: collect (sections, unknown keys, in
//      document order; the sweep block is skipped), set (every key in
//      table order: type and range), derive (d, k, n from matrices given
//      by file or inline; teacher.rank from an explicit delta), cross-check
//      (ranks <= min(d, k)).
//
// Message formats (every error is LERR_INPUT):
//   FILE:L:C: YAML syntax error: <libyaml's problem> (<its context>)
//   FILE:L:C: duplicate key 'teacher.d' (first at line 3, column 3)
//   FILE:L:C: unknown key 'teacher.dd' (did you mean 'teacher.d'?)
//   FILE:L:C: unknown key 'teacher.foo' (valid keys in teacher: model, d, ...)
//   FILE:L:C: teacher must be a mapping of keys (model, d, ...), got a list
//   FILE:L:C: teacher.d: expected an integer, got '1.5'
//   FILE:L:C: optimizer.lr: expected a number, got a quoted string "0.1"
//   FILE:L:C: teacher.kappa must be >= 1 (got 0.5)
//   FILE:L:C: teacher.spectrum: 'geo' is not one of: linear, geometric
//   FILE:L:C: teacher.w0: <npy_read's message>
//   FILE:L:C: teacher.w0: row 2 has 3 entries but row 1 has 2
//   FILE:L:C: teacher.d is 100 but teacher.w0 (/abs/w0.npy) has shape (50, 30)
//   FILE:L:C: lora.rank = 12 exceeds min(d, k) = 10 (d = 10, k = 20)
//   FILE: lora.rank (default) = 8 exceeds min(d, k) = 2 (d = 3, k = 2)
//   --set optimizer.lr: must be > 0 (got -1)        (a value given by --set)
//   --set optimizer.lrr: unknown key (did you mean 'optimizer.lr'?)
//   --set expects key=value, got 'abc'
//   exp.yaml:5:18: lora.rank: 200 exceeds min(d, k) = 100 (d = 100, k = 100)
//                  (a value set with a place in the file as origin: a sweep value)
//   FILE:L:C: sweep: ...                            (config_sweep: see config.h)
//
// Dimensions come from matrices given by file or inline: teacher.d, k from
// w0 and delta (d, k), teacher.d, n from x (n, d); teacher.rank defaults to
// delta's numerical rank.  A value written next to such a matrix must agree
// with it, except that --set outranks the file: a matrix given with --set
// replaces the d, k, n and rank the file wrote.
//
// Paths to .npy files are taken relative to the experiment file's folder
// (for config_parse_string documents: the working directory), and paths
// given with --set relative to the working directory at the time of the
// config_doc_set call, which is what a user typing a command line expects.
// Values set with a place in the file as origin (sweep values) are the
// file's text, so their paths are taken from the file's folder.
// They are stored absolute: realpath() when the file exists, otherwise
// normalised lexically (the load then fails and the message shows it).
#include "config.h"

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
#include <unistd.h>

#include <yaml.h>

#include "linalg.h"
#include "npy.h"
#include "activation.h"
#include "registry.h"

// The top-level key of the sweep block (config_sweep reads it, config_resolve
// skips it) and the key of its group of keys that vary together.
static const char SWEEP_KEY[] = "sweep", ZIP_KEY[] = "zip";

enum {
    MAX_DEPTH = 64,          // deeper YAML nesting is refused, not recursed into
    MAX_SEED_COUNT = 1000000 // `seeds: n` materialises n seeds
};

// ===========================================================================
// 1. The document tree

typedef enum { NODE_SCALAR, NODE_SEQ, NODE_MAP } node_kind;
typedef enum { SRC_FILE, SRC_SET, SRC_DEFAULT } node_src;

typedef struct node node;
struct node {
    node_kind kind;
    node_src src;
    char *origin;        // SRC_SET: what messages call the override ("--set")
    bool plain;          // scalar: written without quotes or tag
    int line, col;       // start mark, 1-based (meaningful for SRC_FILE)
    char *text;          // scalar: its value (never holds a NUL)
    int n, cap;          // sequence / mapping: number of children
    node **keys;         // mapping: key scalars, parallel to vals
    node **vals;         // sequence items, or mapping values
};

struct config_doc {
    node *root;          // always a mapping
    char *name;          // the file as given, or the name of a string document
    char *stem;          // the default experiment name
    char *base_dir;      // absolute folder for relative paths in the document
    char *set_dir;       // absolute working directory for paths from --set
};

static node *node_new(node_kind kind, node_src src, const char *origin, int line, int col)
{
    node *v = xcalloc(1, sizeof *v);
    v->kind = kind;
    v->src = src;
    v->origin = origin ? xstrdup(origin) : NULL;
    v->line = line;
    v->col = col;
    return v;
}

static void node_free(node *v)
{
    if (!v) return;
    for (int i = 0; i < v->n; i++) {
        if (v->keys) node_free(v->keys[i]);
        node_free(v->vals[i]);
    }
    free(v->keys);
    free(v->vals);
    free(v->text);
    free(v->origin);
    free(v);
}

// A deep copy of a tree.
static node *node_copy(const node *v)
{
    node *c = node_new(v->kind, v->src, v->origin, v->line, v->col);
    c->plain = v->plain;
    c->text = v->text ? xstrdup(v->text) : NULL;
    c->n = c->cap = v->n;
    if (v->n) {
        c->vals = xmalloc(sizeof(node *) * (size_t)v->n);
        if (v->kind == NODE_MAP) c->keys = xmalloc(sizeof(node *) * (size_t)v->n);
    }
    for (int i = 0; i < v->n; i++) {
        if (v->kind == NODE_MAP) c->keys[i] = node_copy(v->keys[i]);
        c->vals[i] = node_copy(v->vals[i]);
    }
    return c;
}

// Append a child (and, for a mapping, its key).
static void node_push(node *parent, node *key, node *val)
{
    if (parent->n == parent->cap) {
        parent->cap = parent->cap ? 2 * parent->cap : 8;
        parent->vals = xrealloc(parent->vals, sizeof(node *) * (size_t)parent->cap);
        if (parent->kind == NODE_MAP)
            parent->keys = xrealloc(parent->keys, sizeof(node *) * (size_t)parent->cap);
    }
    if (parent->kind == NODE_MAP) parent->keys[parent->n] = key;
    parent->vals[parent->n++] = val;
}

// Index of `key` in a mapping, or -1.
static int map_find(const node *map, const char *key)
{
    for (int i = 0; i < map->n; i++)
        if (strcmp(map->keys[i]->text, key) == 0) return i;
    return -1;
}

// A plain scalar that YAML reads as null: an empty value, "~" or "null".
static bool is_null(const node *v)
{
    if (v->kind != NODE_SCALAR || !v->plain) return false;
    return v->text[0] == '\0' || strcmp(v->text, "~") == 0 || strcasecmp(v->text, "null") == 0;
}

// What a node is, for "got ..." in messages.
static const char *describe(const node *v, char *buf, size_t size)
{
    if (v->kind == NODE_SEQ)
        snprintf(buf, size, "a list");
    else if (v->kind == NODE_MAP)
        snprintf(buf, size, "a mapping");
    else if (!v->plain)
        snprintf(buf, size, "a quoted string \"%.60s%s\"", v->text,
                 strlen(v->text) > 60 ? "..." : "");
    else if (is_null(v))
        snprintf(buf, size, "no value");
    else
        snprintf(buf, size, "'%.60s%s'", v->text, strlen(v->text) > 60 ? "..." : "");
    return buf;
}

// ===========================================================================
// 2. YAML text -> tree (libyaml events)

typedef struct {
    yaml_parser_t parser;
    const char *text;    // the input, for positions of reader errors
    size_t len;
    const char *name;    // SRC_FILE: the file, for messages
    const char *origin;  // SRC_SET / SRC_DEFAULT: who gave the value ...
    const char *key;     // ... and for which key
    node_src src;
    lerr *e;
} reader;

// Whether an override's origin names a command-line option ("--set"), as
// opposed to a place in the experiment file ("exp.yaml:5:18", what a sweep
// value is called).  NULL counts as "--set".
static bool origin_is_option(const char *origin)
{
    return !origin || strncmp(origin, "--", 2) == 0;
}

// An error in the value that `origin` gave for `key`: "--set KEY: BODY" for
// a command-line option, "ORIGIN: KEY: BODY" for a place in a file.
static int origin_fail(lerr *e, const char *origin, const char *key, const char *body)
{
    if (origin_is_option(origin))
        return lerr_input(e, "%s %s: %s", origin ? origin : "--set", key, body);
    return lerr_input(e, "%s: %s: %s", origin, key, body);
}

// An error at (line, col) of the text being read.
static int reader_fail(const reader *r, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int reader_fail(const reader *r, int line, int col, const char *fmt, ...)
{
    char body[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    if (r->src == SRC_FILE) return lerr_input(r->e, "%s:%d:%d: %s", r->name, line, col, body);
    if (r->src == SRC_SET) return origin_fail(r->e, r->origin, r->key, body);
    return lerr_input(r->e, "internal error: the default of %s: %s", r->key, body);
}

// Line and column (1-based, counting characters) of a byte offset.
static void offset_position(const char *text, size_t len, size_t off, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && i < len; i++) {
        unsigned char ch = (unsigned char)text[i];
        if (ch == '\n') {
            (*line)++;
            *col = 1;
        } else if ((ch & 0xC0) != 0x80) {
            (*col)++;
        }
    }
}

// Turn libyaml's error state into a message.
static int syntax_error(const reader *r)
{
    const yaml_parser_t *p = &r->parser;
    int line = (int)p->problem_mark.line + 1, col = (int)p->problem_mark.column + 1;
    if (p->error == YAML_READER_ERROR)
        offset_position(r->text, r->len, p->problem_offset, &line, &col);
    const char *problem = p->problem ? p->problem : "malformed input";
    if (r->src != SRC_FILE)   // a one-line value: positions inside it would only confuse
        return reader_fail(r, line, col, "YAML syntax error in '%.60s': %s%s%s%s", r->text,
                           problem, p->context ? " (" : "", p->context ? p->context : "",
                           p->context ? ")" : "");
    if (p->context)
        return reader_fail(r, line, col, "YAML syntax error: %s (%s at line %d, column %d)",
                           problem, p->context, (int)p->context_mark.line + 1,
                           (int)p->context_mark.column + 1);
    return reader_fail(r, line, col, "YAML syntax error: %s", problem);
}

static int next_event(reader *r, yaml_event_t *ev)
{
    if (yaml_parser_parse(&r->parser, ev)) return 0;
    return syntax_error(r);
}

static int mark_line(const yaml_event_t *ev) { return (int)ev->start_mark.line + 1; }
static int mark_col(const yaml_event_t *ev) { return (int)ev->start_mark.column + 1; }

static char *child_path(const char *path, const char *key)
{
    size_t n = strlen(path) + strlen(key) + 2;
    char *p = xmalloc(n);
    snprintf(p, n, "%s%s%s", path, path[0] ? "." : "", key);
    return p;
}

static int build_node(reader *r, const yaml_event_t *ev, const char *path, int depth,
                      node **out);

static int build_scalar(reader *r, const yaml_event_t *ev, node **out)
{
    const char *value = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    if (memchr(value, '\0', len))
        return reader_fail(r, mark_line(ev), mark_col(ev),
                           "a string may not contain a NUL character");
    node *v = node_new(NODE_SCALAR, r->src, r->origin, mark_line(ev), mark_col(ev));
    v->text = xmalloc(len + 1);
    memcpy(v->text, value, len);
    v->text[len] = '\0';
    v->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && ev->data.scalar.plain_implicit;
    *out = v;
    return 0;
}

static int build_seq(reader *r, const yaml_event_t *start, const char *path, int depth,
                     node **out)
{
    node *seq = node_new(NODE_SEQ, r->src, r->origin, mark_line(start), mark_col(start));
    for (;;) {
        yaml_event_t ev;
        if (next_event(r, &ev)) break;
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            *out = seq;
            return 0;
        }
        node *item = NULL;
        int rc = build_node(r, &ev, path, depth + 1, &item);
        yaml_event_delete(&ev);
        if (rc) break;
        node_push(seq, NULL, item);
    }
    node_free(seq);
    return -1;
}

// Read one key: value pair of a mapping whose key event is `kev`.
static int build_pair(reader *r, node *map, const yaml_event_t *kev, const char *path,
                      int depth)
{
    if (kev->type != YAML_SCALAR_EVENT)
        return reader_fail(r, mark_line(kev), mark_col(kev), "a mapping key must be a string");
    node *key = NULL;
    if (build_scalar(r, kev, &key)) return -1;
    char *kpath = child_path(path, key->text);
    int prev = map_find(map, key->text);
    if (prev >= 0) {
        reader_fail(r, key->line, key->col, "duplicate key '%s' (first at line %d, column %d)",
                    kpath, map->keys[prev]->line, map->keys[prev]->col);
        free(kpath);
        node_free(key);
        return -1;
    }
    yaml_event_t vev;
    node *val = NULL;
    int rc = next_event(r, &vev);
    if (!rc) {
        rc = build_node(r, &vev, kpath, depth + 1, &val);
        yaml_event_delete(&vev);
    }
    free(kpath);
    if (rc) {
        node_free(key);
        return -1;
    }
    node_push(map, key, val);
    return 0;
}

static int build_map(reader *r, const yaml_event_t *start, const char *path, int depth,
                     node **out)
{
    node *map = node_new(NODE_MAP, r->src, r->origin, mark_line(start), mark_col(start));
    for (;;) {
        yaml_event_t ev;
        if (next_event(r, &ev)) break;
        if (ev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&ev);
            *out = map;
            return 0;
        }
        int rc = build_pair(r, map, &ev, path, depth);
        yaml_event_delete(&ev);
        if (rc) break;
    }
    node_free(map);
    return -1;
}

// Build the node that starts with event `ev` (the caller deletes `ev`).
static int build_node(reader *r, const yaml_event_t *ev, const char *path, int depth,
                      node **out)
{
    if (depth > MAX_DEPTH)
        return reader_fail(r, mark_line(ev), mark_col(ev), "nesting deeper than %d levels",
                           MAX_DEPTH);
    switch (ev->type) {
    case YAML_SCALAR_EVENT: return build_scalar(r, ev, out);
    case YAML_SEQUENCE_START_EVENT: return build_seq(r, ev, path, depth, out);
    case YAML_MAPPING_START_EVENT: return build_map(r, ev, path, depth, out);
    case YAML_ALIAS_EVENT:
        return reader_fail(r, mark_line(ev), mark_col(ev),
                           "aliases (*%s) are not supported; write the value out",
                           (const char *)ev->data.alias.anchor);
    default:
        return reader_fail(r, mark_line(ev), mark_col(ev), "unexpected YAML event");
    }
}

// Expect an event of `type` next (used for the stream/document frame).
static int expect_event(reader *r, yaml_event_type_t type, yaml_event_t *ev)
{
    if (next_event(r, ev)) return -1;
    if (ev->type == type) return 0;
    int line = mark_line(ev), col = mark_col(ev);
    bool second_doc = ev->type == YAML_DOCUMENT_START_EVENT;
    yaml_event_delete(ev);
    if (second_doc)
        return reader_fail(r, line, col, "only one YAML document is allowed");
    return reader_fail(r, line, col, "unexpected YAML structure");
}

// Read a whole stream of at most one document; *out is NULL when it is empty.
static int read_stream(reader *r, node **out)
{
    yaml_event_t ev;
    *out = NULL;
    if (expect_event(r, YAML_STREAM_START_EVENT, &ev)) return -1;
    yaml_event_delete(&ev);
    if (next_event(r, &ev)) return -1;
    if (ev.type == YAML_STREAM_END_EVENT) {
        yaml_event_delete(&ev);
        return 0;
    }
    yaml_event_delete(&ev);   // document start
    node *root = NULL;
    if (next_event(r, &ev)) return -1;
    int rc = build_node(r, &ev, "", 0, &root);
    yaml_event_delete(&ev);
    if (rc) return -1;
    if (expect_event(r, YAML_DOCUMENT_END_EVENT, &ev)) {
        node_free(root);
        return -1;
    }
    yaml_event_delete(&ev);
    if (expect_event(r, YAML_STREAM_END_EVENT, &ev)) {
        node_free(root);
        return -1;
    }
    yaml_event_delete(&ev);
    *out = root;
    return 0;
}

// Parse `text` into a tree.  The reader's source fields say how nodes are
// labelled and how errors are worded.
static int parse_text(reader *r, const char *text, size_t len, node **out)
{
    r->text = text;
    r->len = len;
    if (!yaml_parser_initialize(&r->parser))
        return lerr_input(r->e, "cannot initialise the YAML parser");
    yaml_parser_set_input_string(&r->parser, (const unsigned char *)text, len);
    int rc = read_stream(r, out);
    yaml_parser_delete(&r->parser);
    return rc;
}

// A single YAML value given as text (--set values and defaults).  An empty
// text is an empty plain scalar.
static int parse_value(const char *text, node_src src, const char *origin, const char *key,
                       lerr *e, node **out)
{
    reader r = {.origin = origin, .key = key, .src = src, .e = e};
    if (parse_text(&r, text, strlen(text), out)) return -1;
    if (!*out) {
        *out = node_new(NODE_SCALAR, src, origin, 1, 1);
        (*out)->text = xstrdup("");
        (*out)->plain = true;
    }
    return 0;
}

// ===========================================================================
// Paths

// The working directory, as a new string (NULL if it cannot be found).
static char *current_dir(void)
{
    size_t n = 256;
    for (;;) {
        char *buf = xmalloc(n);
        if (getcwd(buf, n)) return buf;
        free(buf);
        if (errno != ERANGE || n > (1u << 20)) return NULL;
        n *= 2;
    }
}

// Collapse "//", "." and ".." of an absolute path, lexically.
static char *normalize_path(const char *abs)
{
    size_t n = strlen(abs);
    char *out = xmalloc(n + 2), *copy = xstrdup(abs);
    size_t len = 0;
    for (char *save = NULL, *part = strtok_r(copy, "/", &save); part;
         part = strtok_r(NULL, "/", &save)) {
        if (strcmp(part, ".") == 0) continue;
        if (strcmp(part, "..") == 0) {
            while (len > 0 && out[len - 1] != '/') len--;
            if (len > 0) len--;
            continue;
        }
        out[len++] = '/';
        size_t p = strlen(part);
        memcpy(out + len, part, p);
        len += p;
    }
    if (len == 0) out[len++] = '/';
    out[len] = '\0';
    free(copy);
    return out;
}

// `path` made absolute against `base` (an absolute folder) and normalised:
// by realpath() when the file exists, lexically otherwise.
static char *absolute_path(const char *base, const char *path)
{
    char *joined = path[0] == '/' ? xstrdup(path) : path_join(base, path);
    char *real = realpath(joined, NULL);
    if (real) {
        free(joined);
        char *copy = xstrdup(real);   // keep every string from xmalloc
        free(real);
        return copy;
    }
    char *norm = normalize_path(joined);
    free(joined);
    return norm;
}

// The folder holding `file`, absolute.
static char *folder_of(const char *file, const char *cwd)
{
    const char *slash = strrchr(file, '/');
    char *dir;
    if (!slash) {
        dir = xstrdup(".");
    } else {
        size_t n = slash == file ? 1 : (size_t)(slash - file);
        dir = xmalloc(n + 1);
        memcpy(dir, file, n);
        dir[n] = '\0';
    }
    char *abs = absolute_path(cwd, dir);
    free(dir);
    return abs;
}

// The file name without folder and without its last extension.
static char *file_stem(const char *file)
{
    const char *slash = strrchr(file, '/');
    const char *base = slash ? slash + 1 : file;
    if (!base[0]) return xstrdup("experiment");
    const char *dot = strrchr(base, '.');
    size_t n = (dot && dot != base) ? (size_t)(dot - base) : strlen(base);
    char *stem = xmalloc(n + 1);
    memcpy(stem, base, n);
    stem[n] = '\0';
    return stem;
}

// ===========================================================================
// Loading documents

static config_doc *doc_from_text(const char *text, size_t len, const char *name,
                                 const char *folder_hint, lerr *e)
{
    char *cwd = current_dir();
    if (!cwd) {
        lerr_input(e, "%s: cannot determine the working directory", name);
        return NULL;
    }
    reader r = {.name = name, .src = SRC_FILE, .e = e};
    node *root = NULL;
    if (parse_text(&r, text, len, &root)) {
        free(cwd);
        return NULL;
    }
    if (root && !is_null(root) && root->kind != NODE_MAP) {
        char got[128];
        lerr_input(e, "%s:%d:%d: the top level must be a mapping of keys (name:, teacher:, ...), "
                   "got %s", name, root->line, root->col, describe(root, got, sizeof got));
        node_free(root);
        free(cwd);
        return NULL;
    }
    if (!root || root->kind != NODE_MAP) {
        node_free(root);
        root = node_new(NODE_MAP, SRC_FILE, NULL, 1, 1);
    }
    config_doc *doc = xcalloc(1, sizeof *doc);
    doc->root = root;
    doc->name = xstrdup(name);
    doc->stem = folder_hint ? file_stem(name) : xstrdup("experiment");
    doc->base_dir = folder_hint ? folder_of(folder_hint, cwd) : xstrdup(cwd);
    doc->set_dir = cwd;
    return doc;
}

// The whole of `f` as a new NUL-terminated buffer.
static char *read_all(FILE *f, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = xmalloc(cap);
    for (;;) {
        if (n + 1 >= cap) buf = xrealloc(buf, cap *= 2);
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

config_doc *config_parse_file(const char *path, lerr *e)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int err = errno;
        lerr_input(e, "cannot open %s: %s", path, strerror(err));
        return NULL;
    }
    size_t len = 0;
    errno = 0;
    char *text = read_all(f, &len);
    int err = errno ? errno : EIO;
    fclose(f);
    if (!text) {
        lerr_input(e, "cannot read %s: %s", path, strerror(err));
        return NULL;
    }
    config_doc *doc = doc_from_text(text, len, path, path, e);
    free(text);
    return doc;
}

config_doc *config_parse_string(const char *text, const char *name, lerr *e)
{
    return doc_from_text(text, strlen(text), name ? name : "<string>", NULL, e);
}

config_doc *config_doc_copy(const config_doc *doc)
{
    config_doc *c = xcalloc(1, sizeof *c);
    c->root = node_copy(doc->root);
    c->name = xstrdup(doc->name);
    c->stem = xstrdup(doc->stem);
    c->base_dir = xstrdup(doc->base_dir);
    c->set_dir = xstrdup(doc->set_dir);
    return c;
}

void config_doc_free(config_doc *doc)
{
    if (!doc) return;
    node_free(doc->root);
    free(doc->name);
    free(doc->stem);
    free(doc->base_dir);
    free(doc->set_dir);
    free(doc);
}

// ===========================================================================
// 3. The key table

typedef enum {
    T_INT,      // int, plain integer (or an integral float such as 1e4)
    T_DOUBLE,   // double, plain finite decimal number
    T_BOOL,     // bool: true/false/yes/no, any case
    T_STRING,   // char *: any scalar; `choices` or `known` restrict it
    T_NAME,     // char *: [A-Za-z0-9._-]+, not starting with '.'
    T_MATRIX,   // mat_source: a word from `words`, a .npy path or inline rows
    T_SEEDS,    // nseeds/seeds/seeds_is_count: a count or a list
    T_SAVE,     // unsigned SAVE_* bits: a list of a, b, w, g
} key_type;

typedef enum { LO_NONE, LO_GE, LO_GT } lo_kind;

typedef struct {
    const char *key;           // dotted key; rows of a section are contiguous
    key_type type;
    size_t off;                // offset of the field in spec
    const char *def;           // default as YAML text; NULL: the file's stem
    lo_kind lo_op;             // numbers: lower bound, if any
    double lo;
    const char *choices;       // T_STRING: the valid values, ", "-separated
    int (*known)(const char *);      // T_STRING: or a registry lookup ...
    const char *(*names)(void);      // ... and its list for messages
    unsigned words;            // T_MATRIX: the MAT_* kinds named by a word
    bool path_ok;              // T_STRING: a value not in `choices` is a file path,
                               //   stored absolute (resolved like matrix paths)
} keydef;

#define OFF(field) offsetof(spec, field)
#define ANY .lo_op = LO_NONE
#define GE(x) .lo_op = LO_GE, .lo = (x)
#define GT(x) .lo_op = LO_GT, .lo = (x)
#define WORD(kind) (1u << (kind))

static const keydef KEYS[] = {
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
     .choices = "generated, orthogonal", .path_ok = true},
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
    {"optimizer.damping", T_DOUBLE, OFF(optimizer.damping), "1e-3", GE(0)},
    {"optimizer.weight_decay", T_DOUBLE, OFF(optimizer.weight_decay), "0", GE(0)},
    {"log.every", T_INT, OFF(log.every), "1", GE(1)},
    {"log.save", T_SAVE, OFF(log.save), "[]", ANY},
    {"log.risk_tol", T_DOUBLE, OFF(log.risk_tol), "1e-20", GT(0)},
    {"log.align_target", T_DOUBLE, OFF(log.align_target), "0.5", GT(0)},
    {"log.params", T_BOOL, OFF(log.params), "false", ANY},
    {"convex.steps", T_INT, OFF(convex.steps), "20000", GE(1)},
    {"convex.tol", T_DOUBLE, OFF(convex.tol), "1e-10", GT(0)},
    {"seeds", T_SEEDS, OFF(nseeds), "1", ANY},
};

#define NKEYS (sizeof KEYS / sizeof KEYS[0])

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

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int key_index(const char *key)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(KEYS[i].key, key) == 0) return (int)i;
    return -1;
}

static const char *leaf_of(const char *key)
{
    const char *dot = strrchr(key, '.');
    return dot ? dot + 1 : key;
}

// Length of the section part of a dotted key (0 for a top-level key).
static size_t section_len(const char *key)
{
    const char *dot = strchr(key, '.');
    return dot ? (size_t)(dot - key) : 0;
}

// Whether `name` is a section (the part before the dot of some key).
static bool is_section(const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < NKEYS; i++)
        if (section_len(KEYS[i].key) == n && strncmp(KEYS[i].key, name, n) == 0) return true;
    return false;
}

static void append(char *buf, size_t size, const char *s)
{
    size_t used = strlen(buf);
    if (used + 1 < size) snprintf(buf + used, size - used, "%s", s);
}

// The keys of `section` ("" for the top level: its keys and section names),
// ", "-separated, into buf.
static void section_keys(const char *section, char *buf, size_t size)
{
    size_t n = strlen(section);
    const char *last = NULL;
    size_t last_len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < NKEYS; i++) {
        const char *k = KEYS[i].key;
        size_t sl = section_len(k);
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

// Levenshtein distance; strings longer than 63 bytes count as far apart.
static int edit_distance(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    if (na > 63 || nb > 63) return INT_MAX / 2;
    int prev[64], cur[64];
    for (size_t j = 0; j <= nb; j++) prev[j] = (int)j;
    for (size_t i = 1; i <= na; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= nb; j++) {
            int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            int del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, sizeof(int) * (nb + 1));
    }
    return prev[nb];
}

// How many edits still count as a typo of a name of length n.
static int typo_budget(size_t n) { return n <= 3 ? 1 : n <= 7 ? 2 : 3; }

// The valid key or section closest to `typed`, into buf (false if none is
// close enough).  Keys are compared whole ("teacher.dd" ~ "teacher.d") and
// by their last part at one extra edit when in another section ("init.lr" ~
// "optimizer.lr"); sections by name ("optimiser" ~ "optimizer").
static bool suggest_key(const char *typed, char *buf, size_t size)
{
    const char *leaf = leaf_of(typed);
    int best = typo_budget(strlen(leaf)) + 1;
    for (size_t i = 0; i < NKEYS; i++) {
        const char *key = KEYS[i].key;
        size_t sl = section_len(key);
        int d = edit_distance(typed, key);
        if (sl) {
            bool same = section_len(typed) == sl && strncmp(typed, key, sl) == 0;
            int dl = edit_distance(leaf, leaf_of(key)) + (same ? 0 : 1);
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
static void unknown_hint(const char *typed, char *buf, size_t size)
{
    char best[64];
    if (suggest_key(typed, best, sizeof best)) {
        snprintf(buf, size, "(did you mean '%s'?)", best);
        return;
    }
    char section[64] = "", list[1024];
    size_t sl = section_len(typed);
    if (sl && sl < sizeof section) {
        memcpy(section, typed, sl);
        section[sl] = '\0';
    }
    if (!is_section(section)) section[0] = '\0';
    section_keys(section, list, sizeof list);
    if (section[0])
        snprintf(buf, size, "(valid keys in %s: %s)", section, list);
    else
        snprintf(buf, size, "(valid top-level keys: %s)", list);
}

// ===========================================================================
// 4. Resolution context and messages

typedef struct {
    const config_doc *doc;
    spec *s;
    lerr *e;
    const node *val[NKEYS];   // what the file or --set gave; NULL: the default
} rctx;

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
static int fail(const rctx *c, const char *key, const node *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(const rctx *c, const char *key, const node *at, const char *fmt, ...)
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
        describe(v, got, size);
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
        describe(v, got, size);
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
            describe(v, got, size);
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

// The lower bound of row k, checked against x (the message quotes the text
// as written).
static int check_lower(const rctx *c, const keydef *k, const node *v, double x)
{
    bool ok = k->lo_op == LO_NONE || (k->lo_op == LO_GE ? x >= k->lo : x > k->lo);
    if (ok) return 0;
    return fail(c, k->key, v, " must be %s %g (got %s)", k->lo_op == LO_GE ? ">=" : ">", k->lo,
                v->text);
}

static void *field_of(spec *s, const keydef *k) { return (char *)s + k->off; }
static const void *cfield_of(const spec *s, const keydef *k) { return (const char *)s + k->off; }

// ---------------------------------------------------------------------------
// Setters: node -> field, one per type

static int set_int(rctx *c, const keydef *k, const node *v)
{
    char got[128];
    long x;
    if (!read_integer(v, INT_MIN, INT_MAX, &x, got, sizeof got))
        return fail(c, k->key, v, ": expected an integer, got %s", got);
    if (check_lower(c, k, v, (double)x)) return -1;
    *(int *)field_of(c->s, k) = (int)x;
    return 0;
}

static int set_double(rctx *c, const keydef *k, const node *v)
{
    char got[128];
    double x;
    if (!read_double(v, &x, got, sizeof got))
        return fail(c, k->key, v, ": expected a number, got %s", got);
    if (check_lower(c, k, v, x)) return -1;
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
    return fail(c, k->key, v, ": expected true or false, got %s", describe(v, got, sizeof got));
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
    if (v->kind == NODE_SCALAR && !is_null(v)) return 0;
    return fail(c, k->key, v, ": expected a string, got %s", describe(v, got, sizeof got));
}

static int set_string(rctx *c, const keydef *k, const node *v)
{
    if (scalar_text(c, k, v)) return -1;
    if (k->path_ok && !(v->plain && in_choices(v->text, k->choices))) {   // a file
        bool from_cwd = v->src == SRC_SET && origin_is_option(v->origin);
        const char *base = from_cwd ? c->doc->set_dir : c->doc->base_dir;
        *(char **)field_of(c->s, k) = absolute_path(base, v->text);
        return 0;
    }
    if (k->choices && !in_choices(v->text, k->choices))
        return fail(c, k->key, v, ": '%s' is not one of: %s", v->text, k->choices);
    if (k->known && !k->known(v->text))
        return fail(c, k->key, v, ": '%s' is not one of: %s", v->text, k->names());
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
        return fail(c, k->key, v,
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
        return fail(c, k->key, v, ": expected a count or a list of seeds, got %s", got);
    if (n < 1) return fail(c, k->key, v, " must be >= 1 (got %s)", v->text);
    if (n > MAX_SEED_COUNT)
        return fail(c, k->key, v, " must be <= %d (got %s)", MAX_SEED_COUNT, v->text);
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
        return fail(c, k->key, v, ": the list is empty; give a count or at least one seed");
    long *seeds = xmalloc(sizeof(long) * (size_t)v->n);
    for (int i = 0; i < v->n; i++) {
        const node *item = v->vals[i];
        char got[128];
        int rc = 0;
        if (!read_integer(item, LONG_MIN, LONG_MAX, &seeds[i], got, sizeof got))
            rc = fail(c, k->key, item, ": entry %d: expected an integer, got %s", i + 1, got);
        else if (seeds[i] < 0)
            rc = fail(c, k->key, item, ": entry %d must be >= 0 (got %s)", i + 1, item->text);
        for (int j = 0; !rc && j < i; j++)
            if (seeds[j] == seeds[i])
                rc = fail(c, k->key, item, ": entry %d (%ld) repeats entry %d", i + 1, seeds[i],
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

static int set_save(rctx *c, const keydef *k, const node *v)
{
    char got[128];
    if (v->kind != NODE_SEQ)
        return fail(c, k->key, v, ": expected a list such as [a, w], got %s",
                    describe(v, got, sizeof got));
    unsigned bits = 0;
    for (int i = 0; i < v->n; i++) {
        const node *item = v->vals[i];
        unsigned bit = 0;
        for (size_t j = 0; item->kind == NODE_SCALAR && j < COUNT(SAVE_ITEMS); j++)
            if (strcmp(item->text, SAVE_ITEMS[j].item) == 0) bit = SAVE_ITEMS[j].bit;
        if (!bit)
            return fail(c, k->key, item, ": %s is not one of: a, b, w, g",
                        describe(item, got, sizeof got));
        if (bits & bit) return fail(c, k->key, item, ": '%s' is listed twice", item->text);
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
    return fail(c, k->key, v,
                ": %s; expected one of: %s, a path to a .npy file, or an inline matrix "
                "[[..], ..]",
                what, words);
}

static int check_finite(rctx *c, const keydef *k, const node *v, const mat_source *m)
{
    for (int i = 0; i < m->rows; i++)
        for (int j = 0; j < m->cols; j++)
            if (!isfinite(m->data[(size_t)i * (size_t)m->cols + (size_t)j]))
                return fail(c, k->key, v, ": %s holds a non-finite value at row %d, column %d",
                            m->path, i + 1, j + 1);
    return 0;
}

static int read_matrix_file(rctx *c, const keydef *k, const node *v, mat_source *m)
{
    bool from_cwd = v->src == SRC_SET && origin_is_option(v->origin);
    const char *base = from_cwd ? c->doc->set_dir : c->doc->base_dir;
    m->path = absolute_path(base, v->text);
    lerr ne = {0};
    if (npy_read(m->path, &m->data, &m->rows, &m->cols, &ne)) {
        m->data = NULL;
        char words[128], hint[256] = "";
        word_list(k, words, sizeof words);
        if (v->plain && !strchr(v->text, '/') && !strstr(v->text, ".npy"))
            snprintf(hint, sizeof hint, " ('%s' is not one of: %s, so it was taken as a path)",
                     v->text, words);
        return fail(c, k->key, v, ": %s%s", ne.msg, hint);
    }
    m->kind = MAT_FILE;
    if (m->rows < 1 || m->cols < 1)
        return fail(c, k->key, v, ": %s has shape (%d, %d); a matrix needs at least one entry",
                    m->path, m->rows, m->cols);
    return check_finite(c, k, v, m);
}

// The columns of row `row` (index i) of an inline matrix, checked.
static int inline_row(rctx *c, const keydef *k, const node *row, int i, int cols)
{
    char got[128];
    if (row->kind != NODE_SEQ)
        return fail(c, k->key, row, ": row %d: expected a list of numbers, got %s", i + 1,
                    describe(row, got, sizeof got));
    if (row->n == 0) return fail(c, k->key, row, ": row %d is empty", i + 1);
    if (i > 0 && row->n != cols)
        return fail(c, k->key, row, ": row %d has %d %s but row 1 has %d", i + 1, row->n,
                    row->n == 1 ? "entry" : "entries", cols);
    return 0;
}

static int read_inline(rctx *c, const keydef *k, const node *v, mat_source *m)
{
    if (v->n == 0)
        return fail(c, k->key, v, ": an inline matrix needs at least one row, as in [[1, 2]]");
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
                return fail(c, k->key, x, ": row %d, column %d: expected a number, got %s", i + 1,
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
    if (is_null(v)) return matrix_expected(c, k, v, "got no value");
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
static bool safe_chars(const char *s)
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
    return safe_chars(s);
}

// `s` as a YAML double-quoted scalar.
static void write_quoted(FILE *f, const char *s)
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
        write_quoted(f, s);
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

static void free_seeds(spec *s, const keydef *k)
{
    (void)k;
    free(s->seeds);
    s->seeds = NULL;
    s->nseeds = 0;
}

// ---------------------------------------------------------------------------
// The operations of each type

static const struct {
    int (*set)(rctx *c, const keydef *k, const node *v);
    void (*write)(FILE *f, const keydef *k, const spec *s);
    void (*release)(spec *s, const keydef *k);   // NULL: nothing owned
} TYPES[] = {
    [T_INT] = {set_int, write_int, NULL},
    [T_DOUBLE] = {set_double, write_double, NULL},
    [T_BOOL] = {set_bool, write_bool, NULL},
    [T_STRING] = {set_string, write_string, free_string},
    [T_NAME] = {set_name, write_string, free_string},
    [T_MATRIX] = {set_matrix, write_matrix, free_matrix},
    [T_SEEDS] = {set_seeds, write_seeds, free_seeds},
    [T_SAVE] = {set_save, write_save, NULL},
};

// ===========================================================================
// 5. Resolution

// The hint for an unknown key at the top level of a file, where `sweep:` is
// valid as well as the keys of the table.
static void top_level_hint(const char *typed, char *buf, size_t size)
{
    char best[64], section[64] = "", list[1024];
    bool near_key = suggest_key(typed, best, sizeof best);
    int to_sweep = edit_distance(typed, SWEEP_KEY);
    if (to_sweep <= typo_budget(strlen(typed)) &&
        (!near_key || to_sweep < edit_distance(typed, best))) {
        snprintf(buf, size, "(did you mean '%s'?)", SWEEP_KEY);
        return;
    }
    size_t sl = section_len(typed);
    if (sl && sl < sizeof section) snprintf(section, sizeof section, "%.*s", (int)sl, typed);
    if (near_key || (section[0] && is_section(section))) {
        unknown_hint(typed, buf, size);
        return;
    }
    section_keys("", list, sizeof list);
    snprintf(buf, size, "(valid top-level keys: %s, %s)", list, SWEEP_KEY);
}

// An unknown key met in the document (`at` is its key node).
static int unknown_key(const rctx *c, const node *at, const char *typed, bool top_level)
{
    char hint[1200];
    if (top_level && section_len(typed) && key_index(typed) >= 0)
        snprintf(hint, sizeof hint, "(write it as '%s:' inside the '%.*s:' section)",
                 leaf_of(typed), (int)section_len(typed), typed);
    else if (top_level)
        top_level_hint(typed, hint, sizeof hint);
    else
        unknown_hint(typed, hint, sizeof hint);
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
    if (is_null(v)) return 0;   // "teacher:" with nothing under it
    if (v->kind != NODE_MAP) {
        char list[1024], got[128];
        section_keys(key->text, list, sizeof list);
        return fail(c, key->text, v, " must be a mapping of keys (%s), got %s", list,
                    describe(v, got, sizeof got));
    }
    for (int i = 0; i < v->n; i++) {
        char *full = child_path(key->text, v->keys[i]->text);
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
        if (is_section(key->text)) {
            if (collect_section(c, key, v)) return -1;
            continue;
        }
        int ki = key_index(key->text);
        if (ki < 0 || section_len(key->text)) return unknown_key(c, key, key->text, true);
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
    write_quoted(f, c->doc->stem);
    fclose(f);
    return buf;
}

// Phase 2: every key from its node or its default, in table order.
static int set_all(rctx *c)
{
    for (size_t i = 0; i < NKEYS; i++) {
        const keydef *k = &KEYS[i];
        if (c->val[i]) {
            if (TYPES[k->type].set(c, k, c->val[i])) return -1;
            continue;
        }
        char *text = default_text(c, k);
        node *v = NULL;
        int rc = parse_value(text, SRC_DEFAULT, NULL, k->key, c->e, &v);
        free(text);
        if (!rc) rc = TYPES[k->type].set(c, k, v);
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
            return fail(c, dim, c->val[ki], " is %d but %s %s has shape (%d, %d)", *field, mkey,
                        label, m->rows, m->cols);
        if (from && v != value) {
            const mat_source *f = matrix_of(c, from);
            char flabel[1200];
            matrix_label(f, flabel, sizeof flabel);
            return fail(c, mkey, c->val[key_index(mkey)],
                        " %s has shape (%d, %d), so %s = %d, but %s %s has shape (%d, %d)",
                        label, m->rows, m->cols, leaf_of(dim), v, from, flabel, f->rows,
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
    if (r < 0) return fail(c, "teacher.delta", c->val[di], ": cannot compute its rank");
    if (r == 0)
        return fail(c, "teacher.delta", c->val[di],
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
            return fail(c, RANK_KEYS[i], c->val[ki],
                        " = %d exceeds min(d, k) = %d (d = %d, k = %d)", r, q, d, k);
    }
    const spec *s = c->s;
    int ri = key_index("teacher.rank"), mi = key_index("teacher.model");
    if (s->teacher.rank < teacher_min_rank(s->teacher.model))
        return fail(c, "teacher.rank", c->val[ri],
                    " = %d: the %s teacher needs rank >= %d (rank 0, random targets, is for "
                    "the ntk teacher)", s->teacher.rank, s->teacher.model,
                    teacher_min_rank(s->teacher.model));
    if (!strcmp(s->teacher.loss, "cross_entropy") && s->teacher.outputs < 2)
        return fail(c, "teacher.loss", c->val[key_index("teacher.loss")],
                    ": cross_entropy needs teacher.outputs >= 2 classes (got %d)",
                    s->teacher.outputs);
    if (!strcmp(s->teacher.features, "orthogonal") &&
        (long)s->teacher.n * s->teacher.outputs < (long)d * k)
        return fail(c, "teacher.features", c->val[key_index("teacher.features")],
                    ": orthogonal features need n * outputs >= d * k (%ld < %ld)",
                    (long)s->teacher.n * s->teacher.outputs, (long)d * k);
    if (!strcmp(s->teacher.stats, "gram")) {
        int si = key_index("teacher.stats");
        if (strcmp(s->teacher.model, "linear"))
            return fail(c, "teacher.stats", c->val[si],
                        ": gram statistics are for the linear teacher (teacher.model is %s)",
                        s->teacher.model);
        if (s->teacher.x.kind == MAT_FILE || s->teacher.x.kind == MAT_INLINE)
            return fail(c, "teacher.stats", c->val[si],
                        ": gram statistics stream generated inputs; teacher.x is given, use "
                        "qr");
        if (s->teacher.n < d)
            return fail(c, "teacher.stats", c->val[si],
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

// ===========================================================================
// 6. Overrides (--set)

// "--set teacher: ..." for a section name, or an unknown key with a hint.
static int set_unknown_key(const char *key, const char *origin, lerr *e)
{
    char hint[1200], body[1300];
    if (is_section(key)) {
        char list[1024];
        section_keys(key, list, sizeof list);
        snprintf(body, sizeof body, "a section, not a key; set one of its keys (%s)", list);
        return origin_fail(e, origin, key, body);
    }
    unknown_hint(key, hint, sizeof hint);
    snprintf(body, sizeof body, "unknown key %s", hint);
    return origin_fail(e, origin, key, body);
}

// The mapping that holds `key` (the root or its section, created if missing).
static node *holder_of(config_doc *doc, const char *key, const char *origin, lerr *e)
{
    size_t sl = section_len(key);
    if (!sl) return doc->root;
    char *section = xmalloc(sl + 1);
    memcpy(section, key, sl);
    section[sl] = '\0';
    int i = map_find(doc->root, section);
    if (i < 0) {
        node *k = node_new(NODE_SCALAR, SRC_SET, origin, 1, 1);
        k->text = section;
        k->plain = true;
        node_push(doc->root, k, node_new(NODE_MAP, SRC_SET, origin, 1, 1));
        return doc->root->vals[doc->root->n - 1];
    }
    node *v = doc->root->vals[i];
    if (is_null(v)) {
        node_free(v);
        v = doc->root->vals[i] = node_new(NODE_MAP, SRC_SET, origin, 1, 1);
    }
    if (v->kind != NODE_MAP) {
        char body[1536];
        snprintf(body, sizeof body, "cannot set it: %s:%d:%d: %s is not a mapping", doc->name,
                 v->line, v->col, section);
        origin_fail(e, origin, key, body);
        free(section);
        return NULL;
    }
    free(section);
    return v;
}

int config_doc_set(config_doc *doc, const char *key, const char *yaml_value,
                   const char *origin, lerr *e)
{
    if (!origin) origin = "--set";
    if (key_index(key) < 0) return set_unknown_key(key, origin, e);
    node *v = NULL;
    if (parse_value(yaml_value, SRC_SET, origin, key, e, &v)) return -1;
    node *holder = holder_of(doc, key, origin, e);
    if (!holder) {
        node_free(v);
        return -1;
    }
    // Relative .npy paths in a command-line value are taken from the working
    // directory now (those of a place in the file from the file's folder).
    char *cwd = origin_is_option(origin) ? current_dir() : NULL;
    if (cwd) {
        free(doc->set_dir);
        doc->set_dir = cwd;
    }
    const char *leaf = leaf_of(key);
    int i = map_find(holder, leaf);
    if (i >= 0) {
        node_free(holder->vals[i]);
        holder->vals[i] = v;
        return 0;
    }
    node *k = node_new(NODE_SCALAR, SRC_SET, origin, 1, 1);
    k->text = xstrdup(leaf);
    k->plain = true;
    node_push(holder, k, v);
    return 0;
}

int config_doc_set_arg(config_doc *doc, const char *arg, lerr *e)
{
    const char *eq = strchr(arg, '=');
    if (!eq) return lerr_input(e, "--set expects key=value, got '%s'", arg);
    size_t n = (size_t)(eq - arg);
    while (n > 0 && (arg[n - 1] == ' ' || arg[n - 1] == '\t')) n--;
    char *key = xmalloc(n + 1);
    memcpy(key, arg, n);
    key[n] = '\0';
    int rc = config_doc_set(doc, key, eq + 1, "--set", e);
    free(key);
    return rc;
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
// 7. Writing, freeing, listing

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
        size_t sl = section_len(k->key);
        if (sl && !(section && open_len == sl && strncmp(section, k->key, sl) == 0)) {
            fprintf(f, "%.*s:\n", (int)sl, k->key);
            section = k->key;
            open_len = sl;
        }
        if (!sl) section = NULL;
        fprintf(f, "%s%s: ", sl ? "  " : "", leaf_of(k->key));
        TYPES[k->type].write(f, k, s);
        fputc('\n', f);
    }
    return ferror(f) ? -1 : 0;
}

void spec_free(spec *s)
{
    if (!s) return;
    for (size_t i = 0; i < NKEYS; i++)
        if (TYPES[KEYS[i].type].release) TYPES[KEYS[i].type].release(s, &KEYS[i]);
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

// ===========================================================================
// 8. Sweeps
//
// The `sweep:` block is read straight from the document tree: every value is
// kept as flow text for config_doc_set (so each cell is checked by the very
// code that checks a --set value) and as a label for CSV cells.  Only the
// shape of values is checked here; config_resolve checks each cell.

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
    return lerr_input(c->e, "%s:%d:%d: %s: %s", c->doc->name, at->line, at->col, c->where, body);
}

// "(did you mean 'x'?)", the keys of a valid section, or a reminder that
// sweep keys are dotted, for an unknown key under sweep.
static void sweep_hint(const char *typed, char *buf, size_t size)
{
    char best[64], section[64] = "";
    if (suggest_key(typed, best, sizeof best)) {
        snprintf(buf, size, "(did you mean '%s'?)", best);
        return;
    }
    size_t sl = section_len(typed);
    if (sl && sl < sizeof section) snprintf(section, sizeof section, "%.*s", (int)sl, typed);
    if (section[0] && is_section(section)) {
        unknown_hint(typed, buf, size);
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
    if (ki < 0 && is_section(k)) {
        char list[1024];
        section_keys(k, list, sizeof list);
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
    if (is_null(v)) return sweep_fail(c, v, "%s: value %d is empty", k->key, i);
    if (k->type == T_SAVE && v->kind != NODE_SEQ)
        return sweep_fail(c, v, "%s: value %d: expected a list such as [a, w] (sweep log.save "
                          "as a list of lists: [[a], [a, w]]), got %s",
                          k->key, i, describe(v, got, sizeof got));
    if (k->type == T_MATRIX && v->kind == NODE_SEQ && !all_rows(v))
        return sweep_fail(c, v, "%s: value %d is a list but not a matrix (a list of rows); "
                          "sweep inline matrices as a list of them: [[[1, 2]], [[3, 4]]]",
                          k->key, i);
    if (k->type != T_SAVE && k->type != T_MATRIX && v->kind != NODE_SCALAR)
        return sweep_fail(c, v, "%s: value %d: expected a single value, got %s", k->key, i,
                          describe(v, got, sizeof got));
    return 0;
}

// The list of values of key k: a non-empty sequence of well-shaped values.
static int sweep_list(const sctx *c, const keydef *k, const node *list)
{
    char got[128];
    if (list->kind != NODE_SEQ)
        return sweep_fail(c, list, "%s: expected a list of values such as %s, got %s", k->key,
                          k->type == T_SAVE ? "[[a], [a, w]]" : "[1, 0.1]",
                          describe(list, got, sizeof got));
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
    return safe_chars(s);
}

// `v` as YAML flow text: plain scalars as written where that is safe, other
// scalars double-quoted, sequences as [a, b].
static void write_flow(FILE *f, const node *v)
{
    if (v->kind == NODE_SCALAR) {
        if (v->plain && flow_plain_ok(v->text))
            fputs(v->text, f);
        else
            write_quoted(f, v->text);
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
static void fill_axis(sweep_axis *ax, const keydef *k, const node *list, int zip)
{
    size_t n = (size_t)list->n;
    ax->key = xstrdup(k->key);
    ax->zip = zip;
    ax->nvalues = list->n;
    ax->values = xcalloc(n, sizeof(char *));
    ax->labels = xcalloc(n, sizeof(char *));
    ax->lines = xcalloc(n, sizeof(int));
    ax->cols = xcalloc(n, sizeof(int));
    for (size_t i = 0; i < n; i++) {
        const node *v = list->vals[i];
        ax->values[i] = flow_text(v);
        ax->labels[i] = xstrdup(v->kind == NODE_SCALAR ? v->text : ax->values[i]);
        ax->lines[i] = v->line;
        ax->cols[i] = v->col;
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
    fill_axis(&c->out->axes[c->out->naxes++], &KEYS[ki], list, zip);
    return 0;
}

// The zip group: a non-empty mapping of keys to lists of one length.
static int sweep_zip(sctx *c, const node *key, const node *v)
{
    char got[128];
    c->where = "sweep.zip";
    if (is_null(v) || (v->kind == NODE_MAP && v->n == 0))
        return sweep_fail(c, is_null(v) ? key : v, "no keys; list the keys that vary together "
                          "under it (or remove zip:)");
    if (v->kind != NODE_MAP)
        return sweep_fail(c, v, "must be a mapping of dotted keys to lists of the same length "
                          "(as in teacher.d: [50, 100]), got %s", describe(v, got, sizeof got));
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
                          describe(block, got, sizeof got));
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
    int i = map_find(doc->root, SWEEP_KEY);
    if (i < 0 || is_null(doc->root->vals[i])) return 0;
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
    }
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
