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
#ifndef LORALAB_CONFIG_H
#define LORALAB_CONFIG_H

#include <stdio.h>

#include "spec.h"
#include "util.h"

typedef struct config_doc config_doc;

config_doc *config_parse_file(const char *path, lerr *e);
// Parse YAML text held in memory; `name` is what messages call it.
config_doc *config_parse_string(const char *text, const char *name, lerr *e);
void config_doc_free(config_doc *doc);

// Apply "key.path=value" as given on the command line (--set).
int config_doc_set_arg(config_doc *doc, const char *arg, lerr *e);
// Apply one override; `origin` names it in messages (e.g. "--set").
int config_doc_set(config_doc *doc, const char *key, const char *yaml_value,
                   const char *origin, lerr *e);

int config_resolve(const config_doc *doc, spec *out, lerr *e);

// Convenience: parse `path`, apply `nsets` --set arguments, resolve.
int config_load(const char *path, char *const *sets, int nsets, spec *out, lerr *e);

// Write the fully resolved experiment as YAML (every key, defaults filled
// in, matrices from files by absolute path, inline matrices inline, numbers
// with %.17g).  Loading the output again gives an identical spec.
int config_write(const spec *s, FILE *f);

// The list of valid dotted keys, NULL-terminated (for messages and docs).
const char *const *config_keys(void);

#endif
