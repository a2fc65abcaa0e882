# ntk-rank-bound.gp: rank of the convex optimum delta* against N (theory/THEORY.md
# section 7, N1-i).
#   gnuplot -c plots/ntk-rank-bound.gp DIR     (or: loralab plot DIR)
# Reads DIR/summary_mean.csv, DIR/sweep.gp; writes
#   rank_vs_n.{png,pdf}  rank_star vs N, one colour per (loss, K)
#                        (teacher.loss, teacher.outputs; swept alone or
#                        together under sweep.zip): mean over seeds
#                        (points), min..max (band), and the bound
#                        max{r : r(r+1)/2 <= K N} as a dashed step line,
#                        rank_bound of the summary as open circles on it
if (ARGC < 1) { print "usage: gnuplot -c ", ARG0, " RESULTS_DIR"; exit status 1 }
DIR = ARG1
here = ARG0
while (strlen(here) > 0 && here[strlen(here):strlen(here)] ne "/") { here = here[1:strlen(here) - 1] }
load here."common.gp"
if (!exists("sweep_teacher_n")) { print "ntk-rank-bound.gp: needs a sweep over teacher.n"; exit status 1 }

S = means("summary")
V = sweep_teacher_n
nv = words(V)
# Groups j = 1..nK of (loss, K): the swept values (teacher.outputs and
# teacher.loss under sweep.zip pair up word by word) or the experiment's one
# value of each
if (exists("sweep_teacher_outputs")) { KS = sweep_teacher_outputs } else {
  KS = config("teacher", "outputs"); if (strlen(KS) == 0) { KS = "1" } }
if (exists("sweep_teacher_loss")) { LS = sweep_teacher_loss } else {
  LS = config("teacher", "loss"); if (strlen(LS) == 0) { LS = "squared" } }
nK = (words(KS) > words(LS) ? words(KS) : words(LS))
Kof(j) = word(KS, words(KS) > 1 ? j : 1)
Lof(j) = word(LS, words(LS) > 1 ? j : 1)
selK(j) = (exists("sweep_teacher_outputs") ? is_num("teacher.outputs", Kof(j)) : 1) \
    && (exists("sweep_teacher_loss") ? is_str("teacher.loss", Lof(j)) : 1)
# the first group with its K: the bound depends on K only, so it is drawn
# (and named in the key) once per K, in that group's colour
first_K(j) = (j == 1 ? 1 : (sum [q=1:j-1] (Kof(q) eq Kof(j) ? 1 : 0)) == 0)
loss_label(s) = (s eq "cross_entropy") ? "cross-entropy" : s
group_label(j) = (nK > 1 && words(LS) > 1 ? loss_label(Lof(j)).", " : "")."K = ".Kof(j)
nmin = real(word(V, 1))
nmax = real(word(V, nv))
# the bound max{r : r(r+1)/2 <= K n} (a step function of n)
bound(K, n) = floor((-1 + sqrt(1 + 8 * K * floor(n + 1e-9))) / 2 + 1e-9)

# Rows of one K, sorted by N, in a table (column 6 = K index): lines join
set table $sel
do for [j=1:nK] {
  plot S using "teacher.n":"rank_star_mean":"rank_star_min":"rank_star_max":"rank_bound_mean":(j) with table if (selK(j))
}
unset table

do for [fmt in FORMATS] {
  eval begin_fig_size("rank_vs_n", fmt, (nK > 2 ? 1.5 : 1) * fig_w, fig_h)
  set datafile separator whitespace
  set datafile nocolumnheaders
  set xlabel "data points N"
  set ylabel "rank(δ^*)"
  set yrange [0:*]
  set ytics 1
  set mytics 1
  if (nK > 2) { set key outside right top Left reverse } else { set key top left Left reverse }
  set xrange [0:nmax * 1.02]
  set samples 1000
  plot \
    for [j=1:nK] $sel using 1:(pick($6 == j, $3)):(pick($6 == j, $4)) \
        with filledcurves @band_style fc rgb cat_color(j), \
    for [j=1:nK] (x >= nmin && first_K(j) ? bound(real(Kof(j)), x) : NaN) \
        with lines dt (6, 4) lw 1.2 lc rgb cat_color(j) \
        title (first_K(j) ? sprintf("max\\{r : r(r+1)/2 ≤ %sN\\}", (Kof(j) eq "1" ? "" : Kof(j))) : ""), \
    for [j=1:nK] $sel using 1:(pick($6 == j, $5)) \
        with points pt 6 ps 0.9 * PS lc rgb cat_color(j) notitle, \
    for [j=1:nK] $sel using 1:(pick($6 == j, $2)) \
        with linespoints lw 1.5 pt 7 ps 0.8 * PS lc rgb cat_color(j) title "rank(δ^*), ".group_label(j)
  eval end_fig
  set datafile separator ","
  set datafile columnheaders
  set ytics autofreq
  set mytics default
}
