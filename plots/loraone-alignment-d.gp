# loraone-alignment-d.gp: alignment time against the dimension (theory/THEORY.md L1-T3.2).
#   gnuplot -c plots/loraone-alignment-d.gp DIR     (or: loralab plot DIR)
# Reads DIR/trace_mean.csv, DIR/summary_mean.csv, DIR/sweep.gp; writes
#   align_a.{png,pdf}  align_a vs step, one curve per d (k = d, N = 16 d),
#                      the predicted t* of each d dashed in its colour
# Curves: mean over seeds; bands: min..max over seeds.
if (ARGC < 1) { print "usage: gnuplot -c ", ARG0, " RESULTS_DIR"; exit status 1 }
DIR = ARG1
here = ARG0
while (strlen(here) > 0 && here[strlen(here):strlen(here)] ne "/") { here = here[1:strlen(here) - 1] }
load here."common.gp"
if (!exists("sweep_teacher_d")) { print "loraone-alignment-d.gp: needs a sweep over teacher.d"; exit status 1 }

T = means("trace")
S = means("summary")
KEY = "teacher.d"
V = sweep_teacher_d
n = words(V)
sel(i) = is_num(KEY, word(V, i))

do for [fmt in FORMATS] {
  eval begin_fig("align_a", fmt)
  set xlabel "step t"
  set ylabel "sin θ_{max}(U_{r*}(A_t), U_{r*}(G))"
  set yrange [0:1.05]
  set xrange [0:*] noextend
  set key outside right top Left reverse title "d"
  plot \
    for [i=1:n] T using "step":(pick(sel(i), column("align_a_min"))):(pick(sel(i), column("align_a_max"))) \
        with filledcurves @band_style fc rgb seq_color(i, n), \
    for [i=1:n] T using "step":(pick(sel(i), column("align_a_mean"))) \
        with lines lw 1.5 lc rgb seq_color(i, n) title word(V, i), \
    for [i=1:n] S using (pick(sel(i), column("t_star_mean"))):(0):(0):(1) axes x1y2 \
        with vectors nohead dt (6, 4) lw 1 lc rgb seq_color(i, n), \
    NaN with lines dt (6, 4) lw 1 lc rgb theory_color title "t^*"
  eval end_fig
}
