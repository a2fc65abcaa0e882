# e2e_interrupt.sh: SIGINT.  A single run stops at the next step, writes what
# it has with status `interrupted` and exits 130; --resume then finishes it,
# giving the same files as an uninterrupted run.  The same for a sweep with
# workers, interrupted through the parent only (the workers see the shared
# stop flag).
. "$(dirname "$0")/lib.sh"
Q="$SOURCE_ROOT/experiments/quickstart.yaml"
# 1. a single run
set_long=(--set optimizer.steps=100000 --set log.every=100 --quiet)
expect_status 0 "$LORALAB" run "$Q" -o "$TMP/ref" "${set_long[@]}"
"$LORALAB" run "$Q" -o "$TMP/int" "${set_long[@]}" 2>"$TMP/int.err" &
pid=$!
sleep 0.7
kill -INT $pid
wait $pid
rc=$?
[ "$rc" = 130 ] && ok "SIGINT: exit 130" || bad "SIGINT: exit $rc ($(cat "$TMP/int.err"))"
st=$(column "$TMP/int/summary.csv" status)
[ "$st" = interrupted ] && ok "status interrupted" || bad "status '$st'"
column "$TMP/int/summary.csv" message | grep -q 'interrupted at step' && ok "message names the step" || bad "message"
last=$(column "$TMP/int/trace.csv" step | tail -1)
[ -n "$last" ] && [ "$last" -lt 100000 ] && ok "trace kept up to step $last" || bad "trace last step '$last'"
expect_status 0 "$LORALAB" run "$Q" -o "$TMP/int" "${set_long[@]}" --resume
same_results "$TMP/ref" "$TMP/int" "resumed single run = uninterrupted"

# 2. a sweep with two workers, SIGINT to the parent only
cat >"$TMP/sw.yaml" <<'YAML'
teacher: {d: 60, k: 40, n: 600, rank: 3}
lora: {rank: 4}
optimizer: {method: gd, lr: 0.02, steps: 200000}
log: {every: 1000}
sweep:
  init.alpha2: [0.1, 0.01, 0.001, 0.0001]
seeds: 2
YAML
expect_status 0 "$LORALAB" run "$TMP/sw.yaml" -o "$TMP/swref" -j 2 --quiet
for delay in 0.3 0.7 1.5; do
  d="$TMP/swint-$delay"
  "$LORALAB" run "$TMP/sw.yaml" -o "$d" -j 2 --quiet 2>/dev/null &
  pid=$!
  sleep $delay
  kill -INT $pid
  wait $pid
  rc=$?
  n=$(ls "$d/cells" 2>/dev/null | grep -c '\.summary$')
  [ "$rc" = 130 ] && [ "$n" -lt 8 ] && ok "sweep SIGINT after ${delay}s: exit 130, $n of 8 cells complete" \
    || bad "sweep SIGINT after ${delay}s: exit $rc, $n cells complete"
  expect_status 0 "$LORALAB" run "$TMP/sw.yaml" -o "$d" -j 2 --quiet --resume
  same_results "$TMP/swref" "$d" "resumed sweep (SIGINT after ${delay}s) = uninterrupted"
done

# 3. SIGINT while the gram statistics are being accumulated (before step 0):
#    the run stops at the next chunk, not after the whole X^T X
cat >"$TMP/gram.yaml" <<'YAML'
teacher: {d: 256, k: 256, n: 4000000, rank: 4, stats: gram}
lora: {rank: 4}
init: {method: spectral}
optimizer: {method: precgd, lr: 0.5, steps: 20}
YAML
"$LORALAB" run "$TMP/gram.yaml" -o "$TMP/gram" --quiet 2>"$TMP/gram.err" &
pid=$!
sleep 0.5
t0=$(date +%s%N)
kill -INT $pid
wait $pid
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$rc" = 130 ] && ok "SIGINT during X^T X: exit 130 after $ms ms" || bad "SIGINT during X^T X: exit $rc"
[ "$ms" -lt 2000 ] && ok "stopped within 2 s" || bad "took $ms ms to stop"
column "$TMP/gram/summary.csv" message | grep -q 'interrupted while accumulating' \
  && ok "message says where" || bad "message: $(column "$TMP/gram/summary.csv" message)"
expect_status 0 "$LORALAB" run "$TMP/gram.yaml" -o "$TMP/gram" --quiet --resume
[ "$(column "$TMP/gram/summary.csv" status)" = ok ] && ok "resumed gram run is ok" || bad "resumed status"
finish
