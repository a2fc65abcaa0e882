// plot.h: render a results folder's figures with gnuplot.
#ifndef LORALAB_PLOT_H
#define LORALAB_PLOT_H

#include "util.h"

// Run `gnuplot -c SCRIPTS/NAME.gp DIR`, NAME being the experiment's name in
// DIR/config.yaml.  Scripts are looked for in $LORALAB_PLOTS, then in
// ../plots next to the executable, then in the source tree's plots/.
// Without gnuplot on PATH: LERR_RUN with the command that installs it; the
// CSVs are not touched.  Prints the images written.
int plot_results(const char *dir, int quiet, lerr *e);

#endif
