# loraone-nonlinear-n.gp: the ReLU teacher's risk against N/d (theory/THEORY.md
# section 2, L1-T4.2).
#   gnuplot -c plots/loraone-nonlinear-n.gp DIR     (or: loralab plot DIR)
# Reads DIR/summary_mean.csv, DIR/sweep.gp, d from DIR/config.yaml; writes
#   risk_vs_n.{png,pdf}  risk at step 0 (risk_init, spectral init) and after
#                        training (risk, the last logged step) vs N/d,
#                        log-log, with a (N/d)^{-1} trend (dotted)
# Lines: mean over seeds; bands: min..max over seeds.
if (ARGC < 1) { print "usage: gnuplot -c ", ARG0, " RESULTS_DIR"; exit status 1 }
DIR = ARG1
here = ARG0
while (strlen(here) > 0 && here[strlen(here):strlen(here)] ne "/") { here = here[1:strlen(here) - 1] }
load here."common.gp"
if (!exists("sweep_teacher_n")) { print "loraone-nonlinear-n.gp: needs a sweep over teacher.n"; exit status 1 }

S = means("summary")
V = sweep_teacher_n
n = words(V)
d = config("teacher", "d")
d = (strlen(d) > 0 ? real(d) : NaN)
if (!(d > 0)) { print "loraone-nonlinear-n.gp: cannot read teacher.d from ", DIR, "/config.yaml"; exit status 1 }
nmin = real(word(V, 1)) / d
nmax = real(word(V, n)) / d
steps = config("optimizer", "steps")

# Anchor of the (N/d)^{-1} trend: the mean risk_init at the largest N/d
anchor = NaN
set table $dummy
plot S using (column("teacher.n") / d == nmax ? anchor = column("risk_init_mean") : NaN) with table
unset table

do for [fmt in FORMATS] {
  eval begin_fig("risk_vs_n", fmt)
  set xlabel "samples per dimension N/d"
  set ylabel "risk  ½‖AB − Δ‖_F^2"
  set logscale xy
  set xrange [nmin / 1.3:nmax * 1.3]
  set xtics () ; do for [i=1:n] { set xtics add (sprintf("%g", real(word(V, i)) / d) real(word(V, i)) / d) }
  set mxtics default
  set format y "%g"
  set ytics (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5)
  set yrange [*:*] noextend
  set offsets 0, 0, graph 0.05, graph 0.4   # room for the key below the curves
  set key bottom left Left reverse
  plot \
    S using (column("teacher.n") / d):"risk_init_min":"risk_init_max" with filledcurves @band_style fc rgb cat_color(1), \
    S using (column("teacher.n") / d):"risk_init_mean" with linespoints lw 1.5 pt 7 ps 0.8 * PS lc rgb cat_color(1) \
        title "step 0: spectral init, γ = 2", \
    S using (column("teacher.n") / d):"risk_min":"risk_max" with filledcurves @band_style fc rgb cat_color(2), \
    S using (column("teacher.n") / d):"risk_mean" with linespoints lw 1.5 pt 5 ps 0.8 * PS lc rgb cat_color(2) \
        title sprintf("after %s steps of precgd (η = %s)", steps, config("optimizer", "lr")), \
    anchor * nmax / x with lines dt (2, 3) lw 1.2 lc rgb theory_color title "∝ (N/d)^{−1}"
  eval end_fig
  unset logscale xy
  set offsets 0, 0, 0, 0
  set ytics autofreq
}
