// plot.h: render a results folder's figures with gnuplot.
#ifndef LORALAB_PLOT_H
#define LORALAB_PLOT_H

#include "util.h"

// `loralab plot DIR [--y METRIC[,METRIC...]] [--x step|KEY] [--by KEY]
// [--panel KEY] [--logy] [--out FILE] [--script FILE]`, argv holding what
// follows `plot`:
//   - no options: the experiment's plots/NAME.gp if loralab ships one (NAME
//     from DIR/config.yaml), else the generic figure's default (risk on a
//     log axis and align_a against step, one line per swept value);
//   - --y, --x, --by, --panel, --logy, --out: the generic figure
//     (plot_generic.h), written as STEM.png and STEM.pdf;
//   - --script FILE: `gnuplot -c FILE DIR`, FILE anywhere.
// Scripts are run with the folder of plots/common.gp on gnuplot's load path
// (GNUPLOT_LIB), so `load "common.gp"` works from any script.  loralab's
// script folders are looked for in $LORALAB_PLOTS, ../plots and
// ../share/loralab/plots next to the executable, then the source tree's
// plots/.  Bad options, keys, metrics or folders: LERR_INPUT.  Without
// gnuplot on PATH: LERR_RUN with the command that installs it; the CSVs are
// not touched.  Prints the images written.
int plot_command(int argc, char **argv, lerr *e);

// `loralab plot DIR` without options (for `run --plot`); quiet: print nothing.
int plot_results(const char *dir, int quiet, lerr *e);

#endif
