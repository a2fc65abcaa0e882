# e2e_check_hyp.sh: a claim's hypotheses split its cells into inside and
# outside, and the verdict tests inside and extrapolates outside.
# On a rank-2 linear teacher (teacher.rank not swept) with lora.rank in
# {1, 2, 3} x 2 seeds, GD fits the teacher exactly when r >= r* = 2:
#  - a hypothesis no cell meets makes the claim UNTESTED: exit 1 without
#    untested_reason:, exit 0 with it (the reason printed);
#  - inside cells failing, outside holding: FAIL, exit 1;
#  - inside passing, outside breaking: PASS + BREAKS, exit 0;
#  - `lora.rank >= 2 * teacher.rank` with neither key swept reads the
#    resolved settings; checkable: false is listed and not evaluated;
#  - the cell counts printed (per claim and per hypothesis) and a trace
#    predicate's inside and outside row counts agree with awk over the CSVs;
#  - claims.md shows both verdict columns and the hypotheses;
#  - an unknown name in when: is exit 2 with file:line:col and did you mean.
. "$(dirname "$0")/lib.sh"
mkdir -p "$TMP/w"
cd "$TMP/w" || exit 1
cat >r.yaml <<'YAML'
teacher: {d: 6, k: 4, n: 40, rank: 2}
optimizer: {method: gd, lr: 0.2, steps: 200}
log: {every: 50}
sweep:
  lora.rank: [1, 2, 3]
seeds: 2
YAML
cat >fixed.yaml <<'YAML'
teacher: {d: 6, k: 4, n: 40, rank: 1}
lora: {rank: 2}
optimizer: {method: gd, lr: 0.2, steps: 40}
log: {every: 10}
sweep:
  teacher.kappa: [1, 2]
YAML
# claim FILE EXPERIMENT EXTRA HYPOTHESES PREDICATES: one claim (id T); EXTRA
# is claim-level YAML (or ""), HYPOTHESES and PREDICATES flow lists
claim() {
  printf 'claims:\n  - id: T\n    statement: a test claim\n    experiment: %s\n' "$2" >"$1"
  [ -n "$3" ] && printf '    %s\n' "$3" >>"$1"
  printf '    hypotheses: %s\n    expect: %s\n' "$4" "$5" >>"$1"
}
# place FILE TEXT: "FILE:LINE:COL" of the first TEXT in FILE (1-based), by awk
place() { awk -v t="$2" -v f="$1" 'i = index($0, t) { print f ":" NR ":" i; exit }' "$1"; }
# cells_where CSV AWK-CONDITION: summary rows passing the condition ($r = lora.rank)
cells_where() { awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "lora.rank") c = i; next }
                         { r = $c } '"$2"' { n++ } END { print n + 0 }' "$1"; }

fit='{table: summary, metric: risk, reduce: max, op: "<", value: 1.0e-10}'
big='{when: "teacher.n > 1000", statement: "many samples", source: "[X] 1"}'

# 1. no cell inside: UNTESTED
claim none.yaml ./r.yaml "" "[$big]" "[$fit]"
expect_status 1 "$LORALAB" check --claims none.yaml
grep -q '^claim T: inside UNTESTED (0 of 6 cells), outside BREAKS (6 cells); untested: no cell inside' "$TMP/out" \
  && ok "no cell inside: UNTESTED, exit 1 without untested_reason" || bad "$(cat "$TMP/out" "$TMP/err")"
grep -q 'untested (no cell inside the hypotheses) without untested_reason' "$TMP/err" \
  && ok "the exit-1 message says why" || bad "$(cat "$TMP/err")"
grep -qE '^T +- +- +BREAKS' "$TMP/out" && ok "predicate row: inside -, outside BREAKS" || bad "$(cat "$TMP/out")"
claim reason.yaml ./r.yaml 'untested_reason: "needs N of order d^2 r^2: out of reach"' "[$big]" "[$fit]"
expect_status 0 "$LORALAB" check --claims reason.yaml
grep -qF 'claim T: inside UNTESTED (0 of 6 cells), outside BREAKS (6 cells); untested: needs N of order d^2 r^2: out of reach' "$TMP/out" \
  && ok "UNTESTED with untested_reason: exit 0, reason printed" || bad "$(cat "$TMP/out")"
grep -qF 'out of reach' results/claims.md && grep -qF '**UNTESTED** (0 of 6 cells)' results/claims.md \
  && ok "claims.md: UNTESTED and its reason" || bad "$(cat results/claims.md)"

# 2. inside fails, outside holds: FAIL
below='{when: "lora.rank < teacher.rank", statement: "r below r*", source: "[X] 2"}'
claim fail.yaml ./r.yaml "" "[$below]" "[$fit]"
expect_status 1 "$LORALAB" check --claims fail.yaml
nin=$(cells_where results/r/summary.csv 'r < 2')
[ "$nin" = 2 ] && ok "awk: $nin cells with lora.rank < 2" || bad "awk count $nin"
grep -q "^claim T: inside FAIL ($nin of 6 cells), outside HOLDS ($((6 - nin)) cells)" "$TMP/out" \
  && ok "inside fails, outside holds: FAIL, exit 1" || bad "$(cat "$TMP/out")"
grep -qE '^T +FAIL +[0-9.e-]+ +HOLDS ' "$TMP/out" && ok "predicate row: FAIL inside, HOLDS outside" || bad "$(cat "$TMP/out")"
grep -q 'failed inside their hypotheses' "$TMP/err" && ok "the exit-1 message names the inside part" || bad "$(cat "$TMP/err")"

# 3. inside passes, outside breaks: PASS + BREAKS, exit 0; counts against awk
atleast='{when: "lora.rank >= teacher.rank", statement: "r at least r*", source: "[X] 3"}'
two='{when: "lora.rank >= 2", statement: "r at least 2", source: "[X] 4"}'
seed0='{when: "seed == 0 or lora.rank == 3", statement: "seed 0, or r = 3", source: "[X] 5"}'
trace='{metric: risk, reduce: count, op: ">", value: 0}'
claim pass.yaml ./r.yaml "" "[$atleast, $seed0]" "[$fit, $trace]"
expect_status 0 "$LORALAB" check --claims pass.yaml
n1=$(cells_where results/r/summary.csv 'r >= 2')
n2=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "seed") s = i; if ($i == "lora.rank") c = i }; next }
              $s == 0 || $c == 3 { n++ } END { print n + 0 }' results/r/summary.csv)
nboth=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "seed") s = i; if ($i == "lora.rank") c = i }; next }
                 $c >= 2 && ($s == 0 || $c == 3) { n++ } END { print n + 0 }' results/r/summary.csv)
grep -q "^claim T: inside PASS ($nboth of 6 cells), outside BREAKS ($((6 - nboth)) cells)" "$TMP/out" \
  && ok "inside passes, outside breaks: PASS + BREAKS, exit 0 ($nboth inside = awk)" || bad "want $nboth: $(cat "$TMP/out")"
grep -qF "hypothesis lora.rank >= teacher.rank: $n1 of 6 cells -- r at least r* ([X] 3)" "$TMP/out" \
  && grep -qF "hypothesis seed == 0 or lora.rank == 3: $n2 of 6 cells -- seed 0, or r = 3 ([X] 5)" "$TMP/out" \
  && ok "per-hypothesis counts = awk ($n1, $n2)" || bad "want $n1, $n2: $(cat "$TMP/out")"
# the trace predicate counts the trace rows of inside / outside cells, by cell id
read -r tin tout < <(awk -F, 'FNR == 1 { for (i = 1; i <= NF; i++) { if ($i == "seed") s = i; if ($i == "lora.rank") c = i; if ($i == "cell") id = i }; next }
  NR == FNR { if ($c >= 2 && ($s == 0 || $c == 3)) in_[$id] = 1; next }
  { if ($id in in_) a++; else b++ } END { print a + 0, b + 0 }' results/r/summary.csv results/r/trace.csv)
grep -qE "^T +PASS +$tin +HOLDS +$tout +count\(risk\)" "$TMP/out" \
  && ok "trace rows by cell: $tin inside, $tout outside (awk)" || bad "want $tin/$tout: $(grep 'count(risk)' "$TMP/out")"
grep -qF "| T | a test claim | | **PASS** ($nboth of 6 cells) | | **BREAKS** ($((6 - nboth)) cells) | |" results/claims.md \
  && grep -qF "| T | hypothesis: r at least r* ([X] 3) | \`lora.rank >= teacher.rank\` | $n1 of 6 cells |" results/claims.md \
  && grep -qE '^\| T \| \| `max\(risk\) < 1e-10` \| \*\*PASS\*\* \| [0-9.e-]+ \| BREAKS \| 0\.5' results/claims.md \
  && ok "claims.md: both columns with counts, hypotheses with statement, source and count" \
  || bad "$(cat results/claims.md)"

# 4. settings that are not swept: lora.rank = 2, teacher.rank = 1, neither swept
notes='{statement: "a condition no run decides", source: "[X] 6", checkable: false, reason: "an existence statement"}'
claim c_fixed.yaml ./fixed.yaml "" "[{when: \"lora.rank >= 2 * teacher.rank\", statement: r >= 2 r*, source: \"[L1] Theorem 3.2\"}, $notes]" \
  '[{table: summary, metric: status, reduce: count, op: "==", value: 2}]'
expect_status 0 "$LORALAB" check --claims c_fixed.yaml
grep -q '^claim T: inside PASS (2 of 2 cells), outside - (0 cells)' "$TMP/out" \
  && ok "lora.rank >= 2 * teacher.rank over settings not swept: every cell inside" || bad "$(cat "$TMP/out")"
grep -qF 'hypothesis not checkable (an existence statement) -- a condition no run decides ([X] 6)' "$TMP/out" \
  && ok "checkable: false listed with its reason" || bad "$(cat "$TMP/out")"
claim c_fixed3.yaml ./fixed.yaml "" '[{when: "lora.rank >= 3 * teacher.rank and optimizer.damping > 0", statement: s, source: x}]' \
  '[{table: summary, metric: status, reduce: count, op: "==", value: 2}]'
expect_status 1 "$LORALAB" check --claims c_fixed3.yaml
grep -q '^claim T: inside UNTESTED (0 of 2 cells), outside HOLDS (2 cells)' "$TMP/out" \
  && ok "lora.rank >= 3 * teacher.rank: no cell inside (the settings' values are read)" || bad "$(cat "$TMP/out")"

# --quick: the settings are those after the claim's quick: overrides
claim c_quick.yaml ./fixed.yaml 'quick: {lora.rank: 1}' "[{when: \"lora.rank >= 2 * teacher.rank\", statement: s, source: x}]" \
  '[{table: summary, metric: status, reduce: count, op: "==", value: 2}]'
expect_status 1 "$LORALAB" check --quick --claims c_quick.yaml
grep -q '^claim T: inside UNTESTED (0 of 2 cells), outside HOLDS (2 cells)' "$TMP/out" \
  && ok "--quick: lora.rank = 1 from quick: puts every cell outside" || bad "$(cat "$TMP/out")"
[ "$(awk '/^lora:/ { getline; print }' results/quick/fixed/config.yaml)" = "  rank: 1" ] && ok "the quick run has lora.rank 1 (config.yaml)" || bad "quick config"

# 5. no hypotheses: every cell inside, as before
claim plain.yaml ./r.yaml "" "[]" "[$fit]"
sed -i '/hypotheses: \[\]/d' plain.yaml
expect_status 1 "$LORALAB" check --claims plain.yaml
grep -q '^claim T: inside FAIL (6 of 6 cells), outside - (0 cells)' "$TMP/out" \
  && ok "no hypotheses: every cell inside" || bad "$(cat "$TMP/out")"

# 6. an unknown name in when: is bad input at the when: value
claim typo.yaml ./r.yaml "" '[{when: "lora.rnak >= 2", statement: s, source: x}]' "[$fit]"
expect_status 2 "$LORALAB" check --claims typo.yaml
grep -qF "$(place typo.yaml '"lora.rnak'): claim T: hypotheses: when: " "$TMP/err" && grep -qF "did you mean 'lora.rank'?" "$TMP/err" \
  && ok "unknown name in when: exit 2, file:line:col, did you mean" || bad "$(cat "$TMP/err")"
[ ! -s "$TMP/out" ] && ok "no verdict printed before the error" || bad "printed: $(cat "$TMP/out")"
claim nowhen.yaml ./r.yaml "" '[{statement: s, source: x}]' "[$fit]"
expect_status 2 "$LORALAB" check --claims nowhen.yaml
grep -qF "nowhen.yaml:5:18: a hypothesis needs when:" "$TMP/err" && ok "a checkable hypothesis without when: is bad input" || bad "$(cat "$TMP/err")"
# 7. claims.md table rows keep their seven cells when a statement, a source or
# a hypothesis writes norms with '|' (escaped as \|)
claim pipes.yaml ./r.yaml "" '[{when: "lora.rank >= 2", statement: "||G||_op at most |x|", source: "[X] |7|"}]' "[$fit]"
sed -i 's/statement: a test claim/statement: "||A B - Delta||_F small"/' pipes.yaml
expect_status 0 "$LORALAB" check --claims pipes.yaml
bad_rows=$(grep '^| T ' results/claims.md | sed 's/\\|//g' | awk -F'|' 'NF != 9' | wc -l)
rows=$(grep -c '^| T ' results/claims.md)
[ "$rows" -ge 3 ] && [ "$bad_rows" -eq 0 ] && grep -qF '\|\|G\|\|_op at most \|x\|' results/claims.md \
  && ok "claims.md: '|' in statements escaped, every row has 7 cells ($rows rows)" || bad "$(cat results/claims.md)"
finish
