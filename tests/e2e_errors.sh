# e2e_errors.sh: bad input exits with status 2, names file:line:column where
# there is one, and writes nothing.
. "$(dirname "$0")/lib.sh"

# case NAME YAML FRAGMENT [ARGS...]: the experiment file NAME.yaml holds YAML
case_() {
  local name=$1 yaml=$2 frag=$3; shift 3
  printf '%s\n' "$yaml" >"$TMP/$name.yaml"
  expect_status 2 "$LORALAB" run "$TMP/$name.yaml" -o "$TMP/out-$name" --quiet "$@"
  if grep -qF -- "$frag" "$TMP/err"; then ok "message has '$frag'"; else
    bad "$name: message lacks '$frag': $(cat "$TMP/err")"; fi
  [ -e "$TMP/out-$name" ] && bad "$name: output folder was created" || true
}

case_ syntax    'teacher: {d: 10'                       'syntax.yaml:'
case_ unknown   $'teacher:\n  dd: 10'                   "unknown key 'teacher.dd'"
case_ suggest   $'optimizer:\n  lrr: 0.1'               "did you mean 'optimizer.lr'"
case_ where     $'teacher:\n  d: 10\n  kappa: 0.5'      'where.yaml:3:10'
case_ type      $'teacher:\n  d: ten'                   'teacher.d'
case_ negative_lr $'optimizer:\n  lr: -1'               'optimizer.lr'
case_ rank      $'teacher: {d: 10, k: 10}\nlora: {rank: 12}' 'lora.rank'
case_ init      $'init:\n  method: spectal'             'spectral'
case_ optim     $'optimizer:\n  method: adamax'         'precgd, full, adam, adamw, precadamw, full-adam, full-adamw'
# Adam's hyperparameters: 0 <= beta1, beta2 < 1, eps > 0, each with its place
case_ beta1     $'optimizer:\n  method: adamw\n  beta1: 1'     'beta1.yaml:3:10: optimizer.beta1 must be < 1 (got 1)'
case_ beta1_neg $'optimizer:\n  beta1: -0.1'                    'beta1_neg.yaml:2:10: optimizer.beta1 must be >= 0 (got -0.1)'
case_ beta2     $'optimizer:\n  method: adam\n  beta2: 1.5'    'beta2.yaml:3:10: optimizer.beta2 must be < 1 (got 1.5)'
case_ eps       $'optimizer:\n  method: adamw\n  eps: 0'       'eps.yaml:3:8: optimizer.eps must be > 0 (got 0)'
case_ eps_neg   $'optimizer: {method: precadamw, eps: -1e-8}'   'eps_neg.yaml:1:37: optimizer.eps must be > 0 (got -1e-8)'
case_ beta_set  'name: x'                                        '--set optimizer.beta2: must be < 1' --set optimizer.beta2=1
case_ activation $'teacher:\n  model: nonlinear\n  activation: relux' 'relu, leaky_relu, tanh, gelu, linear'
case_ model     $'teacher:\n  model: quadratic'         'linear, nonlinear, ntk'
case_ loraga    $'teacher: {d: 10, k: 10}\nlora: {rank: 6}\ninit: {method: lora-ga}' '2 lora.rank <= min(d, k)'
case_ badset    'name: x'                               "did you mean 'optimizer.lr'" --set optimizer.lrr=1
case_ setvalue  'name: x'                               '--set'  --set optimizer.lr=-2
case_ npy       $'teacher:\n  w0: missing.npy'          'missing.npy'
case_ stats     $'teacher:\n  stats: cholesky'         'auto, qr, gram'
case_ stats_nl  $'teacher:\n  model: nonlinear\n  stats: gram' 'gram statistics are for the linear teacher'
case_ stats_n   $'teacher: {d: 50, n: 40, stats: gram}' 'need n >= d (n = 40, d = 50)'
case_ stats_x   $'teacher:\n  x: [[1, 2], [3, 4], [5, 6]]\n  d: 2\n  k: 2\n  rank: 1\n  stats: gram\nlora: {rank: 1}' 'teacher.x is given, use qr'

# A Delta from a file (rank 3, written byte by byte by python3): its rank is
# the rank, and kappa, spectrum, scale describe nothing that runs.
if command -v python3 >/dev/null 2>&1; then
  python3 - "$TMP/d3.npy" <<'PY'
import struct, sys
hdr = "{'descr': '<f8', 'fortran_order': False, 'shape': (4, 3), }"
hdr += " " * (64 - (10 + len(hdr) + 1) % 64) + "\n"
vals = [3, 0, 0, 0, 2, 0, 0, 0, 1, 1, 1, 1]   # rows of a (4, 3) matrix of rank 3
with open(sys.argv[1], "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode())
    f.write(struct.pack("<12d", *vals))
PY
  printf 'teacher: {delta: d3.npy, n: 40}\nlora: {rank: 2}\noptimizer: {steps: 20}\n' >"$TMP/d3.yaml"
  case_ rank_file "$(cat "$TMP/d3.yaml")" "--set teacher.rank: is 2 but teacher.delta ($TMP/d3.npy) has numerical rank 3" --set teacher.rank=2
  case_ kappa_file "$(cat "$TMP/d3.yaml")" "--set teacher.kappa: describes the Delta the teacher draws, but teacher.delta is given ($TMP/d3.npy)" --set teacher.kappa=4
  expect_status 0 "$LORALAB" run "$TMP/d3.yaml" -o "$TMP/d3" --quiet
  if grep -qx '  rank: 3' "$TMP/d3/config.yaml" \
     && ! sed -n '/^teacher:/,/^lora:/p' "$TMP/d3/config.yaml" | grep -Eq '^  (kappa|spectrum|scale):' \
     && grep -qx '  # kappa, spectrum, scale: not used (teacher.delta is given)' "$TMP/d3/config.yaml"; then
    ok "config.yaml: rank 3 from the file, no kappa/spectrum/scale"
  else bad "config.yaml teacher: $(sed -n '/^teacher:/,/^lora:/p' "$TMP/d3/config.yaml")"; fi
  expect_status 0 "$LORALAB" run "$TMP/d3/config.yaml" -o "$TMP/d3-again" --quiet
  cmp -s "$TMP/d3/config.yaml" "$TMP/d3-again/config.yaml" && cmp -s "$TMP/d3/trace.csv" "$TMP/d3-again/trace.csv" \
    && ok "config.yaml reloads to the same experiment (same config.yaml and trace.csv)" || bad "config.yaml does not reload to the same run"
else
  echo "skip: python3 not found (file-given Delta checks)"
fi

expect_status 2 "$LORALAB" run "$SOURCE_ROOT/experiments/quickstart.yaml" -o /dev/null/out --quiet
grep -q 'cannot create directory /dev/null/out' "$TMP/err" && ok "unwritable output folder named" || bad "$(cat "$TMP/err")"
expect_status 2 "$LORALAB" run "$TMP/does-not-exist.yaml"
expect_status 2 "$LORALAB" frobnicate
expect_status 2 "$LORALAB" run
finish
