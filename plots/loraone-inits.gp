# loraone-inits.gp: initialisers under preconditioned GD (theory/THEORY.md L1-F4).
#   gnuplot -c plots/loraone-inits.gp DIR     (or: loralab plot DIR)
# Reads DIR/trace_mean.csv, DIR/sweep.gp; writes
#   risk.{png,pdf}  risk vs step (log), one curve per arm: an arm is an
#                   init.method, and, when the sweep zips init.normalize and
#                   init.gamma with it, its normalisation and gamma (the
#                   spectral init as the theorem states it, solid, and as the
#                   authors ship it, normalize: true with its small gamma,
#                   dashed; theory/THEORY.md section 3)
# Curves: mean over seeds; bands: min..max over seeds.
if (ARGC < 1) { print "usage: gnuplot -c ", ARG0, " RESULTS_DIR"; exit status 1 }
DIR = ARG1
here = ARG0
while (strlen(here) > 0 && here[strlen(here):strlen(here)] ne "/") { here = here[1:strlen(here) - 1] }
load here."common.gp"
if (!exists("sweep_init_method")) { print "loraone-inits.gp: needs a sweep over init.method"; exit status 1 }

T = means("trace")
V = sweep_init_method
n = words(V)
# init.normalize and init.gamma, when zipped with init.method (one word per arm)
zipped = exists("sweep_init_normalize") && exists("sweep_init_gamma")
if (zipped) { if (words(sweep_init_normalize) != n || words(sweep_init_gamma) != n) { \
  print "loraone-inits.gp: init.normalize and init.gamma must be zipped with init.method"; exit status 1 } }
NRM = zipped ? sweep_init_normalize : ""
GAM = zipped ? sweep_init_gamma : ""
shipped(i) = zipped && word(NRM, i) eq "true"
sel(i) = is_str("init.method", word(V, i)) \
  && (!zipped || (is_str("init.normalize", word(NRM, i)) && is_num("init.gamma", word(GAM, i))))
arm_label(i) = shipped(i) \
  ? sprintf("as shipped: γ = %.2g on G/‖G‖_{op}", real(word(GAM, i))) \
  : (zipped && word(V, i) eq "spectral" && real(word(GAM, i)) != 1) \
    ? sprintf("%s, γ = %g", init_label(word(V, i)), real(word(GAM, i))) : init_label(word(V, i))
arm_dash(i) = shipped(i) ? 2 : 1

do for [fmt in FORMATS] {
  eval begin_fig("risk", fmt)
  set xlabel "step t"
  set ylabel "risk  ½‖A_tB_t − Δ‖_F^2"
  set logscale y
  set format y logfmt
  set xrange [0:*] noextend
  set key at graph 0.99, graph 0.88 right top Left reverse title "initialisation"
  plot \
    for [i=1:n] T using "step":(pick(sel(i), column("risk_min"))):(pick(sel(i), column("risk_max"))) \
        with filledcurves @band_style fc rgb cat_color(i), \
    for [i=1:n] T using "step":(pick(sel(i), column("risk_mean"))) \
        with lines lw 1.5 dt arm_dash(i) lc rgb cat_color(i) title arm_label(i)
  eval end_fig
}
