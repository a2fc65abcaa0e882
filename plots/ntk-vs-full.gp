# ntk-vs-full.gp: LoRA's objective against the step for several ranks, and the
# convex optimum F* (theory/THEORY.md section 7).
#   gnuplot -c plots/ntk-vs-full.gp DIR     (or: loralab plot DIR)
# Reads DIR/trace.csv, DIR/summary.csv, DIR/trace_mean.csv, DIR/sweep.gp; writes
#   objective.{png,pdf}  objective = loss + lambda/2 (|A|^2 + |B|^2) vs step
#                        (log-log), one curve per r, for the first seed (the
#                        seeds are different instances with different F*),
#                        that instance's F* dashed
#   gap.{png,pdf}        relative gap (objective - F*)/|F*| vs step, log scale
#                        (mean over seeds, band min..max)
if (ARGC < 1) { print "usage: gnuplot -c ", ARG0, " RESULTS_DIR"; exit status 1 }
DIR = ARG1
here = ARG0
while (strlen(here) > 0 && here[strlen(here):strlen(here)] ne "/") { here = here[1:strlen(here) - 1] }
load here."common.gp"
if (!exists("sweep_lora_rank")) { print "ntk-vs-full.gp: needs a sweep over lora.rank"; exit status 1 }

T = means("trace")
S = means("summary")
R = sweep_lora_rank
nr = words(R)
selr(i) = is_num("lora.rank", word(R, i))
T1 = DIR."/trace.csv"
S1 = DIR."/summary.csv"
# The seeds are different instances (F* differs), so the objective is drawn
# for one seed, the first, with its own F*
stats S1 using "seed" nooutput
seed1 = STATS_min
fstar = NaN
set table $dummy
plot S1 using (column("seed") == seed1 ? fstar = column("f_star") : NaN) with table
unset table

do for [fmt in FORMATS] {
  eval begin_fig("objective", fmt)
  set title sprintf("seed %d", seed1)
  set xlabel "step t"
  set ylabel "objective  L(AB) + λ/2 (‖A‖^2 + ‖B‖^2)"
  set logscale xy
  set format x logfmt
  set format y "%g"
  set xrange [*:*] noextend
  set yrange [fstar * 0.95:*] noextend
  set ytics (0.1, 0.12, 0.15, 0.2, 0.3, 0.5, 0.7, 1, 2, 5, 10)
  set key outside right top Left reverse title "LoRA rank r"
  plot \
    for [i=1:nr] T1 using (pick(selr(i) && column("seed") == seed1 && column("step") > 0, column("step"))):"objective" \
        with lines lw 1.3 lc rgb seq_color(i, nr) title word(R, i), \
    fstar with lines dt (6, 4) lw 1.2 lc rgb theory_color title "F^* (convex)"
  eval end_fig
  unset title
  unset logscale xy
  set format x "%g"
  set autoscale y
  set ytics autofreq
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
  set key outside right top Left reverse title "LoRA rank r"
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
