# loraone-toy2d.gp: LoRA-One's two-parameter toy (theory/THEORY.md L1-F3).
#   gnuplot -c plots/loraone-toy2d.gp DIR     (or: loralab plot DIR)
# Needs log.params: true (columns a_0_0, a_1_0, b_0_0 in trace.csv).
# Reads DIR/trace.csv, DIR/sweep.gp and beta (the inline
# teacher.delta) from DIR/config.yaml; writes
#   trajectory.{png,pdf}  the GD paths of (a1, a2, b) from each init (one line
#                         per seed; o = start, x = end of the run; the
#                         paths' shadows on the floor b = -3) and the minimiser set
#                         {a b = beta} = {(beta1/b, beta2/b, b)} (dashed); a
#                         run that ends off the set (risk > 1e-6) is labelled
#                         with its seed at its end
#   risk.{png,pdf}        risk vs step (log), one thin curve per init and seed
#                         (the seeds differ too much for a mean to say anything),
#                         the curves ending above 1e-6 labelled with their seed
# Every (init, seed) pair is one term of a single plot iteration (gnuplot 5.4
# does not take two nested `for` in one splot term), reading its own block of
# a datablock made by one awk pass (below): the 10-seed figures take about a
# second, not the minute that 140 passes over trace.csv took.
if (ARGC < 1) { print "usage: gnuplot -c ", ARG0, " RESULTS_DIR"; exit status 1 }
DIR = ARG1
here = ARG0
while (strlen(here) > 0 && here[strlen(here):strlen(here)] ne "/") { here = here[1:strlen(here) - 1] }
load here."common.gp"
if (!exists("sweep_init_method")) { print "loraone-toy2d.gp: needs a sweep over init.method"; exit status 1 }

T = DIR."/trace.csv"
V = sweep_init_method
n = words(V)

# beta = Delta (d = 2, k = 1) from the resolved config: "delta: [[2], [1]]"
beta = config("teacher", "delta")
do for [c in "[ ] ,"] { while (strstrt(beta, c) > 0) { i = strstrt(beta, c); beta = beta[1:i - 1]." ".beta[i + 1:] } }
if (words(beta) != 2) { print "loraone-toy2d.gp: teacher.delta in ", DIR, "/config.yaml is not an inline 2 x 1 matrix: ", beta; exit status 1 }
beta1 = real(word(beta, 1))
beta2 = real(word(beta, 2))

# Every seed's path is drawn. One awk pass over trace.csv sorts its rows into
# the datablock $P, one block per (init i, seed s) at index j = (i - 1) NS + s
# (inits in sweep order, seeds 0..smax; a missing pair is one NaN row), each
# block with its header line a1,a2,b,step,risk (columnheaders reads the first
# line of every block), and sets smax and tmax (the last step); every
# plot term then reads its block instead of the whole CSV.
toy_awk = 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next } ' . \
  '{ k = $h["init.method"] SUBSEP ($h["seed"] + 0); ' . \
  '  buf[k] = buf[k] $h["a_0_0"] "," $h["a_1_0"] "," $h["b_0_0"] "," $h["step"] "," $h["risk"] "\n"; ' . \
  '  if ($h["seed"] + 0 > sm) sm = $h["seed"] + 0; if ($h["step"] + 0 > tm) tm = $h["step"] + 0 } ' . \
  'END { print "smax = " sm + 0; print "tmax = " tm + 0; print "$P << EOD"; n = split(arms, A, " "); ' . \
  '  for (i = 1; i <= n; i++) for (s = 0; s <= sm; s++) { k = A[i] SUBSEP s; ' . \
  '    printf "a1,a2,b,step,risk\n%s\n\n", (k in buf) ? buf[k] : "NaN,NaN,NaN,NaN,NaN\n" } ' . \
  '  print "EOD" }'
load "< awk -F, -v arms='".V."' '".toy_awk."' '".T."'"
NS = int(smax) + 1
arm(j) = int(j / NS) + 1
sd(j) = j % NS
off_set = 1e-6        # a run ending with risk above this is labelled

# The minimiser set, one datablock per branch (b < 0, b > 0), inside the box
# [-bmax, bmax]^3
bmax = 3.0
bmin = (abs(beta1) > abs(beta2) ? abs(beta1) : abs(beta2)) / bmax
do for [branch in "-1 1"] {
  eval sprintf("set print $hyp%s", branch eq "-1" ? "neg" : "pos")
  print "a1,a2,b"
  do for [j=0:200] {
    b = real(branch) * (bmin + (bmax - bmin) * j / 200.0)
    print sprintf("%.9g,%.9g,%.9g", beta1 / b, beta2 / b, b)
  }
  unset print
}

# ---- trajectory (3-D) ------------------------------------------------------
do for [fmt in FORMATS] {
  eval begin_fig_size("trajectory", fmt, fig_w, 1.15 * fig_h)
  set view 64, 32, 1.18, 1
  set size 0.96, 0.92
  set origin 0.04, -0.04
  set xlabel "a_1" offset 0, -0.5
  set ylabel "a_2" offset 0, -0.5
  set zlabel "b" offset 1.5, 0
  set xyplane relative 0
  set border 4095 lw 0.5 lc rgb "#a0a0a0"
  set tics textcolor rgb "black"
  set grid xtics ytics ztics lw 0.5 lc rgb "#e0e0e0"
  set tics nomirror
  set xrange [-bmax:bmax]
  set yrange [-bmax:bmax]
  set zrange [-bmax:bmax]
  set xtics 1; set ytics 1; set ztics 1
  set key at screen 0.01, screen 0.99 left top Left reverse box opaque maxrows 3 width -2
  splot \
    $hyppos using "a1":"a2":"b" with lines dt (6, 4) lw 1.5 lc rgb theory_color title sprintf("a b = β = (%g, %g)^T", beta1, beta2), \
    $hypneg using "a1":"a2":"b" with lines dt (6, 4) lw 1.5 lc rgb theory_color notitle, \
    for [j=0:n*NS-1] $P index j using 1:2:3 \
        with lines lw 1.2 lc rgb cat_color(arm(j)) title (sd(j) == 0 ? init_label(word(V, arm(j))) : ""), \
    for [j=0:n*NS-1] $P index j using (pick($4 == 0, $1)):2:3 \
        with points pt 6 ps 1.0 * PS lw 1.5 lc rgb cat_color(arm(j)) notitle, \
    for [j=0:n*NS-1] $P index j using (pick($4 == tmax, $1)):2:3 \
        with points pt 2 ps 1.0 * PS lw 1.5 lc rgb cat_color(arm(j)) notitle, \
    for [j=0:n*NS-1] $P index j using (pick($4 == tmax && $5 > off_set, $1)):2:3:(sprintf("seed %d", sd(j))) \
        with labels left offset 0.8, 0 font ",9" tc rgb cat_color(arm(j)) notitle, \
    $hyppos using "a1":"a2":(-bmax) with lines lw 1 lc rgb "#c8c8c8" notitle, \
    $hypneg using "a1":"a2":(-bmax) with lines lw 1 lc rgb "#c8c8c8" notitle, \
    for [j=0:n*NS-1] $P index j using 1:2:(-bmax) \
        with lines lw 0.8 lc rgb cat_color(arm(j)) dt 1 notitle, \
    NaN with points pt 6 ps 1.0 * PS lw 1.5 lc rgb "black" title "start", \
    NaN with points pt 2 ps 1.0 * PS lw 1.5 lc rgb "black" title sprintf("step %d", tmax), \
    NaN with lines lw 1 lc rgb "#c8c8c8" title "shadows on b = −3"
  eval end_fig
  set border 3 lw 1 lc rgb "black"
  set grid xtics ytics lw 0.5 lc rgb "#e0e0e0"
  set xtics autofreq; set ytics autofreq
  set autoscale xy; set autoscale z
  set size 1, 1; set origin 0, 0
}

# ---- risk vs step ----------------------------------------------------------
do for [fmt in FORMATS] {
  eval begin_fig("risk", fmt)
  set xlabel "step t"
  set ylabel "risk  ½‖a_t b_t − β‖^2"
  set logscale y
  set format y logfmt
  set xrange [0:*] noextend
  set key at graph 0.98, graph 0.55 right center Left reverse title sprintf("initialisation, %d seeds each", NS)
  plot \
    for [j=0:n*NS-1] $P index j using 4:5 \
        with lines lw 1 lc rgb cat_color(arm(j)) title (sd(j) == 0 ? init_label(word(V, arm(j))) : ""), \
    for [j=0:n*NS-1] $P index j using (pick($4 == tmax && $5 > off_set, $4)):5:(sprintf("seed %d", sd(j))) \
        with labels right offset -0.5, (arm(j) == 1 ? 0.7 : -0.7) font ",9" tc rgb cat_color(arm(j)) notitle
  eval end_fig
  unset logscale y
  set format y "%g"
}
