# loraone-alignment.gp: LoRA-One's alignment figure (theory/THEORY.md L1-T3.1/3.2).
#   gnuplot -c plots/loraone-alignment.gp DIR     (or: loralab plot DIR)
# Reads DIR/trace_mean.csv, DIR/summary_mean.csv, DIR/sweep.gp; writes
#   align_a.{png,pdf}  sin of the largest angle between U_r*(A_t) and U_r*(G)
#                      vs step, one curve per alpha^2, predicted t* dashed
#   risk.{png,pdf}     risk vs step (log), t* dashed
#   align_b.{png,pdf}  align_b vs step (log): machine precision from step 1
# Curves: mean over seeds; bands: min..max over seeds.
if (ARGC < 1) { print "usage: gnuplot -c ", ARG0, " RESULTS_DIR"; exit status 1 }
DIR = ARG1
here = ARG0
while (strlen(here) > 0 && here[strlen(here):strlen(here)] ne "/") { here = here[1:strlen(here) - 1] }
load here."common.gp"
if (!exists("sweep_init_alpha2")) { print "loraone-alignment.gp: needs a sweep over init.alpha2"; exit status 1 }

T = means("trace")
S = means("summary")
KEY = "init.alpha2"
V = sweep_init_alpha2
n = words(V)
sel(i) = is_num(KEY, word(V, i))
lbl(i) = num_label(word(V, i))

# ---- align_a ---------------------------------------------------------------
do for [fmt in FORMATS] {
  eval begin_fig("align_a", fmt)
  set xlabel "step t"
  set ylabel "sin θ_{max}(U_{r*}(A_t), U_{r*}(G))"
  set yrange [0:1.05]
  set xrange [0:*] noextend
  set key outside right top Left reverse title "α^2"
  plot \
    for [i=1:n] T using "step":(pick(sel(i), column("align_a_min"))):(pick(sel(i), column("align_a_max"))) \
        with filledcurves @band_style fc rgb seq_color(i, n), \
    for [i=1:n] T using "step":(pick(sel(i), column("align_a_mean"))) \
        with lines lw 1.5 lc rgb seq_color(i, n) title lbl(i), \
    for [i=1:n] S using (pick(sel(i), column("t_star_mean"))):(0):(0):(1) axes x1y2 \
        with vectors nohead dt (6, 4) lw 1 lc rgb seq_color(i, n), \
    NaN with lines dt (6, 4) lw 1 lc rgb theory_color title "t^*"
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
  set key outside right top Left reverse title "α^2"
  plot \
    for [i=1:n] T using "step":(pick(sel(i), column("risk_min"))):(pick(sel(i), column("risk_max"))) \
        with filledcurves @band_style fc rgb seq_color(i, n), \
    for [i=1:n] T using "step":(pick(sel(i), column("risk_mean"))) \
        with lines lw 1.5 lc rgb seq_color(i, n) title lbl(i), \
    for [i=1:n] S using (pick(sel(i), column("t_star_mean"))):(0):(0):(1) axes x1y2 \
        with vectors nohead dt (6, 4) lw 1 lc rgb seq_color(i, n), \
    NaN with lines dt (6, 4) lw 1 lc rgb theory_color title "t^*"
  eval end_fig
  unset logscale y
  set format y "%g"
}

# ---- align_b ---------------------------------------------------------------
do for [fmt in FORMATS] {
  eval begin_fig("align_b", fmt)
  set xlabel "step t"
  set ylabel "sin θ_{max}(V_{r*}(B_t^T), V_{r*}(G))"
  set logscale y
  set format y logfmt
  set yrange [1e-17:1e-6]
  set xrange [0:*] noextend
  set key outside right top Left reverse title "α^2"
  set label 1 "Theorem 3.1 check: ≤ 10^{-10}" at graph 0.02, first 2.2e-10 left textcolor rgb theory_color
  plot \
    for [i=1:n] T using "step":(pick(sel(i), column("align_b_min"))):(pick(sel(i), column("align_b_max"))) \
        with filledcurves @band_style fc rgb seq_color(i, n), \
    for [i=1:n] T using "step":(pick(sel(i), column("align_b_mean"))) \
        with lines lw 1.2 lc rgb seq_color(i, n) title lbl(i), \
    1e-10 with lines dt (6, 4) lw 1 lc rgb theory_color
  eval end_fig
  unset label 1
  unset logscale y
  set format y "%g"
}
