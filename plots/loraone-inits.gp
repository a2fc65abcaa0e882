# loraone-inits.gp: initialisers under preconditioned GD (theory/THEORY.md L1-F4).
#   gnuplot -c plots/loraone-inits.gp DIR     (or: loralab plot DIR)
# Reads DIR/trace_mean.csv, DIR/sweep.gp; writes
#   risk.{png,pdf}  risk vs step (log), one curve per init.method
# Curves: mean over seeds; bands: min..max over seeds.
if (ARGC < 1) { print "usage: gnuplot -c ", ARG0, " RESULTS_DIR"; exit status 1 }
DIR = ARG1
here = ARG0
while (strlen(here) > 0 && here[strlen(here):strlen(here)] ne "/") { here = here[1:strlen(here) - 1] }
load here."common.gp"
if (!exists("sweep_init_method")) { print "loraone-inits.gp: needs a sweep over init.method"; exit status 1 }

T = means("trace")
KEY = "init.method"
V = sweep_init_method
n = words(V)
sel(i) = is_str(KEY, word(V, i))

do for [fmt in FORMATS] {
  eval begin_fig("risk", fmt)
  set xlabel "step t"
  set ylabel "risk  ½‖A_tB_t − Δ‖_F^2"
  set logscale y
  set format y logfmt
  set xrange [0:*] noextend
  set key at graph 0.98, graph 0.8 right top Left reverse title "initialisation"
  plot \
    for [i=1:n] T using "step":(pick(sel(i), column("risk_min"))):(pick(sel(i), column("risk_max"))) \
        with filledcurves @band_style fc rgb cat_color(i), \
    for [i=1:n] T using "step":(pick(sel(i), column("risk_mean"))) \
        with lines lw 1.5 lc rgb cat_color(i) title init_label(word(V, i))
  eval end_fig
}
