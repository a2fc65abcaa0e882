# loraone-kappa.gp: convergence against the condition number (theory/THEORY.md L1-C2/C3).
#   gnuplot -c plots/loraone-kappa.gp DIR     (or: loralab plot DIR)
# Reads DIR/summary_mean.csv, DIR/trace_mean.csv, DIR/sweep.gp; writes
#   steps_to_tol.{png,pdf}  steps to risk <= tol risk_0 vs kappa (log-log),
#                           GD and preconditioned GD, with the trends
#                           ~ kappa (GD) and flat (precgd) dashed
#   risk.{png,pdf}          risk / risk_0 vs step per kappa, one panel per
#                           optimiser, the tolerance dashed
# Lines: mean over seeds; bands / error bars: min..max over seeds.
if (ARGC < 1) { print "usage: gnuplot -c ", ARG0, " RESULTS_DIR"; exit status 1 }
DIR = ARG1
here = ARG0
while (strlen(here) > 0 && here[strlen(here):strlen(here)] ne "/") { here = here[1:strlen(here) - 1] }
load here."common.gp"
if (!exists("sweep_teacher_kappa")) { print "loraone-kappa.gp: needs a sweep over teacher.kappa"; exit status 1 }
if (!exists("sweep_optimizer_method")) { print "loraone-kappa.gp: needs a sweep over optimizer.method"; exit status 1 }

T = means("trace")
S = means("summary")
K = sweep_teacher_kappa
nk = words(K)
M = sweep_optimizer_method
nm = words(M)
selm(j) = is_str("optimizer.method", word(M, j))
selk(i) = is_num("teacher.kappa", word(K, i))
kmin = real(word(K, 1))
kmax = real(word(K, nk))
tol = config("log", "risk_tol")     # for the labels and the dashed line
tol = (strlen(tol) > 0 ? real(tol) : 1e-20)

# The summary rows of the methods interleave (kappa slowest), so copy them to
# a table grouped by method (column 5 = method index): lines then join.
set table $sel
do for [j=1:nm] {
  plot S using "teacher.kappa":"steps_to_tol_mean":"steps_to_tol_min":"steps_to_tol_max":(j) with table if (selm(j))
}
unset table

# Anchors of the trend lines: each method's mean steps_to_tol at the smallest
# kappa (NaN when it never reached the tolerance there).
array anchor[nm]
do for [j=1:nm] {
  anchor[j] = NaN
  set table $dummy
  plot S using (selm(j) && column("teacher.kappa") == kmin ? anchor[j] = column("steps_to_tol_mean") : NaN) with table
  unset table
}

# ---- steps_to_tol vs kappa -------------------------------------------------
do for [fmt in FORMATS] {
  eval begin_fig("steps_to_tol", fmt)
  set datafile separator whitespace
  set datafile nocolumnheaders
  set xlabel "condition number κ of Δ"
  set ylabel sprintf("steps to risk ≤ 10^{%d} risk_0", floor(log10(tol) + 0.5))
  set logscale xy
  set xrange [kmin / 1.25:kmax * 1.25]
  set xtics () ; do for [i=1:nk] { set xtics add (word(K, i) real(word(K, i))) }
  set mxtics default
  set format y logfmt
  set autoscale y
  set key top left Left reverse
  plot \
    for [j=1:nm] $sel using 1:(pick($5 == j, $3)):(pick($5 == j, $4)) \
        with filledcurves @band_style fc rgb cat_color(j), \
    for [j=1:nm] $sel using 1:(pick($5 == j, $2)) \
        with linespoints lw 1.5 pt 7 ps 0.8 * PS lc rgb cat_color(j) title optim_label(word(M, j)), \
    (word(M, 1) eq "gd" ? anchor[1] * x / kmin : NaN) with lines dt (6, 4) lw 1 lc rgb theory_color title "∝ κ", \
    (nm >= 2 ? anchor[2] : NaN) with lines dt (2, 3) lw 1.2 lc rgb theory_color title "constant"
  eval end_fig
  set datafile separator ","
  set datafile columnheaders
  unset logscale xy
  set xtics autofreq
  set format y "%g"
}

# ---- risk / risk_0 vs step, one panel per optimiser ------------------------
# r0: the group's step-0 mean risk (rows of a group are consecutive, step 0 first)
r0 = 1
R0 = '(column("step") == 0 ? r0 = column("risk_mean") : r0)'
do for [fmt in FORMATS] {
  eval begin_fig_size("risk", fmt, 1.7 * fig_w, fig_h)
  set multiplot layout 1, nm
  do for [j=1:nm] {
    set title optim_label(word(M, j))
    set xlabel "step t"
    set ylabel (j == 1 ? "risk / risk_0" : "")
    set logscale y
    set format y logfmt
    set yrange [1e-30:10]
    set xrange [0:*] noextend
    if (j == nm) { set key top right Left reverse title "κ" maxrows 5 } else { unset key }
    plot \
      for [i=1:nk] T using (pick(selm(j) && selk(i), column("step"))):(column("risk_min") / @R0):(column("risk_max") / @R0) \
          with filledcurves @band_style fc rgb seq_color(i, nk), \
      for [i=1:nk] T using (pick(selm(j) && selk(i), column("step"))):(column("risk_mean") / @R0) \
          with lines lw 1.3 lc rgb seq_color(i, nk) title word(K, i), \
      tol with lines dt (6, 4) lw 1 lc rgb theory_color title "tol"
  }
  unset title
  eval end_fig
  unset logscale y
  set format y "%g"
}
