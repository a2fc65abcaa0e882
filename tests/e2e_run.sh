# e2e_run.sh: loralab run end to end on experiments/quickstart.yaml and small
# variants: files written, determinism, reproduction from config.yaml, --set,
# --force, divergence, .npy round trip, inline matrices, a failed run.
. "$(dirname "$0")/lib.sh"
Q="$SOURCE_ROOT/experiments/quickstart.yaml"

# 1. the quickstart, as the README runs it (with an explicit output folder)
expect_status 0 "$LORALAB" run "$Q" -o "$TMP/q1" --quiet
for f in trace.csv summary.csv config.yaml meta.yaml; do
  [ -s "$TMP/q1/$f" ] && ok "wrote $f" || bad "missing $f"
done
head -1 "$TMP/q1/trace.csv" | grep -qx 'cell,seed,step,loss,risk,align_a,align_b,align_a_star,align_b_star,grad_norm,err_op,balance,test_loss,objective,gap,cert,rank_ab,batch_loss,test_acc' \
  && ok "trace header" || bad "trace header: $(head -1 "$TMP/q1/trace.csv")"
rows=$(($(wc -l <"$TMP/q1/trace.csv") - 1))
[ "$rows" = 1501 ] && ok "1501 logged steps" || bad "$rows rows, wanted 1501"
status=$(column "$TMP/q1/summary.csv" status)
[ "$status" = ok ] && ok "status ok" || bad "status $status"
# alignment happened (small alpha2): min align_a well below 1, and align_b tiny from step 1
min_a=$(column "$TMP/q1/summary.csv" min_align_a)
awk -v v="$min_a" 'BEGIN { exit !(v < 0.2) }' && ok "min align_a = $min_a" || bad "min align_a = $min_a"
max_b=$(column "$TMP/q1/trace.csv" align_b | tail -n +2 | sort -g | tail -1)
awk -v v="$max_b" 'BEGIN { exit !(v < 1e-10) }' && ok "max align_b (t>=1) = $max_b" || bad "align_b = $max_b"
grep -q 'library: ".*openblas' "$TMP/q1/meta.yaml" && ok "meta.yaml names OpenBLAS" || bad "meta.yaml BLAS"
grep -q '^commit: ' "$TMP/q1/meta.yaml" && ok "meta.yaml has commit" || bad "meta.yaml commit"

# 2. determinism, and config.yaml reproduces the same bytes
expect_status 0 "$LORALAB" run "$Q" -o "$TMP/q2" --quiet
cmp -s "$TMP/q1/trace.csv" "$TMP/q2/trace.csv" && ok "same file, same trace bytes" || bad "trace differs between runs"
expect_status 0 "$LORALAB" run "$TMP/q1/config.yaml" -o "$TMP/q3" --quiet
cmp -s "$TMP/q1/trace.csv" "$TMP/q3/trace.csv" && ok "config.yaml reproduces trace" || bad "config.yaml run differs"
cmp -s "$TMP/q1/config.yaml" "$TMP/q3/config.yaml" && ok "config.yaml is a fixed point" || bad "config.yaml changed"

# 3. --set overrides (YAML value syntax)
expect_status 0 "$LORALAB" run "$Q" -o "$TMP/s" --quiet --set optimizer.lr=0.1 --set lora.rank=4 --set optimizer.steps=50
grep -A8 '^optimizer:' "$TMP/s/config.yaml" | grep -q 'lr: 0.10000000000000001' && ok "--set optimizer.lr" || bad "--set lr not in config.yaml"
grep -A2 '^lora:' "$TMP/s/config.yaml" | grep -q 'rank: 4' && ok "--set lora.rank" || bad "--set lora.rank"
[ $(($(wc -l <"$TMP/s/trace.csv") - 1)) = 51 ] && ok "--set optimizer.steps=50" || bad "steps override"

# 4. a non-empty output folder is refused (exit 2) unless --force
expect_status 2 "$LORALAB" run "$Q" -o "$TMP/s" --quiet --set optimizer.steps=5
grep -q 'not empty' "$TMP/err" && ok "non-empty folder message" || bad "message: $(cat "$TMP/err")"
expect_status 0 "$LORALAB" run "$Q" -o "$TMP/s" --quiet --set optimizer.steps=5 --force

# 5. divergence: huge learning rate -> status diverged, no non-finite rows, exit 0
expect_status 0 "$LORALAB" run "$Q" -o "$TMP/div" --quiet --set optimizer.lr=50 --set optimizer.steps=200
[ "$(column "$TMP/div/summary.csv" status)" = diverged ] && ok "diverged status" || bad "status $(column "$TMP/div/summary.csv" status)"
column "$TMP/div/summary.csv" message | grep -q 'diverged at step' && ok "divergence step named" || bad "no divergence message"
if column "$TMP/div/trace.csv" loss | grep -qiE 'nan|inf'; then bad "non-finite loss in trace"; else ok "no nan rows"; fi

# 6. log.save writes .npy files; a saved matrix can be fed back as delta
expect_status 0 "$LORALAB" run "$Q" -o "$TMP/save" --quiet --set optimizer.steps=3 --set 'log.save=[a, b, w, g]'
id=$(column "$TMP/save/summary.csv" cell)
for f in a b w g; do
  [ -s "$TMP/save/npy/${f}_$id.npy" ] && ok "saved npy/${f}_$id.npy" || bad "missing npy/${f}_$id.npy"
done
expect_status 0 "$LORALAB" run "$Q" -o "$TMP/fromnpy" --quiet --set optimizer.steps=3 \
  --set teacher.delta="$TMP/save/npy/a_$id.npy" --set teacher.k=8 --set lora.rank=2
grep -q "delta: .*a_$id.npy" "$TMP/fromnpy/config.yaml" && ok "delta from .npy recorded" || bad "delta path"
sed -n '/^teacher:/,/^lora:/p' "$TMP/fromnpy/config.yaml" | grep -q '  rank: 8' && ok "rank defaults to numerical rank of delta" || bad "rank from delta"

# 7. inline matrices: the two-parameter toy (d = 2, k = 1 from delta)
expect_status 0 "$LORALAB" run "$Q" -o "$TMP/toy" --quiet --set 'teacher.delta=[[2], [1]]' \
  --set teacher.w0=zero --set teacher.n=4 --set lora.rank=1 --set optimizer.lr=0.1 \
  --set optimizer.steps=1000 --set init.method=spectral
sed -n '/^teacher:/,/^lora:/p' "$TMP/toy/config.yaml" | grep -q '  d: 2' && ok "d taken from inline delta" || bad "inline d"
risk=$(column "$TMP/toy/summary.csv" risk)
awk -v v="$risk" 'BEGIN { exit !(v < 1e-3) }' && ok "toy converges (risk $risk)" || bad "toy risk $risk"

# 8. a failed run: precgd with damping 0 from B0 = 0 -> exit 1, status error naming the step
expect_status 1 "$LORALAB" run "$Q" -o "$TMP/sing" --quiet --set optimizer.method=precgd --set optimizer.damping=0
grep -q 'singular at step 0' "$TMP/err" && ok "singular step named" || bad "message: $(cat "$TMP/err")"
[ "$(column "$TMP/sing/summary.csv" status)" = error ] && ok "status error in summary" || bad "summary status"

# 9. several seeds: one row per seed in summary, seeds in trace
expect_status 0 "$LORALAB" run "$Q" -o "$TMP/seeds" --quiet --set optimizer.steps=10 --set 'seeds=[3, 5]'
[ "$(column "$TMP/seeds/summary.csv" seed | tr '\n' ' ')" = "3 5 " ] && ok "seeds list" || bad "seeds: $(column "$TMP/seeds/summary.csv" seed)"

finish
