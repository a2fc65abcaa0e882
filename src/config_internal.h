// config_internal.h: what the parts of the config layer share (not for use
// outside src/config_*.c).
//
//   config_doc.c      1. the document tree (libyaml events -> nodes with
//                        marks), paths, parsing, copying and --set overrides;
//   config_keys.c     2. the key table KEYS[] with its per-type set / write /
//                        free routines, key lookup and "did you mean";
//   config_resolve.c  3. config_resolve's phases, config_write, config_load,
//                        config_section_key;
//   config_sweep.c       the sweep block: config_sweep, config_write_sweep and
//                        the --set edits of the block.
#ifndef LORALAB_CONFIG_INTERNAL_H
#define LORALAB_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config.h"

// The top-level key of the sweep block (config_sweep reads it, config_resolve
// skips it) and the key of its group of keys that vary together.
static const char SWEEP_KEY[] = "sweep", ZIP_KEY[] = "zip";

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

// ===========================================================================
// 1. The document tree (config_doc.c)

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

node *node_new(node_kind kind, node_src src, const char *origin, int line, int col);
void node_free(node *v);
// A deep copy of a tree.
node *node_copy(const node *v);
// Remove child i (and its key) of a sequence or mapping, keeping the order.
void node_remove(node *parent, int i);
// Append a child (and, for a mapping, its key).
void node_push(node *parent, node *key, node *val);
// Index of `key` in a mapping, or -1.
int node_find(const node *map, const char *key);
// A plain scalar that YAML reads as null: an empty value, "~" or "null".
bool node_is_null(const node *v);
// What a node is, for "got ..." in messages.
const char *node_describe(const node *v, char *buf, size_t size);
// A single YAML value given as text (--set values and defaults), its nodes
// labelled `src` / `origin`; an empty text is an empty plain scalar.
// Syntax errors are worded for `key`.
int node_parse_value(const char *text, node_src src, const char *origin, const char *key,
                     lerr *e, node **out);

// Whether an override's origin names a command-line option ("--set"), as
// opposed to a place in the experiment file ("exp.yaml:5:18", what a sweep
// value is called).  NULL counts as "--set".
bool origin_is_option(const char *origin);
// An error in the value that `origin` gave for `key`: "--set KEY: BODY" for
// a command-line option, "ORIGIN: KEY: BODY" for a place in a file.
int origin_fail(lerr *e, const char *origin, const char *key, const char *body);

// "path.key" (or "key" when path is empty), a new string.
char *key_join(const char *path, const char *key);
// `path` made absolute against `base` (an absolute folder) and normalised:
// by realpath() when the file exists, lexically otherwise (a new string).
char *path_absolute(const char *base, const char *path);

// ===========================================================================
// 2. The key table (config_keys.c)

typedef enum {
    T_INT,      // int, plain integer (or an integral float such as 1e4)
    T_DOUBLE,   // double, plain finite decimal number
    T_BOOL,     // bool: true/false/yes/no, any case
    T_STRING,   // char *: any scalar; `choices` or `known` restrict it
    T_NAME,     // char *: [A-Za-z0-9._-]+, not starting with '.'
    T_MATRIX,   // mat_source: a word from `words`, a .npy path or inline rows
    T_SEEDS,    // nseeds/seeds/seeds_is_count: a count or a list
    T_SAVE,     // unsigned SAVE_* bits: a list of a, b, w, g
    T_CLASSES,  // int_list: a non-empty list of distinct integers >= 0 (class labels)
} key_type;

typedef enum { LO_NONE, LO_GE, LO_GT } lo_kind;

typedef struct {
    const char *key;           // dotted key; rows of a section are contiguous
    key_type type;
    size_t off;                // offset of the field in spec
    const char *def;           // default as YAML text; NULL: the file's stem
    lo_kind lo_op;             // numbers: lower bound, if any
    double lo;
    bool hi_lt;                // numbers: true: must be < hi (strict upper bound)
    double hi;
    const char *choices;       // T_STRING: the valid values, ", "-separated
    int (*known)(const char *);      // T_STRING: or a registry lookup ...
    const char *(*names)(void);      // ... and its list for messages
    unsigned words;            // T_MATRIX: the MAT_* kinds named by a word
    bool path_ok;              // T_STRING: a value not in `choices` is a file path,
                               //   stored absolute (resolved like matrix paths)
} keydef;

// The number of rows of KEYS (config_keys.c checks it against the table).
enum { NKEYS = 57 };
extern const keydef KEYS[NKEYS];

// Row of `key` in KEYS, or -1.
int key_index(const char *key);
// The part after the last dot ("lr" for "optimizer.lr").
const char *key_leaf(const char *key);
// Length of the section part of a dotted key (0 for a top-level key).
size_t key_section_len(const char *key);
// Whether `name` is a section (the part before the dot of some key).
bool key_is_section(const char *name);
// The keys of `section` ("" for the top level: its keys and section names),
// ", "-separated, into buf.
void key_section_list(const char *section, char *buf, size_t size);
// The valid key or section closest to `typed`, into buf (false if none is
// close enough).
bool key_suggest(const char *typed, char *buf, size_t size);
// "(did you mean 'x'?)" or "(valid keys in S: ...)" for an unknown key.
void key_unknown_hint(const char *typed, char *buf, size_t size);
// The same for a key typed at the top level (of a file, or with --set),
// where `sweep` is valid as well as the keys of the table.
void key_top_level_hint(const char *typed, char *buf, size_t size);

// Resolution context: the document being resolved, the spec being filled.
typedef struct {
    const config_doc *doc;
    spec *s;
    lerr *e;
    const node *val[NKEYS];   // what the file or --set gave; NULL: the default
    int file_ndim[NKEYS];     // .npy inputs of the ntk teacher (features, targets,
    long file_dims[NKEYS][4]; //   base): their shape from the header; 0: none
} rctx;

// Report a problem with `key`, located at node `at` (NULL: the default).
// `fmt` starts with its separator: " must be ..." or ": expected ...".
int key_fail(const rctx *c, const char *key, const node *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

// The operations of each key type.
typedef struct {
    int (*set)(rctx *c, const keydef *k, const node *v);      // node -> field
    void (*write)(FILE *f, const keydef *k, const spec *s);   // field -> YAML text
    void (*release)(spec *s, const keydef *k);                // NULL: nothing owned
} key_ops;
extern const key_ops KEY_OPS[];

static inline void *field_of(spec *s, const keydef *k) { return (char *)s + k->off; }
static inline const void *cfield_of(const spec *s, const keydef *k)
{
    return (const char *)s + k->off;
}

// Only letters, digits and . _ / + - (safe unquoted in block and flow YAML).
bool text_safe_chars(const char *s);
// `s` as a YAML double-quoted scalar.
void text_write_quoted(FILE *f, const char *s);

// ===========================================================================
// The sweep block (config_sweep.c)

// Whether a --set key edits the sweep block: "sweep", "sweep.KEY",
// "sweep.zip" or "sweep.zip.KEY".
bool sweep_set_key(const char *key);
// config_doc_set for such a key (see config.h).
int sweep_doc_set(config_doc *doc, const char *key, const char *yaml_value, const char *origin,
                  lerr *e);
// Take `key` out of the sweep block (product axis or zip; an emptied zip
// goes too), if it is there.
void sweep_doc_drop(config_doc *doc, const char *key);

#endif
