# e2e_sweep.sh: sweeps: grid expansion, workers, shards + merge, kill -9 and
# --resume, a divergent cell, stable cells when a list grows.
. "$(dirname "$0")/lib.sh"

# A small sweep: 2 (alpha2) x 2 (kappa) x zip 2 (d, n) x 2 seeds = 16 cells.
cat >"$TMP/sw.yaml" <<'YAML'
name: sw
teacher: {d: 20, k: 12, n: 200, rank: 2}
lora: {rank: 3}
init: {method: lora}
optimizer: {method: gd, lr: 0.05, steps: 150}
log: {every: 5}
sweep:
  init.alpha2: [0.1, 0.001]
  teacher.kappa: [1, 4]
  zip:
    teacher.d: [20, 30]
    teacher.n: [200, 300]
seeds: 2
YAML

# 1. grid expansion against the hand-computed order: alpha2 slowest, then
#    kappa, then the zip pair, then the seed
expect_status 0 "$LORALAB" run "$TMP/sw.yaml" --list
got=$(tail -n +2 "$TMP/out" | awk '{print $4, $5, $6, $7, $3}' | tr '\n' ';')
want=""
for a in 0.1 0.001; do for k in 1 4; do for dn in "20 200" "30 300"; do for s in 0 1; do
  want="$want$a $k $dn $s;"; done; done; done; done
[ "$got" = "$want" ] && ok "16 cells in the expected order" || { bad "cell list"; echo "got  $got"; echo "want $want"; }
[ "$(tail -n +2 "$TMP/out" | awk '{print $1}' | sort -u | wc -l)" = 16 ] && ok "16 distinct cell ids" || bad "cell ids not distinct"
# --list: every column starts where its header starts (text left-aligned,
# numbers right-aligned: a column's start is where its widest entry starts)
cat >"$TMP/wide.yaml" <<'YAML'
teacher: {d: 20, k: 12, n: 200, rank: 2}
optimizer: {steps: 10}
sweep:
  init.alpha2: [0.1, 0.0001]
  optimizer.lr: [0.5, 0.015625]
seeds: 12
YAML
expect_status 0 "$LORALAB" run "$TMP/wide.yaml" --list
# per line, the [start, end) of each field; columns align when every field
# lies within its header's column (left-aligned text starts at the header's
# start, right-aligned numbers end at its header's end)
aligned=$(awk '{ n = 0; rest = $0; pos = 1
                 while (match(rest, /[^ ]+/)) { n++; s[n] = pos + RSTART - 1; e[n] = s[n] + RLENGTH
                   pos += RSTART + RLENGTH - 1; rest = substr(rest, RSTART + RLENGTH) }
                 if (NR == 1) { for (i = 1; i <= n; i++) { hs[i] = s[i]; he[i] = e[i] }; nh = n; next }
                 if (n != nh) { print "line " NR ": " n " fields"; exit }
                 for (i = 1; i <= n; i++) {
                   if ((i == 2 || i == 3) && e[i] != he[i]) { print "line " NR " column " i " ends at " e[i] ", header at " he[i]; exit }
                   if (i != 2 && i != 3 && s[i] != hs[i]) { print "line " NR " column " i " starts at " s[i] ", header at " hs[i]; exit } } }' "$TMP/out")
[ -z "$aligned" ] && [ "$(wc -l <"$TMP/out")" = 49 ] && ok "--list: columns aligned under their headers" \
  || { bad "--list alignment: $aligned"; head -3 "$TMP/out"; }

# 2. -j 1 and -j 2 give the same files
expect_status 0 "$LORALAB" run "$TMP/sw.yaml" -o "$TMP/j1" -j 1 --quiet
expect_status 0 "$LORALAB" run "$TMP/sw.yaml" -o "$TMP/j2" -j 2 --quiet
same_results "$TMP/j1" "$TMP/j2" "-j 1 vs -j 2"
head -1 "$TMP/j1/trace.csv" | grep -qx 'cell,init.alpha2,teacher.kappa,teacher.d,teacher.n,seed,step,loss,risk,align_a,align_b,align_a_star,align_b_star,grad_norm,err_op,balance,test_loss,objective,gap,cert,rank_ab,batch_loss,test_acc' \
  && ok "swept keys are columns" || bad "trace header: $(head -1 "$TMP/j1/trace.csv")"
[ $(($(wc -l <"$TMP/j1/summary.csv") - 1)) = 16 ] && ok "16 summary rows" || bad "summary rows"
grep -q 'cells: 16' "$TMP/j2/meta.yaml" && grep -q 'workers: 2' "$TMP/j2/meta.yaml" && ok "meta.yaml records the sweep" || bad "meta sweep"

# 2b. the seed aggregates and steps_to_tol, recomputed with awk from trace.csv
want=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "risk") c = i; next }
                $2 == "0.1" && $3 == "4" && $4 == "30" && $7 == "75" { s += $c; n++ }
                END { printf "%.12g %d", s / n, n }' "$TMP/j1/trace.csv")
got=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "risk_mean") c = i; next }
               $1 == "0.1" && $2 == "4" && $3 == "30" && $5 == "75" { printf "%.12g %d", $c, $6 }' "$TMP/j1/trace_mean.csv")
[ "$got" = "$want" ] && ok "trace_mean.csv risk_mean = awk mean ($got)" || bad "trace_mean: got '$got' want '$want'"
grep -qx 'sweep_init_alpha2 = "0.1 0.001"' "$TMP/j1/sweep.gp" && ok "sweep.gp lists the swept values" || bad "sweep.gp: $(cat "$TMP/j1/sweep.gp")"
expect_status 0 "$LORALAB" run "$TMP/sw.yaml" -o "$TMP/tol" --quiet --set log.risk_tol=0.5 --set log.every=1
want=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "risk") c = i; if ($i == "step") s = i }; next }
                { if ($s == 0) { r0[$1] = $c } else if (!($1 in hit) && $c <= 0.5 * r0[$1]) hit[$1] = $s }
                END { for (k in hit) print k, hit[k] }' "$TMP/tol/trace.csv" | sort)
got=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "steps_to_tol") c = i; next }
               $c != "nan" { print $1, $c }' "$TMP/tol/summary.csv" | sort)
[ -n "$want" ] && [ "$got" = "$want" ] && ok "steps_to_tol = first step with risk <= tol risk_0" || { bad "steps_to_tol"; echo "got $got"; echo "want $want"; }

# 3. three shards merged = the unsharded run
for i in 1 2 3; do
  expect_status 0 "$LORALAB" run "$TMP/sw.yaml" -o "$TMP/shard$i" --shard $i/3 --quiet
done
expect_status 0 "$LORALAB" merge "$TMP/merged" "$TMP/shard1" "$TMP/shard2" "$TMP/shard3"
same_results "$TMP/j1" "$TMP/merged" "3 shards merged vs unsharded"
grep -q 'shard: "2/3"' "$TMP/shard2/meta.yaml" && ok "meta.yaml records the shard" || bad "meta shard"
grep -q 'merged:' "$TMP/merged/meta.yaml" && ok "meta.yaml records the merge" || bad "meta merge"
expect_status 1 "$LORALAB" merge "$TMP/merged2" "$TMP/shard1" "$TMP/shard3"
grep -q 'in none of the shard folders' "$TMP/err" && ok "missing shard reported" || bad "missing shard: $(cat "$TMP/err")"

# 4. kill -9 at several moments, then --resume: the same files as uninterrupted
cat >"$TMP/long.yaml" <<'YAML'
name: long
teacher: {d: 60, k: 40, n: 600, rank: 3}
lora: {rank: 4}
optimizer: {method: gd, lr: 0.02, steps: 1500}
sweep:
  init.alpha2: [0.1, 0.01, 0.001, 0.0001]
seeds: 3
YAML
expect_status 0 "$LORALAB" run "$TMP/long.yaml" -o "$TMP/long-ref" --quiet
for delay in 0.05 0.1 0.2 0.3 0.45 0.6; do
  d="$TMP/long-$delay"
  "$LORALAB" run "$TMP/long.yaml" -o "$d" -j 2 --quiet 2>/dev/null &
  pid=$!
  sleep $delay
  kill -9 $pid 2>/dev/null; pkill -9 -P $pid 2>/dev/null; wait $pid 2>/dev/null
  n=$(ls "$d/cells" 2>/dev/null | grep -c '\.summary$')
  expect_status 0 "$LORALAB" run "$TMP/long.yaml" -o "$d" --resume --quiet
  same_results "$TMP/long-ref" "$d" "killed after ${delay}s ($n cells complete), resumed"
done
# without --resume, a folder of another experiment is refused naming the
# first setting that differs (--resume would add its cells: e2e_grow.sh)
expect_status 2 "$LORALAB" run "$TMP/long.yaml" -o "$TMP/long-ref" --set optimizer.lr=0.03 --quiet
grep -q 'optimizer.lr is 0.02 there, 0.03 here' "$TMP/err" && ok "another experiment refused, naming the key" || bad "$(cat "$TMP/err")"

# 5. a divergent cell is reported while the others finish
cat >"$TMP/div.yaml" <<'YAML'
teacher: {d: 20, k: 12, n: 200, rank: 2}
lora: {rank: 3}
optimizer: {steps: 200}
sweep:
  optimizer.lr: [0.05, 1000]
YAML
expect_status 0 "$LORALAB" run "$TMP/div.yaml" -o "$TMP/div" --quiet
[ "$(column "$TMP/div/summary.csv" status | tr '\n' ' ')" = "ok diverged " ] && ok "one ok, one diverged" \
  || bad "statuses: $(column "$TMP/div/summary.csv" status | tr '\n' ' ')"
# a diverged cell's steps is the step of its last trace row (logged every
# step, and every 7th: the diverged step itself is never logged).  lr = 1
# diverges after some 60 steps.
sed '/^sweep:/,$d; s/steps: 200}/steps: 200, lr: 1}/' "$TMP/div.yaml" >"$TMP/div1.yaml"
for every in 1 7; do
  expect_status 0 "$LORALAB" run "$TMP/div1.yaml" -o "$TMP/div-$every" --quiet --set log.every=$every
  id=$(awk -F, 'NR > 1 && $3 == "diverged" { print $1 }' "$TMP/div-$every/summary.csv")
  steps=$(awk -F, -v id="$id" '$1 == id { print $4 }' "$TMP/div-$every/summary.csv")
  last=$(awk -F, -v id="$id" '$1 == id { s = $3 } END { print s }' "$TMP/div-$every/trace.csv")
  at=$(grep -o 'diverged at step [0-9]*' "$TMP/div-$every/summary.csv" | grep -o '[0-9]*$')
  [ -n "$id" ] && [ "$steps" = "$last" ] && [ "$last" -lt "$at" ] && [ "$at" -gt 14 ] \
    && ok "log.every $every: diverged cell: steps $steps = last trace row's step (diverged at $at)" \
    || bad "log.every $every: diverged cell $id: steps '$steps', last trace step '$last', diverged at '$at'"
done

# 6. adding a value to a list leaves the existing cells unchanged
sed 's/init.alpha2: \[0.1, 0.001\]/init.alpha2: [0.1, 0.01, 0.001]/' "$TMP/sw.yaml" >"$TMP/sw3.yaml"
expect_status 0 "$LORALAB" run "$TMP/sw3.yaml" -o "$TMP/sw3" --quiet
if [ "$(grep -v ',0.01,' "$TMP/sw3/trace.csv")" = "$(cat "$TMP/j1/trace.csv")" ]; then
  ok "existing cells unchanged (ids and rows)"; else bad "existing cells changed"; fi

# 8. cells that share a teacher share one problem within a worker (train.c);
#    each cell must still equal the same cell run on its own, including the
#    ntk teacher's convex reference when only the weight decay changes
cat >"$TMP/share.yaml" <<'YAML'
teacher: {d: 20, k: 12, n: 200, rank: 2}
lora: {rank: 3}
optimizer: {method: gd, lr: 0.05, steps: 60}
log: {every: 10}
sweep:
  init.alpha2: [0.1, 0.001]
  optimizer.lr: [0.05, 0.02]
YAML
cat >"$TMP/share-ntk.yaml" <<'YAML'
teacher: {model: ntk, d: 6, k: 5, n: 20, rank: 2, noise: 0.1}
lora: {rank: 2}
init: {method: gaussian, alpha2: 0.01}
optimizer: {method: gd, lr: 0.05, steps: 200}
log: {every: 50}
sweep:
  optimizer.weight_decay: [0.05, 0, 0.1]
YAML
for f in share share-ntk; do
  expect_status 0 "$LORALAB" run "$TMP/$f.yaml" -o "$TMP/$f" -j 1 --quiet
  sed '/^sweep:/,$d' "$TMP/$f.yaml" >"$TMP/$f-one.yaml"
  same=1
  while IFS=, read -r cell rest; do
    [ "$cell" = cell ] && continue
    sets=$(awk -F, -v c="$cell" 'NR == 1 { for (i = 1; i <= NF; i++) h[i] = $i; next }
      $1 == c { for (i = 1; i <= NF; i++) if (h[i] ~ /^(init|optimizer)\./) printf "--set %s=%s ", h[i], $i }' \
      "$TMP/$f/summary.csv")
    # shellcheck disable=SC2086
    "$LORALAB" run "$TMP/$f-one.yaml" -o "$TMP/$f-one-$cell" --quiet $sets 2>/dev/null
    # seed, step and the fourteen metrics: the last 16 fields (a sweep's trace
    # also has its parameters after the cell id)
    last16='{ for (i = NF - 15; i <= NF; i++) printf "%s%s", $i, (i < NF ? "," : "\n") }'
    a=$(grep "^$cell," "$TMP/$f/trace.csv" | awk -F, "$last16")
    b=$(tail -n +2 "$TMP/$f-one-$cell/trace.csv" | awk -F, "$last16")
    [ "$a" = "$b" ] || { same=0; echo "    cell $cell differs"; }
  done <"$TMP/$f/summary.csv"
  [ $same = 1 ] && ok "$f: every cell of the -j 1 sweep equals the cell run alone" \
    || bad "$f: shared problems changed a cell"
done

# 9. storage: a finished folder holds each trace row once (trace.csv; cells/
#    keeps one summary row per cell), and one seed writes no means files
cat >"$TMP/store.yaml" <<'YAML'
name: store
teacher: {d: 20, k: 12, n: 200, rank: 2}
lora: {rank: 3}
optimizer: {method: gd, lr: 0.05, steps: 400}
log: {every: 1}
sweep:
  init.alpha2: [0.1, 0.01, 0.001]
YAML
mkdir -p "$TMP/wd"
(cd "$TMP/wd" && "$LORALAB" run "$TMP/store.yaml" -j 2) >"$TMP/out" 2>"$TMP/err"
[ -d "$TMP/wd/results/store" ] && ok "default folder: results/<name>/ under the current directory" \
  || bad "no $TMP/wd/results/store: $(ls "$TMP/wd")"
[ "$(tail -1 "$TMP/err")" = "loralab: wrote results/store/: 3 cells: 3 run, 0 reused, 0 not run; summary.csv: 3 ok" ] \
  && ok "stderr's last line names the folder and the counts" || bad "last line: $(tail -1 "$TMP/err")"
S=$TMP/wd/results/store
trace=$(stat -c %s "$S/trace.csv")
rest=$(( $(find "$S" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }') - trace ))
[ "$rest" -lt $((trace / 10)) ] && ok "folder = trace.csv + $rest bytes (trace.csv $trace bytes): no second copy" \
  || bad "folder holds $rest bytes besides trace.csv ($trace)"
[ -z "$(ls "$S/cells" | grep -v '\.summary$')" ] && [ "$(ls "$S/cells" | wc -l)" = 3 ] \
  && ok "cells/ holds one summary file per cell" || bad "cells/: $(ls "$S/cells" | head -5)"
[ ! -e "$S/trace_mean.csv" ] && [ ! -e "$S/summary_mean.csv" ] && ok "one seed: no means files" \
  || bad "means files written for one seed"
(cd "$TMP/wd" && "$LORALAB" run "$TMP/store.yaml" --set seeds=2 --force --quiet)
[ -s "$S/trace_mean.csv" ] && [ -s "$S/summary_mean.csv" ] && ok "two seeds: means files" || bad "no means for two seeds"
(cd "$TMP/wd" && "$LORALAB" run "$TMP/store.yaml" --force --quiet)
[ ! -e "$S/trace_mean.csv" ] && ok "back to one seed: stale means files removed" || bad "stale trace_mean.csv"
# numbers keep their round-trip precision: every metric of trace.csv is
# %.17g of a double (so it reads back to the same double)
bad_nums=$(awk -F, 'NR > 1 { for (i = 5; i <= NF; i++) print $i }' "$S/trace.csv" | grep -v nan | head -2000 |
           python3 -c 'import sys; print(sum(1 for x in sys.stdin.read().split() if "%.17g" % float(x) != x))')
[ "$bad_nums" = 0 ] && ok "trace numbers are %.17g (round trip)" || bad "$bad_nums numbers not in %.17g"

# 7. option errors
expect_status 2 "$LORALAB" run "$TMP/sw.yaml" --shard 4/3 -o "$TMP/x"
expect_status 2 "$LORALAB" run "$TMP/sw.yaml" --shard 0/3 -o "$TMP/x"
expect_status 2 "$LORALAB" run "$TMP/sw.yaml" -j 0 -o "$TMP/x"
expect_status 2 "$LORALAB" run "$TMP/sw.yaml" -o "$TMP/j1" --quiet
grep -q 'not empty' "$TMP/err" && ok "non-empty folder refused" || bad "$(cat "$TMP/err")"
finish
