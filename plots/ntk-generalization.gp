# ntk-generalization.gp: test loss against N for LoRA at the rank where GD
# reaches the convex optimum (theory/THEORY.md section 7, N1-iii).
#   gnuplot -c plots/ntk-generalization.gp DIR     (or: loralab plot DIR)
# Reads DIR/summary_mean.csv, DIR/sweep.gp; writes
#   test_loss.{png,pdf}  test_loss (clean targets: the planted model's is 0)
#                        and the training loss vs N, log-log, mean over seeds,
#                        band min..max; each point labelled with its LoRA
#                        rank r, and the test loss of the convex optimum
#                        delta* (full fine-tuning, test_loss_star) dashed.
if (ARGC < 1) { print "usage: gnuplot -c ", ARG0, " RESULTS_DIR"; exit status 1 }
DIR = ARG1
here = ARG0
while (strlen(here) > 0 && here[strlen(here):strlen(here)] ne "/") { here = here[1:strlen(here) - 1] }
load here."common.gp"
if (!exists("sweep_teacher_n")) { print "ntk-generalization.gp: needs a sweep over teacher.n"; exit status 1 }

S = means("summary")
V = sweep_teacher_n
n = words(V)
nmin = real(word(V, 1))
nmax = real(word(V, n))
rconst = config("lora", "rank")

do for [fmt in FORMATS] {
  eval begin_fig("test_loss", fmt)
  set xlabel "data points N"
  set ylabel "loss"
  set logscale xy
  set xrange [nmin / 1.3:nmax * 1.3]
  set xtics () ; do for [i=1:n] { set xtics add (word(V, i) real(word(V, i))) }
  set mxtics default
  set format y logfmt
  set autoscale y
  set offsets 0, 0, graph 0.1, graph 0.1
  set key bottom left Left reverse
  plot \
    S using "teacher.n":"test_loss_min":"test_loss_max" with filledcurves @band_style fc rgb cat_color(1), \
    S using "teacher.n":"test_loss_mean" with linespoints lw 1.5 pt 7 ps 0.8 * PS lc rgb cat_color(1) \
        title "test loss, LoRA", \
    S using "teacher.n":"test_loss_star_mean" with lines dt 2 lw 1.5 lc rgb "black" \
        title "test loss, full fine-tuning ({/Symbol d}^*)", \
    S using "teacher.n":"test_loss_mean":(exists("sweep_lora_rank") ? sprintf("r=%d", column("lora.rank")) : "r=".rconst) \
        with labels offset 0, 0.9 font ",7" tc rgb cat_color(1), \
    S using "teacher.n":"loss_min":"loss_max" with filledcurves @band_style fc rgb cat_color(2), \
    S using "teacher.n":"loss_mean" with linespoints lw 1.5 pt 5 ps 0.8 * PS lc rgb cat_color(2) \
        title "training loss"
  eval end_fig
  unset logscale xy
  set offsets 0, 0, 0, 0
  set format y "%g"
}
