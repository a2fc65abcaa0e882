// config_doc.c: layer 1 of the config layer (config.h): experiment files
// and --set values -> a document tree, and the edits --set makes to it.
//
// A small document tree built from libyaml's event stream.  Every node keeps
// its start mark (1-based line and column), whether a scalar was plain
// (neither quoted nor tagged) and where it came from: the file, a --set
// override or a default.  Quoted scalars are always strings, so a quoted "1"
// is not a number.  Duplicate keys, aliases, several documents and a top
// level that is not a mapping are rejected here.
//
// Message formats (every error is LERR_INPUT):
//   FILE:L:C: YAML syntax error: <libyaml's problem> (<its context>)
//   FILE:L:C: duplicate key 'teacher.d' (first at line 3, column 3)
//   --set optimizer.lrr: unknown key (did you mean 'optimizer.lr'?)
//   --set expects key=value, got 'abc'
//
// Paths to .npy files are taken relative to the experiment file's folder
// (for config_parse_string documents: the working directory), and paths
// given with --set relative to the working directory at the time of the
// config_doc_set call, which is what a user typing a command line expects.
// Values set with a place in the file as origin (sweep values) are the
// file's text, so their paths are taken from the file's folder.
// They are stored absolute: realpath() when the file exists, otherwise
// normalised lexically (the load then fails and the message shows it).
#include "config_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <yaml.h>

enum { MAX_DEPTH = 64 };   // deeper YAML nesting is refused, not recursed into

// ===========================================================================
// The document tree

node *node_new(node_kind kind, node_src src, const char *origin, int line, int col)
{
    node *v = xcalloc(1, sizeof *v);
    v->kind = kind;
    v->src = src;
    v->origin = origin ? xstrdup(origin) : NULL;
    v->line = line;
    v->col = col;
    return v;
}

void node_free(node *v)
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
node *node_copy(const node *v)
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

// Remove child i (and its key) of a sequence or mapping, keeping the order.
void node_remove(node *parent, int i)
{
    if (parent->keys) node_free(parent->keys[i]);
    node_free(parent->vals[i]);
    for (int j = i + 1; j < parent->n; j++) {
        if (parent->keys) parent->keys[j - 1] = parent->keys[j];
        parent->vals[j - 1] = parent->vals[j];
    }
    parent->n--;
}

// Append a child (and, for a mapping, its key).
void node_push(node *parent, node *key, node *val)
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
int node_find(const node *map, const char *key)
{
    for (int i = 0; i < map->n; i++)
        if (strcmp(map->keys[i]->text, key) == 0) return i;
    return -1;
}

// A plain scalar that YAML reads as null: an empty value, "~" or "null".
bool node_is_null(const node *v)
{
    if (v->kind != NODE_SCALAR || !v->plain) return false;
    return v->text[0] == '\0' || strcmp(v->text, "~") == 0 || strcasecmp(v->text, "null") == 0;
}

// What a node is, for "got ..." in messages.
const char *node_describe(const node *v, char *buf, size_t size)
{
    if (v->kind == NODE_SEQ)
        snprintf(buf, size, "a list");
    else if (v->kind == NODE_MAP)
        snprintf(buf, size, "a mapping");
    else if (!v->plain)
        snprintf(buf, size, "a quoted string \"%.60s%s\"", v->text,
                 strlen(v->text) > 60 ? "..." : "");
    else if (node_is_null(v))
        snprintf(buf, size, "no value");
    else
        snprintf(buf, size, "'%.60s%s'", v->text, strlen(v->text) > 60 ? "..." : "");
    return buf;
}

// ===========================================================================
// YAML text -> tree (libyaml events)

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
bool origin_is_option(const char *origin)
{
    return !origin || strncmp(origin, "--", 2) == 0;
}

// An error in the value that `origin` gave for `key`: "--set KEY: BODY" for
// a command-line option, "ORIGIN: KEY: BODY" for a place in a file.
int origin_fail(lerr *e, const char *origin, const char *key, const char *body)
{
    if (origin_is_option(origin) && !(origin && strchr(origin, ' ')))
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

char *key_join(const char *path, const char *key)
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
    char *kpath = key_join(path, key->text);
    int prev = node_find(map, key->text);
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
int node_parse_value(const char *text, node_src src, const char *origin, const char *key,
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
char *path_absolute(const char *base, const char *path)
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
    char *abs = path_absolute(cwd, dir);
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
    if (root && !node_is_null(root) && root->kind != NODE_MAP) {
        char got[128];
        lerr_input(e, "%s:%d:%d: the top level must be a mapping of keys (name:, teacher:, ...), "
                   "got %s", name, root->line, root->col, node_describe(root, got, sizeof got));
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
// Overrides (--set)

// "--set teacher: ..." for a section name, or an unknown key with a hint.
static int set_unknown_key(const char *key, const char *origin, lerr *e)
{
    char hint[1200], body[1300];
    if (key_is_section(key)) {
        char list[1024];
        key_section_list(key, list, sizeof list);
        snprintf(body, sizeof body, "a section, not a key; set one of its keys (%s)", list);
        return origin_fail(e, origin, key, body);
    }
    key_top_level_hint(key, hint, sizeof hint);
    snprintf(body, sizeof body, "unknown key %s", hint);
    return origin_fail(e, origin, key, body);
}

// The mapping that holds `key` (the root or its section, created if missing).
static node *holder_of(config_doc *doc, const char *key, const char *origin, lerr *e)
{
    size_t sl = key_section_len(key);
    if (!sl) return doc->root;
    char *section = xmalloc(sl + 1);
    memcpy(section, key, sl);
    section[sl] = '\0';
    int i = node_find(doc->root, section);
    if (i < 0) {
        node *k = node_new(NODE_SCALAR, SRC_SET, origin, 1, 1);
        k->text = section;
        k->plain = true;
        node_push(doc->root, k, node_new(NODE_MAP, SRC_SET, origin, 1, 1));
        return doc->root->vals[doc->root->n - 1];
    }
    node *v = doc->root->vals[i];
    if (node_is_null(v)) {
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
    // Relative .npy paths in a command-line value are taken from the working
    // directory now (those of a place in the file from the file's folder).
    char *cwd = origin_is_option(origin) ? current_dir() : NULL;
    if (cwd) {
        free(doc->set_dir);
        doc->set_dir = cwd;
    }
    if (sweep_set_key(key)) return sweep_doc_set(doc, key, yaml_value, origin, e);
    if (key_index(key) < 0) return set_unknown_key(key, origin, e);
    node *v = NULL;
    if (node_parse_value(yaml_value, SRC_SET, origin, key, e, &v)) return -1;
    node *holder = holder_of(doc, key, origin, e);
    if (!holder) {
        node_free(v);
        return -1;
    }
    sweep_doc_drop(doc, key);   // a key set to one value is no longer swept
    const char *leaf = key_leaf(key);
    int i = node_find(holder, leaf);
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
