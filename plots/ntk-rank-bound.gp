# ntk-rank-bound.gp: rank of the convex optimum delta* against N (theory/THEORY.md
# section 7, N1-i).
#   gnuplot -c plots/ntk-rank-bound.gp DIR     (or: loralab plot DIR)
# Reads DIR/summary_mean.csv, DIR/sweep.gp; writes
#   rank_vs_n.{png,pdf}  rank_star vs N, one colour per K (teacher.outputs):
#                        mean over seeds (points), min..max (band), and the
#                        bound max{r : r(r+1)/2 <= K N} as a dashed step
#                        line, rank_bound of the summary as open circles on it
if (ARGC < 1) { print "usage: gnuplot -c ", ARG0, " RESULTS_DIR"; exit status 1 }
DIR = ARG1
here = ARG0
while (strlen(here) > 0 && here[strlen(here):strlen(here)] ne "/") { here = here[1:strlen(here) - 1] }
load here."common.gp"
if (!exists("sweep_teacher_n")) { print "ntk-rank-bound.gp: needs a sweep over teacher.n"; exit status 1 }

S = means("summary")
V = sweep_teacher_n
nv = words(V)
# K: swept (teacher.outputs) or the one value of the experiment
if (exists("sweep_teacher_outputs")) { KS = sweep_teacher_outputs } else {
  KS = config("teacher", "outputs"); if (strlen(KS) == 0) { KS = "1" } }
nK = words(KS)
selK(j) = exists("sweep_teacher_outputs") ? is_num("teacher.outputs", word(KS, j)) : 1
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
  eval begin_fig("rank_vs_n", fmt)
  set datafile separator whitespace
  set datafile nocolumnheaders
  set xlabel "data points N"
  set ylabel "rank(δ^*)"
  set yrange [0:*]
  set ytics 1
  set mytics 1
  set key top left Left reverse
  set xrange [0:nmax * 1.02]
  set samples 1000
  plot \
    for [j=1:nK] $sel using 1:(pick($6 == j, $3)):(pick($6 == j, $4)) \
        with filledcurves @band_style fc rgb cat_color(j), \
    for [j=1:nK] (x >= nmin ? bound(real(word(KS, j)), x) : NaN) \
        with lines dt (6, 4) lw 1.2 lc rgb cat_color(j) \
        title sprintf("max\\{r : r(r+1)/2 ≤ %sN\\}", (word(KS, j) eq "1" ? "" : word(KS, j))), \
    for [j=1:nK] $sel using 1:(pick($6 == j, $5)) \
        with points pt 6 ps 0.9 * PS lc rgb cat_color(j) notitle, \
    for [j=1:nK] $sel using 1:(pick($6 == j, $2)) \
        with linespoints lw 1.5 pt 7 ps 0.8 * PS lc rgb cat_color(j) title sprintf("rank(δ^*), K = %s", word(KS, j))
  eval end_fig
  set datafile separator ","
  set datafile columnheaders
  set ytics autofreq
  set mytics default
}
