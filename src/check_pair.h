// check_pair.h: paired comparisons of a claim's arms (`a:`, `b:`, `ref:`).
//
// The arms of one experiment (e.g. LoRA, LoRA-One and full fine-tuning) are
// sets of rows picked by filters.  Their rows are paired on every key column
// (the swept columns, `seed`, and `step` in trace.csv) that does not hold a
// single value within every arm, so the columns that name the arms drop out
// and the rest (rank, seed, step) must agree.  Each pair gives a number
// (`compare:` of the metric), a curve (the pairs sharing every key but
// `along:`) may first be reduced over its steps, and the values are reduced to
// one measured number.  With a third arm `ref:`, a value is the comparison of
// a with ref over that of b with ref: "a is closer to ref than b" is `< 1`.
// An empty arm, overlapping arms, two rows of an arm with one key, a row
// without a partner and a value that is not a number are failures with the
// reason, never skipped.
#ifndef LORALAB_CHECK_PAIR_H
#define LORALAB_CHECK_PAIR_H

#include <stddef.h>

#include "util.h"

typedef struct {
    const char *a, *b, *ref;    // arm filters (ref NULL without a reference arm)
    const char *metric;         // the column compared
    const char *compare;        // diff | ratio | log_ratio | abs_diff | abs_log_ratio
    const char *along;          // NULL, or the column curves run along (e.g. step)
    const char *along_reduce;   // mean | max | min | final (NULL: mean)
    const char *reduce;         // max | min | mean | count
} pair_spec;

// 1 if `how` is a valid compare: (resp. along_reduce:, reduce: of a paired predicate).
int pair_compare_valid(const char *how);
int pair_along_reduce_valid(const char *how);
int pair_reduce_valid(const char *how);

// Measure p on the rows rows[idx[0 .. n)] of a table with header[0 .. ncols)
// (the rows that passed `where`).  Returns 0 with *measured set, -1 with `why`
// set when the pairing or the values fail (see above), or -1 with LERR_INPUT
// in e when a filter or a column is bad.
int pair_measure(const pair_spec *p, char *const *header, int ncols, char **const *rows,
                 const int *idx, int n, double *measured, char *why, size_t nwhy, lerr *e);

// The measured quantity as text, e.g.
// "max over curves of mean_step|ln(loss[a] / loss[ref])| / mean_step|ln(loss[b] / loss[ref])|".
void pair_text(const pair_spec *p, char *buf, size_t n);

#endif
