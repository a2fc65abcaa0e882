// aggregate.h: mean / min / max over seeds, for figures.
#ifndef LORALAB_AGGREGATE_H
#define LORALAB_AGGREGATE_H

#include "util.h"

// Read a tidy CSV whose columns are: cell, NGROUP swept keys, seed, rest...
// and write one row per (swept values[, inner]) with the swept keys, the
// `inner` column if given (e.g. "step"; NULL for none), `seeds` (how many
// rows were pooled) and M_mean, M_min, M_max for every other numeric column
// M (NaN values skipped; a column with any non-numeric value is dropped).
// Groups keep the order of their first row; inner values are sorted.
int aggregate_csv(const char *in, const char *out, int ngroup, const char *inner, lerr *e);

#endif
