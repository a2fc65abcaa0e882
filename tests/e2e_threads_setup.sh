# e2e_threads_setup.sh: a single cell gives the same bytes with 1 and 2 BLAS
# threads (README "Threads and reproducibility"): trace.csv (every column,
# align_a and align_b included), summary.csv up to its timings, and the final
# matrices A, B, W and G (log.save), for
#   - linear with qr statistics and spectral init (test set on), and with
#     full fine-tuning; linear with gram statistics (X^T X, Cholesky) and
#     spectral init;
#   - nonlinear with spectral init (G = -grad L(W0) over all N rows) and with
#     full fine-tuning (every step a dense evaluation over all N rows);
#   - ntk with spectral init (d = 130, k = 100: the SVD of G is dgesdd's);
#   - mlp (a two-layer network pretrained on a small .npy data set written
#     here by python3) with spectral init and with full fine-tuning, and the
#     ntk teacher on that network's kernel (features: mlp: products over all
#     N rows at every step).
# N is a few thousand rows: OpenBLAS 0.3.21's threaded dgemm, dgeqrf, dpotrf
# and dgesdd give other last bits than its single-threaded ones at these
# sizes, so a set-up or a dense step left to them fails here.  The cell in a
# -j 2 sweep (BLAS on one thread per cell) gives the same trace as alone.
. "$(dirname "$0")/lib.sh"

run() { "$LORALAB" run "$@" -q >"$TMP/out" 2>"$TMP/err" || { bad "run $*: $(head -3 "$TMP/err")"; return 1; }; }

# same_cell NAME DIR1 DIR2: identical trace.csv, summary.csv up to timings,
# and .npy files
same_cell() {
  local diff="" f
  cmp -s "$2/trace.csv" "$3/trace.csv" || diff="trace.csv"
  [ "$(strip_seconds "$2/summary.csv")" = "$(strip_seconds "$3/summary.csv")" ] || diff="$diff summary.csv"
  for f in "$2"/npy/*.npy; do
    cmp -s "$f" "$3/npy/${f##*/}" || diff="$diff ${f##*/}"
  done
  [ "$(ls "$2/npy" | wc -l)" -ge 2 ] || diff="$diff (too few .npy files)"
  [ "$(wc -l <"$2/trace.csv")" -ge 4 ] || diff="$diff (too few trace rows)"
  if [ -z "$diff" ]; then ok "$1: 1 and 2 BLAS threads give the same bytes"
  else bad "$1: 1 and 2 BLAS threads differ in: $diff"; fi
}

# check NAME: run $TMP/NAME.yaml alone on 1 and on 2 BLAS threads, compare
check() {
  OPENBLAS_NUM_THREADS=1 run "$TMP/$1.yaml" -o "$TMP/$1.t1" \
    && OPENBLAS_NUM_THREADS=2 run "$TMP/$1.yaml" -o "$TMP/$1.t2" \
    && same_cell "$1" "$TMP/$1.t1" "$TMP/$1.t2"
}

# cell NAME TEACHER INIT OPTIMIZER: write $TMP/NAME.yaml (6 steps, logged
# every 2, final matrices saved)
cell() {
  printf 'teacher: %s\nlora: {rank: 3}\n%s\noptimizer: {%s, lr: 0.05, steps: 6}\n%s\n' \
    "$2" "$3" "$4" 'log: {every: 2, save: [a, b, w, g]}' >"$TMP/$1.yaml"
}
spectral='init: {method: spectral}'
lin='{model: linear, d: 48, k: 32, n: 6000, rank: 2, noise: 0.1, stats: qr, n_test: 3000}'
cell linear-qr "$lin" "$spectral" 'method: gd'
cell linear-full "$lin" '' 'method: full'
cell linear-gram '{model: linear, d: 300, k: 64, n: 8000, rank: 2, noise: 0.1, stats: gram}' \
  "$spectral" 'method: gd'
cell nonlinear '{model: nonlinear, activation: gelu, d: 48, k: 32, n: 6000, rank: 2, noise: 0.1, n_test: 3000}' \
  "$spectral" 'method: gd'
cell nonlinear-full '{model: nonlinear, activation: relu, d: 48, k: 32, n: 6000, rank: 2, noise: 0.1, n_test: 3000}' \
  '' 'method: full'
cell ntk '{model: ntk, d: 130, k: 100, n: 200, outputs: 1, rank: 3, noise: 0.1}' "$spectral" 'method: gd'
for c in linear-qr linear-full linear-gram nonlinear nonlinear-full ntk; do check "$c"; done

# the nonlinear cell inside a -j 2 sweep (each cell on one BLAS thread) gives
# the trace of the cell alone on 2 threads (columns from step on)
{ cat "$TMP/nonlinear.yaml"; echo 'sweep: {optimizer.lr: [0.05, 0.02]}'; } >"$TMP/sweep.yaml"
from_step() {   # from_step FILE [LR]: rows (of optimizer.lr = LR), columns from step on
  awk -F, -v lr="${2:-}" 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i }
    NR == 1 || lr == "" || $h["optimizer.lr"] == lr {
      o = ""; for (i = h["step"]; i <= NF; i++) o = o "," $i; print o }' "$1"
}
run "$TMP/sweep.yaml" -o "$TMP/sweep" -j 2 \
  && { [ "$(from_step "$TMP/sweep/trace.csv" 0.05)" = "$(from_step "$TMP/nonlinear.t2/trace.csv")" ] \
         && [ "$(from_step "$TMP/sweep/trace.csv" 0.05 | wc -l)" -ge 4 ] \
         && ok "nonlinear: the cell in a -j 2 sweep = the cell alone on 2 BLAS threads" \
         || bad "nonlinear: the -j 2 sweep's cell differs from the cell alone"; }

# mlp: a small data set (d = 64 inputs, 4 classes) written by python3
if command -v python3 >/dev/null 2>&1; then
  mkdir -p "$TMP/data"
  python3 - "$TMP/data" <<'PY'
import random, struct, sys
out = sys.argv[1]
rng = random.Random(7)
d = 64
def npy(path, descr, shape, values, fmt):
    hdr = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else ""))
    hdr += " " * (64 - (10 + len(hdr) + 1) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode())
        f.write(struct.pack("<%d%s" % (len(values), fmt), *values))
for name, n in (("train", 12000), ("test", 2000)):
    y = [i % 4 for i in range(n)]
    X = [rng.gauss(0, 1) + (1.0 if j % 4 == c else 0.0) for c in y for j in range(d)]
    npy("%s/x_%s.npy" % (out, name), "<f8", (n, d), X, "d")
    npy("%s/y_%s.npy" % (out, name), "<i8", (n,), y, "q")
PY
  mlp="{model: mlp, data: $TMP/data, hidden: 48, source_classes: [1, 3], target_classes: [0, 2], n: 5000, n_test: 1000}"
  cell mlp "$mlp" "$spectral" 'method: gd'
  cell mlp-full "$mlp" '' 'method: full'
  cell ntk-mlp "{model: ntk, features: mlp, data: $TMP/data, hidden: 48, source_classes: [1, 3], target_classes: [0, 2], n: 5000, n_test: 0}" \
    "$spectral" 'method: gd'
  for c in mlp mlp-full ntk-mlp; do
    echo 'pretrain: {epochs: 1, batch: 500, lr: 0.01}' >>"$TMP/$c.yaml"
    check "$c"
  done
else
  echo "skip: python3 not found (mlp cells)"
fi

[ "$fails" -eq 0 ]
