# ntk-spurious.gp: spurious local minima of LoRA below rank(delta*) (THEORY.md
# section 7, N1-sp).
#   gnuplot -c plots/ntk-spurious.gp DIR     (or: loralab plot DIR)
# Reads DIR/summary.csv, DIR/sweep.gp; writes
#   objective.{png,pdf}  one panel per LoRA rank r: the final objective of
#                        every start (init method x alpha2, side by side) on
#                        each seed's instance, coloured by min_hess_eig (the
#                        smallest Hessian eigenvalue: > 0 a strict local
#                        minimum, < 0 a saddle), shaped by status; the
#                        instance's F* as a dashed dash
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

stats S using "min_hess_eig" nooutput
hmax = (abs(STATS_min) > abs(STATS_max) ? abs(STATS_min) : abs(STATS_max))
hmax = (hmax > 0 ? hmax : 1)
stats S using "seed" nooutput
smin = STATS_min
smax = STATS_max
# point type by status
ptype(s) = (s eq "global") ? 3 : (s eq "spurious_min") ? 7 : (s eq "saddle") ? 9 : 2

do for [fmt in FORMATS] {
  eval begin_fig_size("objective", fmt, (nr > 2 ? 2.0 : 1.4) * fig_w, (nr > 2 ? 1.6 : 1) * fig_h)
  set palette defined (-1 "#b2182b", 0 "#f0f0f0", 1 "#2166ac")
  set cbrange [-hmax:hmax]
  set format cb "%.1e"
  set cblabel "min\\_hess\\_eig"
  if (nr > 1) { set multiplot layout (nr > 2 ? 2 : 1), (nr > 2 ? (nr + 1) / 2 : nr) }
  do for [i=1:nr] {
    set title sprintf("r = %s", word(R, i))
    set xlabel "seed (instance); starts side by side"
    set ylabel "final objective"
    set xrange [smin - 0.5:smax + 0.5]
    set xtics 1
    set mxtics 1
    set logscale y
    set format y "%g"
    if (i == 1) { set key top left Left reverse opaque } else { unset key }
    plot \
      S using (pick(selr(i), column("seed") - 0.45)):"f_star":(0.9):(0) \
          with vectors nohead dt (4, 3) lw 1.2 lc rgb theory_color title "F^* of the instance", \
      S using (pick(selr(i), @xs)):"objective":"min_hess_eig":(ptype(strcol("status"))) \
          with points pt variable ps 1.1 * PS lc palette notitle, \
      NaN with points pt 7 lc rgb "#606060" title "spurious\\_min", \
      NaN with points pt 9 lc rgb "#606060" title "saddle", \
      NaN with points pt 3 lc rgb "#606060" title "global", \
      NaN with points pt 2 lc rgb "#606060" title "not\\_converged"
  }
  unset title
  eval end_fig
  unset logscale y
  set xtics autofreq
  set mxtics default
}
