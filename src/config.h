// config.h: experiment files (YAML) -> validated `spec`, and back.
//
// Loading is three stages, kept apart so that sweeps can apply many sets of
// overrides to one parsed file:
//   1. config_parse_file: YAML -> a document tree that keeps every node's
//      line and column (syntax errors are reported as file:line:column);
//   2. config_doc_set: replace or add one dotted key ("optimizer.lr") with a
//      value written in YAML syntax ("0.1", "[1, 2]", "[[1,2],[3,4]]"); an
//      unknown key is an error that suggests the closest valid key;
//   3. config_resolve: check every key (unknown keys, types, ranges, names of
//      teachers/initialisers/optimisers), fill in defaults, load .npy and
//      inline matrices, take dimensions from them, and run the cross-field
//      checks (r <= min(d, k), ...).  Errors name file:line:column of the
//      offending value.
// All failures are LERR_INPUT: the caller exits with status 2 before writing
// anything.
//
// Sweeps: the optional top-level `sweep:` block (config_sweep) lists dotted
// keys with lists of values; config_resolve skips it.  A runner copies the
// parsed document per cell (config_doc_copy), applies one config_doc_set per
// swept value with the value's place in the file as origin, then resolves.
//
// The implementation follows the stages: config_doc.c (the document tree,
// paths, --set), config_keys.c (the key table and its per-type routines),
// config_resolve.c (config_resolve, config_write, config_load) and
// config_sweep.c (the sweep block); config_internal.h holds what they share.
#ifndef LORALAB_CONFIG_H
#define LORALAB_CONFIG_H

#include <stdio.h>

#include "spec.h"
#include "util.h"

typedef struct config_doc config_doc;

config_doc *config_parse_file(const char *path, lerr *e);
// Parse YAML text held in memory; `name` is what messages call it.
config_doc *config_parse_string(const char *text, const char *name, lerr *e);
// A deep copy: overrides applied to the copy leave `doc` as it was.  Reads
// no files (a copy of a parsed file costs a walk of its tree).
config_doc *config_doc_copy(const config_doc *doc);
void config_doc_free(config_doc *doc);

// Apply "key.path=value" as given on the command line (--set).
int config_doc_set_arg(config_doc *doc, const char *arg, lerr *e);
// Apply one override; `origin` (NULL: "--set") names it in messages and
// says where relative .npy paths in the value start from:
//   - an origin starting with "--" is a command-line option: messages read
//     "--set optimizer.lr: must be > 0 (got -1)", paths are taken from the
//     working directory at the time of the call;
//   - any other origin is a place in the experiment file, e.g. a sweep value
//     "exp.yaml:5:18": messages read
//     "exp.yaml:5:18: lora.rank: 200 exceeds min(d, k) = 100 (d = 100, k = 100)",
//     paths are taken from the experiment file's folder, like the file's own.
// Either way the value outranks the file's own (a matrix given so replaces
// the d, k, n and rank the file wrote), and the key is checked now, the
// value by config_resolve.
//
// The sweep block is edited the same way (config_sweep.c):
//   KEY (a key of the table) that is swept leaves the sweep block (product
//     axis or zip; zip goes when emptied): one value replaces the axis;
//   "sweep.KEY" = a list replaces product axis KEY or adds it last (moving it
//     out of zip); "sweep.zip.KEY" replaces or adds zip key KEY (moving it
//     out of the product axes); the value [] removes KEY from the sweep;
//   "sweep.zip" = a mapping replaces the zip group, {} or null removes it;
//   "sweep" = a mapping replaces the whole block, {} or null removes it.
// KEY must be a key of the table (checked now); the values are checked by
// config_sweep and each cell by config_resolve, and messages about them read
// "--set sweep.KEY: ..." (the axis' `origins`).
int config_doc_set(config_doc *doc, const char *key, const char *yaml_value,
                   const char *origin, lerr *e);

int config_resolve(const config_doc *doc, spec *out, lerr *e);

// Convenience: parse `path`, apply `nsets` --set arguments, resolve.
int config_load(const char *path, char *const *sets, int nsets, spec *out, lerr *e);

// Write the fully resolved experiment as YAML (every key, defaults filled
// in, matrices from files by absolute path, inline matrices inline, numbers
// with %.17g), except teacher.kappa, spectrum and scale when no Delta is
// drawn (delta given, or rank 0): a comment line stands for them; and the
// real-data keys (teacher.data, hidden, pool, source_classes,
// target_classes, the pretrain section) only where they apply
// (spec_real_data).  Loading the output again gives an identical spec.
int config_write(const spec *s, FILE *f);

// Whether s runs on real data (mlp_source.h): teacher.model mlp, or the ntk
// teacher with features: mlp.  The real-data keys apply only then.
bool spec_real_data(const spec *s);

// ---------------------------------------------------------------------------
// Sweeps
//
//   sweep:
//     init.alpha2: [1, 0.1, 0.01]   # product axes: every combination ...
//     teacher.kappa: [1, 4]
//     zip:                          # ... except keys under zip, which vary
//       teacher.d: [50, 100]        #     together (lists of one length)
//       teacher.n: [800, 1600]
//
// Keys are dotted keys of the table except `name` and `seeds`, each at most
// once across the product keys and zip; lists are non-empty; zip, when
// present, has at least one key.  A value is anything its key accepts
// (scalars; an inline matrix [[1, 2], [3, 4]] for matrix keys; a list such as
// [a, w] for log.save); config_sweep refuses only shapes no cell could accept
// (a mapping, an empty value, a list for a scalar key, a scalar for log.save,
// a list that is not a list of rows for a matrix key).  Whether a value suits
// its key is decided per cell by config_doc_set + config_resolve.  Messages:
//   FILE:L:C: sweep: must be a mapping of dotted keys to lists of values (...), got '3'
//   FILE:L:C: sweep.zip: must be a mapping of dotted keys to lists of the same length (...)
//   FILE:L:C: sweep: unknown key 'init.alpah2' (did you mean 'init.alpha2'?)
//   FILE:L:C: sweep: 'teacher' is a section, not a key; sweep one of its keys as teacher.KEY (...)
//   FILE:L:C: sweep: 'seeds' cannot be swept: every grid point runs each seed; ...
//   FILE:L:C: sweep: 'name' cannot be swept: an experiment has one name
//   FILE:L:C: sweep.zip: teacher.d is swept twice (first at line 2, column 3); ...
//   FILE:L:C: sweep: init.alpha2: expected a list of values such as [1, 0.1], got '0.1'
//   FILE:L:C: sweep: init.alpha2: the list of values is empty
//   FILE:L:C: sweep: teacher.d: value 2: expected a single value, got a list
//   FILE:L:C: sweep: teacher.w0: value 1: a mapping is not a value of any key
//   FILE:L:C: sweep: teacher.d: value 2 is empty
//   FILE:L:C: sweep: log.save: value 1: expected a list such as [a, w] (...), got 'a'
//   FILE:L:C: sweep: teacher.w0: value 1 is a list but not a matrix (a list of rows); ...
//   FILE:L:C: sweep.zip: teacher.n has 2 values but teacher.d has 3; keys under zip vary ...
//   FILE:L:C: sweep.zip: no keys; list the keys that vary together under it (or remove zip:)
//   FILE:L:C: sweep.zip: zip groups cannot be nested

typedef struct {
    char *key;         // dotted key, e.g. "init.alpha2"
    int zip;           // 1 if the key is in the zip group, 0 for a product axis
    int nvalues;       // >= 1; the same for every zip axis
    char **values;     // each value as YAML flow text that config_doc_set accepts:
                       //   plain scalars as written ("1e-3", "gaussian", "../w.npy")
                       //   unless they hold characters that YAML flow text would
                       //   read otherwise (spaces, ',', ':', '#', ...): those, and
                       //   quoted scalars, are written double-quoted; sequences as
                       //   flow "[[1, 2], [3, 4]]" (items written the same way)
    char **labels;     // each value as plain text for a CSV cell: a scalar's text
                       //   (unquoted), a sequence's flow text
    int *lines, *cols; // 1-based mark of each value in the file (in its --set text for
                       //   a value given with --set)
    char **origins;    // each value's origin for config_doc_set: "FILE:L:C" for a value
                       //   in the file, "--set sweep.KEY" for one given with --set
} sweep_axis;

typedef struct {
    int naxes;         // 0 when there is no sweep block (or it is empty)
    sweep_axis *axes;  // product axes in file order, then the zip keys in file order
    char *file;        // the experiment file's name as used in messages
} sweep_def;

// Read the sweep block of `doc` into *out (naxes = 0 without one).  On
// failure *out is empty (safe to free) and e holds FILE:L:C: message.
int config_sweep(const config_doc *doc, sweep_def *out, lerr *e);
void sweep_def_free(sweep_def *d);

// Write the sweep block (nothing when naxes == 0) as block YAML after a
// config_write, using the `values` texts:
//   sweep:
//     init.alpha2: [1, 0.1]
//     zip:
//       teacher.d: [50, 100]
//       teacher.n: [800, 1600]
// Product axes first, then zip.  Parsing the output of config_write +
// config_write_sweep again gives the same spec and the same values.
int config_write_sweep(const sweep_def *d, FILE *f);

// The list of valid dotted keys, NULL-terminated (for messages and docs).
const char *const *config_keys(void);

// Every key of `section` (e.g. "teacher") of s that applies to it (the
// real-data keys only for spec_real_data) as one string (malloc'ed): equal
// strings mean the specs agree on the whole section (matrix values compared
// by a 64-bit hash).  "" for a section none of whose keys applies.
char *config_section_key(const spec *s, const char *section);

#endif
