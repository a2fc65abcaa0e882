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

# counts DIR ERRFILE NCELLS WHAT: the counts of stderr's last line and of
# meta.yaml are those of summary.csv's rows: by status, run + reused = rows,
# run + reused + not run = NCELLS
statuses="ok diverged error global spurious_min saddle not_converged interrupted"
counts() {
  local dir=$1 err=$2 n=$3 what=$4 line s rows want got meta good=1
  line=$(tail -1 "$err")
  echo "$line" | grep -q "wrote $dir/: $n cells: " || { bad "$what: last line does not name $dir/ and $n cells: $line"; return; }
  rows=$(($(wc -l <"$dir/summary.csv") - 1))
  for s in $statuses; do
    want=$(column "$dir/summary.csv" status | grep -cx "$s")
    got=$(echo "$line" | sed -n "s/.*summary.csv:.* \([0-9][0-9]*\) $s\([,;]\|$\).*/\1/p")
    meta=$(awk -v k="$s:" '$1 == k { print $2 }' "$dir/meta.yaml")
    [ "${got:-0}" = "$want" ] && [ "$meta" = "$want" ] || { good=0; echo "    $s: summary.csv $want, stderr ${got:-0}, meta.yaml $meta"; }
  done
  local run reused notrun mrun mreused mnotrun
  read -r run reused notrun <<<"$(echo "$line" | sed -n 's/.* cells: \([0-9]*\) run, \([0-9]*\) reused, \([0-9]*\) not run;.*/\1 \2 \3/p')"
  mrun=$(awk '$1 == "cells_run:" { print $2 }' "$dir/meta.yaml")
  mreused=$(awk '$1 == "cells_reused:" { print $2 }' "$dir/meta.yaml")
  mnotrun=$(awk '$1 == "cells_not_run:" { print $2 }' "$dir/meta.yaml")
  [ -n "$run" ] && [ "$run $reused $notrun" = "$mrun $mreused $mnotrun" ] && [ $((run + reused)) = "$rows" ] \
    && [ $((run + reused + notrun)) = "$n" ] || { good=0; echo "    stderr: $run run, $reused reused, $notrun not run; meta.yaml: $mrun, $mreused, $mnotrun; $rows rows"; }
  [ $good = 1 ] && ok "$what: stderr and meta.yaml count summary.csv's rows ($run run, $reused reused, $notrun not run)" \
    || bad "$what: counts differ from summary.csv"
}

# 2. a sweep with two workers, SIGINT to the parent only
cat >"$TMP/sw.yaml" <<'YAML'
teacher: {d: 60, k: 40, n: 600, rank: 3}
lora: {rank: 4}
optimizer: {method: gd, lr: 0.02, steps: 60000}
log: {every: 1000}
sweep:
  init.alpha2: [0.1, 0.01, 0.001, 0.0001]
seeds: 2
YAML
expect_status 0 "$LORALAB" run "$TMP/sw.yaml" -o "$TMP/swref" -j 2 --quiet
# SIGINT after fixed delays, and once the first cell is complete (whatever
# the machine's load: then cells are ok, interrupted and not run at once)
for delay in 0.3 0.7 1.5 first; do
  d="$TMP/swint-$delay"
  when="${delay}s"; [ $delay = first ] && when="the first complete cell"
  "$LORALAB" run "$TMP/sw.yaml" -o "$d" -j 2 --quiet 2>"$TMP/int.err" &
  pid=$!
  if [ $delay = first ]; then
    for _ in $(seq 600); do ls "$d/cells" 2>/dev/null | grep -q '\.summary$' && break; sleep 0.1; done
  else sleep $delay; fi
  kill -INT $pid
  wait $pid
  rc=$?
  n=$(ls "$d/cells" 2>/dev/null | grep -c '\.summary$')
  [ "$rc" = 130 ] && [ "$n" -lt 8 ] && ok "sweep SIGINT after $when: exit 130, $n of 8 cells complete" \
    || bad "sweep SIGINT after $when: exit $rc, $n cells complete"
  counts "$d" "$TMP/int.err" 8 "SIGINT after $when"
  done_ok=$(column "$d/summary.csv" status | grep -cx ok)
  expect_status 0 "$LORALAB" run "$TMP/sw.yaml" -o "$d" -j 2 --resume
  counts "$d" "$TMP/err" 8 "resumed after $when"
  grep -q "8 cells: $((8 - done_ok)) run, $done_ok reused, 0 not run" "$TMP/err" && ok "resumed: the $done_ok ok cells reused" \
    || bad "resumed: $(tail -1 "$TMP/err") ($done_ok were ok)"
  same_results "$TMP/swref" "$d" "resumed sweep (SIGINT after $when) = uninterrupted"
done

# the NTK teacher's verdicts (global, spurious_min, saddle, not_converged)
# are counted the same way
cat >"$TMP/ntk.yaml" <<'YAML'
teacher: {model: ntk, d: 6, k: 5, n: 20, rank: 2, noise: 0.1}
lora: {rank: 2}
init: {method: gaussian, alpha2: 0.01}
optimizer: {method: gd, lr: 0.1, steps: 20000}
log: {every: 1000}
sweep:
  optimizer.weight_decay: [0.05, 0.1]
  lora.rank: [1, 2]
seeds: 3
YAML
expect_status 0 "$LORALAB" run "$TMP/ntk.yaml" -o "$TMP/ntk" -j 2
counts "$TMP/ntk" "$TMP/err" 12 "ntk verdicts ($(column "$TMP/ntk/summary.csv" status | sort | uniq -c | tr -s ' \n' ' '))"

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
