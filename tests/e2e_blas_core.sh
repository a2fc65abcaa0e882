# e2e_blas_core.sh: loralab replaces OpenBLAS's generic kernels on a CPU
# OpenBLAS did not recognise (src/blas_core.h).  Whatever this machine is, the
# kernels a run used and who chose them are in meta.yaml and the version
# line; OPENBLAS_CORETYPE set by hand and LORALAB_BLAS_CORE=keep are obeyed.
# Where OpenBLAS detects only Prescott on a CPU with AVX2 + FMA (as Debian
# 12's 0.3.21 on recent Intel Xeons), loralab runs itself again with the
# better kernels, with the same arguments and the same results up to rounding.
. "$(dirname "$0")/lib.sh"

cat >"$TMP/e.yaml" <<'YAML'
teacher: {d: 20, k: 12, n: 200, rank: 2}
lora: {rank: 3}
optimizer: {steps: 30}
YAML
meta_value() { sed -n "s/^  $2: //p" "$1/meta.yaml"; }

# the user's choice is kept and said so
OPENBLAS_CORETYPE=Prescott expect_status 0 "$LORALAB" run "$TMP/e.yaml" -o "$TMP/user" --quiet
by=$(meta_value "$TMP/user" core_chosen_by)
[ "$by" = OPENBLAS_CORETYPE ] && ok "OPENBLAS_CORETYPE set: core_chosen_by $by" \
  || bad "OPENBLAS_CORETYPE set, but core_chosen_by '$by'"

# LORALAB_BLAS_CORE=keep: OpenBLAS's own detection
LORALAB_BLAS_CORE=keep expect_status 0 "$LORALAB" run "$TMP/e.yaml" -o "$TMP/keep" --quiet
detected=$(meta_value "$TMP/keep" core)
by=$(meta_value "$TMP/keep" core_chosen_by)
[ "$by" = openblas ] && [ -n "$detected" ] && ok "keep: OpenBLAS's choice $detected" \
  || bad "keep: core '$detected' chosen by '$by'"

# the default
expect_status 0 "$LORALAB" run "$TMP/e.yaml" -o "$TMP/auto" --quiet
core=$(meta_value "$TMP/auto" core)
by=$(meta_value "$TMP/auto" core_chosen_by)
avx2=0; grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo && avx2=1
if [ "$detected" = Prescott ] && [ $avx2 = 1 ] && [ "$(meta_value "$TMP/keep" config | grep -c DYNAMIC_ARCH)" = 1 ]; then
  [ "$by" = loralab ] && [ "$core" != Prescott ] && [ "$(meta_value "$TMP/auto" core_detected)" = Prescott ] \
    && ok "generic kernels on an AVX2 CPU replaced: $core (core_detected Prescott)" \
    || bad "generic kernels kept on an AVX2 CPU: core '$core', chosen by '$by'"
  expect_status 0 "$LORALAB" version
  grep -q "kernels $core (set by loralab: OpenBLAS detected Prescott" "$TMP/out" \
    && ok "version names the kernels and who chose them" || bad "version line: $(cat "$TMP/out")"
  # same run, other kernels: the same losses up to rounding
  paste -d, <(column "$TMP/keep/trace.csv" loss) <(column "$TMP/auto/trace.csv" loss) |
    awk -F, '{ d = $1 - $2; if (d < 0) d = -d; if (d > 1e-10 * ($1 > 1e-300 ? $1 : 1)) exit 1 }' \
    && ok "the losses agree to 1e-10 across the kernels" || bad "losses differ across kernels"
else
  [ "$by" = openblas ] && [ "$core" = "$detected" ] \
    && ok "kernels OpenBLAS chose kept ($core; detected $detected, AVX2+FMA $avx2)" \
    || bad "core '$core' chosen by '$by' where OpenBLAS detected '$detected'"
fi
exit $((fails > 0))
