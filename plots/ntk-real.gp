# ntk-real.gp: [N1]'s rank bound and threshold on the kernel of a network
# pretrained on real data (theory/THEORY.md section 7.4, N1-i-real, N1-ii-real).
#   gnuplot -c plots/ntk-real.gp DIR     (or: loralab plot DIR)
# Reads DIR/summary.csv (every seed's row) once, through awk, and
# DIR/config.yaml, DIR/sweep.gp; writes
#   rank_vs_n.{png,pdf}   rank(delta*) against N, one colour per loss: the
#                         seeds' mean (points), min..max (error bars), the
#                         bound max{r : r(r+1)/2 <= K N} (dashed steps) and
#                         min(d, k) (dotted), from the cells that take a
#                         single LoRA step (optimizer.steps 1: the convex
#                         reference is all they are for)
#   gap_vs_rank.{png,pdf} LoRA's final relative gap (F - F*) / F* against its
#                         rank r, one panel per loss, one colour per N (the
#                         cells with optimizer.steps > 1): the largest gap
#                         over seeds (filled points), the smallest (open),
#                         gaps below 1e-15 drawn at 1e-15; the threshold
#                         r(r+1)/2 > K N of each N as a vertical dashed line,
#                         the gap tolerance of status global (1e-6) dotted
if (ARGC < 1) { print "usage: gnuplot -c ", ARG0, " RESULTS_DIR"; exit status 1 }
DIR = ARG1
here = ARG0
while (strlen(here) > 0 && here[strlen(here):strlen(here)] ne "/") { here = here[1:strlen(here) - 1] }
load here."common.gp"
if (!exists("sweep_teacher_n") || !exists("sweep_lora_rank") || !exists("sweep_optimizer_steps")) {
  print "ntk-real.gp: needs a sweep over teacher.n, lora.rank and optimizer.steps (zipped)"
  exit status 1
}
LS = exists("sweep_teacher_loss") ? sweep_teacher_loss : config("teacher", "loss")
if (strlen(LS) == 0) { LS = "squared" }
nl = words(LS)
K = real(config("teacher", "outputs"))
dd = real(config("teacher", "d"))
kk = real(config("teacher", "k"))
mindk = dd < kk ? dd : kk
loss_label(s) = (s eq "cross_entropy") ? "cross-entropy" : s
# the bound max{r : r(r+1)/2 <= K n} and the threshold min{r : r(r+1)/2 > K n}
bound(n) = floor((-1 + sqrt(1 + 8 * K * floor(n + 1e-9))) / 2 + 1e-9)
threshold(n) = bound(n) + 1

# The N of the LoRA cells (steps > 1), in sweep order, without repeats.
Z = sweep_teacher_n
Zs = sweep_optimizer_steps
NS = ""
do for [j=1:words(Z)] {
  if (real(word(Zs, j)) > 1 && strstrt(" ".NS." ", " ".word(Z, j)." ") == 0) {
    NS = NS.(strlen(NS) ? " " : "").word(Z, j)
  }
}
nn = words(NS)

# One awk pass over summary.csv.  $RK: one block per loss l (index l - 1)
# of rows  N, mean, min, max of rank_star over the seeds of the cells with
# steps 1, sorted by N.  $GP: one block per (loss l, N index q) (index
# (l - 1) nn + q - 1) of rows  r, max gap, min gap (clipped at 1e-15),
# sorted by r.  A missing combination is one NaN row.
real_awk = 'function idx(list, v,   n, a, k) { n = split(list, a, " "); for (k = 1; k <= n; k++) if (a[k] == v) return k; return 0 } ' . \
  'function clip(g) { return g < 1e-15 ? 1e-15 : g } ' . \
  'NR == 1 { for (k = 1; k <= NF; k++) h[$k] = k; m = split("teacher.n lora.rank optimizer.steps rank_star gap", need, " "); ' . \
  '  for (k = 1; k <= m; k++) if (!(need[k] in h)) { print "ntk-real.gp: summary.csv has no column " need[k] > "/dev/stderr"; exit 1 } next } ' . \
  '{ l = ("teacher.loss" in h) ? idx(losses, $h["teacher.loss"]) : 1; if (!l) next; ' . \
  '  n = $h["teacher.n"] + 0; r = $h["lora.rank"] + 0; ' . \
  '  if ($h["optimizer.steps"] + 0 <= 1) { key = l SUBSEP n; v = $h["rank_star"] + 0; ' . \
  '    if (!(key in cnt)) { cnt[key] = 0; lo[key] = v; hi[key] = v; ns[l] = ns[l] " " n } ' . \
  '    cnt[key]++; sum[key] += v; if (v < lo[key]) lo[key] = v; if (v > hi[key]) hi[key] = v; next } ' . \
  '  q = idx(nlist, n); if (!q) next; g = clip($h["gap"] + 0); key = l SUBSEP q SUBSEP r; ' . \
  '  if (!(key in gmax)) { gmax[key] = g; gmin[key] = g; rs[l, q] = rs[l, q] " " r } ' . \
  '  if (g > gmax[key]) gmax[key] = g; if (g < gmin[key]) gmin[key] = g } ' . \
  'function sorted(s, a,   m, i, j, t) { m = split(s, a, " "); for (i = 2; i <= m; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t } return m } ' . \
  'END { print "$RK << EOD"; for (l = 1; l <= nl; l++) { m = sorted(ns[l], a); if (!m) print "NaN NaN NaN NaN"; ' . \
  '        for (i = 1; i <= m; i++) { key = l SUBSEP a[i]; print a[i], sum[key] / cnt[key], lo[key], hi[key] } print ""; print "" } print "EOD"; ' . \
  '      print "$GP << EOD"; for (l = 1; l <= nl; l++) for (q = 1; q <= nn; q++) { m = sorted(rs[l, q], a); if (!m) print "NaN NaN NaN"; ' . \
  '        for (i = 1; i <= m; i++) { key = l SUBSEP q SUBSEP a[i]; print a[i], gmax[key], gmin[key] } print ""; print "" } print "EOD" }'
load sprintf("< awk -F, -v losses='%s' -v nlist='%s' -v nl=%d -v nn=%d '%s' '%s/summary.csv'", \
  LS, NS, nl, nn, real_awk, DIR)

set datafile separator whitespace
set datafile nocolumnheaders
rmax = 1
do for [j=1:words(sweep_lora_rank)] { if (real(word(sweep_lora_rank, j)) > rmax) { rmax = real(word(sweep_lora_rank, j)) } }
nmax = real(word(Z, 1))
do for [j=1:words(Z)] { if (real(word(Z, j)) > nmax) { nmax = real(word(Z, j)) } }

do for [fmt in FORMATS] {
  eval begin_fig("rank_vs_n", fmt)
  set xlabel "target images N"
  set ylabel "rank(δ^*)"
  set xrange [0:nmax * 1.05]
  set yrange [0:mindk * 1.15]
  set key at graph 0.98, graph 0.8 right top Left reverse font ",8"
  set samples 1000
  plot \
    (x >= 1 ? bound(x) : NaN) with lines dt (6, 4) lw 1.2 lc rgb theory_color \
        title sprintf("max\\{r : r(r+1)/2 ≤ %gN\\}", K), \
    mindk with lines dt (2, 3) lw 1 lc rgb theory_color title sprintf("min(d, k) = %g", mindk), \
    for [l=1:nl] $RK index (l - 1) using 1:2:3:4 with yerrorbars pt 7 ps 0.8 * PS lw 1.2 \
        lc rgb cat_color(l) title "rank(δ^*), ".loss_label(word(LS, l)), \
    for [l=1:nl] $RK index (l - 1) using 1:2 with lines lw 1.2 lc rgb cat_color(l) notitle
  eval end_fig
}

do for [fmt in FORMATS] {
  eval begin_fig_size("gap_vs_rank", fmt, (nl > 1 ? 1.8 : 1) * fig_w, fig_h)
  set multiplot layout 1, nl
  do for [l=1:nl] {
    set title loss_label(word(LS, l)) font ",9"
    set xlabel "LoRA rank r"
    set ylabel (l == 1 ? "(F - F^*) / F^* at the end" : "")
    set logscale y
    set format y logfmt
    set yrange [5e-16:10]
    set xrange [0:rmax + 1]
    if (l == nl) { set key top right Left reverse font ",8" } else { unset key }
    plot \
      1e-6 with lines dt (2, 3) lw 1 lc rgb theory_color title "status global: gap ≤ 10^{-6}", \
      for [q=1:nn] '+' every ::0::0 using (threshold(real(word(NS, q)))):(0):(0):(1) axes x1y2 \
          with vectors nohead dt (6, 4) lw 1 lc rgb cat_color(q) notitle, \
      for [q=1:nn] $GP index ((l - 1) * nn + q - 1) using 1:2 with linespoints pt 7 ps 0.8 * PS lw 1.2 \
          lc rgb cat_color(q) title sprintf("N = %s (dashed: r(r+1)/2 > %gN)", word(NS, q), K), \
      for [q=1:nn] $GP index ((l - 1) * nn + q - 1) using 1:3 with points pt 6 ps 0.8 * PS \
          lc rgb cat_color(q) notitle
  }
  unset multiplot
  unset title
  eval end_fig
  unset logscale y
  set format y "%g"
}
