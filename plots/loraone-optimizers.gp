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
r0 = 1
R0 = '(column("step") == 0 ? r0 = column("risk_mean") : r0)'

# The trace figures: risk / risk_0 and align_b on a log axis, align_a linear
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
        if (fig eq "risk") {
          plot \
            for [o=1:no] for [b=1:nb] T using (pick(sel(i, p, o, b), column("step"))):(column("risk_min") / @R0):(column("risk_max") / @R0) \
                with filledcurves @band_style fc rgb cat_color(o), \
            for [o=1:no] for [b=1:nb] T using (pick(sel(i, p, o, b), column("step"))):(column("risk_mean") / @R0) \
                with lines lw 1.3 dt dash(b) lc rgb cat_color(o) title (b == 1 ? olabel(word(OPTS, o)) : ""), \
            tol with lines dt (6, 4) lw 1 lc rgb theory_color title "tol"
        } else {
          plot \
            for [o=1:no] for [b=1:nb] T using (pick(sel(i, p, o, b), column("step"))):(column(fig."_min")):(column(fig."_max")) \
                with filledcurves @band_style fc rgb cat_color(o), \
            for [o=1:no] for [b=1:nb] T using (pick(sel(i, p, o, b), column("step"))):(column(fig."_mean")) \
                with lines lw 1.3 dt dash(b) lc rgb cat_color(o) title (b == 1 ? olabel(word(OPTS, o)) : "")
        }
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
