# ntk-threshold.gp: how often LoRA reaches the convex optimum F* on a grid of
# N and r (theory/THEORY.md section 7, N1-ii).
#   gnuplot -c plots/ntk-threshold.gp DIR     (or: loralab plot DIR)
# Reads DIR/summary.csv (status per seed), DIR/summary_mean.csv (rank_star),
# DIR/sweep.gp, teacher.outputs from DIR/config.yaml; writes
#   global_fraction.{png,pdf}  heatmap of the fraction of seeds with status
#                              `global` per (N, r), one panel per init, with
#                              the curve r(r+1)/2 = K N (above it N1-ii says
#                              every seed reaches F*) and the mean
#                              rank(delta*) per N (below it none can)
if (ARGC < 1) { print "usage: gnuplot -c ", ARG0, " RESULTS_DIR"; exit status 1 }
DIR = ARG1
here = ARG0
while (strlen(here) > 0 && here[strlen(here):strlen(here)] ne "/") { here = here[1:strlen(here) - 1] }
load here."common.gp"
if (!exists("sweep_teacher_n")) { print "ntk-threshold.gp: needs a sweep over teacher.n"; exit status 1 }
if (!exists("sweep_lora_rank")) { print "ntk-threshold.gp: needs a sweep over lora.rank"; exit status 1 }

S1 = DIR."/summary.csv"
S = means("summary")
NV = sweep_teacher_n
nn = words(NV)
RV = sweep_lora_rank
nr = words(RV)
if (exists("sweep_init_method")) { IM = sweep_init_method } else { IM = config("init", "method") }
ni = words(IM)
seli(m) = exists("sweep_init_method") ? is_str("init.method", word(IM, m)) : 1
Kout = config("teacher", "outputs")
Kout = (strlen(Kout) > 0 ? real(Kout) : 1)
Loss = config("teacher", "loss")
loss_note = (Loss eq "cross_entropy") ? sprintf(" · cross-entropy, K = %d", Kout) \
    : (Kout > 1 ? sprintf(" · K = %d", Kout) : "")

# Fraction of seeds with status global per (init, N, r): $grid rows
#   init-index  N  r  fraction  seeds
set print $grid
do for [m=1:ni] {
  do for [i=1:nn] {
    do for [j=1:nr] {
      cnt = 0; glob = 0
      set table $dummy
      plot S1 using ((seli(m) && is_num("teacher.n", word(NV, i)) && is_num("lora.rank", word(RV, j))) \
          ? (cnt = cnt + 1, glob = glob + (strcol("status") eq "global"), 0) : NaN) with table
      unset table
      if (cnt > 0) { print sprintf("%d %s %s %.6g %d", m, word(NV, i), word(RV, j), glob / real(cnt), cnt) }
    }
  }
}
unset print
# Mean rank(delta*) per N (from the first init and the first r: the convex
# problem does not depend on them)
set table $rstar
plot S using "teacher.n":"rank_star_mean" with table \
    if (seli(1) && is_num("lora.rank", word(RV, 1)))
unset table

# cell half-widths: half the smallest gap between neighbouring sweep values
dn = 1e30; do for [i=2:nn] { g = real(word(NV, i)) - real(word(NV, i - 1)); dn = (g < dn ? g : dn) }
dn = (nn > 1 ? dn / 2 : 0.5)
nlo = real(word(NV, 1)) - dn
nhi = real(word(NV, nn)) + dn
rlo = real(word(RV, 1)) - 0.5
rhi = real(word(RV, nr)) + 0.5
thr(n) = (-1 + sqrt(1 + 8 * Kout * n)) / 2      # r with r(r+1)/2 = K N

do for [fmt in FORMATS] {
  eval begin_fig_size("global_fraction", fmt, (ni > 1 ? 1.7 : 1) * fig_w, fig_h)
  set palette defined (0 "#b2182b", 0.5 "#f7e08f", 1 "#1a9850")
  set cbrange [0:1]
  set cbtics 0.25
  set datafile separator whitespace
  set datafile nocolumnheaders
  if (ni > 1) { set multiplot layout 1, ni }
  do for [m=1:ni] {
    set title init_label(word(IM, m)).loss_note
    set xlabel "data points N"
    set ylabel (m == 1 ? "LoRA rank r" : "")
    set xrange [nlo:nhi]
    set yrange [rlo:rhi]
    set xtics () ; do for [i=1:nn] { set xtics add (word(NV, i) real(word(NV, i))) }
    set ytics () ; do for [j=1:nr] { set ytics add (word(RV, j) real(word(RV, j))) }
    set mxtics 1; set mytics 1
    unset grid
    if (m == ni) { set colorbox; set cblabel "fraction of seeds reaching F^*" } else { unset colorbox }
    set key top left Left reverse opaque
    set samples 400
    plot \
      $grid using (pick($1 == m, $2)):3:($2 - dn):($2 + dn):($3 - 0.5):($3 + 0.5):(pick($1 == m, $4)) \
          with boxxyerror fs solid 1.0 noborder fc palette, \
      thr(x) with lines lw 2 lc rgb "#000000" title "r(r+1)/2 = KN", \
      $rstar using 1:2 with linespoints lw 2 dt (6, 3) pt 7 ps 0.7 * PS lc rgb "#2b5fad" title "rank(δ^*) (mean)"
  }
  unset title
  eval end_fig
  set datafile separator ","
  set datafile columnheaders
  set xtics autofreq; set ytics autofreq; set mxtics default; set mytics default
  set grid xtics ytics
}
