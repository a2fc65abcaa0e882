# loraone-alignment-d.gp: alignment against the dimension (theory/THEORY.md 6.2,
# L1-T3.2-d, L1-F2-d).
#   gnuplot -c plots/loraone-alignment-d.gp DIR     (or: loralab plot DIR)
# Reads DIR/trace_mean.csv, DIR/summary_mean.csv, DIR/summary.csv, DIR/sweep.gp
# (a zip over teacher.d and init.alpha2: each grid point is one (d, alpha2));
# writes
#   align_a.{png,pdf}    align_a vs step, one colour per d; solid: the
#                        prescribed alpha2 = 1e-4 (100/d)^(3/2), dash-dot: the
#                        fixed alpha2 = 1e-4 (Figure 2's; d = 100 is the solid
#                        curve of both); the t* of each d as a dashed vertical line
#   min_align.{png,pdf}  per seed against d (log axis), two panels: min align_a,
#                        and steps_to_align / t_star; filled circles: the
#                        prescribed alpha2 = 1e-4 (100/d)^(3/2), open squares:
#                        the fixed alpha2 = 1e-4 (Figure 2's); the shared d = 100
#                        cell is both
# Curves: mean over seeds; bands: min..max over seeds.
if (ARGC < 1) { print "usage: gnuplot -c ", ARG0, " RESULTS_DIR"; exit status 1 }
DIR = ARG1
here = ARG0
while (strlen(here) > 0 && here[strlen(here):strlen(here)] ne "/") { here = here[1:strlen(here) - 1] }
load here."common.gp"
if (!exists("sweep_teacher_d")) { print "loraone-alignment-d.gp: needs a sweep over teacher.d"; exit status 1 }
if (!exists("sweep_init_alpha2")) { sweep_init_alpha2 = "" }

T = means("trace")
S = means("summary")
D = sweep_teacher_d
A = sweep_init_alpha2
n = words(D)
has_a = (words(A) == n)
# grid point i: its d and, when alpha2 is swept alongside, its alpha2
sel(i) = is_num("teacher.d", word(D, i)) && (!has_a || is_num("init.alpha2", word(A, i)))
# the distinct d in increasing order, for the colours: dcol(d) in 1..nd
dmin = real(word(D, 1)); dmax = dmin
do for [i=1:n] { v = real(word(D, i)); dmin = (v < dmin ? v : dmin); dmax = (v > dmax ? v : dmax) }
nd = int(floor(log(dmax / dmin) / log(2) + 0.5)) + 1
dcol(d) = seq_color(int(floor(log(d / dmin) / log(2) + 0.5)) + 1, nd)
FIXED = 1e-4     # the fixed arm's alpha2 (Figure 2's smallest)
is_fixed(a, d) = (abs(a / FIXED - 1) < 1e-9 && abs(d - 100) > 0.5)
fixed_point(i) = (has_a ? is_fixed(real(word(A, i)), real(word(D, i))) : 0)

# ---- align_a ---------------------------------------------------------------
do for [fmt in FORMATS] {
  eval begin_fig("align_a", fmt)
  set xlabel "step t"
  set ylabel "sin θ_{max}(U_{r*}(A_t), U_{r*}(G))"
  set yrange [0:1.05]
  set xrange [0:*] noextend
  set key outside right top Left reverse title "d"
  plot \
    for [i=1:n] T using "step":(pick(sel(i), column("align_a_min"))):(pick(sel(i), column("align_a_max"))) \
        with filledcurves @band_style fc rgb dcol(real(word(D, i))), \
    for [i=1:n] T using "step":(pick(sel(i) && !fixed_point(i), column("align_a_mean"))) \
        with lines lw 1.5 lc rgb dcol(real(word(D, i))) title (fixed_point(i) ? "" : word(D, i)), \
    for [i=1:n] T using "step":(pick(sel(i) && fixed_point(i), column("align_a_mean"))) \
        with lines lw 1.5 dt (8, 3, 2, 3) lc rgb dcol(real(word(D, i))), \
    for [i=1:n] S using (pick(sel(i), column("t_star_mean"))):(0):(0):(1) axes x1y2 \
        with vectors nohead dt (6, 4) lw 1 lc rgb dcol(real(word(D, i))), \
    NaN with lines dt (8, 3, 2, 3) lw 1.5 lc rgb theory_color title (has_a ? "α^2 = 10^{-4}" : ""), \
    NaN with lines dt (6, 4) lw 1 lc rgb theory_color title "t^*"
  eval end_fig
}

# ---- min align_a and steps_to_align / t* per seed against d ----------------
P = DIR."/summary.csv"
# per row of summary.csv: in the fixed arm (not d = 100); in the fixed arm's
# markers (d = 100 is the cell both arms share). Without a sweep over
# init.alpha2 every row is one arm, drawn as the first.
row_fixed(dummy) = (has_a ? is_fixed(column("init.alpha2"), column("teacher.d")) : 0)
row_fixed_marker(dummy) = (has_a ? row_fixed(0) || abs(column("teacher.d") - 100) < 0.5 : 0)
lbl_first = has_a ? "α^2 = 10^{-4} (100/d)^{3/2} (prescribed)" : "one seed"
fixed_min = has_a ? ', P using "teacher.d":(row_fixed_marker(0) ? column("min_align_a") : NaN) with points pt 4 ps 1.1 * PS lc rgb cat_color(2) title "α^2 = 10^{-4} (fixed, Figure 2)"' : ""
fixed_ratio = has_a ? ', P using "teacher.d":(row_fixed_marker(0) ? column("steps_to_align") / column("t_star") : NaN) with points pt 4 ps 1.1 * PS lc rgb cat_color(2) title "fixed α^2 = 10^{-4}"' : ""
do for [fmt in FORMATS] {
  eval begin_fig_size("min_align", fmt, 1.7 * fig_w, fig_h)
  set multiplot layout 1, 2
  set logscale x 2
  set xrange [dmin / 1.3:dmax * 1.3]
  set xlabel "d (= k, N = 16 d)"
  set xtics () ; do for [i=1:n] { set xtics add (word(D, i) real(word(D, i))) }
  set mxtics default
  set key bottom right Left reverse
  set ylabel "min_t sin θ_{max}(U_{r*}(A_t), U_{r*}(G))"
  set yrange [0:*]
  plot P using "teacher.d":(row_fixed(0) ? NaN : column("min_align_a")) \
        with points pt 7 ps 0.8 * PS lc rgb cat_color(1) title lbl_first @fixed_min
  set ylabel "steps to align_a ≤ θ, over t^*"
  set yrange [0:2<*]
  plot P using "teacher.d":(row_fixed(0) ? NaN : column("steps_to_align") / column("t_star")) \
        with points pt 7 ps 0.8 * PS lc rgb cat_color(1) title (has_a ? "prescribed α" : "one seed") @fixed_ratio, \
    1 with lines dt (6, 4) lw 1 lc rgb theory_color title "t^*", \
    1.5 with lines dt (2, 3) lw 1 lc rgb theory_color title "1.5 t^* (L1-T3.2-d)"
  eval end_fig
  unset logscale x
  set xtics autofreq
}
