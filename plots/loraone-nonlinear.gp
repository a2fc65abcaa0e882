# loraone-nonlinear.gp: ReLU teacher, spectral init + preconditioned GD
# against LoRA-One's Theorem 4.2 (theory/THEORY.md section 2, L1-T4.2).
#   gnuplot -c plots/loraone-nonlinear.gp DIR     (or: loralab plot DIR)
# Reads DIR/trace_mean.csv, DIR/sweep.gp (a zip over init.method, init.gamma,
# optimizer.method, optimizer.lr); writes
#   risk.{png,pdf}       risk vs step (log), two panels: spectral gamma = 2
#                        (the theorem's setting) and gamma = 1, one curve per
#                        precgd lr, the gd baseline (lora init) in both panels
#   test_loss.{png,pdf}  held-out test MSE vs step (log), every grid point
# Curves: mean over seeds; bands: min..max over seeds.
# The envelope: Theorem 4.2 bounds ||A_t B_t - Delta||_F by (1 - eta/4)^t
# times a constant; the risk is 1/2 of its square, so each precgd curve gets
# the dashed line (1 - eta/4)^(2t) risk_0, with risk_0 its own mean risk at
# step 0 (read from the curve's step-0 row).
if (ARGC < 1) { print "usage: gnuplot -c ", ARG0, " RESULTS_DIR"; exit status 1 }
DIR = ARG1
here = ARG0
while (strlen(here) > 0 && here[strlen(here):strlen(here)] ne "/") { here = here[1:strlen(here) - 1] }
load here."common.gp"
if (!exists("sweep_init_method") || !exists("sweep_init_gamma") || !exists("sweep_optimizer_method") || !exists("sweep_optimizer_lr")) {
  print "loraone-nonlinear.gp: needs a zip sweep over init.method, init.gamma, optimizer.method, optimizer.lr"; exit status 1 }

T = means("trace")
M = sweep_init_method; G = sweep_init_gamma; O = sweep_optimizer_method; L = sweep_optimizer_lr
n = words(M)
sel(i) = is_str("init.method", word(M, i)) && is_num("init.gamma", word(G, i)) \
      && is_str("optimizer.method", word(O, i)) && is_num("optimizer.lr", word(L, i))
is_pre(i) = (word(O, i) eq "precgd")
# Colour by lr among the precgd points (same lr, same colour in both panels);
# the baseline(s) in black
lr_rank(i) = sum [j=1:n] ((is_pre(j) && real(word(L, j)) < real(word(L, i)) && \
             (sum [m=1:j-1] ((is_pre(m) && real(word(L, m)) == real(word(L, j))) ? 1 : 0)) == 0) ? 1 : 0)
color(i) = is_pre(i) ? cat_color(lr_rank(i) + 1) : "#000000"
label(i) = is_pre(i) ? sprintf("precgd η = %s", word(L, i)) : \
  sprintf("%s init, %s η = %s", word(M, i), optim_label(word(O, i)), word(L, i))
# The envelope (1 - eta/4)^(2t) risk_0 of the current row, risk_0 taken from
# the step-0 row of the same grid point (rows come in step order)
r0 = NaN
env(i) = (column("step") == 0 ? r0 = column("risk_mean") : r0) * (1 - real(word(L, i)) / 4) ** (2 * column("step"))
# panel(i, g): spectral points of gamma g, and the non-spectral baselines
in_panel(i, g) = (word(M, i) ne "spectral") || real(word(G, i)) == g

# test_loss: the gamma = 1 points dotted
dashed(i) = (word(M, i) eq "spectral" && real(word(G, i)) != 2)
tl_label(i) = (word(M, i) eq "spectral" ? sprintf("γ = %s, ", word(G, i)) : "").label(i)

ymin = 1e-34
do for [fmt in FORMATS] {
  eval begin_fig_size("risk", fmt, 2 * fig_w, fig_h + 0.5)
  set multiplot layout 1, 2
  do for [g in "2 1"] {
    set title sprintf("spectral init, γ = %s", g)
    set xlabel "step t"
    set ylabel "risk  ½‖A_tB_t − Δ‖_F^2"
    set logscale y
    set format y logfmt
    set xrange [0:*] noextend
    set yrange [ymin:*]
    # one key for both panels, below them
    set bmargin 6.5
    if (g eq "2") { set key at screen 0.5, screen 0.005 center bottom horizontal maxcols 5 maxrows 1 width -3 Left reverse font ",9" } else { unset key }
    plot \
      for [i=1:n] T using "step":(in_panel(i, real(g)) ? pick(sel(i), column("risk_min")) : NaN):(in_panel(i, real(g)) ? pick(sel(i), column("risk_max")) : NaN) \
          with filledcurves @band_style fc rgb color(i) notitle, \
      for [i=1:n] T using "step":(in_panel(i, real(g)) ? pick(sel(i), column("risk_mean")) : NaN) \
          with lines lw 1.5 lc rgb color(i) title (in_panel(i, real(g)) ? label(i) : ""), \
      for [i=1:n] T using "step":((in_panel(i, real(g)) && is_pre(i) && sel(i)) ? env(i) : NaN) \
          with lines dt (6, 4) lw 1.2 lc rgb color(i) notitle, \
      NaN with lines dt (6, 4) lw 1.2 lc rgb theory_color title "(1 − η/4)^{2t} risk_0 (Thm 4.2)"
  }
  unset multiplot
  unset title
  set bmargin
  eval end_fig
}

do for [fmt in FORMATS] {
  eval begin_fig_size("test_loss", fmt, 1.45 * fig_w, fig_h)
  set xlabel "step t"
  set ylabel "test MSE (held-out, noise-free)"
  set logscale y
  set format y logfmt
  set xrange [0:*] noextend
  set yrange [ymin:*]
  set key outside right top Left reverse font ",8"
  plot \
    for [i=1:n] T using "step":(pick(sel(i), column("test_loss_min"))):(pick(sel(i), column("test_loss_max"))) \
        with filledcurves @band_style fc rgb color(i) notitle, \
    for [i=1:n] T using "step":(dashed(i) ? NaN : pick(sel(i), column("test_loss_mean"))) \
        with lines lw 1.5 lc rgb color(i) title (dashed(i) ? "" : tl_label(i)), \
    for [i=1:n] T using "step":(dashed(i) ? pick(sel(i), column("test_loss_mean")) : NaN) \
        with lines lw 1.5 dt (3, 2) lc rgb color(i) title (dashed(i) ? tl_label(i) : "")
  eval end_fig
}
