# ntk-spurious-ce.gp: the figure of ntk-spurious.gp for the cross-entropy runs
# (experiments/ntk-spurious-ce.yaml; theory/THEORY.md section 7.2).
#   gnuplot -c plots/ntk-spurious-ce.gp DIR     (or: loralab plot DIR)
if (ARGC < 1) { print "usage: gnuplot -c ", ARG0, " RESULTS_DIR"; exit status 1 }
here = ARG0
while (strlen(here) > 0 && here[strlen(here):strlen(here)] ne "/") { here = here[1:strlen(here) - 1] }
call here."ntk-spurious.gp" ARG1
