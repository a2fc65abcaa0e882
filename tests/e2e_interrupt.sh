# e2e_interrupt.sh: SIGINT.  A single run stops at the next step, writes what
# it has with status `interrupted` and exits 130; --resume then finishes it,
# giving the same files as an uninterrupted run.  The same for a sweep with
# workers, interrupted through the parent only (the workers see the shared
# stop flag).
. "$(dirname "$0")/lib.sh"
Q="$SOURCE_ROOT/experiments/quickstart.yaml"
strip_seconds() {
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i ~ /seconds$/) c[i] = 1 }
           { out = ""; for (i = 1; i <= NF; i++) if (!(i in c)) out = out (out == "" ? "" : ",") $i; print out }' "$1"
}
same() {  # same DIR1 DIR2 WHAT
  if cmp -s "$1/trace.csv" "$2/trace.csv" && [ "$(strip_seconds "$1/summary.csv")" = "$(strip_seconds "$2/summary.csv")" ]
  then ok "$3"; else bad "$3: files differ"; fi
}

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
same "$TMP/ref" "$TMP/int" "resumed single run = uninterrupted"

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
  same "$TMP/swref" "$d" "resumed sweep (SIGINT after ${delay}s) = uninterrupted"
done
finish
