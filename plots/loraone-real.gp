# loraone-real.gp: LoRA-One's Fig. 1(c) on real data (theory/THEORY.md 2.1):
# full fine-tuning, LoRA and LoRA-One on the pretrained network.
#   gnuplot -c plots/loraone-real.gp DIR     (or: loralab plot DIR)
# Reads DIR/trace_mean.csv (or trace.csv for one seed) and DIR/sweep.gp; writes
#   loss.{png,pdf}       training loss vs step (log y)
#   test_acc.{png,pdf}   accuracy on the target classes' test images vs step
# One panel per LoRA rank (the ranks of the non-full arms), full fine-tuning
# (optimizer full, whose rank is not used) drawn in every panel.  Lines: mean
# over seeds; bands: min..max over seeds.
if (ARGC < 1) { print "usage: gnuplot -c ", ARG0, " RESULTS_DIR"; exit status 1 }
DIR = ARG1
here = ARG0
while (strlen(here) > 0 && here[strlen(here):strlen(here)] ne "/") { here = here[1:strlen(here) - 1] }
load here."common.gp"
if (!exists("sweep_optimizer_method") || !exists("sweep_lora_rank") || !exists("sweep_init_method")) {
  print "loraone-real.gp: needs a zip over init.method, optimizer.method and lora.rank"
  exit status 1
}
T = means("trace")
Z = sweep_optimizer_method
Iz = sweep_init_method
Rz = sweep_lora_rank
nz = words(Z)

# The ranks of the LoRA arms (every arm whose optimizer is not full), in zip order.
RANKS = ""
do for [j=1:nz] {
  if (word(Z, j) ne "full" && word(Z, j) ne "full-adam" && word(Z, j) ne "full-adamw" \
      && strstrt(" ".RANKS." ", " ".word(Rz, j)." ") == 0) { RANKS = RANKS.(strlen(RANKS) ? " " : "").word(Rz, j) }
}
np = words(RANKS)
if (np == 0) { RANKS = "0"; np = 1 }

# The three arms and their colours: full fine-tuning, LoRA (lora + gd),
# LoRA-One (spectral + precgd); other (init, optimizer) pairs are not drawn.
ARMS = "full lora:gd spectral:precgd"
na = 3
arm_title(a) = a == 1 ? "full fine-tuning" : a == 2 ? "LoRA (GD)" : "LoRA-One (spectral + precGD)"

# One awk pass over the trace: block j = (p - 1) na + a - 1 for rank panel p
# and arm a holds "step,loss mean,min,max,test_acc mean,min,max" rows (the
# full arm's rows go to every panel; a missing block is one NaN row).
real_awk = 'function idx(list, v,   n, x, k) { n = split(list, x, " "); for (k = 1; k <= n; k++) if (x[k] == v) return k; return 0 } ' . \
  'function c(name, sfx) { return (name "_" sfx) in h ? $h[name "_" sfx] : $h[name] } ' . \
  'NR == 1 { for (k = 1; k <= NF; k++) h[$k] = k; next } ' . \
  '{ m = $h["optimizer.method"]; row = $h["step"] "," c("loss", "mean") "," c("loss", "min") "," c("loss", "max") "," ' . \
  '    c("test_acc", "mean") "," c("test_acc", "min") "," c("test_acc", "max") "\n"; ' . \
  '  if (m == "full") { for (p = 1; p <= np; p++) buf[(p - 1) * na] = buf[(p - 1) * na] row; next } ' . \
  '  a = idx(arms, $h["init.method"] ":" m); p = idx(ranks, $h["lora.rank"] + 0); if (!a || !p) next; ' . \
  '  j = (p - 1) * na + a - 1; buf[j] = buf[j] row } ' . \
  'END { print "$TR << EOD"; for (j = 0; j < np * na; j++) printf "%s\n\n", (j in buf) ? buf[j] : "NaN,NaN,NaN,NaN,NaN,NaN,NaN\n"; print "EOD" }'
T_cmd = T[1:1] eq "<" ? T[2:] : "cat '".T."'"
load sprintf("< %s | awk -F, -v arms='%s' -v ranks='%s' -v np=%d -v na=%d '%s'", \
  T_cmd, ARMS, RANKS, np, na, real_awk)
# ($TR has no header line: with columnheaders on, the first row of every block, step 0, would be taken for one)
set datafile nocolumnheaders
blk(p, a) = (p - 1) * na + a - 1
acolor(a) = cat_color(a == 1 ? 7 : a == 2 ? 1 : 2)

do for [fig in "loss test_acc"] {
  m = fig eq "loss" ? 2 : 5
  do for [fmt in FORMATS] {
    eval begin_fig_size(fig, fmt, (np > 1 ? 1.7 : 1.0) * fig_w, fig_h)
    set multiplot layout 1, np
    do for [p=1:np] {
      set title sprintf("r = %s", word(RANKS, p))
      set xlabel "step t"
      set xrange [0:*] noextend
      if (fig eq "loss") {
        set logscale y
        set format y logfmt
        set autoscale y
        set ylabel (p == 1 ? "training loss" : "")
        set key top right Left reverse font ",8"
      } else {
        unset logscale y
        set format y "%g"
        set autoscale y
        set ylabel (p == 1 ? "test accuracy (target classes)" : "")
        set key bottom right Left reverse font ",8"
      }
      if (p != np) { unset key }
      plot \
        for [a=1:na] $TR index blk(p, a) using 1:(column(m + 1)):(column(m + 2)) \
            with filledcurves @band_style fc rgb acolor(a), \
        for [a=1:na] $TR index blk(p, a) using 1:(column(m)) \
            with lines lw 1.4 lc rgb acolor(a) title arm_title(a)
    }
    unset title
    eval end_fig
    unset logscale y
    set format y "%g"
  }
}
