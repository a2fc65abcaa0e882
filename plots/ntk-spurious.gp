# ntk-spurious.gp: spurious local minima of LoRA below rank(delta*) (theory/THEORY.md
# section 7, N1-sp).
#   gnuplot -c plots/ntk-spurious.gp DIR     (or: loralab plot DIR)
# Reads DIR/summary.csv, DIR/sweep.gp; writes
#   objective.{png,pdf}  one panel per LoRA rank r: the final objective of
#                        every start (init method x alpha2, side by side) on
#                        each seed's instance, as its excess over the
#                        instance's convex optimum, (objective - F*)/|F*|
#                        (the `gap` column; log scale, F* itself at the
#                        dashed floor), coloured by |min_hess_eig| (the
#                        smallest Hessian eigenvalue), circles for
#                        min_hess_eig >= 0, triangles for < 0.  Several
#                        distinct values above the floor on one instance =
#                        distinct non-global stationary points.  For r >= 2
#                        the objective is invariant under A -> A O,
#                        B -> O^T B, so min_hess_eig is 0 up to rounding
#                        (~1e-13) at every critical point.
if (ARGC < 1) { print "usage: gnuplot -c ", ARG0, " RESULTS_DIR"; exit status 1 }
DIR = ARG1
here = ARG0
while (strlen(here) > 0 && here[strlen(here):strlen(here)] ne "/") { here = here[1:strlen(here) - 1] }
load here."common.gp"
if (!exists("sweep_lora_rank")) { print "ntk-spurious.gp: needs a sweep over lora.rank"; exit status 1 }

S = DIR."/summary.csv"
R = sweep_lora_rank
nr = words(R)
selr(i) = is_num("lora.rank", word(R, i))
# start index 1..ns: (init.method, init.alpha2) when swept
IM = exists("sweep_init_method") ? sweep_init_method : "x"
AL = exists("sweep_init_alpha2") ? sweep_init_alpha2 : "x"
nim = words(IM)
nal = words(AL)
ns = nim * nal
im_idx = exists("sweep_init_method") ? 'sum [q=1:nim] (strcol("init.method") eq word(IM, q) ? q : 0)' : '1'
al_idx = exists("sweep_init_alpha2") ? 'sum [q=1:nal] (column("init.alpha2") == real(word(AL, q)) ? q : 0)' : '1'
start = sprintf('((%s - 1) * nal + %s)', im_idx, al_idx)
# x: seed, starts spread over [seed - 0.35, seed + 0.35]
xs = sprintf('(column("seed") + (ns > 1 ? 0.7 * ((%s) - 1) / (ns - 1) - 0.35 : 0))', start)

Kout = config("teacher", "outputs")
loss_note = (config("teacher", "loss") eq "cross_entropy") ? sprintf(" (cross-entropy, K = %s)", Kout) : ""
stats S using "seed" nooutput
smin = STATS_min
smax = STATS_max
gfloor = 1e-12     # gaps at or below (global) are drawn here
hfloor = 1e-16     # |min_hess_eig| below is coloured as this
hcol = '(log10(abs(column("min_hess_eig")) > hfloor ? abs(column("min_hess_eig")) : hfloor))'
# point type by the sign of min_hess_eig: circle >= 0, down-triangle < 0
hpt = '(column("min_hess_eig") < 0 ? 11 : 7)'
gap = '(column("gap") > gfloor ? column("gap") : gfloor)'

do for [fmt in FORMATS] {
  eval begin_fig_size("objective", fmt, (nr > 1 ? 0.75 * nr : 1.2) * fig_w, 1.2 * fig_h)
  set palette defined (0 "#440154", 0.35 "#31688e", 0.65 "#35b779", 1 "#e8d925")
  set cbrange [-16:0]
  set cbtics 4
  set format cb "10^{%g}"
  if (nr > 1) { set multiplot layout 1, nr }
  do for [i=1:nr] {
    set title sprintf("r = %s%s", word(R, i), loss_note)
    set xlabel "seed (instance)"
    set ylabel (i == 1 ? "(objective − F^*) / |F^*|" : "")
    set xrange [smin - 0.5:smax + 0.5]
    set xtics 1
    set mxtics 1
    set logscale y
    set format y logfmt
    set yrange [gfloor / 3:10]
    if (i == nr) { set colorbox; set cblabel "|min\\_hess\\_eig|" offset -1, 0 } else { unset colorbox }
    if (i == 1) { set key center right Left reverse opaque } else { unset key }
    plot \
      S using (pick(selr(i), @xs)):@gap:@hpt:@hcol with points pt variable ps 1.0 * PS lc palette notitle, \
      S using (pick(selr(i), @xs)):@gap with points pt 6 ps 1.0 * PS lw 0.5 lc rgb "#303030" notitle, \
      NaN with points pt 7 lc rgb "#606060" title "min\\_hess\\_eig ≥ 0", \
      NaN with points pt 11 lc rgb "#606060" title "min\\_hess\\_eig < 0", \
      gfloor with lines dt (4, 3) lw 1 lc rgb theory_color title "F^* reached (gap ≤ 10^{-12})"
  }
  unset title
  eval end_fig
  unset logscale y
  set format y "%g"
  set xtics autofreq
  set mxtics default
}
