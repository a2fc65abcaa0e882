// plot_generic.h: a figure of any results folder, without a script.
#ifndef LORALAB_PLOT_GENERIC_H
#define LORALAB_PLOT_GENERIC_H

#include "util.h"

typedef struct {
    const char *dir;     // the results folder
    const char *y;       // metrics, comma-separated; NULL: risk (log y) and align_a
    const char *x;       // "step" (also when NULL) or a swept key
    const char *by;      // swept key, one line per value; NULL: the first swept key
                         // not named by x or panel
    const char *panel;   // swept key, one panel per value; NULL: one panel
    int logy;            // log-scale y axes
    const char *out;     // output stem, ".png" / ".pdf" dropped; NULL: DIR/<default>
} figure_opts;

// The gnuplot program that draws the figure, as text (malloc'ed), and the
// stem it writes STEM.png and STEM.pdf to (malloc'ed).
//
// Data: with x = step, DIR/trace_mean.csv (seed means, min-max bands), or
// DIR/trace.csv when there is no means file (one seed: the values, no band);
// with x = a swept key, summary_mean.csv / summary.csv likewise.  One panel
// per metric (rows) and --panel value (columns); one line per --by value
// (colour); swept keys named by none of x, by, panel (and the seed, when a
// file of single seeds holds several) split the lines further (dash type),
// so no two settings are ever joined or averaged.  The program loads
// common_gp (plots/common.gp) for the shared style.
//
// Input errors (LERR_INPUT): no results in DIR, an unknown metric (with the
// nearest name), x / by / panel naming a key that is not swept, a metric
// with nothing to draw.
int figure_program(const figure_opts *o, const char *common_gp, char **program, char **stem,
                   lerr *e);

#endif
