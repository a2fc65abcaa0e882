# e2e_ntk_mlp.sh: the ntk teacher's features: mlp (the pretrained network's
# Jacobians wrt W1 at the target-class points, never materialised) against
# the dense path on the same Jacobians written out as .npy files.
# A tiny .npy data set (d = 6 inputs, classes 0 .. 5; source classes 0, 1, 2
# -> K = 3 outputs, target classes 3, 4, 5 -> outputs 0, 1, 2), written by
# python3; a network with 5 hidden units pretrained on it.  For both losses:
#  - ntk_mlp_export (tests/ntk_mlp_export.c) writes features (N, K, d, h),
#    base f0 = f(x; W0) and targets (labels, one-hot under squared) of the
#    same cell by loops from the definitions; the ntk teacher run on those
#    files gives the same convex optimum (f_star, rank_star, cert_star) and
#    the same LoRA trajectory (loss, objective, gap at every logged step) as
#    features: mlp, to 1e-9 relative;
#  - the test set (n_test > 0): test_loss and test_acc at step 0 equal the
#    loss and accuracy of the pretrained network's outputs on the target test
#    rows computed here; risk is nan (no ground truth), pre_train_acc is set.
# The resolved config.yaml runs again to the same results.
# Refused with exit 2 and the key named: features: mlp next to
# teacher.targets, base, noise or a planted rank, outside the ntk teacher,
# and teacher.n / n_test beyond the target classes' rows (checked before any
# cell runs).
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null 2>&1 || { echo "skip: python3 not found"; exit 77; }
EXPORT=${NTK_MLP_EXPORT:?set NTK_MLP_EXPORT to the ntk_mlp_export helper}
mkdir -p "$TMP/data"
python3 - "$TMP/data" <<'PY'
import random, struct, sys
out = sys.argv[1]
rng = random.Random(11)
d = 6
def npy(path, descr, shape, values, fmt):
    hdr = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else ""))
    pad = 64 - (10 + len(hdr) + 1) % 64
    hdr = hdr + " " * pad + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode())
        f.write(struct.pack("<%d%s" % (len(values), fmt), *values))
means = [[rng.gauss(0, 1) for _ in range(d)] for _ in range(6)]
def split(name, per_class):
    X, y = [], []
    for i in range(6 * per_class):
        c = i % 6
        X.extend(m + 0.7 * rng.gauss(0, 1) for m in means[c])
        y.append(c)
    npy("%s/x_%s.npy" % (out, name), "<f8", (len(y), d), X, "d")
    npy("%s/y_%s.npy" % (out, name), "<i8", (len(y),), y, "q")
split("train", 12)   # 36 source rows, 36 target rows
split("test", 5)     # 15 target test rows
PY
cat >"$TMP/mlp.yaml" <<YAML
name: mlp
teacher: {model: ntk, features: mlp, data: $TMP/data, hidden: 5,
          source_classes: [0, 1, 2], target_classes: [3, 4, 5], n: 36, n_test: 0}
pretrain: {epochs: 30, batch: 12, lr: 0.01, seed: 3}
lora: {rank: 3}
init: {method: lora, alpha2: 0.01}
optimizer: {method: gd, lr: 0.05, steps: 300, weight_decay: 0.05}
convex: {steps: 20000, tol: 1.0e-10}
log: {every: 50}
YAML
# rel_close A B: |A - B| <= 1e-9 max(|A|, |B|, 1e-12)
rel_close() {
  awk -v a="$1" -v b="$2" 'function abs(x) { return x < 0 ? -x : x }
    BEGIN { s = abs(a) > abs(b) ? abs(a) : abs(b); if (s < 1e-12) s = 1e-12
            exit !(a == a && b == b && abs(a - b) <= 1e-9 * s) }'
}
for loss in squared cross_entropy; do
  expect_status 0 "$LORALAB" run "$TMP/mlp.yaml" -o "$TMP/m_$loss" --quiet --set teacher.loss=$loss
  mkdir -p "$TMP/x_$loss"
  expect_status 0 "$EXPORT" "$TMP/mlp.yaml" "$TMP/m_$loss/cache" "$TMP/x_$loss" 0 --set teacher.loss=$loss
  cat >"$TMP/file_$loss.yaml" <<YAML
name: file
teacher: {model: ntk, loss: $loss, features: $TMP/x_$loss/features.npy,
          targets: $TMP/x_$loss/targets.npy, base: $TMP/x_$loss/base.npy}
lora: {rank: 3}
init: {method: lora, alpha2: 0.01}
optimizer: {method: gd, lr: 0.05, steps: 300, weight_decay: 0.05}
convex: {steps: 20000, tol: 1.0e-10}
log: {every: 50}
YAML
  expect_status 0 "$LORALAB" run "$TMP/file_$loss.yaml" -o "$TMP/f_$loss" --quiet
  grep -qx '  d: 6' "$TMP/f_$loss/config.yaml" && grep -qx '  k: 5' "$TMP/f_$loss/config.yaml" \
    && grep -qx '  n: 36' "$TMP/f_$loss/config.yaml" && grep -qx '  outputs: 3' "$TMP/f_$loss/config.yaml" \
    && ok "$loss: exported features have shape (36, 3, 6, 5)" || bad "$loss: exported shape"
  rs=$(column "$TMP/m_$loss/summary.csv" rank_star)
  [ -n "$rs" ] && [ "$rs" -ge 1 ] 2>/dev/null && ok "$loss: rank(delta*) = $rs" || bad "$loss: rank_star '$rs'"
  for col in f_star rank_star cert_star test_loss_star loss objective gap cert; do
    a=$(column "$TMP/m_$loss/summary.csv" $col); b=$(column "$TMP/f_$loss/summary.csv" $col)
    if [ "$col" = test_loss_star ]; then   # no test set in either run
      [ "$a" = nan ] && [ "$b" = nan ] && ok "$loss: $col nan in both" || bad "$loss: $col $a vs $b"
      continue
    fi
    rel_close "$a" "$b" && ok "$loss: $col mlp $a = dense $b" || bad "$loss: $col mlp $a vs dense $b"
  done
  worst=$(paste -d, <(column "$TMP/m_$loss/trace.csv" loss) <(column "$TMP/f_$loss/trace.csv" loss) |
    awk -F, 'function abs(x) { return x < 0 ? -x : x }
      { r = abs($1 - $2) / (abs($2) > 1e-12 ? abs($2) : 1e-12); if (r > w) w = r; n++ }
      END { printf "%d %.3g\n", n, w }')
  set -- $worst
  [ "$1" -ge 7 ] && awk -v w="$2" 'BEGIN { exit !(w <= 1e-9) }' \
    && ok "$loss: LoRA loss trace of $1 steps agrees (worst relative $2)" || bad "$loss: traces: $worst"
done

# The resolved config.yaml leaves out the keys features: mlp fixes and runs
# again as it is, to the same results.
grep -Eq '^  (targets|base|noise):' "$TMP/m_squared/config.yaml" \
  && bad "config.yaml writes targets/base/noise next to features: mlp" \
  || ok "config.yaml leaves out targets, base, noise"
expect_status 0 "$LORALAB" run "$TMP/m_squared/config.yaml" -o "$TMP/again" --quiet
same_results "$TMP/m_squared" "$TMP/again" "config.yaml run again"

# The test set: test_loss at step 0 (delta = 0) is the pretrained network's
# loss on the target test rows, recomputed here from the outputs the export
# writes for them (test_base.npy, test_targets.npy).
for loss in squared cross_entropy; do
  expect_status 0 "$LORALAB" run "$TMP/mlp.yaml" -o "$TMP/t_$loss" --quiet --set teacher.n_test=15 \
    --set optimizer.steps=1 --set teacher.loss=$loss
  mkdir -p "$TMP/tx_$loss"
  expect_status 0 "$EXPORT" "$TMP/mlp.yaml" "$TMP/t_$loss/cache" "$TMP/tx_$loss" 0 \
    --set teacher.n_test=15 --set teacher.loss=$loss
  want=$(python3 - "$TMP/tx_$loss" $loss <<'PY'
import math, struct, sys
def npy(path):
    b = open(path, "rb").read()
    hl = struct.unpack("<H", b[8:10])[0]
    hdr = b[10:10 + hl].decode()
    shape = tuple(int(v) for v in hdr.split("(")[1].split(")")[0].split(",") if v.strip())
    n = 1
    for s in shape: n *= s
    return shape, struct.unpack("<%dd" % n, b[10 + hl:10 + hl + 8 * n])
(n, K), f0 = npy(sys.argv[1] + "/test_base.npy")
_, y = npy(sys.argv[1] + "/test_targets.npy")
L = 0.0
for i in range(n):
    z = f0[i * K:(i + 1) * K]
    if sys.argv[2] == "squared":
        L += 0.5 * sum((z[c] - y[i * K + c]) ** 2 for c in range(K))
    else:
        m = max(z)
        L += m + math.log(sum(math.exp(v - m) for v in z)) - z[int(y[i])]
hits = 0
for i in range(n):
    z = f0[i * K:(i + 1) * K]
    lab = int(y[i]) if sys.argv[2] != "squared" else max(range(K), key=lambda c: y[i * K + c])
    hits += max(range(K), key=lambda c: (z[c], -c)) == lab
print("%.17g %.17g" % (L / n, hits / n))
PY
)
  set -- $want
  got=$(column "$TMP/t_$loss/trace.csv" test_loss | head -1)
  rel_close "$got" "$1" && ok "$loss: test_loss at step 0 = the pretrained outputs' loss on the test rows ($got)" \
    || bad "$loss: test_loss at step 0 $got vs $1"
  acc=$(column "$TMP/t_$loss/trace.csv" test_acc | head -1)
  rel_close "$acc" "$2" && ok "$loss: test_acc at step 0 = the pretrained outputs' accuracy ($acc)" \
    || bad "$loss: test_acc at step 0 $acc vs $2"
  risk=$(column "$TMP/t_$loss/summary.csv" risk); pre=$(column "$TMP/t_$loss/summary.csv" pre_train_acc)
  [ "$risk" = nan ] && awk -v a="$pre" 'BEGIN { exit !(a > 0 && a <= 1) }' \
    && ok "$loss: risk nan (no ground truth), pre_train_acc $pre" || bad "$loss: risk '$risk', pre_train_acc '$pre'"
  tls=$(column "$TMP/t_$loss/summary.csv" test_loss_star)
  awk -v a="$tls" 'BEGIN { exit !(a == a && a > 0) }' && ok "$loss: test_loss_star = $tls" \
    || bad "$loss: test_loss_star '$tls'"
done

# Refused keys.
for kv in "teacher.targets=$TMP/x_squared/targets.npy" "teacher.base=zero" "teacher.noise=0.1"; do
  expect_status 2 "$LORALAB" run "$TMP/mlp.yaml" -o "$TMP/bad" --quiet --set "$kv"
  grep -q -- "${kv%%=*}.*does not apply with teacher.features: mlp" "$TMP/err" \
    && ok "features: mlp refuses ${kv%%=*}" || bad "${kv%%=*}: $(cat "$TMP/err")"
done
expect_status 2 "$LORALAB" run "$TMP/mlp.yaml" -o "$TMP/bad" --quiet --set teacher.rank=2
grep -q "teacher.rank.*no planted shift" "$TMP/err" && ok "features: mlp refuses a planted rank" \
  || bad "rank: $(cat "$TMP/err")"
sed 's/model: ntk, features: mlp/model: linear, features: mlp/' "$TMP/mlp.yaml" >"$TMP/lin.yaml"
expect_status 2 "$LORALAB" run "$TMP/lin.yaml" -o "$TMP/bad" --quiet
grep -q "lin.yaml:2:.*teacher.features: mlp features are the ntk teacher's" "$TMP/err" \
  && ok "features: mlp outside the ntk teacher: refused with its place" || bad "linear: $(cat "$TMP/err")"
expect_status 2 "$LORALAB" run "$TMP/mlp.yaml" -o "$TMP/bad" --quiet --set teacher.n=37
grep -q "teacher.n = 37 exceeds the 36 training rows of the target classes" "$TMP/err" \
  && ok "teacher.n beyond the target rows: input error" || bad "n: $(cat "$TMP/err")"
expect_status 2 "$LORALAB" run "$TMP/mlp.yaml" -o "$TMP/bad" --quiet --set teacher.n_test=16
grep -q "teacher.n_test = 16 exceeds the 15 test rows of the target classes" "$TMP/err" \
  && ok "teacher.n_test beyond the target test rows: input error" || bad "n_test: $(cat "$TMP/err")"
finish
