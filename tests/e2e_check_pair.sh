# e2e_check_pair.sh: paired predicates (a:, b:, ref:, compare:, along:) compare
# the arms of one experiment row by row.
# A rank-2 linear teacher, lora.rank in {2, 3} x three arms zipped (LoRA:
# lora + gd, LoRA-One: spectral + precgd, full fine-tuning: optimizer full) x
# 2 seeds, 30 steps logged every 5 (real runs, 12 cells, a fraction of a
# second).  Every measured number is recomputed by awk from the CSVs:
#  - a pointwise ratio (LoRA-One's loss over LoRA's, step >= 5): PASS < 1,
#    and the arms swapped: FAIL, exit 1, with the measured number;
#  - the distance between log-loss curves against a reference arm
#    (mean over steps of |ln loss_X - ln loss_full|, X = LoRA-One over X = LoRA,
#    per (rank, seed) curve, max over curves), the number of curves, a
#    final-step difference averaged over curves;
#  - a key column with one value per arm drops out (rank 2 against rank 3);
#  - summary.csv pairs (rank, seed) without a step column;
#  - with hypotheses (lora.rank == 2 inside): each part pairs its own rows;
#  - an empty arm, overlapping arms, rows without a partner, a pair or a
#    curve giving no number: FAIL with the reason, even with an op that a NaN
#    would satisfy (never a silent pass);
#  - bad keys and filters: exit 2 with file:line:col.
. "$(dirname "$0")/lib.sh"
mkdir -p "$TMP/w"
cd "$TMP/w" || exit 1
cat >arms.yaml <<'YAML'
teacher: {d: 8, k: 6, n: 64, rank: 2}
optimizer: {method: gd, lr: 0.2, steps: 30}
log: {every: 5}
sweep:
  lora.rank: [2, 3]
  zip:
    init.method: [lora, spectral, lora]
    optimizer.method: [gd, precgd, full]
seeds: 2
YAML
# claim FILE PREDICATES [HYPOTHESES]: one claim (id P) on arms.yaml
claim() {
  printf 'claims:\n  - id: P\n    statement: arms compared\n    experiment: ./arms.yaml\n' >"$1"
  [ -n "${3:-}" ] && printf '    hypotheses: %s\n' "$3" >>"$1"
  printf '    expect: %s\n' "$2" >>"$1"
}
# place FILE TEXT: "FILE:LINE:COL" of the first TEXT in FILE (1-based), by awk
place() { awk -v t="$2" -v f="$1" 'i = index($0, t) { print f ":" NR ":" i; exit }' "$1"; }
# measured ID-ROW-PATTERN: the inside measured number of the first predicate row matching it
measured() { awk -v p="$1" '$1 == "P" && index($0, p) { print $3; exit }' "$TMP/out"; }
# by_awk PROGRAM [RANK-FILTER]: run PROGRAM over trace.csv with the arrays
# x[arm, rank, seed, step] (arm: gd, precgd, full = LoRA, LoRA-One, full) and
# the key lists filled; RANK-FILTER (awk condition on r) restricts the ranks
by_awk() {
  awk -F, -v OFMT=%.17g -v CONVFMT=%.17g '
    NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    { r = $c["lora.rank"]; if (!('"${2:-1}"')) next
      m = $c["optimizer.method"]; s = $c["seed"]; t = $c["step"]
      x[m, r, s, t] = $c["loss"]; ranks[r]; seeds[s]; steps[t] }
    END { '"$1"' }' results/arms/trace.csv
}
# same A B: the two numbers agree to the 6 digits check prints
same() { [ -n "$1" ] && [ "$(printf '%.6g' "$1")" = "$(printf '%.6g' "$2")" ]; }

LO="a: \"init.method == 'spectral' and optimizer.method == 'precgd'\""
LORA="b: \"init.method == 'lora' and optimizer.method == 'gd'\""
FULL="ref: \"optimizer.method == 'full'\""

# 1. pointwise ratio: LoRA-One's loss below LoRA's at every step >= 5, every rank and seed
below="{where: \"step >= 5\", metric: loss, $LO, $LORA, compare: ratio, reduce: max, op: \"<\", value: 1}"
claim below.yaml "[$below]"
expect_status 0 "$LORALAB" check --claims below.yaml
want=$(by_awk 'm = -1; for (k in x) { split(k, q, SUBSEP); if (q[1] != "precgd" || q[4] < 5) continue
                 v = x[k] / x["gd", q[2], q[3], q[4]]; n++; if (v > m) m = v }; print m, n')
set -- $want
[ "$2" = 24 ] && ok "awk: 24 pairs (2 ranks x 2 seeds x 6 steps)" || bad "awk pairs $2"
got=$(measured 'loss[a] / loss[b]')
same "$got" "$1" && ok "max ratio LoRA-One / LoRA = $got (awk $1)" || bad "measured '$got', awk $1: $(cat "$TMP/out")"
grep -qE '^P +PASS +[0-9.e-]+ +- ' "$TMP/out" && ok "PASS inside, - outside" || bad "$(cat "$TMP/out")"
grep -qF "| P | | \`max over pairs of loss[a] / loss[b] where step >= 5; a: init.method == 'spectral' and optimizer.method == 'precgd'; b: init.method == 'lora' and optimizer.method == 'gd' < 1\` | **PASS** | $got |" results/claims.md \
  && ok "claims.md: the paired expression, the arms and the measured number" || bad "$(cat results/claims.md)"

# the arms swapped: FAIL with the measured number
swapped="{where: \"step >= 5\", metric: loss, a: \"optimizer.method == 'gd'\", b: \"optimizer.method == 'precgd'\", compare: ratio, reduce: min, op: \"<\", value: 1}"
claim swapped.yaml "[$swapped]"
expect_status 1 "$LORALAB" check --claims swapped.yaml
want=$(by_awk 'm = -1; for (k in x) { split(k, q, SUBSEP); if (q[1] != "gd" || q[4] < 5) continue
                 v = x[k] / x["precgd", q[2], q[3], q[4]]; if (m < 0 || v < m) m = v }; print m')
got=$(measured 'loss[a] / loss[b]')
same "$got" "$want" && ok "swapped arms: FAIL, min ratio $got (awk $want)" || bad "measured '$got', awk $want"
grep -qE '^P +FAIL ' "$TMP/out" && ok "swapped: FAIL" || bad "$(cat "$TMP/out")"

# 2. distance between log-loss curves, LoRA-One's over LoRA's, against full fine-tuning
closer="{metric: loss, $LO, $LORA, $FULL, compare: abs_log_ratio, along: step, reduce: max, op: \"<\", value: 1}"
ncurves="{metric: loss, $LO, $LORA, $FULL, compare: abs_log_ratio, along: step, reduce: count, op: \"==\", value: 4}"
final="{metric: loss, $LO, $LORA, compare: diff, along: step, along_reduce: final, reduce: mean, op: \"<\", value: 0}"
claim closer.yaml "[$closer, $ncurves, $final]"
expect_status 0 "$LORALAB" check --claims closer.yaml
dist='for (k in x) { split(k, q, SUBSEP); if (q[1] != "full") continue; cu = q[2] SUBSEP q[3]
        da[cu] += abs(log(x["precgd", q[2], q[3], q[4]]) - log(x[k]))
        db[cu] += abs(log(x["gd", q[2], q[3], q[4]]) - log(x[k])); ns[cu]++ }
      m = -1; nc = 0; for (cu in da) { v = (da[cu] / ns[cu]) / (db[cu] / ns[cu]); nc++; if (v > m) m = v }'
want=$(by_awk "$dist; print m, nc; } function abs(v) { return v < 0 ? -v : v")
set -- $want
got=$(measured 'max over curves of mean_step(|ln(loss[a] / loss[ref])|) / mean_step(|ln(loss[b] / loss[ref])|)')
same "$got" "$1" && ok "log-loss curve distance ratio d(LoRA-One, full) / d(LoRA, full) = $got (awk $1)" \
  || bad "measured '$got', awk $1: $(cat "$TMP/out")"
got=$(measured 'count over curves')
[ "$got" = "$2" ] && [ "$2" = 4 ] && ok "4 curves (rank x seed), awk $2" || bad "curves '$got', awk $2"
want=$(by_awk 's = 0; n = 0; for (r in ranks) for (e in seeds) { s += x["precgd", r, e, 30] - x["gd", r, e, 30]; n++ }; print s / n')
got=$(measured 'mean over curves of final_step(loss[a] - loss[b])')
same "$got" "$want" && ok "along_reduce final: mean final-step difference $got (awk $want)" || bad "measured '$got', awk $want"

# a key column with one value in each arm drops out: a rank-2 arm against a rank-3 arm pairs on seed and step
cross="{metric: loss, a: \"optimizer.method == 'gd' and lora.rank == 2\", b: \"optimizer.method == 'gd' and lora.rank == 3\", compare: abs_diff, reduce: max, op: \">\", value: 0}"
claim cross.yaml "[$cross]"
expect_status 0 "$LORALAB" check --claims cross.yaml
want=$(by_awk 'm = -1; for (k in x) { split(k, q, SUBSEP); if (q[1] != "gd" || q[2] != 2) continue
                 v = x[k] - x["gd", 3, q[3], q[4]]; v = v < 0 ? -v : v; if (v > m) m = v }; print m')
got=$(measured '|loss[a] - loss[b]|')
same "$got" "$want" && ok "r = 2 against r = 3 (lora.rank drops out of the key): max |diff| $got (awk $want)" \
  || bad "measured '$got', awk $want: $(cat "$TMP/out")"

# summary.csv (no step column): one pair per (rank, seed), the final losses
sum="{table: summary, metric: loss, $LO, $LORA, compare: log_ratio, reduce: mean, op: \"<\", value: 0}"
claim sum.yaml "[$sum]"
expect_status 0 "$LORALAB" check --claims sum.yaml
want=$(awk -F, -v OFMT=%.17g 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
  { x[$c["optimizer.method"], $c["lora.rank"], $c["seed"]] = $c["loss"] }
  END { for (k in x) { split(k, q, SUBSEP); if (q[1] != "precgd") continue
          s += log(x[k] / x["gd", q[2], q[3]]); n++ }; print s / n, n }' results/arms/summary.csv)
set -- $want
got=$(measured 'ln(loss[a] / loss[b])')
same "$got" "$1" && [ "$2" = 4 ] && ok "summary.csv: mean ln(final loss ratio) over 4 (rank, seed) pairs $got (awk $1)" \
  || bad "measured '$got', awk $want: $(cat "$TMP/out")"

# 3. hypotheses: inside r = 2, outside r = 3, each part paired on its own rows
claim hyp.yaml "[$closer]" '[{when: "lora.rank == 2", statement: "r = 2", source: "[X] 1"}]'
expect_status 0 "$LORALAB" check --claims hyp.yaml
win=$(by_awk "$dist; print m; } function abs(v) { return v < 0 ? -v : v" 'r == 2')
wout=$(by_awk "$dist; print m; } function abs(v) { return v < 0 ? -v : v" 'r == 3')
read -r _ vin gin vout gout _ < <(grep -E '^P +PASS' "$TMP/out")
same "$gin" "$win" && same "$gout" "$wout" && [ "$vout" = HOLDS ] \
  && ok "inside (r = 2) $gin = awk $win, outside (r = 3) $gout = awk $wout HOLDS" \
  || bad "inside '$gin'/$win outside '$vout' '$gout'/$wout: $(cat "$TMP/out")"

# 4. failures with their reason, never a silent pass (op != 0 would hold for NaN)
# expect_fail PREDICATE REASON WHAT
expect_fail() {
  claim f.yaml "[$1]"
  expect_status 1 "$LORALAB" check --claims f.yaml
  grep -qE '^P +FAIL +nan ' "$TMP/out" && grep -qF -- "$2" "$TMP/out" && grep -qF -- "$2" results/claims.md \
    && ok "$3: FAIL with '$2'" || bad "$3: $(cat "$TMP/out")"
}
expect_fail "{metric: loss, $LO, b: \"optimizer.method == 'adamw'\", compare: diff, reduce: max, op: \"!=\", value: 0}" \
  "arm b (optimizer.method == 'adamw') matches no rows" "empty arm"
expect_fail "{where: \"step > 100\", metric: loss, $LO, $LORA, compare: diff, reduce: max, op: \"!=\", value: 0}" \
  "no rows match where step > 100" "no row passes where"
expect_fail "{metric: loss, a: \"optimizer.method != 'gd'\", $FULL, b: \"optimizer.method == 'gd'\", compare: diff, reduce: max, op: \"!=\", value: 0}" \
  "and ref (optimizer.method == 'full'): the arms overlap" "overlapping arms"
expect_fail "{metric: loss, $LO, b: \"optimizer.method == 'gd' and seed == 0\", compare: diff, reduce: max, op: \"!=\", value: 0}" \
  "14 of 28 rows of arm a have no partner in arm b (first: lora.rank=2, seed=1, step=0)" "rows without a partner"
# align_b is nan at step 0 from the lora init (B0 = 0): no number for that pair
expect_fail "{metric: align_b, $LO, $LORA, compare: log_ratio, reduce: max, op: \"!=\", value: 0}" \
  "4 of 28 pairs give no number for log_ratio (first: lora.rank=2, seed=0, step=0, align_b = " "a pair without a number"
# seed is the same in every arm: d(a, ref) = d(b, ref) = 0, a 0 / 0 per curve
expect_fail "{metric: seed, $LO, $LORA, $FULL, compare: abs_diff, along: step, reduce: max, op: \"!=\", value: 0}" \
  "4 of 4 curves give 0 / 0 (first: lora.rank=2, seed=0" "a curve giving 0 / 0"

# 5. bad input: exit 2 naming file:line:col
claim typo.yaml "[{metric: loss, a: \"optimizer.methd == 'precgd'\", $LORA, compare: diff, reduce: max, op: \"<\", value: 0}]"
expect_status 2 "$LORALAB" check --claims typo.yaml
grep -qF "$(place typo.yaml '"optimizer.methd'): claim P: a: " "$TMP/err" && grep -qF "did you mean 'optimizer.method'?" "$TMP/err" \
  && ok "unknown column in a: exit 2, file:line:col, did you mean" || bad "$(cat "$TMP/err")"
[ ! -s "$TMP/out" ] && ok "no verdict printed before the error" || bad "printed: $(cat "$TMP/out")"
claim along.yaml "[{metric: loss, $LO, $LORA, compare: diff, along: stpe, reduce: max, op: \"<\", value: 0}]"
expect_status 2 "$LORALAB" check --claims along.yaml
grep -qF "$(place along.yaml 'stpe'): claim P: along: no column 'stpe' in trace.csv (did you mean 'step'?)" "$TMP/err" \
  && ok "unknown along: column: exit 2 at its place" || bad "$(cat "$TMP/err")"
# bad_key PREDICATE MESSAGE
bad_key() {
  claim k.yaml "[$1]"
  expect_status 2 "$LORALAB" check --claims k.yaml
  grep -qF "k.yaml:5:14: $2" "$TMP/err" && ok "bad input: $2" || bad "$(cat "$TMP/err")"
}
bad_key "{metric: loss, $LO, compare: diff, reduce: max, op: \"<\", value: 0}" "a paired predicate needs a: and b:"
bad_key "{metric: loss, $LO, $LORA, reduce: max, op: \"<\", value: 0}" "a paired predicate needs compare:"
bad_key "{metric: loss, $LO, $LORA, compare: quotient, reduce: max, op: \"<\", value: 0}" "a paired predicate needs compare:"
bad_key "{metric: loss, $LO, $LORA, compare: diff, reduce: growth, group: seed, op: \"<\", value: 0}" "a paired predicate reduces with max, min, mean or count (got 'growth')"
bad_key "{metric: loss, $LO, $LORA, compare: diff, along_reduce: max, reduce: max, op: \"<\", value: 0}" "along_reduce: goes with along:"
bad_key "{metric: loss, $LO, $LORA, compare: diff, along: step, along_reduce: median, reduce: max, op: \"<\", value: 0}" "along_reduce must be one of: mean max min final (got 'median')"
finish
