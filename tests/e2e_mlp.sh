# e2e_mlp.sh: teacher.model: mlp from the command line, on a tiny .npy data
# set written here by python3 (4 classes, 8 inputs):
#  - full fine-tuning, full-adam with minibatches, LoRA (lora + gd) and
#    LoRA-One (spectral + precgd) all run; risk and err_op are nan, test_acc
#    is an accuracy, and every cell shows the same pretrained network
#    (pre_train_acc, pre_test_acc) from one cache file;
#  - the pretrained network is cached in DIR/cache: a rerun of every cell
#    reads it (the file is not rewritten: same inode) and gives the same bits;
#    deleted, it is recomputed to the same bytes; cut short, it is recomputed
#    and replaced; two workers share one pretraining; other data contents or
#    pretraining settings make another file;
#  - input errors exit 2 naming the key or the file: a class missing from the
#    data, labels and inputs of different lengths, teacher.n above the rows
#    there are, a repeated class, pooling .npy inputs, a missing folder.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null 2>&1 || { echo "skip: python3 not found"; exit 77; }
mkdir -p "$TMP/data" "$TMP/short" "$TMP/few"
python3 - "$TMP" <<'PY'
import random, struct, sys
tmp = sys.argv[1]
rng = random.Random(5)
d = 8
def npy(path, descr, shape, values, fmt):
    hdr = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else ""))
    hdr += " " * (64 - (10 + len(hdr) + 1) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode())
        f.write(struct.pack("<%d%s" % (len(values), fmt), *values))
def split(n, classes):
    y = [classes[i % len(classes)] for i in range(n)]
    X = [rng.gauss(0, 1) + (2.0 if j % 4 == c else 0.0) for c in y for j in range(d)]
    return X, y
def write(folder, ntr, nte, classes, cut_labels=False):
    for name, n in (("train", ntr), ("test", nte)):
        X, y = split(n, classes)
        npy("%s/x_%s.npy" % (folder, name), "<f8", (n, d), X, "d")
        if cut_labels and name == "train": y = y[:-1]
        npy("%s/y_%s.npy" % (folder, name), "<i8", (len(y),), y, "q")
write(tmp + "/data", 160, 80, [0, 1, 2, 3])
write(tmp + "/short", 160, 80, [0, 1, 2, 3], cut_labels=True)
write(tmp + "/few", 160, 80, [0, 1, 3])       # no example of class 2
PY
cat >"$TMP/real.yaml" <<EOF
name: real
teacher:
  model: mlp
  data: data
  hidden: 6
  source_classes: [1, 3]
  target_classes: [0, 2]
  n: 60
  n_test: 40
pretrain:
  epochs: 10
  batch: 16
  lr: 0.01
lora:
  rank: 2
optimizer:
  steps: 20
  lr: 0.05
log:
  every: 5
seeds: 2
sweep:
  zip:
    init.method: [lora, lora, lora, spectral]
    optimizer.method: [full, full-adam, gd, precgd]
    optimizer.batch: [0, 16, 0, 0]
EOF
cd "$TMP" || exit 1

expect_status 0 "$LORALAB" run real.yaml -o r1 -q
S=r1/summary.csv
[ "$(column $S status | sort -u)" = ok ] && [ "$(column $S status | wc -l)" = 8 ] \
  && ok "8 cells ok (full, full-adam with batches, lora+gd, spectral+precgd)" \
  || bad "statuses: $(column $S status | tr '\n' ' ')"
[ "$(column $S risk | sort -u)" = nan ] && [ "$(column $S err_op | sort -u)" = nan ] \
  && ok "risk, err_op nan (no ground truth)" || bad "risk/err_op not nan"
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
  { a = $h["test_acc"]; if (!(a >= 0 && a <= 1 && a * 40 == int(a * 40 + 0.5))) bad++ } END { exit bad > 0 }' $S \
  && ok "test_acc is a fraction of the 40 test rows" || bad "test_acc: $(column $S test_acc | tr '\n' ' ')"
[ "$(paste -d' ' <(column $S pre_train_acc) <(column $S pre_test_acc) | sort -u | wc -l)" = 1 ] \
  && awk -v a="$(column $S pre_test_acc | head -1)" 'BEGIN { exit !(a > 0.6 && a <= 1) }' \
  && ok "one pretrained network for every cell (pre_test_acc $(column $S pre_test_acc | head -1))" \
  || bad "pre_* columns: $(column $S pre_test_acc | tr '\n' ' ')"
nbin=$(ls r1/cache | grep -c '^mlp-.*\.bin$')
[ "$nbin" = 1 ] && ok "one cache file" || bad "$nbin cache files: $(ls r1/cache)"
BIN=$(ls r1/cache/mlp-*.bin | head -1)
cp "$BIN" saved.bin
ino=$(stat -c %i "$BIN")

# every cell again, the cache kept: read, not rewritten, the same bits
rm -rf r1/cells
expect_status 0 "$LORALAB" run real.yaml -o r1 -q --resume
[ "$(stat -c %i "$BIN")" = "$ino" ] && ok "cache read, not rewritten (same inode)" \
  || bad "cache file rewritten"
mkdir -p ref && cp r1/trace.csv r1/summary.csv ref/
# the cache deleted: recomputed to the same bytes, the same results
rm -rf r1/cells r1/cache/*
expect_status 0 "$LORALAB" run real.yaml -o r1 -q --resume
same_results ref r1 "fresh pretraining vs cached"
cmp -s saved.bin "$BIN" && ok "recomputed cache file identical" || bad "recomputed cache differs"
# cut short: not trusted, recomputed and replaced
truncate -s -100 "$BIN"
rm -rf r1/cells
expect_status 0 "$LORALAB" run real.yaml -o r1 -q --resume
same_results ref r1 "after a cut cache file"
cmp -s saved.bin "$BIN" && ok "cut cache file replaced" || bad "cut cache file not replaced"
# two workers, one pretraining between them
expect_status 0 "$LORALAB" run real.yaml -o r2 -q -j 2
same_results ref r2 "two workers"
cmp -s saved.bin r2/cache/"$(basename "$BIN")" && ok "two workers: the same cache file" \
  || bad "two workers: cache differs"
# another pretraining setting: another cache file
expect_status 0 "$LORALAB" run real.yaml -o r3 -q --set pretrain.seed=3 --set seeds=1 \
  --set 'sweep.zip.init.method=[lora]' --set 'sweep.zip.optimizer.method=[full]' \
  --set 'sweep.zip.optimizer.batch=[0]'
[ -e r3/cache/"$(basename "$BIN")" ] && bad "pretrain.seed not in the cache key" \
  || ok "pretrain.seed changes the cache key"

# the data's contents are in the key: other training inputs, another network
python3 - data/x_train.npy <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[-8] ^= 0x01
open(sys.argv[1], "wb").write(bytes(b))
PY
expect_status 0 "$LORALAB" run real.yaml -o r1 -q --resume
[ "$(ls r1/cache | grep -c '^mlp-.*\.bin$')" = 2 ] && ok "changed data: a second cache file" \
  || bad "changed data reused the cache: $(ls r1/cache)"

# input errors
expect_status 2 "$LORALAB" run real.yaml -o e1 --set teacher.data=few
grep -q "teacher.target_classes: .*y_train.npy.*no example has label 2" "$TMP/err" \
  && ok "a class missing from the data names the key and the file" || bad "message: $(cat "$TMP/err")"
expect_status 2 "$LORALAB" run real.yaml -o e2 --set teacher.data=short
grep -q "y_train.npy: 159 labels, but .*x_train.npy holds 160 rows" "$TMP/err" \
  && ok "labels/inputs length mismatch names both files" || bad "message: $(cat "$TMP/err")"
expect_status 2 "$LORALAB" run real.yaml -o e3 --set teacher.n=81
grep -q "teacher.n = 81 exceeds the 80 training rows of the target classes" "$TMP/err" \
  && ok "teacher.n above the rows there are" || bad "message: $(cat "$TMP/err")"
expect_status 2 "$LORALAB" run real.yaml -o e4 --set 'teacher.source_classes=[1, 1]'
grep -q "teacher.source_classes: entry 2 (1) repeats entry 1" "$TMP/err" \
  && ok "a repeated class" || bad "message: $(cat "$TMP/err")"
expect_status 2 "$LORALAB" run real.yaml -o e5 --set teacher.pool=2
grep -q "teacher.data: .*x_train.npy: teacher.pool 2 pools images" "$TMP/err" \
  && ok "pooling .npy inputs" || bad "message: $(cat "$TMP/err")"
sed 's/data: data/data: nowhere/' real.yaml >missing.yaml
expect_status 2 "$LORALAB" run missing.yaml -o e6
grep -q "missing.yaml:4:9: teacher.data: no data: .*nowhere" "$TMP/err" \
  && ok "a missing folder: file:line:col" || bad "message: $(cat "$TMP/err")"
[ ! -e e1/cells ] && [ ! -e e3/cells ] && ok "nothing run before the input errors" \
  || bad "cells written before an input error"
finish
