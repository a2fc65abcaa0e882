# ntk-vs-full.gp: LoRA's objective against the step for several ranks, and the
# convex optimum F* (THEORY.md section 7).
#   gnuplot -c plots/ntk-vs-full.gp DIR     (or: loralab plot DIR)
# Reads DIR/trace_mean.csv, DIR/summary_mean.csv, DIR/sweep.gp; writes
#   objective.{png,pdf}  objective = loss + lambda/2 (|A|^2 + |B|^2) vs step,
#                        one curve per r (mean over seeds, band min..max),
#                        the mean F* over seeds dashed
#   gap.{png,pdf}        relative gap (objective - F*)/|F*| vs step, log scale
#                        (mean over seeds, band min..max)
if (ARGC < 1) { print "usage: gnuplot -c ", ARG0, " RESULTS_DIR"; exit status 1 }
DIR = ARG1
here = ARG0
while (strlen(here) > 0 && here[strlen(here):strlen(here)] ne "/") { here = here[1:strlen(here) - 1] }
load here."common.gp"
if (!exists("sweep_lora_rank")) { print "ntk-vs-full.gp: needs a sweep over lora.rank"; exit status 1 }

T = DIR."/trace_mean.csv"
S = DIR."/summary_mean.csv"
R = sweep_lora_rank
nr = words(R)
selr(i) = is_num("lora.rank", word(R, i))
# F*: the same for every r (same data); its mean over seeds
fstar = NaN
set table $dummy
plot S using (fstar = column("f_star_mean")) with table
unset table

do for [fmt in FORMATS] {
  eval begin_fig("objective", fmt)
  set xlabel "step t"
  set ylabel "objective  L(AB) + λ/2 (‖A‖^2 + ‖B‖^2)"
  set logscale y
  set format y "%g"
  set xrange [0:*] noextend
  set key top right Left reverse title "LoRA rank r" maxrows 6
  plot \
    for [i=1:nr] T using (pick(selr(i), column("step"))):"objective_min":"objective_max" \
        with filledcurves @band_style fc rgb seq_color(i, nr), \
    for [i=1:nr] T using (pick(selr(i), column("step"))):"objective_mean" \
        with lines lw 1.3 lc rgb seq_color(i, nr) title word(R, i), \
    fstar with lines dt (6, 4) lw 1.2 lc rgb theory_color title "F^* (convex)"
  eval end_fig
  unset logscale y
}

gfloor = 1e-16      # gaps below (or at/under 0 by the solver's tolerance) drawn here
do for [fmt in FORMATS] {
  eval begin_fig("gap", fmt)
  set xlabel "step t"
  set ylabel "(objective − F^*) / |F^*|"
  set logscale y
  set format y logfmt
  set yrange [gfloor:*]
  set xrange [0:*] noextend
  set key top right Left reverse title "LoRA rank r" maxrows 6
  plot \
    for [i=1:nr] T using (pick(selr(i), column("step"))):(column("gap_min") > gfloor ? column("gap_min") : gfloor):"gap_max" \
        with filledcurves @band_style fc rgb seq_color(i, nr), \
    for [i=1:nr] T using (pick(selr(i), column("step"))):(column("gap_mean") > gfloor ? column("gap_mean") : gfloor) \
        with lines lw 1.3 lc rgb seq_color(i, nr) title word(R, i)
  eval end_fig
  unset logscale y
  set format y "%g"
  set autoscale y
}
