// check.h: `loralab check`, the papers' claims as predicates over results.
#ifndef LORALAB_CHECK_H
#define LORALAB_CHECK_H

#include "util.h"

typedef struct {
    const char *claims;      // claims file (default theory/claims.yaml)
    int quick;               // apply each claim's `quick` overrides, results in results/quick/
    int workers;
    char *const *ids;        // claims to check (all when nids == 0)
    int nids;
    const char *command;
} check_opts;

// Run the experiments the claims need into results/<name>/ under the working
// directory (results/quick/<name>/ with quick; reusing complete results whose
// config is unchanged), split each claim's cells by its hypotheses, evaluate
// every predicate on the inside and on the outside cells, print the table and
// write it to results[/quick]/claims.md.  Returns 0 when every asserted
// predicate holds inside its hypotheses and every claim without an inside
// cell gives an untested_reason, 1 otherwise (e filled), -1 with LERR_INPUT
// on a bad claims file.
int check_claims(const check_opts *o, lerr *e);

#endif
