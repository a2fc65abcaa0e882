# loraone-alignment-lowrank.gp: alignment for r* <= r < 2 r* (theory/THEORY.md
# 6.2, L1-T3.2-low), r = 2 r* as the control.
#   gnuplot -c plots/loraone-alignment-lowrank.gp DIR     (or: loralab plot DIR)
# Reads DIR/trace_mean.csv, DIR/summary_mean.csv, DIR/summary.csv, DIR/sweep.gp;
# writes
#   align_a.{png,pdf}  sin of the largest angle between U_r*(A_t) and U_r*(G)
#                      vs step, one curve per LoRA rank r, t* dashed
#   risk.{png,pdf}     risk vs step (log) per r
#   steps.{png,pdf}    per seed against r: steps to align_a <= theta over t*,
#                      with 1.1 (L1-T3.2's bound for r >= 2 r*) and 2
#                      (L1-T3.2-low's) dashed
# Curves: mean over seeds; bands: min..max over seeds.
if (ARGC < 1) { print "usage: gnuplot -c ", ARG0, " RESULTS_DIR"; exit status 1 }
DIR = ARG1
here = ARG0
while (strlen(here) > 0 && here[strlen(here):strlen(here)] ne "/") { here = here[1:strlen(here) - 1] }
load here."common.gp"
if (!exists("sweep_lora_rank")) { print "loraone-alignment-lowrank.gp: needs a sweep over lora.rank"; exit status 1 }

T = means("trace")
S = means("summary")
KEY = "lora.rank"
V = sweep_lora_rank
n = words(V)
sel(i) = is_num(KEY, word(V, i))
rstar = config("teacher", "rank")
rstar = (strlen(rstar) > 0 ? int(rstar) : 0)
lbl(i) = word(V, i).(rstar > 0 && int(word(V, i)) == 2 * rstar ? " = 2r^*" : rstar > 0 && int(word(V, i)) == rstar ? " = r^*" : "")

# ---- align_a ---------------------------------------------------------------
do for [fmt in FORMATS] {
  eval begin_fig("align_a", fmt)
  set xlabel "step t"
  set ylabel "sin θ_{max}(U_{r*}(A_t), U_{r*}(G))"
  set yrange [0:1.05]
  set xrange [0:*] noextend
  set key outside right top Left reverse title "r"
  plot \
    for [i=1:n] T using "step":(pick(sel(i), column("align_a_min"))):(pick(sel(i), column("align_a_max"))) \
        with filledcurves @band_style fc rgb seq_color(i, n), \
    for [i=1:n] T using "step":(pick(sel(i), column("align_a_mean"))) \
        with lines lw 1.5 lc rgb seq_color(i, n) title lbl(i), \
    S using (pick(sel(n), column("t_star_mean"))):(0):(0):(1) axes x1y2 \
        with vectors nohead dt (6, 4) lw 1 lc rgb theory_color title "t^*"
  eval end_fig
}

# ---- risk ------------------------------------------------------------------
do for [fmt in FORMATS] {
  eval begin_fig("risk", fmt)
  set xlabel "step t"
  set ylabel "risk  ½‖A_tB_t − Δ‖_F^2"
  set logscale y
  set format y logfmt
  set yrange [*:*]
  set xrange [0:*] noextend
  set key outside right top Left reverse title "r"
  plot \
    for [i=1:n] T using "step":(pick(sel(i), column("risk_min"))):(pick(sel(i), column("risk_max"))) \
        with filledcurves @band_style fc rgb seq_color(i, n), \
    for [i=1:n] T using "step":(pick(sel(i), column("risk_mean"))) \
        with lines lw 1.5 lc rgb seq_color(i, n) title lbl(i)
  eval end_fig
  unset logscale y
  set format y "%g"
}

# ---- steps_to_align / t* per seed against r ---------------------------------
P = DIR."/summary.csv"
rmin = real(word(V, 1))
rmax = real(word(V, n))
do for [fmt in FORMATS] {
  eval begin_fig("steps", fmt)
  set xlabel "LoRA rank r"
  set ylabel "steps to align_a ≤ θ, over t^*"
  set xrange [rmin - 0.5:rmax + 0.5]
  set xtics 1
  set mxtics 1
  set yrange [0:2.8]
  set key top right Left reverse
  if (rstar > 0) { set arrow 1 from 2 * rstar - 0.5, graph 0 to 2 * rstar - 0.5, graph 1 nohead lw 0.8 lc rgb "#b0b0b0" }
  plot \
    P using (column("lora.rank") + 0.1 * (int(column("seed")) % 7 - 3)):(column("steps_to_align") / column("t_star")) \
        with points pt 7 ps 0.8 * PS lc rgb cat_color(1) title "one seed", \
    1.1 with lines dt (6, 4) lw 1 lc rgb theory_color title "1.1 t^* (L1-T3.2)", \
    2 with lines dt (2, 3) lw 1.2 lc rgb theory_color title "2 t^* (L1-T3.2-low)"
  eval end_fig
  unset arrow 1
  set xtics autofreq
}
