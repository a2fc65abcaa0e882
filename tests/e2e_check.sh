# e2e_check.sh: `loralab check` on a claims file of its own: a predicate that
# holds passes, one that must fail fails (exit 1, FAIL row), an empty filter
# fails with its reason, the group reductions agree with awk, complete results
# are reused, and bad input exits 2 (a misspelt metric with "did you mean"
# and the file:line:col of its metric: value).
. "$(dirname "$0")/lib.sh"
mkdir -p "$TMP/w/theory" "$TMP/w/experiments"
cd "$TMP/w" || exit 1
cat >experiments/mini.yaml <<'YAML'
teacher: {d: 20, k: 12, n: 200, rank: 2}
lora: {rank: 3}
init: {method: lora, alpha2: 1.0e-3}
optimizer: {method: gd, lr: 0.05, steps: 100}
log: {every: 10}
sweep:
  teacher.kappa: [1, 2, 4]
seeds: 2
YAML
claims() {  # claims FILE PREDICATE-YAML...: one claim on mini with the given expect list
  { echo "claims:"; echo "  - id: T"; echo "    statement: a test claim"; echo "    experiment: mini"
    echo "    expect:"; shift 0; printf '%s\n' "$@" | sed 's/^/      /'; } >"$TMP/w/theory/$CF"
}
CF=pass.yaml claims '- {where: "step >= 1", metric: align_b, reduce: max, op: "<=", value: 1.0e-10}' \
  '- {table: summary, metric: status, reduce: fraction, equals: ok, op: "==", value: 1}' \
  '- {table: summary, metric: steps, reduce: count, op: "==", value: 6}'
expect_status 0 "$LORALAB" check --claims theory/pass.yaml -j 2
grep -q '^T  *PASS' "$TMP/out" && ok "holding predicates pass" || bad "$(cat "$TMP/out")"
[ -s results/claims.md ] && grep -q '| T | a test claim' results/claims.md && ok "results/claims.md written" || bad "claims.md"
expect_status 0 "$LORALAB" check --claims theory/pass.yaml
grep -q 'cells_run: 0' results/mini/meta.yaml && ok "complete results reused" || bad "not reused: $(grep cells_ results/mini/meta.yaml)"

CF=fail.yaml claims '- {metric: risk, reduce: min, op: "<=", value: 1.0e-300}'
expect_status 1 "$LORALAB" check --claims theory/fail.yaml
grep -q '^T  *FAIL' "$TMP/out" && ok "a false predicate fails" || bad "$(cat "$TMP/out")"

CF=empty.yaml claims '- {where: "step > 1e9", metric: risk, reduce: max, op: "<=", value: 1}'
expect_status 1 "$LORALAB" check --claims theory/empty.yaml
grep -q 'no rows match where step > 1e9' "$TMP/out" && ok "empty filter fails with its reason" || bad "$(cat "$TMP/out")"

# ratio and growth against awk: per-kappa mean of risk_init over seeds
CF=groups.yaml claims '- {table: summary, metric: risk_init, reduce: growth, group: teacher.kappa, op: ">", value: 0}' \
  '- {table: summary, metric: risk_init, reduce: ratio, group: teacher.kappa, op: ">", value: 0}'
expect_status 0 "$LORALAB" check --claims theory/groups.yaml
read -r growth ratio < <(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "teacher.kappa") k = i; if ($i == "risk_init") r = i }; next }
  { s[$k] += $r; n[$k]++ } END { for (g in s) { m = s[g] / n[g]; v[g] = m; if (!(mx > m)) mx = m; if (!(mn < m) || mn == "") mn = m }
  printf "%.6g %.6g\n", v[4] / v[1], mx / mn }' results/mini/summary.csv)
got=$(awk '$1 == "T" { print $3 }' "$TMP/out" | tr '\n' ' ')
[ "$got" = "$growth $ratio " ] && ok "growth and ratio = awk ($got)" || bad "groups: got '$got' want '$growth $ratio'"

CF=bad.yaml claims '- {where: "nosuch > 1", metric: risk, reduce: max, op: "<=", value: 1}'
expect_status 2 "$LORALAB" check --claims theory/bad.yaml
grep -q "unknown column 'nosuch'" "$TMP/err" && ok "unknown column is bad input" || bad "$(cat "$TMP/err")"
CF=typo.yaml claims '- {table: summary, metric: stauts, reduce: fraction, equals: ok, op: "==", value: 1}'
expect_status 2 "$LORALAB" check --claims theory/typo.yaml
at=$(awk '(i = index($0, "stauts")) { print "theory/typo.yaml:" NR ":" i; exit }' theory/typo.yaml)
grep -qF "$at: claim T: metric: no column 'stauts' in summary.csv (did you mean 'status'?)" "$TMP/err" \
  && ok "misspelt metric: did you mean, at $at" || bad "$(cat "$TMP/err")"
CF=textkey.yaml claims '- {table: summary, metric: risk_init, reduce: growth, group: status, op: "==", value: 1}'
expect_status 1 "$LORALAB" check --claims theory/textkey.yaml
grep -q "growth needs numeric values of status, got 'ok'" "$TMP/out" && ok "growth over text group keys fails with its reason" || bad "$(cat "$TMP/out")"
CF=gred.yaml claims '- {table: summary, metric: risk_init, reduce: ratio, group: teacher.kappa, group_reduce: median, op: ">", value: 0}'
expect_status 2 "$LORALAB" check --claims theory/gred.yaml
grep -q "group_reduce must be one of" "$TMP/err" && ok "bad group_reduce is bad input" || bad "$(cat "$TMP/err")"
CF=stray.yaml claims '- {table: summary, metric: status, reduce: max, equals: ok, op: ">", value: 0}'
expect_status 2 "$LORALAB" check --claims theory/stray.yaml
grep -q "equals: goes with reduce: fraction" "$TMP/err" && ok "equals without fraction is bad input" || bad "$(cat "$TMP/err")"
CF=bad2.yaml claims '- {metric: risk, reduce: median, op: "<=", value: 1}'
expect_status 2 "$LORALAB" check --claims theory/bad2.yaml
grep -q "reduce must be one of" "$TMP/err" && ok "bad reduce named with its line" || bad "$(cat "$TMP/err")"
expect_status 2 "$LORALAB" check --claims theory/pass.yaml NOSUCH
finish
