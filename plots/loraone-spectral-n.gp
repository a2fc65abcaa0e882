# loraone-spectral-n.gp: the spectral init error against N/d (theory/THEORY.md L1-T3.3).
#   gnuplot -c plots/loraone-spectral-n.gp DIR     (or: loralab plot DIR)
# Reads DIR/summary_mean.csv, DIR/sweep.gp, d from DIR/config.yaml; writes
#   err_op.{png,pdf}  ||A0 B0 - Delta||_op (err_op_init) vs N/d, log-log,
#                     beside Theorem 3.3's bound ||Sigma_hat - I||_op ||Delta||_op
#                     (err_op_bound, dashed) and a (N/d)^{-1/2} trend (dotted)
# Lines: mean over seeds; bands: min..max over seeds.
if (ARGC < 1) { print "usage: gnuplot -c ", ARG0, " RESULTS_DIR"; exit status 1 }
DIR = ARG1
here = ARG0
while (strlen(here) > 0 && here[strlen(here):strlen(here)] ne "/") { here = here[1:strlen(here) - 1] }
load here."common.gp"
if (!exists("sweep_teacher_n")) { print "loraone-spectral-n.gp: needs a sweep over teacher.n"; exit status 1 }

S = means("summary")
V = sweep_teacher_n
n = words(V)
# d: the teacher's input dimension, from the resolved config.yaml
d = config("teacher", "d")
d = (strlen(d) > 0 ? real(d) : NaN)
if (!(d > 0)) { print "loraone-spectral-n.gp: cannot read teacher.d from ", DIR, "/config.yaml"; exit status 1 }
nmin = real(word(V, 1)) / d
nmax = real(word(V, n)) / d

# Anchor of the (N/d)^{-1/2} trend: the mean err_op_init at the largest N/d
anchor = NaN
set table $dummy
plot S using (column("teacher.n") / d == nmax ? anchor = column("err_op_init_mean") : NaN) with table
unset table

do for [fmt in FORMATS] {
  eval begin_fig("err_op", fmt)
  set xlabel "samples per dimension N/d"
  set ylabel "‖A_0B_0 − Δ‖_{op}"
  set logscale xy
  set xrange [nmin / 1.3:nmax * 1.3]
  set xtics () ; do for [i=1:n] { set xtics add (sprintf("%g", real(word(V, i)) / d) real(word(V, i)) / d) }
  set mxtics default
  set format y "%g"
  set yrange [*:*] noextend
  set offsets 0, 0, graph 0.1, graph 0.1
  set ytics (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10)
  set key bottom left Left reverse
  plot \
    S using (column("teacher.n") / d):"err_op_bound_min":"err_op_bound_max" with filledcurves @band_style fc rgb cat_color(2), \
    S using (column("teacher.n") / d):"err_op_bound_mean" with linespoints dt (6, 4) lw 1.5 pt 6 ps 0.8 * PS lc rgb cat_color(2) \
        title "bound ‖Σ̂ − I‖_{op} ‖Δ‖_{op} (Thm 3.3)", \
    S using (column("teacher.n") / d):"err_op_init_min":"err_op_init_max" with filledcurves @band_style fc rgb cat_color(1), \
    S using (column("teacher.n") / d):"err_op_init_mean" with linespoints lw 1.5 pt 7 ps 0.8 * PS lc rgb cat_color(1) \
        title "spectral init ‖A_0B_0 − Δ‖_{op}", \
    anchor * sqrt(nmax / x) with lines dt (2, 3) lw 1.2 lc rgb theory_color title "∝ (N/d)^{−1/2}"
  eval end_fig
  unset logscale xy
  set offsets 0, 0, 0, 0
  set ytics autofreq
}
