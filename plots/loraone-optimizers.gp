# loraone-optimizers.gp: GD, precgd, AdamW and preconditioned AdamW on three
# linear problems, from the lora and the spectral init (theory/THEORY.md 6.9).
#   gnuplot -c plots/loraone-optimizers.gp DIR     (or: loralab plot DIR)
# Reads DIR/trace_mean.csv, DIR/summary_mean.csv, DIR/sweep.gp; writes
#   risk.{png,pdf}          risk / risk_0 vs step (log), the tolerance dashed
#   align_a.{png,pdf}       sine of the largest angle between A_t and U_r*(G)
#   align_b.{png,pdf}       the same for B_t^T and V_r*(G) (log): ~1e-14 while
#                           B stays in row(G) (Theorem 3.1), O(1) when it leaves
#   steps_to_tol.{png,pdf}  steps to risk <= tol risk_0 per problem (log)
# The trace figures have one panel per (init, problem): rows lora / spectral,
# columns the problems of the zip (teacher.kappa, lora.rank), one colour per
# optimiser. Lines: mean over seeds; bands / error bars: min..max over seeds.
# With a sweep over optimizer.batch (minibatches), each batch size after the
# first is drawn dashed in the same colour.
if (ARGC < 1) { print "usage: gnuplot -c ", ARG0, " RESULTS_DIR"; exit status 1 }
DIR = ARG1
here = ARG0
while (strlen(here) > 0 && here[strlen(here):strlen(here)] ne "/") { here = here[1:strlen(here) - 1] }
load here."common.gp"
if (!exists("sweep_init_method") || !exists("sweep_optimizer_method") || !exists("sweep_teacher_kappa") \
    || !exists("sweep_lora_rank")) {
  print "loraone-optimizers.gp: needs sweeps over init.method and, zipped, teacher.kappa, lora.rank, optimizer.method"
  exit status 1
}

T = means("trace")
S = means("summary")
I = sweep_init_method
ni = words(I)
Z = sweep_optimizer_method      # the zip: entry j is (problem, optimiser)
nz = words(Z)
Kz = sweep_teacher_kappa
Rz = sweep_lora_rank
Bs = exists("sweep_optimizer_batch") ? sweep_optimizer_batch : "0"
nb = words(Bs)

# The distinct optimisers (in zip order) and problems (kappa, r) of the zip.
OPTS = ""
PROBS = ""
do for [j=1:nz] {
  if (strstrt(" ".OPTS." ", " ".word(Z, j)." ") == 0) { OPTS = OPTS.(strlen(OPTS) ? " " : "").word(Z, j) }
  pk = word(Kz, j).":".word(Rz, j)
  if (strstrt(" ".PROBS." ", " ".pk." ") == 0) { PROBS = PROBS.(strlen(PROBS) ? " " : "").pk }
}
no = words(OPTS)
np = words(PROBS)
prob_k(p) = real(substr(word(PROBS, p), 1, strstrt(word(PROBS, p), ":") - 1))
prob_r(p) = real(substr(word(PROBS, p), strstrt(word(PROBS, p), ":") + 1, strlen(word(PROBS, p))))
prob_label(p) = sprintf("κ = %g, r = %g", prob_k(p), prob_r(p))
olabel(s) = (s eq "adamw") ? "AdamW" : (s eq "precadamw") ? "preconditioned AdamW" : \
  (s eq "adam") ? "Adam" : optim_label(s)

# Row selection: init i, problem p, optimiser o, batch b
sel(i, p, o, b) = is_str("init.method", word(I, i)) && column("teacher.kappa") == prob_k(p) \
  && column("lora.rank") == prob_r(p) && is_str("optimizer.method", word(OPTS, o)) \
  && (nb == 1 || column("optimizer.batch") == real(word(Bs, b)))
dash(b) = b == 1 ? 1 : 2

tol = config("log", "risk_tol")
tol = (strlen(tol) > 0 ? real(tol) : 1e-20)

# One awk pass over the trace sorts its rows into the datablock $TR, one
# block per (init i, problem p, optimiser o, batch b) at index
#   j = (((i - 1) np + p - 1) no + o - 1) nb + b - 1
# (a missing combination is one NaN row), with the columns
#   step, risk/risk_0 (mean, min, max)  (comma-separated, as common.gp reads), align_a (mean, min, max), align_b (...)
# (risk_0: the mean risk at step 0 of the same block).  Every plot term then
# reads its own block: re-reading the whole CSV for each of the 2 x 3 x 4 x 2
# x 2 terms of a figure took minutes.
opt_awk = 'function idx(list, v,   n, a, k) { n = split(list, a, " "); for (k = 1; k <= n; k++) if (a[k] == v) return k; return 0 } ' . \
  'function c(name, sfx) { return (name "_" sfx) in h ? $h[name "_" sfx] : $h[name] } ' . \
  'NR == 1 { for (k = 1; k <= NF; k++) h[$k] = k; next } ' . \
  '{ i = idx(inits, $h["init.method"]); p = idx(probs, ($h["teacher.kappa"] + 0) ":" ($h["lora.rank"] + 0)); ' . \
  '  o = idx(opts, $h["optimizer.method"]); b = ("optimizer.batch" in h) ? idx(batches, $h["optimizer.batch"] + 0) : 1; ' . \
  '  if (!i || !p || !o || !b) next; j = (((i - 1) * np + p - 1) * no + o - 1) * nb + b - 1; ' . \
  '  if ($h["step"] + 0 == 0) r0[j] = c("risk", "mean"); s = (j in r0 && r0[j] > 0) ? r0[j] : 1; ' . \
  '  buf[j] = buf[j] $h["step"] "," c("risk", "mean") / s "," c("risk", "min") / s "," c("risk", "max") / s "," ' . \
  '    c("align_a", "mean") "," c("align_a", "min") "," c("align_a", "max") "," ' . \
  '    c("align_b", "mean") "," c("align_b", "min") "," c("align_b", "max") "\n" } ' . \
  'END { print "$TR << EOD"; for (j = 0; j < ni * np * no * nb; j++) printf "%s\n\n", (j in buf) ? buf[j] : "NaN,NaN,NaN,NaN,NaN,NaN,NaN,NaN,NaN,NaN\n"; print "EOD" }'
PROBS_AWK = ""
do for [p=1:np] { PROBS_AWK = PROBS_AWK.(p > 1 ? " " : "").sprintf("%g:%g", prob_k(p), prob_r(p)) }
BS_AWK = ""
do for [b=1:nb] { BS_AWK = BS_AWK.(b > 1 ? " " : "").sprintf("%g", real(word(Bs, b))) }
# T is a file, or (one seed) a "< awk ..." pipe from common.gp's means()
T_cmd = T[1:1] eq "<" ? T[2:] : "cat '".T."'"
load sprintf("< %s | awk -F, -v inits='%s' -v probs='%s' -v opts='%s' -v batches='%s' -v ni=%d -v np=%d -v no=%d -v nb=%d '%s'", \
  T_cmd, I, PROBS_AWK, OPTS, BS_AWK, ni, np, no, nb, opt_awk)
# $TR has no header lines: with common.gp's columnheaders on, gnuplot would
# take the first row of every block (step 0) for a header and drop it.
set datafile nocolumnheaders
blk(i, p, o, b) = (((i - 1) * np + p - 1) * no + o - 1) * nb + b - 1
fcol(fig) = fig eq "risk" ? 2 : fig eq "align_a" ? 5 : 8      # the figure's mean column in $TR

# The trace figures: risk / risk_0 and align_b on a log axis, align_a linear;
# minibatch runs (batch > 0) dashed in their optimiser's colour
do for [fig in "risk align_a align_b"] {
  do for [fmt in FORMATS] {
    eval begin_fig_size(fig, fmt, 2.0 * fig_w, 1.7 * fig_h)
    set multiplot layout ni, np
    do for [i=1:ni] {
      do for [p=1:np] {
        set title sprintf("%s init, %s", word(I, i), prob_label(p)) font ",9"
        set xlabel (i == ni ? "step t" : "")
        set xrange [0:*] noextend
        set xtics 500
        if (fig eq "align_a") {
          unset logscale y
          set format y "%g"
          set yrange [0:1.05]
          set ylabel (p == 1 ? "sin∠(A_t, U_{r*}(G))" : "")
        } else {
          set logscale y
          set format y logfmt
          if (fig eq "risk") { set yrange [1e-30:10]; set ylabel (p == 1 ? "risk / risk_0" : "") } \
          else { set yrange [1e-16:2]; set ylabel (p == 1 ? "sin∠(B_t^T, V_{r*}(G))" : "") }
        }
        if (i == 1 && p == np) { set key bottom right Left reverse font ",8" } else { unset key }
        m = fcol(fig)
        plot \
          for [o=1:no] for [b=1:nb] $TR index blk(i, p, o, b) using 1:(column(m + 1)):(column(m + 2)) \
              with filledcurves @band_style fc rgb cat_color(o), \
          for [o=1:no] for [b=1:nb] $TR index blk(i, p, o, b) using 1:(column(m)) \
              with lines lw 1.3 dt dash(b) lc rgb cat_color(o) \
              title (b == 1 ? olabel(word(OPTS, o)) : (o == 1 ? sprintf("(dashed: batch %s)", word(Bs, b)) : "")), \
          (fig eq "risk" ? tol : NaN) with lines dt (6, 4) lw 1 lc rgb theory_color title (fig eq "risk" ? "tol" : "")
      }
    }
    unset title
    eval end_fig
    unset logscale y
    set format y "%g"
    set autoscale y
    set xtics autofreq
  }
}

# ---- steps to tol per problem, one panel per init ----------------------------
set datafile columnheaders   # summary_mean.csv is read by column name
do for [fmt in FORMATS] {
  eval begin_fig_size("steps_to_tol", fmt, 1.7 * fig_w, fig_h)
  set multiplot layout 1, ni
  do for [i=1:ni] {
    set title sprintf("%s init", word(I, i))
    set xlabel ""
    set ylabel (i == 1 ? sprintf("steps to risk ≤ 10^{%d} risk_0", floor(log10(tol) + 0.5)) : "")
    set logscale y
    set format y logfmt
    set autoscale y
    set xrange [0.5:np + 0.5]
    set xtics () ; do for [p=1:np] { set xtics add (prob_label(p) p) }
    set xtics font ",8"
    if (i == ni) { set key top right Left reverse font ",8" } else { unset key }
    off(o, b) = (o - (no + 1) / 2.0) * 0.12 + (b - 1) * 0.04
    plot \
      for [o=1:no] for [b=1:nb] for [p=1:np] S using (pick(sel(i, p, o, b), p + off(o, b))):"steps_to_tol_mean":"steps_to_tol_min":"steps_to_tol_max" \
          with yerrorbars pt (b == 1 ? 7 : 6) ps 0.8 * PS lc rgb cat_color(o) title (b == 1 && p == 1 ? olabel(word(OPTS, o)) : "")
  }
  unset title
  eval end_fig
  unset logscale y
  set format y "%g"
  set xtics autofreq
}
