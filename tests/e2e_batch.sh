# e2e_batch.sh: minibatches (optimizer.batch; README "Minibatches").
#   - the trace ends with the columns batch_loss, test_acc; batch_loss equals loss
#     for full-batch runs;
#   - batch: N reproduces full-batch training to 1e-12 relative, trace value
#     by trace value, for nonlinear (gd, full, adamw, full-adam), linear with qr statistics
#     (gd, precgd, full) and ntk (squared: gd, full; cross-entropy: gd);
#   - the logged loss is the full training loss: equal at step 0 whatever the
#     batch, while a true minibatch's batch_loss differs from it;
#   - minibatch runs are deterministic and identical with -j 1 and -j 2, and
#     a single cell's (spectral init, every trace column) with 1 and 2 BLAS
#     threads;
#   - the batch order does not depend on optimizer.lr: with a learning rate so
#     small that the iterate never moves (1e-300), every step's batch_loss is
#     the initial point's loss on that step's batch, and it is the same,
#     bit for bit, for two learning rates (and varies from step to step);
#   - bad values exit 2 naming file:line:col (batch > n, batch with gram
#     statistics, batch < 0).
. "$(dirname "$0")/lib.sh"

run() { "$LORALAB" run "$@" -q >"$TMP/out" 2>"$TMP/err" || { bad "run $*: $(head -3 "$TMP/err")"; return 1; }; }

# compare TRACE N: the rows of the batch-0 cells against the batch-N cells of
# the same method, seed and step: |a - b| <= 1e-12 max(|a|, |b|, m) with m the
# column's largest magnitude in the pair of cells (angles and gradients that
# are rounding noise, ~1e-15, at some steps); loss and risk without the floor.
# Prints "worst-relative-difference rows-compared".
compare() {
  awk -F, -v N="$2" '
    NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; first = h["loss"]; nf = NF; next }
    { b = $h["optimizer.batch"]; if (b != 0 && b != N) next
      m = ("optimizer.method" in h) ? $h["optimizer.method"] : "-"
      key = m SUBSEP $h["seed"] SUBSEP $h["step"]; keys[key] = 1
      for (i = first; i <= nf; i++) { v[b == 0, key, i] = $i; a = $i < 0 ? -$i : $i
        if ($i != "nan" && a > mx[m, i]) mx[m, i] = a } }
    END { worst = 0; rows = 0
      for (key in keys) { split(key, kk, SUBSEP); rows++
        for (i = first; i <= nf; i++) {
          x = v[1, key, i]; y = v[0, key, i]
          if (x == "nan" || y == "nan") { if (x != y) worst = 1; continue }
          s = x < 0 ? -x : x; t = y < 0 ? -y : y; if (t > s) s = t
          if (i != h["loss"] && i != h["risk"] && mx[kk[1], i] > s) s = mx[kk[1], i]
          d = x - y; if (d < 0) d = -d
          if (s > 0 && d / s > worst) worst = d / s } }
      printf "%.3g %d\n", worst, rows }' "$1"
}

same_to_1e12() {  # same_to_1e12 WHAT TRACE N WANT_ROWS
  local got; got=$(compare "$2" "$3")
  if awk -v g="$got" -v want="$4" 'BEGIN { split(g, v, " "); exit !(v[1] <= 1e-12 && v[2] == want) }'
  then ok "$1: batch = N reproduces full batch (worst rel diff, rows: $got)"
  else bad "$1: batch = N differs from full batch (worst rel diff, rows: $got; wanted $4 rows)"; fi
}

# 1. batch: N against batch: 0, and a true minibatch alongside.  (linear: lora-ga
# shifts the base; lora.rank = r* so that align_a is the angle of A's whole
# column space -- with r > r* it is that of A's top r* singular vectors, which
# lora-ga's equal singular values leave ill-determined after one step.  The
# batch path's direct residual X W - Y is less accurate than qr's statistics
# near the optimum, but 30 steps stay well away from it.)
cat >"$TMP/nl.yaml" <<'EOF'
teacher: {model: nonlinear, activation: leaky_relu, d: 20, k: 15, n: 300, rank: 3, noise: 0.1, n_test: 50}
lora: {rank: 4}
init: {method: spectral}
optimizer: {method: gd, lr: 0.3, steps: 30}
sweep:
  optimizer.method: [gd, full, adamw, full-adam]
  optimizer.batch: [0, 300, 64]
EOF
cat >"$TMP/lin.yaml" <<'EOF'
teacher: {d: 20, k: 15, n: 300, rank: 3, noise: 0.1, stats: qr}
lora: {rank: 3}
init: {method: lora-ga}
optimizer: {method: gd, lr: 0.3, steps: 30}
sweep:
  optimizer.method: [gd, precgd, full]
  optimizer.batch: [0, 300, 64]
EOF
cat >"$TMP/ntk.yaml" <<'EOF'
teacher: {model: ntk, d: 6, k: 5, n: 120, outputs: 2, rank: 2, noise: 0.1}
lora: {rank: 3}
init: {method: gaussian, alpha2: 0.01}
optimizer: {method: gd, lr: 0.02, steps: 30, weight_decay: 0.05}
sweep:
  optimizer.method: [gd, full]
  optimizer.batch: [0, 120, 32]
EOF
cat >"$TMP/ce.yaml" <<'EOF'
teacher: {model: ntk, d: 6, k: 5, n: 120, outputs: 3, loss: cross_entropy, rank: 2, noise: 0.1}
lora: {rank: 3}
init: {method: gaussian, alpha2: 0.01}
optimizer: {method: gd, lr: 0.05, steps: 30, weight_decay: 0.01}
sweep:
  optimizer.batch: [0, 120, 32]
EOF
for e in nl:300:124 lin:300:93 ntk:120:62 ce:120:31; do
  IFS=: read -r name n rows <<<"$e"
  run "$TMP/$name.yaml" -o "$TMP/$name" || continue
  T=$TMP/$name/trace.csv
  same_to_1e12 "$name" "$T" "$n" "$rows"
  [ "$(head -1 "$T" | awk -F, '{ print $(NF - 1) "," $NF }')" = batch_loss,test_acc ] \
    && ok "$name: last columns batch_loss, test_acc" \
    || bad "$name: no batch_loss, test_acc columns at the end: $(head -1 "$T")"
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
    $h["optimizer.batch"] == 0 && $h["batch_loss"] != $h["loss"] { bad++ } END { exit bad > 0 }' "$T" \
    && ok "$name: batch_loss = loss in every full-batch row" || bad "$name: batch_loss != loss at batch 0"
  # step 0's logged loss is the full loss for every batch size; a minibatch's batch_loss is not
  got=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
    { m = ("optimizer.method" in h) ? $h["optimizer.method"] : "-" }
    $h["step"] == 0 { if (!(m in l0)) l0[m] = $h["loss"]; else if ($h["loss"] != l0[m]) diff++ }
    $h["optimizer.batch"] != 0 && $h["optimizer.batch"] != N && $h["batch_loss"] != $h["loss"] { mini++ }
    END { print diff + 0, mini + 0 }' N="$n" "$T")
  [ "${got% *}" = 0 ] && [ "${got#* }" -gt 0 ] \
    && ok "$name: step-0 loss is the full loss for every batch, minibatch batch_loss differs ($got)" \
    || bad "$name: loss/batch_loss (step-0 loss differences, minibatch rows with batch_loss != loss): $got"
done

# 2. deterministic, and identical across -j 1 / -j 2
cat >"$TMP/mb.yaml" <<'EOF'
teacher: {model: nonlinear, activation: relu, d: 16, k: 12, n: 200, rank: 2}
lora: {rank: 3}
init: {method: spectral}
optimizer: {method: precgd, lr: 0.2, steps: 40, batch: 24}
log: {every: 5}
sweep:
  optimizer.lr: [0.1, 0.2]
  teacher.model: [nonlinear, linear]
seeds: 2
EOF
run "$TMP/mb.yaml" -o "$TMP/j1" -j 1 && run "$TMP/mb.yaml" -o "$TMP/j2" -j 2 && \
  run "$TMP/mb.yaml" -o "$TMP/again" -j 1 && {
  same_results "$TMP/j1" "$TMP/j2" "minibatch sweep, -j 1 vs -j 2"
  same_results "$TMP/j1" "$TMP/again" "minibatch sweep run twice"
}

# a single cell owns the machine's BLAS threads: a batch of several 1024-row
# chunks (teacher_nonlinear.c) gives the same training, bit for bit, on one
# thread and on two.  The steps sum their chunks in a fixed order on one BLAS
# thread each, and the set-up (G = -grad L(W0) over all N rows, its SVD for
# the spectral init and for align_a, align_b) is made of pieces that depend
# on the sizes only (README "Threads and reproducibility"): every trace
# column, the angles to G's subspaces included, must be identical.
cat >"$TMP/big.yaml" <<'EOF'
teacher: {model: nonlinear, activation: gelu, d: 24, k: 16, n: 3000, rank: 2, noise: 0.1}
lora: {rank: 3}
init: {method: spectral}
optimizer: {method: adamw, lr: 0.01, steps: 12, batch: 2500}
EOF
OPENBLAS_NUM_THREADS=1 run "$TMP/big.yaml" -o "$TMP/t1" && OPENBLAS_NUM_THREADS=2 run "$TMP/big.yaml" -o "$TMP/t2" \
  && { cmp -s "$TMP/t1/trace.csv" "$TMP/t2/trace.csv" \
         && [ "$(wc -l <"$TMP/t1/trace.csv")" -gt 10 ] \
         && ok "one cell, 3-chunk batches, spectral init: identical trace.csv with 1 and 2 BLAS threads" \
         || bad "one cell, 3-chunk batches: trace.csv differs between 1 and 2 BLAS threads"; }

# 3. the batch order does not depend on the learning rate
cat >"$TMP/lr.yaml" <<'EOF'
teacher: {model: nonlinear, activation: tanh, d: 16, k: 12, n: 200, rank: 2, noise: 0.2}
lora: {rank: 3}
init: {method: lora, alpha2: 0.01}
optimizer: {method: gd, steps: 40, batch: 16}
sweep:
  optimizer.lr: [1e-300, 2e-300]
EOF
if run "$TMP/lr.yaml" -o "$TMP/lr"; then
  got=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
    { s = $h["step"]; b = $h["batch_loss"]
      if (s in seen) { if (seen[s] != b) diff++ } else { seen[s] = b; if (b != $h["loss"]) moved++ } }
    END { print diff + 0, moved + 0 }' "$TMP/lr/trace.csv")
  [ "${got% *}" = 0 ] && [ "${got#* }" -ge 30 ] \
    && ok "batch order independent of lr (steps whose batch_loss differs between lrs, steps whose batch differs from the full loss: $got)" \
    || bad "batch order depends on lr, or the batches do not vary: $got"
fi

# 4. bad values: exit 2 with file:line:col
printf 'teacher: {d: 20, k: 15, n: 300, rank: 3}\noptimizer:\n  steps: 5\n  batch: 301\n' >"$TMP/big.yaml"
expect_status 2 "$LORALAB" run "$TMP/big.yaml" -o "$TMP/x" -q
grep -q 'big.yaml:4:10: optimizer.batch = 301 exceeds the 300 training rows' "$TMP/err" \
  && ok "batch > n named at file:line:col" || bad "batch > n message: $(cat "$TMP/err")"
printf 'teacher: {d: 20, k: 15, n: 300, rank: 3, stats: gram}\noptimizer: {steps: 5, batch: 30}\n' >"$TMP/gram.yaml"
expect_status 2 "$LORALAB" run "$TMP/gram.yaml" -o "$TMP/x" -q
grep -q 'gram.yaml:2:30: optimizer.batch = 30 needs the training rows, but teacher.stats is gram' "$TMP/err" \
  && ok "batch with gram statistics named at file:line:col, with the reason" || bad "gram message: $(cat "$TMP/err")"
printf 'teacher: {d: 20, k: 15, n: 300, rank: 3}\noptimizer: {steps: 5, batch: -4}\n' >"$TMP/neg.yaml"
expect_status 2 "$LORALAB" run "$TMP/neg.yaml" -o "$TMP/x" -q
grep -q 'neg.yaml:2:30: optimizer.batch must be >= 0' "$TMP/err" \
  && ok "negative batch named at file:line:col" || bad "negative batch message: $(cat "$TMP/err")"
finish
