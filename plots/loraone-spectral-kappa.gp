# loraone-spectral-kappa.gp: Theorem 3.3 inside and outside its hypothesis
# (theory/THEORY.md L1-T3.3).
#   gnuplot -c plots/loraone-spectral-kappa.gp DIR     (or: loralab plot DIR)
# Reads DIR/summary_mean.csv, DIR/sweep.gp; writes
#   err_rel.{png,pdf}  ||A0 B0 - Delta||_op / lambda*_r* (err_op_init kappa /
#                      teacher.scale, the linear spectrum's lambda*_r* being
#                      scale / kappa) against N/d, one line per kappa; filled
#                      points where eps = ||Sigma_hat - I||_op <= 1/(2 kappa)
#                      holds for every seed (inside the hypothesis), open
#                      points outside; the conclusion's level 1/2 dashed.
# Lines: mean over seeds; bands: min..max over seeds.
if (ARGC < 1) { print "usage: gnuplot -c ", ARG0, " RESULTS_DIR"; exit status 1 }
DIR = ARG1
here = ARG0
while (strlen(here) > 0 && here[strlen(here):strlen(here)] ne "/") { here = here[1:strlen(here) - 1] }
load here."common.gp"
if (!exists("sweep_teacher_n") || !exists("sweep_teacher_kappa")) {
  print "loraone-spectral-kappa.gp: needs a sweep over teacher.n and teacher.kappa"; exit status 1
}
S = means("summary")
V = sweep_teacher_n
K = sweep_teacher_kappa
nk = words(K)
d = config("teacher", "d")
d = (strlen(d) > 0 ? real(d) : NaN)
scale = config("teacher", "scale")
scale = (strlen(scale) > 0 ? real(scale) : 1)
if (!(d > 0)) { print "loraone-spectral-kappa.gp: cannot read teacher.d from ", DIR, "/config.yaml"; exit status 1 }
nmin = real(word(V, 1)) / d
nmax = real(word(V, words(V))) / d
selk(i) = is_num("teacher.kappa", word(K, i))
kap(i) = real(word(K, i))
inside(i) = column("sigma_dev_max") <= 1 / (2 * kap(i))

do for [fmt in FORMATS] {
  eval begin_fig("err_rel", fmt)
  set xlabel "samples per dimension N/d"
  set ylabel "‖A_0B_0 − Δ‖_{op} / λ*_{r*}"
  set logscale xy
  set xrange [nmin / 1.3:nmax * 1.3]
  set xtics () ; do for [i=1:words(V)] { set xtics add (sprintf("%g", real(word(V, i)) / d) real(word(V, i)) / d) }
  set format y "%g"
  set yrange [3e-4:10]
  set ytics (0.001, 0.01, 0.1, 0.5, 1, 10)
  set key bottom left Left reverse
  plot \
    for [i=1:nk] S using (selk(i) ? column("teacher.n") / d : NaN):(column("err_op_init_min") * kap(i) / scale):(column("err_op_init_max") * kap(i) / scale) \
        with filledcurves @band_style fc rgb seq_color(i, nk) notitle, \
    for [i=1:nk] S using (selk(i) ? column("teacher.n") / d : NaN):(column("err_op_init_mean") * kap(i) / scale) \
        with lines lw 1.5 lc rgb seq_color(i, nk) title sprintf("κ = %s", word(K, i)), \
    for [i=1:nk] S using (selk(i) && inside(i) ? column("teacher.n") / d : NaN):(column("err_op_init_mean") * kap(i) / scale) \
        with points pt 7 ps 1.8 * PS lc rgb seq_color(i, nk) notitle, \
    for [i=1:nk] S using (selk(i) && !inside(i) ? column("teacher.n") / d : NaN):(column("err_op_init_mean") * kap(i) / scale) \
        with points pt 6 ps 1.8 * PS lc rgb seq_color(i, nk) notitle, \
    0.5 with lines dt (6, 4) lw 1.5 lc rgb theory_color title "λ*_{r*}/2 (Thm 3.3); filled: ε ≤ 1/(2κ)"
  eval end_fig
}
