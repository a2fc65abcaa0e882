# e2e_bench.sh: `loralab bench` runs and reports (a smoke test: benchmarks
# print figures and are never timed by the tests).  The toy workload with one
# repetition must produce its row with positive times and a step rate, its
# split between steps and metrics in CPU time, the metric code alone
# (positive microseconds) and the NumPy comparison (or why it was skipped); the jobs workload
# reports its -j comparison; the minibatch workload its step time beside the
# batch's products alone (positive, with their ratio); bad arguments are exit 2.
# mlp (issue 17): its row, its floor, its data and its products' share of a
# step.  The header names OpenBLAS's kernels, with a hint when they are
# generic on a CPU with AVX2 / AVX-512.
# Floors (issue 18): the header gives the stream bandwidth (positive GB/s on
# one core and on all), and every workload row its floor in seconds and the
# ratio of its time to it (positive numbers) and which of flops or bytes binds.
. "$(dirname "$0")/lib.sh"

expect_status 0 "$LORALAB" bench --list
for w in toy layer wide-n relu minibatch ntk jobs mlp; do
  grep -q "^  $w " "$TMP/out" && ok "--list names $w" || bad "--list does not name $w"
done
expect_status 2 "$LORALAB" bench nosuch
grep -q "unknown workload 'nosuch'" "$TMP/err" && ok "unknown workload named" || bad "no message"
expect_status 2 "$LORALAB" bench --reps 0 toy

# one invocation: one dgemm and stream probe.  On a CPU with AVX2, OpenBLAS
# is told to use its generic Prescott kernels (ignored by an OpenBLAS built
# for one CPU), so that the header's hint can be checked.
avx2=0; grep -qw avx2 /proc/cpuinfo 2>/dev/null && avx2=1
if [ $avx2 = 1 ]; then export OPENBLAS_CORETYPE=Prescott; fi
expect_status 0 "$LORALAB" bench --reps 1 toy jobs minibatch mlp
unset OPENBLAS_CORETYPE
core=$(sed -n 's/^OpenBLAS kernels: \([A-Za-z0-9]*\).*/\1/p' "$TMP/out")
[ -n "$core" ] && ok "the header names OpenBLAS's kernels: $core" || bad "no OpenBLAS kernels line"
if [ $avx2 = 1 ] && [ "$core" = Prescott ]; then
  grep -q '^OpenBLAS kernels: Prescott.* (generic for this CPU.*OPENBLAS_CORETYPE=\(SkylakeX\|Haswell\)' "$TMP/out" \
    && ok "generic kernels on an AVX2 CPU: the hint names OPENBLAS_CORETYPE" \
    || bad "no OPENBLAS_CORETYPE hint for Prescott kernels on an AVX2 CPU"
fi
row=$(grep '^toy ' "$TMP/out")
if awk '{ exit !($2 > 0 && $4 > 0 && $5 > 0) }' <<<"$row"; then ok "toy row: $row"
else bad "toy row has no positive times: '$row'"; fi
grep -q '^  jobs: -j 1 .* ratio ' "$TMP/out" && ok "jobs reports its -j ratio" \
  || bad "no jobs ratio line"
# the toy's split: CPU seconds of both sweeps (positive) and the row's cost
# (a paired difference: a number, of either sign on a busy machine), then
# metrics_factors alone on both paths (positive microseconds)
line=$(grep '^  toy: CPU time of the sweep' "$TMP/out")
if awk '{ for (i = 1; i < NF; i++) if ($(i + 1) == "s" && !($i > 0)) exit 1
          for (i = 1; i < NF; i++) if ($i == "costs") c = $(i + 1)
          exit !(c ~ /^-?[0-9]+\.[0-9]$/ && /us of CPU .* by wall clock/) }' <<<"$line"
then ok "toy splits steps and metrics by CPU time: $line"; else bad "no toy metrics line: '$line'"; fi
line=$(grep '^  toy: metrics_factors alone' "$TMP/out")
if awk '{ n = 0; for (i = 1; i < NF; i++) if ($(i + 1) == "us") { n++; if (!($i > 0)) exit 1 }
          exit !(n == 2) }' <<<"$line"
then ok "toy times a row's metrics alone: $line"; else bad "no metrics-alone line: '$line'"; fi
line=$(grep '^  toy: .*NumPy' "$TMP/out")
if grep -q 'skipped' <<<"$line" || awk '{ exit !/s of CPU, [0-9.]+x loralab.s [0-9.]+ s \(wall: / }' <<<"$line"
then ok "toy's NumPy line: $line"; else bad "no NumPy line: '$line'"; fi
grep -q 'failed' "$TMP/out" && bad "a workload failed" || ok "no workload failed"
head=$(grep '^machine: ' "$TMP/out")
if awk '{ n = 0; for (i = 2; i <= NF; i++) if ($i == "GB/s") { n++; if (!($(i - 1) > 0)) exit 1 }
          exit !(n == 2 && /stream \(read-sum/) }' <<<"$head"
then ok "stream bandwidth in the header: $head"; else bad "no stream bandwidth: '$head'"; fi
floor_row() {   # $1: workload; fields 9, 10, 11: floor s > 0, x floor > 0, flops|bytes
  local row
  row=$(grep "^$1 " "$TMP/out")
  if awk '{ exit !(NF == 11 && $9 > 0 && $10 > 0 && ($11 == "flops" || $11 == "bytes")) }' <<<"$row"
  then ok "$1 row has its floor and ratio: $row"; else bad "$1 row lacks floor/ratio: '$row'"; fi
}
grep -q 'floor s *x floor *bound$' "$TMP/out" && ok "floor columns named" || bad "no floor columns"
floor_row toy
floor_row jobs

line=$(grep '^  minibatch: per step' "$TMP/out")
if awk '{ for (i = 1; i < NF; i++) if ($(i + 1) == "ms" && !($i > 0)) exit 1; exit !($NF > 0 && /products alone .* ms .* step \/ products = /) }' <<<"$line"
then ok "minibatch: step against its products: $line"; else bad "no minibatch line: '$line'"; fi
grep -q '^minibatch ' "$TMP/out" && ok "minibatch row" || bad "no minibatch row"
floor_row minibatch

# mlp (issue 17): its row with a step rate, its floor, the data it ran on,
# and the share of its matrix products in a step (a positive ratio)
row=$(grep '^mlp ' "$TMP/out")
if awk '{ exit !($2 > 0 && $4 > 0 && $5 > 0 && $6 > 0) }' <<<"$row"; then ok "mlp row: $row"
else bad "mlp row has no positive times or GFLOP/s: '$row'"; fi
floor_row mlp
grep -q '^  mlp: data: \(Fashion-MNIST\|synthetic\)' "$TMP/out" && ok "mlp names its data" \
  || bad "mlp does not say which data"
line=$(grep '^  mlp: per step' "$TMP/out")
if awk '{ for (i = 1; i < NF; i++) if ($(i + 1) == "ms" && !($i > 0)) exit 1; exit !($NF > 0 && /products alone .* ms .* share of a step = /) }' <<<"$line"
then ok "mlp: its products' share of a step: $line"; else bad "no mlp share line: '$line'"; fi
finish
