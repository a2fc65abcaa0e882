# e2e_ntk_files.sh: the ntk teacher with features, targets and base outputs
# from .npy files (the layout a user exports from a real network).  The files
# are written byte by byte by python3 (independent of src/npy.c):
#  - the loss at step 0 (delta = 0: z = f0) equals 1/(2N) sum (f0 - y)^2 computed here;
#  - Fortran-ordered 4-D features give the same trace as C-ordered ones;
#  - cross-entropy labels as (N,) indices and as (N, K) one-hot rows agree;
#  - n, outputs, d, k and rank 0 come from the files' shapes: an experiment
#    that names only the files runs, and writing them out changes nothing;
#  - a value beside a file that disagrees with it, files that disagree with
#    each other, a wrong shape, or a planted rank with file targets, is an
#    input error (exit 2) naming both; a file given with --set outranks the
#    dimensions the experiment file wrote.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null 2>&1 || { echo "skip: python3 not found"; exit 77; }
python3 - "$TMP" <<'PY'
import random, struct, sys
tmp = sys.argv[1]
N, K, d, k = 6, 2, 4, 3
rng = random.Random(7)
def npy(path, shape, values, fortran=False):
    hdr = "{'descr': '<f8', 'fortran_order': %s, 'shape': (%s), }" % (
        "True" if fortran else "False", ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else ""))
    pad = 64 - (10 + len(hdr) + 1) % 64
    hdr = hdr + " " * pad + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode())
        f.write(struct.pack("<%dd" % len(values), *values))
G = [[[[rng.gauss(0, 1) for _ in range(k)] for _ in range(d)] for _ in range(K)] for _ in range(N)]
flat_c = [G[i][c][a][b] for i in range(N) for c in range(K) for a in range(d) for b in range(k)]
flat_f = [G[i][c][a][b] for b in range(k) for a in range(d) for c in range(K) for i in range(N)]
npy(tmp + "/phi_c.npy", (N, K, d, k), flat_c)
npy(tmp + "/phi_f.npy", (N, K, d, k), flat_f, fortran=True)
y = [[rng.gauss(0, 1) for _ in range(K)] for _ in range(N)]
f0 = [[rng.gauss(0, 1) for _ in range(K)] for _ in range(N)]
npy(tmp + "/y.npy", (N, K), [v for r in y for v in r])
npy(tmp + "/f0.npy", (N, K), [v for r in f0 for v in r])
labels = [rng.randrange(K) for _ in range(N)]
npy(tmp + "/labels.npy", (N,), [float(l) for l in labels])
npy(tmp + "/onehot.npy", (N, K), [1.0 if c == l else 0.0 for l in labels for c in range(K)])
npy(tmp + "/bad.npy", (N, K, d), flat_c[: N * K * d])
npy(tmp + "/phi5.npy", (N, K, 5, k), [rng.gauss(0, 1) for _ in range(N * K * 5 * k)])
npy(tmp + "/y5.npy", (5, K), [rng.gauss(0, 1) for _ in range(5 * K)])
loss0 = sum((f0[i][c] - y[i][c]) ** 2 for i in range(N) for c in range(K)) / (2 * N)
open(tmp + "/loss0", "w").write("%.17g\n" % loss0)
PY
# Only the files: n, outputs, d, k and rank come from their shapes.
cat >"$TMP/f.yaml" <<YAML
teacher: {model: ntk,
          features: $TMP/phi_c.npy, targets: $TMP/y.npy, base: $TMP/f0.npy}
lora: {rank: 2}
init: {method: lora, alpha2: 0.01}
optimizer: {method: gd, lr: 0.05, steps: 200, weight_decay: 0.01}
log: {every: 50}
YAML
expect_status 0 "$LORALAB" run "$TMP/f.yaml" -o "$TMP/c" --quiet
got=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "loss") c = i; next } NR == 2 { print $c }' "$TMP/c/trace.csv")
awk -v a="$got" -v b="$(cat "$TMP/loss0")" 'BEGIN { exit !(a - b < 1e-12 * b && b - a < 1e-12 * b) }' \
  && ok "loss at step 0 = 1/(2N) sum (f0 - y)^2 ($got)" || bad "loss0 $got vs $(cat "$TMP/loss0")"
grep -q 'features: .*phi_c.npy' "$TMP/c/config.yaml" && ok "config.yaml records the features file" || bad "config features"
dims=$(awk '/^teacher:/ { t = 1; next } /^[a-z]/ { t = 0 } t && /^  (d|k|n|outputs|rank):/ { printf "%s ", $0 }' "$TMP/c/config.yaml")
[ "$dims" = "  d: 4   k: 3   n: 6   rank: 0   outputs: 2 " ] && ok "config.yaml: d 4, k 3, n 6, outputs 2, rank 0 from the files" \
  || bad "config.yaml dimensions: '$dims'"
# The same dimensions written out: the same run.
sed 's|teacher: {model: ntk,|teacher: {model: ntk, d: 4, k: 3, n: 6, outputs: 2, rank: 0,|' "$TMP/f.yaml" >"$TMP/dims.yaml"
expect_status 0 "$LORALAB" run "$TMP/dims.yaml" -o "$TMP/dims" --quiet
cmp -s "$TMP/c/trace.csv" "$TMP/dims/trace.csv" && ok "dimensions written out = taken from the files" || bad "traces differ"
# A value beside a file must agree with it; files must agree with each other.
sed 's|teacher: {model: ntk,|teacher: {model: ntk, d: 5,|' "$TMP/f.yaml" >"$TMP/d5.yaml"
expect_status 2 "$LORALAB" run "$TMP/d5.yaml" -o "$TMP/d5" --quiet
grep -q "d5.yaml:1:26: teacher.d is 5 but teacher.features ($TMP/phi_c.npy) has shape (6, 2, 4, 3)" "$TMP/err" \
  && ok "d beside the features file: both named, with file:line:col" || bad "$(cat "$TMP/err")"
expect_status 2 "$LORALAB" run "$TMP/f.yaml" -o "$TMP/k5" --quiet --set teacher.outputs=3
grep -q -- "--set teacher.outputs: is 3 but teacher.features ($TMP/phi_c.npy) has shape (6, 2, 4, 3)" "$TMP/err" \
  && ok "--set outputs against the file: both named" || bad "$(cat "$TMP/err")"
expect_status 2 "$LORALAB" run "$TMP/f.yaml" -o "$TMP/y5" --quiet --set teacher.targets="$TMP/y5.npy"
grep -q -- "--set teacher.targets: ($TMP/y5.npy) has shape (5, 2), so n = 5, but teacher.features ($TMP/phi_c.npy) has shape (6, 2, 4, 3)" "$TMP/err" \
  && ok "targets vs features: both named" || bad "$(cat "$TMP/err")"
# A file given with --set outranks the dimensions the experiment file wrote.
expect_status 0 "$LORALAB" run "$TMP/dims.yaml" -o "$TMP/phi5" --quiet --set teacher.features="$TMP/phi5.npy"
grep -qx '  d: 5' "$TMP/phi5/config.yaml" && ok "--set features replaces the file's d" || bad "d after --set features"
sed "s|phi_c.npy|phi_f.npy|" "$TMP/f.yaml" >"$TMP/ff.yaml"
expect_status 0 "$LORALAB" run "$TMP/ff.yaml" -o "$TMP/f" --quiet
# (the cell column aside: ids hash the data files' bytes, which differ)
cmp -s <(cut -d, -f2- "$TMP/c/trace.csv") <(cut -d, -f2- "$TMP/f/trace.csv") && ok "Fortran-ordered features = C-ordered" || bad "Fortran vs C traces differ"
sed "s|targets: $TMP/y.npy|targets: $TMP/labels.npy|; s|teacher: {|teacher: {loss: cross_entropy, |" "$TMP/f.yaml" >"$TMP/l.yaml"
sed "s|labels.npy|onehot.npy|" "$TMP/l.yaml" >"$TMP/o.yaml"
expect_status 0 "$LORALAB" run "$TMP/l.yaml" -o "$TMP/l" --quiet
expect_status 0 "$LORALAB" run "$TMP/o.yaml" -o "$TMP/o" --quiet
cmp -s <(cut -d, -f2- "$TMP/l/trace.csv") <(cut -d, -f2- "$TMP/o/trace.csv") && ok "labels (N,) = one-hot (N, K)" || bad "labels vs one-hot differ"
sed "s|phi_c.npy|bad.npy|" "$TMP/f.yaml" >"$TMP/bad.yaml"
expect_status 2 "$LORALAB" run "$TMP/bad.yaml" -o "$TMP/bad" --quiet
grep -q "teacher.features: $TMP/bad.npy has shape (6, 2, 4); it must be (N, K, d, k)" "$TMP/err" && ok "shape error named" || bad "$(cat "$TMP/err")"
[ -e "$TMP/bad" ] && bad "output folder written on bad input" || ok "nothing written"
expect_status 2 "$LORALAB" run "$TMP/f.yaml" -o "$TMP/rank" --quiet --set teacher.rank=2
grep -q -- "--set teacher.rank: is 2 but teacher.targets ($TMP/y.npy) comes from a file" "$TMP/err" \
  && ok "planted rank with file targets refused" || bad "$(cat "$TMP/err")"
finish
